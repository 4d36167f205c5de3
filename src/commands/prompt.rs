//! Hidden prompts (passphrases, secrets) that never leave the terminal
//! without echo: while one is open, SIGINT, SIGTERM, SIGQUIT and SIGHUP
//! restore the terminal's settings from before the prompt, then end the
//! process with 128 + the signal (130 for Ctrl-C), as a shell reports it.

use std::mem::MaybeUninit;
use std::os::fd::AsRawFd as _;
use std::sync::atomic::{AtomicI32, Ordering};

/// The terminal a hidden prompt reads from, or -1 when none is open.
static TTY_FD: AtomicI32 = AtomicI32::new(-1);

/// The settings to restore; written only while `TTY_FD` is -1, read only
/// while it is not (by the signal handler).
struct Saved(std::cell::UnsafeCell<MaybeUninit<libc::termios>>);

// SAFETY: one prompt at a time (prompts are only called from the main
// thread, one after the other); the value is written before `TTY_FD`
// publishes it (Release) and read after the handler sees it (Acquire).
unsafe impl Sync for Saved {}

static SAVED: Saved = Saved(std::cell::UnsafeCell::new(MaybeUninit::uninit()));

const SIGNALS: [libc::c_int; 4] = [libc::SIGINT, libc::SIGTERM, libc::SIGQUIT, libc::SIGHUP];

extern "C" fn restore_and_exit(signal: libc::c_int) {
    let fd = TTY_FD.load(Ordering::Acquire);
    if fd >= 0 {
        // SAFETY: `SAVED` was filled by tcgetattr before `fd` was published;
        // tcsetattr, write and _exit are async-signal-safe.
        unsafe {
            libc::tcsetattr(fd, libc::TCSANOW, (*SAVED.0.get()).as_ptr());
            libc::write(fd, b"\n".as_ptr().cast(), 1);
        }
    }
    // SAFETY: _exit ends the process at once; nothing is shared any more.
    unsafe { libc::_exit(128 + signal) }
}

/// Restores the terminal and the previous signal dispositions when dropped.
struct TerminalGuard {
    tty: std::fs::File,
    previous: Vec<(libc::c_int, libc::sigaction)>,
}

impl TerminalGuard {
    /// Save the settings of the controlling terminal and catch the signals
    /// that would end the process; `None` if there is no terminal to guard.
    fn new() -> Option<TerminalGuard> {
        let tty = std::fs::OpenOptions::new().read(true).write(true).open("/dev/tty").ok()?;
        let fd = tty.as_raw_fd();
        // SAFETY: no prompt is open (TTY_FD is -1), so nothing reads SAVED;
        // tcgetattr writes a whole termios into it or fails.
        if unsafe { libc::tcgetattr(fd, (*SAVED.0.get()).as_mut_ptr()) } != 0 {
            return None;
        }
        TTY_FD.store(fd, Ordering::Release);
        let mut previous = Vec::new();
        for signal in SIGNALS {
            // SAFETY: a zeroed sigaction is a valid "no flags, empty mask"
            // value; the handler only calls async-signal-safe functions.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = restore_and_exit as *const () as libc::sighandler_t;
                libc::sigemptyset(&mut action.sa_mask);
                let mut old: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(signal, &action, &mut old) == 0 {
                    previous.push((signal, old));
                }
            }
        }
        Some(TerminalGuard { tty, previous })
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        for (signal, old) in &self.previous {
            // SAFETY: `old` is what sigaction returned for this signal.
            unsafe { libc::sigaction(*signal, old, std::ptr::null_mut()) };
        }
        TTY_FD.store(-1, Ordering::Release);
        // SAFETY: SAVED holds the settings read in `new`; the fd is open.
        unsafe { libc::tcsetattr(self.tty.as_raw_fd(), libc::TCSANOW, (*SAVED.0.get()).as_ptr()) };
    }
}

/// Ask for a line on the terminal without echoing it.
pub fn hidden(prompt: &str) -> std::io::Result<zeroize::Zeroizing<String>> {
    let _guard = TerminalGuard::new();
    rpassword::prompt_password(prompt).map(zeroize::Zeroizing::new)
}
