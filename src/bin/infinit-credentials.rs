//! Legacy front-end: `infinit-credentials --<mode> ...` runs `infinit credentials <mode> ...`.

fn main() {
    std::process::exit(infinit::commands::legacy::main("credentials"));
}
