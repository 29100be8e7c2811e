//! `resilix diff`: the changes between two sets of AWS Config items.
//!
//! Items are paired by account, region, resource type and resource id (the latest item of each
//! resource in each set, by capture time). A resource only in the new set (or deleted in the
//! old one) is created; one only in the old set (or deleted in the new one) is deleted; one in
//! both whose configuration, supplementary configuration or tags differ is updated. Each change
//! becomes one resource with its documents before and after, so change-control policies see it
//! exactly as they see a planned change.

use std::collections::BTreeMap;
use std::sync::Arc;

use rayon::prelude::*;
use serde_json::Value;

use crate::model::{Action, Actions, Body, Change, Documents, ItemStatus, Resource, SourceKind};

/// What `diff` found, besides the changes.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DiffCounts {
    pub created: usize,
    pub updated: usize,
    pub deleted: usize,
    pub unchanged: usize,
    /// Resources that are not AWS Config items (plans given to `diff`), left out.
    pub ignored: usize,
}

/// The parts of an item that make a change; capture times, state ids and relationships do not.
const SIGNIFICANT: [&str; 3] = ["configuration", "supplementaryConfiguration", "tags"];

/// The changes from `old` to `new`, in the order of the new set (then deletions, in the order of
/// the old set).
pub fn diff(old: Vec<Resource>, new: Vec<Resource>) -> (Vec<Resource>, DiffCounts) {
    let mut counts = DiffCounts::default();
    let mut latest = |resources: Vec<Resource>| {
        // Items loaded from files are parsed on demand: all of them, in parallel.
        let documents: Vec<_> = resources
            .par_iter()
            .map(|r| (r.source == SourceKind::AwsConfig).then(|| r.documents()))
            .collect();
        let mut by_key: BTreeMap<String, (usize, Resource, Arc<Value>)> = BTreeMap::new();
        for (order, (resource, docs)) in resources.into_iter().zip(documents).enumerate() {
            if resource.source != SourceKind::AwsConfig {
                counts.ignored += 1;
                continue;
            }
            let Some(Ok(docs)) = docs else {
                continue;
            };
            let key = resource.identity();
            let newer = by_key
                .get(&key)
                .is_none_or(|(_, _, seen)| capture_time(&docs.after) >= capture_time(seen));
            if newer {
                by_key.insert(key, (order, resource, docs.after));
            }
        }
        by_key
    };
    let mut old = latest(old);
    let new = latest(new);
    let mut changes: Vec<(usize, usize, Resource)> = Vec::new();
    for (key, (order, resource, after)) in new {
        let exists_now = resource.status == ItemStatus::Active;
        let before = old
            .remove(&key)
            .filter(|(_, r, _)| r.status == ItemStatus::Active);
        let change = match (before, exists_now) {
            (None, true) => Some((vec![Action::Create], None, after, resource)),
            (Some((_, _, before)), true) => {
                if significant(&before) == significant(&after) {
                    counts.unchanged += 1;
                    None
                } else {
                    Some((vec![Action::Update], Some(before), after, resource))
                }
            }
            // Deleted in the new set: the old item is what was deleted; the new one says where.
            (Some((_, old_resource, before)), false) => {
                let mut gone = old_resource;
                gone.origin = resource.origin.clone();
                Some((
                    vec![Action::Delete],
                    Some(before),
                    Arc::new(Value::Null),
                    gone,
                ))
            }
            (None, false) => None,
        };
        if let Some((actions, before, after, resource)) = change {
            match actions.first() {
                Some(Action::Create) => counts.created += 1,
                Some(Action::Update) => counts.updated += 1,
                _ => counts.deleted += 1,
            }
            changes.push((0, order, with_change(resource, actions, before, after)));
        }
    }
    for (_, (order, resource, before)) in old {
        if resource.status != ItemStatus::Active {
            continue;
        }
        counts.deleted += 1;
        let change = with_change(
            resource,
            vec![Action::Delete],
            Some(before),
            Arc::new(Value::Null),
        );
        changes.push((1, order, change));
    }
    changes.sort_by_key(|(set, order, _)| (*set, *order));
    (changes.into_iter().map(|(_, _, r)| r).collect(), counts)
}

fn with_change(
    mut resource: Resource,
    actions: Vec<Action>,
    before: Option<Arc<Value>>,
    after: Arc<Value>,
) -> Resource {
    resource.status = ItemStatus::Active;
    resource.change = Some(Change {
        actions: Actions(actions),
        ..Change::default()
    });
    resource.body = Body::Ready(Documents { after, before });
    resource
}

fn capture_time(doc: &Value) -> &str {
    doc.get("configurationItemCaptureTime")
        .and_then(Value::as_str)
        .unwrap_or("")
}

fn significant(doc: &Value) -> Vec<Option<&Value>> {
    SIGNIFICANT.iter().map(|k| doc.get(*k)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::{LoadOptions, load_text};
    use crate::model::ChangeKind;
    use serde_json::json;

    fn items(items: Value) -> Vec<Resource> {
        let text = json!({"configurationItems": items}).to_string();
        load_text("x.json", &text, &LoadOptions::default())
            .unwrap()
            .resources
    }

    fn item(id: &str, status: &str, encrypted: bool, time: &str) -> Value {
        json!({"resourceType": "AWS::EC2::Volume", "resourceId": id, "awsAccountId": "111122223333",
               "awsRegion": "eu-west-1", "configurationItemStatus": status,
               "configurationItemCaptureTime": time, "configuration": {"encrypted": encrypted}})
    }

    #[test]
    fn items_pair_by_identity() {
        let old = items(json!([
            item("vol-keep", "OK", true, "2026-01-01T00:00:00Z"),
            item("vol-edit", "OK", true, "2026-01-01T00:00:00Z"),
            item("vol-gone", "OK", true, "2026-01-01T00:00:00Z"),
            item("vol-del", "OK", true, "2026-01-01T00:00:00Z"),
        ]));
        let new = items(json!([
            item("vol-keep", "OK", true, "2026-01-02T00:00:00Z"),
            item("vol-edit", "OK", true, "2026-01-01T12:00:00Z"),
            item("vol-edit", "OK", false, "2026-01-02T00:00:00Z"),
            item("vol-del", "ResourceDeleted", true, "2026-01-02T00:00:00Z"),
            item(
                "vol-new",
                "ResourceDiscovered",
                false,
                "2026-01-02T00:00:00Z"
            ),
        ]));
        let (changes, counts) = diff(old, new);
        let kinds: Vec<(String, ChangeKind)> = changes
            .iter()
            .map(|r| (r.resource_id.clone().unwrap(), r.change_kind()))
            .collect();
        assert_eq!(
            kinds,
            vec![
                ("vol-edit".to_owned(), ChangeKind::Update),
                ("vol-del".to_owned(), ChangeKind::Delete),
                ("vol-new".to_owned(), ChangeKind::Create),
                ("vol-gone".to_owned(), ChangeKind::Delete),
            ]
        );
        assert_eq!(counts.unchanged, 1);
        let edit = changes
            .iter()
            .find(|r| r.resource_id.as_deref() == Some("vol-edit"))
            .unwrap();
        let docs = edit.documents().unwrap();
        assert_eq!(
            docs.before.unwrap()["configuration"]["encrypted"],
            json!(true)
        );
        assert_eq!(docs.after["configuration"]["encrypted"], json!(false));
        assert!(changes.iter().all(Resource::is_change));
    }
}
