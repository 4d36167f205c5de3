//! `infinit silo`: create (filesystem, memory, s3, gcs), list, export,
//! import and delete.

use crate::support::{Home, assert_keys, assert_pretty_sorted, event, mode, read_json};

/// The marker file in a filesystem silo's folder.
const MARKER: &str = ".infinit-silo";

fn add_aws(home: &Home, name: &str) {
    home.cmd(&["credentials", "add", "--aws", "--name", name, "--access-key-id", "AKIDEXAMPLE"]).stdin("s3cr3t\n").ok();
}

fn add_gcs(home: &Home, name: &str) {
    home.cmd(&["credentials", "add", "--gcs", "--name", name])
        .stdin(r#"{"type": "service_account", "private_key": "k"}"#)
        .ok();
}

#[test]
fn filesystem_silo_defaults_to_a_folder_under_the_data_home() {
    let home = Home::new("alice");
    let out = home.ok(&["silo", "create", "filesystem", "--name", "local"]);
    assert_eq!(out.stdout, "Locally saved silo \"local\".\n");
    let folder = home.data().join("blocks/local");
    assert!(folder.is_dir());
    let path = home.file("silos/local");
    assert_pretty_sorted(&path);
    assert_eq!(mode(&path), 0o644);
    let silo = read_json(&path);
    assert_keys(&silo, &["id", "name", "path", "type"]);
    assert_eq!(silo["type"], "filesystem");
    assert_eq!(silo["path"], folder.canonicalize().unwrap().to_str().unwrap());
    assert_eq!(silo["id"].as_str().unwrap().len(), 32);
    // The folder holds only the marker, which records the same id.
    let files: Vec<_> = std::fs::read_dir(&folder).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(files, [MARKER]);
    let marker = read_json(&folder.join(MARKER));
    assert_eq!(marker, serde_json::json!({"format": 1, "silo": "local", "id": silo["id"]}));
}

#[test]
fn filesystem_silo_refuses_a_folder_that_holds_something_else() {
    let home = Home::new("alice");
    let folder = home.path("photos");
    std::fs::create_dir(&folder).unwrap();
    std::fs::write(folder.join("cat.jpg"), b"meow").unwrap();
    let path = folder.to_str().unwrap();
    home.fail(&["silo", "create", "filesystem", "disk", "--path", path]).stderr_has("is not empty and is not a silo");
    // An empty existing folder is fine, and so is the folder of the same silo
    // (its descriptor was lost): the id is kept.
    std::fs::remove_file(folder.join("cat.jpg")).unwrap();
    home.ok(&["silo", "create", "filesystem", "disk", "--path", path]);
    let id = home.json("silos/disk")["id"].clone();
    home.ok(&["silo", "delete", "disk"]);
    home.ok(&["silo", "create", "filesystem", "disk", "--path", path]);
    assert_eq!(home.json("silos/disk")["id"], id);
    home.fail(&["silo", "create", "filesystem", "other", "--path", path]).stderr_has("already holds silo \"disk\"");
}

/// Alice's home with filesystem silo `local` in `<home>/disk` and network
/// `net` storing its blocks there.
fn served_from_a_folder() -> (Home, std::path::PathBuf) {
    let home = Home::with_user("alice");
    let folder = home.path("disk");
    home.ok(&["silo", "create", "filesystem", "local", "--path", folder.to_str().unwrap()]);
    home.ok(&["network", "create", "net", "--silo", "local"]);
    (home, folder.canonicalize().unwrap())
}

#[test]
fn serving_a_silo_whose_folder_is_gone_fails_in_one_line() {
    let (home, folder) = served_from_a_folder();
    std::fs::remove_dir_all(&folder).unwrap();
    let out = home.fail(&["network", "run", "net"]);
    assert_eq!(
        out.stderr,
        format!(
            "infinit: error: silo \"local\": folder {} is missing; reconnect the disk or fix the path (infinit silo export --name local shows it)\n",
            folder.display()
        )
    );
    assert!(!folder.exists(), "the missing folder was recreated");
    // An empty folder in its place (an unplugged disk's mountpoint) is refused too.
    std::fs::create_dir(&folder).unwrap();
    home.fail(&["network", "run", "net"]).stderr_has("is empty and has no silo marker");
}

#[test]
fn serving_another_silos_folder_is_refused() {
    let (home, folder) = served_from_a_folder();
    let other = home.path("other");
    home.ok(&["silo", "create", "filesystem", "other", "--path", other.to_str().unwrap()]);
    std::fs::remove_dir_all(&folder).unwrap();
    std::fs::rename(&other, &folder).unwrap();
    let id = home.json("silos/other")["id"].as_str().unwrap().to_string();
    home.fail(&["network", "run", "net"])
        .stderr_has(&format!("folder {} holds another silo (\"other\", id {id})", folder.display()));
}

#[test]
fn filesystem_silo_creates_a_nested_folder_and_stores_capacity_in_bytes() {
    let home = Home::new("alice");
    let folder = home.path("disks/one/blocks");
    let out = home.ok(&[
        "silo",
        "create",
        "filesystem",
        "big",
        "--path",
        folder.to_str().unwrap(),
        "--capacity",
        "10GB",
        "--description",
        "spare disk",
        "--script",
    ]);
    assert_eq!(out.json(), event("saved", "silo", "big"));
    assert!(folder.is_dir());
    let silo = home.json("silos/big");
    assert_eq!(silo["capacity"], 10_000_000_000u64);
    assert_eq!(silo["description"], "spare disk");
    home.ok(&["silo", "create", "memory", "small", "-c", "512MiB"]);
    assert_eq!(home.json("silos/small")["capacity"], 512u64 << 20);
}

#[test]
fn filesystem_silo_with_a_relative_path_is_stored_absolute() {
    let home = Home::new("alice");
    home.ok(&["silo", "create", "filesystem", "rel", "--path", "here/blocks"]);
    let stored = home.json("silos/rel")["path"].as_str().unwrap().to_string();
    assert!(stored.starts_with('/'), "{stored}");
    assert!(home.path("here/blocks").is_dir());
}

#[test]
fn memory_silo_has_no_folder() {
    let home = Home::new("alice");
    home.ok(&["silo", "create", "memory", "--name", "ram"]);
    let silo = home.json("silos/ram");
    assert_keys(&silo, &["name", "type"]);
    assert_eq!(silo["type"], "memory");
    assert!(!home.data().join("blocks").exists());
}

#[test]
fn s3_silo_refers_to_its_credentials_by_name() {
    let home = Home::new("alice");
    add_aws(&home, "work");
    home.ok(&[
        "silo",
        "create",
        "s3",
        "--name",
        "cloud",
        "--endpoint",
        "http://127.0.0.1:9000",
        "--bucket",
        "b",
        "--region",
        "eu-west-1",
        "--credentials",
        "work",
    ]);
    let silo = home.json("silos/cloud");
    assert_keys(&silo, &["bucket", "credentials", "endpoint", "folder", "id", "name", "region", "type"]);
    assert_eq!(silo["type"], "s3");
    assert_eq!(silo["folder"], "cloud_blocks");
    assert_eq!(silo["credentials"], "work");
    let text = std::fs::read_to_string(home.file("silos/cloud")).unwrap();
    assert!(!text.contains("s3cr3t"));
}

#[test]
fn s3_silo_needs_existing_credentials_and_an_http_endpoint() {
    let home = Home::new("alice");
    let args = |creds: &'static str, endpoint: &'static str| {
        [
            "silo",
            "create",
            "s3",
            "cloud",
            "--endpoint",
            endpoint,
            "--bucket",
            "b",
            "--region",
            "r",
            "--credentials",
            creds,
        ]
    };
    home.fail(&args("work", "http://127.0.0.1:9000")).stderr_has("credentials");
    add_aws(&home, "work");
    home.fail(&args("work", "ftp://example"));
    home.ok(&args("work", "https://s3.example"));
}

#[test]
fn gcs_silo_uses_gcs_credentials_and_a_custom_folder() {
    let home = Home::new("alice");
    let args = ["silo", "create", "gcs", "g", "--bucket", "bk", "--credentials", "goog", "--folder", "infinit"];
    // AWS credentials of that name do not count.
    add_aws(&home, "goog");
    home.fail(&args);
    add_gcs(&home, "goog");
    home.ok(&args);
    let silo = home.json("silos/g");
    assert_eq!(silo["type"], "gcs");
    assert_eq!(silo["folder"], "infinit");
    assert_eq!(silo["bucket"], "bk");
}

#[test]
fn list_shows_every_silo_for_people_and_scripts() {
    let home = Home::new("alice");
    let folder = home.path("blocks");
    home.ok(&["silo", "create", "filesystem", "disk", "--path", folder.to_str().unwrap(), "--capacity", "10GB"]);
    home.ok(&["silo", "create", "memory", "ram", "--description", "scratch"]);
    let out = home.ok(&["silo", "list"]);
    assert_eq!(
        out.lines(),
        [
            format!("disk: filesystem at {}, 10 GB", folder.canonicalize().unwrap().display()).as_str(),
            "ram \"scratch\": memory, unlimited",
        ]
    );
    let docs = home.ok(&["silo", "list", "--script"]).json_lines();
    assert_eq!(
        docs,
        [
            serde_json::json!({"name": "disk", "type": "filesystem", "capacity": 10_000_000_000u64}),
            serde_json::json!({"name": "ram", "type": "memory", "description": "scratch"}),
        ]
    );
}

#[test]
fn export_then_import_reproduces_the_descriptor() {
    let from = Home::new("alice");
    let to = Home::new("alice");
    from.ok(&["silo", "create", "memory", "ram", "--capacity", "1GiB"]);
    let exported = from.ok(&["silo", "export", "ram"]);
    assert_eq!(exported.json(), from.json("silos/ram"));
    let out = to.cmd(&["silo", "import"]).stdin(&exported.stdout).ok();
    assert_eq!(out.stdout, "Imported silo \"ram\".\n");
    assert_eq!(std::fs::read(to.file("silos/ram")).unwrap(), std::fs::read(from.file("silos/ram")).unwrap());
    let again = to.cmd(&["silo", "import", "--script"]).stdin(&exported.stdout).ok();
    assert_eq!(again.json(), event("imported", "silo", "ram"));

    let file = from.path("ram.json");
    let out = from.ok(&["silo", "export", "ram", "-o", file.to_str().unwrap()]);
    assert_eq!(out.stdout, format!("Exported silo \"ram\" to \"{}\".\n", file.display()));
    assert_eq!(read_json(&file), from.json("silos/ram"));
}

#[test]
fn import_over_a_different_silo_needs_force() {
    let from = Home::new("alice");
    let to = Home::new("alice");
    from.ok(&["silo", "create", "memory", "ram", "--capacity", "1GB"]);
    to.ok(&["silo", "create", "memory", "ram", "--capacity", "2GB"]);
    let exported = from.ok(&["silo", "export", "ram"]).stdout;
    to.fails(to.cmd(&["silo", "import"]).stdin(&exported)).stderr_has("already exists");
    to.cmd(&["silo", "import", "--force"]).stdin(&exported).ok();
    assert_eq!(to.json("silos/ram")["capacity"], 1_000_000_000u64);
}

#[test]
fn import_refuses_a_relative_filesystem_path() {
    let home = Home::new("alice");
    let doc = r#"{"name":"x","type":"filesystem","path":"relative/dir"}"#;
    home.fails(home.cmd(&["silo", "import"]).stdin(doc));
}

#[test]
fn delete_keeps_the_blocks_unless_asked_to_clear_them() {
    let home = Home::new("alice");
    let keep = home.path("keep");
    let wipe = home.path("wipe");
    for (name, dir) in [("keep", &keep), ("wipe", &wipe)] {
        home.ok(&["silo", "create", "filesystem", name, "--path", dir.to_str().unwrap()]);
        std::fs::write(dir.join("block"), b"data").unwrap();
    }
    let out = home.ok(&["silo", "delete", "keep"]);
    assert_eq!(out.stdout, "Locally deleted silo \"keep\".\n");
    assert!(!home.file("silos/keep").exists());
    assert!(keep.join("block").is_file());

    let out = home.ok(&["silo", "delete", "--name", "wipe", "--clear-content", "--script"]);
    assert_eq!(out.json_lines(), [event("cleared", "silo", "wipe"), event("deleted", "silo", "wipe")]);
    assert!(!wipe.exists());
    assert!(!home.file("silos/wipe").exists());
}

#[test]
fn clear_content_of_a_memory_silo_is_refused() {
    let home = Home::new("alice");
    home.ok(&["silo", "create", "memory", "ram"]);
    home.fail(&["silo", "delete", "ram", "--clear-content"]);
}

#[test]
fn delete_is_refused_while_a_linked_network_stores_blocks_in_it() {
    let home = Home::with_user("alice");
    home.ok(&["silo", "create", "memory", "ram"]);
    home.ok(&["network", "create", "net", "--silo", "ram"]);
    home.fail(&["silo", "delete", "ram"]).stderr_has("alice/net");
    home.ok(&["network", "unlink", "net"]);
    home.ok(&["silo", "delete", "ram"]);
}

#[test]
fn storage_is_an_alias_of_silo() {
    let home = Home::new("alice");
    home.ok(&["storage", "create", "memory", "ram"]);
    assert!(home.file("silos/ram").is_file());
}
