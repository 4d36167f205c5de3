//! `--output` of every export: a bare file name in the current folder, a
//! folder (the export goes inside it as `<name>.<kind>`), a missing folder.

use crate::support::{Home, read_json};

/// Every export mode, with the file name it takes inside a folder.
fn exports() -> (Home, Vec<(Vec<&'static str>, &'static str)>) {
    let home = Home::with_user("alice");
    home.ok(&["user", "create", "bob"]);
    home.ok(&["silo", "create", "memory", "--name", "ram"]);
    home.ok(&["network", "create", "home", "--silo", "ram"]);
    home.ok(&["volume", "create", "files", "--network", "home"]);
    home.ok(&["passport", "create", "--network", "home", "--user", "bob"]);
    let modes = vec![
        (vec!["user", "export", "--name", "bob"], "bob.user"),
        (vec!["silo", "export", "--name", "ram"], "ram.silo"),
        (vec!["network", "export", "--name", "home"], "home.network"),
        (vec!["volume", "export", "--name", "files"], "files.volume"),
        (vec!["passport", "export", "--network", "home", "--user", "bob"], "bob.passport"),
    ];
    (home, modes)
}

#[test]
fn output_to_a_bare_file_name_writes_it_in_the_current_folder() {
    let (home, modes) = exports();
    for (args, file) in modes {
        // The harness runs commands in the home folder.
        let out = home.cmd(&args).arg("--output").arg(file).ok();
        assert!(out.stderr.is_empty(), "{}", out.describe());
        assert!(out.stdout.ends_with(&format!(" to \"{file}\".\n")), "{}", out.describe());
        assert!(read_json(&home.path(file)).is_object(), "{file}");
    }
}

#[test]
fn output_to_a_folder_writes_name_dot_kind_inside_it() {
    let (home, modes) = exports();
    let folder = home.path("exports");
    std::fs::create_dir(&folder).unwrap();
    for with_slash in [false, true] {
        for (args, file) in &modes {
            let mut target = folder.display().to_string();
            if with_slash {
                target.push('/');
            }
            let out = home.cmd(args).arg("--output").arg(&target).ok();
            let written = folder.join(file);
            assert!(out.stdout.contains(&format!("to \"{}\".", written.display())), "{}", out.describe());
            assert!(read_json(&written).is_object(), "{}", written.display());
            std::fs::remove_file(&written).unwrap();
        }
    }
}

#[test]
fn output_to_a_missing_folder_says_so() {
    let (home, modes) = exports();
    for (args, _) in modes {
        let missing = home.path("nowhere/");
        home.fails(home.cmd(&args).arg("--output").arg(&missing)).stderr_has("no such folder");
    }
}
