//! What evaluation reads of each resource type's documents.
//!
//! Policies reach a handful of a resource's top-level attributes (`$.versioning[0].enabled`
//! reaches `versioning`), and most never look at the document before the change. Lazily loaded
//! resources (plans) are parsed with that [`Projection`]: the other attributes are skipped
//! over in the text without being built, which is most of the cost of a plan.
//!
//! The projection of a type is worked out from every condition that can read a document of
//! that type: the targets that check it (their `when` and `assert`), the `related:` checks that
//! lead to it from other types (their nested conditions and `via` paths), and what the relation
//! index reads (`id`, `arn`). A path that does not start with a name (`$`, `$.*`, `$..a`) keeps
//! the whole document. Keeping too much only costs time; the tests check that evaluating with
//! projections gives the same report as evaluating whole documents.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::operators::members_read;
use crate::model::{Projection, Resource, SourceKind};
use crate::policy::selector::Selector;
use crate::policy::{Catalog, Condition, Operator, Transition};

/// The projection of every resource type of one run.
#[derive(Debug, Default)]
pub struct Projections {
    by_type: HashMap<SourceKind, HashMap<String, TypeProjection>>,
}

#[derive(Debug)]
struct TypeProjection {
    /// What deciding a verdict reads.
    verdict: Projection,
    /// Evidence quotes the document itself (`{path: $, exists: false}` shows it): the slow
    /// path reads whole documents.
    whole_for_evidence: bool,
}

impl Projections {
    /// Projections for the types of `resources`. Types that no policy reads are left out
    /// (they are read whole, if at all); [`Projections::default`] reads everything whole.
    pub fn build(catalog: &Catalog, resources: &[Resource]) -> Projections {
        // What `related:` checks read of the types they lead to, from the whole catalog.
        let mut related: HashMap<(SourceKind, String), Need> = HashMap::new();
        for policy in &catalog.policies {
            for target in &policy.targets {
                let mut walk = Walk {
                    target: Need::default(),
                    related: BTreeMap::new(),
                };
                for condition in target.conditions() {
                    walk.condition(condition, &Who::Target, true);
                }
                for (type_name, need) in walk.related {
                    related
                        .entry((target.kind, type_name))
                        .or_default()
                        .merge(&need);
                }
            }
        }
        let mut types: BTreeMap<SourceKind, BTreeSet<&str>> = BTreeMap::new();
        for resource in resources {
            types
                .entry(resource.source)
                .or_default()
                .insert(&resource.type_name);
        }
        let mut projections = Projections::default();
        for (kind, names) in types {
            for type_name in names {
                let mut need = related
                    .get(&(kind, type_name.to_owned()))
                    .cloned()
                    .unwrap_or_default();
                let mut reached = !need.is_empty();
                for &index in catalog.for_type(kind, type_name).iter() {
                    let Some(target) = catalog.get(index).and_then(|p| p.target(kind, type_name))
                    else {
                        continue;
                    };
                    let mut walk = Walk {
                        target: Need::default(),
                        related: BTreeMap::new(),
                    };
                    for condition in target.conditions() {
                        walk.condition(condition, &Who::Target, true);
                    }
                    need.merge(&walk.target);
                    reached = true;
                }
                if reached {
                    // Tags where they are cheap to keep, so that triage reads the tags of a
                    // resource with findings from the documents evaluation parsed.
                    need.keys.extend(
                        crate::input::tags::cheap_tag_keys(kind)
                            .iter()
                            .map(|k| (*k).to_owned()),
                    );
                    projections
                        .by_type
                        .entry(kind)
                        .or_default()
                        .insert(type_name.to_owned(), need.into_projection());
                }
            }
        }
        projections
    }

    /// What evaluation reads of resources of this kind and type: to decide verdicts, or (on
    /// the slow path) to give evidence as well.
    pub fn get(&self, kind: SourceKind, type_name: &str, evidence: bool) -> &Projection {
        match self
            .by_type
            .get(&kind)
            .and_then(|types| types.get(type_name))
        {
            Some(p) if !(evidence && p.whole_for_evidence) => &p.verdict,
            _ => &Projection::ALL,
        }
    }
}

/// What is read of one type's documents.
#[derive(Debug, Clone, Default)]
struct Need {
    keys: BTreeSet<String>,
    /// Some path may reach any attribute.
    all: bool,
    before: bool,
    /// Some evidence quotes the whole document.
    whole_for_evidence: bool,
}

impl Need {
    fn reach(&mut self, selector: &Selector) {
        match selector.root_key() {
            Some(key) => {
                self.keys.insert(key.to_owned());
            }
            None => self.all = true,
        }
    }

    fn merge(&mut self, other: &Need) {
        self.keys.extend(other.keys.iter().cloned());
        self.all |= other.all;
        self.before |= other.before;
        self.whole_for_evidence |= other.whole_for_evidence;
    }

    fn is_empty(&self) -> bool {
        self.keys.is_empty() && !self.all && !self.before
    }

    fn into_projection(self) -> TypeProjection {
        TypeProjection {
            verdict: Projection {
                keys: (!self.all).then_some(self.keys),
                before: self.before,
            },
            whole_for_evidence: self.whole_for_evidence && !self.all,
        }
    }
}

/// Whose documents a condition reads: the resource the target checks, or the related
/// resources of these types.
enum Who<'c> {
    Target,
    Related(&'c [String]),
}

struct Walk {
    target: Need,
    related: BTreeMap<String, Need>,
}

impl Walk {
    fn need(&mut self, who: &Who<'_>, mut add: impl FnMut(&mut Need)) {
        match who {
            Who::Target => add(&mut self.target),
            Who::Related(types) => {
                for type_name in *types {
                    add(self.related.entry(type_name.clone()).or_default());
                }
            }
        }
    }

    /// Records what `condition` reads; `top` says whether `$` is a whole document there (not
    /// a node inside one, as in `each:` or `json:`).
    fn condition<'c>(&mut self, condition: &'c Condition, who: &Who<'c>, top: bool) {
        match condition {
            Condition::All(items) | Condition::Any(items) | Condition::None(items) => {
                for item in items {
                    self.condition(item, who, top);
                }
            }
            Condition::Not(inner) => self.condition(inner, who, top),
            Condition::Value(check) => {
                // An operator applied to `$` itself may read only some members (`exists`
                // none, `port_overlaps` the ports) to decide; its evidence shows the document.
                let members = members_read(&check.operator).filter(|_| check.path.is_root());
                match members {
                    _ if !top => {}
                    Some(members) => self.need(who, |n| {
                        n.keys.extend(members.iter().map(|m| (*m).to_owned()));
                        n.whole_for_evidence = true;
                    }),
                    None => self.need(who, |n| n.reach(&check.path)),
                }
                if let Operator::Json(inner) = &check.operator {
                    self.condition(inner, who, false);
                }
            }
            Condition::Each(check) => {
                if top {
                    self.need(who, |n| n.reach(&check.path));
                }
                self.condition(&check.condition, who, false);
            }
            Condition::Related(check) => {
                // The relation index looks resources up by their `id` and `arn`, and follows
                // the subject's `from` and the related resources' `via` attributes.
                let ids = |n: &mut Need| {
                    n.keys.insert("id".to_owned());
                    n.keys.insert("arn".to_owned());
                };
                self.need(who, |n| {
                    ids(n);
                    if let Some(from) = &check.from {
                        n.reach(from);
                    }
                });
                let related = Who::Related(&check.types);
                self.need(&related, |n| {
                    ids(n);
                    if let Some(via) = &check.via {
                        n.reach(via);
                    }
                });
                if let Some(filter) = &check.filter {
                    self.condition(filter, &related, true);
                }
                self.condition(&check.condition, &related, true);
                if let Some(inline) = &check.inline {
                    self.condition(inline, who, top);
                }
            }
            // `before:` and `after:` read the resource's whole documents, wherever they are.
            Condition::Before(inner) => {
                self.need(who, |n| n.before = true);
                self.condition(inner, who, true);
            }
            Condition::After(inner) => self.condition(inner, who, true),
            Condition::Transition(check) => {
                self.need(who, |n| {
                    n.before = true;
                    n.reach(&check.path);
                });
                match &check.transition {
                    Transition::Gained(inner) | Transition::Lost(inner) => {
                        self.condition(inner, who, false);
                    }
                    Transition::Changed(_) | Transition::FromTo { .. } | Transition::Widened(_) => {
                    }
                }
            }
            // Authorization reads the approval tag before and after the change.
            Condition::Authorized(_) => self.need(who, |n| {
                n.before = true;
                n.keys.insert("tags".to_owned());
            }),
            Condition::Action(_) | Condition::Drift(_) | Condition::History(_) => {}
        }
    }
}
