//! Test harness: a [`Volume`] guard that sets up a one-node volume in a
//! throwaway home, serves it with `infinit volume run` on a private
//! mountpoint, and never leaves a process or a mount behind, even when the
//! test panics; plus the raw syscalls std lacks (xattrs, statvfs, close).

use std::ffi::CString;
use std::io::{BufRead as _, BufReader};
use std::os::unix::ffi::OsStrExt as _;
use std::os::unix::io::IntoRawFd as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// How long a mount may take to appear, or a process to stop.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// Path of the `infinit` binary under test.
pub fn infinit() -> &'static Path {
    assert_cmd::cargo::cargo_bin!("infinit")
}

#[path = "../common/mount.rs"]
mod mount;
pub use mount::{force_unmount, fuse_available, is_mounted};

/// How to set up a volume.
#[derive(Debug, Clone, Default)]
pub struct Setup {
    /// Silo capacity, e.g. `1MB` (unlimited when `None`).
    pub capacity: Option<String>,
    /// Volume block size, e.g. `4KiB` (the default 1MiB when `None`).
    pub block_size: Option<String>,
    /// Extra options for `volume run`, e.g. `--async`.
    pub run_args: Vec<String>,
}

/// A home with user alice, a filesystem silo `s`, network `net`, volume
/// `vol`; not served yet.
pub struct Home {
    dir: TempDir,
}

impl Home {
    /// Create the home and run the setup commands.
    pub fn new(setup: &Setup) -> Home {
        let home = Home { dir: tempfile::Builder::new().prefix("infinit-fs-").tempdir().expect("temp dir") };
        home.ok(&["user", "create"]);
        let mut silo = vec!["silo", "create", "filesystem", "--name", "s"];
        if let Some(c) = &setup.capacity {
            silo.extend(["--capacity", c]);
        }
        home.ok(&silo);
        home.ok(&["network", "create", "net", "--silo", "s"]);
        let mut volume = vec!["volume", "create", "vol", "--network", "net"];
        if let Some(b) = &setup.block_size {
            volume.extend(["--block-size", b]);
        }
        home.ok(&volume);
        home
    }

    /// The `INFINIT_HOME` folder.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Where the silo `s` keeps its block files.
    pub fn silo(&self) -> PathBuf {
        self.root().join(".local/share/infinit/filesystem/blocks/s")
    }

    /// `infinit args` with this home's isolated environment.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(infinit());
        c.args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.root())
            .env("INFINIT_HOME", self.root())
            .env("INFINIT_USER", "alice")
            .current_dir(self.root())
            .stdin(Stdio::null());
        c
    }

    fn ok(&self, args: &[&str]) {
        let out = self.cmd(args).output().expect("spawn infinit");
        assert!(out.status.success(), "infinit {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// Run `infinit args` to completion (killed after [`PATIENCE`]).
    pub fn run_bounded(&self, args: &[&str]) -> Finished {
        let stderr = self.root().join(format!("stderr-{}", unique()));
        let stdout = self.root().join(format!("stdout-{}", unique()));
        let mut child = self
            .cmd(args)
            .stdout(std::fs::File::create(&stdout).expect("stdout file"))
            .stderr(std::fs::File::create(&stderr).expect("stderr file"))
            .spawn()
            .expect("spawn infinit");
        let status = wait_bounded(&mut child, PATIENCE).unwrap_or_else(|| {
            let _ = child.kill();
            let _ = child.wait();
            panic!("infinit {args:?} did not finish within {PATIENCE:?}");
        });
        let read = |p: &Path| {
            let text = std::fs::read_to_string(p).unwrap_or_default();
            let _ = std::fs::remove_file(p);
            text
        };
        Finished { status, stdout: read(&stdout), stderr: read(&stderr) }
    }
}

/// What a finished command did.
#[derive(Debug)]
pub struct Finished {
    /// Exit status.
    pub status: ExitStatus,
    /// Everything it printed on stdout.
    pub stdout: String,
    /// Everything it printed on stderr.
    pub stderr: String,
}

impl Finished {
    /// Exit 1 with exactly one line `infinit: error: ...` on stderr.
    pub fn assert_one_line_error(&self) {
        assert_eq!(self.status.code(), Some(1), "expected exit 1: {self:?}");
        assert!(self.stderr.starts_with("infinit: error: "), "stderr must start with `infinit: error: `: {self:?}");
        assert_eq!(self.stderr.trim_end().lines().count(), 1, "the error must be one line: {self:?}");
    }
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Wait for `child` at most `limit`; `None` if still running.
pub fn wait_bounded(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            _ => return None,
        }
    }
}

pub fn signal(child: &Child, sig: i32) {
    let pid = i32::try_from(child.id()).expect("pid fits i32");
    // SAFETY: kill(2) has no memory effects; the pid is our own child,
    // not yet reaped, so it cannot name another process.
    unsafe {
        libc::kill(pid, sig);
    }
}

/// A running `infinit volume run`: its home, mountpoint and process.
/// Dropping it stops the process and removes the mount, whatever happened.
pub struct Volume {
    /// The mounted folder.
    pub mount: PathBuf,
    run_args: Vec<String>,
    /// Who serves the volume (`INFINIT_USER`), and which volume.
    user: String,
    volume: String,
    child: Option<Child>,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr_path: PathBuf,
    // Declared last so the home (and the mountpoint inside it) is removed
    // only after Drop has unmounted.
    /// The volume's home.
    pub home: Home,
}

impl Volume {
    /// Set up a default volume and mount it, or `None` (with a printed
    /// reason) when FUSE is missing.
    pub fn start(test: &str) -> Option<Volume> {
        Volume::start_with(test, &Setup::default())
    }

    /// Like [`Volume::start`] with options.
    pub fn start_with(test: &str, setup: &Setup) -> Option<Volume> {
        if !fuse_available(test) {
            return None;
        }
        let home = Home::new(setup);
        let mount = home.root().join("mnt");
        let mut volume = Volume {
            stderr_path: home.root().join("volume-run.stderr"),
            run_args: setup.run_args.clone(),
            user: "alice".into(),
            volume: "vol".into(),
            mount,
            child: None,
            stdout: Arc::new(Mutex::new(Vec::new())),
            home,
        };
        volume.launch();
        Some(volume)
    }

    /// Start `infinit volume run` and wait until the volume is mounted.
    fn launch(&mut self) {
        assert!(self.child.is_none(), "already running");
        let stderr = std::fs::File::create(&self.stderr_path).expect("stderr file");
        let mount = self.mount.to_str().expect("utf-8 mountpoint");
        let mut args = vec!["volume", "run", "--name", &self.volume, "--mountpoint", mount];
        args.extend(self.run_args.iter().map(String::as_str));
        let mut child = self
            .home
            .cmd(&args)
            .env("INFINIT_USER", &self.user)
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("spawn infinit volume run");
        let out = child.stdout.take().expect("piped stdout");
        self.child = Some(child);
        let lines = Arc::new(Mutex::new(Vec::new()));
        self.stdout = lines.clone();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                let running = line.starts_with("Running volume");
                lines.lock().unwrap_or_else(|e| e.into_inner()).push(line);
                if running {
                    let _ = tx.send(());
                }
            }
        });
        let deadline = Instant::now() + PATIENCE;
        let mut announced = false;
        loop {
            if !announced {
                announced = rx.recv_timeout(Duration::from_millis(20)).is_ok();
            } else {
                std::thread::sleep(Duration::from_millis(20));
            }
            if announced && is_mounted(&self.mount) {
                return;
            }
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
                self.child = None;
                panic!("infinit volume run exited with {status} before mounting: {}", self.stderr());
            }
            assert!(
                Instant::now() < deadline,
                "volume not mounted within {PATIENCE:?} (announced: {announced}): {}",
                self.stderr()
            );
        }
    }

    /// What the serving process printed on stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// What the serving process printed on stdout so far.
    pub fn stdout(&self) -> Vec<String> {
        self.stdout.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// A path inside the mounted volume.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.mount.join(rel)
    }

    /// Stop with SIGTERM; insist on exit 0, the goodbye line and no mount.
    pub fn stop(&mut self) {
        let mut child = self.child.take().expect("volume is running");
        signal(&child, libc::SIGTERM);
        let status = wait_bounded(&mut child, PATIENCE).unwrap_or_else(|| {
            let _ = child.kill();
            let _ = child.wait();
            panic!("volume run ignored SIGTERM for {PATIENCE:?}");
        });
        assert!(status.success(), "volume run exited with {status}: {}", self.stderr());
        // The reader thread may lag the exit by a moment.
        let deadline = Instant::now() + Duration::from_secs(5);
        while !self.stdout().iter().any(|l| l.starts_with("Unmounted volume")) {
            assert!(Instant::now() < deadline, "no `Unmounted volume` line: {:?}", self.stdout());
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(!is_mounted(&self.mount), "still mounted after a clean stop");
    }

    /// Send SIGTERM without waiting.
    pub fn terminate(&self) {
        signal(self.child.as_ref().expect("volume is running"), libc::SIGTERM);
    }

    /// Whether the serving process has exited (reaping it if so).
    pub fn exited(&mut self) -> bool {
        let gone = self.child.as_mut().is_none_or(|c| c.try_wait().ok().flatten().is_some());
        if gone {
            self.child = None;
        }
        gone
    }

    /// Kill the process with SIGKILL, leaving a dead mount behind.
    pub fn kill9(&mut self) {
        let mut child = self.child.take().expect("volume is running");
        signal(&child, libc::SIGKILL);
        let _ = child.wait();
    }

    /// Serve the volume again with other `volume run` options.
    pub fn restart_with(&mut self, run_args: &[&str]) {
        self.run_args = run_args.iter().map(|s| s.to_string()).collect();
        self.restart();
    }

    /// Serve `volume` as another local `user` of the same home, on the same
    /// mountpoint (stopping the current run first).
    pub fn restart_as(&mut self, user: &str, volume: &str) {
        self.user = user.to_string();
        self.volume = volume.to_string();
        self.restart();
    }

    /// Serve the volume again on the same mountpoint.
    pub fn restart(&mut self) {
        if self.child.is_some() {
            self.stop();
        }
        self.launch();
    }
}

impl Drop for Volume {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            signal(&child, libc::SIGTERM);
            if wait_bounded(&mut child, Duration::from_secs(10)).is_none() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        force_unmount(&self.mount);
    }
}

fn c_path(path: &Path) -> CString {
    CString::new(path.as_os_str().as_bytes()).expect("no NUL in path")
}

fn c_name(name: &str) -> CString {
    CString::new(name).expect("no NUL in name")
}

fn check(ret: libc::c_int) -> std::io::Result<()> {
    if ret < 0 { Err(std::io::Error::last_os_error()) } else { Ok(()) }
}

/// setxattr(2) with flags (0, `libc::XATTR_CREATE` or `libc::XATTR_REPLACE`).
pub fn set_xattr(path: &Path, name: &str, value: &[u8], flags: i32) -> std::io::Result<()> {
    let (p, n) = (c_path(path), c_name(name));
    // SAFETY: both strings are NUL-terminated and live across the call; the
    // value pointer and length describe one live slice.
    check(unsafe { libc::setxattr(p.as_ptr(), n.as_ptr(), value.as_ptr().cast(), value.len(), flags) })
}

/// getxattr(2), sizing the buffer first.
pub fn get_xattr(path: &Path, name: &str) -> std::io::Result<Vec<u8>> {
    let (p, n) = (c_path(path), c_name(name));
    // SAFETY: a null buffer of size 0 asks only for the size.
    let size = unsafe { libc::getxattr(p.as_ptr(), n.as_ptr(), std::ptr::null_mut(), 0) };
    if size < 0 {
        return Err(std::io::Error::last_os_error());
    }
    let mut buf = vec![0u8; size as usize];
    // SAFETY: buf is writable for buf.len() bytes.
    let got = unsafe { libc::getxattr(p.as_ptr(), n.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    if got < 0 {
        return Err(std::io::Error::last_os_error());
    }
    buf.truncate(got as usize);
    Ok(buf)
}

/// listxattr(2): the attribute names.
pub fn list_xattr(path: &Path) -> std::io::Result<Vec<String>> {
    let p = c_path(path);
    // SAFETY: a null buffer of size 0 asks only for the size.
    let size = unsafe { libc::listxattr(p.as_ptr(), std::ptr::null_mut(), 0) };
    if size < 0 {
        return Err(std::io::Error::last_os_error());
    }
    let mut buf = vec![0u8; size as usize];
    // SAFETY: buf is writable for buf.len() bytes.
    let got = unsafe { libc::listxattr(p.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    if got < 0 {
        return Err(std::io::Error::last_os_error());
    }
    buf.truncate(got as usize);
    Ok(buf.split(|&b| b == 0).filter(|s| !s.is_empty()).map(|s| String::from_utf8_lossy(s).into_owned()).collect())
}

/// removexattr(2).
pub fn remove_xattr(path: &Path, name: &str) -> std::io::Result<()> {
    let (p, n) = (c_path(path), c_name(name));
    // SAFETY: both strings are NUL-terminated and live across the call.
    check(unsafe { libc::removexattr(p.as_ptr(), n.as_ptr()) })
}

/// statvfs(2): (fragment size, total fragments, free fragments).
pub fn statvfs(path: &Path) -> std::io::Result<(u64, u64, u64)> {
    let p = c_path(path);
    let mut out = std::mem::MaybeUninit::<libc::statvfs>::zeroed();
    // SAFETY: `out` is a valid, writable statvfs; read only after success.
    check(unsafe { libc::statvfs(p.as_ptr(), out.as_mut_ptr()) })?;
    // SAFETY: statvfs succeeded and filled the struct (it was zeroed anyway).
    let s = unsafe { out.assume_init() };
    Ok((s.f_frsize, s.f_blocks, s.f_bfree))
}

/// Bytes free and bytes available to file content (`f_bfree` and
/// `f_bavail`, times the fragment size).
pub fn free_and_available(path: &Path) -> std::io::Result<(u64, u64)> {
    let p = c_path(path);
    let mut out = std::mem::MaybeUninit::<libc::statvfs>::zeroed();
    // SAFETY: `out` is a valid, writable statvfs; read only after success.
    check(unsafe { libc::statvfs(p.as_ptr(), out.as_mut_ptr()) })?;
    // SAFETY: statvfs succeeded and filled the struct (it was zeroed anyway).
    let s = unsafe { out.assume_init() };
    Ok((s.f_bfree * s.f_frsize, s.f_bavail * s.f_frsize))
}

/// Close `file` and report the error close(2) returns (std ignores it):
/// FUSE reports failed flushes there.
pub fn close(file: std::fs::File) -> std::io::Result<()> {
    let fd = file.into_raw_fd();
    // SAFETY: we own fd (taken out of the File) and close it exactly once.
    check(unsafe { libc::close(fd) })
}

/// Deterministic pseudo-random bytes (xorshift), for content checks.
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// SHA-256 of `data`, in hex.
pub fn sha(data: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}
