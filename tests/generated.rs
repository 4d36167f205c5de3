//! The checked-in shell completions (`completions/`) and man pages (`man/`)
//! must equal what the clap tree renders now. Run with `INFINIT_BLESS=1` to
//! rewrite them after changing options.

use std::path::Path;

fn check(dir: &str, files: Vec<(String, Vec<u8>)>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let bless = std::env::var_os("INFINIT_BLESS").is_some();
    if bless {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
    }
    let mut expected: Vec<String> = files.iter().map(|(name, _)| name.clone()).collect();
    for (name, content) in &files {
        let path = dir.join(name);
        if bless {
            std::fs::write(&path, content).unwrap();
            continue;
        }
        let on_disk = std::fs::read(&path).unwrap_or_default();
        assert!(
            on_disk == *content,
            "{} is stale or missing: regenerate with `INFINIT_BLESS=1 cargo test --test generated`",
            path.display()
        );
    }
    let mut present: Vec<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    present.sort();
    expected.sort();
    assert_eq!(present, expected, "{} holds files the CLI no longer generates", dir.display());
}

#[test]
fn completions_are_current() {
    check("completions", infinit::commands::generated::completions());
}

#[test]
fn man_pages_are_current() {
    let pages = infinit::commands::generated::man_pages().unwrap();
    assert!(pages.iter().any(|(n, _)| n == "infinit-user-create.1"));
    assert!(pages.iter().any(|(n, _)| n == "infinit-silo-create-filesystem.1"));
    check("man", pages);
}
