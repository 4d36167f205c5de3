//! Immutable content blocks: opaque bytes (callers encrypt file chunks
//! themselves) whose address is the hash of the data and of the optional
//! owning block, so validation is recomputing the address.

use serde::{Deserialize, Serialize};

use super::{Address, BlockError};

/// An immutable block addressed by its content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentBlock {
    /// The mutable block whose writers may remove this one; `None` lets any
    /// authenticated key remove it.
    pub owner: Option<Address>,
    /// The payload, stored as given.
    #[serde(with = "serde_bytes")]
    pub data: Vec<u8>,
}

impl ContentBlock {
    /// A content block holding `data`, removable by writers of `owner`.
    pub fn new(owner: Option<Address>, data: Vec<u8>) -> Self {
        ContentBlock { owner, data }
    }

    /// The address derived from the content.
    pub fn address(&self) -> Address {
        Address::content(self.owner.as_ref(), &self.data)
    }

    /// Check that the content derives `address`.
    pub fn validate(&self, address: &Address) -> Result<(), BlockError> {
        let computed = self.address();
        if computed != *address {
            return Err(BlockError::AddressMismatch { expected: *address, computed });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_validates_at_its_address_only() {
        let block = ContentBlock::new(None, b"chunk".to_vec());
        block.validate(&block.address()).unwrap();
        let other = ContentBlock::new(Some(Address([7; 32])), b"chunk".to_vec());
        assert!(matches!(other.validate(&block.address()), Err(BlockError::AddressMismatch { .. })));
        let mut altered = block.clone();
        altered.data[0] ^= 1;
        assert!(altered.validate(&block.address()).is_err());
    }
}
