//! Whether a change of an account's history was authorized (`authorized:` in policies,
//! `change.unauthorized`), decided once from what the change carries and the configuration:
//!
//! 1. a change by the root user is never authorized by who made it (and is reported as
//!    critical);
//! 2. a change whose every event was made by a principal `approvals.principals` names (an
//!    assumed-role session counts as its role, as attribution resolved it) is authorized;
//! 3. so is a change that carries a change ticket or is listed under `approvals.changes`,
//!    exactly as a planned change is approved ([`crate::findings::approval_of`]);
//! 4. otherwise a change made by someone is unauthorized, and a change nothing says who made
//!    (unattributed) is undecided, with the reason.
//!
//! The auditor's change log reads the same answer ([`crate::findings::ChangeLog`]).

use crate::config::Config;
use crate::findings::{Approval, approval_of};
use crate::input::tags::ResourceTags;
use crate::model::{ChangeEvent, Resource};

/// What authorized a change, or why it was not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authorization {
    /// Every event was made by a principal `approvals.principals` names (`pattern`).
    Principal { principal: String, pattern: String },
    /// The change carries a change ticket (the approval tag, new or changed) or is listed
    /// under `approvals.changes`.
    Ticket(Approval),
    /// Made by principals no approval covers; `root` when the root user is one of them.
    Unauthorized { principals: Vec<String>, root: bool },
    /// Nothing says who made the change.
    Unattributed { reason: String },
    /// Not a change of an account's history: a plan or a snapshot diff has no principal.
    NotHistory,
}

impl Authorization {
    /// `Some(true)` when authorized, `Some(false)` when not, `None` when undecided.
    pub fn authorized(&self) -> Option<bool> {
        match self {
            Authorization::Principal { .. } | Authorization::Ticket(_) => Some(true),
            Authorization::Unauthorized { .. } => Some(false),
            Authorization::Unattributed { .. } | Authorization::NotHistory => None,
        }
    }

    /// A change by the root user.
    pub fn by_root(&self) -> bool {
        matches!(self, Authorization::Unauthorized { root: true, .. })
    }

    /// What authorized it, or why not, in a few words.
    pub fn describe(&self) -> String {
        match self {
            Authorization::Principal { principal, pattern } => {
                format!("made by {principal}, which approvals.principals names ({pattern})")
            }
            Authorization::Ticket(approval) => match &approval.source {
                crate::findings::ApprovalSource::Tag { key } => {
                    format!("change ticket {} (tag `{key}`)", approval.ticket)
                }
                crate::findings::ApprovalSource::Config { location } => {
                    format!(
                        "change ticket {} (approvals.changes, {location})",
                        approval.ticket
                    )
                }
            },
            Authorization::Unauthorized { principals, root } => format!(
                "made by {}{}, which no approval covers",
                principals.join(", "),
                if *root { " — the root user" } else { "" }
            ),
            Authorization::Unattributed { reason } => format!("unattributed ({reason})"),
            Authorization::NotHistory => {
                "not a change of an account's history: nothing says who made it".to_owned()
            }
        }
    }
}

/// Why a change of a history carries no attribution at all (pulled or saved without it).
const NOT_ATTRIBUTED: &str =
    "the history carries no attribution (it was pulled or saved without CloudTrail)";

/// Decides whether the change of `resource` (`tags`: its tags before and after) was
/// authorized, for `policy` (whose entries under `approvals.changes` count).
pub fn authorize(
    config: &Config,
    policy: &str,
    resource: &Resource,
    tags: &ResourceTags,
) -> Authorization {
    let Some(change) = resource.change.as_ref().filter(|c| c.recorded_at.is_some()) else {
        return Authorization::NotHistory;
    };
    let attribution = change.attribution.as_deref();
    let events: &[ChangeEvent] = attribution.map_or(&[], |a| a.events.as_slice());
    let principals = attribution.map(|a| a.principals()).unwrap_or_default();
    let root = principals.iter().any(|p| p.root);
    let names = || principals.iter().map(|p| p.describe()).collect::<Vec<_>>();
    if root {
        return Authorization::Unauthorized {
            principals: names(),
            root,
        };
    }
    let matched: Vec<Option<&str>> = principals
        .iter()
        .map(|p| {
            let arn = p.arn.as_deref()?;
            config
                .approval_principals
                .iter()
                .find(|pattern| pattern.value.matches(arn))
                .map(|pattern| pattern.value.text())
        })
        .collect();
    if !matched.is_empty()
        && let Some(patterns) = matched.iter().copied().collect::<Option<Vec<&str>>>()
    {
        let mut patterns = patterns;
        patterns.dedup();
        return Authorization::Principal {
            principal: names().join(", "),
            pattern: patterns.join(", "),
        };
    }
    if let Some(approval) = approval_of(config, policy, resource, tags) {
        return Authorization::Ticket(approval);
    }
    if events.is_empty() {
        return Authorization::Unattributed {
            reason: attribution
                .and_then(|a| a.unattributed.clone())
                .unwrap_or_else(|| NOT_ATTRIBUTED.to_owned()),
        };
    }
    Authorization::Unauthorized {
        principals: names(),
        root: false,
    }
}
