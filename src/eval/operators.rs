//! One function per operator, over one selected value.
//!
//! A value that is absent or JSON `null` is "missing"; each operator says what missing means
//! (`equals` fails, `not_equals` passes, …). A value known only after apply is undecided for
//! every operator; a redacted sensitive value is known to exist and nothing more. An operator
//! applied to a value of the wrong type is an error, never a silent pass or fail.

use std::net::IpAddr;

use serde_json::Value;

use super::outcome::Verdict;
use crate::model::value::{Marker, marker};
use crate::policy::compile::parse_port_range;
use crate::policy::{Comparison, Operator};

/// The result of an operator on one value: a verdict, or a type error.
pub(crate) enum OpResult {
    Verdict(Verdict),
    TypeError(String),
}

impl From<bool> for OpResult {
    fn from(b: bool) -> Self {
        OpResult::Verdict(Verdict::from(b))
    }
}

/// Applies a (non-`json`) operator to a value; `None` is a missing value.
/// `matches` on a present, known value.
fn matches(regex: &regex::Regex, value: &Value) -> OpResult {
    match value {
        Value::String(s) => regex.is_match(s).into(),
        Value::Number(n) => regex.is_match(&n.to_string()).into(),
        Value::Bool(b) => regex.is_match(&b.to_string()).into(),
        other => OpResult::TypeError(format!("`matches` needs a string, found {}", kind(other))),
    }
}

pub(crate) fn apply(operator: &Operator, value: Option<&Value>) -> OpResult {
    let value = value.filter(|v| !v.is_null());
    // `exists` asks whether a setting is set: the empty string providers write for an unset
    // string is not (the meaning of "not set" that `defaults:` uses too).
    let value = match operator {
        Operator::Exists(_) => value.filter(|v| v.as_str() != Some("")),
        _ => value,
    };
    if let Some(m) = value.and_then(marker) {
        return match (m, operator) {
            // A redacted value, or a value the configuration sets by reference, exists: an
            // existence test ("a KMS key is set") holds.
            (Marker::Sensitive | Marker::UnknownSet, Operator::Exists(expected)) => {
                (*expected).into()
            }
            // Every test of what the value is — `truthy` included: a reference may yield
            // `false`, `0` or an empty list — is undecided until apply.
            _ => OpResult::Verdict(Verdict::Undecided),
        };
    }
    let Some(value) = value else {
        return missing(operator);
    };
    match operator {
        Operator::Equals(expected) => loose_eq(value, expected).into(),
        Operator::NotEquals(expected) => (!loose_eq(value, expected)).into(),
        Operator::In(options) => options.iter().any(|o| loose_eq(value, o)).into(),
        Operator::NotIn(options) => (!options.iter().any(|o| loose_eq(value, o))).into(),
        Operator::Exists(expected) => (*expected).into(),
        Operator::Truthy(expected) => (truthy(value) == *expected).into(),
        Operator::Matches(regex) => match regex.regex() {
            Err(error) => OpResult::TypeError(format!("invalid regular expression: {error}")),
            Ok(regex) => matches(regex, value),
        },
        Operator::Contains(needle) => match value {
            Value::String(s) => match needle {
                Value::String(n) => s.contains(n.as_str()).into(),
                other => OpResult::TypeError(format!(
                    "`contains` on a string needs a string operand, found {}",
                    kind(other)
                )),
            },
            Value::Array(items) => items.iter().any(|item| loose_eq(item, needle)).into(),
            Value::Object(map) => match needle {
                Value::String(key) => map.contains_key(key).into(),
                other => OpResult::TypeError(format!(
                    "`contains` on a mapping needs a key (string), found {}",
                    kind(other)
                )),
            },
            other => OpResult::TypeError(format!(
                "`contains` needs a string, list or mapping, found {}",
                kind(other)
            )),
        },
        Operator::Compare(comparison, bound) => match number(value) {
            Some(n) => match comparison {
                Comparison::Gt => n > *bound,
                Comparison::Gte => n >= *bound,
                Comparison::Lt => n < *bound,
                Comparison::Lte => n <= *bound,
            }
            .into(),
            None => OpResult::TypeError(format!(
                "`{}` needs a number, found {}",
                operator.name(),
                kind(value)
            )),
        },
        Operator::CidrPublic(expected) => match cidr_is_public(value) {
            Ok(Some(public)) => (public == *expected).into(),
            Ok(None) => OpResult::Verdict(Verdict::Undecided),
            Err(message) => OpResult::TypeError(message),
        },
        Operator::PortOverlaps(ranges) => match port_span(value) {
            Ok(Some(PortSpan::None)) => false.into(),
            Ok(Some(PortSpan::Range(lo, hi))) => {
                ranges.iter().any(|(a, b)| lo <= *b && *a <= hi).into()
            }
            Ok(None) => OpResult::Verdict(Verdict::Undecided),
            Err(message) => OpResult::TypeError(message),
        },
        // `json` is evaluated by the engine (it nests a condition).
        Operator::Json(_) => OpResult::Verdict(Verdict::Undecided),
    }
}

/// What each operator means for a missing value.
fn missing(operator: &Operator) -> OpResult {
    match operator {
        Operator::NotEquals(_) | Operator::NotIn(_) => true.into(),
        Operator::Exists(expected) => (!*expected).into(),
        Operator::Truthy(expected) => (!*expected).into(),
        Operator::CidrPublic(expected) => (!*expected).into(),
        Operator::Equals(_)
        | Operator::In(_)
        | Operator::Matches(_)
        | Operator::Contains(_)
        | Operator::Compare(..)
        | Operator::PortOverlaps(_)
        | Operator::Json(_) => false.into(),
    }
}

/// Equality that forgives the encodings inputs use: `1` = `1.0` = `"1"`, `true` = `"true"`.
pub(crate) fn loose_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => x.as_f64() == y.as_f64(),
        },
        (Value::String(s), Value::Number(n)) | (Value::Number(n), Value::String(s)) => {
            s.trim().parse::<f64>().ok() == n.as_f64()
        }
        (Value::String(s), Value::Bool(b)) | (Value::Bool(b), Value::String(s)) => {
            s.eq_ignore_ascii_case(if *b { "true" } else { "false" })
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| loose_eq(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| loose_eq(v, w)))
        }
        _ => a == b,
    }
}

/// Truthiness: `false`, `0`, empty strings, lists and mappings, and the words `false`, `0`,
/// `no`, `off`, `disabled`, `none` (any case) are falsy; everything else is truthy.
pub(crate) fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => {
            let t = s.trim();
            !(t.is_empty()
                || ["false", "0", "no", "off", "disabled", "none"]
                    .iter()
                    .any(|w| t.eq_ignore_ascii_case(w)))
        }
        Value::Array(items) => !items.is_empty(),
        Value::Object(map) => !map.is_empty(),
    }
}

fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

pub(crate) use crate::model::value::type_name as kind;

/// Keys under which inputs hold a CIDR inside an object (AWS Config `ipv4Ranges`, rules).
pub(crate) const CIDR_KEYS: [&str; 6] = [
    "cidrIp",
    "cidrIpv6",
    "CidrIp",
    "CidrIpv6",
    "cidr_ipv4",
    "cidr_ipv6",
];

/// `Ok(Some(true))` for 0.0.0.0/0 and ::/0 (also written as a bare address with prefix 0),
/// `Ok(None)` when the CIDR is not known yet.
fn cidr_is_public(value: &Value) -> Result<Option<bool>, String> {
    match value {
        Value::String(text) => {
            let text = text.trim();
            if let Ok(net) = text.parse::<ipnet::IpNet>() {
                return Ok(Some(net.prefix_len() == 0));
            }
            if text.parse::<IpAddr>().is_ok() {
                return Ok(Some(false));
            }
            Err(format!("`cidr_public`: {text:?} is not a CIDR block"))
        }
        Value::Object(map) => match CIDR_KEYS.iter().find_map(|k| map.get(*k)) {
            Some(inner) if marker(inner).is_some() => Ok(None),
            Some(inner) => cidr_is_public(inner),
            None => Err("`cidr_public` on a mapping without a cidrIp / cidrIpv6 / cidr_ipv4 / cidr_ipv6 key".to_owned()),
        },
        other => Err(format!("`cidr_public` needs a CIDR string, found {}", kind(other))),
    }
}

/// How evidence shows a value an operator read: a whole rule object is shown as the ports or
/// the address range the operator looked at, not as the object.
pub(crate) fn shown(operator: &Operator, value: &Value) -> String {
    match (operator, value) {
        (Operator::PortOverlaps(_), Value::Object(_)) => match port_span(value) {
            Ok(Some(PortSpan::Range(0, 65535))) => "all ports".to_owned(),
            Ok(Some(PortSpan::Range(a, b))) if a == b => format!("port {a}"),
            Ok(Some(PortSpan::Range(a, b))) => format!("ports {a}-{b}"),
            Ok(Some(PortSpan::None)) => "no ports (ICMP)".to_owned(),
            _ => crate::model::value::display(value),
        },
        (Operator::CidrPublic(_), Value::Object(map)) => {
            CIDR_KEYS.iter().find_map(|k| map.get(*k)).map_or_else(
                || crate::model::value::display(value),
                crate::model::value::display,
            )
        }
        _ => crate::model::value::display(value),
    }
}

/// Keys under which a rule object holds its protocol and port range.
const PROTOCOL_KEYS: [&str; 4] = ["protocol", "ip_protocol", "ipProtocol", "IpProtocol"];
const FROM_PORT_KEYS: [&str; 3] = ["from_port", "fromPort", "FromPort"];
const TO_PORT_KEYS: [&str; 3] = ["to_port", "toPort", "ToPort"];
const PORT_RANGE_KEYS: [&str; 2] = ["portRange", "PortRange"];

/// The members of an object that `operator` reads when applied to it: `Some(empty)` for none
/// (`exists` asks only whether there is a value), `None` when it may read any.
pub(crate) fn members_read(operator: &Operator) -> Option<Vec<&'static str>> {
    match operator {
        Operator::Exists(_) => Some(Vec::new()),
        Operator::CidrPublic(_) => Some(CIDR_KEYS.to_vec()),
        Operator::PortOverlaps(_) => Some(
            [
                &PROTOCOL_KEYS[..],
                &FROM_PORT_KEYS[..],
                &TO_PORT_KEYS[..],
                &PORT_RANGE_KEYS[..],
            ]
            .concat(),
        ),
        _ => None,
    }
}

pub(crate) enum PortSpan {
    /// A protocol without ports (ICMP).
    None,
    Range(u32, u32),
}

/// The ports a value covers: a port, a range string, or a rule object
/// (`from_port`/`to_port`/`protocol`, `fromPort`/`toPort`/`ipProtocol`, `ip_protocol`).
/// Protocol `-1` / `all` covers every port. `Ok(None)` when a part is not known yet.
pub(crate) fn port_span(value: &Value) -> Result<Option<PortSpan>, String> {
    match value {
        Value::Object(map) => {
            let get = |keys: &[&str]| {
                keys.iter()
                    .find_map(|k| map.get(*k))
                    .filter(|v| !v.is_null())
            };
            // A network ACL entry in AWS Config holds its ports as `portRange: {from, to}`.
            let range = PORT_RANGE_KEYS.iter().find_map(|k| map.get(*k));
            let in_range = |key: &str| range.and_then(|r| r.get(key)).filter(|v| !v.is_null());
            let protocol = get(&PROTOCOL_KEYS);
            let from = get(&FROM_PORT_KEYS).or_else(|| in_range("from"));
            let to = get(&TO_PORT_KEYS).or_else(|| in_range("to"));
            if [protocol, from, to]
                .iter()
                .flatten()
                .any(|v| marker(v).is_some())
            {
                return Ok(None);
            }
            let protocol = protocol.map(|p| match p {
                Value::String(s) => s.trim().to_ascii_lowercase(),
                other => other.to_string(),
            });
            match protocol.as_deref() {
                Some("-1" | "all") => return Ok(Some(PortSpan::Range(0, 65535))),
                Some("icmp" | "1" | "icmpv6" | "58") => return Ok(Some(PortSpan::None)),
                _ => {}
            }
            let port = |v: &Value| parse_port_range(v).map(|(a, _)| a);
            match (from.and_then(port), to.and_then(port)) {
                (Some(a), Some(b)) if a <= b => Ok(Some(PortSpan::Range(a, b))),
                (Some(a), Some(b)) => Ok(Some(PortSpan::Range(b, a))),
                (Some(a), None) | (None, Some(a)) => Ok(Some(PortSpan::Range(a, a))),
                (None, None) if protocol.is_none() => Err(
                    "`port_overlaps` on a mapping without from_port/to_port or fromPort/toPort"
                        .to_owned(),
                ),
                (None, None) => Ok(Some(PortSpan::Range(0, 65535))),
            }
        }
        other => match parse_port_range(other) {
            Some((a, b)) => Ok(Some(PortSpan::Range(a, b))),
            None => Err(format!(
                "`port_overlaps` needs a port, a range or a rule, found {}",
                kind(other)
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn verdict(op: &Operator, value: Value) -> Option<Verdict> {
        match apply(op, Some(&value)) {
            OpResult::Verdict(v) => Some(v),
            OpResult::TypeError(_) => None,
        }
    }

    #[test]
    fn equality_forgives_encodings() {
        assert!(loose_eq(&json!(1), &json!(1.0)));
        assert!(loose_eq(&json!("22"), &json!(22)));
        assert!(loose_eq(&json!("TRUE"), &json!(true)));
        assert!(!loose_eq(&json!("yes"), &json!(true)));
    }

    #[test]
    fn cidr_math_is_real() {
        let public = Operator::CidrPublic(true);
        assert_eq!(verdict(&public, json!("0.0.0.0/0")), Some(Verdict::Pass));
        assert_eq!(verdict(&public, json!("::/0")), Some(Verdict::Pass));
        assert_eq!(verdict(&public, json!("10.0.0.0/8")), Some(Verdict::Fail));
        assert_eq!(
            verdict(&public, json!({"cidrIp": "0.0.0.0/0"})),
            Some(Verdict::Pass)
        );
        assert_eq!(verdict(&public, json!("not-a-cidr")), None);
    }

    #[test]
    fn port_ranges_overlap() {
        let admin = Operator::PortOverlaps(vec![(22, 22), (3389, 3389)]);
        assert_eq!(
            verdict(
                &admin,
                json!({"from_port": 0, "to_port": 1024, "protocol": "tcp"})
            ),
            Some(Verdict::Pass)
        );
        assert_eq!(
            verdict(
                &admin,
                json!({"from_port": 443, "to_port": 443, "protocol": "tcp"})
            ),
            Some(Verdict::Fail)
        );
        assert_eq!(
            verdict(
                &admin,
                json!({"from_port": 0, "to_port": 0, "protocol": "-1"})
            ),
            Some(Verdict::Pass)
        );
        assert_eq!(
            verdict(&admin, json!({"ipProtocol": "-1"})),
            Some(Verdict::Pass)
        );
        assert_eq!(
            verdict(
                &admin,
                json!({"fromPort": 8, "toPort": -1, "ipProtocol": "icmp"})
            ),
            Some(Verdict::Fail)
        );
        assert_eq!(verdict(&admin, json!("3000-4000")), Some(Verdict::Pass));
        assert_eq!(
            verdict(
                &admin,
                json!({"protocol": "6", "portRange": {"from": 20, "to": 25}})
            ),
            Some(Verdict::Pass)
        );
    }

    #[test]
    fn missing_values_and_markers() {
        assert!(matches!(
            apply(&Operator::NotEquals(json!("x")), None),
            OpResult::Verdict(Verdict::Pass)
        ));
        assert!(matches!(
            apply(&Operator::Equals(json!("x")), Some(&Value::Null)),
            OpResult::Verdict(Verdict::Fail)
        ));
        let unknown = crate::model::value::unknown();
        assert!(matches!(
            apply(&Operator::Equals(json!("x")), Some(&unknown)),
            OpResult::Verdict(Verdict::Undecided)
        ));
        let secret = crate::model::value::sensitive();
        assert!(matches!(
            apply(&Operator::Exists(true), Some(&secret)),
            OpResult::Verdict(Verdict::Pass)
        ));
        // Configured by a reference, known after apply: it exists, but what it is is open.
        let set = crate::model::value::unknown_set();
        assert!(matches!(
            apply(&Operator::Exists(true), Some(&set)),
            OpResult::Verdict(Verdict::Pass)
        ));
        assert!(matches!(
            apply(&Operator::Exists(false), Some(&set)),
            OpResult::Verdict(Verdict::Fail)
        ));
        for op in [Operator::Truthy(true), Operator::Truthy(false)] {
            assert!(matches!(
                apply(&op, Some(&set)),
                OpResult::Verdict(Verdict::Undecided)
            ));
        }
        // The empty string providers write for an unset string does not exist.
        assert!(matches!(
            apply(&Operator::Exists(true), Some(&json!(""))),
            OpResult::Verdict(Verdict::Fail)
        ));
        assert!(matches!(
            apply(&Operator::Exists(false), Some(&json!(""))),
            OpResult::Verdict(Verdict::Pass)
        ));
        assert!(matches!(
            apply(&Operator::Equals(json!("x")), Some(&secret)),
            OpResult::Verdict(Verdict::Undecided)
        ));
    }

    #[test]
    fn type_errors_are_errors() {
        assert_eq!(
            verdict(&Operator::Compare(Comparison::Gt, 1.0), json!({"a": 1})),
            None
        );
        assert_eq!(
            verdict(&Operator::Compare(Comparison::Gt, 1.0), json!("7")),
            Some(Verdict::Pass)
        );
    }
}
