//! One emitter per output format, each over the one [`Report`].
//!
//! Emitters never evaluate anything: they get policy metadata through the [`EmitContext`] and
//! write what the report holds.

mod auditor;
mod html;
mod json;
mod markdown_audit;
mod sarif;
mod text;

use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::findings::{Finding, Report};
use crate::model::Resource;
use crate::policy::{Catalog, Policy, Severity};

pub use auditor::AuditorView;
pub use html::HtmlEmitter;
pub use json::JsonEmitter;
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
    /// Findings' file paths are written relative to this directory (the repository root).
    pub base_dir: PathBuf,
    /// The directory the command ran in (input paths are relative to it).
    pub working_dir: PathBuf,
    /// Use ANSI colours (text output on a terminal only).
    pub color: bool,
    /// The `--fail-on` threshold, for summaries.
    pub fail_on: Option<Severity>,
    /// Frameworks the auditor's report covers (`nist-800-53-r5`, …), in order.
    pub frameworks: Vec<&'static str>,
}

impl EmitContext<'_> {
    pub fn policy(&self, finding: &Finding) -> Option<&Policy> {
        self.catalog.get(finding.policy)
    }

    /// The path of an input file as a repository-relative URI (forward slashes), never absolute
    /// when the file is inside the base directory.
    pub fn artifact_uri(&self, name: &str) -> String {
        if name == "<stdin>" {
            return "stdin".to_owned();
        }
        let path = Path::new(name);
        let absolute = if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.working_dir.join(path)
        };
        let absolute = normalize(&absolute);
        let base = normalize(&self.base_dir);
        let relative = absolute
            .strip_prefix(&base)
            .map(Path::to_path_buf)
            .unwrap_or(absolute);
        let text = relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        if relative.is_absolute() {
            format!("file://{}", text.trim_start_matches('/').replace("//", "/"))
                .replacen("file://", "file:///", 1)
        } else {
            text
        }
    }
}

/// Removes `.` and `..` components without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
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
        OutputFormat::Html => Box::new(HtmlEmitter),
        OutputFormat::AuditMarkdown => Box::new(AuditMarkdownEmitter),
    }
}

/// A fingerprint of a finding that depends only on the policy and the resource's identity
/// (not on file, line or run), so alerts stay the same alert across runs.
pub fn fingerprint(policy_id: &str, resource: &Resource) -> String {
    let mut hasher = Sha256::new();
    hasher.update(policy_id.as_bytes());
    hasher.update([0]);
    hasher.update(resource.identity().as_bytes());
    let digest = hasher.finalize();
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// One line of evidence as people read it.
pub fn evidence_line(evidence: &crate::eval::Evidence) -> String {
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
    match (resource.origin.file_name(), resource.origin.line_col()) {
        (Some(name), Some(at)) => format!("{}:{}:{}", cx.artifact_uri(name), at.line, at.column),
        (Some(name), None) => cx.artifact_uri(name),
        (None, _) => format!(
            "{}/{}",
            resource.context.account.as_deref().unwrap_or("-"),
            resource.context.region.as_deref().unwrap_or("-")
        ),
    }
}
