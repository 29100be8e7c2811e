//! `resilix scan`, and the argument groups and pipeline every evaluating command shares
//! (`scan` now; `diff` and `audit` reuse [`PolicyArgs`], [`OutputArgs`] and [`finish`]).

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;

use super::{FailOn, InputFormatArg, parse_size};
use crate::emit::{EmitContext, OutputFormat, emitter_for};
use crate::findings::{ErrorRecord, Report, Status};
use crate::input::{self, InputFormat, LoadError, LoadOptions, LoadWarning};
use crate::model::ResourceSet;
use crate::policy::{Catalog, CatalogOptions};
use crate::{Diagnostics, ExitStatus, output};

/// Where policies come from.
#[derive(Debug, Clone, Args)]
pub struct PolicyArgs {
    /// Add the policies in DIR (or one policy FILE); repeatable
    #[arg(long = "policies", value_name = "DIR", help_heading = "Policies")]
    pub policies: Vec<PathBuf>,

    /// Do not load the built-in policies (use only --policies)
    #[arg(long, help_heading = "Policies")]
    pub no_builtin_policies: bool,
}

impl PolicyArgs {
    /// Compiles the catalog; every policy error is reported before anything is evaluated.
    pub fn catalog(&self, diagnostics: &mut Diagnostics) -> Option<Catalog> {
        let options = CatalogOptions {
            builtins: !self.no_builtin_policies,
            user_paths: self.policies.clone(),
            ..CatalogOptions::default()
        };
        match Catalog::load(&options) {
            Ok(catalog) => Some(catalog),
            Err(errors) => {
                diagnostics.push(Box::new(errors));
                None
            }
        }
    }
}

/// How inputs are read.
#[derive(Debug, Clone, Args)]
pub struct InputArgs {
    /// How to read the inputs
    #[arg(long, value_enum, default_value_t = InputFormatArg::Auto, help_heading = "Input")]
    pub input_format: InputFormatArg,

    /// Refuse inputs larger than this (e.g. 500M, 2G)
    #[arg(long, value_name = "SIZE", default_value = "1G", value_parser = parse_size, help_heading = "Input")]
    pub max_input_size: u64,
}

impl InputArgs {
    pub fn load_options(&self, catalog: &Catalog) -> LoadOptions {
        LoadOptions {
            format: match self.input_format {
                InputFormatArg::Auto => InputFormat::Auto,
                InputFormatArg::TerraformPlan => InputFormat::TerraformPlan,
                InputFormatArg::AwsConfig => InputFormat::AwsConfig,
            },
            max_bytes: self.max_input_size,
            reference_types: Some(Arc::new(catalog.reference_types())),
        }
    }
}

/// What to write, where, and when to fail.
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// Output format
    #[arg(long, short = 'f', value_enum, default_value_t = OutputFormat::Text, help_heading = "Output")]
    pub format: OutputFormat,

    /// Write the output to FILE (atomically) instead of stdout
    #[arg(long, short = 'o', value_name = "FILE", help_heading = "Output")]
    pub output: Option<PathBuf>,

    /// Exit 1 when a failing finding is at or above this severity
    #[arg(long, value_enum, default_value_t = FailOn::Low, help_heading = "Gate")]
    pub fail_on: FailOn,

    /// Framework of the auditor's report (html, audit-markdown); repeatable [default: all three]
    #[arg(
        long = "framework",
        value_enum,
        value_name = "FRAMEWORK",
        help_heading = "Output"
    )]
    pub frameworks: Vec<FrameworkArg>,
}

/// A framework the auditor's report can be written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum FrameworkArg {
    /// NIST SP 800-53 Rev. 5
    #[value(name = "nist-800-53-r5")]
    Nist80053R5,
    /// ISO/IEC 17799:2005
    #[value(name = "iso-17799-2005")]
    Iso177992005,
    /// COBIT 4.1
    #[value(name = "cobit-4.1")]
    Cobit41,
}

impl FrameworkArg {
    pub fn id(self) -> &'static str {
        match self {
            FrameworkArg::Nist80053R5 => "nist-800-53-r5",
            FrameworkArg::Iso177992005 => "iso-17799-2005",
            FrameworkArg::Cobit41 => "cobit-4.1",
        }
    }
}

impl OutputArgs {
    /// The frameworks to report on, in the order given (all three by default).
    pub fn framework_ids(&self) -> Vec<&'static str> {
        let mut ids: Vec<&'static str> = Vec::new();
        for framework in &self.frameworks {
            if !ids.contains(&framework.id()) {
                ids.push(framework.id());
            }
        }
        if ids.is_empty() {
            ids = crate::frameworks::all().iter().map(|f| f.id).collect();
        }
        ids
    }
}

/// Arguments of `resilix scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Plan JSON files, AWS Config files (also .json.gz), directories (walked for *.json), or - for stdin
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    #[command(flatten)]
    pub output: OutputArgs,

    #[command(flatten)]
    pub policy: PolicyArgs,

    #[command(flatten)]
    pub input: InputArgs,
}

pub(crate) fn run(args: &ScanArgs, quiet: bool, diagnostics: &mut Diagnostics) -> ExitStatus {
    let Some(catalog) = args.policy.catalog(diagnostics) else {
        return ExitStatus::Error;
    };
    let loaded = input::load_paths(&args.paths, &args.input.load_options(&catalog));
    let inputs = Inputs {
        resources: ResourceSet {
            resources: loaded.resources,
        },
        errors: loaded.errors,
        warnings: loaded.warnings,
        files: loaded.files,
    };
    finish(&catalog, inputs, &args.output, quiet, diagnostics)
}

/// Loaded resources and what went wrong loading them.
#[derive(Debug, Default)]
pub struct Inputs {
    pub resources: ResourceSet,
    pub errors: Vec<LoadError>,
    pub warnings: Vec<LoadWarning>,
    pub files: usize,
}

/// Evaluates, writes the report and decides the exit status: the pipeline every evaluating
/// command ends with.
pub(crate) fn finish(
    catalog: &Catalog,
    inputs: Inputs,
    args: &OutputArgs,
    quiet: bool,
    diagnostics: &mut Diagnostics,
) -> ExitStatus {
    let evaluation = crate::eval::evaluate(catalog, &inputs.resources);
    let mut errors: Vec<ErrorRecord> = inputs.errors.iter().map(error_record).collect();
    errors.extend(evaluation.errors);
    let mut report = Report {
        resources: inputs.resources,
        findings: evaluation.findings,
        passes: evaluation.passes,
        errors,
        files: inputs.files,
        evaluated: evaluation.evaluated,
    };
    report.sort(catalog);

    let had_errors = !report.errors.is_empty() || report.count(Status::Error) > 0;
    if !quiet {
        for warning in inputs.warnings {
            diagnostics.push(Box::new(warning));
        }
    }
    for error in inputs.errors {
        diagnostics.push(Box::new(error));
    }

    let working_dir = std::env::current_dir().unwrap_or_default();
    let color = args.output.is_none()
        && args.format.is_human_readable()
        && io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none();
    let cx = EmitContext {
        catalog,
        version: env!("CARGO_PKG_VERSION"),
        base_dir: working_dir.clone(),
        working_dir,
        color,
        fail_on: args.fail_on.threshold(),
        frameworks: args.framework_ids(),
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
                // `resilix scan … | head`: the reader is gone; stop quietly.
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
