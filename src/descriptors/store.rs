//! The on-disk descriptor store: pretty JSON with sorted keys, one file per
//! descriptor, written atomically (temp file, fsync, rename, fsync of the
//! directory) and never overwritten silently.

use std::fs;
use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{DescriptorError, Home, Result};

/// The kinds of descriptors and where each lives under the data directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    User,
    Silo,
    Credentials,
    Network,
    LinkedNetwork,
    Passport,
    Volume,
}

impl Kind {
    fn dir(self) -> &'static str {
        match self {
            Kind::User => "users",
            Kind::Silo => "silos",
            Kind::Credentials => "credentials",
            Kind::Network => "networks",
            Kind::LinkedNetwork => "linked_networks",
            Kind::Passport => "passports",
            Kind::Volume => "volumes",
        }
    }

    /// Files of this kind hold private keys or secrets: mode 0600.
    pub fn is_secret(self) -> bool {
        matches!(self, Kind::User | Kind::Credentials | Kind::LinkedNetwork)
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Kind::User => "user",
            Kind::Silo => "silo",
            Kind::Credentials => "credentials",
            Kind::Network => "network",
            Kind::LinkedNetwork => "linked network",
            Kind::Passport => "passport",
            Kind::Volume => "volume",
        })
    }
}

/// What a save did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saved {
    /// The descriptor did not exist and was written.
    Created,
    /// An identical descriptor was already there: nothing written.
    Unchanged,
    /// A different descriptor was replaced (only with [`Store::replace`]).
    Replaced,
}

/// Descriptor files under one home.
#[derive(Debug, Clone)]
pub struct Store {
    /// The resolved home.
    pub home: Home,
}

impl Store {
    /// A store over `home`.
    pub fn new(home: Home) -> Self {
        Store { home }
    }

    /// The file of descriptor `name` (which may be `owner/name` or deeper).
    pub fn path(&self, kind: Kind, name: &str) -> PathBuf {
        self.home.data.join(kind.dir()).join(name)
    }

    /// Whether descriptor `name` exists.
    pub fn exists(&self, kind: Kind, name: &str) -> bool {
        self.path(kind, name).is_file()
    }

    /// Read and parse descriptor `name`.
    pub fn load<T: DeserializeOwned>(&self, kind: Kind, name: &str) -> Result<T> {
        let path = self.path(kind, name);
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(DescriptorError::NotFound { kind, name: name.to_string() });
            }
            Err(e) => return Err(DescriptorError::io(&path, e)),
        };
        serde_json::from_slice(&bytes).map_err(|e| DescriptorError::Parse {
            kind,
            name: name.to_string(),
            why: e.to_string(),
        })
    }

    /// Save a new descriptor: identical content is a no-op, different content an error.
    pub fn create<T: Serialize>(&self, kind: Kind, name: &str, value: &T) -> Result<Saved> {
        self.save(kind, name, value, false)
    }

    /// Save a descriptor, replacing whatever was there.
    pub fn replace<T: Serialize>(&self, kind: Kind, name: &str, value: &T) -> Result<Saved> {
        self.save(kind, name, value, true)
    }

    fn save<T: Serialize>(&self, kind: Kind, name: &str, value: &T, replace: bool) -> Result<Saved> {
        let text = render(value).map_err(|why| DescriptorError::Invalid { kind, name: name.to_string(), why })?;
        let path = self.path(kind, name);
        let existed = match fs::read(&path) {
            Ok(old) => {
                let same = serde_json::from_slice::<serde_json::Value>(&old).ok()
                    == serde_json::from_str::<serde_json::Value>(&text).ok();
                if same {
                    return Ok(Saved::Unchanged);
                }
                if !replace {
                    return Err(DescriptorError::Exists {
                        kind,
                        name: name.to_string(),
                        hint: " (delete it first, or use --force where the mode offers it)",
                    });
                }
                true
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
            Err(e) => return Err(DescriptorError::io(&path, e)),
        };
        write_atomic(&path, text.as_bytes(), kind.is_secret())?;
        Ok(if existed { Saved::Replaced } else { Saved::Created })
    }

    /// Delete descriptor `name`; returns whether it existed. Empty parent
    /// folders up to the kind's folder are removed too.
    pub fn delete(&self, kind: Kind, name: &str) -> Result<bool> {
        let path = self.path(kind, name);
        match fs::remove_file(&path) {
            Ok(()) => {
                let top = self.home.data.join(kind.dir());
                let mut dir = path.parent();
                while let Some(d) = dir {
                    if d == top || !d.starts_with(&top) || fs::remove_dir(d).is_err() {
                        break;
                    }
                    dir = d.parent();
                }
                Ok(true)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(DescriptorError::io(&path, e)),
        }
    }

    /// Names of every descriptor of `kind` below `prefix` (relative to the
    /// kind's folder, `/`-separated, sorted). Hidden and temporary files are skipped.
    pub fn list(&self, kind: Kind, prefix: Option<&str>) -> Result<Vec<String>> {
        let top = self.home.data.join(kind.dir());
        let start = match prefix {
            Some(p) => top.join(p),
            None => top.clone(),
        };
        let mut out = Vec::new();
        walk(&start, &top, &mut out)?;
        out.sort();
        Ok(out)
    }
}

fn walk(dir: &Path, top: &Path, out: &mut Vec<String>) -> Result<()> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(DescriptorError::io(dir, e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| DescriptorError::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || name.ends_with('~') {
            continue;
        }
        let path = entry.path();
        let ty = entry.file_type().map_err(|e| DescriptorError::io(&path, e))?;
        if ty.is_dir() {
            walk(&path, top, out)?;
        } else if ty.is_file()
            && let Ok(rel) = path.strip_prefix(top)
        {
            out.push(rel.to_string_lossy().into_owned());
        }
    }
    Ok(())
}

/// Pretty JSON with sorted keys and a final newline.
pub fn render<T: Serialize>(value: &T) -> std::result::Result<String, String> {
    // serde_json's Value map is ordered (BTreeMap), which sorts every object's keys.
    let value = serde_json::to_value(value).map_err(|e| e.to_string())?;
    let mut text = serde_json::to_string_pretty(&value).map_err(|e| e.to_string())?;
    text.push('\n');
    Ok(text)
}

/// Write `bytes` to `path` atomically: a temp file in the same folder,
/// fsync, rename over the target, fsync of the folder. `secret` files get
/// mode 0600 from their creation on.
pub fn write_atomic(path: &Path, bytes: &[u8], secret: bool) -> Result<()> {
    let dir = match path.parent() {
        // A bare file name (`bob.user`) lives in the current folder.
        Some(d) if d.as_os_str().is_empty() => Path::new("."),
        Some(d) => d,
        None => {
            let why = std::io::Error::new(std::io::ErrorKind::InvalidInput, "no parent folder");
            return Err(DescriptorError::io(path, why));
        }
    };
    fs::create_dir_all(dir).map_err(|e| DescriptorError::io(dir, e))?;
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{file_name}.tmp.{}", std::process::id()));
    let result = (|| {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(if secret { 0o600 } else { 0o644 })
            .open(&tmp)?;
        file.set_permissions(fs::Permissions::from_mode(if secret { 0o600 } else { 0o644 }))?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, path)?;
        fs::File::open(dir)?.sync_all()
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(DescriptorError::io(path, e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct Doc {
        zeta: u32,
        alpha: String,
    }

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let home = Home { data: dir.path().join("data"), state: dir.path().join("state") };
        (dir, Store::new(home))
    }

    #[test]
    fn files_are_pretty_sorted_json_and_secret_ones_private() {
        let (_d, s) = store();
        s.create(Kind::User, "alice", &Doc { zeta: 1, alpha: "a".into() }).unwrap();
        let text = fs::read_to_string(s.path(Kind::User, "alice")).unwrap();
        assert!(text.find("alpha").unwrap() < text.find("zeta").unwrap());
        assert!(text.contains("\n  "));
        let mode = fs::metadata(s.path(Kind::User, "alice")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        s.create(Kind::Silo, "s", &Doc { zeta: 1, alpha: "a".into() }).unwrap();
        let mode = fs::metadata(s.path(Kind::Silo, "s")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o644);
    }

    #[test]
    fn never_overwrites_silently() {
        let (_d, s) = store();
        let a = Doc { zeta: 1, alpha: "a".into() };
        let b = Doc { zeta: 2, alpha: "a".into() };
        assert_eq!(s.create(Kind::Network, "o/n", &a).unwrap(), Saved::Created);
        assert_eq!(s.create(Kind::Network, "o/n", &a).unwrap(), Saved::Unchanged);
        assert!(matches!(s.create(Kind::Network, "o/n", &b), Err(DescriptorError::Exists { .. })));
        assert_eq!(s.load::<Doc>(Kind::Network, "o/n").unwrap(), a);
        assert_eq!(s.replace(Kind::Network, "o/n", &b).unwrap(), Saved::Replaced);
        assert_eq!(s.load::<Doc>(Kind::Network, "o/n").unwrap(), b);
    }

    #[test]
    fn list_skips_hidden_and_temp_files_and_delete_prunes_folders() {
        let (_d, s) = store();
        let a = Doc { zeta: 1, alpha: "a".into() };
        s.create(Kind::Passport, "o/n/bob", &a).unwrap();
        s.create(Kind::Passport, "o/m/eve", &a).unwrap();
        fs::write(s.path(Kind::Passport, "o/n/.hidden"), "x").unwrap();
        fs::write(s.path(Kind::Passport, "o/n/bak~"), "x").unwrap();
        assert_eq!(s.list(Kind::Passport, None).unwrap(), vec!["o/m/eve", "o/n/bob"]);
        assert_eq!(s.list(Kind::Passport, Some("o/n")).unwrap(), vec!["o/n/bob"]);
        assert!(s.delete(Kind::Passport, "o/m/eve").unwrap());
        assert!(!s.path(Kind::Passport, "o/m").exists());
        assert!(!s.delete(Kind::Passport, "o/m/eve").unwrap());
    }
}
