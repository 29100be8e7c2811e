use std::process::ExitCode;

use clap::Parser;
use resilix::{Cli, ExitStatus};

/// Loading a plan or a Config snapshot allocates and frees millions of small values across
/// threads; mimalloc does that at a fraction of glibc malloc's cost (measured: see README,
/// Performance).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // Ctrl-C or SIGTERM while an output file is being written: remove its temporary file (the
    // target keeps its previous content) and exit as a shell expects after SIGINT.
    let _ = ctrlc::set_handler(|| {
        resilix::remove_partial_outputs();
        std::process::exit(130);
    });
    let cli = Cli::parse();
    let outcome = resilix::run(cli);
    // Not eprintln!, which panics when stderr is a closed pipe (`resilix scan … 2>&1 | head`).
    let color = resilix::cli::color::enabled(&std::io::stderr());
    let _ = resilix::printable::write_diagnostics(
        &mut std::io::stderr().lock(),
        &outcome.diagnostics,
        color,
    );
    match outcome.status {
        ExitStatus::Clean => ExitCode::SUCCESS,
        ExitStatus::Violations => ExitCode::from(1),
        ExitStatus::Error => ExitCode::from(2),
    }
}
