//! Cross-kind tests: encoding of every kind, tamper detection on the encoded
//! bytes, version order, conflicts and removal rights.

use super::*;
use crate::crypto::KeyPair;

fn keys() -> KeyPair {
    KeyPair::generate().unwrap()
}

/// One valid block of every kind, with the address each is stored at.
fn one_of_each() -> Vec<Block> {
    let owner = keys();
    let reader = keys();
    let acl = AclBlock::create(
        &owner,
        AccessList { entries: vec![AclEntry::new(reader.public(), true, true)], ..Default::default() },
        b"acl data",
    )
    .unwrap();
    vec![
        Block::Content(ContentBlock::new(None, b"content".to_vec())),
        Block::Content(ContentBlock::new(Some(acl.address()), b"owned content".to_vec())),
        Block::Mutable(OwnerBlock::create(&owner, b"mutable".to_vec()).unwrap()),
        Block::Named(NamedBlock::create(&owner, "root", acl.address())),
        Block::User(UserBlock::create(&owner, "alice", UserDirection::ByName)),
        Block::User(UserBlock::create(&owner, "alice", UserDirection::ByKey)),
        Block::Group(GroupBlock::create(&owner, vec![reader.public()], vec![reader.public()], "g").unwrap()),
        Block::Tombstone(Tombstone::for_block(&owner, &Block::Acl(acl.clone())).unwrap()),
        Block::Acl(acl),
    ]
}

#[test]
fn every_kind_round_trips_and_validates() {
    for block in one_of_each() {
        let bytes = block.encode().unwrap();
        assert_eq!(bytes[0], wire::FORMAT_VERSION);
        let back = Block::decode(&bytes).unwrap();
        assert_eq!(back, block);
        back.validate_alone(&block.address()).unwrap();
    }
}

#[test]
fn every_kind_refuses_trailing_bytes_and_unknown_format_versions() {
    for block in one_of_each() {
        let bytes = block.encode().unwrap();
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(matches!(Block::decode(&longer), Err(BlockError::TrailingBytes { count: 1 })));
        let mut newer = bytes.clone();
        newer[0] = wire::FORMAT_VERSION + 1;
        assert!(matches!(Block::decode(&newer), Err(BlockError::UnsupportedFormat { .. })));
        assert!(Block::decode(&bytes[..bytes.len() - 1]).is_err());
    }
}

#[test]
fn flipping_any_byte_of_any_kind_is_rejected() {
    for block in one_of_each() {
        let address = block.address();
        let bytes = block.encode().unwrap();
        for i in 0..bytes.len() {
            for mask in [0x01u8, 0x80, 0xff] {
                let mut bad = bytes.clone();
                bad[i] ^= mask;
                let outcome = Block::decode(&bad).and_then(|b| b.validate_alone(&address));
                assert!(outcome.is_err(), "{}: byte {i} ^ {mask:#x} accepted", block.kind());
            }
        }
    }
}

#[test]
fn a_block_is_refused_at_another_address() {
    let blocks = one_of_each();
    for block in &blocks {
        let elsewhere = Address([0xab; 32]);
        assert!(matches!(block.validate(&elsewhere, None), Err(BlockError::AddressMismatch { .. })));
    }
}

#[test]
fn newer_versions_replace_and_rollback_is_a_conflict_with_the_current_block() {
    let owner = keys();
    let v1 = Block::Mutable(OwnerBlock::create(&owner, b"1".to_vec()).unwrap());
    let Block::Mutable(okb) = &v1 else { unreachable!() };
    let v2 = Block::Mutable(okb.update(&owner, b"2".to_vec()).unwrap());
    let address = v1.address();
    v2.validate(&address, Some(&v1)).unwrap();
    let err = v1.validate(&address, Some(&v2)).unwrap_err();
    let conflict = err.into_conflict().expect("a conflict");
    assert_eq!(conflict.reason, ConflictReason::Rollback { current: 2, proposed: 1 });
    assert_eq!(conflict.current, v2);
    // Re-storing the identical block is idempotent.
    v2.validate(&address, Some(&v2)).unwrap();
}

#[test]
fn same_version_with_different_content_is_a_conflict() {
    let owner = keys();
    let writer = keys();
    let access = AccessList { entries: vec![AclEntry::new(writer.public(), true, true)], ..Default::default() };
    let v1 = AclBlock::create(&owner, access, b"base").unwrap();
    let mine = Block::Acl(v1.write(&owner, b"mine").unwrap());
    let theirs = Block::Acl(v1.write(&writer, b"theirs").unwrap());
    let err = mine.validate(&v1.address(), Some(&theirs)).unwrap_err();
    let conflict = err.conflict().expect("a conflict");
    assert_eq!(conflict.reason, ConflictReason::SameVersion { version: 2 });
    // The loser replays its intent on the current block at the next version.
    let Block::Acl(current) = conflict.current() else { panic!("not an ACL block") };
    let replayed = Block::Acl(current.write(&owner, b"theirs + mine").unwrap());
    replayed.validate(&v1.address(), Some(&theirs)).unwrap();
}

#[test]
fn revoked_writer_cannot_reuse_the_older_access_list() {
    let owner = keys();
    let writer = keys();
    let access = AccessList { entries: vec![AclEntry::new(writer.public(), true, true)], ..Default::default() };
    let v1 = AclBlock::create(&owner, access, b"base").unwrap();
    let v2 = v1.set_access(&owner, AccessList::default()).unwrap();
    // The writer signs a higher version over v1's (still owner-signed) list.
    let v3 = Block::Acl(v1.write(&writer, b"sneaky").unwrap());
    let Block::Acl(mut sneaky) = v3 else { unreachable!() };
    sneaky.version = 3;
    let sneaky = Block::Acl(sneaky.write(&writer, b"sneaky").unwrap());
    sneaky.validate_alone(&v1.address()).unwrap();
    let err = sneaky.validate(&v1.address(), Some(&Block::Acl(v2))).unwrap_err();
    assert!(matches!(
        err.conflict().map(|c| c.reason),
        Some(ConflictReason::StaleAccessList { current: 2, proposed: 1 })
    ));
}

#[test]
fn immutable_blocks_never_change() {
    let owner = keys();
    let a = Block::Named(NamedBlock::create(&owner, "root", Address([1; 32])));
    let b = Block::Named(NamedBlock::create(&owner, "root", Address([2; 32])));
    a.validate(&a.address(), Some(&a)).unwrap();
    let err = b.validate(&a.address(), Some(&a)).unwrap_err();
    assert_eq!(err.conflict().map(|c| c.reason), Some(ConflictReason::ImmutableExists));
}

#[test]
fn tombstones_need_the_right_signer_and_a_newer_version() {
    let owner = keys();
    let stranger = keys();
    let okb = Block::Mutable(OwnerBlock::create(&owner, b"x".to_vec()).unwrap());
    let address = okb.address();
    let by_stranger = Block::Tombstone(Tombstone::for_block(&stranger, &okb).unwrap());
    assert!(matches!(by_stranger.validate(&address, Some(&okb)), Err(BlockError::Denied { .. })));
    let stale = Block::Tombstone(Tombstone::sign(&owner, address, okb.version(), okb.digest()));
    assert!(stale.validate(&address, Some(&okb)).unwrap_err().conflict().is_some());
    let tomb = Block::Tombstone(Tombstone::for_block(&owner, &okb).unwrap());
    tomb.validate(&address, Some(&okb)).unwrap();
    assert!(tomb.validate(&address, None).is_err(), "nothing to remove");
    // The address stays dead for mutable blocks, even for newer versions.
    let Block::Mutable(inner) = &okb else { unreachable!() };
    let mut later = inner.clone();
    for _ in 0..3 {
        later = later.update(&owner, b"again".to_vec()).unwrap();
    }
    assert!(matches!(Block::Mutable(later).validate(&address, Some(&tomb)), Err(BlockError::Removed { .. })));
    tomb.validate(&address, Some(&tomb)).unwrap();
}

#[test]
fn acl_writers_may_remove_and_readers_may_not() {
    let owner = keys();
    let writer = keys();
    let reader = keys();
    let access = AccessList {
        entries: vec![AclEntry::new(writer.public(), true, true), AclEntry::new(reader.public(), true, false)],
        ..Default::default()
    };
    let acl = Block::Acl(AclBlock::create(&owner, access, b"dir").unwrap());
    let address = acl.address();
    Block::Tombstone(Tombstone::for_block(&writer, &acl).unwrap()).validate(&address, Some(&acl)).unwrap();
    let by_reader = Block::Tombstone(Tombstone::for_block(&reader, &acl).unwrap());
    assert!(matches!(by_reader.validate(&address, Some(&acl)), Err(BlockError::Denied { .. })));
}

#[test]
fn owned_content_removal_is_checked_against_the_owner_block() {
    let owner = keys();
    let writer = keys();
    let stranger = keys();
    let access = AccessList { entries: vec![AclEntry::new(writer.public(), false, true)], ..Default::default() };
    let file = Block::Acl(AclBlock::create(&owner, access, b"file header").unwrap());
    let chunk = Block::Content(ContentBlock::new(Some(file.address()), b"chunk".to_vec()));
    let address = chunk.address();
    let by_writer = Block::Tombstone(Tombstone::for_block(&writer, &chunk).unwrap());
    assert!(matches!(by_writer.validate(&address, Some(&chunk)), Err(BlockError::OwnerBlockNeeded { .. })));
    by_writer.validate_removing(&address, Some(&chunk), Some(&file)).unwrap();
    let by_stranger = Block::Tombstone(Tombstone::for_block(&stranger, &chunk).unwrap());
    assert!(by_stranger.validate_removing(&address, Some(&chunk), Some(&file)).is_err());
    let unrelated = Block::Content(ContentBlock::new(None, b"other".to_vec()));
    assert!(by_writer.validate_removing(&address, Some(&chunk), Some(&unrelated)).is_err());
    // Unowned content may be removed by any authenticated key, and stored again.
    let free = Block::Content(ContentBlock::new(None, b"free".to_vec()));
    let tomb = Block::Tombstone(Tombstone::for_block(&stranger, &free).unwrap());
    tomb.validate(&free.address(), Some(&free)).unwrap();
    free.validate(&free.address(), Some(&tomb)).unwrap();
}

#[test]
fn a_kind_cannot_replace_another() {
    let owner = keys();
    let okb = Block::Mutable(OwnerBlock::create(&owner, b"x".to_vec()).unwrap());
    let content = Block::Content(ContentBlock::new(None, b"x".to_vec()));
    // Different kinds never share an address; the address check refuses first.
    assert!(content.validate(&okb.address(), Some(&okb)).is_err());
    assert!(validate::successor(&content, &okb, None).is_err());
}
