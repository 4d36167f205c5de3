//! Group blocks: a group's members and admins, stored and validated only
//! (group keys and sealing to groups come later). The group's control key
//! owns the block and signs the admin list; the owner or any admin signs the
//! member part, which covers the owner's signature so members cannot be
//! paired with an older admin list.

use serde::{Deserialize, Serialize};

use super::{Address, BlockError, next_version, wire};
use crate::crypto::{Canonical, KeyPair, PublicKey, Signature};

/// Domain of the owner's signature over the admin part.
const ADMINS_SIGNED: &str = "infinit/block/group/admins/v1";
/// Domain of the editor's signature over the member part.
const MEMBERS_SIGNED: &str = "infinit/block/group/members/v1";

/// A group: its admins (owner-signed) and members (owner- or admin-signed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupBlock {
    /// The group's control key: derives the address, signs the admin list.
    #[serde(with = "wire::key")]
    pub owner: PublicKey,
    /// The block version at which the owner last signed the admin list.
    pub admins_version: u64,
    /// Keys allowed to change members and description.
    #[serde(with = "wire::keys")]
    pub admins: Vec<PublicKey>,
    /// The owner's signature over the admin part.
    #[serde(with = "wire::signature")]
    pub owner_signature: Signature,
    /// Block version, strictly increasing from 1 on every change.
    pub version: u64,
    /// The group's members.
    #[serde(with = "wire::keys")]
    pub members: Vec<PublicKey>,
    /// Free text shown to people.
    pub description: String,
    /// The key that signed the member part.
    #[serde(with = "wire::key")]
    pub editor: PublicKey,
    /// The editor's signature over the member part.
    #[serde(with = "wire::signature")]
    pub signature: Signature,
}

impl GroupBlock {
    /// A first version (1) of the group controlled by `owner`.
    pub fn create(
        owner: &KeyPair,
        admins: Vec<PublicKey>,
        members: Vec<PublicKey>,
        description: &str,
    ) -> Result<Self, BlockError> {
        let mut block = GroupBlock {
            owner: owner.public(),
            admins_version: 1,
            admins,
            owner_signature: Signature([0; 64]),
            version: 1,
            members,
            description: description.to_owned(),
            editor: owner.public(),
            signature: Signature([0; 64]),
        };
        block.check_lists()?;
        block.owner_signature = owner.sign(&block.admins_bytes());
        block.signature = owner.sign(&block.members_bytes());
        Ok(block)
    }

    /// The next version with new members and description, signed by the owner or an admin.
    pub fn set_members(
        &self,
        editor: &KeyPair,
        members: Vec<PublicKey>,
        description: &str,
    ) -> Result<Self, BlockError> {
        if !self.can_edit_members(&editor.public()) {
            return Err(self.denied(&editor.public(), "edit the members"));
        }
        let mut next = self.clone();
        next.version = next_version(self.address(), self.version)?;
        next.members = members;
        next.description = description.to_owned();
        next.check_lists()?;
        next.editor = editor.public();
        next.signature = editor.sign(&next.members_bytes());
        Ok(next)
    }

    /// The next version with a new admin list, signed by the owner.
    pub fn set_admins(&self, owner: &KeyPair, admins: Vec<PublicKey>) -> Result<Self, BlockError> {
        if owner.public() != self.owner {
            return Err(self.denied(&owner.public(), "change the admins"));
        }
        let mut next = self.clone();
        next.version = next_version(self.address(), self.version)?;
        next.admins_version = next.version;
        next.admins = admins;
        next.check_lists()?;
        next.owner_signature = owner.sign(&next.admins_bytes());
        next.editor = owner.public();
        next.signature = owner.sign(&next.members_bytes());
        Ok(next)
    }

    /// Whether `key` may change members: the owner or an admin.
    pub fn can_edit_members(&self, key: &PublicKey) -> bool {
        *key == self.owner || self.admins.contains(key)
    }

    /// The address derived from the control key.
    pub fn address(&self) -> Address {
        Address::group(&self.owner)
    }

    /// Check address, lists, both signatures and the editor's right.
    pub fn validate(&self, address: &Address) -> Result<(), BlockError> {
        let computed = self.address();
        if computed != *address {
            return Err(BlockError::AddressMismatch { expected: *address, computed });
        }
        self.check_lists()?;
        if self.admins_version == 0 || self.admins_version > self.version {
            return Err(BlockError::Invalid {
                address: *address,
                why: format!("admins version {} is not within 1..={}", self.admins_version, self.version),
            });
        }
        self.owner
            .verify(&self.admins_bytes(), &self.owner_signature)
            .map_err(|_| BlockError::BadSignature { address: *address, what: "admin list" })?;
        if !self.can_edit_members(&self.editor) {
            return Err(self.denied(&self.editor, "edit the members"));
        }
        self.editor
            .verify(&self.members_bytes(), &self.signature)
            .map_err(|_| BlockError::BadSignature { address: *address, what: "member list" })
    }

    fn check_lists(&self) -> Result<(), BlockError> {
        for (what, list) in [("admin", &self.admins), ("member", &self.members)] {
            for (i, key) in list.iter().enumerate() {
                if list[..i].contains(key) {
                    return Err(BlockError::Invalid {
                        address: self.address(),
                        why: format!("{what} {} is listed twice", key.short_hash()),
                    });
                }
            }
        }
        Ok(())
    }

    fn admins_bytes(&self) -> Vec<u8> {
        let mut c = Canonical::new(ADMINS_SIGNED)
            .bytes(&self.address().0)
            .u64(self.admins_version)
            .u64(self.admins.len() as u64);
        for key in &self.admins {
            c = c.bytes(&key.to_bytes());
        }
        c.finish()
    }

    fn members_bytes(&self) -> Vec<u8> {
        let mut c = Canonical::new(MEMBERS_SIGNED)
            .bytes(&self.address().0)
            .u64(self.version)
            .bytes(&self.owner_signature.0)
            .bytes(&self.editor.to_bytes())
            .str(&self.description)
            .u64(self.members.len() as u64);
        for key in &self.members {
            c = c.bytes(&key.to_bytes());
        }
        c.finish()
    }

    fn denied(&self, key: &PublicKey, action: &'static str) -> BlockError {
        BlockError::Denied { address: self.address(), key: key.short_hash(), action }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admins_edit_members_and_members_do_not() {
        let control = KeyPair::generate().unwrap();
        let admin = KeyPair::generate().unwrap();
        let member = KeyPair::generate().unwrap();
        let group = GroupBlock::create(&control, vec![admin.public()], vec![member.public()], "team").unwrap();
        group.validate(&Address::group(&control.public())).unwrap();
        let v2 = group.set_members(&admin, vec![], "empty").unwrap();
        v2.validate(&group.address()).unwrap();
        assert!(matches!(group.set_members(&member, vec![], ""), Err(BlockError::Denied { .. })));
        assert!(matches!(group.set_admins(&admin, vec![member.public()]), Err(BlockError::Denied { .. })));
    }

    #[test]
    fn forged_admin_list_or_editor_is_rejected() {
        let control = KeyPair::generate().unwrap();
        let member = KeyPair::generate().unwrap();
        let group = GroupBlock::create(&control, vec![], vec![member.public()], "").unwrap();
        let mut promoted = group.clone();
        promoted.admins.push(member.public());
        assert!(matches!(promoted.validate(&group.address()), Err(BlockError::BadSignature { .. })));
        let mut self_edit = group.clone();
        self_edit.version = 2;
        self_edit.editor = member.public();
        self_edit.signature = member.sign(&self_edit.members_bytes());
        assert!(matches!(self_edit.validate(&group.address()), Err(BlockError::Denied { .. })));
    }

    #[test]
    fn removed_admin_loses_rights_after_owner_update() {
        let control = KeyPair::generate().unwrap();
        let admin = KeyPair::generate().unwrap();
        let group = GroupBlock::create(&control, vec![admin.public()], vec![], "").unwrap();
        let v2 = group.set_admins(&control, vec![]).unwrap();
        v2.validate(&group.address()).unwrap();
        assert!(v2.set_members(&admin, vec![admin.public()], "").is_err());
    }
}
