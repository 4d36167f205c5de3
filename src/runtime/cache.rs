//! The RAM block cache: a [`Consensus`] decorator that keeps recently used
//! blocks within a byte budget, evicting the least recently used by encoded
//! size. Immutable blocks (content, named, user) never change and are kept
//! until evicted; mutable ones are served for a short TTL to reads that do
//! not ask for the latest version, then fetched again. Stores and removals write through and update or drop the entry; a
//! conflict updates it with the current block the conflict carries. An
//! operation that overlapped a write on the same address never puts its
//! result in the cache, so a block written through the cache is never
//! served stale.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::block::{Address, Block, Tombstone};
use super::consensus::{Consensus, ConsensusError, ConsensusFuture, Expect, Fetched, ReadLevel, Usage};

/// Budget and freshness of a [`BlockCache`].
#[derive(Debug, Clone, Copy)]
pub struct CacheOptions {
    /// Most bytes of encoded blocks kept.
    pub budget: u64,
    /// How long a mutable block is served before it is fetched again.
    pub ttl: Duration,
}

impl Default for CacheOptions {
    fn default() -> Self {
        CacheOptions { budget: 64 << 20, ttl: Duration::from_secs(1) }
    }
}

/// Counters of a [`BlockCache`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheStats {
    /// Fetches answered from the cache.
    pub hits: u64,
    /// Fetches that went to the inner consensus (absent or expired).
    pub misses: u64,
    /// Encoded bytes held.
    pub bytes: u64,
    /// Blocks held.
    pub entries: usize,
}

/// A RAM cache in front of an inner consensus.
#[derive(Debug)]
pub struct BlockCache {
    inner: Arc<dyn Consensus>,
    options: CacheOptions,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    entries: HashMap<Address, Entry>,
    /// Last use → address, oldest first.
    by_use: BTreeMap<u64, Address>,
    bytes: u64,
    clock: u64,
    hits: u64,
    misses: u64,
    /// Addresses with operations in progress.
    flights: HashMap<Address, Flights>,
}

#[derive(Debug)]
struct Entry {
    block: Block,
    size: u64,
    fetched: Instant,
    used: u64,
}

#[derive(Debug, Default)]
struct Flights {
    count: usize,
    /// Bumped by every write that finishes.
    writes: u64,
}

impl State {
    fn forget(&mut self, address: &Address) {
        if let Some(entry) = self.entries.remove(address) {
            self.by_use.remove(&entry.used);
            self.bytes -= entry.size;
        }
    }

    fn put(&mut self, block: Block, size: u64, budget: u64) {
        let address = block.address();
        self.forget(&address);
        if size > budget {
            return;
        }
        self.clock += 1;
        let used = self.clock;
        self.by_use.insert(used, address);
        self.bytes += size;
        let fetched = Instant::now();
        let entry = Entry { block, size, fetched, used };
        self.entries.insert(address, entry);
        while self.bytes > budget {
            let Some((_, oldest)) = self.by_use.pop_first() else {
                break;
            };
            if let Some(entry) = self.entries.remove(&oldest) {
                self.bytes -= entry.size;
            }
        }
    }

    /// The cached block at `address` if it satisfies `level` (a mutable
    /// block: within its TTL and not asked for the latest), marked as just used.
    fn get(&mut self, address: &Address, ttl: Duration, level: ReadLevel) -> Option<Block> {
        let entry = self.entries.get_mut(address)?;
        if entry.block.is_mutable() && (entry.fetched.elapsed() >= ttl || !level.accepts_cached(entry.block.version()))
        {
            return None;
        }
        self.clock += 1;
        self.by_use.remove(&entry.used);
        entry.used = self.clock;
        self.by_use.insert(entry.used, *address);
        Some(entry.block.clone())
    }
}

/// An operation in progress on one address; dropping it unfinished (a
/// cancelled write may or may not have happened) drops the entry.
struct Flight<'a> {
    cache: &'a BlockCache,
    address: Address,
    /// The address's write count when the operation began.
    started: u64,
    done: bool,
}

impl Flight<'_> {
    /// End the operation; `true` if no other write finished meanwhile.
    fn land(mut self, state: &mut State, wrote: bool) -> bool {
        self.done = true;
        land(state, self.address, self.started, wrote)
    }
}

impl Drop for Flight<'_> {
    fn drop(&mut self) {
        if !self.done {
            let mut state = self.cache.state();
            land(&mut state, self.address, self.started, true);
            state.forget(&self.address);
        }
    }
}

fn land(state: &mut State, address: Address, started: u64, wrote: bool) -> bool {
    let Some(flights) = state.flights.get_mut(&address) else {
        return false;
    };
    let undisturbed = flights.writes == started;
    if wrote {
        flights.writes += 1;
    }
    flights.count -= 1;
    if flights.count == 0 {
        state.flights.remove(&address);
    }
    undisturbed
}

/// The encoded size of `block`, or `None` if it cannot be encoded (never cached).
fn encoded_size(block: &Block) -> Option<u64> {
    block.encode().ok().map(|bytes| bytes.len() as u64)
}

/// The current block a conflict carries, if `error` is one.
fn conflict_current(error: &ConsensusError) -> Option<Block> {
    error.conflict_current().cloned()
}

impl BlockCache {
    /// A cache over `inner`.
    pub fn new(inner: Arc<dyn Consensus>, options: CacheOptions) -> Self {
        BlockCache { inner, options, state: Mutex::new(State::default()) }
    }

    /// Hits, misses and bytes held.
    pub fn stats(&self) -> CacheStats {
        let state = self.state();
        CacheStats { hits: state.hits, misses: state.misses, bytes: state.bytes, entries: state.entries.len() }
    }

    /// Drop the cached block at `address`, if any.
    pub fn invalidate(&self, address: Address) {
        self.state().forget(&address);
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // Every critical section leaves the state consistent: keep going after a panic.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn take_off(&self, state: &mut State, address: Address) -> Flight<'_> {
        let flights = state.flights.entry(address).or_default();
        flights.count += 1;
        Flight { cache: self, address, started: flights.writes, done: false }
    }

    /// Record the outcome of a write on `address`: `after` is the block now
    /// current if known (`None`: nothing or unknown, so drop the entry).
    fn settle_write(&self, flight: Flight<'_>, address: Address, after: Option<Block>) {
        let sized =
            after.filter(|b| !matches!(b, Block::Tombstone(_))).and_then(|b| encoded_size(&b).map(|size| (b, size)));
        let mut state = self.state();
        match (flight.land(&mut state, true), sized) {
            (true, Some((block, size))) => state.put(block, size, self.options.budget),
            _ => state.forget(&address),
        }
    }
}

impl Consensus for BlockCache {
    fn fetch(&self, address: Address, level: ReadLevel) -> ConsensusFuture<'_, Fetched> {
        Box::pin(async move {
            let flight = {
                let mut state = self.state();
                if let Some(block) = state.get(&address, self.options.ttl, level) {
                    state.hits += 1;
                    return Ok(Fetched::Found(block));
                }
                state.misses += 1;
                self.take_off(&mut state, address)
            };
            let fetched = self.inner.fetch(address, level).await;
            let size = match &fetched {
                Ok(Fetched::Found(block)) => encoded_size(block),
                _ => None,
            };
            let mut state = self.state();
            if flight.land(&mut state, false) {
                match (&fetched, size) {
                    (Ok(Fetched::Found(block)), Some(size)) => state.put(block.clone(), size, self.options.budget),
                    _ => state.forget(&address),
                }
            }
            fetched
        })
    }

    fn store(&self, block: Block, expect: Expect) -> ConsensusFuture<'_, ()> {
        Box::pin(async move {
            let address = block.address();
            let flight = self.take_off(&mut self.state(), address);
            let kept = block.clone();
            match self.inner.store(block, expect).await {
                Ok(()) => {
                    self.settle_write(flight, address, Some(kept));
                    Ok(())
                }
                Err(e) => {
                    self.settle_write(flight, address, conflict_current(&e));
                    Err(e)
                }
            }
        })
    }

    fn remove(&self, tombstone: Tombstone) -> ConsensusFuture<'_, ()> {
        Box::pin(async move {
            let address = tombstone.address;
            let flight = self.take_off(&mut self.state(), address);
            match self.inner.remove(tombstone).await {
                Ok(()) => {
                    self.settle_write(flight, address, None);
                    Ok(())
                }
                Err(e) => {
                    self.settle_write(flight, address, conflict_current(&e));
                    Err(e)
                }
            }
        })
    }

    fn usage(&self) -> ConsensusFuture<'_, Usage> {
        self.inner.usage()
    }

    fn sync(&self) -> ConsensusFuture<'_, ()> {
        self.inner.sync()
    }
}

#[cfg(test)]
mod tests;
