use std::process::ExitCode;

use clap::Parser;
use resilix::{Cli, ExitStatus};

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Wide output, and never break a file name in the middle.
    let _ = miette::set_hook(Box::new(|_| {
        Box::new(
            miette::MietteHandlerOpts::new()
                .width(120)
                .break_words(false)
                .build(),
        )
    }));
    let outcome = resilix::run(cli);
    for diagnostic in outcome.diagnostics {
        eprintln!("{:?}", miette::Report::new_boxed(diagnostic));
    }
    match outcome.status {
        ExitStatus::Clean => ExitCode::SUCCESS,
        ExitStatus::Violations => ExitCode::from(1),
        ExitStatus::Error => ExitCode::from(2),
    }
}
