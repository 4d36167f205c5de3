//! Shell completions and man pages, rendered from the clap tree. The
//! checked-in copies under `completions/` and `man/` are compared with these
//! by a test, so they never drift from the real options.

use clap_complete::Shell;

use crate::cli;

/// The completion script of `bin` (its grammar `cmd`) for `shell`, with its file name.
pub fn completion(shell: Shell, mut cmd: clap::Command, bin: &str) -> (String, Vec<u8>) {
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, bin, &mut buf);
    let file = match shell {
        Shell::Bash => format!("{bin}.bash"),
        Shell::Zsh => format!("_{bin}"),
        Shell::Fish => format!("{bin}.fish"),
        other => format!("{bin}.{other}"),
    };
    (file, buf)
}

/// Every completion file: `infinit` and each legacy `infinit-<object>`.
pub fn completions() -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        files.push(completion(shell, cli::command(), "infinit"));
        for (bin, object) in super::legacy::BINARIES {
            files.push(completion(shell, super::legacy::command(bin, object), bin));
        }
    }
    files
}

/// One man page per command, object and mode: `infinit.1`,
/// `infinit-user.1`, `infinit-user-create.1`, ...
pub fn man_pages() -> std::io::Result<Vec<(String, Vec<u8>)>> {
    let mut cmd = cli::command();
    cmd.build();
    let mut pages = Vec::new();
    render(&cmd, "infinit", &mut pages)?;
    Ok(pages)
}

fn render(cmd: &clap::Command, full_name: &str, pages: &mut Vec<(String, Vec<u8>)>) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let page = cmd.clone().name(full_name.to_string()).bin_name(full_name.replace('-', " "));
    let has_version = page.get_version().is_some();
    let man = clap_mangen::Man::new(page);
    // clap_mangen's own order, with the sections it cannot derive before VERSION.
    man.render_title(&mut buf)?;
    man.render_name_section(&mut buf)?;
    man.render_synopsis_section(&mut buf)?;
    man.render_description_section(&mut buf)?;
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(&mut buf)?;
    }
    if cmd.has_subcommands() {
        man.render_subcommands_section(&mut buf)?;
    }
    buf.extend_from_slice(super::manual::extra_sections(full_name).as_bytes());
    if has_version {
        man.render_version_section(&mut buf)?;
    }
    pages.push((format!("{full_name}.1"), buf));
    for sub in cmd.get_subcommands() {
        if sub.get_name() == "help" {
            continue;
        }
        render(sub, &format!("{full_name}-{}", sub.get_name()), pages)?;
    }
    Ok(())
}
