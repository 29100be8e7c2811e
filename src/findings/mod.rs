//! Findings and the report: the only thing emitters see.

pub mod baseline;
pub mod compliance;

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
    /// Against a baseline (`scan --baseline`): whether the finding is new or already known.
    /// `None` when no baseline is in use.
    pub baseline: Option<BaselineState>,
}

impl Finding {
    /// A failing or undecided finding recorded in the baseline: shown, never gating.
    pub fn is_known(&self) -> bool {
        self.baseline == Some(BaselineState::Unchanged)
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
    match severity {
        Severity::Critical => 95,
        Severity::High => 80,
        Severity::Medium => 55,
        Severity::Low => 20,
        Severity::Info => 5,
    }
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
        let resources = &self.resources;
        let key = |f: &Finding| {
            let policy = catalog.get(f.policy).map_or("", |p| p.id.as_str());
            let resource = resources.get(f.resource);
            (
                policy,
                resource.map(Resource::identity).unwrap_or_default(),
                resource.and_then(|r| r.origin.file_name().map(str::to_owned)),
                resource.and_then(|r| r.origin.offset),
            )
        };
        let mut keyed: Vec<_> = std::mem::take(&mut self.findings)
            .into_iter()
            .map(|f| (key(&f), f))
            .collect();
        keyed.sort_by(|(ka, a), (kb, b)| {
            b.priority
                .cmp(&a.priority)
                .then(b.severity.cmp(&a.severity))
                .then(a.status.cmp(&b.status))
                .then_with(|| ka.cmp(kb))
                .then(a.resource.cmp(&b.resource))
        });
        self.findings = keyed.into_iter().map(|(_, f)| f).collect();
        self.passes.sort_unstable();
    }

    /// Failing findings at or above `threshold` (`None`: never fail), leaving out those known
    /// from the baseline: the findings that fail the gate.
    pub fn failing(&self, threshold: Option<Severity>) -> usize {
        threshold.map_or(0, |t| {
            self.findings
                .iter()
                .filter(|f| f.status == Status::Fail && f.severity >= t && !f.is_known())
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

    pub fn count(&self, status: Status) -> usize {
        self.findings.iter().filter(|f| f.status == status).count()
    }

    pub fn count_severity(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.status == Status::Fail && f.severity == severity)
            .count()
    }
}
