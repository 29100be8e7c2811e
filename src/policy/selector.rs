//! JSONPath selectors, compiled once.
//!
//! Every selector is parsed with jsonpath-rust when the policy is compiled, so an invalid path
//! is a compile error with a span. Paths made only of names, indexes and wildcards (nearly all
//! policy paths) then run on a small walker of our own, which also notices where a path runs
//! into a value known only after apply; anything else (filters, slices, descendants) runs on
//! jsonpath-rust. Both sit behind [`Selector`], and a test checks they agree.
//!
//! **Budget.** The walker visits each node of a document at most once per selector: its cost is
//! linear in the document, which `--max-input-size` bounds. jsonpath-rust's is not: every
//! descendant segment (`..`) runs from every node the segments before it found, duplicates
//! included, so `$..*..*..*..*..*..*` over a 3 KB, 40-deep document finds millions of nodes and
//! gigabytes of paths. Before jsonpath-rust runs a query over a document, the nodes it would
//! visit are counted on the document ([`charge_query`], stopping at what is left): exactly for
//! names, indexes, wildcards and descendants, and for the most they could be where a slice or a
//! filter decides (every child passes; a filter's subqueries are counted from each child). One
//! [`Budget`] of [`JSONPATH_BUDGET`] nodes serves one policy on one resource; a query that
//! would exceed what is left does not run, and the pair is an error. (The query's prefixes,
//! run to tell "hidden" from "absent" when it finds nothing, cost at most as many times more as
//! it has segments, and are not counted again.)

use std::fmt;

use jsonpath_rust::parser::model::{
    Comparable, Filter, FilterAtom, FnArg, JpQuery, Segment, Selector as JpSelector, SingularQuery,
    Test, TestFunction,
};
use serde_json::Value;

use crate::model::value::marker;

/// One node a selector found.
#[derive(Debug, Clone)]
pub struct Hit<'v> {
    pub value: &'v Value,
    /// Path of the node (`$.ingress[0].cidr_blocks[1]`), built only when asked for.
    pub path: Option<String>,
}

/// Nodes JSONPath evaluation may visit for one policy on one resource (see the module
/// documentation): far above what any real policy visits, far below what exhausts memory.
pub const JSONPATH_BUDGET: u64 = 1_000_000;

/// What is left of the nodes JSONPath evaluation may visit, and what exceeded them.
#[derive(Debug, Clone)]
pub struct Budget {
    left: u64,
    /// What the budget is for, in messages.
    scope: &'static str,
    exceeded: Option<String>,
}

impl Default for Budget {
    /// The budget of one policy on one resource.
    fn default() -> Self {
        Budget::new(JSONPATH_BUDGET, "one policy on one resource")
    }
}

impl Budget {
    pub fn new(nodes: u64, scope: &'static str) -> Budget {
        Budget {
            left: nodes,
            scope,
            exceeded: None,
        }
    }

    /// Takes `nodes` from what is left; `false` (and nothing taken) when not that many are left.
    fn charge(&mut self, nodes: u64) -> bool {
        if self.exceeded.is_some() || nodes > self.left {
            return false;
        }
        self.left -= nodes;
        true
    }

    /// What exceeded the budget: `None` while it holds.
    pub fn exceeded(&self) -> Option<&str> {
        self.exceeded.as_deref()
    }

    /// Marks the budget exceeded, saying by what (the first cause is kept).
    pub fn exceed(&mut self, what: String) {
        if self.exceeded.is_none() {
            self.exceeded = Some(what);
        }
    }

    fn exceed_by(&mut self, selector: &str) {
        self.exceed(format!(
            "the JSONPath `{selector}` would visit more than {} nodes of the document (the budget of {}); not evaluated",
            thousands(JSONPATH_BUDGET),
            self.scope
        ));
    }
}

/// `1000000` → `1,000,000`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
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
    /// The selector did not run: it would have exceeded the [`Budget`] (which says so).
    pub over_budget: bool,
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
        if let Some(steps) = plain_steps(text) {
            return Ok(Selector {
                text: text.to_owned(),
                engine: Engine::Simple(steps),
            });
        }
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

    /// Runs the selector on `doc`, within what is left of `budget`.
    pub fn select<'v>(
        &self,
        doc: &'v Value,
        with_paths: bool,
        budget: &mut Budget,
    ) -> Selection<'v> {
        match &self.engine {
            Engine::Simple(steps) => {
                let mut selection = Selection::default();
                let mut path = with_paths.then(|| String::from("$"));
                walk(doc, steps, &mut path, &mut selection);
                selection
            }
            Engine::JsonPath { query, prefixes } => {
                if !charge_query(&query.segments, doc, doc, budget) {
                    budget.exceed_by(&self.text);
                    return Selection {
                        over_budget: true,
                        ..Selection::default()
                    };
                }
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
                    ..Selection::default()
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

/// Charges what `segment` visits from `nodes` (duplicates count each time, as jsonpath-rust
/// visits them): a descendant segment visits every node below each one, then applies its
/// selectors there; a selector visits the children it picks, a filter also what its
/// expression reads from each child. `false`: not that much is left.
fn charge_segment(segment: &Segment, nodes: &[&Value], root: &Value, budget: &mut Budget) -> bool {
    match segment {
        Segment::Descendant(inner) => nodes.iter().all(|node| {
            let mut stack = vec![*node];
            while let Some(value) = stack.pop() {
                if !budget.charge(1) || !charge_segment(inner, &[value], root, budget) {
                    return false;
                }
                stack.extend(children(value));
            }
            true
        }),
        Segment::Selector(selector) => nodes
            .iter()
            .all(|node| charge_selector(selector, node, root, budget)),
        Segment::Selectors(selectors) => nodes.iter().all(|node| {
            selectors
                .iter()
                .all(|selector| charge_selector(selector, node, root, budget))
        }),
    }
}

fn charge_selector(selector: &JpSelector, node: &Value, root: &Value, budget: &mut Budget) -> bool {
    match selector {
        JpSelector::Name(_) | JpSelector::Index(_) => {
            let mut found = Vec::new();
            pick(selector, node, &mut found);
            budget.charge(found.len() as u64)
        }
        JpSelector::Wildcard | JpSelector::Slice(..) => {
            budget.charge(children(node).count() as u64)
        }
        JpSelector::Filter(filter) => children(node)
            .all(|child| budget.charge(1) && charge_filter(filter, child, root, budget)),
    }
}

/// Charges the subqueries of a filter expression run on `current`.
fn charge_filter(filter: &Filter, current: &Value, root: &Value, budget: &mut Budget) -> bool {
    match filter {
        Filter::Or(parts) | Filter::And(parts) => parts
            .iter()
            .all(|part| charge_filter(part, current, root, budget)),
        Filter::Atom(FilterAtom::Filter { expr, .. }) => charge_filter(expr, current, root, budget),
        Filter::Atom(FilterAtom::Test { expr, .. }) => charge_test(expr, current, root, budget),
        Filter::Atom(FilterAtom::Comparison(comparison)) => {
            let (left, right) = comparison.vals();
            [left, right].into_iter().all(|side| match side {
                Comparable::Literal(_) => true,
                Comparable::SingularQuery(query) => budget.charge(singular_len(query)),
                Comparable::Function(function) => charge_function(function, current, root, budget),
            })
        }
    }
}

fn charge_test(test: &Test, current: &Value, root: &Value, budget: &mut Budget) -> bool {
    match test {
        Test::RelQuery(segments) => charge_query(segments, current, root, budget),
        Test::AbsQuery(query) => charge_query(&query.segments, root, root, budget),
        Test::Function(function) => charge_function(function, current, root, budget),
    }
}

fn charge_function(
    function: &TestFunction,
    current: &Value,
    root: &Value,
    budget: &mut Budget,
) -> bool {
    let args: Vec<&FnArg> = match function {
        TestFunction::Custom(_, args) => args.iter().collect(),
        TestFunction::Length(arg) => vec![&**arg],
        TestFunction::Value(arg) | TestFunction::Count(arg) => vec![arg],
        TestFunction::Search(a, b) | TestFunction::Match(a, b) => vec![a, b],
    };
    args.into_iter().all(|arg| match arg {
        FnArg::Literal(_) => true,
        FnArg::Test(test) => charge_test(test, current, root, budget),
        FnArg::Filter(filter) => charge_filter(filter, current, root, budget),
    })
}

/// Charges a query (or a filter's subquery) from `start` for the nodes it visits: each segment
/// is charged as [`charge_segment`] does, from the nodes the segments before it reach (a name
/// or an index, the child it names; a wildcard, a slice, every child; a filter, at most every
/// child). `false`: not that much is left.
fn charge_query(segments: &[Segment], start: &Value, root: &Value, budget: &mut Budget) -> bool {
    let mut nodes = vec![start];
    for segment in segments {
        if nodes.is_empty() {
            break;
        }
        if !charge_segment(segment, &nodes, root, budget) {
            return false;
        }
        let mut next = Vec::new();
        for node in &nodes {
            reach(segment, node, &mut next);
        }
        nodes = next;
    }
    true
}

/// The nodes `segment` could reach from `node` (at most: a filter passes every child).
fn reach<'v>(segment: &Segment, node: &'v Value, out: &mut Vec<&'v Value>) {
    let selectors: &[JpSelector] = match segment {
        Segment::Descendant(inner) => {
            let mut stack = vec![node];
            while let Some(value) = stack.pop() {
                reach(inner, value, out);
                stack.extend(children(value));
            }
            return;
        }
        Segment::Selector(selector) => std::slice::from_ref(selector),
        Segment::Selectors(selectors) => selectors,
    };
    for selector in selectors {
        pick(selector, node, out);
    }
}

/// The children of `node` that `selector` could pick (a slice or a filter: every child).
fn pick<'v>(selector: &JpSelector, node: &'v Value, out: &mut Vec<&'v Value>) {
    match (selector, node) {
        (JpSelector::Name(name), Value::Object(map)) => out.extend(map.get(unquoted(name))),
        (JpSelector::Index(index), Value::Array(items)) => {
            let resolved = if *index < 0 {
                usize::try_from(index.unsigned_abs())
                    .ok()
                    .and_then(|back| items.len().checked_sub(back))
            } else {
                usize::try_from(*index).ok()
            };
            out.extend(resolved.and_then(|i| items.get(i)));
        }
        (JpSelector::Wildcard | JpSelector::Slice(..) | JpSelector::Filter(_), _) => {
            out.extend(children(node));
        }
        _ => {}
    }
}

/// Segments of a singular query (`@.a.b[0]`): one node each at most.
fn singular_len(query: &SingularQuery) -> u64 {
    match query {
        SingularQuery::Current(segments) | SingularQuery::Root(segments) => segments.len() as u64,
    }
}

/// The children of a list or an object.
fn children(value: &Value) -> Box<dyn Iterator<Item = &Value> + '_> {
    match value {
        Value::Array(items) => Box::new(items.iter()),
        Value::Object(map) => Box::new(map.values()),
        _ => Box::new(std::iter::empty()),
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

/// The steps of a path written only with `.name`, `.*`, `[*]` and `[N]` after `$` (names of
/// ASCII letters, digits and `_`, not starting with a digit), read without jsonpath-rust: its
/// parser took a tenth of the start-up for the catalog's thousand paths, nearly all of this
/// form. Anything else is left to jsonpath-rust; a test checks both read these paths alike.
fn plain_steps(text: &str) -> Option<Vec<Step>> {
    let mut rest = text.strip_prefix('$')?;
    let mut steps = Vec::new();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix(".*").or_else(|| rest.strip_prefix("[*]")) {
            steps.push(Step::Wildcard);
            rest = after;
        } else if let Some(after) = rest.strip_prefix('.') {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            let name = after.get(..end)?;
            if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
                return None;
            }
            steps.push(Step::Name(name.to_owned()));
            rest = after.get(end..)?;
        } else if let Some(after) = rest.strip_prefix('[') {
            let (digits, after) = after.split_once(']')?;
            let canonical = digits == "0"
                || (!digits.is_empty()
                    && digits.len() <= 15
                    && !digits.starts_with('0')
                    && digits.bytes().all(|b| b.is_ascii_digit()));
            if !canonical {
                return None;
            }
            steps.push(Step::Index(digits.parse().ok()?));
            rest = after;
        } else {
            return None;
        }
    }
    Some(steps)
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

    /// What jsonpath-rust reads `text` as, when it is a path of the walker's steps.
    fn steps_of_jsonpath_rust(text: &str) -> Option<Vec<Step>> {
        simple_steps(&jsonpath_rust::parser::parse_json_path(text).ok()?)
    }

    #[test]
    fn plain_paths_are_read_as_jsonpath_rust_reads_them() {
        for path in [
            "$",
            "$.a",
            "$.a_b.C9[0][12].*[*]",
            "$.ingress[*].cidr_blocks[*]",
            "$._x",
            "$.length",
            "$.true",
            "$[0]",
            "$.a[7][*].b",
        ] {
            let steps = plain_steps(path);
            assert!(steps.is_some(), "{path}");
            assert_eq!(steps, steps_of_jsonpath_rust(path), "{path}");
        }
        // Left to jsonpath-rust: other spellings, and what is not a path.
        for path in [
            "", "a", "$.", "$..a", "$.9a", "$.a-b", "$['a']", "$[-1]", "$[01]", "$[ 0]", "$.a[",
            "$.a]", "$[?@.a]", "$[0:2]", "$.é", "$ .a", "$.a.",
        ] {
            assert_eq!(plain_steps(path), None, "{path}");
        }
    }

    #[test]
    fn every_plain_reading_is_jsonpath_rust_s() {
        use proptest::prelude::*;
        let tokens = prop::sample::select(vec![
            "$", ".", "[", "]", "*", "a", "_", "Z", "0", "1", "9", "-", "'", " ", "..", "?",
        ]);
        proptest!(|(parts in prop::collection::vec(tokens, 0..12))| {
            let path = format!("${}", parts.concat());
            if let Some(steps) = plain_steps(&path) {
                prop_assert_eq!(Some(steps), steps_of_jsonpath_rust(&path), "{}", path);
            }
        });
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
            let ours = selector.select(&doc, true, &mut Budget::default());
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
        let simple =
            Selector::parse("$.sse[0].rule")
                .unwrap()
                .select(&doc, false, &mut Budget::default());
        assert!(simple.hits.is_empty() && simple.hidden);
        let absent =
            Selector::parse("$.other[0].rule")
                .unwrap()
                .select(&doc, false, &mut Budget::default());
        assert!(absent.hits.is_empty() && !absent.hidden);
        let filtered = Selector::parse("$.sse[?@.a == 1]").unwrap().select(
            &doc,
            false,
            &mut Budget::default(),
        );
        assert!(filtered.hits.is_empty() && filtered.hidden);
    }

    /// A chain `{"a": {"a": … {"a": 1}}}` of `depth` objects.
    fn chain(depth: usize) -> Value {
        let mut doc = json!(1);
        for _ in 0..depth {
            doc = json!({ "a": doc });
        }
        doc
    }

    #[test]
    fn descendant_segments_are_charged_for_every_node_they_visit() {
        let doc = chain(40);
        // One `..`: each of the 41 nodes once, plus the 40 `a` found.
        let mut budget = Budget::default();
        let one = Selector::parse("$..a")
            .unwrap()
            .select(&doc, false, &mut budget);
        assert_eq!(one.hits.len(), 40);
        assert_eq!(JSONPATH_BUDGET - budget.left, 41 + 40);
        // A budget just too small for it: nothing runs, and the budget says why.
        let mut small = Budget::new(41 + 39, "a test");
        let refused = Selector::parse("$..a")
            .unwrap()
            .select(&doc, false, &mut small);
        assert!(refused.over_budget && refused.hits.is_empty());
        assert!(small.exceeded().unwrap().contains("`$..a`"));
        // Nested descendants over the same 40-deep chain: far more than the budget, refused
        // before anything is built.
        let mut budget = Budget::default();
        let nested =
            Selector::parse("$..*..*..*..*..*..*")
                .unwrap()
                .select(&doc, true, &mut budget);
        assert!(nested.over_budget);
        let why = budget.exceeded().unwrap();
        assert!(why.contains("more than 1,000,000 nodes"), "{why}");
        // Once exceeded, nothing else runs on that budget.
        let after = Selector::parse("$..a")
            .unwrap()
            .select(&doc, false, &mut budget);
        assert!(after.over_budget);
    }

    #[test]
    fn filters_are_charged_for_what_their_subqueries_read() {
        let doc = json!({"items": [{"k": "x", "v": 1}, {"k": "y", "v": 2}, {"k": "x", "v": 3}]});
        let mut budget = Budget::default();
        let found =
            Selector::parse("$.items[?@.k == 'x'].v")
                .unwrap()
                .select(&doc, false, &mut budget);
        assert_eq!(found.hits.len(), 2);
        // items (1), three candidates with one `@.k` each (3 + 3), at most three `v` (3).
        assert_eq!(JSONPATH_BUDGET - budget.left, 1 + 6 + 3);
        // A descendant inside a filter is counted from each candidate.
        let doc = json!({"list": (0..100).map(|_| chain(40)).collect::<Vec<_>>()});
        let mut small = Budget::new(100 * 40, "a test");
        let refused = Selector::parse("$.list[?@..a]")
            .unwrap()
            .select(&doc, false, &mut small);
        assert!(refused.over_budget);
    }

    #[test]
    fn invalid_paths_are_compile_errors() {
        let error = Selector::parse("$.a[").unwrap_err();
        assert!(error.starts_with("invalid JSONPath"), "{error}");
    }
}
