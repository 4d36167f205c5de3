//! Hidden prompts on a real terminal (a pseudo-terminal the test opens):
//! Ctrl-C at a passphrase or secret prompt ends the command with 130 and
//! leaves the terminal as it was, echo on.

use std::io::{Read as _, Write as _};
use std::os::fd::{AsRawFd as _, FromRawFd as _, OwnedFd};
use std::os::unix::process::CommandExt as _;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::Home;

/// A pseudo-terminal: the master end the test types on, the slave end the command runs on.
struct Pty {
    master: std::fs::File,
    slave: OwnedFd,
}

fn open_pty() -> Pty {
    // SAFETY: plain libc calls on descriptors this function owns; ptsname's
    // static buffer is copied out at once and this test is its only user.
    unsafe {
        let master = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY);
        assert!(master >= 0, "posix_openpt: {}", std::io::Error::last_os_error());
        assert_eq!(libc::grantpt(master), 0);
        assert_eq!(libc::unlockpt(master), 0);
        let name = std::ffi::CStr::from_ptr(libc::ptsname(master)).to_owned();
        let slave = libc::open(name.as_ptr(), libc::O_RDWR | libc::O_NOCTTY);
        assert!(slave >= 0, "open slave: {}", std::io::Error::last_os_error());
        Pty { master: std::fs::File::from_raw_fd(master), slave: OwnedFd::from_raw_fd(slave) }
    }
}

fn local_flags(fd: i32) -> libc::tcflag_t {
    // SAFETY: tcgetattr fills the termios or fails; fd is an open terminal.
    unsafe {
        let mut term: libc::termios = std::mem::zeroed();
        assert_eq!(libc::tcgetattr(fd, &mut term), 0, "tcgetattr: {}", std::io::Error::last_os_error());
        term.c_lflag
    }
}

/// Read from the master until `needle` shows up (or fail after a while).
fn wait_for(master: &mut std::fs::File, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = Vec::new();
    let mut buf = [0u8; 256];
    while !String::from_utf8_lossy(&seen).contains(needle) {
        assert!(Instant::now() < deadline, "no {needle:?} on the terminal; saw {:?}", String::from_utf8_lossy(&seen));
        let mut poll = libc::pollfd { fd: master.as_raw_fd(), events: libc::POLLIN, revents: 0 };
        // SAFETY: one valid pollfd, for the duration of the call.
        if unsafe { libc::poll(&mut poll, 1, 100) } > 0 {
            match master.read(&mut buf) {
                Ok(0) | Err(_) => panic!("the terminal closed; saw {:?}", String::from_utf8_lossy(&seen)),
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
    }
    String::from_utf8_lossy(&seen).into_owned()
}

/// Run `args` on a fresh terminal, type Ctrl-C at the `prompt`, and check
/// the exit code and that echo and line editing are back.
fn ctrl_c_at_prompt_restores_the_terminal(home: &Home, args: &[&str], prompt: &str) {
    let mut pty = open_pty();
    let before = local_flags(pty.slave.as_raw_fd());
    assert_ne!(before & libc::ECHO, 0, "a fresh terminal echoes");
    let mut command = home.cmd(args).into_std();
    let stdio = || Stdio::from(pty.slave.try_clone().expect("dup slave"));
    command.stdin(stdio()).stdout(stdio()).stderr(stdio());
    // SAFETY: between fork and exec only async-signal-safe calls: a new
    // session whose controlling terminal is the slave (stdin), so the
    // command's /dev/tty is it and Ctrl-C reaches it as SIGINT.
    unsafe {
        command.pre_exec(|| {
            if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = command.spawn().expect("spawn on the terminal");
    wait_for(&mut pty.master, prompt);
    // The prompt is written before echo goes off: give it a moment, as a person would.
    std::thread::sleep(Duration::from_millis(300));
    pty.master.write_all(b"\x03").expect("type Ctrl-C");
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{args:?} did not end after Ctrl-C");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let after = local_flags(pty.slave.as_raw_fd());
    assert_eq!(
        after & (libc::ECHO | libc::ICANON | libc::ISIG),
        before & (libc::ECHO | libc::ICANON | libc::ISIG),
        "{args:?}: the terminal was left changed ({status})"
    );
    assert_eq!(status.code(), Some(130), "{args:?}: Ctrl-C exits 130");
}

#[test]
fn ctrl_c_at_the_new_passphrase_prompt_leaves_echo_on() {
    let home = Home::new("alice");
    ctrl_c_at_prompt_restores_the_terminal(&home, &["user", "create", "--passphrase"], "Passphrase: ");
    assert!(!home.file("users/alice").exists());
}

#[test]
fn ctrl_c_at_the_passphrase_prompt_of_a_protected_key_leaves_echo_on() {
    let home = Home::new("alice");
    home.cmd(&["user", "create", "--passphrase-stdin"]).stdin("pw\n").ok();
    ctrl_c_at_prompt_restores_the_terminal(&home, &["network", "create", "net"], "Passphrase of user \"alice\": ");
}

#[test]
fn ctrl_c_at_the_secret_prompt_leaves_echo_on() {
    let home = Home::new("alice");
    let args = ["credentials", "add", "--aws", "--name", "a", "--access-key-id", "AKIA1"];
    ctrl_c_at_prompt_restores_the_terminal(&home, &args, "AWS secret access key: ");
}
