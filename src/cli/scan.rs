//! `resilix scan`, and the argument groups and pipeline every evaluating command shares
//! (`scan` now; `diff` and `audit` reuse [`PolicyArgs`], [`OutputArgs`] and [`finish`]).

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;

use super::{FailOn, InputFormatArg, SeverityArg, parse_size};
use crate::config::Config;
use crate::emit::{EmitContext, OutputFormat, emitter_for};
use crate::findings::{Disposition, ErrorRecord, Report, baseline};
use crate::input::{self, InputFormat, LoadError, LoadOptions, LoadWarning, TerraformSources};
use crate::model::ResourceSet;
use crate::pipeline::Judgement;
use crate::policy::{Catalog, CatalogOptions, Severity};
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

    /// Read the configuration from FILE (default: resilix.yaml in the current directory)
    #[arg(long, value_name = "FILE", help_heading = "Policies")]
    pub config: Option<PathBuf>,
}

impl PolicyArgs {
    /// Compiles the catalog, without the configuration file; every policy error is reported
    /// before anything is evaluated.
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

    /// Reads the configuration file and compiles the catalog it selects (its parameters
    /// applied, its enabled and disabled policies and severity overrides). Every problem in the
    /// configuration and the policies is reported before anything is evaluated.
    pub fn load(&self, diagnostics: &mut Diagnostics) -> Option<(Catalog, Config)> {
        let working_dir = std::env::current_dir().unwrap_or_default();
        let config = match Config::discover(self.config.as_deref(), &working_dir) {
            Ok(config) => config,
            Err(errors) => {
                diagnostics.push(Box::new(errors));
                return None;
            }
        };
        let mut options = CatalogOptions {
            builtins: !self.no_builtin_policies,
            user_paths: self.policies.clone(),
            ..CatalogOptions::default()
        };
        let catalog = match Catalog::load(&options) {
            Ok(catalog) => catalog,
            Err(errors) => {
                diagnostics.push(Box::new(errors));
                return None;
            }
        };
        if let Err(errors) = config.check(&catalog) {
            diagnostics.push(Box::new(errors));
            return None;
        }
        let catalog = if config.params.is_empty() {
            catalog
        } else {
            // Parameters are resolved when a policy is compiled: compile again with them.
            options.params = config.param_values();
            match Catalog::load(&options) {
                Ok(catalog) => catalog,
                Err(errors) => {
                    diagnostics.push(Box::new(errors));
                    return None;
                }
            }
        };
        Some((config.select(catalog), config))
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

    /// Terraform root module, to point findings at .tf lines
    ///
    /// Default: the current directory when it holds .tf files, else the plan's directory when
    /// it does.
    #[arg(long, value_name = "DIR", help_heading = "Input")]
    pub tf_root: Option<PathBuf>,
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
            terraform_sources: match &self.tf_root {
                Some(dir) => TerraformSources::Root(dir.clone()),
                None => TerraformSources::Auto,
            },
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

    /// Also write the same report as FORMAT=FILE (repeatable)
    ///
    /// For example `--format github --report sarif=results.sarif --report markdown=summary.md`;
    /// each file is written atomically.
    #[arg(long = "report", value_name = "FORMAT=FILE", value_parser = parse_report, help_heading = "Output")]
    pub reports: Vec<(OutputFormat, PathBuf)>,

    /// Leave findings below this severity out of every output and of the gate
    #[arg(long, value_enum, value_name = "SEVERITY", help_heading = "Output")]
    pub min_severity: Option<SeverityArg>,

    /// Write file paths relative to DIR [default: the git top level]
    ///
    /// The nearest directory at or above the current one that holds `.git`; else the current
    /// directory.
    #[arg(long, value_name = "DIR", help_heading = "Output")]
    pub repo_root: Option<PathBuf>,

    /// SARIF automationDetails.id (code scanning category)
    ///
    /// Keeps several analyses of one commit apart in code scanning, e.g. one per Terraform root
    /// (`terraform/prod`).
    #[arg(long, value_name = "CATEGORY", value_parser = clap::builder::NonEmptyStringValueParser::new(), help_heading = "Output")]
    pub sarif_category: Option<String>,

    /// Exit 1 when a failing finding is at or above this severity [default: the
    /// configuration's `fail-on`, else low]
    #[arg(long, value_enum, help_heading = "Gate")]
    pub fail_on: Option<FailOn>,

    /// Fail only on findings not recorded in this baseline
    ///
    /// Findings recorded in FILE (`resilix baseline create`) are reported as known and never
    /// fail the gate.
    #[arg(long, value_name = "FILE", help_heading = "Gate")]
    pub baseline: Option<PathBuf>,

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
    /// The gate: `--fail-on`, else the configuration's `fail-on`, else `low`.
    pub fn threshold(&self, config: &Config) -> Option<Severity> {
        match self.fail_on {
            Some(fail_on) => fail_on.threshold(),
            None => config.fail_on.unwrap_or(Some(Severity::Low)),
        }
    }

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

/// `FORMAT=FILE` of `--report`.
fn parse_report(text: &str) -> Result<(OutputFormat, PathBuf), String> {
    use clap::ValueEnum;
    let (format, file) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}`: expected FORMAT=FILE, e.g. sarif=results.sarif"))?;
    let format = OutputFormat::from_str(format.trim(), true).map_err(|_| {
        let known: Vec<String> = OutputFormat::value_variants()
            .iter()
            .filter_map(|v| v.to_possible_value().map(|p| p.get_name().to_owned()))
            .collect();
        format!("`{format}` is not a format (one of: {})", known.join(", "))
    })?;
    if file.is_empty() {
        return Err(format!("`{text}`: the file name is missing"));
    }
    Ok((format, PathBuf::from(file)))
}

/// The repository root: the nearest directory at or above `dir` holding `.git` (a directory,
/// or a file in a worktree or submodule), else `dir` itself.
pub fn repository_root(dir: &Path) -> PathBuf {
    dir.ancestors()
        .find(|d| d.join(".git").exists())
        .unwrap_or(dir)
        .to_path_buf()
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
    let Some((catalog, config)) = args.policy.load(diagnostics) else {
        return ExitStatus::Error;
    };
    let loaded = input::load_paths(&args.paths, &args.input.load_options(&catalog));
    finish(
        &catalog,
        &config,
        loaded.into(),
        &args.output,
        quiet,
        diagnostics,
    )
}

/// Loaded resources and what went wrong loading them.
#[derive(Debug, Default)]
pub struct Inputs {
    pub resources: ResourceSet,
    pub errors: Vec<LoadError>,
    pub warnings: Vec<LoadWarning>,
    pub files: usize,
}

impl From<input::LoadOutcome> for Inputs {
    fn from(loaded: input::LoadOutcome) -> Self {
        Inputs {
            resources: ResourceSet {
                resources: loaded.resources,
            },
            errors: loaded.errors,
            warnings: loaded.warnings,
            files: loaded.files,
        }
    }
}

/// Evaluates the inputs into a judged report ([`crate::pipeline::report`]); load and
/// configuration warnings (unless `quiet`) and errors go to `diagnostics`.
pub(crate) fn evaluate(
    catalog: &Catalog,
    config: &Config,
    inputs: Inputs,
    judgement: Judgement<'_>,
    quiet: bool,
    diagnostics: &mut Diagnostics,
) -> Report {
    let report = crate::pipeline::report(
        catalog,
        config,
        crate::pipeline::Inputs {
            resources: inputs.resources,
            errors: inputs.errors.iter().map(error_record).collect(),
            files: inputs.files,
        },
        judgement,
    );
    if !quiet {
        for warning in config.warnings() {
            diagnostics.push(Box::new(warning));
        }
        for warning in inputs.warnings {
            diagnostics.push(Box::new(warning));
        }
    }
    for error in inputs.errors {
        diagnostics.push(Box::new(error));
    }
    report
}

/// Whether the report holds errors (unreadable inputs, policies that could not be evaluated).
pub(crate) fn has_errors(report: &Report) -> bool {
    report.error_count() > 0
}

/// Evaluates, applies the configuration (approvals, waivers, risk-based priority), writes the
/// report and decides the exit status: the pipeline every evaluating command ends with.
pub(crate) fn finish(
    catalog: &Catalog,
    config: &Config,
    inputs: Inputs,
    args: &OutputArgs,
    quiet: bool,
    diagnostics: &mut Diagnostics,
) -> ExitStatus {
    // A baseline that cannot be read is a usage error: nothing is evaluated or written.
    let baseline = match &args.baseline {
        Some(path) => match baseline::load(path) {
            Ok(baseline) => Some((input::display_name(path), baseline)),
            Err(error) => {
                diagnostics.push(Box::new(error));
                return ExitStatus::Error;
            }
        },
        None => None,
    };
    let judgement = Judgement {
        baseline: baseline.as_ref().map(|(name, b)| (name.as_str(), b)),
        min_severity: args.min_severity.map(SeverityArg::severity),
    };
    let report = evaluate(catalog, config, inputs, judgement, quiet, diagnostics);
    let threshold = args.threshold(config);
    let had_errors = has_errors(&report);

    let working_dir = std::env::current_dir().unwrap_or_default();
    let base_dir = match &args.repo_root {
        Some(dir) => working_dir.join(dir),
        None => repository_root(&working_dir),
    };
    let color = args.output.is_none()
        && args.format.is_human_readable()
        && io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none();
    let cx = EmitContext {
        catalog,
        version: env!("CARGO_PKG_VERSION"),
        base_dir,
        working_dir,
        color,
        fail_on: threshold,
        sarif_category: args.sarif_category.clone(),
        frameworks: args.framework_ids(),
    };
    // Every output comes from this one report: the primary one, then each --report.
    let mut outputs: Vec<(OutputFormat, Option<&PathBuf>)> =
        vec![(args.format, args.output.as_ref())];
    outputs.extend(
        args.reports
            .iter()
            .map(|(format, path)| (*format, Some(path))),
    );
    let mut write_failed = false;
    for (format, path) in outputs {
        let emitter = emitter_for(format);
        match path {
            Some(path) => {
                if let Err(error) = output::write_atomic(path, |w| emitter.emit(w, &report, &cx)) {
                    // The other outputs are still written.
                    diagnostics.push(Box::new(error));
                    write_failed = true;
                    continue;
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
                        write_failed = true;
                    }
                }
            }
        }
    }

    if had_errors || write_failed {
        ExitStatus::Error
    } else if report.failing(threshold) > 0 {
        ExitStatus::Violations
    } else {
        ExitStatus::Clean
    }
}

fn one_line_summary(report: &Report) -> String {
    format!(
        "{} resource(s), {} failing finding(s), {} to review, {} passed",
        report.resources.len(),
        report.count(Disposition::Fail),
        report.count(Disposition::Review),
        report.count(Disposition::Pass)
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
