//! Every list mode with a damaged descriptor among good ones: the good
//! ones are listed, each bad file is named on stderr, and the exit is 1.

use crate::support::{Home, alter_file};

/// A home with two of everything, one of each kind then damaged.
fn home_with_two_of_everything() -> Home {
    let home = Home::with_user("alice");
    home.ok(&["user", "create", "bob"]);
    home.ok(&["user", "create", "carol"]);
    home.ok(&["silo", "create", "memory", "--name", "s1"]);
    home.ok(&["silo", "create", "memory", "--name", "s2"]);
    home.ok(&["network", "create", "n1"]);
    home.ok(&["network", "create", "n2"]);
    home.ok(&["volume", "create", "v1", "--network", "n1"]);
    home.ok(&["volume", "create", "v2", "--network", "n1"]);
    home.ok(&["passport", "create", "--network", "n1", "--user", "bob"]);
    home.ok(&["passport", "create", "--network", "n1", "--user", "carol"]);
    for name in ["c1", "c2"] {
        home.cmd(&["credentials", "add", "--aws", "--name", name, "--access-key-id", "AKIA1"]).stdin("secret\n").ok();
    }
    home
}

#[test]
fn one_damaged_descriptor_does_not_hide_the_others() {
    let home = home_with_two_of_everything();
    // (list mode, damaged file, how, what the good one's line shows)
    let cases: [(&[&str], &str, bool, &str); 6] = [
        (&["user", "list"], "users/bob", true, "carol"),
        (&["silo", "list"], "silos/s1", false, "s2"),
        (&["network", "list"], "networks/alice/n2", true, "alice/n1"),
        (&["volume", "list"], "volumes/alice/v1", true, "alice/v2"),
        (&["passport", "list"], "passports/alice/n1/carol", true, "bob"),
        (&["credentials", "list"], "credentials/aws/c2", false, "c1"),
    ];
    for (list, file, altered, good) in cases {
        let path = home.file(file);
        if altered {
            alter_file(&path, &["signature"]);
        } else {
            std::fs::write(&path, "{ not json").unwrap();
        }
        for script in [false, true] {
            let mut cmd = home.cmd(list);
            if script {
                cmd = cmd.arg("--script");
            }
            let out = cmd.run();
            assert_eq!(out.code, 1, "{}", out.describe());
            assert_eq!(out.stdout.lines().count(), 1 + usize::from(list[0] == "user"), "{}", out.describe());
            assert!(out.stdout.contains(good), "{}", out.describe());
            assert_eq!(out.stderr.lines().count(), 1, "{}", out.describe());
            out.stderr_has("infinit: error: ").stderr_has(&format!("\"{}\"", path.display()));
            if script {
                out.json_lines();
            }
        }
    }
}

#[test]
fn list_help_says_what_happens_to_damaged_files() {
    let home = Home::new("alice");
    for object in ["user", "silo", "network", "volume", "passport", "credentials"] {
        home.ok(&[object, "list", "--help"]).stdout.contains("damaged").then_some(()).expect(object);
    }
}
