//! CloudTrail as `resilix audit --changes-since` calls it: LookupEvents by `EventId`, answered
//! from a list of events in the LookupEvents answer form (`EventId`, `EventName`, `EventTime` as
//! epoch seconds, `CloudTrailEvent` as a JSON string). An event not in the list is not found (an
//! empty `Events`), as CloudTrail answers for an event older than it keeps.

use serde_json::{Value, json};

use std::sync::Arc;

use crate::{Reply, Request, Routes};

/// An account's CloudTrail events.
#[derive(Debug, Clone)]
pub struct Trail {
    events: Vec<Value>,
}

impl Trail {
    pub fn new(events: Vec<Value>) -> Trail {
        Trail { events }
    }

    /// The `Events` of a fixture file (a LookupEvents answer).
    ///
    /// # Panics
    /// When the file cannot be read or holds no `Events` list.
    #[allow(
        clippy::panic,
        reason = "test support: a broken fixture must fail the test loudly"
    )]
    pub fn from_file(path: &std::path::Path) -> Trail {
        let Reply::Json(body) = Reply::file(path) else {
            panic!("stand-in fixture {}: not JSON", path.display());
        };
        let Some(events) = body.get("Events").and_then(Value::as_array) else {
            panic!("stand-in fixture {}: no Events list", path.display());
        };
        Trail::new(events.clone())
    }

    /// Routes LookupEvents to these events.
    pub fn install(self, routes: &impl Routes) {
        routes.route(
            "LookupEvents",
            Arc::new(move |r: &Request| self.lookup_events(r)),
        );
    }

    /// LookupEvents with one `EventId` lookup attribute (the one lookup resilix makes).
    pub fn lookup_events(&self, request: &Request) -> Reply {
        let attributes = request
            .get("LookupAttributes")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let [attribute] = attributes.as_slice() else {
            return Reply::error(
                400,
                "InvalidLookupAttributesException",
                "exactly one lookup attribute is allowed",
            );
        };
        if attribute["AttributeKey"] != "EventId" {
            return Reply::error(
                400,
                "InvalidLookupAttributesException",
                "the stand-in looks events up by EventId only",
            );
        }
        let found: Vec<Value> = self
            .events
            .iter()
            .filter(|e| e["EventId"] == attribute["AttributeValue"])
            .cloned()
            .collect();
        Reply::json(json!({"Events": found}))
    }
}
