//! `resilix scan`.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;

use super::{FailOn, InputFormatArg, parse_size};
use crate::emit::{EmitContext, OutputFormat, emitter_for};
use crate::findings::{ErrorRecord, Report, Status};
use crate::input::{self, InputFormat, LoadError, LoadOptions};
use crate::model::ResourceSet;
use crate::policy::{Catalog, CatalogOptions};
use crate::{Diagnostics, ExitStatus, output};

/// Arguments of `resilix scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Plan JSON files, AWS Config files (also .json.gz), directories (walked for *.json), or - for stdin
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Output format
    #[arg(long, short = 'f', value_enum, default_value_t = OutputFormat::Text, help_heading = "Output")]
    pub format: OutputFormat,

    /// Write the output to FILE (atomically) instead of stdout
    #[arg(long, short = 'o', value_name = "FILE", help_heading = "Output")]
    pub output: Option<PathBuf>,

    /// Exit 1 when a failing finding is at or above this severity
    #[arg(long, value_enum, default_value_t = FailOn::Low, help_heading = "Gate")]
    pub fail_on: FailOn,

    /// Add the policies in DIR (or one policy FILE); repeatable
    #[arg(long = "policies", value_name = "DIR", help_heading = "Policies")]
    pub policies: Vec<PathBuf>,

    /// Do not load the built-in policies (use only --policies)
    #[arg(long, help_heading = "Policies")]
    pub no_builtin_policies: bool,

    /// How to read the inputs
    #[arg(long, value_enum, default_value_t = InputFormatArg::Auto, help_heading = "Input")]
    pub input_format: InputFormatArg,

    /// Refuse inputs larger than this (e.g. 500M, 2G)
    #[arg(long, value_name = "SIZE", default_value = "1G", value_parser = parse_size, help_heading = "Input")]
    pub max_input_size: u64,
}

pub(crate) fn run(args: &ScanArgs, quiet: bool, diagnostics: &mut Diagnostics) -> ExitStatus {
    let catalog_options = CatalogOptions {
        builtins: !args.no_builtin_policies,
        user_paths: args.policies.clone(),
        ..CatalogOptions::default()
    };
    let catalog = match Catalog::load(&catalog_options) {
        Ok(catalog) => catalog,
        Err(errors) => {
            diagnostics.push(Box::new(errors));
            return ExitStatus::Error;
        }
    };
    let load_options = LoadOptions {
        format: match args.input_format {
            InputFormatArg::Auto => InputFormat::Auto,
            InputFormatArg::TerraformPlan => InputFormat::TerraformPlan,
            InputFormatArg::AwsConfig => InputFormat::AwsConfig,
        },
        max_bytes: args.max_input_size,
        reference_types: Some(Arc::new(catalog.reference_types())),
    };
    let loaded = input::load_paths(&args.paths, &load_options);
    let resources = ResourceSet {
        resources: loaded.resources,
    };
    let evaluation = crate::eval::evaluate(&catalog, &resources);
    let mut errors: Vec<ErrorRecord> = loaded.errors.iter().map(error_record).collect();
    errors.extend(evaluation.errors);
    let mut report = Report {
        resources,
        findings: evaluation.findings,
        passes: evaluation.passes,
        errors,
        files: loaded.files,
        evaluated: evaluation.evaluated,
    };
    report.sort(&catalog);

    let had_errors =
        !loaded.errors.is_empty() || !report.errors.is_empty() || report.count(Status::Error) > 0;
    for warning in loaded.warnings {
        if !quiet {
            diagnostics.push(Box::new(warning));
        }
    }
    for error in loaded.errors {
        diagnostics.push(Box::new(error));
    }

    let working_dir = std::env::current_dir().unwrap_or_default();
    let color = args.output.is_none()
        && args.format.is_human_readable()
        && io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none();
    let cx = EmitContext {
        catalog: &catalog,
        version: env!("CARGO_PKG_VERSION"),
        base_dir: working_dir.clone(),
        working_dir,
        color,
        fail_on: args.fail_on.threshold(),
    };
    let emitter = emitter_for(args.format);
    match &args.output {
        Some(path) => {
            if let Err(error) = output::write_atomic(path, |w| emitter.emit(w, &report, &cx)) {
                diagnostics.push(Box::new(error));
                return ExitStatus::Error;
            }
            if !quiet {
                let _ = writeln!(
                    io::stderr(),
                    "resilix: wrote {}: {}",
                    path.display(),
                    one_line_summary(&report)
                );
            }
        }
        None => {
            let stdout = io::stdout();
            let mut lock = io::BufWriter::new(stdout.lock());
            let written = emitter
                .emit(&mut lock, &report, &cx)
                .and_then(|()| lock.flush());
            match written {
                Ok(()) => {}
                Err(error) if error.kind() == io::ErrorKind::BrokenPipe => {}
                Err(error) => {
                    diagnostics.push(Box::new(crate::output::OutputError::Io {
                        path: "<stdout>".to_owned(),
                        source: error,
                    }));
                    return ExitStatus::Error;
                }
            }
        }
    }

    if had_errors {
        ExitStatus::Error
    } else if report.failing(args.fail_on.threshold()) > 0 {
        ExitStatus::Violations
    } else {
        ExitStatus::Clean
    }
}

fn one_line_summary(report: &Report) -> String {
    format!(
        "{} resource(s), {} failing finding(s), {} to review, {} passed",
        report.resources.len(),
        report.count(Status::Fail),
        report.count(Status::Review),
        report.passes.len()
    )
}

fn error_record(error: &LoadError) -> ErrorRecord {
    let (line, column) = error.line_col().unzip();
    ErrorRecord {
        file: error.file_name().to_owned(),
        line,
        column,
        message: error.to_string(),
    }
}
