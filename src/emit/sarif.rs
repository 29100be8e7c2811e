//! SARIF 2.1.0, as GitHub code scanning reads it (DESIGN §6).
//!
//! The ~15 SARIF types we emit are written out here rather than generated from the schema: the
//! output is validated against the vendored OASIS schema in the tests.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{self, Write};

use rayon::prelude::*;
use serde::Serialize;

use super::{EmitContext, Emitter, disposition_note, evidence_line, json_text};
use crate::findings::{
    Approval, BaselineState, Criticality, Disposition, Finding, Report, Status, Waiver,
    WaiverSource,
};
use crate::policy::{Policy, PolicyIndex, Severity};

pub struct SarifEmitter;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const INFORMATION_URI: &str = "https://github.com/resilix/resilix";
const DOCS_URI: &str = "https://github.com/resilix/resilix/blob/main/docs/policies.md";
/// GitHub accepts at most 20 tags per rule.
const MAX_TAGS: usize = 20;
/// GitHub code scanning rejects a run with more results than this; the highest-priority results
/// are kept and a notification says what was left out.
pub(super) const MAX_RESULTS: usize = 25_000;

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool<'a>,
    invocations: Vec<Invocation<'a>>,
    results: Results<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    automation_details: Option<AutomationDetails>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AutomationDetails {
    id: String,
}

#[derive(Serialize)]
struct Tool<'a> {
    driver: Driver<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver<'a> {
    name: &'static str,
    version: &'a str,
    semantic_version: &'a str,
    information_uri: &'static str,
    rules: Vec<Rule<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule<'a> {
    id: &'a str,
    name: String,
    short_description: Text,
    full_description: Text,
    help: Help,
    help_uri: String,
    default_configuration: Configuration,
    properties: RuleProperties<'a>,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
struct Help {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties<'a> {
    tags: Vec<String>,
    precision: &'static str,
    #[serde(rename = "security-severity")]
    security_severity: String,
    category: &'static str,
    controls: &'a BTreeMap<String, Vec<String>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation<'a> {
    execution_successful: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_execution_notifications: Vec<Notification<'a>>,
    /// Problems with what configures the run, at their place: inline ignores that suppress
    /// nothing.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_configuration_notifications: Vec<Notification<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Notification<'a> {
    level: &'static str,
    message: Text,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    locations: Vec<Location<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'a str,
    rule_index: usize,
    kind: &'static str,
    level: &'static str,
    message: Text,
    locations: Vec<Location<'a>>,
    /// The other findings about the same change (an unauthorized change and what it
    /// weakened): the resource again, saying which rule and which result.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related_locations: Vec<Location<'a>>,
    partial_fingerprints: BTreeMap<&'static str, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline_state: Option<&'static str>,
    rank: f64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    suppressions: Vec<Suppression<'a>>,
    properties: ResultProperties<'a>,
}

#[derive(Serialize)]
struct Suppression<'a> {
    kind: &'static str,
    status: &'static str,
    justification: String,
    /// Where an in-source suppression is written: the comment's line.
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<Location<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultProperties<'a> {
    resource_type: &'a str,
    resource_identity: String,
    source: &'static str,
    #[serde(rename = "security-severity")]
    security_severity: String,
    priority: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    criticality: Option<Criticality>,
    #[serde(skip_serializing_if = "Option::is_none")]
    change: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    approval: Option<&'a Approval>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expired_waiver: Option<&'a Waiver>,
    controls: &'a BTreeMap<String, Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    account: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    evidence: Vec<String>,
    /// The results of the related locations: rule and fingerprint of each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related: Vec<Related<'a>>,
}

/// A finding about the same change as a result.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Related<'a> {
    rule_id: &'a str,
    fingerprint: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location<'a> {
    /// Set on related locations, which a result's message and other locations refer to.
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    physical_location: Option<PhysicalLocation>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    logical_locations: Vec<LogicalLocation<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<Text>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize)]
struct ArtifactLocation {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: usize,
    start_column: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogicalLocation<'a> {
    fully_qualified_name: &'a str,
    kind: &'static str,
}

/// SARIF level of a severity (DESIGN §5).
pub(super) fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

fn non_empty(text: &str, fallback: &str) -> String {
    let t = text.trim();
    if t.is_empty() {
        fallback.to_owned()
    } else {
        t.to_owned()
    }
}

/// Cuts text to GitHub's 1024-character description limit.
fn limit(text: &str) -> String {
    crate::model::value::truncate(text.trim(), 1000)
}

fn rule<'a>(policy: &'a Policy) -> Rule<'a> {
    let mut tags = vec!["security".to_owned(), policy.category.as_str().to_owned()];
    let mut frameworks: Vec<(&String, &Vec<String>)> = policy.controls.iter().collect();
    // CIS and the Security Hub control first (most asked for, and a handful of IDs, so the
    // 20-tag limit never cuts them off behind a long NIST list), then the three required
    // frameworks in their usual order.
    frameworks.sort_by_key(|(f, _)| match f.as_str() {
        f if f.starts_with("cis-") => 0,
        "aws-fsbp" => 1,
        "nist-800-53-r5" => 2,
        "iso-17799-2005" => 3,
        "cobit-4.1" => 4,
        _ => 5,
    });
    let mut seen = BTreeSet::new();
    'outer: for (framework, ids) in frameworks {
        for id in ids {
            if tags.len() >= MAX_TAGS {
                break 'outer;
            }
            let tag = format!("{}/{id}", tag_prefix(framework));
            if seen.insert(tag.clone()) {
                tags.push(tag);
            }
        }
    }
    let mut help_text = policy.remediation.text.trim().to_owned();
    let mut markdown = format!(
        "{}\n\n**Why it matters.** {}\n\n**How to fix.** {}",
        policy.description.trim(),
        policy.rationale.trim(),
        policy.remediation.text.trim()
    );
    if let Some(snippet) = &policy.remediation.terraform {
        help_text.push_str("\n\n");
        help_text.push_str(snippet.trim());
        markdown.push_str(&format!("\n\n```hcl\n{}\n```", snippet.trim()));
    }
    let controls: Vec<String> = policy
        .controls
        .iter()
        .map(|(f, ids)| format!("- {f}: {}", ids.join(", ")))
        .collect();
    markdown.push_str(&format!("\n\n**Controls.**\n{}", controls.join("\n")));
    Rule {
        id: &policy.id,
        name: policy.title.clone(),
        short_description: Text {
            text: limit(&non_empty(&policy.title, &policy.id)),
        },
        full_description: Text {
            text: limit(&non_empty(&policy.description, &policy.title)),
        },
        help: Help {
            text: non_empty(&help_text, &policy.title),
            markdown,
        },
        help_uri: format!("{DOCS_URI}#{}", crate::docs::anchor(&policy.id)),
        default_configuration: Configuration {
            level: level(policy.severity),
        },
        properties: RuleProperties {
            tags,
            precision: "high",
            security_severity: format!("{:.1}", policy.severity.score()),
            category: policy.category.as_str(),
            controls: &policy.controls,
        },
    }
}

fn tag_prefix(framework: &str) -> String {
    match framework {
        "nist-800-53-r5" => "NIST-800-53-r5".to_owned(),
        "iso-17799-2005" => "ISO-17799-2005".to_owned(),
        "cobit-4.1" => "COBIT-4.1".to_owned(),
        "aws-fsbp" => "AWS-FSBP".to_owned(),
        other => other.to_uppercase(),
    }
}

impl Emitter for SarifEmitter {
    fn emit(&self, out: &mut dyn Write, report: &Report, cx: &EmitContext<'_>) -> io::Result<()> {
        // Rules: every policy that produced a result in this run, sorted by id.
        let mut ran: BTreeSet<PolicyIndex> = report.passes.iter().map(|p| p.policy).collect();
        ran.extend(report.findings.iter().map(|f| f.policy));
        let ran: Vec<PolicyIndex> = ran.into_iter().collect();
        let rules: Vec<Rule<'_>> = ran
            .iter()
            .filter_map(|&i| cx.catalog.get(i))
            .map(rule)
            .collect();
        let rule_index: BTreeMap<PolicyIndex, usize> =
            ran.iter().enumerate().map(|(n, &i)| (i, n)).collect();

        let mut notifications = Vec::new();
        // New findings first, then those known from the baseline; each in priority order.
        let (known, current): (Vec<&Finding>, Vec<&Finding>) = report
            .findings
            .iter()
            .filter(|f| f.disposition() != Disposition::Error)
            .partition(|f| f.disposition() == Disposition::Known);
        let ordered: Vec<&Finding> = current.into_iter().chain(known).collect();
        let (kept, over) = ordered.split_at(ordered.len().min(MAX_RESULTS));
        let mut left_out: BTreeMap<Severity, usize> = BTreeMap::new();
        for finding in over {
            *left_out.entry(finding.severity).or_default() += 1;
        }
        let fingerprints = partial_fingerprints(kept, report, cx);
        let results = Results {
            findings: kept,
            fingerprints: &fingerprints,
            report,
            cx,
            rule_index: &rule_index,
        };
        if !left_out.is_empty() {
            notifications.push(Notification {
                level: "warning",
                message: Text {
                    text: left_out_message(&left_out),
                },
                locations: Vec::new(),
            });
        }
        for finding in report
            .findings
            .iter()
            .filter(|f| f.disposition() == Disposition::Error)
        {
            let (Some(_), Some(resource)) = (cx.policy(finding), report.resource(finding)) else {
                continue;
            };
            notifications.push(Notification {
                level: "error",
                message: Text {
                    text: non_empty(
                        &format!("{}: {}", resource.address, finding.message),
                        "evaluation error",
                    ),
                },
                locations: vec![location(finding, report, cx)],
            });
        }
        if let Some(filter) = report.filter.filter(|f| f.hidden > 0) {
            notifications.push(Notification {
                level: "note",
                message: Text {
                    text: format!(
                        "{} finding(s) below {} were left out (--min-severity {}).",
                        filter.hidden, filter.min, filter.min
                    ),
                },
                locations: Vec::new(),
            });
        }
        for error in &report.errors {
            let region = error.line.map(|line| Region {
                start_line: line.max(1),
                start_column: error.column.unwrap_or(1).max(1),
            });
            notifications.push(Notification {
                level: "error",
                message: Text {
                    text: non_empty(&error.message, "error"),
                },
                locations: vec![Location {
                    physical_location: Some(PhysicalLocation {
                        artifact_location: ArtifactLocation {
                            uri: cx.artifact_uri(&error.file),
                        },
                        region,
                    }),
                    logical_locations: Vec::new(),
                    id: None,
                    message: None,
                }],
            });
        }
        // An inline ignore that suppresses nothing is about the tool's configuration, not a
        // weakness of the infrastructure: a configuration notification at its line, not a
        // result (which would need a rule, count in the gate and fail controls). The finding it
        // no longer suppresses is a result of its own, which says the ignore expired.
        let configuration: Vec<Notification<'_>> = report
            .warnings
            .iter()
            .map(|warning| Notification {
                level: "warning",
                message: Text {
                    text: non_empty(&warning.message, "warning"),
                },
                locations: vec![Location {
                    physical_location: Some(PhysicalLocation {
                        artifact_location: ArtifactLocation {
                            uri: cx.artifact_uri(&warning.file),
                        },
                        region: Some(Region {
                            start_line: warning.line.max(1),
                            start_column: 1,
                        }),
                    }),
                    logical_locations: Vec::new(),
                    id: None,
                    message: None,
                }],
            })
            .collect();
        let log = Log {
            schema: SCHEMA,
            version: "2.1.0",
            runs: vec![Run {
                tool: Tool {
                    driver: Driver {
                        name: "resilix",
                        version: cx.version,
                        semantic_version: cx.version,
                        information_uri: INFORMATION_URI,
                        rules,
                    },
                },
                invocations: vec![Invocation {
                    execution_successful: notifications.iter().all(|n| n.level != "error"),
                    tool_execution_notifications: notifications,
                    tool_configuration_notifications: configuration,
                }],
                results,
                automation_details: cx.sarif_category.as_deref().map(automation_id),
            }],
        };
        // A buffer of our own: serde_json writes many small pieces, each a virtual call on `out`.
        let mut buffered = io::BufWriter::with_capacity(1 << 16, out);
        json_text::to_writer_pretty(&mut buffered, &log)?;
        writeln!(buffered)?;
        buffered.flush()
    }
}

/// The results of a run, built as they are written: a chunk at a time, each chunk in parallel
/// (results are independent of each other) and in order, so that 25,000 results are never all
/// in memory at once.
struct Results<'a> {
    findings: &'a [&'a Finding],
    /// `primaryLocationLineHash` of each finding, in the same order.
    fingerprints: &'a [String],
    report: &'a Report,
    cx: &'a EmitContext<'a>,
    rule_index: &'a BTreeMap<PolicyIndex, usize>,
}

impl Serialize for Results<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        const CHUNK: usize = 2048;
        let mut seq = serializer.serialize_seq(None)?;
        for (chunk, prints) in self
            .findings
            .chunks(CHUNK)
            .zip(self.fingerprints.chunks(CHUNK))
        {
            let built: Vec<SarifResult<'_>> = chunk
                .par_iter()
                .zip(prints)
                .filter_map(|(f, print)| result(f, print, self.report, self.cx, self.rule_index))
                .collect();
            for result in &built {
                seq.serialize_element(result)?;
            }
        }
        seq.end()
    }
}

/// The `primaryLocationLineHash` of each result: the finding's fingerprint and, as GitHub
/// numbers them, its occurrence in the run (`:1`, then `:2` for a second result with the same
/// fingerprint — the same plan given twice, a Config item in two snapshots), so every result of
/// a run has its own.
fn partial_fingerprints(
    findings: &[&Finding],
    report: &Report,
    cx: &EmitContext<'_>,
) -> Vec<String> {
    let prints: Vec<String> = findings
        .par_iter()
        .map(|f| {
            let policy = cx.policy(f).map_or("", |p| p.id.as_str());
            report
                .resource(f)
                .map_or_else(String::new, |r| report.fingerprint(policy, r))
        })
        .collect();
    let mut seen: HashMap<&str, usize> = HashMap::with_capacity(prints.len());
    prints
        .iter()
        .map(|print| {
            let n = seen.entry(print.as_str()).or_default();
            *n += 1;
            format!("{print}:{n}")
        })
        .collect()
}

/// One SARIF result of a failing or undecided finding.
fn result<'a>(
    finding: &'a Finding,
    fingerprint: &str,
    report: &'a Report,
    cx: &'a EmitContext<'_>,
    rule_index: &BTreeMap<PolicyIndex, usize>,
) -> Option<SarifResult<'a>> {
    let policy = cx.policy(finding)?;
    let resource = report.resource(finding)?;
    let evidence: Vec<String> = finding.evidence.iter().map(evidence_line).collect();
    let mut text = format!(
        "{}: {}.",
        finding.message.trim_end_matches('.'),
        resource.address
    );
    if let Some(note) = disposition_note(finding) {
        text.push_str(&format!(" ({note})"));
    }
    if let Some(first) = evidence.first() {
        text.push(' ');
        text.push_str(first);
        if evidence.len() > 1 {
            text.push_str(&format!(" (and {} more)", evidence.len() - 1));
        }
    }
    // An approved change is not a problem, but people want to see it: a note that names the
    // ticket. A waived result keeps its level and carries a suppression; a known one is a note
    // with `baselineState: unchanged`.
    let disposition = finding.disposition();
    let status_kind = match finding.status() {
        Status::Review => "review",
        Status::Fail | Status::Error => "fail",
    };
    let (kind, level) = match disposition {
        Disposition::Fail => ("fail", level(finding.severity)),
        Disposition::Review | Disposition::Known => (status_kind, "note"),
        Disposition::Waived if finding.status() == Status::Review => ("review", "note"),
        Disposition::Waived => ("fail", level(finding.severity)),
        Disposition::Approved => ("informational", "note"),
        // Errors are notifications, passes are not results: neither reaches here.
        Disposition::Error | Disposition::Pass => return None,
    };
    let suppressions = match disposition {
        Disposition::Waived => finding
            .waiver()
            .map(|w| Suppression {
                kind: w.sarif_kind(),
                status: "accepted",
                justification: w.justification(),
                location: match &w.source {
                    WaiverSource::Inline { file, line } => Some(Location {
                        physical_location: Some(PhysicalLocation {
                            artifact_location: ArtifactLocation {
                                uri: cx.artifact_uri(file),
                            },
                            region: Some(Region {
                                start_line: (*line).max(1),
                                start_column: 1,
                            }),
                        }),
                        logical_locations: Vec::new(),
                        id: None,
                        message: None,
                    }),
                    WaiverSource::Config { .. } => None,
                },
            })
            .into_iter()
            .collect(),
        _ => Vec::new(),
    };
    let mut fingerprints = BTreeMap::new();
    fingerprints.insert("primaryLocationLineHash", fingerprint.to_owned());
    let related: Vec<Related<'a>> = report
        .related(finding)
        .iter()
        .filter_map(|&other| cx.catalog.get(other))
        .map(|other| Related {
            rule_id: &other.id,
            fingerprint: report.fingerprint(&other.id, resource),
        })
        .collect();
    let related_locations = related
        .iter()
        .enumerate()
        .map(|(n, other)| {
            let mut place = location(finding, report, cx);
            place.id = Some(n + 1);
            place.message = Some(Text {
                text: if policy.judges_authorization() {
                    format!("What the unauthorized change weakened: {}", other.rule_id)
                } else {
                    format!("The change was unauthorized: {}", other.rule_id)
                },
            });
            place
        })
        .collect();
    Some(SarifResult {
        rule_id: &policy.id,
        rule_index: rule_index.get(&finding.policy).copied().unwrap_or(0),
        kind,
        level,
        message: Text {
            text: non_empty(&text, &policy.title),
        },
        locations: vec![location(finding, report, cx)],
        related_locations,
        partial_fingerprints: fingerprints,
        baseline_state: finding.baseline().map(BaselineState::as_str),
        rank: f64::from(finding.priority),
        suppressions,
        properties: ResultProperties {
            resource_type: &resource.type_name,
            resource_identity: resource.identity(),
            source: resource.source.as_str(),
            security_severity: format!("{:.1}", f64::from(finding.priority) / 10.0),
            priority: finding.priority,
            criticality: finding.criticality,
            change: resource.change.as_ref().map(|c| c.actions.kind().as_str()),
            approval: finding.approval(),
            expired_waiver: finding.expired_waiver(),
            controls: &policy.controls,
            account: resource.context.account.as_deref(),
            region: resource.context.region.as_deref(),
            evidence,
            related,
        },
    })
}

/// What the result limit cut, for the run's notifications.
fn left_out_message(left_out: &BTreeMap<Severity, usize>) -> String {
    let total: usize = left_out.values().sum();
    let by_severity: Vec<String> = left_out
        .iter()
        .rev()
        .map(|(severity, n)| format!("{n} {severity}"))
        .collect();
    format!(
        "{total} lower-priority result(s) were left out ({}): GitHub code scanning accepts at most {MAX_RESULTS} results per run, so the {MAX_RESULTS} highest-priority ones are kept. Fix or baseline findings, or raise --min-severity, to see the rest.",
        by_severity.join(", ")
    )
}

/// `automationDetails.id` for a category: the category is what comes before the last `/`, so
/// `terraform` becomes `terraform/` (as github/codeql-action/upload-sarif does).
fn automation_id(category: &str) -> AutomationDetails {
    let category = category.trim();
    AutomationDetails {
        id: if category.ends_with('/') {
            category.to_owned()
        } else {
            format!("{category}/")
        },
    }
}

fn location<'a>(finding: &Finding, report: &'a Report, cx: &EmitContext<'_>) -> Location<'a> {
    let resource = report.resource(finding);
    let physical = resource.map(|r| {
        let place = cx.physical_place(r);
        PhysicalLocation {
            artifact_location: ArtifactLocation { uri: place.uri },
            region: Some(Region {
                start_line: place.line.unwrap_or(1).max(1),
                start_column: place.column.unwrap_or(1).max(1),
            }),
        }
    });
    Location {
        id: None,
        message: None,
        physical_location: physical,
        logical_locations: resource
            .map(|r| {
                vec![LogicalLocation {
                    fully_qualified_name: &r.address,
                    kind: "resource",
                }]
            })
            .unwrap_or_default(),
    }
}
