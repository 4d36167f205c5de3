//! A command that serves until stopped (`volume run`, `network run`), run
//! in the background of a test: started, awaited until it says it runs,
//! and always stopped (SIGTERM, then SIGKILL) and unmounted on drop, even
//! when the test fails.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::support::Home;

/// How long a node may take to start or stop.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// A serving `infinit` process.
pub struct Serving {
    child: Option<Child>,
    mount: Option<PathBuf>,
    stderr: PathBuf,
}

impl Serving {
    /// Start `infinit args` in `home` and wait for a stdout line starting
    /// with `ready`; `mount` is unmounted on drop if still mounted.
    pub fn start(home: &Home, args: &[&str], ready: &str, mount: Option<&Path>) -> Serving {
        Serving::start_command(
            home.cmd(args).into_std(),
            home.path(&format!("serving-{}.stderr", unique())),
            ready,
            mount,
        )
    }

    /// Like [`Serving::start`] with a prepared command; its stderr goes to `stderr`.
    pub fn start_command(mut command: Command, stderr: PathBuf, ready: &str, mount: Option<&Path>) -> Serving {
        if !command.get_envs().any(|(key, _)| key == "PATH") {
            command.env("PATH", std::env::var_os("PATH").unwrap_or_default());
        }
        let file = std::fs::File::create(&stderr).expect("stderr file");
        let mut child =
            command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(file).spawn().expect("spawn infinit");
        let out = child.stdout.take().expect("piped stdout");
        let mut serving = Serving { child: Some(child), mount: mount.map(Path::to_path_buf), stderr };
        let (tx, rx) = mpsc::channel();
        let ready = ready.to_string();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if line.starts_with(&ready) {
                    let _ = tx.send(());
                }
            }
        });
        let deadline = Instant::now() + PATIENCE;
        let mut announced = false;
        loop {
            announced = announced || rx.recv_timeout(Duration::from_millis(50)).is_ok();
            if announced && serving.mount.as_deref().is_none_or(is_mounted) {
                return serving;
            }
            if announced {
                std::thread::sleep(Duration::from_millis(20));
            }
            if let Some(status) = serving.child.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
                serving.child = None;
                panic!("the serving command exited with {status} before it was ready: {}", serving.stderr());
            }
            assert!(Instant::now() < deadline, "not ready within {PATIENCE:?}: {}", serving.stderr());
        }
    }

    /// What the process printed on stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Send `signal`, wait for the exit and return its code (`None`: killed by a signal).
    pub fn stop_with(&mut self, signal: i32) -> Option<i32> {
        let child = self.child.as_ref().expect("still running");
        send(child, signal);
        self.wait()
    }

    /// Send `signal` to the process group the command leads (it must have
    /// been started with `process_group(0)`), as Ctrl-C on a terminal does.
    pub fn stop_group_with(&mut self, signal: i32) -> Option<i32> {
        let pid = i32::try_from(self.child.as_ref().expect("still running").id()).expect("pid fits i32");
        // SAFETY: kill(2) touches no memory of ours; the group is our child's own.
        unsafe {
            libc::kill(-pid, signal);
        }
        self.wait()
    }

    fn wait(&mut self) -> Option<i32> {
        let mut child = self.child.take().expect("still running");
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return status.code();
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("did not stop within {PATIENCE:?}: {}", self.stderr());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            send(&child, libc::SIGTERM);
            let deadline = Instant::now() + Duration::from_secs(10);
            while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Some(mount) = &self.mount {
            force_unmount(mount);
        }
    }
}

fn send(child: &Child, signal: i32) {
    let pid = i32::try_from(child.id()).expect("pid fits i32");
    // SAFETY: kill(2) touches no memory of ours; the pid is our own child,
    // not reaped yet, so it names no other process.
    unsafe {
        libc::kill(pid, signal);
    }
}

#[path = "../common/mount.rs"]
mod mount;
pub use mount::{force_unmount, fuse_available, is_mounted};

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}
