//! The JSON report: a stable, documented schema (`resilix/report/v1`, see the README).

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use super::{EmitContext, Emitter, json_text};
use crate::findings::Evidence;
use crate::findings::baseline::Comparison;
use crate::findings::{
    Approval, BaselineState, Criticality, Disposition, ErrorRecord, Report, Status, Waiver,
    WarningRecord,
};
use crate::model::{CloudContext, SourceKind};
use crate::policy::{Category, Severity};

pub struct JsonEmitter;

#[derive(Serialize)]
struct JsonReport<'a> {
    schema: &'static str,
    tool: Tool<'a>,
    summary: Summary<'a>,
    findings: Vec<JsonFinding<'a>>,
    errors: &'a [ErrorRecord],
    /// Inline ignores that suppress nothing (file, line, message, help).
    #[serde(skip_serializing_if = "<[WarningRecord]>::is_empty")]
    warnings: &'a [WarningRecord],
}

#[derive(Serialize)]
struct Tool<'a> {
    name: &'static str,
    version: &'a str,
}

#[derive(Serialize)]
struct Summary<'a> {
    files: usize,
    resources: usize,
    evaluated: usize,
    policies: usize,
    /// Results per disposition: `failed` is what the gate counts (at or above its threshold).
    failed: usize,
    review: usize,
    passed: usize,
    /// Inputs that could not be read plus results that could not be evaluated.
    errors: usize,
    /// Findings known from the baseline.
    known: usize,
    /// Findings suppressed by an active waiver.
    waived: usize,
    /// Change-control findings whose change is approved.
    approved: usize,
    /// Failing findings (`failed`) per severity.
    by_severity: BTreeMap<&'static str, usize>,
    /// The comparison with `--baseline`, when one is in use.
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline: Option<&'a Comparison>,
    /// Findings left out by `--min-severity`.
    #[serde(skip_serializing_if = "Option::is_none")]
    hidden_below_min_severity: Option<usize>,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    policy: &'a str,
    title: &'a str,
    /// What the policy said.
    status: Status,
    /// What it means for the gate: fail, review, error, known, waived or approved.
    disposition: Disposition,
    severity: Severity,
    category: Category,
    priority: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    criticality: Option<Criticality>,
    message: &'a str,
    resource: JsonResource<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    change: Option<&'static str>,
    evidence: &'a [Evidence],
    controls: &'a BTreeMap<String, Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    approval: Option<&'a Approval>,
    #[serde(skip_serializing_if = "Option::is_none")]
    waiver: Option<&'a Waiver>,
    fingerprint: String,
    /// The other findings about the same change: an unauthorized change and what it
    /// weakened, each by policy and fingerprint.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related: Vec<JsonRelated<'a>>,
    /// `new` or `unchanged` when a baseline is in use.
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline: Option<BaselineState>,
}

#[derive(Serialize)]
struct JsonRelated<'a> {
    policy: &'a str,
    fingerprint: String,
}

#[derive(Serialize)]
struct JsonResource<'a> {
    address: &'a str,
    #[serde(rename = "type")]
    type_name: &'a str,
    source: SourceKind,
    identity: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    column: Option<usize>,
    #[serde(flatten)]
    context: &'a CloudContext,
    /// The `.tf` block that declares the resource, when the sources were at hand.
    #[serde(skip_serializing_if = "Option::is_none")]
    declaration: Option<JsonDeclaration>,
}

#[derive(Serialize)]
struct JsonDeclaration {
    file: String,
    line: usize,
    column: usize,
}

impl Emitter for JsonEmitter {
    fn emit(&self, out: &mut dyn Write, report: &Report, cx: &EmitContext<'_>) -> io::Result<()> {
        let findings = report
            .findings
            .iter()
            .filter_map(|finding| {
                let policy = cx.policy(finding)?;
                let resource = report.resource(finding)?;
                let at = resource.origin.line_col();
                Some(JsonFinding {
                    policy: &policy.id,
                    title: &policy.title,
                    status: finding.status(),
                    disposition: finding.disposition(),
                    severity: finding.severity,
                    category: policy.category,
                    priority: finding.priority,
                    criticality: finding.criticality,
                    message: &finding.message,
                    resource: JsonResource {
                        address: &resource.address,
                        type_name: &resource.type_name,
                        source: resource.source,
                        identity: resource.identity(),
                        file: resource.origin.file_name().map(|n| cx.artifact_uri(n)),
                        line: at.map(|a| a.line),
                        column: at.map(|a| a.column),
                        context: &resource.context,
                        declaration: resource.origin.declaration.as_ref().map(|d| {
                            JsonDeclaration {
                                file: cx.artifact_uri(&d.file),
                                line: d.line,
                                column: d.column,
                            }
                        }),
                    },
                    change: resource.change.as_ref().map(|c| c.actions.kind().as_str()),
                    evidence: &finding.evidence,
                    controls: &policy.controls,
                    approval: finding.approval(),
                    waiver: finding.waiver(),
                    fingerprint: report.fingerprint(&policy.id, resource),
                    related: report
                        .related(finding)
                        .iter()
                        .filter_map(|&other| cx.catalog.get(other))
                        .map(|other| JsonRelated {
                            policy: &other.id,
                            fingerprint: report.fingerprint(&other.id, resource),
                        })
                        .collect(),
                    baseline: finding.baseline(),
                })
            })
            .collect();
        let by_severity = Severity::ALL
            .iter()
            .map(|s| (s.as_str(), report.count_severity(*s)))
            .collect();
        let document = JsonReport {
            schema: "resilix/report/v1",
            tool: Tool {
                name: "resilix",
                version: cx.version,
            },
            summary: Summary {
                files: report.files,
                resources: report.resources.len(),
                evaluated: report.evaluated,
                policies: cx.catalog.len(),
                failed: report.count(Disposition::Fail),
                review: report.count(Disposition::Review),
                passed: report.count(Disposition::Pass),
                errors: report.error_count(),
                known: report.count(Disposition::Known),
                waived: report.count(Disposition::Waived),
                approved: report.count(Disposition::Approved),
                by_severity,
                baseline: report.baseline.as_ref(),
                hidden_below_min_severity: report.filter.map(|f| f.hidden),
            },
            findings,
            errors: &report.errors,
            warnings: &report.warnings,
        };
        json_text::to_writer_pretty(&mut *out, &document)?;
        writeln!(out)
    }
}
