//! GitHub Actions workflow commands: one annotation per finding, on the `.tf` line that declares
//! the resource when the sources are at hand.
//!
//! `::error file=infra/main.tf,line=12,col=1,title=…::message`. Levels follow severity
//! (critical/high → `error`, medium → `warning`, low/info → `notice`); undecided findings and
//! findings known from the baseline are notices. Escaping follows the Actions toolkit
//! (`@actions/core` `command.ts`): in the message `%`, `\r` and `\n`; in properties also `:` and
//! `,`. GitHub shows at most 10 error and 10 warning annotations per step, so the most urgent
//! findings come first (the report's order).

use std::io::{self, Write};

use super::{EmitContext, Emitter, evidence_line};
use crate::findings::{Finding, Report, Status};
use crate::policy::Severity;

pub struct GithubEmitter;

/// The workflow command of a severity.
fn command(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "notice",
    }
}

/// Escapes a command's message.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
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
    message: String,
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
            escape_data(&self.message)
        )
    }
}

fn annotation(finding: &Finding, report: &Report, cx: &EmitContext<'_>) -> Option<Annotation> {
    let policy = cx.policy(finding)?;
    let resource = report.resource(finding)?;
    let place = cx.place(resource);
    let (command, title) = match finding.status {
        Status::Error => ("error", format!("resilix could not evaluate {}", policy.id)),
        Status::Review => (
            "notice",
            format!("{} ({}, undecided until apply)", policy.title, policy.id),
        ),
        Status::Fail if finding.is_known() => (
            "notice",
            format!("{} ({}, known from the baseline)", policy.title, policy.id),
        ),
        Status::Fail => (
            command(finding.severity),
            format!("{} ({}, {})", policy.title, policy.id, finding.severity),
        ),
    };
    let mut message = format!(
        "{}: {}",
        finding.message.trim_end_matches('.'),
        resource.address
    );
    for evidence in &finding.evidence {
        message.push('\n');
        message.push_str(&evidence_line(evidence));
    }
    let fix = policy
        .remediation
        .text
        .lines()
        .find(|l| !l.trim().is_empty());
    if let (Status::Fail, Some(fix)) = (finding.status, fix) {
        message.push_str("\nFix: ");
        message.push_str(fix.trim());
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
                message: error.message.clone(),
            }
            .write(out)?;
        }
        let gating = report.failing(cx.fail_on);
        writeln!(
            out,
            "resilix: {} resource(s) checked, {} failing finding(s), {} to review, {} passed{}",
            report.resources.len(),
            report.count(Status::Fail),
            report.count(Status::Review),
            report.passes.len(),
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
        assert_eq!(escape_data("50% done\r\nnext"), "50%25 done%0D%0Anext");
        assert_eq!(
            escape_property("a:b,c%\n"),
            "a%3Ab%2Cc%25%0A",
            "properties also escape `:` and `,`"
        );
        // `%` first, so an escape already in the text is not decoded by the runner.
        assert_eq!(escape_data("%0A"), "%250A");
    }
}
