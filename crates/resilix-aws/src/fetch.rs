//! The pulls themselves: per region (or aggregator) and resource type, list then batch-get, or
//! select; bounded concurrency; unprocessed keys retried with backoff; bounded paging; every
//! failure recorded.

use std::collections::{BTreeMap, BTreeSet};
use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_config::Client;
use aws_sdk_config::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_config::types::{
    AggregateResourceIdentifier, AggregatedSourceStatusType, BaseConfigurationItem,
    ResourceIdentifier, ResourceKey, ResourceType,
};
use aws_smithy_types::date_time::Format;
use aws_smithy_types::timeout::TimeoutConfig;
use serde_json::Value;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::budget::{BudgetClassifier, RetryBudget, human};
use crate::errors::{Classified, FailureKind, classify};
use crate::paging::Pager;
use crate::{Failure, Fatal, Method, OPT_IN_REGIONS, Progress, Pull, Settings, UnitSummary, items};

/// The client of one region (or of the aggregator's home region), with that region's
/// [`RetryBudget`]: every call goes through [`Api::call`].
#[derive(Clone)]
pub(crate) struct Api {
    pub(crate) client: Client,
    /// The region, or `aggregator NAME`.
    pub(crate) scope: String,
    budget: Arc<RetryBudget>,
}

impl Api {
    pub(crate) fn new(scope: &str, client: &Client, settings: &Settings) -> Api {
        let budget = Arc::new(RetryBudget::new(settings.max_retry_time));
        let config = client
            .config()
            .to_builder()
            .retry_classifier(BudgetClassifier(Arc::clone(&budget)))
            .build();
        Api {
            client: Client::from_conf(config),
            scope: scope.to_owned(),
            budget,
        }
    }

    /// Sends a request built from [`Api::client`], unless the region has been given up; a
    /// failure is classified and says what bounded it.
    pub(crate) async fn call<T, E, R>(
        &self,
        request: impl Future<Output = Result<T, SdkError<E, R>>>,
    ) -> Result<T, Classified>
    where
        E: ProvideErrorMetadata + StdError + 'static,
        R: fmt::Debug + 'static,
    {
        if let Some(failing) = self.budget.given_up() {
            return Err(Classified {
                kind: FailureKind::GaveUp,
                message: format!(
                    "{}, so resilix stopped calling it",
                    self.given_up_because(failing)
                ),
            });
        }
        request.await.map_err(|error| self.explain(&error))
    }

    fn given_up_because(&self, failing: Duration) -> String {
        given_up_because(&self.scope, failing, self.budget.limit())
    }

    fn explain<E, R>(&self, error: &SdkError<E, R>) -> Classified
    where
        E: ProvideErrorMetadata + StdError + 'static,
        R: fmt::Debug + 'static,
    {
        explain(
            error,
            self.client.config().timeout_config(),
            &self.budget,
            &self.scope,
        )
    }
}

/// Why a region is given up: how long it failed, and what --max-retry-time allows.
pub(crate) fn given_up_because(scope: &str, failing: Duration, limit: Duration) -> String {
    format!(
        "every call to {scope} had failed without a break for {}, and --max-retry-time allows {}",
        human(failing),
        human(limit)
    )
}

/// [`classify`], and which limit ended the call: the timeout of an attempt or of the whole
/// call, or the region's retry budget. For the calls of any AWS service (Config, CloudTrail).
pub(crate) fn explain<E, R>(
    error: &SdkError<E, R>,
    timeouts: Option<&TimeoutConfig>,
    budget: &RetryBudget,
    scope: &str,
) -> Classified
where
    E: ProvideErrorMetadata + StdError + 'static,
    R: fmt::Debug + 'static,
{
    let mut classified = classify(error);
    if classified.kind == FailureKind::TimedOut {
        // The SDK's words ("operation attempt timeout (single attempt) occurred after
        // 200ms") say less than which limit it was and how to change it.
        let whole_call = matches!(error, SdkError::TimeoutError(_))
            && classified.message.contains("all attempts");
        let connecting = classified.message.contains("connect timeout");
        let said = if whole_call {
            timeouts.and_then(|t| t.operation_timeout()).map(|limit| {
                format!(
                    "no answer in time: the call, retries included, did not complete within {} (twice --timeout, plus --max-retry-time and the longest backoff)",
                    human(limit)
                )
            })
        } else if connecting {
            timeouts.and_then(|t| t.connect_timeout()).map(|limit| {
                format!(
                    "could not connect within {} (--timeout, at most 3.1 s for connecting)",
                    human(limit)
                )
            })
        } else {
            timeouts
                .and_then(|t| t.operation_attempt_timeout())
                .map(|limit| format!("no answer within {} (--timeout)", human(limit)))
        };
        if let Some(said) = said {
            classified.message = said;
        }
    }
    let retryable = matches!(
        classified.kind,
        FailureKind::Throttled
            | FailureKind::TimedOut
            | FailureKind::Unreachable
            | FailureKind::Service
    );
    if let Some(failing) = budget.given_up().filter(|_| retryable) {
        classified.message = format!(
            "{}; not retried further: {}",
            classified.message,
            given_up_because(scope, failing, budget.limit())
        );
    }
    classified
}

/// What one unit of work (scope × resource type) brought back.
pub(crate) struct UnitResult {
    pub(crate) scope: String,
    pub(crate) resource_type: String,
    pub(crate) items: Vec<Value>,
    pub(crate) failures: Vec<Failure>,
}

impl UnitResult {
    pub(crate) fn new(scope: &str, resource_type: &str) -> Self {
        UnitResult {
            scope: scope.to_owned(),
            resource_type: resource_type.to_owned(),
            items: Vec::new(),
            failures: Vec::new(),
        }
    }

    pub(crate) fn fail(&mut self, operation: &'static str, classified: Classified) {
        self.failures.push(Failure {
            scope: format!("{} {}", self.scope, self.resource_type),
            kind: classified.kind,
            operation,
            message: classified.message,
        });
    }
}

pub(crate) type UnitFuture = Pin<Box<dyn Future<Output = UnitResult> + Send>>;

/// Pulls every resource type from every region, `(region, client)` pairs given. Regions without
/// a recorder, or that refuse the credentials, are recorded as failures; with `all_regions`, an
/// opt-in region that rejects the credentials is skipped with a warning instead.
pub async fn pull_regions(
    clients: Vec<(String, Client)>,
    resource_types: &[String],
    method: Method,
    all_regions: bool,
    settings: &Settings,
    progress: Arc<dyn Progress>,
) -> Pull {
    let unit = move |api: Api,
                     region: String,
                     resource_type: String,
                     settings: Settings,
                     progress: Arc<dyn Progress>|
          -> UnitFuture {
        match method {
            Method::Batch => Box::pin(async move {
                region_batch_unit(&api, &region, &resource_type, &settings, &*progress).await
            }),
            Method::Select => Box::pin(async move {
                select_unit(
                    Selector::Region(&api),
                    &region,
                    &resource_type,
                    &settings,
                    &*progress,
                )
                .await
            }),
        }
    };
    let mut pull = Pull {
        method,
        ..Pull::default()
    };
    pull_regions_with(
        &mut pull,
        clients,
        resource_types,
        all_regions,
        settings,
        progress,
        unit,
    )
    .await;
    pull
}

/// Probes every region, then runs `unit` for every ready region and resource type, into `pull`.
pub(crate) async fn pull_regions_with(
    pull: &mut Pull,
    clients: Vec<(String, Client)>,
    resource_types: &[String],
    all_regions: bool,
    settings: &Settings,
    progress: Arc<dyn Progress>,
    unit: impl Fn(Api, String, String, Settings, Arc<dyn Progress>) -> UnitFuture,
) {
    pull.scope = clients.iter().map(|(r, _)| r.clone()).collect();
    pull.resource_types = resource_types.to_vec();

    // Probe every region first: one cheap call says whether anything is recorded there.
    let mut probes = JoinSet::new();
    let limit = Arc::new(Semaphore::new(settings.concurrency.max(1)));
    for (region, client) in clients {
        let limit = Arc::clone(&limit);
        let api = Api::new(&region, &client, settings);
        probes.spawn(async move {
            let _permit = limit.acquire_owned().await;
            let probe = probe_region(&api, &region, all_regions).await;
            (region, api, probe)
        });
    }
    let mut ready: Vec<(String, Api)> = Vec::new();
    let mut unrecorded: Vec<String> = Vec::new();
    while let Some(joined) = probes.join_next().await {
        match joined {
            Ok((region, api, Probe::Ready(warnings))) => {
                pull.warnings.extend(warnings);
                ready.push((region, api));
            }
            Ok((region, _, Probe::Skipped(warning))) => {
                pull.warnings.push(warning);
                progress.scope_done(&region);
            }
            Ok((region, _, Probe::Failed(failure))) => {
                if failure.kind == FailureKind::NoRecorder {
                    unrecorded.push(region.clone());
                } else {
                    pull.failures.push(failure);
                }
                progress.scope_done(&region);
            }
            Err(error) => pull.failures.push(task_failure(&error)),
        }
    }
    // One failure for all the regions without a recorder (often most of them, with
    // --all-regions), rather than one each.
    unrecorded.sort();
    match unrecorded.as_slice() {
        [] => {}
        [region] => pull
            .failures
            .push(no_recorder(region, format!("in {region}"))),
        regions => pull.failures.push(no_recorder(
            &regions.join(", "),
            format!("in {} regions ({})", regions.len(), regions.join(", ")),
        )),
    }
    ready.sort_by(|a, b| a.0.cmp(&b.0));

    let mut units: Vec<(String, UnitFuture)> = Vec::new();
    for (region, api) in &ready {
        for resource_type in resource_types {
            let future = unit(
                api.clone(),
                region.clone(),
                resource_type.clone(),
                settings.clone(),
                Arc::clone(&progress),
            );
            units.push((region.clone(), future));
        }
    }
    run_units(units, settings, &progress, pull).await;
    pull.finish();
}

/// Pulls every resource type through a configuration aggregator (all its accounts and regions).
/// An aggregator that does not exist, or that the credentials may not read, is fatal; a source
/// account or region whose last aggregation failed makes the pull incomplete.
pub async fn pull_aggregator(
    client: &Client,
    name: &str,
    resource_types: &[String],
    method: Method,
    settings: &Settings,
    progress: Arc<dyn Progress>,
) -> Result<Pull, Fatal> {
    let scope = format!("aggregator {name}");
    let api = Api::new(&scope, client, settings);
    api.call(
        api.client
            .describe_configuration_aggregators()
            .configuration_aggregator_names(name)
            .send(),
    )
    .await
    .map_err(|classified| Fatal::Aggregator {
        name: name.to_owned(),
        kind: classified.kind,
        message: classified.message,
    })?;
    let mut pull = Pull {
        scope: vec![scope.clone()],
        resource_types: resource_types.to_vec(),
        method,
        ..Pull::default()
    };
    aggregator_sources(&api, name, &scope, settings, &mut pull).await;

    let mut units: Vec<(String, UnitFuture)> = Vec::new();
    for resource_type in resource_types {
        let unit_scope = scope.clone();
        let (api, name, scope, resource_type) = (
            api.clone(),
            name.to_owned(),
            scope.clone(),
            resource_type.clone(),
        );
        let (settings, progress) = (settings.clone(), Arc::clone(&progress));
        let future: UnitFuture = match method {
            Method::Batch => Box::pin(async move {
                aggregate_batch_unit(&api, &name, &scope, &resource_type, &settings, &*progress)
                    .await
            }),
            Method::Select => Box::pin(async move {
                select_unit(
                    Selector::Aggregator(&api, &name),
                    &scope,
                    &resource_type,
                    &settings,
                    &*progress,
                )
                .await
            }),
        };
        units.push((unit_scope, future));
    }
    run_units(units, settings, &progress, &mut pull).await;
    pull.finish();
    Ok(pull)
}

/// Runs units of work, at most `settings.concurrency` at once, and gathers their results.
async fn run_units(
    units: Vec<(String, UnitFuture)>,
    settings: &Settings,
    progress: &Arc<dyn Progress>,
    pull: &mut Pull,
) {
    progress.planned(units.len());
    let mut remaining: BTreeMap<String, usize> = BTreeMap::new();
    for (scope, _) in &units {
        *remaining.entry(scope.clone()).or_default() += 1;
    }
    let limit = Arc::new(Semaphore::new(settings.concurrency.max(1)));
    let mut set = JoinSet::new();
    for (_, unit) in units {
        let limit = Arc::clone(&limit);
        set.spawn(async move {
            let _permit = limit.acquire_owned().await;
            unit.await
        });
    }
    while let Some(joined) = set.join_next().await {
        let result = match joined {
            Ok(result) => result,
            Err(error) => {
                pull.failures.push(task_failure(&error));
                continue;
            }
        };
        progress.unit_done(&result.scope, &result.resource_type);
        if let Some(left) = remaining.get_mut(&result.scope) {
            *left = left.saturating_sub(1);
            if *left == 0 {
                progress.scope_done(&result.scope);
            }
        }
        if result.failures.is_empty() {
            pull.units.push(UnitSummary {
                scope: result.scope,
                resource_type: result.resource_type,
                items: result.items.len(),
            });
        }
        pull.failures.extend(result.failures);
        pull.items.extend(result.items);
    }
}

fn task_failure(error: &tokio::task::JoinError) -> Failure {
    Failure {
        scope: "internal".to_owned(),
        kind: FailureKind::Service,
        operation: "pull task",
        message: format!("a pull task ended abnormally (this is a bug): {error}"),
    }
}

enum Probe {
    Ready(Vec<String>),
    Skipped(String),
    Failed(Failure),
}

/// Whether AWS Config records anything in this region (`region`: the scope, the region or
/// `ACCOUNT REGION`), and with which caveats.
async fn probe_region(api: &Api, region: &str, all_regions: bool) -> Probe {
    let operation = "DescribeConfigurationRecorderStatus";
    let sent = api
        .call(api.client.describe_configuration_recorder_status().send())
        .await;
    let out = match sent {
        Ok(out) => out,
        Err(classified) => {
            let opt_in = api
                .client
                .config()
                .region()
                .is_some_and(|r| OPT_IN_REGIONS.contains(&r.as_ref()));
            if all_regions && classified.kind == FailureKind::Credentials && opt_in {
                return Probe::Skipped(format!(
                    "{region}: skipped, the region is not enabled for this account ({})",
                    classified.message
                ));
            }
            return Probe::Failed(Failure {
                scope: region.to_owned(),
                kind: classified.kind,
                operation,
                message: classified.message,
            });
        }
    };
    let statuses = out.configuration_recorders_status();
    if statuses.is_empty() {
        return Probe::Failed(no_recorder(region, format!("in {region}")));
    }
    let mut warnings = Vec::new();
    if !statuses.iter().any(|s| s.recording()) {
        for status in statuses {
            let since = status
                .last_stop_time()
                .and_then(|t| t.fmt(Format::DateTime).ok())
                .map_or_else(String::new, |t| format!(" since {t}"));
            warnings.push(format!(
                "{region}: the configuration recorder `{}` is stopped{since}; items are as last recorded and may be out of date",
                status.name().unwrap_or("default")
            ));
        }
    }
    Probe::Ready(warnings)
}

fn no_recorder(scope: &str, where_: String) -> Failure {
    Failure {
        scope: scope.to_owned(),
        kind: FailureKind::NoRecorder,
        operation: "DescribeConfigurationRecorderStatus",
        message: format!(
            "AWS Config has no configuration recorder {where_}: nothing there is recorded, so nothing there can be audited"
        ),
    }
}

/// Every source of the aggregator whose last update failed: its data may be missing or stale.
async fn aggregator_sources(
    api: &Api,
    name: &str,
    scope: &str,
    settings: &Settings,
    pull: &mut Pull,
) {
    let operation = "DescribeConfigurationAggregatorSourcesStatus";
    let unchecked = |pull: &mut Pull, why: &str| {
        pull.warnings.push(format!(
            "{scope}: could not check whether every source account and region is up to date ({why})"
        ));
    };
    let mut pager = Pager::new(settings);
    loop {
        let sent = api
            .call(
                api.client
                    .describe_configuration_aggregator_sources_status()
                    .configuration_aggregator_name(name)
                    .set_next_token(pager.token())
                    .send(),
            )
            .await;
        let out = match sent {
            Ok(out) => out,
            Err(classified) => return unchecked(pull, &classified.message),
        };
        for source in out.aggregated_source_status_list() {
            if source.last_update_status() == Some(&AggregatedSourceStatusType::Failed) {
                let id = source.source_id().unwrap_or("?");
                let region = source.aws_region().unwrap_or("?");
                let why = match (source.last_error_code(), source.last_error_message()) {
                    (Some(code), Some(message)) => format!("{code}: {message}"),
                    (Some(text), None) | (None, Some(text)) => text.to_owned(),
                    (None, None) => "no reason given".to_owned(),
                };
                pull.failures.push(Failure {
                    scope: format!("{scope} source {id} {region}"),
                    kind: FailureKind::Service,
                    operation,
                    message: format!(
                        "the aggregator's last update from account {id} in {region} failed ({why}); its items may be missing or out of date"
                    ),
                });
            }
        }
        match pager.turn(out.next_token(), out.aggregated_source_status_list().len()) {
            Ok(true) => {}
            Ok(false) => return,
            Err(classified) => {
                return unchecked(pull, &format!("{operation}: {}", classified.message));
            }
        }
    }
}

/// ListDiscoveredResources of one type, every page (bounded by the pager), each resource
/// once (the first time a page names it); with `include_deleted`, deleted resources too (with
/// their deletion time).
pub(crate) async fn list_discovered(
    api: &Api,
    resource_type: &str,
    include_deleted: bool,
    settings: &Settings,
) -> Result<Vec<ResourceIdentifier>, Classified> {
    let mut listed = Vec::new();
    let mut seen = BTreeSet::new();
    let mut pager = Pager::new(settings);
    loop {
        let out = api
            .call(
                api.client
                    .list_discovered_resources()
                    .resource_type(ResourceType::from(resource_type))
                    .set_include_deleted_resources(include_deleted.then_some(true))
                    .limit(settings.page_size)
                    .set_next_token(pager.token())
                    .send(),
            )
            .await?;
        let count = out.resource_identifiers().len();
        let next = out.next_token().map(str::to_owned);
        for identifier in out.resource_identifiers.unwrap_or_default() {
            if identifier
                .resource_id()
                .is_some_and(|id| seen.insert(id.to_owned()))
            {
                listed.push(identifier);
            }
        }
        if !pager.turn(next.as_deref(), count)? {
            return Ok(listed);
        }
    }
}

/// The key of a resource of `resource_type`, for BatchGetResourceConfig.
pub(crate) fn key(resource_type: &str, id: &str) -> Option<ResourceKey> {
    ResourceKey::builder()
        .resource_type(ResourceType::from(resource_type))
        .resource_id(id)
        .build()
        .ok()
}

/// ListDiscoveredResources for one type, then BatchGetResourceConfig by ≤ 100 keys.
async fn region_batch_unit(
    api: &Api,
    region: &str,
    resource_type: &str,
    settings: &Settings,
    progress: &dyn Progress,
) -> UnitResult {
    let mut unit = UnitResult::new(region, resource_type);
    let listed = match list_discovered(api, resource_type, false, settings).await {
        Ok(listed) => listed,
        Err(classified) => {
            unit.fail("ListDiscoveredResources", classified);
            return unit;
        }
    };
    let keys: Vec<ResourceKey> = listed
        .iter()
        .filter_map(|identifier| key(resource_type, identifier.resource_id()?))
        .collect();
    progress.listed(region, resource_type, keys.len());
    for chunk in keys.chunks(settings.batch_size.clamp(1, 100)) {
        let fetched = fetch_batch(
            &mut unit,
            "BatchGetResourceConfig",
            chunk,
            settings,
            progress,
            |pending| async move {
                let out = api
                    .call(
                        api.client
                            .batch_get_resource_config()
                            .set_resource_keys(Some(pending))
                            .send(),
                    )
                    .await?;
                Ok((
                    out.base_configuration_items.unwrap_or_default(),
                    out.unprocessed_resource_keys.unwrap_or_default(),
                ))
            },
        )
        .await;
        if !fetched {
            return unit;
        }
    }
    unit
}

/// ListAggregateDiscoveredResources for one type, then BatchGetAggregateResourceConfig.
async fn aggregate_batch_unit(
    api: &Api,
    name: &str,
    scope: &str,
    resource_type: &str,
    settings: &Settings,
    progress: &dyn Progress,
) -> UnitResult {
    let operation = "ListAggregateDiscoveredResources";
    let mut unit = UnitResult::new(scope, resource_type);
    let mut identifiers: Vec<AggregateResourceIdentifier> = Vec::new();
    let mut seen = BTreeSet::new();
    let mut pager = Pager::new(settings);
    loop {
        let sent = api
            .call(
                api.client
                    .list_aggregate_discovered_resources()
                    .configuration_aggregator_name(name)
                    .resource_type(ResourceType::from(resource_type))
                    .limit(settings.page_size)
                    .set_next_token(pager.token())
                    .send(),
            )
            .await;
        let out = match sent {
            Ok(out) => out,
            Err(classified) => {
                unit.fail(operation, classified);
                return unit;
            }
        };
        for identifier in out.resource_identifiers() {
            let key = (
                identifier.source_account_id().to_owned(),
                identifier.source_region().to_owned(),
                identifier.resource_id().to_owned(),
            );
            if seen.insert(key) {
                identifiers.push(identifier.clone());
            }
        }
        match pager.turn(out.next_token(), out.resource_identifiers().len()) {
            Ok(true) => {}
            Ok(false) => break,
            Err(classified) => {
                unit.fail(operation, classified);
                return unit;
            }
        }
    }
    progress.listed(scope, resource_type, identifiers.len());
    for chunk in identifiers.chunks(settings.batch_size.clamp(1, 100)) {
        let fetched = fetch_batch(
            &mut unit,
            "BatchGetAggregateResourceConfig",
            chunk,
            settings,
            progress,
            |pending| async move {
                let out = api
                    .call(
                        api.client
                            .batch_get_aggregate_resource_config()
                            .configuration_aggregator_name(name)
                            .set_resource_identifiers(Some(pending))
                            .send(),
                    )
                    .await?;
                Ok((
                    out.base_configuration_items.unwrap_or_default(),
                    out.unprocessed_resource_identifiers.unwrap_or_default(),
                ))
            },
        )
        .await;
        if !fetched {
            return unit;
        }
    }
    unit
}

#[derive(Clone, Copy)]
enum Selector<'a> {
    Region(&'a Api),
    Aggregator(&'a Api, &'a str),
}

/// One paginated `SELECT *` for one resource type.
async fn select_unit(
    selector: Selector<'_>,
    scope: &str,
    resource_type: &str,
    settings: &Settings,
    progress: &dyn Progress,
) -> UnitResult {
    let mut unit = UnitResult::new(scope, resource_type);
    let operation = match selector {
        Selector::Region(_) => "SelectResourceConfig",
        Selector::Aggregator(..) => "SelectAggregateResourceConfig",
    };
    if !resource_type
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == ':')
    {
        unit.fail(
            operation,
            Classified {
                kind: FailureKind::Service,
                message: format!("`{resource_type}` is not a resource type name"),
            },
        );
        return unit;
    }
    let expression = format!("SELECT * WHERE resourceType = '{resource_type}'");
    let mut pager = Pager::new(settings);
    let mut bad_rows = 0usize;
    loop {
        let sent = match selector {
            Selector::Region(api) => api
                .call(
                    api.client
                        .select_resource_config()
                        .expression(&expression)
                        .limit(settings.page_size)
                        .set_next_token(pager.token())
                        .send(),
                )
                .await
                .map(|out| (out.results().to_vec(), out.next_token().map(str::to_owned))),
            Selector::Aggregator(api, name) => api
                .call(
                    api.client
                        .select_aggregate_resource_config()
                        .configuration_aggregator_name(name)
                        .expression(&expression)
                        .limit(settings.page_size)
                        .set_next_token(pager.token())
                        .send(),
                )
                .await
                .map(|out| (out.results().to_vec(), out.next_token().map(str::to_owned))),
        };
        let (rows, next) = match sent {
            Ok(page) => page,
            Err(classified) => {
                unit.fail(operation, classified);
                return unit;
            }
        };
        let before = unit.items.len();
        for row in &rows {
            match items::from_select_row(row) {
                Ok(item) => unit.items.push(item),
                Err(_) => bad_rows += 1,
            }
        }
        progress.pulled(unit.items.len() - before);
        match pager.turn(next.as_deref(), rows.len()) {
            Ok(true) => {}
            Ok(false) => break,
            Err(classified) => {
                unit.fail(operation, classified);
                return unit;
            }
        }
    }
    progress.listed(scope, resource_type, unit.items.len());
    if bad_rows > 0 {
        unit.fail(
            operation,
            Classified {
                kind: FailureKind::Service,
                message: format!(
                    "{bad_rows} query result(s) were not JSON objects and were left out"
                ),
            },
        );
    }
    unit
}

/// Fetches one batch of keys (region or aggregator alike), asking again, with backoff, for the
/// keys AWS Config leaves unprocessed, `settings.unprocessed_retries` times; keys still left
/// then are recorded as a failure. `false` when a call failed outright: the unit stops there.
pub(crate) async fn fetch_batch<K, Fut>(
    unit: &mut UnitResult,
    operation: &'static str,
    chunk: &[K],
    settings: &Settings,
    progress: &dyn Progress,
    send: impl Fn(Vec<K>) -> Fut,
) -> bool
where
    K: Clone,
    Fut: Future<Output = Result<(Vec<BaseConfigurationItem>, Vec<K>), Classified>>,
{
    let mut pending = chunk.to_vec();
    let mut attempt = 0u32;
    loop {
        let (items, unprocessed) = match send(pending).await {
            Ok(out) => out,
            Err(classified) => {
                unit.fail(operation, classified);
                return false;
            }
        };
        take_items(unit, &items, progress);
        pending = unprocessed;
        if pending.is_empty() {
            return true;
        }
        if attempt >= settings.unprocessed_retries {
            unit.fail(
                operation,
                Classified {
                    kind: FailureKind::Unprocessed,
                    message: unprocessed_message(
                        pending.len(),
                        chunk.len(),
                        settings.unprocessed_retries,
                    ),
                },
            );
            return true;
        }
        tokio::time::sleep(backoff(settings.backoff, attempt)).await;
        attempt += 1;
    }
}

fn take_items(unit: &mut UnitResult, batch: &[BaseConfigurationItem], progress: &dyn Progress) {
    unit.items.extend(batch.iter().map(items::from_base_item));
    progress.pulled(batch.len());
}

/// Exponential backoff: base × 2^attempt, at most 20 s.
fn backoff(base: Duration, attempt: u32) -> Duration {
    base.saturating_mul(1u32 << attempt.min(16))
        .min(Duration::from_secs(20))
}

fn unprocessed_message(left: usize, asked: usize, retries: u32) -> String {
    format!(
        "{left} of {asked} resource(s) were still unprocessed after {retries} retries; they are missing from the audit"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let base = Duration::from_millis(250);
        assert_eq!(backoff(base, 0), Duration::from_millis(250));
        assert_eq!(backoff(base, 3), Duration::from_secs(2));
        assert_eq!(backoff(base, 40), Duration::from_secs(20));
    }
}
