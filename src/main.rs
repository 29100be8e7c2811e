use std::io::Write as _;
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
    // Wide output, and never break a file name in the middle.
    let _ = miette::set_hook(Box::new(|_| {
        Box::new(
            miette::MietteHandlerOpts::new()
                .color(resilix::cli::color::enabled(&std::io::stderr()))
                .width(120)
                .break_words(false)
                .build(),
        )
    }));
    let outcome = resilix::run(cli);
    // Not eprintln!, which panics when stderr is a closed pipe (`resilix scan … 2>&1 | head`).
    let mut stderr = std::io::stderr().lock();
    for diagnostic in outcome.diagnostics {
        let _ = writeln!(stderr, "{:?}", miette::Report::new_boxed(diagnostic));
    }
    match outcome.status {
        ExitStatus::Clean => ExitCode::SUCCESS,
        ExitStatus::Violations => ExitCode::from(1),
        ExitStatus::Error => ExitCode::from(2),
    }
}
