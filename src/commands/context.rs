//! What every mode needs: the store of the resolved home, the acting user,
//! the output channel, and how to read secrets (environment, stdin or a
//! terminal prompt; never a prompt in script mode).

use std::io::{BufRead as _, IsTerminal as _, Read as _};
use std::path::Path;

use anyhow::{Context as _, bail};
use zeroize::Zeroizing;

use super::output::Output;
use crate::cli::Global;
use crate::crypto::KeyPair;
use crate::descriptors::{self, Home, Kind, Store, User, names};

/// Environment variable holding the passphrase of protected keys.
pub const PASSPHRASE_ENV: &str = "INFINIT_PASSPHRASE";

/// The state shared by every mode of one invocation.
#[derive(Debug)]
pub struct Context {
    /// Descriptor files.
    pub store: Store,
    /// Name of the acting user (`--as`).
    pub as_user: String,
    /// Where the acting user's name came from, for people.
    pub as_source: &'static str,
    /// Output channel.
    pub out: Output,
    /// The hub's URL (`--hub`, `INFINIT_HUB`), if any.
    pub hub: Option<String>,
}

impl Context {
    /// Resolve the home and the acting user.
    pub fn new(global: &Global) -> anyhow::Result<Context> {
        let home = Home::resolve(global.home.as_deref());
        let (as_user, as_source) = match &global.as_user {
            Some(u) if std::env::var("INFINIT_USER").is_ok_and(|e| e == *u) => (u.clone(), "INFINIT_USER"),
            Some(u) => (u.clone(), "--as"),
            None => {
                (login_name().context("cannot tell who you are: pass --as USER or set INFINIT_USER")?, "the login name")
            }
        };
        Ok(Context {
            store: Store::new(home),
            as_user,
            as_source,
            out: Output { script: global.script },
            hub: global.hub.clone().filter(|u| !u.is_empty()),
        })
    }

    /// The configured hub (`--hub URL` or `INFINIT_HUB`), or an error saying
    /// how to configure one.
    pub fn hub(&self) -> anyhow::Result<crate::hub::Hub> {
        let configured = crate::hub::Hub::configured(self.hub.as_deref()).ok_or(crate::hub::HubError::NotConfigured)?;
        Ok(configured?)
    }

    /// A descriptor not found under a name qualified with an acting user
    /// who does not exist here (a typo in `INFINIT_USER`, a wrong `--as`):
    /// say that first, with the users there are.
    pub fn explain_unknown_acting_user(&self, e: anyhow::Error) -> anyhow::Error {
        let qualified_with_me = match e.downcast_ref::<descriptors::DescriptorError>() {
            Some(descriptors::DescriptorError::NotFound { kind, name }) => {
                *kind != Kind::User && name.starts_with(&format!("{}/", self.as_user))
            }
            _ => false,
        };
        if !qualified_with_me || self.store.exists(Kind::User, &self.as_user) {
            return e;
        }
        let users = self.store.list(Kind::User, None).unwrap_or_default();
        let known = if users.is_empty() {
            "there are none yet: infinit user create".to_string()
        } else {
            format!("local users: {}", users.join(", "))
        };
        anyhow::anyhow!(
            "no user \"{}\" on this device (the acting user, from {}; {known}; pick one with --as USER): {e}",
            self.as_user,
            self.as_source
        )
    }

    /// Qualify a network/volume name with the acting user.
    pub fn qualify(&self, what: &'static str, name: &str) -> anyhow::Result<String> {
        Ok(names::qualify(what, name, &self.as_user)?)
    }

    /// Load and verify a user descriptor.
    pub fn user(&self, name: &str) -> anyhow::Result<User> {
        names::check("user", name)?;
        let user: User = self.store.load(Kind::User, name)?;
        user.verify()?;
        Ok(user)
    }

    /// The acting user's descriptor, which must hold a private key.
    pub fn me(&self) -> anyhow::Result<User> {
        let user = self.user(&self.as_user).map_err(|e| match e.downcast_ref::<descriptors::DescriptorError>() {
            Some(descriptors::DescriptorError::NotFound { .. }) => anyhow::anyhow!(
                "user \"{}\" does not exist on this device (create it with: infinit user create --name {0}, or pick another with --as)",
                self.as_user
            ),
            _ => e,
        })?;
        if !user.has_private_key() {
            bail!("user \"{}\" has no private key on this device: only its public part was imported", user.name);
        }
        Ok(user)
    }

    /// The acting user's key pair (asks for the passphrase if protected).
    pub fn my_keys(&self) -> anyhow::Result<(User, KeyPair)> {
        let user = self.me()?;
        let keys = user.keys(|| {
            self.passphrase(&format!("Passphrase of user \"{}\": ", user.name)).map_err(|e| {
                descriptors::DescriptorError::Invalid { kind: Kind::User, name: user.name.clone(), why: e.to_string() }
            })
        })?;
        Ok((user, keys))
    }

    /// Read a passphrase from the environment or, interactively, from the
    /// terminal; it is wiped from memory when dropped.
    pub fn passphrase(&self, prompt: &str) -> anyhow::Result<Zeroizing<String>> {
        if let Some(p) = std::env::var_os(PASSPHRASE_ENV) {
            return p
                .into_string()
                .map(Zeroizing::new)
                .map_err(|_| anyhow::anyhow!("{PASSPHRASE_ENV} is not valid UTF-8"));
        }
        if self.out.script || !std::io::stdin().is_terminal() {
            bail!(
                "the private key is protected by a passphrase: set {PASSPHRASE_ENV} (no prompt in script mode or without a terminal)"
            );
        }
        Ok(super::prompt::hidden(prompt)?)
    }

    /// Read a secret: from `env` if set, else one line of a non-terminal
    /// stdin, else a prompt on the terminal (refused in script mode); it is
    /// wiped from memory when dropped.
    pub fn secret(&self, env: &str, prompt: &str) -> anyhow::Result<Zeroizing<String>> {
        if let Ok(value) = std::env::var(env)
            && !value.is_empty()
        {
            return Ok(Zeroizing::new(value));
        }
        if !std::io::stdin().is_terminal() {
            return read_secret_line().with_context(|| format!("reading {prompt} from standard input"));
        }
        if self.out.script {
            bail!("{prompt} is needed: set {env} or pipe it on standard input (no prompt in script mode)");
        }
        Ok(super::prompt::hidden(&format!("{prompt}: "))?)
    }

    /// Read a document from `path` or standard input.
    pub fn read_input(&self, path: Option<&Path>) -> anyhow::Result<Vec<u8>> {
        match path {
            Some(p) if p != Path::new("-") => {
                std::fs::read(p).with_context(|| format!("cannot read \"{}\"", p.display()))
            }
            _ => {
                let mut buf = Vec::new();
                std::io::stdin().read_to_end(&mut buf).context("cannot read standard input")?;
                Ok(buf)
            }
        }
    }

    /// Export `value` as compact JSON to `path` (written atomically, 0600
    /// when `secret`) or to stdout, reporting a file export.
    pub fn export<T: serde::Serialize>(
        &self,
        kind: &str,
        name: &str,
        value: &T,
        path: Option<&Path>,
        secret: bool,
    ) -> anyhow::Result<()> {
        let mut text = serde_json::to_string(&serde_json::to_value(value)?)?;
        match path {
            Some(p) if p != Path::new("-") => {
                text.push('\n');
                let p = export_path(p, kind, name)?;
                descriptors::store::write_atomic(&p, text.as_bytes(), secret)?;
                let sentence = format!("Exported {kind} \"{name}\" to \"{}\".", p.display());
                self.out.report("exported", kind, name, &sentence);
            }
            _ => self.out.line(&text),
        }
        Ok(())
    }

    /// Show every descriptor of `kind` below `prefix` that `load` accepts,
    /// in order. A file it refuses is reported on stderr with its path and
    /// skipped; if any was, the result is [`super::Reported`] (exit 1).
    pub fn list_each<T>(
        &self,
        kind: Kind,
        prefix: Option<&str>,
        load: impl Fn(&str) -> anyhow::Result<T>,
        mut show: impl FnMut(&str, T),
    ) -> anyhow::Result<()> {
        let mut damaged = 0;
        for name in self.store.list(kind, prefix)? {
            match load(&name) {
                Ok(value) => show(&name, value),
                Err(e) => {
                    damaged += 1;
                    let path = self.store.path(kind, &name);
                    eprintln!("infinit: error: {kind} file \"{}\" skipped: {}", path.display(), super::one_line(&e));
                }
            }
        }
        if damaged > 0 {
            return Err(super::Reported { count: damaged }.into());
        }
        Ok(())
    }

    /// Save an imported descriptor (replacing a different one only with
    /// `force`) and report it; `shown` is its name for people.
    pub fn import<T: serde::Serialize>(
        &self,
        kind: Kind,
        shown: &str,
        path: &str,
        value: &T,
        force: bool,
    ) -> anyhow::Result<()> {
        let saved =
            if force { self.store.replace(kind, path, value)? } else { self.store.create(kind, path, value)? };
        let verb = if saved == descriptors::Saved::Unchanged { "Already imported" } else { "Imported" };
        let label = kind.to_string();
        self.out.report("imported", &label, shown, &format!("{verb} {label} \"{shown}\"."));
        Ok(())
    }
}

/// Where `--output path` writes an export of `kind` `name`: `path` itself,
/// or `<name>.<kind>` inside it when it is a folder (or ends with `/`), as
/// `cp` does; `bob.user`, `home.network`, `bob.passport` (by its holder).
pub fn export_path(path: &Path, kind: &str, name: &str) -> anyhow::Result<std::path::PathBuf> {
    let names_folder = path.as_os_str().as_encoded_bytes().ends_with(b"/");
    if path.is_dir() {
        let stem = match name.split_once(": ") {
            Some((_, holder)) => holder,
            None => name.rsplit('/').next().unwrap_or(name),
        };
        return Ok(path.join(format!("{stem}.{kind}")));
    }
    if names_folder {
        bail!("cannot export to \"{}\": no such folder (create it first, or give a file name)", path.display());
    }
    Ok(path.to_path_buf())
}

/// One line of standard input, without its line ending.
pub fn read_stdin_line() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let line = line.trim_end_matches(['\n', '\r']).to_string();
    if line.is_empty() {
        bail!("standard input was empty");
    }
    Ok(line)
}

/// One line of standard input holding a secret, without its line ending,
/// wiped from memory when dropped.
pub fn read_secret_line() -> anyhow::Result<Zeroizing<String>> {
    // Room for any passphrase up front: growing the buffer would leave copies behind.
    let mut line = Zeroizing::new(String::with_capacity(4096));
    std::io::stdin().lock().read_line(&mut line)?;
    let len = line.trim_end_matches(['\n', '\r']).len();
    line.truncate(len);
    if line.is_empty() {
        bail!("standard input was empty");
    }
    Ok(line)
}

/// The login name: `$USER`, `$LOGNAME`, or the name of our uid in /etc/passwd.
fn login_name() -> Option<String> {
    for var in ["USER", "LOGNAME"] {
        if let Ok(v) = std::env::var(var)
            && !v.is_empty()
        {
            return Some(v);
        }
    }
    use std::os::unix::fs::MetadataExt as _;
    let uid = std::fs::metadata("/proc/self").ok()?.uid();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let id: u32 = fields.nth(1)?.parse().ok()?;
        (id == uid).then(|| name.to_string())
    })
}

/// Parse a JSON descriptor given on input, naming its kind on failure and,
/// when the input is another kind of descriptor, which one.
pub fn parse_input<T: serde::de::DeserializeOwned>(kind: Kind, bytes: &[u8]) -> anyhow::Result<T> {
    serde_json::from_slice(bytes).map_err(|e| {
        let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) else {
            return anyhow::anyhow!("the input is not a {kind} descriptor: it is not JSON ({e})");
        };
        match kind_of(&value) {
            Some((other, how)) if other != kind.to_string() => {
                anyhow::anyhow!("the input is a {other} descriptor, not a {kind} descriptor ({how})")
            }
            _ => anyhow::anyhow!("the input is not a valid {kind} descriptor: {e}"),
        }
    })
}

/// What kind of descriptor a JSON document looks like, by the fields only
/// that kind has, and what to do with it.
fn kind_of(value: &serde_json::Value) -> Option<(&'static str, &'static str)> {
    let has = |key: &str| value.get(key).is_some();
    Some(if has("replication_factor") || has("overlay") {
        ("network", "import it with: infinit network import")
    } else if has("block_size") {
        ("volume", "import it with: infinit volume import")
    } else if has("allow_write") && has("user_name") {
        ("passport", "import it with: infinit passport import")
    } else if has("node") && has("passport") {
        ("linked network", "it is a device's private link file, not something to import")
    } else if has("access_key_id") || has("service_account_key") {
        ("credentials", "add credentials with: infinit credentials add")
    } else if has("type") && has("name") {
        ("silo", "import it with: infinit silo import")
    } else if has("public_key") && has("signature") {
        ("user", "import it with: infinit user import")
    } else {
        return None;
    })
}
