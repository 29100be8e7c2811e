//! Baselines: the findings a team has accepted for now, so a scan fails only on new ones.
//!
//! `resilix baseline create` records today's failing and undecided findings by fingerprint
//! (policy + resource identity, never file or line, so moving code does not make a finding
//! new). `scan --baseline FILE` marks the findings found there as known: still reported (SARIF
//! `note` with `baselineState: unchanged`), never failing the gate. The file format is read in
//! `input::baseline` and written in `emit::baseline`.

use std::collections::BTreeSet;

use super::{BaselineState, Report, Status, fingerprint};
use crate::policy::Catalog;

/// One accepted finding.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct BaselineEntry {
    /// What findings are matched by.
    pub fingerprint: String,
    /// For people reading the file.
    pub policy: String,
    pub resource: String,
}

/// A set of accepted findings, sorted by fingerprint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Baseline {
    pub entries: Vec<BaselineEntry>,
}

/// How a report compares with the baseline it was checked against.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Comparison {
    /// The baseline file, as the user named it.
    pub file: String,
    /// Findings of this run found in the baseline.
    pub unchanged: usize,
    /// Findings of this run not in the baseline.
    pub new: usize,
    /// Baseline entries no finding of this run matched: fixed (or no longer scanned).
    pub absent: usize,
}

impl Baseline {
    /// The failing and undecided findings of a report (evaluation errors are not accepted:
    /// they are reported until fixed).
    pub fn from_report(report: &Report, catalog: &Catalog) -> Baseline {
        let entries: BTreeSet<BaselineEntry> = report
            .findings
            .iter()
            .filter(|f| f.status != Status::Error)
            .filter_map(|f| {
                let policy = catalog.get(f.policy)?;
                let resource = report.resource(f)?;
                Some(BaselineEntry {
                    fingerprint: fingerprint(&policy.id, resource),
                    policy: policy.id.clone(),
                    resource: resource.identity(),
                })
            })
            .collect();
        Baseline {
            entries: entries.into_iter().collect(),
        }
    }

    /// Marks every finding of `report` as new or unchanged, and records the comparison.
    pub fn apply(&self, report: &mut Report, catalog: &Catalog, file: &str) {
        let known: BTreeSet<&str> = self
            .entries
            .iter()
            .map(|e| e.fingerprint.as_str())
            .collect();
        let mut matched: BTreeSet<String> = BTreeSet::new();
        let (mut unchanged, mut new) = (0, 0);
        let resources = &report.resources;
        for finding in &mut report.findings {
            if finding.status == Status::Error {
                continue;
            }
            let print = catalog
                .get(finding.policy)
                .zip(resources.get(finding.resource))
                .map(|(policy, resource)| fingerprint(&policy.id, resource));
            let state = match print {
                Some(print) if known.contains(print.as_str()) => {
                    matched.insert(print);
                    unchanged += 1;
                    BaselineState::Unchanged
                }
                _ => {
                    new += 1;
                    BaselineState::New
                }
            };
            finding.baseline = Some(state);
        }
        report.baseline = Some(Comparison {
            file: file.to_owned(),
            unchanged,
            new,
            absent: known.len().saturating_sub(matched.len()),
        });
    }
}
