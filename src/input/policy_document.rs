//! IAM-style policy documents (identity, resource and trust policies), wherever they appear:
//! JSON strings in plans, URL-encoded JSON in AWS Config items, objects in hybrid samples.
//!
//! Documents are normalized so policies can query one shape: `Statement` is always a list;
//! `Action`, `NotAction`, `Resource` and `NotResource` are always lists; `Principal` is always an
//! object of lists (`"*"` becomes `{"AWS": ["*"]}`); every `Condition` value is a list
//! (`{"Bool": {"aws:SecureTransport": "false"}}` becomes `… ["false"]`), as IAM reads a single
//! value. A policy then reads `$.Condition.Bool['aws:SecureTransport'][*]` whichever way the
//! document was written, and a path that meets a single value where it reads a list is an error.

use percent_encoding::percent_decode_str;
use serde_json::{Map, Value};

/// Decodes a policy document from text: plain JSON, or URL-encoded JSON as IAM and AWS Config
/// return it. `None` when the text is neither.
pub fn decode(text: &str) -> Option<Value> {
    let trimmed = text.trim_start();
    let decoded;
    let json = if trimmed.starts_with('%') {
        decoded = percent_decode_str(trimmed).decode_utf8().ok()?;
        decoded.as_ref()
    } else {
        trimmed
    };
    let mut value: Value = serde_json::from_str(json).ok()?;
    normalize(&mut value);
    Some(value)
}

/// Whether text looks like an encoded policy document worth decoding at load.
pub(crate) fn looks_like_policy(text: &str) -> bool {
    let t = text.trim_start();
    (t.starts_with('{') && t.contains("\"Statement\""))
        || ((t.starts_with("%7B") || t.starts_with("%7b")) && t.contains("Statement"))
}

/// Normalizes a decoded policy document in place (see the module docs). Values that are not
/// policy documents are left as they are.
pub fn normalize(document: &mut Value) {
    let Some(map) = document.as_object_mut() else {
        return;
    };
    let Some(statement) = map.get_mut("Statement") else {
        return;
    };
    if statement.is_object() {
        let single = statement.take();
        *statement = Value::Array(vec![single]);
    }
    if let Value::Array(statements) = statement {
        for statement in statements.iter_mut().filter_map(Value::as_object_mut) {
            for key in ["Action", "NotAction", "Resource", "NotResource"] {
                if let Some(value) = statement.get_mut(key) {
                    to_list(value);
                }
            }
            for key in ["Principal", "NotPrincipal"] {
                if let Some(principal) = statement.get_mut(key) {
                    normalize_principal(principal);
                }
            }
            if let Some(Value::Object(operators)) = statement.get_mut("Condition") {
                for keys in operators.values_mut().filter_map(Value::as_object_mut) {
                    keys.values_mut().for_each(to_list);
                }
            }
        }
    }
}

fn to_list(value: &mut Value) {
    if !value.is_array() && !value.is_null() {
        let single = value.take();
        *value = Value::Array(vec![single]);
    }
}

fn normalize_principal(principal: &mut Value) {
    match principal {
        Value::String(_) => {
            let single = principal.take();
            let mut map = Map::new();
            map.insert("AWS".to_owned(), Value::Array(vec![single]));
            *principal = Value::Object(map);
        }
        Value::Object(map) => {
            for value in map.values_mut() {
                to_list(value);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn url_encoded_documents_are_decoded_and_normalized() {
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22*%22%2C%22Resource%22%3A%22*%22%2C%22Principal%22%3A%22*%22%7D%7D";
        assert!(looks_like_policy(encoded));
        assert_eq!(
            decode(encoded),
            Some(json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["*"], "Resource": ["*"], "Principal": {"AWS": ["*"]}}
            ]}))
        );
    }

    #[test]
    fn condition_values_are_lists() {
        let text = r#"{"Statement": [{"Effect": "Deny", "Condition": {
            "Bool": {"aws:SecureTransport": "false"},
            "StringLike": {"token.actions.githubusercontent.com:sub": ["repo:a/b:*"]}}}]}"#;
        assert_eq!(
            decode(text).unwrap()["Statement"][0]["Condition"],
            json!({"Bool": {"aws:SecureTransport": ["false"]},
                   "StringLike": {"token.actions.githubusercontent.com:sub": ["repo:a/b:*"]}})
        );
    }

    #[test]
    fn other_json_is_left_alone() {
        assert_eq!(decode("{\"a\": 1}"), Some(json!({"a": 1})));
        assert_eq!(decode("not json"), None);
    }
}
