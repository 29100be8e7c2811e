//! The index behind `related:` checks, built once before evaluation.
//!
//! A resource R of a related type is linked to resource X when
//! - (Terraform) an attribute of R (the `via` attribute, or any) references X in the plan's
//!   `configuration` (resolved across modules at load), or R's `via` value equals X's `id` or
//!   `arn` (resources that already exist);
//! - (AWS Config) R's `via` value equals X's resource id, ARN or name, or — without `via` — a
//!   relationship of either item names the other.

use std::collections::{BTreeSet, HashMap};

use rayon::prelude::*;
use serde_json::Value;

use super::projection::Projections;
use crate::model::value::marker;
use crate::model::{Resource, SourceKind};
use crate::policy::{Catalog, RelatedCheck};

/// Identifies one kind of relation: input kind, related types, `via` path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct RelationKey {
    kind: SourceKind,
    types: Vec<String>,
    via: Option<String>,
}

impl RelationKey {
    pub(crate) fn of(kind: SourceKind, check: &RelatedCheck) -> RelationKey {
        RelationKey {
            kind,
            types: check.types.clone(),
            via: check.via.as_ref().map(|v| v.text().to_owned()),
        }
    }
}

/// Link keys → indexes of related resources.
#[derive(Debug, Default)]
struct RelationTable {
    links: HashMap<String, Vec<usize>>,
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
        let mut wanted: Vec<(SourceKind, &RelatedCheck)> = Vec::new();
        for (kind, check) in catalog.related_checks() {
            if !wanted
                .iter()
                .any(|(k, c)| RelationKey::of(*k, c) == RelationKey::of(kind, check))
            {
                wanted.push((kind, check));
            }
        }
        let tables = wanted
            .par_iter()
            .map(|(kind, check)| {
                (
                    RelationKey::of(*kind, check),
                    build_table(*kind, check, resources, projections),
                )
            })
            .collect();
        RelationIndex { tables }
    }

    /// The resources related to `subject` (whose document is `doc`), sorted, without duplicates.
    pub(crate) fn lookup(
        &self,
        key: &RelationKey,
        subject: &Resource,
        doc: &Value,
        resources: &[Resource],
    ) -> Vec<usize> {
        let Some(table) = self.tables.get(key) else {
            return Vec::new();
        };
        let mut found = BTreeSet::new();
        let mut add = |link: String| {
            if let Some(list) = table.links.get(&link) {
                found.extend(list.iter().copied());
            }
        };
        match key.kind {
            SourceKind::Terraform => {
                if let Some(address) = &subject.config_address {
                    add(format!("addr:{address}"));
                }
                if key.via.is_some() {
                    for field in ["id", "arn"] {
                        if let Some(Value::String(v)) = doc.get(field)
                            && marker(&Value::String(v.clone())).is_none()
                        {
                            add(format!("val:{v}"));
                        }
                    }
                }
            }
            SourceKind::AwsConfig => {
                let identities = [&subject.resource_id, &subject.arn, &subject.resource_name];
                if key.via.is_some() {
                    for identity in identities.into_iter().flatten() {
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
        let _ = resources;
        found.into_iter().collect()
    }
}

fn build_table(
    kind: SourceKind,
    check: &RelatedCheck,
    resources: &[Resource],
    projections: &Projections,
) -> RelationTable {
    let via_attribute = check.via.as_ref().and_then(|v| v.attribute_path());
    let entries: Vec<(usize, Vec<String>)> = resources
        .par_iter()
        .enumerate()
        .filter(|(_, r)| {
            r.source == kind && r.is_evaluable() && check.types.iter().any(|t| **t == *r.type_name)
        })
        .map(|(index, r)| {
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
                                links
                                    .push(format!("rel:{}|{identity}", relationship.resource_type));
                            }
                        }
                        for identity in [&r.resource_id, &r.resource_name].into_iter().flatten() {
                            links.push(format!("self:{}|{identity}", r.type_name));
                        }
                    }
                }
            }
            if let Some(via) = &check.via
                && let Ok(docs) = r.documents_for(projections.get(r.source, &r.type_name, false))
            {
                for hit in via.select(&docs.after, false).hits {
                    if let Value::String(v) = hit.value
                        && marker(hit.value).is_none()
                        && !v.is_empty()
                    {
                        links.push(format!("val:{v}"));
                    }
                }
            }
            (index, links)
        })
        .collect();
    let mut table = RelationTable::default();
    for (index, links) in entries {
        for link in links {
            table.links.entry(link).or_default().push(index);
        }
    }
    table
}
