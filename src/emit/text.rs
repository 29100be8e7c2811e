//! Text for people: findings grouped by resource, most urgent first; colour on a terminal.

use std::collections::BTreeMap;
use std::io::{self, Write};

use anstyle::{AnsiColor, Effects, Style};

use super::{
    EmitContext, Emitter, accepted_suffix, disposition_note, evidence_line, resource_location,
};
use crate::findings::{Disposition, Finding, Report};
use crate::policy::Severity;

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

struct Paint {
    color: bool,
}

impl Paint {
    fn paint(&self, style: Style, text: &str) -> String {
        if self.color {
            format!("{}{text}{}", style.render(), style.render_reset())
        } else {
            text.to_owned()
        }
    }
}

impl Emitter for TextEmitter {
    fn emit(&self, out: &mut dyn Write, report: &Report, cx: &EmitContext<'_>) -> io::Result<()> {
        let paint = Paint { color: cx.color };
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
            writeln!(
                out,
                "{}  {}",
                paint.paint(bold, &resource.address),
                paint.paint(
                    dim,
                    &format!(
                        "{} · {}",
                        resource.type_name,
                        resource_location(resource, cx)
                    )
                )
            )?;
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
                writeln!(
                    out,
                    "  {} {}  {}",
                    paint.paint(style, &format!("{label:<8}")),
                    finding.message,
                    paint.paint(
                        dim,
                        &format!(
                            "[{} · {} · priority {}{asset}]",
                            policy.id, finding.severity, finding.priority,
                        )
                    ),
                )?;
                if let Some(note) = disposition_note(finding) {
                    writeln!(out, "           {note}")?;
                }
                for evidence in &finding.evidence {
                    writeln!(
                        out,
                        "           {}",
                        paint.paint(dim, &evidence_line(evidence))
                    )?;
                }
                if disposition == Disposition::Fail {
                    let fix = policy.remediation.text.lines().next().unwrap_or_default();
                    writeln!(out, "           fix: {fix}")?;
                }
            }
            writeln!(out)?;
        }
        summary(out, report, cx, &paint)
    }
}

fn summary(
    out: &mut dyn Write,
    report: &Report,
    cx: &EmitContext<'_>,
    paint: &Paint,
) -> io::Result<()> {
    let failed = report.count(Disposition::Fail);
    let by_severity: Vec<String> = Severity::ALL
        .iter()
        .filter_map(|s| {
            let n = report.count_severity(*s);
            (n > 0).then(|| paint.paint(severity_style(*s), &format!("{n} {s}")))
        })
        .collect();
    let mut line = format!(
        "{} resource(s) in {} file(s), {} checked against {} polic{}: {} failed",
        report.resources.len(),
        report.files,
        report.evaluated,
        cx.catalog.len(),
        if cx.catalog.len() == 1 { "y" } else { "ies" },
        failed
    );
    if !by_severity.is_empty() {
        line.push_str(&format!(" ({})", by_severity.join(", ")));
    }
    line.push_str(&format!(
        ", {} to review, {} passed",
        report.count(Disposition::Review),
        report.count(Disposition::Pass)
    ));
    line.push_str(&accepted_suffix(report));
    let errors = report.error_count();
    if errors > 0 {
        line.push_str(&format!(", {errors} error(s)"));
    }
    writeln!(out, "{line}")?;
    if let Some(baseline) = &report.baseline {
        writeln!(
            out,
            "baseline {}: {} known finding(s) (not failing), {} new, {} fixed",
            baseline.file, baseline.unchanged, baseline.new, baseline.absent
        )?;
    }
    if let Some(filter) = report.filter.filter(|f| f.hidden > 0) {
        writeln!(
            out,
            "{} finding(s) below {} not shown (--min-severity)",
            filter.hidden, filter.min
        )?;
    }
    if let Some(threshold) = cx.fail_on {
        let gating = report.failing(Some(threshold));
        if gating > 0 {
            writeln!(out, "{gating} finding(s) at or above {threshold}: failing")?;
        }
    }
    Ok(())
}
