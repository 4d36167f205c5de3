//! What the silo holds is ciphertext: no plaintext name or content leaks to
//! disk, and altered blocks are detected (EIO), never returned as data.

use std::fs;
use std::path::{Path, PathBuf};

use crate::support::{Volume, noise, set_xattr};

const EIO: i32 = 5;

fn files_under(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(dir) = todo.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn no_plaintext_name_or_content_reaches_the_silo() {
    let Some(mut v) = Volume::start("no_plaintext_name_or_content_reaches_the_silo") else {
        return;
    };
    let content_marker = b"CONTENT-MARKER-5b0e7d1c";
    let name_marker = "NAME-MARKER-a41f";
    let mut small = b"before ".to_vec();
    small.extend_from_slice(content_marker);
    fs::write(v.path(name_marker), &small).unwrap();
    // A chunked file too, the marker repeated at every 4 KiB.
    let mut big = noise(3 << 20, 5);
    for at in (0..big.len() - 64).step_by(4096) {
        big[at..at + content_marker.len()].copy_from_slice(content_marker);
    }
    fs::create_dir(v.path(&format!("dir-{name_marker}"))).unwrap();
    fs::write(v.path(&format!("dir-{name_marker}/big")), &big).unwrap();
    std::os::unix::fs::symlink(name_marker, v.path("link")).unwrap();
    v.stop();

    let files = files_under(&v.home.silo());
    assert!(files.len() >= 5, "expected blocks in the silo, found {files:?}");
    for file in files {
        let bytes = fs::read(&file).unwrap();
        assert!(!contains(&bytes, content_marker), "{} holds plaintext content", file.display());
        assert!(!contains(&bytes, name_marker.as_bytes()), "{} holds a plaintext file name", file.display());
    }
}

#[test]
fn a_flipped_byte_in_a_block_reads_as_eio() {
    let Some(mut v) = Volume::start("a_flipped_byte_in_a_block_reads_as_eio") else {
        return;
    };
    let data = noise(1 << 20, 6);
    fs::write(v.path("victim"), &data).unwrap();
    fs::write(v.path("bystander"), b"untouched").unwrap();
    v.stop();

    let largest = files_under(&v.home.silo())
        .into_iter()
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .max_by_key(|p| fs::metadata(p).unwrap().len())
        .expect("a block file");
    let mut bytes = fs::read(&largest).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    fs::write(&largest, &bytes).unwrap();

    v.restart();
    match fs::read(v.path("victim")) {
        Ok(back) => {
            panic!("read of a tampered file succeeded ({} bytes, equal to the original: {})", back.len(), back == data)
        }
        Err(e) => assert_eq!(e.raw_os_error(), Some(EIO), "expected EIO, got {e}"),
    }
    assert_eq!(fs::read(v.path("bystander")).unwrap(), b"untouched");
}

const EROFS: i32 = 30;

/// `infinit args` in `v`'s home as `user`, which must succeed.
fn ok_as(v: &Volume, user: &str, args: &[&str]) {
    let out = v.home.cmd(args).env("INFINIT_USER", user).output().expect("spawn infinit");
    assert!(out.status.success(), "infinit {args:?} as {user} failed: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_read_only_passport_mounts_read_only() {
    let Some(mut v) = Volume::start("a_read_only_passport_mounts_read_only") else {
        return;
    };
    fs::write(v.path("by-alice"), b"hello").unwrap();
    v.stop();
    // Bob, a second user of this device, holds a read-only passport of
    // alice/net and contributes the same silo (alice's node is stopped).
    ok_as(&v, "bob", &["user", "create"]);
    ok_as(&v, "alice", &["passport", "create", "-N", "net", "-u", "bob", "--deny-write"]);
    ok_as(&v, "bob", &["network", "link", "alice/net", "--silo", "s"]);
    let mount = v.mount.to_str().unwrap().to_string();
    let refused = v.home.run_bounded(&[
        "volume",
        "run",
        "alice/vol",
        "--mountpoint",
        &mount,
        "--readonly",
        "false",
        "--as",
        "bob",
    ]);
    refused.assert_one_line_error();
    assert!(refused.stderr.contains("read-only"), "{refused:?}");

    v.restart_as("bob", "alice/vol");
    let table = fs::read_to_string("/proc/mounts").unwrap();
    let line = table.lines().find(|l| l.split_whitespace().nth(1) == Some(mount.as_str())).expect("mounted");
    let options = line.split_whitespace().nth(3).unwrap_or_default();
    assert!(options.split(',').any(|o| o == "ro"), "mounted with {options}");
    // Bob cannot read alice's root (it is not shared with him), so only
    // changes to the root itself reach the write check without a lookup.
    use std::os::unix::fs::PermissionsExt as _;
    let attempts = [
        fs::set_permissions(&v.mount, fs::Permissions::from_mode(0o777)),
        set_xattr(&v.mount, "user.note", b"bob was here", 0),
    ];
    for attempt in attempts {
        let error = attempt.expect_err("a change through a read-only passport succeeded");
        assert_eq!(error.raw_os_error(), Some(EROFS), "{error}");
    }
    v.stop();
}
