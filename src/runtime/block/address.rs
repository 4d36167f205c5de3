//! Block addresses: 32 bytes derived with BLAKE3 under one domain per block
//! kind, so an address computed for one kind can never be claimed by another,
//! and printed as `0x` followed by 64 lower-case hex digits.

use serde::{Deserialize, Serialize};

use crate::crypto::{PublicKey, hash};

/// Domain of content-block addresses (hash of the owner and the data).
const CONTENT: &str = "infinit 2026 block address content v1";
/// Domain of single-owner mutable block addresses (owner key and salt).
const MUTABLE: &str = "infinit 2026 block address mutable v1";
/// Domain of access-controlled block addresses (owner key and salt).
const ACL: &str = "infinit 2026 block address acl v1";
/// Domain of named block addresses (owner key and name).
const NAMED: &str = "infinit 2026 block address named v1";
/// Domain of forward user block addresses (user name).
const USER_NAME: &str = "infinit 2026 block address user name v1";
/// Domain of reverse user block addresses (user key).
const USER_KEY: &str = "infinit 2026 block address user key v1";
/// Domain of group block addresses (group control key).
const GROUP: &str = "infinit 2026 block address group v1";

/// The 32-byte address of a block in the network.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Address(pub [u8; 32]);

impl Address {
    /// The length of an address in bytes.
    pub const LEN: usize = 32;

    /// Address of a content block: its data, bound to the owning block if any.
    pub fn content(owner: Option<&Address>, data: &[u8]) -> Address {
        match owner {
            None => Address(hash::hash(CONTENT, &[&[0], data])),
            Some(owner) => Address(hash::hash(CONTENT, &[&[1], &owner.0, data])),
        }
    }

    /// Address of a single-owner mutable block.
    pub fn mutable(owner: &PublicKey, salt: &[u8; 32]) -> Address {
        Address(hash::hash(MUTABLE, &[&owner.to_bytes(), salt]))
    }

    /// Address of an access-controlled block.
    pub fn acl(owner: &PublicKey, salt: &[u8; 32]) -> Address {
        Address(hash::hash(ACL, &[&owner.to_bytes(), salt]))
    }

    /// Address of the block `name` published by `owner`.
    pub fn named(owner: &PublicKey, name: &str) -> Address {
        Address(hash::hash(NAMED, &[&owner.to_bytes(), name.as_bytes()]))
    }

    /// Address of the user block that maps `name` to a key.
    pub fn user_by_name(name: &str) -> Address {
        Address(hash::hash(USER_NAME, &[name.as_bytes()]))
    }

    /// Address of the user block that maps `key` back to a name.
    pub fn user_by_key(key: &PublicKey) -> Address {
        Address(hash::hash(USER_KEY, &[&key.to_bytes()]))
    }

    /// Address of the group block controlled by `control`.
    pub fn group(control: &PublicKey) -> Address {
        Address(hash::hash(GROUP, &[&control.to_bytes()]))
    }

    /// The 64 lower-case hex digits, without the `0x` prefix (silo file names).
    pub fn to_hex(&self) -> String {
        hash::hex(&self.0)
    }

    /// Parse 64 hex digits, with or without a leading `0x`.
    pub fn from_hex(text: &str) -> Option<Address> {
        let digits = text.strip_prefix("0x").unwrap_or(text);
        if digits.len() != 64 || !digits.is_ascii() {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(digits.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(Address(out))
    }
}

impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "0x{}", self.to_hex())
    }
}

impl std::fmt::Debug for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Address({self})")
    }
}

impl std::str::FromStr for Address {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Address::from_hex(text)
            .ok_or_else(|| format!("{text:?} is not a block address (64 hex digits, optionally 0x-prefixed)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::KeyPair;

    #[test]
    fn display_is_0x_and_64_lowercase_hex_and_parses_back() {
        let address = Address::content(None, b"hello");
        let text = address.to_string();
        assert!(text.starts_with("0x"));
        assert_eq!(text.len(), 66);
        assert_eq!(text, text.to_lowercase());
        assert_eq!(text.parse::<Address>().unwrap(), address);
        assert_eq!(Address::from_hex(&address.to_hex()), Some(address));
    }

    #[test]
    fn malformed_hex_is_refused() {
        assert!(Address::from_hex("0x12").is_none());
        assert!(Address::from_hex(&"g".repeat(64)).is_none());
        assert!(Address::from_hex(&"é".repeat(32)).is_none());
        assert!("0x".parse::<Address>().is_err());
    }

    #[test]
    fn kinds_never_share_addresses_for_the_same_inputs() {
        let key = KeyPair::generate().unwrap().public();
        let salt = [9u8; 32];
        let all = [
            Address::mutable(&key, &salt),
            Address::acl(&key, &salt),
            Address::named(&key, ""),
            Address::user_by_key(&key),
            Address::group(&key),
            Address::user_by_name(""),
            Address::content(None, b""),
        ];
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn content_address_depends_on_owner_and_data() {
        let owner = Address([1; 32]);
        assert_ne!(Address::content(None, b"x"), Address::content(Some(&owner), b"x"));
        assert_ne!(Address::content(None, b"x"), Address::content(None, b"y"));
        assert_eq!(Address::content(None, b"x"), Address::content(None, b"x"));
    }
}
