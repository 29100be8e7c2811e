//! A Markdown summary of a run, for `$GITHUB_STEP_SUMMARY` or a pull request comment: the
//! verdict, counts by severity and category, a table of the failing findings, one of the findings
//! accepted for now (waived, approved, known from the baseline), and per-framework control counts (from [`crate::findings::compliance`], which this emitter renders and never
//! recomputes).
//!
//! Each part is one function writing one section, so a report can grow sections (one per
//! control, for audits) without touching the others.

use std::io::{self, Write};

use super::{EmitContext, Emitter, accepted_suffix, disposition_note, md};
use crate::findings::compliance::{ControlState, FrameworkStatus, framework_status};
use crate::findings::{Disposition, Finding, Report};
use crate::frameworks;
use crate::policy::{Category, Severity};

pub struct MarkdownEmitter;

/// Rows of the failing-findings table; the rest are counted (GitHub caps a step summary at
/// 1 MiB, and nobody reads row 500).
const MAX_ROWS: usize = 50;
/// Failed control IDs listed per framework.
const MAX_CONTROL_IDS: usize = 12;

impl Emitter for MarkdownEmitter {
    fn emit(&self, out: &mut dyn Write, report: &Report, cx: &EmitContext<'_>) -> io::Result<()> {
        headline(out, report, cx)?;
        counts(out, report, cx)?;
        failing_findings(out, report, cx)?;
        accepted_findings(out, report, cx)?;
        controls(out, report, cx)?;
        errors(out, report, cx)?;
        warnings(out, report, cx)
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The verdict, and what was scanned.
fn headline(out: &mut dyn Write, report: &Report, cx: &EmitContext<'_>) -> io::Result<()> {
    let gating = report.failing(cx.fail_on);
    let errors = report.error_count();
    let threshold = cx
        .fail_on
        .map_or(String::new(), |t| format!(" at or above {t}"));
    let failing = plural(gating, "failing finding", "failing findings");
    let verdict = match (errors, gating) {
        (0, 0) if report.count(Disposition::Fail) == 0 => {
            "✅ resilix: no failing findings".to_owned()
        }
        (0, 0) => "✅ resilix: no finding fails the check".to_owned(),
        (0, _) => format!("❌ resilix: {failing}{threshold}"),
        (_, 0) => format!("⚠️ resilix: {}", plural(errors, "error", "errors")),
        (_, _) => format!(
            "⚠️ resilix: {}, {failing}{threshold}",
            plural(errors, "error", "errors")
        ),
    };
    writeln!(out, "## {verdict}\n")?;
    writeln!(
        out,
        "{} in {} checked against {}: **{} failing**, {} to review, {} passed{}.",
        plural(report.resources.len(), "resource", "resources"),
        plural(report.files, "file", "files"),
        plural(cx.catalog.len(), "policy", "policies"),
        report.count(Disposition::Fail),
        report.count(Disposition::Review),
        report.count(Disposition::Pass),
        accepted_suffix(report)
    )?;
    if let Some(baseline) = &report.baseline {
        writeln!(
            out,
            "\nBaseline {}: {} known (reported, not failing), {} new, {} fixed.",
            md::code(&baseline.file),
            baseline.unchanged,
            baseline.new,
            baseline.absent
        )?;
    }
    if let Some(filter) = report.filter.filter(|f| f.hidden > 0) {
        writeln!(
            out,
            "\n{} below {} not shown (`--min-severity {}`).",
            plural(filter.hidden, "finding", "findings"),
            filter.min,
            filter.min
        )?;
    }
    writeln!(out)
}

/// Failing and undecided findings by severity and by category.
fn counts(out: &mut dyn Write, report: &Report, cx: &EmitContext<'_>) -> io::Result<()> {
    if report.count(Disposition::Fail) + report.count(Disposition::Review) == 0 {
        return Ok(());
    }
    let tally = |pick: &dyn Fn(&Finding) -> bool| {
        let of = |disposition: Disposition| {
            report
                .findings
                .iter()
                .filter(|f| f.disposition() == disposition && pick(f))
                .count()
        };
        (of(Disposition::Fail), of(Disposition::Review))
    };
    writeln!(out, "| Severity | Failing | To review |")?;
    writeln!(out, "|---|---:|---:|")?;
    for severity in Severity::ALL {
        let (fail, review) = tally(&|f: &Finding| f.severity == severity);
        if fail + review > 0 {
            writeln!(out, "| {severity} | {fail} | {review} |")?;
        }
    }
    writeln!(out)?;
    writeln!(out, "| Category | Failing | To review |")?;
    writeln!(out, "|---|---:|---:|")?;
    for category in Category::ALL {
        let (fail, review) =
            tally(&|f: &Finding| cx.policy(f).is_some_and(|p| p.category == category));
        if fail + review > 0 {
            writeln!(out, "| {} | {fail} | {review} |", category.as_str())?;
        }
    }
    writeln!(out)
}

/// The failing findings ([`Disposition::Fail`]: those the gate counts at or above its
/// threshold), most urgent first.
fn failing_findings(out: &mut dyn Write, report: &Report, cx: &EmitContext<'_>) -> io::Result<()> {
    let failing: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.disposition() == Disposition::Fail)
        .collect();
    if failing.is_empty() {
        return Ok(());
    }
    writeln!(out, "### Failing findings\n")?;
    writeln!(out, "| Severity | Policy | Resource | Where | Finding |")?;
    writeln!(out, "|---|---|---|---|---|")?;
    for finding in failing.iter().take(MAX_ROWS) {
        let (Some(policy), Some(resource)) = (cx.policy(finding), report.resource(finding)) else {
            continue;
        };
        let place = cx
            .place(resource)
            .map_or_else(|| "—".to_owned(), |p| md::code(&p.display()));
        writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            finding.severity,
            md::code(&policy.id),
            md::code(&resource.address),
            place,
            md::text(&match disposition_note(finding) {
                // An expired waiver: the finding fails again, and says so.
                Some(note) => format!("{} ({note})", finding.message),
                None => finding.message.clone(),
            })
        )?;
    }
    if failing.len() > MAX_ROWS {
        writeln!(
            out,
            "\n…and {} more: see the full report (SARIF, code scanning alerts).",
            plural(failing.len() - MAX_ROWS, "finding", "findings")
        )?;
    }
    writeln!(out)
}

/// The findings accepted for now (approved changes, waivers, the baseline): reported with the
/// reason, never failing the check.
fn accepted_findings(out: &mut dyn Write, report: &Report, cx: &EmitContext<'_>) -> io::Result<()> {
    let accepted: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.disposition().is_accepted())
        .collect();
    if accepted.is_empty() {
        return Ok(());
    }
    writeln!(out, "### Accepted findings (not failing)\n")?;
    writeln!(out, "| Disposition | Severity | Policy | Resource | Why |")?;
    writeln!(out, "|---|---|---|---|---|")?;
    for finding in accepted.iter().take(MAX_ROWS) {
        let (Some(policy), Some(resource)) = (cx.policy(finding), report.resource(finding)) else {
            continue;
        };
        writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            finding.disposition(),
            finding.severity,
            md::code(&policy.id),
            md::code(&resource.address),
            md::text(&disposition_note(finding).unwrap_or_default())
        )?;
    }
    if accepted.len() > MAX_ROWS {
        writeln!(
            out,
            "\n…and {} more.",
            plural(accepted.len() - MAX_ROWS, "finding", "findings")
        )?;
    }
    writeln!(out)
}

/// Per framework: how many controls failed, passed, …, and which ones failed.
fn controls(out: &mut dyn Write, report: &Report, cx: &EmitContext<'_>) -> io::Result<()> {
    let statuses: Vec<FrameworkStatus> = frameworks::all()
        .iter()
        .filter_map(|f| framework_status(report, cx.catalog, f.id))
        .collect();
    if statuses.is_empty() {
        return Ok(());
    }
    writeln!(out, "### Controls\n")?;
    writeln!(
        out,
        "| Framework | Failed | To review | Passed | No resources | Not assessed | Failed controls |"
    )?;
    writeln!(out, "|---|---:|---:|---:|---:|---:|---|")?;
    for status in &statuses {
        let failed: Vec<&str> = status
            .controls
            .iter()
            .filter(|c| c.state == ControlState::Failed)
            .map(|c| c.control.id.as_str())
            .collect();
        let mut listed = failed
            .iter()
            .take(MAX_CONTROL_IDS)
            .copied()
            .collect::<Vec<_>>()
            .join(", ");
        if failed.len() > MAX_CONTROL_IDS {
            listed.push_str(&format!(", … ({} more)", failed.len() - MAX_CONTROL_IDS));
        }
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            md::text(status.framework.name),
            status.count(ControlState::Failed),
            status.count(ControlState::Review),
            status.count(ControlState::Passed),
            status.count(ControlState::NoResources),
            status.count(ControlState::NotAssessed),
            if listed.is_empty() {
                "—".to_owned()
            } else {
                md::text(&listed)
            }
        )?;
    }
    writeln!(
        out,
        "\nA control *failed* when a policy mapped to it failed; *not assessed* controls have no policy and need a manual check.\n"
    )
}

/// Inputs that could not be read and policies that could not be evaluated.
fn errors(out: &mut dyn Write, report: &Report, cx: &EmitContext<'_>) -> io::Result<()> {
    let evaluation: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.disposition() == Disposition::Error)
        .collect();
    if report.errors.is_empty() && evaluation.is_empty() {
        return Ok(());
    }
    writeln!(out, "### Errors\n")?;
    for error in &report.errors {
        let at = match (error.line, error.column) {
            (Some(line), Some(column)) => format!(":{line}:{column}"),
            (Some(line), None) => format!(":{line}"),
            _ => String::new(),
        };
        writeln!(
            out,
            "- {}: {}",
            md::code(&format!("{}{at}", cx.artifact_uri(&error.file))),
            md::text(&error.message)
        )?;
    }
    for finding in evaluation {
        let address = report.resource(finding).map_or("", |r| r.address.as_str());
        writeln!(
            out,
            "- {}: {}",
            md::code(address),
            md::text(&finding.message)
        )?;
    }
    writeln!(out)
}

/// Inline ignores that suppress nothing, at their lines.
fn warnings(out: &mut dyn Write, report: &Report, cx: &EmitContext<'_>) -> io::Result<()> {
    if report.warnings.is_empty() {
        return Ok(());
    }
    writeln!(out, "### Warnings\n")?;
    for warning in &report.warnings {
        writeln!(
            out,
            "- {}: {}",
            md::code(&format!(
                "{}:{}",
                cx.artifact_uri(&warning.file),
                warning.line
            )),
            md::text(&warning.message)
        )?;
    }
    writeln!(out)
}
