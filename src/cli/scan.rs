//! `resilix scan`, and the argument groups and pipeline every evaluating command shares
//! (`scan` now; `diff` and `audit` reuse [`PolicyArgs`], [`OutputArgs`] and [`finish`]).

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;

use super::{FailOn, InputFormatArg, SeverityArg, UsageError, parse_size};
use crate::config::{Config, Spanned};
use crate::emit::{EmitContext, OutputFormat, emitter_for};
use crate::findings::{Disposition, ErrorRecord, Paths, Report, baseline};
use crate::input::{
    self, InputFormat, LoadError, LoadNote, LoadOptions, LoadWarning, SkipPaths, TerraformSources,
    parse_skip_glob,
};
use crate::model::ResourceSet;
use crate::output::{self, Named};
use crate::pattern::Pattern;
use crate::pipeline::Judgement;
use crate::policy::{Catalog, CatalogOptions, Severity};
use crate::{Diagnostics, ExitStatus};

/// Where policies come from.
#[derive(Debug, Clone, Args)]
pub struct PolicyArgs {
    /// Add the policies in DIR (or one policy FILE); repeatable
    #[arg(long = "policies", value_name = "DIR", help_heading = "Policies")]
    pub policies: Vec<PathBuf>,

    /// Do not load the built-in policies (use only --policies)
    #[arg(long, help_heading = "Policies")]
    pub no_builtin_policies: bool,

    /// Read the configuration from FILE [default: resilix.yaml or .resilix.yaml in the
    /// current directory or the nearest one above it, up to the repository root]
    #[arg(
        long,
        value_name = "FILE",
        env = "RESILIX_CONFIG",
        help_heading = "Policies"
    )]
    pub config: Option<PathBuf>,

    /// Run only these policies: IDs or globs such as `aws.s3.*` (repeatable)
    ///
    /// The command-line twin of `policies.only` in the configuration, which it replaces.
    #[arg(long = "check", value_name = "ID|GLOB", help_heading = "Policies")]
    pub checks: Vec<String>,

    /// Do not run these policies: IDs or globs (repeatable)
    ///
    /// The command-line twin of `policies.disable`, to which it adds.
    #[arg(long = "skip-check", value_name = "ID|GLOB", help_heading = "Policies")]
    pub skip_checks: Vec<String>,

    #[command(flatten)]
    pub limit: SizeLimit,
}

/// How large a file may be: every file a command reads (inputs, the configuration, policy files,
/// baselines) is read through [`input::read_source`] under this one bound.
#[derive(Debug, Clone, Copy, Args)]
pub struct SizeLimit {
    /// Refuse inputs, configuration, policy and baseline files larger than this (e.g. 500M, 2G)
    #[arg(long, value_name = "SIZE", default_value = "1G", value_parser = parse_size, help_heading = "Input")]
    pub max_input_size: u64,
}

impl PolicyArgs {
    /// Compiles the catalog, without the configuration file; every policy error is reported
    /// before anything is evaluated. `tests`: with the built-in policies' inline tests (for the
    /// commands that show or run them).
    pub fn catalog(&self, diagnostics: &mut Diagnostics, tests: bool) -> Option<Catalog> {
        let options = CatalogOptions {
            tests,
            ..self.catalog_options()
        };
        let catalog = match Catalog::load(&options) {
            Ok(catalog) => catalog,
            Err(errors) => {
                diagnostics.push(Box::new(errors));
                return None;
            }
        };
        let (only, skip) = self.selection(&catalog, diagnostics)?;
        let matches =
            |list: &[Spanned<Pattern>], id: &str| list.iter().any(|p| p.value.matches(id));
        Some(
            catalog
                .retain(|p| (only.is_empty() || matches(&only, &p.id)) && !matches(&skip, &p.id)),
        )
    }

    /// The files this configuration and these policies are read from, for
    /// [`output::refuse_clashes`].
    pub fn named_inputs(&self) -> Vec<Named> {
        let working_dir = std::env::current_dir().unwrap_or_default();
        let mut named = Vec::new();
        match (
            &self.config,
            Config::find(self.config.as_deref(), &working_dir),
        ) {
            (Some(path), _) => named.push(Named::new(flag("--config", path), path)),
            (None, Some(found)) => named.push(Named::new(
                format!("the configuration `{}`", found.display()),
                &found,
            )),
            (None, None) => {}
        }
        for path in &self.policies {
            named.push(Named::new(flag("--policies", path), path));
        }
        named
    }

    fn catalog_options(&self) -> CatalogOptions {
        CatalogOptions {
            builtins: !self.no_builtin_policies,
            user_paths: self.policies.clone(),
            max_bytes: self.limit.max_input_size,
            ..CatalogOptions::default()
        }
    }

    /// `--check` and `--skip-check` as patterns; each must match a policy of `catalog`.
    fn selection(
        &self,
        catalog: &Catalog,
        diagnostics: &mut Diagnostics,
    ) -> Option<(Patterns, Patterns)> {
        let ids: Vec<&str> = catalog.policies.iter().map(|p| p.id.as_str()).collect();
        let mut failed = false;
        let mut patterns = |flag: &str, texts: &[String]| -> Vec<Spanned<Pattern>> {
            let mut out = Vec::new();
            for text in texts {
                let pattern = Pattern::new(text.trim());
                if !ids.iter().any(|id| pattern.matches(id)) {
                    failed = true;
                    diagnostics.push(Box::new(UsageError {
                        message: format!("{flag} `{text}` matches no policy"),
                        help: Some(crate::policy::compile::suggestion(text, &ids).map_or_else(
                            || "`resilix policies list` shows the policy IDs".to_owned(),
                            |s| format!("did you mean `{s}`?"),
                        )),
                    }));
                }
                out.push(Spanned {
                    value: pattern,
                    span: crate::policy::yaml::Span::default(),
                });
            }
            out
        };
        let only = patterns("--check", &self.checks);
        let skip = patterns("--skip-check", &self.skip_checks);
        (!failed).then_some((only, skip))
    }

    /// Reads the configuration file and compiles the catalog it selects (its parameters
    /// applied, its enabled and disabled policies and severity overrides). Every problem in the
    /// configuration and the policies is reported before anything is evaluated.
    pub fn load(&self, diagnostics: &mut Diagnostics) -> Option<(Catalog, Config)> {
        let working_dir = std::env::current_dir().unwrap_or_default();
        let config = match Config::discover(
            self.config.as_deref(),
            &working_dir,
            self.limit.max_input_size,
        ) {
            Ok(config) => config,
            Err(errors) => {
                diagnostics.push(Box::new(errors));
                return None;
            }
        };
        // The configuration's parameters are applied as the catalog is compiled, once; those
        // that name no parameter or have the wrong type are left at their defaults by the
        // compiler and refused by `check`, at their line in the configuration.
        let options = CatalogOptions {
            params: config.param_values(),
            ..self.catalog_options()
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
        // The command line's selection: `--check` replaces `policies.only`, `--skip-check` adds
        // to `policies.disable`.
        let (only, skip) = self.selection(&catalog, diagnostics)?;
        let mut config = config;
        if !only.is_empty() {
            config.only = only;
        }
        config.disable.extend(skip);
        Some((config.select(catalog), config))
    }
}

/// How input files are found and how large they may be (every command that reads files).
#[derive(Debug, Clone, Args)]
pub struct ReadArgs {
    /// Leave out what GLOB matches when walking a directory (repeatable)
    ///
    /// Matched against each file's and directory's name and its path (`legacy/**`,
    /// `*.tfvars.json`); `*` stays within a directory, `**` crosses them. Hidden directories,
    /// node_modules and what .gitignore ignores are always left out; a file named on the
    /// command line is always read.
    #[arg(long = "skip-path", value_name = "GLOB", value_parser = parse_skip_glob, help_heading = "Input")]
    pub skip_paths: Vec<globset::Glob>,
}

impl ReadArgs {
    pub fn load_options(&self, catalog: &Catalog, limit: SizeLimit) -> LoadOptions {
        LoadOptions {
            max_bytes: limit.max_input_size,
            reference_types: Some(Arc::new(catalog.reference_types())),
            terraform_sources: TerraformSources::Off,
            skip_paths: SkipPaths::new(&self.skip_paths),
            ..LoadOptions::default()
        }
    }
}

/// Policy ID patterns from the command line.
type Patterns = Vec<Spanned<Pattern>>;

/// How inputs are read.
#[derive(Debug, Clone, Args)]
pub struct InputArgs {
    /// How to read the inputs
    #[arg(long, value_enum, default_value_t = InputFormatArg::Auto, help_heading = "Input")]
    pub input_format: InputFormatArg,

    #[command(flatten)]
    pub read: ReadArgs,

    /// Terraform root module, to point findings at .tf lines
    ///
    /// Default: the current directory when it holds .tf files, else the plan's directory when
    /// it does.
    #[arg(long, value_name = "DIR", help_heading = "Input")]
    pub tf_root: Option<PathBuf>,
}

impl InputArgs {
    pub fn load_options(&self, catalog: &Catalog, limit: SizeLimit) -> LoadOptions {
        LoadOptions {
            format: match self.input_format {
                InputFormatArg::Auto => InputFormat::Auto,
                InputFormatArg::TerraformPlan => InputFormat::TerraformPlan,
                InputFormatArg::AwsConfig => InputFormat::AwsConfig,
            },
            terraform_sources: match &self.tf_root {
                Some(dir) => TerraformSources::Root(dir.clone()),
                None => TerraformSources::Auto,
            },
            ..self.read.load_options(catalog, limit)
        }
    }
}

/// What to write, where, and when to fail.
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// Output format
    #[arg(long, short = 'f', value_enum, default_value_t = OutputFormat::Text, env = "RESILIX_FORMAT", help_heading = "Output")]
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
    #[arg(long, value_enum, env = "RESILIX_FAIL_ON", help_heading = "Gate")]
    pub fail_on: Option<FailOn>,

    /// Never exit 1 because of findings: `--fail-on never` (errors still exit 2)
    ///
    /// Wins over `--fail-on`, RESILIX_FAIL_ON and the configuration's `fail-on`.
    #[arg(long, help_heading = "Gate")]
    pub soft_fail: bool,

    /// Framework of the auditor's report (html, audit-markdown); repeatable [default: all]
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
    /// AWS Foundational Security Best Practices (Security Hub)
    #[value(name = "aws-fsbp")]
    AwsFsbp,
}

impl FrameworkArg {
    pub fn id(self) -> &'static str {
        match self {
            FrameworkArg::Nist80053R5 => "nist-800-53-r5",
            FrameworkArg::Iso177992005 => "iso-17799-2005",
            FrameworkArg::Cobit41 => "cobit-4.1",
            FrameworkArg::AwsFsbp => "aws-fsbp",
        }
    }
}

/// `--repo-root`, as arguments of the commands that write fingerprints.
pub(crate) fn paths_for(repo_root: Option<&Path>) -> Paths {
    let working_dir = std::env::current_dir().unwrap_or_default();
    Paths {
        base_dir: match repo_root {
            Some(dir) => working_dir.join(dir),
            None => repository_root(&working_dir),
        },
        working_dir,
    }
}

impl OutputArgs {
    /// Where paths are relative to: `--repo-root`, else the git top level.
    pub fn paths(&self) -> Paths {
        paths_for(self.repo_root.as_deref())
    }

    /// The gate: `--soft-fail` or `--fail-on`, else the configuration's `fail-on`, else `low`.
    pub fn threshold(&self, config: &Config) -> Option<Severity> {
        if self.soft_fail {
            return None;
        }
        match self.fail_on {
            Some(fail_on) => fail_on.threshold(),
            None => config.fail_on.unwrap_or(Some(Severity::Low)),
        }
    }

    /// Refuses `-o sarif` (a Checkov user's reflex, where `-o` is the format): an `--output`
    /// that is exactly a format's name, when no such file exists, is not meant as a file name.
    pub fn check(&self) -> Result<(), UsageError> {
        use clap::ValueEnum;
        let Some(path) = &self.output else {
            return Ok(());
        };
        let Some(text) = path.to_str() else {
            return Ok(());
        };
        let format = OutputFormat::value_variants().iter().find_map(|format| {
            let value = format.to_possible_value()?;
            value
                .get_name()
                .eq_ignore_ascii_case(text)
                .then(|| value.get_name().to_owned())
        });
        match format {
            Some(name) if !path.exists() => Err(UsageError {
                message: format!(
                    "`--output {text}` would write the report to a file named `{text}`"
                ),
                help: Some(format!(
                    "did you mean --format {name}? (-o is --output FILE; to write a file named `{text}`, give it as ./{text})"
                )),
            }),
            _ => Ok(()),
        }
    }

    /// Every output: `--output` (else stdout), then each `--report`.
    pub fn named_outputs(&self) -> Vec<Named> {
        use clap::ValueEnum;
        let mut named = vec![match &self.output {
            Some(path) => Named::new(flag("--output", path), path),
            None => Named::stream("stdout (the --format output)"),
        }];
        for (format, path) in &self.reports {
            let name = format
                .to_possible_value()
                .map(|v| v.get_name().to_owned())
                .unwrap_or_default();
            named.push(Named::new(
                format!("`--report {name}={}`", path.display()),
                path,
            ));
        }
        named
    }

    /// The frameworks to report on, in the order given (all of them by default).
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

/// `` `--output r.out` ``: a flag and its file, as messages name them.
pub(crate) fn flag(name: &str, path: &Path) -> String {
    format!("`{name} {}`", path.display())
}

/// An input path as a message names it: `` `PATH plan.json` ``, or stdin for `-`.
pub(crate) fn named_path(path: &Path) -> Named {
    if path.as_os_str() == "-" {
        Named::stream("`PATH -` (stdin)")
    } else {
        Named::new(format!("the input `{}`", path.display()), path)
    }
}

/// Refuses a command line that names one file twice ([`output::refuse_clashes`]), before
/// anything runs; says why in `diagnostics`.
pub(crate) fn refuse_clashes(
    outputs: &[Named],
    inputs: &[Named],
    diagnostics: &mut Diagnostics,
) -> Result<(), ExitStatus> {
    output::refuse_clashes(outputs, inputs).map_err(|error| {
        diagnostics.push(Box::new(error));
        ExitStatus::Error
    })
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

/// `--baseline` (scan and audit: `diff` findings are never recorded in a baseline).
#[derive(Debug, Clone, Args)]
pub struct BaselineArg {
    /// Fail only on findings not recorded in this baseline
    ///
    /// Findings recorded in FILE (`resilix baseline create`) are reported as known and never
    /// fail the gate.
    #[arg(long, value_name = "FILE", help_heading = "Gate")]
    pub baseline: Option<PathBuf>,
}

impl BaselineArg {
    pub fn named_inputs(&self) -> Vec<Named> {
        self.baseline
            .iter()
            .map(|path| Named::new(flag("--baseline", path), path))
            .collect()
    }
}

/// Arguments of `resilix scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Plan JSON files, AWS Config files (also .json.gz), directories (walked for *.json and
    /// *.json.gz), or - for stdin
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    #[command(flatten)]
    pub output: OutputArgs,

    #[command(flatten)]
    pub baseline: BaselineArg,

    #[command(flatten)]
    pub policy: PolicyArgs,

    #[command(flatten)]
    pub input: InputArgs,
}

pub(crate) fn run(args: &ScanArgs, quiet: bool, diagnostics: &mut Diagnostics) -> ExitStatus {
    if let Err(error) = args.output.check() {
        diagnostics.push(Box::new(error));
        return ExitStatus::Error;
    }
    let mut inputs: Vec<Named> = args.paths.iter().map(|p| named_path(p)).collect();
    inputs.extend(args.baseline.named_inputs());
    inputs.extend(args.policy.named_inputs());
    if let Err(status) = refuse_clashes(&args.output.named_outputs(), &inputs, diagnostics) {
        return status;
    }
    let Some((catalog, config)) = args.policy.load(diagnostics) else {
        return ExitStatus::Error;
    };
    let loaded = input::load_paths(
        &args.paths,
        &args.input.load_options(&catalog, args.policy.limit),
    );
    finish(
        &catalog,
        &config,
        loaded.into(),
        &args.output,
        args.baseline
            .baseline
            .as_deref()
            .map(|path| (path, args.policy.limit)),
        quiet,
        diagnostics,
    )
}

/// Loaded resources and what went wrong loading them.
#[derive(Debug, Default)]
pub(crate) struct Inputs {
    pub resources: ResourceSet,
    pub errors: Vec<LoadError>,
    pub warnings: Vec<LoadWarning>,
    pub notes: Vec<LoadNote>,
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
            notes: loaded.notes,
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
    paths: &Paths,
    judgement: Judgement<'_>,
    quiet: bool,
    diagnostics: &mut Diagnostics,
) -> Report {
    let load_errors = inputs.errors.len();
    let report = crate::pipeline::report(
        catalog,
        config,
        crate::pipeline::Inputs {
            resources: inputs.resources,
            errors: inputs.errors.iter().map(error_record).collect(),
            files: inputs.files,
            paths: paths.clone(),
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
        for note in inputs.notes {
            diagnostics.push(Box::new(note));
        }
        for warning in &report.warnings {
            diagnostics.push(Box::new(InlineIgnoreWarning {
                place: format!("{}:{}", warning.file, warning.line),
                message: warning.message.clone(),
                help: warning.help.clone(),
            }));
        }
    }
    for error in inputs.errors {
        diagnostics.push(Box::new(error));
    }
    // Every evaluation error is said on stderr too, not only counted: the resources whose
    // values could not be read (after the load errors in `report.errors`), then each (resource,
    // policy) that could not be evaluated.
    for record in report.errors.iter().skip(load_errors) {
        diagnostics.push(Box::new(EvaluationError {
            location: record_location(&record.file, record.line, record.column),
            message: record.message.clone(),
        }));
    }
    for finding in report
        .findings
        .iter()
        .filter(|f| f.disposition() == Disposition::Error)
    {
        let Some(resource) = report.resources.resources.get(finding.resource) else {
            continue;
        };
        let at = match (&resource.origin.file, resource.origin.offset) {
            (Some(file), Some(offset)) => Some(file.line_col(offset)),
            _ => None,
        };
        diagnostics.push(Box::new(EvaluationError {
            location: record_location(
                resource.origin.file_name().unwrap_or("-"),
                at.map(|a| a.line),
                at.map(|a| a.column),
            ),
            message: format!("{}: {}", resource.address, finding.message),
        }));
    }
    report
}

/// A resource or a (resource, policy) pair that could not be evaluated.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("{location}: {message}")]
#[diagnostic(code(eval::error))]
struct EvaluationError {
    location: String,
    message: String,
}

/// `file:line:column`, as far as known.
fn record_location(file: &str, line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(line), Some(column)) => format!("{file}:{line}:{column}"),
        (Some(line), None) => format!("{file}:{line}"),
        _ => file.to_owned(),
    }
}

/// An inline ignore that suppresses nothing, at its line (stderr; the report holds it too).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("{place}: {message}")]
#[diagnostic(code(source::inline_ignore), severity(Warning))]
struct InlineIgnoreWarning {
    place: String,
    message: String,
    #[help]
    help: Option<String>,
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
    baseline_file: Option<(&Path, SizeLimit)>,
    quiet: bool,
    diagnostics: &mut Diagnostics,
) -> ExitStatus {
    // A baseline that cannot be read is a usage error: nothing is evaluated or written.
    let baseline = match baseline_file {
        Some((path, limit)) => match baseline::load(path, limit.max_input_size) {
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
    let paths = args.paths();
    let report = evaluate(
        catalog,
        config,
        inputs,
        &paths,
        judgement,
        quiet,
        diagnostics,
    );
    let threshold = args.threshold(config);
    let had_errors = has_errors(&report);

    let color = args.output.is_none()
        && args.format.is_human_readable()
        && super::color::enabled(&io::stdout());
    let cx = EmitContext {
        catalog,
        version: env!("CARGO_PKG_VERSION"),
        paths,
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
