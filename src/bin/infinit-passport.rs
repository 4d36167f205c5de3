//! Legacy front-end: `infinit-passport --<mode> ...` runs `infinit passport <mode> ...`.

fn main() {
    std::process::exit(infinit::commands::legacy::main("passport"));
}
