//! Reading a baseline file (`resilix/baseline/v1`, written by `resilix baseline create`).
//!
//! ```json
//! {
//!   "schema": "resilix/baseline/v1",
//!   "tool": {"name": "resilix", "version": "0.1.0"},
//!   "findings": [
//!     {"fingerprint": "5c0f…", "policy": "aws.s3.block-public-access", "resource": "aws_s3_bucket.logs"}
//!   ]
//! }
//! ```
//!
//! Findings are matched by `fingerprint` alone; `policy` and `resource` are there for people
//! reviewing the file. Unknown keys are ignored, so later versions can add fields.

use std::path::Path;

use serde::Deserialize;

use super::{LoadError, read_source};
use crate::findings::baseline::{Baseline, BaselineEntry};

/// The `schema` value of the baseline files this version reads and writes.
pub const BASELINE_SCHEMA: &str = "resilix/baseline/v1";

/// Baselines are small; anything bigger than this is not one.
const MAX_BASELINE_BYTES: u64 = 256 << 20;

#[derive(Deserialize)]
struct RawBaseline {
    #[serde(default)]
    schema: Option<String>,
    findings: Vec<RawEntry>,
}

#[derive(Deserialize)]
struct RawEntry {
    fingerprint: String,
    #[serde(default)]
    policy: String,
    #[serde(default)]
    resource: String,
}

/// Reads a baseline file; errors name the file and the line.
pub fn load_baseline(path: &Path) -> Result<Baseline, LoadError> {
    let file = read_source(path, MAX_BASELINE_BYTES)?;
    let raw: RawBaseline = serde_json::from_str(file.text())
        .map_err(|error| LoadError::from_json(&file, 0, &error))?;
    if raw.schema.as_deref() != Some(BASELINE_SCHEMA) {
        let offset = file.text().find("\"schema\"").unwrap_or(0);
        return Err(LoadError::invalid_at(
            &file,
            offset,
            format!(
                "not a resilix baseline (expected \"schema\": \"{BASELINE_SCHEMA}\", found {})",
                raw.schema
                    .as_deref()
                    .map_or_else(|| "none".to_owned(), |s| format!("{s:?}"))
            ),
            "here",
            Some("create one with `resilix baseline create --output FILE PATH...`".to_owned()),
        ));
    }
    let mut entries: Vec<BaselineEntry> = raw
        .findings
        .into_iter()
        .map(|e| BaselineEntry {
            fingerprint: e.fingerprint,
            policy: e.policy,
            resource: e.resource,
        })
        .collect();
    entries.sort();
    entries.dedup();
    Ok(Baseline { entries })
}
