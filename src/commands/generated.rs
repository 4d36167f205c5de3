//! Shell completions and man pages, rendered from the clap tree. The
//! checked-in copies under `completions/` and `man/` are compared with these
//! by a test, so they never drift from the real options.

use clap::CommandFactory as _;
use clap_complete::Shell;

use crate::cli::Cli;

/// The completion script for `shell`, with its file name.
pub fn completion(shell: Shell) -> (String, Vec<u8>) {
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "infinit", &mut buf);
    let file = match shell {
        Shell::Bash => "infinit.bash".to_string(),
        Shell::Zsh => "_infinit".to_string(),
        Shell::Fish => "infinit.fish".to_string(),
        other => format!("infinit.{other}"),
    };
    (file, buf)
}

/// Every completion file.
pub fn completions() -> Vec<(String, Vec<u8>)> {
    [Shell::Bash, Shell::Zsh, Shell::Fish].into_iter().map(completion).collect()
}

/// One man page per command, object and mode: `infinit.1`,
/// `infinit-user.1`, `infinit-user-create.1`, ...
pub fn man_pages() -> std::io::Result<Vec<(String, Vec<u8>)>> {
    let mut cmd = Cli::command();
    cmd.build();
    let mut pages = Vec::new();
    render(&cmd, "infinit", &mut pages)?;
    Ok(pages)
}

fn render(cmd: &clap::Command, full_name: &str, pages: &mut Vec<(String, Vec<u8>)>) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let page = cmd.clone().name(full_name.to_string()).bin_name(full_name.replace('-', " "));
    clap_mangen::Man::new(page).render(&mut buf)?;
    pages.push((format!("{full_name}.1"), buf));
    for sub in cmd.get_subcommands() {
        if sub.get_name() == "help" {
            continue;
        }
        render(sub, &format!("{full_name}-{}", sub.get_name()), pages)?;
    }
    Ok(())
}
