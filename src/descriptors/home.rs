//! Where descriptors and node state live: `$INFINIT_DATA_HOME`, else
//! `$INFINIT_HOME/.local/share/infinit/filesystem`, else the XDG data dir
//! (and likewise for state).

use std::path::{Path, PathBuf};

/// Resolved directories of one infinit home.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Home {
    /// Descriptors and filesystem silos.
    pub data: PathBuf,
    /// Node state: caches, journals, consensus state.
    pub state: PathBuf,
}

const SUFFIX: &str = "infinit/filesystem";

impl Home {
    /// Resolve from an explicit `--home`/`INFINIT_HOME` and the process environment.
    pub fn resolve(home: Option<&Path>) -> Home {
        Self::resolve_with(home, |name| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from))
    }

    /// Resolve with an injected environment (for tests).
    pub fn resolve_with(home: Option<&Path>, env: impl Fn(&str) -> Option<PathBuf>) -> Home {
        let pick = |own: &str, xdg: &str, fallback: &str| -> PathBuf {
            if let Some(dir) = env(own) {
                return dir;
            }
            if let Some(h) = home {
                return h.join(fallback).join(SUFFIX);
            }
            if let Some(dir) = env(xdg) {
                return dir.join(SUFFIX);
            }
            let base = env("HOME").unwrap_or_else(|| PathBuf::from("/"));
            base.join(fallback).join(SUFFIX)
        };
        Home {
            data: pick("INFINIT_DATA_HOME", "XDG_DATA_HOME", ".local/share"),
            state: pick("INFINIT_STATE_HOME", "XDG_STATE_HOME", ".local/state"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<PathBuf> {
        let map: HashMap<String, PathBuf> = vars.iter().map(|(k, v)| (k.to_string(), PathBuf::from(v))).collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn explicit_data_home_wins() {
        let h = Home::resolve_with(Some(Path::new("/h")), env(&[("INFINIT_DATA_HOME", "/d"), ("XDG_DATA_HOME", "/x")]));
        assert_eq!(h.data, PathBuf::from("/d"));
        assert_eq!(h.state, PathBuf::from("/h/.local/state/infinit/filesystem"));
    }

    #[test]
    fn infinit_home_beats_xdg() {
        let h = Home::resolve_with(Some(Path::new("/h")), env(&[("XDG_DATA_HOME", "/x")]));
        assert_eq!(h.data, PathBuf::from("/h/.local/share/infinit/filesystem"));
    }

    #[test]
    fn xdg_then_home() {
        let h = Home::resolve_with(None, env(&[("XDG_DATA_HOME", "/x"), ("HOME", "/root")]));
        assert_eq!(h.data, PathBuf::from("/x/infinit/filesystem"));
        assert_eq!(h.state, PathBuf::from("/root/.local/state/infinit/filesystem"));
    }
}
