//! Command-line arguments (clap derive); the raw layer only.

#[cfg(feature = "aws")]
pub(crate) mod audit;
pub(crate) mod baseline;
pub mod color;
pub(crate) mod diff;
pub(crate) mod docs;
pub(crate) mod policies;
pub(crate) mod scan;

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[cfg(feature = "aws")]
pub use audit::{AuditArgs, FetchArg};
pub use baseline::{BaselineArgs, BaselineCommand, BaselineCreateArgs};
pub use color::ColorArg;
pub use diff::DiffArgs;
pub use docs::{CompletionsArgs, ManArgs};
pub use policies::{ControlsArgs, ListFormat, PoliciesArgs, PoliciesCommand};
pub use scan::{
    BaselineArg, FrameworkArg, InputArgs, OutputArgs, PolicyArgs, ReadArgs, ScanArgs, SizeLimit,
    repository_root,
};

use crate::policy::Severity;

/// resilix — policy-as-code compliance for Terraform plans and AWS Config data.
///
/// Findings map to NIST SP 800-53 Rev. 5, ISO/IEC 17799:2005 and COBIT 4.1 controls.
#[derive(Debug, Parser)]
#[command(
    name = "resilix",
    version,
    about,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// Worker threads (default: one per CPU; RAYON_NUM_THREADS is honoured too)
    #[arg(
        long,
        short = 'j',
        global = true,
        env = "RESILIX_JOBS",
        value_name = "N"
    )]
    pub jobs: Option<usize>,

    /// Print nothing on stderr but errors
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,

    /// When to colour the output [default: auto: on a terminal, unless NO_COLOR is set and not
    /// empty or TERM=dumb; FORCE_COLOR or CLICOLOR_FORCE turn it on]
    #[arg(long, value_enum, value_name = "WHEN", global = true, default_value_t = ColorArg::Auto, hide_default_value = true)]
    pub color: ColorArg,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan Terraform plans and AWS Config data against the policies
    Scan(ScanArgs),
    /// Evaluate the change-control policies on the changes between two AWS Config snapshots
    Diff(DiffArgs),
    /// Pull AWS Config items live (regions of one account, or an organization's aggregator)
    /// and evaluate them like `scan`
    #[cfg(feature = "aws")]
    Audit(AuditArgs),
    /// List, show and test policies; print the policy reference
    Policies(PoliciesArgs),
    /// Show which framework controls the policies assess
    Controls(ControlsArgs),
    /// Record today's findings so that scans fail only on new ones
    Baseline(BaselineArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish)
    Completions(CompletionsArgs),
    /// Print the manual page (roff), of resilix or of one of its commands
    Man(ManArgs),
}

/// A command line that cannot work as written.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("{message}")]
#[diagnostic(code(usage))]
pub struct UsageError {
    pub message: String,
    #[help]
    pub help: Option<String>,
}

/// The severity at or above which failing findings fail the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Critical,
    High,
    Medium,
    Low,
    /// Never fail because of findings (errors still exit 2)
    Never,
}

impl FailOn {
    pub fn threshold(self) -> Option<Severity> {
        match self {
            FailOn::Critical => Some(Severity::Critical),
            FailOn::High => Some(Severity::High),
            FailOn::Medium => Some(Severity::Medium),
            FailOn::Low => Some(Severity::Low),
            FailOn::Never => None,
        }
    }
}

/// A severity on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SeverityArg {
    Critical,
    High,
    Medium,
    Low,
    Info,
}

impl SeverityArg {
    pub fn severity(self) -> Severity {
        match self {
            SeverityArg::Critical => Severity::Critical,
            SeverityArg::High => Severity::High,
            SeverityArg::Medium => Severity::Medium,
            SeverityArg::Low => Severity::Low,
            SeverityArg::Info => Severity::Info,
        }
    }
}

/// Input format override.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InputFormatArg {
    /// Decide by content
    Auto,
    /// Terraform / OpenTofu plan JSON (`terraform show -json`)
    TerraformPlan,
    /// AWS Config configuration items (snapshots, API results, Select results)
    AwsConfig,
}

/// Parses a byte size: `1048576`, `512K`, `100M`, `2G` (binary units).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let (digits, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{text}` is not a size (e.g. 500M, 2G)"))?;
    let factor: u64 = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => 1 << 20,
        "G" | "GB" | "GIB" => 1 << 30,
        "T" | "TB" | "TIB" => 1 << 40,
        _ => return Err(format!("`{text}`: unknown unit (use K, M, G or T)")),
    };
    n.checked_mul(factor)
        .ok_or_else(|| format!("`{text}` is too large"))
}

/// Paths given on the command line.
pub type Paths = Vec<PathBuf>;

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("2G"), Ok(2 << 30));
        assert_eq!(parse_size("512k"), Ok(512 << 10));
        assert_eq!(parse_size("100"), Ok(100));
        assert!(parse_size("lots").is_err());
    }
}
