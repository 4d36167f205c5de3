//! Test harness: a network of real `infinit` processes on loopback
//! addresses. One home per device (alice's user on each, her network and
//! volume imported and linked, with a silo for storage nodes); storage
//! nodes run `infinit network run --listen 127.0.0.X`, clients mount the
//! volume with `infinit volume run`. The [`Cluster`] guard kills every
//! process and removes every mount when dropped, even when a test panics.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tempfile::TempDir;

#[path = "../common/mount.rs"]
mod mount;
#[path = "../common/process.rs"]
mod process;
pub use mount::{force_unmount, fuse_available, is_mounted};
pub use process::Proc;

/// How long a node or a mount may take to come up, or a process to stop.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// Path of the `infinit` binary under test.
pub fn infinit() -> &'static Path {
    assert_cmd::cargo::cargo_bin!("infinit")
}

/// A distinct 127.0.N.0/24 per cluster, so parallel tests never share an address.
fn next_subnet() -> u8 {
    static NEXT: AtomicU8 = AtomicU8::new(0);
    let pid = (std::process::id() % 50) as u8;
    10 + pid.wrapping_mul(3).wrapping_add(NEXT.fetch_add(1, Ordering::Relaxed)) % 200
}

/// One device: a home with alice's user, the network and the volume.
pub struct Device {
    pub home: PathBuf,
    pub ip: String,
}

impl Device {
    /// `infinit args` in this device's home.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(infinit());
        c.args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("INFINIT_HOME", &self.home)
            .env("INFINIT_USER", "alice")
            .env("INFINIT_LOG", std::env::var("INFINIT_TEST_LOG").unwrap_or_else(|_| "info".into()))
            .env("INFINIT_LOG_TIME", "1")
            .current_dir(&self.home)
            .stdin(Stdio::null());
        c
    }

    /// Run `infinit args` and insist on success; its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.cmd(args).output().expect("spawn infinit");
        assert!(out.status.success(), "infinit {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

/// A storage node: a device running `network run`.
pub struct StorageNode {
    pub device: Device,
    pub proc: Option<Proc>,
    pub port: u16,
}

/// A client: a device mounting the volume.
pub struct Client {
    pub device: Device,
    pub proc: Option<Proc>,
    pub mount: PathBuf,
}

impl Client {
    /// A path inside the mount.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.mount.join(rel)
    }
}

/// A network of real processes; everything stops when it is dropped.
pub struct Cluster {
    /// The device that created the network (runs no node).
    pub owner: Device,
    pub storage: Vec<StorageNode>,
    pub clients: Vec<Client>,
    subnet: u8,
    next_host: u8,
    // Last: the homes go once every process is gone.
    dir: TempDir,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for c in &mut self.clients {
            if let Some(mut p) = c.proc.take() {
                p.kill9();
            }
            force_unmount(&c.mount);
        }
        for s in &mut self.storage {
            if let Some(mut p) = s.proc.take() {
                p.kill9();
            }
        }
    }
}

impl Cluster {
    /// A network of `replication` copies per block; no node runs yet.
    pub fn new(replication: u32) -> Cluster {
        let dir = tempfile::Builder::new().prefix("infinit-cluster-").tempdir().expect("temp dir");
        let subnet = next_subnet();
        let owner = Device { home: dir.path().join("owner"), ip: format!("127.0.{subnet}.1") };
        std::fs::create_dir_all(&owner.home).expect("home");
        owner.ok(&["user", "create"]);
        owner.ok(&["user", "export", "--full", "--output", dir.path().join("alice.user").to_str().expect("utf-8")]);
        owner.ok(&["network", "create", "net", "--replication-factor", &replication.to_string()]);
        owner.ok(&["volume", "create", "vol", "--network", "net"]);
        owner.ok(&["network", "export", "net", "--output", dir.path().join("net.network").to_str().expect("utf-8")]);
        owner.ok(&["volume", "export", "vol", "--output", dir.path().join("vol.volume").to_str().expect("utf-8")]);
        Cluster { storage: Vec::new(), clients: Vec::new(), owner, subnet, next_host: 2, dir }
    }

    /// A new device with alice's user, the network and the volume;
    /// linked with a silo when `stores`.
    fn device(&mut self, name: &str, stores: bool) -> Device {
        let home = self.dir.path().join(name);
        std::fs::create_dir_all(&home).expect("home");
        let device = Device { home, ip: format!("127.0.{}.{}", self.subnet, self.next_host) };
        self.next_host += 1;
        let file = |f: &str| self.dir.path().join(f).to_str().expect("utf-8").to_string();
        device.ok(&["user", "import", "--input", &file("alice.user")]);
        device.ok(&["network", "import", "--input", &file("net.network")]);
        device.ok(&["volume", "import", "--input", &file("vol.volume")]);
        if stores {
            device.ok(&["silo", "create", "filesystem", "--name", "s", "--capacity", "2GB"]);
            device.ok(&["network", "link", "net", "--silo", "s"]);
        } else {
            device.ok(&["network", "link", "net"]);
        }
        device
    }

    /// The first storage node's address, to join through.
    pub fn bootstrap(&self) -> String {
        let first = self.storage.first().expect("a storage node");
        format!("{}:{}", first.device.ip, first.port)
    }

    /// Start `n` more storage nodes (`network run`), each joining the first.
    pub fn add_storage(&mut self, n: usize) {
        for _ in 0..n {
            let i = self.storage.len();
            let device = self.device(&format!("storage{i}"), true);
            self.storage.push(StorageNode { device, proc: None, port: 0 });
            self.start_storage(i);
        }
    }

    /// (Re)start storage node `i`, on its former port if it had one.
    pub fn start_storage(&mut self, i: usize) {
        let bootstrap = (i > 0).then(|| self.bootstrap());
        let node = &mut self.storage[i];
        let port_file = node.device.home.join("port");
        let _ = std::fs::remove_file(&port_file);
        let port = node.port.to_string();
        let mut args = vec!["network", "run", "--name", "net", "--listen", &node.device.ip];
        args.extend(["--port", &port, "--port-file", port_file.to_str().expect("utf-8")]);
        if let Some(b) = &bootstrap {
            args.extend(["--peer", b]);
        }
        let log = node.device.home.join(format!("network-run-{}.log", unique()));
        let mut proc = Proc::spawn(node.device.cmd(&args), log);
        proc.wait_line("Running network", PATIENCE);
        let text = std::fs::read_to_string(&port_file).expect("port file");
        node.port = text.trim().parse().expect("a port");
        node.proc = Some(proc);
    }

    /// Start a client mounting the volume; its index in `clients`.
    pub fn add_client(&mut self, extra: &[&str]) -> usize {
        let i = self.clients.len();
        let device = self.device(&format!("client{i}"), false);
        let mount = device.home.join("mnt");
        self.clients.push(Client { device, proc: None, mount });
        self.start_client(i, extra);
        i
    }

    /// (Re)start client `i`.
    pub fn start_client(&mut self, i: usize, extra: &[&str]) {
        let bootstrap = self.bootstrap();
        let client = &mut self.clients[i];
        let mount = client.mount.to_str().expect("utf-8").to_string();
        let mut args = vec!["volume", "run", "--name", "vol", "--mountpoint", &mount, "--listen", &client.device.ip];
        args.extend(["--peer", &bootstrap]);
        args.extend(extra);
        let log = client.device.home.join(format!("volume-run-{}.log", unique()));
        let mut proc = Proc::spawn(client.device.cmd(&args), log);
        proc.wait_line("Running volume", PATIENCE);
        let deadline = Instant::now() + PATIENCE;
        while !is_mounted(&client.mount) {
            assert!(Instant::now() < deadline, "not mounted: {}", proc.log());
            std::thread::sleep(Duration::from_millis(20));
        }
        client.proc = Some(proc);
    }

    /// `network inspect --script` on storage node `i`, as JSON documents.
    pub fn inspect(&self, i: usize) -> Vec<serde_json::Value> {
        let out = self.storage[i].device.ok(&["network", "inspect", "--name", "net", "--script"]);
        out.lines().map(|l| serde_json::from_str(l).expect("JSON line")).collect()
    }

    /// Kill storage node `i` with SIGKILL.
    pub fn kill_storage(&mut self, i: usize) {
        if let Some(mut p) = self.storage[i].proc.take() {
            p.kill9();
        }
    }
}

fn unique() -> u64 {
    use std::sync::atomic::AtomicU64;
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Deterministic bytes: `len` bytes from `seed`.
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Run `f` in a thread; its result, or `None` after `limit`.
pub fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit).ok()
}
