//! Who made a change of an account's history (`audit --changes-since`): the CloudTrail events
//! AWS Config related to the item the change made, as `resilix audit` attached them
//! (`resilixAttribution`, crates/resilix-aws/src/attribution.rs), read once at load.

use serde::{Deserialize, Serialize};

/// The events of one change, or why there are none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Attribution {
    #[serde(default)]
    pub events: Vec<ChangeEvent>,
    /// Why no event was found (no related event, or CloudTrail no longer has it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unattributed: Option<String>,
}

/// One CloudTrail event behind a change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChangeEvent {
    pub event_id: String,
    #[serde(default)]
    pub event_name: Option<String>,
    #[serde(default)]
    pub event_time: Option<String>,
    #[serde(default)]
    pub event_source: Option<String>,
    #[serde(default)]
    pub source_ip_address: Option<String>,
    #[serde(default)]
    pub user_agent: Option<String>,
    #[serde(default)]
    pub principal: Principal,
}

/// Who made the call: an assumed-role session already resolved to its role (and session).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Principal {
    /// CloudTrail's `userIdentity.type`: `IAMUser`, `AssumedRole`, `Root`, `AWSService`, …
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub arn: Option<String>,
    #[serde(default)]
    pub session: Option<String>,
    #[serde(default)]
    pub root: bool,
}

impl Attribution {
    /// The principals of the change's events, each once, in event order.
    pub fn principals(&self) -> Vec<&Principal> {
        let mut out: Vec<&Principal> = Vec::new();
        for event in &self.events {
            if !out.contains(&&event.principal) {
                out.push(&event.principal);
            }
        }
        out
    }
}

impl ChangeEvent {
    /// The call, who made it, from where and when: `PutBucketPolicy by arn:… from 203.0.113.7
    /// at 2026-12-02T09:14:31Z`.
    pub fn describe(&self) -> String {
        let mut out = format!(
            "{} by {}",
            self.event_name.as_deref().unwrap_or("a call"),
            self.principal.describe()
        );
        if let Some(ip) = &self.source_ip_address {
            out.push_str(&format!(" from {ip}"));
        }
        if let Some(time) = &self.event_time {
            out.push_str(&format!(" at {time}"));
        }
        out
    }
}

impl Principal {
    /// The ARN (or service name) as outputs show it, with the session when there is one.
    pub fn describe(&self) -> String {
        let who = self.arn.as_deref().unwrap_or("an unknown principal");
        match &self.session {
            Some(session) => format!("{who} (session {session})"),
            None => who.to_owned(),
        }
    }
}
