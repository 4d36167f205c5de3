//! The legacy front-ends (`infinit-user --create --name alice`, ...): their
//! command lines are rewritten into `infinit <object> <mode> ...`.

use std::ffi::OsString;

/// Rewrite a legacy command line for `object` into the modern grammar.
///
/// `infinit-user --create --name a` becomes `infinit user create --name a`;
/// `infinit-storage --create --filesystem ...` becomes
/// `infinit silo create filesystem ...`; `--storage` becomes `--silo`.
pub fn rewrite(object: &str, args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    let mut rest: Vec<OsString> = args.into_iter().skip(1).collect();
    let object = if object == "storage" { "silo" } else { object };
    let mut out: Vec<OsString> = vec!["infinit".into(), object.into()];
    let mode = rest.first().and_then(|a| a.to_str()).and_then(|a| a.strip_prefix("--")).map(str::to_string);
    if let Some(mode) = mode
        && !matches!(mode.as_str(), "help" | "version")
        && !mode.is_empty()
    {
        rest.remove(0);
        out.push(mode.clone().into());
        if object == "silo" && mode == "create" {
            let kinds = ["--filesystem", "--memory", "--s3", "--gcs"];
            if let Some(i) = rest.iter().position(|a| a.to_str().is_some_and(|a| kinds.contains(&a))) {
                let kind = rest.remove(i);
                out.push(kind.to_string_lossy().trim_start_matches("--").into());
            }
        }
    }
    out.extend(rest.into_iter().map(|a| if a == "--storage" { "--silo".into() } else { a }));
    out
}

/// Entry point of a legacy binary.
pub fn main(object: &str) -> i32 {
    super::main(rewrite(object, std::env::args_os()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(v: &[OsString]) -> Vec<String> {
        v.iter().map(|s| s.to_string_lossy().into_owned()).collect()
    }

    #[test]
    fn mode_flag_becomes_a_mode() {
        let got = rewrite("user", ["infinit-user", "--create", "--name", "alice"].map(OsString::from));
        assert_eq!(words(&got), ["infinit", "user", "create", "--name", "alice"]);
    }

    #[test]
    fn storage_maps_to_silo_with_its_type() {
        let got = rewrite(
            "storage",
            ["infinit-storage", "--create", "--name", "s", "--filesystem", "--path", "/x"].map(OsString::from),
        );
        assert_eq!(words(&got), ["infinit", "silo", "create", "filesystem", "--name", "s", "--path", "/x"]);
    }

    #[test]
    fn help_is_kept_and_storage_option_renamed() {
        let got = rewrite("network", ["infinit-network", "--help"].map(OsString::from));
        assert_eq!(words(&got), ["infinit", "network", "--help"]);
        let got = rewrite("network", ["infinit-network", "--link", "n", "--storage", "s"].map(OsString::from));
        assert_eq!(words(&got), ["infinit", "network", "link", "n", "--silo", "s"]);
    }
}
