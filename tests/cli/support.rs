//! Test harness: a throwaway infinit home per person, commands run with a
//! scrubbed environment and explicit stdin, and the assertions every test
//! needs (exit codes, one-line errors, JSON lines, "nothing was written").

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;
use tempfile::TempDir;

/// Where the infinit data lives under a home given as `INFINIT_HOME`.
pub const DATA_SUFFIX: &str = ".local/share/infinit/filesystem";

/// Path of one of the crate's binaries.
pub fn bin(name: &str) -> &'static Path {
    use assert_cmd::cargo::cargo_bin;
    match name {
        "infinit" => cargo_bin!("infinit"),
        "infinit-user" => cargo_bin!("infinit-user"),
        "infinit-storage" => cargo_bin!("infinit-storage"),
        "infinit-credentials" => cargo_bin!("infinit-credentials"),
        "infinit-network" => cargo_bin!("infinit-network"),
        "infinit-passport" => cargo_bin!("infinit-passport"),
        "infinit-volume" => cargo_bin!("infinit-volume"),
        other => panic!("no binary {other}"),
    }
}

/// How long one command may run before it is killed and the test fails.
const DEADLINE: std::time::Duration = std::time::Duration::from_secs(120);

/// One person's device: a temporary `INFINIT_HOME`, removed on drop.
pub struct Home {
    dir: TempDir,
    /// The default acting user (`INFINIT_USER`).
    pub user: String,
}

impl Home {
    /// A fresh, empty home acting as `user`.
    pub fn new(user: &str) -> Home {
        Home {
            dir: tempfile::Builder::new().prefix("infinit-cli-").tempdir().expect("temp dir"),
            user: user.to_string(),
        }
    }

    /// A fresh home where `user` already exists (no passphrase).
    pub fn with_user(user: &str) -> Home {
        let home = Home::new(user);
        home.ok(&["user", "create"]);
        home
    }

    /// The temporary directory (`INFINIT_HOME`).
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// The descriptor folder.
    pub fn data(&self) -> PathBuf {
        self.root().join(DATA_SUFFIX)
    }

    /// A descriptor file, e.g. `file("networks/alice/net")`.
    pub fn file(&self, rel: &str) -> PathBuf {
        self.data().join(rel)
    }

    /// Parse a descriptor file.
    pub fn json(&self, rel: &str) -> Value {
        read_json(&self.file(rel))
    }

    /// A path inside the temporary directory (for exports, silo folders...).
    pub fn path(&self, rel: &str) -> PathBuf {
        self.root().join(rel)
    }

    /// A command of binary `infinit` with `args`, not yet run.
    pub fn cmd(&self, args: &[&str]) -> Cmd {
        self.cmd_bin("infinit", args)
    }

    /// A command of binary `name` (e.g. a legacy front-end) with `args`.
    pub fn cmd_bin(&self, name: &str, args: &[&str]) -> Cmd {
        let mut command = Command::new(bin(name));
        command
            .args(args)
            .env_clear()
            .env("HOME", self.root())
            .env("INFINIT_HOME", self.root())
            .env("INFINIT_USER", &self.user)
            .current_dir(self.root());
        Cmd { command, stdin: Vec::new() }
    }

    /// Import `other`'s public user here (people exchange identities before
    /// networks, volumes or passports, which are only accepted from a known
    /// owner).
    pub fn meet(&self, other: &Home) {
        self.cmd(&["user", "import"]).stdin(other.ok(&["user", "export"]).stdout).ok();
    }

    /// Run `infinit args` with empty stdin.
    pub fn run(&self, args: &[&str]) -> Out {
        self.cmd(args).run()
    }

    /// Run `infinit args` and insist it succeeds.
    pub fn ok(&self, args: &[&str]) -> Out {
        self.cmd(args).ok()
    }

    /// Run `infinit args`, insist it fails with exit 1, one error line, and
    /// no change to any file under the home.
    pub fn fail(&self, args: &[&str]) -> Out {
        self.fails(self.cmd(args))
    }

    /// Run `cmd`, insist it fails like [`Home::fail`].
    pub fn fails(&self, cmd: Cmd) -> Out {
        let before = self.snapshot();
        let out = cmd.run();
        out.assert_runtime_error();
        assert_eq!(before, self.snapshot(), "a failing command changed files: {}", out.describe());
        out
    }

    /// Every file (with its content and mode) and folder under the home.
    pub fn snapshot(&self) -> BTreeMap<PathBuf, Entry> {
        snapshot(self.root())
    }
}

/// One thing in a snapshot.
#[derive(Debug, PartialEq, Eq)]
pub enum Entry {
    /// A folder.
    Dir,
    /// A file: its mode bits and content.
    File(u32, Vec<u8>),
}

/// Every file and folder under `root`, by relative path.
pub fn snapshot(root: &Path) -> BTreeMap<PathBuf, Entry> {
    fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<PathBuf, Entry>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries {
            let entry = entry.expect("dir entry");
            let path = entry.path();
            let rel = path.strip_prefix(root).expect("under root").to_path_buf();
            let meta = std::fs::symlink_metadata(&path).expect("metadata");
            if meta.is_dir() {
                out.insert(rel, Entry::Dir);
                walk(&path, root, out);
            } else {
                let content = std::fs::read(&path).unwrap_or_default();
                out.insert(rel, Entry::File(meta.permissions().mode() & 0o7777, content));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

/// A command to run, with its stdin.
pub struct Cmd {
    command: Command,
    stdin: Vec<u8>,
}

impl Cmd {
    /// Feed `input` on stdin.
    pub fn stdin(mut self, input: impl AsRef<[u8]>) -> Cmd {
        self.stdin = input.as_ref().to_vec();
        self
    }

    /// Set an environment variable.
    pub fn env(mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> Cmd {
        self.command.env(key, value);
        self
    }

    /// Append an argument.
    pub fn arg(mut self, arg: impl AsRef<std::ffi::OsStr>) -> Cmd {
        self.command.arg(arg);
        self
    }

    /// Remove an environment variable.
    pub fn env_remove(mut self, key: &str) -> Cmd {
        self.command.env_remove(key);
        self
    }

    /// Act as `user` (`INFINIT_USER`).
    pub fn acting_as(self, user: &str) -> Cmd {
        self.env("INFINIT_USER", user)
    }

    /// The command itself, to spawn it in the background (stdin not set).
    pub fn into_std(self) -> Command {
        self.command
    }

    /// Run to completion.
    pub fn run(mut self) -> Out {
        use std::io::Write as _;
        let mut child = self
            .command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn infinit");
        let mut stdin = child.stdin.take().expect("stdin");
        let input = std::mem::take(&mut self.stdin);
        // The child may exit without reading: a broken pipe is fine.
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
        // A command that never ends (a node serving forever) fails the test
        // instead of hanging it.
        let pid = child.id().to_string();
        let (done, finished) = std::sync::mpsc::channel::<()>();
        let watchdog = std::thread::spawn(move || {
            let expired = matches!(finished.recv_timeout(DEADLINE), Err(std::sync::mpsc::RecvTimeoutError::Timeout));
            if expired {
                let _ = Command::new("kill").args(["-KILL", &pid]).status();
            }
            expired
        });
        let output = child.wait_with_output().expect("wait infinit");
        let _ = done.send(());
        writer.join().expect("stdin writer");
        let args = format!("{:?}", self.command.get_args().collect::<Vec<_>>());
        assert!(!watchdog.join().expect("watchdog"), "infinit {args} did not finish within {DEADLINE:?}");
        Out {
            code: output.status.code().expect("exited normally"),
            stdout: String::from_utf8(output.stdout).expect("utf-8 stdout"),
            stderr: String::from_utf8(output.stderr).expect("utf-8 stderr"),
            args,
        }
    }

    /// Run and insist on exit 0.
    pub fn ok(self) -> Out {
        let out = self.run();
        assert_eq!(out.code, 0, "expected success: {}", out.describe());
        out
    }
}

/// What a command did.
#[derive(Debug)]
pub struct Out {
    /// Exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    args: String,
}

impl Out {
    /// For assertion messages.
    pub fn describe(&self) -> String {
        format!("args {}\nexit {}\n--- stdout\n{}--- stderr\n{}", self.args, self.code, self.stdout, self.stderr)
    }

    /// The stdout lines.
    pub fn lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }

    /// Each stdout line parsed as one compact JSON document.
    pub fn json_lines(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|l| {
                assert!(!l.contains("\n  "), "not compact: {l}");
                serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}\n{}", self.describe()))
            })
            .collect()
    }

    /// Stdout as exactly one JSON document on one line.
    pub fn json(&self) -> Value {
        let mut docs = self.json_lines();
        assert_eq!(docs.len(), 1, "expected one JSON line: {}", self.describe());
        docs.remove(0)
    }

    /// Exit 1, and stderr is one line `infinit: error: ...`.
    pub fn assert_runtime_error(&self) {
        assert_eq!(self.code, 1, "expected exit 1: {}", self.describe());
        assert!(
            self.stderr.starts_with("infinit: error: "),
            "stderr must start with `infinit: error: `: {}",
            self.describe()
        );
        assert_eq!(
            self.stderr.trim_end_matches('\n').lines().count(),
            1,
            "the error must be one line: {}",
            self.describe()
        );
        assert!(self.stderr.ends_with('\n'), "{}", self.describe());
    }

    /// Exit 2 with a hint pointing at `--help`.
    pub fn assert_usage_error(&self) {
        assert_eq!(self.code, 2, "expected exit 2: {}", self.describe());
        assert!(self.stderr.contains("--help"), "usage errors must mention --help: {}", self.describe());
        assert!(self.stdout.is_empty(), "{}", self.describe());
    }

    /// Stderr mentions `needle`.
    pub fn stderr_has(&self, needle: &str) -> &Self {
        assert!(self.stderr.contains(needle), "stderr lacks {needle:?}: {}", self.describe());
        self
    }
}

/// Parse a JSON file.
pub fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// The sorted keys of a JSON object.
pub fn keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> =
        value.as_object().unwrap_or_else(|| panic!("not an object: {value}")).keys().map(String::as_str).collect();
    keys.sort_unstable();
    keys
}

/// Assert a JSON object has exactly `expected` keys.
pub fn assert_keys(value: &Value, expected: &[&str]) {
    let mut expected = expected.to_vec();
    expected.sort_unstable();
    assert_eq!(keys(value), expected, "keys of {value}");
}

/// The report a mode prints with `--script`.
pub fn event(event: &str, kind: &str, name: &str) -> Value {
    serde_json::json!({"event": event, "kind": kind, "name": name})
}

/// Unix permission bits of `path`.
pub fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode() & 0o777
}

/// Assert `path` holds pretty-printed JSON with sorted keys and a final newline.
pub fn assert_pretty_sorted(path: &Path) {
    let text = std::fs::read_to_string(path).expect("descriptor");
    // serde_json's map is sorted: re-rendering the parsed value gives the canonical form.
    let value: Value = serde_json::from_str(&text).expect("JSON");
    let canonical = format!("{}\n", serde_json::to_string_pretty(&value).expect("render"));
    assert_eq!(text, canonical, "{} is not pretty sorted JSON", path.display());
    assert!(text.contains("\n  \""), "{} is not indented", path.display());
}

/// Change one base64 character of the string value reached by following
/// `keys` in order through `text` (JSON, pretty or compact): one byte of
/// the file changes, and the decoded value stays valid base64.
pub fn alter_b64(text: &str, keys: &[&str]) -> String {
    let mut at = 0;
    for key in keys {
        let needle = format!("\"{key}\":");
        at += text[at..].find(&needle).unwrap_or_else(|| panic!("no key {key} in {text}")) + needle.len();
    }
    let quote = at + text[at..].find('"').expect("string value");
    let pos = quote + 1;
    let old = text.as_bytes()[pos];
    let new = if old == b'A' { 'B' } else { 'A' };
    let mut out = text.to_string();
    out.replace_range(pos..pos + 1, &new.to_string());
    out
}

/// Apply [`alter_b64`] to a file in place.
pub fn alter_file(path: &Path, keys: &[&str]) {
    let text = std::fs::read_to_string(path).expect("file to alter");
    let altered = alter_b64(&text, keys);
    assert_ne!(text, altered);
    std::fs::write(path, altered).expect("write altered file");
}
