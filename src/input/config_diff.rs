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
use serde::Deserialize;
use serde_json::Value;

use super::LoadError;
use crate::model::{
    Action, Actions, Attribution, Body, Change, DocError, Documents, ItemStatus, Resource,
    SourceKind,
};

/// What `diff` found, besides the changes.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DiffCounts {
    pub created: usize,
    pub updated: usize,
    pub deleted: usize,
    pub unchanged: usize,
}

/// The changes between two sets of items, and the items that could not be compared.
#[derive(Debug, Default)]
pub struct Diff {
    pub changes: Vec<Resource>,
    pub counts: DiffCounts,
    /// Items whose values could not be read: each would otherwise read as created or deleted.
    pub errors: Vec<LoadError>,
}

/// The inputs among `resources` that are not AWS Config data (a plan given to `diff`), one
/// error per file: compared with AWS Config items, every item would read as created or deleted.
pub fn not_config_data(resources: &[Resource]) -> Vec<LoadError> {
    let mut files: BTreeMap<&str, (SourceKind, usize)> = BTreeMap::new();
    for resource in resources
        .iter()
        .filter(|r| r.source != SourceKind::AwsConfig)
    {
        let name = resource.origin.file_name().unwrap_or("-");
        files.entry(name).or_insert((resource.source, 0)).1 += 1;
    }
    files
        .into_iter()
        .map(|(name, (source, count))| LoadError::WrongKind {
            name: name.to_owned(),
            message: format!(
                "this is {} ({count} resource(s)), not AWS Config data",
                match source {
                    SourceKind::Terraform => "a Terraform plan",
                    SourceKind::AwsConfig => "AWS Config data",
                }
            ),
            help: Some("`resilix diff OLD NEW` compares two sets of AWS Config items; scan a plan with `resilix scan`, which sees its planned changes".to_owned()),
        })
        .collect()
}

/// The parts of an item that make a change; capture times, state ids and relationships do not.
const SIGNIFICANT: [&str; 3] = ["configuration", "supplementaryConfiguration", "tags"];

/// The changes from `old` to `new`, in the order of the new set (then deletions, in the order of
/// the old set).
/// Resources that are not AWS Config items are left out ([`not_config_data`] says which).
pub fn diff(old: Vec<Resource>, new: Vec<Resource>) -> Diff {
    let mut counts = DiffCounts::default();
    let mut errors = Vec::new();
    let mut latest = |resources: Vec<Resource>| {
        // Items loaded from files are parsed on demand: all of them, in parallel.
        let documents: Vec<_> = resources
            .par_iter()
            .map(|r| (r.source == SourceKind::AwsConfig).then(|| r.documents()))
            .collect();
        let mut by_key: BTreeMap<String, (usize, Resource, Arc<Value>)> = BTreeMap::new();
        for (order, (resource, docs)) in resources.into_iter().zip(documents).enumerate() {
            let docs = match docs {
                Some(Ok(docs)) => docs,
                None => continue,
                Some(Err(error)) => {
                    errors.push(unreadable(&resource, error));
                    continue;
                }
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
    Diff {
        changes: changes.into_iter().map(|(_, _, r)| r).collect(),
        counts,
        errors,
    }
}

/// The error for an item whose values could not be read, at its place where it has one.
fn unreadable(resource: &Resource, error: DocError) -> LoadError {
    let message = format!("{}: {}", resource.address, error.message);
    match (
        &resource.origin.file,
        error.offset.or(resource.origin.offset),
    ) {
        (Some(file), Some(offset)) => {
            LoadError::invalid_at(file, offset, message, "this configuration item", None)
        }
        _ => LoadError::Incomplete {
            name: resource
                .origin
                .file_name()
                .unwrap_or("aws-config")
                .to_owned(),
            message,
            help: None,
        },
    }
}

fn with_change(
    resource: Resource,
    actions: Vec<Action>,
    before: Option<Arc<Value>>,
    after: Arc<Value>,
) -> Resource {
    with_recorded_change(resource, actions, before, after, Recorded::default())
}

/// What a history records of one change besides its documents: when, and who made it.
#[derive(Default)]
struct Recorded {
    at: Option<String>,
    attribution: Option<Arc<Attribution>>,
}

fn with_recorded_change(
    mut resource: Resource,
    actions: Vec<Action>,
    before: Option<Arc<Value>>,
    after: Arc<Value>,
    recorded: Recorded,
) -> Resource {
    resource.status = ItemStatus::Active;
    resource.change = Some(Change {
        actions: Actions(actions),
        recorded_at: recorded.at,
        attribution: recorded.attribution,
        ..Change::default()
    });
    resource.body = Body::Ready(Documents { after, before });
    resource
}

/// The changes of a configuration history (`resilix audit --changes-since`, or a history it
/// saved): the items of each resource in capture order, each item captured at or after `since`
/// a change from the one before it, judged exactly as [`diff`] judges a pair of snapshots —
/// created when nothing (or a deleted resource) came before, deleted when the item says so,
/// updated when its configuration, supplementary configuration or tags differ, else
/// unchanged. Items captured before `since` are only what the first change changed from.
///
/// Every change of a resource but its last is `superseded` (hardening policies judge the
/// newest state only); a resource without a change in the window is kept as its newest item,
/// for the hardening policies.
/// Items whose values cannot be read are errors, as in [`diff`]; resources that are not AWS
/// Config items are left out.
pub fn history(resources: Vec<Resource>, since: jiff::Timestamp) -> Diff {
    let mut counts = DiffCounts::default();
    let mut errors = Vec::new();
    let documents: Vec<_> = resources
        .par_iter()
        .map(|r| (r.source == SourceKind::AwsConfig).then(|| r.documents()))
        .collect();
    type Item = (Option<jiff::Timestamp>, String, Resource, Arc<Value>);
    let mut by_key: BTreeMap<String, Vec<Item>> = BTreeMap::new();
    for (resource, docs) in resources.into_iter().zip(documents) {
        let docs = match docs {
            Some(Ok(docs)) => docs,
            None => continue,
            Some(Err(error)) => {
                errors.push(unreadable(&resource, error));
                continue;
            }
        };
        let text = capture_time(&docs.after).to_owned();
        let at = text.parse::<jiff::Timestamp>().ok();
        by_key
            .entry(resource.identity())
            .or_default()
            .push((at, text, resource, docs.after));
    }
    let mut out = Vec::new();
    for (_, mut items) in by_key {
        // Stable: items captured at the same time stay in the order they were given.
        items.sort_by_key(|(at, ..)| *at);
        let first_change = out.len();
        let mut previous: Option<(Resource, Arc<Value>)> = None;
        let mut newest: Option<Resource> = None;
        for (at, text, resource, after) in items {
            let in_window = at.is_none_or(|at| at >= since);
            let before = previous
                .as_ref()
                .filter(|(r, _)| r.status == ItemStatus::Active);
            if in_window {
                let attribution = match attribution(&after) {
                    Ok(attribution) => attribution,
                    Err(message) => {
                        errors.push(unreadable(
                            &resource,
                            DocError {
                                message,
                                offset: None,
                            },
                        ));
                        None
                    }
                };
                let recorded = || Recorded {
                    at: Some(text.clone()),
                    attribution: attribution.clone(),
                };
                match resource.status {
                    ItemStatus::Active => match before {
                        None => {
                            counts.created += 1;
                            out.push(with_recorded_change(
                                resource.clone(),
                                vec![Action::Create],
                                None,
                                Arc::clone(&after),
                                recorded(),
                            ));
                        }
                        Some((_, before)) if significant(before) == significant(&after) => {
                            counts.unchanged += 1;
                        }
                        Some((_, before)) => {
                            counts.updated += 1;
                            out.push(with_recorded_change(
                                resource.clone(),
                                vec![Action::Update],
                                Some(Arc::clone(before)),
                                Arc::clone(&after),
                                recorded(),
                            ));
                        }
                    },
                    ItemStatus::Deleted => {
                        if let Some((old, before)) = before {
                            counts.deleted += 1;
                            let mut gone = old.clone();
                            gone.origin = resource.origin.clone();
                            out.push(with_recorded_change(
                                gone,
                                vec![Action::Delete],
                                Some(Arc::clone(before)),
                                Arc::new(Value::Null),
                                recorded(),
                            ));
                        }
                    }
                    ItemStatus::NotRecorded => {}
                }
            }
            newest = Some(resource.clone());
            previous = Some((resource, after));
        }
        let changes = out.len() - first_change;
        if changes == 0 {
            // Nothing changed in the window: the newest state, for the hardening policies.
            out.extend(newest.filter(|r| r.status == ItemStatus::Active));
        } else if let Some(earlier) = {
            let last = out.len() - 1;
            out.get_mut(first_change..last)
        } {
            for resource in earlier {
                if let Some(change) = resource.change.as_mut() {
                    change.superseded = true;
                }
            }
        }
    }
    Diff {
        changes: out,
        counts,
        errors,
    }
}

/// Who made the change an item of a history records (`resilixAttribution`), when the history
/// was attributed. One that cannot be read is an error: an unreadable attribution must not read
/// as "nobody".
fn attribution(item: &Value) -> Result<Option<Arc<Attribution>>, String> {
    let key = super::snapshot::ATTRIBUTION_KEY;
    match item.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => Attribution::deserialize(value)
            .map(|a| Some(Arc::new(a)))
            .map_err(|e| format!("`{key}` is not an attribution: {e}")),
    }
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
        let Diff {
            changes,
            counts,
            errors,
        } = diff(old, new);
        assert!(errors.is_empty());
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

    #[test]
    fn a_history_is_a_change_per_item_in_the_window() {
        let since: jiff::Timestamp = "2026-01-02T00:00:00Z".parse().unwrap();
        let resources = items(json!([
            item("vol-a", "OK", true, "2026-01-01T00:00:00Z"),
            item("vol-a", "OK", false, "2026-01-02T10:00:00Z"),
            item("vol-a", "OK", false, "2026-01-02T11:00:00Z"),
            item("vol-a", "OK", true, "2026-01-02T12:00:00Z"),
            item("vol-b", "ResourceDiscovered", true, "2026-01-03T00:00:00Z"),
            item("vol-c", "OK", true, "2026-01-01T00:00:00Z"),
            item("vol-c", "ResourceDeleted", true, "2026-01-04T00:00:00Z"),
            item("vol-d", "OK", true, "2025-12-01T00:00:00Z"),
        ]));
        let Diff {
            changes: out,
            counts,
            errors,
        } = history(resources, since);
        assert!(errors.is_empty());
        let seen: Vec<(String, ChangeKind, Option<String>, bool, bool)> = out
            .iter()
            .map(|r| {
                let change = r.change.as_ref();
                (
                    r.resource_id.clone().unwrap(),
                    r.change_kind(),
                    change.and_then(|c| c.recorded_at.clone()),
                    change.is_some_and(|c| c.superseded),
                    r.is_evaluable(),
                )
            })
            .collect();
        let at = |t: &str| Some(t.to_owned());
        assert_eq!(
            seen,
            vec![
                (
                    "vol-a".into(),
                    ChangeKind::Update,
                    at("2026-01-02T10:00:00Z"),
                    true,
                    false
                ),
                (
                    "vol-a".into(),
                    ChangeKind::Update,
                    at("2026-01-02T12:00:00Z"),
                    false,
                    true
                ),
                (
                    "vol-b".into(),
                    ChangeKind::Create,
                    at("2026-01-03T00:00:00Z"),
                    false,
                    true
                ),
                (
                    "vol-c".into(),
                    ChangeKind::Delete,
                    at("2026-01-04T00:00:00Z"),
                    false,
                    false
                ),
                ("vol-d".into(), ChangeKind::NoOp, None, false, true),
            ]
        );
        assert_eq!(
            (
                counts.created,
                counts.updated,
                counts.deleted,
                counts.unchanged
            ),
            (1, 2, 1, 1),
            "the 11:00 item changed nothing"
        );
        let first = out.first().unwrap().documents().unwrap();
        assert_eq!(
            first.before.unwrap()["configuration"]["encrypted"],
            json!(true)
        );
        assert_ne!(
            out[0].identity(),
            out[1].identity(),
            "two changes, two identities"
        );
    }
}
