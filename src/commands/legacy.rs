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

/// The legacy binaries, and the object each one stands for.
pub const BINARIES: [(&str, &str); 6] = [
    ("infinit-user", "user"),
    ("infinit-storage", "silo"),
    ("infinit-credentials", "credentials"),
    ("infinit-network", "network"),
    ("infinit-passport", "passport"),
    ("infinit-volume", "volume"),
];

/// The grammar of legacy binary `bin` for `object`, for shell completions:
/// each mode is a flag (`--create`), silo types too (`--filesystem`), and
/// every mode's long options are accepted (`--storage` as `--silo`).
pub fn command(bin: &'static str, object: &str) -> clap::Command {
    use clap::{Arg, ArgAction};
    let tree = crate::cli::command();
    let Some(object) = tree.find_subcommand(object) else {
        return clap::Command::new(bin);
    };
    let mut cmd = clap::Command::new(bin)
        .about(object.get_about().cloned().unwrap_or_default())
        .version(tree.get_version().map(str::to_string).unwrap_or_default());
    let mut seen: Vec<String> = Vec::new();
    let mut add = |cmd: clap::Command, arg: Arg| {
        let id = arg.get_id().to_string();
        if seen.contains(&id) {
            return cmd;
        }
        seen.push(id);
        cmd.arg(arg)
    };
    let flag = |id: &str, help: Option<&clap::builder::StyledStr>| {
        let arg = Arg::new(id.to_string()).long(id.to_string()).action(ArgAction::SetTrue);
        match help {
            Some(h) => arg.help(h.clone()),
            None => arg,
        }
    };
    let mut options = Vec::new();
    for mode in object.get_subcommands().filter(|m| m.get_name() != "help") {
        cmd = add(cmd, flag(mode.get_name(), mode.get_about()));
        options.extend(mode.get_arguments().cloned());
        for kind in mode.get_subcommands().filter(|k| k.get_name() != "help") {
            cmd = add(cmd, flag(kind.get_name(), kind.get_about()));
            options.extend(kind.get_arguments().cloned());
        }
    }
    options.extend(tree.get_arguments().cloned());
    for option in options {
        let Some(long) = option.get_long() else { continue };
        if matches!(long, "help" | "version") {
            continue;
        }
        // Shorts and relations differ between modes: longs only, each once.
        let mut arg = Arg::new(option.get_id().to_string())
            .long(long.to_string())
            .action(option.get_action().clone())
            .value_parser(option.get_value_parser().clone())
            .value_hint(option.get_value_hint());
        if let Some(help) = option.get_help() {
            arg = arg.help(help.clone());
        }
        if let Some(names) = option.get_value_names() {
            arg = arg.value_names(names.iter().cloned());
        }
        if long == "silo" {
            arg = arg.visible_alias("storage");
        }
        cmd = add(cmd, arg);
    }
    cmd
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
