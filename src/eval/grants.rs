//! What IAM policy documents allow that earlier ones did not (`widened: actions`), compared
//! per dimension so that the cost stays near-linear in the size of the documents.
//!
//! A statement allows every pair of one of its actions and one of its resources. A new
//! (action, resource) pair is covered when one earlier statement has an action pattern that
//! matches the action *and* a resource pattern that matches the resource. Comparing every new
//! pair with every old pair costs n⁴ for statements of n actions × n resources (17 s at
//! 100 × 100). Here each old pattern is compiled once (literal patterns go in a hash table),
//! each distinct new action and resource is matched once, giving the set of old statements that
//! cover it, and pairs are counted by groups: the actions of a statement covered by the same
//! old statements pair with its resources covered by the same old statements all alike, so a
//! group of actions and a group of resources are either all covered or all new.

use std::collections::{BTreeSet, HashMap};

use crate::pattern::Pattern;

/// How many new items evidence names; the rest are counted.
pub(crate) const SHOWN: usize = 8;

/// What one Allow statement grants: every action with every resource.
pub(super) struct Statement {
    pub actions: Vec<String>,
    pub resources: Vec<String>,
}

/// What the values after a change allow that those before did not: the first [`SHOWN`] items
/// in order, and how many there are in all.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Fresh {
    pub shown: Vec<String>,
    pub count: usize,
}

impl Fresh {
    pub(crate) fn from_set(set: BTreeSet<String>) -> Fresh {
        Fresh {
            count: set.len(),
            shown: set.into_iter().take(SHOWN).collect(),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.count == 0
    }
}

/// A set of old statements, one bit each.
type Bits = Vec<u64>;

fn set_bit(bits: &mut Bits, i: usize) {
    if let Some(word) = bits.get_mut(i / 64) {
        *word |= 1 << (i % 64);
    }
}

fn disjoint(a: &Bits, b: &Bits) -> bool {
    a.iter().zip(b).all(|(x, y)| x & y == 0)
}

/// The old statements' patterns of one dimension, each compiled once.
struct Patterns {
    case_insensitive: bool,
    /// Patterns without a wildcard, by their text (ASCII-folded for actions), and the
    /// statements that hold them.
    literal: HashMap<String, Vec<usize>>,
    wild: Vec<(Pattern, Vec<usize>)>,
    words: usize,
}

impl Patterns {
    fn new<'s>(
        texts: impl Iterator<Item = (usize, &'s [String])>,
        case_insensitive: bool,
        statements: usize,
    ) -> Patterns {
        let mut literal: HashMap<String, Vec<usize>> = HashMap::new();
        let mut wild_index: HashMap<&str, usize> = HashMap::new();
        let mut wild: Vec<(Pattern, Vec<usize>)> = Vec::new();
        for (statement, patterns) in texts {
            for text in patterns {
                let pattern = if case_insensitive {
                    Pattern::case_insensitive(text)
                } else {
                    Pattern::new(text)
                };
                if pattern.is_literal() {
                    let key = fold(text, case_insensitive);
                    literal.entry(key).or_default().push(statement);
                } else if let Some(entry) =
                    wild_index.get(text.as_str()).and_then(|&i| wild.get_mut(i))
                {
                    entry.1.push(statement);
                } else {
                    wild_index.insert(text, wild.len());
                    wild.push((pattern, vec![statement]));
                }
            }
        }
        Patterns {
            case_insensitive,
            literal,
            wild,
            words: statements.div_ceil(64),
        }
    }

    /// The old statements with a pattern that matches `text`.
    fn covering(&self, text: &str) -> Bits {
        let mut bits = vec![0u64; self.words];
        let key = fold(text, self.case_insensitive);
        for &statement in self.literal.get(&key).into_iter().flatten() {
            set_bit(&mut bits, statement);
        }
        for (pattern, statements) in &self.wild {
            if pattern.matches(text) {
                for &statement in statements {
                    set_bit(&mut bits, statement);
                }
            }
        }
        bits
    }
}

/// Literal IAM actions compare ignoring ASCII case, as [`Pattern::case_insensitive`] does.
fn fold(text: &str, case_insensitive: bool) -> String {
    if case_insensitive {
        text.to_ascii_lowercase()
    } else {
        text.to_owned()
    }
}

/// Distinct texts, sorted: an item's index is its rank.
struct Interned<'s> {
    texts: Vec<&'s str>,
    ids: HashMap<&'s str, u32>,
}

impl<'s> Interned<'s> {
    fn new(all: impl Iterator<Item = &'s String>) -> Interned<'s> {
        let texts: Vec<&str> = all
            .map(String::as_str)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let ids = texts
            .iter()
            .enumerate()
            .map(|(i, &t)| (t, u32::try_from(i).unwrap_or(u32::MAX)))
            .collect();
        Interned { texts, ids }
    }

    /// The distinct ids of `items`, ascending.
    fn ids(&self, items: &[String]) -> Vec<u32> {
        let mut ids: Vec<u32> = items
            .iter()
            .filter_map(|t| self.ids.get(t.as_str()).copied())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    fn text(&self, id: u32) -> &'s str {
        self.texts.get(id as usize).copied().unwrap_or_default()
    }
}

/// `ids` split into runs covered by the same old statements (each run ascending).
fn groups(ids: &[u32], cover: &[Bits]) -> Vec<Vec<u32>> {
    let empty = Bits::new();
    let bits = |id: u32| cover.get(id as usize).unwrap_or(&empty);
    let mut sorted = ids.to_vec();
    sorted.sort_by(|&a, &b| bits(a).cmp(bits(b)).then(a.cmp(&b)));
    let mut out: Vec<Vec<u32>> = Vec::new();
    for id in sorted {
        match out.last_mut() {
            Some(run) if run.first().is_some_and(|&first| bits(first) == bits(id)) => run.push(id),
            _ => out.push(vec![id]),
        }
    }
    out
}

/// The (action, resource) pairs that `new` allows and no statement of `old` does, as
/// `"{action} on {resource}"`, in order of action then resource.
pub(super) fn fresh_grants(old: &[Statement], new: &[Statement]) -> Fresh {
    let actions = Interned::new(new.iter().flat_map(|s| &s.actions));
    let resources = Interned::new(new.iter().flat_map(|s| &s.resources));
    let old_actions = Patterns::new(
        old.iter()
            .enumerate()
            .map(|(i, s)| (i, s.actions.as_slice())),
        true,
        old.len(),
    );
    let old_resources = Patterns::new(
        old.iter()
            .enumerate()
            .map(|(i, s)| (i, s.resources.as_slice())),
        false,
        old.len(),
    );
    let action_cover: Vec<Bits> = actions
        .texts
        .iter()
        .map(|t| old_actions.covering(t))
        .collect();
    let resource_cover: Vec<Bits> = resources
        .texts
        .iter()
        .map(|t| old_resources.covering(t))
        .collect();

    // Per statement, the (action group, resource group) blocks no old statement covers.
    let mut action_groups: Vec<Vec<u32>> = Vec::new();
    let mut resource_groups: Vec<Vec<u32>> = Vec::new();
    let mut blocks: Vec<(usize, usize)> = Vec::new();
    let empty = Bits::new();
    for statement in new {
        let a_groups = groups(&actions.ids(&statement.actions), &action_cover);
        let r_groups = groups(&resources.ids(&statement.resources), &resource_cover);
        let (a_base, r_base) = (action_groups.len(), resource_groups.len());
        for (i, a) in a_groups.iter().enumerate() {
            let a_bits = a
                .first()
                .and_then(|&id| action_cover.get(id as usize))
                .unwrap_or(&empty);
            for (j, r) in r_groups.iter().enumerate() {
                let r_bits = r
                    .first()
                    .and_then(|&id| resource_cover.get(id as usize))
                    .unwrap_or(&empty);
                if disjoint(a_bits, r_bits) {
                    blocks.push((a_base + i, r_base + j));
                }
            }
        }
        action_groups.extend(a_groups);
        resource_groups.extend(r_groups);
    }

    // Statements may share actions and resources: an action's new resources are the union over
    // the blocks it is in. Actions in the same blocks share that union; each action is in one
    // such set, so no pair is counted twice.
    let mut blocks_of: Vec<Vec<u32>> = vec![Vec::new(); actions.texts.len()];
    for (b, &(a, _)) in blocks.iter().enumerate() {
        for &id in action_groups.get(a).into_iter().flatten() {
            if let Some(list) = blocks_of.get_mut(id as usize) {
                list.push(u32::try_from(b).unwrap_or(u32::MAX));
            }
        }
    }
    let mut with_blocks: Vec<u32> = (0..actions.texts.len())
        .filter_map(|id| {
            let id = u32::try_from(id).ok()?;
            (!blocks_of.get(id as usize)?.is_empty()).then_some(id)
        })
        .collect();
    let list = |id: u32| blocks_of.get(id as usize).map_or(&[][..], Vec::as_slice);
    with_blocks.sort_by(|&a, &b| list(a).cmp(list(b)).then(a.cmp(&b)));

    let mut count = 0usize;
    let mut candidates: Vec<(u32, u32)> = Vec::new();
    let mut seen = vec![u32::MAX; resources.texts.len()];
    let mut start = 0;
    while let Some(&first) = with_blocks.get(start) {
        let end = with_blocks
            .iter()
            .skip(start)
            .position(|&id| list(id) != list(first))
            .map_or(with_blocks.len(), |n| start + n);
        let members = with_blocks.get(start..end).unwrap_or_default();
        let stamp = u32::try_from(start).unwrap_or(u32::MAX);
        let mut union = 0usize;
        let mut smallest: Vec<u32> = Vec::new();
        for &b in list(first) {
            let group = blocks
                .get(b as usize)
                .and_then(|&(_, r)| resource_groups.get(r))
                .map_or(&[][..], Vec::as_slice);
            for &r in group {
                if let Some(mark) = seen.get_mut(r as usize)
                    && *mark != stamp
                {
                    *mark = stamp;
                    union += 1;
                }
            }
            smallest.extend(group.iter().take(SHOWN));
        }
        smallest.sort_unstable();
        smallest.dedup();
        count = count.saturating_add(members.len().saturating_mul(union));
        for &a in members.iter().take(SHOWN) {
            candidates.extend(smallest.iter().take(SHOWN).map(|&r| (a, r)));
        }
        candidates.sort_unstable();
        candidates.truncate(SHOWN);
        start = end;
    }
    Fresh {
        shown: candidates
            .into_iter()
            .map(|(a, r)| format!("{} on {}", actions.text(a), resources.text(r)))
            .collect(),
        count,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statement(actions: &[&str], resources: &[&str]) -> Statement {
        Statement {
            actions: actions.iter().map(|s| (*s).to_owned()).collect(),
            resources: resources.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    /// The pairwise comparison this replaces, kept as the reference.
    fn pairwise(old: &[Statement], new: &[Statement]) -> BTreeSet<(String, String)> {
        let pairs = |s: &[Statement]| -> Vec<(String, String)> {
            s.iter()
                .flat_map(|s| {
                    s.actions
                        .iter()
                        .flat_map(|a| s.resources.iter().map(move |r| (a.clone(), r.clone())))
                })
                .collect()
        };
        let old = pairs(old);
        pairs(new)
            .into_iter()
            .filter(|(a, r)| {
                !old.iter().any(|(pa, pr)| {
                    Pattern::case_insensitive(pa).matches(a) && Pattern::new(pr).matches(r)
                })
            })
            .collect()
    }

    fn agree(old: &[Statement], new: &[Statement]) {
        let reference = pairwise(old, new);
        let fresh = fresh_grants(old, new);
        assert_eq!(fresh.count, reference.len());
        let shown: Vec<String> = reference
            .iter()
            .take(SHOWN)
            .map(|(a, r)| format!("{a} on {r}"))
            .collect();
        assert_eq!(fresh.shown, shown);
    }

    #[test]
    fn groups_count_what_pairs_would() {
        // Two old statements that cover the new one only together, overlapping new statements,
        // duplicates, wildcards on both sides and case-folded actions.
        let old = [
            statement(&["s3:Get*", "s3:ListBucket"], &["arn:aws:s3:::a/*"]),
            statement(&["S3:PUTOBJECT"], &["arn:aws:s3:::a/*", "arn:aws:s3:::b"]),
            statement(&["sqs:*"], &["*"]),
        ];
        let new = [
            statement(
                &["s3:GetObject", "s3:PutObject", "s3:GetObject", "s3:*"],
                &["arn:aws:s3:::a/x", "arn:aws:s3:::b", "arn:aws:s3:::c"],
            ),
            statement(
                &["s3:PutObject", "sqs:SendMessage"],
                &["arn:aws:s3:::c", "*"],
            ),
            statement(&[], &["*"]),
            statement(&["iam:PassRole"], &[]),
        ];
        agree(&old, &new);
        agree(&new, &old);
        agree(&[], &new);
        agree(&new, &new);
    }

    #[test]
    fn a_large_statement_is_compared_exactly() {
        // 1,000 actions × 1,000 resources: the old statement grants every action on half the
        // resources, a second one every resource for the even actions.
        let actions: Vec<String> = (0..1000).map(|i| format!("svc:Action{i:04}")).collect();
        let resources: Vec<String> = (0..1000)
            .map(|i| format!("arn:aws:s3:::b/{i:04}"))
            .collect();
        let new = [Statement {
            actions: actions.clone(),
            resources: resources.clone(),
        }];
        let old = [
            Statement {
                actions: vec!["svc:*".to_owned()],
                resources: resources.iter().take(500).cloned().collect(),
            },
            Statement {
                actions: actions.iter().step_by(2).cloned().collect(),
                resources: vec!["arn:aws:s3:::b/*".to_owned()],
            },
        ];
        let fresh = fresh_grants(&old, &new);
        // Odd actions (500) on the upper half of the resources (500).
        assert_eq!(fresh.count, 250_000);
        assert_eq!(
            fresh.shown.first().map(String::as_str),
            Some("svc:Action0001 on arn:aws:s3:::b/0500")
        );
        assert_eq!(fresh.shown.len(), SHOWN);
        // Against the pairwise comparison, on a slice small enough for it.
        let small = |s: &Statement| Statement {
            actions: s.actions.iter().take(40).cloned().collect(),
            resources: s.resources.iter().skip(480).take(40).cloned().collect(),
        };
        agree(
            &old.iter().map(small).collect::<Vec<_>>(),
            &new.iter().map(small).collect::<Vec<_>>(),
        );
        assert!(fresh_grants(&new, &new).is_empty());
    }
}
