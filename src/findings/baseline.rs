//! Baselines: the findings a team has accepted for now, so a scan fails only on new ones.
//!
//! `resilix baseline create` records today's failing and undecided findings by fingerprint
//! (policy, resource identity and, for a plan, its repository-relative path; never the line, so
//! moving code does not make a finding new: see [`super::Fingerprints`]). `scan --baseline FILE` marks the findings found there as known: still reported (SARIF
//! `note` with `baselineState: unchanged`), never failing the gate.
//!
//! The file (`resilix/baseline/v2`), read by [`load`] and written by [`write`]:
//!
//! ```json
//! {
//!   "schema": "resilix/baseline/v2",
//!   "tool": {"name": "resilix", "version": "0.1.0"},
//!   "findings": [
//!     {"fingerprint": "5c0f…", "policy": "aws.s3.block-public-access", "resource": "aws_s3_bucket.logs", "input": "infra/prod/plan.json"}
//!   ]
//! }
//! ```
//!
//! Findings are matched by `fingerprint` alone; `policy`, `resource` and `input` (the plan, for
//! Terraform findings) are there for people reviewing the file. A `v1` file (whose fingerprints
//! did not say which plan a finding came from, so the same address in two plans matched one
//! entry) is refused with the command that recreates it. Unknown keys are ignored, so later versions can add fields. The file is
//! sorted and has no timestamps, so it diffs well under version control.

use std::collections::BTreeSet;
use std::io::{self, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{BaselineState, Report, Status};
use crate::input::{LoadError, read_source};
use crate::policy::Catalog;

/// The `schema` value of the baseline files this version reads and writes.
pub const SCHEMA: &str = "resilix/baseline/v2";

/// Baselines of earlier versions, refused with how to recreate them.
const OLD_SCHEMAS: &[&str] = &["resilix/baseline/v1"];

/// One accepted finding.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct BaselineEntry {
    /// What findings are matched by.
    pub fingerprint: String,
    /// For people reading the file.
    #[serde(default)]
    pub policy: String,
    #[serde(default)]
    pub resource: String,
    /// The plan a Terraform finding came from, relative to the repository root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
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
            .filter(|f| f.status() != Status::Error)
            .filter_map(|f| {
                let policy = catalog.get(f.policy)?;
                let resource = report.resource(f)?;
                Some(BaselineEntry {
                    fingerprint: report.fingerprint(&policy.id, resource),
                    policy: policy.id.clone(),
                    resource: resource.identity(),
                    input: report.fingerprints.input(resource).map(str::to_owned),
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
        let (resources, fingerprints) = (&report.resources, &report.fingerprints);
        for finding in &mut report.findings {
            if finding.status() == Status::Error {
                continue;
            }
            let print = catalog
                .get(finding.policy)
                .zip(resources.get(finding.resource))
                .map(|(policy, resource)| fingerprints.of(&policy.id, resource));
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
            finding.compare(state);
        }
        report.baseline = Some(Comparison {
            file: file.to_owned(),
            unchanged,
            new,
            absent: known.len().saturating_sub(matched.len()),
        });
    }
}

/// The file as written.
#[derive(Serialize)]
struct File<'a> {
    schema: &'static str,
    tool: Tool<'a>,
    findings: &'a [BaselineEntry],
}

#[derive(Serialize)]
struct Tool<'a> {
    name: &'static str,
    version: &'a str,
}

/// The file as read: only what matching needs.
#[derive(Deserialize)]
struct RawFile {
    #[serde(default)]
    schema: Option<String>,
    findings: Vec<BaselineEntry>,
}

/// Writes `baseline` as JSON.
pub fn write(out: &mut dyn Write, baseline: &Baseline, version: &str) -> io::Result<()> {
    let file = File {
        schema: SCHEMA,
        tool: Tool {
            name: "resilix",
            version,
        },
        findings: &baseline.entries,
    };
    serde_json::to_writer_pretty(&mut *out, &file).map_err(io::Error::other)?;
    writeln!(out)
}

/// Reads a baseline file; errors name the file and the line.
/// A baseline larger than `max_bytes` (`--max-input-size`) is refused.
pub fn load(path: &Path, max_bytes: u64) -> Result<Baseline, LoadError> {
    let file = read_source(path, max_bytes)?;
    let raw: RawFile = serde_json::from_str(file.text())
        .map_err(|error| LoadError::from_json(&file, 0, &error))?;
    let offset = file.text().find("\"schema\"").unwrap_or(0);
    if let Some(old) = raw.schema.as_deref().filter(|s| OLD_SCHEMAS.contains(s)) {
        return Err(LoadError::invalid_at(
            &file,
            offset,
            format!(
                "this baseline was written by an earlier resilix ({old}): its fingerprints do not say which input a finding came from, so the same address in two plans matched one entry"
            ),
            "an older baseline format",
            Some(format!(
                "recreate it from the same inputs: `resilix baseline create --output {} PATH...` (findings are then told apart by plan; AWS Config findings keep their fingerprints)",
                file.name()
            )),
        ));
    }
    if raw.schema.as_deref() != Some(SCHEMA) {
        return Err(LoadError::invalid_at(
            &file,
            offset,
            format!(
                "not a resilix baseline (expected \"schema\": \"{SCHEMA}\", found {})",
                raw.schema
                    .as_deref()
                    .map_or_else(|| "none".to_owned(), |s| format!("{s:?}"))
            ),
            "here",
            Some("create one with `resilix baseline create --output FILE PATH...`".to_owned()),
        ));
    }
    let mut entries = raw.findings;
    entries.sort();
    entries.dedup();
    Ok(Baseline { entries })
}
