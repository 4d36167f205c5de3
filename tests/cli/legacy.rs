//! The legacy front-ends (`infinit-user --create ...`) behave exactly like
//! the modern `infinit <object> <mode> ...` they stand for.

use std::path::PathBuf;

use crate::support::{Entry, Home, Out, snapshot};

/// Descriptor paths under the data home, and the content of the public ones
/// (secret ones hold fresh random keys).
fn tree(home: &Home) -> Vec<(PathBuf, Option<serde_json::Value>)> {
    snapshot(&home.data())
        .into_iter()
        .map(|(path, entry)| match entry {
            Entry::Dir => (path, None),
            Entry::File(_, bytes) => {
                let deterministic = path.starts_with("silos") || path.starts_with("credentials");
                let value = deterministic.then(|| {
                    let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
                    // Folders differ between the two homes only by the home itself.
                    if let Some(p) = v.get_mut("path") {
                        let text = p.as_str().unwrap().to_string();
                        let root = home.root().canonicalize().unwrap();
                        *p = text.replace(root.to_str().unwrap(), "HOME").into();
                    }
                    // Silo ids are random: only their presence must match.
                    if let Some(id) = v.get_mut("id") {
                        *id = "ID".into();
                    }
                    v
                });
                (path, value)
            }
        })
        .collect()
}

/// Run `setup` on two homes, then the legacy command on one and the modern
/// one on the other; both must succeed alike and leave the same files.
fn same(setup: impl Fn(&Home), legacy: (&str, &[&str]), modern: &[&str], stdin: &str) -> (Out, Out) {
    let old = Home::new("alice");
    let new = Home::new("alice");
    setup(&old);
    setup(&new);
    let old_out = old.cmd_bin(legacy.0, legacy.1).stdin(stdin).ok();
    let new_out = new.cmd(modern).stdin(stdin).ok();
    assert_eq!(old_out.stdout, new_out.stdout);
    assert_eq!(old_out.stderr, new_out.stderr);
    assert_eq!(tree(&old), tree(&new));
    assert!(!tree(&new).is_empty());
    (old_out, new_out)
}

fn with_alice(home: &Home) {
    home.ok(&["user", "create"]);
}

#[test]
fn infinit_user_create() {
    let (out, _) =
        same(|_| {}, ("infinit-user", &["--create", "--name", "alice"]), &["user", "create", "--name", "alice"], "");
    assert_eq!(out.stdout, "Locally saved user \"alice\".\n");
}

#[test]
fn infinit_storage_create_filesystem() {
    same(
        |_| {},
        ("infinit-storage", &["--create", "--name", "disk", "--filesystem", "--path", "blocks", "--capacity", "1GB"]),
        &["silo", "create", "filesystem", "--name", "disk", "--path", "blocks", "--capacity", "1GB"],
        "",
    );
}

#[test]
fn infinit_network_create_with_storage() {
    let (out, _) = same(
        |h| {
            with_alice(h);
            h.ok(&["silo", "create", "memory", "ram"]);
        },
        ("infinit-network", &["--create", "--name", "net", "--storage", "ram"]),
        &["network", "create", "--name", "net", "--silo", "ram"],
        "",
    );
    assert!(out.stdout.starts_with("Locally saved network \"alice/net\"."));
}

#[test]
fn infinit_passport_create() {
    same(
        |h| {
            with_alice(h);
            h.ok(&["user", "create", "bob"]);
            h.ok(&["network", "create", "net"]);
        },
        ("infinit-passport", &["--create", "--network", "net", "--user", "bob"]),
        &["passport", "create", "--network", "net", "--user", "bob"],
        "",
    );
}

#[test]
fn infinit_volume_create() {
    same(
        |h| {
            with_alice(h);
            h.ok(&["network", "create", "net"]);
        },
        ("infinit-volume", &["--create", "--name", "vol", "--network", "net"]),
        &["volume", "create", "--name", "vol", "--network", "net"],
        "",
    );
}

#[test]
fn infinit_credentials_add_aws() {
    let (out, _) = same(
        |_| {},
        ("infinit-credentials", &["--add", "--aws", "--name", "work", "--access-key-id", "AKID"]),
        &["credentials", "add", "--aws", "--name", "work", "--access-key-id", "AKID"],
        "secret\n",
    );
    assert_eq!(out.stdout, "Locally saved aws credentials \"work\".\n");
}

#[test]
fn legacy_front_ends_report_errors_the_same_way() {
    let home = Home::new("alice");
    home.fails(home.cmd_bin("infinit-user", &["--create", "--name", "Alice"]));
    let out = home.cmd_bin("infinit-user", &["--frobnicate"]).run();
    out.assert_usage_error();
    let out = home.cmd_bin("infinit-network", &["--help"]).run();
    assert_eq!(out.code, 0, "{}", out.describe());
    assert!(out.stdout.contains("create"));
}
