//! Snapshot files written by `resilix audit --save`: AWS Config's delivered-snapshot shape
//! (`fileVersion`, `configSnapshotId`, `configurationItems`), one item per line so a finding can
//! point at its line and `git diff` of two saved audits shows the resources that changed.
//!
//! A `resilixAudit` record says what was pulled and, above all, what was not: a snapshot of an
//! incomplete pull reads back as incomplete (an error, exit 2), never as a clean account.

use std::io::{self, Write};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::LoadError;

/// The key of the audit record in a saved snapshot.
pub const RECORD_KEY: &str = "resilixAudit";
/// The member of a history's item that says who made the change it records
/// ([`crate::model::Attribution`], attached by `resilix audit --changes-since`).
pub const ATTRIBUTION_KEY: &str = "resilixAttribution";

/// What an audit pulled, and what it could not.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditRecord {
    /// `resilix 0.1.0`.
    pub tool: String,
    /// Regions, or `aggregator NAME`.
    pub scope: Vec<String>,
    pub resource_types: Vec<String>,
    /// `batch` or `select` (`history` for a history).
    pub method: String,
    /// A history (`audit --changes-since`): the start of its window, RFC 3339. The items are
    /// then every item of each resource that changed since, from the last one before; loading
    /// the file replays the changes ([`super::config_diff::history`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changes_since: Option<String>,
    /// Every unit of work succeeded.
    pub complete: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<PullFailure>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// One part of an audit that could not be pulled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PullFailure {
    /// `us-east-1`, `us-east-1 AWS::S3::Bucket`, `aggregator org AWS::IAM::Role`.
    pub scope: String,
    /// `access denied`, `no configuration recorder`, …
    pub kind: String,
    /// The AWS API call that failed.
    pub operation: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

/// Writes a snapshot of `items` (delivery-form configuration items, already in output order).
pub fn write_snapshot(
    out: &mut dyn Write,
    items: &[Value],
    record: &AuditRecord,
) -> io::Result<()> {
    write!(
        out,
        "{{\"fileVersion\":\"1.0\",\"configSnapshotId\":\"resilix-audit\","
    )?;
    write!(out, "\"{RECORD_KEY}\":{},", json(record)?)?;
    write!(out, "\"configurationItems\":[")?;
    for (index, item) in items.iter().enumerate() {
        let separator = if index == 0 { "\n" } else { ",\n" };
        write!(out, "{separator}{}", json(item)?)?;
    }
    writeln!(out, "\n]}}")
}

fn json<T: Serialize>(value: &T) -> io::Result<String> {
    serde_json::to_string(value).map_err(io::Error::other)
}

/// The errors an incomplete audit stands for: one per failure, named after `name` (the saved
/// file, or `aws-config` for a live pull).
pub fn incomplete_errors(name: &str, record: &AuditRecord) -> Vec<LoadError> {
    let mut errors: Vec<LoadError> = record
        .failures
        .iter()
        .map(|failure| LoadError::Incomplete {
            name: name.to_owned(),
            message: format!(
                "{}: {} ({}): {}",
                failure.scope, failure.kind, failure.operation, failure.message
            ),
            help: failure.help.clone(),
        })
        .collect();
    if errors.is_empty() && !record.complete {
        errors.push(LoadError::Incomplete {
            name: name.to_owned(),
            message: "the audit that saved this snapshot did not finish".to_owned(),
            help: None,
        });
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::{LoadOptions, load_text};
    use serde_json::json;

    fn record(failures: Vec<PullFailure>) -> AuditRecord {
        AuditRecord {
            tool: "resilix 0.0.0".to_owned(),
            scope: vec!["eu-west-1".to_owned()],
            resource_types: vec!["AWS::S3::Bucket".to_owned()],
            method: "batch".to_owned(),
            changes_since: None,
            complete: failures.is_empty(),
            failures,
            warnings: Vec::new(),
        }
    }

    fn items() -> Vec<Value> {
        vec![
            json!({"awsAccountId": "111122223333", "awsRegion": "eu-west-1", "resourceType": "AWS::S3::Bucket",
                   "resourceId": "a", "ARN": "arn:aws:s3:::a", "configurationItemStatus": "OK",
                   "configuration": {"name": "a"}, "supplementaryConfiguration": {}}),
            json!({"awsAccountId": "111122223333", "awsRegion": "eu-west-1", "resourceType": "AWS::S3::Bucket",
                   "resourceId": "b", "ARN": "arn:aws:s3:::b", "configurationItemStatus": "OK",
                   "configuration": {"name": "b"}, "supplementaryConfiguration": {}}),
        ]
    }

    #[test]
    fn a_saved_snapshot_reads_back_one_item_per_line() {
        let mut out = Vec::new();
        write_snapshot(&mut out, &items(), &record(Vec::new())).unwrap();
        let text = String::from_utf8(out).unwrap();
        let loaded = load_text("audit.json", &text, &LoadOptions::default()).unwrap();
        assert_eq!(loaded.resources.len(), 2);
        assert!(loaded.errors.is_empty());
        let lines: Vec<usize> = loaded
            .resources
            .iter()
            .map(|r| r.origin.line_col().unwrap().line)
            .collect();
        assert_eq!(lines, vec![2, 3]);
        assert_eq!(loaded.resources[1].address, "arn:aws:s3:::b");
    }

    #[test]
    fn an_incomplete_snapshot_reads_back_as_incomplete() {
        let failure = PullFailure {
            scope: "eu-west-1 AWS::IAM::Role".to_owned(),
            kind: "access denied".to_owned(),
            operation: "ListDiscoveredResources".to_owned(),
            message: "AccessDeniedException: no".to_owned(),
            help: Some("grant config:List*".to_owned()),
        };
        let mut out = Vec::new();
        write_snapshot(&mut out, &items(), &record(vec![failure])).unwrap();
        let text = String::from_utf8(out).unwrap();
        let loaded = load_text("audit.json", &text, &LoadOptions::default()).unwrap();
        assert_eq!(
            loaded.resources.len(),
            2,
            "what was pulled is still evaluated"
        );
        let messages: Vec<String> = loaded.errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            messages,
            vec![
                "audit.json: eu-west-1 AWS::IAM::Role: access denied (ListDiscoveredResources): AccessDeniedException: no"
            ]
        );
    }
}
