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
//! - Units of work (region × type) run concurrently up to a bound; throttling is the SDK's
//!   adaptive retry mode's job.
//! - A failure never aborts the other units, and never goes unrecorded: [`Pull::failures`].

mod errors;
mod fetch;
pub mod items;

use std::sync::Arc;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_config::Client;

pub use errors::{Classified, FailureKind, classify, classify_code};
pub use fetch::{pull_aggregator, pull_regions};

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
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            page_size: 100,
            batch_size: 100,
            unprocessed_retries: 5,
            backoff: Duration::from_millis(250),
            concurrency: 4,
        }
    }
}

/// What to pull, and how to reach AWS.
#[derive(Debug, Clone, Default)]
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
    /// AWS Config resource types to pull (`AWS::S3::Bucket`, …).
    pub resource_types: Vec<String>,
    pub method: Method,
    /// Attempts per API call, throttling included (the SDK's adaptive retry mode).
    pub max_attempts: u32,
    pub settings: Settings,
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
    /// Where: `us-east-1`, `us-east-1 AWS::S3::Bucket`, `aggregator org AWS::IAM::Role`.
    pub scope: String,
    pub kind: FailureKind,
    /// The API call that failed.
    pub operation: &'static str,
    pub message: String,
}

/// A unit of work that completed: what it pulled.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct UnitSummary {
    /// Region, or `aggregator NAME`.
    pub scope: String,
    pub resource_type: String,
    pub items: usize,
}

/// Everything a pull brought back.
#[derive(Debug, Default)]
pub struct Pull {
    /// Configuration items in the delivery form, sorted by account, region, type and id.
    pub items: Vec<serde_json::Value>,
    /// What was asked for: regions, or the aggregator.
    pub scope: Vec<String>,
    pub resource_types: Vec<String>,
    pub method: Method,
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

/// Builds the SDK configuration (credential chain, profile, endpoint, adaptive retry) and pulls.
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
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::adaptive().with_max_attempts(options.max_attempts.max(1)));
    if let Some(profile) = &options.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(url) = &options.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    let shared = loader.load().await;
    let client_for = |region: &str| {
        let config = aws_sdk_config::config::Builder::from(&shared)
            .region(Region::new(region.to_owned()))
            .build();
        Client::from_conf(config)
    };
    let default_region = shared.region().map(|r| r.as_ref().to_owned());

    if let Some(name) = &options.aggregator {
        let region = match options.regions.as_slice() {
            [] => default_region.ok_or(Fatal::NoRegion)?,
            [one] => one.clone(),
            more => return Err(Fatal::AggregatorRegions(more.len())),
        };
        let client = client_for(&region);
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
        vec![default_region.ok_or(Fatal::NoRegion)?]
    } else {
        options.regions.clone()
    };
    regions.sort();
    regions.dedup();
    let clients: Vec<(String, Client)> = regions
        .iter()
        .map(|region| (region.clone(), client_for(region)))
        .collect();
    Ok(pull_regions(
        clients,
        &options.resource_types,
        options.method,
        options.all_regions,
        &options.settings,
        progress,
    )
    .await)
}
