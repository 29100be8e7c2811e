//! Text for people: findings grouped by resource, most urgent first; colour on a terminal.

use std::collections::BTreeMap;
use std::io::{self, Write};

use anstyle::{AnsiColor, Effects, Style};

use super::{
    EmitContext, Emitter, accepted_suffix, disposition_note, evidence_line, resource_location,
};
use crate::findings::{Disposition, Finding, Report};
use crate::policy::Severity;
use crate::printable::{command_breaks, printable};

pub struct TextEmitter;

fn severity_style(severity: Severity) -> Style {
    match severity {
        Severity::Critical => Style::new()
            .fg_color(Some(AnsiColor::BrightRed.into()))
            .effects(Effects::BOLD),
        Severity::High => Style::new().fg_color(Some(AnsiColor::Red.into())),
        Severity::Medium => Style::new().fg_color(Some(AnsiColor::Yellow.into())),
        Severity::Low => Style::new().fg_color(Some(AnsiColor::Blue.into())),
        Severity::Info => Style::new().fg_color(Some(AnsiColor::BrightBlack.into())),
    }
}

/// The text output, a line at a time. Text reaches it only as spans (a style and the text),
/// each made [`printable`]; only the sink writes line breaks and colour codes, and it keeps a
/// line from reading as a CI workflow command ([`command_breaks`]). There is no other way to
/// write, so nothing from the inputs (an address, a tag value) can move the cursor, colour the
/// terminal, break a line or speak to the CI runner.
struct Lines<'o> {
    out: &'o mut dyn Write,
    color: bool,
    spans: Vec<(Style, String)>,
}

impl Lines<'_> {
    fn span(&mut self, style: Style, text: &str) -> &mut Self {
        self.spans.push((style, printable(text).into_owned()));
        self
    }

    fn text(&mut self, text: &str) -> &mut Self {
        self.span(Style::new(), text)
    }

    /// Writes the line.
    fn end(&mut self) -> io::Result<()> {
        let plain: String = self.spans.iter().map(|(_, text)| text.as_str()).collect();
        let mut breaks = command_breaks(&plain).into_iter().peekable();
        let mut line = String::with_capacity(plain.len() + 16);
        let mut offset = 0;
        for (style, text) in self.spans.drain(..) {
            let styled = self.color && style != Style::new() && !text.is_empty();
            if styled {
                line.push_str(&style.render().to_string());
            }
            for (index, c) in text.char_indices() {
                if breaks.next_if_eq(&(offset + index)).is_some() {
                    line.push('\\');
                }
                line.push(c);
            }
            offset += text.len();
            if styled {
                line.push_str(&style.render_reset().to_string());
            }
        }
        writeln!(self.out, "{line}")
    }
}

impl Emitter for TextEmitter {
    fn emit(&self, out: &mut dyn Write, report: &Report, cx: &EmitContext<'_>) -> io::Result<()> {
        let mut lines = Lines {
            out,
            color: cx.color,
            spans: Vec::new(),
        };
        let bold = Style::new().effects(Effects::BOLD);
        let dim = Style::new().effects(Effects::DIMMED);
        // Groups in order of their most urgent finding (findings are sorted already).
        let mut order: Vec<usize> = Vec::new();
        let mut groups: BTreeMap<usize, Vec<&Finding>> = BTreeMap::new();
        for finding in &report.findings {
            let group = groups.entry(finding.resource).or_default();
            if group.is_empty() {
                order.push(finding.resource);
            }
            group.push(finding);
        }
        for resource_index in &order {
            let Some(resource) = report.resources.get(*resource_index) else {
                continue;
            };
            let Some(findings) = groups.get(resource_index) else {
                continue;
            };
            lines
                .span(bold, &resource.address)
                .text("  ")
                .span(
                    dim,
                    &format!(
                        "{} · {}",
                        resource.type_name,
                        resource_location(resource, cx)
                    ),
                )
                .end()?;
            for finding in findings {
                let Some(policy) = cx.policy(finding) else {
                    continue;
                };
                let disposition = finding.disposition();
                let label = match disposition {
                    Disposition::Fail => finding.severity.as_str().to_uppercase(),
                    other => other.as_str().to_uppercase(),
                };
                let style = match disposition {
                    Disposition::Fail => severity_style(finding.severity),
                    Disposition::Review => Style::new().fg_color(Some(AnsiColor::Cyan.into())),
                    Disposition::Error => Style::new()
                        .fg_color(Some(AnsiColor::Magenta.into()))
                        .effects(Effects::BOLD),
                    Disposition::Known | Disposition::Waived | Disposition::Approved => {
                        Style::new().fg_color(Some(AnsiColor::Green.into()))
                    }
                    Disposition::Pass => Style::new(),
                };
                let asset = finding
                    .criticality
                    .map(|c| format!(" ({} asset)", c.as_str()))
                    .unwrap_or_default();
                lines
                    .text("  ")
                    .span(style, &format!("{label:<8}"))
                    .text(" ")
                    .text(&finding.message)
                    .text("  ")
                    .span(
                        dim,
                        &format!(
                            "[{} · {} · priority {}{asset}]",
                            policy.id, finding.severity, finding.priority,
                        ),
                    )
                    .end()?;
                if let Some(note) = disposition_note(finding) {
                    lines.text(INDENT).text(&note).end()?;
                }
                for evidence in &finding.evidence {
                    lines
                        .text(INDENT)
                        .span(dim, &evidence_line(evidence))
                        .end()?;
                }
                if disposition == Disposition::Fail {
                    let fix = policy.remediation.text.lines().next().unwrap_or_default();
                    lines.text(INDENT).text("fix: ").text(fix).end()?;
                }
            }
            lines.end()?;
        }
        summary(&mut lines, report, cx)
    }
}

/// The indent of the lines under a finding.
const INDENT: &str = "           ";

fn summary(lines: &mut Lines<'_>, report: &Report, cx: &EmitContext<'_>) -> io::Result<()> {
    let failed = report.count(Disposition::Fail);
    lines.text(&format!(
        "{} resource(s) in {} file(s), {} checked against {} polic{}: {} failed",
        report.resources.len(),
        report.files,
        report.evaluated,
        cx.catalog.len(),
        if cx.catalog.len() == 1 { "y" } else { "ies" },
        failed
    ));
    let by_severity: Vec<(Severity, usize)> = Severity::ALL
        .iter()
        .map(|s| (*s, report.count_severity(*s)))
        .filter(|(_, n)| *n > 0)
        .collect();
    for (index, (severity, n)) in by_severity.iter().enumerate() {
        lines.text(if index == 0 { " (" } else { ", " });
        lines.span(severity_style(*severity), &format!("{n} {severity}"));
    }
    if !by_severity.is_empty() {
        lines.text(")");
    }
    lines.text(&format!(
        ", {} to review, {} passed",
        report.count(Disposition::Review),
        report.count(Disposition::Pass)
    ));
    lines.text(&accepted_suffix(report));
    let errors = report.error_count();
    if errors > 0 {
        lines.text(&format!(", {errors} error(s)"));
    }
    lines.end()?;
    if let Some(baseline) = &report.baseline {
        lines
            .text(&format!(
                "baseline {}: {} known finding(s) (not failing), {} new, {} fixed",
                baseline.file, baseline.unchanged, baseline.new, baseline.absent
            ))
            .end()?;
    }
    if let Some(filter) = report.filter.filter(|f| f.hidden > 0) {
        lines
            .text(&format!(
                "{} finding(s) below {} not shown (--min-severity)",
                filter.hidden, filter.min
            ))
            .end()?;
    }
    if let Some(threshold) = cx.fail_on {
        let gating = report.failing(Some(threshold));
        if gating > 0 {
            lines
                .text(&format!(
                    "{gating} finding(s) at or above {threshold}: failing"
                ))
                .end()?;
        }
    }
    Ok(())
}
