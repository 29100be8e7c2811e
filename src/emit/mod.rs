//! One emitter per output format, each over the one [`Report`].
//!
//! Emitters never evaluate anything: they get policy metadata through the [`EmitContext`] and
//! write what the report holds.

mod auditor;
mod github;
mod html;
mod json;
mod json_text;
mod junit;
mod markdown;
mod markdown_audit;
mod md;
mod sarif;
mod text;

use std::io::{self, Write};

use crate::findings::{ApprovalSource, Disposition, Finding, Paths, Report};
use crate::model::Resource;
use crate::policy::{Catalog, Policy, Severity};

pub use auditor::AuditorView;
pub use github::GithubEmitter;
pub use html::HtmlEmitter;
pub use json::JsonEmitter;
pub use junit::JunitEmitter;
pub use markdown::MarkdownEmitter;
pub use markdown_audit::AuditMarkdownEmitter;
pub use sarif::SarifEmitter;
pub use text::TextEmitter;

/// Output formats (closed set; an unknown format is a usage error).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// For people: findings grouped by resource, coloured on a terminal.
    Text,
    /// A stable, documented JSON report.
    Json,
    /// SARIF 2.1.0 for GitHub code scanning and other SARIF tools.
    Sarif,
    /// JUnit XML: one test case per policy and resource, for CI test reports.
    Junit,
    /// A Markdown summary (for `$GITHUB_STEP_SUMMARY` or a pull request comment).
    Markdown,
    /// GitHub Actions workflow commands: one annotation per finding.
    Github,
    /// The auditor's report: one self-contained HTML page, control by control.
    Html,
    /// The auditor's report in Markdown, control by control.
    AuditMarkdown,
}

impl OutputFormat {
    pub fn is_human_readable(self) -> bool {
        matches!(self, OutputFormat::Text)
    }
}

/// What emitters need besides the report.
pub struct EmitContext<'a> {
    pub catalog: &'a Catalog,
    pub version: &'a str,
    /// Findings' file paths are written relative to the repository root; input paths are
    /// relative to the directory the command ran in (the same paths the report's fingerprints
    /// were made with).
    pub paths: Paths,
    /// Use ANSI colours (text output on a terminal only).
    pub color: bool,
    /// The `--fail-on` threshold, for summaries.
    pub fail_on: Option<Severity>,
    /// `--sarif-category`: SARIF `automationDetails.id`, so several analyses of one commit
    /// (plans of several roots, Config snapshots) coexist in code scanning.
    pub sarif_category: Option<String>,
    /// Frameworks the auditor's report covers (`nist-800-53-r5`, …), in order.
    pub frameworks: Vec<&'static str>,
}

impl EmitContext<'_> {
    pub fn policy(&self, finding: &Finding) -> Option<&Policy> {
        self.catalog.get(finding.policy)
    }

    /// The path of an input file as a repository-relative URI ([`Paths::artifact_uri`]).
    pub fn artifact_uri(&self, name: &str) -> String {
        self.paths.artifact_uri(name)
    }
}

/// Writes a report in one format.
pub trait Emitter {
    fn emit(&self, out: &mut dyn Write, report: &Report, cx: &EmitContext<'_>) -> io::Result<()>;
}

/// The emitter for a format (an exhaustive match: a new format must be handled here).
pub fn emitter_for(format: OutputFormat) -> Box<dyn Emitter> {
    match format {
        OutputFormat::Text => Box::new(TextEmitter),
        OutputFormat::Json => Box::new(JsonEmitter),
        OutputFormat::Sarif => Box::new(SarifEmitter),
        OutputFormat::Junit => Box::new(JunitEmitter),
        OutputFormat::Markdown => Box::new(MarkdownEmitter),
        OutputFormat::Github => Box::new(GithubEmitter),
        OutputFormat::Html => Box::new(HtmlEmitter),
        OutputFormat::AuditMarkdown => Box::new(AuditMarkdownEmitter),
    }
}

/// One line of evidence as people read it.
pub fn evidence_line(evidence: &crate::findings::Evidence) -> String {
    let mut line = evidence.path.clone();
    match &evidence.actual {
        Some(actual) => line.push_str(&format!(" is {actual}")),
        None if evidence.note.is_none() => line.push_str(" is not set"),
        None => {}
    }
    if let Some(expected) = &evidence.expected {
        line.push_str(&format!(" (expected: {expected})"));
    }
    if let Some(note) = &evidence.note {
        line.push_str(&format!(" — {note}"));
    }
    line
}

/// What accepts a finding (an approval, a waiver, the baseline), or the expired waiver that no
/// longer does, as one line for people: every format that shows a reason shows this one.
pub fn disposition_note(finding: &Finding) -> Option<String> {
    match finding.disposition() {
        Disposition::Approved => finding.approval().map(|approval| {
            let by = match &approval.source {
                ApprovalSource::Tag { key } => format!("tag {key}"),
                ApprovalSource::Config { location } => location.clone(),
            };
            format!("approved change: ticket {} ({by})", approval.ticket)
        }),
        Disposition::Waived => finding.waiver().map(|waiver| {
            format!(
                "waived until {}: {} ({})",
                waiver.expires,
                waiver.justification(),
                waiver.location
            )
        }),
        Disposition::Known => Some("known: recorded in the baseline".to_owned()),
        Disposition::Fail | Disposition::Review => finding.expired_waiver().map(|waiver| {
            format!(
                "waiver EXPIRED on {}: {} ({})",
                waiver.expires,
                waiver.justification(),
                waiver.location
            )
        }),
        Disposition::Error | Disposition::Pass => None,
    }
}

/// The results reported but accepted for now, for summary lines: `, 2 known, 1 waived,
/// 1 approved` (those there are, in that order; empty when there are none).
pub fn accepted_suffix(report: &Report) -> String {
    [
        (Disposition::Known, "known"),
        (Disposition::Waived, "waived"),
        (Disposition::Approved, "approved"),
    ]
    .iter()
    .filter_map(|&(disposition, what)| {
        let n = report.count(disposition);
        (n > 0).then(|| format!(", {n} {what}"))
    })
    .collect()
}

/// Where a finding about a resource points: the `.tf` block that declares it when the sources
/// were at hand, else the resource in its input file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// Repository-relative URI (forward slashes).
    pub uri: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

impl Place {
    /// `uri:line:column`, `uri:line` or `uri`.
    pub fn display(&self) -> String {
        match (self.line, self.column) {
            (Some(line), Some(column)) => format!("{}:{line}:{column}", self.uri),
            (Some(line), None) => format!("{}:{line}", self.uri),
            _ => self.uri.clone(),
        }
    }
}

impl EmitContext<'_> {
    /// The place findings about `resource` point at; `None` for data pulled live.
    pub fn place(&self, resource: &Resource) -> Option<Place> {
        if let Some(declared) = &resource.origin.declaration {
            return Some(Place {
                uri: self.artifact_uri(&declared.file),
                line: Some(declared.line),
                column: Some(declared.column),
            });
        }
        let name = resource.origin.file_name()?;
        let at = resource.origin.line_col();
        Some(Place {
            uri: self.artifact_uri(name),
            line: at.map(|a| a.line),
            column: at.map(|a| a.column),
        })
    }

    /// [`Self::place`], or for data pulled live its [`live_artifact`]: formats that need a file
    /// for every result (SARIF) use this.
    pub fn physical_place(&self, resource: &Resource) -> Place {
        self.place(resource).unwrap_or_else(|| Place {
            uri: live_artifact(resource),
            line: None,
            column: None,
        })
    }
}

/// The artifact a resource pulled live from AWS Config is reported at: `aws/ACCOUNT/REGION`.
///
/// GitHub code scanning rejects a whole SARIF file if one result lacks a physical location, and
/// a live resource has no file. A stable path per account and region gives each alert a place
/// that groups it with its neighbours in the alert list (the ARN stays the logical location and
/// the fingerprint, so an alert is still one resource). Audits saved with `--save` point at the
/// resource's line in the snapshot file instead.
pub fn live_artifact(resource: &Resource) -> String {
    format!(
        "aws/{}/{}",
        resource
            .context
            .account
            .as_deref()
            .unwrap_or("unknown-account"),
        resource
            .context
            .region
            .as_deref()
            .unwrap_or("unknown-region")
    )
}

/// Where a resource is, as `file:line:column` (or its account/region for live data).
pub fn resource_location(resource: &Resource, cx: &EmitContext<'_>) -> String {
    match cx.place(resource) {
        Some(place) => place.display(),
        None => format!(
            "{}/{}",
            resource.context.account.as_deref().unwrap_or("-"),
            resource.context.region.as_deref().unwrap_or("-")
        ),
    }
}
