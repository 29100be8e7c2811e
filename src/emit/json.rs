//! The JSON report: a stable, documented schema (`resilix/report/v1`, see the README).

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use super::{EmitContext, Emitter, fingerprint};
use crate::eval::Evidence;
use crate::findings::{ErrorRecord, Report, Status};
use crate::model::{CloudContext, SourceKind};
use crate::policy::{Category, Severity};

pub struct JsonEmitter;

#[derive(Serialize)]
struct JsonReport<'a> {
    schema: &'static str,
    tool: Tool<'a>,
    summary: Summary,
    findings: Vec<JsonFinding<'a>>,
    errors: &'a [ErrorRecord],
}

#[derive(Serialize)]
struct Tool<'a> {
    name: &'static str,
    version: &'a str,
}

#[derive(Serialize)]
struct Summary {
    files: usize,
    resources: usize,
    evaluated: usize,
    policies: usize,
    failed: usize,
    review: usize,
    passed: usize,
    errors: usize,
    /// Failing findings per severity.
    by_severity: BTreeMap<&'static str, usize>,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    policy: &'a str,
    title: &'a str,
    status: Status,
    severity: Severity,
    category: Category,
    priority: u8,
    message: &'a str,
    resource: JsonResource<'a>,
    evidence: &'a [Evidence],
    controls: &'a BTreeMap<String, Vec<String>>,
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
                    status: finding.status,
                    severity: finding.severity,
                    category: policy.category,
                    priority: finding.priority,
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
                    },
                    evidence: &finding.evidence,
                    controls: &policy.controls,
                    fingerprint: fingerprint(&policy.id, resource),
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
                failed: report.count(Status::Fail),
                review: report.count(Status::Review),
                passed: report.passes.len(),
                errors: report.count(Status::Error) + report.errors.len(),
                by_severity,
            },
            findings,
            errors: &report.errors,
        };
        // `from` keeps the kind of an I/O error (a broken pipe must stay one).
        serde_json::to_writer_pretty(&mut *out, &document).map_err(io::Error::from)?;
        writeln!(out)
    }
}
