//! SDK configuration items → JSON configuration items in the delivery form (the shape AWS Config
//! writes to S3 snapshot files): `awsAccountId`, `ARN`, `configuration` as an object,
//! supplementary values decoded. resilix's loader reads this shape like any snapshot file.

use aws_sdk_config::types::{BaseConfigurationItem, ConfigurationItem};
use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use serde_json::{Map, Value};

/// A BatchGetResourceConfig / BatchGetAggregateResourceConfig item in the delivery form.
///
/// Base items carry no tags and no relationships (the API does not return them); those keys are
/// left out rather than written empty, so nothing claims "no tags" when tags were not pulled.
pub fn from_base_item(item: &BaseConfigurationItem) -> Value {
    let mut out = Map::new();
    let mut text = |key: &str, value: Option<&str>| {
        if let Some(v) = value {
            out.insert(key.to_owned(), Value::String(v.to_owned()));
        }
    };
    text("configurationItemVersion", item.version());
    text(
        "configurationItemStatus",
        item.configuration_item_status().map(|s| s.as_str()),
    );
    text("configurationStateId", item.configuration_state_id());
    text("awsAccountId", item.account_id());
    text("resourceType", item.resource_type().map(|t| t.as_str()));
    text("resourceId", item.resource_id());
    text("resourceName", item.resource_name());
    text("ARN", item.arn());
    text("awsRegion", item.aws_region());
    text("availabilityZone", item.availability_zone());
    let mut time = |key: &str, value: Option<&DateTime>| {
        if let Some(text) = value.and_then(|t| t.fmt(Format::DateTime).ok()) {
            out.insert(key.to_owned(), Value::String(text));
        }
    };
    time(
        "configurationItemCaptureTime",
        item.configuration_item_capture_time(),
    );
    time("resourceCreationTime", item.resource_creation_time());
    let configuration = item.configuration().map_or(Value::Null, |text| {
        decode_embedded(Value::String(text.to_owned()))
    });
    out.insert("configuration".to_owned(), configuration);
    let mut supplementary = Map::new();
    if let Some(map) = item.supplementary_configuration() {
        // HashMap order is random; sort so saved snapshots are byte-identical across runs.
        let mut entries: Vec<(&String, &String)> = map.iter().collect();
        entries.sort();
        for (key, value) in entries {
            supplementary.insert(key.clone(), decode_embedded(Value::String(value.clone())));
        }
    }
    out.insert(
        "supplementaryConfiguration".to_owned(),
        Value::Object(supplementary),
    );
    Value::Object(out)
}

/// A GetResourceConfigHistory item in the delivery form: the fields of a batch item
/// ([`from_base_item`]) plus what history items carry and batch items lack: `tags` (a map),
/// `relationships` (with `name`, as delivered files have it) and `relatedEvents` (the CloudTrail
/// event IDs of the calls that made the change).
pub fn from_history_item(item: &ConfigurationItem) -> Value {
    let base = BaseConfigurationItem::builder()
        .set_version(item.version().map(str::to_owned))
        .set_account_id(item.account_id().map(str::to_owned))
        .set_configuration_item_capture_time(item.configuration_item_capture_time().copied())
        .set_configuration_item_status(item.configuration_item_status().cloned())
        .set_configuration_state_id(item.configuration_state_id().map(str::to_owned))
        .set_arn(item.arn().map(str::to_owned))
        .set_resource_type(item.resource_type().cloned())
        .set_resource_id(item.resource_id().map(str::to_owned))
        .set_resource_name(item.resource_name().map(str::to_owned))
        .set_aws_region(item.aws_region().map(str::to_owned))
        .set_availability_zone(item.availability_zone().map(str::to_owned))
        .set_resource_creation_time(item.resource_creation_time().copied())
        .set_configuration(item.configuration().map(str::to_owned))
        .set_supplementary_configuration(item.supplementary_configuration().cloned())
        .build();
    let Value::Object(mut out) = from_base_item(&base) else {
        return Value::Null;
    };
    if let Some(tags) = item.tags() {
        let mut entries: Vec<(&String, &String)> = tags.iter().collect();
        entries.sort();
        let map: Map<String, Value> = entries
            .into_iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        out.insert("tags".to_owned(), Value::Object(map));
    }
    let relationships: Vec<Value> = item
        .relationships()
        .iter()
        .map(|r| {
            let mut rel = Map::new();
            let mut text = |key: &str, value: Option<&str>| {
                if let Some(v) = value {
                    rel.insert(key.to_owned(), Value::String(v.to_owned()));
                }
            };
            text("resourceType", r.resource_type().map(|t| t.as_str()));
            text("resourceId", r.resource_id());
            text("resourceName", r.resource_name());
            text("name", r.relationship_name());
            Value::Object(rel)
        })
        .collect();
    out.insert("relationships".to_owned(), Value::Array(relationships));
    out.insert(
        "relatedEvents".to_owned(),
        Value::Array(
            item.related_events()
                .iter()
                .map(|e| Value::String(e.clone()))
                .collect(),
        ),
    );
    Value::Object(out)
}

/// One SelectResourceConfig / SelectAggregateResourceConfig row (`SELECT *`) in the delivery
/// form: `accountId` → `awsAccountId`, `arn` → `ARN`, `version` → `configurationItemVersion`,
/// the `tags` list → a map. Rows carry tags and relationships, unlike batch items.
pub fn from_select_row(row: &str) -> Result<Value, String> {
    let value: Value =
        serde_json::from_str(row).map_err(|e| format!("a query result is not JSON: {e}"))?;
    let Value::Object(map) = value else {
        return Err("a query result is not a JSON object".to_owned());
    };
    let mut out = Map::new();
    for (key, value) in map {
        let key = match key.as_str() {
            "accountId" => "awsAccountId".to_owned(),
            "arn" => "ARN".to_owned(),
            "version" => "configurationItemVersion".to_owned(),
            _ => key,
        };
        let value = match (key.as_str(), value) {
            ("tags", Value::Array(list)) => Value::Object(tag_map(&list)),
            ("configuration", v) => decode_embedded(v),
            ("supplementaryConfiguration", Value::Object(m)) => Value::Object(
                m.into_iter()
                    .map(|(k, v)| (k, decode_embedded(v)))
                    .collect(),
            ),
            (_, v) => v,
        };
        out.insert(key, value);
    }
    Ok(Value::Object(out))
}

fn tag_map(list: &[Value]) -> Map<String, Value> {
    let mut out = Map::new();
    for tag in list {
        let key = tag
            .get("key")
            .or_else(|| tag.get("Key"))
            .and_then(Value::as_str);
        let value = tag.get("value").or_else(|| tag.get("Value"));
        if let (Some(key), Some(value)) = (key, value) {
            out.insert(key.to_owned(), value.clone());
        }
    }
    out
}

/// The API returns `configuration` and supplementary values as JSON text, some of it encoded
/// twice (S3 `AccessControlList`). Decodes up to three layers; text that is not JSON stays text.
pub fn decode_embedded(mut value: Value) -> Value {
    for _ in 0..3 {
        let Value::String(text) = &value else {
            return value;
        };
        let t = text.trim_start();
        let looks_json = t.starts_with('{')
            || t.starts_with('[')
            || t.starts_with('"')
            || matches!(t, "true" | "false" | "null")
            || t.parse::<f64>().is_ok();
        if !looks_json {
            return value;
        }
        match serde_json::from_str::<Value>(t) {
            Ok(decoded) => value = decoded,
            Err(_) => return value,
        }
    }
    value
}

/// The sort key of an item: account, region, type, id, and capture time (the items of one
/// resource's history in order). Pulls finish in any order; outputs do not.
pub fn sort_key(item: &Value) -> (String, String, String, String, String) {
    let get = |key: &str| {
        item.get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    (
        get("awsAccountId"),
        get("awsRegion"),
        get("resourceType"),
        get("resourceId"),
        get("configurationItemCaptureTime"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_config::types::{ConfigurationItemStatus, ResourceType};
    use serde_json::json;

    #[test]
    fn base_item_is_written_in_the_delivery_form() {
        let item = BaseConfigurationItem::builder()
            .version("1.3")
            .account_id("111122223333")
            .arn("arn:aws:s3:::logs")
            .resource_type(ResourceType::Bucket)
            .resource_id("logs")
            .resource_name("logs")
            .aws_region("eu-west-1")
            .configuration_item_status(ConfigurationItemStatus::Ok)
            .configuration_item_capture_time(DateTime::from_secs(1_700_000_000))
            .configuration("{\"name\":\"logs\"}")
            .supplementary_configuration("IsRequesterPaysEnabled", "false")
            .supplementary_configuration("AccessControlList", "\"{\\\"grantList\\\":[]}\"")
            .build();
        let value = from_base_item(&item);
        assert_eq!(value["awsAccountId"], "111122223333");
        assert_eq!(value["ARN"], "arn:aws:s3:::logs");
        assert_eq!(value["resourceType"], "AWS::S3::Bucket");
        assert_eq!(value["configurationItemStatus"], "OK");
        assert_eq!(
            value["configurationItemCaptureTime"],
            "2023-11-14T22:13:20Z"
        );
        assert_eq!(value["configuration"], json!({"name": "logs"}));
        assert_eq!(
            value["supplementaryConfiguration"],
            json!({"AccessControlList": {"grantList": []}, "IsRequesterPaysEnabled": false})
        );
        assert!(value.get("tags").is_none(), "batch items carry no tags");
    }

    #[test]
    fn select_rows_are_renamed_to_the_delivery_form() {
        let row = json!({
            "accountId": "111122223333", "arn": "arn:aws:iam::111122223333:role/ci",
            "resourceType": "AWS::IAM::Role", "resourceId": "AROA1", "awsRegion": "global",
            "version": "1.3",
            "tags": [{"key": "team", "value": "platform"}],
            "configuration": {"roleName": "ci"},
            "supplementaryConfiguration": {"x": "{\"a\":1}"}
        })
        .to_string();
        let value = from_select_row(&row).unwrap();
        assert_eq!(value["awsAccountId"], "111122223333");
        assert_eq!(value["ARN"], "arn:aws:iam::111122223333:role/ci");
        assert_eq!(value["configurationItemVersion"], "1.3");
        assert_eq!(value["tags"], json!({"team": "platform"}));
        assert_eq!(value["supplementaryConfiguration"]["x"], json!({"a": 1}));
        assert!(from_select_row("[1]").is_err());
        assert!(from_select_row("{").is_err());
    }

    #[test]
    fn text_that_is_not_json_stays_text() {
        assert_eq!(decode_embedded(json!("Enabled")), json!("Enabled"));
        assert_eq!(decode_embedded(json!("{broken")), json!("{broken"));
        assert_eq!(decode_embedded(json!("\"\\\"x\\\"\"")), json!("x"));
    }
}
