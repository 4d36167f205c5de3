//! What `--help`, the man pages and the completions tell a new user: which
//! object a name names, the positional NAME, global options apart from the
//! mode's own, no contradiction, and the sections a man page should have.

use std::path::Path;

use crate::support::Home;

/// Every mode's words (`["network", "create"]`, `["silo", "create", "s3"]`), leaves only.
fn modes() -> Vec<Vec<String>> {
    fn walk(cmd: &clap::Command, path: Vec<String>, out: &mut Vec<Vec<String>>) {
        let subs: Vec<&clap::Command> = cmd.get_subcommands().filter(|s| s.get_name() != "help").collect();
        if subs.is_empty() {
            out.push(path);
            return;
        }
        for sub in subs {
            let mut next = path.clone();
            next.push(sub.get_name().to_string());
            walk(sub, next, out);
        }
    }
    let mut out = Vec::new();
    walk(&infinit::cli::command(), Vec::new(), &mut out);
    assert!(out.len() > 40, "{out:?}");
    out
}

/// The lines of `help` under `heading` (up to the next blank-line-separated heading).
fn section<'a>(help: &'a str, heading: &str) -> Vec<&'a str> {
    let mut lines = help.lines().skip_while(|l| *l != heading).skip(1);
    let mut out = Vec::new();
    for line in lines.by_ref() {
        if !line.starts_with(' ') && !line.is_empty() {
            break;
        }
        out.push(line);
    }
    out
}

#[test]
fn every_name_says_which_object_it_names_and_the_positional_name_is_shown() {
    let home = Home::new("alice");
    for mode in modes() {
        let args: Vec<&str> = mode.iter().map(String::as_str).chain(["--help"]).collect();
        let help = home.ok(&args).stdout;
        assert!(!help.contains("Name of the object"), "{mode:?}:\n{help}");
        if help.contains("--name <NAME>") && mode[0] != "cluster" && mode[0] != "credentials" {
            let object = &mode[0];
            assert!(help.contains(&format!("Name of the {object}")), "{mode:?}:\n{help}");
            assert!(help.lines().next().is_some(), "{mode:?}");
            assert!(help.contains("[NAME]"), "{mode:?} hides the positional name:\n{help}");
        }
    }
}

#[test]
fn global_options_have_their_own_heading() {
    let home = Home::new("alice");
    for mode in modes() {
        let args: Vec<&str> = mode.iter().map(String::as_str).chain(["--help"]).collect();
        let help = home.ok(&args).stdout;
        let global = section(&help, "Global options:").join("\n");
        for option in ["--as <USER>", "--script", "--home <DIR>"] {
            assert!(global.contains(option), "{mode:?}: {option} not under Global options:\n{help}");
        }
        let own = section(&help, "Options:").join("\n");
        assert!(!own.contains("--as <USER>") && !own.contains("--home <DIR>"), "{mode:?}:\n{help}");
    }
}

#[test]
fn volume_mount_help_agrees_with_itself_on_the_mountpoint() {
    let home = Home::new("alice");
    let help = home.ok(&["volume", "mount", "--help"]).stdout;
    assert!(!help.contains("a mountpoint is required"), "{help}");
    assert!(help.contains("stored mountpoint"), "{help}");
}

#[test]
fn man_pages_have_environment_exit_status_files_and_examples() {
    let man = Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
    let mut pages = 0;
    for entry in std::fs::read_dir(&man).unwrap() {
        let path = entry.unwrap().path();
        let page = std::fs::read_to_string(&path).unwrap();
        for heading in [".SH \"EXIT STATUS\"", ".SH \"ENVIRONMENT\"", ".SH \"FILES\"", ".SH \"EXAMPLES\""] {
            assert!(page.contains(heading), "{} lacks {heading}", path.display());
        }
        assert!(page.contains("INFINIT_HOME") && page.contains("130"), "{}", path.display());
        pages += 1;
    }
    assert!(pages > 40);
}

#[test]
fn completions_know_the_storage_alias_and_the_legacy_commands() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("completions");
    for file in ["infinit.bash", "_infinit", "infinit.fish"] {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        assert!(text.contains("storage"), "{file} misses the storage alias");
    }
    for bin in [
        "infinit-user",
        "infinit-storage",
        "infinit-credentials",
        "infinit-network",
        "infinit-passport",
        "infinit-volume",
    ] {
        for file in [format!("{bin}.bash"), format!("_{bin}"), format!("{bin}.fish")] {
            let text = std::fs::read_to_string(dir.join(&file)).unwrap_or_else(|e| panic!("{file}: {e}"));
            let flags = if file.ends_with(".fish") { ["-l list", "-l delete"] } else { ["--list", "--delete"] };
            assert!(flags.iter().all(|f| text.contains(f)), "{file} lacks the legacy mode flags");
        }
    }
    let storage = std::fs::read_to_string(dir.join("infinit-storage.bash")).unwrap();
    assert!(storage.contains("--filesystem") && storage.contains("--capacity"), "{storage}");
    let network = std::fs::read_to_string(dir.join("infinit-network.bash")).unwrap();
    assert!(network.contains("--storage"), "legacy --storage of infinit-network");
}
