//! `resilix diff OLD NEW`: the change-control policies over the changes between two sets of
//! AWS Config items (two snapshots, two days of history, two API pulls).

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::scan::{Inputs, OutputArgs, PolicyArgs, ReadArgs, finish};
use crate::input::config_diff::diff;
use crate::input::{LoadWarning, load_paths};
use crate::model::{ResourceSet, SourceKind};
use crate::policy::Scope;
use crate::{Diagnostics, ExitStatus};

/// Arguments of `resilix diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The earlier AWS Config data: a snapshot or history file, API results, or a directory
    #[arg(value_name = "OLD")]
    pub old: PathBuf,

    /// The later AWS Config data, in any of the same shapes
    #[arg(value_name = "NEW")]
    pub new: PathBuf,

    #[command(flatten)]
    pub output: OutputArgs,

    #[command(flatten)]
    pub policy: PolicyArgs,

    #[command(flatten)]
    pub input: ReadArgs,
}

pub(crate) fn run(args: &DiffArgs, quiet: bool, diagnostics: &mut Diagnostics) -> ExitStatus {
    if let Err(error) = args.output.check() {
        diagnostics.push(Box::new(error));
        return ExitStatus::Error;
    }
    let Some((catalog, config)) = args.policy.load(diagnostics) else {
        return ExitStatus::Error;
    };
    // Only change-control targets have anything to say about a change.
    let catalog = catalog.retain(|p| {
        p.targets
            .iter()
            .any(|t| t.kind == SourceKind::AwsConfig && t.scope == Scope::Changes)
    });
    let options = args.input.load_options(&catalog);
    let old = load_paths(std::slice::from_ref(&args.old), &options);
    let new = load_paths(std::slice::from_ref(&args.new), &options);
    let (changes, counts) = diff(old.resources, new.resources);
    let mut warnings = old.warnings;
    warnings.extend(new.warnings);
    if counts.ignored > 0 {
        warnings.push(LoadWarning {
            name: format!("{} / {}", args.old.display(), args.new.display()),
            message: format!(
                "{} resource(s) are not AWS Config items and were left out",
                counts.ignored
            ),
            help: Some("`resilix diff` compares AWS Config data; scan a Terraform plan with `resilix scan`, which sees its planned changes".to_owned()),
        });
    }
    if !quiet {
        let _ = writeln!(
            std::io::stderr(),
            "resilix: {} created, {} modified, {} deleted, {} unchanged between {} and {}",
            counts.created,
            counts.updated,
            counts.deleted,
            counts.unchanged,
            args.old.display(),
            args.new.display()
        );
    }
    let mut errors = old.errors;
    errors.extend(new.errors);
    let inputs = Inputs {
        resources: ResourceSet { resources: changes },
        errors,
        warnings,
        notes: old.notes.into_iter().chain(new.notes).collect(),
        files: old.files + new.files,
    };
    finish(
        &catalog,
        &config,
        inputs,
        &args.output,
        None,
        quiet,
        diagnostics,
    )
}
