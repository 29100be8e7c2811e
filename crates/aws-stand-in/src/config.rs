//! AWS Config as `resilix audit` calls it, answered from a list of configuration items.
//!
//! [`Recorded::install`] routes DescribeConfigurationRecorderStatus (one recorder, recording),
//! ListDiscoveredResources, BatchGetResourceConfig and SelectResourceConfig; a test then replaces
//! the route it wants to misbehave ([`StandIn::on`]). Items are in the API form, as
//! BatchGetResourceConfig returns them ([`item`] builds one): `accountId`, `arn`, `configuration`
//! as a JSON string, times as epoch seconds.

use serde_json::{Value, json};

use std::sync::Arc;

use crate::{Reply, Request, Routes, page, page_reply};

/// The page of `items` a List, Select or history request asks for: from the page token in its
/// `token` field, no longer than its `limit` field asks (missing or zero: no limit of its own)
/// and `page_size`, answered as `{list: [items…], token: next}`.
fn answer_page(
    request: &Request,
    items: &[Value],
    page_size: usize,
    (list, token, limit): (&str, &str, &str),
) -> Reply {
    let size = request
        .get(limit)
        .and_then(Value::as_u64)
        .and_then(|l| usize::try_from(l).ok())
        .filter(|l| *l > 0)
        .map_or(page_size, |l| l.min(page_size));
    match page(items, request.str(token), size) {
        Ok((page, next)) => page_reply(list, page, token, next),
        Err(reply) => reply,
    }
}

/// The `resourceKeys` of a BatchGetResourceConfig request; more than 100 is AWS's
/// `ValidationException`.
fn batch_keys(request: &Request) -> Result<Vec<Value>, Reply> {
    let keys = request
        .get("resourceKeys")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if keys.len() > 100 {
        return Err(Reply::error(
            400,
            "ValidationException",
            "resourceKeys: at most 100 keys per call",
        ));
    }
    Ok(keys)
}

/// Where ListDiscoveredResources and GetResourceConfigHistory keep their list, token and limit.
const LIST: (&str, &str, &str) = ("resourceIdentifiers", "nextToken", "limit");
const HISTORY: (&str, &str, &str) = ("configurationItems", "nextToken", "limit");
/// SelectResourceConfig's.
const SELECT: (&str, &str, &str) = ("Results", "NextToken", "Limit");

/// DescribeConfigurationRecorderStatus: one recorder, `default`, recording.
pub fn recording() -> Reply {
    Reply::json(json!({
        "ConfigurationRecordersStatus": [
            {"name": "default", "recording": true, "lastStatus": "SUCCESS"}
        ]
    }))
}

/// DescribeConfigurationRecorderStatus of a region without a recorder.
pub fn no_recorder() -> Reply {
    Reply::json(json!({"ConfigurationRecordersStatus": []}))
}

/// A configuration item in the API form.
pub fn item(
    account: &str,
    region: &str,
    resource_type: &str,
    id: &str,
    arn: &str,
    configuration: &Value,
) -> Value {
    json!({
        "version": "1.3",
        "accountId": account,
        "configurationItemCaptureTime": 1_767_225_600,
        "configurationItemStatus": "OK",
        "configurationStateId": "1767225600000",
        "arn": arn,
        "resourceType": resource_type,
        "resourceId": id,
        "resourceName": id,
        "awsRegion": region,
        "configuration": configuration.to_string(),
        "supplementaryConfiguration": {}
    })
}

/// An account's recorded items, served the way AWS Config serves them. The handler of each
/// operation is public, so a test can wrap one (answer call 1 with a fault, the rest normally).
#[derive(Debug, Clone)]
pub struct Recorded {
    items: Vec<Value>,
    page_size: usize,
}

impl Recorded {
    /// Items in the API form ([`item`]).
    pub fn new(items: Vec<Value>) -> Recorded {
        Recorded {
            items,
            page_size: 100,
        }
    }

    /// At most this many resources per List or Select page (besides the request's own limit).
    pub fn page_size(mut self, page_size: usize) -> Recorded {
        self.page_size = page_size.max(1);
        self
    }

    /// Routes the Config operations of an audit to these items.
    pub fn install(self, routes: &impl Routes) {
        routes.route("DescribeConfigurationRecorderStatus", Arc::new(recording()));
        let list = self.clone();
        routes.route(
            "ListDiscoveredResources",
            Arc::new(move |r: &Request| list.list_discovered_resources(r)),
        );
        let batch = self.clone();
        routes.route(
            "BatchGetResourceConfig",
            Arc::new(move |r: &Request| batch.batch_get_resource_config(r)),
        );
        routes.route(
            "SelectResourceConfig",
            Arc::new(move |r: &Request| self.select_resource_config(r)),
        );
    }

    fn of_type(&self, resource_type: &str) -> Vec<&Value> {
        self.items
            .iter()
            .filter(|i| i["resourceType"] == resource_type)
            .collect()
    }

    /// ListDiscoveredResources: the identifiers of the request's `resourceType`, a page at a time.
    pub fn list_discovered_resources(&self, request: &Request) -> Reply {
        let resource_type = request.str("resourceType").unwrap_or_default();
        let identifiers: Vec<Value> = self
            .of_type(resource_type)
            .into_iter()
            .map(|i| {
                json!({
                    "resourceType": i["resourceType"],
                    "resourceId": i["resourceId"],
                    "resourceName": i["resourceName"],
                })
            })
            .collect();
        answer_page(request, &identifiers, self.page_size, LIST)
    }

    /// BatchGetResourceConfig: the items of the request's `resourceKeys` (at most 100); unknown
    /// keys are left out, as AWS Config leaves them out.
    pub fn batch_get_resource_config(&self, request: &Request) -> Reply {
        let keys = match batch_keys(request) {
            Ok(keys) => keys,
            Err(reply) => return reply,
        };
        let found: Vec<Value> = keys
            .iter()
            .filter_map(|key| {
                self.items.iter().find(|i| {
                    i["resourceType"] == key["resourceType"] && i["resourceId"] == key["resourceId"]
                })
            })
            .cloned()
            .collect();
        Reply::json(json!({"baseConfigurationItems": found, "unprocessedResourceKeys": []}))
    }

    /// SelectResourceConfig of `SELECT * WHERE resourceType = 'TYPE'`, the one query audit
    /// sends: rows carry `configuration` as an object, as advanced queries return it.
    pub fn select_resource_config(&self, request: &Request) -> Reply {
        let expression = request.str("Expression").unwrap_or_default();
        let Some(resource_type) = expression
            .split_once("resourceType = '")
            .and_then(|(_, rest)| rest.split_once('\''))
            .map(|(t, _)| t)
        else {
            return Reply::error(
                400,
                "InvalidExpressionException",
                "the stand-in answers only SELECT * WHERE resourceType = '…'",
            );
        };
        let rows: Vec<Value> = self
            .of_type(resource_type)
            .into_iter()
            .map(|i| {
                let mut row = i.clone();
                if let (Some(text), Value::Object(fields)) = (i["configuration"].as_str(), &mut row)
                {
                    let configuration = serde_json::from_str(text).unwrap_or(Value::Null);
                    fields.insert("configuration".to_owned(), configuration);
                }
                Value::String(row.to_string())
            })
            .collect();
        answer_page(request, &rows, self.page_size, SELECT)
    }
}

/// An account's configuration history, served the way AWS Config serves it to
/// `resilix audit --changes-since`: every item of every resource, in the API form
/// (GetResourceConfigHistory's: `configuration` as a JSON string, capture times as epoch
/// seconds, `tags` a map, `relatedEvents` CloudTrail event IDs).
///
/// - ListDiscoveredResources lists each resource once; with `includeDeletedResources`, a
///   resource whose newest item is `ResourceDeleted` too, with its `resourceDeletionTime`.
/// - BatchGetResourceConfig answers each key with the resource's newest item (none for a
///   deleted resource).
/// - GetResourceConfigHistory pages through one resource's items, newest first unless
///   `chronologicalOrder` is `Forward`, within `earlierTime` / `laterTime`, at most `limit`
///   (and [`History::page_size`]) per page.
#[derive(Debug, Clone)]
pub struct History {
    items: Vec<Value>,
    page_size: usize,
}

fn epoch(item: &Value, field: &str) -> f64 {
    item.get(field).and_then(Value::as_f64).unwrap_or_default()
}

impl History {
    /// Items in the API form, in any order.
    pub fn new(mut items: Vec<Value>) -> History {
        items.sort_by(|a, b| {
            epoch(a, "configurationItemCaptureTime")
                .total_cmp(&epoch(b, "configurationItemCaptureTime"))
        });
        History {
            items,
            page_size: 100,
        }
    }

    /// The items of `configurationItems` in each fixture file (a GetResourceConfigHistory
    /// answer), together.
    ///
    /// # Panics
    /// When a file cannot be read or holds no `configurationItems` list.
    #[allow(
        clippy::panic,
        reason = "test support: a broken fixture must fail the test loudly"
    )]
    pub fn from_files(paths: &[std::path::PathBuf]) -> History {
        let mut items = Vec::new();
        for path in paths {
            let Reply::Json(body) = Reply::file(path) else {
                panic!("stand-in fixture {}: not JSON", path.display());
            };
            let Some(list) = body.get("configurationItems").and_then(Value::as_array) else {
                panic!(
                    "stand-in fixture {}: no configurationItems list",
                    path.display()
                );
            };
            items.extend(list.iter().cloned());
        }
        History::new(items)
    }

    /// At most this many items (or resources) per page, besides the request's own limit.
    pub fn page_size(mut self, page_size: usize) -> History {
        self.page_size = page_size.max(1);
        self
    }

    /// Routes the Config operations of `audit --changes-since` to this history.
    pub fn install(self, routes: &impl Routes) {
        routes.route("DescribeConfigurationRecorderStatus", Arc::new(recording()));
        let list = self.clone();
        routes.route(
            "ListDiscoveredResources",
            Arc::new(move |r: &Request| list.list_discovered_resources(r)),
        );
        let batch = self.clone();
        routes.route(
            "BatchGetResourceConfig",
            Arc::new(move |r: &Request| batch.batch_get_resource_config(r)),
        );
        routes.route(
            "GetResourceConfigHistory",
            Arc::new(move |r: &Request| self.get_resource_config_history(r)),
        );
    }

    /// The newest item of each resource of a type, in the order resources first appear.
    fn newest(&self, resource_type: &str) -> Vec<&Value> {
        let mut out: Vec<&Value> = Vec::new();
        for item in self
            .items
            .iter()
            .filter(|i| i["resourceType"] == resource_type)
        {
            match out
                .iter_mut()
                .find(|o| o["resourceId"] == item["resourceId"])
            {
                Some(slot) => *slot = item,
                None => out.push(item),
            }
        }
        out
    }

    /// ListDiscoveredResources of the request's `resourceType`.
    pub fn list_discovered_resources(&self, request: &Request) -> Reply {
        let resource_type = request.str("resourceType").unwrap_or_default();
        let deleted_too = request
            .get("includeDeletedResources")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let identifiers: Vec<Value> = self
            .newest(resource_type)
            .into_iter()
            .filter_map(|i| {
                let deleted = i["configurationItemStatus"] == "ResourceDeleted";
                if deleted && !deleted_too {
                    return None;
                }
                let mut id = json!({
                    "resourceType": i["resourceType"],
                    "resourceId": i["resourceId"],
                    "resourceName": i["resourceName"],
                });
                if deleted && let Value::Object(fields) = &mut id {
                    fields.insert(
                        "resourceDeletionTime".to_owned(),
                        i["configurationItemCaptureTime"].clone(),
                    );
                }
                Some(id)
            })
            .collect();
        answer_page(request, &identifiers, self.page_size, LIST)
    }

    /// BatchGetResourceConfig: the newest item of each key that still exists.
    pub fn batch_get_resource_config(&self, request: &Request) -> Reply {
        let keys = match batch_keys(request) {
            Ok(keys) => keys,
            Err(reply) => return reply,
        };
        let found: Vec<Value> = keys
            .iter()
            .filter_map(|key| {
                let resource_type = key["resourceType"].as_str().unwrap_or_default();
                self.newest(resource_type)
                    .into_iter()
                    .find(|i| i["resourceId"] == key["resourceId"])
                    .filter(|i| i["configurationItemStatus"] != "ResourceDeleted")
                    .map(|i| {
                        // Batch items carry neither tags, relationships nor related events.
                        let mut base = i.clone();
                        if let Value::Object(fields) = &mut base {
                            for key in ["tags", "relationships", "relatedEvents"] {
                                fields.remove(key);
                            }
                        }
                        base
                    })
            })
            .collect();
        Reply::json(json!({"baseConfigurationItems": found, "unprocessedResourceKeys": []}))
    }

    /// GetResourceConfigHistory of one resource.
    pub fn get_resource_config_history(&self, request: &Request) -> Reply {
        let resource_type = request.str("resourceType").unwrap_or_default();
        let id = request.str("resourceId").unwrap_or_default();
        let earlier = request.get("earlierTime").and_then(Value::as_f64);
        let later = request.get("laterTime").and_then(Value::as_f64);
        let mut items: Vec<Value> = self
            .items
            .iter()
            .filter(|i| i["resourceType"] == resource_type && i["resourceId"] == id)
            .filter(|i| {
                let at = epoch(i, "configurationItemCaptureTime");
                earlier.is_none_or(|e| at >= e) && later.is_none_or(|l| at <= l)
            })
            .cloned()
            .collect();
        if items.is_empty() && !self.items.iter().any(|i| i["resourceId"] == id) {
            return Reply::error(
                400,
                "ResourceNotDiscoveredException",
                &format!(
                    "Resource {id} of resourceType:{resource_type} is unknown or has not been discovered"
                ),
            );
        }
        if request.str("chronologicalOrder") != Some("Forward") {
            items.reverse();
        }
        answer_page(request, &items, self.page_size, HISTORY)
    }
}
