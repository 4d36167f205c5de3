//! `infinit volume check` on a volume filled through a real mount: clean
//! after a stop, refused while the node runs, a deleted chunk reported
//! (exit 1), repaired, clean again, and the file readable afterwards.

use std::fs;

use serde_json::Value;

use crate::support::{Finished, Setup, Volume, noise};

const BLOCK: usize = 64 * 1024;

pub(crate) fn check(v: &Volume, extra: &[&str]) -> Finished {
    let mut args = vec!["volume", "check", "--name", "vol"];
    args.extend(extra);
    v.home.run_bounded(&args)
}

/// Every stdout line is one JSON document; the last is the summary.
pub(crate) fn documents(out: &Finished) -> Vec<Value> {
    out.stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l:?}\n{out:?}")))
        .collect()
}

#[test]
fn volume_check_finds_a_deleted_chunk_and_repair_leaves_the_volume_clean() {
    let setup = Setup { block_size: Some("64KiB".into()), ..Setup::default() };
    let Some(mut v) =
        Volume::start_with("volume_check_finds_a_deleted_chunk_and_repair_leaves_the_volume_clean", &setup)
    else {
        return;
    };
    let big = noise(5 * BLOCK + 1000, 7);
    fs::create_dir(v.path("dir")).unwrap();
    fs::write(v.path("dir/small"), b"small").unwrap();
    fs::write(v.path("dir/big"), &big).unwrap();
    fs::hard_link(v.path("dir/big"), v.path("link")).unwrap();

    let busy = check(&v, &[]);
    busy.assert_one_line_error();
    assert!(busy.stderr.contains("in use by a running node"), "{busy:?}");

    v.stop();
    let clean = check(&v, &[]);
    assert_eq!(clean.status.code(), Some(0), "{clean:?}");
    assert!(clean.stdout.contains("2 directories, 2 files, 0 symbolic links, 6 chunks"), "{clean:?}");
    assert!(clean.stdout.trim_end().ends_with("clean."), "{clean:?}");
    let script = check(&v, &["--script"]);
    assert_eq!(script.status.code(), Some(0), "{script:?}");
    let docs = documents(&script);
    assert_eq!(docs.len(), 1, "{docs:?}");
    assert_eq!(docs[0]["event"], "summary");
    assert_eq!(docs[0]["clean"], true);
    assert_eq!((docs[0]["files"].as_u64(), docs[0]["chunks"].as_u64()), (Some(2), Some(6)));

    // A full chunk's block file: the chunk plus a few dozen bytes of framing.
    let chunk_file = walk(&v.home.silo())
        .into_iter()
        .find(|(_, size)| (BLOCK as u64..BLOCK as u64 + 256).contains(size))
        .map(|(path, _)| path)
        .expect("a full chunk's block file");
    fs::remove_file(&chunk_file).unwrap();

    let broken = check(&v, &[]);
    broken.assert_one_line_error();
    assert!(broken.stderr.contains("volume \"alice/vol\": 1 problem found (run with --repair"), "{broken:?}");
    assert!(broken.stdout.contains("dangling-chunk") && broken.stdout.contains("/dir/big"), "{broken:?}");
    let docs = documents(&check(&v, &["--script"]));
    assert_eq!(docs.len(), 2, "{docs:?}");
    assert_eq!((docs[0]["event"].as_str(), docs[0]["kind"].as_str()), (Some("finding"), Some("dangling-chunk")));
    assert!(docs[0]["path"] == "/dir/big" || docs[0]["path"] == "/link", "{docs:?}");
    assert_eq!(docs[1]["findings"]["dangling-chunk"], 1);

    let repaired = check(&v, &["--repair", "--script"]);
    assert_eq!(repaired.status.code(), Some(0), "{repaired:?}");
    let docs = documents(&repaired);
    assert_eq!(docs[0]["repaired"], true, "{docs:?}");
    let summary = docs.last().unwrap();
    assert_eq!((summary["clean"].as_bool(), summary["repaired"].as_u64()), (Some(true), Some(1)), "{docs:?}");
    let again = check(&v, &[]);
    assert_eq!(again.status.code(), Some(0), "{again:?}");

    // The file is readable again: the lost chunk reads as zeros, the rest is intact.
    v.restart();
    let back = fs::read(v.path("dir/big")).unwrap();
    assert_eq!(back.len(), big.len());
    let lost: Vec<usize> = (0..big.len() / BLOCK)
        .filter(|i| back[i * BLOCK..(i + 1) * BLOCK] != big[i * BLOCK..(i + 1) * BLOCK])
        .collect();
    assert_eq!(lost.len(), 1, "exactly one chunk differs");
    assert!(back[lost[0] * BLOCK..(lost[0] + 1) * BLOCK].iter().all(|&b| b == 0));
    assert_eq!(fs::read(v.path("dir/small")).unwrap(), b"small");
}

/// Every file under `dir` with its size.
fn walk(dir: &std::path::Path) -> Vec<(std::path::PathBuf, u64)> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let meta = entry.metadata().unwrap();
        if meta.is_dir() {
            out.extend(walk(&entry.path()));
        } else {
            out.push((entry.path(), meta.len()));
        }
    }
    out
}

/// Findings of a `volume check --script` run, by kind.
fn finding_kinds(v: &Volume) -> std::collections::BTreeMap<String, usize> {
    let mut kinds = std::collections::BTreeMap::new();
    for doc in documents(&check(v, &["--script"])).iter().filter(|d| d["event"] == "finding") {
        *kinds.entry(doc["kind"].as_str().unwrap_or("?").to_string()).or_insert(0) += 1;
    }
    kinds
}

#[test]
fn a_large_folder_is_sharded_survives_kill_9_and_checks_clean() {
    let Some(mut v) = Volume::start("a_large_folder_is_sharded_survives_kill_9_and_checks_clean") else { return };
    let big = v.path("big");
    fs::create_dir(&big).unwrap();
    // Past 2,048 entries the folder keeps them in shards.
    for i in 0..2500 {
        fs::File::create(big.join(format!("f{i}"))).unwrap();
    }
    fs::File::open(&big).unwrap().sync_all().unwrap();
    // More names, replacing shards, and the node dies in the middle.
    for i in 2500..2800 {
        fs::File::create(big.join(format!("f{i}"))).unwrap();
    }
    v.kill9();
    crate::support::force_unmount(&v.mount);
    // Nothing dangles or is unreadable; shards replaced just before the
    // crash may be left over (leaked), nodes never named (orphans).
    let kinds = finding_kinds(&v);
    assert!(kinds.keys().all(|k| k == "leaked" || k == "orphan"), "{kinds:?}");
    v.restart();
    let names: Vec<String> =
        fs::read_dir(&big).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert!(names.len() >= 2500, "the fsynced names are kept: {} listed", names.len());
    assert!((0..2500).all(|i| names.contains(&format!("f{i}"))));
    for name in &names {
        fs::metadata(big.join(name)).unwrap_or_else(|e| panic!("{name} is listed but unreadable: {e}"));
    }
    // Back under the threshold: the folder's block holds its entries again
    // and a clean stop leaves no shard behind.
    for name in names.iter().filter(|n| n[1..].parse::<usize>().unwrap() >= 600) {
        fs::remove_file(big.join(name)).unwrap();
    }
    v.stop();
    let repaired = check(&v, &["--repair", "--script"]);
    assert_eq!(repaired.status.code(), Some(0), "{repaired:?}");
    assert_eq!(documents(&check(&v, &["--script"])).pop().unwrap()["clean"], true);
    v.restart();
    assert_eq!(fs::read_dir(&big).unwrap().count(), 600);
    for i in 0..3000 {
        fs::File::create(big.join(format!("g{i}"))).unwrap();
    }
    v.stop();
    assert!(finding_kinds(&v).is_empty(), "a clean stop leaves nothing to repair");
    v.restart();
    assert_eq!(fs::read_dir(&big).unwrap().count(), 3600);
}
