//! A long-running `infinit` process in a test (a node, a mount): its
//! stdout lines collected as they come, its stderr in a file, waited for
//! by the line it prints once ready. Shared by `tests/cluster` and
//! `tests/hub`, included by path in each.

use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A running process with its stdout lines and stderr file.
pub struct Proc {
    pub child: Child,
    pub lines: Arc<Mutex<Vec<String>>>,
    pub stderr: PathBuf,
}

impl Proc {
    /// Start `command` with stdin closed, stdout collected and stderr
    /// written to the file `stderr`.
    pub fn spawn(mut command: Command, stderr: PathBuf) -> Proc {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).expect("log file"))
            .spawn()
            .expect("spawn infinit");
        let out = child.stdout.take().expect("piped stdout");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                sink.lock().unwrap_or_else(|e| e.into_inner()).push(line);
            }
        });
        Proc { child, lines, stderr }
    }

    /// Wait until a stdout line starts with `prefix`; fail after `patience`
    /// or if the process exits first, with its log.
    pub fn wait_line(&mut self, prefix: &str, patience: Duration) {
        let deadline = Instant::now() + patience;
        loop {
            if self.lines.lock().unwrap_or_else(|e| e.into_inner()).iter().any(|l| l.starts_with(prefix)) {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("infinit exited with {status} before printing {prefix:?}: {}", self.log());
            }
            assert!(Instant::now() < deadline, "no {prefix:?} line within {patience:?}: {}", self.log());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// What the process logged on stderr.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Send `sig`.
    pub fn signal(&self, sig: i32) {
        let pid = i32::try_from(self.child.id()).expect("pid fits i32");
        // SAFETY: kill(2) has no memory effects; the pid is our own child,
        // not yet reaped, so it cannot name another process.
        unsafe {
            libc::kill(pid, sig);
        }
    }

    /// SIGKILL and reap.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
