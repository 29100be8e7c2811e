//! AWS Config configuration items in every shape they come in.
//!
//! - delivered snapshot and history files (`configurationItems`, delivery key names, object
//!   `configuration`), also gzipped;
//! - API results: GetResourceConfigHistory (`configurationItems`) and BatchGetResourceConfig
//!   (`baseConfigurationItems`), with `configuration` and supplementary values as JSON strings;
//! - SelectResourceConfig / SelectAggregateResourceConfig output (`Results`: JSON strings);
//! - AWS Config rule events (`invokingEvent` as a JSON string), recorded API responses wrapped
//!   in `data`, a single item, and a list of items.
//!
//! Every item is normalized to the delivery form: embedded JSON decoded once, policy documents
//! URL-decoded and normalized, tags as one map, relationships with `name`.

use std::collections::BTreeSet;
use std::ops::Range;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::envelope::{Envelope, RawList, member_offset, offset_in};
use super::{LoadError, LoadWarning, Loaded, policy_document, projected};
use crate::model::{
    Body, CloudContext, DocError, Documents, ItemStatus, LazyDocument, Mode, Origin, Projection,
    Relationship, Resource, SourceKind,
};
use crate::source::SourceFile;

pub(crate) fn load(file: &Arc<SourceFile>, env: &Envelope<'_>) -> Result<Loaded, LoadError> {
    load_envelope(file, file.text(), env, 0)
}

/// Loads the items of an envelope parsed from `text` (the file, or its `data` member).
fn load_envelope(
    file: &Arc<SourceFile>,
    text: &str,
    env: &Envelope<'_>,
    depth: usize,
) -> Result<Loaded, LoadError> {
    let lists = [
        (env.configuration_items.as_ref(), "configurationItems"),
        (
            env.base_configuration_items.as_ref(),
            "baseConfigurationItems",
        ),
    ];
    if let Some((items, name)) = lists.into_iter().find_map(|(l, n)| Some((l?, n))) {
        let RawList::List(elements) = items else {
            return Err(LoadError::invalid_at(
                file,
                member_offset(file, text, name),
                "expected configuration items as a JSON list",
                "not a list",
                None,
            ));
        };
        let mut loaded = load_elements(file, elements)?;
        if let Some(raw) = env.resilix_audit {
            let record: super::snapshot::AuditRecord = serde_json::from_str(raw.get())
                .map_err(|error| LoadError::from_json(file, offset_in(file, raw.get()), &error))?;
            loaded.errors = super::snapshot::incomplete_errors(file.name(), &record);
            if let Some(since) = &record.changes_since {
                let Ok(since) = since.parse::<jiff::Timestamp>() else {
                    return Err(LoadError::invalid_at(
                        file,
                        offset_in(file, raw.get()),
                        "`changesSince` is not an RFC 3339 time",
                        "here",
                        Some("the history was saved by `resilix audit --changes-since`: save it again".to_owned()),
                    ));
                };
                let resources = std::mem::take(&mut loaded.resources);
                let history = super::config_diff::history(resources, since);
                loaded.resources = history.changes;
                loaded.errors.extend(history.errors);
            }
            loaded
                .warnings
                .extend(record.warnings.into_iter().map(|message| LoadWarning {
                    name: file.name().to_owned(),
                    message,
                    help: None,
                }));
        }
        if let Some(keys) = env.unprocessed_resource_keys {
            let count = serde_json::from_str::<Vec<&RawValue>>(keys.get()).map_or(0, |k| k.len());
            if count > 0 {
                loaded.warnings.push(LoadWarning {
                    name: file.name().to_owned(),
                    message: format!(
                        "{count} resource(s) were left unprocessed by BatchGetResourceConfig and are missing from this result"
                    ),
                    help: Some("retry those keys (resilix audit does this itself)".to_owned()),
                });
            }
        }
        return Ok(loaded);
    }
    if let Some(results) = env.results {
        return load_select_results(file, results);
    }
    if let Some(event) = env.invoking_event {
        return load_invoking_event(file, event);
    }
    if let Some(item) = env.configuration_item {
        return load_single(file, item.get(), offset_in(file, item.get()));
    }
    if env.resource_type.is_some() {
        return load_single(file, file.text(), 0);
    }
    if let (Some(data), true) = (env.data, depth == 0) {
        let inner: Envelope<'_> = serde_json::from_str(data.get())
            .map_err(|error| LoadError::from_json(file, offset_in(file, data.get()), &error))?;
        if inner.is_aws_config() {
            return load_envelope(file, data.get(), &inner, depth + 1);
        }
    }
    Err(LoadError::Unrecognized {
        name: file.name().to_owned(),
        message: "no AWS Config items found (expected `configurationItems`, `baseConfigurationItems`, `Results` or a single item)".to_owned(),
        help: Some(super::HELP_FORMATS.to_owned()),
    })
}

/// A top-level JSON list of items.
pub(crate) fn load_item_array(file: &Arc<SourceFile>) -> Result<Loaded, LoadError> {
    let raw: &RawValue =
        serde_json::from_str(file.text()).map_err(|e| LoadError::from_json(file, 0, &e))?;
    let elements: Vec<&RawValue> = serde_json::from_str(raw.get()).map_err(|_| {
        LoadError::invalid_at(
            file,
            offset_in(file, raw.get()),
            "expected a list of configuration items as a JSON list",
            "not a list",
            None,
        )
    })?;
    load_elements(file, &elements)
}

/// Items of a list, each loaded lazily where it can be ([`lazy_item`]).
fn load_elements(file: &Arc<SourceFile>, elements: &[&RawValue]) -> Result<Loaded, LoadError> {
    let results = super::convert_in_order(elements, |element| {
        let offset = offset_in(file, element.get());
        if let Some(resource) = lazy_item(file, element, offset) {
            return Ok(resource);
        }
        let value: Value = serde_json::from_str(element.get())
            .map_err(|e| LoadError::from_json(file, offset, &e))?;
        item_resource(file, value, offset, Some(element.get()))
    })?;
    Ok(loaded(results))
}

/// The members of an item that name and place it; `configuration` is only looked at (a JSON
/// string, as API results have it, is decoded at load so that a bad one is a load error).
#[derive(Deserialize)]
struct ItemHead<'a> {
    #[serde(borrow, default, rename = "resourceType")]
    resource_type: Option<&'a RawValue>,
    #[serde(borrow, default, rename = "resourceId")]
    resource_id: Option<&'a RawValue>,
    #[serde(borrow, default, rename = "resourceName")]
    resource_name: Option<&'a RawValue>,
    #[serde(borrow, default, rename = "ARN")]
    arn_upper: Option<&'a RawValue>,
    #[serde(borrow, default)]
    arn: Option<&'a RawValue>,
    #[serde(borrow, default, rename = "awsAccountId")]
    aws_account_id: Option<&'a RawValue>,
    #[serde(borrow, default, rename = "accountId")]
    account_id: Option<&'a RawValue>,
    #[serde(borrow, default, rename = "awsRegion")]
    aws_region: Option<&'a RawValue>,
    #[serde(borrow, default, rename = "configurationItemStatus")]
    status: Option<&'a RawValue>,
    #[serde(borrow, default)]
    relationships: Option<&'a RawValue>,
    #[serde(borrow, default)]
    configuration: Option<&'a RawValue>,
    #[serde(borrow, default, rename = "supplementaryConfiguration")]
    supplementary: Option<&'a RawValue>,
    #[serde(borrow, default)]
    tags: Option<&'a RawValue>,
}

/// Members of an item that the normalized document repeats: a lazily parsed document keeps
/// those a projection wants.
const ITEM_SCALARS: [&str; 14] = [
    "resourceType",
    "resourceId",
    "resourceName",
    "ARN",
    "arn",
    "awsAccountId",
    "accountId",
    "awsRegion",
    "configurationItemStatus",
    "availabilityZone",
    "configurationItemCaptureTime",
    "resourceCreationTime",
    "relationships",
    super::snapshot::ATTRIBUTION_KEY,
];

/// An item as a resource whose documents are parsed when a policy needs them, like a plan's:
/// its identity and relationships are read now, the rest stays text. `None` when the item must
/// be read whole now (its `configuration` is a JSON string, or its shape is unusual).
fn lazy_item(file: &Arc<SourceFile>, element: &RawValue, offset: usize) -> Option<Resource> {
    let head: ItemHead<'_> = serde_json::from_str(element.get()).ok()?;
    // Read whole: a `configuration` as a JSON string, and any member of a shape that
    // [`check_item`] refuses (so that the error is reported now, at its place).
    let starts = |raw: Option<&RawValue>, allowed: &[u8]| {
        raw.is_none_or(|r| {
            r.get()
                .as_bytes()
                .first()
                .is_some_and(|b| allowed.contains(b))
        })
    };
    if !(starts(head.configuration, b"{n")
        && starts(head.supplementary, b"{n")
        && starts(head.tags, b"{[n"))
    {
        return None;
    }
    let members = [
        ("resourceType", head.resource_type),
        ("resourceId", head.resource_id),
        ("resourceName", head.resource_name),
        ("ARN", head.arn_upper),
        ("arn", head.arn),
        ("awsAccountId", head.aws_account_id),
        ("accountId", head.account_id),
        ("awsRegion", head.aws_region),
        ("configurationItemStatus", head.status),
        ("relationships", head.relationships),
    ];
    let mut skeleton = Map::new();
    for (name, raw) in members {
        if let Some(raw) = raw {
            skeleton.insert(name.to_owned(), serde_json::from_str(raw.get()).ok()?);
        }
    }
    let origin = Origin {
        file: Some(Arc::clone(file)),
        offset: Some(offset),
        declaration: None,
    };
    // An item of the wrong shape is read whole, which reports where it is wrong.
    let mut resource = resource_from_item(Value::Object(skeleton), origin).ok()?;
    resource.body = Body::Lazy(Arc::new(ItemDocument {
        file: Arc::clone(file),
        range: offset..offset + element.get().len(),
    }));
    Some(resource)
}

/// A configuration item kept as text until evaluated; parsing it normalizes it as
/// [`resource_from_item`] does, keeping the parts a projection asks for.
struct ItemDocument {
    file: Arc<SourceFile>,
    range: Range<usize>,
}

impl std::fmt::Debug for ItemDocument {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ItemDocument")
            .field("file", &self.file.name())
            .field("range", &self.range)
            .finish()
    }
}

impl ItemDocument {
    fn normalized(&self, members: Option<&BTreeSet<String>>) -> Result<Documents, DocError> {
        let error = |message: String| DocError {
            message,
            offset: Some(self.range.start),
        };
        let text = self.file.text().get(self.range.clone()).unwrap_or("null");
        let item = projected::parse(text, members)
            .map_err(|e| error(format!("configuration item could not be parsed: {e}")))?;
        match resource_from_item(item, Origin::default()).map_err(|e| error(e.message))? {
            Resource {
                body: Body::Ready(docs),
                ..
            } => Ok(docs),
            Resource { .. } => Err(error("configuration item could not be read".to_owned())),
        }
    }
}

impl LazyDocument for ItemDocument {
    fn materialize(&self, projection: &Projection) -> Result<Documents, DocError> {
        let Some(keys) = &projection.keys else {
            return self.normalized(None);
        };
        let wants = |k: &str| keys.contains(k);
        // The item's own members that the normalized document keeps under a wanted key
        // (`ARN` from `ARN` or `arn`, `awsAccountId` from `awsAccountId` or `accountId`);
        // `resourceType` always, since an item without one is not a resource.
        let mut members: BTreeSet<String> = ITEM_SCALARS
            .iter()
            .filter(|member| {
                let key = match **member {
                    "arn" => "ARN",
                    "accountId" => "awsAccountId",
                    other => other,
                };
                key == "resourceType" || wants(key)
            })
            .map(|k| (*k).to_owned())
            .collect();
        // The normalized `tags` are the item's own, else those inside the configuration.
        if wants("tags") {
            members.insert("tags".to_owned());
            if !wants("configuration") && !wants("supplementaryConfiguration") {
                let docs = self.normalized(Some(&members))?;
                if docs
                    .after
                    .get("tags")
                    .and_then(Value::as_object)
                    .is_some_and(|t| !t.is_empty())
                {
                    return Ok(docs);
                }
            }
        }
        for (member, needed_for) in [
            ("configuration", ["configuration", "tags"]),
            (
                "supplementaryConfiguration",
                ["supplementaryConfiguration", "tags"],
            ),
        ] {
            if needed_for.iter().any(|k| wants(k)) {
                members.insert(member.to_owned());
            }
        }
        self.normalized(Some(&members))
    }
}

fn loaded(resources: Vec<Resource>) -> Loaded {
    Loaded {
        resources,
        ..Loaded::default()
    }
}

fn load_single(file: &Arc<SourceFile>, text: &str, offset: usize) -> Result<Loaded, LoadError> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| LoadError::from_json(file, offset, &e))?;
    Ok(loaded(vec![item_resource(
        file,
        value,
        offset,
        Some(text),
    )?]))
}

fn load_select_results(file: &Arc<SourceFile>, raw: &RawValue) -> Result<Loaded, LoadError> {
    let rows: Vec<&RawValue> = serde_json::from_str(raw.get()).map_err(|_| {
        LoadError::invalid_at(
            file,
            offset_in(file, raw.get()),
            "`Results` must be a list of JSON strings",
            "not a list",
            None,
        )
    })?;
    let results = super::convert_in_order(&rows, |row| {
        let offset = offset_in(file, row.get());
        let text: String = serde_json::from_str(row.get()).map_err(|_| {
            LoadError::invalid_at(
                file,
                offset,
                "each SelectResourceConfig result must be a JSON string",
                "not a string",
                None,
            )
        })?;
        let value: Value = serde_json::from_str(&text).map_err(|error| {
            LoadError::invalid_at(
                file,
                offset,
                format!("this result string is not valid JSON: {error}"),
                "in this result",
                None,
            )
        })?;
        // A query that does not select `resourceType` returns rows without it: valid results,
        // which no policy can be matched to. They are counted, and said so below.
        if value
            .as_object()
            .is_some_and(|row| !row.contains_key("resourceType"))
        {
            return Ok(None);
        }
        item_resource(file, value, offset, None).map(Some)
    })?;
    let rows = results.len();
    let mut loaded = loaded(results.into_iter().flatten().collect());
    let untyped = rows - loaded.resources.len();
    if untyped > 0 {
        loaded.warnings.push(LoadWarning {
            name: file.name().to_owned(),
            message: format!(
                "{untyped} of {rows} SelectResourceConfig result(s) have no resourceType (the query did not select it) and were not evaluated"
            ),
            help: Some(
                "select resourceType, resourceId, accountId, awsRegion, configuration and supplementaryConfiguration in the query"
                    .to_owned(),
            ),
        });
    }
    Ok(loaded)
}

fn load_invoking_event(file: &Arc<SourceFile>, raw: &RawValue) -> Result<Loaded, LoadError> {
    let offset = offset_in(file, raw.get());
    let event: Value = match serde_json::from_str::<Value>(raw.get()) {
        Ok(Value::String(text)) => serde_json::from_str(&text).map_err(|error| {
            LoadError::invalid_at(
                file,
                offset,
                format!("`invokingEvent` is not valid JSON: {error}"),
                "here",
                None,
            )
        })?,
        Ok(object @ Value::Object(_)) => object,
        _ => {
            return Err(LoadError::invalid_at(
                file,
                offset,
                "`invokingEvent` must be a JSON string or object",
                "here",
                None,
            ));
        }
    };
    match event.get("configurationItem") {
        Some(item) if item.is_object() => Ok(loaded(vec![item_resource(
            file,
            item.clone(),
            offset,
            None,
        )?])),
        _ => {
            let oversized = event.get("configurationItemSummary").is_some();
            Ok(Loaded {
                errors: Vec::new(),
                resources: Vec::new(),
                warnings: vec![LoadWarning {
                    name: file.name().to_owned(),
                    message: if oversized {
                        "the rule event carries only a configuration item summary (oversized item); nothing to evaluate".to_owned()
                    } else {
                        "the rule event carries no configuration item; nothing to evaluate".to_owned()
                    },
                    help: oversized.then(|| {
                        "fetch the item with GetResourceConfigHistory (or run resilix audit) and scan that".to_owned()
                    }),
                }],
            })
        }
    }
}

/// The resource of an item found at `offset`; `text` is the item's text in the file, where it
/// is there as it is (not inside a JSON string), to place an error at the member at fault.
fn item_resource(
    file: &Arc<SourceFile>,
    value: Value,
    offset: usize,
    text: Option<&str>,
) -> Result<Resource, LoadError> {
    let origin = Origin {
        file: Some(Arc::clone(file)),
        offset: Some(offset),
        declaration: None,
    };
    resource_from_item(value, origin).map_err(|error| {
        let (at, label) = match (error.member, text) {
            (Some(member), Some(text)) => (member_offset(file, text, member), "here"),
            _ => (offset, "this configuration item"),
        };
        LoadError::invalid_at(
            file,
            at,
            error.message,
            label,
            error.help.map(str::to_owned),
        )
    })
}

/// Why a configuration item was refused, and which of its members is at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemError {
    /// The member of the item the error is about (`None`: the item itself).
    pub member: Option<&'static str>,
    pub message: String,
    pub help: Option<&'static str>,
}

impl std::fmt::Display for ItemError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// The identity members of an item, each a string (a number is taken as its text) or null.
const IDENTITY_MEMBERS: [&str; 9] = [
    "resourceType",
    "resourceId",
    "resourceName",
    "ARN",
    "arn",
    "awsAccountId",
    "accountId",
    "awsRegion",
    "configurationItemStatus",
];

/// Refuses the members whose type the AWS Config formats do not allow: an identity member that
/// is a list or an object, a `configuration` that is neither an object nor a JSON string of
/// one, `relationships` that are not a list. Read as "not set", each would make a policy pass
/// or fail on values the item does not hold.
fn check_item(item: &Map<String, Value>) -> Result<(), ItemError> {
    let wrong = |member: &'static str, expected: &str, value: &Value| ItemError {
        member: Some(member),
        message: format!(
            "a configuration item's `{member}` must be {expected}, found {}",
            value_kind(value)
        ),
        help: None,
    };
    for member in IDENTITY_MEMBERS {
        match item.get(member) {
            None | Some(Value::Null | Value::String(_) | Value::Number(_)) => {}
            Some(other) => return Err(wrong(member, "a string", other)),
        }
    }
    match item.get("resourceType") {
        Some(Value::String(s)) if !s.is_empty() => {}
        Some(other) => return Err(wrong("resourceType", "a non-empty string", other)),
        None => return Err(no_resource_type()),
    }
    // A JSON string is checked once decoded ([`embedded_document`]).
    for member in ["configuration", "supplementaryConfiguration"] {
        match item.get(member) {
            None | Some(Value::Null | Value::Object(_) | Value::String(_)) => {}
            Some(other) => return Err(wrong(member, DOCUMENT, other)),
        }
    }
    match item.get("relationships") {
        None | Some(Value::Null | Value::Array(_)) => {}
        Some(other) => return Err(wrong("relationships", "a list", other)),
    }
    match item.get("tags") {
        None | Some(Value::Null | Value::Array(_) | Value::Object(_)) => {}
        Some(other) => return Err(wrong("tags", "an object or a list", other)),
    }
    Ok(())
}

fn no_resource_type() -> ItemError {
    ItemError {
        member: None,
        message: "a configuration item has no `resourceType`".to_owned(),
        help: Some(
            "every item names its type; a SelectResourceConfig query must select resourceType (with resourceId, accountId, awsRegion, configuration and supplementaryConfiguration)",
        ),
    }
}

const DOCUMENT: &str = "an object, or a JSON string of one";

/// Decodes a member given as a JSON string (API form): it must hold an object (or null).
fn embedded_document(member: &'static str, text: &str) -> Result<Value, ItemError> {
    match serde_json::from_str::<Value>(text) {
        Ok(value @ (Value::Object(_) | Value::Null)) => Ok(value),
        Ok(other) => Err(ItemError {
            member: Some(member),
            message: format!(
                "a configuration item's `{member}` must be {DOCUMENT}, found a JSON string of {}",
                value_kind(&other)
            ),
            help: None,
        }),
        // serde_json's syntax errors name no value.
        Err(error) => Err(ItemError {
            member: Some(member),
            message: format!("`{member}` is not valid JSON: {error}"),
            help: None,
        }),
    }
}

/// "a string", "a list", … for messages.
fn value_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Normalizes one configuration item (any shape) into a resource; an item of a shape the
/// formats do not allow (no `resourceType`, a list where a string belongs) is an error.
pub fn resource_from_item(value: Value, origin: Origin) -> Result<Resource, ItemError> {
    let Value::Object(mut item) = value else {
        return Err(ItemError {
            member: None,
            message: format!(
                "a configuration item must be a JSON object, found {}",
                value_kind(&value)
            ),
            help: None,
        });
    };
    check_item(&item)?;
    let text = |item: &Map<String, Value>, keys: &[&str]| -> Option<String> {
        keys.iter().find_map(|k| match item.get(*k) {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        })
    };
    let Some(resource_type) = text(&item, &["resourceType"]) else {
        return Err(no_resource_type());
    };
    let resource_id = text(&item, &["resourceId"]);
    let resource_name = text(&item, &["resourceName"]);
    let arn = text(&item, &["ARN", "arn"]);
    let account = text(&item, &["awsAccountId", "accountId"]);
    let region = text(&item, &["awsRegion"]);
    let status_text = text(&item, &["configurationItemStatus"]);
    let status = match status_text.as_deref() {
        Some("ResourceDeleted" | "ResourceDeletedNotRecorded") => ItemStatus::Deleted,
        Some("ResourceNotRecorded") => ItemStatus::NotRecorded,
        _ => ItemStatus::Active,
    };

    let configuration = match item.remove("configuration") {
        Some(Value::String(s)) => embedded_document("configuration", &s)?,
        Some(other) => other,
        None => Value::Null,
    };
    let mut configuration = configuration;
    decode_documents(&mut configuration, 0);

    let mut supplementary = match item.remove("supplementaryConfiguration") {
        Some(Value::Object(map)) => map,
        Some(Value::String(s)) => match embedded_document("supplementaryConfiguration", &s)? {
            Value::Object(map) => map,
            _ => Map::new(),
        },
        _ => Map::new(),
    };
    for value in supplementary.values_mut() {
        decode_embedded(value);
        decode_documents(value, 0);
    }
    let mut supplementary = Value::Object(supplementary);

    let tags = collect_tags(item.get("tags"), &configuration, &supplementary);
    let relationships = collect_relationships(item.get("relationships"));

    let mut doc = Map::new();
    doc.insert("resourceType".into(), Value::String(resource_type.clone()));
    let mut put = |key: &str, value: Option<&String>| {
        if let Some(v) = value {
            doc.insert(key.to_owned(), Value::String(v.clone()));
        }
    };
    put("resourceId", resource_id.as_ref());
    put("resourceName", resource_name.as_ref());
    put("ARN", arn.as_ref());
    put("awsAccountId", account.as_ref());
    put("awsRegion", region.as_ref());
    put("configurationItemStatus", status_text.as_ref());
    for key in [
        "availabilityZone",
        "configurationItemCaptureTime",
        "resourceCreationTime",
        super::snapshot::ATTRIBUTION_KEY,
    ] {
        if let Some(v) = item.get(key) {
            doc.insert(key.to_owned(), v.clone());
        }
    }
    doc.insert("tags".into(), Value::Object(tags));
    doc.insert(
        "relationships".into(),
        Value::Array(
            relationships
                .iter()
                .map(|r| {
                    let mut m = Map::new();
                    m.insert(
                        "resourceType".into(),
                        Value::String(r.resource_type.clone()),
                    );
                    if let Some(id) = &r.resource_id {
                        m.insert("resourceId".into(), Value::String(id.clone()));
                    }
                    if let Some(name) = &r.resource_name {
                        m.insert("resourceName".into(), Value::String(name.clone()));
                    }
                    m.insert("name".into(), Value::String(r.name.clone()));
                    Value::Object(m)
                })
                .collect(),
        ),
    );
    doc.insert("configuration".into(), configuration);
    doc.insert("supplementaryConfiguration".into(), supplementary.take());

    let address = arn
        .clone()
        .or_else(|| resource_id.clone())
        .or_else(|| resource_name.clone())
        .unwrap_or_else(|| resource_type.clone());
    Ok(Resource {
        source: SourceKind::AwsConfig,
        type_name: Arc::from(resource_type.as_str()),
        address,
        mode: Mode::Managed,
        change: None,
        status,
        context: CloudContext { account, region },
        resource_id,
        resource_name,
        arn,
        config_address: None,
        references: Arc::from(Vec::new()),
        relationships,
        origin,
        body: Body::Ready(Documents {
            after: Arc::new(Value::Object(doc)),
            before: None,
        }),
    })
}

/// Supplementary values in API form are JSON strings, some (S3 `AccessControlList`) encoded
/// twice. Decodes up to three layers; text that is not JSON stays as it is.
fn decode_embedded(value: &mut Value) {
    for _ in 0..3 {
        let Value::String(text) = value else { return };
        let t = text.trim_start();
        let looks_json = t.starts_with('{')
            || t.starts_with('[')
            || t.starts_with('"')
            || matches!(t, "true" | "false" | "null")
            || t.parse::<f64>().is_ok();
        if !looks_json {
            return;
        }
        match serde_json::from_str::<Value>(t) {
            Ok(decoded) => *value = decoded,
            Err(_) => return,
        }
    }
}

/// Decodes and normalizes policy documents anywhere inside a value: plain or URL-encoded JSON
/// strings, and documents already decoded (a supplementary value such as a KMS key `Policy`
/// is a JSON string that `decode_embedded` turned into an object).
fn decode_documents(value: &mut Value, depth: usize) {
    if depth > 64 {
        return;
    }
    match value {
        Value::String(text) if policy_document::looks_like_policy(text) => {
            if let Some(document) = policy_document::decode(text) {
                *value = document;
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| decode_documents(v, depth + 1)),
        Value::Object(map) => {
            if map.contains_key("Statement") {
                policy_document::normalize(value);
            }
            if let Value::Object(map) = value {
                map.values_mut()
                    .for_each(|v| decode_documents(v, depth + 1));
            }
        }
        _ => {}
    }
}

/// One tag map: the item's `tags`, else the `Tags` / `tags` lists inside the configuration.
fn collect_tags(
    top: Option<&Value>,
    configuration: &Value,
    supplementary: &Value,
) -> Map<String, Value> {
    let mut out = Map::new();
    // The item's `tags` (a map in files and the API, a list of {key, value} in Select
    // results), else the tag lists inside the configuration.
    let candidates = [
        top,
        supplementary.get("Tags"),
        configuration.get("tags"),
        configuration.get("Tags"),
        configuration.get("tagSet"),
    ];
    for candidate in candidates.into_iter().flatten() {
        match candidate {
            Value::Array(list) => {
                for tag in list {
                    let key = ["key", "Key", "tagKey"]
                        .iter()
                        .find_map(|k| tag.get(*k))
                        .and_then(Value::as_str);
                    let value = ["value", "Value", "tagValue"]
                        .iter()
                        .find_map(|k| tag.get(*k));
                    if let (Some(key), Some(value)) = (key, value) {
                        out.insert(key.to_owned(), value.clone());
                    }
                }
            }
            Value::Object(map) => {
                for (k, v) in map {
                    out.insert(k.clone(), v.clone());
                }
            }
            _ => {}
        }
        if !out.is_empty() {
            break;
        }
    }
    out
}

fn collect_relationships(value: Option<&Value>) -> Vec<Relationship> {
    let Some(Value::Array(list)) = value else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|r| {
            let get = |k: &str| r.get(k).and_then(Value::as_str).map(str::to_owned);
            Some(Relationship {
                resource_type: get("resourceType")?,
                resource_id: get("resourceId"),
                resource_name: get("resourceName"),
                name: get("name")
                    .or_else(|| get("relationshipName"))
                    .unwrap_or_default()
                    .trim()
                    .to_owned(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn decoded_supplementary_policies_are_normalized_and_select_tags_read() {
        let item = json!({
            "resourceType": "AWS::KMS::Key", "resourceId": "k",
            "tags": [{"key": "criticality", "value": "high"}],
            "configuration": {"keyId": "k"},
            "supplementaryConfiguration": {
                "Policy": "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"kms:*\"}}"
            }
        });
        let resource = resource_from_item(item, Origin::default()).unwrap();
        let doc = resource.documents().unwrap().after;
        assert_eq!(
            doc["supplementaryConfiguration"]["Policy"]["Statement"][0]["Principal"],
            json!({"AWS": ["*"]})
        );
        assert_eq!(doc["tags"], json!({"criticality": "high"}));
    }

    #[test]
    fn api_form_is_normalized_to_delivery_form() {
        let item = json!({
            "version": "1.3", "accountId": "111122223333", "arn": "arn:aws:s3:::b",
            "resourceType": "AWS::S3::Bucket", "resourceId": "b", "awsRegion": "eu-west-1",
            "configurationItemStatus": "OK",
            "configuration": "{\"name\":\"b\"}",
            "supplementaryConfiguration": {
                "AccessControlList": "\"{\\\"grantList\\\":[]}\"",
                "BucketPolicy": "{\"policyText\":\"{\\\"Statement\\\":{\\\"Effect\\\":\\\"Deny\\\",\\\"Action\\\":\\\"s3:*\\\"}}\"}",
                "IsRequesterPaysEnabled": "false"
            },
            "relationships": [{"resourceType": "AWS::EC2::VPC", "resourceId": "vpc-1", "relationshipName": "Is contained in Vpc "}]
        });
        let resource = resource_from_item(item, Origin::default()).unwrap();
        let doc = resource.documents().unwrap().after;
        assert_eq!(doc["awsAccountId"], "111122223333");
        assert_eq!(doc["configuration"]["name"], "b");
        assert_eq!(
            doc["supplementaryConfiguration"]["AccessControlList"],
            json!({"grantList": []})
        );
        assert_eq!(
            doc["supplementaryConfiguration"]["IsRequesterPaysEnabled"],
            json!(false)
        );
        assert_eq!(
            doc["supplementaryConfiguration"]["BucketPolicy"]["policyText"]["Statement"][0]["Action"],
            json!(["s3:*"])
        );
        assert_eq!(resource.relationships[0].name, "Is contained in Vpc");
        assert_eq!(resource.address, "arn:aws:s3:::b");
    }
}
