//! `infinit volume run` refuses bad input with exit 1 and one error line,
//! mounting nothing; a full silo answers ENOSPC and stays usable.

use std::fs;
use std::io::Write as _;

use crate::support::{Home, Setup, Volume, close, fuse_available, is_mounted, noise};

const ENOSPC: i32 = 28;

fn refused(test: &str, prepare: impl FnOnce(&Home) -> (String, std::path::PathBuf)) {
    if !fuse_available(test) {
        return;
    }
    let home = Home::new(&Setup::default());
    let (volume, mountpoint) = prepare(&home);
    let out = home.run_bounded(&["volume", "run", "--name", &volume, "--mountpoint", mountpoint.to_str().unwrap()]);
    let mounted = is_mounted(&mountpoint);
    if mounted {
        crate::support::force_unmount(&mountpoint);
    }
    assert!(!mounted, "{test}: something was mounted: {out:?}");
    out.assert_one_line_error();
    assert!(out.stdout.is_empty(), "{test}: {out:?}");
}

#[test]
fn unknown_volume_is_refused() {
    refused("unknown_volume_is_refused", |home| ("nope".into(), home.root().join("mnt")));
}

#[test]
fn mountpoint_that_is_a_file_is_refused() {
    refused("mountpoint_that_is_a_file_is_refused", |home| {
        let file = home.root().join("file");
        fs::write(&file, b"x").unwrap();
        ("vol".into(), file)
    });
}

#[test]
fn non_empty_mountpoint_is_refused() {
    refused("non_empty_mountpoint_is_refused", |home| {
        let dir = home.root().join("full");
        fs::create_dir(&dir).unwrap();
        fs::write(dir.join("inside"), b"x").unwrap();
        ("vol".into(), dir)
    });
}

#[test]
fn a_mountpoint_in_use_is_refused() {
    let Some(v) = Volume::start("a_mountpoint_in_use_is_refused") else {
        return;
    };
    let out = v.home.run_bounded(&["volume", "run", "--name", "vol", "--mountpoint", v.mount.to_str().unwrap()]);
    out.assert_one_line_error();
    // The first mount still serves.
    fs::write(v.path("f"), b"still here").unwrap();
    assert_eq!(fs::read(v.path("f")).unwrap(), b"still here");
}

#[test]
fn a_full_silo_answers_enospc_and_stays_usable() {
    let setup = Setup { capacity: Some("1MB".into()), ..Setup::default() };
    let Some(v) = Volume::start_with("a_full_silo_answers_enospc_and_stays_usable", &setup) else {
        return;
    };
    let small = noise(5000, 1);
    fs::write(v.path("small"), &small).unwrap();

    let mut f = fs::File::create(v.path("huge")).unwrap();
    let failed = f.write_all(&noise(4 << 20, 2)).and_then(|()| f.sync_all()).err();
    let closed = close(f).err();
    let err = failed.or(closed).expect("writing 4 MiB into a 1 MB silo must fail at write, fsync or close");
    assert_eq!(err.raw_os_error(), Some(ENOSPC), "expected ENOSPC, got {err}");

    assert_eq!(fs::read(v.path("small")).unwrap(), small);
    fs::remove_file(v.path("huge")).unwrap();
    fs::write(v.path("another"), b"small files still fit").unwrap();
    assert_eq!(fs::read(v.path("another")).unwrap(), b"small files still fit");
    assert!(v.stderr().is_empty() || !v.stderr().contains("panicked"));
}
