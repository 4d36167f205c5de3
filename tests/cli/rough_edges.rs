//! Small things a new user trips on: each says what is wrong in the user's
//! terms instead of the parser's or the system's.

use crate::support::{Home, event};

#[test]
fn silo_create_without_a_type_names_the_types() {
    let home = Home::with_user("alice");
    for args in [
        &["silo", "create", "--name", "s1"][..],
        &["storage", "create", "--name", "s1", "--capacity", "1GB"],
        &["silo", "create", "s1"],
    ] {
        let out = home.run(args);
        out.assert_usage_error();
        out.stderr_has("filesystem|memory|s3|gcs").stderr_has("infinit silo create filesystem");
        assert!(!out.stderr.contains("unexpected argument"), "{}", out.describe());
    }
    // The type first works, and help still shows help.
    home.ok(&["silo", "create", "memory", "--name", "s1"]);
    home.ok(&["silo", "create", "--help"]);
}

#[test]
fn an_acting_user_that_does_not_exist_is_named_first() {
    let home = Home::with_user("alice");
    home.ok(&["network", "create", "home"]);
    let typo = home.fails(home.cmd(&["volume", "create", "files", "--network", "home"]).acting_as("alcie"));
    typo.stderr_has("no user \"alcie\"").stderr_has("INFINIT_USER").stderr_has("local users: alice");
    home.fail(&["--as", "alcie", "network", "export", "home"]).stderr_has("no user \"alcie\"").stderr_has("--as");
    home.fail(&["--as", "alcie", "network", "delete", "home"]).stderr_has("no user \"alcie\"");
    // A real user with a missing network gets the plain message.
    let plain = home.fail(&["network", "export", "nonet"]);
    assert!(!plain.stderr.contains("no user"), "{}", plain.describe());
}

#[test]
fn importing_the_wrong_kind_of_file_says_what_kind_it_is() {
    let home = Home::with_user("alice");
    home.ok(&["silo", "create", "memory", "--name", "ram"]);
    home.ok(&["network", "create", "home"]);
    home.ok(&["volume", "create", "files", "--network", "home"]);
    home.ok(&["user", "create", "bob"]);
    home.ok(&["passport", "create", "--network", "home", "--user", "bob"]);
    let user = home.ok(&["user", "export"]).stdout;
    let silo = home.ok(&["silo", "export", "ram"]).stdout;
    let network = home.ok(&["network", "export", "home"]).stdout;
    let volume = home.ok(&["volume", "export", "files"]).stdout;
    let passport = home.ok(&["passport", "export", "--network", "home", "--user", "bob"]).stdout;
    let cases = [
        ("user", &silo, "a silo descriptor"),
        ("silo", &user, "a user descriptor"),
        ("network", &volume, "a volume descriptor"),
        ("volume", &network, "a network descriptor"),
        ("passport", &user, "a user descriptor"),
        ("user", &passport, "a passport descriptor"),
    ];
    for (object, input, kind) in cases {
        let out = home.fails(home.cmd(&[object, "import"]).stdin(input));
        out.stderr_has(kind).stderr_has(&format!("not a {object} descriptor"));
    }
    home.fails(home.cmd(&["user", "import"]).stdin("garbage")).stderr_has("not JSON");
}

#[test]
fn a_negative_size_is_refused_in_words() {
    let home = Home::with_user("alice");
    for args in [
        &["silo", "create", "memory", "--name", "m", "--capacity", "-5GB"][..],
        &["cluster", "init", "--mountpoint", "mnt", "--capacity", "-5GB", "--no-mount"],
    ] {
        let out = home.fail(args);
        out.stderr_has("--capacity").stderr_has("must be positive");
        assert!(!out.stderr.contains("-- -5"), "{}", out.describe());
    }
    home.ok(&["network", "create", "net"]);
    home.fail(&["volume", "create", "v", "--network", "net", "--block-size", "-1MiB"]).stderr_has("must be positive");
}

#[test]
fn creating_the_same_passport_twice_says_it_is_unchanged() {
    let home = Home::with_user("alice");
    home.ok(&["user", "create", "bob"]);
    home.ok(&["network", "create", "home"]);
    home.ok(&["passport", "create", "--network", "home", "--user", "bob"]);
    let before = home.snapshot();
    let again = home.ok(&["passport", "create", "--network", "home", "--user", "bob"]);
    assert_eq!(again.stdout, "Passport \"alice/home: bob\" already exists with these rights: unchanged.\n");
    let script = home.ok(&["passport", "create", "--network", "home", "--user", "bob", "--script"]);
    assert_eq!(script.json(), event("unchanged", "passport", "alice/home: bob"));
    assert_eq!(before, home.snapshot());
    home.fail(&["passport", "create", "--network", "home", "--user", "bob", "--deny-write"])
        .stderr_has("already exists with other rights")
        .stderr_has("infinit passport delete");
}
