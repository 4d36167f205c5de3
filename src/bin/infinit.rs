//! The `infinit` command: parse, run, exit with 0 (success), 1 (runtime
//! error) or 2 (usage error).

fn main() {
    std::process::exit(infinit::commands::main(std::env::args_os()));
}
