//! How critical an asset is: a property of the resource, read from its tags or the
//! configuration's rules, that raises or lowers the priority of its findings.

use serde::Serialize;

/// How critical an asset is (tag `criticality`, or the configuration's rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Criticality {
    Low,
    Medium,
    High,
    Critical,
}

impl Criticality {
    pub const ALL: [Criticality; 4] = [
        Criticality::Low,
        Criticality::Medium,
        Criticality::High,
        Criticality::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Criticality::Low => "low",
            Criticality::Medium => "medium",
            Criticality::High => "high",
            Criticality::Critical => "critical",
        }
    }

    /// Parses a level, ignoring case and surrounding space (`High`, ` critical`).
    pub fn parse(text: &str) -> Option<Criticality> {
        let text = text.trim();
        Criticality::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(text))
    }
}
