//! The auditor's report, independent of its format: what the HTML and Markdown renderers show.
//!
//! It is written for someone who does not know resilix: a summary (what was examined, findings
//! by severity, controls failed / passed / not assessed), then per framework every control with
//! its status, the policies behind it, and the failing resources grouped by account and region
//! (or by input file, for plans). Control status comes from [`crate::findings::compliance`]; this
//! module only arranges what the report holds.

use std::collections::BTreeMap;

use super::{EmitContext, disposition_note, evidence_line};
use crate::findings::compliance::{ControlState, framework_status};
use crate::findings::{Disposition, ErrorRecord, Finding, Report};
use crate::frameworks::{Control, Framework};
use crate::model::{Resource, SourceKind};
use crate::policy::{Policy, PolicyIndex, Severity};

/// Everything the auditor's report shows.
pub struct AuditorView<'a> {
    pub summary: Summary,
    /// Inputs or parts of a pull that could not be read: the report is incomplete.
    pub errors: &'a [ErrorRecord],
    /// Results that could not be evaluated: (resource address, policy id, message).
    pub evaluation_errors: Vec<(String, String, String)>,
    pub frameworks: Vec<FrameworkView<'a>>,
    /// Every policy named in the report, by id.
    pub policies: Vec<&'a Policy>,
}

/// The numbers at the top.
pub struct Summary {
    pub resources: usize,
    /// Resources at least one policy applied to.
    pub evaluated: usize,
    pub files: usize,
    /// Live AWS Config resources by account and region, sorted.
    pub scopes: Vec<(String, usize)>,
    /// Failing findings per severity, most severe first (all five severities).
    pub by_severity: Vec<(Severity, usize)>,
    pub failed: usize,
    pub review: usize,
    pub passed: usize,
    /// Findings known from the baseline (they still fail their controls).
    pub known: usize,
    /// Accepted exceptions: waived findings and approved changes.
    pub waived: usize,
    pub approved: usize,
    pub policies: usize,
}

/// One framework's part of the report.
pub struct FrameworkView<'a> {
    pub framework: &'static Framework,
    /// Controls per state, in the order of [`STATES`].
    pub counts: Vec<(ControlState, usize)>,
    /// Controls that some policy maps to, in catalog order.
    pub assessed: Vec<ControlView<'a>>,
    /// Controls no policy maps to, by group (family, category or process).
    pub not_assessed: Vec<(String, Vec<&'static Control>)>,
}

/// The states, in the order the report lists them.
pub const STATES: [ControlState; 5] = [
    ControlState::Failed,
    ControlState::Review,
    ControlState::Passed,
    ControlState::NoResources,
    ControlState::NotAssessed,
];

/// One control that policies map to.
pub struct ControlView<'a> {
    pub control: &'static Control,
    pub state: ControlState,
    pub policies: Vec<&'a Policy>,
    /// Failing, undecided and accepted results, grouped by where the resource is.
    pub groups: Vec<ResourceGroup<'a>>,
    pub failing: usize,
    pub review: usize,
    /// Accepted exceptions (waived, approved).
    pub accepted: usize,
    pub passed: usize,
}

impl ControlView<'_> {
    /// Whether the report details the control: it failed, needs review, or has exceptions.
    pub fn is_detailed(&self) -> bool {
        matches!(self.state, ControlState::Failed | ControlState::Review) || self.accepted > 0
    }
}

/// Results of one account and region (or one input file).
pub struct ResourceGroup<'a> {
    pub label: String,
    pub rows: Vec<Row<'a>>,
}

/// One failing, undecided or accepted result.
pub struct Row<'a> {
    pub resource: &'a Resource,
    pub policy: &'a Policy,
    pub finding: &'a Finding,
    /// What accepts the result (or the waiver that has expired), then the evidence lines.
    pub evidence: Vec<String>,
}

impl Row<'_> {
    pub fn status_label(&self) -> &'static str {
        match self.finding.disposition() {
            Disposition::Fail => "fail",
            Disposition::Known => "fail (known from the baseline)",
            Disposition::Review => "undecided",
            Disposition::Waived => "waived",
            Disposition::Approved => "approved change",
            Disposition::Error => "error",
            Disposition::Pass => "pass",
        }
    }
}

/// Where a resource is, for grouping: its account and region, or its input file.
pub fn group_label(resource: &Resource, cx: &EmitContext<'_>) -> String {
    match resource.source {
        SourceKind::AwsConfig => format!(
            "Account {} · {}",
            resource.context.account.as_deref().unwrap_or("unknown"),
            resource
                .context
                .region
                .as_deref()
                .unwrap_or("unknown region")
        ),
        SourceKind::Terraform => match resource.origin.file_name() {
            Some(name) => format!("Plan {}", cx.artifact_uri(name)),
            None => "Plan".to_owned(),
        },
    }
}

impl<'a> AuditorView<'a> {
    pub fn new(report: &'a Report, cx: &EmitContext<'a>) -> AuditorView<'a> {
        let mut scopes: BTreeMap<String, usize> = BTreeMap::new();
        for resource in &report.resources.resources {
            if resource.source == SourceKind::AwsConfig {
                *scopes.entry(group_label(resource, cx)).or_default() += 1;
            }
        }
        let summary = Summary {
            resources: report.resources.len(),
            evaluated: report.evaluated,
            files: report.files,
            scopes: scopes.into_iter().collect(),
            by_severity: Severity::ALL
                .iter()
                .map(|s| (*s, report.count_severity(*s)))
                .collect(),
            failed: report.count(Disposition::Fail),
            review: report.count(Disposition::Review),
            passed: report.count(Disposition::Pass),
            known: report.count(Disposition::Known),
            waived: report.count(Disposition::Waived),
            approved: report.count(Disposition::Approved),
            policies: cx.catalog.len(),
        };
        let mut named: Vec<PolicyIndex> = Vec::new();
        let frameworks = cx
            .frameworks
            .iter()
            .filter_map(|id| framework_status(report, cx.catalog, id))
            .map(|status| {
                let counts = STATES
                    .iter()
                    .map(|state| (*state, status.count(*state)))
                    .collect();
                let mut assessed = Vec::new();
                let mut not_assessed: BTreeMap<String, Vec<&'static Control>> = BTreeMap::new();
                let mut group_order: Vec<String> = Vec::new();
                for control in &status.controls {
                    if control.state == ControlState::NotAssessed {
                        let group = control.control.group.clone();
                        if !not_assessed.contains_key(&group) {
                            group_order.push(group.clone());
                        }
                        not_assessed.entry(group).or_default().push(control.control);
                        continue;
                    }
                    named.extend(control.policies.iter().copied());
                    let rows = control
                        .failing
                        .iter()
                        .chain(&control.review)
                        .chain(&control.accepted)
                        .filter_map(|&index| report.findings.get(index))
                        .filter_map(|finding| {
                            Some(Row {
                                resource: report.resource(finding)?,
                                policy: cx.catalog.get(finding.policy)?,
                                finding,
                                evidence: disposition_note(finding)
                                    .into_iter()
                                    .chain(finding.evidence.iter().map(evidence_line))
                                    .collect(),
                            })
                        });
                    let mut groups: BTreeMap<String, Vec<Row<'a>>> = BTreeMap::new();
                    for row in rows {
                        groups
                            .entry(group_label(row.resource, cx))
                            .or_default()
                            .push(row);
                    }
                    let mut groups: Vec<ResourceGroup<'a>> = groups
                        .into_iter()
                        .map(|(label, rows)| ResourceGroup { label, rows })
                        .collect();
                    for group in &mut groups {
                        // Failing, undecided, then accepted; most urgent first; then by address.
                        group.rows.sort_by(|a, b| {
                            a.finding
                                .disposition()
                                .cmp(&b.finding.disposition())
                                .then(b.finding.priority.cmp(&a.finding.priority))
                                .then(a.resource.address.cmp(&b.resource.address))
                                .then(a.policy.id.cmp(&b.policy.id))
                        });
                    }
                    assessed.push(ControlView {
                        control: control.control,
                        state: control.state,
                        policies: control
                            .policies
                            .iter()
                            .filter_map(|&p| cx.catalog.get(p))
                            .collect(),
                        groups,
                        failing: control.failing.len(),
                        review: control.review.len(),
                        accepted: control.accepted.len(),
                        passed: control.passed,
                    });
                }
                let not_assessed = group_order
                    .into_iter()
                    .filter_map(|g| not_assessed.remove(&g).map(|controls| (g, controls)))
                    .collect();
                FrameworkView {
                    framework: status.framework,
                    counts,
                    assessed,
                    not_assessed,
                }
            })
            .collect();
        named.sort_unstable();
        named.dedup();
        AuditorView {
            summary,
            errors: &report.errors,
            evaluation_errors: report
                .findings
                .iter()
                .filter(|f| f.disposition() == Disposition::Error)
                .map(|f| {
                    (
                        report
                            .resource(f)
                            .map_or_else(String::new, |r| r.address.clone()),
                        cx.catalog
                            .get(f.policy)
                            .map_or_else(String::new, |p| p.id.clone()),
                        f.message.clone(),
                    )
                })
                .collect(),
            frameworks,
            policies: named
                .into_iter()
                .filter_map(|p| cx.catalog.get(p))
                .collect(),
        }
    }

    /// Whether the report covers less than it was asked to (unreadable inputs, failed pulls,
    /// evaluation errors).
    pub fn is_incomplete(&self) -> bool {
        !self.errors.is_empty() || !self.evaluation_errors.is_empty()
    }
}

/// The human name of a control state, capitalised for a badge.
pub fn state_label(state: ControlState) -> &'static str {
    match state {
        ControlState::Failed => "Failed",
        ControlState::Review => "Needs review",
        ControlState::Passed => "Passed",
        ControlState::NoResources => "No resources in scope",
        ControlState::NotAssessed => "Not assessed automatically",
    }
}

/// What a state means, for the legend.
pub fn state_meaning(state: ControlState) -> &'static str {
    match state {
        ControlState::Failed => "at least one resource fails a check mapped to the control",
        ControlState::Review => {
            "no check failed, but some results depend on values known only after a change is applied"
        }
        ControlState::Passed => "every resource checked against the control's checks passed",
        ControlState::NoResources => {
            "checks exist for the control, but none of the examined resources is of their kind"
        }
        ControlState::NotAssessed => {
            "no automated check maps to the control: it needs a manual or procedural review"
        }
    }
}
