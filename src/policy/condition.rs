//! The compiled condition tree: a closed set of combinators and operators.

use std::fmt;
use std::sync::OnceLock;

use regex::{Regex, RegexBuilder};
use serde_json::Value;

use super::selector::Selector;
use super::yaml::Span;
use crate::model::ChangeKind;

/// A condition over a JSON document (`$`).
#[derive(Debug, Clone)]
pub enum Condition {
    /// Every condition holds.
    All(Vec<Condition>),
    /// At least one condition holds.
    Any(Vec<Condition>),
    /// No condition holds.
    None(Vec<Condition>),
    /// The condition does not hold.
    Not(Box<Condition>),
    /// An operator applied to the values a path selects.
    Value(ValueCheck),
    /// A condition applied to each node a path selects, each node becoming `$`.
    Each(EachCheck),
    /// A condition applied to the resources related to this one.
    Related(RelatedCheck),
    /// The change is one of these kinds (`action: [delete, replace]`).
    Action(Vec<ChangeKind>),
    /// The change was (`true`) or was not (`false`) made outside Terraform (`resource_drift`).
    Drift(bool),
    /// The change is (`true`) or is not (`false`) one of an account's recorded history
    /// (`audit --changes-since`, or a history it saved): one made by someone, at a time.
    History(bool),
    /// The change was (`true`) or was not (`false`) authorized: made by a principal under
    /// `approvals.principals`, carrying a change ticket, or listed under `approvals.changes`
    /// ([`crate::eval::authorization`]). Undecided when nothing says who made it.
    Authorized(bool),
    /// A condition on the resource's document before the change (`$` is the old object).
    Before(Box<Condition>),
    /// A condition on the resource's document after the change (`$` is the new object).
    After(Box<Condition>),
    /// A comparison of the values a path selects before and after the change.
    Transition(TransitionCheck),
}

/// A comparison of a path's values before and after the change.
#[derive(Debug, Clone)]
pub struct TransitionCheck {
    pub path: Selector,
    pub transition: Transition,
    pub span: Span,
}

/// A value operator with its `match:` quantifier, as `from:` and `to:` hold it.
#[derive(Debug, Clone)]
pub struct ValueTest {
    pub operator: Operator,
    pub quantifier: Quantifier,
}

/// The closed set of transitions.
#[derive(Debug, Clone)]
pub enum Transition {
    /// `changed: true`: the selected values differ before and after (`false`: they do not).
    Changed(bool),
    /// `from:` / `to:`: the old values satisfy `from` and the new ones `to`. With only `to`,
    /// the new values satisfy it and the old ones did not ("became"); with only `from`, the old
    /// values satisfied it and the new ones do not ("stopped being").
    FromTo {
        from: Option<ValueTest>,
        to: Option<ValueTest>,
    },
    /// `gained:` a selected node after the change satisfies the condition and is new (no equal
    /// node before).
    Gained(Box<Condition>),
    /// `lost:` a selected node before the change satisfied the condition and is gone.
    Lost(Box<Condition>),
    /// `widened:` what the values allow grew.
    Widened(Widening),
}

/// What `widened:` compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Widening {
    /// Address space: a CIDR after the change is not inside any CIDR before it.
    Cidr,
    /// Ports: a port range after the change is not inside any range before it.
    Ports,
    /// Firewall rules (security group, NACL): a (source, protocol, ports) allowed after the
    /// change is not allowed by any rule before it.
    Rules,
    /// IAM policy documents: an (action, resource) allowed after the change is not allowed by
    /// any statement before it (wildcards included).
    Actions,
    /// Trust and resource policies: a principal allowed after the change was not allowed
    /// before it.
    Principals,
}

impl Widening {
    pub const ALL: [Widening; 5] = [
        Widening::Cidr,
        Widening::Ports,
        Widening::Rules,
        Widening::Actions,
        Widening::Principals,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Widening::Cidr => "cidr",
            Widening::Ports => "ports",
            Widening::Rules => "rules",
            Widening::Actions => "actions",
            Widening::Principals => "principals",
        }
    }

    pub fn parse(text: &str) -> Option<Widening> {
        Widening::ALL.into_iter().find(|w| w.as_str() == text)
    }
}

/// How results over several nodes (or related resources) combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantifier {
    All,
    Any,
    None,
}

impl Quantifier {
    pub fn as_str(self) -> &'static str {
        match self {
            Quantifier::All => "all",
            Quantifier::Any => "any",
            Quantifier::None => "none",
        }
    }
}

#[derive(Debug, Clone)]
pub struct ValueCheck {
    pub path: Selector,
    pub operator: Operator,
    /// `match:` how the operator's results over several selected values combine (default all).
    pub quantifier: Quantifier,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct EachCheck {
    pub path: Selector,
    pub quantifier: Quantifier,
    pub condition: Box<Condition>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct RelatedCheck {
    /// Resource types of the related resources (of the same input kind).
    pub types: Vec<String>,
    /// Attribute of the related resource that points at this one. Without it (and without
    /// `from`), any reference (Terraform) or relationship (AWS Config) counts.
    pub via: Option<Selector>,
    /// Attribute of *this* resource that points at the related ones (a forward relation: the
    /// key a volume is encrypted with, the load balancer a listener belongs to).
    pub from: Option<Selector>,
    /// Neither direction: any resource of these types in the same input file (an account or
    /// Region setting such as `aws_ebs_encryption_by_default`). Only defaults use it.
    pub anywhere: bool,
    /// `where:` — only the related resources that satisfy it count (the feature resource
    /// of one feature among several of the same type).
    pub filter: Option<Box<Condition>>,
    pub quantifier: Quantifier,
    pub condition: Box<Condition>,
    /// `inline:` — the same setting written on this resource itself (a block or argument of
    /// the resource, the older form of a split resource): when no related resource exists,
    /// this condition on the subject decides instead. A related resource, when there is one,
    /// wins, as the provider lets the split resource override the inline argument.
    pub inline: Option<Box<Condition>>,
    pub span: Span,
}

/// Comparison operators for numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Gt,
    Gte,
    Lt,
    Lte,
}

/// The regular expression of `matches`.
///
/// A pattern of a user policy or from the configuration is built as the policy is compiled, so
/// that an invalid one is a compile error at its line. The built-in policies' own patterns are
/// built the first time they are used: building the catalog's ~90 regexes at every start was a
/// quarter of the start-up, and `policies test` (and the test suite) builds every one of them
/// as it compiles the catalog from the YAML.
#[derive(Clone)]
pub struct MatchRegex {
    pattern: String,
    built: OnceLock<Result<Regex, String>>,
}

impl fmt::Debug for MatchRegex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Regex").field(&self.pattern).finish()
    }
}

impl MatchRegex {
    /// Builds the pattern now.
    pub fn build(pattern: String) -> Result<MatchRegex, regex::Error> {
        let regex = build_regex(&pattern)?;
        Ok(MatchRegex {
            pattern,
            built: OnceLock::from(Ok(regex)),
        })
    }

    /// A pattern built when first used (a built-in policy's own).
    pub fn lazy(pattern: String) -> MatchRegex {
        MatchRegex {
            pattern,
            built: OnceLock::new(),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.pattern
    }

    /// The built regex, or why it could not be built.
    pub fn regex(&self) -> Result<&Regex, &str> {
        self.built
            .get_or_init(|| build_regex(&self.pattern).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(String::as_str)
    }
}

/// Every `matches` regex is built with these limits.
fn build_regex(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern).size_limit(1 << 20).build()
}

/// The closed set of operators.
#[derive(Debug, Clone)]
pub enum Operator {
    Equals(Value),
    NotEquals(Value),
    In(Vec<Value>),
    NotIn(Vec<Value>),
    /// `exists: true` / `absent: false` (true) and `exists: false` / `absent: true` (false).
    Exists(bool),
    /// `truthy: true` / `falsy: false` (true) and `truthy: false` / `falsy: true` (false).
    Truthy(bool),
    Matches(MatchRegex),
    Contains(Value),
    Compare(Comparison, f64),
    /// The value is (`true`) or is not (`false`) a CIDR open to the whole internet.
    CidrPublic(bool),
    /// The port or port range of the value overlaps one of these inclusive ranges.
    PortOverlaps(Vec<(u32, u32)>),
    /// Decode a JSON string (or take an object as it is) and check a condition on it.
    Json(Box<Condition>),
}

impl Operator {
    /// The operator's name as written in policies.
    pub fn name(&self) -> &'static str {
        match self {
            Operator::Equals(_) => "equals",
            Operator::NotEquals(_) => "not_equals",
            Operator::In(_) => "in",
            Operator::NotIn(_) => "not_in",
            Operator::Exists(true) => "exists",
            Operator::Exists(false) => "absent",
            Operator::Truthy(true) => "truthy",
            Operator::Truthy(false) => "falsy",
            Operator::Matches(_) => "matches",
            Operator::Contains(_) => "contains",
            Operator::Compare(Comparison::Gt, _) => "gt",
            Operator::Compare(Comparison::Gte, _) => "gte",
            Operator::Compare(Comparison::Lt, _) => "lt",
            Operator::Compare(Comparison::Lte, _) => "lte",
            Operator::CidrPublic(_) => "cidr_public",
            Operator::PortOverlaps(_) => "port_overlaps",
            Operator::Json(_) => "json",
        }
    }

    /// What the operator expects, for evidence (`equals true`, `in ["a", "b"]`).
    pub fn expectation(&self) -> String {
        match self {
            Operator::Equals(v) => format!("equals {v}"),
            Operator::NotEquals(v) => format!("not equal to {v}"),
            Operator::In(vs) => format!("one of {}", Value::Array(vs.clone())),
            Operator::NotIn(vs) => format!("none of {}", Value::Array(vs.clone())),
            Operator::Exists(true) => "set".to_owned(),
            Operator::Exists(false) => "not set".to_owned(),
            Operator::Truthy(true) => "enabled (truthy)".to_owned(),
            Operator::Truthy(false) => "disabled or unset (falsy)".to_owned(),
            Operator::Matches(r) => format!("matches /{}/", r.as_str()),
            Operator::Contains(v) => format!("contains {v}"),
            Operator::Compare(c, n) => {
                let op = match c {
                    Comparison::Gt => ">",
                    Comparison::Gte => "≥",
                    Comparison::Lt => "<",
                    Comparison::Lte => "≤",
                };
                format!("{op} {n}")
            }
            Operator::CidrPublic(true) => "open to the internet (0.0.0.0/0 or ::/0)".to_owned(),
            Operator::CidrPublic(false) => "not open to the internet".to_owned(),
            Operator::PortOverlaps(ranges) => {
                let list: Vec<String> = ranges
                    .iter()
                    .map(|(a, b)| {
                        if a == b {
                            a.to_string()
                        } else {
                            format!("{a}-{b}")
                        }
                    })
                    .collect();
                format!("covers port {}", list.join(", "))
            }
            Operator::Json(_) => "a JSON document that satisfies the nested check".to_owned(),
        }
    }
}

impl Condition {
    /// Every related check in the tree (to build the relation index once).
    pub fn related_checks(&self) -> Vec<&RelatedCheck> {
        let mut out = Vec::new();
        self.visit(&mut |c| {
            if let Condition::Related(r) = c {
                out.push(r);
            }
        });
        out
    }

    /// Whether the tree holds an existence test (`exists: true`): one that a value configured
    /// by a reference satisfies, with the referenced resources as evidence.
    pub fn tests_existence(&self) -> bool {
        let mut found = false;
        self.visit(&mut |c| {
            found |=
                matches!(c, Condition::Value(v) if matches!(v.operator, Operator::Exists(true)));
        });
        found
    }

    /// Whether the tree judges whether a change was authorized (`authorized:`).
    pub fn judges_authorization(&self) -> bool {
        let mut found = false;
        self.visit(&mut |c| found |= matches!(c, Condition::Authorized(_)));
        found
    }

    fn visit<'a>(&'a self, f: &mut dyn FnMut(&'a Condition)) {
        f(self);
        match self {
            Condition::All(cs) | Condition::Any(cs) | Condition::None(cs) => {
                cs.iter().for_each(|c| c.visit(f));
            }
            Condition::Not(c) => c.visit(f),
            Condition::Each(e) => e.condition.visit(f),
            Condition::Related(r) => {
                if let Some(filter) = &r.filter {
                    filter.visit(f);
                }
                r.condition.visit(f);
                if let Some(inline) = &r.inline {
                    inline.visit(f);
                }
            }
            Condition::Before(c) | Condition::After(c) => c.visit(f),
            Condition::Transition(t) => match &t.transition {
                Transition::Gained(c) | Transition::Lost(c) => c.visit(f),
                Transition::FromTo { .. } | Transition::Changed(_) | Transition::Widened(_) => {}
            },
            Condition::Action(_)
            | Condition::Drift(_)
            | Condition::History(_)
            | Condition::Authorized(_) => {}
            Condition::Value(v) => {
                if let Operator::Json(c) = &v.operator {
                    c.visit(f);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lazy_regex_is_built_on_first_use_and_an_unbuildable_one_is_an_error() {
        let lazy = MatchRegex::lazy("^ml\\.[a-z]+$".to_owned());
        assert_eq!(lazy.regex().map(|r| r.is_match("ml.large")), Ok(true));
        assert_eq!(lazy.as_str(), "^ml\\.[a-z]+$");
        let broken = MatchRegex::lazy("(".to_owned());
        assert!(broken.regex().is_err());
        assert!(MatchRegex::build("(".to_owned()).is_err());
        // Too large for the size limit: refused, never built past it.
        assert!(
            MatchRegex::lazy("\\w{1000}{1000}".to_owned())
                .regex()
                .is_err()
        );
    }
}
