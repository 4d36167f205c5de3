//! The cloud silo against a real S3-compatible server: `moto_server` on a
//! loopback port read back from its log. Each test starts its own server and
//! a guard kills it even when the test fails. Without moto (and no way to
//! install it) the tests fail, unless `INFINIT_SKIP_S3=1`. Moto checks
//! signatures only when asked to, and then wrongly refuses a list whose
//! prefix holds an encoded `/` (boto3's own requests too), so only the
//! credentials test turns the check on, with a silo at the bucket's root.

use std::fs;
use std::os::unix::process::CommandExt as _;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use object_store::ObjectStoreExt as _;

use super::super::conformance;
use super::*;

/// Creates an IAM user allowed everything, its access key and the buckets
/// named on the command line, then prints `<key id> <secret>`. These are the
/// requests moto serves before it starts checking signatures.
const SETUP: &str = r#"
import json, sys, boto3
url, buckets = sys.argv[1], sys.argv[2:]
iam = boto3.client("iam", endpoint_url=url, region_name="us-east-1",
                   aws_access_key_id="setup", aws_secret_access_key="setup")
iam.create_user(UserName="silo")
key = iam.create_access_key(UserName="silo")["AccessKey"]
iam.put_user_policy(UserName="silo", PolicyName="all", PolicyDocument=json.dumps(
    {"Version": "2012-10-17",
     "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1",
                  aws_access_key_id=key["AccessKeyId"],
                  aws_secret_access_key=key["SecretAccessKey"])
for bucket in buckets:
    s3.create_bucket(Bucket=bucket)
print(key["AccessKeyId"], key["SecretAccessKey"])
"#;

/// Unauthenticated requests moto accepts: the three IAM calls of [`SETUP`].
const SETUP_REQUESTS: &str = "3";

/// A running `moto_server`, killed (with its process group) when dropped.
struct Moto {
    child: Child,
    url: String,
    access_key_id: String,
    secret: String,
    log: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Moto {
    fn drop(&mut self) {
        // The server leads its own process group: end the group, then the
        // child itself in case `kill` is unavailable.
        let _ =
            Command::new("kill").args(["-KILL", "--", &format!("-{}", self.child.id())]).stderr(Stdio::null()).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Moto {
    /// Start a server holding `buckets`, checking request signatures if
    /// `authenticate`, or `None` when moto is unavailable and
    /// `INFINIT_SKIP_S3=1` says to skip.
    fn start(buckets: &[&str], authenticate: bool) -> Option<Moto> {
        if let Err(why) = moto_installed() {
            if std::env::var("INFINIT_SKIP_S3").as_deref() == Ok("1") {
                eprintln!("skipped: {why} (INFINIT_SKIP_S3=1)");
                return None;
            }
            panic!("{why}; install it with `pip install 'moto[server]'` or set INFINIT_SKIP_S3=1");
        }
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("moto.log");
        let out = fs::File::create(&log).unwrap();
        let mut command = Command::new("moto_server");
        command.args(["-H", "127.0.0.1", "-p", "0"]);
        if authenticate {
            command.env("INITIAL_NO_AUTH_ACTION_COUNT", SETUP_REQUESTS);
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .process_group(0)
            .spawn()
            .expect("start moto_server");
        let mut moto =
            Moto { child, url: String::new(), access_key_id: String::new(), secret: String::new(), log, _dir: dir };
        moto.url = moto.wait_for_url();
        let setup = Command::new("python3").args(["-c", SETUP, &moto.url]).args(buckets).output().expect("run python3");
        assert!(
            setup.status.success(),
            "moto setup failed: {}\n{}",
            String::from_utf8_lossy(&setup.stderr),
            moto.log_text()
        );
        let stdout = String::from_utf8_lossy(&setup.stdout);
        let mut words = stdout.split_whitespace();
        moto.access_key_id = words.next().unwrap().to_owned();
        moto.secret = words.next().unwrap().to_owned();
        Some(moto)
    }

    /// The URL moto prints once it listens (it binds port 0 itself).
    fn wait_for_url(&mut self) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let log = self.log_text();
            if let Some(at) = log.find("Running on http://127.0.0.1:") {
                let url = &log[at + "Running on ".len()..];
                let end = url.find(char::is_whitespace).unwrap_or(url.len());
                if end < url.len() {
                    return url[..end].to_owned();
                }
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("moto_server exited ({status}) before listening:\n{log}");
            }
            assert!(Instant::now() < deadline, "moto_server did not listen within 60 s:\n{log}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Settings for `bucket`/`folder` on this server with the right credentials.
    fn config(&self, bucket: &str, folder: &str) -> S3Config {
        let mut config = S3Config::new(Some(&self.url), "us-east-1", bucket, &self.access_key_id, &self.secret);
        config.folder = folder.to_owned();
        config
    }

    async fn open(&self, bucket: &str, folder: &str, capacity: Option<u64>) -> CloudSilo {
        let config = CloudConfig::S3(self.config(bucket, folder));
        match CloudSilo::open("cloud", config, None, capacity).await {
            Ok(silo) => silo,
            Err(e) => panic!("open failed: {e}\n{}", self.log_text()),
        }
    }
}

/// Whether `moto_server` runs, installing `moto[server]` with pip once if not.
fn moto_installed() -> Result<(), String> {
    static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();
    INSTALLED
        .get_or_init(|| {
            let runs = || {
                Command::new("moto_server")
                    .arg("--help")
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success())
            };
            if runs() {
                return Ok(());
            }
            let pip = Command::new("python3").args(["-m", "pip", "install", "--quiet", "moto[server]"]).output();
            match pip {
                Err(e) => Err(format!("moto_server is missing and python3 cannot run ({e})")),
                Ok(out) if !out.status.success() => Err(format!(
                    "moto_server is missing and `pip install 'moto[server]'` failed: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                )),
                Ok(_) if runs() => Ok(()),
                Ok(_) => Err("moto[server] installed but moto_server is not on PATH".to_owned()),
            }
        })
        .clone()
}

fn key(n: u8) -> Address {
    Address([n; 32])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloud_silo_passes_the_conformance_suite_on_moto() {
    let Some(moto) = Moto::start(&["infinit-conformance"], false) else {
        return;
    };
    let unlimited = moto.open("infinit-conformance", "node/a", None).await;
    // A sibling folder of the same bucket must not see the other's blocks.
    let limited = moto.open("infinit-conformance", "node/b", Some(conformance::LIMIT)).await;
    conformance::run(Arc::new(unlimited.clone()), Arc::new(limited)).await;
    let address = Address::content(None, b"block");
    unlimited.set(address, b"x".to_vec(), SetMode::Insert).await.unwrap();
    assert_eq!(unlimited.object_key(&address), format!("node/a/{}", address.to_hex()));
}

#[tokio::test]
async fn blocks_and_usage_survive_reopening_the_bucket() {
    let Some(moto) = Moto::start(&["infinit-reopen"], false) else {
        return;
    };
    {
        let silo = moto.open("infinit-reopen", "blocks", None).await;
        silo.set(key(1), vec![1; 10], SetMode::Insert).await.unwrap();
        silo.set(key(2), vec![2; 20], SetMode::Insert).await.unwrap();
        silo.set(key(3), vec![3; 30], SetMode::Upsert).await.unwrap();
        silo.erase(key(2)).await.unwrap();
    }
    // Objects that are not blocks of this folder are left alone.
    let store = CloudConfig::S3(moto.config("infinit-reopen", "")).build().unwrap();
    for foreign in
        ["blocks/README".to_owned(), format!("blocks/nested/{}", key(7).to_hex()), format!("other/{}", key(8).to_hex())]
    {
        store.put(&Path::from(foreign), PutPayload::from(vec![0; 5])).await.unwrap();
    }
    let silo = moto.open("infinit-reopen", "blocks", Some(50)).await;
    assert_eq!(silo.list().await.unwrap(), vec![key(1), key(3)]);
    assert_eq!(silo.usage(), 40);
    assert_eq!(silo.get(key(3)).await.unwrap(), vec![3; 30]);
    assert!(matches!(silo.set(key(1), vec![0; 1], SetMode::Insert).await, Err(SiloError::Exists { .. })));
    // Capacity counts what was already in the bucket.
    assert!(matches!(
        silo.set(key(4), vec![4; 11], SetMode::Insert).await,
        Err(SiloError::Full { needed: 11, free: 10, .. })
    ));
    silo.set(key(4), vec![4; 10], SetMode::Insert).await.unwrap();
    // A bucket-root silo sees only the blocks directly at the root.
    let root = moto.open("infinit-reopen", "", None).await;
    assert!(root.list().await.unwrap().is_empty());
}

#[tokio::test]
async fn an_insert_never_overwrites_an_object_another_writer_created() {
    let Some(moto) = Moto::start(&["infinit-race"], false) else {
        return;
    };
    for (folder, conditional_put) in [("conditional", true), ("head-first", false)] {
        let open = |config: S3Config| async move {
            let mut config = config;
            config.conditional_put = conditional_put;
            CloudSilo::open("cloud", CloudConfig::S3(config), None, None).await.unwrap()
        };
        let first = open(moto.config("infinit-race", folder)).await;
        let second = open(moto.config("infinit-race", folder)).await;
        first.set(key(1), b"first".to_vec(), SetMode::Insert).await.unwrap();
        let refused = second.set(key(1), b"second".to_vec(), SetMode::Insert).await;
        assert!(matches!(refused, Err(SiloError::Exists { .. })), "{folder}: {refused:?}");
        assert_eq!(second.get(key(1)).await.unwrap(), b"first", "{folder}");
        // The refused writer adopted the object into its index.
        assert_eq!(second.list().await.unwrap(), vec![key(1)], "{folder}");
        assert_eq!(second.usage(), 5, "{folder}");
    }
}

#[tokio::test]
async fn a_wrong_secret_is_refused_at_open_naming_endpoint_and_bucket() {
    let Some(moto) = Moto::start(&["infinit-auth"], true) else {
        return;
    };
    // The right secret opens the silo: the refusal below is about the secret.
    moto.open("infinit-auth", "", None).await;
    let mut config = moto.config("infinit-auth", "");
    config.secret_access_key = "not-the-secret".into();
    let err = CloudSilo::open("cloud", CloudConfig::S3(config), None, None).await.unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, SiloError::Remote { .. }), "{err:?}");
    assert!(
        message.contains("credentials were refused")
            && message.contains("\"infinit-auth\"")
            && message.contains(&moto.url),
        "{message}"
    );
    assert!(!message.contains("not-the-secret") && !message.contains('\n'));

    let missing = CloudConfig::S3(moto.config("infinit-missing", ""));
    let message = CloudSilo::open("cloud", missing, None, None).await.unwrap_err().to_string();
    assert!(message.contains("does not exist") && message.contains("\"infinit-missing\""), "{message}");
}

#[tokio::test]
async fn a_dead_endpoint_is_reported_at_open() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let config = S3Config::new(Some(&endpoint), "us-east-1", "infinit-dead", "a", "s");
    let started = Instant::now();
    let message = CloudSilo::open("cloud", CloudConfig::S3(config), None, None).await.unwrap_err().to_string();
    assert!(message.contains("cannot connect") && message.contains(&endpoint), "{message}");
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[tokio::test]
async fn a_folder_gets_its_marker_at_first_open_and_another_silo_is_refused() {
    let Some(moto) = Moto::start(&["infinit-marker"], false) else {
        return;
    };
    let open = |folder: &str, id: Option<SiloId>| {
        let config = CloudConfig::S3(moto.config("infinit-marker", folder));
        async move { CloudSilo::open("cloud", config, id, None).await }
    };
    let mine = SiloId::random().unwrap();
    {
        let silo = open("mine", Some(mine)).await.unwrap();
        silo.set(key(1), b"block".to_vec(), SetMode::Insert).await.unwrap();
    }
    let store = CloudConfig::S3(moto.config("infinit-marker", "")).build().unwrap();
    let written = store.get(&Path::from("mine/.infinit-silo")).await.unwrap().bytes().await.unwrap();
    assert_eq!(Marker::parse(&written).unwrap(), Marker::new("cloud", mine));
    let silo = open("mine", Some(mine)).await.unwrap();
    assert_eq!(silo.list().await.unwrap(), vec![key(1)]);

    // Another silo's id is refused, whether the folder holds blocks or not.
    let other = SiloId::random().unwrap();
    let refused = open("mine", Some(other)).await.unwrap_err();
    assert!(matches!(&refused, SiloError::NotThisSilo { why: Mismatch::OtherSilo { id, .. }, .. } if *id == mine));
    let message = refused.to_string();
    assert!(message.contains("\"infinit-marker\"") && message.contains("\"mine\""), "{message}");
    open("empty", Some(other)).await.unwrap();
    assert!(matches!(open("empty", Some(mine)).await, Err(SiloError::NotThisSilo { .. })));

    // Blocks without a marker are not this silo's, unless the descriptor
    // predates markers: then the folder is adopted.
    store.put(&Path::from(format!("legacy/{}", key(2).to_hex())), PutPayload::from(vec![2; 3])).await.unwrap();
    let refused = open("legacy", Some(mine)).await.unwrap_err();
    assert!(matches!(refused, SiloError::NotThisSilo { why: Mismatch::NoMarker { blocks: true }, .. }), "{refused}");
    assert_eq!(open("legacy", None).await.unwrap().list().await.unwrap(), vec![key(2)]);
    let adopted = store.get(&Path::from("legacy/.infinit-silo")).await.unwrap().bytes().await.unwrap();
    assert_eq!(Marker::parse(&adopted).unwrap().silo, "cloud");
}
