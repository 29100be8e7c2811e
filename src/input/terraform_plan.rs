//! Terraform and OpenTofu plan JSON (`terraform show -json plan.out`), format versions 0.1–1.2.
//!
//! The plan's skeleton is parsed with typed serde, borrowing from the text; each resource's
//! values stay text until a policy needs them ([`PlanDocument`]), then are parsed with the
//! `after_unknown` and `*_sensitive` masks applied. Fields are feature-detected; only an unknown
//! major format version is refused.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use super::envelope::{Envelope, RawList, member_offset, offset_in};
use super::hcl::{self, SourceIndex};
use super::projected;
use super::terraform_config::{self, ConfigIndex, Shape, strip_instance_keys};
use super::{LoadError, LoadOptions, LoadWarning, Loaded};
use crate::model::{
    Action, Actions, Body, Change, CloudContext, DocError, Documents, ItemStatus, LazyDocument,
    Mode, Origin, Projection, Reference, Resource, SourceKind, value,
};
use crate::source::SourceFile;

#[derive(Deserialize)]
struct RawResourceChange<'a> {
    #[serde(borrow, default)]
    address: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    module_address: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    mode: Option<Cow<'a, str>>,
    #[serde(borrow, default, rename = "type")]
    type_name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    index: Option<&'a RawValue>,
    #[serde(borrow, default)]
    deposed: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    previous_address: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    action_reason: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    change: Option<RawChange<'a>>,
}

#[derive(Deserialize)]
struct RawChange<'a> {
    #[serde(borrow, default)]
    actions: Vec<Cow<'a, str>>,
    #[serde(borrow, default)]
    before: Option<&'a RawValue>,
    #[serde(borrow, default)]
    after: Option<&'a RawValue>,
    #[serde(borrow, default)]
    after_unknown: Option<&'a RawValue>,
    #[serde(borrow, default)]
    before_sensitive: Option<&'a RawValue>,
    #[serde(borrow, default)]
    after_sensitive: Option<&'a RawValue>,
}

pub(crate) fn load(
    file: &Arc<SourceFile>,
    env: &Envelope<'_>,
    options: &LoadOptions,
) -> Result<Loaded, LoadError> {
    check_version(file, env)?;
    let mut warnings = Vec::new();
    // A damaged `configuration` is an error, not a plan without one: without it, values known
    // only after apply would all stay undecided, and a failing resource would read as "review".
    let config = match env.configuration {
        Some(raw) => Some(terraform_config::index(
            file,
            raw,
            options.reference_types.as_deref(),
        )?),
        None => None,
    };
    let sources = index_sources(file, config.as_ref(), options, &mut warnings);
    let mut unknown_actions = Vec::new();
    let lists = [
        (env.resource_changes.as_ref(), false),
        (env.resource_drift.as_ref(), true),
    ];
    let total = lists
        .iter()
        .filter_map(|(list, _)| match list {
            Some(RawList::List(elements)) => Some(elements.len()),
            _ => None,
        })
        .sum();
    // One vector, sized for both lists, that resources are converted straight into.
    let mut resources = Vec::with_capacity(total);
    for (list, drift) in lists {
        let elements = match list {
            None => continue,
            Some(RawList::List(elements)) => elements,
            Some(RawList::NotAList) => return Err(not_a_list(file, drift)),
        };
        // Unknown action names are rare.
        let unknown = Mutex::new(Vec::new());
        super::convert_into(&mut resources, elements, |element| {
            let (resource, names) = convert(file, element, drift, config.as_ref(), &sources)?;
            if !names.is_empty() {
                unknown
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .extend(names);
            }
            Ok(resource)
        })?;
        unknown_actions.extend(unknown.into_inner().unwrap_or_else(PoisonError::into_inner));
    }
    unknown_actions.sort();
    unknown_actions.dedup();
    if !unknown_actions.is_empty() {
        warnings.push(LoadWarning {
            name: file.name().to_owned(),
            message: format!(
                "unknown planned action(s) {}: treated as unspecified (a list holding `delete` still counts as a deletion)",
                unknown_actions.join(", ")
            ),
            help: None,
        });
    }
    Ok(Loaded {
        resources,
        warnings,
        errors: Vec::new(),
    })
}

/// One empty reference list shared by the resources that have none (an `Arc` of an empty
/// slice still allocates its counts).
static NO_REFERENCES: LazyLock<Arc<[Reference]>> = LazyLock::new(|| Arc::from(Vec::new()));

/// The error for a `resource_changes` (or `resource_drift`) that is not a list, at its place.
fn not_a_list(file: &Arc<SourceFile>, drift: bool) -> LoadError {
    let name = if drift {
        "resource_drift"
    } else {
        "resource_changes"
    };
    LoadError::invalid_at(
        file,
        member_offset(file, file.text(), name),
        format!("`{name}` must be a list of resource changes"),
        "not a list",
        None,
    )
}

/// The declarations in the plan's `.tf` sources, when they are at hand.
fn index_sources(
    file: &Arc<SourceFile>,
    config: Option<&ConfigIndex>,
    options: &LoadOptions,
    warnings: &mut Vec<LoadWarning>,
) -> SourceIndex {
    let Some(root) = hcl::root_for(&options.terraform_sources, file.name(), warnings) else {
        return SourceIndex::default();
    };
    let no_modules = terraform_config::ModuleTree::default();
    let tree = config.map_or(&no_modules, |c| &c.modules);
    let (index, found) = hcl::index_sources(&root, tree, options.max_bytes);
    warnings.extend(found);
    index
}

fn check_version(file: &Arc<SourceFile>, env: &Envelope<'_>) -> Result<(), LoadError> {
    let Some(raw) = env.format_version else {
        return Ok(());
    };
    let offset = offset_in(file, raw.get());
    let version: String = serde_json::from_str(raw.get()).map_err(|_| {
        LoadError::invalid_at(
            file,
            offset,
            "`format_version` must be a string such as \"1.2\"",
            "not a string",
            None,
        )
    })?;
    let major = version
        .split('.')
        .next()
        .and_then(|m| m.parse::<u64>().ok());
    match major {
        Some(0 | 1) => Ok(()),
        _ => Err(LoadError::invalid_at(
            file,
            offset,
            format!("unsupported plan format_version {version:?}"),
            "unknown major version",
            Some("resilix reads plan JSON format versions 0.x and 1.x (Terraform 0.12 and later, OpenTofu); a new major version may have changed the format incompatibly".to_owned()),
        )),
    }
}

fn convert(
    file: &Arc<SourceFile>,
    element: &RawValue,
    drift: bool,
    config: Option<&ConfigIndex>,
    sources: &SourceIndex,
) -> Result<(Resource, Vec<String>), LoadError> {
    let base = offset_in(file, element.get());
    if !element.get().starts_with('{') {
        return Err(LoadError::invalid_at(
            file,
            base,
            "each resource change must be a JSON object",
            "not an object",
            None,
        ));
    }
    let raw: RawResourceChange<'_> = serde_json::from_str(element.get())
        .map_err(|error| LoadError::from_json(file, base, &error))?;
    let Some(type_name) = raw.type_name.as_deref() else {
        return Err(LoadError::invalid_at(
            file,
            base,
            "a resource change has no `type`",
            "this resource change",
            None,
        ));
    };
    let Some(change) = raw.change.as_ref() else {
        return Err(LoadError::invalid_at(
            file,
            base,
            "a resource change has no `change` object",
            "this resource change",
            None,
        ));
    };
    check_change_values(file, change)?;
    let mode = match raw.mode.as_deref() {
        Some("data") => Mode::Data,
        _ => Mode::Managed,
    };
    let name = raw.name.as_deref().unwrap_or("");
    let index = raw.index.map(|i| index_suffix(i.get())).unwrap_or_default();
    let module = raw.module_address.as_deref().filter(|m| !m.is_empty());
    let local = match mode {
        Mode::Data => format!("data.{type_name}.{name}"),
        Mode::Managed => format!("{type_name}.{name}"),
    };
    let address = match raw.address.as_deref() {
        Some(address) if !address.is_empty() => address.to_owned(),
        _ => match module {
            Some(module) => format!("{module}.{local}{index}"),
            None => format!("{local}{index}"),
        },
    };
    let config_address = match module {
        Some(module) => format!("{}.{local}", strip_instance_keys(module)),
        None => local,
    };
    let mut unknown = Vec::new();
    let mut actions = Vec::new();
    for action in &change.actions {
        match Action::parse(action) {
            Some(a) => actions.push(a),
            None => unknown.push(format!("{action:?}")),
        }
    }
    let range = |raw: Option<&RawValue>| {
        raw.map(|r| {
            let start = offset_in(file, r.get());
            start..start + r.get().len()
        })
    };
    let lazy = PlanDocument {
        file: Arc::clone(file),
        expressions: config.and_then(|c| c.expressions.get(&config_address).cloned()),
        before: range(change.before),
        after: range(change.after),
        after_unknown: range(change.after_unknown),
        before_sensitive: range(change.before_sensitive),
        after_sensitive: range(change.after_sensitive),
    };
    let resource = Resource {
        source: SourceKind::Terraform,
        type_name: Arc::from(type_name),
        address,
        mode,
        change: Some(Change {
            actions: Actions(actions),
            action_reason: raw.action_reason.map(Cow::into_owned),
            drift,
            previous_address: raw.previous_address.map(Cow::into_owned),
            deposed: raw.deposed.map(Cow::into_owned),
            ..Change::default()
        }),
        status: ItemStatus::Active,
        context: CloudContext::default(),
        resource_id: None,
        resource_name: None,
        arn: None,
        references: config
            .and_then(|c| c.references.get(&config_address).cloned())
            .unwrap_or_else(|| Arc::clone(&NO_REFERENCES)),
        relationships: Vec::new(),
        origin: Origin {
            file: Some(Arc::clone(file)),
            offset: Some(base),
            declaration: sources.declaration(&config_address).cloned(),
        },
        config_address: Some(config_address),
        body: Body::Lazy(Arc::new(lazy)),
    };
    Ok((resource, unknown))
}

/// Refuses a change whose values are not what the plan format allows: `before` and `after` are
/// an object or null (a string or a list there is a damaged plan, and a policy reading it would
/// find every attribute "not set"); the masks are an object, a boolean or null.
fn check_change_values(file: &Arc<SourceFile>, change: &RawChange<'_>) -> Result<(), LoadError> {
    let values = [
        ("before", change.before, false),
        ("after", change.after, false),
        ("after_unknown", change.after_unknown, true),
        ("before_sensitive", change.before_sensitive, true),
        ("after_sensitive", change.after_sensitive, true),
    ];
    for (name, raw, mask) in values {
        let Some(raw) = raw else { continue };
        let text = raw.get().trim_start();
        let allowed = match text.as_bytes().first() {
            Some(b'{' | b'n') => true,
            Some(b't' | b'f') => mask,
            _ => false,
        };
        if !allowed {
            let expected = if mask {
                "an object, a boolean or null"
            } else {
                "an object or null"
            };
            return Err(LoadError::invalid_at(
                file,
                offset_in(file, text),
                format!(
                    "a resource change's `{name}` must be {expected}, found {}",
                    super::json_kind(text)
                ),
                "not allowed here",
                None,
            ));
        }
    }
    Ok(())
}

/// `3` → `[3]`, `"a"` → `["a"]`, as Terraform writes instance keys.
fn index_suffix(raw: &str) -> String {
    match serde_json::from_str::<Value>(raw) {
        Ok(Value::Number(n)) => format!("[{n}]"),
        Ok(Value::String(s)) => format!("[{}]", Value::String(s)),
        _ => String::new(),
    }
}

/// A resource's values in a plan, kept as text until evaluated.
struct PlanDocument {
    file: Arc<SourceFile>,
    /// The resource's `expressions` in the plan's configuration (`None`: no configuration).
    expressions: Option<Range<usize>>,
    before: Option<Range<usize>>,
    after: Option<Range<usize>>,
    after_unknown: Option<Range<usize>>,
    before_sensitive: Option<Range<usize>>,
    after_sensitive: Option<Range<usize>>,
}

impl std::fmt::Debug for PlanDocument {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlanDocument")
            .field("file", &self.file.name())
            .field("after", &self.after)
            .finish()
    }
}

impl PlanDocument {
    /// Parses one of the resource's values, keeping only the top-level attributes `projection`
    /// keeps (a value that is not an object is kept whole).
    fn parse(
        &self,
        range: &Option<Range<usize>>,
        projection: &Projection,
    ) -> Result<Value, DocError> {
        let Some(range) = range else {
            return Ok(Value::Null);
        };
        let text = self.file.text().get(range.clone()).unwrap_or("null");
        projected::parse(text, projection.keys.as_ref()).map_err(|error| {
            // serde's line and column are within the values; the error's place is in the file.
            let local = super::file_offset_of(text, error.line(), error.column());
            let raw = error.to_string();
            let message = raw
                .rsplit_once(" at line ")
                .map_or(raw.as_str(), |(m, _)| m);
            DocError {
                message: format!("resource values could not be parsed: {message}"),
                offset: Some(range.start + local.min(text.len())),
            }
        })
    }

    /// A mask (`after_unknown`, `*_sensitive`), or `None` when it marks nothing: a mask without
    /// `true` anywhere in its text is a no-op, and most are (`{}`, `{"tags":{}}`), so they are
    /// not parsed at all.
    fn mask(
        &self,
        range: &Option<Range<usize>>,
        projection: &Projection,
    ) -> Result<Option<Value>, DocError> {
        let Some(text) = range.as_ref().and_then(|r| self.file.text().get(r.clone())) else {
            return Ok(None);
        };
        if memchr::memmem::find(text.as_bytes(), b"true").is_none() {
            return Ok(None);
        }
        let mask = self.parse(range, projection)?;
        Ok(has_true(&mask, 0).then_some(mask))
    }
}

impl LazyDocument for PlanDocument {
    fn materialize(&self, projection: &Projection) -> Result<Documents, DocError> {
        let mut after = self.parse(&self.after, projection)?;
        if let Some(sensitive) = self.mask(&self.after_sensitive, projection)? {
            apply_mask(&mut after, &sensitive, value::sensitive, 0);
        }
        if let Some(unknown) = self.mask(&self.after_unknown, projection)? {
            apply_mask(&mut after, &unknown, value::unknown, 0);
            if let Some(range) = &self.expressions {
                let expressions = if range.is_empty() {
                    Value::Object(serde_json::Map::new())
                } else {
                    self.parse(&Some(range.clone()), projection)?
                };
                classify_unknown(&mut after, Some(&Shape::of_expressions(&expressions)), 0);
            }
        }
        let before = match &self.before {
            Some(_) if projection.before => {
                let mut before = self.parse(&self.before, projection)?;
                if before.is_null() {
                    None
                } else {
                    if let Some(sensitive) = self.mask(&self.before_sensitive, projection)? {
                        apply_mask(&mut before, &sensitive, value::sensitive, 0);
                    }
                    Some(Arc::new(before))
                }
            }
            _ => None,
        };
        Ok(Documents {
            after: Arc::new(after),
            before,
        })
    }
}

/// Uses the configuration to tell apart the values Terraform marks unknown:
/// - set by an expression that references other objects → *set*, value known after apply;
/// - not set in the configuration at all → computed by the provider: for a policy that is the
///   provider's default, so the marker is removed ("not configured");
/// - set otherwise (a constant, a variable) → still unknown.
///
/// `shape` is `None` inside an attribute the configuration does not set.
///
/// A list of known blocks that a configured block does not write is written by a `dynamic`
/// block (which the plan's `configuration` leaves out) or read back from the object: what
/// the configuration says inside it cannot be seen, so its unknown values stay unknown
/// ("configured, known after apply"), never "not configured".
fn classify_unknown(value: &mut Value, shape: Option<&Shape>, depth: usize) {
    if depth > 256 {
        return;
    }
    match value {
        Value::Object(map) => {
            let keys: Vec<String> = map.keys().cloned().collect();
            for key in keys {
                let child_shape = match shape {
                    Some(Shape::Block(fields)) => fields.get(&key),
                    // Inside a referenced or constant attribute (a map value), keep its shape.
                    Some(other @ (Shape::Reference | Shape::Constant)) => Some(other),
                    None => None,
                };
                let Some(child) = map.get_mut(&key) else {
                    continue;
                };
                let unseen_blocks = child_shape.is_none()
                    && matches!(shape, Some(Shape::Block(_)))
                    && child
                        .as_array()
                        .is_some_and(|items| items.iter().any(Value::is_object));
                if unseen_blocks {
                    continue;
                }
                if value::marker(child) == Some(value::Marker::Unknown) {
                    match child_shape {
                        None => {
                            map.remove(&key);
                        }
                        Some(Shape::Reference) => *child = value::unknown_set(),
                        Some(_) => {}
                    }
                } else {
                    classify_unknown(child, child_shape, depth + 1);
                }
            }
        }
        Value::Array(items) => {
            for item in items.iter_mut() {
                if value::marker(item) == Some(value::Marker::Unknown) {
                    match shape {
                        None => *item = Value::Null,
                        Some(Shape::Reference) => *item = value::unknown_set(),
                        Some(_) => {}
                    }
                } else {
                    classify_unknown(item, shape, depth + 1);
                }
            }
        }
        _ => {}
    }
}

/// Replaces every value that `mask` marks `true` with `marker()`. Masks mirror the shape of the
/// values (objects and lists), or are a single boolean for the whole value.
///
/// Sensitive values that are null stay null (nothing secret there); unknown values that are
/// absent are added, since "known after apply" is not "absent".
fn apply_mask(target: &mut Value, mask: &Value, marker: fn() -> Value, depth: usize) {
    if depth > 256 {
        return;
    }
    match mask {
        Value::Bool(true) => {
            let is_sensitive_null = target.is_null() && marker() == value::sensitive();
            if !is_sensitive_null {
                *target = marker();
            }
        }
        Value::Object(fields) => {
            if !has_true(mask, 0) {
                return;
            }
            if !target.is_object() {
                if !target.is_null() {
                    hide_mismatched(target, marker);
                    return;
                }
                *target = Value::Object(serde_json::Map::new());
            }
            if let Value::Object(map) = target {
                for (key, sub) in fields {
                    if !has_true(sub, 0) {
                        continue;
                    }
                    let slot = map.entry(key.clone()).or_insert(Value::Null);
                    apply_mask(slot, sub, marker, depth + 1);
                    if slot.is_null() {
                        map.remove(key);
                    }
                }
            }
        }
        Value::Array(items) => {
            if !has_true(mask, 0) {
                return;
            }
            if !target.is_array() {
                hide_mismatched(target, marker);
                return;
            }
            if let Value::Array(list) = target {
                for (index, sub) in items.iter().enumerate() {
                    if !has_true(sub, 0) {
                        continue;
                    }
                    while list.len() <= index {
                        list.push(Value::Null);
                    }
                    if let Some(slot) = list.get_mut(index) {
                        apply_mask(slot, sub, marker, depth + 1);
                    }
                }
            }
        }
        _ => {}
    }
}

/// A mask that marks something inside a value of another shape (a list mask over a string, say)
/// cannot say which part is secret: a sensitive mask then hides the whole value (fail closed),
/// an unknown mask leaves it as it is.
fn hide_mismatched(target: &mut Value, marker: fn() -> Value) {
    let sensitive = marker();
    if sensitive == value::sensitive() && !target.is_null() {
        *target = sensitive;
    }
}

fn has_true(mask: &Value, depth: usize) -> bool {
    if depth > 256 {
        return false;
    }
    match mask {
        Value::Bool(b) => *b,
        Value::Object(map) => map.values().any(|v| has_true(v, depth + 1)),
        Value::Array(items) => items.iter().any(|v| has_true(v, depth + 1)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn masks_mark_unknown_and_sensitive_leaves() {
        let mut after =
            json!({"name": "db", "password": "hunter2", "tags": {"a": "b"}, "list": [{"x": 1}]});
        apply_mask(
            &mut after,
            &json!({"password": true, "tags": {}}),
            value::sensitive,
            0,
        );
        apply_mask(
            &mut after,
            &json!({"arn": true, "list": [{"y": true}]}),
            value::unknown,
            0,
        );
        assert_eq!(
            value::marker(&after["password"]),
            Some(value::Marker::Sensitive)
        );
        assert_eq!(value::marker(&after["arn"]), Some(value::Marker::Unknown));
        assert_eq!(
            value::marker(&after["list"][0]["y"]),
            Some(value::Marker::Unknown)
        );
        assert_eq!(after["tags"], json!({"a": "b"}));
        assert!(!after.to_string().contains("hunter2"));
    }

    #[test]
    fn unknown_values_are_classified_by_the_configuration() {
        let mut after = json!({
            "bucket": "b",
            "arn": value::UNKNOWN_MARKER,
            "kms_key_id": value::UNKNOWN_MARKER,
            "name": value::UNKNOWN_MARKER,
            "metadata_options": value::UNKNOWN_MARKER,
            "ingress": [{"cidr_blocks": [value::UNKNOWN_MARKER], "from_port": 22}],
        });
        let expressions = json!({
            "bucket": {"constant_value": "b"},
            "kms_key_id": {"references": ["aws_kms_key.k.arn", "aws_kms_key.k"]},
            "name": {},
            "ingress": [{"from_port": {"constant_value": 22},
                          "cidr_blocks": {"references": ["aws_vpc.v.cidr_block", "aws_vpc.v"]}}],
        });
        classify_unknown(&mut after, Some(&Shape::of_expressions(&expressions)), 0);
        // Not configured: computed by the provider, so absent for policies.
        assert!(after.get("arn").is_none() && after.get("metadata_options").is_none());
        // Configured by reference: set, known after apply.
        assert_eq!(
            value::marker(&after["kms_key_id"]),
            Some(value::Marker::UnknownSet)
        );
        assert_eq!(
            value::marker(&after["ingress"][0]["cidr_blocks"][0]),
            Some(value::Marker::UnknownSet)
        );
        // Configured otherwise (a function of nothing known yet): still unknown.
        assert_eq!(value::marker(&after["name"]), Some(value::Marker::Unknown));
    }

    /// A `dynamic` block is not in the configuration's expressions: the unknown values inside
    /// the blocks it writes stay unknown (configured, known after apply), not "not configured",
    /// while a block the configuration does not write at all is still removed.
    #[test]
    fn unknown_values_inside_dynamic_blocks_stay_unknown() {
        let mut after = json!({
            "name": "nodes",
            "block_device_mappings": [{"device_name": "/dev/xvda",
                "ebs": [{"encrypted": "true", "kms_key_id": value::UNKNOWN_MARKER}]}],
            "metadata_options": value::UNKNOWN_MARKER,
        });
        let expressions = json!({"name": {"constant_value": "nodes"}});
        classify_unknown(&mut after, Some(&Shape::of_expressions(&expressions)), 0);
        assert_eq!(
            value::marker(&after["block_device_mappings"][0]["ebs"][0]["kms_key_id"]),
            Some(value::Marker::Unknown)
        );
        assert!(after.get("metadata_options").is_none(), "{after}");
    }

    #[test]
    fn whole_value_masks_and_null_sensitive_values() {
        let mut after = json!({"secret": null});
        apply_mask(&mut after, &json!({"secret": true}), value::sensitive, 0);
        assert_eq!(after, json!({}));
        let mut whole = json!({"a": 1});
        apply_mask(&mut whole, &json!(true), value::sensitive, 0);
        assert_eq!(value::marker(&whole), Some(value::Marker::Sensitive));
    }

    /// A sensitive mask of another shape than its value hides the whole value: it cannot tell
    /// which part is secret, and showing a secret is worse than hiding a harmless value.
    #[test]
    fn mismatched_sensitive_masks_hide_the_whole_value() {
        let mut after = json!({"size": "hunter2", "list": "hunter3", "ok": [1], "gone": null});
        let mask = json!({"size": {"inner": true}, "list": [true], "gone": [true]});
        apply_mask(&mut after, &mask, value::sensitive, 0);
        assert_eq!(
            value::marker(&after["size"]),
            Some(value::Marker::Sensitive)
        );
        assert_eq!(
            value::marker(&after["list"]),
            Some(value::Marker::Sensitive)
        );
        assert_eq!(after["ok"], json!([1]));
        assert!(!after.to_string().contains("hunter"), "{after}");
        // An unknown mask of another shape leaves a known value alone.
        let mut known = json!({"size": 3});
        apply_mask(&mut known, &json!({"size": [true]}), value::unknown, 0);
        assert_eq!(known, json!({"size": 3}));
    }
}
