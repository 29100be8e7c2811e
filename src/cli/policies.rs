//! `resilix policies list|show|test|docs` and `resilix controls`.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use serde::Serialize;

use super::scan::{FrameworkArg, PolicyArgs, SizeLimit};
use crate::docs;
use crate::findings::compliance::ControlState;
use crate::frameworks;
use crate::model::SourceKind;
use crate::policy::{Catalog, Category, Policy, PolicyStatus, Severity};
use crate::testing::run_policy_tests;
use crate::{Diagnostics, ExitStatus};

/// A listing format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct PoliciesArgs {
    #[command(subcommand)]
    pub command: PoliciesCommand,
}

#[derive(Debug, Subcommand)]
pub enum PoliciesCommand {
    /// List the policies (built-in and --policies)
    List {
        #[arg(long, short = 'f', value_enum, default_value_t = ListFormat::Text)]
        format: ListFormat,
        #[command(flatten)]
        policy: PolicyArgs,
    },
    /// Show everything about one policy
    Show {
        /// Policy id, e.g. aws.s3.block-public-access
        id: String,
        #[command(flatten)]
        policy: PolicyArgs,
    },
    /// Run the inline `tests:` of the policies (built-ins, and yours in DIR)
    Test {
        /// Directories or files of your policies (tested along with the built-ins)
        #[arg(value_name = "DIR")]
        dirs: Vec<PathBuf>,
        /// Test only the policies in DIR
        #[arg(long)]
        no_builtin_policies: bool,
        #[command(flatten)]
        limit: SizeLimit,
    },
    /// Print the policy reference (Markdown), as in docs/policies.md
    Docs {
        #[command(flatten)]
        policy: PolicyArgs,
    },
}

/// Arguments of `resilix controls`.
#[derive(Debug, Args)]
pub struct ControlsArgs {
    /// Only this framework
    #[arg(long, value_enum)]
    pub framework: Option<FrameworkArg>,
    /// List every control, also those no policy covers
    #[arg(long)]
    pub all: bool,
    #[arg(long, short = 'f', value_enum, default_value_t = ListFormat::Text)]
    pub format: ListFormat,
    #[command(flatten)]
    pub policy: PolicyArgs,
}

pub(crate) fn run(args: &PoliciesArgs, diagnostics: &mut Diagnostics) -> ExitStatus {
    let result = match &args.command {
        PoliciesCommand::List { format, policy } => match policy.catalog(diagnostics, false) {
            Some(catalog) => list(&catalog, *format),
            None => return ExitStatus::Error,
        },
        PoliciesCommand::Show { id, policy } => {
            let Some(catalog) = policy.catalog(diagnostics, true) else {
                return ExitStatus::Error;
            };
            match catalog.by_id(id) {
                Some((_, found)) => show(found),
                None => {
                    let ids: Vec<&str> = catalog.policies.iter().map(|p| p.id.as_str()).collect();
                    diagnostics.push(Box::new(UnknownPolicy {
                        id: id.clone(),
                        help: crate::policy::compile::suggestion(id, &ids).map(|s| {
                            format!("did you mean `{s}`? (`resilix policies list` shows them all)")
                        }),
                    }));
                    return ExitStatus::Error;
                }
            }
        }
        PoliciesCommand::Test {
            dirs,
            no_builtin_policies,
            limit,
        } => {
            let policy = PolicyArgs {
                policies: dirs.clone(),
                no_builtin_policies: *no_builtin_policies,
                config: None,
                checks: Vec::new(),
                skip_checks: Vec::new(),
                limit: *limit,
            };
            let Some(catalog) = policy.catalog(diagnostics, true) else {
                return ExitStatus::Error;
            };
            return test(&catalog);
        }
        PoliciesCommand::Docs { policy } => match policy.catalog(diagnostics, true) {
            Some(catalog) => io::stdout()
                .lock()
                .write_all(docs::policy_reference(&catalog).as_bytes()),
            None => return ExitStatus::Error,
        },
    };
    finish_io(result, diagnostics)
}

pub(crate) fn run_controls(args: &ControlsArgs, diagnostics: &mut Diagnostics) -> ExitStatus {
    let Some(catalog) = args.policy.catalog(diagnostics, false) else {
        return ExitStatus::Error;
    };
    let ids: Vec<&str> = match args.framework {
        Some(f) => vec![f.id()],
        None => frameworks::all().iter().map(|f| f.id).collect(),
    };
    let coverage: Vec<docs::Coverage> = ids
        .iter()
        .filter_map(|id| docs::coverage(&catalog, id))
        .collect();
    let result = match args.format {
        ListFormat::Json => write_json(&coverage),
        ListFormat::Text => {
            let mut out = io::stdout().lock();
            coverage
                .iter()
                .try_for_each(|c| write_coverage_text(&mut out, c, args.all))
        }
    };
    finish_io(result, diagnostics)
}

fn finish_io(result: io::Result<()>, diagnostics: &mut Diagnostics) -> ExitStatus {
    match result {
        Ok(()) => ExitStatus::Clean,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitStatus::Clean,
        Err(source) => {
            diagnostics.push(Box::new(crate::output::OutputError::Io {
                path: "<stdout>".to_owned(),
                source,
            }));
            ExitStatus::Error
        }
    }
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("no policy has the id `{id}`")]
#[diagnostic(code(policy::unknown_id))]
struct UnknownPolicy {
    id: String,
    #[help]
    help: Option<String>,
}

/// One policy in `policies list --format json`.
#[derive(Serialize)]
struct PolicySummary<'a> {
    id: &'a str,
    title: &'a str,
    severity: Severity,
    category: Category,
    status: PolicyStatus,
    /// On by default (`false`: opt-in, enabled in resilix.yaml).
    enabled: bool,
    /// Input kinds the policy targets.
    targets: Vec<SourceKind>,
    /// Resource types per input kind.
    resource_types: BTreeMap<SourceKind, Vec<&'a str>>,
    controls: &'a BTreeMap<String, Vec<String>>,
    builtin: bool,
    file: &'a str,
}

fn summary(policy: &Policy) -> PolicySummary<'_> {
    let resource_types = policy.types_by_kind();
    PolicySummary {
        id: &policy.id,
        title: &policy.title,
        severity: policy.severity,
        category: policy.category,
        status: policy.status,
        enabled: policy.enabled,
        targets: resource_types.keys().copied().collect(),
        resource_types,
        controls: &policy.controls,
        builtin: policy.origin.builtin,
        file: policy.origin.file.name(),
    }
}

fn write_json(value: &impl Serialize) -> io::Result<()> {
    let mut out = io::stdout().lock();
    // Keep the kind of an I/O error (a closed pipe is not a failure), not serde's wrapper.
    serde_json::to_writer_pretty(&mut out, value).map_err(|e| match e.io_error_kind() {
        Some(kind) => io::Error::new(kind, e),
        None => io::Error::other(e),
    })?;
    writeln!(out)
}

fn list(catalog: &Catalog, format: ListFormat) -> io::Result<()> {
    match format {
        ListFormat::Json => write_json(&catalog.policies.iter().map(summary).collect::<Vec<_>>()),
        ListFormat::Text => {
            let mut out = io::stdout().lock();
            let width = catalog
                .policies
                .iter()
                .map(|p| p.id.len())
                .max()
                .unwrap_or(0);
            for policy in &catalog.policies {
                let kinds: Vec<&str> = summary(policy).targets.iter().map(|k| k.as_str()).collect();
                writeln!(
                    out,
                    "{:<width$}  {:<8}  {:<15}  {:<20}  {}{}",
                    policy.id,
                    policy.severity.as_str(),
                    policy.category.as_str(),
                    kinds.join(","),
                    policy.title,
                    if policy.enabled { "" } else { "  (opt-in)" }
                )?;
            }
            let opt_in = catalog.policies.iter().filter(|p| !p.enabled).count();
            writeln!(
                out,
                "\n{} policies ({opt_in} opt-in: enable them in resilix.yaml)",
                catalog.len()
            )
        }
    }
}

fn show(policy: &Policy) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(docs::policy_text(policy).as_bytes())
}

fn test(catalog: &Catalog) -> ExitStatus {
    let results = run_policy_tests(catalog);
    let mut out = io::stdout().lock();
    let mut failed = 0usize;
    for result in &results {
        let mark = if result.passed() { "ok  " } else { "FAIL" };
        let _ = writeln!(
            out,
            "{mark}  {}  {}  ({})",
            result.policy, result.case, result.location
        );
        for failure in &result.failures {
            failed += 1;
            let _ = writeln!(out, "        {failure}");
        }
    }
    let failing_cases = results.iter().filter(|r| !r.passed()).count();
    let untested = catalog
        .policies
        .iter()
        .filter(|p| p.tests.is_empty())
        .count();
    let _ = writeln!(
        out,
        "\n{} test case(s) in {} policies: {} passed, {} failed{}",
        results.len(),
        catalog.len(),
        results.len() - failing_cases,
        failing_cases,
        if untested > 0 {
            format!("; {untested} policies have no tests")
        } else {
            String::new()
        }
    );
    if failed > 0 {
        ExitStatus::Violations
    } else {
        ExitStatus::Clean
    }
}

fn write_coverage_text(
    out: &mut dyn Write,
    coverage: &docs::Coverage,
    all: bool,
) -> io::Result<()> {
    writeln!(
        out,
        "{} — {} of {} controls assessed automatically ({:.1}%) by {} policies",
        coverage.name,
        coverage.covered,
        coverage.controls_total,
        coverage.percent,
        coverage.policies
    )?;
    for control in &coverage.controls {
        if control.policies.is_empty() && !all {
            continue;
        }
        let policies = if control.policies.is_empty() {
            ControlState::NotAssessed.as_str().to_owned()
        } else {
            control.policies.join(", ")
        };
        writeln!(
            out,
            "  {:<12} {:<60} {}",
            control.id,
            crate::model::value::truncate(&control.title, 58),
            policies
        )?;
    }
    writeln!(out)
}
