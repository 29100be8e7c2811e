//! Who made each change of a history: the CloudTrail events AWS Config lists on each item
//! (`relatedEvents`), looked up one by one with CloudTrail LookupEvents by `EventId` in the
//! item's region, and attached to the item as `resilixAttribution`:
//!
//! ```json
//! {"events": [{"eventId": "…", "eventName": "PutBucketPublicAccessBlock", "eventTime": "…",
//!              "eventSource": "s3.amazonaws.com", "sourceIpAddress": "203.0.113.7",
//!              "userAgent": "…", "principal": {"type": "AssumedRole",
//!              "arn": "arn:aws:iam::123456789012:role/terraform-ci", "session": "gha-run-812",
//!              "root": false}}],
//!  "unattributed": "why, when no event was found"}
//! ```
//!
//! An assumed-role session is resolved to its role (the session issuer's ARN, path included)
//! and the session name. An item without related events, or whose events CloudTrail no longer
//! has (it keeps 90 days of management events), is unattributed and says why. A lookup that
//! fails is a [`Failure`]: the pull is incomplete, never quietly unattributed.
//!
//! CloudTrail allows LookupEvents two calls a second per account and region: the lookups of one
//! account's region are made one after the other, through that region's retry budget, under
//! the same timeouts and adaptive retry as every other call. In an audit of several accounts
//! (`--accounts`), each account's events are looked up in that account, with its role's
//! credentials: CloudTrail's event history is per account.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use aws_config::{Region, SdkConfig};
use aws_sdk_cloudtrail::Client;
use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use aws_smithy_types::date_time::Format;
use serde_json::{Map, Value, json};
use tokio::task::JoinSet;

use crate::budget::{BudgetClassifier, RetryBudget};
use crate::errors::{Classified, FailureKind};
use crate::fetch::explain;
use crate::{Failure, Pull, Settings};

/// The member each attributed item gets.
pub const ATTRIBUTION_KEY: &str = "resilixAttribution";

/// Why an item without related events is unattributed.
pub const NO_EVENT: &str = "AWS Config recorded no CloudTrail event for this change (it does not for every change: some are made by AWS itself, or recorded through a related resource)";

/// What a lookup found for one event ID.
#[derive(Debug, Clone)]
enum Found {
    Event(Value),
    Missing,
    Failed,
}

/// Looks up the related events of every item of `pull` captured in its window, and attaches
/// what was found to each. Items before the window are what a change changed from: not looked up.
/// `accounts` holds the SDK configuration of each account of an audit of several (its role's
/// credentials); any other item's events are looked up with `shared`.
pub async fn attribute(
    shared: &SdkConfig,
    accounts: &BTreeMap<String, SdkConfig>,
    pull: &mut Pull,
    settings: &Settings,
) {
    let Some(since) = pull.changes_since else {
        return;
    };
    let since = aws_smithy_types::DateTime::from(since);
    // Event IDs to look up, per account and region.
    let mut wanted: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for item in &pull.items {
        if !in_window(item, since) {
            continue;
        }
        let place = (text(item, "awsAccountId"), text(item, "awsRegion"));
        for id in related(item) {
            wanted.entry(place.clone()).or_default().insert(id);
        }
    }
    let mut lookups = JoinSet::new();
    for ((account, region), ids) in wanted {
        let budget = Arc::new(RetryBudget::new(settings.max_retry_time));
        let (own, scope) = match accounts.get(&account) {
            Some(own) => (own, format!("{account} {region} CloudTrail")),
            None => (shared, format!("{region} CloudTrail")),
        };
        let config = aws_sdk_cloudtrail::config::Builder::from(own)
            .region(Region::new(region.clone()))
            .retry_classifier(BudgetClassifier(Arc::clone(&budget)))
            .build();
        let client = Client::from_conf(config);
        lookups.spawn(async move {
            let (results, failures) = lookup_region(client, budget, scope, ids).await;
            ((account, region), results, failures)
        });
    }
    let mut found: BTreeMap<(String, String, String), Found> = BTreeMap::new();
    while let Some(joined) = lookups.join_next().await {
        match joined {
            Ok(((account, region), results, failures)) => {
                for (id, result) in results {
                    found.insert((account.clone(), region.clone(), id), result);
                }
                pull.failures.extend(failures);
            }
            Err(error) => pull.failures.push(Failure {
                scope: "internal".to_owned(),
                kind: FailureKind::Service,
                operation: "LookupEvents",
                message: format!("a lookup task ended abnormally (this is a bug): {error}"),
            }),
        }
    }
    pull.failures.sort();
    for item in &mut pull.items {
        if !in_window(item, since) {
            continue;
        }
        let (account, region) = (text(item, "awsAccountId"), text(item, "awsRegion"));
        let ids = related(item);
        let mut events = Vec::new();
        let mut missing = Vec::new();
        let mut failed = Vec::new();
        for id in &ids {
            match found.get(&(account.clone(), region.clone(), id.clone())) {
                Some(Found::Event(event)) => events.push(event.clone()),
                Some(Found::Missing) => missing.push(id.as_str()),
                Some(Found::Failed) | None => failed.push(id.as_str()),
            }
        }
        let mut attribution = Map::new();
        attribution.insert("events".to_owned(), Value::Array(events.clone()));
        if events.is_empty() {
            let why = if ids.is_empty() {
                NO_EVENT.to_owned()
            } else if !failed.is_empty() {
                format!(
                    "the lookup of CloudTrail event {} failed (see the errors)",
                    failed.join(", ")
                )
            } else {
                format!(
                    "CloudTrail has no event {} in {region}: LookupEvents keeps the last 90 days of management events",
                    missing.join(", ")
                )
            };
            attribution.insert("unattributed".to_owned(), Value::String(why));
        }
        if let Value::Object(fields) = item {
            fields.insert(ATTRIBUTION_KEY.to_owned(), Value::Object(attribution));
        }
    }
}

fn text(item: &Value, key: &str) -> String {
    item.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn related(item: &Value) -> Vec<String> {
    let mut ids: Vec<String> = item
        .get("relatedEvents")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(Value::as_str)
                .filter(|id| !id.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids.dedup();
    ids
}

fn in_window(item: &Value, since: aws_smithy_types::DateTime) -> bool {
    item.get("configurationItemCaptureTime")
        .and_then(Value::as_str)
        .and_then(|t| aws_smithy_types::DateTime::from_str(t, Format::DateTime).ok())
        .is_none_or(|t| t >= since)
}

/// The lookups of one (account's) region, one after the other; `scope` names it in failures.
async fn lookup_region(
    client: Client,
    budget: Arc<RetryBudget>,
    scope: String,
    ids: BTreeSet<String>,
) -> (Vec<(String, Found)>, Vec<Failure>) {
    let mut results = Vec::new();
    let mut failures = Vec::new();
    let timeouts = client.config().timeout_config().cloned();
    for id in ids {
        let result = match lookup(&client, &budget, &scope, &id, timeouts.as_ref()).await {
            Ok(Some(event)) => Found::Event(event),
            Ok(None) => Found::Missing,
            Err(classified) => {
                failures.push(Failure {
                    scope: scope.clone(),
                    kind: classified.kind,
                    operation: "LookupEvents",
                    message: format!("event {id}: {}", classified.message),
                });
                Found::Failed
            }
        };
        results.push((id, result));
    }
    (results, failures)
}

async fn lookup(
    client: &Client,
    budget: &RetryBudget,
    scope: &str,
    id: &str,
    timeouts: Option<&aws_smithy_types::timeout::TimeoutConfig>,
) -> Result<Option<Value>, Classified> {
    if let Some(failing) = budget.given_up() {
        return Err(Classified {
            kind: FailureKind::GaveUp,
            message: format!(
                "{}, so resilix stopped calling it",
                crate::fetch::given_up_because(scope, failing, budget.limit())
            ),
        });
    }
    let attribute = LookupAttribute::builder()
        .attribute_key(LookupAttributeKey::EventId)
        .attribute_value(id)
        .build()
        .map_err(|e| Classified {
            kind: FailureKind::Service,
            message: e.to_string(),
        })?;
    let out = client
        .lookup_events()
        .lookup_attributes(attribute)
        .max_results(1)
        .send()
        .await
        .map_err(|error| explain(&error, timeouts, budget, scope))?;
    Ok(out
        .events()
        .iter()
        .find(|e| e.event_id() == Some(id))
        .map(|event| {
            let record: Value = event
                .cloud_trail_event()
                .and_then(|t| serde_json::from_str(t).ok())
                .unwrap_or(Value::Null);
            describe(
                id,
                event.event_name(),
                event
                    .event_time()
                    .and_then(|t| t.fmt(Format::DateTime).ok()),
                event.event_source(),
                &record,
            )
        }))
}

/// One event as a change's attribution: who (the principal, resolved through assumed roles),
/// from where, with what, which call and when.
pub fn describe(
    id: &str,
    name: Option<&str>,
    time: Option<String>,
    source: Option<&str>,
    record: &Value,
) -> Value {
    let get = |key: &str| record.get(key).and_then(Value::as_str).map(str::to_owned);
    json!({
        "eventId": id,
        "eventName": name.map(str::to_owned).or_else(|| get("eventName")),
        "eventTime": time.or_else(|| get("eventTime")),
        "eventSource": source.map(str::to_owned).or_else(|| get("eventSource")),
        "sourceIpAddress": get("sourceIPAddress"),
        "userAgent": get("userAgent"),
        "principal": principal(record.get("userIdentity").unwrap_or(&Value::Null)),
    })
}

/// The principal of a CloudTrail `userIdentity`: an assumed-role session as its role's ARN (the
/// session issuer's, path included) and the session name; the root user marked as such.
pub fn principal(identity: &Value) -> Value {
    let get = |value: &Value, key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
    let kind = get(identity, "type").unwrap_or_else(|| "Unknown".to_owned());
    let arn = get(identity, "arn");
    let issuer = identity
        .get("sessionContext")
        .and_then(|c| c.get("sessionIssuer"))
        .unwrap_or(&Value::Null);
    let (resolved, session) = match kind.as_str() {
        "AssumedRole" => {
            // arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION
            let session = arn
                .as_deref()
                .and_then(|a| a.rsplit_once('/'))
                .map(|(_, s)| s.to_owned());
            let role = get(issuer, "arn").or_else(|| {
                let arn = arn.as_deref()?;
                let (prefix, rest) = arn.split_once(":assumed-role/")?;
                let (role, _) = rest.split_once('/')?;
                let account = prefix.rsplit(':').next()?;
                let partition = prefix.split(':').nth(1)?;
                Some(format!("arn:{partition}:iam::{account}:role/{role}"))
            });
            (role.or(arn), session)
        }
        "AWSService" => (get(identity, "invokedBy"), None),
        _ => (arn, None),
    };
    let root = kind == "Root" || resolved.as_deref().is_some_and(|a| a.ends_with(":root"));
    json!({
        "type": kind,
        "arn": resolved,
        "session": session,
        "root": root,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assumed_roles_resolve_to_the_role_and_the_session() {
        let identity = json!({
            "type": "AssumedRole",
            "arn": "arn:aws:sts::123456789012:assumed-role/terraform-ci/gha-run-812",
            "sessionContext": {"sessionIssuer": {"type": "Role",
                "arn": "arn:aws:iam::123456789012:role/ci/terraform-ci"}}
        });
        assert_eq!(
            principal(&identity),
            json!({"type": "AssumedRole", "arn": "arn:aws:iam::123456789012:role/ci/terraform-ci",
                   "session": "gha-run-812", "root": false})
        );
        let without_issuer = json!({"type": "AssumedRole",
            "arn": "arn:aws-us-gov:sts::123456789012:assumed-role/deploy/alice"});
        assert_eq!(
            principal(&without_issuer)["arn"],
            "arn:aws-us-gov:iam::123456789012:role/deploy"
        );
        let root = json!({"type": "Root", "arn": "arn:aws:iam::123456789012:root"});
        assert_eq!(principal(&root)["root"], true);
        let user = json!({"type": "IAMUser", "arn": "arn:aws:iam::123456789012:user/mallory"});
        assert_eq!(
            principal(&user)["arn"],
            "arn:aws:iam::123456789012:user/mallory"
        );
        assert_eq!(principal(&user)["root"], false);
        let service = json!({"type": "AWSService", "invokedBy": "cloudformation.amazonaws.com"});
        assert_eq!(principal(&service)["arn"], "cloudformation.amazonaws.com");
    }
}
