//! JUnit XML for CI test reports: one test suite per policy, one test case per policy and
//! resource — passes included, so the report shows what was checked, not only what failed.
//!
//! A failing finding is a `<failure>` (its `type` is the severity); an undecided, waived,
//! approved or baselined one is `<skipped>` with the reason; an evaluation error is an
//! `<error>`; inputs that could not be read are errors of a `resilix` suite. No timestamps or durations: output is
//! deterministic.

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::{EmitContext, Emitter, disposition_note, evidence_line};
use crate::findings::{Disposition, Finding, Report};
use crate::model::Resource;
use crate::policy::PolicyIndex;
use crate::printable::printable;

pub struct JunitEmitter;

enum Outcome<'r> {
    Pass,
    Finding(&'r Finding),
}

impl Outcome<'_> {
    fn disposition(&self) -> Disposition {
        match self {
            Outcome::Pass => Disposition::Pass,
            Outcome::Finding(finding) => finding.disposition(),
        }
    }
}

struct Case<'r> {
    resource: &'r Resource,
    outcome: Outcome<'r>,
}

#[derive(Default)]
struct Tally {
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
}

impl Tally {
    fn add(&mut self, outcome: &Outcome<'_>) {
        self.tests += 1;
        match outcome.disposition() {
            Disposition::Fail => self.failures += 1,
            Disposition::Error => self.errors += 1,
            Disposition::Review
            | Disposition::Known
            | Disposition::Waived
            | Disposition::Approved => {
                self.skipped += 1;
            }
            Disposition::Pass => {}
        }
    }

    fn attributes(&self) -> String {
        format!(
            "tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\"",
            self.tests, self.failures, self.errors, self.skipped
        )
    }
}

impl Emitter for JunitEmitter {
    fn emit(&self, out: &mut dyn Write, report: &Report, cx: &EmitContext<'_>) -> io::Result<()> {
        let mut suites: BTreeMap<&str, (PolicyIndex, Vec<Case<'_>>)> = BTreeMap::new();
        let mut add = |policy: PolicyIndex, resource: usize, outcome| {
            let (Some(p), Some(resource)) =
                (cx.catalog.get(policy), report.resources.get(resource))
            else {
                return;
            };
            suites
                .entry(p.id.as_str())
                .or_insert_with(|| (policy, Vec::new()))
                .1
                .push(Case { resource, outcome });
        };
        for pass in &report.passes {
            add(pass.policy, pass.resource, Outcome::Pass);
        }
        for finding in &report.findings {
            add(finding.policy, finding.resource, Outcome::Finding(finding));
        }

        let mut total = Tally::default();
        let mut body = Vec::new();
        for (id, (policy_index, cases)) in &mut suites {
            cases.sort_by(|a, b| {
                (a.resource.address.as_str(), a.resource.identity())
                    .cmp(&(b.resource.address.as_str(), b.resource.identity()))
            });
            let mut tally = Tally::default();
            for case in cases.iter() {
                tally.add(&case.outcome);
                total.add(&case.outcome);
            }
            let title = cx
                .catalog
                .get(*policy_index)
                .map_or("", |p| p.title.as_str());
            writeln!(
                body,
                "  <testsuite name=\"{}\" {}>",
                xml(id),
                tally.attributes()
            )?;
            writeln!(
                body,
                "    <properties><property name=\"title\" value=\"{}\"/></properties>",
                xml(title)
            )?;
            for case in cases.iter() {
                test_case(&mut body, id, case, cx)?;
            }
            writeln!(body, "  </testsuite>")?;
        }
        if !report.errors.is_empty() {
            let tally = Tally {
                tests: report.errors.len(),
                errors: report.errors.len(),
                ..Tally::default()
            };
            total.tests += tally.tests;
            total.errors += tally.errors;
            writeln!(
                body,
                "  <testsuite name=\"resilix\" {}>",
                tally.attributes()
            )?;
            for error in &report.errors {
                writeln!(
                    body,
                    "    <testcase classname=\"resilix\" name=\"read {}\" file=\"{}\">",
                    xml(&error.file),
                    xml(&cx.artifact_uri(&error.file))
                )?;
                writeln!(
                    body,
                    "      <error message=\"{}\" type=\"input\"/>",
                    xml(&error.message)
                )?;
                writeln!(body, "    </testcase>")?;
            }
            writeln!(body, "  </testsuite>")?;
        }

        writeln!(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>")?;
        writeln!(out, "<testsuites name=\"resilix\" {}>", total.attributes())?;
        out.write_all(&body)?;
        writeln!(out, "</testsuites>")
    }
}

fn test_case(
    out: &mut dyn Write,
    policy_id: &str,
    case: &Case<'_>,
    cx: &EmitContext<'_>,
) -> io::Result<()> {
    let mut attributes = format!(
        "classname=\"{}\" name=\"{}\"",
        xml(policy_id),
        xml(&case.resource.address)
    );
    if let Some(place) = cx.place(case.resource) {
        attributes.push_str(&format!(" file=\"{}\"", xml(&place.uri)));
        if let Some(line) = place.line {
            attributes.push_str(&format!(" line=\"{line}\""));
        }
    }
    let Outcome::Finding(finding) = case.outcome else {
        return writeln!(out, "    <testcase {attributes}/>");
    };
    writeln!(out, "    <testcase {attributes}>")?;
    let details: Vec<String> = finding.evidence.iter().map(evidence_line).collect();
    match finding.disposition() {
        Disposition::Fail => {
            let mut lines = Vec::new();
            lines.extend(disposition_note(finding));
            lines.extend(details);
            if let Some(fix) = cx.policy(finding).and_then(|p| {
                p.remediation
                    .text
                    .lines()
                    .find(|l| !l.trim().is_empty())
                    .map(str::trim)
            }) {
                lines.push(format!("fix: {fix}"));
            }
            writeln!(
                out,
                "      <failure message=\"{}\" type=\"{}\">{}</failure>",
                xml(&finding.message),
                finding.severity,
                xml_lines(&lines)
            )?;
        }
        Disposition::Review => writeln!(
            out,
            "      <skipped message=\"undecided: {}\"/>",
            xml(&finding.message)
        )?,
        Disposition::Known | Disposition::Waived | Disposition::Approved => writeln!(
            out,
            "      <skipped message=\"{}: {}\"/>",
            xml(&disposition_note(finding).unwrap_or_else(|| finding.disposition().to_string())),
            xml(&finding.message)
        )?,
        Disposition::Error => writeln!(
            out,
            "      <error message=\"{}\" type=\"evaluation\">{}</error>",
            xml(&finding.message),
            xml_lines(&details)
        )?,
        Disposition::Pass => {}
    }
    writeln!(out, "    </testcase>")
}

/// Escapes text for an XML attribute or element: the one place text becomes XML. Control
/// characters (which XML 1.0 cannot carry, or a terminal would obey) are first made
/// [`printable`]; the two non-characters XML also forbids become U+FFFD.
fn xml(text: &str) -> String {
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
            '\'' => out.push_str("&apos;"),
            '\u{FFFE}' | '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
        previous = Some(c);
    }
    out
}

/// Element text of several lines: each escaped, joined by line breaks of the emitter's own.
fn xml_lines(lines: &[String]) -> String {
    lines.iter().map(|l| xml(l)).collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escaping() {
        assert_eq!(
            xml("a<b & \"c\"\n\u{1}\u{9b}\u{ffff}"),
            "a&lt;b &amp; &quot;c&quot;\\n\\u{1}\\u{9b}\u{FFFD}"
        );
    }
}
