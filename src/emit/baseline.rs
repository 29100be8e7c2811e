//! Writing a baseline file (`resilix/baseline/v1`; the format is described in
//! `input::baseline`). Sorted and without timestamps, so it diffs well under version control.

use std::io::{self, Write};

use serde::Serialize;

use crate::findings::baseline::Baseline;
use crate::input::BASELINE_SCHEMA;

#[derive(Serialize)]
struct File<'a> {
    schema: &'static str,
    tool: Tool<'a>,
    findings: Vec<Entry<'a>>,
}

#[derive(Serialize)]
struct Tool<'a> {
    name: &'static str,
    version: &'a str,
}

#[derive(Serialize)]
struct Entry<'a> {
    fingerprint: &'a str,
    policy: &'a str,
    resource: &'a str,
}

/// Writes `baseline` as JSON.
pub fn write_baseline(out: &mut dyn Write, baseline: &Baseline, version: &str) -> io::Result<()> {
    let file = File {
        schema: BASELINE_SCHEMA,
        tool: Tool {
            name: "resilix",
            version,
        },
        findings: baseline
            .entries
            .iter()
            .map(|e| Entry {
                fingerprint: &e.fingerprint,
                policy: &e.policy,
                resource: &e.resource,
            })
            .collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &file).map_err(io::Error::other)?;
    writeln!(out)
}
