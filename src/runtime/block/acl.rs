//! Access-controlled mutable blocks, the workhorse of the file system. The
//! owner signs the access part (access-list version, world bits, entries);
//! a writer (the owner, an entry with write, anyone if world-writable) signs
//! the data part, which covers the owner's signature so data cannot be moved
//! under another access list. When nobody but the owner may write (the
//! usual case: a user's own files and folders), the owner signs both parts
//! at once and the block carries one signature, so storing a new file costs
//! each replica one verification instead of two. Each data version is
//! encrypted under a fresh secret sealed to the owner and every reader,
//! with address and version as associated data, so revoking a reader takes
//! effect at the next version.

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::{Address, BlockError, next_version, wire};
use crate::crypto::{Canonical, KeyPair, PublicKey, Signature, random_bytes, seal};

/// Domain of the owner's signature over the access part.
const ACCESS_SIGNED: &str = "infinit/block/acl/access/v1";
/// Domain of the writer's signature over the data part.
const DATA_SIGNED: &str = "infinit/block/acl/data/v1";
/// Domain of the owner's one signature over both parts, when the owner is
/// the only writer.
const SOLE_SIGNED: &str = "infinit/block/acl/sole/v1";
/// The owner signature of a block whose data signature covers the access
/// part too (an all-zero Ed25519 signature never verifies under a valid key).
const SOLE: Signature = Signature([0; 64]);
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
    /// The owner's signature over address, access version and access list;
    /// all zeros when the owner is the only writer and the data signature
    /// covers the access part too.
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
    /// The editor's signature over the data part (over both parts when
    /// `owner_signature` is all zeros).
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
            owner_signature: SOLE,
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
        let sole = self.owner_signature == SOLE;
        if sole {
            // One signature for both parts: only the owner may have made it,
            // and only while nobody else may write (another writer would
            // need an access signature of its own to sign under).
            if self.editor != self.owner {
                return Err(self.denied(&self.editor, "write"));
            }
            if !self.sole_writer() {
                return Err(
                    self.invalid("the access list grants others write but carries no signature of its own".into())
                );
            }
        } else {
            self.owner
                .verify(&self.access_bytes(), &self.owner_signature)
                .map_err(|_| BlockError::BadSignature { address: *address, what: "access list" })?;
            if !self.can_write(&self.editor) {
                return Err(self.denied(&self.editor, "write"));
            }
        }
        let expected = if self.access.world_read { 0 } else { self.readers().len() };
        if self.secrets.len() != expected {
            return Err(self.invalid(format!("{} sealed secrets for {expected} readers", self.secrets.len())));
        }
        let (message, what) =
            if sole { (self.sole_bytes(), "access list and data") } else { (self.data_bytes(), "data") };
        self.editor
            .verify(&message, &self.data_signature)
            .map_err(|_| BlockError::BadSignature { address: *address, what })
    }

    /// Whether nobody but the owner may write: the owner then signs both
    /// parts with one signature.
    fn sole_writer(&self) -> bool {
        !self.access.world_write && !self.access.entries.iter().any(|e| e.write)
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

    /// Sign the access part on its own, unless the owner is the only
    /// writer (then [`AclBlock::seal_data`] signs both parts at once).
    fn sign_access(&mut self, owner: &KeyPair) {
        self.owner_signature = if self.sole_writer() { SOLE } else { owner.sign(&self.access_bytes()) };
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
        if self.editor == self.owner && self.sole_writer() {
            self.owner_signature = SOLE;
            self.data_signature = writer.sign(&self.sole_bytes());
        } else if self.owner_signature == SOLE {
            // Only reachable from a block that lets others write without an
            // access signature, which validation refuses.
            return Err(self.invalid("the access list carries no signature to write under".into()));
        } else {
            self.data_signature = writer.sign(&self.data_bytes());
        }
        Ok(())
    }

    fn access_bytes(&self) -> Vec<u8> {
        self.access_fields(Canonical::new(ACCESS_SIGNED)).finish()
    }

    fn access_fields(&self, c: Canonical) -> Canonical {
        let mut c = c
            .bytes(&self.address().0)
            .u64(self.access_version)
            .bool(self.access.world_read)
            .bool(self.access.world_write)
            .u64(self.access.entries.len() as u64);
        for entry in &self.access.entries {
            c = c.bytes(&entry.key.to_bytes()).bool(entry.read).bool(entry.write);
        }
        c
    }

    fn data_bytes(&self) -> Vec<u8> {
        let c = Canonical::new(DATA_SIGNED).bytes(&self.address().0).u64(self.version).bytes(&self.owner_signature.0);
        self.data_fields(c).finish()
    }

    /// What the owner signs when it is the only writer: both parts.
    fn sole_bytes(&self) -> Vec<u8> {
        self.data_fields(self.access_fields(Canonical::new(SOLE_SIGNED)).u64(self.version)).finish()
    }

    /// The data part after address, version and what it is bound to.
    fn data_fields(&self, c: Canonical) -> Canonical {
        let mut c = c.bytes(&self.editor.to_bytes()).bytes(&self.data).u64(self.secrets.len() as u64);
        for secret in &self.secrets {
            c = c.bytes(secret);
        }
        c
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

    fn sole_block(c: &Cast) -> AclBlock {
        let access = AccessList { entries: vec![AclEntry::new(c.reader.public(), true, false)], ..Default::default() };
        AclBlock::create(&c.owner, access, b"my own folder").unwrap()
    }

    #[test]
    fn a_block_only_its_owner_writes_carries_one_signature_over_both_parts() {
        let c = cast();
        let block = sole_block(&c);
        assert_eq!(block.owner_signature, SOLE, "the access part was signed on its own");
        block.validate(&block.address()).unwrap();
        let v2 = block.write(&c.owner, b"two").unwrap();
        assert_eq!(v2.owner_signature, SOLE);
        v2.validate(&block.address()).unwrap();
        assert_eq!(v2.read(&c.reader).unwrap(), b"two");
        // The one signature covers the access part: nothing in it can change.
        let mut granted = v2.clone();
        granted.access.entries[0].write = true;
        assert!(granted.validate(&block.address()).is_err());
        let mut widened = v2.clone();
        widened.access.entries.push(AclEntry::new(c.stranger.public(), true, false));
        widened.secrets.push(widened.secrets[0].clone());
        assert!(matches!(widened.validate(&block.address()), Err(BlockError::BadSignature { .. })));
        let mut reversioned = v2.clone();
        reversioned.access_version = 2;
        assert!(matches!(reversioned.validate(&block.address()), Err(BlockError::BadSignature { .. })));
        let mut edited = v2.clone();
        edited.data[0] ^= 1;
        assert!(matches!(edited.validate(&block.address()), Err(BlockError::BadSignature { .. })));
        // Nor is it an access signature a writer could sign under.
        let mut as_access = v2.clone();
        as_access.owner_signature = v2.data_signature;
        assert!(matches!(as_access.validate(&block.address()), Err(BlockError::BadSignature { .. })));
    }

    #[test]
    fn only_the_owner_signs_the_single_signature_and_only_while_nobody_else_writes() {
        let c = cast();
        let block = sole_block(&c);
        // Another key cannot sign in the owner's place, even the reader.
        let mut forged = block.clone();
        forged.version = 2;
        forged.editor = c.reader.public();
        forged.data_signature = c.reader.sign(&forged.sole_bytes());
        assert!(matches!(forged.validate(&block.address()), Err(BlockError::Denied { .. })));
        assert!(matches!(block.write(&c.reader, b"no"), Err(BlockError::Denied { .. })));
        // An owner granting write signs the access list on its own, so the
        // writer can write; taking the right back returns to one signature.
        let access = AccessList { entries: vec![AclEntry::new(c.writer.public(), true, true)], ..Default::default() };
        let shared = block.set_access(&c.owner, access).unwrap();
        assert_ne!(shared.owner_signature, SOLE);
        shared.validate(&block.address()).unwrap();
        let edited = shared.write(&c.writer, b"shared").unwrap();
        edited.validate(&block.address()).unwrap();
        let by_owner = edited.write(&c.owner, b"owner again").unwrap();
        assert_ne!(by_owner.owner_signature, SOLE, "others may still write under this access list");
        by_owner.validate(&block.address()).unwrap();
        let revoked = by_owner.set_access(&c.owner, AccessList::default()).unwrap();
        assert_eq!(revoked.owner_signature, SOLE);
        revoked.validate(&block.address()).unwrap();
        assert_eq!(revoked.read(&c.owner).unwrap(), b"owner again");
        // A single signature under an access list granting others write is
        // refused: they would have nothing to sign under.
        let mut lax = edited.clone();
        lax.version = 9;
        lax.editor = c.owner.public();
        lax.owner_signature = SOLE;
        lax.data_signature = c.owner.sign(&lax.sole_bytes());
        assert!(matches!(lax.validate(&block.address()), Err(BlockError::Invalid { .. })));
        // A block signed the old way (two signatures) stays valid.
        let mut two = block.write(&c.owner, b"old way").unwrap();
        two.owner_signature = c.owner.sign(&two.access_bytes());
        two.data_signature = c.owner.sign(&two.data_bytes());
        two.validate(&block.address()).unwrap();
        let next = two.write(&c.owner, b"new way").unwrap();
        assert_eq!(next.owner_signature, SOLE);
        next.validate(&block.address()).unwrap();
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
