//! The auditor's report as one self-contained HTML page: inline CSS, no scripts, no external
//! assets, readable on screen and in print. Collapsible parts use `<details>`, which needs no
//! script.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::auditor::{AuditorView, ControlView, STATES, state_label, state_meaning};
use super::{EmitContext, Emitter};
use crate::findings::Report;
use crate::findings::compliance::ControlState;
use crate::policy::Severity;
use crate::printable::printable;

pub struct HtmlEmitter;

const STYLE: &str = r#"
:root { --fg:#1f2328; --muted:#59636e; --line:#d1d9e0; --bg:#f6f8fa; --fail:#b42318; --fail-bg:#fef3f2;
  --review:#9a6700; --review-bg:#fff8c5; --pass:#1a7f37; --pass-bg:#dafbe1; --none:#59636e; --none-bg:#eef1f4; }
* { box-sizing: border-box; }
body { font: 15px/1.5 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: var(--fg); margin: 0; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 32px 48px; }
h1 { font-size: 28px; margin: 0 0 4px; } h2 { font-size: 22px; margin: 36px 0 12px; padding-bottom: 6px; border-bottom: 1px solid var(--line); }
h3 { font-size: 18px; margin: 28px 0 10px; } h4 { font-size: 16px; margin: 0 0 8px; } h5 { font-size: 14px; margin: 14px 0 6px; color: var(--muted); }
p.sub, .muted { color: var(--muted); } code { font: 13px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: var(--bg); padding: 1px 4px; border-radius: 4px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; font-size: 14px; }
th, td { text-align: left; vertical-align: top; padding: 6px 10px; border-bottom: 1px solid var(--line); overflow-wrap: break-word; }
th { background: var(--bg); font-weight: 600; white-space: nowrap; }
td code, .evidence { overflow-wrap: anywhere; } table.results td:first-child { width: 24%; } table.results td:last-child { width: 42%; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 12px 0 20px; }
.card { flex: 1 1 200px; border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; }
.card .value { font-size: 28px; font-weight: 600; } .card .label { color: var(--muted); font-size: 13px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; white-space: nowrap; }
.s-failed, .sev-critical, .sev-high { color: var(--fail); background: var(--fail-bg); }
.s-review, .sev-medium { color: var(--review); background: var(--review-bg); }
.s-passed { color: var(--pass); background: var(--pass-bg); }
.s-no-resources, .s-not-assessed, .sev-low, .sev-info { color: var(--none); background: var(--none-bg); }
.incomplete { border: 2px solid var(--fail); background: var(--fail-bg); border-radius: 8px; padding: 12px 20px; margin: 16px 0; }
.incomplete h2 { border: 0; margin: 0 0 6px; color: var(--fail); }
article.control { border: 1px solid var(--line); border-left: 4px solid var(--fail); border-radius: 6px; padding: 14px 18px; margin: 14px 0; page-break-inside: avoid; }
article.control.review { border-left-color: var(--review); }
ul.policies { margin: 4px 0 8px; padding-left: 20px; } ul.compact { columns: 2; margin: 4px 0 12px; padding-left: 20px; font-size: 13px; }
details { margin: 12px 0; } summary { cursor: pointer; font-weight: 600; }
dl.legend dt { font-weight: 600; margin-top: 6px; } dl.legend dd { margin: 0 0 0 16px; color: var(--muted); }
.evidence { font-size: 13px; color: var(--muted); } .evidence div { margin: 1px 0; }
footer { margin-top: 40px; font-size: 12px; color: var(--muted); }
@media print { main { max-width: none; padding: 0; } details { display: block; } a { color: inherit; text-decoration: none; } }
"#;

/// Escapes text for HTML element content and attribute values: the one place text becomes
/// HTML. Control characters and invisible reordering characters are first made [`printable`]
/// (an ESC or a line break from the inputs shows as `\u{1b}` or `\n`).
fn esc(text: &str) -> String {
    let text = printable(text);
    let mut out = String::with_capacity(text.len());
    let mut previous = None;
    for c in text.chars() {
        match c {
            // No `##[command]` for a CI runner to obey when the file is printed in its log.
            '#' if previous == Some('#') => out.push_str("&#35;"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
        previous = Some(c);
    }
    out
}

/// Text written by policy authors: one paragraph (its line breaks are the YAML's), escaped, with
/// Markdown code spans (`like this`) as `<code>`.
fn prose(text: &str) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let text = text.as_str();
    let mut out = String::new();
    for (index, part) in text.split('`').enumerate() {
        // Odd parts sit between backticks; a trailing unpaired backtick stays literal.
        if index % 2 == 1 && text.matches('`').count() > index {
            out.push_str(&format!("<code>{}</code>", esc(part)));
        } else {
            if index % 2 == 1 {
                out.push('`');
            }
            out.push_str(&esc(part));
        }
    }
    out
}

/// An id for an anchor: letters, digits and dashes.
fn anchor(parts: &[&str]) -> String {
    parts
        .join("-")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

fn state_class(state: ControlState) -> &'static str {
    match state {
        ControlState::Failed => "s-failed",
        ControlState::Review => "s-review",
        ControlState::Passed => "s-passed",
        ControlState::NoResources => "s-no-resources",
        ControlState::NotAssessed => "s-not-assessed",
    }
}

fn badge(class: &str, text: &str) -> String {
    format!("<span class=\"badge {class}\">{}</span>", esc(text))
}

fn severity_badge(severity: Severity) -> String {
    badge(&format!("sev-{}", severity.as_str()), severity.as_str())
}

impl Emitter for HtmlEmitter {
    fn emit(&self, out: &mut dyn Write, report: &Report, cx: &EmitContext<'_>) -> io::Result<()> {
        let view = AuditorView::new(report, cx);
        let mut h = String::new();
        // `write!` to a String cannot fail; the results are ignored on purpose.
        let _ = write!(
            h,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <meta name=\"generator\" content=\"resilix {}\">\n\
             <title>Compliance report</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n",
            esc(cx.version)
        );
        let _ = write!(
            h,
            "<header>\n<h1>Compliance report</h1>\n<p class=\"sub\">Automated review of cloud \
             configuration against {} polic{} mapped to {}. Generated by resilix {}.</p>\n</header>\n",
            view.summary.policies,
            if view.summary.policies == 1 {
                "y"
            } else {
                "ies"
            },
            esc(&view
                .frameworks
                .iter()
                .map(|f| f.framework.name)
                .collect::<Vec<_>>()
                .join(", ")),
            esc(cx.version)
        );
        incomplete(&mut h, &view);
        summary(&mut h, &view);
        change_log(&mut h, &view);
        for framework in &view.frameworks {
            let id = anchor(&["fw", framework.framework.id]);
            let total: usize = framework.counts.iter().map(|(_, n)| n).sum();
            let _ = write!(
                h,
                "<section id=\"{id}\">\n<h2>{}</h2>\n<p>{total} controls: {}.</p>\n",
                esc(framework.framework.name),
                framework
                    .counts
                    .iter()
                    .map(|(state, n)| format!("{n} {}", esc(&state_label(*state).to_lowercase())))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            if framework.assessed.is_empty() {
                h.push_str("<p class=\"muted\">No policy in use maps to a control of this framework.</p>\n");
            } else {
                h.push_str(
                    "<h3>Controls assessed automatically</h3>\n<table class=\"controls\">\n<thead><tr>\
                     <th>Control</th><th>Title</th><th>Status</th><th>Policies</th>\
                     <th class=\"num\">Failing</th><th class=\"num\">Passed</th></tr></thead>\n<tbody>\n",
                );
                for control in &framework.assessed {
                    control_row(&mut h, framework.framework.id, control);
                }
                h.push_str("</tbody>\n</table>\n");
            }
            let detailed: Vec<&ControlView<'_>> = framework
                .assessed
                .iter()
                .filter(|c| c.is_detailed())
                .collect();
            if !detailed.is_empty() {
                h.push_str("<h3>Controls with findings in detail</h3>\n");
                for control in detailed {
                    control_detail(&mut h, framework.framework.id, control);
                }
            }
            let not_assessed: usize = framework.not_assessed.iter().map(|(_, c)| c.len()).sum();
            if not_assessed > 0 {
                let _ = write!(
                    h,
                    "<details>\n<summary>Not assessed automatically: {not_assessed} controls</summary>\n\
                     <p class=\"muted\">No automated policy maps to these controls; they need a manual \
                     or procedural review.</p>\n"
                );
                for (group, controls) in &framework.not_assessed {
                    let _ = write!(h, "<h5>{}</h5>\n<ul class=\"compact\">\n", esc(group));
                    for control in controls {
                        let _ = writeln!(
                            h,
                            "<li><b>{}</b> {}</li>",
                            esc(&control.id),
                            esc(&control.title)
                        );
                    }
                    h.push_str("</ul>\n");
                }
                h.push_str("</details>\n");
            }
            h.push_str("</section>\n");
        }
        policies(&mut h, &view);
        let _ = write!(
            h,
            "<footer>Generated by resilix {}. NIST SP 800-53 control titles are public domain; ISO/IEC \
             17799:2005 and COBIT 4.1 are referred to by control number and title only.</footer>\n\
             </main>\n</body>\n</html>\n",
            esc(cx.version)
        );
        out.write_all(h.as_bytes())
    }
}

fn incomplete(h: &mut String, view: &AuditorView<'_>) {
    if !view.is_incomplete() {
        return;
    }
    h.push_str(
        "<section class=\"incomplete\">\n<h2>This report is incomplete</h2>\n<p>Some inputs could \
         not be read or evaluated. The results below cover only what was read: a control shown as \
         passed may still fail on what is missing.</p>\n<ul>\n",
    );
    for error in view.errors {
        let at = match (error.line, error.column) {
            (Some(line), Some(column)) => format!(":{line}:{column}"),
            _ => String::new(),
        };
        let _ = writeln!(
            h,
            "<li><code>{}{at}</code> {}</li>",
            esc(&error.file),
            esc(&error.message)
        );
    }
    for (address, _, message) in &view.evaluation_errors {
        let _ = writeln!(h, "<li><code>{}</code> {}</li>", esc(address), esc(message));
    }
    h.push_str("</ul>\n</section>\n");
}

fn summary(h: &mut String, view: &AuditorView<'_>) {
    let s = &view.summary;
    h.push_str("<section id=\"summary\">\n<h2>Summary</h2>\n<div class=\"cards\">\n");
    let card = |h: &mut String, value: String, label: String| {
        let _ = writeln!(
            h,
            "<div class=\"card\"><div class=\"value\">{value}</div><div class=\"label\">{label}</div></div>"
        );
    };
    card(
        h,
        s.resources.to_string(),
        format!("resources examined ({} matched by a policy)", s.evaluated),
    );
    let severities: Vec<String> = s
        .by_severity
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(severity, n)| format!("{} {n}", severity_badge(*severity)))
        .collect();
    card(
        h,
        s.failed.to_string(),
        if severities.is_empty() {
            "failing findings".to_owned()
        } else {
            format!("failing findings: {}", severities.join(" "))
        },
    );
    card(
        h,
        s.review.to_string(),
        "undecided (values known only after apply)".to_owned(),
    );
    card(h, s.passed.to_string(), "passing checks".to_owned());
    card(
        h,
        (s.waived + s.approved).to_string(),
        format!(
            "accepted exceptions ({} waived, {} approved changes)",
            s.waived, s.approved
        ),
    );
    if s.known > 0 {
        card(
            h,
            s.known.to_string(),
            "known from the baseline (still failing their controls)".to_owned(),
        );
    }
    h.push_str("</div>\n");

    h.push_str("<table>\n<thead><tr><th>Severity</th><th class=\"num\">Failing findings</th></tr></thead>\n<tbody>\n");
    for (severity, n) in &s.by_severity {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"num\">{n}</td></tr>",
            severity_badge(*severity)
        );
    }
    h.push_str("</tbody>\n</table>\n");

    h.push_str("<table>\n<thead><tr><th>Framework</th>");
    for state in STATES {
        let _ = write!(h, "<th class=\"num\">{}</th>", esc(state_label(state)));
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for framework in &view.frameworks {
        let _ = write!(
            h,
            "<tr><td><a href=\"#{}\">{}</a></td>",
            anchor(&["fw", framework.framework.id]),
            esc(framework.framework.name)
        );
        for (_, n) in &framework.counts {
            let _ = write!(h, "<td class=\"num\">{n}</td>");
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody>\n</table>\n");

    if s.scopes.is_empty() {
        let _ = writeln!(h, "<p>Inputs: {} file(s).</p>", s.files);
    } else {
        h.push_str("<p>AWS accounts and regions examined:</p>\n<ul>\n");
        for (scope, n) in &s.scopes {
            let _ = writeln!(h, "<li>{}: {n} resource(s)</li>", esc(scope));
        }
        h.push_str("</ul>\n");
    }
    h.push_str("<details>\n<summary>How to read this report</summary>\n<dl class=\"legend\">\n");
    for state in STATES {
        let _ = writeln!(
            h,
            "<dt>{}</dt><dd>{}</dd>",
            badge(state_class(state), state_label(state)),
            esc(state_meaning(state))
        );
    }
    h.push_str(
        "<dt>Severity</dt><dd>critical: exploitable exposure now; high: a core protection missing; \
         medium: defence in depth; low: hygiene; info: inventory.</dd>\n</dl>\n</details>\n</section>\n",
    );
}

fn control_row(h: &mut String, framework: &str, control: &ControlView<'_>) {
    let id = esc(&control.control.id);
    let cell_id = if control.is_detailed() {
        format!(
            "<a href=\"#{}\">{id}</a>",
            anchor(&[framework, &control.control.id])
        )
    } else {
        id
    };
    let policies: Vec<String> = control
        .policies
        .iter()
        .map(|p| {
            format!(
                "<a href=\"#{}\"><code>{}</code></a>",
                anchor(&["policy", &p.id]),
                esc(&p.id)
            )
        })
        .collect();
    let _ = writeln!(
        h,
        "<tr><td>{cell_id}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
        esc(&control.control.title),
        badge(state_class(control.state), state_label(control.state)),
        policies.join("<br>"),
        control.failing,
        control.passed
    );
}

fn control_detail(h: &mut String, framework: &str, control: &ControlView<'_>) {
    let class = if control.state == ControlState::Review {
        "control review"
    } else {
        "control"
    };
    let _ = write!(
        h,
        "<article class=\"{class}\" id=\"{}\">\n<h4>{} {} {}</h4>\n<p class=\"muted\">{}</p>\n\
         <p>Policies behind this control:</p>\n<ul class=\"policies\">\n",
        anchor(&[framework, &control.control.id]),
        badge(state_class(control.state), state_label(control.state)),
        esc(&control.control.id),
        esc(&control.control.title),
        esc(&control.control.group)
    );
    for policy in &control.policies {
        let _ = writeln!(
            h,
            "<li><a href=\"#{}\"><code>{}</code></a> {} {}</li>",
            anchor(&["policy", &policy.id]),
            esc(&policy.id),
            esc(&policy.title),
            severity_badge(policy.severity)
        );
    }
    let _ = writeln!(
        h,
        "</ul>\n<p>{} failing, {} undecided, {} accepted (waived or approved), {} passing result(s).</p>",
        control.failing, control.review, control.accepted, control.passed
    );
    for group in &control.groups {
        let _ = write!(
            h,
            "<h5>{}</h5>\n<table class=\"results\">\n<thead><tr><th>Resource</th><th>Type</th><th>Policy</th>\
             <th>Severity</th><th>Result</th><th>Evidence</th></tr></thead>\n<tbody>\n",
            esc(&group.label)
        );
        for row in &group.rows {
            let evidence: String = row
                .evidence
                .iter()
                .map(|e| format!("<div>{}</div>", esc(e)))
                .collect();
            let _ = writeln!(
                h,
                "<tr><td><code>{}</code></td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td>\
                 <td>{}<div class=\"evidence\">{evidence}</div></td></tr>",
                esc(&row.resource.address),
                esc(&row.resource.type_name),
                esc(&row.policy.id),
                severity_badge(row.finding.severity),
                esc(row.status_label()),
                esc(&row.finding.message)
            );
        }
        h.push_str("</tbody>\n</table>\n");
    }
    h.push_str("</article>\n");
}

/// The change log of a history: per resource, each change with who made it, from where, with
/// which call, whether it was authorized (and by what) and what it weakened; every value from
/// the inputs escaped by [`esc`].
fn change_log(h: &mut String, view: &AuditorView<'_>) {
    if view.changes.is_empty() {
        return;
    }
    let count: usize = view.changes.iter().map(|r| r.changes.len()).sum();
    let _ = write!(
        h,
        "<section id=\"changes\">\n<h2>Change log</h2>\n<p>{count} change(s) of {} resource(s) \
         recorded in the audited window: who made each one, from where and with which call \
         (CloudTrail), whether it was authorized and by what, and which protection it weakened.</p>\n",
        view.changes.len()
    );
    let lines = |lines: Vec<String>| {
        lines
            .iter()
            .map(|l| format!("<div>{}</div>", esc(l)))
            .collect::<String>()
    };
    for changed in &view.changes {
        let _ = write!(
            h,
            "<h3><code>{}</code></h3>\n<p class=\"muted\">{} · {}</p>\n<table>\n<thead><tr>\
             <th>Recorded</th><th>Change</th><th>Who</th><th>From</th><th>Call</th>\
             <th>Authorized</th><th>Weakened</th></tr></thead>\n<tbody>\n",
            esc(&changed.resource.address),
            esc(&changed.resource.type_name),
            esc(&changed.label)
        );
        for change in &changed.changes {
            let weakened: String = if change.weakened.is_empty() {
                "—".to_owned()
            } else {
                change
                    .weakened
                    .iter()
                    .map(|(policy, how)| {
                        format!(
                            "<div><a href=\"#{}\"><code>{}</code></a> ({})</div>",
                            anchor(&["policy", &policy.id]),
                            esc(&policy.id),
                            esc(how)
                        )
                    })
                    .collect()
            };
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"evidence\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(change.recorded),
                esc(change.kind),
                lines(change.who()),
                lines(change.from()),
                lines(change.calls()),
                esc(&change.authorized),
                weakened
            );
        }
        h.push_str("</tbody>\n</table>\n");
    }
    h.push_str("</section>\n");
}

fn policies(h: &mut String, view: &AuditorView<'_>) {
    if view.policies.is_empty() {
        return;
    }
    h.push_str("<section id=\"policies\">\n<h2>Policies</h2>\n<p class=\"muted\">The automated checks behind the controls above.</p>\n");
    for policy in &view.policies {
        let controls: Vec<String> = policy
            .controls
            .iter()
            .map(|(framework, ids)| format!("{}: {}", esc(framework), esc(&ids.join(", "))))
            .collect();
        let _ = write!(
            h,
            "<h3 id=\"{}\"><code>{}</code> {}</h3>\n<p>{} · {}</p>\n<p>{}</p>\n<p><b>Why it matters.</b> {}</p>\n\
             <p><b>How to fix.</b> {}</p>\n<p class=\"muted\">Controls: {}</p>\n",
            anchor(&["policy", &policy.id]),
            esc(&policy.id),
            esc(&policy.title),
            severity_badge(policy.severity),
            esc(policy.category.as_str()),
            prose(policy.description.trim()),
            prose(policy.rationale.trim()),
            prose(policy.remediation.text.trim()),
            controls.join("; ")
        );
    }
    h.push_str("</section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            esc("<script>\"a\" & 'b'</script>"),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;"
        );
        assert_eq!(esc("a\u{1b}[1mb\nc"), "a\\u{1b}[1mb\\nc");
        assert_eq!(
            anchor(&["nist-800-53-r5", "AC-2(1)"]),
            "nist-800-53-r5-ac-2-1-"
        );
    }
}
