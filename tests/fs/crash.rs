//! Crash points with real processes: a thread runs a create / write /
//! rename / link / unlink / mkdir workload through the mount while the
//! node is killed with SIGKILL at a random moment; then `volume check`
//! must find nothing dangling or unreadable (orphans, leaks and a link
//! count too high are what a crash may leave), every file fsynced and not
//! touched since must read back byte for byte, and every entry listed must
//! stat and read without error. `--repair` must then leave the volume
//! clean. The seed is printed; `INFINIT_CRASH_SEED=N` replays a run (as
//! far as timing allows) and `INFINIT_CRASH_ROUNDS=N` runs more rounds.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write as _;
use std::os::unix::fs::MetadataExt as _;
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::check::{check, documents};
use crate::support::{PATIENCE, Setup, Volume, force_unmount, noise, signal, wait_bounded};

/// splitmix64: a seeded generator, enough to pick operations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        if items.is_empty() { None } else { Some(&items[self.below(items.len())]) }
    }
}

/// The run's seed: `INFINIT_CRASH_SEED` or the clock.
fn seed() -> u64 {
    std::env::var("INFINIT_CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64)
    })
}

/// A file whose fsync returned Ok and that nothing changed since: its
/// inode (hard links share it: touching one name forgets them all) and
/// its content, `noise(len, seed)`.
#[derive(Debug, Clone, Copy)]
struct Kept {
    ino: u64,
    len: usize,
    seed: u64,
}

/// The fsynced files by path.
type Ledger = BTreeMap<String, Kept>;

/// A file the workload knows: path, inode, size.
#[derive(Debug, Clone)]
struct Known {
    path: String,
    ino: u64,
    len: u64,
}

/// What the workload knows exists (relative paths; "" is the root).
#[derive(Debug, Default, Clone)]
struct Tree {
    dirs: Vec<String>,
    files: Vec<Known>,
}

impl Tree {
    fn bytes(&self) -> u64 {
        self.files.iter().map(|f| f.len).sum()
    }
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() { name.to_string() } else { format!("{dir}/{name}") }
}

/// Sizes below one chunk: empty, tiny, inline, a few blocks of a page.
const SMALL: [usize; 6] = [0, 1, 777, 4096, 65_536, 300_000];
/// Around the 1 MiB chunk: exactly one, just over, three chunks. The
/// debug build writes about 1 MiB/s, so these are rarer.
const LARGE: [usize; 3] = [1 << 20, (1 << 20) + 1, (2 << 20) + 12_345];
/// Bytes above which no large file is created: every round reads back
/// the whole tree.
const LARGE_BUDGET: u64 = 8 << 20;

/// The workload: runs real syscalls until one fails after `killed` was
/// raised. An error while the node is alive is returned as a failure.
struct Workload {
    mount: std::path::PathBuf,
    rng: Rng,
    tree: Tree,
    ledger: Arc<Mutex<Ledger>>,
    killed: Arc<AtomicBool>,
    next_name: u64,
    ops: u64,
    fsynced: u64,
}

/// How one operation ended.
enum Step {
    Done,
    /// A syscall failed: the node was killed, or a bug.
    Failed(String, std::io::Error),
}

impl Workload {
    fn abs(&self, rel: &str) -> std::path::PathBuf {
        self.mount.join(rel)
    }

    fn fresh(&mut self, prefix: &str) -> String {
        self.next_name += 1;
        format!("{prefix}{}-{}", self.next_name, self.rng.next() % 1000)
    }

    /// Forget every ledger entry sharing `ino` (called before touching it).
    fn forget_ino(&self, ino: u64) {
        self.ledger.lock().unwrap_or_else(|e| e.into_inner()).retain(|_, kept| kept.ino != ino);
    }

    fn run(mut self) -> Result<(u64, u64), String> {
        loop {
            match self.step() {
                Step::Done => self.ops += 1,
                Step::Failed(what, e) => {
                    return if self.killed.load(Ordering::SeqCst) {
                        Ok((self.ops, self.fsynced))
                    } else {
                        Err(format!("{what} failed while the node was alive: {e}"))
                    };
                }
            }
            if self.ops > 100_000 {
                return Err("the node was never killed".into());
            }
        }
    }

    fn step(&mut self) -> Step {
        macro_rules! io {
            ($what:expr, $e:expr) => {
                match $e {
                    Ok(v) => v,
                    Err(e) => return Step::Failed($what, e),
                }
            };
        }
        let roll = self.rng.below(100);
        if roll < 40 || self.tree.files.is_empty() {
            // Create (or rewrite in place) with assorted sizes, fsync some.
            let rewrite = roll < 8 && !self.tree.files.is_empty();
            let large = self.rng.below(100) < 15 && self.tree.bytes() < LARGE_BUDGET;
            let len = if large { LARGE[self.rng.below(LARGE.len())] } else { SMALL[self.rng.below(SMALL.len())] };
            let i = if rewrite {
                let i = self.rng.below(self.tree.files.len());
                self.forget_ino(self.tree.files[i].ino);
                i
            } else {
                let dir = self.rng.pick(&self.tree.dirs).cloned().unwrap_or_default();
                let path = join(&dir, &self.fresh("f"));
                self.tree.files.push(Known { path, ino: 0, len: 0 });
                self.tree.files.len() - 1
            };
            let rel = self.tree.files[i].path.clone();
            let seed = self.rng.next();
            let data = noise(len, seed);
            let mut f = io!(format!("create {rel}"), fs::File::create(self.abs(&rel)));
            let ino = io!(format!("fstat {rel}"), f.metadata()).ino();
            self.tree.files[i].ino = ino;
            self.tree.files[i].len = len as u64;
            for piece in data.chunks(256 * 1024) {
                io!(format!("write {rel}"), f.write_all(piece));
            }
            if self.rng.below(100) < 40 {
                io!(format!("fsync {rel}"), f.sync_all());
                self.ledger.lock().unwrap_or_else(|e| e.into_inner()).insert(rel.clone(), Kept { ino, len, seed });
                self.fsynced += 1;
            }
            io!(format!("close {rel}"), crate::support::close(f));
        } else if roll < 60 {
            // Rename a file, usually into another directory.
            let i = self.rng.below(self.tree.files.len());
            let Known { path: rel, ino, .. } = self.tree.files[i].clone();
            let dir = self.rng.pick(&self.tree.dirs).cloned().unwrap_or_default();
            let to = join(&dir, &self.fresh("r"));
            self.forget_ino(ino);
            io!(format!("rename {rel} {to}"), fs::rename(self.abs(&rel), self.abs(&to)));
            self.tree.files[i].path = to;
        } else if roll < 72 {
            let i = self.rng.below(self.tree.files.len());
            let Known { path: rel, ino, .. } = self.tree.files[i].clone();
            self.forget_ino(ino);
            io!(format!("unlink {rel}"), fs::remove_file(self.abs(&rel)));
            self.tree.files.swap_remove(i);
        } else if roll < 80 {
            let Known { path: rel, ino, len } = self.tree.files[self.rng.below(self.tree.files.len())].clone();
            let dir = self.rng.pick(&self.tree.dirs).cloned().unwrap_or_default();
            let to = join(&dir, &self.fresh("l"));
            self.forget_ino(ino);
            io!(format!("link {rel} {to}"), fs::hard_link(self.abs(&rel), self.abs(&to)));
            // Counted once per name: the walk reads each name.
            self.tree.files.push(Known { path: to, ino, len });
        } else if roll < 92 || self.tree.dirs.is_empty() {
            let parent = if self.tree.dirs.is_empty() || self.rng.below(3) == 0 {
                String::new()
            } else {
                self.rng.pick(&self.tree.dirs).cloned().unwrap_or_default()
            };
            let rel = join(&parent, &self.fresh("d"));
            io!(format!("mkdir {rel}"), fs::create_dir(self.abs(&rel)));
            self.tree.dirs.push(rel);
        } else {
            // Move a directory (and its subtree) under another one.
            let i = self.rng.below(self.tree.dirs.len());
            let from = self.tree.dirs[i].clone();
            let parent = self.rng.pick(&self.tree.dirs).cloned().unwrap_or_default();
            if parent == from || parent.starts_with(&format!("{from}/")) {
                return Step::Done;
            }
            let to = join(&parent, &self.fresh("m"));
            let under = format!("{from}/");
            let moved: Vec<u64> =
                self.tree.files.iter().filter(|f| f.path.starts_with(&under)).map(|f| f.ino).collect();
            for ino in moved {
                self.forget_ino(ino);
            }
            io!(format!("rename {from} {to}"), fs::rename(self.abs(&from), self.abs(&to)));
            let renamed = |p: &mut String| {
                if *p == from {
                    *p = to.clone();
                } else if let Some(rest) = p.strip_prefix(&under) {
                    *p = format!("{to}/{rest}");
                }
            };
            self.tree.dirs.iter_mut().for_each(&renamed);
            self.tree.files.iter_mut().for_each(|f| renamed(&mut f.path));
        }
        Step::Done
    }
}

/// Walk the mounted tree: stat every entry and read every file. Returns
/// what the workload may use next (lost+found left out) and every error.
fn walk(mount: &Path) -> (Tree, Vec<String>) {
    let mut tree = Tree::default();
    let mut errors = Vec::new();
    let mut todo = vec![String::new()];
    while let Some(dir) = todo.pop() {
        let entries = match fs::read_dir(mount.join(&dir)) {
            Ok(entries) => entries,
            Err(e) => {
                errors.push(format!("readdir /{dir}: {e}"));
                continue;
            }
        };
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    errors.push(format!("readdir /{dir}: {e}"));
                    continue;
                }
            };
            let rel = join(&dir, &entry.file_name().to_string_lossy());
            let meta = match fs::symlink_metadata(mount.join(&rel)) {
                Ok(meta) => meta,
                Err(e) => {
                    errors.push(format!("stat /{rel}: {e}"));
                    continue;
                }
            };
            let adopted = rel.starts_with("lost+found");
            if meta.is_dir() {
                if !adopted {
                    tree.dirs.push(rel.clone());
                }
                todo.push(rel);
            } else if meta.is_file() {
                match fs::read(mount.join(&rel)) {
                    Ok(data) if data.len() as u64 == meta.len() => {}
                    Ok(data) => errors.push(format!("read /{rel}: {} bytes, stat says {}", data.len(), meta.len())),
                    Err(e) => errors.push(format!("read /{rel}: {e}")),
                }
                if !adopted {
                    tree.files.push(Known { path: rel, ino: meta.ino(), len: meta.len() });
                }
            }
        }
    }
    (tree, errors)
}

/// `journal stat --script`: operations not stored yet.
fn journal_pending(v: &Volume) -> u64 {
    let out = v.home.run_bounded(&["journal", "stat", "--network", "net", "--script"]);
    assert!(out.status.success(), "journal stat: {out:?}");
    let doc: Value = serde_json::from_str(out.stdout.trim()).unwrap_or_else(|e| panic!("{e}: {out:?}"));
    doc["pending_operations"].as_u64().expect("a count")
}

/// Store what a killed `--async` run journaled with `network run`, as
/// `volume check` asks, and stop it.
fn store_journal(v: &Volume) {
    let stdout = v.home.root().join("network-run.stdout");
    let mut node = v
        .home
        .cmd(&["network", "run", "--name", "net"])
        .stdout(fs::File::create(&stdout).expect("stdout file"))
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn network run");
    let deadline = Instant::now() + PATIENCE;
    while !fs::read_to_string(&stdout).unwrap_or_default().contains("Stored the journaled operations") {
        if Instant::now() > deadline || node.try_wait().ok().flatten().is_some() {
            let _ = node.kill();
            let _ = node.wait();
            panic!("network run did not store the journal: {:?}", fs::read_to_string(&stdout));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    signal(&node, libc::SIGTERM);
    let status = wait_bounded(&mut node, PATIENCE).unwrap_or_else(|| {
        let _ = node.kill();
        let _ = node.wait();
        panic!("network run ignored SIGTERM");
    });
    assert!(status.success(), "network run exited with {status}");
}

/// What the checks after the crashes found, over all rounds.
#[derive(Debug, Default)]
struct Seen {
    /// Finding kind -> count, over all rounds.
    kinds: BTreeMap<String, u64>,
    /// nlink findings as (stored, named).
    nlinks: Vec<(u64, u64)>,
}

/// Parse "link count S, but N entries name it".
fn nlink_detail(detail: &str) -> Option<(u64, u64)> {
    let rest = detail.strip_prefix("link count ")?;
    let (stored, rest) = rest.split_once(", but ")?;
    let (named, _) = rest.split_once(' ')?;
    Some((stored.parse().ok()?, named.parse().ok()?))
}

/// Run `rounds` crash points on one volume served with `run_args`.
fn crash_rounds(test: &str, run_args: &[&str], rounds: u64) {
    let setup = Setup { run_args: run_args.iter().map(|s| s.to_string()).collect(), ..Setup::default() };
    let Some(mut v) = Volume::start_with(test, &setup) else { return };
    let rounds = std::env::var("INFINIT_CRASH_ROUNDS").ok().and_then(|s| s.parse().ok()).unwrap_or(rounds);
    let seed = seed();
    eprintln!("{test}: seed {seed} (INFINIT_CRASH_SEED={seed} replays it)");
    let started = Instant::now();
    let ledger = Arc::new(Mutex::new(Ledger::new()));
    let mut seen = Seen::default();
    let (mut total_ops, mut total_fsynced) = (0, 0);
    for round in 0..rounds {
        let round_started = Instant::now();
        let mut rng = Rng(seed ^ round.wrapping_mul(0xA24B_AED4_963E_E407));
        let delay = Duration::from_millis(rng.next() % 1501);
        let at = format!("{test}: seed {seed}, round {round}, kill after {delay:?}");
        let (tree, errors) = walk(&v.mount);
        assert!(errors.is_empty(), "{at}: before the workload: {errors:?}");
        let (files, bytes) = (tree.files.len(), tree.bytes());
        // The mount may number inodes afresh on each run.
        {
            let mut l = ledger.lock().unwrap_or_else(|e| e.into_inner());
            for file in &tree.files {
                if let Some(kept) = l.get_mut(&file.path) {
                    kept.ino = file.ino;
                }
            }
        }
        let killed = Arc::new(AtomicBool::new(false));
        let workload = Workload {
            mount: v.mount.clone(),
            rng: Rng(rng.next()),
            tree,
            ledger: ledger.clone(),
            killed: killed.clone(),
            next_name: round * 1_000_000,
            ops: 0,
            fsynced: 0,
        };
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(workload.run());
        });
        std::thread::sleep(delay);
        killed.store(true, Ordering::SeqCst);
        v.kill9();
        let ended = rx.recv_timeout(PATIENCE).unwrap_or_else(|_| panic!("{at}: the workload hangs on the dead mount"));
        let (ops, fsynced) = ended.unwrap_or_else(|e| panic!("{at}: {e}"));
        total_ops += ops;
        total_fsynced += fsynced;
        force_unmount(&v.mount);

        if !run_args.is_empty() && journal_pending(&v) > 0 {
            store_journal(&v);
        }
        let out = check(&v, &["--script"]);
        let mut bad = Vec::new();
        for doc in documents(&out).iter().filter(|d| d["event"] == "finding") {
            let kind = doc["kind"].as_str().unwrap_or("?").to_string();
            *seen.kinds.entry(kind.clone()).or_default() += 1;
            match kind.as_str() {
                "orphan" | "leaked" | "stale" => {}
                "nlink" => match doc["detail"].as_str().and_then(nlink_detail) {
                    // Too high is allowed: the removal of an entry is stored before the count drops.
                    Some((stored, named)) if stored > named => seen.nlinks.push((stored, named)),
                    _ => bad.push(doc.clone()),
                },
                _ => bad.push(doc.clone()),
            }
        }
        assert!(bad.is_empty(), "{at}: {ops} operations; volume check found {bad:#?}\nall: {out:?}");
        assert!(matches!(out.status.code(), Some(0 | 1)), "{at}: volume check failed: {out:?}");

        v.restart();
        let (_, errors) = walk(&v.mount);
        assert!(errors.is_empty(), "{at}: after the restart: {errors:#?}");
        let wanted = ledger.lock().unwrap_or_else(|e| e.into_inner()).clone();
        for (path, kept) in &wanted {
            let data = fs::read(v.path(path)).unwrap_or_else(|e| panic!("{at}: fsynced /{path} is lost: {e}"));
            assert!(
                data == noise(kept.len, kept.seed),
                "{at}: fsynced /{path} changed ({} bytes of {})",
                data.len(),
                kept.len
            );
        }
        v.stop();
        let repaired = check(&v, &["--repair", "--script"]);
        assert_eq!(repaired.status.code(), Some(0), "{at}: repair left problems: {repaired:?}");
        let summary = documents(&repaired).pop().unwrap_or_default();
        assert_eq!(summary["clean"], true, "{at}: not clean after repair: {repaired:?}");
        eprintln!(
            "{at}: {ops} operations, {fsynced} fsyncs; {} fsynced files kept of {files} files, {bytes} bytes; round took {:?}",
            wanted.len(),
            round_started.elapsed()
        );
        if round + 1 < rounds {
            v.restart();
        }
    }
    eprintln!(
        "{test}: {rounds} crash points in {:?}, {total_ops} operations, {total_fsynced} fsyncs; findings {:?}, nlink (stored, named) {:?}",
        started.elapsed(),
        seen.kinds,
        seen.nlinks
    );
}

#[test]
fn sigkill_at_random_points_leaves_nothing_dangling_and_keeps_fsynced_files() {
    crash_rounds("sigkill_at_random_points_leaves_nothing_dangling_and_keeps_fsynced_files", &[], 12);
}

#[test]
fn sigkill_at_random_points_with_async_leaves_nothing_dangling_and_keeps_fsynced_files() {
    crash_rounds(
        "sigkill_at_random_points_with_async_leaves_nothing_dangling_and_keeps_fsynced_files",
        &["--async"],
        10,
    );
}
