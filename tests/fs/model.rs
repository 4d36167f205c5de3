//! Model test: random operation sequences over a small name space (two
//! levels of `a`, `b`) applied both to a mounted volume and to a plain
//! folder on the host file system, which serves as the model. After each
//! operation the outcomes (value or errno) and the whole trees (kinds,
//! permission bits, sizes, link counts, contents, link targets) must agree.
//! The volume uses 4 KiB blocks so small offsets cross inline/chunk limits.

use std::collections::BTreeMap;
use std::fs::{self, OpenOptions};
use std::io::{Seek as _, SeekFrom, Write as _};
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestError, TestRng, TestRunner};

use crate::support::{Setup, Volume, sha};

/// Every path an operation may name (relative to the case folder): few,
/// so that operations mostly meet existing names.
const PATHS: [&str; 6] = ["a", "b", "a/a", "a/b", "b/a", "b/b"];
/// Symlink targets: siblings, a parent's child, nothing.
const TARGETS: [&str; 4] = ["a", "b/c", "../a", "nowhere"];
/// Offsets around the 4 KiB block and inline limits.
const OFFSETS: [u64; 9] = [0, 1, 100, 4095, 4096, 5000, 8192, 12_000, 20_000];
/// Lengths of writes.
const LENGTHS: [usize; 7] = [0, 1, 10, 100, 4096, 5000, 9000];
/// Permission bits given with chmod.
const MODES: [u32; 5] = [0o600, 0o644, 0o755, 0o700, 0o444];

/// One operation; paths index [`PATHS`].
#[derive(Debug, Clone)]
pub enum Op {
    /// Create a new empty file (O_CREAT | O_EXCL).
    Create(&'static str),
    /// Write `len` bytes made from `seed` at `offset` of an existing file.
    Write(&'static str, u64, usize, u8),
    /// Set the size of an existing file.
    Truncate(&'static str, u64),
    /// Make a directory.
    Mkdir(&'static str),
    /// Remove an empty directory.
    Rmdir(&'static str),
    /// Remove a non-directory.
    Unlink(&'static str),
    /// rename(2).
    Rename(&'static str, &'static str),
    /// Make a symbolic link at the second path pointing at the first.
    Symlink(&'static str, &'static str),
    /// Read a whole file.
    Read(&'static str),
    /// lstat(2).
    Stat(&'static str),
    /// List a directory ("" is the case folder).
    List(&'static str),
    /// chmod(2).
    Chmod(&'static str, u32),
}

fn path() -> impl Strategy<Value = &'static str> {
    prop::sample::select(&PATHS[..])
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => path().prop_map(Op::Create),
        4 => (path(), prop::sample::select(&OFFSETS[..]), prop::sample::select(&LENGTHS[..]), any::<u8>())
            .prop_map(|(p, o, l, s)| Op::Write(p, o, l, s)),
        2 => (path(), prop::sample::select(&OFFSETS[..])).prop_map(|(p, s)| Op::Truncate(p, s)),
        4 => path().prop_map(Op::Mkdir),
        1 => path().prop_map(Op::Rmdir),
        1 => path().prop_map(Op::Unlink),
        2 => (path(), path()).prop_map(|(a, b)| Op::Rename(a, b)),
        1 => (prop::sample::select(&TARGETS[..]), path()).prop_map(|(t, p)| Op::Symlink(t, p)),
        2 => path().prop_map(Op::Read),
        1 => path().prop_map(Op::Stat),
        1 => prop::sample::select(&["", "a", "b"][..]).prop_map(Op::List),
        1 => (path(), prop::sample::select(&MODES[..])).prop_map(|(p, m)| Op::Chmod(p, m)),
    ]
}

/// What an operation returned.
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    Done,
    /// Length and digest of content read.
    Content(usize, String),
    Stat(Node),
    Names(Vec<String>),
}

/// One entry of a tree snapshot.
#[derive(Debug, PartialEq, Eq, Clone)]
enum Node {
    Dir { perm: u32, nlink: u64 },
    File { perm: u32, nlink: u64, size: u64, sha: String },
    Link { target: String },
}

fn errno(e: &std::io::Error) -> i32 {
    e.raw_os_error().unwrap_or(-1)
}

fn stat(path: &Path, with_content: bool) -> std::io::Result<Node> {
    let meta = fs::symlink_metadata(path)?;
    let perm = meta.permissions().mode() & 0o7777;
    Ok(if meta.is_dir() {
        Node::Dir { perm, nlink: meta.nlink() }
    } else if meta.is_symlink() {
        Node::Link { target: fs::read_link(path)?.to_string_lossy().into_owned() }
    } else {
        Node::File {
            perm,
            nlink: meta.nlink(),
            size: meta.len(),
            sha: if with_content { sha(&fs::read(path)?) } else { String::new() },
        }
    })
}

fn content(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| seed.wrapping_add((i % 251) as u8)).collect()
}

/// Apply `op` under `root`.
fn apply(root: &Path, op: &Op) -> Result<Seen, i32> {
    let p = |rel: &str| root.join(rel);
    let done = |r: std::io::Result<()>| r.map(|()| Seen::Done).map_err(|e| errno(&e));
    match *op {
        Op::Create(a) => done(OpenOptions::new().write(true).create_new(true).open(p(a)).map(drop)),
        Op::Write(a, offset, len, seed) => done((|| {
            let mut f = OpenOptions::new().write(true).open(p(a))?;
            f.seek(SeekFrom::Start(offset))?;
            f.write_all(&content(len, seed))?;
            crate::support::close(f)
        })()),
        Op::Truncate(a, size) => done((|| {
            let f = OpenOptions::new().write(true).open(p(a))?;
            f.set_len(size)?;
            crate::support::close(f)
        })()),
        Op::Mkdir(a) => done(fs::create_dir(p(a))),
        Op::Rmdir(a) => done(fs::remove_dir(p(a))),
        Op::Unlink(a) => done(fs::remove_file(p(a))),
        Op::Rename(a, b) => done(fs::rename(p(a), p(b))),
        Op::Symlink(target, a) => done(std::os::unix::fs::symlink(target, p(a))),
        Op::Read(a) => fs::read(p(a)).map(|d| Seen::Content(d.len(), sha(&d))).map_err(|e| errno(&e)),
        Op::Stat(a) => stat(&p(a), false).map(Seen::Stat).map_err(|e| errno(&e)),
        Op::List(a) => fs::read_dir(p(a))
            .and_then(|entries| {
                let mut names = entries
                    .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
                    .collect::<std::io::Result<Vec<_>>>()?;
                names.sort();
                Ok(Seen::Names(names))
            })
            .map_err(|e| errno(&e)),
        Op::Chmod(a, mode) => done(fs::set_permissions(p(a), fs::Permissions::from_mode(mode))),
    }
}

/// Every entry under `root`, with file contents' digests.
fn tree(root: &Path) -> BTreeMap<String, Result<Node, i32>> {
    let mut out = BTreeMap::new();
    let mut todo = vec![PathBuf::new()];
    while let Some(rel) = todo.pop() {
        let entries = match fs::read_dir(root.join(&rel)) {
            Ok(e) => e,
            Err(e) => {
                out.insert(format!("{}/", rel.display()), Err(errno(&e)));
                continue;
            }
        };
        for entry in entries {
            let name = rel.join(entry.expect("dir entry").file_name());
            let node = stat(&root.join(&name), true).map_err(|e| errno(&e));
            if matches!(node, Ok(Node::Dir { .. })) {
                todo.push(name.clone());
            }
            out.insert(name.display().to_string(), node);
        }
    }
    out
}

/// Run `ops` on the volume under `mounted` and on the model under `model`;
/// describe the first divergence.
fn compare(mounted: &Path, model: &Path, ops: &[Op]) -> Result<(), String> {
    for (i, op) in ops.iter().enumerate() {
        let want = apply(model, op);
        let got = apply(mounted, op);
        if got != want {
            return Err(format!("op #{i} {op:?}: volume gave {got:?}, model gave {want:?}"));
        }
        let (got, want) = (tree(mounted), tree(model));
        if got != want {
            return Err(format!("after op #{i} {op:?} the trees differ:\nvolume {got:#?}\nmodel  {want:#?}"));
        }
    }
    Ok(())
}

/// A fresh pair of case folders on the volume and in the model.
struct Case {
    mounted: PathBuf,
    model: PathBuf,
}

impl Case {
    fn new(volume: &Volume, model: &Path, n: usize) -> Case {
        let case = Case { mounted: volume.path(&format!("case-{n}")), model: model.join(format!("case-{n}")) };
        fs::create_dir(&case.mounted).expect("case folder on the volume");
        fs::create_dir(&case.model).expect("case folder in the model");
        case
    }
}

impl Drop for Case {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.mounted);
        let _ = fs::remove_dir_all(&self.model);
    }
}

fn block_volume(test: &str) -> Option<Volume> {
    let setup = Setup { block_size: Some("4KiB".into()), ..Setup::default() };
    Volume::start_with(test, &setup)
}

#[test]
fn random_operations_behave_like_the_host_file_system() {
    let Some(v) = block_volume("random_operations_behave_like_the_host_file_system") else {
        return;
    };
    let model = tempfile::tempdir().expect("model dir");
    let config = Config { cases: 96, max_shrink_iters: 400, failure_persistence: None, ..Config::default() };
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]);
    let mut runner = TestRunner::new_with_rng(config, rng);
    let counter = AtomicUsize::new(0);
    let outcome = runner.run(&prop::collection::vec(op(), 1..60), |ops| {
        let case = Case::new(&v, model.path(), counter.fetch_add(1, Ordering::Relaxed));
        compare(&case.mounted, &case.model, &ops).map_err(TestCaseError::fail)
    });
    match outcome {
        Ok(()) => {}
        Err(TestError::Fail(why, ops)) => {
            panic!("divergence, minimal sequence:\n{ops:?}\n{why}")
        }
        Err(e) => panic!("{e}"),
    }
}
