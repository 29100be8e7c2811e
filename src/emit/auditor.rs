//! The auditor's report, independent of its format: what the HTML and Markdown renderers show.
//!
//! It is written for someone who does not know resilix: a summary (what was examined, findings
//! by severity, controls failed / passed / not assessed), then per framework every control with
//! its status, the policies behind it, and the failing resources grouped by account and region
//! (or by input file, for plans). Control status comes from [`crate::findings::compliance`]; this
//! module only arranges what the report holds.

use std::collections::BTreeMap;

use super::{EmitContext, disposition_note, evidence_line};
use crate::eval::authorization::Authorization;
use crate::findings::compliance::{ControlState, framework_status};
use crate::findings::{ApprovalSource, Disposition, ErrorRecord, Finding, Report, Status};
use crate::frameworks::{Control, Framework};
use crate::model::{ChangeEvent, Resource, SourceKind};
use crate::policy::{Category, Policy, PolicyIndex, Severity};

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
    /// The change log of a history (`audit --changes-since`): per resource, each change.
    pub changes: Vec<ChangedResource<'a>>,
}

/// One resource of a history and its changes, in the order they were recorded.
pub struct ChangedResource<'a> {
    pub resource: &'a Resource,
    /// Account and region.
    pub label: String,
    pub changes: Vec<ChangeEntry<'a>>,
}

/// One change: when, what, who (from where, with which call), whether it was authorized and
/// by what, and what it weakened.
pub struct ChangeEntry<'a> {
    /// When AWS Config recorded it (the capture time of the item it made).
    pub recorded: &'a str,
    /// `create`, `update` or `delete`.
    pub kind: &'static str,
    /// The CloudTrail events behind it.
    pub events: &'a [ChangeEvent],
    /// Why there are none.
    pub unattributed: Option<&'a str>,
    /// Authorized or not, and by what (or why undecided).
    pub authorized: String,
    /// The other failing change-control findings of the change: what it weakened, widened or
    /// destroyed (policy, and how the finding stands).
    pub weakened: Vec<(&'a Policy, &'static str)>,
}

impl ChangeEntry<'_> {
    /// Who made the change, one line per event: principal (session).
    pub fn who(&self) -> Vec<String> {
        if self.events.is_empty() {
            return vec!["unattributed".to_owned()];
        }
        self.events
            .iter()
            .map(|e| {
                let kind = e.principal.kind.as_deref().unwrap_or("Unknown");
                format!("{kind} {}", e.principal.describe())
            })
            .collect()
    }

    /// Where from, one line per event: source IP and user agent.
    pub fn from(&self) -> Vec<String> {
        self.events
            .iter()
            .map(|e| {
                let ip = e.source_ip_address.as_deref().unwrap_or("unknown");
                match &e.user_agent {
                    Some(agent) => format!("{ip} ({agent})"),
                    None => ip.to_owned(),
                }
            })
            .collect()
    }

    /// The calls, one line per event (or why there is none): name at time.
    pub fn calls(&self) -> Vec<String> {
        if self.events.is_empty() {
            return self.unattributed.map(str::to_owned).into_iter().collect();
        }
        self.events
            .iter()
            .map(|e| {
                let name = e.event_name.as_deref().unwrap_or("unknown call");
                match &e.event_time {
                    Some(time) => format!("{name} at {time}"),
                    None => name.to_owned(),
                }
            })
            .collect()
    }
}

/// How a change stands: authorized (and by what), unauthorized (and what accepts it, if
/// anything), undecided (and why), from the decision its judging policy recorded and that
/// policy's finding on the change.
fn standing(decision: &Authorization, finding: Option<&Finding>) -> String {
    match decision {
        Authorization::Principal { pattern, .. } => {
            format!("authorized: approvals.principals ({pattern})")
        }
        Authorization::Ticket(approval) => match &approval.source {
            ApprovalSource::Tag { key } => {
                format!("authorized: change ticket {} (tag {key})", approval.ticket)
            }
            ApprovalSource::Config { location } => format!(
                "authorized: listed, ticket {} (approvals.changes, {location})",
                approval.ticket
            ),
        },
        Authorization::Unauthorized { root, .. } => {
            let base = if *root {
                "unauthorized: the root user (critical)"
            } else {
                "unauthorized"
            };
            match finding.map(|f| (f.disposition(), f)) {
                Some((Disposition::Approved, f)) => match f.approval() {
                    Some(approval) => format!("{base}; approved, ticket {}", approval.ticket),
                    None => format!("{base}; approved"),
                },
                Some((Disposition::Waived, f)) => match f.waiver() {
                    Some(waiver) => format!("{base}; waived: {}", waiver.justification()),
                    None => format!("{base}; waived"),
                },
                Some((Disposition::Known, _)) => format!("{base}; known from the baseline"),
                _ => base.to_owned(),
            }
        }
        // Why is in the call's column.
        Authorization::Unattributed { .. } => "undecided: unattributed".to_owned(),
        Authorization::NotHistory => "not judged".to_owned(),
    }
}

/// The change log: every change of a history in the report, per resource (by account, region
/// and address), each with who made it and how it stands.
fn change_log<'a>(report: &'a Report, cx: &EmitContext<'a>) -> Vec<ChangedResource<'a>> {
    // The findings of each resource that is a change of a history.
    let mut by_resource: BTreeMap<usize, Vec<&'a Finding>> = BTreeMap::new();
    for finding in &report.findings {
        by_resource
            .entry(finding.resource)
            .or_default()
            .push(finding);
    }
    let mut out: BTreeMap<(String, String), ChangedResource<'a>> = BTreeMap::new();
    for (index, resource) in report.resources.resources.iter().enumerate() {
        let Some(change) = resource.change.as_ref() else {
            continue;
        };
        let Some(recorded) = change.recorded_at.as_deref() else {
            continue;
        };
        let findings = by_resource.get(&index).map_or(&[][..], Vec::as_slice);
        let judged = report
            .authorizations
            .range((index, 0)..(index + 1, 0))
            .next();
        let authorized = match judged {
            Some(((_, policy), decision)) => {
                let finding = findings.iter().copied().find(|f| f.policy == *policy);
                standing(decision, finding)
            }
            None => "not judged (no policy in use judges who made changes)".to_owned(),
        };
        let mut weakened: Vec<(&'a Policy, &'static str)> = findings
            .iter()
            .filter(|f| f.status() == Status::Fail)
            .filter_map(|f| Some((cx.catalog.get(f.policy)?, f)))
            .filter(|(p, _)| p.category == Category::ChangeControl && !p.judges_authorization())
            .map(|(p, f)| (p, disposition_word(f.disposition())))
            .collect();
        weakened.sort_by(|a, b| a.0.id.cmp(&b.0.id));
        let attribution = change.attribution.as_deref();
        let entry = ChangeEntry {
            recorded,
            kind: change.actions.kind().as_str(),
            events: attribution.map_or(&[][..], |a| a.events.as_slice()),
            unattributed: attribution
                .and_then(|a| a.unattributed.as_deref())
                .or(attribution
                    .is_none()
                    .then_some("the history carries no attribution")),
            authorized,
            weakened,
        };
        let label = group_label(resource, cx);
        out.entry((label.clone(), resource.address.clone()))
            .or_insert_with(|| ChangedResource {
                resource,
                label,
                changes: Vec::new(),
            })
            .changes
            .push(entry);
    }
    let mut out: Vec<ChangedResource<'a>> = out.into_values().collect();
    for resource in &mut out {
        resource.changes.sort_by(|a, b| a.recorded.cmp(b.recorded));
    }
    out
}

/// How a finding stands, in a word, for the change log.
fn disposition_word(disposition: Disposition) -> &'static str {
    match disposition {
        Disposition::Fail => "fail",
        Disposition::Known => "fail, known from the baseline",
        Disposition::Review => "undecided",
        Disposition::Waived => "waived",
        Disposition::Approved => "approved",
        Disposition::Error => "error",
        Disposition::Pass => "pass",
    }
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
pub(super) const STATES: [ControlState; 5] = [
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
pub(super) fn group_label(resource: &Resource, cx: &EmitContext<'_>) -> String {
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
            changes: change_log(report, cx),
        }
    }

    /// Whether the report covers less than it was asked to (unreadable inputs, failed pulls,
    /// evaluation errors).
    pub fn is_incomplete(&self) -> bool {
        !self.errors.is_empty() || !self.evaluation_errors.is_empty()
    }
}

/// The human name of a control state, capitalised for a badge.
pub(super) fn state_label(state: ControlState) -> &'static str {
    match state {
        ControlState::Failed => "Failed",
        ControlState::Review => "Needs review",
        ControlState::Passed => "Passed",
        ControlState::NoResources => "No resources in scope",
        ControlState::NotAssessed => "Not assessed automatically",
    }
}

/// What a state means, for the legend.
pub(super) fn state_meaning(state: ControlState) -> &'static str {
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
