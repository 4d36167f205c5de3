//! FUSE helpers shared by the test binaries (`tests/cli`, `tests/fs`),
//! included by path in each.

use std::path::Path;
use std::process::{Command, Stdio};

/// Whether FUSE mounts can be made here (as root with /dev/fuse); prints why
/// a test is skipped when not. Under CI (`CI` set, as `.ci/run` is run) a
/// missing FUSE fails the test instead: a skipped FUSE suite must not pass
/// for a green one.
pub fn fuse_available(test: &str) -> bool {
    // SAFETY: geteuid has no preconditions and touches no memory.
    let root = unsafe { libc::geteuid() } == 0;
    if Path::new("/dev/fuse").exists() && root {
        return true;
    }
    assert!(std::env::var_os("CI").is_none(), "{test}: FUSE (root and /dev/fuse) is missing and CI is set");
    eprintln!("skipping {test}: FUSE mounts need root and /dev/fuse");
    false
}

/// Whether `path` is a mount target in /proc/mounts.
pub fn is_mounted(path: &Path) -> bool {
    let table = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
    let wanted = path.to_string_lossy();
    // Test paths are temp dirs without spaces: no octal escapes to decode.
    table.lines().any(|line| line.split_whitespace().nth(1) == Some(&*wanted))
}

/// Unmount `path` lazily, whatever state its server is in.
pub fn force_unmount(path: &Path) {
    for (tool, args) in [("fusermount3", ["-u", "-z"]), ("umount", ["-l", "--"])] {
        if !is_mounted(path) {
            return;
        }
        let _ = Command::new(tool).args(args).arg(path).stdout(Stdio::null()).stderr(Stdio::null()).status();
    }
}
