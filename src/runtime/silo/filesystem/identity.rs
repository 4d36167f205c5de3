//! A filesystem silo's identity on disk: [`create`] makes a new silo's
//! folder and writes its marker; [`check`] reads the marker before the
//! folder is served, so a missing folder (an unplugged disk, a typo) or
//! another silo's is refused rather than served as an empty volume.

use std::fs;
use std::io;
use std::path::Path;

use super::super::marker::{self, Decision, MARKER_NAME, Marker, Mismatch, Place};
use super::{LOCK_FILE, SiloError, SiloId, TEMP_SUFFIX, block_address, io_at, shards, sync_dir, write_file};

/// Make `root` (created if missing) the folder of a new silo `name` and
/// return its id. The folder must be empty, or already hold this silo's
/// marker (a disk reconnected after its descriptor was lost), whose id is
/// then kept.
pub fn create(name: &str, root: &Path) -> Result<SiloId, SiloError> {
    fs::create_dir_all(root).map_err(io_at(root))?;
    let invalid = |why: String| SiloError::Invalid { silo: name.to_owned(), why };
    match read_marker(name, root)? {
        Some(marker) if marker.silo == name => return Ok(marker.id),
        Some(marker) => {
            return Err(invalid(format!(
                "folder {} already holds silo {:?} (id {}): pick another folder, or import that silo's descriptor",
                root.display(),
                marker.silo,
                marker.id
            )));
        }
        None => {}
    }
    if !is_empty(root)? {
        return Err(invalid(format!(
            "folder {} is not empty and is not a silo: pick an empty or new folder",
            root.display()
        )));
    }
    let id = SiloId::random().map_err(|e| SiloError::Io { path: root.to_owned(), source: io::Error::other(e) })?;
    write_marker(root, &Marker::new(name, id))?;
    Ok(id)
}

/// Check that `root` is silo `name`'s, whose descriptor records `expected`,
/// touching nothing. Returns the marker to write once the folder is locked
/// when adopting the folder of a silo made before markers existed.
pub(super) fn check(name: &str, root: &Path, expected: Option<SiloId>) -> Result<Option<Marker>, SiloError> {
    let refuse = |why| SiloError::NotThisSilo { silo: name.to_owned(), place: Place::Folder(root.to_owned()), why };
    match fs::metadata(root) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => return Err(SiloError::Io { path: root.to_owned(), source: io::ErrorKind::NotADirectory.into() }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(refuse(Mismatch::Missing)),
        Err(e) => return Err(SiloError::Io { path: root.to_owned(), source: e }),
    }
    let found = read_marker(name, root)?;
    // Blocks matter only without a marker.
    let blocks = found.is_none() && holds_blocks(root)?;
    match marker::decide(name, expected, found.as_ref(), blocks, false) {
        Decision::Serve => Ok(None),
        Decision::Refuse(why) => Err(refuse(why)),
        Decision::WriteMarker(id) => {
            let id = match id {
                Some(id) => id,
                None => SiloId::random()
                    .map_err(|e| SiloError::Io { path: root.to_owned(), source: io::Error::other(e) })?,
            };
            tracing::warn!(
                "silo {name:?}: folder {} was made by an older build; marking it as this silo's",
                root.display()
            );
            Ok(Some(Marker::new(name, id)))
        }
    }
}

/// Check, before erasing it, that `root` holds the marker of silo `name`
/// whose descriptor records `expected`: a descriptor (imported, edited)
/// naming any other folder must never get it erased. A descriptor without
/// an id proves nothing and is refused too.
pub fn check_erasable(name: &str, root: &Path, expected: Option<SiloId>) -> Result<(), SiloError> {
    let refuse = |why: String| SiloError::NotErasable { silo: name.to_owned(), path: root.to_owned(), why };
    let Some(expected) = expected else {
        return Err(refuse(
            "the silo's descriptor records no silo id (made by an older build), so nothing proves the folder is its own; erase it by hand if you mean to".into(),
        ));
    };
    match fs::symlink_metadata(root) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => return Err(refuse("it is not a folder".into())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(refuse("it does not exist".into())),
        Err(e) => return Err(SiloError::Io { path: root.to_owned(), source: e }),
    }
    match read_marker(name, root) {
        Ok(Some(marker)) if marker.id == expected => Ok(()),
        Ok(Some(marker)) => Err(refuse(format!(
            "it holds another silo ({:?}, id {}) than this one (id {expected})",
            marker.silo, marker.id
        ))),
        Ok(None) => Err(refuse(format!(
            "it carries no silo marker ({MARKER_NAME}), so it is not known to be this silo's folder"
        ))),
        Err(e) => Err(refuse(e.to_string())),
    }
}

/// The marker in `root`, if there is one.
fn read_marker(name: &str, root: &Path) -> Result<Option<Marker>, SiloError> {
    let path = root.join(MARKER_NAME);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(SiloError::Io { path, source: e }),
    };
    Marker::parse(&bytes).map(Some).map_err(|why| SiloError::NotThisSilo {
        silo: name.to_owned(),
        place: Place::Folder(root.to_owned()),
        why: Mismatch::BadMarker(why),
    })
}

/// Write `marker` into `root` atomically and durably.
pub(super) fn write_marker(root: &Path, marker: &Marker) -> Result<(), SiloError> {
    let temp = root.join(format!("{MARKER_NAME}.{}{TEMP_SUFFIX}", std::process::id()));
    let path = root.join(MARKER_NAME);
    let written = write_file(&temp, &marker.to_bytes(), true, false)
        .and_then(|()| fs::rename(&temp, &path).map_err(io_at(&path)));
    if let Err(e) = written {
        let _ = fs::remove_file(&temp);
        return Err(e);
    }
    sync_dir(root)
}

/// Whether `root` holds nothing but a lock file left by an earlier node.
fn is_empty(root: &Path) -> Result<bool, SiloError> {
    for entry in fs::read_dir(root).map_err(io_at(root))? {
        if entry.map_err(io_at(root))?.file_name() != LOCK_FILE {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Whether `root` holds at least one block file.
fn holds_blocks(root: &Path) -> Result<bool, SiloError> {
    for (shard_name, shard_path) in shards(root)? {
        for entry in fs::read_dir(&shard_path).map_err(io_at(&shard_path))? {
            let entry = entry.map_err(io_at(&shard_path))?;
            let is_block = entry.file_name().to_str().and_then(|f| block_address(&shard_name, f)).is_some();
            if is_block && entry.file_type().map_err(io_at(&entry.path()))?.is_file() {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::super::{Address, FilesystemSilo, SetMode, Silo as _};
    use super::*;

    async fn open(name: &str, root: &Path, id: Option<SiloId>) -> Result<FilesystemSilo, SiloError> {
        FilesystemSilo::open(name, root, id, None).await
    }

    fn refusal(result: Result<FilesystemSilo, SiloError>) -> (String, Mismatch) {
        let error = result.expect_err("expected a refusal");
        let message = error.to_string();
        match error {
            SiloError::NotThisSilo { why, .. } => (message, why),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    /// Put one block file into `root` as a node would.
    fn put_block(root: &Path, n: u8) {
        let hex = Address([n; 32]).to_hex();
        fs::create_dir_all(root.join(&hex[..2])).unwrap();
        fs::write(root.join(&hex[..2]).join(&hex), b"block").unwrap();
    }

    #[tokio::test]
    async fn a_missing_folder_is_refused_and_not_created() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("unplugged");
        let id = SiloId::random().unwrap();
        let (message, why) = refusal(open("local", &root, Some(id)).await);
        assert_eq!(why, Mismatch::Missing);
        assert_eq!(
            message,
            format!("silo \"local\": folder {} is missing; reconnect the disk or fix the path", root.display())
        );
        assert!(!root.exists(), "a refused open created the folder");
        // An older silo without id is not recreated either.
        assert_eq!(refusal(open("local", &root, None).await).1, Mismatch::Missing);
        assert!(!root.exists());
    }

    #[tokio::test]
    async fn an_empty_folder_is_refused_when_the_descriptor_records_an_id() {
        let dir = tempfile::tempdir().unwrap();
        let id = SiloId::random().unwrap();
        let (message, why) = refusal(open("local", dir.path(), Some(id)).await);
        assert_eq!(why, Mismatch::NoMarker { blocks: false });
        assert!(message.contains("is empty and has no silo marker"), "{message}");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0, "a refused open wrote in the folder");
        // Without an id, an empty folder proves nothing either.
        assert_eq!(refusal(open("local", dir.path(), None).await).1, Mismatch::NoMarker { blocks: false });
        // Blocks without a marker while the descriptor records an id: not ours.
        put_block(dir.path(), 1);
        assert_eq!(refusal(open("local", dir.path(), Some(id)).await).1, Mismatch::NoMarker { blocks: true });
    }

    #[tokio::test]
    async fn another_silos_marker_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let theirs = create("local", dir.path()).unwrap();
        let mine = SiloId::random().unwrap();
        let (message, why) = refusal(open("local", dir.path(), Some(mine)).await);
        assert_eq!(why, Mismatch::OtherSilo { silo: "local".into(), id: theirs });
        assert!(message.contains(&theirs.to_string()) && !message.contains('\n'), "{message}");
        // Without an id, a marker naming another silo is refused too.
        assert!(matches!(refusal(open("other", dir.path(), None).await).1, Mismatch::OtherSilo { .. }));
        fs::write(dir.path().join(MARKER_NAME), b"{garbage").unwrap();
        assert!(matches!(refusal(open("local", dir.path(), Some(theirs)).await).1, Mismatch::BadMarker(_)));
    }

    #[tokio::test]
    async fn the_right_marker_opens_with_its_blocks() {
        let dir = tempfile::tempdir().unwrap();
        let id = create("local", dir.path()).unwrap();
        let marker = Marker::parse(&fs::read(dir.path().join(MARKER_NAME)).unwrap()).unwrap();
        assert_eq!(marker, Marker::new("local", id));
        {
            let silo = open("local", dir.path(), Some(id)).await.unwrap();
            silo.set(Address([1; 32]), b"kept".to_vec(), SetMode::Insert).await.unwrap();
        }
        let silo = open("local", dir.path(), Some(id)).await.unwrap();
        assert_eq!(silo.list().await.unwrap(), vec![Address([1; 32])]);
        // A descriptor without id (made by an older build) accepts it too.
        drop(silo);
        open("local", dir.path(), None).await.unwrap();
    }

    #[tokio::test]
    async fn an_older_silos_folder_with_blocks_is_adopted() {
        let dir = tempfile::tempdir().unwrap();
        put_block(dir.path(), 7);
        assert!(!dir.path().join(MARKER_NAME).exists());
        let silo = open("legacy", dir.path(), None).await.unwrap();
        assert_eq!(silo.list().await.unwrap(), vec![Address([7; 32])]);
        let marker = Marker::parse(&fs::read(dir.path().join(MARKER_NAME)).unwrap()).unwrap();
        assert_eq!(marker.silo, "legacy");
        drop(silo);
        // From now on the folder is checked like any other.
        let silo = open("legacy", dir.path(), None).await.unwrap();
        assert_eq!(silo.list().await.unwrap(), vec![Address([7; 32])]);
        assert_eq!(Marker::parse(&fs::read(dir.path().join(MARKER_NAME)).unwrap()).unwrap(), marker);
        drop(silo);
        assert!(matches!(refusal(open("other", dir.path(), None).await).1, Mismatch::OtherSilo { .. }));
    }

    #[test]
    fn only_a_folder_with_the_silos_own_marker_may_be_erased() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("s");
        let id = create("s", &root).unwrap();
        check_erasable("s", &root, Some(id)).unwrap();
        let other = SiloId::random().unwrap();
        let message = check_erasable("s", &root, Some(other)).unwrap_err().to_string();
        assert!(message.contains("holds another silo"), "{message}");
        let message = check_erasable("s", &root, None).unwrap_err().to_string();
        assert!(message.contains("records no silo id"), "{message}");
        let plain = dir.path().join("documents");
        fs::create_dir(&plain).unwrap();
        fs::write(plain.join("letter"), b"mine").unwrap();
        let message = check_erasable("s", &plain, Some(id)).unwrap_err().to_string();
        assert!(message.contains("carries no silo marker"), "{message}");
        assert!(check_erasable("s", &dir.path().join("gone"), Some(id)).is_err());
    }

    #[test]
    fn create_makes_the_folder_and_refuses_one_holding_something_else() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("a/b");
        let id = create("disk", &root).unwrap();
        let names: Vec<_> = fs::read_dir(&root).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, [MARKER_NAME]);
        // The same silo again keeps its id; another silo is refused.
        assert_eq!(create("disk", &root).unwrap(), id);
        let message = create("other", &root).unwrap_err().to_string();
        assert!(message.contains("already holds silo \"disk\""), "{message}");

        let busy = dir.path().join("busy");
        fs::create_dir(&busy).unwrap();
        fs::write(busy.join("notes"), b"mine").unwrap();
        let message = create("disk", &busy).unwrap_err().to_string();
        assert!(message.contains("is not empty and is not a silo"), "{message}");
        assert!(!busy.join(MARKER_NAME).exists());
        // A lock file left by an earlier node does not count.
        let locked = dir.path().join("locked");
        fs::create_dir(&locked).unwrap();
        fs::write(locked.join(LOCK_FILE), b"").unwrap();
        create("disk", &locked).unwrap();
    }
}
