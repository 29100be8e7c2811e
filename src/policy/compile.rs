//! YAML tree → [`Policy`]. Reports every problem of a file at once, each with its span.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::Value;

use super::condition::{
    Comparison, Condition, EachCheck, MatchRegex, Operator, Quantifier, RelatedCheck, Transition,
    TransitionCheck, ValueCheck, ValueTest, Widening,
};
use super::selector::Selector;
use super::yaml::{self, Key, Node, NodeValue, Span};
use super::{
    Category, ControlSource, Param, Policy, PolicyError, PolicyOrigin, PolicyStatus,
    REQUIRED_FRAMEWORKS, Remediation, Scope, Severity, SourceRef, Target, TestCase,
};
use crate::model::{ChangeKind, SourceKind};
use crate::source::SourceFile;

const POLICY_KEYS: &[&str] = &[
    "id",
    "title",
    "severity",
    "category",
    "status",
    "enabled",
    "since",
    "description",
    "rationale",
    "remediation",
    "references",
    "controls",
    "derived",
    "sources",
    "params",
    "targets",
    "message",
    "tests",
];
const POLICY_REQUIRED: &[&str] = &[
    "id",
    "title",
    "severity",
    "category",
    "description",
    "rationale",
    "remediation",
    "controls",
    "targets",
    "message",
];

/// Value operators, in the order the docs list them.
pub const VALUE_OPERATORS: &[&str] = &[
    "equals",
    "not_equals",
    "in",
    "not_in",
    "exists",
    "absent",
    "truthy",
    "falsy",
    "matches",
    "contains",
    "gt",
    "gte",
    "lt",
    "lte",
    "cidr_public",
    "port_overlaps",
    "json",
];
/// Transitions: a path's values before and after the change (change control).
pub const TRANSITIONS: &[&str] = &["changed", "from", "to", "gained", "lost", "widened"];
const QUANTIFIERS: &[&str] = &["all", "any", "none"];
const COMBINATORS: &[&str] = &[
    "all",
    "any",
    "none",
    "not",
    "related",
    "action",
    "drift",
    "history",
    "authorized",
    "before",
    "after",
];

/// Compiles one policy file. `overrides` gives parameter values from the config file, by
/// policy ID.
pub fn compile_policy(
    file: &Arc<SourceFile>,
    builtin: bool,
    overrides: &BTreeMap<String, BTreeMap<String, Value>>,
) -> Result<Policy, Vec<PolicyError>> {
    let root = match yaml::parse(file.text()) {
        Ok(root) => root,
        Err(error) => {
            let mut error = PolicyError::new(file, "yaml", Some(error.span), error.message);
            error.label("invalid YAML");
            return Err(vec![error]);
        }
    };
    compile_tree(file, &root, builtin, overrides, Tests::Compile)
}

/// Whether a policy's inline `tests:` are compiled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tests {
    Compile,
    /// Not read at all (the policy's `tests` stay empty): the built-in policies, outside the
    /// commands that show or run their tests.
    Skip,
}

/// Compiles the YAML tree of one policy file (parsed from `file`, or embedded at build time).
pub fn compile_tree(
    file: &Arc<SourceFile>,
    root: &Node,
    builtin: bool,
    overrides: &BTreeMap<String, BTreeMap<String, Value>>,
    tests: Tests,
) -> Result<Policy, Vec<PolicyError>> {
    let mut cx = Compiler::new(file);
    let policy = cx.policy(root, builtin, overrides, tests);
    match policy {
        Some(policy) if cx.errors.is_empty() => Ok(policy),
        _ => Err(cx.errors),
    }
}

/// The compiler's state: the file and the errors found so far.
pub struct Compiler<'f> {
    pub file: &'f Arc<SourceFile>,
    pub errors: Vec<PolicyError>,
    scope: &'static str,
    params: BTreeMap<String, Value>,
    /// Where `$` is not the resource's own document (inside each/json/related/before/after/
    /// gained/lost): transitions compare the resource's documents and are refused there.
    nested: Vec<&'static str>,
    /// Build `matches` regexes when first used ([`MatchRegex`]): a built-in policy compiled
    /// from its embedded tree, without parameters from the configuration.
    lazy_regexes: bool,
}

impl<'f> Compiler<'f> {
    pub fn new(file: &'f Arc<SourceFile>) -> Self {
        Compiler {
            file,
            errors: Vec::new(),
            scope: "policy",
            params: BTreeMap::new(),
            nested: Vec::new(),
            lazy_regexes: false,
        }
    }

    /// A compiler for config files (errors are `config::*`).
    pub fn for_config(file: &'f Arc<SourceFile>) -> Self {
        Compiler {
            scope: "config",
            ..Compiler::new(file)
        }
    }

    pub fn error(
        &mut self,
        code: &'static str,
        span: Span,
        message: impl Into<String>,
    ) -> &mut PolicyError {
        let mut error = PolicyError::new(self.file, code, Some(span), message);
        error.scope = self.scope;
        self.errors.push(error);
        let last = self.errors.len() - 1;
        // `Vec::push_mut` would avoid the index, but it is newer than our MSRV (1.94).
        #[expect(
            clippy::indexing_slicing,
            reason = "the vector is non-empty: we just pushed"
        )]
        &mut self.errors[last]
    }

    /// Checks that `node` is a mapping with only `allowed` keys and all `required` ones.
    pub fn fields<'n>(
        &mut self,
        node: &'n Node,
        what: &str,
        allowed: &[&str],
        required: &[&str],
    ) -> Option<Fields<'n>> {
        let Some(entries) = node.as_map() else {
            self.error(
                "type",
                node.span,
                format!("{what} must be a mapping, found {}", node.type_name()),
            )
            .label("expected a mapping");
            return None;
        };
        let mut seen = BTreeSet::new();
        for (key, _) in entries {
            if !allowed.contains(&key.name.as_str()) {
                let help = suggestion(&key.name, allowed).map_or_else(
                    || format!("allowed keys: {}", allowed.join(", ")),
                    |s| format!("did you mean `{s}`?"),
                );
                self.error(
                    "unknown_key",
                    key.span,
                    format!("unknown key `{}` in {what}", key.name),
                )
                .label("unknown key")
                .help = Some(help);
            } else if !seen.insert(key.name.as_str()) {
                self.error(
                    "duplicate_key",
                    key.span,
                    format!("`{}` is given twice in {what}", key.name),
                )
                .label("again here");
            }
        }
        let missing: Vec<String> = required
            .iter()
            .filter(|k| !seen.contains(*k))
            .map(|k| format!("`{k}`"))
            .collect();
        if !missing.is_empty() {
            let span = entries.first().map_or(node.span, |(k, _)| k.span);
            let list = missing.join(", ");
            let noun = if missing.len() == 1 { "key" } else { "keys" };
            self.error("missing_key", span, format!("{what} has no {list}"))
                .label(format!("required {noun} missing in this mapping"));
        }
        Some(Fields { entries })
    }

    pub fn string(&mut self, node: &Node, what: &str) -> Option<String> {
        match &node.value {
            NodeValue::Str(s) if !s.trim().is_empty() => Some(s.clone()),
            NodeValue::Str(_) => {
                self.error("type", node.span, format!("{what} must not be empty"));
                None
            }
            _ => {
                self.error(
                    "type",
                    node.span,
                    format!("{what} must be a string, found {}", node.type_name()),
                )
                .label("expected a string");
                None
            }
        }
    }

    pub fn strings(&mut self, node: &Node, what: &str) -> Option<Vec<String>> {
        let Some(items) = node.as_seq() else {
            self.error(
                "type",
                node.span,
                format!(
                    "{what} must be a list of strings, found {}",
                    node.type_name()
                ),
            )
            .label("expected a list");
            return None;
        };
        let mut out = Vec::new();
        for item in items {
            out.push(self.string(item, &format!("each entry of {what}"))?);
        }
        Some(out)
    }

    pub fn boolean(&mut self, node: &Node, what: &str) -> Option<bool> {
        match node.value {
            NodeValue::Bool(b) => Some(b),
            _ => {
                self.error(
                    "type",
                    node.span,
                    format!("{what} must be true or false, found {}", node.type_name()),
                )
                .label("expected true or false");
                None
            }
        }
    }

    fn policy(
        &mut self,
        root: &Node,
        builtin: bool,
        overrides: &BTreeMap<String, BTreeMap<String, Value>>,
        tests: Tests,
    ) -> Option<Policy> {
        let fields = self.fields(root, "a policy", POLICY_KEYS, POLICY_REQUIRED)?;
        let id = fields.get("id").and_then(|n| self.policy_id(n));
        let title = fields.get("title").and_then(|n| self.string(n, "`title`"));
        let severity = fields.get("severity").and_then(|n| self.severity(n));
        let category = fields.get("category").and_then(|n| {
            let text = self.string(n, "`category`")?;
            let parsed = Category::parse(&text);
            if parsed.is_none() {
                let names: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
                let help = suggestion(&text, &names).map_or_else(
                    || format!("one of: {}", names.join(", ")),
                    |s| format!("did you mean `{s}`?"),
                );
                self.error("value", n.span, format!("unknown category `{text}`"))
                    .help = Some(help);
            }
            parsed
        });
        let status = match fields.get("status") {
            None => Some(PolicyStatus::Stable),
            Some(n) => match self.string(n, "`status`").as_deref() {
                Some("stable") => Some(PolicyStatus::Stable),
                Some("preview") => Some(PolicyStatus::Preview),
                Some("deprecated") => Some(PolicyStatus::Deprecated),
                Some(other) => {
                    self.error("value", n.span, format!("unknown status `{other}`"))
                        .help = Some("one of: stable, preview, deprecated".to_owned());
                    None
                }
                None => None,
            },
        };
        let enabled = match fields.get("enabled") {
            Some(n) => self.boolean(n, "`enabled`").unwrap_or(true),
            None => true,
        };
        if let Some(since) = fields.get("since") {
            self.string(since, "`since`");
        }
        let description = fields
            .get("description")
            .and_then(|n| self.string(n, "`description`"));
        let rationale = fields
            .get("rationale")
            .and_then(|n| self.string(n, "`rationale`"));
        let remediation = fields.get("remediation").and_then(|n| self.remediation(n));
        let message = fields
            .get("message")
            .and_then(|n| self.string(n, "`message`"));
        let references = match fields.get("references") {
            Some(n) => self.strings(n, "`references`").unwrap_or_default(),
            None => Vec::new(),
        };
        let controls = fields.get("controls").and_then(|n| self.controls(n));
        let derived = match fields.get("derived") {
            Some(n) => self.strings(n, "`derived`").unwrap_or_default(),
            None => Vec::new(),
        };
        if let (Some(controls), Some(node)) = (&controls, fields.get("derived")) {
            for framework in &derived {
                if !controls.contains_key(framework) {
                    self.error(
                        "value",
                        node.span,
                        format!("`derived` names `{framework}`, which `controls` does not map"),
                    );
                }
            }
        }
        let sources = match (fields.get("sources"), &controls) {
            (Some(node), Some(controls)) => self.sources(node, controls, &derived),
            _ => BTreeMap::new(),
        };
        let no_overrides = BTreeMap::new();
        let policy_overrides = id
            .as_ref()
            .and_then(|id| overrides.get(id))
            .unwrap_or(&no_overrides);
        // Overrides naming no parameter of the policy, or of another type than its default, are
        // not applied here: `Config::check` refuses them, pointing at the configuration file.
        let params = match fields.get("params") {
            Some(n) => self.params(n, policy_overrides),
            None => BTreeMap::new(),
        };
        self.lazy_regexes = builtin && tests == Tests::Skip && policy_overrides.is_empty();
        self.params = params
            .iter()
            .map(|(k, p)| (k.clone(), p.value.clone()))
            .collect();
        let targets = fields.get("targets").and_then(|n| self.targets(n));
        let tests = match (tests, fields.get("tests")) {
            (Tests::Compile, Some(n)) => self.tests(n),
            _ => Vec::new(),
        };
        // The description's account of defaults is generated from `defaults:`, so what the
        // text says is what evaluation does.
        let description = description.map(|text| {
            let sentences: Vec<String> = targets
                .iter()
                .flatten()
                .flat_map(|t| {
                    let kind = match t.kind {
                        SourceKind::Terraform => "Terraform",
                        SourceKind::AwsConfig => "AWS Config",
                    };
                    t.defaults.iter().map(move |d| d.sentence(kind))
                })
                .collect();
            if sentences.is_empty() {
                text
            } else {
                format!("{} {}\n", text.trim_end(), sentences.join(" "))
            }
        });
        Some(Policy {
            id: id?,
            title: title?,
            severity: severity?,
            category: category?,
            status: status?,
            enabled,
            description: description?,
            rationale: rationale?,
            remediation: remediation?,
            message: message?,
            references,
            controls: controls?,
            derived,
            sources,
            params,
            targets: targets?,
            tests,
            origin: PolicyOrigin {
                file: Arc::clone(self.file),
                builtin,
            },
        })
    }

    fn policy_id(&mut self, node: &Node) -> Option<String> {
        let id = self.string(node, "`id`")?;
        let valid = id.split('.').count() >= 2
            && id.split('.').all(|part| {
                !part.is_empty()
                    && part
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                    && !part.starts_with('-')
            });
        if !valid {
            self.error("id", node.span, format!("invalid policy id `{id}`"))
                .help = Some("ids are dotted lowercase names such as `aws.s3.block-public-access` or `acme.tags.owner-required`".to_owned());
            return None;
        }
        Some(id)
    }

    pub fn severity(&mut self, node: &Node) -> Option<Severity> {
        let text = self.string(node, "`severity`")?;
        let parsed = Severity::parse(&text);
        if parsed.is_none() {
            self.error("value", node.span, format!("unknown severity `{text}`"))
                .help = Some("one of: critical, high, medium, low, info".to_owned());
        }
        parsed
    }

    fn remediation(&mut self, node: &Node) -> Option<Remediation> {
        if node.as_str().is_some() {
            return Some(Remediation {
                text: self.string(node, "`remediation`")?,
                terraform: None,
            });
        }
        let fields = self.fields(node, "`remediation`", &["text", "terraform"], &["text"])?;
        let text = fields
            .get("text")
            .and_then(|n| self.string(n, "`remediation.text`"));
        let terraform = fields
            .get("terraform")
            .and_then(|n| self.string(n, "`remediation.terraform`"));
        Some(Remediation {
            text: text?,
            terraform,
        })
    }

    fn controls(&mut self, node: &Node) -> Option<BTreeMap<String, Vec<String>>> {
        let Some(entries) = node.as_map() else {
            self.error(
                "type",
                node.span,
                "`controls` must map frameworks to lists of control IDs",
            );
            return None;
        };
        let mut out = BTreeMap::new();
        for (key, value) in entries {
            let known = crate::frameworks::get(&key.name).is_some() || is_cis_framework(&key.name);
            if !known {
                let mut names: Vec<&str> = crate::frameworks::all().iter().map(|f| f.id).collect();
                names.push("cis-aws-3.0");
                let help = suggestion(&key.name, &names).map_or_else(
                    || {
                        "frameworks: nist-800-53-r5, iso-17799-2005, cobit-4.1, aws-fsbp, cis-aws-<version>"
                            .to_owned()
                    },
                    |s| format!("did you mean `{s}`?"),
                );
                self.error(
                    "control",
                    key.span,
                    format!("unknown framework `{}`", key.name),
                )
                .help = Some(help);
                continue;
            }
            if is_cis_framework(&key.name)
                && let Some(number) = value.as_seq().and_then(|items| {
                    items
                        .iter()
                        .find(|n| matches!(n.value, NodeValue::Int(_) | NodeValue::Float(_)))
                })
            {
                self.error(
                    "control",
                    number.span,
                    "a CIS recommendation number must be quoted",
                )
                .help = Some(
                    "write \"3.10\", not 3.10: unquoted, YAML reads it as the number 3.1"
                        .to_owned(),
                );
                continue;
            }
            let Some(ids) = self.strings(value, &format!("`controls.{}`", key.name)) else {
                continue;
            };
            if ids.is_empty() {
                self.error(
                    "control",
                    value.span,
                    format!("`controls.{}` is empty", key.name),
                );
                continue;
            }
            for (id, item) in ids.iter().zip(value.as_seq().unwrap_or_default()) {
                if let Err(message) = crate::frameworks::check_control(&key.name, id) {
                    self.error("control", item.span, message)
                        .label("not a control of this framework");
                }
            }
            out.insert(key.name.clone(), ids);
        }
        for framework in REQUIRED_FRAMEWORKS {
            if !out.contains_key(framework) && !self.errors.iter().any(|e| e.code == "control") {
                self.error(
                    "control",
                    node.span,
                    format!("`controls` has no `{framework}` mapping"),
                )
                .help = Some(
                    "every policy maps to nist-800-53-r5, iso-17799-2005 and cobit-4.1".to_owned(),
                );
            }
        }
        Some(out)
    }

    /// `sources:` — framework → the published mapping its list copies. The list must be the
    /// published one, less `exclude`, plus `add`; anything else is an error naming the IDs.
    fn sources(
        &mut self,
        node: &Node,
        controls: &BTreeMap<String, Vec<String>>,
        derived: &[String],
    ) -> BTreeMap<String, ControlSource> {
        let mut out = BTreeMap::new();
        let Some(entries) = node.as_map() else {
            self.error(
                "type",
                node.span,
                "`sources` must map frameworks to the published mapping their list copies",
            );
            return out;
        };
        for (key, value) in entries {
            let framework = key.name.as_str();
            let Some(ids) = controls.get(framework) else {
                self.error(
                    "control",
                    key.span,
                    format!("`sources` names `{framework}`, which `controls` does not map"),
                );
                continue;
            };
            if derived.iter().any(|d| d == framework) {
                self.error(
                    "control",
                    key.span,
                    format!("`{framework}` is marked `derived` and also has a source"),
                )
                .help = Some(
                    "a framework's picks are either your judgement (`derived`) or copied from a \
                     published mapping (`sources`), not both"
                        .to_owned(),
                );
                continue;
            }
            if let Some(source) = self.source(framework, value) {
                self.check_source(framework, key.span, ids, &source);
                out.insert(framework.to_owned(), source);
            }
        }
        out
    }

    fn source(&mut self, framework: &str, node: &Node) -> Option<ControlSource> {
        let base = format!("sources.{framework}");
        let what = format!("`{base}`");
        let fields = self.fields(
            node,
            &what,
            &["security-hub", "config-rule", "published", "exclude", "add"],
            &["published"],
        )?;
        let from = match (fields.get("security-hub"), fields.get("config-rule")) {
            (Some(n), None) => {
                let id = self
                    .string(n, &format!("`{base}.security-hub`"))
                    .unwrap_or_default();
                let valid = id.split_once('.').is_some_and(|(service, number)| {
                    !service.is_empty()
                        && service.chars().all(|c| c.is_ascii_alphanumeric())
                        && !number.is_empty()
                        && number.chars().all(|c| c.is_ascii_digit())
                });
                if !valid {
                    self.error(
                        "control",
                        n.span,
                        format!("`{id}` is not a Security Hub control ID"),
                    )
                    .help = Some("Security Hub control IDs look like `Redshift.10`".to_owned());
                }
                valid.then_some(SourceRef::SecurityHub(id))
            }
            (None, Some(n)) => {
                let rule = self
                    .string(n, &format!("`{base}.config-rule`"))
                    .unwrap_or_default();
                let valid = rule.split('-').all(|part| {
                    !part.is_empty()
                        && part
                            .chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                });
                if !valid {
                    self.error(
                        "control",
                        n.span,
                        format!("`{rule}` is not an AWS Config managed rule name"),
                    )
                    .help = Some(
                        "managed rule names look like `dynamodb-table-encrypted-kms`".to_owned(),
                    );
                }
                valid.then_some(SourceRef::ConfigRule(rule))
            }
            (Some(_), Some(n)) => {
                self.error(
                    "control",
                    n.span,
                    format!("{what} names both a Security Hub control and a Config rule"),
                )
                .help = Some("a list is copied from one published mapping".to_owned());
                None
            }
            (None, None) => {
                self.error(
                    "missing_key",
                    node.span,
                    format!("{what} names no source: add `security-hub` or `config-rule`"),
                );
                None
            }
        };
        let published_node = fields.get("published");
        let published = published_node
            .and_then(|n| self.control_ids(framework, n, &format!("`{base}.published`")));
        // What the list says, valid or not, so that `exclude`/`add` are checked against it too.
        let listed: Vec<String> = published_node
            .and_then(Node::as_seq)
            .unwrap_or_default()
            .iter()
            .filter_map(|n| n.as_str().map(str::to_owned))
            .collect();
        let exclude = match fields.get("exclude") {
            Some(n) => self.reasons(framework, n, &format!("`{base}.exclude`"), &listed, true),
            None => Some(BTreeMap::new()),
        };
        let add = match fields.get("add") {
            Some(n) => self.reasons(framework, n, &format!("`{base}.add`"), &listed, false),
            None => Some(BTreeMap::new()),
        };
        let (from, published, exclude, add) = (from?, published?, exclude?, add?);
        Some(ControlSource {
            from,
            published,
            exclude,
            add,
        })
    }

    /// A list of current control IDs of `framework`, each checked, none twice.
    fn control_ids(&mut self, framework: &str, node: &Node, what: &str) -> Option<Vec<String>> {
        let ids = self.strings(node, what)?;
        let mut seen = BTreeSet::new();
        let mut ok = true;
        for (id, item) in ids.iter().zip(node.as_seq().unwrap_or_default()) {
            if let Err(message) = crate::frameworks::check_control(framework, id) {
                self.error("control", item.span, message)
                    .label("not a control of this framework");
                ok = false;
            } else if !seen.insert(id.as_str()) {
                self.error(
                    "control",
                    item.span,
                    format!("`{id}` is listed twice in {what}"),
                );
                ok = false;
            }
        }
        ok.then_some(ids)
    }

    /// `exclude:`/`add:` — control ID → the reason; an excluded ID must be in the published
    /// list, an added one must not.
    fn reasons(
        &mut self,
        framework: &str,
        node: &Node,
        what: &str,
        published: &[String],
        excluding: bool,
    ) -> Option<BTreeMap<String, String>> {
        let Some(entries) = node.as_map() else {
            self.error(
                "type",
                node.span,
                format!(
                    "{what} must map control IDs to the reason, found {}",
                    node.type_name()
                ),
            )
            .label("expected `ID: reason`");
            return None;
        };
        let mut out = BTreeMap::new();
        let mut ok = true;
        for (key, value) in entries {
            let id = key.name.as_str();
            if let Err(message) = crate::frameworks::check_control(framework, id) {
                self.error("control", key.span, message)
                    .label("not a control of this framework");
                ok = false;
                continue;
            }
            let listed = published.iter().any(|p| p == id);
            if excluding && !listed {
                self.error(
                    "control",
                    key.span,
                    format!("{what} names `{id}`, which the published list does not have"),
                );
                ok = false;
                continue;
            }
            if !excluding && listed {
                self.error(
                    "control",
                    key.span,
                    format!("{what} names `{id}`, which the published list already has"),
                );
                ok = false;
                continue;
            }
            let Some(reason) = self.string(value, &format!("the reason for `{id}` in {what}"))
            else {
                ok = false;
                continue;
            };
            if out.insert(id.to_owned(), reason).is_some() {
                self.error(
                    "duplicate_key",
                    key.span,
                    format!("`{id}` is given twice in {what}"),
                );
                ok = false;
            }
        }
        ok.then_some(out)
    }

    /// The policy's list must be the published one, less `exclude`, plus `add`.
    fn check_source(
        &mut self,
        framework: &str,
        span: Span,
        ids: &[String],
        source: &ControlSource,
    ) {
        let expected = source.expected();
        let actual: BTreeSet<&str> = ids.iter().map(String::as_str).collect();
        if expected == actual {
            return;
        }
        let missing: Vec<&str> = expected.difference(&actual).copied().collect();
        let extra: Vec<&str> = actual.difference(&expected).copied().collect();
        let mut parts = Vec::new();
        if !missing.is_empty() {
            parts.push(format!("lacks {}", missing.join(", ")));
        }
        if !extra.is_empty() {
            parts.push(format!("has {} beyond it", extra.join(", ")));
        }
        self.error(
            "control",
            span,
            format!(
                "`controls.{framework}` differs from its source, {}: it {}",
                source.from,
                parts.join(" and ")
            ),
        )
        .label("the recorded source")
        .help = Some(
            "copy the published list, or record each difference under `exclude` or `add` with \
             its reason; if the list is your judgement, mark the framework `derived` instead"
                .to_owned(),
        );
    }

    fn params(
        &mut self,
        node: &Node,
        overrides: &BTreeMap<String, Value>,
    ) -> BTreeMap<String, Param> {
        let mut out = BTreeMap::new();
        let Some(entries) = node.as_map() else {
            self.error(
                "type",
                node.span,
                "`params` must map parameter names to {description, default}",
            );
            return out;
        };
        for (key, value) in entries {
            let Some(fields) = self.fields(
                value,
                &format!("parameter `{}`", key.name),
                &["description", "default"],
                &["description", "default"],
            ) else {
                continue;
            };
            let description = fields
                .get("description")
                .and_then(|n| self.string(n, "`description`"));
            let default = fields.get("default").map(Node::to_json);
            if let (Some(description), Some(default)) = (description, default) {
                let value = match overrides.get(&key.name) {
                    Some(v) if same_json_type(v, &default) => v.clone(),
                    _ => default.clone(),
                };
                out.insert(
                    key.name.clone(),
                    Param {
                        description,
                        default,
                        value,
                    },
                );
            }
        }
        out
    }

    fn targets(&mut self, node: &Node) -> Option<Vec<Target>> {
        let Some(entries) = node.as_map() else {
            self.error(
                "type",
                node.span,
                "`targets` must map input kinds (terraform, aws-config) to checks",
            );
            return None;
        };
        if entries.is_empty() {
            self.error("missing_key", node.span, "`targets` is empty");
        }
        let mut out = Vec::new();
        for (key, value) in entries {
            let Some(kind) = SourceKind::parse(&key.name) else {
                let help = suggestion(&key.name, &["terraform", "aws-config"]).map_or_else(
                    || "input kinds: terraform, aws-config".to_owned(),
                    |s| format!("did you mean `{s}`?"),
                );
                self.error(
                    "target",
                    key.span,
                    format!("unknown input kind `{}`", key.name),
                )
                .help = Some(help);
                continue;
            };
            // One target, or a list of targets with different checks for different types
            // (a security group's inline rules and a separate rule resource, say).
            let nodes: Vec<&Node> = match value.as_seq() {
                Some(items) => items.iter().collect(),
                None => vec![value],
            };
            if nodes.is_empty() {
                self.error(
                    "target",
                    value.span,
                    format!("the `{kind}` target list is empty"),
                );
            }
            let start = out.len();
            for node in nodes {
                if let Some(target) = self.target(kind, node) {
                    out.push(target);
                }
            }
            let mut seen = BTreeSet::new();
            for target in out.get(start..).unwrap_or_default() {
                for type_name in &target.types {
                    if !seen.insert(type_name.clone()) {
                        self.error(
                            "target",
                            value.span,
                            format!("`{type_name}` is targeted twice under `{kind}`"),
                        )
                        .help = Some("each resource type has one check per input kind".to_owned());
                    }
                }
            }
        }
        Some(out)
    }

    fn target(&mut self, kind: SourceKind, node: &Node) -> Option<Target> {
        let what = format!("the `{kind}` target");
        let fields = self.fields(
            node,
            &what,
            &["types", "scope", "when", "assert", "defaults"],
            &["types", "assert"],
        )?;
        let types = fields
            .get("types")
            .and_then(|n| self.resource_types(kind, n));
        let scope = match fields.get("scope") {
            None => Some(Scope::Resources),
            Some(n) => match self.string(n, "`scope`").as_deref() {
                Some("resources") => Some(Scope::Resources),
                Some("changes") => Some(Scope::Changes),
                Some(other) => {
                    self.error("value", n.span, format!("unknown scope `{other}`"))
                        .help = Some("`resources` (the default: objects as they are after the change) or `changes` (every change, deletions and drift included)".to_owned());
                    None
                }
                None => None,
            },
        };
        // Compile `assert` even when `when` has errors: every problem is reported at once.
        let when = fields.get("when").map(|n| self.condition(n));
        let assert = fields.get("assert").and_then(|n| self.condition(n));
        let when = match when {
            Some(compiled) => Some(compiled?),
            None => None,
        };
        let defaults = match fields.get("defaults") {
            Some(n) => self.defaults(kind, n, assert.as_ref(), when.as_ref()),
            None => Some(Vec::new()),
        };
        Some(Target {
            kind,
            scope: scope?,
            types: types?,
            when,
            assert: assert?,
            defaults: defaults?,
        })
    }

    pub(crate) fn resource_types(&mut self, kind: SourceKind, node: &Node) -> Option<Vec<String>> {
        let types = self.strings(node, "`types`")?;
        if types.is_empty() {
            self.error("target", node.span, "`types` is empty");
        }
        for (name, item) in types.iter().zip(node.as_seq().unwrap_or_default()) {
            // `*` stands for any run of characters (`aws_*`, `AWS::RDS::*`).
            let ok = match kind {
                SourceKind::Terraform => name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '*'),
                SourceKind::AwsConfig => {
                    let parts: Vec<&str> = name.split("::").collect();
                    (parts.len() == 3 && parts.first() == Some(&"AWS")) || name == "*"
                }
            };
            if !ok {
                let example = match kind {
                    SourceKind::Terraform => "aws_s3_bucket",
                    SourceKind::AwsConfig => "AWS::S3::Bucket",
                };
                let kind_name = match kind {
                    SourceKind::Terraform => "a Terraform",
                    SourceKind::AwsConfig => "an AWS Config",
                };
                self.error(
                    "target",
                    item.span,
                    format!("`{name}` is not {kind_name} resource type"),
                )
                .help = Some(format!(
                    "`{kind}` targets name resource types like `{example}`"
                ));
            }
        }
        Some(types)
    }

    /// Compiles a condition: a combinator, a related check, or a path with one operator.
    pub fn condition(&mut self, node: &Node) -> Option<Condition> {
        if let Some(items) = node.as_seq() {
            return self.condition_list(node, items).map(Condition::All);
        }
        let Some(entries) = node.as_map() else {
            self.error(
                "condition",
                node.span,
                format!("expected a condition, found {}", node.type_name()),
            )
            .help = Some(CONDITION_HELP.to_owned());
            return None;
        };
        if node.get("path").is_some() {
            return self.path_condition(node, entries);
        }
        let present: Vec<&(Key, Node)> = entries
            .iter()
            .filter(|(k, _)| COMBINATORS.contains(&k.name.as_str()))
            .collect();
        for (key, _) in entries {
            if !COMBINATORS.contains(&key.name.as_str()) {
                let mut names: Vec<&str> = COMBINATORS.to_vec();
                names.push("path");
                let help = if VALUE_OPERATORS.contains(&key.name.as_str()) {
                    format!("`{}` is an operator: it needs a `path` beside it", key.name)
                } else {
                    suggestion(&key.name, &names).map_or_else(
                        || CONDITION_HELP.to_owned(),
                        |s| format!("did you mean `{s}`?"),
                    )
                };
                self.error(
                    "condition",
                    key.span,
                    format!("unknown key `{}` in a condition", key.name),
                )
                .help = Some(help);
            }
        }
        match present.as_slice() {
            [] => {
                if !entries.is_empty() && self.errors.iter().any(|e| e.code == "condition") {
                    return None;
                }
                self.error("condition", node.span, "this condition is empty")
                    .help = Some(CONDITION_HELP.to_owned());
                None
            }
            [(key, value)] => match key.name.as_str() {
                "not" => Some(Condition::Not(Box::new(self.condition(value)?))),
                "related" => {
                    self.nested.push("`related:`");
                    let related = self.related(value);
                    self.nested.pop();
                    related.map(Condition::Related)
                }
                "action" => self.actions(value).map(Condition::Action),
                "drift" => self.boolean(value, "`drift`").map(Condition::Drift),
                "history" => self.boolean(value, "`history`").map(Condition::History),
                "authorized" => self
                    .boolean(value, "`authorized`")
                    .map(Condition::Authorized),
                "before" | "after" => {
                    self.nested.push(if key.name == "before" {
                        "`before:`"
                    } else {
                        "`after:`"
                    });
                    let inner = self.condition(value);
                    self.nested.pop();
                    let inner = Box::new(inner?);
                    Some(if key.name == "before" {
                        Condition::Before(inner)
                    } else {
                        Condition::After(inner)
                    })
                }
                name => {
                    let items = match value.as_seq() {
                        Some(items) => self.condition_list(value, items)?,
                        None => vec![self.condition(value)?],
                    };
                    Some(match name {
                        "any" => Condition::Any(items),
                        "none" => Condition::None(items),
                        _ => Condition::All(items),
                    })
                }
            },
            [_, (second, _), ..] => {
                self.error(
                    "condition",
                    second.span,
                    "a condition has one combinator; nest them instead",
                )
                .help = Some("write `all: [ {any: [...]}, {not: ...} ]` to combine".to_owned());
                None
            }
        }
    }

    fn condition_list(&mut self, node: &Node, items: &[Node]) -> Option<Vec<Condition>> {
        if items.is_empty() {
            self.error("condition", node.span, "an empty list of conditions");
            return None;
        }
        let mut out = Vec::new();
        let mut ok = true;
        for item in items {
            match self.condition(item) {
                Some(c) => out.push(c),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    pub(crate) fn selector(&mut self, node: &Node) -> Option<Selector> {
        let text = self.string(node, "`path`")?;
        if !text.starts_with('$') {
            self.error(
                "jsonpath",
                node.span,
                format!("`{text}` is not a JSONPath: it must start with `$`"),
            )
            .help = Some(format!("write `$.{text}`"));
            return None;
        }
        match Selector::parse(&text) {
            Ok(selector) => Some(selector),
            Err(message) => {
                self.error("jsonpath", node.span, message)
                    .label("invalid JSONPath");
                None
            }
        }
    }

    fn path_condition(&mut self, node: &Node, entries: &[(Key, Node)]) -> Option<Condition> {
        let path = node.get("path").and_then(|n| self.selector(n));
        let mut operators = Vec::new();
        let mut transitions: Vec<(&Key, &Node)> = Vec::new();
        let mut match_node = None;
        let mut had_unknown = false;
        for (key, value) in entries {
            match key.name.as_str() {
                "path" => {}
                "match" => match_node = Some(value),
                name if VALUE_OPERATORS.contains(&name) || QUANTIFIERS.contains(&name) => {
                    operators.push((key, value));
                }
                name if TRANSITIONS.contains(&name) => transitions.push((key, value)),
                name => {
                    had_unknown = true;
                    let mut names: Vec<&str> = VALUE_OPERATORS.to_vec();
                    names.extend(QUANTIFIERS);
                    names.extend(TRANSITIONS);
                    names.push("match");
                    let help = suggestion(name, &names).map_or_else(
                        || {
                            format!(
                                "operators: {}; or all/any/none with a nested condition",
                                VALUE_OPERATORS.join(", ")
                            )
                        },
                        |s| format!("did you mean `{s}`?"),
                    );
                    self.error("operator", key.span, format!("unknown operator `{name}`"))
                        .help = Some(help);
                }
            }
        }
        if let Some((first, _)) = transitions.first() {
            if let Some((op, _)) = operators.first() {
                self.error(
                    "operator",
                    op.span,
                    format!(
                        "`{}` cannot stand beside the transition `{}`",
                        op.name, first.name
                    ),
                )
                .help = Some(
                    "a transition compares the path before and after the change; put value operators inside `from:` / `to:`".to_owned(),
                );
                return None;
            }
            if let Some(m) = match_node {
                self.error(
                    "operator",
                    m.span,
                    "`match` goes inside `from:` / `to:`, beside their operator",
                );
            }
            return self.transition(path, &transitions);
        }
        let (key, operand) = match operators.as_slice() {
            [one] => *one,
            [] if had_unknown => return None,
            [] => {
                self.error("operator", node.span, "this path has no operator")
                    .help = Some(format!("add one of: {}", VALUE_OPERATORS.join(", ")));
                return None;
            }
            [_, (second, _), ..] => {
                self.error("operator", second.span, "a path takes exactly one operator")
                    .help = Some("combine checks with `all:` / `any:`".to_owned());
                return None;
            }
        };
        let span = key.span;
        if QUANTIFIERS.contains(&key.name.as_str()) {
            if let Some(m) = match_node {
                self.error(
                    "operator",
                    m.span,
                    "`match` goes with value operators, not with a nested condition",
                );
            }
            let quantifier = quantifier(&key.name);
            self.nested.push("a nested condition over each node");
            let condition = match operand.as_seq() {
                Some(items) => self.condition_list(operand, items).map(Condition::All),
                None => self.condition(operand),
            };
            self.nested.pop();
            let condition = condition?;
            return Some(Condition::Each(EachCheck {
                path: path?,
                quantifier,
                condition: Box::new(condition),
                span,
            }));
        }
        let quantifier = match match_node {
            None => Quantifier::All,
            Some(m) => match m.as_str() {
                Some(q @ ("all" | "any" | "none")) => quantifier(q),
                _ => {
                    self.error("value", m.span, "`match` is one of: all, any, none");
                    Quantifier::All
                }
            },
        };
        let operator = self.operator(&key.name, operand);
        Some(Condition::Value(ValueCheck {
            path: path?,
            operator: operator?,
            quantifier,
            span,
        }))
    }

    /// Resolves `{param: name}` to the parameter's value.
    fn operand(&mut self, node: &Node) -> Option<Value> {
        if let Some(param) = node.get("param")
            && node.as_map().is_some_and(|m| m.len() == 1)
        {
            let name = self.string(param, "`param`")?;
            return match self.params.get(&name) {
                Some(value) => Some(value.clone()),
                None => {
                    let names: Vec<&str> = self.params.keys().map(String::as_str).collect();
                    let help = suggestion(&name, &names).map_or_else(
                        || "declare it under `params:` with a description and a default".to_owned(),
                        |s| format!("did you mean `{s}`?"),
                    );
                    self.error("param", param.span, format!("unknown parameter `{name}`"))
                        .help = Some(help);
                    None
                }
            };
        }
        Some(node.to_json())
    }

    fn operator(&mut self, name: &str, node: &Node) -> Option<Operator> {
        let what = format!("the operand of `{name}`");
        let bool_of = |cx: &mut Self, node: &Node| -> Option<bool> {
            match cx.operand(node)? {
                Value::Bool(b) => Some(b),
                other => {
                    cx.error(
                        "type",
                        node.span,
                        format!("{what} must be true or false, found {}", json_type(&other)),
                    )
                    .label("expected true or false");
                    None
                }
            }
        };
        Some(match name {
            "equals" => Operator::Equals(self.operand(node)?),
            "not_equals" => Operator::NotEquals(self.operand(node)?),
            "contains" => Operator::Contains(self.operand(node)?),
            "in" | "not_in" => match self.operand(node)? {
                Value::Array(items) => {
                    if name == "in" {
                        Operator::In(items)
                    } else {
                        Operator::NotIn(items)
                    }
                }
                other => {
                    self.error(
                        "type",
                        node.span,
                        format!("{what} must be a list, found {}", json_type(&other)),
                    )
                    .label("expected a list");
                    return None;
                }
            },
            "exists" => Operator::Exists(bool_of(self, node)?),
            "absent" => Operator::Exists(!bool_of(self, node)?),
            "truthy" => Operator::Truthy(bool_of(self, node)?),
            "falsy" => Operator::Truthy(!bool_of(self, node)?),
            "cidr_public" => Operator::CidrPublic(bool_of(self, node)?),
            "matches" => {
                let Value::String(pattern) = self.operand(node)? else {
                    self.error(
                        "type",
                        node.span,
                        format!("{what} must be a regular expression string"),
                    );
                    return None;
                };
                if self.lazy_regexes {
                    return Some(Operator::Matches(MatchRegex::lazy(pattern)));
                }
                match MatchRegex::build(pattern) {
                    Ok(regex) => Operator::Matches(regex),
                    Err(error) => {
                        let message = error.to_string();
                        let detail = message.lines().last().unwrap_or(&message).trim().to_owned();
                        self.error("regex", node.span, format!("invalid regular expression: {detail}"))
                            .label("invalid regex")
                            .help = Some("regular expressions use the syntax of the Rust regex crate (no look-around or backreferences; always linear time)".to_owned());
                        return None;
                    }
                }
            }
            "gt" | "gte" | "lt" | "lte" => {
                let value = self.operand(node)?;
                let Some(number) = value.as_f64() else {
                    self.error(
                        "type",
                        node.span,
                        format!("{what} must be a number, found {}", json_type(&value)),
                    )
                    .label("expected a number");
                    return None;
                };
                let comparison = match name {
                    "gt" => Comparison::Gt,
                    "gte" => Comparison::Gte,
                    "lt" => Comparison::Lt,
                    _ => Comparison::Lte,
                };
                Operator::Compare(comparison, number)
            }
            "port_overlaps" => {
                let value = self.operand(node)?;
                let items = match &value {
                    Value::Array(items) => items.clone(),
                    other => vec![other.clone()],
                };
                let mut ranges = Vec::new();
                for item in &items {
                    match parse_port_range(item) {
                        Some(range) => ranges.push(range),
                        None => {
                            self.error(
                                "type",
                                node.span,
                                format!(
                                    "{what}: `{item}` is not a port (0-65535) or range (\"20-25\")"
                                ),
                            );
                            return None;
                        }
                    }
                }
                if ranges.is_empty() {
                    self.error("type", node.span, format!("{what} names no port"));
                    return None;
                }
                Operator::PortOverlaps(ranges)
            }
            "json" => {
                self.nested.push("`json:`");
                let condition = match node.as_seq() {
                    Some(items) => self.condition_list(node, items).map(Condition::All),
                    None => self.condition(node),
                };
                self.nested.pop();
                Operator::Json(Box::new(condition?))
            }
            _ => return None,
        })
    }

    /// `action: delete` or `action: [delete, replace]`.
    fn actions(&mut self, node: &Node) -> Option<Vec<ChangeKind>> {
        let items: Vec<&Node> = match node.as_seq() {
            Some(items) => items.iter().collect(),
            None => vec![node],
        };
        if items.is_empty() {
            self.error("value", node.span, "`action` lists no kind of change");
            return None;
        }
        let names: Vec<&str> = ChangeKind::ALL.iter().map(|k| k.as_str()).collect();
        let mut out = Vec::new();
        let mut ok = true;
        for item in items {
            let Some(text) = self.string(item, "`action`") else {
                ok = false;
                continue;
            };
            match ChangeKind::parse(&text) {
                Some(kind) => out.push(kind),
                None => {
                    ok = false;
                    let help = suggestion(&text, &names).map_or_else(
                        || format!("one of: {}", names.join(", ")),
                        |s| format!("did you mean `{s}`?"),
                    );
                    self.error("value", item.span, format!("unknown action `{text}`"))
                        .help = Some(help);
                }
            }
        }
        ok.then_some(out)
    }

    /// `path` with `changed`, `from`/`to`, `gained`, `lost` or `widened`.
    fn transition(
        &mut self,
        path: Option<Selector>,
        entries: &[(&Key, &Node)],
    ) -> Option<Condition> {
        let (first, _) = *entries.first()?;
        let span = first.span;
        if let Some(place) = self.nested.last() {
            self.error(
                "transition",
                span,
                format!("`{}` cannot be used inside {place}", first.name),
            )
            .help = Some("a transition compares the resource's own documents before and after the change; write it at the top level of `assert`/`when` (or of all/any/none/not)".to_owned());
            return None;
        }
        let from_to = entries
            .iter()
            .all(|(k, _)| k.name == "from" || k.name == "to");
        if entries.len() > 1 && !from_to {
            let (second, _) = entries.get(1).copied()?;
            self.error(
                "transition",
                second.span,
                "a path takes one transition (only `from` and `to` go together)",
            );
            return None;
        }
        let transition = if from_to {
            let mut from = None;
            let mut to = None;
            for (key, value) in entries {
                let test = self.value_test(&key.name, value)?;
                if key.name == "from" {
                    from = Some(test);
                } else {
                    to = Some(test);
                }
            }
            Transition::FromTo { from, to }
        } else {
            let value = entries.first().map(|(_, v)| *v)?;
            match first.name.as_str() {
                "changed" => Transition::Changed(self.boolean(value, "`changed`")?),
                "gained" | "lost" => {
                    self.nested.push(if first.name == "gained" {
                        "gained"
                    } else {
                        "lost"
                    });
                    let condition = match value.as_seq() {
                        Some(items) => self.condition_list(value, items).map(Condition::All),
                        None => self.condition(value),
                    };
                    self.nested.pop();
                    let condition = Box::new(condition?);
                    if first.name == "gained" {
                        Transition::Gained(condition)
                    } else {
                        Transition::Lost(condition)
                    }
                }
                _ => {
                    let text = self.string(value, "`widened`")?;
                    let names: Vec<&str> = Widening::ALL.iter().map(|w| w.as_str()).collect();
                    match Widening::parse(&text) {
                        Some(w) => Transition::Widened(w),
                        None => {
                            let help = suggestion(&text, &names).map_or_else(
                                || format!("one of: {}", names.join(", ")),
                                |s| format!("did you mean `{s}`?"),
                            );
                            self.error(
                                "value",
                                value.span,
                                format!("`widened` does not compare `{text}`"),
                            )
                            .help = Some(help);
                            return None;
                        }
                    }
                }
            }
        };
        Some(Condition::Transition(TransitionCheck {
            path: path?,
            transition,
            span,
        }))
    }

    /// The operand of `from:` / `to:`: one value operator, with an optional `match`.
    fn value_test(&mut self, what: &str, node: &Node) -> Option<ValueTest> {
        let Some(entries) = node.as_map() else {
            self.error(
                "transition",
                node.span,
                format!("`{what}` takes a value operator, such as `{{truthy: true}}`"),
            );
            return None;
        };
        let mut operator = None;
        let mut quantifier = Quantifier::All;
        for (key, value) in entries {
            match key.name.as_str() {
                "match" => match value.as_str() {
                    Some(q @ ("all" | "any" | "none")) => quantifier = self::quantifier(q),
                    _ => {
                        self.error("value", value.span, "`match` is one of: all, any, none");
                    }
                },
                "json" => {
                    self.error(
                        "transition",
                        key.span,
                        format!("`json` cannot be used inside `{what}`"),
                    );
                }
                name if VALUE_OPERATORS.contains(&name) => {
                    if operator.is_some() {
                        self.error(
                            "operator",
                            key.span,
                            format!("`{what}` takes exactly one operator"),
                        );
                        return None;
                    }
                    operator = Some(self.operator(name, value)?);
                }
                name => {
                    let help = suggestion(name, VALUE_OPERATORS).map_or_else(
                        || format!("operators: {}", VALUE_OPERATORS.join(", ")),
                        |s| format!("did you mean `{s}`?"),
                    );
                    self.error(
                        "operator",
                        key.span,
                        format!("unknown operator `{name}` in `{what}`"),
                    )
                    .help = Some(help);
                    return None;
                }
            }
        }
        let Some(operator) = operator else {
            self.error("operator", node.span, format!("`{what}` has no operator"));
            return None;
        };
        Some(ValueTest {
            operator,
            quantifier,
        })
    }

    fn related(&mut self, node: &Node) -> Option<RelatedCheck> {
        let fields = self.fields(
            node,
            "`related`",
            &[
                "type", "types", "via", "from", "where", "all", "any", "none", "inline",
            ],
            &[],
        )?;
        let types = match (fields.get("type"), fields.get("types")) {
            (Some(n), None) => self.string(n, "`related.type`").map(|t| vec![t]),
            (None, Some(n)) => self.strings(n, "`related.types`"),
            (Some(_), Some(n)) => {
                self.error("related", n.span, "give either `type` or `types`, not both");
                None
            }
            (None, None) => {
                self.error(
                    "related",
                    node.span,
                    "`related` needs the `type` of the related resources",
                );
                None
            }
        };
        let via = match fields.get("via") {
            Some(n) => Some(self.selector(n)?),
            None => None,
        };
        let from = match fields.get("from") {
            Some(n) => Some(self.selector(n)?),
            None => None,
        };
        if let (Some(_), Some(n)) = (&via, fields.get("from")) {
            self.error(
                "related",
                n.span,
                "give `via` (their attribute points at this resource) or `from` (this resource's attribute points at them), not both",
            );
        }
        // `where:` picks the related resources that count; `$` is each of them.
        let filter = match fields.get("where") {
            Some(n) => {
                let condition = match n.as_seq() {
                    Some(items) => Condition::All(self.condition_list(n, items)?),
                    None => self.condition(n)?,
                };
                Some(Box::new(condition))
            }
            None => None,
        };
        // `inline:` is the same setting on this resource itself; `$` is this resource.
        let inline = match fields.get("inline") {
            Some(n) => {
                if from.is_some() || via.is_none() {
                    self.error(
                        "related",
                        n.span,
                        "`inline` needs `via`: it is the setting on this resource that a related resource pointing at it (through `via`) overrides",
                    );
                }
                let condition = match n.as_seq() {
                    Some(items) => Condition::All(self.condition_list(n, items)?),
                    None => self.condition(n)?,
                };
                Some(Box::new(condition))
            }
            None => None,
        };
        let quantified: Vec<(&Key, &Node)> = fields
            .entries
            .iter()
            .filter(|(k, _)| QUANTIFIERS.contains(&k.name.as_str()))
            .map(|(k, v)| (k, v))
            .collect();
        let (key, operand) = match quantified.as_slice() {
            [one] => *one,
            // No condition: at least one related resource exists.
            [] => {
                return Some(RelatedCheck {
                    types: types?,
                    via,
                    from,
                    anywhere: false,
                    filter,
                    quantifier: Quantifier::Any,
                    condition: Box::new(Condition::All(Vec::new())),
                    inline,
                    span: node.span,
                });
            }
            [_, (second, _), ..] => {
                self.error(
                    "related",
                    second.span,
                    "`related` takes one of all, any, none",
                );
                return None;
            }
        };
        let condition = match operand.as_seq() {
            Some(items) => Condition::All(self.condition_list(operand, items)?),
            None => self.condition(operand)?,
        };
        Some(RelatedCheck {
            types: types?,
            via,
            from,
            anywhere: false,
            filter,
            quantifier: quantifier(&key.name),
            condition: Box::new(condition),
            inline,
            span: key.span,
        })
    }

    fn tests(&mut self, node: &Node) -> Vec<TestCase> {
        let Some(items) = node.as_seq() else {
            self.error("type", node.span, "`tests` must be a list of test cases");
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items {
            let Some(fields) = self.fields(
                item,
                "a test case",
                &["name", "terraform", "aws-config", "changes-since", "expect"],
                &["name", "expect"],
            ) else {
                continue;
            };
            let name = fields.get("name").and_then(|n| self.string(n, "`name`"));
            // A history: the items are every item of each resource, and the changes since this
            // time are judged, as `resilix audit --changes-since` judges them.
            let changes_since = fields.get("changes-since").and_then(|n| {
                let text = self.string(n, "`changes-since`")?;
                if fields.get("aws-config").is_none() {
                    self.error(
                        "test",
                        n.span,
                        "`changes-since` makes the `aws-config` items a history: it needs them",
                    );
                    return None;
                }
                match text.parse::<jiff::Timestamp>() {
                    Ok(at) => Some(at.to_string()),
                    Err(_) => {
                        self.error(
                            "test",
                            n.span,
                            format!("`changes-since` `{text}` is not an RFC 3339 time"),
                        )
                        .label("expected e.g. 2026-12-01T00:00:00Z");
                        None
                    }
                }
            });
            let input = match (fields.get("terraform"), fields.get("aws-config")) {
                (Some(n), None) => {
                    if n.as_map().is_none() {
                        self.error(
                            "test",
                            n.span,
                            "`terraform` maps resource addresses to their values",
                        );
                    }
                    Some((SourceKind::Terraform, n.to_json()))
                }
                (None, Some(n)) => {
                    if n.as_seq().is_none() {
                        self.error(
                            "test",
                            n.span,
                            "`aws-config` is a list of configuration items",
                        );
                    }
                    Some((SourceKind::AwsConfig, n.to_json()))
                }
                _ => {
                    self.error(
                        "test",
                        item.span,
                        "a test case has one input: `terraform` or `aws-config`",
                    );
                    None
                }
            };
            let expect = fields.get("expect").and_then(|n| {
                let entries = n.as_map().or_else(|| {
                    self.error(
                        "test",
                        n.span,
                        "`expect` maps resource addresses to pass, fail, review, error or skip",
                    );
                    None
                })?;
                let mut map = BTreeMap::new();
                for (key, value) in entries {
                    let status = self.string(value, "an expected status")?;
                    if !matches!(
                        status.as_str(),
                        "pass" | "fail" | "review" | "error" | "skip"
                    ) {
                        self.error(
                            "test",
                            value.span,
                            format!("unknown expected status `{status}`"),
                        )
                        .help = Some("one of: pass, fail, review, error, skip".to_owned());
                    }
                    map.insert(key.name.clone(), status);
                }
                Some(map)
            });
            if let (Some(name), Some((kind, input)), Some(expect)) = (name, input, expect) {
                out.push(TestCase {
                    name,
                    kind,
                    input,
                    changes_since,
                    expect,
                    span: item.span,
                });
            }
        }
        out
    }
}

const CONDITION_HELP: &str = "a condition is `all:`, `any:`, `none:` or `not:` over conditions, `related:`, \
`action:`, `drift:`, `history:`, `authorized:`, `before:`/`after:`, or `path: $.attribute` with one operator (equals, in, exists, \
matches, …) or one transition (changed, from/to, gained, lost, widened)";

/// A mapping's entries, by key.
pub struct Fields<'n> {
    pub entries: &'n [(Key, Node)],
}

impl<'n> Fields<'n> {
    pub fn get(&self, key: &str) -> Option<&'n Node> {
        self.entries
            .iter()
            .find(|(k, _)| k.name == key)
            .map(|(_, v)| v)
    }
}

fn quantifier(name: &str) -> Quantifier {
    match name {
        "any" => Quantifier::Any,
        "none" => Quantifier::None,
        _ => Quantifier::All,
    }
}

fn is_cis_framework(name: &str) -> bool {
    name.strip_prefix("cis-aws-")
        .is_some_and(|v| !v.is_empty() && v.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

/// A port (`22`) or an inclusive range (`"20-25"`, `[20, 25]`).
pub fn parse_port_range(value: &Value) -> Option<(u32, u32)> {
    let port = |v: &Value| -> Option<u32> {
        let n = match v {
            Value::Number(n) => n.as_u64()?,
            Value::String(s) => s.trim().parse().ok()?,
            _ => return None,
        };
        (n <= 65535).then_some(u32::try_from(n).ok()?)
    };
    match value {
        Value::String(s) if s.contains('-') => {
            let (a, b) = s.split_once('-')?;
            let (a, b) = (
                port(&Value::String(a.to_owned()))?,
                port(&Value::String(b.to_owned()))?,
            );
            (a <= b).then_some((a, b))
        }
        Value::Array(pair) => match pair.as_slice() {
            [a, b] => {
                let (a, b) = (port(a)?, port(b)?);
                (a <= b).then_some((a, b))
            }
            _ => None,
        },
        other => port(other).map(|p| (p, p)),
    }
}

use crate::model::value::type_name as json_type;

fn same_json_type(a: &Value, b: &Value) -> bool {
    json_type(a) == json_type(b)
}

/// The closest candidate to a misspelt name, if any is close.
pub fn suggestion<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(name, c), *c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}
