//! `resilix audit`: pull AWS Config items live (one account's regions, or an organization's
//! aggregator), then evaluate and report them exactly as `scan` does.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use resilix_aws::{Failure, Method, Options, Progress, Pull, Settings};

use super::scan::{BaselineArg, Inputs, OutputArgs, PolicyArgs, finish, flag, refuse_clashes};
use crate::input::config_diff;
use crate::input::snapshot::{self, AuditRecord, PullFailure};
use crate::input::{self, LoadError, LoadOptions, LoadWarning};
use crate::model::{Origin, ResourceSet};
use crate::output::{self, Named};
use crate::{Diagnostics, ExitStatus};

/// How items are fetched from AWS Config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FetchArg {
    /// List each resource type, then fetch the items by key, 100 at a time
    Batch,
    /// One advanced query (`SELECT *`) per resource type: half the calls, with tags and
    /// relationships; only for types advanced queries support
    Select,
}

/// Arguments of `resilix audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Region to audit; repeatable [default: the profile's or AWS_REGION]. With --aggregator,
    /// the aggregator's home region
    #[arg(long = "region", value_name = "REGION", help_heading = "AWS")]
    pub regions: Vec<String>,

    /// Audit every region of the standard AWS partition
    #[arg(long, conflicts_with_all = ["regions", "aggregator"], help_heading = "AWS")]
    pub all_regions: bool,

    /// Named profile from the AWS config and credentials files [default: AWS_PROFILE]
    #[arg(long, value_name = "NAME", help_heading = "AWS")]
    pub profile: Option<String>,

    /// Send AWS Config calls to URL (AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_CONFIG_SERVICE work too)
    #[arg(long, value_name = "URL", help_heading = "AWS")]
    pub endpoint_url: Option<String>,

    /// Audit every account and region an AWS Config aggregator collects
    #[arg(long, value_name = "NAME", help_heading = "AWS")]
    pub aggregator: Option<String>,

    /// Audit these member accounts directly, each through --assume-role (comma-separated IDs)
    ///
    /// For each account, resilix assumes arn:aws:iam::ID:role/NAME (sts:AssumeRole) and pulls
    /// the account in every region asked for, the accounts in parallel (within --concurrency).
    /// This is how an organization's history is audited (--changes-since): aggregators serve
    /// no history. An account whose role cannot be assumed, or whose pull fails, is reported as
    /// not pulled (exit 2); the others are still judged. Not with --aggregator.
    #[arg(long, value_name = "ID,ID…", value_delimiter = ',', value_parser = parse_account,
          group = "members", requires = "assume_role", conflicts_with = "aggregator",
          help_heading = "AWS")]
    pub accounts: Vec<String>,

    /// Audit the member accounts listed in FILE (one ID a line; # comments), as --accounts
    #[arg(
        long,
        value_name = "FILE",
        group = "members",
        requires = "assume_role",
        conflicts_with = "aggregator",
        help_heading = "AWS"
    )]
    pub accounts_file: Option<PathBuf>,

    /// The role to assume in each of --accounts: arn:aws:iam::ID:role/NAME (a path allowed)
    #[arg(long, value_name = "NAME", value_parser = parse_role, requires = "members",
          help_heading = "AWS")]
    pub assume_role: Option<String>,

    /// Pull only this AWS Config resource type; repeatable [default: every type the policies cover]
    #[arg(long = "resource-type", value_name = "TYPE", help_heading = "AWS")]
    pub resource_types: Vec<String>,

    /// How to fetch the items
    #[arg(long, value_enum, default_value_t = FetchArg::Batch, help_heading = "AWS")]
    pub fetch: FetchArg,

    /// (Accounts ×) regions × resource types pulled at once
    #[arg(long, value_name = "N", default_value_t = 4,
          value_parser = clap::value_parser!(u16).range(1..=64), help_heading = "AWS")]
    pub concurrency: u16,

    /// Attempts per AWS call, throttling included (the SDK's adaptive retry)
    #[arg(long, value_name = "N", default_value_t = resilix_aws::DEFAULT_MAX_ATTEMPTS,
          value_parser = clap::value_parser!(u32).range(1..=20), help_heading = "AWS")]
    pub max_attempts: u32,

    /// Longest wait for one AWS call to answer (e.g. 10s, 2m)
    ///
    /// Connecting (at most 3.1 s of it), sending and reading the whole answer. A call that times
    /// out is retried like any transient failure, within --max-retry-time.
    #[arg(long, value_name = "DURATION", default_value = "30s",
          value_parser = parse_timeout, help_heading = "AWS")]
    pub timeout: Duration,

    /// How long a region may fail without a break before it is given up
    ///
    /// When every call to a region (or to the aggregator) has failed — throttled, timed out,
    /// erroring — for this long, without one answer in between, resilix stops retrying there,
    /// does not send the calls it has not made yet, and reports the region incomplete (exit 2).
    /// 0s gives a region up at its first failure.
    #[arg(long, value_name = "DURATION", default_value = "30s",
          value_parser = parse_retry_time, help_heading = "AWS")]
    pub max_retry_time: Duration,

    /// Audit the changes since WHEN instead of the current state: 24h, 7d, 2w, or an RFC 3339
    /// time (2026-12-01T00:00Z)
    ///
    /// Pulls the configuration history of every resource that changed since then
    /// (config:GetResourceConfigHistory); each change is judged by the change-control policies
    /// as `resilix diff` judges one, and the newest state of each resource by the others.
    #[arg(long, value_name = "WHEN", value_parser = parse_since,
          conflicts_with = "aggregator", help_heading = "AWS")]
    pub changes_since: Option<jiff::Timestamp>,

    /// Also save what was pulled as an AWS Config snapshot file that `resilix scan` reads back
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub save: Option<PathBuf>,

    #[command(flatten)]
    pub output: OutputArgs,

    #[command(flatten)]
    pub baseline: BaselineArg,

    #[command(flatten)]
    pub policy: PolicyArgs,
}

/// An audit that could not start or brought nothing back.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub(crate) enum AuditError {
    #[error("audit: {fatal}")]
    #[diagnostic(code(audit::failed))]
    Pull {
        fatal: resilix_aws::Fatal,
        #[help]
        help: Option<&'static str>,
    },
    #[error("audit: nothing could be pulled; no report was written")]
    #[diagnostic(code(audit::nothing_pulled))]
    NothingPulled,
    #[error("audit: {path}: {message}")]
    #[diagnostic(code(audit::accounts_file))]
    AccountsFile {
        path: String,
        message: String,
        #[source_code]
        text: Option<miette::NamedSource<String>>,
        #[label("here")]
        span: Option<miette::SourceSpan>,
    },
    #[error("audit: `{resource_type}` is not a resource type any policy in use targets")]
    #[diagnostic(code(audit::resource_type))]
    UnknownType {
        resource_type: String,
        #[help]
        help: String,
    },
}

pub(crate) fn run(args: &AuditArgs, quiet: bool, diagnostics: &mut Diagnostics) -> ExitStatus {
    if let Err(error) = args.output.check() {
        diagnostics.push(Box::new(error));
        return ExitStatus::Error;
    }
    let mut outputs: Vec<Named> = args
        .save
        .iter()
        .map(|path| Named::new(flag("--save", path), path))
        .collect();
    outputs.extend(args.output.named_outputs());
    let mut inputs = args.baseline.named_inputs();
    inputs.extend(args.policy.named_inputs());
    inputs.extend(
        args.accounts_file
            .iter()
            .map(|path| Named::new(flag("--accounts-file", path), path)),
    );
    if let Err(status) = refuse_clashes(&outputs, &inputs, diagnostics) {
        return status;
    }
    let Some((catalog, config)) = args.policy.load(diagnostics) else {
        return ExitStatus::Error;
    };
    let covered = catalog.config_types();
    let mut resource_types: Vec<String> = Vec::new();
    for wanted in &args.resource_types {
        match covered.iter().find(|t| t.eq_ignore_ascii_case(wanted)) {
            Some(found) => resource_types.push(found.clone()),
            None => {
                let mut close: Vec<&String> = covered
                    .iter()
                    .filter(|t| strsim::jaro_winkler(t, wanted) > 0.85)
                    .collect();
                close.truncate(3);
                diagnostics.push(Box::new(AuditError::UnknownType {
                    resource_type: wanted.clone(),
                    help: if close.is_empty() {
                        format!(
                            "the policies in use cover: {}",
                            covered.iter().cloned().collect::<Vec<_>>().join(", ")
                        )
                    } else {
                        format!(
                            "did you mean {}?",
                            close
                                .iter()
                                .map(|t| format!("`{t}`"))
                                .collect::<Vec<_>>()
                                .join(" or ")
                        )
                    },
                }));
                return ExitStatus::Error;
            }
        }
    }
    if resource_types.is_empty() {
        resource_types = covered.into_iter().collect();
    }
    resource_types.sort();
    resource_types.dedup();
    let mut accounts = args.accounts.clone();
    if let Some(path) = &args.accounts_file {
        match read_accounts(path) {
            Ok(listed) => accounts.extend(listed),
            Err(error) => {
                diagnostics.push(Box::new(*error));
                return ExitStatus::Error;
            }
        }
    }
    accounts.sort();
    accounts.dedup();

    let options = Options {
        profile: args.profile.clone(),
        regions: args.regions.clone(),
        all_regions: args.all_regions,
        endpoint_url: args.endpoint_url.clone(),
        aggregator: args.aggregator.clone(),
        accounts,
        assume_role: args.assume_role.clone(),
        resource_types,
        method: match args.fetch {
            FetchArg::Batch => Method::Batch,
            FetchArg::Select => Method::Select,
        },
        changes_since: args.changes_since.map(std::time::SystemTime::from),
        max_attempts: args.max_attempts,
        timeout: args.timeout,
        settings: Settings {
            concurrency: usize::from(args.concurrency),
            max_retry_time: args.max_retry_time,
            ..Settings::default()
        },
    };
    let bar = Arc::new(Bar::new(
        quiet || !io::stderr().is_terminal(),
        if options.accounts.is_empty() {
            "region(s)"
        } else {
            "account region(s)"
        },
    ));
    let pulled = resilix_aws::pull_blocking(&options, Arc::clone(&bar) as Arc<dyn Progress>);
    bar.finish();
    let pull = match pulled {
        Ok(pull) => pull,
        Err(fatal) => {
            let help = fatal.help();
            diagnostics.push(Box::new(AuditError::Pull { fatal, help }));
            return ExitStatus::Error;
        }
    };
    let record = audit_record(&pull);
    if pull.items.is_empty() && !pull.failures.is_empty() {
        // Nothing came back: an empty report would read as a clean account.
        for error in snapshot::incomplete_errors("aws-config", &record) {
            diagnostics.push(Box::new(error));
        }
        diagnostics.push(Box::new(AuditError::NothingPulled));
        return ExitStatus::Error;
    }

    let written = match &args.save {
        Some(path) => {
            match output::write_atomic(path, |w| snapshot::write_snapshot(w, &pull.items, &record))
            {
                Ok(written) => Some((path, written)),
                Err(error) => {
                    diagnostics.push(Box::new(error));
                    return ExitStatus::Error;
                }
            }
        }
        None => None,
    };
    let inputs = match written {
        Some((path, output::Written::File)) => {
            // Read the saved file back, exactly as a later `resilix scan` will: findings point at
            // their line in it, and an incomplete pull reads back as incomplete. (A FIFO or a
            // stream, `--save >(gzip > snapshot.json.gz)`, cannot be read back: the items as
            // pulled are judged.)
            let options = LoadOptions {
                max_bytes: args.policy.limit.max_input_size,
                reference_types: Some(Arc::new(catalog.reference_types())),
                ..LoadOptions::default()
            };
            Inputs::from(input::load_paths(std::slice::from_ref(path), &options))
        }
        Some((_, output::Written::InPlace)) | None => live_inputs(pull, &record),
    };
    if let (Some(since), false) = (args.changes_since, quiet) {
        say_changes(&inputs, since);
    }
    finish(
        &catalog,
        &config,
        inputs,
        &args.output,
        args.baseline
            .baseline
            .as_deref()
            .map(|path| (path, args.policy.limit)),
        quiet,
        diagnostics,
    )
}

/// `--accounts`: an AWS account ID, twelve digits.
fn parse_account(text: &str) -> Result<String, String> {
    let id = text.trim();
    if id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) {
        Ok(id.to_owned())
    } else {
        Err(format!("`{text}` is not an AWS account ID (twelve digits)"))
    }
}

/// `--assume-role`: a role name, with its path if it has one (`audit/resilix`), in the
/// characters IAM allows.
fn parse_role(text: &str) -> Result<String, String> {
    let name = text.trim_matches('/');
    let allowed = |c: char| c.is_ascii_alphanumeric() || "+=,.@_-/".contains(c);
    let last = name.rsplit('/').next().unwrap_or(name);
    if name.is_empty() || name.starts_with("arn:") || !name.chars().all(allowed) {
        return Err(format!(
            "`{text}` is not a role name (give the name, e.g. resilix-audit, not an ARN)"
        ));
    }
    if last.len() > 64 || name.len() > 512 {
        return Err(format!("`{text}` is longer than IAM allows a role name"));
    }
    Ok(name.to_owned())
}

/// The most an `--accounts-file` may hold: far more than the accounts of any organization.
const MAX_ACCOUNTS_FILE: u64 = 1 << 20;

/// `--accounts-file`: one account ID a line; blank lines and `#` comments ignored. A line that
/// is not an ID is an error naming the file and the line.
fn read_accounts(path: &std::path::Path) -> Result<Vec<String>, Box<AuditError>> {
    use std::io::Read;
    let name = path.display().to_string();
    let fail = |message: String, span: Option<(String, miette::SourceSpan)>| {
        let (text, span) = match span {
            Some((text, span)) => (Some(miette::NamedSource::new(&name, text)), Some(span)),
            None => (None, None),
        };
        Box::new(AuditError::AccountsFile {
            path: name.clone(),
            message,
            text,
            span,
        })
    };
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|file| file.take(MAX_ACCOUNTS_FILE + 1).read_to_string(&mut text))
        .map_err(|e| fail(format!("cannot read the accounts: {e}"), None))?;
    if text.len() as u64 > MAX_ACCOUNTS_FILE {
        return Err(fail(
            format!("more than {MAX_ACCOUNTS_FILE} bytes: not a list of account IDs"),
            None,
        ));
    }
    let mut accounts = Vec::new();
    let mut offset = 0usize;
    for (number, line) in text.split_inclusive('\n').enumerate() {
        let start = offset;
        offset += line.len();
        let content = line.split('#').next().unwrap_or_default().trim();
        if content.is_empty() {
            continue;
        }
        match parse_account(content) {
            Ok(id) => accounts.push(id),
            Err(message) => {
                let at = start + line.find(content).unwrap_or(0);
                return Err(fail(
                    format!("line {}: {message}", number + 1),
                    Some((text.clone(), (at, content.len()).into())),
                ));
            }
        }
    }
    if accounts.is_empty() {
        return Err(fail("lists no account ID".to_owned(), None));
    }
    Ok(accounts)
}

/// The longest duration these options take: an hour.
const MAX_DURATION: Duration = Duration::from_secs(3600);

/// `--timeout`: a duration (`30s`, `500ms`, `2m`, ISO 8601 `PT30S`), more than zero.
fn parse_timeout(text: &str) -> Result<Duration, String> {
    let duration = parse_duration(text)?;
    if duration.is_zero() {
        return Err("a timeout must be more than zero".to_owned());
    }
    Ok(duration)
}

/// `--max-retry-time`: a duration, zero allowed (give a region up at its first failure).
fn parse_retry_time(text: &str) -> Result<Duration, String> {
    parse_duration(text)
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    let signed: jiff::SignedDuration = text
        .parse()
        .map_err(|_| format!("`{text}` is not a duration (e.g. 30s, 500ms, 2m)"))?;
    let duration = Duration::try_from(signed).map_err(|_| format!("`{text}` is negative"))?;
    if duration > MAX_DURATION {
        return Err(format!("`{text}` is more than the longest allowed, 1h"));
    }
    Ok(duration)
}

/// `--changes-since`: a time, or how long ago (`24h`, `90m`, `7d`, `2w`), not in the future.
fn parse_since(text: &str) -> Result<jiff::Timestamp, String> {
    let now = jiff::Timestamp::now();
    let since = match text.parse::<jiff::Timestamp>() {
        Ok(at) => at,
        Err(_) => {
            let ago = parse_ago(text).ok_or_else(|| {
                format!(
                    "`{text}` is neither a time (2026-12-01T00:00Z) nor how long ago (24h, 7d, 2w)"
                )
            })?;
            now.checked_sub(ago)
                .map_err(|_| format!("`{text}` is further back than time goes"))?
        }
    };
    if since > now {
        return Err(format!("`{text}` is in the future"));
    }
    Ok(since)
}

/// `7d`, `2w` (days and weeks of 24 hours), or a duration as `--timeout` takes it (`24h`).
fn parse_ago(text: &str) -> Option<jiff::SignedDuration> {
    let days = |n: &str, per: i64| {
        n.trim()
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .and_then(|n| n.checked_mul(per * 86_400))
            .map(jiff::SignedDuration::from_secs)
    };
    if let Some(n) = text.strip_suffix('d') {
        return days(n, 1);
    }
    if let Some(n) = text.strip_suffix('w') {
        return days(n, 7);
    }
    text.parse::<jiff::SignedDuration>()
        .ok()
        .filter(|d| !d.is_negative())
}

/// What a history holds: one line on stderr, as `resilix diff` says it.
fn say_changes(inputs: &Inputs, since: jiff::Timestamp) {
    use crate::model::ChangeKind;
    let (mut created, mut updated, mut deleted) = (0usize, 0usize, 0usize);
    for resource in &inputs.resources.resources {
        match resource.change_kind() {
            ChangeKind::Create => created += 1,
            ChangeKind::Delete => deleted += 1,
            ChangeKind::NoOp | ChangeKind::Read => {}
            _ => updated += 1,
        }
    }
    let _ = writeln!(
        io::stderr(),
        "resilix: {created} created, {updated} modified, {deleted} deleted since {since}"
    );
}

/// Resources straight from the pulled items (no file: SARIF reports them at `aws/ACCOUNT/REGION`).
/// A history's items become its changes ([`config_diff::history`]).
fn live_inputs(pull: Pull, record: &AuditRecord) -> Inputs {
    let mut resources = Vec::with_capacity(pull.items.len());
    let mut errors: Vec<LoadError> = snapshot::incomplete_errors("aws-config", record);
    for item in pull.items {
        match input::resource_from_item(item, Origin::default()) {
            Ok(resource) => resources.push(resource),
            Err(error) => errors.push(LoadError::Incomplete {
                name: "aws-config".to_owned(),
                message: format!("an item could not be read: {error}"),
                help: error.help.map(str::to_owned),
            }),
        }
    }
    let since = record
        .changes_since
        .as_deref()
        .and_then(|t| t.parse::<jiff::Timestamp>().ok());
    if let Some(since) = since {
        let history = config_diff::history(resources, since);
        resources = history.changes;
        errors.extend(history.errors);
    }
    Inputs {
        resources: ResourceSet { resources },
        errors,
        warnings: record
            .warnings
            .iter()
            .map(|message| LoadWarning {
                name: "aws-config".to_owned(),
                message: message.clone(),
                help: None,
            })
            .collect(),
        notes: Vec::new(),
        files: 0,
    }
}

fn audit_record(pull: &Pull) -> AuditRecord {
    AuditRecord {
        tool: format!("resilix {}", env!("CARGO_PKG_VERSION")),
        scope: pull.scope.clone(),
        resource_types: pull.resource_types.clone(),
        method: match (pull.method, pull.changes_since) {
            (_, Some(_)) => "history",
            (Method::Batch, None) => "batch",
            (Method::Select, None) => "select",
        }
        .to_owned(),
        changes_since: pull
            .changes_since
            .and_then(|t| jiff::Timestamp::try_from(t).ok())
            .map(|t| t.to_string()),
        complete: pull.is_complete(),
        failures: pull.failures.iter().map(pull_failure).collect(),
        warnings: pull.warnings.clone(),
    }
}

fn pull_failure(failure: &Failure) -> PullFailure {
    PullFailure {
        scope: failure.scope.clone(),
        kind: failure.kind.as_str().to_owned(),
        operation: failure.operation.to_owned(),
        message: failure.message.clone(),
        help: Some(failure.kind.help().to_owned()),
    }
}

/// The progress bar: resource types done, items pulled, regions done. Hidden when stderr is not
/// a terminal or with `--quiet`.
struct Bar {
    bar: ProgressBar,
    items: AtomicUsize,
    scopes_done: AtomicUsize,
    /// What a scope is: `region(s)`, or `account region(s)` in an audit of member accounts.
    scopes: &'static str,
}

impl Bar {
    fn new(hidden: bool, scopes: &'static str) -> Bar {
        let bar = if hidden {
            ProgressBar::hidden()
        } else {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template(
                "{spinner} pulling AWS Config [{bar:30}] {pos}/{len} resource types · {msg} ({elapsed})",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        };
        Bar {
            bar,
            items: AtomicUsize::new(0),
            scopes_done: AtomicUsize::new(0),
            scopes,
        }
    }

    fn message(&self) {
        self.bar.set_message(format!(
            "{} items · {} {} done",
            self.items.load(Ordering::Relaxed),
            self.scopes_done.load(Ordering::Relaxed),
            self.scopes
        ));
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Progress for Bar {
    fn planned(&self, units: usize) {
        self.bar.inc_length(units as u64);
        self.message();
    }

    fn pulled(&self, count: usize) {
        self.items.fetch_add(count, Ordering::Relaxed);
        self.message();
    }

    fn unit_done(&self, _scope: &str, _resource_type: &str) {
        self.bar.inc(1);
    }

    fn scope_done(&self, _scope: &str) {
        self.scopes_done.fetch_add(1, Ordering::Relaxed);
        self.message();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_in_the_forms_people_write() {
        assert_eq!(parse_timeout("200ms"), Ok(Duration::from_millis(200)));
        assert_eq!(parse_timeout("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_timeout("1m 30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_timeout("PT5S"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_retry_time("0s"), Ok(Duration::ZERO));
        assert!(parse_timeout("0s").is_err());
        assert!(parse_timeout("soon").is_err());
        assert!(parse_timeout("-5s").is_err());
        assert!(parse_retry_time("2h").is_err());
    }

    #[test]
    fn a_window_starts_at_a_time_or_so_long_ago() {
        let now = jiff::Timestamp::now();
        let day = parse_since("24h").unwrap();
        assert_eq!(
            parse_since("1d").unwrap().as_second() / 60,
            day.as_second() / 60
        );
        let week = parse_since("7d").unwrap();
        assert_eq!(
            parse_since("1w").unwrap().as_second() / 60,
            week.as_second() / 60
        );
        assert!((now.as_second() - week.as_second()) >= 7 * 86_400);
        assert_eq!(
            parse_since("2026-12-01T00:00Z").unwrap().to_string(),
            "2026-12-01T00:00:00Z"
        );
        assert!(parse_since("yesterday").is_err());
        assert!(parse_since("-1d").is_err());
        assert!(parse_since("2999-01-01T00:00Z").is_err(), "the future");
    }

    #[test]
    fn accounts_are_twelve_digits_and_roles_names() {
        assert_eq!(parse_account("111111111111"), Ok("111111111111".to_owned()));
        assert!(parse_account("11111111111").is_err());
        assert!(parse_account("11111111111a").is_err());
        assert_eq!(parse_role("resilix-audit"), Ok("resilix-audit".to_owned()));
        assert_eq!(
            parse_role("/audit/resilix/"),
            Ok("audit/resilix".to_owned())
        );
        assert!(parse_role("arn:aws:iam::111111111111:role/x").is_err());
        assert!(parse_role("a b").is_err());
        assert!(parse_role(&"r".repeat(65)).is_err());
    }

    #[test]
    fn an_accounts_file_lists_ids_and_a_bad_line_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("accounts.txt");
        std::fs::write(
            &path,
            "# production\n111111111111\n\n222222222222  # payments\n",
        )
        .unwrap();
        assert_eq!(
            read_accounts(&path).unwrap(),
            vec!["111111111111".to_owned(), "222222222222".to_owned()]
        );
        std::fs::write(&path, "111111111111\n22222222222x\n").unwrap();
        let error = read_accounts(&path).unwrap_err();
        assert!(
            error.to_string().ends_with(
                "accounts.txt: line 2: `22222222222x` is not an AWS account ID (twelve digits)"
            ),
            "{error}"
        );
        std::fs::write(&path, "# nobody\n").unwrap();
        assert!(
            read_accounts(&path)
                .unwrap_err()
                .to_string()
                .contains("lists no account ID")
        );
    }

    #[test]
    fn the_defaults_shown_in_help_are_the_library_defaults() {
        assert_eq!(parse_timeout("30s"), Ok(resilix_aws::DEFAULT_TIMEOUT));
        assert_eq!(
            parse_retry_time("30s"),
            Ok(resilix_aws::DEFAULT_MAX_RETRY_TIME)
        );
    }
}
