//! The README's shell blocks, run exactly as written: the first network,
//! sharing between two people (each `alice$` / `bob$` line in that person's
//! own home), and running a volume (where FUSE works). The blocks are found
//! by their `<!-- readme-test: NAME -->` markers; a missing marker fails.
//! A comment that is a command's output (`# Locally saved ...`,
//! `# alice/home: linked`) must be printed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

use crate::serving::{Serving, fuse_available, is_mounted};

/// The lines of the ```sh block after marker `name` in the README.
fn block(name: &str) -> Vec<String> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).expect("README");
    let marker = format!("<!-- readme-test: {name} ");
    let start = readme.find(&marker).unwrap_or_else(|| panic!("README has no {marker}--> marker"));
    let rest = &readme[start..];
    let fence = rest.find("```sh\n").expect("a ```sh block after the marker") + "```sh\n".len();
    let body = &rest[fence..];
    let end = body.find("```").expect("the block ends");
    body[..end].lines().map(str::to_string).filter(|l| !l.trim().is_empty()).collect()
}

/// The outputs a line's comment promises.
fn promised(line: &str) -> Option<String> {
    let (_, comment) = line.split_once(" # ")?;
    let comment = comment.trim();
    let listing = comment
        .split_once(": ")
        .is_some_and(|(name, state)| !name.contains(' ') && (state == "linked" || state == "not linked"));
    (comment.starts_with("Locally ") || listing).then(|| comment.to_string())
}

/// The people of the README, each with a home, and the folder they swap files in.
struct People {
    homes: BTreeMap<String, TempDir>,
    exchange: TempDir,
}

impl People {
    fn new() -> People {
        People { homes: BTreeMap::new(), exchange: tempfile::tempdir().expect("exchange dir") }
    }

    fn home(&mut self, person: &str) -> PathBuf {
        let dir = self.homes.entry(person.to_string()).or_insert_with(|| tempfile::tempdir().expect("home"));
        dir.path().to_path_buf()
    }

    /// `bash -e -c script` as `person`: their login name, their `$HOME`,
    /// the built `infinit` on `PATH`, nothing else from the test's environment.
    fn shell(&mut self, person: &str, script: &str) -> Command {
        let bin = crate::support::bin("infinit").parent().expect("target dir").to_path_buf();
        let home = self.home(person);
        let mut command = Command::new("bash");
        command
            .args(["-e", "-c", script])
            .env_clear()
            .env("HOME", &home)
            .env("USER", person)
            .env("LOGNAME", person)
            .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
            .current_dir(self.exchange.path());
        command
    }

    /// Run `script` as `person` and insist it succeeds and prints what its comments promise.
    fn run(&mut self, person: &str, script: &str) -> String {
        let out = self.shell(person, script).output().expect("spawn bash");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "README, as {person}, failed ({}):\n{script}\n--- stdout\n{stdout}--- stderr\n{stderr}",
            out.status
        );
        for line in script.lines() {
            if let Some(output) = promised(line) {
                assert!(stdout.contains(&output), "README promises {output:?} for `{line}`; got:\n{stdout}");
            }
        }
        stdout
    }

    /// The first network, as alice.
    fn first_network(&mut self) {
        let script = block("first-network").join("\n");
        self.run("alice", &script);
    }
}

#[test]
fn readme_first_network_works_as_written() {
    let mut people = People::new();
    people.first_network();
    let data = people.home("alice").join(".local/share/infinit/filesystem");
    for file in ["users/alice", "silos/local", "networks/alice/home", "volumes/alice/files"] {
        assert!(data.join(file).is_file(), "{file} missing after the README's first network");
    }
}

#[test]
fn readme_sharing_works_as_written_between_two_homes() {
    let mut people = People::new();
    people.first_network();
    let lines = block("sharing");
    assert!(lines.iter().any(|l| l.starts_with("bob$")) && lines.iter().any(|l| l.starts_with("alice$")));
    for line in &lines {
        let (person, command) =
            line.split_once('$').unwrap_or_else(|| panic!("a sharing line without `person$`: {line}"));
        people.run(person.trim(), command.trim());
    }
    let bob = people.home("bob").join(".local/share/infinit/filesystem");
    assert!(bob.join("linked_networks/bob/alice/home").is_file(), "bob is not linked to alice/home");
    assert!(bob.join("silos/bobs-silo").is_file());
    let alice = people.home("alice").join(".local/share/infinit/filesystem");
    assert!(alice.join("passports/alice/home/bob").is_file());
}

#[test]
fn readme_running_a_volume_works_as_written() {
    if !fuse_available("readme_running_a_volume_works_as_written") {
        return;
    }
    let mut people = People::new();
    people.first_network();
    let lines = block("running-a-volume");
    assert_eq!(lines.len(), 1, "one command that serves until Ctrl-C: {lines:?}");
    let mount = people.home("alice").join("files");
    let mut command = people.shell("alice", &lines[0]);
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let stderr = people.home("alice").join("volume-run.stderr");
    let mut serving = Serving::start_command(command, stderr, "Running volume", Some(&mount));
    std::fs::write(mount.join("hello.txt"), b"hello\n").expect("write on the volume");
    assert_eq!(std::fs::read(mount.join("hello.txt")).expect("read back"), b"hello\n");
    // Ctrl-C, as the README says.
    assert_eq!(serving.stop_group_with(libc::SIGINT), Some(0), "{}", serving.stderr());
    assert!(!is_mounted(&mount));
}
