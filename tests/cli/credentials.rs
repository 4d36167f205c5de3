//! `infinit credentials`: add (AWS secret from stdin or the environment,
//! GCS key from a file or stdin), list without secrets, delete.

use crate::support::{Home, assert_keys, event, mode};

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

fn add_aws(home: &Home, name: &str) -> crate::support::Cmd {
    home.cmd(&["credentials", "add", "--aws", "--name", name, "--access-key-id", "AKIAIOSFODNN7EXAMPLE"])
}

#[test]
fn aws_secret_from_stdin_is_kept_in_a_private_file() {
    let home = Home::new("alice");
    let out = add_aws(&home, "work").stdin(format!("{SECRET}\n")).ok();
    assert_eq!(out.stdout, "Locally saved aws credentials \"work\".\n");
    let path = home.file("credentials/aws/work");
    assert_eq!(mode(&path), 0o600);
    let doc = home.json("credentials/aws/work");
    assert_eq!(doc["secret_access_key"], SECRET);
    assert_eq!(doc["access_key_id"], "AKIAIOSFODNN7EXAMPLE");
}

#[test]
fn aws_secret_from_the_environment_wins_over_stdin() {
    let home = Home::new("alice");
    let out = add_aws(&home, "env").env("AWS_SECRET_ACCESS_KEY", SECRET).stdin("not this one\n").arg("--script").ok();
    assert_eq!(out.json(), event("saved", "credentials", "aws/env"));
    assert_eq!(home.json("credentials/aws/env")["secret_access_key"], SECRET);
}

#[test]
fn aws_without_any_secret_fails_without_writing() {
    let home = Home::new("alice");
    home.fails(add_aws(&home, "none"));
    home.fails(add_aws(&home, "none").stdin("\n"));
}

#[test]
fn gcs_key_from_a_file_or_stdin() {
    let home = Home::new("alice");
    let key = home.path("key.json");
    let text = r#"{"type":"service_account","private_key":"-----BEGIN-----"}"#;
    std::fs::write(&key, text).unwrap();
    let out = home.ok(&["credentials", "add", "--gcs", "--name", "goog", "--key-file", key.to_str().unwrap()]);
    assert_eq!(out.stdout, "Locally saved gcs credentials \"goog\".\n");
    assert_eq!(mode(&home.file("credentials/gcs/goog")), 0o600);
    assert_eq!(home.json("credentials/gcs/goog")["service_account_key"], text);
    home.cmd(&["credentials", "add", "--gcs", "--name", "piped"]).stdin(text).ok();
    assert_eq!(home.json("credentials/gcs/piped")["service_account_key"], text);
}

#[test]
fn gcs_key_that_is_not_json_is_refused() {
    let home = Home::new("alice");
    let key = home.path("key.txt");
    std::fs::write(&key, "not json").unwrap();
    home.fail(&["credentials", "add", "--gcs", "--name", "goog", "--key-file", key.to_str().unwrap()]);
}

#[test]
fn list_never_prints_a_secret() {
    let home = Home::new("alice");
    add_aws(&home, "work").stdin(SECRET).ok();
    home.cmd(&["credentials", "add", "--gcs", "--name", "goog"]).stdin(r#"{"private_key":"GCSPRIVATE"}"#).ok();
    let human = home.ok(&["credentials", "list"]);
    assert_eq!(human.lines(), ["aws/work: access key id AKIAIOSFODNN7EXAMPLE", "gcs/goog: service account key"]);
    let script = home.ok(&["credentials", "list", "--script"]);
    for out in [&human, &script] {
        assert!(!out.stdout.contains(SECRET), "{}", out.describe());
        assert!(!out.stdout.contains("GCSPRIVATE"), "{}", out.describe());
        assert!(!out.stderr.contains(SECRET));
    }
    let docs = script.json_lines();
    assert_keys(&docs[0], &["access_key_id", "name", "service"]);
    assert_eq!(docs[0]["service"], "aws");
    assert_keys(&docs[1], &["name", "service"]);
    assert_eq!(docs[1]["service"], "gcs");

    let aws_only = home.ok(&["credentials", "list", "--aws", "-s"]).json_lines();
    assert_eq!(aws_only.len(), 1);
    assert_eq!(aws_only[0]["name"], "work");
}

#[test]
fn delete_removes_them_and_unknown_ones_fail() {
    let home = Home::new("alice");
    add_aws(&home, "work").stdin(SECRET).ok();
    home.fail(&["credentials", "delete", "--gcs", "--name", "work"]);
    let out = home.ok(&["credentials", "delete", "--aws", "--name", "work"]);
    assert_eq!(out.stdout, "Locally deleted aws credentials \"work\".\n");
    assert!(!home.file("credentials/aws/work").exists());
    home.fail(&["credentials", "delete", "--aws", "--name", "work"]);
}

#[test]
fn delete_is_refused_while_a_silo_uses_them() {
    let home = Home::new("alice");
    add_aws(&home, "work").stdin(SECRET).ok();
    home.ok(&[
        "silo",
        "create",
        "s3",
        "cloud",
        "--endpoint",
        "https://s3.example",
        "--bucket",
        "b",
        "--region",
        "r",
        "--credentials",
        "work",
    ]);
    home.fail(&["credentials", "delete", "--aws", "--name", "work"]).stderr_has("cloud");
    home.ok(&["silo", "delete", "cloud"]);
    home.ok(&["credentials", "delete", "--aws", "--name", "work", "--script"]);
}

#[test]
fn adding_twice_is_refused() {
    let home = Home::new("alice");
    add_aws(&home, "work").stdin(SECRET).ok();
    home.fails(add_aws(&home, "work").stdin("other"));
}
