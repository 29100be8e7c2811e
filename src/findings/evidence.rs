//! The evidence behind a result: what decided it, as people and outputs show it.

use serde::Serialize;

/// What decided a result: the path, the value found there, and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// Where the value is (a normalized JSONPath; nested documents and related resources are
    /// prefixed, `aws_s3_bucket_public_access_block.b: $['block_public_acls']`).
    pub path: String,
    /// The value found, as shown to people (`None`: absent). Sensitive values are never here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual: Option<String>,
    /// What the policy expected there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// A type error or another note.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}
