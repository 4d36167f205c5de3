//! Legacy front-end: `infinit-storage --<mode> ...` runs `infinit silo <mode> ...`.

fn main() {
    std::process::exit(infinit::commands::legacy::main("storage"));
}
