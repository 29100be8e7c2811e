//! Evaluation: every resource meets the policies for its type, in parallel.
//!
//! Each (resource, policy) pair is first evaluated on a fast path that builds no text; only a
//! result that does not pass is evaluated again with evidence. A panic in one evaluation becomes
//! an error finding that says it is a bug, and the run goes on.

pub mod authorization;
mod defaults;
mod grants;
mod operators;
mod outcome;
mod projection;
mod relations;
mod transitions;

use std::panic::{AssertUnwindSafe, catch_unwind};

use rayon::prelude::*;
use serde_json::Value;

pub use defaults::AppliedDefault;
pub use outcome::Verdict;
pub use projection::Projections;
pub use relations::RelationIndex;

use crate::config::Config;
use crate::findings::{ErrorRecord, Evidence, Finding, Pass, Status};
use crate::input::tags::{ResourceTags, covers_tags, resource_tags};
use crate::model::value::{Marker, display, marker};
use crate::model::{Documents, Resource, ResourceSet};
use crate::policy::selector::{Budget, Mismatch};
use crate::policy::{
    Catalog, Condition, Operator, Policy, PolicyIndex, Quantifier, Severity, Target,
};
use operators::{OpResult, apply, kind};
use relations::RelationKey;

/// Evidence items kept per verdict of one combined condition (the rest are counted).
const MAX_EVIDENCE: usize = 50;

/// The results of evaluating a catalog over a set of resources.
#[derive(Debug, Default)]
pub struct Evaluation {
    pub findings: Vec<Finding>,
    pub passes: Vec<Pass>,
    /// Resources whose values could not be parsed.
    pub errors: Vec<ErrorRecord>,
    /// Resources that met at least one policy.
    pub evaluated: usize,
    /// The tags of resources with findings, where the documents their evaluation read hold
    /// them ([`crate::findings::triage`] reads the others).
    pub tags: Vec<(usize, ResourceTags)>,
    /// Each change a policy judged the authorization of: (resource, policy, what it decided).
    pub authorizations: Vec<(usize, PolicyIndex, authorization::Authorization)>,
}

/// Evaluates every policy on every resource of its type. `config` holds what policies judge
/// changes by besides the change itself (`approvals`: who and what authorizes a change).
pub fn evaluate(catalog: &Catalog, config: &Config, resources: &ResourceSet) -> Evaluation {
    let projections = Projections::build(catalog, &resources.resources);
    evaluate_with(catalog, config, resources, &projections)
}

/// [`evaluate`], reading what `projections` keep of each resource's documents
/// ([`Projections::default`]: whole documents).
pub fn evaluate_with(
    catalog: &Catalog,
    config: &Config,
    resources: &ResourceSet,
    projections: &Projections,
) -> Evaluation {
    let relations = RelationIndex::build_projected(catalog, &resources.resources, projections);
    let evaluator = Evaluator {
        resources: &resources.resources,
        relations: &relations,
        projections,
        config,
    };
    // Folded as they come (no vector of per-resource results); `reduce` joins the parts in
    // resource order, so the result does not depend on the thread count.
    resources
        .resources
        .par_iter()
        .enumerate()
        .fold(Evaluation::default, |mut evaluation, (index, resource)| {
            let results = evaluator.resource(catalog, index, resource);
            evaluation.evaluated += usize::from(results.evaluated);
            evaluation.findings.extend(results.findings);
            evaluation.passes.extend(results.passes);
            evaluation.errors.extend(results.error);
            evaluation
                .tags
                .extend(results.tags.map(|tags| (index, tags)));
            evaluation.authorizations.extend(
                results
                    .authorizations
                    .into_iter()
                    .map(|(policy, decision)| (index, policy, decision)),
            );
            evaluation
        })
        .reduce(Evaluation::default, |mut left, mut right| {
            left.evaluated += right.evaluated;
            left.findings.append(&mut right.findings);
            left.passes.append(&mut right.passes);
            left.errors.append(&mut right.errors);
            left.tags.append(&mut right.tags);
            left.authorizations.append(&mut right.authorizations);
            left
        })
}

#[derive(Default)]
struct ResourceResults {
    evaluated: bool,
    findings: Vec<Finding>,
    passes: Vec<Pass>,
    error: Option<ErrorRecord>,
    tags: Option<ResourceTags>,
    authorizations: Vec<(PolicyIndex, authorization::Authorization)>,
}

/// The result of one policy on one resource.
pub struct PolicyResult {
    pub verdict: Verdict,
    /// The `when` condition did not hold: the policy does not apply.
    pub not_applicable: bool,
    pub evidence: Vec<Evidence>,
    /// What this result says about itself beyond the verdict.
    pub notes: ResultNotes,
    /// The judged settings the configuration leaves out, and the defaults they took.
    pub defaults: Vec<AppliedDefault>,
}

/// What a result says about itself: a severity above its policy's (a change by the root user
/// is critical whatever the policy says), and why it is undecided when that is not a value
/// known only after apply.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResultNotes {
    pub severity: Option<Severity>,
    pub undecided: Option<String>,
    /// Whether the change was authorized and by what, when the policy judged it
    /// (`authorized:`): kept for the auditor's change log, passes included.
    pub authorization: Option<authorization::Authorization>,
}

pub(crate) struct Evaluator<'a> {
    pub(crate) resources: &'a [Resource],
    pub(crate) relations: &'a RelationIndex,
    /// What is read of each type's documents.
    pub(crate) projections: &'a Projections,
    /// Approvals that authorize changes (`authorized:`).
    pub(crate) config: &'a Config,
}

impl Evaluator<'_> {
    fn resource(&self, catalog: &Catalog, index: usize, resource: &Resource) -> ResourceResults {
        let mut out = ResourceResults::default();
        if !resource.is_evaluable() && !resource.is_change() {
            return out;
        }
        // Each target says which resources it sees (`scope`): objects as they are after the
        // change, or every change, deletions and drift included.
        let targets: Vec<(PolicyIndex, &Policy, &Target)> = catalog
            .for_type(resource.source, &resource.type_name)
            .iter()
            .filter_map(|&index| {
                let policy = catalog.get(index)?;
                let target = policy
                    .target(resource.source, &resource.type_name)
                    .filter(|t| t.scope.admits(resource))?;
                Some((index, policy, target))
            })
            .collect();
        if targets.is_empty() {
            return out;
        }
        out.evaluated = true;
        let verdict_projection = self
            .projections
            .get(resource.source, &resource.type_name, false);
        // The slow path reads whole documents when its evidence quotes them.
        let evidence_projection = self
            .projections
            .get(resource.source, &resource.type_name, true);
        let docs = match resource.documents_for(verdict_projection) {
            Ok(docs) => docs,
            Err(error) => {
                let at = match (
                    &resource.origin.file,
                    error.offset.or(resource.origin.offset),
                ) {
                    (Some(file), Some(offset)) => Some(file.line_col(offset)),
                    _ => None,
                };
                // Every policy that could not be evaluated is named.
                let ids: Vec<&str> = targets.iter().map(|(_, p, _)| p.id.as_str()).collect();
                out.error = Some(ErrorRecord {
                    file: resource.origin.file_name().unwrap_or("-").to_owned(),
                    line: at.map(|a| a.line),
                    column: at.map(|a| a.column),
                    message: format!(
                        "{}: {}; not evaluated: {}",
                        resource.address,
                        error.message,
                        ids.join(", ")
                    ),
                });
                return out;
            }
        };
        let mut evidence_docs: Option<Documents> = None;
        for (policy_index, policy, target) in targets {
            let result = catch_unwind(AssertUnwindSafe(|| {
                self.policy(&policy.id, target, resource, &docs, false)
            }));
            let mut result = match result {
                Ok(result) if result.not_applicable => continue,
                Ok(mut result) if result.verdict == Verdict::Pass => {
                    if let Some(decision) = result.notes.authorization.take() {
                        out.authorizations.push((policy_index, decision));
                    }
                    out.passes.push(Pass {
                        policy: policy_index,
                        resource: index,
                    });
                    continue;
                }
                Ok(_) => {
                    let slow_docs = if std::ptr::eq(evidence_projection, verdict_projection) {
                        &docs
                    } else {
                        // Parsed once per resource, for its first result that is not a pass.
                        evidence_docs.get_or_insert_with(|| {
                            resource
                                .documents_for(evidence_projection)
                                .unwrap_or_else(|_| docs.clone())
                        })
                    };
                    catch_unwind(AssertUnwindSafe(|| {
                        self.policy(&policy.id, target, resource, slow_docs, true)
                    }))
                    .unwrap_or_else(|payload| panic_result(&payload))
                }
                Err(payload) => panic_result(&payload),
            };
            if let Some(decision) = result.notes.authorization.take() {
                out.authorizations.push((policy_index, decision));
            }
            out.findings
                .push(finding(policy_index, policy, index, result));
        }
        if !out.findings.is_empty() && covers_tags(verdict_projection, resource) {
            out.tags = Some(resource_tags(resource, &docs));
        }
        out
    }

    /// Evaluates one target on one resource.
    pub(crate) fn policy(
        &self,
        policy: &str,
        target: &Target,
        resource: &Resource,
        docs: &Documents,
        evidence: bool,
    ) -> PolicyResult {
        let collecting = evidence;
        let mut cx = Context {
            evaluator: self,
            policy,
            evidence: if evidence { Some(Vec::new()) } else { None },
            budget: Budget::default(),
            notes: ResultNotes::default(),
        };
        // Settings the configuration leaves out take the default the target declares; the
        // conditions then judge the resource as AWS will make it.
        let defaulted = defaults::apply(self, target, resource, &docs.after, &mut cx.budget);
        let filled;
        let docs = match &defaulted.doc {
            Some(doc) => {
                filled = Documents {
                    after: std::sync::Arc::clone(doc),
                    before: docs.before.clone(),
                };
                &filled
            }
            None => docs,
        };
        let subject = Subject {
            resource,
            doc: &docs.after,
            docs,
        };
        let mut when_undecided = false;
        if let Some(when) = &target.when {
            match cx.condition(when, &subject, "", Polarity::Positive) {
                // Not even "does not apply" on what was not read.
                _ if cx.budget.exceeded().is_some() => return cx.over_budget_result(),
                Verdict::Fail => {
                    return PolicyResult {
                        verdict: Verdict::Pass,
                        not_applicable: true,
                        evidence: Vec::new(),
                        notes: ResultNotes::default(),
                        defaults: Vec::new(),
                    };
                }
                Verdict::Pass => {}
                Verdict::Undecided => when_undecided = true,
                Verdict::Error => {
                    return PolicyResult {
                        verdict: Verdict::Error,
                        not_applicable: false,
                        evidence: cx.evidence.unwrap_or_default(),
                        notes: cx.notes,
                        defaults: Vec::new(),
                    };
                }
            }
            if let Some(e) = cx.evidence.as_mut() {
                e.clear();
            }
        }
        let mut verdict = cx.condition(&target.assert, &subject, "", Polarity::Positive);
        if cx.budget.exceeded().is_some() {
            // Whatever the other parts decided: never a pass, nor a failure, on what was not read.
            return cx.over_budget_result();
        }
        if defaulted.fails() {
            verdict = Verdict::Fail;
        }
        if when_undecided && verdict == Verdict::Fail {
            verdict = Verdict::Undecided;
        }
        let mut evidence = cx.evidence.unwrap_or_default();
        if collecting {
            defaults::annotate(&mut evidence, &defaulted.applied);
            evidence.extend(defaulted.applied.iter().map(AppliedDefault::evidence));
        }
        PolicyResult {
            verdict,
            not_applicable: false,
            evidence,
            notes: cx.notes,
            defaults: defaulted.applied,
        }
    }
}

fn panic_result(payload: &Box<dyn std::any::Any + Send>) -> PolicyResult {
    let text = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned());
    PolicyResult {
        verdict: Verdict::Error,
        not_applicable: false,
        notes: ResultNotes::default(),
        defaults: Vec::new(),
        evidence: vec![Evidence {
            path: "$".to_owned(),
            actual: None,
            expected: None,
            note: Some(format!(
                "internal error: {text}. This is a bug in resilix; please report it at https://github.com/resilix/resilix/issues with the policy id"
            )),
        }],
    }
}

fn finding(
    policy_index: PolicyIndex,
    policy: &Policy,
    resource: usize,
    result: PolicyResult,
) -> Finding {
    let status = match result.verdict {
        Verdict::Fail => Status::Fail,
        Verdict::Undecided => Status::Review,
        Verdict::Error | Verdict::Pass => Status::Error,
    };
    let message = match status {
        Status::Fail => match defaults::message(&result.defaults, false) {
            Some(unset) => format!("{} — {unset}", policy.message),
            None => policy.message.clone(),
        },
        Status::Review => match (
            &result.notes.undecided,
            defaults::message(&result.defaults, true),
        ) {
            (Some(why), _) => format!("{} — undecided: {why}", policy.message),
            (None, Some(unset)) => format!("{} — {unset}", policy.message),
            (None, None) => format!("{} — cannot be decided before apply", policy.message),
        },
        Status::Error => {
            // Each problem with the place it is at: `$.ingress: found a string where …`.
            let notes: Vec<String> = result
                .evidence
                .iter()
                .filter_map(|e| e.note.as_deref().map(|note| (e.path.as_str(), note)))
                .map(|(path, note)| match path {
                    "" | "$" => note.to_owned(),
                    path => format!("{path}: {note}"),
                })
                .collect();
            format!(
                "policy {} could not be evaluated: {}",
                policy.id,
                if notes.is_empty() {
                    "type error".to_owned()
                } else {
                    notes.join("; ")
                }
            )
        }
    };
    // A result may be more severe than its policy (never less: a severity override in the
    // configuration lowers the policy, not what a result says about itself).
    let severity = result
        .notes
        .severity
        .map_or(policy.severity, |s| s.max(policy.severity));
    Finding::new(
        policy_index,
        resource,
        status,
        severity,
        message,
        result.evidence,
    )
}

/// The resource a condition is about, the document `$` stands for, and the resource's documents
/// before and after the change (for `before:`, `after:` and transitions).
struct Subject<'s> {
    resource: &'s Resource,
    doc: &'s Value,
    docs: &'s Documents,
}

struct Context<'e, 'a> {
    evaluator: &'e Evaluator<'a>,
    /// The policy evaluated (its entries under `approvals.changes` authorize changes).
    policy: &'e str,
    /// Evidence is collected only on the slow path.
    evidence: Option<Vec<Evidence>>,
    /// What JSONPath evaluation may still visit for this policy on this resource.
    budget: Budget,
    notes: ResultNotes,
}

/// What a condition's parts must be for the policy to pass, so evidence can say what was
/// expected of each part: the same (`Positive`), the opposite (`Negative`, under `not`/`none`),
/// or nothing that can be said part by part (`Mixed`: under "not all of", any one part may fail).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Polarity {
    Positive,
    Negative,
    Mixed,
}

impl Polarity {
    pub(crate) fn flip(self) -> Polarity {
        match self {
            Polarity::Positive => Polarity::Negative,
            Polarity::Negative => Polarity::Positive,
            Polarity::Mixed => Polarity::Mixed,
        }
    }

    /// The polarity of the parts a quantifier combines.
    pub(crate) fn parts(self, quantifier: Quantifier) -> Polarity {
        match (self, quantifier) {
            (Polarity::Mixed, _) => Polarity::Mixed,
            (Polarity::Positive, Quantifier::All | Quantifier::Any) => Polarity::Positive,
            (Polarity::Positive, Quantifier::None) => Polarity::Negative,
            // ¬all: some part must fail, which one is open.
            (Polarity::Negative, Quantifier::All) => Polarity::Mixed,
            // ¬any: every part must fail.
            (Polarity::Negative, Quantifier::Any) => Polarity::Negative,
            // ¬none = any: some part must hold.
            (Polarity::Negative, Quantifier::None) => Polarity::Positive,
        }
    }

    /// What to say was expected: `positive` as it is, negated, or nothing.
    pub(crate) fn expect(self, positive: String) -> Option<String> {
        match self {
            Polarity::Positive => Some(positive),
            Polarity::Negative => Some(format!("not {positive}")),
            Polarity::Mixed => None,
        }
    }
}

impl Context<'_, '_> {
    fn collecting(&self) -> bool {
        self.evidence.is_some()
    }

    /// Records evidence on the slow path (the fast path builds none).
    fn push(&mut self, evidence: impl FnOnce() -> Evidence) {
        if let Some(list) = self.evidence.as_mut() {
            list.push(evidence());
        }
    }

    /// Text for evidence (a path, a prefix): built on the slow path only.
    fn text(&self, make: impl FnOnce() -> String) -> String {
        if self.collecting() {
            make()
        } else {
            String::new()
        }
    }

    /// Evaluates `items` and combines them; on the slow path keeps the evidence of the items
    /// whose verdict is the combined one.
    fn combine(
        &mut self,
        count: usize,
        mut each: impl FnMut(&mut Self, usize) -> Verdict,
        quantifier: Quantifier,
    ) -> Verdict {
        let collecting = self.collecting();
        let saved = self.evidence.as_mut().map(std::mem::take);
        // Evidence by verdict; the kept verdict is known only at the end. Each bucket holds at
        // most MAX_EVIDENCE items and counts the rest: a list of millions of elements must not
        // make millions of evidence lines (nor gigabytes of them).
        let mut parts: Vec<(Verdict, Vec<Evidence>, usize)> = Vec::new();
        let mut result = match quantifier {
            Quantifier::All => Verdict::Pass,
            Quantifier::Any | Quantifier::None => Verdict::Fail,
        };
        for i in 0..count {
            let verdict = each(self, i);
            if collecting {
                let evidence = self
                    .evidence
                    .as_mut()
                    .map(std::mem::take)
                    .unwrap_or_default();
                let at = match parts.iter().position(|(v, _, _)| *v == verdict) {
                    Some(at) => at,
                    None => {
                        parts.push((verdict, Vec::new(), 0));
                        parts.len() - 1
                    }
                };
                if let Some((_, kept, omitted)) = parts.get_mut(at) {
                    for item in evidence {
                        if kept.len() < MAX_EVIDENCE {
                            kept.push(item);
                        } else {
                            *omitted += 1;
                        }
                    }
                }
            }
            result = match quantifier {
                Quantifier::All => result.and(verdict),
                Quantifier::Any | Quantifier::None => result.or(verdict),
            };
            let decided = match quantifier {
                Quantifier::All => result == Verdict::Fail,
                Quantifier::Any | Quantifier::None => result == Verdict::Pass,
            };
            if decided && !collecting {
                break;
            }
        }
        if let (Some(mut kept), true) = (saved, collecting) {
            for (verdict, evidence, omitted) in parts {
                if verdict == result {
                    let path = evidence.last().map(|e| e.path.clone());
                    kept.extend(evidence);
                    if omitted > 0 {
                        kept.push(Evidence {
                            path: path.unwrap_or_else(|| "$".to_owned()),
                            actual: None,
                            expected: None,
                            note: Some(format!("and {omitted} more like it, not shown")),
                        });
                    }
                }
            }
            self.evidence = Some(kept);
        }
        match quantifier {
            Quantifier::None => result.negate(),
            _ => result,
        }
    }

    fn condition(
        &mut self,
        condition: &Condition,
        subject: &Subject<'_>,
        prefix: &str,
        polarity: Polarity,
    ) -> Verdict {
        match condition {
            Condition::All(items) => self.combine(
                items.len(),
                |cx, i| cx.item(items, i, subject, prefix, polarity.parts(Quantifier::All)),
                Quantifier::All,
            ),
            Condition::Any(items) => self.combine(
                items.len(),
                |cx, i| cx.item(items, i, subject, prefix, polarity.parts(Quantifier::Any)),
                Quantifier::Any,
            ),
            Condition::None(items) => self.combine(
                items.len(),
                |cx, i| cx.item(items, i, subject, prefix, polarity.parts(Quantifier::None)),
                Quantifier::None,
            ),
            Condition::Not(inner) => self
                .condition(inner, subject, prefix, polarity.flip())
                .negate(),
            Condition::Value(check) => {
                let collecting = self.collecting();
                let selection = check.path.select(subject.doc, collecting, &mut self.budget);
                let path_text = check.path.text();
                if selection.over_budget {
                    return self.over_budget(prefix, path_text);
                }
                if selection.hits.is_empty() {
                    if let Some(mismatch) = &selection.mismatch {
                        return self.mismatch(mismatch, prefix, path_text);
                    }
                    if selection.hidden {
                        self.push(|| Evidence {
                            path: format!("{prefix}{path_text}"),
                            actual: Some("(known after apply)".to_owned()),
                            expected: polarity.expect(check.operator.expectation()),
                            note: None,
                        });
                        return Verdict::Undecided;
                    }
                    let path = self.text(|| format!("{prefix}{path_text}"));
                    let verdict = self.value(&check.operator, None, subject, &path, polarity);
                    return verdict;
                }
                let hits = selection.hits;
                let hidden = selection.hidden;
                let mismatch = selection.mismatch;
                // What the path could not read counts as one more value: undecided when it is
                // hidden, an error when it is of the wrong type.
                let count = hits.len() + usize::from(hidden) + usize::from(mismatch.is_some());
                self.combine(
                    count,
                    |cx, i| match hits.get(i) {
                        Some(hit) => {
                            let path = cx.text(|| {
                                format!("{prefix}{}", hit.path.as_deref().unwrap_or(path_text))
                            });
                            let inner = polarity.parts(check.quantifier);
                            cx.value(&check.operator, Some(hit.value), subject, &path, inner)
                        }
                        None => match &mismatch {
                            Some(m) if !(hidden && i == hits.len()) => {
                                cx.mismatch(m, prefix, path_text)
                            }
                            _ => Verdict::Undecided,
                        },
                    },
                    check.quantifier,
                )
            }
            Condition::Each(check) => {
                let collecting = self.collecting();
                let selection = check.path.select(subject.doc, collecting, &mut self.budget);
                if selection.over_budget {
                    return self.over_budget(prefix, check.path.text());
                }
                let hits = selection.hits;
                let hidden = selection.hidden;
                let mismatch = selection.mismatch;
                let count = hits.len() + usize::from(hidden) + usize::from(mismatch.is_some());
                let inner = polarity.parts(check.quantifier);
                let verdict = self.combine(
                    count,
                    |cx, i| match hits.get(i) {
                        Some(hit) => {
                            let nested = Subject {
                                resource: subject.resource,
                                doc: hit.value,
                                docs: subject.docs,
                            };
                            let path = cx.text(|| {
                                format!(
                                    "{prefix}{} → ",
                                    hit.path.as_deref().unwrap_or(check.path.text())
                                )
                            });
                            cx.condition(&check.condition, &nested, &path, inner)
                        }
                        None => match &mismatch {
                            Some(m) if !(hidden && i == hits.len()) => {
                                cx.mismatch(m, prefix, check.path.text())
                            }
                            _ => {
                                cx.push(|| Evidence {
                                    path: format!("{prefix}{}", check.path.text()),
                                    actual: Some("(known after apply)".to_owned()),
                                    expected: None,
                                    note: None,
                                });
                                Verdict::Undecided
                            }
                        },
                    },
                    check.quantifier,
                );
                if count == 0 && verdict == Verdict::Fail {
                    self.push(|| Evidence {
                        path: format!("{prefix}{}", check.path.text()),
                        actual: None,
                        expected: Some(format!(
                            "at least one entry ({})",
                            check.quantifier.as_str()
                        )),
                        note: None,
                    });
                }
                verdict
            }
            Condition::Related(check) => {
                let key = RelationKey::of(subject.resource.source, check);
                let related = self.evaluator.relations.lookup(
                    &key,
                    subject.resource,
                    subject.doc,
                    check.from.as_ref(),
                    &mut self.budget,
                );
                if self.budget.exceeded().is_some() {
                    let path = check.from.as_ref().map_or("$", |from| from.text());
                    return self.over_budget(prefix, path);
                }
                let related = match &check.filter {
                    Some(filter) => match self.filter_related(filter, related, prefix) {
                        Ok(kept) => kept,
                        Err(verdict) => return verdict,
                    },
                    None => related,
                };
                // "none that count" when a `where:` filter picked them.
                let none = if check.filter.is_some() {
                    "none of those that `where` picks refers to this resource"
                } else {
                    "none refers to this resource"
                };
                if let (true, Some(inline)) = (related.is_empty(), &check.inline) {
                    // No separate resource: the setting written on this resource decides. Its
                    // evidence comes first (the first line is the finding's headline), then why.
                    let verdict = self.condition(inline, subject, prefix, polarity);
                    self.push(|| Evidence {
                        path: format!("{prefix}related {}", check.types.join(" / ")),
                        actual: None,
                        expected: None,
                        note: Some(format!("{none}: its own setting decides")),
                    });
                    return verdict;
                }
                let inner = polarity.parts(check.quantifier);
                let resources = self.evaluator.resources;
                let verdict = self.combine(
                    related.len(),
                    |cx, i| {
                        let Some(other) = related.get(i).and_then(|&r| resources.get(r)) else {
                            return Verdict::Error;
                        };
                        let projection = cx.evaluator.projections.get(
                            other.source,
                            &other.type_name,
                            cx.collecting(),
                        );
                        match other.documents_for(projection) {
                            Ok(docs) => {
                                let nested = Subject {
                                    resource: other,
                                    doc: &docs.after,
                                    docs: &docs,
                                };
                                let path = cx.text(|| format!("{prefix}{}: ", other.address));
                                cx.condition(&check.condition, &nested, &path, inner)
                            }
                            Err(error) => {
                                cx.push(|| Evidence {
                                    path: other.address.clone(),
                                    actual: None,
                                    expected: None,
                                    note: Some(error.message),
                                });
                                Verdict::Error
                            }
                        }
                    },
                    check.quantifier,
                );
                if related.is_empty() && verdict == Verdict::Fail {
                    self.push(|| Evidence {
                        path: format!("{prefix}related {}", check.types.join(" / ")),
                        actual: None,
                        expected: None,
                        note: Some(match &check.from {
                            Some(from) => format!("{} refers to none", from.text()),
                            None => none.to_owned(),
                        }),
                    });
                }
                verdict
            }
            Condition::Action(kinds) => {
                let kind = subject.resource.change_kind();
                let verdict = Verdict::from(kinds.contains(&kind));
                if self.collecting() {
                    let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
                    let expected = polarity.expect(format!("one of {}", names.join(", ")));
                    let mut actual = kind.as_str().to_owned();
                    if let Some(reason) = subject
                        .resource
                        .change
                        .as_ref()
                        .and_then(|c| c.action_reason.as_deref())
                    {
                        actual.push_str(&format!(" ({reason})"));
                    }
                    self.push(|| Evidence {
                        path: format!("{prefix}change"),
                        actual: Some(actual),
                        expected,
                        note: None,
                    });
                }
                verdict
            }
            Condition::Drift(expected) => {
                let drift = subject.resource.change.as_ref().is_some_and(|c| c.drift);
                let verdict = Verdict::from(drift == *expected);
                if self.collecting() && drift {
                    self.push(|| Evidence {
                        path: format!("{prefix}change"),
                        actual: Some(format!(
                            "{} outside Terraform (drift)",
                            subject.resource.change_kind()
                        )),
                        expected: None,
                        note: None,
                    });
                }
                verdict
            }
            Condition::History(expected) => {
                let history = subject
                    .resource
                    .change
                    .as_ref()
                    .is_some_and(|c| c.recorded_at.is_some());
                Verdict::from(history == *expected)
            }
            Condition::Authorized(expected) => {
                self.authorized(*expected, subject, prefix, polarity)
            }
            Condition::Before(inner) | Condition::After(inner) => {
                let before = matches!(condition, Condition::Before(_));
                let doc: &Value = if before {
                    subject.docs.before.as_deref().unwrap_or(&Value::Null)
                } else {
                    &subject.docs.after
                };
                let nested = Subject {
                    resource: subject.resource,
                    doc,
                    docs: subject.docs,
                };
                let label = if before { "before" } else { "after" };
                let prefix = self.text(|| format!("{prefix}{label}: "));
                self.condition(inner, &nested, &prefix, polarity)
            }
            Condition::Transition(check) => self.transition(check, subject, prefix, polarity),
        }
    }

    /// The related resources that satisfy a `where:` filter. The filter's own evidence is not
    /// kept (it says which resources count, not why the check failed). A filter undecided or
    /// in error for one of them leaves the whole check so: which resources count is not known.
    fn filter_related(
        &mut self,
        filter: &Condition,
        related: Vec<usize>,
        prefix: &str,
    ) -> Result<Vec<usize>, Verdict> {
        let resources = self.evaluator.resources;
        let saved = self.evidence.take();
        let mut kept = Vec::new();
        let mut undecided = None;
        for index in related {
            let other = resources.get(index);
            let verdict = match other.map(|o| {
                (
                    o,
                    o.documents_for(
                        self.evaluator
                            .projections
                            .get(o.source, &o.type_name, false),
                    ),
                )
            }) {
                Some((other, Ok(docs))) => {
                    let nested = Subject {
                        resource: other,
                        doc: &docs.after,
                        docs: &docs,
                    };
                    self.condition(filter, &nested, "", Polarity::Positive)
                }
                _ => Verdict::Error,
            };
            match verdict {
                Verdict::Pass => kept.push(index),
                Verdict::Fail => {}
                Verdict::Undecided | Verdict::Error => {
                    let address = other.map(|o| o.address.clone()).unwrap_or_default();
                    undecided = Some((verdict, address));
                    break;
                }
            }
        }
        self.evidence = saved;
        match undecided {
            None => Ok(kept),
            Some((verdict, address)) => {
                let note = if verdict == Verdict::Undecided {
                    "whether it counts (`where`) is known only after apply"
                } else {
                    "whether it counts (`where`) could not be decided"
                };
                self.push(|| Evidence {
                    path: format!("{prefix}{address}"),
                    actual: None,
                    expected: None,
                    note: Some(note.to_owned()),
                });
                Err(verdict)
            }
        }
    }

    /// `authorized:` — whether the change was authorized ([`authorization::authorize`]).
    /// Undecided when nothing says who made it; a change by the root user is critical.
    fn authorized(
        &mut self,
        expected: bool,
        subject: &Subject<'_>,
        prefix: &str,
        polarity: Polarity,
    ) -> Verdict {
        let tags = resource_tags(subject.resource, subject.docs);
        let decision =
            authorization::authorize(self.evaluator.config, self.policy, subject.resource, &tags);
        if decision.by_root() {
            self.notes.severity = Some(Severity::Critical);
        }
        self.notes.authorization = Some(decision.clone());
        let verdict = match decision.authorized() {
            Some(authorized) => Verdict::from(authorized == expected),
            None => {
                self.notes.undecided = Some(decision.describe());
                Verdict::Undecided
            }
        };
        if self.collecting() {
            let events: Vec<String> = subject
                .resource
                .change
                .as_ref()
                .and_then(|c| c.attribution.as_deref())
                .map(|a| a.events.iter().map(|e| e.describe()).collect())
                .unwrap_or_default();
            let actual = if events.is_empty() {
                decision.describe()
            } else {
                events.join("; ")
            };
            let expected = polarity.expect(format!(
                "{}a principal under approvals.principals, a change ticket (tag `{}`) or an entry under approvals.changes",
                if expected { "" } else { "not " },
                self.evaluator.config.approval_tag
            ));
            let note = decision
                .by_root()
                .then(|| "a change by the root user: critical, whatever approves it".to_owned());
            self.push(|| Evidence {
                path: format!("{prefix}change"),
                actual: Some(actual),
                expected,
                note,
            });
        }
        verdict
    }

    fn item(
        &mut self,
        items: &[Condition],
        i: usize,
        subject: &Subject<'_>,
        prefix: &str,
        polarity: Polarity,
    ) -> Verdict {
        match items.get(i) {
            Some(condition) => self.condition(condition, subject, prefix, polarity),
            None => Verdict::Error,
        }
    }

    /// A selector that would exceed the JSONPath budget: an error for this (resource, policy).
    pub(crate) fn over_budget(&mut self, prefix: &str, path: &str) -> Verdict {
        let note = self.budget.exceeded().unwrap_or_default().to_owned();
        self.push(|| Evidence {
            path: format!("{prefix}{path}"),
            actual: None,
            expected: None,
            note: Some(note),
        });
        Verdict::Error
    }

    /// The result of a policy whose evaluation exceeded the JSONPath budget: an error saying
    /// so, whatever the parts that did run decided.
    fn over_budget_result(&self) -> PolicyResult {
        PolicyResult {
            verdict: Verdict::Error,
            not_applicable: false,
            evidence: vec![Evidence {
                path: "$".to_owned(),
                actual: None,
                expected: None,
                note: self.budget.exceeded().map(str::to_owned),
            }],
            notes: ResultNotes::default(),
            defaults: Vec::new(),
        }
    }

    /// A path that met a value of the wrong type: an error for this (resource, policy), never
    /// "nothing there" (a wildcard over a string must not read as "no values").
    pub(crate) fn mismatch(&mut self, mismatch: &Mismatch, prefix: &str, path: &str) -> Verdict {
        self.push(|| Evidence {
            path: format!("{prefix}{}", mismatch.path.as_deref().unwrap_or(path)),
            actual: None,
            expected: None,
            note: Some(mismatch.describe()),
        });
        Verdict::Error
    }

    /// Applies an operator to one value (`None`: nothing there).
    fn value(
        &mut self,
        operator: &Operator,
        value: Option<&Value>,
        subject: &Subject<'_>,
        path: &str,
        polarity: Polarity,
    ) -> Verdict {
        if let Operator::Json(inner) = operator {
            return self.json(inner, value, subject, path, polarity);
        }
        let (verdict, mut note) = match apply(operator, value) {
            OpResult::Verdict(v) => (v, None),
            OpResult::TypeError(message) => (Verdict::Error, Some(message)),
        };
        if self.collecting()
            && value.and_then(marker) == Some(Marker::UnknownSet)
            && let Some(targets) = referenced(subject.resource, path)
        {
            // What the expression refers to is what the evidence of "it is set" can show.
            note = Some(format!("set by a reference to {}", targets.join(", ")));
        }
        if self.collecting() {
            self.push(|| Evidence {
                // `$.ingress[0] → $` is the entry itself: `$.ingress[0]`.
                path: path.strip_suffix(" → $").unwrap_or(path).to_owned(),
                actual: value
                    .filter(|v| !v.is_null())
                    .map(|v| operators::shown(operator, v)),
                expected: polarity.expect(operator.expectation()),
                note,
            });
        }
        verdict
    }

    fn json(
        &mut self,
        inner: &Condition,
        value: Option<&Value>,
        subject: &Subject<'_>,
        path: &str,
        polarity: Polarity,
    ) -> Verdict {
        let decoded;
        let doc: &Value = match value.filter(|v| !v.is_null()) {
            None => &Value::Null,
            Some(v) if marker(v).is_some() => {
                self.push(|| Evidence {
                    path: path.to_owned(),
                    actual: Some(display(v)),
                    expected: None,
                    note: None,
                });
                return Verdict::Undecided;
            }
            // An empty string is no document (a provider's "no policy").
            Some(Value::String(text)) if text.trim().is_empty() => &Value::Null,
            Some(Value::String(text)) => match crate::input::policy_document::decode(text) {
                Some(d) => {
                    decoded = d;
                    &decoded
                }
                None => {
                    self.push(|| Evidence {
                        path: path.to_owned(),
                        actual: Some(display(&Value::String(text.clone()))),
                        expected: None,
                        note: Some("`json`: the value is not a JSON document".to_owned()),
                    });
                    return Verdict::Error;
                }
            },
            // A policy document written as an object (not through jsonencode) reads the same
            // as its JSON text: normalized (`Statement` a list, `Principal` `{AWS: [...]}`).
            Some(Value::Object(map)) if map.contains_key("Statement") => {
                let mut document = Value::Object(map.clone());
                crate::input::policy_document::normalize(&mut document);
                decoded = document;
                &decoded
            }
            Some(v @ (Value::Object(_) | Value::Array(_))) => v,
            Some(other) => {
                self.push(|| Evidence {
                    path: path.to_owned(),
                    actual: Some(display(other)),
                    expected: None,
                    note: Some(format!(
                        "`json` needs a JSON string or document, found {}",
                        kind(other)
                    )),
                });
                return Verdict::Error;
            }
        };
        let nested = Subject {
            resource: subject.resource,
            doc,
            docs: subject.docs,
        };
        let prefix = self.text(|| format!("{path} → "));
        self.condition(inner, &nested, &prefix, polarity)
    }
}

/// The resources the configuration's expression for the setting at `path` (an evidence path:
/// `$.logging[0] → $.target_bucket`, possibly behind a related resource's address) refers to.
fn referenced<'r>(resource: &'r Resource, path: &str) -> Option<&'r [String]> {
    let tail = path.rsplit_once(": $").map_or(path, |(_, t)| t);
    let joined = tail.replace(" → $", "");
    let mut attribute = String::new();
    let mut rest = joined.trim_start_matches('$');
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('[') {
            let (inside, next) = after.split_once(']')?;
            let inside = inside.trim_matches(|c| c == '\'' || c == '"');
            if !inside.chars().all(|c| c.is_ascii_digit() || c == '*') {
                attribute.push('.');
                attribute.push_str(inside);
            }
            rest = next;
        } else if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            attribute.push('.');
            attribute.push_str(after.get(..end)?);
            rest = after.get(end..)?;
        } else {
            return None;
        }
    }
    let attribute = attribute.trim_start_matches('.');
    resource
        .references
        .iter()
        .find(|r| r.attribute == attribute)
        .map(|r| r.targets.as_slice())
        .filter(|t| !t.is_empty())
}

/// Evaluates one policy on one resource (for policy tests and tools that check one pair).
/// `None` when the policy does not target the resource or its `when` does not hold.
pub fn check_one(
    policy: &Policy,
    config: &Config,
    resources: &[Resource],
    relations: &RelationIndex,
    index: usize,
) -> Option<Result<PolicyResult, String>> {
    let resource = resources.get(index)?;
    let target = policy.target(resource.source, &resource.type_name)?;
    if !target.scope.admits(resource) {
        return None;
    }
    let docs = match resource.documents() {
        Ok(d) => d,
        Err(e) => return Some(Err(e.message)),
    };
    let evaluator = Evaluator {
        resources,
        relations,
        projections: &Projections::default(),
        config,
    };
    let fast = evaluator.policy(&policy.id, target, resource, &docs, false);
    if fast.not_applicable {
        return None;
    }
    if fast.verdict == Verdict::Pass {
        return Some(Ok(fast));
    }
    Some(Ok(
        evaluator.policy(&policy.id, target, resource, &docs, true)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::{LoadOptions, load_text};
    use crate::policy::CatalogOptions;

    /// An existence test on a setting configured by a reference holds, and its evidence names
    /// what the expression refers to (issue 21, item 3).
    #[test]
    fn existence_of_a_referenced_setting_names_the_reference() {
        let catalog = Catalog::load(&CatalogOptions {
            builtins: true,
            ..CatalogOptions::default()
        })
        .unwrap();
        let (_, policy) = catalog.by_id("aws.cloudwatch.log-group-kms").unwrap();
        let catalog = Catalog::from_policies(vec![policy.clone()]);
        let options = LoadOptions {
            reference_types: Some(std::sync::Arc::new(catalog.reference_types())),
            ..LoadOptions::default()
        };
        let text = include_str!("../../fixtures/unset/configured-unknown.plan.json");
        let loaded = load_text("configured-unknown.plan.json", text, &options).unwrap();
        let index = loaded
            .resources
            .iter()
            .position(|r| r.address == "aws_cloudwatch_log_group.app")
            .unwrap();
        let resource = &loaded.resources[index];
        let target = policy.target(resource.source, &resource.type_name).unwrap();
        let relations = RelationIndex::build(&catalog, &loaded.resources);
        let config = Config::default();
        let evaluator = Evaluator {
            resources: &loaded.resources,
            relations: &relations,
            projections: &Projections::default(),
            config: &config,
        };
        let docs = resource.documents().unwrap();
        let result = evaluator.policy(&policy.id, target, resource, &docs, true);
        assert_eq!(result.verdict, Verdict::Pass);
        assert!(result.defaults.is_empty());
        let evidence = result
            .evidence
            .iter()
            .find(|e| e.path == "$.kms_key_id")
            .unwrap();
        assert_eq!(evidence.actual.as_deref(), Some("(set, known after apply)"));
        assert_eq!(
            evidence.note.as_deref(),
            Some("set by a reference to aws_kms_key.logs")
        );
    }

    #[test]
    fn evidence_paths_name_the_configured_attribute() {
        let text = include_str!("../../fixtures/unset/configured-unknown.plan.json");
        let loaded = load_text(
            "configured-unknown.plan.json",
            text,
            &LoadOptions::default(),
        )
        .unwrap();
        let mut resource = loaded.resources[0].clone();
        resource.references = vec![crate::model::Reference {
            attribute: "logging.target_bucket".to_owned(),
            targets: vec!["aws_s3_bucket.logs".to_owned()],
        }]
        .into();
        for path in [
            "$.logging[0].target_bucket",
            "$.logging[0] → $.target_bucket",
            "$['logging'][0]['target_bucket']",
            "aws_s3_bucket.b: $.logging[*].target_bucket",
        ] {
            assert_eq!(
                referenced(&resource, path),
                Some(&["aws_s3_bucket.logs".to_owned()][..]),
                "{path}"
            );
        }
        assert_eq!(referenced(&resource, "$.logging[0]"), None);
        assert_eq!(referenced(&resource, "$.policy → $.Statement[0]"), None);
    }
}
