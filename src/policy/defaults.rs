//! `defaults:` — what AWS does with a setting the configuration leaves out.
//!
//! A plan says nothing about an attribute its author did not write: the provider's or AWS's
//! default applies, and that default may be unsafe (a default subnet maps public IPs, IMDSv1
//! stays on). Each target declares, for the settings it judges, what happens when one is not
//! set:
//!
//! ```yaml
//! defaults:
//!   - path: $.metadata_options[*].http_tokens
//!     when-unset:
//!       related: aws_ec2_instance_metadata_defaults   # an account-level setting in the plan
//!       value: $.http_tokens
//!       otherwise: {value: optional}                  # none in the plan: AWS's default
//!     aws: optional (IMDSv1 allowed)
//!     reference: https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-IMDS-new-instances.html
//! ```
//!
//! `when-unset` is `fail` (the default is unsafe), `pass` (it is safe), `review` (it depends
//! on something the plan does not show), `{value: X}` (the value AWS uses: the assert judges
//! it), or `{related: TYPE, from?, value, from-unset?, otherwise}`: the value of another
//! resource of the plan decides — the one this resource's `from` attribute names, or, without
//! `from`, any resource of that type in the same plan (account and Region settings). A setting
//! is *not set* when the document has nothing, `null` or `""` there: the loader has already
//! removed values the plan knows only after apply and the configuration does not write, and a
//! value the configuration sets by an expression stays "known after apply", which is not unset.

use std::fmt::Write as _;

use serde_json::Value;

use super::condition::{Condition, Operator, Quantifier, RelatedCheck, ValueCheck};
use super::selector::{PathStep, Selector};
use super::yaml::Span;

/// One declared default: a setting a target judges, and what happens when it is not set.
#[derive(Debug, Clone)]
pub struct SettingDefault {
    pub path: Selector,
    /// The path's steps (names and wildcards only).
    pub steps: Vec<PathStep>,
    pub when_unset: Unset,
    /// What AWS does, in words ("optional (IMDSv1 allowed)").
    pub aws: String,
    /// The AWS documentation that says so.
    pub reference: String,
    /// What deciding the default reads, as conditions (the setting itself and, for a related
    /// default, the relation and the related setting): projections and the relation index
    /// are built from these like from any other condition.
    pub reads: Condition,
    pub span: Span,
}

/// What happens when a setting is not set.
#[derive(Debug, Clone)]
pub enum Unset {
    Outcome(Outcome),
    Related(Box<RelatedDefault>),
}

/// A fixed outcome of an unset setting.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The default is unsafe: the policy fails.
    Fail,
    /// The default is safe: the assert must pass without the setting (the catalog test checks).
    Pass,
    /// The default depends on something outside the plan: undecided.
    Review,
    /// AWS uses this value: the assert judges it as if it were set.
    Value(Value),
}

/// A default decided by another resource of the plan.
#[derive(Debug, Clone)]
pub struct RelatedDefault {
    /// The relation (its `from`, when this resource names the other); `condition` is empty.
    pub check: RelatedCheck,
    /// The related resource's setting that decides.
    pub value: Selector,
    /// When `from` itself is not set (no subnet: the default subnet).
    pub from_unset: Option<Outcome>,
    /// When no related resource is in the plan, or it does not say.
    pub otherwise: Outcome,
}

impl Outcome {
    pub fn describe(&self) -> String {
        match self {
            Outcome::Fail => "the check fails".to_owned(),
            Outcome::Pass => "the check passes".to_owned(),
            Outcome::Review => "the check is undecided (review)".to_owned(),
            Outcome::Value(v) => format!("it is taken as {v}"),
        }
    }

    /// The short form used in tables: `fail`, `pass`, `review`, `= "optional"`.
    pub fn short(&self) -> String {
        match self {
            Outcome::Fail => "fail".to_owned(),
            Outcome::Pass => "pass".to_owned(),
            Outcome::Review => "review".to_owned(),
            Outcome::Value(v) => format!("= {v}"),
        }
    }
}

impl SettingDefault {
    /// The setting's name as people write it: `metadata_options.http_tokens`.
    pub fn setting(&self) -> String {
        let mut out = String::new();
        for step in &self.steps {
            if let PathStep::Name(name) = step {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(name);
            }
        }
        if out.is_empty() {
            self.path.text().to_owned()
        } else {
            out
        }
    }

    /// What resilix does when the setting is not set, in one clause (for the description and
    /// the reference's table of defaults).
    pub fn resolution(&self) -> String {
        match &self.when_unset {
            Unset::Outcome(outcome) => outcome.describe(),
            Unset::Related(related) => {
                let mut out = String::new();
                let types = related.check.types.join(" / ");
                let value = setting_of(&related.value);
                match &related.check.from {
                    Some(from) => {
                        let _ = write!(
                            out,
                            "resilix reads `{value}` of the `{types}` that `{}` names",
                            setting_of(from)
                        );
                    }
                    None => {
                        let _ = write!(out, "resilix reads `{value}` of any `{types}` in the plan");
                    }
                }
                if let (Some(outcome), Some(from)) = (&related.from_unset, &related.check.from) {
                    let _ = write!(
                        out,
                        "; without `{}`, {}",
                        setting_of(from),
                        outcome.describe()
                    );
                }
                let _ = write!(
                    out,
                    "; when the plan does not say, {}",
                    related.otherwise.describe()
                );
                out
            }
        }
    }

    /// What happens when the setting is not set, in a table cell: `fail`, `= "optional"`,
    /// `aws_subnet.map_public_ip_on_launch via subnet_id; no subnet_id: = true; else review`.
    pub fn short_resolution(&self) -> String {
        match &self.when_unset {
            Unset::Outcome(outcome) => outcome.short(),
            Unset::Related(related) => {
                let types = related.check.types.join(" / ");
                let value = setting_of(&related.value);
                let mut out = match &related.check.from {
                    Some(from) => format!("`{types}.{value}` via `{}`", setting_of(from)),
                    None => format!("`{types}.{value}` in the plan"),
                };
                if let (Some(outcome), Some(from)) = (&related.from_unset, &related.check.from) {
                    let _ = write!(out, "; no `{}`: {}", setting_of(from), outcome.short());
                }
                let _ = write!(out, "; else {}", related.otherwise.short());
                out
            }
        }
    }

    /// The generated sentence of the description.
    pub fn sentence(&self, kind: &str) -> String {
        format!(
            "{kind}: when `{}` is not set, AWS's default is {} — {}.",
            self.setting(),
            self.aws.trim().trim_end_matches('.'),
            self.resolution()
        )
    }
}

/// `$.a.b` → `a.b`, for messages.
pub fn setting_of(selector: &Selector) -> String {
    selector
        .attribute_path()
        .unwrap_or_else(|| selector.text().to_owned())
}

/// The conditions that read what a default needs.
pub(crate) fn reads(path: &Selector, related: Option<(&RelatedCheck, &Selector)>) -> Condition {
    let exists = |path: &Selector, span: Span| {
        Condition::Value(ValueCheck {
            path: path.clone(),
            operator: Operator::Exists(true),
            quantifier: Quantifier::All,
            span,
        })
    };
    let mut items = vec![exists(path, Span::default())];
    if let Some((check, value)) = related {
        let mut check = check.clone();
        check.condition = Box::new(exists(value, check.span));
        check.inline = None;
        items.push(Condition::Related(check));
    }
    Condition::All(items)
}

use super::compile::{Compiler, suggestion};
use super::yaml::Node;
use crate::model::SourceKind;

const DEFAULT_KEYS: &[&str] = &["path", "when-unset", "aws", "reference"];
const RELATED_KEYS: &[&str] = &["related", "from", "value", "from-unset", "otherwise"];
const OUTCOMES: &[&str] = &["fail", "pass", "review"];

impl Compiler<'_> {
    /// `defaults:` of a target: a list of `{path, when-unset, aws, reference}`.
    pub(crate) fn defaults(
        &mut self,
        kind: SourceKind,
        node: &Node,
        assert: Option<&Condition>,
        when: Option<&Condition>,
    ) -> Option<Vec<SettingDefault>> {
        let Some(items) = node.as_seq() else {
            self.error(
                "default",
                node.span,
                format!("`defaults` must be a list of settings, found {}", node.type_name()),
            )
            .help = Some(
                "each entry is `{path, when-unset, aws, reference}`: the setting, what happens when it is not set, what AWS does, and where AWS says so".to_owned(),
            );
            return None;
        };
        let mut out = Vec::new();
        let mut ok = true;
        let mut seen: Vec<String> = Vec::new();
        for item in items {
            match self.setting_default(kind, item, assert, when) {
                Some(default) => {
                    if seen.contains(&default.path.text().to_owned()) {
                        self.error(
                            "default",
                            default.span,
                            format!("`{}` has two defaults", default.path.text()),
                        );
                        ok = false;
                    }
                    seen.push(default.path.text().to_owned());
                    out.push(default);
                }
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    fn setting_default(
        &mut self,
        kind: SourceKind,
        node: &Node,
        assert: Option<&Condition>,
        when: Option<&Condition>,
    ) -> Option<SettingDefault> {
        let fields = self.fields(node, "a default", DEFAULT_KEYS, DEFAULT_KEYS)?;
        let path_node = fields.get("path")?;
        let path = self.default_path(path_node);
        if let Some(path) = &path {
            // A default of a setting the target never reads would be text without behaviour.
            let key = path.root_key();
            let read = [assert, when]
                .into_iter()
                .flatten()
                .any(|c| reads_key(c, key));
            if !read {
                self.error(
                    "default",
                    path_node.span,
                    format!("the target's conditions never read `{}`", path.text()),
                )
                .label("not judged by this target")
                .help = Some(
                    "declare defaults for the settings the `assert` (or `when`) reads".to_owned(),
                );
            }
        }
        let when_unset = fields
            .get("when-unset")
            .and_then(|n| self.when_unset(kind, n));
        let aws = fields.get("aws").and_then(|n| self.string(n, "`aws`"));
        let reference = fields.get("reference").and_then(|n| {
            let text = self.string(n, "`reference`")?;
            if !text.starts_with("https://") || text.contains(char::is_whitespace) {
                self.error(
                    "default",
                    n.span,
                    format!("`reference` must be the https:// address of the AWS documentation, found `{text}`"),
                );
                return None;
            }
            Some(text)
        });
        let path = path?;
        let when_unset = when_unset?;
        let steps = path.name_steps()?;
        let reads = reads(
            &path,
            match &when_unset {
                Unset::Related(r) => Some((&r.check, &r.value)),
                Unset::Outcome(_) => None,
            },
        );
        Some(SettingDefault {
            steps,
            path,
            when_unset,
            aws: aws?,
            reference: reference?,
            reads,
            span: node.span,
        })
    }

    /// A default's path: names and wildcards only, so that "not set" has one meaning.
    fn default_path(&mut self, node: &Node) -> Option<Selector> {
        let path = self.selector(node)?;
        if path.name_steps().is_none_or(|s| s.is_empty()) {
            self.error(
                "default",
                node.span,
                format!("a default's path is a chain of names and `[*]`, found `{}`", path.text()),
            )
            .help = Some("write the setting as `$.block[*].attribute`; indexes, filters and `$` itself cannot say which setting is unset".to_owned());
            return None;
        }
        Some(path)
    }

    fn outcome(&mut self, node: &Node, what: &str) -> Option<Outcome> {
        if let Some(text) = node.as_str() {
            return match text {
                "fail" => Some(Outcome::Fail),
                "pass" => Some(Outcome::Pass),
                "review" => Some(Outcome::Review),
                other => {
                    let help = suggestion(other, OUTCOMES).map_or_else(
                        || "fail, pass, review, or `{value: …}` (the value AWS uses)".to_owned(),
                        |s| format!("did you mean `{s}`?"),
                    );
                    self.error(
                        "default",
                        node.span,
                        format!("unknown outcome `{other}` in {what}"),
                    )
                    .help = Some(help);
                    None
                }
            };
        }
        let fields = self.fields(node, what, &["value"], &["value"])?;
        let value = fields.get("value")?.to_json();
        if value.is_null() {
            self.error(
                "default",
                node.span,
                format!("{what}: `value: null` is no default; write `pass`, `fail` or `review`"),
            );
            return None;
        }
        Some(Outcome::Value(value))
    }

    fn when_unset(&mut self, kind: SourceKind, node: &Node) -> Option<Unset> {
        if node.get("related").is_none() {
            return self.outcome(node, "`when-unset`").map(Unset::Outcome);
        }
        let fields = self.fields(
            node,
            "a related default",
            RELATED_KEYS,
            &["related", "value", "otherwise"],
        )?;
        let types_node = fields.get("related")?;
        let types = match types_node.as_seq() {
            Some(_) => self.resource_types(kind, types_node),
            None => {
                let one = self.string(types_node, "`related`")?;
                if one.contains('*') {
                    self.error(
                        "default",
                        types_node.span,
                        "`related` names resource types, without `*`",
                    );
                    return None;
                }
                let wrapped = Node {
                    value: super::yaml::NodeValue::Seq(vec![types_node.clone()]),
                    span: types_node.span,
                };
                self.resource_types(kind, &wrapped)
            }
        };
        let from = match fields.get("from") {
            Some(n) => Some(self.default_path(n)?),
            None => None,
        };
        let value = fields.get("value").and_then(|n| self.default_path(n));
        // Every problem is reported at once: `otherwise` is checked even when `from-unset` is wrong.
        let from_unset = match (fields.get("from-unset"), &from) {
            (Some(n), Some(_)) => self.outcome(n, "`from-unset`").map(Some),
            (Some(n), None) => {
                self.error(
                    "default",
                    n.span,
                    "`from-unset` says what happens when `from` is not set, but there is no `from`",
                );
                None
            }
            (None, _) => Some(None),
        };
        let otherwise = fields
            .get("otherwise")
            .and_then(|n| self.outcome(n, "`otherwise`"));
        let from_unset = from_unset?;
        let anywhere = from.is_none();
        Some(Unset::Related(Box::new(RelatedDefault {
            check: RelatedCheck {
                types: types?,
                via: None,
                from,
                anywhere,
                filter: None,
                quantifier: Quantifier::Any,
                condition: Box::new(Condition::All(Vec::new())),
                inline: None,
                span: types_node.span,
            },
            value: value?,
            from_unset,
            otherwise: otherwise?,
        })))
    }
}

/// Whether `condition` reads the top-level attribute `key` of its document (`None`: a path
/// that reaches any attribute).
fn reads_key(condition: &Condition, key: Option<&str>) -> bool {
    let reaches = |selector: &Selector| {
        let root = selector.root_key();
        root.is_none() || root == key
    };
    match condition {
        Condition::All(items) | Condition::Any(items) | Condition::None(items) => {
            items.iter().any(|c| reads_key(c, key))
        }
        Condition::Not(inner) | Condition::Before(inner) | Condition::After(inner) => {
            reads_key(inner, key)
        }
        Condition::Value(check) => reaches(&check.path),
        Condition::Each(check) => reaches(&check.path),
        Condition::Transition(check) => reaches(&check.path),
        Condition::Related(check) => {
            check.from.as_ref().is_some_and(reaches)
                || check.inline.as_ref().is_some_and(|c| reads_key(c, key))
        }
        Condition::Action(_)
        | Condition::Drift(_)
        | Condition::History(_)
        | Condition::Authorized(_) => false,
    }
}
