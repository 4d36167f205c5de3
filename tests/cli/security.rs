//! The security review's findings, each through the real binary: what a
//! crafted or tampered descriptor can no longer make a device do.

use crate::support::Home;

#[test]
fn clear_content_refuses_a_folder_without_the_silos_marker() {
    let bob = Home::new("bob");
    let documents = bob.path("documents");
    std::fs::create_dir(&documents).unwrap();
    std::fs::write(documents.join("thesis.tex"), b"years of work").unwrap();
    // Mallory's silo descriptor names Bob's documents, with or without an id.
    let path = serde_json::to_string(documents.to_str().unwrap()).unwrap();
    for (name, id) in [("evil", r#","id":"0123456789abcdef0123456789abcdef""#), ("old", "")] {
        let doc = format!(r#"{{"name":"{name}","type":"filesystem","path":{path}{id}}}"#);
        bob.cmd(&["silo", "import"]).stdin(doc).ok();
        bob.fail(&["silo", "delete", name, "--clear-content"]).stderr_has("refusing to erase");
        assert_eq!(std::fs::read(documents.join("thesis.tex")).unwrap(), b"years of work");
    }
    // Another silo's folder is refused too: its marker has another id.
    bob.ok(&["silo", "create", "filesystem", "mine", "--path", bob.path("mine").to_str().unwrap()]);
    let mut forged = bob.json("silos/mine");
    forged["name"] = "copy".into();
    forged["id"] = "0123456789abcdef0123456789abcdef".into();
    bob.cmd(&["silo", "import"]).stdin(forged.to_string()).ok();
    bob.fail(&["silo", "delete", "copy", "--clear-content"]).stderr_has("holds another silo");
    assert!(bob.path("mine/.infinit-silo").is_file());
    // The silo's own folder is still cleared.
    bob.ok(&["silo", "delete", "mine", "--clear-content"]);
    assert!(!bob.path("mine").exists());
}
