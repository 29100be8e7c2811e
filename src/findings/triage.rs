//! Triage: what the configuration file says about each finding — the criticality of its
//! asset (and so its priority), an approval of its change, a waiver — after which the finding
//! decides its [`super::Disposition`] again. Reads the tags of the resources with findings; no
//! I/O.
//!
//! The configuration is data here: `config/` parses `resilix.yaml`, this module applies it.

use std::collections::HashMap;

use rayon::prelude::*;

use super::{Approval, ApprovalSource, Criticality, Report, Status, Waiver, priority};
use crate::config::Config;
use crate::input::tags::{ResourceTags, read_tags};
use crate::model::{ChangeKind, Resource};
use crate::policy::{Catalog, Category};

/// Applies approvals, waivers and risk-based priority to the findings of a report.
///
/// `known` holds the tags of some resources already read (by evaluation, from the documents it
/// parsed: [`crate::eval::Evaluation::tags`]); the others are read here.
pub fn triage(
    report: &mut Report,
    catalog: &Catalog,
    config: &Config,
    known: Vec<(usize, ResourceTags)>,
) {
    let resources = &report.resources;
    let mut tags: HashMap<usize, ResourceTags> = known.into_iter().collect();
    // The tags of each other resource with findings, read once, in parallel.
    let mut with_findings: Vec<usize> = report
        .findings
        .iter()
        .map(|f| f.resource)
        .filter(|index| !tags.contains_key(index))
        .collect();
    with_findings.sort_unstable();
    with_findings.dedup();
    tags.par_extend(
        with_findings
            .par_iter()
            .filter_map(|&index| Some((index, read_tags(resources.get(index)?)))),
    );
    let no_tags = ResourceTags::default();
    for finding in &mut report.findings {
        let Some(resource) = resources.get(finding.resource) else {
            continue;
        };
        let tags = tags.get(&finding.resource).unwrap_or(&no_tags);
        let Some(policy) = catalog.get(finding.policy) else {
            continue;
        };
        finding.criticality = criticality_of(config, resource, tags);
        finding.priority = priority(finding.severity, finding.criticality);
        let approval =
            if policy.category == Category::ChangeControl && finding.status() == Status::Fail {
                approval_of(config, &policy.id, resource, tags)
            } else {
                None
            };
        // An error is not a weakness anyone can accept: it is reported until fixed.
        let waiver = match finding.status() {
            Status::Error => None,
            Status::Fail | Status::Review => waiver_of(config, &policy.id, resource),
        };
        finding.accept(approval, waiver);
    }
    // Tens of thousands of small maps: freed in parallel rather than one by one.
    tags.into_par_iter().for_each(drop);
}

fn criticality_of(
    config: &Config,
    resource: &Resource,
    tags: &ResourceTags,
) -> Option<Criticality> {
    let own = if tags.after.is_empty() {
        &tags.before
    } else {
        &tags.after
    };
    if let Some(level) = own
        .get(&config.criticality_tag)
        .and_then(|v| Criticality::parse(v))
    {
        return Some(level);
    }
    let names = names(resource);
    for rule in &config.criticality_rules {
        let types =
            rule.types.is_empty() || rule.types.iter().any(|p| p.matches(&resource.type_name));
        let addresses = rule.resources.is_empty()
            || rule
                .resources
                .iter()
                .any(|p| names.iter().any(|n| p.matches(n)));
        let tagged = rule
            .tags
            .iter()
            .all(|(k, p)| own.get(k).is_some_and(|v| p.matches(v)));
        if types && addresses && tagged {
            return Some(rule.level);
        }
    }
    config.criticality_default
}

/// An approval for a change: an entry in the file naming the resource, else the approval
/// tag. For a deletion the tag is read from the object being deleted; for any other change
/// it must be on the new object and be new or changed, so a ticket left over from an earlier
/// change approves nothing.
fn approval_of(
    config: &Config,
    policy: &str,
    resource: &Resource,
    tags: &ResourceTags,
) -> Option<Approval> {
    let names = names(resource);
    if let (Some(file), Some(entry)) = (
        &config.file,
        config.approvals.iter().find(|a| {
            a.policy.as_ref().is_none_or(|p| p.value.matches(policy))
                && a.expires.is_none_or(|e| e >= config.today)
                && names.iter().any(|n| a.resource.matches(n))
        }),
    ) {
        let line = file.line_col(entry.span.start).line;
        return Some(Approval {
            ticket: entry.ticket.clone(),
            source: ApprovalSource::Config {
                location: format!("{}:{line}", file.name()),
            },
        });
    }
    let key = &config.approval_tag;
    let ticket = match resource.change_kind() {
        ChangeKind::Delete | ChangeKind::Forget => tags.before.get(key),
        _ => tags
            .after
            .get(key)
            .filter(|t| tags.before.get(key) != Some(*t)),
    };
    ticket
        .filter(|t| !t.trim().is_empty())
        .map(|ticket| Approval {
            ticket: ticket.trim().to_owned(),
            source: ApprovalSource::Tag { key: key.clone() },
        })
}

/// The waiver for a finding: the first active one that matches, else the first expired one.
fn waiver_of(config: &Config, policy: &str, resource: &Resource) -> Option<Waiver> {
    let file = config.file.as_ref()?;
    let names = names(resource);
    let matching = config
        .waivers
        .iter()
        .filter(|w| w.policy.value.matches(policy) && names.iter().any(|n| w.resource.matches(n)));
    let chosen = matching
        .clone()
        .find(|w| w.expires >= config.today)
        .or_else(|| matching.clone().next())?;
    let line = file.line_col(chosen.span.start).line;
    Some(Waiver {
        reason: chosen.reason.clone(),
        approved_by: chosen.approved_by.clone(),
        ticket: chosen.ticket.clone(),
        expires: chosen.expires.to_string(),
        expired: chosen.expires < config.today,
        location: format!("{}:{line}", file.name()),
    })
}

/// The names a resource pattern may match: address, ARN, resource id, identity.
fn names(resource: &Resource) -> Vec<String> {
    let mut out = vec![resource.address.clone()];
    out.extend(resource.arn.clone());
    out.extend(resource.resource_id.clone());
    out.push(resource.identity());
    out
}
