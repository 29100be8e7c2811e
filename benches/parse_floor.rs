//! The serde typed-parse floor for a plan: read the file, parse `resource_changes` into a
//! borrowing typed struct (address, type, actions, `after` kept raw), skip everything else.
//! No scanner can read a plan faster than this; benches/run.py reports resilix against it.
//!
//! Usage: parse-floor FILE   (prints the number of resource changes)
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

use std::borrow::Cow;

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;

#[derive(Deserialize)]
struct Plan<'a> {
    #[serde(borrow)]
    resource_changes: Vec<Change<'a>>,
}

#[derive(Deserialize)]
struct Change<'a> {
    #[serde(borrow)]
    address: Cow<'a, str>,
    #[serde(rename = "type", borrow)]
    type_name: Cow<'a, str>,
    #[serde(borrow)]
    change: Body<'a>,
    #[serde(flatten)]
    _rest: std::collections::HashMap<Cow<'a, str>, IgnoredAny>,
}

#[derive(Deserialize)]
struct Body<'a> {
    #[serde(borrow)]
    actions: Vec<Cow<'a, str>>,
    #[serde(borrow)]
    after: Option<&'a RawValue>,
}

fn main() {
    let path = std::env::args().nth(1).expect("usage: parse-floor FILE");
    let bytes = std::fs::read(&path).expect("read");
    let text = std::str::from_utf8(&bytes).expect("utf-8");
    let plan: Plan<'_> = serde_json::from_str(text).expect("parse");
    let mut checksum = 0usize;
    for change in &plan.resource_changes {
        checksum += change.address.len() + change.type_name.len() + change.change.actions.len();
        checksum += change.change.after.map_or(0, |a| a.get().len());
    }
    println!("{} {}", plan.resource_changes.len(), checksum);
}
