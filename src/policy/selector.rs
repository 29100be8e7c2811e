//! JSONPath selectors, compiled once.
//!
//! Every selector is parsed with jsonpath-rust when the policy is compiled, so an invalid path
//! is a compile error with a span. Paths made only of names, indexes and wildcards (nearly all
//! policy paths) then run on a small walker of our own, which also notices where a path runs
//! into a value known only after apply; anything else (filters, slices, descendants) runs on
//! jsonpath-rust. Both sit behind [`Selector`], and a test checks they agree.

use std::fmt;

use jsonpath_rust::parser::model::{JpQuery, Segment, Selector as JpSelector};
use serde_json::Value;

use crate::model::value::marker;

/// One node a selector found.
#[derive(Debug, Clone)]
pub struct Hit<'v> {
    pub value: &'v Value,
    /// Path of the node (`$.ingress[0].cidr_blocks[1]`), built only when asked for.
    pub path: Option<String>,
}

/// What a selector found in a document.
#[derive(Debug, Default)]
pub struct Selection<'v> {
    pub hits: Vec<Hit<'v>>,
    /// The path ran into an unknown or redacted value before its end: what lies below is not
    /// known, so an empty selection does not mean "absent".
    pub hidden: bool,
    /// The path ran into a value of the wrong type before its end (a wildcard or an index over
    /// a string, a name over a list): the document is not of the shape the policy reads, so
    /// what the path did not find is not "absent" either. The first such place.
    pub mismatch: Option<Mismatch>,
}

/// Where a path met a value of another type than its next step needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// Path of the value (`$.ingress[0].cidr_blocks`), built only when paths are asked for.
    pub path: Option<String>,
    /// What the step needs: "a list", "an object", "a list or an object".
    pub wanted: &'static str,
    /// What is there: "a string", "a number", ….
    pub found: &'static str,
}

impl Mismatch {
    /// `found a string where the policy reads a list`.
    pub fn describe(&self) -> String {
        format!(
            "found {} where the policy reads {}",
            self.found, self.wanted
        )
    }
}

/// "a string", "a list", … for messages.
pub fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// A compiled selector.
#[derive(Clone)]
pub struct Selector {
    text: String,
    engine: Engine,
}

#[derive(Clone)]
enum Engine {
    Simple(Vec<Step>),
    JsonPath {
        query: JpQuery,
        /// Queries for each proper prefix, longest first, to tell "hidden" from "absent".
        prefixes: Vec<JpQuery>,
    },
}

/// One step of a path of names and wildcards ([`Selector::name_steps`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathStep {
    /// A member of an object.
    Name(String),
    /// Every element of a list (a Terraform nested block is a list of blocks).
    Each,
}

#[derive(Clone, Debug, PartialEq)]
enum Step {
    Name(String),
    Index(i64),
    Wildcard,
}

impl fmt::Debug for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Selector({})", self.text)
    }
}

impl Selector {
    /// Compiles a JSONPath selector (RFC 9535 syntax; `$` is the document being checked).
    pub fn parse(text: &str) -> Result<Selector, String> {
        let query = jsonpath_rust::parser::parse_json_path(text)
            .map_err(|e| clean_error(&e.to_string()))?;
        let engine = match simple_steps(&query) {
            Some(steps) => Engine::Simple(steps),
            None => {
                let prefixes = (1..query.segments.len())
                    .rev()
                    .map(|n| JpQuery::new(query.segments.iter().take(n).cloned().collect()))
                    .collect();
                Engine::JsonPath { query, prefixes }
            }
        };
        Ok(Selector {
            text: text.to_owned(),
            engine,
        })
    }

    /// The selector as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether the selector is a plain chain of names (`$.a.b`): such a path names an attribute.
    pub fn attribute_path(&self) -> Option<String> {
        match &self.engine {
            Engine::Simple(steps) => {
                let mut names = Vec::new();
                for step in steps {
                    match step {
                        Step::Name(n) => names.push(n.clone()),
                        Step::Index(_) | Step::Wildcard => {}
                    }
                }
                (!names.is_empty()).then(|| names.join("."))
            }
            Engine::JsonPath { .. } => None,
        }
    }

    /// The one top-level attribute the selector can reach (`$.a.b[0]` → `a`), or `None` when it
    /// may reach any (`$`, `$.*`, `$..a`, filters at the root). Evaluation parses only the
    /// attributes its policies can reach.
    pub fn root_key(&self) -> Option<&str> {
        match &self.engine {
            Engine::Simple(steps) => match steps.first() {
                Some(Step::Name(name)) => Some(name),
                _ => None,
            },
            Engine::JsonPath { query, .. } => match query.segments.first() {
                // jsonpath-rust matches the name itself; an escape could make it differ from ours.
                Some(Segment::Selector(JpSelector::Name(name))) => {
                    Some(unquoted(name)).filter(|n| !n.contains('\\'))
                }
                _ => None,
            },
        }
    }

    /// The steps of a path made only of names and wildcards (`$.a[*].b`), or `None` for any
    /// other path (indexes, filters, slices, descendants). Defaults are declared on such paths.
    pub fn name_steps(&self) -> Option<Vec<PathStep>> {
        match &self.engine {
            Engine::Simple(steps) => steps
                .iter()
                .map(|step| match step {
                    Step::Name(name) => Some(PathStep::Name(name.clone())),
                    Step::Wildcard => Some(PathStep::Each),
                    Step::Index(_) => None,
                })
                .collect(),
            Engine::JsonPath { .. } => None,
        }
    }

    /// Whether the selector is `$`: the document itself.
    pub fn is_root(&self) -> bool {
        matches!(&self.engine, Engine::Simple(steps) if steps.is_empty())
    }

    /// Runs the selector on `doc`.
    pub fn select<'v>(&self, doc: &'v Value, with_paths: bool) -> Selection<'v> {
        match &self.engine {
            Engine::Simple(steps) => {
                let mut selection = Selection::default();
                let mut path = with_paths.then(|| String::from("$"));
                walk(doc, steps, &mut path, &mut selection);
                selection
            }
            Engine::JsonPath { query, prefixes } => {
                let hits: Vec<Hit<'v>> = jsonpath_rust::query::js_path_process(query, doc)
                    .map(|refs| {
                        refs.into_iter()
                            .map(|r| Hit {
                                value: r.val,
                                path: with_paths.then_some(r.path),
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let mut selection = Selection {
                    hits,
                    hidden: false,
                    mismatch: None,
                };
                if selection.hits.is_empty() {
                    selection.hidden = prefixes.iter().any(|prefix| {
                        jsonpath_rust::query::js_path_process(prefix, doc)
                            .is_ok_and(|refs| refs.iter().any(|r| marker(r.val).is_some()))
                    });
                    if !selection.hidden {
                        selection.mismatch = prefix_mismatch(query, prefixes, doc, with_paths);
                    }
                }
                selection
            }
        }
    }
}

/// For a jsonpath-rust query that found nothing: whether the longest prefix that finds
/// something found a scalar that the next segment (a child segment: names, indexes,
/// wildcards, filters, slices) cannot look into. A descendant segment over a scalar finds
/// nothing naturally, so is no mismatch.
fn prefix_mismatch(
    query: &JpQuery,
    prefixes: &[JpQuery],
    doc: &Value,
    with_paths: bool,
) -> Option<Mismatch> {
    // `prefixes` runs longest first; the segment after a prefix of n segments is segment n.
    let segments = query.segments.len();
    for (n, prefix) in (1..segments).rev().zip(prefixes) {
        let Ok(refs) = jsonpath_rust::query::js_path_process(prefix, doc) else {
            continue;
        };
        if refs.is_empty() {
            continue;
        }
        if matches!(query.segments.get(n), Some(Segment::Descendant(_))) {
            return None;
        }
        return refs.into_iter().find_map(|r| {
            let found = match r.val {
                Value::String(_) | Value::Number(_) | Value::Bool(_) => kind_of(r.val),
                _ => return None,
            };
            Some(Mismatch {
                path: with_paths.then_some(r.path),
                wanted: "a list or an object",
                found,
            })
        });
    }
    // Only the root found something: the first segment met the document itself.
    match (query.segments.first(), doc) {
        (Some(Segment::Descendant(_)) | None, _) => None,
        (_, Value::String(_) | Value::Number(_) | Value::Bool(_)) => Some(Mismatch {
            path: with_paths.then(|| "$".to_owned()),
            wanted: "a list or an object",
            found: kind_of(doc),
        }),
        _ => None,
    }
}

fn walk<'v>(value: &'v Value, steps: &[Step], path: &mut Option<String>, out: &mut Selection<'v>) {
    let Some((step, rest)) = steps.split_first() else {
        out.hits.push(Hit {
            value,
            path: path.clone(),
        });
        return;
    };
    if marker(value).is_some() {
        out.hidden = true;
        return;
    }
    let mark = path.as_ref().map(String::len);
    let mut descend = |child: &'v Value, segment: &dyn Fn(&mut String), out: &mut Selection<'v>| {
        if let Some(p) = path.as_mut() {
            segment(p);
        }
        walk(child, rest, path, out);
        if let (Some(p), Some(len)) = (path.as_mut(), mark) {
            p.truncate(len);
        }
    };
    match (step, value) {
        (Step::Name(name), Value::Object(map)) => {
            if let Some(child) = map.get(name) {
                descend(child, &|p| push_name(p, name), out);
            }
        }
        (Step::Index(index), Value::Array(items)) => {
            let resolved = if *index < 0 {
                usize::try_from(-index)
                    .ok()
                    .and_then(|back| items.len().checked_sub(back))
            } else {
                usize::try_from(*index).ok()
            };
            if let Some(child) = resolved.and_then(|i| items.get(i)) {
                let i = resolved.unwrap_or(0);
                descend(child, &|p| p.push_str(&format!("[{i}]")), out);
            }
        }
        (Step::Wildcard, Value::Array(items)) => {
            for (i, child) in items.iter().enumerate() {
                descend(child, &|p| p.push_str(&format!("[{i}]")), out);
            }
        }
        (Step::Wildcard, Value::Object(map)) => {
            for (key, child) in map {
                descend(child, &|p| push_name(p, key), out);
            }
        }
        // Nothing there: absent, whatever the step.
        (_, Value::Null) => {}
        (step, other) => {
            if out.mismatch.is_none() {
                out.mismatch = Some(Mismatch {
                    path: path.clone(),
                    wanted: match step {
                        Step::Name(_) => "an object",
                        Step::Index(_) => "a list",
                        Step::Wildcard => "a list or an object",
                    },
                    found: kind_of(other),
                });
            }
        }
    }
}

/// Appends a name step: `.name` for plain identifiers, `['name']` otherwise.
fn push_name(path: &mut String, name: &str) {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        path.push('.');
        path.push_str(name);
        return;
    }
    path.push_str("['");
    for c in name.chars() {
        match c {
            '\'' => path.push_str("\\'"),
            '\\' => path.push_str("\\\\"),
            _ => path.push(c),
        }
    }
    path.push_str("']");
}

fn simple_steps(query: &JpQuery) -> Option<Vec<Step>> {
    query
        .segments
        .iter()
        .map(|segment| match segment {
            Segment::Selector(JpSelector::Name(name)) => Some(Step::Name(unquote(name))),
            Segment::Selector(JpSelector::Index(i)) => Some(Step::Index(*i)),
            Segment::Selector(JpSelector::Wildcard) => Some(Step::Wildcard),
            _ => None,
        })
        .collect()
}

/// jsonpath-rust keeps the quotes of bracketed names (`['a']`); the walker wants the name.
fn unquote(name: &str) -> String {
    unquoted(name).to_owned()
}

fn unquoted(name: &str) -> &str {
    let bytes = name.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(b'\''), Some(b'\'')) | (Some(b'"'), Some(b'"')) if name.len() >= 2 => {
            name.get(1..name.len() - 1).unwrap_or(name)
        }
        _ => name,
    }
}

/// pest's messages carry a multi-line drawing; keep the expectation.
fn clean_error(message: &str) -> String {
    let expected = message
        .lines()
        .map(str::trim)
        .find_map(|l| l.strip_prefix("= "))
        .unwrap_or_else(|| message.lines().next().unwrap_or(message));
    format!("invalid JSONPath: {expected}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::value;
    use serde_json::json;

    fn values<'v>(s: &Selection<'v>) -> Vec<&'v Value> {
        s.hits.iter().map(|h| h.value).collect()
    }

    #[test]
    fn simple_paths_agree_with_jsonpath_rust() {
        let doc = json!({"a": {"b": [1, {"c": 2}, {"c": 3}]}, "x y": {"z": true}, "q'": 1});
        for path in [
            "$.a.b[*].c",
            "$.a.b[0]",
            "$.a.b[-1].c",
            "$['x y'].z",
            "$.a.*",
            "$.*",
            "$.missing.c",
            "$[\"q'\"]",
        ] {
            let selector = Selector::parse(path).unwrap();
            assert!(
                matches!(selector.engine, Engine::Simple(_)),
                "{path} should be simple"
            );
            let ours = selector.select(&doc, true);
            let reference = jsonpath_rust::query::js_path(path, &doc).unwrap();
            let theirs: Vec<&Value> = reference.iter().map(|r| r.val).collect();
            assert_eq!(values(&ours), theirs, "{path}");
            let our_paths: Vec<String> = ours.hits.iter().filter_map(|h| h.path.clone()).collect();
            // jsonpath-rust writes normalized paths (`$['a']`); ours use dots for plain names.
            let their_paths: Vec<String> = reference
                .into_iter()
                .map(|r| {
                    let mut p = r.path;
                    for name in ["a", "b", "c", "z"] {
                        p = p.replace(&format!("['{name}']"), &format!(".{name}"));
                    }
                    p
                })
                .collect();
            assert_eq!(our_paths, their_paths, "{path}");
        }
    }

    #[test]
    fn paths_through_unknown_values_are_hidden_not_absent() {
        let doc = json!({"sse": value::UNKNOWN_MARKER, "list": [{"x": 1}]});
        let simple = Selector::parse("$.sse[0].rule")
            .unwrap()
            .select(&doc, false);
        assert!(simple.hits.is_empty() && simple.hidden);
        let absent = Selector::parse("$.other[0].rule")
            .unwrap()
            .select(&doc, false);
        assert!(absent.hits.is_empty() && !absent.hidden);
        let filtered = Selector::parse("$.sse[?@.a == 1]")
            .unwrap()
            .select(&doc, false);
        assert!(filtered.hits.is_empty() && filtered.hidden);
    }

    #[test]
    fn invalid_paths_are_compile_errors() {
        let error = Selector::parse("$.a[").unwrap_err();
        assert!(error.starts_with("invalid JSONPath"), "{error}");
    }
}
