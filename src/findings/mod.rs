//! Findings and the report: the only thing emitters see.

pub mod compliance;

use serde::Serialize;

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

    /// Failing findings at or above `threshold` (`None`: never fail).
    pub fn failing(&self, threshold: Option<Severity>) -> usize {
        threshold.map_or(0, |t| {
            self.findings
                .iter()
                .filter(|f| f.status == Status::Fail && f.severity >= t)
                .count()
        })
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
