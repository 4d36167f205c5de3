//! Access-controlled mutable blocks, the workhorse of the file system. The
//! owner signs the access part (access-list version, world bits, entries);
//! a writer (the owner, an entry with write, anyone if world-writable) signs
//! the data part, which covers the owner's signature so data cannot be moved
//! under another access list. Each data version is encrypted under a fresh
//! secret sealed to the owner and every reader, with address and version as
//! associated data, so revoking a reader takes effect at the next version.

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::{Address, BlockError, next_version, wire};
use crate::crypto::{Canonical, KeyPair, PublicKey, Signature, random_bytes, seal};

/// Domain of the owner's signature over the access part.
const ACCESS_SIGNED: &str = "infinit/block/acl/access/v1";
/// Domain of the writer's signature over the data part.
const DATA_SIGNED: &str = "infinit/block/acl/data/v1";
/// Domain of the associated data binding ciphertexts to address and version.
const DATA_AAD: &str = "infinit/block/acl/aad/v1";

/// One user's rights on an access-controlled block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AclEntry {
    /// The user's key.
    #[serde(with = "wire::key")]
    pub key: PublicKey,
    /// May open the data.
    pub read: bool,
    /// May sign new data versions.
    pub write: bool,
}

impl AclEntry {
    /// An entry granting `read` and `write` as given.
    pub fn new(key: PublicKey, read: bool, write: bool) -> Self {
        AclEntry { key, read, write }
    }
}

/// The owner-signed access part of an access-controlled block.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessList {
    /// Anyone may read: the data is stored in clear.
    pub world_read: bool,
    /// Anyone may write new data versions.
    pub world_write: bool,
    /// Per-user rights; the owner is implicit and never listed.
    pub entries: Vec<AclEntry>,
}

impl AccessList {
    /// The entry for `key`, if any.
    pub fn entry(&self, key: &PublicKey) -> Option<&AclEntry> {
        self.entries.iter().find(|e| e.key == *key)
    }
}

/// A mutable block with an owner, an access list and per-reader encryption.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AclBlock {
    /// The owner: signs the access part and always reads and writes.
    #[serde(with = "wire::key")]
    pub owner: PublicKey,
    /// Random salt that makes the address unique among the owner's blocks.
    pub salt: [u8; 32],
    /// The block version at which the owner last signed the access part.
    pub access_version: u64,
    /// Who may read and write.
    pub access: AccessList,
    /// The owner's signature over address, access version and access list.
    #[serde(with = "wire::signature")]
    pub owner_signature: Signature,
    /// Block version, strictly increasing from 1 on every change.
    pub version: u64,
    /// The key that signed this data version.
    #[serde(with = "wire::key")]
    pub editor: PublicKey,
    /// The data: encrypted, or in clear when world-readable.
    #[serde(with = "serde_bytes")]
    pub data: Vec<u8>,
    /// The data secret sealed to the owner, then to each reader entry in order.
    pub secrets: Vec<serde_bytes::ByteBuf>,
    /// The editor's signature over the data part.
    #[serde(with = "wire::signature")]
    pub data_signature: Signature,
}

impl AclBlock {
    /// A first version (1) at a fresh address, written by its owner.
    pub fn create(owner: &KeyPair, access: AccessList, plaintext: &[u8]) -> Result<Self, BlockError> {
        let salt = random_bytes().map_err(BlockError::Randomness)?;
        Self::create_at(owner, salt, access, plaintext)
    }

    /// A fresh random salt, to know a block's address ([`Address::acl`])
    /// before building it with [`AclBlock::create_at`].
    pub fn new_salt() -> Result<[u8; 32], BlockError> {
        random_bytes().map_err(BlockError::Randomness)
    }

    /// A first version (1) at the address `salt` gives, written by its owner.
    pub fn create_at(
        owner: &KeyPair,
        salt: [u8; 32],
        access: AccessList,
        plaintext: &[u8],
    ) -> Result<Self, BlockError> {
        let mut block = AclBlock {
            owner: owner.public(),
            salt,
            access_version: 1,
            access,
            owner_signature: Signature([0; 64]),
            version: 1,
            editor: owner.public(),
            data: Vec::new(),
            secrets: Vec::new(),
            data_signature: Signature([0; 64]),
        };
        block.check_access_list()?;
        block.sign_access(owner);
        block.seal_data(owner, plaintext)?;
        Ok(block)
    }

    /// The next version holding `plaintext`, written by `writer`.
    pub fn write(&self, writer: &KeyPair, plaintext: &[u8]) -> Result<Self, BlockError> {
        if !self.can_write(&writer.public()) {
            return Err(self.denied(&writer.public(), "write"));
        }
        let mut next = self.clone();
        next.version = next_version(self.address(), self.version)?;
        next.seal_data(writer, plaintext)?;
        Ok(next)
    }

    /// The next version under a new access list, re-encrypted by the owner so
    /// that removed readers cannot open it.
    pub fn set_access(&self, owner: &KeyPair, access: AccessList) -> Result<Self, BlockError> {
        if owner.public() != self.owner {
            return Err(self.denied(&owner.public(), "change the access list"));
        }
        let plaintext = Zeroizing::new(self.read(owner)?);
        let mut next = self.clone();
        next.version = next_version(self.address(), self.version)?;
        next.access_version = next.version;
        next.access = access;
        next.check_access_list()?;
        next.sign_access(owner);
        next.seal_data(owner, &plaintext)?;
        Ok(next)
    }

    /// Open this version's data as `reader`.
    pub fn read(&self, reader: &KeyPair) -> Result<Vec<u8>, BlockError> {
        if self.access.world_read {
            return Ok(self.data.clone());
        }
        let address = self.address();
        let not_reader = || BlockError::NotReader { address, key: reader.public().short_hash() };
        let index = self.readers().iter().position(|k| *k == reader.public()).ok_or_else(not_reader)?;
        let sealed = self.secrets.get(index).ok_or_else(not_reader)?;
        let aad = data_aad(&address, self.version);
        let crypto = |source| BlockError::Crypto { address, source };
        let secret = Zeroizing::new(seal::open(reader, sealed, &aad).map_err(crypto)?);
        let key: Zeroizing<[u8; 32]> = Zeroizing::new(
            secret
                .as_slice()
                .try_into()
                .map_err(|_| BlockError::Invalid { address, why: "data secret is not 32 bytes".into() })?,
        );
        seal::decrypt(&key, &self.data, &aad).map_err(crypto)
    }

    /// Whether `key` may open the data.
    pub fn can_read(&self, key: &PublicKey) -> bool {
        self.access.world_read || *key == self.owner || self.access.entry(key).is_some_and(|e| e.read)
    }

    /// Whether `key` may sign new data versions.
    pub fn can_write(&self, key: &PublicKey) -> bool {
        self.access.world_write || *key == self.owner || self.access.entry(key).is_some_and(|e| e.write)
    }

    /// The keys a secret is sealed to, in order: the owner, then read entries.
    pub fn readers(&self) -> Vec<PublicKey> {
        std::iter::once(self.owner).chain(self.access.entries.iter().filter(|e| e.read).map(|e| e.key)).collect()
    }

    /// The address derived from owner and salt.
    pub fn address(&self) -> Address {
        Address::acl(&self.owner, &self.salt)
    }

    /// Check address, access list, both signatures, the editor's right to
    /// write and that every reader received a secret.
    pub fn validate(&self, address: &Address) -> Result<(), BlockError> {
        let computed = self.address();
        if computed != *address {
            return Err(BlockError::AddressMismatch { expected: *address, computed });
        }
        self.check_access_list()?;
        if self.access_version == 0 || self.access_version > self.version {
            return Err(
                self.invalid(format!("access version {} is not within 1..={}", self.access_version, self.version))
            );
        }
        self.owner
            .verify(&self.access_bytes(), &self.owner_signature)
            .map_err(|_| BlockError::BadSignature { address: *address, what: "access list" })?;
        if !self.can_write(&self.editor) {
            return Err(self.denied(&self.editor, "write"));
        }
        let expected = if self.access.world_read { 0 } else { self.readers().len() };
        if self.secrets.len() != expected {
            return Err(self.invalid(format!("{} sealed secrets for {expected} readers", self.secrets.len())));
        }
        self.editor
            .verify(&self.data_bytes(), &self.data_signature)
            .map_err(|_| BlockError::BadSignature { address: *address, what: "data" })
    }

    fn check_access_list(&self) -> Result<(), BlockError> {
        for (i, entry) in self.access.entries.iter().enumerate() {
            if entry.key == self.owner {
                return Err(self.invalid("the owner cannot be listed in its own access list".into()));
            }
            if self.access.entries[..i].iter().any(|e| e.key == entry.key) {
                return Err(self.invalid(format!("key {} is listed twice", entry.key.short_hash())));
            }
        }
        Ok(())
    }

    fn sign_access(&mut self, owner: &KeyPair) {
        self.owner_signature = owner.sign(&self.access_bytes());
    }

    fn seal_data(&mut self, writer: &KeyPair, plaintext: &[u8]) -> Result<(), BlockError> {
        let address = self.address();
        let aad = data_aad(&address, self.version);
        let crypto = |source| BlockError::Crypto { address, source };
        if self.access.world_read {
            self.data = plaintext.to_vec();
            self.secrets = Vec::new();
        } else {
            let secret = Zeroizing::new(random_bytes::<32>().map_err(BlockError::Randomness)?);
            self.data = seal::encrypt(&secret, plaintext, &aad).map_err(crypto)?;
            self.secrets = self
                .readers()
                .iter()
                .map(|reader| {
                    if *reader == writer.public() {
                        seal::seal_to_self(writer, secret.as_slice(), &aad)
                    } else {
                        seal::seal(reader, secret.as_slice(), &aad)
                    }
                    .map(serde_bytes::ByteBuf::from)
                })
                .collect::<Result<_, _>>()
                .map_err(crypto)?;
        }
        self.editor = writer.public();
        self.data_signature = writer.sign(&self.data_bytes());
        Ok(())
    }

    fn access_bytes(&self) -> Vec<u8> {
        let mut c = Canonical::new(ACCESS_SIGNED)
            .bytes(&self.address().0)
            .u64(self.access_version)
            .bool(self.access.world_read)
            .bool(self.access.world_write)
            .u64(self.access.entries.len() as u64);
        for entry in &self.access.entries {
            c = c.bytes(&entry.key.to_bytes()).bool(entry.read).bool(entry.write);
        }
        c.finish()
    }

    fn data_bytes(&self) -> Vec<u8> {
        let mut c = Canonical::new(DATA_SIGNED)
            .bytes(&self.address().0)
            .u64(self.version)
            .bytes(&self.owner_signature.0)
            .bytes(&self.editor.to_bytes())
            .bytes(&self.data)
            .u64(self.secrets.len() as u64);
        for secret in &self.secrets {
            c = c.bytes(secret);
        }
        c.finish()
    }

    fn invalid(&self, why: String) -> BlockError {
        BlockError::Invalid { address: self.address(), why }
    }

    fn denied(&self, key: &PublicKey, action: &'static str) -> BlockError {
        BlockError::Denied { address: self.address(), key: key.short_hash(), action }
    }
}

/// Associated data binding a ciphertext or sealed secret to one version.
fn data_aad(address: &Address, version: u64) -> Vec<u8> {
    Canonical::new(DATA_AAD).bytes(&address.0).u64(version).finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Cast {
        owner: KeyPair,
        reader: KeyPair,
        writer: KeyPair,
        stranger: KeyPair,
    }

    fn cast() -> Cast {
        Cast {
            owner: KeyPair::generate().unwrap(),
            reader: KeyPair::generate().unwrap(),
            writer: KeyPair::generate().unwrap(),
            stranger: KeyPair::generate().unwrap(),
        }
    }

    fn private_block(c: &Cast) -> AclBlock {
        let access = AccessList {
            world_read: false,
            world_write: false,
            entries: vec![AclEntry::new(c.reader.public(), true, false), AclEntry::new(c.writer.public(), true, true)],
        };
        AclBlock::create(&c.owner, access, b"secret directory").unwrap()
    }

    #[test]
    fn owner_and_readers_open_the_data_and_strangers_cannot() {
        let c = cast();
        let block = private_block(&c);
        block.validate(&block.address()).unwrap();
        assert_eq!(block.read(&c.owner).unwrap(), b"secret directory");
        assert_eq!(block.read(&c.reader).unwrap(), b"secret directory");
        assert_eq!(block.read(&c.writer).unwrap(), b"secret directory");
        assert!(matches!(block.read(&c.stranger), Err(BlockError::NotReader { .. })));
        assert!(!block.data.windows(6).any(|w| w == b"secret"), "data stored in clear");
    }

    #[test]
    fn acl_writer_writes_and_reader_only_is_refused() {
        let c = cast();
        let block = private_block(&c);
        let v2 = block.write(&c.writer, b"edited").unwrap();
        assert_eq!(v2.version, 2);
        assert_eq!(v2.editor, c.writer.public());
        v2.validate(&block.address()).unwrap();
        assert_eq!(v2.read(&c.reader).unwrap(), b"edited");
        assert!(matches!(block.write(&c.reader, b"no"), Err(BlockError::Denied { .. })));
        assert!(matches!(block.write(&c.stranger, b"no"), Err(BlockError::Denied { .. })));
    }

    #[test]
    fn data_signed_by_a_key_without_write_right_is_invalid() {
        let c = cast();
        let block = private_block(&c);
        // The reader builds a correctly signed version with its own key.
        let mut forged = block.clone();
        forged.version = 2;
        forged.seal_data(&c.reader, b"forged").unwrap();
        assert!(matches!(forged.validate(&block.address()), Err(BlockError::Denied { .. })));
    }

    #[test]
    fn writer_cannot_grant_itself_rights_by_editing_the_access_list() {
        let c = cast();
        let block = private_block(&c);
        let mut forged = block.write(&c.writer, b"x").unwrap();
        forged.access.entries[0].write = true;
        forged.seal_data(&c.writer, b"x").unwrap();
        assert!(matches!(forged.validate(&block.address()), Err(BlockError::BadSignature { what: "access list", .. })));
    }

    #[test]
    fn revoked_reader_cannot_open_later_versions() {
        let c = cast();
        let block = private_block(&c);
        let revoked =
            AccessList { entries: vec![AclEntry::new(c.writer.public(), true, true)], ..block.access.clone() };
        let v2 = block.set_access(&c.owner, revoked).unwrap();
        v2.validate(&block.address()).unwrap();
        assert_eq!(v2.access_version, 2);
        assert_eq!(v2.read(&c.writer).unwrap(), b"secret directory");
        assert!(v2.read(&c.reader).is_err());
        // Its old secret does not open the new version either.
        let mut replayed = v2.clone();
        replayed.secrets.push(block.secrets[1].clone());
        assert!(replayed.validate(&block.address()).is_err());
        assert!(block.set_access(&c.writer, AccessList::default()).is_err());
    }

    #[test]
    fn world_readable_data_is_clear_and_world_writable_accepts_anyone() {
        let c = cast();
        let access = AccessList { world_read: true, world_write: true, entries: vec![] };
        let block = AclBlock::create(&c.owner, access, b"public").unwrap();
        assert_eq!(block.data, b"public");
        assert_eq!(block.read(&c.stranger).unwrap(), b"public");
        let v2 = block.write(&c.stranger, b"graffiti").unwrap();
        v2.validate(&block.address()).unwrap();
    }

    #[test]
    fn missing_reader_secret_or_bad_access_list_is_invalid() {
        let c = cast();
        let block = private_block(&c);
        let mut short = block.write(&c.owner, b"x").unwrap();
        short.secrets.pop();
        short.data_signature = c.owner.sign(&short.data_bytes());
        assert!(matches!(short.validate(&block.address()), Err(BlockError::Invalid { .. })));
        let dup = AccessList {
            entries: vec![AclEntry::new(c.reader.public(), true, false), AclEntry::new(c.reader.public(), false, true)],
            ..AccessList::default()
        };
        assert!(AclBlock::create(&c.owner, dup, b"").is_err());
        let owner_listed =
            AccessList { entries: vec![AclEntry::new(c.owner.public(), true, true)], ..Default::default() };
        assert!(AclBlock::create(&c.owner, owner_listed, b"").is_err());
    }

    #[test]
    fn a_low_order_reader_key_is_refused_when_sealing_and_decoding() {
        let c = cast();
        let weak = PublicKey { ed25519: c.reader.public().ed25519, x25519: [0; 32] };
        let access = AccessList { entries: vec![AclEntry::new(weak, true, false)], ..AccessList::default() };
        assert!(matches!(AclBlock::create(&c.owner, access, b"secret"), Err(BlockError::Crypto { .. })));
        // A block naming such a reader does not even decode.
        let mut block = private_block(&c);
        block.access.entries[0].key = weak;
        let bytes = crate::runtime::block::Block::Acl(block).encode().unwrap();
        assert!(crate::runtime::block::Block::decode(&bytes).is_err());
    }

    #[test]
    fn ciphertext_is_bound_to_its_version() {
        let c = cast();
        let block = private_block(&c);
        let v2 = block.write(&c.owner, b"two").unwrap();
        // Old ciphertext and secrets relabelled as version 2 do not open.
        let mut relabelled = block.clone();
        relabelled.version = v2.version;
        assert!(relabelled.read(&c.reader).is_err());
    }
}
