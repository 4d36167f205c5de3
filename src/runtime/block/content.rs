//! Immutable content blocks: opaque bytes (callers encrypt file chunks
//! themselves) whose address is the hash of the data and of the optional
//! owning block, so validation is recomputing the address.

use serde::{Deserialize, Serialize};

use super::{Address, BlockError};

/// An immutable block addressed by its content. Two blocks are equal when
/// owner and data are: whether either has hashed its address yet does not
/// count.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContentBlock {
    /// The mutable block whose writers may remove this one; `None` lets any
    /// authenticated key remove it.
    pub owner: Option<Address>,
    /// The payload, stored as given (read through [`ContentBlock::data`]:
    /// it never changes once made, so the address hashed once stays true).
    #[serde(with = "serde_bytes")]
    data: Vec<u8>,
    /// The address, hashed once: every layer a store goes through asks for
    /// it, and hashing a 1 MiB chunk each time was a third of a sequential
    /// write's CPU time. A decoded block has none until validated.
    #[serde(skip)]
    address: std::sync::OnceLock<Address>,
}

impl PartialEq for ContentBlock {
    fn eq(&self, other: &Self) -> bool {
        self.owner == other.owner && self.data == other.data
    }
}

impl Eq for ContentBlock {}

impl ContentBlock {
    /// A content block holding `data`, removable by writers of `owner`.
    pub fn new(owner: Option<Address>, data: Vec<u8>) -> Self {
        ContentBlock { owner, data, address: std::sync::OnceLock::new() }
    }

    /// A stand-in for the content block stored at `address` with `owner`,
    /// its data not read: what a removal needs of it (who may remove it,
    /// the address its tombstone names). Only removals make one; it is
    /// never stored or served.
    pub(crate) fn stand_in(owner: Option<Address>, address: Address) -> Self {
        ContentBlock { owner, data: Vec::new(), address: std::sync::OnceLock::from(address) }
    }

    /// The address derived from the content.
    pub fn address(&self) -> Address {
        *self.address.get_or_init(|| Address::content(self.owner.as_ref(), &self.data))
    }

    /// The payload.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// The payload, taken out.
    pub fn into_data(self) -> Vec<u8> {
        self.data
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
        let mut data = block.data().to_vec();
        data[0] ^= 1;
        let altered = ContentBlock::new(None, data);
        assert!(altered.validate(&block.address()).is_err());
        // A decoded copy hashes what it holds.
        let mut encoded = postcard::to_allocvec(&block).unwrap();
        let last = encoded.len() - 1;
        encoded[last] ^= 1;
        let decoded: ContentBlock = postcard::from_bytes(&encoded).unwrap();
        assert!(decoded.validate(&block.address()).is_err());
    }

    #[test]
    fn a_block_equals_its_decoded_copy_whether_or_not_either_hashed_its_address() {
        let block = ContentBlock::new(Some(Address([3; 32])), b"chunk".to_vec());
        let _ = block.address();
        let decoded: ContentBlock = postcard::from_bytes(&postcard::to_allocvec(&block).unwrap()).unwrap();
        // (Storing a chunk again after a crash found it "changed by another
        // writer" when only one side had hashed its address.)
        assert_eq!(decoded, block);
        assert_ne!(ContentBlock::new(None, b"chunk".to_vec()), block, "another owner");
        assert_ne!(ContentBlock::new(Some(Address([3; 32])), b"other".to_vec()), block, "other data");
    }
}
