//! The configuration file `resilix.yaml` (DESIGN §8): which policies run and how severe they
//! are, their parameters, the gate, change approvals, asset criticality and waivers.
//!
//! It is read with the same spanned YAML tree and compiler as policies, so every problem (an
//! unknown key, a bad date, a policy ID that does not exist) is reported with its line. Parsing
//! happens once at start; [`crate::findings::triage`] then applies approvals, waivers and
//! priority to a report, with no I/O.
//!
//! ```yaml
//! fail-on: high
//! policies: {only: ["aws.*", "change.*"], enable: [aws.s3.replication], disable: ["aws.s3.access-logging"]}
//! severity: {aws.s3.block-public-access: critical}
//! params: {acme.tags.required: {keys: [owner, cost-center]}}
//! approvals:
//!   tag: change-ticket
//!   principals: ["arn:aws:iam::*:role/terraform-ci"]
//!   changes:
//!     - {resource: aws_db_instance.legacy, ticket: CHG-2041, policy: change.*, expires: 2026-12-31}
//! criticality:
//!   tag: criticality
//!   rules:
//!     - {level: critical, types: [aws_db_instance, "AWS::RDS::*"], tags: {env: prod}}
//! waivers:
//!   - {policy: aws.s3.bucket-logging, resource: "arn:aws:s3:::scratch-*", reason: …,
//!      approved-by: jane@acme.example, ticket: SEC-118, expires: 2026-06-30}
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiff::civil::Date;
use serde_json::Value;

use crate::model::Criticality;
use crate::pattern::Pattern;
use crate::policy::compile::{Compiler, suggestion};
use crate::policy::yaml::{self, Node, Span};
use crate::policy::{Catalog, PolicyError, PolicyErrors, Severity};
use crate::source::SourceFile;

/// The file name looked for in the working directory and the directories above it.
pub const FILE_NAME: &str = "resilix.yaml";
/// The same file, hidden (as `.checkov.yaml` and `trivy.yaml`/`.trivyignore` users keep theirs).
pub const HIDDEN_FILE_NAME: &str = ".resilix.yaml";
/// Environment variable that fixes "today" (`YYYY-MM-DD`) for waiver expiry: reproducible runs
/// and tests. Unset: the current date in UTC.
pub const TODAY_ENV: &str = "RESILIX_TODAY";

const KEYS: &[&str] = &[
    "fail-on",
    "policies",
    "severity",
    "params",
    "approvals",
    "criticality",
    "waivers",
];

/// A pattern as written in the file, with its place.
#[derive(Debug, Clone)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

/// An approval of changes in the configuration file.
#[derive(Debug, Clone)]
pub struct ConfigApproval {
    pub resource: Pattern,
    pub policy: Option<Spanned<Pattern>>,
    pub ticket: String,
    pub expires: Option<Date>,
    pub span: Span,
}

/// A criticality rule: every selector given must match.
#[derive(Debug, Clone)]
pub struct CriticalityRule {
    pub level: Criticality,
    pub types: Vec<Pattern>,
    pub resources: Vec<Pattern>,
    pub tags: Vec<(String, Pattern)>,
}

/// A waiver as written.
#[derive(Debug, Clone)]
pub struct WaiverEntry {
    pub policy: Spanned<Pattern>,
    pub resource: Pattern,
    pub reason: String,
    pub approved_by: String,
    pub ticket: String,
    pub expires: Date,
    pub span: Span,
}

/// The configuration in effect (the defaults when there is no file).
#[derive(Debug, Clone)]
pub struct Config {
    pub file: Option<Arc<SourceFile>>,
    /// `fail-on`: `Some(None)` is `never`.
    pub fail_on: Option<Option<Severity>>,
    /// `policies.only`: when given, only these policies run (opt-in ones included).
    pub only: Vec<Spanned<Pattern>>,
    /// `policies.enable`: turn on policies that are off by default (opt-in).
    pub enable: Vec<Spanned<Pattern>>,
    pub disable: Vec<Spanned<Pattern>>,
    pub severity: Vec<(Spanned<Pattern>, Severity)>,
    /// Parameter values by policy ID, with the place of each.
    pub params: BTreeMap<String, BTreeMap<String, Spanned<Value>>>,
    params_spans: BTreeMap<String, Span>,
    pub approval_tag: String,
    pub approvals: Vec<ConfigApproval>,
    /// `approvals.principals`: who may change an account's resources without a ticket (the
    /// pipeline's role), as ARN globs; an assumed-role session counts as its role.
    pub approval_principals: Vec<Spanned<Pattern>>,
    pub criticality_tag: String,
    pub criticality_default: Option<Criticality>,
    pub criticality_rules: Vec<CriticalityRule>,
    pub waivers: Vec<WaiverEntry>,
    /// The date waivers and approvals are checked against.
    pub today: Date,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            file: None,
            fail_on: None,
            only: Vec::new(),
            enable: Vec::new(),
            disable: Vec::new(),
            severity: Vec::new(),
            params: BTreeMap::new(),
            params_spans: BTreeMap::new(),
            approval_tag: "change-ticket".to_owned(),
            approvals: Vec::new(),
            approval_principals: Vec::new(),
            criticality_tag: "criticality".to_owned(),
            criticality_default: None,
            criticality_rules: Vec::new(),
            waivers: Vec::new(),
            today: Date::constant(1970, 1, 1),
        }
    }
}

/// The configuration file that applies in `dir`, and its name relative to `dir`
/// (`resilix.yaml`, `../../.resilix.yaml`).
fn find_file(dir: &Path) -> Result<Option<(PathBuf, String)>, PolicyErrors> {
    let root = crate::cli::repository_root(dir);
    let mut up = String::new();
    for candidate in dir.ancestors() {
        let found: Vec<&str> = [FILE_NAME, HIDDEN_FILE_NAME]
            .into_iter()
            .filter(|name| candidate.join(name).is_file())
            .collect();
        match found.as_slice() {
            [] => {}
            [name] => return Ok(Some((candidate.join(name), format!("{up}{name}")))),
            _ => {
                let name = format!("{up}{FILE_NAME}");
                let mut error = scoped(PolicyError::new(
                    &SourceFile::new(name, ""),
                    "ambiguous",
                    None,
                    format!(
                        "both {up}{FILE_NAME} and {up}{HIDDEN_FILE_NAME} exist: which one applies would be a guess"
                    ),
                ));
                error.help("keep one of them (or name one with --config FILE)");
                return Err(PolicyErrors {
                    what: "the configuration",
                    errors: vec![error],
                });
            }
        }
        if candidate == root {
            break;
        }
        up.push_str("../");
    }
    Ok(None)
}

/// Today's date: `RESILIX_TODAY` when set, else the current date in UTC.
pub fn today() -> Result<Date, String> {
    match std::env::var(TODAY_ENV) {
        Ok(text) => text
            .trim()
            .parse::<Date>()
            .map_err(|e| format!("{TODAY_ENV}={text:?} is not a date (YYYY-MM-DD): {e}")),
        Err(_) => Ok(jiff::Timestamp::now()
            .to_zoned(jiff::tz::TimeZone::UTC)
            .date()),
    }
}

impl Config {
    /// The file [`Config::discover`] reads, if any, without reading it (`None` too when the
    /// search itself fails: `discover` reports that).
    pub fn find(explicit: Option<&Path>, dir: &Path) -> Option<PathBuf> {
        match explicit {
            Some(path) => Some(path.to_path_buf()),
            None => find_file(dir).ok().flatten().map(|(path, _)| path),
        }
    }

    /// Reads the configuration: `explicit` (`--config FILE`, which must exist), else the
    /// nearest `resilix.yaml` or `.resilix.yaml` in `dir` or a directory above it, up to the
    /// repository root (the nearest directory holding `.git`; outside a repository, `dir`
    /// only), else the defaults. Both names in one directory is an error: which one counts
    /// would be a guess. A file larger than `max_bytes` is refused.
    pub fn discover(
        explicit: Option<&Path>,
        dir: &Path,
        max_bytes: u64,
    ) -> Result<Config, PolicyErrors> {
        let path: Option<(PathBuf, String)> = match explicit {
            Some(path) => Some((path.to_path_buf(), path.display().to_string())),
            None => find_file(dir)?,
        };
        let today = today().map_err(|message| PolicyErrors {
            what: "the configuration",
            errors: vec![scoped(PolicyError::new(
                &SourceFile::new(TODAY_ENV, ""),
                "today",
                None,
                message,
            ))],
        })?;
        let Some((path, name)) = path else {
            return Ok(Config {
                today,
                ..Config::default()
            });
        };
        let file = crate::input::read_source(&path, max_bytes).map_err(|error| PolicyErrors {
            what: "the configuration",
            errors: vec![scoped(PolicyError::unreadable(&error))],
        })?;
        let mut config = Config::parse(&SourceFile::new(name, file.into_text()))?;
        config.today = today;
        Ok(config)
    }

    /// Parses a configuration file; every problem is reported together.
    pub fn parse(file: &Arc<SourceFile>) -> Result<Config, PolicyErrors> {
        let fail = |errors| PolicyErrors {
            what: "the configuration",
            errors,
        };
        let root = match yaml::parse(file.text()) {
            Ok(root) => root,
            Err(error) => {
                let mut error = scoped(PolicyError::new(
                    file,
                    "yaml",
                    Some(error.span),
                    error.message,
                ));
                error.label("invalid YAML");
                return Err(fail(vec![error]));
            }
        };
        let mut config = Config {
            file: Some(Arc::clone(file)),
            ..Config::default()
        };
        if matches!(root.value, yaml::NodeValue::Null) {
            return Ok(config);
        }
        let mut cx = Compiler::for_config(file);
        if let Some(fields) = cx.fields(&root, "the configuration", KEYS, &[]) {
            if let Some(node) = fields.get("fail-on") {
                config.fail_on = fail_on(&mut cx, node);
            }
            if let Some(node) = fields.get("policies")
                && let Some(f) = cx.fields(node, "`policies`", &["only", "enable", "disable"], &[])
            {
                if let Some(n) = f.get("only") {
                    config.only = patterns(&mut cx, n, "`policies.only`");
                }
                if let Some(n) = f.get("enable") {
                    config.enable = patterns(&mut cx, n, "`policies.enable`");
                }
                if let Some(n) = f.get("disable") {
                    config.disable = patterns(&mut cx, n, "`policies.disable`");
                }
            }
            if let Some(node) = fields.get("severity") {
                config.severity = severities(&mut cx, node);
            }
            if let Some(node) = fields.get("params") {
                (config.params, config.params_spans) = params(&mut cx, node);
            }
            if let Some(node) = fields.get("approvals") {
                approvals(&mut cx, node, &mut config);
            }
            if let Some(node) = fields.get("criticality") {
                criticality(&mut cx, node, &mut config);
            }
            if let Some(node) = fields.get("waivers") {
                config.waivers = waivers(&mut cx, node);
            }
        }
        if cx.errors.is_empty() {
            Ok(config)
        } else {
            Err(fail(cx.errors))
        }
    }

    /// Parameter values by policy ID, as the catalog compiles them.
    pub fn param_values(&self) -> BTreeMap<String, BTreeMap<String, Value>> {
        self.params
            .iter()
            .map(|(id, values)| {
                (
                    id.clone(),
                    values
                        .iter()
                        .map(|(k, v)| (k.clone(), v.value.clone()))
                        .collect(),
                )
            })
            .collect()
    }

    /// Checks every policy the file names against the catalog (compiled with the file's
    /// parameters, which the compiler applies only where they fit): IDs and globs must match a
    /// policy, parameters must exist with the type of their default.
    pub fn check(&self, catalog: &Catalog) -> Result<(), PolicyErrors> {
        let Some(file) = &self.file else {
            return Ok(());
        };
        let ids: Vec<&str> = catalog.policies.iter().map(|p| p.id.as_str()).collect();
        let mut errors = Vec::new();
        let must_match = |errors: &mut Vec<PolicyError>, pattern: &Spanned<Pattern>, what: &str| {
            if !ids.iter().any(|id| pattern.value.matches(id)) {
                let help = suggestion(pattern.value.text(), &ids).map_or_else(
                    || "`resilix policies list` shows the policy IDs".to_owned(),
                    |s| format!("did you mean `{s}`?"),
                );
                let mut error = scoped(PolicyError::new(
                    file,
                    "unknown_policy",
                    Some(pattern.span),
                    format!("{what} `{}` matches no policy", pattern.value.text()),
                ));
                error.label("no such policy").help(help);
                errors.push(error);
            }
        };
        for p in self.only.iter().chain(&self.enable).chain(&self.disable) {
            must_match(&mut errors, p, "`policies`");
        }
        for (p, _) in &self.severity {
            must_match(&mut errors, p, "`severity`");
        }
        for a in &self.approvals {
            if let Some(p) = &a.policy {
                must_match(&mut errors, p, "the approval's policy");
            }
        }
        for w in &self.waivers {
            must_match(&mut errors, &w.policy, "the waiver's policy");
        }
        for (id, values) in &self.params {
            let span = self.params_spans.get(id).copied();
            let Some((_, policy)) = catalog.by_id(id) else {
                must_match(
                    &mut errors,
                    &Spanned {
                        value: Pattern::new(id),
                        span: span.unwrap_or_default(),
                    },
                    "`params`",
                );
                continue;
            };
            for (name, value) in values {
                match policy.params.get(name) {
                    None => {
                        let names: Vec<&str> = policy.params.keys().map(String::as_str).collect();
                        let help = suggestion(name, &names).map_or_else(
                            || {
                                if names.is_empty() {
                                    format!("{id} has no parameters")
                                } else {
                                    format!("its parameters: {}", names.join(", "))
                                }
                            },
                            |s| format!("did you mean `{s}`?"),
                        );
                        let mut error = scoped(PolicyError::new(
                            file,
                            "param",
                            Some(value.span),
                            format!("policy {id} has no parameter `{name}`"),
                        ));
                        error.help(help);
                        errors.push(error);
                    }
                    Some(param) if !same_type(&param.default, &value.value) => {
                        errors.push(scoped(PolicyError::new(
                            file,
                            "param",
                            Some(value.span),
                            format!(
                                "parameter `{name}` of {id} takes {}, like its default {}",
                                type_name(&param.default),
                                param.default
                            ),
                        )));
                    }
                    Some(_) => {}
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(PolicyErrors {
                what: "the configuration",
                errors,
            })
        }
    }

    /// The catalog with the file's choices applied: which policies run (`only`, else the
    /// policies on by default plus `enable`, minus `disable`) and severity overrides (exact IDs
    /// win over globs).
    pub fn select(&self, catalog: Catalog) -> Catalog {
        let mut policies = catalog.policies;
        let matches =
            |list: &[Spanned<Pattern>], id: &str| list.iter().any(|e| e.value.matches(id));
        if self.only.is_empty() {
            policies.retain(|p| p.enabled || matches(&self.enable, &p.id));
        } else {
            policies.retain(|p| matches(&self.only, &p.id));
        }
        policies.retain(|p| !matches(&self.disable, &p.id));
        for policy in &mut policies {
            let matching = self
                .severity
                .iter()
                .filter(|(p, _)| p.value.matches(&policy.id));
            let chosen = matching
                .clone()
                .find(|(p, _)| p.value.is_literal())
                .or_else(|| matching.clone().next_back());
            if let Some((_, severity)) = chosen {
                policy.severity = *severity;
            }
        }
        Catalog::from_policies(policies)
    }

    /// Warnings about the file itself: waivers and approvals that have expired.
    pub fn warnings(&self) -> Vec<PolicyError> {
        let Some(file) = &self.file else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for waiver in &self.waivers {
            if waiver.expires < self.today {
                let mut w = scoped(PolicyError::new(
                    file,
                    "waiver_expired",
                    Some(waiver.span),
                    format!(
                        "the waiver of {} for {} (ticket {}) expired on {}: its findings are reported again",
                        waiver.policy.value.text(),
                        waiver.resource.text(),
                        waiver.ticket,
                        waiver.expires
                    ),
                ));
                w.warning = true;
                w.label("expired").help("renew it with a new expiry date and approval, or fix the findings and remove it");
                out.push(w);
            }
        }
        for approval in &self.approvals {
            if approval.expires.is_some_and(|e| e < self.today) {
                let mut w = scoped(PolicyError::new(
                    file,
                    "approval_expired",
                    Some(approval.span),
                    format!(
                        "the approval {} for {} has expired: it no longer approves changes",
                        approval.ticket,
                        approval.resource.text()
                    ),
                ));
                w.warning = true;
                w.label("expired");
                out.push(w);
            }
        }
        out
    }
}

fn scoped(mut error: PolicyError) -> PolicyError {
    error.scope = "config";
    error
}

fn same_type(a: &Value, b: &Value) -> bool {
    type_name(a) == type_name(b)
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "true or false",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

fn fail_on(cx: &mut Compiler<'_>, node: &Node) -> Option<Option<Severity>> {
    let text = cx.string(node, "`fail-on`")?;
    if text == "never" {
        return Some(None);
    }
    match Severity::parse(&text).filter(|s| *s != Severity::Info) {
        Some(s) => Some(Some(s)),
        None => {
            cx.error(
                "value",
                node.span,
                format!("unknown `fail-on` value `{text}`"),
            )
            .help = Some("one of: critical, high, medium, low, never".to_owned());
            None
        }
    }
}

fn patterns(cx: &mut Compiler<'_>, node: &Node, what: &str) -> Vec<Spanned<Pattern>> {
    let Some(items) = node.as_seq() else {
        cx.error(
            "type",
            node.span,
            format!("{what} must be a list of policy IDs or globs"),
        );
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| {
            cx.string(item, what).map(|text| Spanned {
                value: Pattern::new(&text),
                span: item.span,
            })
        })
        .collect()
}

fn severities(cx: &mut Compiler<'_>, node: &Node) -> Vec<(Spanned<Pattern>, Severity)> {
    let Some(entries) = node.as_map() else {
        cx.error(
            "type",
            node.span,
            "`severity` maps policy IDs (or globs) to severities",
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for (key, value) in entries {
        if let Some(severity) = cx.severity(value) {
            out.push((
                Spanned {
                    value: Pattern::new(&key.name),
                    span: key.span,
                },
                severity,
            ));
        }
    }
    out
}

type Params = (
    BTreeMap<String, BTreeMap<String, Spanned<Value>>>,
    BTreeMap<String, Span>,
);

fn params(cx: &mut Compiler<'_>, node: &Node) -> Params {
    let mut out = BTreeMap::new();
    let mut spans = BTreeMap::new();
    let Some(entries) = node.as_map() else {
        cx.error(
            "type",
            node.span,
            "`params` maps policy IDs to {parameter: value}",
        );
        return (out, spans);
    };
    for (key, value) in entries {
        let Some(values) = value.as_map() else {
            cx.error(
                "type",
                value.span,
                format!("the parameters of {} must be a mapping", key.name),
            );
            continue;
        };
        spans.insert(key.name.clone(), key.span);
        let map = values
            .iter()
            .map(|(k, v)| {
                (
                    k.name.clone(),
                    Spanned {
                        value: v.to_json(),
                        span: k.span,
                    },
                )
            })
            .collect();
        out.insert(key.name.clone(), map);
    }
    (out, spans)
}

fn date(cx: &mut Compiler<'_>, node: &Node, what: &str) -> Option<Date> {
    let text = cx.string(node, what)?;
    match text.trim().parse::<Date>() {
        Ok(date) if text.trim().len() == 10 => Some(date),
        Ok(_) | Err(_) => {
            cx.error("date", node.span, format!("{what} `{text}` is not a date"))
                .label("expected YYYY-MM-DD")
                .help = Some("write dates as YYYY-MM-DD, for example 2026-06-30".to_owned());
            None
        }
    }
}

fn approvals(cx: &mut Compiler<'_>, node: &Node, config: &mut Config) {
    let Some(fields) = cx.fields(node, "`approvals`", &["tag", "principals", "changes"], &[])
    else {
        return;
    };
    if let Some(tag) = fields
        .get("tag")
        .and_then(|n| cx.string(n, "`approvals.tag`"))
    {
        config.approval_tag = tag;
    }
    if let Some(node) = fields.get("principals") {
        config.approval_principals = principals(cx, node);
    }
    let Some(changes) = fields.get("changes") else {
        return;
    };
    let Some(items) = changes.as_seq() else {
        cx.error("type", changes.span, "`approvals.changes` must be a list");
        return;
    };
    for item in items {
        let Some(f) = cx.fields(
            item,
            "an approval",
            &["resource", "ticket", "policy", "expires", "approved-by"],
            &["resource", "ticket"],
        ) else {
            continue;
        };
        let resource = f.get("resource").and_then(|n| cx.string(n, "`resource`"));
        let ticket = f.get("ticket").and_then(|n| cx.string(n, "`ticket`"));
        let policy = f.get("policy").and_then(|n| {
            cx.string(n, "`policy`").map(|t| Spanned {
                value: Pattern::new(&t),
                span: n.span,
            })
        });
        if let Some(n) = f.get("approved-by") {
            cx.string(n, "`approved-by`");
        }
        let expires = match f.get("expires") {
            Some(n) => match date(cx, n, "`expires`") {
                Some(d) => Some(d),
                None => continue,
            },
            None => None,
        };
        if let (Some(resource), Some(ticket)) = (resource, ticket) {
            config.approvals.push(ConfigApproval {
                resource: Pattern::new(&resource),
                policy,
                ticket,
                expires,
                span: item.span,
            });
        }
    }
}

/// `approvals.principals`: ARN globs of IAM roles and users (`arn:aws:iam::*:role/terraform-ci`),
/// or AWS services (`cloudformation.amazonaws.com`), as attribution names them. A pattern that
/// could never match what attribution records is refused: it would authorize nothing, silently.
fn principals(cx: &mut Compiler<'_>, node: &Node) -> Vec<Spanned<Pattern>> {
    let Some(items) = node.as_seq() else {
        cx.error(
            "type",
            node.span,
            "`approvals.principals` must be a list of ARN patterns",
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in items {
        let Some(text) = cx.string(item, "a principal") else {
            continue;
        };
        match principal_problem(&text) {
            None => out.push(Spanned {
                value: Pattern::new(&text),
                span: item.span,
            }),
            Some((message, help)) => {
                cx.error("principal", item.span, message)
                    .label("not a principal pattern")
                    .help = Some(help.to_owned());
            }
        }
    }
    out
}

/// Why `text` cannot match a principal as attribution records it, if it cannot.
fn principal_problem(text: &str) -> Option<(String, &'static str)> {
    const HELP: &str = "write an IAM role or user ARN, `*` where any value goes: arn:aws:iam::*:role/terraform-ci, arn:aws:iam::123456789012:user/deploy (or an AWS service: cloudformation.amazonaws.com)";
    let text = text.trim();
    if text.is_empty() || text.chars().all(|c| c == '*') {
        return Some((
            format!("the principal pattern `{text}` would authorize every change, by anyone"),
            HELP,
        ));
    }
    if text.chars().any(char::is_whitespace) {
        return Some((
            format!("the principal pattern `{text}` holds a space: no ARN does"),
            HELP,
        ));
    }
    if let Some(rest) = text.strip_prefix("arn:") {
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        let service = parts.get(1).copied().unwrap_or_default();
        let empty = |i: usize| parts.get(i).is_none_or(|p| p.is_empty());
        if parts.len() < 5 || empty(0) || empty(1) || empty(4) {
            return Some((
                format!("`{text}` is not an ARN (arn:PARTITION:iam::ACCOUNT:role/NAME)"),
                HELP,
            ));
        }
        if service == "sts" || text.contains(":assumed-role/") {
            return Some((
                format!(
                    "`{text}` names an assumed-role session: changes are attributed to the session's role"
                ),
                "write the role's ARN instead: arn:aws:iam::ACCOUNT:role/NAME (its path included, or `*`)",
            ));
        }
        if service != "iam" && service != "*" {
            return Some((
                format!(
                    "`{text}` is not an IAM principal: changes are made by IAM roles and users"
                ),
                HELP,
            ));
        }
        return None;
    }
    if text.ends_with(".amazonaws.com") {
        return None;
    }
    Some((
        format!("`{text}` is neither an ARN nor an AWS service principal"),
        HELP,
    ))
}

fn criticality(cx: &mut Compiler<'_>, node: &Node, config: &mut Config) {
    let Some(fields) = cx.fields(node, "`criticality`", &["tag", "default", "rules"], &[]) else {
        return;
    };
    if let Some(tag) = fields
        .get("tag")
        .and_then(|n| cx.string(n, "`criticality.tag`"))
    {
        config.criticality_tag = tag;
    }
    if let Some(n) = fields.get("default") {
        config.criticality_default = level(cx, n);
    }
    let Some(rules) = fields.get("rules") else {
        return;
    };
    let Some(items) = rules.as_seq() else {
        cx.error("type", rules.span, "`criticality.rules` must be a list");
        return;
    };
    for item in items {
        let Some(f) = cx.fields(
            item,
            "a criticality rule",
            &["level", "types", "resources", "tags"],
            &["level"],
        ) else {
            continue;
        };
        let level = f.get("level").and_then(|n| level(cx, n));
        let list = |cx: &mut Compiler<'_>, key: &str| -> Vec<Pattern> {
            f.get(key)
                .and_then(|n| cx.strings(n, &format!("`{key}`")))
                .unwrap_or_default()
                .iter()
                .map(|t| Pattern::new(t))
                .collect()
        };
        let types = list(cx, "types");
        let resources = list(cx, "resources");
        let mut tags = Vec::new();
        if let Some(n) = f.get("tags") {
            match n.as_map() {
                Some(entries) => {
                    for (k, v) in entries {
                        if let Some(text) = cx.string(v, "a tag value") {
                            tags.push((k.name.clone(), Pattern::new(&text)));
                        }
                    }
                }
                None => {
                    cx.error("type", n.span, "`tags` maps tag keys to values (or globs)");
                }
            }
        }
        if types.is_empty() && resources.is_empty() && tags.is_empty() {
            cx.error(
                "value",
                item.span,
                "a criticality rule needs `types`, `resources` or `tags` to select resources",
            );
            continue;
        }
        if let Some(level) = level {
            config.criticality_rules.push(CriticalityRule {
                level,
                types,
                resources,
                tags,
            });
        }
    }
}

fn level(cx: &mut Compiler<'_>, node: &Node) -> Option<Criticality> {
    let text = cx.string(node, "a criticality level")?;
    let parsed = Criticality::parse(&text);
    if parsed.is_none() {
        cx.error("value", node.span, format!("unknown criticality `{text}`"))
            .help = Some("one of: low, medium, high, critical".to_owned());
    }
    parsed
}

fn waivers(cx: &mut Compiler<'_>, node: &Node) -> Vec<WaiverEntry> {
    let Some(items) = node.as_seq() else {
        cx.error("type", node.span, "`waivers` must be a list");
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in items {
        let Some(f) = cx.fields(
            item,
            "a waiver",
            &[
                "policy",
                "resource",
                "reason",
                "approved-by",
                "ticket",
                "expires",
            ],
            &[
                "policy",
                "resource",
                "reason",
                "approved-by",
                "ticket",
                "expires",
            ],
        ) else {
            continue;
        };
        let text = |cx: &mut Compiler<'_>, key: &str| {
            f.get(key).and_then(|n| cx.string(n, &format!("`{key}`")))
        };
        let policy = f.get("policy").and_then(|n| {
            cx.string(n, "`policy`").map(|t| Spanned {
                value: Pattern::new(&t),
                span: n.span,
            })
        });
        let resource = text(cx, "resource");
        let reason = text(cx, "reason");
        let approved_by = text(cx, "approved-by");
        let ticket = text(cx, "ticket");
        let expires = f.get("expires").and_then(|n| date(cx, n, "`expires`"));
        if let (
            Some(policy),
            Some(resource),
            Some(reason),
            Some(approved_by),
            Some(ticket),
            Some(expires),
        ) = (policy, resource, reason, approved_by, ticket, expires)
        {
            out.push(WaiverEntry {
                policy,
                resource: Pattern::new(&resource),
                reason,
                approved_by,
                ticket,
                expires,
                span: item.span,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_point_at_their_line() {
        let file = SourceFile::new(
            "resilix.yaml",
            "fail-on: hgh\nwaivers:\n  - policy: x.y\n    resource: '*'\n    reason: r\n    approved-by: me\n    ticket: T-1\n    expires: 2026-02-30\nunknown: 1\n",
        );
        let errors = Config::parse(&file).unwrap_err().errors;
        let codes: Vec<(String, usize)> = errors
            .iter()
            .map(|e| (e.code.to_owned(), file.line_col(e.span.unwrap().start).line))
            .collect();
        assert_eq!(
            codes,
            vec![
                ("unknown_key".to_owned(), 9),
                ("value".to_owned(), 1),
                ("date".to_owned(), 8)
            ]
        );
        assert!(errors.iter().all(|e| e.scope == "config"));
    }

    #[test]
    fn principals_are_arn_patterns_that_can_match() {
        let file = SourceFile::new(
            "resilix.yaml",
            "approvals:\n  principals:\n    - arn:aws:iam::*:role/terraform-ci\n    - cloudformation.amazonaws.com\n    - arn:aws:sts::123456789012:assumed-role/deploy/*\n    - '*'\n    - terraform-ci\n    - arn:aws:s3:::bucket\n    - arn:aws:iam\n",
        );
        let errors = Config::parse(&file).unwrap_err().errors;
        let found: Vec<(usize, &str)> = errors
            .iter()
            .map(|e| {
                (
                    file.line_col(e.span.unwrap().start).line,
                    e.message.as_str(),
                )
            })
            .collect();
        assert_eq!(
            found,
            vec![
                (
                    5,
                    "`arn:aws:sts::123456789012:assumed-role/deploy/*` names an assumed-role session: changes are attributed to the session's role"
                ),
                (
                    6,
                    "the principal pattern `*` would authorize every change, by anyone"
                ),
                (
                    7,
                    "`terraform-ci` is neither an ARN nor an AWS service principal"
                ),
                (
                    8,
                    "`arn:aws:s3:::bucket` is not an IAM principal: changes are made by IAM roles and users"
                ),
                (
                    9,
                    "`arn:aws:iam` is not an ARN (arn:PARTITION:iam::ACCOUNT:role/NAME)"
                ),
            ]
        );
        assert!(errors.iter().all(|e| e.code == "principal"));
        let good = SourceFile::new(
            "resilix.yaml",
            "approvals:\n  principals: ['arn:aws:iam::*:role/terraform-ci', 'arn:aws:iam::123456789012:user/deploy']\n",
        );
        let config = Config::parse(&good).unwrap();
        let patterns: Vec<&str> = config
            .approval_principals
            .iter()
            .map(|p| p.value.text())
            .collect();
        assert_eq!(
            patterns,
            [
                "arn:aws:iam::*:role/terraform-ci",
                "arn:aws:iam::123456789012:user/deploy"
            ]
        );
        assert!(
            config
                .approval_principals
                .first()
                .unwrap()
                .value
                .matches("arn:aws:iam::123456789012:role/terraform-ci")
        );
    }
}
