//! Policies: the YAML model, its compiler and the catalog.
//!
//! A policy file is parsed into a spanned YAML tree ([`yaml`]), compiled into a checked, typed
//! [`Policy`] ([`compile`]) with every JSONPath selector and regex compiled once, and collected
//! into a [`Catalog`] indexed by input kind and resource type. All problems in all policy files
//! are reported together, each pointing at its line, before anything is evaluated.

mod builtin;
mod catalog;
pub mod compile;
mod condition;
pub mod defaults;
mod error;
pub mod selector;
pub mod yaml;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

pub use catalog::{Catalog, CatalogOptions, PolicyIndex};
pub use condition::{
    Comparison, Condition, EachCheck, MatchRegex, Operator, Quantifier, RelatedCheck, Transition,
    TransitionCheck, ValueCheck, ValueTest, Widening,
};
pub use defaults::{Outcome, RelatedDefault, SettingDefault, Unset};
pub use error::{PolicyError, PolicyErrors};

use crate::model::SourceKind;
use crate::source::SourceFile;

/// How bad a weakness is (DESIGN §5), highest first in ordering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Info => "info",
        }
    }

    pub fn parse(text: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// GitHub's `security-severity` score for the policy's base severity.
    pub fn score(self) -> f64 {
        match self {
            Severity::Critical => 9.5,
            Severity::High => 8.0,
            Severity::Medium => 5.5,
            Severity::Low => 2.0,
            Severity::Info => 0.5,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a policy protects (DESIGN §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    Hardening,
    DataProtection,
    Detection,
    Continuity,
    Identity,
    Network,
    Legacy,
    ChangeControl,
}

impl Category {
    pub const ALL: [Category; 8] = [
        Category::Hardening,
        Category::DataProtection,
        Category::Detection,
        Category::Continuity,
        Category::Identity,
        Category::Network,
        Category::Legacy,
        Category::ChangeControl,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Hardening => "hardening",
            Category::DataProtection => "data-protection",
            Category::Detection => "detection",
            Category::Continuity => "continuity",
            Category::Identity => "identity",
            Category::Network => "network",
            Category::Legacy => "legacy",
            Category::ChangeControl => "change-control",
        }
    }

    pub fn parse(text: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == text)
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Lifecycle of a policy ID: IDs are forever; a policy is deprecated, never deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PolicyStatus {
    Stable,
    Preview,
    Deprecated,
}

/// The frameworks every policy must map to. Others are optional: `aws-fsbp` (the Security Hub
/// control a policy implements) and `cis-aws-<version>`.
pub const REQUIRED_FRAMEWORKS: [&str; 3] = ["nist-800-53-r5", "iso-17799-2005", "cobit-4.1"];

/// Where a framework list that is not `derived` was copied from (`sources:` in the policy), so
/// that the claim is checked: the policy's list must be the published list, less `exclude`,
/// plus `add`, each difference with its reason.
#[derive(Debug, Clone, Serialize)]
pub struct ControlSource {
    pub from: SourceRef,
    /// The list as the source publishes it.
    pub published: Vec<String>,
    /// Published IDs the policy does not map to, with the reason (ID → reason).
    pub exclude: BTreeMap<String, String>,
    /// IDs the policy maps to beyond the published list, with the reason (ID → reason).
    pub add: BTreeMap<String, String>,
}

impl ControlSource {
    /// The list the policy must map: the published one, less `exclude`, plus `add`.
    pub fn expected(&self) -> std::collections::BTreeSet<&str> {
        self.published
            .iter()
            .map(String::as_str)
            .filter(|id| !self.exclude.contains_key(*id))
            .chain(self.add.keys().map(String::as_str))
            .collect()
    }
}

/// A published mapping a policy's framework list copies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceRef {
    /// A Security Hub control's "Related requirements", e.g. `Redshift.10`.
    SecurityHub(String),
    /// An AWS Config managed rule as a conformance pack maps it (for NIST 800-53 r5: the
    /// "Operational Best Practices for NIST 800-53 rev 5" pack), e.g. `backup-plan-min-frequency-and-min-retention-check`.
    ConfigRule(String),
}

impl fmt::Display for SourceRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceRef::SecurityHub(id) => write!(f, "Security Hub {id}"),
            SourceRef::ConfigRule(rule) => write!(f, "AWS Config rule {rule}"),
        }
    }
}

/// How to fix what a policy finds.
#[derive(Debug, Clone, Serialize)]
pub struct Remediation {
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub terraform: Option<String>,
}

/// A parameter a config file can override.
#[derive(Debug, Clone, Serialize)]
pub struct Param {
    pub description: String,
    pub default: Value,
    /// The value in effect (the default unless overridden).
    pub value: Value,
}

/// Which resources a target sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scope {
    /// Resources as they are (or will be): objects that exist after the change and are
    /// recorded. Hardening policies.
    #[default]
    Resources,
    /// Every change: creates, updates, replacements, deletions, forgets and drift of plans,
    /// and the created, modified and deleted items of `resilix diff`. Change-control policies.
    Changes,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Resources => "resources",
            Scope::Changes => "changes",
        }
    }

    /// Whether a target of this scope evaluates the resource.
    pub fn admits(self, resource: &crate::model::Resource) -> bool {
        match self {
            Scope::Resources => resource.is_evaluable(),
            Scope::Changes => resource.is_change(),
        }
    }
}

/// What a policy checks on one input kind.
#[derive(Debug, Clone)]
pub struct Target {
    pub kind: SourceKind,
    /// `scope: changes` targets see every change, including objects that are deleted.
    pub scope: Scope,
    pub types: Vec<String>,
    /// Applicability: when this does not hold, the policy does not apply to the resource.
    pub when: Option<Condition>,
    pub assert: Condition,
    /// What happens to each judged setting the configuration leaves out (`defaults:`).
    pub defaults: Vec<SettingDefault>,
}

impl Target {
    /// Every condition evaluating the target can read: `assert`, `when`, and what its
    /// defaults read (the settings, the relations and the related settings).
    pub fn conditions(&self) -> impl Iterator<Item = &Condition> {
        std::iter::once(&self.assert)
            .chain(self.when.as_ref())
            .chain(self.defaults.iter().map(|d| &d.reads))
    }
}

/// An inline test case (`resilix policies test`).
#[derive(Debug, Clone)]
pub struct TestCase {
    pub name: String,
    pub kind: SourceKind,
    /// The input, as JSON: for `terraform`, a map of address → values; for `aws-config`, a list
    /// of configuration items.
    pub input: Value,
    /// `changes-since`: the `aws-config` items are a history whose changes since this time
    /// (RFC 3339) are judged.
    pub changes_since: Option<String>,
    /// Expected status per resource address (or resource id).
    pub expect: BTreeMap<String, String>,
    pub span: yaml::Span,
}

/// Where a policy came from.
#[derive(Debug, Clone)]
pub struct PolicyOrigin {
    pub file: Arc<SourceFile>,
    /// Built into the binary (the file name is then relative to `policies/`).
    pub builtin: bool,
}

/// A compiled policy.
#[derive(Debug, Clone)]
pub struct Policy {
    pub id: String,
    pub title: String,
    pub severity: Severity,
    pub category: Category,
    pub status: PolicyStatus,
    /// On by default. Opinionated checks (replication, tracing, customer managed keys where
    /// the AWS managed key is a sound default) are off until a configuration enables them.
    pub enabled: bool,
    pub description: String,
    pub rationale: String,
    pub remediation: Remediation,
    pub message: String,
    pub references: Vec<String>,
    /// Framework → control IDs, in framework order.
    pub controls: BTreeMap<String, Vec<String>>,
    /// Frameworks whose picks are our judgement (no published mapping).
    pub derived: Vec<String>,
    /// Framework → the published mapping its list copies (frameworks not `derived`).
    pub sources: BTreeMap<String, ControlSource>,
    pub params: BTreeMap<String, Param>,
    pub targets: Vec<Target>,
    pub tests: Vec<TestCase>,
    pub origin: PolicyOrigin,
}

impl Policy {
    /// Whether the policy judges who made a change and whether that was authorized
    /// (`authorized:`), rather than what the change does: its failures are linked to what the
    /// same change weakened ([`crate::findings::Report::link`]).
    pub fn judges_authorization(&self) -> bool {
        self.targets.iter().any(|t| {
            t.assert.judges_authorization()
                || t.when.as_ref().is_some_and(Condition::judges_authorization)
        })
    }

    /// The target that checks resources of this kind and type: the one that names the type,
    /// else the first whose type pattern (`aws_*`) matches it.
    pub fn target(&self, kind: SourceKind, type_name: &str) -> Option<&Target> {
        let of_kind = || self.targets.iter().filter(move |t| t.kind == kind);
        of_kind()
            .find(|t| t.types.iter().any(|t| t == type_name))
            .or_else(|| {
                of_kind().find(|t| {
                    t.types.iter().any(|t| {
                        t.contains('*') && crate::pattern::Pattern::new(t).matches(type_name)
                    })
                })
            })
    }

    /// The resource types the policy checks, per input kind.
    pub fn types_by_kind(&self) -> BTreeMap<SourceKind, Vec<&str>> {
        let mut by_kind: BTreeMap<SourceKind, Vec<&str>> = BTreeMap::new();
        for target in &self.targets {
            by_kind
                .entry(target.kind)
                .or_default()
                .extend(target.types.iter().map(String::as_str));
        }
        by_kind
    }

    /// Whether the policy has a target for this input kind.
    pub fn targets_kind(&self, kind: SourceKind) -> bool {
        self.targets.iter().any(|t| t.kind == kind)
    }
}
