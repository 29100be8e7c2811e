//! References between resources, from a plan's `configuration` section.
//!
//! Addresses in `configuration` are module-relative and carry no instance keys. A reference
//! such as `var.vpc_id` inside a module is followed to the calling module's argument, and
//! `module.net.vpc_id` to the child module's output, so that a flow log inside a module is
//! linked to the VPC at the root that it really points at.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Range;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use super::LoadError;
use super::envelope::offset_in;
use crate::model::Reference;
use crate::source::SourceFile;

#[derive(Deserialize, Default)]
struct Configuration<'a> {
    #[serde(borrow, default)]
    root_module: Option<ModuleConfig<'a>>,
}

#[derive(Deserialize, Default)]
struct ModuleConfig<'a> {
    /// Each read on its own (in parallel, and so that an error is placed in its element).
    #[serde(borrow, default)]
    resources: Vec<&'a RawValue>,
    #[serde(borrow, default)]
    module_calls: BTreeMap<String, ModuleCall<'a>>,
    #[serde(borrow, default)]
    outputs: BTreeMap<String, Output<'a>>,
}

#[derive(Deserialize)]
struct ConfigResource<'a> {
    #[serde(borrow, default)]
    address: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    mode: Option<Cow<'a, str>>,
    #[serde(borrow, default, rename = "type")]
    type_name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    expressions: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct ModuleCall<'a> {
    /// As written in the `module` block: `./modules/net`, a registry address, a Git URL, …
    #[serde(default)]
    source: Option<String>,
    #[serde(borrow, default)]
    expressions: Option<&'a RawValue>,
    #[serde(borrow, default)]
    module: Option<ModuleConfig<'a>>,
}

#[derive(Deserialize)]
struct Output<'a> {
    #[serde(borrow, default)]
    expression: Option<&'a RawValue>,
}

/// References of every configuration resource, by configuration-level address.
pub(crate) type ReferenceMap = HashMap<String, Arc<[Reference]>>;

/// What a plan's `configuration` says about its resources.
#[derive(Default)]
pub(crate) struct ConfigIndex {
    /// Resolved references, for the resource types relationship checks need.
    pub references: ReferenceMap,
    /// Where each configuration resource's `expressions` are in the file (byte range), by
    /// configuration-level address: which attributes the user set, and how.
    pub expressions: HashMap<String, Range<usize>>,
    /// The module call tree (to find the `.tf` sources of each module).
    pub modules: ModuleTree,
}

/// Reads `configuration`: references of the resources whose type is in `needed` (all when
/// `None`), and the place of every resource's expressions.
///
/// A configuration of the wrong shape is an error at its place: resilix would otherwise read
/// values known only after apply as undecided, and references as absent.
pub(crate) fn index(
    file: &Arc<SourceFile>,
    configuration: &RawValue,
    needed: Option<&BTreeSet<String>>,
) -> Result<ConfigIndex, LoadError> {
    let base = offset_in(file, configuration.get());
    let config: Configuration<'_> = serde_json::from_str(configuration.get())
        .map_err(|error| LoadError::from_json(file, base, &error))?;
    let Some(root) = config.root_module.as_ref() else {
        return Ok(ConfigIndex::default());
    };
    let mut modules: HashMap<String, &ModuleConfig<'_>> = HashMap::new();
    index_modules(root, String::new(), &mut modules, 0);
    let resolver = Resolver { modules: &modules };
    let mut out = ConfigIndex {
        modules: tree_of(root, 0),
        ..ConfigIndex::default()
    };
    let mut paths: Vec<&String> = modules.keys().collect();
    paths.sort();
    // Every resource in module order; each is read on its own (in parallel: a 100k-resource
    // plan has 100k of them), then entered in that order, so a repeated address keeps the last.
    let resources: Vec<(&str, &RawValue)> = paths
        .iter()
        .filter_map(|path| modules.get(*path).map(|module| (path.as_str(), module)))
        .flat_map(|(path, module)| module.resources.iter().map(move |r| (path, *r)))
        .collect();
    let indexed = super::convert_in_order(&resources, |(path, resource)| {
        index_resource(file, &resolver, path, resource, needed)
    })?;
    out.expressions.reserve(indexed.len());
    for (address, range, references) in indexed {
        if let Some(references) = references {
            out.references.insert(address.clone(), references);
        }
        out.expressions.insert(address, range);
    }
    Ok(out)
}

/// A configuration resource's address, the place of its expressions, and its references
/// (when its type is `needed`).
type Indexed = (String, Range<usize>, Option<Arc<[Reference]>>);

fn index_resource(
    file: &Arc<SourceFile>,
    resolver: &Resolver<'_, '_, '_>,
    path: &str,
    raw: &RawValue,
    needed: Option<&BTreeSet<String>>,
) -> Result<Indexed, LoadError> {
    let at = offset_in(file, raw.get());
    if !raw.get().starts_with('{') {
        return Err(LoadError::invalid_at(
            file,
            at,
            format!(
                "each configuration resource must be an object, found {}",
                super::json_kind(raw.get())
            ),
            "not an object",
            None,
        ));
    }
    let resource: ConfigResource<'_> =
        serde_json::from_str(raw.get()).map_err(|error| LoadError::from_json(file, at, &error))?;
    let missing = |member: &str| {
        LoadError::invalid_at(
            file,
            at,
            format!("a configuration resource has no `{member}`"),
            "this configuration resource",
            None,
        )
    };
    let type_name = resource
        .type_name
        .as_deref()
        .ok_or_else(|| missing("type"))?;
    let local = match resource.address.as_deref() {
        Some(address) => address.to_owned(),
        None => format!(
            "{}{}.{}",
            if resource.mode.as_deref() == Some("data") {
                "data."
            } else {
                ""
            },
            type_name,
            resource.name.as_deref().ok_or_else(|| missing("name"))?
        ),
    };
    let address = format!("{}{}", prefix(path), local);
    let Some(expressions) = resource.expressions else {
        return Ok((address, 0..0, None));
    };
    let start = offset_in(file, expressions.get());
    let range = start..start + expressions.get().len();
    if !expressions.get().starts_with('{') {
        return Err(LoadError::invalid_at(
            file,
            start,
            format!(
                "a configuration resource's `expressions` must be an object, found {}",
                super::json_kind(expressions.get())
            ),
            "not an object",
            None,
        ));
    }
    if needed.is_some_and(|set| !set.contains(type_name)) {
        return Ok((address, range, None));
    }
    let expressions = serde_json::from_str::<Value>(expressions.get())
        .map_err(|error| LoadError::from_json(file, start, &error))?;
    let mut leaves = Vec::new();
    collect_references(&expressions, String::new(), &mut leaves, 0);
    let mut by_attribute: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (attribute, refs) in leaves {
        let targets = resolver.resolve(path, &refs, 0);
        if !targets.is_empty() {
            by_attribute.entry(attribute).or_default().extend(targets);
        }
    }
    let references: Vec<Reference> = by_attribute
        .into_iter()
        .map(|(attribute, targets)| Reference {
            attribute,
            targets: targets.into_iter().collect(),
        })
        .collect();
    Ok((address, range, Some(references.into())))
}

/// How the configuration sets an attribute, merged over the blocks of a list.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Shape {
    /// An expression with references to other objects (its value is set, known after apply).
    Reference,
    /// A constant or an expression without references.
    Constant,
    /// A nested block (single, or a list/set of blocks merged key by key).
    Block(BTreeMap<String, Shape>),
}

impl Shape {
    /// The shape of a resource's `expressions`.
    pub(crate) fn of_expressions(expressions: &Value) -> Shape {
        Shape::of(expressions, 0)
    }

    fn of(value: &Value, depth: usize) -> Shape {
        if depth > 64 {
            return Shape::Constant;
        }
        match value {
            Value::Object(map)
                if !map.is_empty()
                    && map
                        .keys()
                        .all(|k| k == "references" || k == "constant_value") =>
            {
                let has_references = map
                    .get("references")
                    .and_then(Value::as_array)
                    .is_some_and(|r| !r.is_empty());
                if has_references {
                    Shape::Reference
                } else {
                    Shape::Constant
                }
            }
            Value::Object(map) => Shape::Block(
                map.iter()
                    .map(|(k, v)| (k.clone(), Shape::of(v, depth + 1)))
                    .collect(),
            ),
            Value::Array(items) => items
                .iter()
                .map(|item| Shape::of(item, depth + 1))
                .reduce(Shape::merge)
                .unwrap_or(Shape::Block(BTreeMap::new())),
            _ => Shape::Constant,
        }
    }

    /// Merges the shapes of two blocks of one list (a set has no stable order, so blocks are
    /// merged rather than paired by index): a reference anywhere wins.
    fn merge(self, other: Shape) -> Shape {
        match (self, other) {
            (Shape::Block(mut a), Shape::Block(b)) => {
                for (key, shape) in b {
                    let merged = match a.remove(&key) {
                        Some(existing) => existing.merge(shape),
                        None => shape,
                    };
                    a.insert(key, merged);
                }
                Shape::Block(a)
            }
            (Shape::Reference, _) | (_, Shape::Reference) => Shape::Reference,
            (block @ Shape::Block(_), Shape::Constant)
            | (Shape::Constant, block @ Shape::Block(_)) => block,
            (Shape::Constant, Shape::Constant) => Shape::Constant,
        }
    }
}

/// The module calls of a configuration, as a tree: call name → its `source` and its own calls.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ModuleTree {
    pub calls: BTreeMap<String, ModuleCallSource>,
}

/// One `module` block: where its sources are, and the modules it calls in turn.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ModuleCallSource {
    pub source: Option<String>,
    pub module: ModuleTree,
}

fn tree_of(module: &ModuleConfig<'_>, depth: usize) -> ModuleTree {
    if depth > 64 {
        return ModuleTree::default();
    }
    ModuleTree {
        calls: module
            .module_calls
            .iter()
            .map(|(name, call)| {
                let source = ModuleCallSource {
                    source: call.source.clone(),
                    module: call
                        .module
                        .as_ref()
                        .map(|m| tree_of(m, depth + 1))
                        .unwrap_or_default(),
                };
                (name.clone(), source)
            })
            .collect(),
    }
}

/// `module.a.module.b` → `module.a.module.b.`; root → empty.
fn prefix(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!("{path}.")
    }
}

fn index_modules<'c, 'a>(
    module: &'c ModuleConfig<'a>,
    path: String,
    out: &mut HashMap<String, &'c ModuleConfig<'a>>,
    depth: usize,
) {
    if depth > 64 {
        return;
    }
    for (name, call) in &module.module_calls {
        if let Some(child) = &call.module {
            let child_path = format!("{}module.{name}", prefix(&path));
            index_modules(child, child_path, out, depth + 1);
        }
    }
    out.insert(path, module);
}

/// Walks an `expressions` tree, collecting `(attribute path, references)` for every expression
/// that has references. Expressions are objects with only `references` / `constant_value` keys;
/// anything else is a nested block (object or list of objects).
fn collect_references(
    value: &Value,
    path: String,
    out: &mut Vec<(String, Vec<String>)>,
    depth: usize,
) {
    if depth > 64 {
        return;
    }
    match value {
        Value::Object(map) => {
            let is_expression = !map.is_empty()
                && map
                    .keys()
                    .all(|k| k == "references" || k == "constant_value");
            if is_expression {
                if let Some(Value::Array(refs)) = map.get("references") {
                    let refs: Vec<String> = refs
                        .iter()
                        .filter_map(|r| r.as_str().map(str::to_owned))
                        .collect();
                    if !refs.is_empty() {
                        out.push((path, refs));
                    }
                }
                return;
            }
            for (key, child) in map {
                let child_path = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                collect_references(child, child_path, out, depth + 1);
            }
        }
        Value::Array(items) => {
            for item in items {
                collect_references(item, path.clone(), out, depth + 1);
            }
        }
        _ => {}
    }
}

struct Resolver<'m, 'c, 'a> {
    modules: &'m HashMap<String, &'c ModuleConfig<'a>>,
}

impl Resolver<'_, '_, '_> {
    /// Turns references written in module `path` into configuration-level resource addresses.
    fn resolve(&self, path: &str, refs: &[String], depth: usize) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        if depth > 16 {
            return out;
        }
        for reference in refs {
            let parts = split_reference(reference);
            match parts.as_slice() {
                [first, name, ..] if first == "var" => {
                    out.extend(self.resolve_variable(path, name, depth));
                }
                [first, module, output, ..] if first == "module" => {
                    out.extend(self.resolve_output(path, module, output, depth));
                }
                [first, type_name, name, ..] if first == "data" => {
                    out.insert(format!("{}data.{type_name}.{name}", prefix(path)));
                }
                [first, ..] if is_special(first) => {}
                [type_name, name, ..] => {
                    out.insert(format!("{}{type_name}.{name}", prefix(path)));
                }
                _ => {}
            }
        }
        out
    }

    /// `var.name` inside module `path` is the caller's `name` argument.
    fn resolve_variable(&self, path: &str, name: &str, depth: usize) -> BTreeSet<String> {
        let Some((parent, call)) = split_last_module(path) else {
            return BTreeSet::new();
        };
        let Some(call) = self
            .modules
            .get(parent)
            .and_then(|m| m.module_calls.get(call))
        else {
            return BTreeSet::new();
        };
        let refs = call
            .expressions
            .and_then(|raw| serde_json::from_str::<Value>(raw.get()).ok())
            .and_then(|v| v.get(name).cloned())
            .map(|expr| {
                let mut leaves = Vec::new();
                collect_references(&expr, String::new(), &mut leaves, 0);
                leaves.into_iter().flat_map(|(_, r)| r).collect::<Vec<_>>()
            })
            .unwrap_or_default();
        self.resolve(parent, &refs, depth + 1)
    }

    /// `module.m.out` in module `path` is output `out` of child `m`.
    fn resolve_output(
        &self,
        path: &str,
        module: &str,
        output: &str,
        depth: usize,
    ) -> BTreeSet<String> {
        let child = format!("{}module.{module}", prefix(path));
        let Some(expression) = self
            .modules
            .get(child.as_str())
            .and_then(|m| m.outputs.get(output))
            .and_then(|o| o.expression)
        else {
            return BTreeSet::new();
        };
        let Ok(expression) = serde_json::from_str::<Value>(expression.get()) else {
            return BTreeSet::new();
        };
        let mut leaves = Vec::new();
        collect_references(&expression, String::new(), &mut leaves, 0);
        let refs: Vec<String> = leaves.into_iter().flat_map(|(_, r)| r).collect();
        self.resolve(&child, &refs, depth + 1)
    }
}

fn is_special(first: &str) -> bool {
    matches!(
        first,
        "local" | "each" | "count" | "path" | "self" | "terraform" | "module" | "var" | "data"
    )
}

/// `module.a.module.b` → (`module.a`, `b`).
fn split_last_module(path: &str) -> Option<(&str, &str)> {
    let (parent, last) = match path.rfind(".module.") {
        Some(at) => (path.get(..at)?, path.get(at + ".module.".len()..)?),
        None => ("", path.strip_prefix("module.")?),
    };
    Some((parent, last))
}

/// Splits a reference at dots outside brackets, dropping index parts:
/// `aws_s3_bucket.b["x"].id` → [`aws_s3_bucket`, `b`, `id`].
fn split_reference(reference: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for c in reference.chars() {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            '"' if depth > 0 => in_string = true,
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            '.' if depth == 0 => parts.push(std::mem::take(&mut current)),
            _ if depth == 0 => current.push(c),
            _ => {}
        }
    }
    parts.push(current);
    parts
}

/// Removes instance keys from a module address: `module.a[0].module.b["x"]` → `module.a.module.b`.
pub(crate) fn strip_instance_keys(address: &str) -> String {
    split_reference(address).join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_split_outside_brackets() {
        assert_eq!(
            split_reference("aws_s3_bucket.b[\"x.y\"].id"),
            vec!["aws_s3_bucket", "b", "id"]
        );
        assert_eq!(
            strip_instance_keys("module.a[0].module.b[\"k[1]\"]"),
            "module.a.module.b"
        );
    }

    #[test]
    fn variables_and_outputs_are_followed_across_modules() {
        let config = r#"{"root_module": {
            "resources": [{"address": "aws_vpc.main", "mode": "managed", "type": "aws_vpc", "name": "main",
                           "expressions": {"cidr_block": {"constant_value": "10.0.0.0/16"}}}],
            "module_calls": {"logs": {"source": "./logs",
                "expressions": {"vpc_id": {"references": ["aws_vpc.main.id", "aws_vpc.main"]}},
                "module": {"resources": [{"address": "aws_flow_log.this", "mode": "managed",
                    "type": "aws_flow_log", "name": "this",
                    "expressions": {"vpc_id": {"references": ["var.vpc_id"]},
                                    "log_destination": {"references": ["module.sink.arn"]}}}],
                  "module_calls": {"sink": {"source": "./sink", "module": {
                      "outputs": {"arn": {"expression": {"references": ["aws_s3_bucket.sink.arn", "aws_s3_bucket.sink"]}}},
                      "resources": [{"address": "aws_s3_bucket.sink", "type": "aws_s3_bucket", "name": "sink"}]}}}}}}}}"#;
        let raw: Box<RawValue> =
            serde_json::from_str(config).unwrap_or_else(|_| RawValue::NULL.to_owned());
        let file = SourceFile::new("config.json", config);
        let map = index(&file, &raw, None)
            .map(|i| i.references)
            .unwrap_or_default();
        let tree = index(&file, &raw, None)
            .map(|i| i.modules)
            .unwrap_or_default();
        let logs = tree.calls.get("logs").cloned().unwrap_or_default();
        assert_eq!(logs.source.as_deref(), Some("./logs"));
        assert_eq!(
            logs.module
                .calls
                .get("sink")
                .and_then(|s| s.source.as_deref()),
            Some("./sink")
        );
        let flow = map
            .get("module.logs.aws_flow_log.this")
            .cloned()
            .unwrap_or_else(|| Arc::from(vec![]));
        assert_eq!(
            flow.as_ref(),
            &[
                Reference {
                    attribute: "log_destination".into(),
                    targets: vec!["module.logs.module.sink.aws_s3_bucket.sink".into()]
                },
                Reference {
                    attribute: "vpc_id".into(),
                    targets: vec!["aws_vpc.main".into()]
                },
            ]
        );
    }
}
