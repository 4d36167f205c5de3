//! Test harness of the hub: a real `infinit-hub` process per test on a free
//! loopback port (killed by pid on drop, even when the test fails), people
//! with their own homes whose commands talk to it, and a tiny raw HTTP/1.1
//! client over `std::net::TcpStream` to send what the CLI never would
//! (unsigned, forged, stale or replayed requests).

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use infinit::crypto::{KeyPair, b64};
use infinit::descriptors::User;
use infinit::hub::api;
use serde_json::Value;
use tempfile::TempDir;

pub use crate::cli_support::{Home, Out};

/// How long the hub may take to start.
const PATIENCE: Duration = Duration::from_secs(30);

/// A running `infinit-hub` and its data folder.
pub struct HubProcess {
    child: Option<Child>,
    dir: TempDir,
    /// Its address.
    pub addr: SocketAddr,
}

impl HubProcess {
    /// Start a hub on a fresh data folder.
    pub fn start() -> HubProcess {
        let dir = tempfile::Builder::new().prefix("infinit-hub-").tempdir().expect("temp dir");
        let (child, addr) = spawn(dir.path(), &[]);
        HubProcess { child: Some(child), dir, addr }
    }

    /// Start a hub with extra options (e.g. `--admin-user`).
    pub fn start_with(extra: &[&str]) -> HubProcess {
        let dir = tempfile::Builder::new().prefix("infinit-hub-").tempdir().expect("temp dir");
        let (child, addr) = spawn(dir.path(), extra);
        HubProcess { child: Some(child), dir, addr }
    }

    /// Its URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Kill it with SIGKILL, then start it again on the same data folder.
    pub fn kill_and_restart(&mut self) {
        self.kill();
        let (child, addr) = spawn(self.dir.path(), &[]);
        self.child = Some(child);
        self.addr = addr;
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Its log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("hub.log")).unwrap_or_default()
    }
}

impl Drop for HubProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

fn spawn(dir: &Path, extra: &[&str]) -> (Child, SocketAddr) {
    let port_file = dir.join("port");
    let _ = std::fs::remove_file(&port_file);
    let log = std::fs::OpenOptions::new().create(true).append(true).open(dir.join("hub.log")).expect("hub log");
    let mut child = Command::new(assert_cmd::cargo::cargo_bin!("infinit-hub"))
        .args(["--listen", "127.0.0.1:0", "--data"])
        .arg(dir.join("data"))
        .arg("--port-file")
        .arg(&port_file)
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("spawn infinit-hub");
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Ok(text) = std::fs::read_to_string(&port_file)
            && let Ok(port) = text.trim().parse::<u16>()
        {
            return (child, SocketAddr::from(([127, 0, 0, 1], port)));
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "infinit-hub exited early ({status}): {}",
                std::fs::read_to_string(dir.join("hub.log")).unwrap_or_default()
            );
        }
        assert!(Instant::now() < deadline, "infinit-hub did not write its port file");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// One person on one device: a home whose commands use the hub.
pub struct Person {
    /// The home.
    pub home: Home,
    hub: String,
}

impl Person {
    /// A fresh device of `user` using `hub`.
    pub fn new(user: &str, hub: &HubProcess) -> Person {
        Person { home: Home::new(user), hub: hub.url() }
    }

    /// Use the hub again after it moved (a restart on another port).
    pub fn follow(&mut self, hub: &HubProcess) {
        self.hub = hub.url();
    }

    /// `infinit args` with the hub configured, not yet run.
    pub fn cmd(&self, args: &[&str]) -> crate::cli_support::Cmd {
        self.home.cmd(args).env("INFINIT_HUB", &self.hub)
    }

    /// Run and insist on success.
    pub fn ok(&self, args: &[&str]) -> Out {
        self.cmd(args).ok()
    }

    /// Run and insist on exit 1, one error line, and no file changed.
    pub fn fail(&self, args: &[&str]) -> Out {
        self.home.fails(self.cmd(args))
    }

    /// The keys of local user `name` (stored without passphrase).
    pub fn keys(&self, name: &str) -> KeyPair {
        let user: User = serde_json::from_value(self.home.json(&format!("users/{name}"))).expect("user file");
        user.keys(|| panic!("no passphrase in tests")).expect("keys")
    }

    /// Sign up `user` on the hub with its key kept there under `password`.
    pub fn signup_full(&self, password: &str) {
        self.cmd(&["user", "signup", "--full", "--password"]).env("INFINIT_PASSWORD", password).ok();
    }
}

/// An HTTP answer: status and JSON body (`Null` when empty or not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Answer {
    /// The `error` code of a refusal.
    pub fn code(&self) -> &str {
        self.body["error"].as_str().unwrap_or_default()
    }

    /// The `reason` of a refusal.
    pub fn reason(&self) -> &str {
        self.body["reason"].as_str().unwrap_or_default()
    }

    /// Insist on `status` and a JSON error body with `code` and a reason.
    pub fn refused(&self, status: u16, code: &str) -> &Self {
        assert_eq!(self.status, status, "{self:?}");
        assert_eq!(self.code(), code, "{self:?}");
        assert!(!self.reason().is_empty(), "a refusal says why: {self:?}");
        self
    }
}

/// A raw request to send.
pub struct Raw {
    pub method: &'static str,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Raw {
    /// An unsigned request.
    pub fn new(method: &'static str, path: &str, body: impl Into<Vec<u8>>) -> Raw {
        Raw { method, path: path.to_string(), headers: Vec::new(), body: body.into() }
    }

    /// Sign it as `user` with `keys` at Unix time `time` (a string, as sent).
    pub fn signed_at(mut self, user: &str, keys: &KeyPair, time: &str) -> Raw {
        let signature = keys.sign(&api::string_to_sign(self.method, &self.path, &self.body, time));
        self.headers.push((api::USER_HEADER.into(), user.into()));
        self.headers.push((api::TIME_HEADER.into(), time.into()));
        self.headers.push((api::SIGNATURE_HEADER.into(), b64(&signature.0)));
        self
    }

    /// Sign it as `user` now.
    pub fn signed(self, user: &str, keys: &KeyPair) -> Raw {
        self.signed_at(user, keys, &api::time_now())
    }

    /// Add a header.
    pub fn header(mut self, name: &str, value: &str) -> Raw {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Send it to `hub` and read the answer (one connection per request).
    pub fn send(&self, hub: &HubProcess) -> Answer {
        self.send_declaring(hub, self.body.len())
    }

    /// Send it claiming a body of `length` bytes (more than is sent, to
    /// test the size limit without the hub having to read it).
    pub fn send_declaring(&self, hub: &HubProcess, length: usize) -> Answer {
        let mut stream = TcpStream::connect(hub.addr).expect("connect to the hub");
        stream.set_read_timeout(Some(PATIENCE)).expect("timeout");
        let mut head = format!("{} {} HTTP/1.1\r\nhost: {}\r\nconnection: close\r\n", self.method, self.path, hub.addr);
        head.push_str(&format!("content-length: {length}\r\n"));
        if !self.body.is_empty() {
            head.push_str("content-type: application/json\r\n");
        }
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).expect("send the head");
        if length == self.body.len() {
            stream.write_all(&self.body).expect("send the body");
        }
        let mut raw = Vec::new();
        let _ = stream.read_to_end(&mut raw);
        parse_response(&raw)
    }
}

fn parse_response(raw: &[u8]) -> Answer {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no HTTP answer: {text:?}"));
    let status: u16 =
        head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("bad status line: {head}"));
    let chunked = head.lines().any(|l| l.to_ascii_lowercase().starts_with("transfer-encoding: chunked"));
    let body = if chunked { dechunk(body) } else { body.to_string() };
    Answer { status, body: serde_json::from_str(&body).unwrap_or(Value::Null) }
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else { break };
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}
