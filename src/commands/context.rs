//! What every mode needs: the store of the resolved home, the acting user,
//! the output channel, and how to read secrets (environment, stdin or a
//! terminal prompt; never a prompt in script mode).

use std::io::{BufRead as _, IsTerminal as _, Read as _};
use std::path::Path;

use anyhow::{Context as _, bail};

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
    /// Output channel.
    pub out: Output,
}

impl Context {
    /// Resolve the home and the acting user.
    pub fn new(global: &Global) -> anyhow::Result<Context> {
        let home = Home::resolve(global.home.as_deref());
        let as_user = match &global.as_user {
            Some(u) => u.clone(),
            None => login_name().context("cannot tell who you are: pass --as USER or set INFINIT_USER")?,
        };
        Ok(Context { store: Store::new(home), as_user, out: Output { script: global.script } })
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

    /// Read a passphrase from the environment or, interactively, from the terminal.
    pub fn passphrase(&self, prompt: &str) -> anyhow::Result<String> {
        if let Some(p) = std::env::var_os(PASSPHRASE_ENV) {
            return p.into_string().map_err(|_| anyhow::anyhow!("{PASSPHRASE_ENV} is not valid UTF-8"));
        }
        if self.out.script || !std::io::stdin().is_terminal() {
            bail!(
                "the private key is protected by a passphrase: set {PASSPHRASE_ENV} (no prompt in script mode or without a terminal)"
            );
        }
        Ok(super::prompt::hidden(prompt)?)
    }

    /// Read a secret: from `env` if set, else one line of a non-terminal
    /// stdin, else a prompt on the terminal (refused in script mode).
    pub fn secret(&self, env: &str, prompt: &str) -> anyhow::Result<String> {
        if let Ok(value) = std::env::var(env)
            && !value.is_empty()
        {
            return Ok(value);
        }
        if !std::io::stdin().is_terminal() {
            return read_stdin_line().with_context(|| format!("reading {prompt} from standard input"));
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

/// Parse a JSON descriptor given on input, naming its kind on failure.
pub fn parse_input<T: serde::de::DeserializeOwned>(kind: Kind, bytes: &[u8]) -> anyhow::Result<T> {
    serde_json::from_slice(bytes).map_err(|e| anyhow::anyhow!("the input is not a valid {kind} descriptor: {e}"))
}
