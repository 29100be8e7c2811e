//! Findings and the report: the only thing emitters see.

pub mod baseline;
pub mod compliance;

use rayon::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::eval::Evidence;
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
#[derive(Debug, Clone)]
pub struct Finding {
    pub policy: PolicyIndex,
    /// Index into the report's resources.
    pub resource: usize,
    pub status: Status,
    /// The effective severity (the policy's, unless the config overrides it).
    pub severity: Severity,
    /// Risk-based priority, 0–100: severity of the weakness × criticality of the asset.
    pub priority: u8,
    pub message: String,
    pub evidence: Vec<Evidence>,
    /// How critical the asset is, when a tag or a configuration rule says so.
    pub criticality: Option<Criticality>,
    /// A change-control finding whose change is approved: reported as a note naming the ticket,
    /// never failing the gate.
    /// Boxed, as is `waiver`: both are rare, and a finding is kept for every failing
    /// (resource, policy) pair (tens of thousands at 100k resources).
    pub approval: Option<Box<Approval>>,
    /// The waiver that covers this finding. An active waiver suppresses it (it is still
    /// reported, with the justification, and does not fail the gate); an expired one does not.
    pub waiver: Option<Box<Waiver>>,
    /// Against a baseline (`scan --baseline`): whether the finding is new or already known.
    /// `None` when no baseline is in use.
    pub baseline: Option<BaselineState>,
}

impl Finding {
    /// Whether the finding counts against the gate and in the "failed" totals: a failure that
    /// is neither approved nor covered by an active waiver.
    pub fn is_open(&self) -> bool {
        self.approval.is_none() && self.waiver.as_ref().is_none_or(|w| w.expired)
    }

    /// Whether an active waiver suppresses it.
    pub fn is_waived(&self) -> bool {
        self.waiver.as_ref().is_some_and(|w| !w.expired)
    }

    /// A failing or undecided finding recorded in the baseline: shown, never gating.
    pub fn is_known(&self) -> bool {
        self.baseline == Some(BaselineState::Unchanged)
    }
}

/// How critical an asset is (tag `criticality`, or the configuration's rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Criticality {
    Low,
    Medium,
    High,
    Critical,
}

impl Criticality {
    pub const ALL: [Criticality; 4] = [
        Criticality::Low,
        Criticality::Medium,
        Criticality::High,
        Criticality::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Criticality::Low => "low",
            Criticality::Medium => "medium",
            Criticality::High => "high",
            Criticality::Critical => "critical",
        }
    }

    /// Parses a level, ignoring case and surrounding space (`High`, ` critical`).
    pub fn parse(text: &str) -> Option<Criticality> {
        let text = text.trim();
        Criticality::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(text))
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

/// A waiver from the configuration file that covers a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Waiver {
    pub reason: String,
    pub approved_by: String,
    pub ticket: String,
    /// Expiry date, `YYYY-MM-DD` (the waiver holds through that day).
    pub expires: String,
    pub expired: bool,
    /// `file:line` of the waiver.
    pub location: String,
}

impl Waiver {
    /// The SARIF suppression justification: why, who, which ticket, until when.
    pub fn justification(&self) -> String {
        format!(
            "{} (approved by {}, ticket {}, expires {})",
            self.reason.trim(),
            self.approved_by,
            self.ticket,
            self.expires
        )
    }
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

/// A fingerprint of a finding that depends only on the policy and the resource's identity
/// (not on file, line or run), so alerts stay the same alert across runs and baselines match.
pub fn fingerprint(policy_id: &str, resource: &Resource) -> String {
    let mut hasher = Sha256::new();
    hasher.update(policy_id.as_bytes());
    hasher.update([0]);
    hasher.update(resource.identity().as_bytes());
    let digest = hasher.finalize();
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
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
    /// Input files read.
    pub files: usize,
    /// Resources that met at least one policy.
    pub evaluated: usize,
    /// The baseline the findings were compared with (`scan --baseline`).
    pub baseline: Option<baseline::Comparison>,
    /// Findings left out by `--min-severity`.
    pub filter: Option<SeverityFilter>,
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

    /// Failing findings at or above `threshold` (`None`: never fail): the findings that fail the
    /// gate. Approved changes, waived findings and those known from the baseline do not count.
    pub fn failing(&self, threshold: Option<Severity>) -> usize {
        threshold.map_or(0, |t| {
            self.findings
                .iter()
                .filter(|f| {
                    f.status == Status::Fail && f.is_open() && !f.is_known() && f.severity >= t
                })
                .count()
        })
    }

    /// Leaves out failing and undecided findings below `min` (`--min-severity`).
    pub fn retain_at_least(&mut self, min: Severity) {
        let before = self.findings.len();
        self.findings
            .retain(|f| f.status == Status::Error || f.severity >= min);
        self.filter = Some(SeverityFilter {
            min,
            hidden: before - self.findings.len(),
        });
    }

    /// Findings with this status that are neither approved nor waived.
    pub fn count(&self, status: Status) -> usize {
        self.findings
            .iter()
            .filter(|f| f.status == status && f.is_open())
            .count()
    }

    /// Open failing findings of this severity.
    pub fn count_severity(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.status == Status::Fail && f.is_open() && f.severity == severity)
            .count()
    }

    /// Findings suppressed by an active waiver.
    pub fn count_waived(&self) -> usize {
        self.findings.iter().filter(|f| f.is_waived()).count()
    }

    /// Change-control findings whose change is approved.
    pub fn count_approved(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.approval.is_some())
            .count()
    }
}
