//! Transitions: a path's values before and after the change (`changed`, `from`/`to`, `gained`,
//! `lost`, `widened`).
//!
//! Both documents come from the resource (`before` is absent for a creation, `after` for a
//! deletion: both read as "nothing there"). A value known only after apply leaves the
//! transition undecided, never failed; so does a sensitive value, which cannot be compared.

use std::collections::BTreeSet;

use ipnet::IpNet;
use serde_json::{Map, Value};

use super::grants::{Fresh, Statement, fresh_grants};
use super::operators::{CIDR_KEYS, OpResult, PortSpan, apply, kind, loose_eq, port_span};
use super::{Context, Evidence, Polarity, Subject, Verdict};
use crate::model::value::{display, marker};
use crate::pattern::Pattern;
use crate::policy::selector::Selection;
use crate::policy::{Quantifier, Transition, TransitionCheck, ValueTest, Widening};

impl Context<'_, '_> {
    pub(super) fn transition(
        &mut self,
        check: &TransitionCheck,
        subject: &Subject<'_>,
        prefix: &str,
        polarity: Polarity,
    ) -> Verdict {
        let before_doc: &Value = subject.docs.before.as_deref().unwrap_or(&Value::Null);
        let after_doc: &Value = &subject.docs.after;
        let collecting = self.collecting();
        let before = check.path.select(before_doc, collecting, &mut self.budget);
        let after = check.path.select(after_doc, collecting, &mut self.budget);
        if before.over_budget || after.over_budget {
            return self.over_budget(prefix, check.path.text());
        }
        // A document of another shape than the path reads is an error, never "nothing there".
        for (label, selection) in [("before: ", &before), ("after: ", &after)] {
            if let Some(mismatch) = &selection.mismatch {
                return self.mismatch(mismatch, &format!("{prefix}{label}"), check.path.text());
            }
        }
        let path = self.text(|| format!("{prefix}{}", check.path.text()));
        let unknown = opaque(&after) || opaque(&before);
        match &check.transition {
            Transition::Changed(expected) => {
                let verdict = if unknown {
                    Verdict::Undecided
                } else {
                    let a: Vec<&Value> = before.hits.iter().map(|h| h.value).collect();
                    let b: Vec<&Value> = after.hits.iter().map(|h| h.value).collect();
                    let same = a.len() == b.len() && a.iter().zip(&b).all(|(x, y)| loose_eq(x, y));
                    Verdict::from(same != *expected)
                };
                let expected = polarity
                    .expect(if *expected { "changed" } else { "unchanged" }.to_owned())
                    .unwrap_or_default();
                self.push_transition(&path, &before, &after, expected, None);
                verdict
            }
            Transition::FromTo { from, to } => {
                let verdict = match (from, to) {
                    (Some(from), Some(to)) => test(from, &before).and(test(to, &after)),
                    (None, Some(to)) => test(to, &after).and(test(to, &before).negate()),
                    (Some(from), None) => test(from, &before).and(test(from, &after).negate()),
                    (None, None) => Verdict::Error,
                };
                let describe = |t: &ValueTest| t.operator.expectation();
                let expected = match (from, to) {
                    (Some(f), Some(t)) => format!("from {} to {}", describe(f), describe(t)),
                    (None, Some(t)) => format!("became {}", describe(t)),
                    (Some(f), None) => format!("no longer {}", describe(f)),
                    (None, None) => String::new(),
                };
                let expected = polarity.expect(expected).unwrap_or_default();
                self.push_transition(&path, &before, &after, expected, None);
                verdict
            }
            Transition::Gained(condition) | Transition::Lost(condition) => {
                let gained = matches!(check.transition, Transition::Gained(_));
                if unknown {
                    self.push_transition(&path, &before, &after, String::new(), None);
                    return Verdict::Undecided;
                }
                let (new, old) = if gained {
                    (&after, &before)
                } else {
                    (&before, &after)
                };
                let fresh: Vec<_> = new
                    .hits
                    .iter()
                    .filter(|hit| !old.hits.iter().any(|o| loose_eq(o.value, hit.value)))
                    .collect();
                let label = if gained { "gained" } else { "lost" };
                self.combine(
                    fresh.len(),
                    |cx, i| match fresh.get(i) {
                        Some(hit) => {
                            let nested = Subject {
                                resource: subject.resource,
                                doc: hit.value,
                                docs: subject.docs,
                            };
                            let at = hit.path.as_deref().unwrap_or(check.path.text());
                            let prefix = cx.text(|| format!("{prefix}{label} {at} → "));
                            cx.condition(
                                condition,
                                &nested,
                                &prefix,
                                polarity.parts(Quantifier::Any),
                            )
                        }
                        None => Verdict::Error,
                    },
                    Quantifier::Any,
                )
            }
            Transition::Widened(widening) => {
                // Only the parts a widening reads matter (a rule's id may be unknown while its
                // CIDRs and ports are known): markers are noticed where they are read.
                if after.hidden || before.hidden {
                    self.push_transition(&path, &before, &after, String::new(), None);
                    return Verdict::Undecided;
                }
                let values = |s: &Selection<'_>| -> Vec<Value> {
                    s.hits.iter().map(|h| h.value.clone()).collect()
                };
                match widened(*widening, &values(&before), &values(&after)) {
                    Ok(new) => {
                        if collecting {
                            let what = match widening {
                                Widening::Cidr => "address ranges",
                                Widening::Ports => "ports",
                                Widening::Rules => "sources and ports",
                                Widening::Actions => "permissions",
                                Widening::Principals => "principals",
                            };
                            let expected = match polarity {
                                Polarity::Negative => Some(format!("no new {what}")),
                                Polarity::Positive => Some(format!("new {what}")),
                                Polarity::Mixed => None,
                            };
                            let mut actual = if new.is_empty() {
                                "allowing nothing new".to_owned()
                            } else {
                                format!("newly allowing {}", new.shown.join(", "))
                            };
                            if new.count > new.shown.len() {
                                actual.push_str(&format!(
                                    " and {} more",
                                    new.count - new.shown.len()
                                ));
                            }
                            self.push(|| Evidence {
                                path,
                                actual: Some(actual),
                                expected,
                                note: None,
                            });
                        }
                        Verdict::from(!new.is_empty())
                    }
                    Err(Unreadable::Unknown) => {
                        self.push_transition(&path, &before, &after, String::new(), None);
                        Verdict::Undecided
                    }
                    Err(Unreadable::Type(message)) => {
                        self.push(|| Evidence {
                            path,
                            actual: None,
                            expected: None,
                            note: Some(message),
                        });
                        Verdict::Error
                    }
                }
            }
        }
    }

    fn push_transition(
        &mut self,
        path: &str,
        before: &Selection<'_>,
        after: &Selection<'_>,
        expected: String,
        note: Option<String>,
    ) {
        if !self.collecting() {
            return;
        }
        self.push(|| Evidence {
            path: path.to_owned(),
            actual: Some(format!("{} → {}", shown(before), shown(after))),
            expected: (!expected.is_empty()).then_some(expected),
            note,
        });
    }
}

/// The selection as people read it.
fn shown(selection: &Selection<'_>) -> String {
    match selection.hits.as_slice() {
        [] if selection.hidden => "(known after apply)".to_owned(),
        [] => "not set".to_owned(),
        [one] if one.value.is_null() => "not set".to_owned(),
        [one] => display(one.value),
        many => display(&Value::Array(
            many.iter().map(|h| h.value.clone()).collect(),
        )),
    }
}

/// Whether a selection hides something: the path ran into an unknown value, or a selected value
/// is or holds an unknown or sensitive marker.
fn opaque(selection: &Selection<'_>) -> bool {
    selection.hidden || selection.hits.iter().any(|h| holds_marker(h.value, 0))
}

fn holds_marker(value: &Value, depth: usize) -> bool {
    if depth > 64 {
        return false;
    }
    match value {
        Value::String(_) => marker(value).is_some(),
        Value::Array(items) => items.iter().any(|v| holds_marker(v, depth + 1)),
        Value::Object(map) => map.values().any(|v| holds_marker(v, depth + 1)),
        _ => false,
    }
}

/// A value operator over a selection, combined by its quantifier.
fn test(test: &ValueTest, selection: &Selection<'_>) -> Verdict {
    let one = |value: Option<&Value>| match apply(&test.operator, value) {
        OpResult::Verdict(v) => v,
        OpResult::TypeError(_) => Verdict::Error,
    };
    if selection.hits.is_empty() {
        return if selection.hidden {
            Verdict::Undecided
        } else {
            one(None)
        };
    }
    let mut verdicts: Vec<Verdict> = selection.hits.iter().map(|h| one(Some(h.value))).collect();
    if selection.hidden {
        verdicts.push(Verdict::Undecided);
    }
    match test.quantifier {
        Quantifier::All => verdicts.into_iter().fold(Verdict::Pass, Verdict::and),
        Quantifier::Any => verdicts.into_iter().fold(Verdict::Fail, Verdict::or),
        Quantifier::None => verdicts
            .into_iter()
            .fold(Verdict::Fail, Verdict::or)
            .negate(),
    }
}

/// Why values could not be compared.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Unreadable {
    /// A value that matters is known only after apply, or redacted.
    Unknown,
    /// A value is not of the shape the widening reads.
    Type(String),
}

impl From<String> for Unreadable {
    fn from(message: String) -> Self {
        Unreadable::Type(message)
    }
}

/// What the values after the change allow that the values before did not, as readable items
/// (sorted, without duplicates; the first few, and how many). Empty: nothing was widened.
pub(crate) fn widened(
    widening: Widening,
    before: &[Value],
    after: &[Value],
) -> Result<Fresh, Unreadable> {
    let new: BTreeSet<String> = match widening {
        Widening::Cidr => {
            let old = cidrs(before)?;
            cidrs(after)?
                .into_iter()
                .filter(|a| !old.iter().any(|b| b.contains(a)))
                .map(|a| a.to_string())
                .collect()
        }
        Widening::Ports => {
            let old = ports(before)?;
            ports(after)?
                .into_iter()
                .filter(|(lo, hi)| !old.iter().any(|(a, b)| a <= lo && hi <= b))
                .map(|(lo, hi)| port_text(lo, hi))
                .collect()
        }
        Widening::Rules => {
            let old = rules(before)?;
            let mut out = BTreeSet::new();
            for rule in rules(after)? {
                for source in &rule.sources {
                    let covered = old.iter().any(|b| {
                        (b.protocol == "all" || b.protocol == rule.protocol)
                            && b.from <= rule.from
                            && rule.to <= b.to
                            && b.sources.iter().any(|s| s.covers(source))
                    });
                    if !covered {
                        out.insert(format!(
                            "{} {} {}",
                            source.text(),
                            rule.protocol,
                            port_text(rule.from, rule.to)
                        ));
                    }
                }
            }
            out
        }
        Widening::Actions => {
            return Ok(fresh_grants(&statements(before)?, &statements(after)?));
        }
        Widening::Principals => {
            // Each old pattern compiled once; literal principals looked up, not matched.
            let mut literal: BTreeSet<(String, String)> = BTreeSet::new();
            let mut wild: Vec<(String, Pattern)> = Vec::new();
            for (kind, principal) in principals(before)? {
                let pattern = Pattern::new(&principal);
                if pattern.is_literal() {
                    literal.insert((kind, principal));
                } else {
                    wild.push((kind, pattern));
                }
            }
            principals(after)?
                .into_iter()
                .filter(|(t, p)| {
                    !literal.contains(&(t.clone(), p.clone()))
                        && !wild.iter().any(|(ot, op)| ot == t && op.matches(p))
                })
                .map(|(t, p)| format!("{t} {p}"))
                .collect()
        }
    };
    Ok(Fresh::from_set(new))
}

fn port_text(lo: u32, hi: u32) -> String {
    if lo == 0 && hi == 65535 {
        "all ports".to_owned()
    } else if lo == hi {
        format!("port {lo}")
    } else {
        format!("ports {lo}-{hi}")
    }
}

/// CIDR blocks in values: strings, lists, or objects holding a CIDR (`cidrIp`, `cidr_ipv4`, …).
fn cidrs(values: &[Value]) -> Result<Vec<IpNet>, Unreadable> {
    let mut out = Vec::new();
    for value in values {
        collect_cidrs(value, &mut out, 0)?;
    }
    Ok(out)
}

fn collect_cidrs(value: &Value, out: &mut Vec<IpNet>, depth: usize) -> Result<(), Unreadable> {
    if depth > 8 {
        return Ok(());
    }
    match value {
        Value::Null => Ok(()),
        Value::String(_) if marker(value).is_some() => Err(Unreadable::Unknown),
        Value::String(text) => {
            out.push(parse_cidr(text)?);
            Ok(())
        }
        Value::Array(items) => items
            .iter()
            .try_for_each(|v| collect_cidrs(v, out, depth + 1)),
        Value::Object(map) => match CIDR_KEYS.iter().find_map(|k| map.get(*k)) {
            Some(inner) => collect_cidrs(inner, out, depth + 1),
            None => Err(Unreadable::Type(
                "`widened: cidr` on a mapping without a CIDR key".to_owned(),
            )),
        },
        other => Err(Unreadable::Type(format!(
            "`widened: cidr` needs CIDR blocks, found {}",
            kind(other)
        ))),
    }
}

fn parse_cidr(text: &str) -> Result<IpNet, Unreadable> {
    let text = text.trim();
    if let Ok(net) = text.parse::<IpNet>() {
        return Ok(net.trunc());
    }
    match text.parse::<std::net::IpAddr>() {
        Ok(addr) => Ok(IpNet::from(addr)),
        Err(_) => Err(format!("{text:?} is not a CIDR block").into()),
    }
}

fn ports(values: &[Value]) -> Result<Vec<(u32, u32)>, Unreadable> {
    let mut out = Vec::new();
    for value in values {
        let items: Vec<&Value> = match value {
            Value::Array(items) => items.iter().collect(),
            Value::Null => Vec::new(),
            other => vec![other],
        };
        for item in items {
            match port_span(item)? {
                Some(PortSpan::Range(lo, hi)) => out.push((lo, hi)),
                Some(PortSpan::None) => {}
                None => return Err(Unreadable::Unknown),
            }
        }
    }
    Ok(out)
}

/// One allow rule of a security group or network ACL, normalized.
struct Rule {
    protocol: String,
    from: u32,
    to: u32,
    sources: Vec<Source>,
}

enum Source {
    Cidr(IpNet),
    /// A security group, prefix list or `self`: covered only by the same reference.
    Reference(String),
}

impl Source {
    fn covers(&self, other: &Source) -> bool {
        match (self, other) {
            (Source::Cidr(a), Source::Cidr(b)) => a.contains(b),
            (Source::Reference(a), Source::Reference(b)) => a == b,
            _ => false,
        }
    }

    fn text(&self) -> String {
        match self {
            Source::Cidr(net) => net.to_string(),
            Source::Reference(r) => r.clone(),
        }
    }
}

/// Keys that hold CIDR sources (a string or a list, of strings or `{cidrIp}` objects).
const RULE_CIDR_KEYS: [&str; 11] = [
    "cidr_blocks",
    "ipv6_cidr_blocks",
    "cidr_block",
    "ipv6_cidr_block",
    "cidr_ipv4",
    "cidr_ipv6",
    "ipRanges",
    "ipv4Ranges",
    "ipv6Ranges",
    "cidrBlock",
    "ipv6CidrBlock",
];

/// Keys that hold references to other sources (security groups, prefix lists).
const RULE_REFERENCE_KEYS: [(&str, &str); 7] = [
    ("security_groups", "sg"),
    ("source_security_group_id", "sg"),
    ("referenced_security_group_id", "sg"),
    ("userIdGroupPairs", "sg"),
    ("prefix_list_ids", "pl"),
    ("prefix_list_id", "pl"),
    ("prefixListIds", "pl"),
];

fn rules(values: &[Value]) -> Result<Vec<Rule>, Unreadable> {
    let mut out = Vec::new();
    for value in values {
        match value {
            Value::Null => {}
            Value::Array(items) => out.extend(rules(items)?),
            Value::Object(map) => {
                if let Some(rule) = rule(map)? {
                    out.push(rule);
                }
            }
            other => {
                return Err(
                    format!("`widened: rules` needs rule objects, found {}", kind(other)).into(),
                );
            }
        }
    }
    Ok(out)
}

fn rule(map: &Map<String, Value>) -> Result<Option<Rule>, Unreadable> {
    let action = ["rule_action", "action", "ruleAction"]
        .iter()
        .find_map(|k| map.get(*k))
        .and_then(Value::as_str);
    if action.is_some_and(|a| a.eq_ignore_ascii_case("deny")) {
        return Ok(None);
    }
    let protocol = ["protocol", "ip_protocol", "ipProtocol", "IpProtocol"]
        .iter()
        .find_map(|k| map.get(*k))
        .map(|p| match p {
            Value::String(s) => s.trim().to_ascii_lowercase(),
            other => other.to_string(),
        })
        .unwrap_or_else(|| "all".to_owned());
    let protocol = match protocol.as_str() {
        "-1" | "all" => "all",
        "6" | "tcp" => "tcp",
        "17" | "udp" => "udp",
        "1" | "icmp" => "icmp",
        "58" | "icmpv6" => "icmpv6",
        other => other,
    }
    .to_owned();
    // AWS Config network ACL entries hold their ports in `portRange: {from, to}`.
    let span = match map.get("portRange") {
        Some(Value::Object(range)) => {
            let mut flat = range.clone();
            if let Some(p) = map.get("protocol") {
                flat.insert("protocol".to_owned(), p.clone());
            }
            let renamed: Map<String, Value> = flat
                .into_iter()
                .map(|(k, v)| match k.as_str() {
                    "from" => ("from_port".to_owned(), v),
                    "to" => ("to_port".to_owned(), v),
                    _ => (k, v),
                })
                .collect();
            port_span(&Value::Object(renamed))?
        }
        _ if protocol == "all" => Some(PortSpan::Range(0, 65535)),
        _ => port_span(&Value::Object(map.clone()))?,
    };
    let (from, to) = match span {
        Some(PortSpan::Range(a, b)) => (a, b),
        // ICMP: no ports; compare by protocol alone.
        Some(PortSpan::None) => (0, 0),
        None => return Err(Unreadable::Unknown),
    };
    let mut sources = Vec::new();
    for key in RULE_CIDR_KEYS {
        let Some(value) = map.get(key) else { continue };
        let mut nets = Vec::new();
        collect_cidrs(value, &mut nets, 0)?;
        sources.extend(nets.into_iter().map(Source::Cidr));
    }
    for (key, label) in RULE_REFERENCE_KEYS {
        let items: Vec<&Value> = match map.get(key) {
            Some(Value::Array(items)) => items.iter().collect(),
            Some(Value::Null) | None => continue,
            Some(other) => vec![other],
        };
        for item in items {
            if marker(item).is_some() {
                return Err(Unreadable::Unknown);
            }
            let id = match item {
                Value::String(s) => Some(s.clone()),
                Value::Object(o) => ["groupId", "prefixListId", "id"]
                    .iter()
                    .find_map(|k| o.get(*k))
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                _ => None,
            };
            if let Some(id) = id.filter(|s| !s.is_empty()) {
                sources.push(Source::Reference(format!("{label}:{id}")));
            }
        }
    }
    if map.get("self").is_some_and(|v| v == &Value::Bool(true)) {
        sources.push(Source::Reference("self".to_owned()));
    }
    Ok(Some(Rule {
        protocol,
        from,
        to,
        sources,
    }))
}

/// The policy documents among values (JSON strings or objects).
fn documents(values: &[Value]) -> Result<Vec<Value>, Unreadable> {
    let mut out = Vec::new();
    for value in values {
        if holds_marker(value, 0) {
            return Err(Unreadable::Unknown);
        }
        match value {
            Value::Null => {}
            Value::String(text) if text.trim().is_empty() => {}
            Value::String(text) => match crate::input::policy_document::decode(text) {
                Some(doc) => out.push(doc),
                None => return Err("the value is not a policy document".to_owned().into()),
            },
            Value::Object(_) => {
                let mut doc = value.clone();
                crate::input::policy_document::normalize(&mut doc);
                out.push(doc);
            }
            Value::Array(items) => out.extend(documents(items)?),
            other => {
                return Err(format!(
                    "a policy document must be JSON text or an object, found {}",
                    kind(other)
                )
                .into());
            }
        }
    }
    Ok(out)
}

/// The `Allow` statements of the documents.
fn allow_statements(values: &[Value]) -> Result<Vec<Map<String, Value>>, Unreadable> {
    let mut out = Vec::new();
    for doc in documents(values)? {
        let Some(Value::Array(statements)) = doc.get("Statement") else {
            continue;
        };
        for statement in statements.iter().filter_map(Value::as_object) {
            let allow = statement
                .get("Effect")
                .and_then(Value::as_str)
                .is_some_and(|e| e.eq_ignore_ascii_case("allow"));
            if allow {
                out.push(statement.clone());
            }
        }
    }
    Ok(out)
}

fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// What each Allow statement of the documents grants. `NotAction` and `NotResource` allow
/// nearly everything and read as `*`; a statement without `Resource` (trust policies) as `*`.
/// Conditions are not read: a statement grants what it names, whatever its condition.
fn statements(values: &[Value]) -> Result<Vec<Statement>, Unreadable> {
    let mut out = Vec::new();
    for statement in allow_statements(values)? {
        let actions = if statement.contains_key("NotAction") {
            vec!["*".to_owned()]
        } else {
            strings(statement.get("Action"))
        };
        let resources = if statement.contains_key("NotResource") {
            vec!["*".to_owned()]
        } else {
            match strings(statement.get("Resource")) {
                r if r.is_empty() => vec!["*".to_owned()],
                r => r,
            }
        };
        out.push(Statement { actions, resources });
    }
    Ok(out)
}

/// (principal type, principal) pairs the documents allow.
fn principals(values: &[Value]) -> Result<Vec<(String, String)>, Unreadable> {
    let mut out = Vec::new();
    for statement in allow_statements(values)? {
        if statement.contains_key("NotPrincipal") {
            out.push(("AWS".to_owned(), "*".to_owned()));
        }
        if let Some(Value::Object(map)) = statement.get("Principal") {
            for (kind, value) in map {
                for principal in strings(Some(value)) {
                    out.push((kind.clone(), principal));
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn new(w: Widening, before: Value, after: Value) -> Vec<String> {
        widened(w, &[before], &[after]).unwrap().shown
    }

    #[test]
    fn cidrs_widen_when_address_space_grows() {
        assert!(
            new(
                Widening::Cidr,
                json!(["10.0.0.0/8"]),
                json!(["10.1.0.0/16"])
            )
            .is_empty()
        );
        assert_eq!(
            new(
                Widening::Cidr,
                json!(["10.0.0.0/16"]),
                json!(["10.0.0.0/8"])
            ),
            vec!["10.0.0.0/8"]
        );
        assert_eq!(
            new(Widening::Cidr, Value::Null, json!("0.0.0.0/0")),
            vec!["0.0.0.0/0"]
        );
    }

    #[test]
    fn rules_widen_by_source_or_ports() {
        let before = json!([{"protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": ["10.0.0.0/8"]}]);
        let same = json!([{"protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": ["10.2.0.0/16"], "description": "x"}]);
        assert!(new(Widening::Rules, before.clone(), same).is_empty());
        let wider = json!([{"protocol": "tcp", "from_port": 0, "to_port": 1024, "cidr_blocks": ["10.0.0.0/8"]}]);
        assert_eq!(
            new(Widening::Rules, before.clone(), wider),
            vec!["10.0.0.0/8 tcp ports 0-1024"]
        );
        let config = json!([{"ipProtocol": "-1", "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}]}]);
        assert_eq!(
            new(Widening::Rules, before, config),
            vec!["0.0.0.0/0 all all ports"]
        );
        let deny = json!([{"protocol": "6", "rule_action": "deny", "cidr_block": "0.0.0.0/0", "from_port": 22, "to_port": 22}]);
        assert!(new(Widening::Rules, Value::Null, deny).is_empty());
    }

    #[test]
    fn policies_widen_by_actions_and_principals() {
        let before = json!(
            r#"{"Statement":[{"Effect":"Allow","Action":"s3:Get*","Resource":"arn:aws:s3:::b/*"}]}"#
        );
        let narrower = json!(
            r#"{"Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":"arn:aws:s3:::b/x"}]}"#
        );
        assert!(new(Widening::Actions, before.clone(), narrower).is_empty());
        let wider = json!(r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#);
        assert_eq!(new(Widening::Actions, before, wider), vec!["* on *"]);
        let trust = json!({"Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]});
        let open =
            json!({"Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}]});
        assert_eq!(new(Widening::Principals, trust, open), vec!["AWS *"]);
    }
}
