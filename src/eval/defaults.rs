//! Declared defaults (`defaults:` of a target), applied before the conditions are evaluated.
//!
//! A judged setting that is not set (nothing, `null` or `""` where its path leads; an empty or
//! absent list of blocks counts as one block without it) takes its default: a value AWS uses
//! is written in its place, an undecided default becomes "known after apply", an unsafe one
//! fails the policy, and a default that another resource of the plan decides is read from that
//! resource through the relation index. The conditions then judge the resource as AWS will
//! make it, so no quantifier passes vacuously over a block left to an unsafe default. Values
//! the plan knows only after apply are not unset: they keep their markers.

use std::sync::Arc;

use serde_json::Value;

use super::Evaluator;
use super::relations::RelationKey;
use crate::findings::Evidence;
use crate::model::Resource;
use crate::model::value::{self, marker};
use crate::policy::selector::{Budget, PathStep};
use crate::policy::{Outcome, RelatedDefault, SettingDefault, Target, Unset};

/// A judged setting that was not set, and the default it took.
#[derive(Debug, Clone, PartialEq)]
pub struct AppliedDefault {
    /// `metadata_options.http_tokens`.
    pub setting: String,
    /// The path as declared.
    pub path: String,
    /// What AWS does, in words.
    pub aws: String,
    pub reference: String,
    /// What the default came to for this resource.
    pub outcome: Outcome,
    /// The resources of the plan that decided it (a related default).
    pub decided_by: Vec<String>,
}

impl AppliedDefault {
    pub(crate) fn evidence(&self) -> Evidence {
        let mut note = format!("not set; AWS's default is {}", self.aws.trim());
        if !self.decided_by.is_empty() {
            note.push_str(&format!(" (from {})", self.decided_by.join(", ")));
        }
        match &self.outcome {
            Outcome::Value(v) => note.push_str(&format!(": judged as {}", value::display(v))),
            Outcome::Review => note.push_str(" — not decided by the plan"),
            Outcome::Fail | Outcome::Pass => {}
        }
        note.push_str(&format!(" ({})", self.reference));
        Evidence {
            path: self.path.clone(),
            actual: None,
            expected: None,
            note: Some(note),
        }
    }
}

/// What the defaults did to one resource's document.
#[derive(Default)]
pub(crate) struct Defaulted {
    /// The document with the defaults written in (`None`: nothing was unset, or nothing to
    /// write).
    pub doc: Option<Arc<Value>>,
    pub applied: Vec<AppliedDefault>,
}

impl Defaulted {
    /// An unsafe default applies: the policy fails, whatever else holds.
    pub(crate) fn fails(&self) -> bool {
        self.applied.iter().any(|a| a.outcome == Outcome::Fail)
    }
}

/// Applies the target's defaults to `doc`.
pub(crate) fn apply(
    evaluator: &Evaluator<'_>,
    target: &Target,
    resource: &Resource,
    doc: &Arc<Value>,
    budget: &mut Budget,
) -> Defaulted {
    let mut out = Defaulted::default();
    if target.defaults.is_empty() {
        return out;
    }
    let mut filled: Option<Value> = None;
    for default in &target.defaults {
        if !unset(doc, &default.steps, 0) {
            continue;
        }
        let (outcome, decided_by) = match &default.when_unset {
            Unset::Outcome(outcome) => (outcome.clone(), Vec::new()),
            Unset::Related(related) => resolve(evaluator, related, resource, doc, budget),
        };
        let written = match &outcome {
            Outcome::Value(v) => Some(v.clone()),
            Outcome::Review => Some(value::undecided_default()),
            Outcome::Fail | Outcome::Pass => None,
        };
        if let Some(written) = written {
            let target_doc = filled.get_or_insert_with(|| (**doc).clone());
            fill(target_doc, &default.steps, &written, 0);
        }
        out.applied.push(applied(default, outcome, decided_by));
    }
    out.doc = filled.map(Arc::new);
    out
}

fn applied(default: &SettingDefault, outcome: Outcome, decided_by: Vec<String>) -> AppliedDefault {
    AppliedDefault {
        setting: default.setting(),
        path: default.path.text().to_owned(),
        aws: default.aws.clone(),
        reference: default.reference.clone(),
        outcome,
        decided_by,
    }
}

/// The default a related resource decides: its setting when the plan has it (all related
/// resources agreeing), else `otherwise`; `from-unset` when this resource names none.
fn resolve(
    evaluator: &Evaluator<'_>,
    related: &RelatedDefault,
    resource: &Resource,
    doc: &Value,
    budget: &mut Budget,
) -> (Outcome, Vec<String>) {
    if let Some(from) = &related.check.from
        && let Some(steps) = from.name_steps()
        && unset(doc, &steps, 0)
    {
        let outcome = related
            .from_unset
            .clone()
            .unwrap_or_else(|| related.otherwise.clone());
        return (outcome, Vec::new());
    }
    let key = RelationKey::of(resource.source, &related.check);
    let found =
        evaluator
            .relations
            .lookup(&key, resource, doc, related.check.from.as_ref(), budget);
    let mut known: Vec<Value> = Vec::new();
    let mut undecided = false;
    let mut addresses = Vec::new();
    for other in found.iter().filter_map(|&i| evaluator.resources.get(i)) {
        addresses.push(other.address.clone());
        let projection = evaluator
            .projections
            .get(other.source, &other.type_name, false);
        let Ok(docs) = other.documents_for(projection) else {
            undecided = true;
            continue;
        };
        let selection = related.value.select(&docs.after, false, budget);
        match selection.hits.first().map(|h| h.value) {
            Some(v) if marker(v).is_some() => undecided = true,
            Some(v) if !is_nothing(v) => known.push(v.clone()),
            _ if selection.hidden => undecided = true,
            // The related resource does not say either.
            _ => {}
        }
    }
    addresses.sort();
    addresses.dedup();
    let outcome = match known.split_first() {
        _ if undecided => Outcome::Review,
        Some((first, rest)) if rest.iter().all(|v| v == first) => Outcome::Value(first.clone()),
        Some(_) => Outcome::Review,
        None => related.otherwise.clone(),
    };
    (outcome, addresses)
}

/// Nothing there: absent, `null`, or the empty string providers write for an unset string.
fn is_nothing(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        _ => false,
    }
}

/// Whether the setting at `steps` is not set somewhere: nothing at the end of the path, or
/// the path stops at an absent member or an empty list of blocks. A value known only after
/// apply is not unset (nor anything under it), and a value of another shape than the path
/// reads is left to the conditions (a type error).
fn unset(node: &Value, steps: &[PathStep], depth: usize) -> bool {
    if depth > 64 || marker(node).is_some() {
        return false;
    }
    let Some((step, rest)) = steps.split_first() else {
        return is_nothing(node);
    };
    match (step, node) {
        (_, Value::Null) => true,
        (PathStep::Name(name), Value::Object(map)) => match map.get(name) {
            None => true,
            Some(child) => unset(child, rest, depth + 1),
        },
        (PathStep::Each, Value::Array(items)) => {
            items.is_empty() || items.iter().any(|item| unset(item, rest, depth + 1))
        }
        (PathStep::Each, Value::Object(map)) => map.values().any(|v| unset(v, rest, depth + 1)),
        _ => false,
    }
}

/// Writes `value` where the setting at `steps` is not set (see [`unset`]).
fn fill(node: &mut Value, steps: &[PathStep], value: &Value, depth: usize) {
    if depth > 64 || marker(node).is_some() {
        return;
    }
    let Some((step, rest)) = steps.split_first() else {
        if is_nothing(node) {
            *node = value.clone();
        }
        return;
    };
    match (step, &mut *node) {
        (_, Value::Null) => *node = build(steps, value),
        (PathStep::Name(name), Value::Object(map)) => match map.get_mut(name) {
            Some(child) => fill(child, rest, value, depth + 1),
            None => {
                map.insert(name.clone(), build(rest, value));
            }
        },
        (PathStep::Each, Value::Array(items)) => {
            if items.is_empty() {
                items.push(build(rest, value));
            } else {
                for item in items.iter_mut() {
                    fill(item, rest, value, depth + 1);
                }
            }
        }
        (PathStep::Each, Value::Object(map)) => {
            for child in map.values_mut() {
                fill(child, rest, value, depth + 1);
            }
        }
        _ => {}
    }
}

/// The value `steps` lead to when nothing is there yet: objects for names, one block for `[*]`.
fn build(steps: &[PathStep], value: &Value) -> Value {
    match steps.split_first() {
        None => value.clone(),
        Some((PathStep::Name(name), rest)) => {
            let mut map = serde_json::Map::new();
            map.insert(name.clone(), build(rest, value));
            Value::Object(map)
        }
        Some((PathStep::Each, rest)) => Value::Array(vec![build(rest, value)]),
    }
}

/// Marks the values the conditions read where a default was written, so that evidence does
/// not read as if the configuration had set them: `true (not set; AWS's default)`.
pub(crate) fn annotate(evidence: &mut [Evidence], applied: &[AppliedDefault]) {
    for item in evidence.iter_mut() {
        let place = declared_form(&item.path);
        let written = applied
            .iter()
            .any(|a| matches!(a.outcome, Outcome::Value(_)) && a.path == place);
        if written && let Some(actual) = &item.actual {
            item.actual = Some(format!("{actual} (not set; AWS's default)"));
        }
    }
}

/// An evidence path in the form defaults are declared in: `$.a[0] → $.b` → `$.a[*].b`.
fn declared_form(path: &str) -> String {
    let joined = path.replace(" → $", "");
    let mut out = String::with_capacity(joined.len());
    let mut chars = joined.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '[' && chars.peek().is_some_and(char::is_ascii_digit) {
            while chars.next_if(char::is_ascii_digit).is_some() {}
            if chars.next_if_eq(&']').is_some() {
                out.push_str("[*]");
                continue;
            }
            out.push('[');
            continue;
        }
        out.push(c);
    }
    out
}

/// The message's account of the defaults that decided a result that is not a pass: `None`
/// when no default applied (or only safe ones).
pub(crate) fn message(applied: &[AppliedDefault], review: bool) -> Option<String> {
    let parts: Vec<String> = applied
        .iter()
        .filter(|a| match a.outcome {
            Outcome::Pass => false,
            Outcome::Review => review,
            Outcome::Fail | Outcome::Value(_) => true,
        })
        .map(|a| {
            let mut text = format!("`{}` not set; AWS's default is {}", a.setting, a.aws.trim());
            if review && a.outcome == Outcome::Review {
                text.push_str(" (not decided by the plan)");
            }
            text
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn steps(names: &[&str]) -> Vec<PathStep> {
        names
            .iter()
            .map(|n| match *n {
                "*" => PathStep::Each,
                name => PathStep::Name(name.to_owned()),
            })
            .collect()
    }

    #[test]
    fn absent_null_empty_and_missing_blocks_are_unset() {
        let path = steps(&["metadata_options", "*", "http_tokens"]);
        for doc in [
            json!({}),
            json!({"metadata_options": null}),
            json!({"metadata_options": []}),
            json!({"metadata_options": [{"http_endpoint": "enabled"}]}),
            json!({"metadata_options": [{"http_tokens": ""}]}),
            json!({"metadata_options": [{"http_tokens": "required"}, {}]}),
        ] {
            assert!(unset(&doc, &path, 0), "{doc}");
            let mut filled = doc.clone();
            fill(&mut filled, &path, &json!("optional"), 0);
            assert!(!unset(&filled, &path, 0), "{filled}");
            let tokens: Vec<&Value> = filled["metadata_options"]
                .as_array()
                .unwrap()
                .iter()
                .map(|b| &b["http_tokens"])
                .collect();
            assert!(tokens.contains(&&json!("optional")), "{filled}");
        }
    }

    #[test]
    fn evidence_paths_compare_in_declared_form() {
        assert_eq!(
            declared_form("$.metadata_options[0] → $.http_tokens"),
            "$.metadata_options[*].http_tokens"
        );
        assert_eq!(
            declared_form("$.block_device_mappings[12].ebs[0] → $.encrypted"),
            "$.block_device_mappings[*].ebs[*].encrypted"
        );
        assert_eq!(declared_form("$.encrypted"), "$.encrypted");
    }

    #[test]
    fn set_unknown_and_misshapen_values_are_not_unset() {
        let path = steps(&["metadata_options", "*", "http_tokens"]);
        for doc in [
            json!({"metadata_options": [{"http_tokens": "required"}]}),
            json!({"metadata_options": value::UNKNOWN_MARKER}),
            json!({"metadata_options": [{"http_tokens": value::UNKNOWN_SET_MARKER}]}),
            json!({"metadata_options": "text"}),
        ] {
            assert!(!unset(&doc, &path, 0), "{doc}");
            let mut same = doc.clone();
            fill(&mut same, &path, &json!("optional"), 0);
            assert_eq!(same, doc);
        }
    }
}
