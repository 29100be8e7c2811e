//! `resilix baseline create`: record today's findings so that `scan --baseline` fails only on
//! new ones.

use std::io::{self, Write};
use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::scan::{
    InputArgs, Inputs, PolicyArgs, evaluate, flag, has_errors, named_path, paths_for,
    refuse_clashes,
};
use crate::config::Config;
use crate::findings::baseline::{self, Baseline};
use crate::input;
use crate::output::{self, Named};
use crate::pipeline::Judgement;
use crate::{Diagnostics, ExitStatus};

/// Arguments of `resilix baseline`.
#[derive(Debug, Args)]
pub struct BaselineArgs {
    #[command(subcommand)]
    pub command: BaselineCommand,
}

#[derive(Debug, Subcommand)]
pub enum BaselineCommand {
    /// Scan the inputs and record their failing and undecided findings in FILE
    Create(BaselineCreateArgs),
}

/// Arguments of `resilix baseline create`.
#[derive(Debug, Args)]
pub struct BaselineCreateArgs {
    /// Plan JSON files, AWS Config files, directories, or - for stdin
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// The baseline file to write (atomically)
    #[arg(long, short = 'o', value_name = "FILE", required = true)]
    pub output: PathBuf,

    /// Name plans relative to DIR in fingerprints, as `scan --repo-root` [default: the git top
    /// level]
    ///
    /// A plan's findings are told apart from another plan's by its path relative to this
    /// directory; give `scan` the same one.
    #[arg(long, value_name = "DIR")]
    pub repo_root: Option<PathBuf>,

    #[command(flatten)]
    pub policy: PolicyArgs,

    #[command(flatten)]
    pub input: InputArgs,
}

pub(crate) fn run(args: &BaselineArgs, quiet: bool, diagnostics: &mut Diagnostics) -> ExitStatus {
    match &args.command {
        BaselineCommand::Create(args) => create(args, quiet, diagnostics),
    }
}

fn create(args: &BaselineCreateArgs, quiet: bool, diagnostics: &mut Diagnostics) -> ExitStatus {
    // The catalog `scan` will use (resilix.yaml's parameters, enabled and disabled policies,
    // severities), or the baseline would miss the findings of policies the config turns on.
    let mut inputs: Vec<Named> = args.paths.iter().map(|p| named_path(p)).collect();
    inputs.extend(args.policy.named_inputs());
    let outputs = [Named::new(flag("--output", &args.output), &args.output)];
    if let Err(status) = refuse_clashes(&outputs, &inputs, diagnostics) {
        return status;
    }
    let Some((catalog, _config)) = args.policy.load(diagnostics) else {
        return ExitStatus::Error;
    };
    let loaded = input::load_paths(
        &args.paths,
        &args.input.load_options(&catalog, args.policy.limit),
    );
    // A baseline missing the findings of an unreadable input would let them pass as new
    // findings later on: write nothing.
    let unreadable = !loaded.errors.is_empty();
    let inputs = Inputs::from(loaded);
    // A baseline records findings as the policies see them, without approvals or waivers:
    // those are applied when the baseline is used.
    let report = evaluate(
        &catalog,
        &Config::default(),
        inputs,
        &paths_for(args.repo_root.as_deref()),
        Judgement::default(),
        quiet,
        diagnostics,
    );
    if unreadable {
        return ExitStatus::Error;
    }
    let baseline = Baseline::from_report(&report, &catalog);
    let written = output::write_atomic(&args.output, |w| {
        baseline::write(w, &baseline, env!("CARGO_PKG_VERSION"))
    });
    if let Err(error) = written {
        diagnostics.push(Box::new(error));
        return ExitStatus::Error;
    }
    if !quiet {
        let _ = writeln!(
            io::stderr(),
            "resilix: wrote {}: {} finding(s) recorded",
            args.output.display(),
            baseline.entries.len()
        );
    }
    if has_errors(&report) {
        ExitStatus::Error
    } else {
        ExitStatus::Clean
    }
}
