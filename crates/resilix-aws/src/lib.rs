//! Live pulls from AWS Config for `resilix audit`.
//!
//! This crate knows the AWS SDK and nothing of resilix. It pulls configuration items for a list of
//! resource types, from one account in one or more regions or from an organization's
//! configuration aggregator, and returns them as JSON in the delivery form (the shape of AWS
//! Config's snapshot files) together with a [`Pull`] record of what was complete and what failed.
//!
//! - Per region and resource type: ListDiscoveredResources (paginated), then
//!   BatchGetResourceConfig in batches of at most 100 keys, retrying unprocessed keys with
//!   exponential backoff ([`Method::Batch`]); or one paginated `SELECT *` per type through
//!   SelectResourceConfig ([`Method::Select`]): half the calls, and the rows carry tags and
//!   relationships, which batch items lack.
//! - Aggregators: the same with ListAggregateDiscoveredResources +
//!   BatchGetAggregateResourceConfig, or SelectAggregateResourceConfig.
//! - Member accounts ([`Options::accounts`]): a role assumed in each (STS AssumeRole, through
//!   aws-config's `AssumeRoleProvider`), then each account's regions pulled as one account's
//!   are; the way to an organization's history, which aggregators do not serve.
//! - Units of work (region × type) run concurrently up to a bound; throttling is the SDK's
//!   adaptive retry mode's job.
//! - Every call is bounded in time ([`Options::timeout`] per attempt, connecting and reading
//!   included, and [`Options::timeouts`] per call), a region that does nothing but fail is given
//!   up after [`Settings::max_retry_time`], and paging is bounded ([`Settings::max_pages`],
//!   [`Settings::max_empty_pages`], no page token twice).
//! - A failure never aborts the other units, and never goes unrecorded: [`Pull::failures`].

mod accounts;
pub mod attribution;
mod budget;
mod errors;
mod fetch;
mod history;
pub mod items;
mod paging;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader, Region, SdkConfig};
use aws_sdk_config::Client;

pub use accounts::{SESSION_NAME, role_arn};
pub use errors::{Classified, FailureKind, classify, classify_code};
pub use fetch::{pull_aggregator, pull_regions};
pub use history::pull_history_regions;

/// How items are fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    /// List the resources, then fetch them by key in batches of 100: every recorded item, as
    /// recorded (no tags or relationships).
    #[default]
    Batch,
    /// One `SELECT *` query per resource type: fewer calls, with tags and relationships; only
    /// for resource types advanced queries support.
    Select,
}

/// Tuning that tests shrink.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Page size of list and select calls (AWS maximum: 100).
    pub page_size: i32,
    /// Keys per batch call (AWS maximum: 100).
    pub batch_size: usize,
    /// Further attempts for keys a batch call left unprocessed.
    pub unprocessed_retries: u32,
    /// Wait before the first retry of unprocessed keys; doubled each time.
    pub backoff: Duration,
    /// Units of work (region × resource type) in flight at once.
    pub concurrency: usize,
    /// How long every call to one region (or to the aggregator) may go on failing, without one
    /// answer in between, before the region is given up: no more retries there, and the calls
    /// not yet made are not made.
    pub max_retry_time: Duration,
    /// Pages of one listing (one resource type in one region, or through the aggregator) read
    /// at most; a listing that goes on is a failure.
    pub max_pages: usize,
    /// Empty pages in a row that still hand out a token for more, at most.
    pub max_empty_pages: usize,
}

/// The longest wait for one attempt of one call (`--timeout`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a region may go on failing before it is given up (`--max-retry-time`).
pub const DEFAULT_MAX_RETRY_TIME: Duration = Duration::from_secs(30);
/// Attempts per call (`--max-attempts`).
pub const DEFAULT_MAX_ATTEMPTS: u32 = 8;
/// Connecting never waits longer than this (nor longer than the timeout): the SDK's own default,
/// just over the 3 s a lost TCP SYN takes to be sent again.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(3100);

impl Default for Settings {
    fn default() -> Self {
        Settings {
            page_size: 100,
            batch_size: 100,
            unprocessed_retries: 5,
            backoff: Duration::from_millis(250),
            concurrency: 4,
            max_retry_time: DEFAULT_MAX_RETRY_TIME,
            // 10,000 pages of 100: a million resources of one type in one region (or in a
            // whole organization, through an aggregator), far beyond real accounts.
            max_pages: 10_000,
            // A real listing can have an empty page now and then; a hundred in a row is a
            // service that will never stop.
            max_empty_pages: 100,
        }
    }
}

/// What to pull, and how to reach AWS.
#[derive(Debug, Clone)]
pub struct Options {
    /// A profile from the shared config files (`--profile`); else the default chain.
    pub profile: Option<String>,
    /// Regions to audit; empty means the configured default region.
    pub regions: Vec<String>,
    /// Every region of the standard partition ([`STANDARD_REGIONS`]).
    pub all_regions: bool,
    /// An endpoint to use instead of AWS's (`--endpoint-url`; the SDK also reads
    /// `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_CONFIG_SERVICE`).
    pub endpoint_url: Option<String>,
    /// Pull through this configuration aggregator (organization-wide) instead.
    pub aggregator: Option<String>,
    /// Pull these member accounts directly instead of the credentials' own (`--accounts`), each
    /// through the role [`Options::assume_role`] names in it, in every region asked for.
    pub accounts: Vec<String>,
    /// The role assumed in each of [`Options::accounts`] (`--assume-role NAME`, a path allowed):
    /// `arn:aws:iam::ACCOUNT:role/NAME`.
    pub assume_role: Option<String>,
    /// AWS Config resource types to pull (`AWS::S3::Bucket`, …).
    pub resource_types: Vec<String>,
    pub method: Method,
    /// Pull the configuration history of the resources that changed since then
    /// (`--changes-since`) instead of their current items.
    pub changes_since: Option<SystemTime>,
    /// Attempts per API call, throttling included (the SDK's adaptive retry mode).
    pub max_attempts: u32,
    /// The longest wait for one attempt of one call: connecting (at most 3.1 s of it), sending,
    /// and reading the whole answer. An attempt that times out is retried like any transient
    /// failure.
    pub timeout: Duration,
    pub settings: Settings,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            profile: None,
            regions: Vec::new(),
            all_regions: false,
            endpoint_url: None,
            aggregator: None,
            accounts: Vec::new(),
            assume_role: None,
            resource_types: Vec::new(),
            method: Method::default(),
            changes_since: None,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            timeout: DEFAULT_TIMEOUT,
            settings: Settings::default(),
        }
    }
}

impl Options {
    /// The SDK's retry configuration: adaptive (backoff with jitter, and a client-side rate that
    /// slows down when throttled), `max_attempts` attempts per call.
    pub fn retries(&self) -> RetryConfig {
        RetryConfig::adaptive().with_max_attempts(self.max_attempts.max(1))
    }

    /// The SDK's timeouts for these options: connecting (at most 3.1 s), reading the answer and
    /// each attempt within [`Options::timeout`]. A whole call gets its first attempt, the
    /// retries the region's [`Settings::max_retry_time`] allows, the longest backoff and one
    /// more attempt: the region's retry budget is what normally ends a failing call, and this
    /// bound stands behind it.
    pub fn timeouts(&self) -> TimeoutConfig {
        let timeout = self.timeout.max(Duration::from_millis(1));
        let call = timeout
            .saturating_mul(2)
            .saturating_add(self.settings.max_retry_time)
            .saturating_add(self.retries().max_backoff());
        TimeoutConfig::builder()
            .connect_timeout(timeout.min(CONNECT_TIMEOUT))
            .read_timeout(timeout)
            .operation_attempt_timeout(timeout)
            .operation_timeout(call)
            .build()
    }

    /// The SDK configuration for these options, not yet loaded: the credential chain (or
    /// `profile`), the endpoint, adaptive retry with `max_attempts`, and [`Options::timeouts`].
    /// Callers may add to it (tests give static credentials and a region).
    pub fn sdk_loader(&self) -> ConfigLoader {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(self.retries())
            .timeout_config(self.timeouts());
        if let Some(profile) = &self.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(url) = &self.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        loader
    }
}

/// Regions of the `aws` partition where AWS Config is available, for `--all-regions`.
/// Regions a new account has to opt in to are in [`OPT_IN_REGIONS`] too.
pub const STANDARD_REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
];

/// Regions that are disabled until the account opts in: with `--all-regions`, a credentials
/// error there means "not enabled" and the region is skipped (and said to be).
pub const OPT_IN_REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-south-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-7",
    "ca-west-1",
    "eu-central-2",
    "eu-south-1",
    "eu-south-2",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
];

/// One thing that could not be pulled.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Failure {
    /// Where: `us-east-1`, `us-east-1 AWS::S3::Bucket`, `aggregator org AWS::IAM::Role`; in an
    /// audit of member accounts, `111111111111 us-east-1 AWS::S3::Bucket` or `account
    /// 111111111111` (its role could not be assumed).
    pub scope: String,
    pub kind: FailureKind,
    /// The API call that failed.
    pub operation: &'static str,
    pub message: String,
}

/// A unit of work that completed: what it pulled.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct UnitSummary {
    /// Region, `ACCOUNT REGION`, or `aggregator NAME`.
    pub scope: String,
    pub resource_type: String,
    pub items: usize,
}

/// Everything a pull brought back.
#[derive(Debug, Default)]
pub struct Pull {
    /// Configuration items in the delivery form, sorted by account, region, type and id.
    pub items: Vec<serde_json::Value>,
    /// What was asked for: regions, `ACCOUNT REGION`s, or the aggregator.
    pub scope: Vec<String>,
    pub resource_types: Vec<String>,
    pub method: Method,
    /// The start of the window of a history pull: `items` are then the history of each resource
    /// that changed since, in capture order, from its last item before the window.
    pub changes_since: Option<SystemTime>,
    /// Units that completed, with their item counts.
    pub units: Vec<UnitSummary>,
    /// What could not be pulled. A pull with failures is incomplete.
    pub failures: Vec<Failure>,
    /// Things worth knowing that did not lose data (a stopped recorder, a skipped opt-in
    /// region, an aggregator source that failed to update).
    pub warnings: Vec<String>,
}

impl Pull {
    /// Every unit of work succeeded.
    pub fn is_complete(&self) -> bool {
        self.failures.is_empty()
    }

    pub(crate) fn finish(&mut self) {
        self.items.sort_by_cached_key(items::sort_key);
        self.units.sort();
        self.failures.sort();
        self.warnings.sort();
        self.warnings.dedup();
    }
}

/// Errors that stop a pull before anything is fetched.
#[derive(Debug, thiserror::Error)]
pub enum Fatal {
    #[error(
        "no AWS region: pass --region REGION (or --all-regions), or set AWS_REGION or a region in the profile"
    )]
    NoRegion,
    #[error("--aggregator takes the aggregator's home region: give exactly one --region (got {0})")]
    AggregatorRegions(usize),
    #[error("aggregator `{name}`: {message}")]
    Aggregator {
        name: String,
        kind: FailureKind,
        message: String,
    },
    #[error(
        "--changes-since pulls each account's configuration history, which aggregators do not serve: audit the accounts directly (--accounts with --assume-role)"
    )]
    HistoryThroughAggregator,
    #[error(
        "--accounts pulls each account directly and --aggregator through the aggregator: give one of them"
    )]
    AccountsAndAggregator,
    #[error("--accounts needs --assume-role NAME: the role to assume in each account")]
    NoRole,
    #[error("no resource types to pull")]
    NoResourceTypes,
    #[error("could not start the async runtime: {0}")]
    Runtime(String),
}

impl Fatal {
    /// What the user can do about it.
    pub fn help(&self) -> Option<&'static str> {
        match self {
            Fatal::Aggregator { kind, .. } => Some(kind.help()),
            Fatal::NoResourceTypes => Some(
                "the policies in use target no AWS Config resource type (check --resource-type)",
            ),
            _ => None,
        }
    }
}

/// Progress of a pull, for a progress bar. Calls come from the pulling tasks, in any order.
pub trait Progress: Send + Sync {
    /// The number of units of work (region × resource type) planned.
    fn planned(&self, _units: usize) {}
    /// A unit found `keys` resources to fetch.
    fn listed(&self, _scope: &str, _resource_type: &str, _keys: usize) {}
    /// `count` more items were fetched.
    fn pulled(&self, _count: usize) {}
    /// A unit finished (successfully or not).
    fn unit_done(&self, _scope: &str, _resource_type: &str) {}
    /// Every unit of a region (or of the aggregator) finished.
    fn scope_done(&self, _scope: &str) {}
}

/// A [`Progress`] that shows nothing.
pub struct NoProgress;

impl Progress for NoProgress {}

/// Builds the SDK configuration ([`Options::sdk_loader`]) and pulls.
/// Runs its own single-threaded runtime: calls are I/O-bound, and evaluation happens after, on
/// the caller's thread pool.
pub fn pull_blocking(options: &Options, progress: Arc<dyn Progress>) -> Result<Pull, Fatal> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Fatal::Runtime(e.to_string()))?;
    runtime.block_on(pull(options, progress))
}

/// The async form of [`pull_blocking`].
pub async fn pull(options: &Options, progress: Arc<dyn Progress>) -> Result<Pull, Fatal> {
    if options.resource_types.is_empty() {
        return Err(Fatal::NoResourceTypes);
    }
    let shared = options.sdk_loader().load().await;
    pull_with_config(&shared, options, progress).await
}

/// [`pull`] with an SDK configuration already loaded (from [`Options::sdk_loader`]).
pub async fn pull_with_config(
    shared: &SdkConfig,
    options: &Options,
    progress: Arc<dyn Progress>,
) -> Result<Pull, Fatal> {
    if options.resource_types.is_empty() {
        return Err(Fatal::NoResourceTypes);
    }
    let client_for = |config: &SdkConfig, region: &str| {
        let config = aws_sdk_config::config::Builder::from(config)
            .region(Region::new(region.to_owned()))
            .build();
        Client::from_conf(config)
    };
    let default_region = shared.region().map(|r| r.as_ref().to_owned());
    if !options.accounts.is_empty() && options.aggregator.is_some() {
        return Err(Fatal::AccountsAndAggregator);
    }

    if let Some(name) = &options.aggregator {
        if options.changes_since.is_some() {
            return Err(Fatal::HistoryThroughAggregator);
        }
        let region = match options.regions.as_slice() {
            [] => default_region.ok_or(Fatal::NoRegion)?,
            [one] => one.clone(),
            more => return Err(Fatal::AggregatorRegions(more.len())),
        };
        let client = client_for(shared, &region);
        return pull_aggregator(
            &client,
            name,
            &options.resource_types,
            options.method,
            &options.settings,
            progress,
        )
        .await;
    }

    let mut regions: Vec<String> = if options.all_regions {
        STANDARD_REGIONS.iter().map(|r| (*r).to_owned()).collect()
    } else if options.regions.is_empty() {
        vec![default_region.clone().ok_or(Fatal::NoRegion)?]
    } else {
        options.regions.clone()
    };
    regions.sort();
    regions.dedup();

    // Member accounts: each (account, region) is a scope, pulled as one account's region is.
    let mut assumed = None;
    let clients: Vec<(String, Client)> = if options.accounts.is_empty() {
        regions
            .iter()
            .map(|region| (region.clone(), client_for(shared, region)))
            .collect()
    } else {
        let role = options.assume_role.as_deref().ok_or(Fatal::NoRole)?;
        let sts_region = default_region
            .as_deref()
            .or(regions.first().map(String::as_str));
        let accounts = accounts::assume_all(shared, options, role, sts_region).await;
        let clients = accounts
            .configs
            .iter()
            .flat_map(|(account, config)| {
                regions
                    .iter()
                    .map(move |region| (format!("{account} {region}"), client_for(config, region)))
            })
            .collect();
        assumed = Some(accounts);
        clients
    };
    let mut pull = pull_scopes(shared, clients, assumed.as_ref(), options, progress).await;
    if let Some(assumed) = assumed {
        // What was asked of the accounts whose role was refused, and why nothing came back.
        for (account, failure) in assumed.refused {
            pull.scope
                .extend(regions.iter().map(|region| format!("{account} {region}")));
            pull.failures.push(failure);
        }
        pull.scope.sort();
        pull.failures.sort();
    }
    Ok(pull)
}

/// The pull of every scope (a region, or an account's region) of `clients`: their history with
/// `--changes-since`, attributed through CloudTrail, else their current items.
async fn pull_scopes(
    shared: &SdkConfig,
    clients: Vec<(String, Client)>,
    assumed: Option<&accounts::Assumed>,
    options: &Options,
    progress: Arc<dyn Progress>,
) -> Pull {
    if let Some(since) = options.changes_since {
        let mut pull = pull_history_regions(
            clients,
            &options.resource_types,
            since,
            options.all_regions,
            &options.settings,
            progress,
        )
        .await;
        let none = std::collections::BTreeMap::new();
        let configs = assumed.map_or(&none, |a| &a.configs);
        attribution::attribute(shared, configs, &mut pull, &options.settings).await;
        return pull;
    }
    pull_regions(
        clients,
        &options.resource_types,
        options.method,
        options.all_regions,
        &options.settings,
        progress,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_timeout_of_the_sdk_is_set_from_the_options() {
        let options = Options {
            timeout: Duration::from_millis(200),
            settings: Settings {
                max_retry_time: Duration::from_millis(500),
                ..Settings::default()
            },
            ..Options::default()
        };
        let timeouts = options.timeouts();
        assert_eq!(timeouts.connect_timeout(), Some(Duration::from_millis(200)));
        assert_eq!(timeouts.read_timeout(), Some(Duration::from_millis(200)));
        assert_eq!(
            timeouts.operation_attempt_timeout(),
            Some(Duration::from_millis(200))
        );
        // Two attempts, the retry time, the longest backoff (20 s).
        assert_eq!(
            timeouts.operation_timeout(),
            Some(Duration::from_millis(20_900))
        );
        let defaults = Options::default().timeouts();
        assert_eq!(defaults.connect_timeout(), Some(CONNECT_TIMEOUT));
        assert_eq!(defaults.read_timeout(), Some(DEFAULT_TIMEOUT));
        assert_eq!(defaults.operation_timeout(), Some(Duration::from_secs(110)));
        assert_eq!(Options::default().retries().max_attempts(), 8);
    }
}
