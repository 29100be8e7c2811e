//! `resilix diff OLD NEW`: the change-control policies over the changes between two sets of
//! AWS Config items (two snapshots, two days of history, two API pulls).

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::scan::{Inputs, OutputArgs, PolicyArgs, ReadArgs, finish, named_path, refuse_clashes};
use crate::input::config_diff::{diff, not_config_data};
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

    /// The later AWS Config data, in any of the same shapes. Without it, OLD is a history saved
    /// by `resilix audit --changes-since --save`, and its changes are judged
    #[arg(value_name = "NEW")]
    pub new: Option<PathBuf>,

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
    let mut inputs = vec![named_path(&args.old)];
    inputs.extend(args.new.as_deref().map(named_path));
    inputs.extend(args.policy.named_inputs());
    if let Err(status) = refuse_clashes(&args.output.named_outputs(), &inputs, diagnostics) {
        return status;
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
    let options = args.input.load_options(&catalog, args.policy.limit);
    let old = load_paths(std::slice::from_ref(&args.old), &options);
    let Some(new_path) = &args.new else {
        return replay(
            args,
            Inputs::from(old),
            &catalog,
            &config,
            quiet,
            diagnostics,
        );
    };
    let new = load_paths(std::slice::from_ref(new_path), &options);
    // Either side not wholly AWS Config data (a plan, a file that could not be read) is an
    // error, and nothing is compared: each item of the other side would read as created or
    // deleted.
    let mut errors = old.errors;
    errors.extend(new.errors);
    errors.extend(not_config_data(&old.resources));
    errors.extend(not_config_data(&new.resources));
    let mut changes = Vec::new();
    if errors.is_empty() {
        let diff = diff(old.resources, new.resources);
        errors.extend(diff.errors);
        if errors.is_empty() {
            changes = diff.changes;
            if !quiet {
                let counts = diff.counts;
                let _ = writeln!(
                    std::io::stderr(),
                    "resilix: {} created, {} modified, {} deleted, {} unchanged between {} and {}",
                    counts.created,
                    counts.updated,
                    counts.deleted,
                    counts.unchanged,
                    args.old.display(),
                    new_path.display()
                );
            }
        }
    }
    if !errors.is_empty() && !quiet {
        let _ = writeln!(
            std::io::stderr(),
            "resilix: {} and {} were not compared: not all of their inputs could be read as AWS Config data",
            args.old.display(),
            new_path.display(),
        );
    }
    let mut warnings = old.warnings;
    warnings.extend(new.warnings);
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

/// `resilix diff HISTORY`: the changes of a saved history, as the audit that saved it judged
/// them. A file without changes says so (a warning), rather than passing for a clean history.
fn replay(
    args: &DiffArgs,
    loaded: Inputs,
    catalog: &crate::policy::Catalog,
    config: &crate::config::Config,
    quiet: bool,
    diagnostics: &mut Diagnostics,
) -> ExitStatus {
    let mut inputs = loaded;
    inputs
        .resources
        .resources
        .retain(crate::model::Resource::is_change);
    if inputs.resources.resources.is_empty() {
        inputs.warnings.push(LoadWarning {
            name: args.old.display().to_string(),
            message: "holds no changes: it is not a history saved by `resilix audit --changes-since`, or nothing changed in its window".to_owned(),
            help: Some("to compare two sets of AWS Config items, give the later one as NEW".to_owned()),
        });
    }
    finish(
        catalog,
        config,
        inputs,
        &args.output,
        None,
        quiet,
        diagnostics,
    )
}
