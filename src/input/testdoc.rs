//! Inputs of inline policy test cases, turned into real input documents and loaded by the real
//! loaders (so a test exercises exactly what a scan does).
//!
//! A `terraform` case maps addresses to planned values:
//!
//! ```yaml
//! terraform:
//!   aws_s3_bucket.data: {bucket: data}
//!   aws_s3_bucket_public_access_block.data:
//!     bucket: {$ref: aws_s3_bucket.data.id}     # a reference, unknown until apply
//!     block_public_acls: true
//!   aws_db_instance.main:
//!     password: {$sensitive: hunter2}           # marked sensitive in the plan
//!     kms_key_id: {$unknown: true}              # set, but known only after apply
//!     policy: {$computed: true}                 # not set: the provider computes it
//!     $actions: [delete, create]                # planned actions (default: create)
//!     $before: {storage_encrypted: true}        # values before the change
//! ```
//!
//! References are relative to the module of the resource that holds them, as in Terraform.
//! An `aws-config` case is a list of configuration items in any shape the loader reads.

use serde_json::{Map, Value, json};

/// Builds the plan JSON text of a `terraform` test input.
pub fn terraform_plan(input: &Value) -> Result<String, String> {
    let Value::Object(resources) = input else {
        return Err("a terraform test input maps resource addresses to values".to_owned());
    };
    let mut changes = Vec::new();
    let mut modules: Map<String, Value> = Map::new();
    for (address, values) in resources {
        let parsed = parse_address(address)
            .ok_or_else(|| format!("`{address}` is not a resource address"))?;
        let Value::Object(values) = values else {
            return Err(format!("the values of `{address}` must be a mapping"));
        };
        let mut values = values.clone();
        let actions = values
            .remove("$actions")
            .unwrap_or_else(|| json!(["create"]));
        let before = values.remove("$before").unwrap_or(Value::Null);
        let drift = values
            .remove("$drift")
            .is_some_and(|d| d == Value::Bool(true));
        let mut after = Value::Object(values);
        let mut unknown = Value::Object(Map::new());
        let mut sensitive = Value::Object(Map::new());
        let mut expressions = Value::Object(Map::new());
        split_markers(
            &mut after,
            &mut unknown,
            &mut sensitive,
            &mut expressions,
            0,
        )?;
        let destroyed = actions.as_array().is_some_and(|a| {
            a.iter().any(|x| x == "delete" || x == "forget") && !a.iter().any(|x| x == "create")
        });
        let mut change = json!({
            "address": address,
            "mode": if parsed.data { "data" } else { "managed" },
            "type": parsed.type_name,
            "name": parsed.name,
            "provider_name": "registry.terraform.io/hashicorp/aws",
            "change": {
                "actions": actions,
                "before": before,
                "after": if destroyed { Value::Null } else { after },
                "after_unknown": if destroyed { json!({}) } else { unknown },
                "before_sensitive": false,
                "after_sensitive": if destroyed { json!(false) } else { sensitive },
            }
        });
        if let (Some(module), Some(obj)) = (&parsed.module, change.as_object_mut()) {
            obj.insert("module_address".to_owned(), Value::String(module.clone()));
        }
        if let (Some(index), Some(obj)) = (&parsed.index, change.as_object_mut()) {
            obj.insert("index".to_owned(), index.clone());
        }
        changes.push((drift, change));
        let config_resource = json!({
            "address": parsed.local_address(),
            "mode": if parsed.data { "data" } else { "managed" },
            "type": parsed.type_name,
            "name": parsed.name,
            "expressions": expressions,
        });
        let module_key = parsed.module_calls().join("/");
        let entry = modules.entry(module_key).or_insert_with(|| json!([]));
        if let Value::Array(list) = entry
            && !list
                .iter()
                .any(|r| r.get("address") == config_resource.get("address"))
        {
            list.push(config_resource);
        }
    }
    let mut root = json!({"resources": [], "module_calls": {}});
    for (key, resources) in modules {
        let calls: Vec<&str> = if key.is_empty() {
            Vec::new()
        } else {
            key.split('/').collect()
        };
        let mut node = &mut root;
        for call in calls {
            let Some(next) = node
                .get_mut("module_calls")
                .and_then(Value::as_object_mut)
                .map(|m| {
                    m.entry(call.to_owned())
                        .or_insert_with(|| json!({"source": format!("./{call}"), "module": {"resources": [], "module_calls": {}}}))
                })
                .and_then(|c| c.get_mut("module"))
            else {
                return Err("could not build the module tree".to_owned());
            };
            node = next;
        }
        if let Some(obj) = node.as_object_mut() {
            obj.insert("resources".to_owned(), resources);
        }
    }
    let (drift, changes): (Vec<_>, Vec<_>) = changes.into_iter().partition(|(d, _)| *d);
    let plan = json!({
        "format_version": "1.2",
        "terraform_version": "1.9.0",
        "resource_changes": changes.into_iter().map(|(_, c)| c).collect::<Vec<_>>(),
        "resource_drift": drift.into_iter().map(|(_, c)| c).collect::<Vec<_>>(),
        "configuration": {"root_module": root},
    });
    serde_json::to_string_pretty(&plan).map_err(|e| e.to_string())
}

/// Builds the AWS Config JSON text of an `aws-config` test input.
/// With `changes_since`, the items are a history (as `resilix audit --changes-since --save`
/// writes one): its changes since then are what is judged.
pub fn aws_config_items(input: &Value, changes_since: Option<&str>) -> Result<String, String> {
    if !input.is_array() {
        return Err("an aws-config test input is a list of configuration items".to_owned());
    }
    let mut items = input.clone();
    if let Value::Array(list) = &mut items {
        for item in list.iter_mut().filter_map(Value::as_object_mut) {
            item.entry("configurationItemStatus")
                .or_insert_with(|| json!("OK"));
            item.entry("awsAccountId")
                .or_insert_with(|| json!("123456789012"));
            item.entry("awsRegion")
                .or_insert_with(|| json!("us-east-1"));
        }
    }
    let mut document = json!({"fileVersion": "1.0", "configurationItems": items});
    if let (Some(since), Some(fields)) = (changes_since, document.as_object_mut()) {
        fields.insert(
            super::snapshot::RECORD_KEY.to_owned(),
            json!({"tool": "resilix policies test", "scope": [], "resourceTypes": [],
                   "method": "history", "changesSince": since, "complete": true}),
        );
    }
    serde_json::to_string_pretty(&document).map_err(|e| e.to_string())
}

/// Moves `$ref`, `$unknown` and `$sensitive` markers out of `after` into the masks and the
/// configuration expressions.
fn split_markers(
    after: &mut Value,
    unknown: &mut Value,
    sensitive: &mut Value,
    expressions: &mut Value,
    depth: usize,
) -> Result<(), String> {
    if depth > 32 {
        return Err("test values nest too deeply".to_owned());
    }
    let Value::Object(map) = after else {
        return Ok(());
    };
    let keys: Vec<String> = map.keys().cloned().collect();
    for key in keys {
        let Some(value) = map.get_mut(&key) else {
            continue;
        };
        if let Some(reference) = value.get("$ref").and_then(Value::as_str) {
            let base: Vec<&str> = reference
                .split('.')
                .take(if reference.starts_with("data.") { 3 } else { 2 })
                .collect();
            let refs = vec![json!(reference), json!(base.join("."))];
            set(expressions, &key, json!({"references": refs}));
            set(unknown, &key, json!(true));
            map.remove(&key);
            continue;
        }
        if value.get("$unknown").is_some() {
            // Set in the configuration, known only after apply: Terraform writes an expression
            // without constant or references (a function such as uuid()) as `{}`.
            set(expressions, &key, json!({}));
            set(unknown, &key, json!(true));
            map.remove(&key);
            continue;
        }
        if value.get("$computed").is_some() {
            // Not in the configuration, known only after apply: the provider computes it (an
            // Optional+Computed argument the author left out, such as a v4 bucket's `policy`).
            set(unknown, &key, json!(true));
            map.remove(&key);
            continue;
        }
        if let Some(secret) = value.get("$sensitive").cloned() {
            set(expressions, &key, json!({"constant_value": secret.clone()}));
            *value = secret;
            set(sensitive, &key, json!(true));
            continue;
        }
        match value {
            Value::Object(_) => {
                let (mut u, mut s, mut e) = (json!({}), json!({}), json!({}));
                split_markers(value, &mut u, &mut s, &mut e, depth + 1)?;
                keep(unknown, &key, u);
                keep(sensitive, &key, s);
                set(expressions, &key, e);
            }
            Value::Array(items) if !items.iter().any(Value::is_object) => {
                set(expressions, &key, json!({"constant_value": items.clone()}));
            }
            Value::Array(items) => {
                let (mut us, mut ss, mut es) = (Vec::new(), Vec::new(), Vec::new());
                for item in items.iter_mut() {
                    let (mut u, mut s, mut e) = (json!({}), json!({}), json!({}));
                    split_markers(item, &mut u, &mut s, &mut e, depth + 1)?;
                    us.push(u);
                    ss.push(s);
                    es.push(e);
                }
                keep(unknown, &key, Value::Array(us));
                keep(sensitive, &key, Value::Array(ss));
                set(expressions, &key, Value::Array(es));
            }
            other => set(expressions, &key, json!({"constant_value": other.clone()})),
        }
    }
    Ok(())
}

fn set(target: &mut Value, key: &str, value: Value) {
    if let Value::Object(map) = target {
        map.insert(key.to_owned(), value);
    }
}

/// Sets `key` only when `value` holds something worth recording.
fn keep(target: &mut Value, key: &str, value: Value) {
    let empty = match &value {
        Value::Object(m) => m.is_empty(),
        Value::Array(items) => items
            .iter()
            .all(|v| v.as_object().is_some_and(Map::is_empty)),
        _ => false,
    };
    if !empty {
        set(target, key, value);
    }
}

struct ParsedAddress {
    module: Option<String>,
    data: bool,
    type_name: String,
    name: String,
    index: Option<Value>,
}

impl ParsedAddress {
    fn local_address(&self) -> String {
        if self.data {
            format!("data.{}.{}", self.type_name, self.name)
        } else {
            format!("{}.{}", self.type_name, self.name)
        }
    }

    fn module_calls(&self) -> Vec<String> {
        let Some(module) = &self.module else {
            return Vec::new();
        };
        let stripped = super::terraform_config::strip_instance_keys(module);
        stripped
            .split('.')
            .collect::<Vec<_>>()
            .chunks(2)
            .filter_map(|pair| match pair {
                ["module", name] => Some((*name).to_owned()),
                _ => None,
            })
            .collect()
    }
}

/// `module.a.aws_s3_bucket.b["k"]` → module `module.a`, type, name, index.
fn parse_address(address: &str) -> Option<ParsedAddress> {
    let (body, index) = match address.strip_suffix(']').and_then(|a| a.rsplit_once('[')) {
        Some((body, index)) => (body, Some(serde_json::from_str::<Value>(index).ok()?)),
        None => (address, None),
    };
    let parts: Vec<&str> = body.split('.').collect();
    let mut i = 0;
    let mut module = Vec::new();
    while parts.get(i) == Some(&"module") {
        module.push(format!("module.{}", parts.get(i + 1)?));
        i += 2;
    }
    let data = parts.get(i) == Some(&"data");
    if data {
        i += 1;
    }
    let (type_name, name) = (parts.get(i)?, parts.get(i + 1)?);
    if parts.len() != i + 2 {
        return None;
    }
    Some(ParsedAddress {
        module: (!module.is_empty()).then(|| module.join(".")),
        data,
        type_name: (*type_name).to_owned(),
        name: (*name).to_owned(),
        index,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::{LoadOptions, load_text};
    use crate::model::value::{Marker, marker};

    #[test]
    fn test_inputs_become_real_plans() {
        let input = json!({
            "aws_s3_bucket.data": {"bucket": "data"},
            "module.m.aws_s3_bucket_public_access_block.data[0]": {
                "bucket": {"$ref": "aws_s3_bucket.data.id"},
                "secret": {"$sensitive": "hunter2"},
            },
        });
        let text = terraform_plan(&input).unwrap();
        let loaded = load_text("test.json", &text, &LoadOptions::default()).unwrap();
        assert_eq!(loaded.resources.len(), 2);
        let block = loaded
            .resources
            .iter()
            .find(|r| r.type_name.as_ref() == "aws_s3_bucket_public_access_block")
            .unwrap();
        assert_eq!(
            block.references.first().map(|r| r.targets.clone()),
            Some(vec!["module.m.aws_s3_bucket.data".to_owned()])
        );
        let doc = block.documents().unwrap().after;
        assert_eq!(marker(&doc["bucket"]), Some(Marker::UnknownSet));
        assert_eq!(marker(&doc["secret"]), Some(Marker::Sensitive));
        assert!(!text.contains("$ref"));
    }
}
