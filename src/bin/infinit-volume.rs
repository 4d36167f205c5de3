//! Legacy front-end: `infinit-volume --<mode> ...` runs `infinit volume <mode> ...`.

fn main() {
    std::process::exit(infinit::commands::legacy::main("volume"));
}
