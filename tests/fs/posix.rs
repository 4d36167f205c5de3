//! POSIX behaviour of a mounted volume through std::fs: content round trips
//! at chunk and inline boundaries, sparse files, truncation, directories,
//! renames, links, attributes, xattrs, long names, big listings, statfs.

use std::fs::{self, File, OpenOptions};
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::time::{Duration, SystemTime};

use crate::support::{Setup, Volume, get_xattr, list_xattr, noise, remove_xattr, set_xattr, statvfs};

const ENOENT: i32 = 2;
const EEXIST: i32 = 17;
const EISDIR: i32 = 21;
const ENAMETOOLONG: i32 = 36;
const ENOTEMPTY: i32 = 39;
const ENODATA: i32 = 61;

fn errno<T: std::fmt::Debug>(result: std::io::Result<T>) -> i32 {
    result.expect_err("expected an error").raw_os_error().expect("an OS error")
}

#[test]
fn files_of_every_boundary_size_read_back_identical() {
    let Some(v) = Volume::start("files_of_every_boundary_size_read_back_identical") else {
        return;
    };
    const MIB: usize = 1 << 20;
    let sizes = [0, 1, 4095, 4096, 8191, 8192, 8193, MIB - 1, MIB, MIB + 1, 5 * MIB + 7];
    for (i, &size) in sizes.iter().enumerate() {
        let data = noise(size, i as u64 + 1);
        let path = v.path(&format!("f{size}"));
        fs::write(&path, &data).unwrap_or_else(|e| panic!("write {size}: {e}"));
        assert_eq!(fs::metadata(&path).unwrap().len(), size as u64);
        let back = fs::read(&path).unwrap();
        assert!(back == data, "content of a {size}-byte file differs");
    }
    // Read again through a fresh kernel cache: stop and serve anew.
    drop(v);
}

#[test]
fn append_and_overwrite_in_the_middle() {
    let Some(v) = Volume::start("append_and_overwrite_in_the_middle") else {
        return;
    };
    let path = v.path("log");
    let mut expected = noise(10_000, 7);
    fs::write(&path, &expected).unwrap();
    let more = noise(2_000_000, 8);
    let mut f = OpenOptions::new().append(true).open(&path).unwrap();
    f.write_all(&more).unwrap();
    drop(f);
    expected.extend_from_slice(&more);
    assert!(fs::read(&path).unwrap() == expected, "append lost data");

    // Overwrite a span crossing the first 1 MiB chunk boundary.
    let patch = noise(300_000, 9);
    let at = (1 << 20) - 100_000;
    let mut f = OpenOptions::new().write(true).open(&path).unwrap();
    f.seek(SeekFrom::Start(at as u64)).unwrap();
    f.write_all(&patch).unwrap();
    f.sync_all().unwrap();
    drop(f);
    expected[at..at + patch.len()].copy_from_slice(&patch);
    let back = fs::read(&path).unwrap();
    assert_eq!(back.len(), expected.len());
    assert!(back == expected, "overwrite in the middle corrupted the file");

    // A small in-place overwrite of an inline file.
    let small = v.path("small");
    fs::write(&small, b"hello world").unwrap();
    let mut f = OpenOptions::new().write(true).open(&small).unwrap();
    f.seek(SeekFrom::Start(6)).unwrap();
    f.write_all(b"WORLD").unwrap();
    drop(f);
    assert_eq!(fs::read(&small).unwrap(), b"hello WORLD");
}

#[test]
fn sparse_files_read_zeros_in_holes() {
    let Some(v) = Volume::start("sparse_files_read_zeros_in_holes") else {
        return;
    };
    for (name, hole) in [("small", 5_000u64), ("big", 3 * (1 << 20) + 17)] {
        let path = v.path(name);
        let mut f = File::create(&path).unwrap();
        f.write_all(b"head").unwrap();
        f.seek(SeekFrom::Start(hole)).unwrap();
        f.write_all(b"tail").unwrap();
        drop(f);
        let meta = fs::metadata(&path).unwrap();
        assert_eq!(meta.len(), hole + 4, "{name}: size");
        let back = fs::read(&path).unwrap();
        assert_eq!(&back[..4], b"head");
        assert!(back[4..hole as usize].iter().all(|&b| b == 0), "{name}: hole is not zeros");
        assert_eq!(&back[hole as usize..], b"tail");
    }
    // Extending with set_len also makes a hole.
    let path = v.path("extended");
    let f = File::create(&path).unwrap();
    f.set_len(2 * (1 << 20) + 1).unwrap();
    drop(f);
    let back = fs::read(&path).unwrap();
    assert_eq!(back.len(), 2 * (1 << 20) + 1);
    assert!(back.iter().all(|&b| b == 0));
}

#[test]
fn truncate_down_and_up() {
    let Some(v) = Volume::start("truncate_down_and_up") else {
        return;
    };
    for (name, len, down, up) in [
        ("inline", 6_000usize, 1_000usize, 7_000usize),
        ("chunked", 3 * (1 << 20), (1 << 20) + 5, 2 * (1 << 20) + 3),
        ("to-inline", 2 * (1 << 20), 100, 20_000),
    ] {
        let path = v.path(name);
        let data = noise(len, len as u64);
        fs::write(&path, &data).unwrap();
        let f = OpenOptions::new().write(true).open(&path).unwrap();
        f.set_len(down as u64).unwrap();
        assert_eq!(f.metadata().unwrap().len(), down as u64, "{name}: down");
        f.set_len(up as u64).unwrap();
        drop(f);
        let back = fs::read(&path).unwrap();
        assert_eq!(back.len(), up, "{name}: up");
        assert!(back[..down] == data[..down], "{name}: kept prefix differs");
        assert!(back[down..].iter().all(|&b| b == 0), "{name}: the regrown tail must be zeros, not old data");
    }
    // O_TRUNC on open.
    let path = v.path("otrunc");
    fs::write(&path, noise(50_000, 3)).unwrap();
    fs::write(&path, b"x").unwrap();
    assert_eq!(fs::read(&path).unwrap(), b"x");
}

#[test]
fn directories_create_remove_and_refuse_misuse() {
    let Some(v) = Volume::start("directories_create_remove_and_refuse_misuse") else {
        return;
    };
    let dir = v.path("d");
    fs::create_dir(&dir).unwrap();
    assert!(fs::metadata(&dir).unwrap().is_dir());
    assert_eq!(errno(fs::create_dir(&dir)), EEXIST);
    fs::create_dir_all(v.path("d/e/f")).unwrap();
    assert_eq!(fs::metadata(&dir).unwrap().nlink(), 3, "2 + one subdir");
    fs::write(v.path("d/file"), b"x").unwrap();

    assert_eq!(errno(fs::remove_dir(&dir)), ENOTEMPTY);
    assert_eq!(errno(fs::remove_file(&dir)), EISDIR);
    assert_eq!(errno(OpenOptions::new().write(true).create_new(true).open(v.path("d/file"))), EEXIST);
    assert_eq!(errno(fs::remove_dir(v.path("missing"))), ENOENT);

    fs::remove_file(v.path("d/file")).unwrap();
    fs::remove_dir(v.path("d/e/f")).unwrap();
    fs::remove_dir(v.path("d/e")).unwrap();
    fs::remove_dir(&dir).unwrap();
    assert_eq!(errno(fs::metadata(&dir)), ENOENT);
    assert!(fs::read_dir(&v.mount).unwrap().next().is_none());
}

#[test]
fn renames_move_and_replace_atomically() {
    let Some(v) = Volume::start("renames_move_and_replace_atomically") else {
        return;
    };
    fs::create_dir(v.path("a")).unwrap();
    fs::create_dir(v.path("b")).unwrap();
    fs::write(v.path("a/one"), b"1").unwrap();
    fs::rename(v.path("a/one"), v.path("a/two")).unwrap();
    assert_eq!(errno(fs::metadata(v.path("a/one"))), ENOENT);
    assert_eq!(fs::read(v.path("a/two")).unwrap(), b"1");

    fs::rename(v.path("a/two"), v.path("b/three")).unwrap();
    assert_eq!(fs::read(v.path("b/three")).unwrap(), b"1");
    assert!(fs::read_dir(v.path("a")).unwrap().next().is_none());

    // Replace an existing file: the old content is gone, the name never missing.
    let big = noise(3 << 20, 4);
    fs::write(v.path("b/target"), &big).unwrap();
    fs::rename(v.path("b/three"), v.path("b/target")).unwrap();
    assert_eq!(fs::read(v.path("b/target")).unwrap(), b"1");
    assert_eq!(errno(fs::metadata(v.path("b/three"))), ENOENT);

    // A directory over a non-empty directory is refused; over an empty one works.
    fs::create_dir(v.path("src")).unwrap();
    fs::write(v.path("src/kept"), b"k").unwrap();
    assert_eq!(errno(fs::rename(v.path("src"), v.path("b"))), ENOTEMPTY);
    fs::rename(v.path("src"), v.path("a")).unwrap();
    assert_eq!(fs::read(v.path("a/kept")).unwrap(), b"k");
    assert_eq!(errno(fs::metadata(v.path("src"))), ENOENT);

    // A directory moved with its content across directories.
    fs::rename(v.path("a"), v.path("b/a")).unwrap();
    assert_eq!(fs::read(v.path("b/a/kept")).unwrap(), b"k");
}

#[test]
fn symlinks_and_hard_links() {
    let Some(v) = Volume::start("symlinks_and_hard_links") else {
        return;
    };
    fs::write(v.path("file"), b"shared").unwrap();
    std::os::unix::fs::symlink("file", v.path("sym")).unwrap();
    std::os::unix::fs::symlink("../nowhere/x", v.path("dangling")).unwrap();
    assert_eq!(fs::read_link(v.path("sym")).unwrap(), std::path::Path::new("file"));
    assert_eq!(fs::read_link(v.path("dangling")).unwrap(), std::path::Path::new("../nowhere/x"));
    assert!(fs::symlink_metadata(v.path("sym")).unwrap().is_symlink());
    assert_eq!(fs::read(v.path("sym")).unwrap(), b"shared");
    assert_eq!(errno(fs::read(v.path("dangling"))), ENOENT);

    fs::hard_link(v.path("file"), v.path("link")).unwrap();
    let a = fs::metadata(v.path("file")).unwrap();
    let b = fs::metadata(v.path("link")).unwrap();
    assert_eq!(a.nlink(), 2);
    assert_eq!(b.nlink(), 2);
    assert_eq!(a.ino(), b.ino(), "both names are one inode");
    fs::write(v.path("link"), b"changed through the link").unwrap();
    assert_eq!(fs::read(v.path("file")).unwrap(), b"changed through the link");
    fs::remove_file(v.path("file")).unwrap();
    assert_eq!(fs::metadata(v.path("link")).unwrap().nlink(), 1);
    assert_eq!(fs::read(v.path("link")).unwrap(), b"changed through the link");
    // The symlink now dangles, like on any file system.
    assert_eq!(errno(fs::read(v.path("sym"))), ENOENT);
}

#[test]
fn modes_owners_and_times_are_kept() {
    let Some(v) = Volume::start("modes_owners_and_times_are_kept") else {
        return;
    };
    let path = v.path("f");
    fs::write(&path, b"x").unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
    assert_eq!(fs::metadata(&path).unwrap().mode() & 0o7777, 0o640);
    fs::set_permissions(&path, fs::Permissions::from_mode(0o4755)).unwrap();
    assert_eq!(fs::metadata(&path).unwrap().mode() & 0o7777, 0o4755);

    std::os::unix::fs::chown(&path, Some(1234), Some(5678)).unwrap();
    let meta = fs::metadata(&path).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (1234, 5678));

    let when = SystemTime::UNIX_EPOCH + Duration::new(1_000_000_000, 123_456_789);
    let f = OpenOptions::new().write(true).open(&path).unwrap();
    f.set_modified(when).unwrap();
    drop(f);
    assert_eq!(fs::metadata(&path).unwrap().modified().unwrap(), when);

    fs::create_dir(v.path("d")).unwrap();
    fs::set_permissions(v.path("d"), fs::Permissions::from_mode(0o700)).unwrap();
    assert_eq!(fs::metadata(v.path("d")).unwrap().mode() & 0o7777, 0o700);
}

#[test]
fn extended_attributes_set_get_list_remove() {
    let Some(v) = Volume::start("extended_attributes_set_get_list_remove") else {
        return;
    };
    let path = v.path("f");
    fs::write(&path, b"x").unwrap();
    set_xattr(&path, "user.colour", b"blue", 0).unwrap();
    set_xattr(&path, "user.empty", b"", 0).unwrap();
    let big = noise(3000, 1);
    set_xattr(&path, "user.big", &big, 0).unwrap();
    assert_eq!(get_xattr(&path, "user.colour").unwrap(), b"blue");
    assert_eq!(get_xattr(&path, "user.empty").unwrap(), b"");
    assert_eq!(get_xattr(&path, "user.big").unwrap(), big);
    let mut names = list_xattr(&path).unwrap();
    names.sort();
    assert_eq!(names, ["user.big", "user.colour", "user.empty"]);

    assert_eq!(errno(set_xattr(&path, "user.colour", b"red", libc::XATTR_CREATE)), EEXIST);
    assert_eq!(errno(set_xattr(&path, "user.none", b"x", libc::XATTR_REPLACE)), ENODATA);
    set_xattr(&path, "user.colour", b"red", libc::XATTR_REPLACE).unwrap();
    assert_eq!(get_xattr(&path, "user.colour").unwrap(), b"red");

    remove_xattr(&path, "user.colour").unwrap();
    assert_eq!(errno(get_xattr(&path, "user.colour")), ENODATA);
    assert_eq!(errno(remove_xattr(&path, "user.colour")), ENODATA);
    let mut names = list_xattr(&path).unwrap();
    names.sort();
    assert_eq!(names, ["user.big", "user.empty"]);
    // Directories carry xattrs too.
    set_xattr(&v.mount, "user.root", b"r", 0).unwrap();
    assert_eq!(get_xattr(&v.mount, "user.root").unwrap(), b"r");
}

#[test]
fn names_longer_than_255_bytes_are_refused() {
    let Some(v) = Volume::start("names_longer_than_255_bytes_are_refused") else {
        return;
    };
    let ok = "n".repeat(255);
    fs::write(v.path(&ok), b"x").unwrap();
    assert_eq!(fs::read(v.path(&ok)).unwrap(), b"x");
    let long = "n".repeat(256);
    assert_eq!(errno(fs::write(v.path(&long), b"x")), ENAMETOOLONG);
    assert_eq!(errno(fs::create_dir(v.path(&long))), ENAMETOOLONG);
    assert_eq!(errno(fs::metadata(v.path(&long))), ENAMETOOLONG);
    assert_eq!(errno(fs::rename(v.path(&ok), v.path(&long))), ENAMETOOLONG);
}

#[test]
fn listing_2000_entries_is_complete() {
    let Some(v) = Volume::start("listing_2000_entries_is_complete") else {
        return;
    };
    fs::create_dir(v.path("many")).unwrap();
    let mut created: Vec<String> = (0..2000).map(|i| format!("entry-{i:05}-{}", i * 7919 % 1000)).collect();
    for (i, name) in created.iter().enumerate() {
        if i % 10 == 0 {
            fs::create_dir(v.path(&format!("many/{name}"))).unwrap();
        } else {
            File::create(v.path(&format!("many/{name}"))).unwrap();
        }
    }
    let mut listed: Vec<String> =
        fs::read_dir(v.path("many")).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert_eq!(listed.len(), 2000, "readdir lost or duplicated entries");
    listed.sort();
    created.sort();
    assert_eq!(listed, created);
}

#[test]
fn statfs_reports_the_silo_capacity() {
    let setup = Setup { capacity: Some("64MB".into()), ..Setup::default() };
    let Some(v) = Volume::start_with("statfs_reports_the_silo_capacity", &setup) else {
        return;
    };
    let (frsize, blocks, free) = statvfs(&v.mount).unwrap();
    let total = frsize * blocks;
    assert!((64_000_000 - frsize..=64_000_000).contains(&total), "statfs total {total} is not the 64 MB capacity");
    assert!(free <= blocks);
    fs::write(v.path("f"), noise(4 << 20, 2)).unwrap();
    let (_, _, free_after) = statvfs(&v.mount).unwrap();
    assert!(free - free_after >= (4 << 20) / frsize, "writing 4 MiB freed nothing in statfs: {free} -> {free_after}");
}

#[test]
fn reading_a_file_twice_through_one_handle_is_stable() {
    let Some(v) = Volume::start("reading_a_file_twice_through_one_handle_is_stable") else {
        return;
    };
    let data = noise(3 << 20, 11);
    fs::write(v.path("f"), &data).unwrap();
    let mut f = File::open(v.path("f")).unwrap();
    let mut first = Vec::new();
    f.read_to_end(&mut first).unwrap();
    f.seek(SeekFrom::Start(0)).unwrap();
    let mut second = Vec::new();
    f.read_to_end(&mut second).unwrap();
    assert!(first == data && second == data);
}

fn mknod(path: &std::path::Path, mode: u32, dev: u64) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt as _;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: `c` is a valid NUL-terminated path for the duration of the call.
    if unsafe { libc::mknod(c.as_ptr(), mode, dev) } == 0 { Ok(()) } else { Err(std::io::Error::last_os_error()) }
}

#[test]
fn fifos_sockets_and_device_nodes_work_and_survive_a_restart() {
    use std::os::unix::fs::FileTypeExt as _;
    let Some(mut v) = Volume::start("fifos_sockets_and_device_nodes_work_and_survive_a_restart") else {
        return;
    };
    let fifo = v.path("pipe");
    mknod(&fifo, libc::S_IFIFO | 0o640, 0).expect("mkfifo");
    mknod(&v.path("tty"), libc::S_IFCHR | 0o600, libc::makedev(4, 64)).expect("mknod c");
    mknod(&v.path("disk"), libc::S_IFBLK | 0o600, libc::makedev(8, 1)).expect("mknod b");
    let sock = v.path("sock");
    let listener = std::os::unix::net::UnixListener::bind(&sock).expect("bind a unix socket on the volume");

    // The kernel serves them: a pipe carries bytes, a socket accepts.
    let writer_path = fifo.clone();
    let writer = std::thread::spawn(move || fs::write(writer_path, b"through the pipe").unwrap());
    assert_eq!(fs::read(&fifo).unwrap(), b"through the pipe");
    writer.join().unwrap();
    let client = std::thread::spawn({
        let sock = sock.clone();
        move || std::os::unix::net::UnixStream::connect(sock).unwrap().write_all(b"hi").unwrap()
    });
    let (mut conn, _) = listener.accept().unwrap();
    let mut got = Vec::new();
    conn.read_to_end(&mut got).unwrap();
    client.join().unwrap();
    assert_eq!(got, b"hi");
    // (A socket accepted from a path on the mount keeps the mount busy.)
    drop(conn);
    drop(listener);

    // A hard link to a FIFO counts.
    fs::hard_link(&fifo, v.path("pipe2")).unwrap();
    v.restart();
    let m = fs::symlink_metadata(v.path("pipe")).unwrap();
    assert!(m.file_type().is_fifo(), "pipe is {:?}", m.file_type());
    assert_eq!((m.mode() & 0o7777, m.nlink()), (0o640, 2));
    assert!(fs::symlink_metadata(v.path("sock")).unwrap().file_type().is_socket());
    let tty = fs::symlink_metadata(v.path("tty")).unwrap();
    assert!(tty.file_type().is_char_device());
    assert_eq!(tty.rdev(), libc::makedev(4, 64));
    let disk = fs::symlink_metadata(v.path("disk")).unwrap();
    assert!(disk.file_type().is_block_device());
    assert_eq!(disk.rdev(), libc::makedev(8, 1));
    for name in ["pipe", "pipe2", "sock", "tty", "disk"] {
        fs::remove_file(v.path(name)).unwrap_or_else(|e| panic!("unlink {name}: {e}"));
    }
    assert_eq!(fs::read_dir(v.path("")).unwrap().count(), 0);
}

#[test]
fn rename_fallocate_and_writes_change_times_at_once() {
    let Some(v) = Volume::start("rename_fallocate_and_writes_change_times_at_once") else {
        return;
    };
    let a = v.path("a");
    fs::write(&a, b"x").unwrap();
    let ctime = |p: &std::path::Path| {
        let m = fs::symlink_metadata(p).unwrap();
        (m.ctime(), m.ctime_nsec())
    };
    let before = ctime(&a);
    std::thread::sleep(Duration::from_millis(20));
    fs::rename(&a, v.path("b")).unwrap();
    assert!(ctime(&v.path("b")) > before, "rename kept the ctime");

    // mtime moves at write(), before any fsync or close.
    let mut f = OpenOptions::new().append(true).open(v.path("b")).unwrap();
    let m0 = fs::metadata(v.path("b")).unwrap().modified().unwrap();
    std::thread::sleep(Duration::from_millis(20));
    f.write_all(b"more").unwrap();
    let m1 = fs::metadata(v.path("b")).unwrap().modified().unwrap();
    assert!(m1 > m0, "write did not move mtime");

    // posix_fallocate grows the file and moves ctime.
    let before = ctime(&v.path("b"));
    std::thread::sleep(Duration::from_millis(20));
    use std::os::fd::AsRawFd as _;
    // SAFETY: the descriptor is open for the duration of the call.
    assert_eq!(unsafe { libc::posix_fallocate(f.as_raw_fd(), 0, 100_000) }, 0);
    assert_eq!(fs::metadata(v.path("b")).unwrap().len(), 100_000);
    assert!(ctime(&v.path("b")) > before, "fallocate kept the ctime");
    drop(f);
    let back = fs::read(v.path("b")).unwrap();
    assert_eq!(&back[..5], b"xmore");
    assert!(back[5..].iter().all(|&b| b == 0));
}

#[test]
fn link_unlink_chmod_chown_truncate_and_write_move_ctime() {
    let Some(v) = Volume::start("link_unlink_chmod_chown_truncate_and_write_move_ctime") else {
        return;
    };
    let ctime = |p: &std::path::Path| {
        let m = fs::symlink_metadata(p).unwrap();
        (m.ctime(), m.ctime_nsec())
    };
    let f = v.path("f");
    fs::write(&f, b"0123456789").unwrap();
    // Each change of the inode moves its ctime, at once (no fsync, no close).
    type Change<'a> = (&'a str, Box<dyn Fn() + 'a>);
    let changes: Vec<Change> = vec![
        ("link", Box::new(|| fs::hard_link(v.path("f"), v.path("g")).unwrap())),
        ("unlink of another name", Box::new(|| fs::remove_file(v.path("g")).unwrap())),
        ("chmod", Box::new(|| fs::set_permissions(v.path("f"), fs::Permissions::from_mode(0o600)).unwrap())),
        ("chown", Box::new(|| std::os::unix::fs::chown(v.path("f"), Some(0), Some(0)).unwrap())),
        ("truncate", Box::new(|| OpenOptions::new().write(true).open(v.path("f")).unwrap().set_len(3).unwrap())),
    ];
    for (what, change) in changes {
        let before = ctime(&f);
        std::thread::sleep(Duration::from_millis(20));
        change();
        assert!(ctime(&f) > before, "{what} kept the ctime");
    }
    // A write moves it at write(), while the file is still open.
    let mut h = OpenOptions::new().write(true).open(&f).unwrap();
    let before = ctime(&f);
    std::thread::sleep(Duration::from_millis(20));
    h.write_all(b"abc").unwrap();
    assert!(ctime(&f) > before, "write kept the ctime");
}

#[test]
fn other_users_reach_a_volume_root_mounted_and_modes_are_enforced() {
    let Some(v) = Volume::start("other_users_reach_a_volume_root_mounted_and_modes_are_enforced") else {
        return;
    };
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: needs root to act as another user");
        return;
    }
    fs::write(v.path("public"), b"for everyone").unwrap();
    fs::set_permissions(v.path("public"), fs::Permissions::from_mode(0o644)).unwrap();
    fs::write(v.path("private"), b"root only").unwrap();
    fs::set_permissions(v.path("private"), fs::Permissions::from_mode(0o600)).unwrap();
    fs::set_permissions(v.path(""), fs::Permissions::from_mode(0o755)).unwrap();
    let as_nobody = |script: &str| {
        std::process::Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "sh", "-c", script])
            .output()
            .expect("setpriv")
    };
    let read = as_nobody(&format!("cat {}", v.path("public").display()));
    assert!(read.status.success(), "nobody cannot read a 0644 file: {}", String::from_utf8_lossy(&read.stderr));
    assert_eq!(read.stdout, b"for everyone");
    let denied = as_nobody(&format!("cat {}", v.path("private").display()));
    assert!(!denied.status.success(), "nobody read a 0600 file");
    assert!(String::from_utf8_lossy(&denied.stderr).contains("Permission denied"));
    let write = as_nobody(&format!("echo x > {}/new", v.path("").display()));
    assert!(!write.status.success(), "nobody wrote in a 0755 root-owned folder");
}

/// The mount drops set-ID bits and file capabilities itself
/// (`FUSE_HANDLE_KILLPRIV_V2`): what the kernel does on a local file system
/// must still happen, and nothing more.
#[test]
fn set_id_bits_and_capabilities_drop_on_chown_write_and_truncate_as_on_a_local_disk() {
    let Some(v) = Volume::start("set_id_bits_and_capabilities_drop_on_chown_write_and_truncate_as_on_a_local_disk")
    else {
        return;
    };
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: needs root to act as another user");
        return;
    }
    let mode = |rel: &str| fs::metadata(v.path(rel)).unwrap().mode() & 0o7777;
    let set = |rel: &str, m: u32| fs::set_permissions(v.path(rel), fs::Permissions::from_mode(m)).unwrap();
    let as_nobody = |script: &str| {
        let out = std::process::Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "sh", "-c", script])
            .output()
            .expect("setpriv");
        assert!(out.status.success(), "{script}: {}", String::from_utf8_lossy(&out.stderr));
    };
    fs::set_permissions(v.path(""), fs::Permissions::from_mode(0o777)).unwrap();

    // A write by root (CAP_FSETID) keeps both bits.
    fs::write(v.path("root"), b"x").unwrap();
    set("root", 0o6755);
    OpenOptions::new().append(true).open(v.path("root")).unwrap().write_all(b"more").unwrap();
    assert_eq!(mode("root"), 0o6755, "a write by root dropped a set-ID bit");

    // A write by another user drops set-user-ID, and set-group-ID when the
    // group may execute; the data is written.
    for (name, before, after) in [("gx", 0o6775, 0o0775), ("g", 0o6764, 0o2764)] {
        fs::write(v.path(name), b"x").unwrap();
        std::os::unix::fs::chown(v.path(name), Some(65534), Some(65534)).unwrap();
        set(name, before);
        as_nobody(&format!("printf more >> {}", v.path(name).display()));
        assert_eq!(mode(name), after, "{name}: mode {before:o} after a write by its owner");
        assert_eq!(fs::read(v.path(name)).unwrap(), b"xmore");
    }
    // So does a truncation by another user.
    fs::write(v.path("t"), b"content").unwrap();
    std::os::unix::fs::chown(v.path("t"), Some(65534), Some(65534)).unwrap();
    set("t", 0o4777);
    as_nobody(&format!("truncate -s 3 {}", v.path("t").display()));
    assert_eq!((mode("t"), fs::read(v.path("t")).unwrap()), (0o0777, b"con".to_vec()));

    // A change of owner drops them even by root, on files, not on folders;
    // with the file's capabilities.
    fs::write(v.path("c"), b"x").unwrap();
    set("c", 0o6755);
    set_xattr(&v.path("c"), "security.capability", &[1, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 0)
        .unwrap();
    std::os::unix::fs::chown(v.path("c"), Some(1), None).unwrap();
    assert_eq!(mode("c"), 0o0755, "chown kept a set-ID bit");
    assert!(
        !list_xattr(&v.path("c")).unwrap().iter().any(|n| n == "security.capability"),
        "chown kept the file capabilities"
    );
    fs::create_dir(v.path("d")).unwrap();
    set("d", 0o2775);
    std::os::unix::fs::chown(v.path("d"), Some(1), Some(1)).unwrap();
    assert_eq!(mode("d"), 0o2775, "chown of a folder dropped its set-group-ID bit");
    // chmod alone keeps what it sets.
    set("c", 0o4711);
    assert_eq!(mode("c"), 0o4711);
}
