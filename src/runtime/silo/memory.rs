//! The in-memory silo: a map from address to bytes behind a mutex, with the
//! same semantics and capacity accounting as the on-disk silo. For tests and
//! for nodes that keep nothing across restarts.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use super::{Address, SetMode, Silo, SiloError, SiloFuture, check_capacity, check_mode};

/// A silo held in process memory.
#[derive(Debug)]
pub struct MemorySilo {
    name: String,
    capacity: Option<u64>,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    blocks: HashMap<Address, Vec<u8>>,
    usage: u64,
}

impl MemorySilo {
    /// An empty silo named `name`, limited to `capacity` bytes if given.
    pub fn new(name: &str, capacity: Option<u64>) -> Self {
        MemorySilo { name: name.to_owned(), capacity, state: Mutex::new(State::default()) }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // Every critical section leaves the state consistent before any call
        // that could panic, so a poisoned lock still holds valid data.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn get_now(&self, key: Address) -> Result<Vec<u8>, SiloError> {
        self.state().blocks.get(&key).cloned().ok_or(SiloError::NotFound { key })
    }

    fn set_now(&self, key: Address, bytes: Vec<u8>, mode: SetMode) -> Result<(), SiloError> {
        let mut state = self.state();
        let old = state.blocks.get(&key).map(|b| b.len() as u64);
        check_mode(key, mode, old.is_some())?;
        let old = old.unwrap_or(0);
        let new = bytes.len() as u64;
        check_capacity(&self.name, self.capacity, state.usage, old, new)?;
        state.usage = state.usage - old + new;
        state.blocks.insert(key, bytes);
        Ok(())
    }

    fn erase_now(&self, key: Address) -> Result<(), SiloError> {
        let mut state = self.state();
        let removed = state.blocks.remove(&key).ok_or(SiloError::NotFound { key })?;
        state.usage -= removed.len() as u64;
        Ok(())
    }

    fn list_now(&self) -> Vec<Address> {
        let mut keys: Vec<Address> = self.state().blocks.keys().copied().collect();
        keys.sort();
        keys
    }
}

impl Silo for MemorySilo {
    fn name(&self) -> &str {
        &self.name
    }

    fn get(&self, key: Address) -> SiloFuture<'_, Vec<u8>> {
        Box::pin(std::future::ready(self.get_now(key)))
    }

    fn set(&self, key: Address, bytes: Vec<u8>, mode: SetMode) -> SiloFuture<'_, ()> {
        Box::pin(std::future::ready(self.set_now(key, bytes, mode)))
    }

    fn erase(&self, key: Address) -> SiloFuture<'_, ()> {
        Box::pin(std::future::ready(self.erase_now(key)))
    }

    fn list(&self) -> SiloFuture<'_, Vec<Address>> {
        Box::pin(std::future::ready(Ok(self.list_now())))
    }

    fn list_sized(&self) -> SiloFuture<'_, Vec<(Address, u64)>> {
        let mut sized: Vec<(Address, u64)> = self.state().blocks.iter().map(|(k, b)| (*k, b.len() as u64)).collect();
        sized.sort();
        Box::pin(std::future::ready(Ok(sized)))
    }

    fn usage(&self) -> u64 {
        self.state().usage
    }

    fn capacity(&self) -> Option<u64> {
        self.capacity
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[tokio::test]
    async fn memory_silo_passes_the_conformance_suite() {
        let unlimited = Arc::new(MemorySilo::new("mem", None));
        let limited = Arc::new(MemorySilo::new("small", Some(super::super::conformance::LIMIT)));
        super::super::conformance::run(unlimited, limited).await;
    }
}
