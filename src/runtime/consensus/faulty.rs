//! A fault-injecting [`Consensus`] decorator for tests: it makes chosen or
//! random operations fail the way a network does (a replica set out of
//! reach, a timeout, a reply lost after or before the write took effect, a
//! silo I/O error), so callers are tested on the bad day, not only on the
//! happy path. Randomness comes from a seeded generator: a failing case
//! replays exactly.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use super::{Consensus, ConsensusError, ConsensusFuture, Expect, Fetched, ReadLevel, Usage};
use crate::runtime::block::{Address, Block, Tombstone};
use crate::runtime::silo::SiloError;

/// One way an operation fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Too few replicas reached; nothing happened.
    Unavailable,
    /// Timed out; nothing happened.
    Timeout,
    /// The write took effect, but the caller is told the outcome is unknown.
    IndeterminateApplied,
    /// The write did not take effect, and the caller is told it is unknown.
    IndeterminateLost,
    /// The silo failed with an I/O error; nothing happened.
    SiloIo,
}

/// Which operations a fault may hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Fetches, stores and removals.
    Any,
    /// Fetches only.
    Fetch,
    /// Stores and removals only.
    Write,
}

#[derive(Debug)]
enum Op {
    Fetch,
    Write,
}

#[derive(Debug, Default)]
struct Plan {
    /// Faults for the next matching operations, in order.
    scripted: VecDeque<(Target, Fault)>,
    /// Random faults: probability in thousandths, the faults to pick from, the target.
    random: Option<(u32, Vec<Fault>, Target)>,
    rng: u64,
    /// Writes that still succeed before every later one fails (a crash).
    writes_left: Option<u64>,
    /// Addresses every write to fails (a block whose replicas are out of reach).
    blocked: std::collections::HashSet<Address>,
}

impl Plan {
    fn next_random(&mut self) -> u64 {
        // xorshift64*: small, seeded, reproducible.
        let mut x = self.rng.max(1);
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn pick(&mut self, op: &Op, address: Address) -> Option<Fault> {
        if matches!(op, Op::Write) && self.blocked.contains(&address) {
            return Some(Fault::Unavailable);
        }
        if let (Op::Write, Some(left)) = (op, self.writes_left.as_mut()) {
            if *left == 0 {
                return Some(Fault::Unavailable);
            }
            *left -= 1;
        }
        let hits =
            |t: Target| matches!((t, op), (Target::Any, _) | (Target::Fetch, Op::Fetch) | (Target::Write, Op::Write));
        if let Some(i) = self.scripted.iter().position(|(t, _)| hits(*t)) {
            return self.scripted.remove(i).map(|(_, f)| f);
        }
        let (per_mille, faults, target) = self.random.clone()?;
        if !hits(target) || faults.is_empty() {
            return None;
        }
        if self.next_random() % 1000 >= u64::from(per_mille) {
            return None;
        }
        let fault = faults[(self.next_random() % faults.len() as u64) as usize];
        // A fetch cannot be half-applied.
        Some(match (op, fault) {
            (Op::Fetch, Fault::IndeterminateApplied | Fault::IndeterminateLost) => Fault::Timeout,
            _ => fault,
        })
    }
}

/// A consensus that fails on purpose.
#[derive(Debug)]
pub struct FaultyConsensus {
    inner: Arc<dyn Consensus>,
    plan: Mutex<Plan>,
    injected: AtomicU64,
}

impl FaultyConsensus {
    /// A decorator over `inner` that injects nothing until told to.
    pub fn new(inner: Arc<dyn Consensus>) -> Self {
        FaultyConsensus { inner, plan: Mutex::new(Plan::default()), injected: AtomicU64::new(0) }
    }

    fn plan(&self) -> MutexGuard<'_, Plan> {
        self.plan.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Fail the next operation `target` matches with `fault`.
    pub fn fail_next(&self, target: Target, fault: Fault) {
        self.plan().scripted.push_back((target, fault));
    }

    /// Fail operations `target` matches with probability `per_mille`/1000,
    /// picking among `faults`, from a generator seeded with `seed`.
    pub fn fail_randomly(&self, seed: u64, per_mille: u32, faults: &[Fault], target: Target) {
        let mut plan = self.plan();
        plan.rng = seed ^ 0x9E37_79B9_7F4A_7C15;
        plan.random = Some((per_mille.min(1000), faults.to_vec(), target));
    }

    /// Let `writes` more writes through, then fail every write: what is
    /// stored is what a node killed at that instant leaves.
    pub fn crash_after(&self, writes: u64) {
        self.plan().writes_left = Some(writes);
    }

    /// Fail every write to `address` until [`FaultyConsensus::heal`].
    pub fn block_writes_to(&self, address: Address) {
        self.plan().blocked.insert(address);
    }

    /// Stop injecting faults (scripted, random, blocked and crashes).
    pub fn heal(&self) {
        let mut plan = self.plan();
        plan.scripted.clear();
        plan.random = None;
        plan.writes_left = None;
        plan.blocked.clear();
    }

    /// How many faults were injected so far.
    pub fn injected(&self) -> u64 {
        self.injected.load(Ordering::Relaxed)
    }

    fn fault(&self, op: Op, address: Address) -> Option<Fault> {
        let fault = self.plan().pick(&op, address);
        if fault.is_some() {
            self.injected.fetch_add(1, Ordering::Relaxed);
        }
        fault
    }
}

fn error(fault: Fault, address: Address) -> ConsensusError {
    match fault {
        Fault::Unavailable => ConsensusError::Unavailable { reached: 0, needed: 1 },
        Fault::Timeout => ConsensusError::Timeout { address },
        Fault::IndeterminateApplied | Fault::IndeterminateLost => {
            ConsensusError::Indeterminate { address, why: "injected fault: reply lost".into() }
        }
        Fault::SiloIo => SiloError::Io {
            path: std::path::PathBuf::from("<injected>"),
            source: std::io::Error::other("injected I/O error"),
        }
        .into(),
    }
}

impl Consensus for FaultyConsensus {
    fn fetch(&self, address: Address, level: ReadLevel) -> ConsensusFuture<'_, Fetched> {
        Box::pin(async move {
            if let Some(fault) = self.fault(Op::Fetch, address) {
                return Err(error(fault, address));
            }
            self.inner.fetch(address, level).await
        })
    }

    fn store(&self, block: Block, expect: Expect) -> ConsensusFuture<'_, ()> {
        Box::pin(async move {
            let address = block.address();
            match self.fault(Op::Write, address) {
                None => self.inner.store(block, expect).await,
                Some(Fault::IndeterminateApplied) => {
                    self.inner.store(block, expect).await?;
                    Err(error(Fault::IndeterminateApplied, address))
                }
                Some(fault) => Err(error(fault, address)),
            }
        })
    }

    fn remove(&self, tombstone: Tombstone) -> ConsensusFuture<'_, ()> {
        Box::pin(async move {
            let address = tombstone.address;
            match self.fault(Op::Write, address) {
                None => self.inner.remove(tombstone).await,
                Some(Fault::IndeterminateApplied) => {
                    self.inner.remove(tombstone).await?;
                    Err(error(Fault::IndeterminateApplied, address))
                }
                Some(fault) => Err(error(fault, address)),
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
