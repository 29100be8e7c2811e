//! GitHub Actions workflow commands: one annotation per finding, on the `.tf` line that declares
//! the resource when the sources are at hand.
//!
//! `::error file=infra/main.tf,line=12,col=1,title=…::message`. Levels follow severity
//! (critical/high → `error`, medium → `warning`, low/info → `notice`) for failing findings;
//! undecided, waived, approved and baselined findings are notices that say so, never errors or
//! warnings (they do not fail the check, so they must not look as if they did). Escaping follows the Actions toolkit
//! (`@actions/core` `command.ts`): in the message `%`, `\r` and `\n`; in properties also `:` and
//! `,`. Before that every value is made [`printable`]: a line break or an ESC from the inputs
//! shows as `\n` or `\u{1b}` inside the annotation; the message's own lines (the evidence, the
//! fix) are joined by the emitter alone. GitHub shows at most 10 error and 10 warning annotations per step, so the most urgent
//! findings come first (the report's order).

use std::io::{self, Write};

use super::{EmitContext, Emitter, accepted_suffix, disposition_note, evidence_line};
use crate::findings::{Disposition, Finding, Report};
use crate::policy::Severity;
use crate::printable::{break_hashes, printable};

pub struct GithubEmitter;

/// The workflow command of a severity.
fn command(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "notice",
    }
}

/// Escapes one line of a command's message (or a property): control characters made visible,
/// then the toolkit's escapes.
fn escape_data(text: &str) -> String {
    // No `\r` or `\n` is left to escape once the text is printable; a `##` is broken so no
    // line holds a `##[command]` either.
    break_hashes(&printable(text)).replace('%', "%25")
}

/// Escapes a command property's value.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

struct Annotation {
    command: &'static str,
    file: Option<String>,
    line: Option<usize>,
    column: Option<usize>,
    title: String,
    /// The message, a line each (joined with an escaped line break).
    message: Vec<String>,
}

impl Annotation {
    fn write(&self, out: &mut dyn Write) -> io::Result<()> {
        let mut properties = Vec::new();
        if let Some(file) = &self.file {
            properties.push(format!("file={}", escape_property(file)));
            if let Some(line) = self.line {
                properties.push(format!("line={line}"));
            }
            if let Some(column) = self.column {
                properties.push(format!("col={column}"));
            }
        }
        properties.push(format!("title={}", escape_property(&self.title)));
        writeln!(
            out,
            "::{} {}::{}",
            self.command,
            properties.join(","),
            self.message
                .iter()
                .map(|line| escape_data(line))
                .collect::<Vec<_>>()
                .join("%0A")
        )
    }
}

fn annotation(finding: &Finding, report: &Report, cx: &EmitContext<'_>) -> Option<Annotation> {
    let policy = cx.policy(finding)?;
    let resource = report.resource(finding)?;
    let place = cx.place(resource);
    let disposition = finding.disposition();
    let (command, state) = match disposition {
        Disposition::Fail => (command(finding.severity), finding.severity.as_str()),
        Disposition::Error => ("error", "could not be evaluated"),
        Disposition::Review => ("notice", "undecided until apply"),
        Disposition::Known => ("notice", "known from the baseline"),
        Disposition::Waived => ("notice", "waived"),
        Disposition::Approved => ("notice", "approved change"),
        Disposition::Pass => return None,
    };
    let title = match disposition {
        Disposition::Error => format!("resilix could not evaluate {}", policy.id),
        _ => format!("{} ({}, {state})", policy.title, policy.id),
    };
    let mut message = vec![format!(
        "{}: {}",
        finding.message.trim_end_matches('.'),
        resource.address
    )];
    message.extend(disposition_note(finding));
    message.extend(finding.evidence.iter().map(evidence_line));
    let fix = policy
        .remediation
        .text
        .lines()
        .find(|l| !l.trim().is_empty());
    if let (Disposition::Fail, Some(fix)) = (disposition, fix) {
        message.push(format!("Fix: {}", fix.trim()));
    }
    Some(Annotation {
        command,
        file: place.as_ref().map(|p| p.uri.clone()),
        line: place.as_ref().and_then(|p| p.line),
        column: place.as_ref().and_then(|p| p.column),
        title,
        message,
    })
}

impl Emitter for GithubEmitter {
    fn emit(&self, out: &mut dyn Write, report: &Report, cx: &EmitContext<'_>) -> io::Result<()> {
        for finding in &report.findings {
            if let Some(annotation) = annotation(finding, report, cx) {
                annotation.write(out)?;
            }
        }
        for error in &report.errors {
            Annotation {
                command: "error",
                file: Some(cx.artifact_uri(&error.file)),
                line: error.line,
                column: error.column,
                title: "resilix could not read an input".to_owned(),
                message: vec![error.message.clone()],
            }
            .write(out)?;
        }
        for warning in &report.warnings {
            Annotation {
                command: "warning",
                file: Some(cx.artifact_uri(&warning.file)),
                line: Some(warning.line),
                column: None,
                title: "resilix: an inline ignore suppresses nothing".to_owned(),
                message: std::iter::once(warning.message.clone())
                    .chain(warning.help.clone())
                    .collect(),
            }
            .write(out)?;
        }
        let gating = report.failing(cx.fail_on);
        writeln!(
            out,
            "resilix: {} resource(s) checked, {} failing finding(s), {} to review, {} passed{}{}",
            report.resources.len(),
            report.count(Disposition::Fail),
            report.count(Disposition::Review),
            report.count(Disposition::Pass),
            accepted_suffix(report),
            match cx.fail_on {
                Some(threshold) if gating > 0 => {
                    format!("; {gating} at or above {threshold} fail the check")
                }
                _ => String::new(),
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_follows_the_actions_toolkit() {
        assert_eq!(escape_data("50% done"), "50%25 done");
        assert_eq!(
            escape_property("a:b,c%\n"),
            "a%3Ab%2Cc%25\\n",
            "properties also escape `:` and `,`"
        );
        // `%` first, so an escape already in the text is not decoded by the runner.
        assert_eq!(escape_data("%0A"), "%250A");
        // A line break or an ESC from the inputs is shown, never obeyed.
        assert_eq!(
            escape_data("a\n::error::x\u{1b}[2J"),
            "a\\n::error::x\\u{1b}[2J"
        );
    }
}
