//! Bad input: exit 1, one `infinit: error: ` line, nothing written. Usage
//! mistakes: exit 2 and a pointer to `--help`. Plus where the home is.

use crate::support::{DATA_SUFFIX, Home, alter_b64, alter_file, mode, snapshot};

#[test]
fn invalid_names_are_refused_everywhere() {
    let long = "x".repeat(129);
    let home = Home::with_user("alice");
    for bad in ["Alice", ".alice", "al/ice", long.as_str(), "al ice", "é"] {
        home.fail(&["user", "create", "--name", bad]).stderr_has("invalid");
        home.fail(&["silo", "create", "memory", "--name", bad]);
        home.fail(&["network", "create", "--name", bad]);
        home.fail(&["user", "export", "--name", bad]);
    }
    home.fail(&["user", "create", "--name=-dash"]);
    home.fail(&["network", "create", "alice/Net"]);
    home.fail(&["network", "create", "alice/net/x"]);
    home.fail(&["volume", "create", ".vol", "-N", "net"]);
    home.fail(&["credentials", "add", "--gcs", "--name", "G"]);
    // 128 characters is the limit, not beyond.
    home.ok(&["user", "create", "--name", &"x".repeat(128)]);
}

#[test]
fn an_unknown_acting_user_cannot_sign_anything() {
    let home = Home::new("ghost");
    home.fail(&["network", "create", "net"]).stderr_has("user \"ghost\" does not exist");
}

#[test]
fn unknown_user_silo_network_volume() {
    let home = Home::with_user("alice");
    home.fail(&["user", "export", "nobody"]).stderr_has("nobody");
    home.fail(&["user", "hash", "nobody"]);
    home.fail(&["user", "delete", "nobody", "--yes"]);
    home.fail(&["silo", "export", "nosilo"]).stderr_has("nosilo");
    home.fail(&["silo", "delete", "nosilo"]);
    home.fail(&["network", "create", "net", "--silo", "nosilo"]);
    home.fail(&["network", "export", "nonet"]).stderr_has("alice/nonet");
    home.fail(&["network", "link", "bob/nonet"]);
    home.fail(&["network", "update", "nonet", "-r", "2"]);
    home.fail(&["volume", "create", "vol", "-N", "nonet"]);
    home.fail(&["volume", "export", "novol"]).stderr_has("alice/novol");
    home.fail(&["volume", "update", "novol", "--readonly"]);
    home.ok(&["network", "create", "net"]);
    home.fail(&["network", "link", "net", "--silo", "nosilo"]);
    home.fail(&["passport", "export", "-N", "net", "-u", "nobody"]);
}

#[test]
fn altered_user_file_is_refused() {
    for keys in [&["signature"][..], &["public_key", "ed25519"], &["public_key", "x25519"]] {
        let home = Home::with_user("alice");
        alter_file(&home.file("users/alice"), keys);
        home.fail(&["network", "create", "net"]).stderr_has("alice");
        home.fail(&["user", "export"]);
        home.fail(&["user", "list"]);
    }
}

#[test]
fn altered_network_file_is_refused() {
    for keys in [&["signature"][..], &["owner", "ed25519"]] {
        let home = Home::with_user("alice");
        home.ok(&["user", "create", "bob"]);
        home.ok(&["network", "create", "net"]);
        alter_file(&home.file("networks/alice/net"), keys);
        home.fail(&["volume", "create", "vol", "-N", "net"]).stderr_has("alice/net");
        home.fail(&["passport", "create", "-N", "net", "-u", "bob"]);
        home.fail(&["network", "export", "net"]);
        home.fail(&["network", "update", "net", "-r", "2"]);
    }
}

#[test]
fn altered_passport_file_is_refused_when_linking_exporting_or_listing() {
    for keys in [&["signature"][..], &["user", "ed25519"]] {
        let alice = Home::with_user("alice");
        let bob = Home::with_user("bob");
        alice.cmd(&["user", "import"]).stdin(bob.ok(&["user", "export"]).stdout).ok();
        alice.ok(&["network", "create", "net"]);
        alice.ok(&["passport", "create", "-N", "net", "-u", "bob"]);
        bob.meet(&alice);
        bob.cmd(&["network", "import"]).stdin(alice.ok(&["network", "export", "net"]).stdout).ok();
        bob.cmd(&["passport", "import"]).stdin(alice.ok(&["passport", "export", "-N", "net", "-u", "bob"]).stdout).ok();
        alter_file(&bob.file("passports/alice/net/bob"), keys);
        bob.fail(&["network", "link", "alice/net"]);
        alter_file(&alice.file("passports/alice/net/bob"), keys);
        alice.fail(&["passport", "export", "-N", "net", "-u", "bob"]).stderr_has("alice/net: bob");
        alice.fail(&["passport", "list"]).stderr_has("alice/net: bob");
    }
}

#[test]
fn altered_volume_file_is_refused() {
    for keys in [&["signature"][..], &["owner", "ed25519"]] {
        let home = Home::with_user("alice");
        home.ok(&["network", "create", "net"]);
        home.ok(&["volume", "create", "vol", "-N", "net"]);
        alter_file(&home.file("volumes/alice/vol"), keys);
        home.fail(&["volume", "export", "vol"]).stderr_has("alice/vol");
        home.fail(&["volume", "update", "vol", "--readonly"]);
        home.fail(&["volume", "list"]);
    }
}

#[test]
fn altered_exports_are_refused_on_import() {
    let alice = Home::with_user("alice");
    let bob = Home::with_user("bob");
    alice.cmd(&["user", "import"]).stdin(bob.ok(&["user", "export"]).stdout).ok();
    alice.ok(&["network", "create", "net"]);
    alice.ok(&["volume", "create", "vol", "-N", "net"]);
    alice.ok(&["passport", "create", "-N", "net", "-u", "bob"]);

    let user = alice.ok(&["user", "export"]).stdout;
    let network = alice.ok(&["network", "export", "net"]).stdout;
    let volume = alice.ok(&["volume", "export", "vol"]).stdout;
    let passport = alice.ok(&["passport", "export", "-N", "net", "-u", "bob"]).stdout;

    for keys in [&["signature"][..], &["public_key", "ed25519"]] {
        bob.fails(bob.cmd(&["user", "import"]).stdin(alter_b64(&user, keys)));
    }
    // Networks and volumes are accepted only from a known owner.
    bob.cmd(&["user", "import"]).stdin(&user).ok();
    for keys in [&["signature"][..], &["owner", "x25519"]] {
        bob.fails(bob.cmd(&["network", "import"]).stdin(alter_b64(&network, keys)));
        bob.fails(bob.cmd(&["volume", "import"]).stdin(alter_b64(&volume, keys)));
    }
    // A passport is checked against the network: import that first.
    bob.cmd(&["network", "import"]).stdin(&network).ok();
    for keys in [&["signature"][..], &["user", "ed25519"]] {
        bob.fails(bob.cmd(&["passport", "import"]).stdin(alter_b64(&passport, keys)));
    }
    // Widening one's own rights breaks the signature too.
    let widened = passport.replace("\"allow_create_passport\":false", "\"allow_create_passport\":true");
    assert_ne!(widened, passport);
    bob.fails(bob.cmd(&["passport", "import"]).stdin(widened));
    // The genuine ones still import.
    bob.cmd(&["passport", "import"]).stdin(&passport).ok();
    bob.cmd(&["volume", "import"]).stdin(&volume).ok();
}

#[test]
fn input_that_is_not_a_descriptor_is_refused() {
    let home = Home::with_user("alice");
    for object in ["user", "silo", "network", "passport", "volume"] {
        home.fails(home.cmd(&[object, "import"]).stdin("not json"));
        home.fails(home.cmd(&[object, "import"]).stdin("{}"));
    }
    home.fail(&["user", "import", "-i", "/nonexistent/file"]);
}

#[test]
fn import_over_different_content_fails_and_same_content_is_a_no_op() {
    let a = Home::with_user("alice");
    let b = Home::with_user("alice");
    let theirs = b.ok(&["user", "export"]).stdout;
    a.fails(a.cmd(&["user", "import"]).stdin(&theirs)).stderr_has("already exists");

    a.ok(&["network", "create", "net"]);
    b.ok(&["network", "create", "net"]);
    let net = b.ok(&["network", "export", "net"]).stdout;
    a.fails(a.cmd(&["network", "import"]).stdin(&net));

    a.ok(&["volume", "create", "vol", "-N", "net"]);
    b.ok(&["volume", "create", "vol", "-N", "net"]);
    let vol = b.ok(&["volume", "export", "vol"]).stdout;
    a.fails(a.cmd(&["volume", "import"]).stdin(&vol));

    let own = a.ok(&["network", "export", "net"]).stdout;
    let before = a.snapshot();
    let out = a.cmd(&["network", "import"]).stdin(&own).ok();
    assert_eq!(out.stdout, "Already imported network \"alice/net\".\n");
    assert_eq!(before, a.snapshot());
}

#[test]
fn wrong_passphrase_is_refused_without_writing() {
    let home = Home::new("alice");
    home.cmd(&["user", "create", "--passphrase-stdin"]).stdin("right\n").ok();
    home.fails(home.cmd(&["network", "create", "net"]).env("INFINIT_PASSPHRASE", "wrong"))
        .stderr_has("wrong passphrase");
    // No passphrase and no terminal: refused rather than hanging.
    home.fail(&["network", "create", "net"]).stderr_has("INFINIT_PASSPHRASE");
    home.fails(home.cmd(&["network", "create", "net", "--script"]).env("INFINIT_PASSPHRASE", "Right"));
}

#[test]
fn empty_passphrase_on_stdin_is_refused() {
    let home = Home::new("alice");
    home.fails(home.cmd(&["user", "create", "--passphrase-stdin"]).stdin("\n"));
}

#[test]
fn a_mode_that_would_prompt_fails_in_script_mode() {
    let home = Home::new("alice");
    home.fail(&["user", "create", "--passphrase", "--script"]).stderr_has("INFINIT_PASSPHRASE");
    home.fail(&["user", "create", "--passphrase"]);
}

#[test]
fn filesystem_silo_in_a_place_that_cannot_be_written() {
    let home = Home::new("alice");
    let file = home.path("plain-file");
    std::fs::write(&file, b"x").unwrap();
    let under = file.join("blocks");
    home.fail(&["silo", "create", "filesystem", "s", "--path", under.to_str().unwrap()]);
    home.fail(&["silo", "create", "filesystem", "s", "--path", file.to_str().unwrap()]).stderr_has("not a folder");
    // Root ignores permissions; a read-only folder only stops others.
    let locked = home.path("locked");
    std::fs::create_dir(&locked).unwrap();
    std::fs::set_permissions(&locked, std::os::unix::fs::PermissionsExt::from_mode(0o500)).unwrap();
    let writable = std::fs::write(locked.join("probe"), b"").is_ok();
    let _ = std::fs::remove_file(locked.join("probe"));
    if !writable {
        home.fail(&["silo", "create", "filesystem", "s", "--path", locked.to_str().unwrap()]);
    }
    std::fs::set_permissions(&locked, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
}

#[test]
fn bad_capacities_are_refused() {
    let home = Home::new("alice");
    for bad in ["10XB", "0", "GB", "-1GB", "1.2.3GB"] {
        home.fail(&["silo", "create", "memory", "ram", &format!("--capacity={bad}")]).stderr_has("capacity");
    }
    home.fail(&["silo", "create", "filesystem", "disk", "--capacity", "10XB"]);
}

#[test]
fn existing_silo_is_not_overwritten() {
    let home = Home::new("alice");
    home.ok(&["silo", "create", "memory", "ram"]);
    home.fail(&["silo", "create", "filesystem", "ram"]).stderr_has("already exists");
}

#[test]
fn usage_errors_exit_2_and_point_at_help() {
    let home = Home::with_user("alice");
    let before = home.snapshot();
    for args in [
        &["--bogus"][..],
        &["user", "create", "--bogus"],
        &["frobnicate"],
        &["user", "frobnicate"],
        &["silo", "create", "floppy", "--name", "f"],
        &["passport", "create", "--network", "net"],
        &["credentials", "add", "--aws", "--name", "x"],
        &["credentials", "add", "--name", "x"],
        &["user", "delete"],
        &["network", "create"],
        &["volume", "create", "-N", "net"],
        &["silo", "export"],
        &["network", "create", "net", "--overlay", "ring"],
        &["network", "create", "net", "-r", "0"],
        &["network", "create", "net", "--eviction-delay", "soon"],
        &["user", "export", "--output"],
    ] {
        home.run(args).assert_usage_error();
    }
    assert_eq!(before, home.snapshot());
}

#[test]
fn no_object_or_no_mode_is_a_usage_error() {
    let home = Home::new("alice");
    for args in [&[][..], &["user"], &["silo", "create"]] {
        let out = home.run(args);
        assert_eq!(out.code, 2, "{}", out.describe());
    }
}

#[test]
fn version_and_help_exit_0() {
    let home = Home::new("alice");
    let out = home.ok(&["--version"]);
    assert!(out.stdout.starts_with("infinit "), "{}", out.describe());
    assert!(out.stdout.contains(env!("CARGO_PKG_VERSION")));
    let out = home.ok(&["user", "create", "--help"]);
    assert!(out.stdout.contains("--passphrase"));
    assert!(snapshot(home.root()).is_empty());
}

#[test]
fn home_flag_is_honoured() {
    let runner = Home::new("alice");
    let other = tempfile::tempdir().unwrap();
    runner.cmd(&["--home", other.path().to_str().unwrap(), "user", "create"]).env_remove("INFINIT_HOME").ok();
    assert!(other.path().join(DATA_SUFFIX).join("users/alice").is_file());
    assert!(snapshot(runner.root()).is_empty());
    // The flag also wins over the environment.
    runner.cmd(&["user", "create", "bob", "--home", other.path().to_str().unwrap()]).ok();
    assert!(other.path().join(DATA_SUFFIX).join("users/bob").is_file());
    assert!(snapshot(runner.root()).is_empty());
}

#[test]
fn data_home_variable_is_honoured() {
    let home = Home::new("alice");
    let data = home.path("elsewhere");
    home.cmd(&["user", "create"]).env("INFINIT_DATA_HOME", &data).ok();
    home.cmd(&["silo", "create", "filesystem", "disk"]).env("INFINIT_DATA_HOME", &data).ok();
    assert!(data.join("users/alice").is_file());
    assert_eq!(mode(&data.join("users/alice")), 0o600);
    assert!(data.join("silos/disk").is_file());
    assert!(data.join("blocks/disk").is_dir());
    assert!(!home.data().exists());
    // Without the variable, the same home shows nothing.
    assert!(home.ok(&["user", "list"]).stdout.is_empty());
}

#[test]
fn xdg_data_home_is_used_only_without_infinit_home() {
    let home = Home::new("alice");
    let xdg = home.path("xdg");
    home.cmd(&["user", "create"]).env_remove("INFINIT_HOME").env("XDG_DATA_HOME", &xdg).ok();
    assert!(xdg.join("infinit/filesystem/users/alice").is_file());
    home.cmd(&["user", "create", "bob"]).env("XDG_DATA_HOME", &xdg).ok();
    assert!(home.file("users/bob").is_file());
}
