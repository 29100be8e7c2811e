//! Markers that stand in for values a policy must not see as ordinary data.
//!
//! A Terraform plan knows some values only after apply (`after_unknown`) and marks others as
//! sensitive (`*_sensitive`). Loaders replace both, at load, with one of the markers below, so
//! that evaluation can tell "unknown" from "absent" and no output can ever contain a secret:
//! the secret is gone from memory before any policy runs.
//!
//! The markers are JSON strings that start with a NUL character, which no Terraform or AWS
//! Config value contains.

use serde_json::Value;

/// Text of the marker for a value known only after apply.
pub const UNKNOWN_MARKER: &str = "\u{0}resilix:unknown-after-apply";
/// Text of the marker for a value known only after apply that the configuration sets (by a
/// reference to another object): it will exist, but its value is not known yet.
pub const UNKNOWN_SET_MARKER: &str = "\u{0}resilix:set-known-after-apply";
/// Text of the marker evaluation writes for a judged setting the configuration leaves out when
/// AWS's default for it is not decided by the plan (`defaults:` of a policy): undecided, like
/// a value known only after apply, but shown for what it is.
pub const UNDECIDED_DEFAULT_MARKER: &str = "\u{0}resilix:undecided-default";
/// Text of the marker for a redacted sensitive value.
pub const SENSITIVE_MARKER: &str = "\u{0}resilix:sensitive";

/// What a JSON value is, as far as evaluation is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    /// A value known only after apply.
    Unknown,
    /// A value known only after apply that is certainly set (the configuration references
    /// another object for it).
    UnknownSet,
    /// A value redacted at load because the input marked it sensitive.
    Sensitive,
    /// A setting left to an AWS default that the plan does not decide (written by evaluation).
    UndecidedDefault,
}

/// The marker a value stands for, if it is one.
#[inline]
pub fn marker(value: &Value) -> Option<Marker> {
    match value {
        Value::String(s) if s.starts_with('\u{0}') => match s.as_str() {
            UNKNOWN_MARKER => Some(Marker::Unknown),
            UNKNOWN_SET_MARKER => Some(Marker::UnknownSet),
            SENSITIVE_MARKER => Some(Marker::Sensitive),
            UNDECIDED_DEFAULT_MARKER => Some(Marker::UndecidedDefault),
            _ => None,
        },
        _ => None,
    }
}

/// A short name of a JSON value's type, for messages (`a string`, `a list`, …).
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// A fresh unknown marker value.
pub fn unknown() -> Value {
    Value::String(UNKNOWN_MARKER.to_owned())
}

/// A fresh marker for a set value known only after apply.
pub fn unknown_set() -> Value {
    Value::String(UNKNOWN_SET_MARKER.to_owned())
}

/// A fresh marker for a setting left to an AWS default the plan does not decide.
pub fn undecided_default() -> Value {
    Value::String(UNDECIDED_DEFAULT_MARKER.to_owned())
}

/// A fresh sensitive marker value.
pub fn sensitive() -> Value {
    Value::String(SENSITIVE_MARKER.to_owned())
}

/// How a value is shown to people: markers get a readable stand-in, long strings are cut.
///
/// Every output that quotes a value from a resource goes through this function.
pub fn display(value: &Value) -> String {
    const MAX: usize = 120;
    match marker(value) {
        Some(Marker::Unknown) => "(known after apply)".to_owned(),
        Some(Marker::UnknownSet) => "(set, known after apply)".to_owned(),
        Some(Marker::Sensitive) => "(sensitive)".to_owned(),
        Some(Marker::UndecidedDefault) => "(not set; AWS's default)".to_owned(),
        None => {
            let text = match value {
                Value::String(s) => format!("{s:?}"),
                other => contains_marker_free(other),
            };
            truncate(&text, MAX)
        }
    }
}

/// Renders a compound value with its markers replaced by their stand-ins.
fn contains_marker_free(value: &Value) -> String {
    fn scrub(value: &Value, depth: usize) -> Value {
        if depth > 64 {
            return Value::String("…".to_owned());
        }
        match value {
            Value::String(_) => match marker(value) {
                Some(Marker::Unknown) => Value::String("(known after apply)".to_owned()),
                Some(Marker::UnknownSet) => Value::String("(set, known after apply)".to_owned()),
                Some(Marker::Sensitive) => Value::String("(sensitive)".to_owned()),
                Some(Marker::UndecidedDefault) => {
                    Value::String("(not set; AWS's default)".to_owned())
                }
                None => value.clone(),
            },
            Value::Array(items) => {
                Value::Array(items.iter().map(|v| scrub(v, depth + 1)).collect())
            }
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), scrub(v, depth + 1)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
    scrub(value, 0).to_string()
}

/// Cuts `text` to at most `max` characters, marking the cut.
pub fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_owned(),
        Some((cut, _)) => {
            let mut out = text.get(..cut).unwrap_or(text).to_owned();
            out.push('…');
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn markers_are_recognised_and_displayed_without_their_text() {
        assert_eq!(marker(&unknown()), Some(Marker::Unknown));
        assert_eq!(marker(&sensitive()), Some(Marker::Sensitive));
        assert_eq!(marker(&json!("plain")), None);
        assert_eq!(display(&sensitive()), "(sensitive)");
        let nested = json!({"password": SENSITIVE_MARKER, "id": UNKNOWN_MARKER});
        let shown = display(&nested);
        assert!(!shown.contains('\u{0}'), "{shown}");
        assert!(shown.contains("(sensitive)") && shown.contains("(known after apply)"));
    }

    #[test]
    fn long_values_are_cut_on_a_character_boundary() {
        let long = "é".repeat(300);
        let shown = display(&Value::String(long));
        assert!(shown.chars().count() <= 121);
        assert!(shown.ends_with('…'));
    }
}
