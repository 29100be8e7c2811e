//! Triage: what the configuration file says about each finding — the criticality of its
//! asset (and so its priority), an approval of its change, a waiver (in the file, or a
//! `resilix:ignore` comment on the resource's `.tf` block) — after which the finding decides its
//! [`super::Disposition`] again. Reads the tags of the resources with findings; no I/O: the
//! inline ignores were read with the `.tf` sources, at load.
//!
//! The configuration is data here: `config/` parses `resilix.yaml`, this module applies it.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use jiff::civil::Date;
use rayon::prelude::*;

use super::{
    Approval, ApprovalSource, Criticality, Report, Status, Waiver, WaiverSource, WarningRecord,
    priority,
};
use crate::config::{Config, WaiverEntry};
use crate::input::tags::{ResourceTags, read_tags};
use crate::model::{ChangeKind, InlineIgnore, Resource, ResourceSet};
use crate::pattern::Pattern;
use crate::policy::{Catalog, Category};
use crate::source::SourceFile;

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
        // A policy that judges authorization (`authorized:`, change.unauthorized) has already
        // weighed the change's ticket and `approvals.changes`: what it failed, no approval
        // covers (a change by the root user, whatever approves it). Approving it here would
        // decide it twice.
        let approval = if policy.category == Category::ChangeControl
            && finding.status() == Status::Fail
            && !policy.judges_authorization()
        {
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
    report.warnings = inline_warnings(&report.resources, config.today);
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
pub fn approval_of(
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

/// The waiver for a finding: the first active one that matches — in the configuration file,
/// then among the inline ignores of the resource's block — else the first expired one.
fn waiver_of(config: &Config, policy: &str, resource: &Resource) -> Option<Waiver> {
    let names = names(resource);
    let entries = config.file.as_ref().map(|file| {
        config
            .waivers
            .iter()
            .filter(|w| {
                w.policy.value.matches(policy) && names.iter().any(|n| w.resource.matches(n))
            })
            .map(move |w| Candidate::Config(file, w))
    });
    let inline = inline_ignores(resource)
        .iter()
        .filter(|i| i.names(policy))
        .map(Candidate::Inline);
    let matching: Vec<Candidate<'_>> = entries.into_iter().flatten().chain(inline).collect();
    let chosen = matching
        .iter()
        .find(|c| c.expires().is_some_and(|e| e >= config.today))
        .or_else(|| matching.first())?;
    Some(chosen.waiver(config.today))
}

/// A waiver that matches a finding, as written.
enum Candidate<'a> {
    Config(&'a Arc<SourceFile>, &'a WaiverEntry),
    Inline(&'a InlineIgnore),
}

impl Candidate<'_> {
    fn expires(&self) -> Option<Date> {
        match self {
            Candidate::Config(_, entry) => Some(entry.expires),
            Candidate::Inline(ignore) => ignore.expires,
        }
    }

    fn waiver(&self, today: Date) -> Waiver {
        let expires = self.expires();
        let (reason, source, location) = match self {
            Candidate::Config(file, entry) => (
                entry.reason.clone(),
                WaiverSource::Config {
                    approved_by: entry.approved_by.clone(),
                    ticket: entry.ticket.clone(),
                },
                format!("{}:{}", file.name(), file.line_col(entry.span.start).line),
            ),
            Candidate::Inline(ignore) => (
                ignore.reason.clone(),
                WaiverSource::Inline {
                    file: Arc::clone(&ignore.file),
                    line: ignore.line,
                },
                format!("{}:{}", ignore.file, ignore.line),
            ),
        };
        Waiver {
            reason,
            source,
            expires: expires.map(|e| e.to_string()).unwrap_or_default(),
            expired: expires.is_none_or(|e| e < today),
            location,
        }
    }
}

/// The inline ignores on or above the block that declares a resource.
fn inline_ignores(resource: &Resource) -> &[InlineIgnore] {
    resource
        .origin
        .declaration
        .as_ref()
        .and_then(|d| d.ignores.as_deref())
        .unwrap_or_default()
}

/// Every inline ignore of the blocks the resources map to that suppresses nothing — not well
/// formed, or expired — once each (a block shared by `count`/`for_each` instances and by the
/// calls of its module is one place), in file order.
fn inline_warnings(resources: &ResourceSet, today: Date) -> Vec<WarningRecord> {
    let mut seen: BTreeMap<(&str, usize), &InlineIgnore> = BTreeMap::new();
    for resource in &resources.resources {
        for ignore in inline_ignores(resource) {
            seen.entry((&ignore.file, ignore.line)).or_insert(ignore);
        }
    }
    const FORMAT: &str = "write `# resilix:ignore ID[,ID…] reason=\"…\" expires=YYYY-MM-DD` on or above the resource block";
    seen.into_values()
        .filter_map(|ignore| {
            let ids: Vec<&str> = ignore.policies.iter().map(Pattern::text).collect();
            let (message, help) = match (&ignore.problem, ignore.expires) {
                (Some(problem), _) => (
                    format!("this resilix:ignore suppresses nothing: {problem}"),
                    FORMAT.to_owned(),
                ),
                (None, Some(expires)) if expires < today => (
                    format!(
                        "the resilix:ignore of {} expired on {expires}: its findings are reported again",
                        ids.join(", ")
                    ),
                    "renew it with a new expiry date, or fix the findings and remove it".to_owned(),
                ),
                (None, _) => return None,
            };
            Some(WarningRecord {
                file: ignore.file.to_string(),
                line: ignore.line,
                message,
                help: Some(help),
            })
        })
        .collect()
}

/// The names a resource pattern may match: address, ARN, resource id, identity.
fn names(resource: &Resource) -> Vec<String> {
    let mut out = vec![resource.address.clone()];
    out.extend(resource.arn.clone());
    out.extend(resource.resource_id.clone());
    out.push(resource.identity());
    out
}
