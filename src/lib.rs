//! resilix: a policy-as-code compliance checker for Terraform plans and AWS Config data.
//!
//! ```text
//! inputs ──load──▶ resources ──index──▶ (resource × policies for its type)
//!        ──evaluate, in parallel──▶ findings ──emit──▶ SARIF / text / JSON
//! ```
//!
//! [`input`] is the only module that knows a file format; [`policy`] compiles policies once;
//! [`eval`] evaluates them in parallel; [`emit`] writes one [`findings::Report`] in one format.

pub mod cli;
pub mod config;
pub mod docs;
pub mod emit;
pub mod eval;
pub mod findings;
pub mod frameworks;
pub mod input;
pub mod model;
mod output;
pub mod pattern;
pub mod pipeline;
pub mod policy;
pub mod printable;
pub mod source;
pub mod testing;

pub use cli::Cli;
pub use output::remove_partial_outputs;

/// How a run ends (DESIGN §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// No failing finding at or above `--fail-on`.
    Clean = 0,
    /// Failing findings at or above `--fail-on`.
    Violations = 1,
    /// An error: usage, a bad policy, an unreadable or malformed input.
    Error = 2,
}

/// Diagnostics to print on stderr (errors and warnings), in the order they arose.
pub type Diagnostics = Vec<Box<dyn miette::Diagnostic + Send + Sync + 'static>>;

/// The result of a run: the exit status and what to tell the user on stderr.
pub struct Outcome {
    pub status: ExitStatus,
    pub diagnostics: Diagnostics,
}

/// Runs a parsed command line. Report output goes to stdout or the `--output` file; the caller
/// prints the diagnostics.
pub fn run(cli: Cli) -> Outcome {
    let mut diagnostics = Diagnostics::new();
    cli::color::init(cli.color);
    if let Some(jobs) = cli.jobs.filter(|&j| j > 0) {
        // Fails only if a pool was already built (tests running in one process): harmless.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(jobs)
            .build_global();
    }
    let status = match &cli.command {
        cli::Command::Scan(args) => cli::scan::run(args, cli.quiet, &mut diagnostics),
        cli::Command::Diff(args) => cli::diff::run(args, cli.quiet, &mut diagnostics),
        cli::Command::Policies(args) => cli::policies::run(args, &mut diagnostics),
        cli::Command::Controls(args) => cli::policies::run_controls(args, &mut diagnostics),
        cli::Command::Baseline(args) => cli::baseline::run(args, cli.quiet, &mut diagnostics),
        cli::Command::Completions(args) => cli::docs::completions(args, &mut diagnostics),
        cli::Command::Man(args) => cli::docs::man(args, &mut diagnostics),
        #[cfg(feature = "aws")]
        cli::Command::Audit(args) => cli::audit::run(args, cli.quiet, &mut diagnostics),
    };
    Outcome {
        status,
        diagnostics,
    }
}
