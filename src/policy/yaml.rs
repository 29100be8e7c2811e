//! A YAML tree in which every node keeps its byte span, read with serde-saphyr.
//!
//! Policies and config files are read into this tree first and then compiled by hand, so that
//! *every* problem (unknown key, wrong type, bad operator, invalid JSONPath) is reported at once,
//! each pointing at its place in the file. Scalars follow YAML 1.2 (`NO` and `yes` are strings;
//! `0755` stays a string) and alias bombs are refused by serde-saphyr's budget.
//!
//! The module stands alone (serde, serde-saphyr and serde_json only): `build.rs` includes it to
//! parse the built-in policies once, at build time, and embeds their trees ([`encode`]); a run
//! reads them back ([`decode`]) instead of parsing YAML. Since the whole tree is serialized,
//! a new key in the policy format needs no change here.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use serde_saphyr::Spanned;

/// A byte range in a source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Span {
    pub start: usize,
    pub len: usize,
}

/// A node of the tree.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Node {
    pub value: NodeValue,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
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
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
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
pub fn parse(text: &str) -> Result<Node, YamlError> {
    let mut options = serde_saphyr::Options::default();
    options.strict_booleans = true;
    options.leading_zero_numbers_as_strings = true;
    match serde_saphyr::from_str_with_options::<Spanned<RawNode>>(text, options) {
        Ok(root) => Ok(convert(text, root, 0)),
        Err(error) => {
            let span = error
                .location()
                .map(|loc| to_span(text, &loc))
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

/// Serializes a tree (postcard: compact, and read back much faster than YAML is parsed).
pub fn encode(tree: &Node) -> Result<Vec<u8>, String> {
    postcard::to_allocvec(tree).map_err(|e| e.to_string())
}

/// Reads back what [`encode`] wrote.
pub fn decode(bytes: &[u8]) -> Result<Node, String> {
    postcard::from_bytes(bytes).map_err(|e| e.to_string())
}

fn to_span(text: &str, location: &serde_saphyr::Location) -> Span {
    let span = location.span();
    match (span.byte_offset(), span.byte_len()) {
        (Some(start), Some(len)) if start != u64::from(u32::MAX) => Span {
            start: usize::try_from(start).unwrap_or(0),
            len: usize::try_from(len).unwrap_or(0),
        },
        _ if location.line() > 0 => Span {
            start: offset_of(text, location.line() as usize, location.column() as usize),
            len: 1,
        },
        _ => Span::default(),
    }
}

/// Byte offset of a 1-based line and column (column in characters), clamped to the text.
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let rest = text.get(line_start..).unwrap_or("");
    let within = rest
        .char_indices()
        .take_while(|(_, c)| *c != '\n')
        .nth(column.saturating_sub(1))
        .map_or_else(|| rest.find('\n').unwrap_or(rest.len()), |(index, _)| index);
    line_start + within
}

fn convert(text: &str, node: Spanned<RawNode>, depth: usize) -> Node {
    let span = to_span(text, &node.referenced);
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
                .map(|n| convert(text, n, depth + 1))
                .collect(),
        ),
        RawNode::Map(entries) => NodeValue::Map(
            entries
                .into_iter()
                .map(|(k, v)| {
                    let key = Key {
                        span: to_span(text, &k.referenced),
                        name: k.value.into_string(),
                    };
                    (key, convert(text, v, depth + 1))
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
        let text = "country: NO\nmode: 0755\nok: true\nn: 3\n";
        let root = parse(text).unwrap();
        assert_eq!(root.get("country").and_then(Node::as_str), Some("NO"));
        assert_eq!(root.get("mode").and_then(Node::as_str), Some("0755"));
        assert!(matches!(
            root.get("ok").map(|n| &n.value),
            Some(NodeValue::Bool(true))
        ));
        let n = root.get("n").unwrap();
        assert_eq!(&text[n.span.start..n.span.start + n.span.len], "3");
    }

    #[test]
    fn offsets_of_lines_and_columns_agree_with_the_source_file() {
        let text = "a: 1\nb: \u{e9}t\u{e9}\n\nc: [x]";
        let file = crate::source::SourceFile::new("p.yaml", text);
        for line in 0..6 {
            for column in 0..8 {
                assert_eq!(
                    offset_of(text, line, column),
                    file.offset_of(line, column),
                    "line {line} column {column}"
                );
            }
        }
    }

    #[test]
    fn trees_read_back_as_they_were_written() {
        let text = "id: a.b\nn: -3\nf: 1.5\nlist: [x, {k: null}]\nok: false\n";
        let tree = parse(text).unwrap();
        assert_eq!(decode(&encode(&tree).unwrap()).unwrap(), tree);
        assert!(decode(&[]).is_err());
    }

    #[test]
    fn syntax_errors_have_a_place() {
        let error = parse("a: 1\nb: [x\n").unwrap_err();
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
        let error = parse(&text).unwrap_err();
        assert!(error.message.contains("budget"), "{}", error.message);
    }
}
