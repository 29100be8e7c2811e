//! Findings and the report: the only thing emitters see.

pub mod baseline;
pub mod compliance;
mod disposition;
mod evidence;
mod fingerprint;
mod triage;

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::Serialize;

pub use crate::model::Criticality;
pub use disposition::{ControlEffect, Disposition};
pub use evidence::Evidence;
pub use fingerprint::{Fingerprints, Paths};
pub use triage::{approval_of, triage};

use crate::model::{Resource, ResourceSet};
use crate::policy::{Catalog, PolicyIndex, Severity};

/// The status of a non-passing result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The resource fails the policy.
    Fail,
    /// Undecided: the decision depends on a value known only after apply (SARIF `review`).
    Review,
    /// The policy could not be evaluated on this resource (a type error, or a bug).
    Error,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Fail => "fail",
            Status::Review => "review",
            Status::Error => "error",
        }
    }
}

/// One non-passing result of a policy on a resource.
///
/// What the policy said (`status`) and what accepts the result (approval, waiver, baseline)
/// are set only through [`Finding::new`], [`triage`] and [`baseline::Baseline::apply`], each of
/// which decides the [`Disposition`] again; every reader takes [`Finding::disposition`].
#[derive(Debug, Clone)]
pub struct Finding {
    pub policy: PolicyIndex,
    /// Index into the report's resources.
    pub resource: usize,
    status: Status,
    disposition: Disposition,
    /// The effective severity (the policy's, unless the config overrides it).
    pub severity: Severity,
    /// Risk-based priority, 0–100: severity of the weakness × criticality of the asset.
    pub priority: u8,
    pub message: String,
    pub evidence: Vec<Evidence>,
    /// How critical the asset is, when a tag or a configuration rule says so.
    pub criticality: Option<Criticality>,
    /// A change-control finding whose change is approved.
    /// Boxed, as is `waiver`: both are rare, and a finding is kept for every failing
    /// (resource, policy) pair (tens of thousands at 100k resources).
    approval: Option<Box<Approval>>,
    /// The waiver that covers this finding, active or expired.
    waiver: Option<Box<Waiver>>,
    /// Against a baseline (`scan --baseline`): whether the finding is new or already known.
    /// `None` when no baseline is in use.
    baseline: Option<BaselineState>,
}

impl Finding {
    /// A result as the policy gave it, before triage and the baseline.
    pub fn new(
        policy: PolicyIndex,
        resource: usize,
        status: Status,
        severity: Severity,
        message: String,
        evidence: Vec<Evidence>,
    ) -> Finding {
        Finding {
            policy,
            resource,
            status,
            disposition: Disposition::decide(status, false, false, None),
            severity,
            priority: base_priority(severity),
            message,
            evidence,
            criticality: None,
            approval: None,
            waiver: None,
            baseline: None,
        }
    }

    /// What the policy said.
    pub fn status(&self) -> Status {
        self.status
    }

    /// What the result means for the gate and every output.
    pub fn disposition(&self) -> Disposition {
        self.disposition
    }

    /// The approval of the change, when it is approved.
    pub fn approval(&self) -> Option<&Approval> {
        self.approval.as_deref()
    }

    /// The waiver that matches the finding, active or expired.
    pub fn waiver(&self) -> Option<&Waiver> {
        self.waiver.as_deref()
    }

    /// A waiver that matched but has expired: the finding is reported again, and so is the
    /// waiver.
    pub fn expired_waiver(&self) -> Option<&Waiver> {
        self.waiver().filter(|w| w.expired)
    }

    /// New or known, when a baseline is in use.
    pub fn baseline(&self) -> Option<BaselineState> {
        self.baseline
    }

    /// Records what accepts the finding (triage), and decides again.
    pub(crate) fn accept(&mut self, approval: Option<Approval>, waiver: Option<Waiver>) {
        self.approval = approval.map(Box::new);
        self.waiver = waiver.map(Box::new);
        self.decide();
    }

    /// Records the comparison with the baseline, and decides again.
    pub(crate) fn compare(&mut self, state: BaselineState) {
        self.baseline = Some(state);
        self.decide();
    }

    fn decide(&mut self) {
        self.disposition = Disposition::decide(
            self.status,
            self.approval.is_some(),
            self.waiver.as_ref().is_some_and(|w| !w.expired),
            self.baseline,
        );
    }
}

/// Where an approval came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "source", rename_all = "lowercase")]
pub enum ApprovalSource {
    /// A tag on the resource (its key).
    Tag { key: String },
    /// An entry under `approvals.changes` in the configuration file (file:line).
    Config { location: String },
}

/// An approved change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Approval {
    pub ticket: String,
    #[serde(flatten)]
    pub source: ApprovalSource,
}

/// A waiver that covers a finding: an entry in the configuration file, or an inline ignore in
/// the `.tf` source of its resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Waiver {
    pub reason: String,
    #[serde(flatten)]
    pub source: WaiverSource,
    /// Expiry date, `YYYY-MM-DD` (the waiver holds through that day).
    pub expires: String,
    pub expired: bool,
    /// `file:line` of the waiver.
    pub location: String,
}

/// Where a waiver is written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "source", rename_all = "lowercase")]
pub enum WaiverSource {
    /// `waivers:` in the configuration file, with who approved it and the ticket.
    Config {
        #[serde(rename = "approved-by")]
        approved_by: String,
        ticket: String,
    },
    /// A `resilix:ignore` comment on or above the resource's block (SARIF `inSource`), in
    /// this `.tf` file at this line (the `location`).
    Inline {
        #[serde(skip)]
        file: std::sync::Arc<str>,
        #[serde(skip)]
        line: usize,
    },
}

impl Waiver {
    /// The SARIF suppression justification: why, who, which ticket, until when.
    pub fn justification(&self) -> String {
        match &self.source {
            WaiverSource::Config {
                approved_by,
                ticket,
            } => format!(
                "{} (approved by {approved_by}, ticket {ticket}, expires {})",
                self.reason.trim(),
                self.expires
            ),
            WaiverSource::Inline { .. } => format!(
                "{} (resilix:ignore, expires {})",
                self.reason.trim(),
                self.expires
            ),
        }
    }

    /// SARIF `suppression.kind`: `inSource` for an inline ignore, `external` for the
    /// configuration file.
    pub fn sarif_kind(&self) -> &'static str {
        match self.source {
            WaiverSource::Config { .. } => "external",
            WaiverSource::Inline { .. } => "inSource",
        }
    }
}

/// A problem that does not stop the run, at its place in a source file: an inline ignore that
/// suppresses nothing (it has expired, or is not well formed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WarningRecord {
    pub file: String,
    pub line: usize,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

/// A finding compared with the baseline (SARIF `baselineState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BaselineState {
    /// Not in the baseline: it fails the gate as usual.
    New,
    /// In the baseline: reported as a note, never failing the gate.
    Unchanged,
}

impl BaselineState {
    pub fn as_str(self) -> &'static str {
        match self {
            BaselineState::New => "new",
            BaselineState::Unchanged => "unchanged",
        }
    }
}

/// A passing result, kept compact (there are many).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pass {
    pub policy: PolicyIndex,
    pub resource: usize,
}

/// A load or evaluation problem, as outputs record it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorRecord {
    pub file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    pub message: String,
}

/// The base priority of a severity before asset criticality is applied.
pub fn base_priority(severity: Severity) -> u8 {
    priority(severity, None)
}

/// Risk-based priority, 0–100: severity of the weakness × criticality of the asset.
///
/// An asset of unknown criticality counts as `medium`, whose column is the severity's base
/// priority (so a result's `security-severity`, priority / 10, equals its rule's). Each row and
/// each column strictly increases, and an exploitable exposure (critical) on an ordinary asset
/// still outranks a missing core protection (high) on a critical one:
///
/// | severity \ asset | low | medium | high | critical |
/// |---|---|---|---|---|
/// | critical | 75 | 95 | 98 | 100 |
/// | high     | 60 | 80 | 86 | 90  |
/// | medium   | 40 | 55 | 62 | 68  |
/// | low      | 10 | 20 | 24 | 28  |
/// | info     | 2  | 5  | 6  | 8   |
pub fn priority(severity: Severity, criticality: Option<Criticality>) -> u8 {
    let column = match criticality {
        Some(Criticality::Low) => 0,
        None | Some(Criticality::Medium) => 1,
        Some(Criticality::High) => 2,
        Some(Criticality::Critical) => 3,
    };
    let row: [u8; 4] = match severity {
        Severity::Critical => [75, 95, 98, 100],
        Severity::High => [60, 80, 86, 90],
        Severity::Medium => [40, 55, 62, 68],
        Severity::Low => [10, 20, 24, 28],
        Severity::Info => [2, 5, 6, 8],
    };
    row.get(column).copied().unwrap_or(0)
}

/// Everything one run found.
#[derive(Debug, Default)]
pub struct Report {
    pub resources: ResourceSet,
    /// Non-passing results, in output order (priority first).
    pub findings: Vec<Finding>,
    pub passes: Vec<Pass>,
    /// Inputs and resources that could not be read.
    pub errors: Vec<ErrorRecord>,
    /// Problems that do not stop the run (inline ignores that suppress nothing), in file order.
    pub warnings: Vec<WarningRecord>,
    /// Input files read.
    pub files: usize,
    /// Resources that met at least one policy.
    pub evaluated: usize,
    /// The baseline the findings were compared with (`scan --baseline`).
    pub baseline: Option<baseline::Comparison>,
    /// Findings left out by `--min-severity`.
    pub filter: Option<SeverityFilter>,
    /// Which finding is which across runs (the inputs' repository-relative names).
    pub fingerprints: Fingerprints,
    /// Findings that are about one change, both ways: an unauthorized change and what the
    /// same change weakened ([`Report::link`]). By (resource, policy) — a finding's identity
    /// in the run — to the other policies' findings on the same resource.
    pub links: BTreeMap<(usize, PolicyIndex), Vec<PolicyIndex>>,
    /// Whether each change of a history was authorized, and by what, as the policies that
    /// judge it decided ([`crate::eval::authorization`]), passes included: by (resource, policy).
    pub authorizations: BTreeMap<(usize, PolicyIndex), crate::eval::authorization::Authorization>,
}

/// `--min-severity`: failing and undecided findings below it are left out of every output and
/// of the gate (evaluation errors always stay).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeverityFilter {
    pub min: Severity,
    /// How many findings were left out.
    pub hidden: usize,
}

impl Report {
    pub fn resource(&self, finding: &Finding) -> Option<&Resource> {
        self.resources.get(finding.resource)
    }

    /// The fingerprint of `policy_id`'s result on `resource` ([`Fingerprints::of`]).
    pub fn fingerprint(&self, policy_id: &str, resource: &Resource) -> String {
        self.fingerprints.of(policy_id, resource)
    }

    /// Sorts findings into the one order every output uses: priority, severity, status, policy,
    /// resource identity, then place in the input.
    pub fn sort(&mut self, catalog: &Catalog) {
        debug_assert!(catalog.policies.is_sorted_by(|a, b| a.id < b.id));
        let resources = &self.resources;
        let key = |f: &Finding| {
            let resource = resources.get(f.resource);
            (
                // The catalog is sorted by id: its index orders policies as their ids do.
                f.policy,
                resource.map(Resource::identity).unwrap_or_default(),
                resource.and_then(|r| r.origin.file_name()),
                resource.and_then(|r| r.origin.offset),
            )
        };
        // Keys are built (identities are strings) and sorted in parallel; the order is total,
        // so the result does not depend on the thread count.
        let mut keyed: Vec<_> = std::mem::take(&mut self.findings)
            .into_par_iter()
            .map(|f| (key(&f), f))
            .collect();
        keyed.par_sort_by(|(ka, a), (kb, b)| {
            b.priority
                .cmp(&a.priority)
                .then(b.severity.cmp(&a.severity))
                .then(a.status.cmp(&b.status))
                .then_with(|| ka.cmp(kb))
                .then(a.resource.cmp(&b.resource))
        });
        self.findings = keyed.into_iter().map(|(_, f)| f).collect();
        self.passes.par_sort_unstable();
    }

    /// Links each failure of a policy that judges whether a change was authorized
    /// (`change.unauthorized`) with the other failing change-control findings of the same
    /// change — what the unauthorized change weakened, widened or destroyed — both ways. A
    /// change of a history is one resource, so the findings of one change share their
    /// resource. Made once the findings are final (after the baseline and `--min-severity`).
    pub fn link(&mut self, catalog: &Catalog) {
        let mut by_resource: BTreeMap<usize, Vec<(PolicyIndex, bool)>> = BTreeMap::new();
        for finding in &self.findings {
            let Some(policy) = catalog.get(finding.policy) else {
                continue;
            };
            if finding.status != Status::Fail
                || policy.category != crate::policy::Category::ChangeControl
            {
                continue;
            }
            by_resource
                .entry(finding.resource)
                .or_default()
                .push((finding.policy, policy.judges_authorization()));
        }
        let mut links: BTreeMap<(usize, PolicyIndex), Vec<PolicyIndex>> = BTreeMap::new();
        for (&resource, group) in &by_resource {
            for &(judge, _) in group.iter().filter(|(_, judges)| *judges) {
                for &(other, _) in group.iter().filter(|(_, judges)| !*judges) {
                    links.entry((resource, judge)).or_default().push(other);
                    links.entry((resource, other)).or_default().push(judge);
                }
            }
        }
        for list in links.values_mut() {
            list.sort_unstable();
            list.dedup();
        }
        self.links = links;
    }

    /// The policies whose findings on the same resource are linked to `finding`
    /// ([`Report::link`]), in catalog order.
    pub fn related(&self, finding: &Finding) -> &[PolicyIndex] {
        self.links
            .get(&(finding.resource, finding.policy))
            .map_or(&[], Vec::as_slice)
    }

    /// Failing findings at or above `threshold` (`None`: never fail): the findings that fail the
    /// gate ([`Disposition::Fail`]; approved, waived and known findings never do).
    pub fn failing(&self, threshold: Option<Severity>) -> usize {
        threshold.map_or(0, |t| {
            self.findings
                .iter()
                .filter(|f| f.disposition == Disposition::Fail && f.severity >= t)
                .count()
        })
    }

    /// Leaves out failing and undecided findings below `min` (`--min-severity`).
    pub fn retain_at_least(&mut self, min: Severity) {
        let before = self.findings.len();
        self.findings
            .retain(|f| f.disposition == Disposition::Error || f.severity >= min);
        self.filter = Some(SeverityFilter {
            min,
            hidden: before - self.findings.len(),
        });
    }

    /// Results of this disposition (passes included).
    pub fn count(&self, disposition: Disposition) -> usize {
        match disposition {
            Disposition::Pass => self.passes.len(),
            _ => self
                .findings
                .iter()
                .filter(|f| f.disposition == disposition)
                .count(),
        }
    }

    /// Failing findings ([`Disposition::Fail`]) of this severity.
    pub fn count_severity(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.disposition == Disposition::Fail && f.severity == severity)
            .count()
    }

    /// Everything that went wrong: inputs that could not be read and results that could not be
    /// evaluated. Any of them makes the run exit 2.
    pub fn error_count(&self) -> usize {
        self.errors.len() + self.count(Disposition::Error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A finding is kept for every failing (resource, policy) pair: its disposition fits in
    /// the padding of the fields it had (88 bytes on 64-bit targets).
    #[test]
    fn findings_stay_small() {
        assert!(
            std::mem::size_of::<Finding>() <= 88,
            "{}",
            std::mem::size_of::<Finding>()
        );
    }
}
