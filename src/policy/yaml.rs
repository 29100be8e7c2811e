//! A YAML tree in which every node keeps its byte span, read with serde-saphyr.
//!
//! Policies and config files are read into this tree first and then compiled by hand, so that
//! *every* problem (unknown key, wrong type, bad operator, invalid JSONPath) is reported at once,
//! each pointing at its place in the file. Scalars follow YAML 1.2 (`NO` and `yes` are strings;
//! `0755` stays a string) and alias bombs are refused by serde-saphyr's budget.

use std::fmt;
use std::sync::Arc;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use serde_saphyr::Spanned;

use crate::source::SourceFile;

/// A byte range in a source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub start: usize,
    pub len: usize,
}

impl From<Span> for miette::SourceSpan {
    fn from(span: Span) -> Self {
        miette::SourceSpan::new(span.start.into(), span.len)
    }
}

/// A node of the tree.
#[derive(Debug, Clone)]
pub struct Node {
    pub value: NodeValue,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum NodeValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Key, Node)>),
}

/// A mapping key with its span.
#[derive(Debug, Clone)]
pub struct Key {
    pub name: String,
    pub span: Span,
}

impl Node {
    /// A short name of the node's type, for messages.
    pub fn type_name(&self) -> &'static str {
        match self.value {
            NodeValue::Null => "null",
            NodeValue::Bool(_) => "a boolean",
            NodeValue::Int(_) | NodeValue::Float(_) => "a number",
            NodeValue::Str(_) => "a string",
            NodeValue::Seq(_) => "a list",
            NodeValue::Map(_) => "a mapping",
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            NodeValue::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(Key, Node)]> {
        match &self.value {
            NodeValue::Map(entries) => Some(entries),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            NodeValue::Seq(items) => Some(items),
            _ => None,
        }
    }

    /// Looks up a key of a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.name == key)
            .map(|(_, v)| v)
    }

    /// The node as plain JSON (for values compared against resource data).
    pub fn to_json(&self) -> Value {
        match &self.value {
            NodeValue::Null => Value::Null,
            NodeValue::Bool(b) => Value::Bool(*b),
            NodeValue::Int(i) => Value::from(*i),
            NodeValue::Float(f) => {
                serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number)
            }
            NodeValue::Str(s) => Value::String(s.clone()),
            NodeValue::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            NodeValue::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.name.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

/// A YAML syntax error (or a budget breach), with its place in the file.
#[derive(Debug, Clone)]
pub struct YamlError {
    pub message: String,
    pub span: Span,
}

/// Parses YAML text into a spanned tree.
pub fn parse(file: &Arc<SourceFile>) -> Result<Node, YamlError> {
    let mut options = serde_saphyr::Options::default();
    options.strict_booleans = true;
    options.leading_zero_numbers_as_strings = true;
    let text = file.text();
    match serde_saphyr::from_str_with_options::<Spanned<RawNode>>(text, options) {
        Ok(root) => Ok(convert(file, root, 0)),
        Err(error) => {
            let span = error
                .location()
                .map(|loc| to_span(file, &loc))
                .unwrap_or_default();
            let message = error.to_string();
            // serde-saphyr prefixes "error: line L column C: " and appends a snippet; keep the
            // message itself (miette draws the snippet).
            let first = message.lines().next().unwrap_or(&message);
            let message = first
                .split_once(": ")
                .and_then(|(_, rest)| rest.split_once(": ").map(|(_, m)| m))
                .filter(|_| first.starts_with("error: line"))
                .unwrap_or(first)
                .to_owned();
            Err(YamlError { message, span })
        }
    }
}

fn to_span(file: &SourceFile, location: &serde_saphyr::Location) -> Span {
    let span = location.span();
    match (span.byte_offset(), span.byte_len()) {
        (Some(start), Some(len)) if start != u64::from(u32::MAX) => Span {
            start: usize::try_from(start).unwrap_or(0),
            len: usize::try_from(len).unwrap_or(0),
        },
        _ if location.line() > 0 => Span {
            start: file.offset_of(location.line() as usize, location.column() as usize),
            len: 1,
        },
        _ => Span::default(),
    }
}

fn convert(file: &SourceFile, node: Spanned<RawNode>, depth: usize) -> Node {
    let span = to_span(file, &node.referenced);
    let value = match node.value {
        _ if depth > 256 => NodeValue::Null,
        RawNode::Null => NodeValue::Null,
        RawNode::Bool(b) => NodeValue::Bool(b),
        RawNode::Int(i) => NodeValue::Int(i),
        RawNode::Float(f) => NodeValue::Float(f),
        RawNode::Str(s) => NodeValue::Str(s),
        RawNode::Seq(items) => NodeValue::Seq(
            items
                .into_iter()
                .map(|n| convert(file, n, depth + 1))
                .collect(),
        ),
        RawNode::Map(entries) => NodeValue::Map(
            entries
                .into_iter()
                .map(|(k, v)| {
                    let key = Key {
                        span: to_span(file, &k.referenced),
                        name: k.value.into_string(),
                    };
                    (key, convert(file, v, depth + 1))
                })
                .collect(),
        ),
    };
    Node { value, span }
}

/// What serde-saphyr hands us, before spans are turned into byte ranges.
enum RawNode {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Spanned<RawNode>>),
    Map(Vec<(Spanned<RawKey>, Spanned<RawNode>)>),
}

/// Keys may be any scalar in YAML; they are read as text.
struct RawKey(String);

impl RawKey {
    fn into_string(self) -> String {
        self.0
    }
}

impl<'de> Deserialize<'de> for RawKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = RawKey;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a scalar mapping key")
            }
            fn visit_str<E>(self, v: &str) -> Result<RawKey, E> {
                Ok(RawKey(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<RawKey, E> {
                Ok(RawKey(v))
            }
            fn visit_bool<E>(self, v: bool) -> Result<RawKey, E> {
                Ok(RawKey(v.to_string()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<RawKey, E> {
                Ok(RawKey(v.to_string()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<RawKey, E> {
                Ok(RawKey(v.to_string()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<RawKey, E> {
                Ok(RawKey(v.to_string()))
            }
            fn visit_unit<E>(self) -> Result<RawKey, E> {
                Ok(RawKey("null".to_owned()))
            }
        }
        deserializer.deserialize_any(KeyVisitor)
    }
}

impl<'de> Deserialize<'de> for RawNode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NodeVisitor;
        impl<'de> Visitor<'de> for NodeVisitor {
            type Value = RawNode;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any YAML value")
            }
            fn visit_unit<E>(self) -> Result<RawNode, E> {
                Ok(RawNode::Null)
            }
            fn visit_none<E>(self) -> Result<RawNode, E> {
                Ok(RawNode::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<RawNode, D::Error> {
                RawNode::deserialize(d)
            }
            fn visit_bool<E>(self, v: bool) -> Result<RawNode, E> {
                Ok(RawNode::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<RawNode, E> {
                Ok(RawNode::Int(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<RawNode, E> {
                Ok(i64::try_from(v).map_or(RawNode::Float(v as f64), RawNode::Int))
            }
            fn visit_f64<E>(self, v: f64) -> Result<RawNode, E> {
                Ok(RawNode::Float(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<RawNode, E> {
                Ok(RawNode::Str(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<RawNode, E> {
                Ok(RawNode::Str(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawNode, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(RawNode::Seq(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawNode, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(RawNode::Map(entries))
            }
        }
        deserializer.deserialize_any(NodeVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_follow_yaml_1_2_and_keep_spans() {
        let file = SourceFile::new("p.yaml", "country: NO\nmode: 0755\nok: true\nn: 3\n");
        let root = parse(&file).unwrap();
        assert_eq!(root.get("country").and_then(Node::as_str), Some("NO"));
        assert_eq!(root.get("mode").and_then(Node::as_str), Some("0755"));
        assert!(matches!(
            root.get("ok").map(|n| &n.value),
            Some(NodeValue::Bool(true))
        ));
        let n = root.get("n").unwrap();
        assert_eq!(&file.text()[n.span.start..n.span.start + n.span.len], "3");
    }

    #[test]
    fn syntax_errors_have_a_place() {
        let file = SourceFile::new("p.yaml", "a: 1\nb: [x\n");
        let error = parse(&file).unwrap_err();
        assert!(error.span.start > 0, "{error:?}");
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut text = String::from("a: &a [x,x,x,x,x,x,x,x,x,x]\n");
        let mut prev = "a".to_owned();
        for i in 1..12 {
            let refs = vec![format!("*{prev}"); 10].join(",");
            text.push_str(&format!("l{i}: &l{i} [{refs}]\n"));
            prev = format!("l{i}");
        }
        let file = SourceFile::new("bomb.yaml", text);
        let error = parse(&file).unwrap_err();
        assert!(error.message.contains("budget"), "{}", error.message);
    }
}
