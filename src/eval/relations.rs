//! The index behind `related:` checks, built once before evaluation.
//!
//! Incoming relations (`via`, or neither `via` nor `from`): a resource R of a related type is
//! linked to the subject X when
//! - (Terraform) an attribute of R (the `via` attribute, or any) references X in the plan's
//!   `configuration` (resolved across modules at load), or R's `via` value equals X's `id` or
//!   `arn` (resources that already exist);
//! - (AWS Config) R's `via` value equals X's resource id, ARN or name, or — without `via` — a
//!   relationship of either item names the other.
//!
//! Outgoing relations (`from`): R is linked to X when X's `from` attribute references R in the
//! configuration (Terraform), or its value equals R's id or ARN (Terraform) or resource id, ARN
//! or name (AWS Config).

use std::collections::{BTreeSet, HashMap};

use rayon::prelude::*;
use serde_json::Value;

use super::projection::Projections;
use crate::model::value::marker;
use crate::model::{Resource, SourceKind};
use crate::policy::selector::{Budget, JSONPATH_BUDGET, Selector};
use crate::policy::{Catalog, RelatedCheck};

/// Which way a relation points.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Direction {
    /// The related resources point at the subject (through `via`, or any reference).
    Incoming(Option<String>),
    /// The subject points at the related resources through `from`.
    Outgoing(String),
    /// Any resource of the related types in the subject's input file (account and Region
    /// settings that apply to every resource, for declared defaults).
    Anywhere,
}

/// Identifies one kind of relation: input kind, related types, direction and attribute.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct RelationKey {
    kind: SourceKind,
    types: Vec<String>,
    direction: Direction,
}

impl RelationKey {
    pub(crate) fn of(kind: SourceKind, check: &RelatedCheck) -> RelationKey {
        let direction = match &check.from {
            Some(from) => Direction::Outgoing(from.text().to_owned()),
            None if check.anywhere => Direction::Anywhere,
            None => Direction::Incoming(check.via.as_ref().map(|v| v.text().to_owned())),
        };
        RelationKey {
            kind,
            types: check.types.clone(),
            direction,
        }
    }
}

/// Link keys → indexes of related resources.
#[derive(Debug, Default)]
struct RelationTable {
    links: HashMap<String, Vec<usize>>,
    /// Related resources whose `via` values could not be read within the JSONPath budget,
    /// and why: they may be linked to any subject, so no lookup in this table is complete.
    unbounded: Vec<String>,
}

/// Every relation table the catalog needs.
#[derive(Debug, Default)]
pub struct RelationIndex {
    tables: HashMap<RelationKey, RelationTable>,
}

impl RelationIndex {
    pub fn build(catalog: &Catalog, resources: &[Resource]) -> RelationIndex {
        RelationIndex::build_projected(catalog, resources, &Projections::default())
    }

    /// Builds the index reading only what `projections` keep of each resource.
    pub(crate) fn build_projected(
        catalog: &Catalog,
        resources: &[Resource],
        projections: &Projections,
    ) -> RelationIndex {
        let mut wanted: Vec<(RelationKey, &RelatedCheck)> = Vec::new();
        for (kind, check) in catalog.related_checks() {
            let key = RelationKey::of(kind, check);
            if !wanted.iter().any(|(k, _)| *k == key) {
                wanted.push((key, check));
            }
        }
        let tables = wanted
            .into_par_iter()
            .map(|(key, check)| {
                let table = build_table(&key, check, resources, projections);
                (key, table)
            })
            .collect();
        RelationIndex { tables }
    }

    /// The resources related to `subject` (whose document is `doc`), sorted, without
    /// duplicates. `from` is the check's forward attribute, for outgoing relations, read
    /// within `budget`. When `from`, or the `via` attribute of a related resource, could not be
    /// read within the JSONPath budget, `budget` says so: the list is not complete.
    pub(crate) fn lookup(
        &self,
        key: &RelationKey,
        subject: &Resource,
        doc: &Value,
        from: Option<&Selector>,
        budget: &mut Budget,
    ) -> Vec<usize> {
        let Some(table) = self.tables.get(key) else {
            return Vec::new();
        };
        if let Some(why) = table.unbounded.first() {
            budget.exceed(why.clone());
            return Vec::new();
        }
        let mut found = BTreeSet::new();
        let mut add = |link: String| {
            if let Some(list) = table.links.get(&link) {
                found.extend(list.iter().copied());
            }
        };
        match (&key.direction, key.kind) {
            (Direction::Anywhere, _) => add(file_link(subject)),
            (Direction::Outgoing(_), kind) => {
                if kind == SourceKind::Terraform {
                    let attribute = from.and_then(Selector::attribute_path);
                    for reference in subject.references.iter() {
                        if attribute.as_deref() == Some(reference.attribute.as_str()) {
                            for target in &reference.targets {
                                add(format!("addr:{target}"));
                            }
                        }
                    }
                }
                for value in from
                    .map(|f| string_values(f, doc, budget))
                    .unwrap_or_default()
                {
                    add(format!("val:{value}"));
                }
            }
            (Direction::Incoming(via), SourceKind::Terraform) => {
                if let Some(address) = &subject.config_address {
                    add(format!("addr:{address}"));
                }
                if via.is_some() {
                    for field in ["id", "arn"] {
                        if let Some(v @ Value::String(text)) = doc.get(field)
                            && marker(v).is_none()
                        {
                            add(format!("val:{text}"));
                        }
                    }
                }
            }
            (Direction::Incoming(via), SourceKind::AwsConfig) => {
                if via.is_some() {
                    for identity in config_identities(subject) {
                        add(format!("val:{identity}"));
                    }
                } else {
                    for identity in [&subject.resource_id, &subject.resource_name]
                        .into_iter()
                        .flatten()
                    {
                        add(format!("rel:{}|{identity}", subject.type_name));
                    }
                    for relationship in &subject.relationships {
                        if key.types.contains(&relationship.resource_type) {
                            for identity in [&relationship.resource_id, &relationship.resource_name]
                                .into_iter()
                                .flatten()
                            {
                                add(format!("self:{}|{identity}", relationship.resource_type));
                            }
                        }
                    }
                }
            }
        }
        found.into_iter().collect()
    }
}

/// The link every resource of one input file shares.
fn file_link(resource: &Resource) -> String {
    format!("file:{}", resource.origin.file_name().unwrap_or(""))
}

/// The non-empty, known string values a selector finds (within `budget`).
fn string_values(selector: &Selector, doc: &Value, budget: &mut Budget) -> Vec<String> {
    selector
        .select(doc, false, budget)
        .hits
        .into_iter()
        .filter_map(|hit| match hit.value {
            Value::String(text) if marker(hit.value).is_none() && !text.is_empty() => {
                Some(text.clone())
            }
            _ => None,
        })
        .collect()
}

/// The identities an AWS Config item is referred to by: resource id, ARN, name.
fn config_identities(resource: &Resource) -> impl Iterator<Item = &String> {
    [
        &resource.resource_id,
        &resource.arn,
        &resource.resource_name,
    ]
    .into_iter()
    .flatten()
}

fn build_table(
    key: &RelationKey,
    check: &RelatedCheck,
    resources: &[Resource],
    projections: &Projections,
) -> RelationTable {
    let entries: Vec<(usize, Links)> = resources
        .par_iter()
        .enumerate()
        .filter(|(_, r)| {
            r.source == key.kind
                && r.is_evaluable()
                && check.types.iter().any(|t| **t == *r.type_name)
        })
        .map(|(index, r)| {
            let links = match &key.direction {
                Direction::Anywhere => Links {
                    links: vec![file_link(r)],
                    unbounded: None,
                },
                Direction::Outgoing(_) => Links {
                    links: outgoing_links(key.kind, r, projections),
                    unbounded: None,
                },
                Direction::Incoming(_) => incoming_links(key.kind, check, r, projections),
            };
            (index, links)
        })
        .collect();
    let mut table = RelationTable::default();
    for (index, links) in entries {
        for link in links.links {
            table.links.entry(link).or_default().push(index);
        }
        table.unbounded.extend(links.unbounded);
    }
    table
}

/// How one resource can be linked, and why not all of it is known (the JSONPath budget).
struct Links {
    links: Vec<String>,
    unbounded: Option<String>,
}

/// How a related resource R can be pointed at by a subject's `from` attribute.
fn outgoing_links(kind: SourceKind, r: &Resource, projections: &Projections) -> Vec<String> {
    let mut links = Vec::new();
    match kind {
        SourceKind::Terraform => {
            if let Some(address) = &r.config_address {
                links.push(format!("addr:{address}"));
            }
            if let Ok(docs) = r.documents_for(projections.get(r.source, &r.type_name, false)) {
                for field in ["id", "arn"] {
                    if let Some(v @ Value::String(text)) = docs.after.get(field)
                        && marker(v).is_none()
                        && !text.is_empty()
                    {
                        links.push(format!("val:{text}"));
                    }
                }
            }
        }
        SourceKind::AwsConfig => {
            links.extend(config_identities(r).map(|i| format!("val:{i}")));
        }
    }
    links
}

/// How a related resource R points at subjects (its references, `via` values, relationships).
fn incoming_links(
    kind: SourceKind,
    check: &RelatedCheck,
    r: &Resource,
    projections: &Projections,
) -> Links {
    let via_attribute = check.via.as_ref().and_then(Selector::attribute_path);
    let mut links = Vec::new();
    match kind {
        SourceKind::Terraform => {
            for reference in r.references.iter() {
                let matches = match &via_attribute {
                    None => true,
                    Some(attribute) => reference.attribute == *attribute,
                };
                if matches {
                    links.extend(reference.targets.iter().map(|t| format!("addr:{t}")));
                }
            }
        }
        SourceKind::AwsConfig => {
            if check.via.is_none() {
                for relationship in &r.relationships {
                    for identity in [&relationship.resource_id, &relationship.resource_name]
                        .into_iter()
                        .flatten()
                    {
                        links.push(format!("rel:{}|{identity}", relationship.resource_type));
                    }
                }
                for identity in [&r.resource_id, &r.resource_name].into_iter().flatten() {
                    links.push(format!("self:{}|{identity}", r.type_name));
                }
            }
        }
    }
    let mut unbounded = None;
    if let Some(via) = &check.via
        && let Ok(docs) = r.documents_for(projections.get(r.source, &r.type_name, false))
    {
        let mut budget = Budget::new(JSONPATH_BUDGET, "one related resource");
        links.extend(
            string_values(via, &docs.after, &mut budget)
                .into_iter()
                .map(|v| format!("val:{v}")),
        );
        unbounded = budget
            .exceeded()
            .map(|why| format!("related {}: `via`: {why}", r.address));
    }
    Links { links, unbounded }
}
