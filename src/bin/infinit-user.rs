//! Legacy front-end: `infinit-user --<mode> ...` runs `infinit user <mode> ...`.

fn main() {
    std::process::exit(infinit::commands::legacy::main("user"));
}
