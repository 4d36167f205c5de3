//! `scripts/quickstart` and `scripts/test` with a `cargo` that exists but
//! cannot run (rustup's proxy without a toolchain): they say so up front
//! instead of failing in the middle of a build.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::Command;

fn stub(dir: &Path, name: &str, body: &str) {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn scripts_check_that_cargo_runs_not_only_that_it_exists() {
    let tmp = tempfile::tempdir().unwrap();
    let bin = tmp.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let log = tmp.path().join("cargo.log");
    stub(
        &bin,
        "cargo",
        &format!(
            "echo \"$@\" >> '{}'\necho 'error: rustup could not choose a version of cargo to run, because one wasn'\"'\"'t specified explicitly, and no default is configured.' >&2\nexit 1",
            log.display()
        ),
    );
    // Everything else the scripts look for is "installed", so they install nothing.
    for tool in ["cc", "pkg-config", "fusermount3", "moto_server"] {
        stub(&bin, tool, "exit 0");
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    for script in ["scripts/quickstart", "scripts/test"] {
        let _ = std::fs::remove_file(&log);
        let out = Command::new("bash")
            .arg(repo.join(script))
            .env_clear()
            .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
            .env("HOME", tmp.path())
            .env("MOUNTPOINT", tmp.path().join("mnt"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{script}: {stderr}");
        assert!(stderr.contains("cargo is missing or cannot run"), "{script}: {stderr}");
        let calls = std::fs::read_to_string(&log).unwrap_or_default();
        assert_eq!(calls.trim(), "--version", "{script} ran cargo beyond --version: {calls}");
    }
}
