//! Legacy front-end: `infinit-network --<mode> ...` runs `infinit network <mode> ...`.

fn main() {
    std::process::exit(infinit::commands::legacy::main("network"));
}
