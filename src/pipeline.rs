//! The one path from loaded resources to a report, which every command (`scan`, `diff`,
//! `audit`, `baseline create`), the tests and the fuzz harness take:
//!
//! ```text
//! evaluate ──▶ triage (criticality, approvals, waivers, inline ignores) ──▶ sort ──▶ baseline ──▶ --min-severity ──▶ links
//! ```
//!
//! Each finding's [`crate::findings::Disposition`] is settled by the time the report is
//! returned; emitters and the gate only read it.

use crate::config::Config;
use crate::findings::baseline::Baseline;
use crate::findings::{ErrorRecord, Fingerprints, Paths, Report, triage};
use crate::model::ResourceSet;
use crate::policy::{Catalog, Severity};

/// What was loaded.
#[derive(Debug, Default)]
pub struct Inputs {
    pub resources: ResourceSet,
    /// Inputs (or parts of them) that could not be read.
    pub errors: Vec<ErrorRecord>,
    /// Input files read.
    pub files: usize,
    /// Where they are: findings of plans are told apart by the plan's repository-relative path.
    pub paths: Paths,
}

/// How the findings are judged besides the policies.
#[derive(Debug, Clone, Copy, Default)]
pub struct Judgement<'a> {
    /// The baseline to compare with, and its name as the user gave it.
    pub baseline: Option<(&'a str, &'a Baseline)>,
    /// `--min-severity`.
    pub min_severity: Option<Severity>,
}

/// Evaluates `catalog` over the inputs and judges the findings: the report every output is
/// written from.
pub fn report(
    catalog: &Catalog,
    config: &Config,
    inputs: Inputs,
    judgement: Judgement<'_>,
) -> Report {
    let evaluation = crate::eval::evaluate(catalog, config, &inputs.resources);
    let mut errors = inputs.errors;
    errors.extend(evaluation.errors);
    let fingerprints = Fingerprints::new(&inputs.resources, &inputs.paths);
    let mut report = Report {
        fingerprints,
        resources: inputs.resources,
        findings: evaluation.findings,
        passes: evaluation.passes,
        errors,
        warnings: Vec::new(),
        files: inputs.files,
        evaluated: evaluation.evaluated,
        baseline: None,
        filter: None,
        links: Default::default(),
        authorizations: evaluation
            .authorizations
            .into_iter()
            .map(|(resource, policy, decision)| ((resource, policy), decision))
            .collect(),
    };
    triage(&mut report, catalog, config, evaluation.tags);
    report.sort(catalog);
    if let Some((name, baseline)) = judgement.baseline {
        baseline.apply(&mut report, catalog, name);
    }
    if let Some(min) = judgement.min_severity {
        report.retain_at_least(min);
    }
    report.link(catalog);
    report
}
