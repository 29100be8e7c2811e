//! Per-framework control status: which controls the run assessed, passed and failed.
//!
//! A control is *failed* when a policy mapped to it failed on some resource (a finding known from
//! the baseline included: see [`super::Disposition::control_effect`]), *passed* when its policies
//! checked resources and none failed (waived and approved findings are accepted exceptions), *no resources* when policies exist but nothing in
//! the inputs was of their types, and *not assessed* when no built-in or user policy maps to it
//! (it needs a manual or procedural check). Emitters (Markdown summary, the auditor's report)
//! render this; they do not compute it.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::{ControlEffect, Report};
use crate::frameworks::{self, Control, Framework};
use crate::policy::{Catalog, PolicyIndex};

/// The state of one control in one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ControlState {
    Failed,
    /// Some results are undecided (values known only after apply) and none failed.
    Review,
    Passed,
    /// Policies map to the control, but no resource of their types was in the inputs.
    NoResources,
    /// No policy maps to the control: it is not assessed automatically.
    NotAssessed,
}

impl ControlState {
    pub fn as_str(self) -> &'static str {
        match self {
            ControlState::Failed => "failed",
            ControlState::Review => "review",
            ControlState::Passed => "passed",
            ControlState::NoResources => "no resources",
            ControlState::NotAssessed => "not assessed",
        }
    }
}

/// One control's status.
#[derive(Debug, Clone)]
pub struct ControlStatus {
    pub control: &'static Control,
    pub state: ControlState,
    /// Policies mapped to this control (that are in the catalog).
    pub policies: Vec<PolicyIndex>,
    /// Indexes into `report.findings` of failing findings (known ones included).
    pub failing: Vec<usize>,
    /// Indexes into `report.findings` of undecided findings.
    pub review: Vec<usize>,
    /// Indexes into `report.findings` of accepted exceptions (waived, approved).
    pub accepted: Vec<usize>,
    /// Passing (policy, resource) results.
    pub passed: usize,
}

/// All controls of one framework.
#[derive(Debug, Clone)]
pub struct FrameworkStatus {
    pub framework: &'static Framework,
    pub controls: Vec<ControlStatus>,
}

impl FrameworkStatus {
    pub fn count(&self, state: ControlState) -> usize {
        self.controls.iter().filter(|c| c.state == state).count()
    }

    /// Controls at least one policy maps to.
    pub fn covered(&self) -> usize {
        self.controls
            .iter()
            .filter(|c| !c.policies.is_empty())
            .count()
    }
}

/// The status of every control of `framework_id` in this report; `None` for an unknown id.
pub fn framework_status(
    report: &Report,
    catalog: &Catalog,
    framework_id: &str,
) -> Option<FrameworkStatus> {
    let framework = frameworks::get(framework_id)?;
    let mut by_control: BTreeMap<&str, BTreeSet<PolicyIndex>> = BTreeMap::new();
    for (index, policy) in catalog.policies.iter().enumerate() {
        for id in policy.controls.get(framework_id).into_iter().flatten() {
            by_control.entry(id.as_str()).or_default().insert(index);
        }
    }
    let mut passes: BTreeMap<PolicyIndex, usize> = BTreeMap::new();
    for pass in &report.passes {
        *passes.entry(pass.policy).or_default() += 1;
    }
    let mut findings: BTreeMap<PolicyIndex, Vec<usize>> = BTreeMap::new();
    for (index, finding) in report.findings.iter().enumerate() {
        findings.entry(finding.policy).or_default().push(index);
    }
    let controls = framework
        .controls
        .iter()
        .filter(|c| !c.withdrawn)
        .map(|control| {
            let policies: Vec<PolicyIndex> = by_control
                .get(control.id.as_str())
                .map(|s| s.iter().copied().collect())
                .unwrap_or_default();
            let mut failing = Vec::new();
            let mut review = Vec::new();
            let mut accepted = Vec::new();
            let mut passed = 0;
            for policy in &policies {
                passed += passes.get(policy).copied().unwrap_or(0);
                for &index in findings.get(policy).into_iter().flatten() {
                    let Some(disposition) = report.findings.get(index).map(|f| f.disposition())
                    else {
                        continue;
                    };
                    match disposition.control_effect() {
                        ControlEffect::Fails => failing.push(index),
                        ControlEffect::Review => review.push(index),
                        ControlEffect::None if disposition.is_accepted() => accepted.push(index),
                        ControlEffect::None | ControlEffect::Passes => {}
                    }
                }
            }
            let state = if policies.is_empty() {
                ControlState::NotAssessed
            } else if !failing.is_empty() {
                ControlState::Failed
            } else if !review.is_empty() {
                ControlState::Review
            } else if passed > 0 {
                ControlState::Passed
            } else {
                ControlState::NoResources
            };
            ControlStatus {
                control,
                state,
                policies,
                failing,
                review,
                accepted,
                passed,
            }
        })
        .collect();
    Some(FrameworkStatus {
        framework,
        controls,
    })
}
