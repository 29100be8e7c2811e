//! Pulls against the SDK's own mocks (aws-smithy-mocks): pagination, batching, unprocessed-key
//! retry, throttling, and how AWS errors become failures. No network.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_config::Client;
use aws_sdk_config::config::retry::RetryConfig;
use aws_sdk_config::operation::batch_get_aggregate_resource_config::BatchGetAggregateResourceConfigOutput;
use aws_sdk_config::operation::batch_get_resource_config::BatchGetResourceConfigOutput;
use aws_sdk_config::operation::describe_configuration_aggregator_sources_status::DescribeConfigurationAggregatorSourcesStatusOutput;
use aws_sdk_config::operation::describe_configuration_aggregators::{
    DescribeConfigurationAggregatorsError, DescribeConfigurationAggregatorsOutput,
};
use aws_sdk_config::operation::describe_configuration_recorder_status::DescribeConfigurationRecorderStatusOutput;
use aws_sdk_config::operation::list_aggregate_discovered_resources::ListAggregateDiscoveredResourcesOutput;
use aws_sdk_config::operation::list_discovered_resources::{
    ListDiscoveredResourcesError, ListDiscoveredResourcesOutput,
};
use aws_sdk_config::operation::select_aggregate_resource_config::SelectAggregateResourceConfigOutput;
use aws_sdk_config::operation::select_resource_config::SelectResourceConfigOutput;
use aws_sdk_config::types::error::{
    NoAvailableConfigurationRecorderException, NoSuchConfigurationAggregatorException,
};
use aws_sdk_config::types::{
    AggregateResourceIdentifier, AggregatedSourceStatus, AggregatedSourceStatusType,
    BaseConfigurationItem, ConfigurationRecorderStatus, ResourceIdentifier, ResourceKey,
    ResourceType,
};
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use resilix_aws::{
    FailureKind, Fatal, Method, NoProgress, Progress, Settings, pull_aggregator, pull_regions,
};

const BUCKET: &str = "AWS::S3::Bucket";

fn settings() -> Settings {
    Settings {
        backoff: Duration::from_millis(1),
        ..Settings::default()
    }
}

fn progress() -> Arc<dyn Progress> {
    Arc::new(NoProgress)
}

fn recording() -> Rule {
    mock!(Client::describe_configuration_recorder_status).then_output(|| {
        DescribeConfigurationRecorderStatusOutput::builder()
            .configuration_recorders_status(
                ConfigurationRecorderStatus::builder()
                    .name("default")
                    .recording(true)
                    .build(),
            )
            .build()
    })
}

fn bucket_ids(range: std::ops::Range<usize>) -> Vec<ResourceIdentifier> {
    range
        .map(|n| {
            ResourceIdentifier::builder()
                .resource_type(ResourceType::Bucket)
                .resource_id(format!("bucket-{n:03}"))
                .build()
        })
        .collect()
}

fn item_for(key: &ResourceKey) -> BaseConfigurationItem {
    BaseConfigurationItem::builder()
        .account_id("111122223333")
        .aws_region("eu-west-1")
        .resource_type(key.resource_type().clone())
        .resource_id(key.resource_id())
        .arn(format!("arn:aws:s3:::{}", key.resource_id()))
        .configuration(format!("{{\"name\":\"{}\"}}", key.resource_id()))
        .build()
}

/// Answers every batch call with the items asked for, recording the batch sizes.
fn batch_echo(sizes: Arc<Mutex<Vec<usize>>>) -> Rule {
    mock!(Client::batch_get_resource_config)
        .match_requests(|_| true)
        .then_compute_output(move |input| {
            let keys = input.resource_keys();
            sizes.lock().unwrap().push(keys.len());
            BatchGetResourceConfigOutput::builder()
                .set_base_configuration_items(Some(keys.iter().map(item_for).collect()))
                .build()
        })
}

async fn pull_one(client: Client, method: Method) -> resilix_aws::Pull {
    pull_regions(
        vec![("eu-west-1".to_owned(), client)],
        &[BUCKET.to_owned()],
        method,
        false,
        &settings(),
        progress(),
    )
    .await
}

fn ids(pull: &resilix_aws::Pull) -> Vec<String> {
    pull.items
        .iter()
        .map(|i| i["resourceId"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn list_pages_are_followed_and_batches_hold_at_most_100_keys() {
    let page1 = mock!(Client::list_discovered_resources)
        .match_requests(|r| r.next_token().is_none())
        .then_output(|| {
            ListDiscoveredResourcesOutput::builder()
                .set_resource_identifiers(Some(bucket_ids(0..100)))
                .next_token("page-2")
                .build()
        });
    let page2 = mock!(Client::list_discovered_resources)
        .match_requests(|r| r.next_token() == Some("page-2"))
        .then_output(|| {
            ListDiscoveredResourcesOutput::builder()
                .set_resource_identifiers(Some(bucket_ids(100..150)))
                .next_token("page-3")
                .build()
        });
    let page3 = mock!(Client::list_discovered_resources)
        .match_requests(|r| r.next_token() == Some("page-3"))
        .then_output(|| {
            ListDiscoveredResourcesOutput::builder()
                // A duplicate across pages is fetched once.
                .set_resource_identifiers(Some(bucket_ids(149..250)))
                .build()
        });
    let sizes = Arc::new(Mutex::new(Vec::new()));
    let batch = batch_echo(Arc::clone(&sizes));
    let client = mock_client!(
        aws_sdk_config,
        RuleMode::MatchAny,
        [&recording(), &page1, &page2, &page3, &batch]
    );
    let pull = pull_one(client, Method::Batch).await;

    assert!(pull.is_complete(), "{:?}", pull.failures);
    assert_eq!(
        (page1.num_calls(), page2.num_calls(), page3.num_calls()),
        (1, 1, 1)
    );
    assert_eq!(*sizes.lock().unwrap(), vec![100, 100, 50]);
    let got = ids(&pull);
    assert_eq!(got.len(), 250);
    assert_eq!(got.first().unwrap(), "bucket-000");
    assert_eq!(got.last().unwrap(), "bucket-249");
    assert_eq!(pull.items[0]["configuration"]["name"], "bucket-000");
    assert_eq!(pull.units.len(), 1);
    assert_eq!(pull.units[0].items, 250);
}

#[tokio::test]
async fn unprocessed_keys_are_retried_until_fetched() {
    let list = mock!(Client::list_discovered_resources).then_output(|| {
        ListDiscoveredResourcesOutput::builder()
            .set_resource_identifiers(Some(bucket_ids(0..3)))
            .build()
    });
    let calls = Arc::new(Mutex::new(Vec::<Vec<String>>::new()));
    let seen = Arc::clone(&calls);
    // First call: one item, two keys unprocessed; second: one more, one left; third: the last.
    let batch = mock!(Client::batch_get_resource_config)
        .match_requests(|_| true)
        .then_compute_output(move |input| {
            let keys = input.resource_keys();
            seen.lock()
                .unwrap()
                .push(keys.iter().map(|k| k.resource_id().to_owned()).collect());
            let (done, left) = keys.split_at(1);
            BatchGetResourceConfigOutput::builder()
                .set_base_configuration_items(Some(done.iter().map(item_for).collect()))
                .set_unprocessed_resource_keys(Some(left.to_vec()))
                .build()
        });
    let client = mock_client!(
        aws_sdk_config,
        RuleMode::MatchAny,
        [&recording(), &list, &batch]
    );
    let pull = pull_one(client, Method::Batch).await;

    assert!(pull.is_complete(), "{:?}", pull.failures);
    assert_eq!(ids(&pull), vec!["bucket-000", "bucket-001", "bucket-002"]);
    assert_eq!(
        *calls.lock().unwrap(),
        vec![
            vec!["bucket-000", "bucket-001", "bucket-002"],
            vec!["bucket-001", "bucket-002"],
            vec!["bucket-002"],
        ]
    );
}

#[tokio::test]
async fn keys_still_unprocessed_after_every_retry_make_the_pull_incomplete() {
    let list = mock!(Client::list_discovered_resources).then_output(|| {
        ListDiscoveredResourcesOutput::builder()
            .set_resource_identifiers(Some(bucket_ids(0..2)))
            .build()
    });
    let batch = mock!(Client::batch_get_resource_config)
        .match_requests(|_| true)
        .then_compute_output(|input| {
            BatchGetResourceConfigOutput::builder()
                .set_unprocessed_resource_keys(input.resource_keys.clone())
                .build()
        });
    let client = mock_client!(
        aws_sdk_config,
        RuleMode::MatchAny,
        [&recording(), &list, &batch]
    );
    let pull = pull_one(client, Method::Batch).await;

    assert!(!pull.is_complete());
    assert_eq!(
        batch.num_calls(),
        1 + settings().unprocessed_retries as usize
    );
    assert_eq!(pull.failures.len(), 1);
    let failure = &pull.failures[0];
    assert_eq!(failure.kind, FailureKind::Unprocessed);
    assert_eq!(failure.scope, "eu-west-1 AWS::S3::Bucket");
    assert_eq!(failure.operation, "BatchGetResourceConfig");
    assert!(
        failure
            .message
            .starts_with("2 of 2 resource(s) were still unprocessed after 5 retries"),
        "{}",
        failure.message
    );
    assert!(
        pull.units.is_empty(),
        "an incomplete unit is not reported as done"
    );
}

#[tokio::test]
async fn a_region_without_a_recorder_fails_clearly_and_the_others_are_still_pulled() {
    let none = mock!(Client::describe_configuration_recorder_status)
        .then_output(|| DescribeConfigurationRecorderStatusOutput::builder().build());
    let empty_region = mock_client!(aws_sdk_config, RuleMode::MatchAny, [&none]);
    let list = mock!(Client::list_discovered_resources).then_output(|| {
        ListDiscoveredResourcesOutput::builder()
            .set_resource_identifiers(Some(bucket_ids(0..1)))
            .build()
    });
    let batch = batch_echo(Arc::default());
    let good_region = mock_client!(
        aws_sdk_config,
        RuleMode::MatchAny,
        [&recording(), &list, &batch]
    );
    let pull = pull_regions(
        vec![
            ("eu-west-1".to_owned(), good_region),
            ("us-west-2".to_owned(), empty_region),
        ],
        &[BUCKET.to_owned()],
        Method::Batch,
        false,
        &settings(),
        progress(),
    )
    .await;

    assert_eq!(ids(&pull), vec!["bucket-000"]);
    assert_eq!(pull.failures.len(), 1);
    assert_eq!(pull.failures[0].kind, FailureKind::NoRecorder);
    assert_eq!(pull.failures[0].scope, "us-west-2");
    assert!(
        pull.failures[0]
            .message
            .contains("no configuration recorder in us-west-2")
    );
    assert_eq!(
        list.num_calls(),
        1,
        "the region without a recorder is not listed"
    );
}

#[tokio::test]
async fn aws_errors_map_to_failure_kinds() {
    let denied = mock!(Client::list_discovered_resources).then_error(|| {
        ListDiscoveredResourcesError::generic(
            aws_sdk_config::error::ErrorMetadata::builder()
                .code("AccessDeniedException")
                .message("User: arn:aws:iam::111122223333:user/ci is not authorized to perform: config:ListDiscoveredResources")
                .build(),
        )
    });
    let client = mock_client!(aws_sdk_config, RuleMode::MatchAny, [&recording(), &denied]);
    let pull = pull_one(client, Method::Batch).await;
    assert_eq!(pull.failures.len(), 1);
    assert_eq!(pull.failures[0].kind, FailureKind::AccessDenied);
    assert_eq!(pull.failures[0].operation, "ListDiscoveredResources");
    assert!(
        pull.failures[0]
            .message
            .starts_with("AccessDeniedException: User:")
    );

    let no_recorder = mock!(Client::list_discovered_resources).then_error(|| {
        ListDiscoveredResourcesError::NoAvailableConfigurationRecorderException(
            NoAvailableConfigurationRecorderException::builder()
                .message("no recorder")
                .build(),
        )
    });
    let client = mock_client!(
        aws_sdk_config,
        RuleMode::MatchAny,
        [&recording(), &no_recorder]
    );
    let pull = pull_one(client, Method::Batch).await;
    assert_eq!(pull.failures[0].kind, FailureKind::NoRecorder);
}

#[tokio::test]
async fn an_unknown_aggregator_is_fatal() {
    let missing = mock!(Client::describe_configuration_aggregators).then_error(|| {
        DescribeConfigurationAggregatorsError::NoSuchConfigurationAggregatorException(
            NoSuchConfigurationAggregatorException::builder()
                .message("The configuration aggregator does not exist.")
                .build(),
        )
    });
    let client = mock_client!(aws_sdk_config, RuleMode::MatchAny, [&missing]);
    let error = pull_aggregator(
        &client,
        "org",
        &[BUCKET.to_owned()],
        Method::Batch,
        &settings(),
        progress(),
    )
    .await
    .unwrap_err();
    match &error {
        Fatal::Aggregator { name, kind, .. } => {
            assert_eq!(name, "org");
            assert_eq!(*kind, FailureKind::UnknownAggregator);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(
        error
            .to_string()
            .starts_with("aggregator `org`: NoSuchConfigurationAggregatorException")
    );
}

#[tokio::test]
async fn an_aggregator_pull_labels_items_by_account_and_region() {
    let found = mock!(Client::describe_configuration_aggregators)
        .then_output(|| DescribeConfigurationAggregatorsOutput::builder().build());
    let ident = |account: &str, region: &str, id: &str| {
        AggregateResourceIdentifier::builder()
            .source_account_id(account)
            .source_region(region)
            .resource_id(id)
            .resource_type(ResourceType::Bucket)
            .build()
            .unwrap()
    };
    let listed = vec![
        ident("222233334444", "eu-west-1", "b"),
        ident("111122223333", "us-east-1", "a"),
    ];
    let list = mock!(Client::list_aggregate_discovered_resources).then_output(move || {
        ListAggregateDiscoveredResourcesOutput::builder()
            .set_resource_identifiers(Some(listed.clone()))
            .build()
    });
    let batch = mock!(Client::batch_get_aggregate_resource_config)
        .match_requests(|r| r.configuration_aggregator_name() == Some("org"))
        .then_compute_output(|input| {
            let items = input
                .resource_identifiers()
                .iter()
                .map(|i| {
                    BaseConfigurationItem::builder()
                        .account_id(i.source_account_id())
                        .aws_region(i.source_region())
                        .resource_type(i.resource_type().clone())
                        .resource_id(i.resource_id())
                        .configuration("{}")
                        .build()
                })
                .collect();
            BatchGetAggregateResourceConfigOutput::builder()
                .set_base_configuration_items(Some(items))
                .build()
        });
    // One source account failed to aggregate: its data may be missing, so the pull is incomplete.
    let sources =
        mock!(Client::describe_configuration_aggregator_sources_status).then_output(|| {
            DescribeConfigurationAggregatorSourcesStatusOutput::builder()
                .aggregated_source_status_list(
                    AggregatedSourceStatus::builder()
                        .source_id("111122223333")
                        .aws_region("us-east-1")
                        .last_update_status(AggregatedSourceStatusType::Succeeded)
                        .build(),
                )
                .aggregated_source_status_list(
                    AggregatedSourceStatus::builder()
                        .source_id("333344445555")
                        .aws_region("eu-west-1")
                        .last_update_status(AggregatedSourceStatusType::Failed)
                        .last_error_code("AccessDenied")
                        .last_error_message("the source account has not authorized the aggregator")
                        .build(),
                )
                .build()
        });
    let client = mock_client!(
        aws_sdk_config,
        RuleMode::MatchAny,
        [&found, &sources, &list, &batch]
    );
    let pull = pull_aggregator(
        &client,
        "org",
        &[BUCKET.to_owned()],
        Method::Batch,
        &settings(),
        progress(),
    )
    .await
    .unwrap();
    assert_eq!(pull.failures.len(), 1, "{:?}", pull.failures);
    assert_eq!(
        pull.failures[0].scope,
        "aggregator org source 333344445555 eu-west-1"
    );
    assert!(
        pull.failures[0]
            .message
            .contains("not authorized the aggregator")
    );
    let labels: Vec<(String, String)> = pull
        .items
        .iter()
        .map(|i| {
            (
                i["awsAccountId"].as_str().unwrap().to_owned(),
                i["awsRegion"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        labels,
        vec![
            ("111122223333".to_owned(), "us-east-1".to_owned()),
            ("222233334444".to_owned(), "eu-west-1".to_owned()),
        ]
    );
    assert_eq!(pull.scope, vec!["aggregator org"]);
    assert!(pull.warnings.is_empty(), "{:?}", pull.warnings);
}

#[tokio::test]
async fn select_pages_are_followed_and_rows_normalized() {
    let row = |id: &str| {
        serde_json::json!({
            "accountId": "111122223333", "awsRegion": "eu-west-1", "resourceType": BUCKET,
            "resourceId": id, "arn": format!("arn:aws:s3:::{id}"),
            "tags": [{"key": "owner", "value": "data"}],
            "configuration": {"name": id}, "supplementaryConfiguration": {}
        })
        .to_string()
    };
    let (r1, r2) = (row("a"), row("b"));
    let page1 = mock!(Client::select_resource_config)
        .match_requests(|r| {
            r.next_token().is_none()
                && r.expression() == Some("SELECT * WHERE resourceType = 'AWS::S3::Bucket'")
        })
        .then_output(move || {
            SelectResourceConfigOutput::builder()
                .results(r1.clone())
                .next_token("n")
                .build()
        });
    let page2 = mock!(Client::select_resource_config)
        .match_requests(|r| r.next_token() == Some("n"))
        .then_output(move || {
            SelectResourceConfigOutput::builder()
                .results(r2.clone())
                .build()
        });
    let client = mock_client!(
        aws_sdk_config,
        RuleMode::MatchAny,
        [&recording(), &page1, &page2]
    );
    let pull = pull_one(client, Method::Select).await;
    assert!(pull.is_complete(), "{:?}", pull.failures);
    assert_eq!(ids(&pull), vec!["a", "b"]);
    assert_eq!(pull.items[0]["awsAccountId"], "111122223333");
    assert_eq!(pull.items[0]["ARN"], "arn:aws:s3:::a");
    assert_eq!(pull.items[0]["tags"]["owner"], "data");
}

#[tokio::test]
async fn throttling_is_retried_by_the_sdk_and_does_not_fail_the_pull() {
    let throttled = mock!(Client::list_discovered_resources)
        .sequence()
        .http_status(
            400,
            Some(r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#.to_owned()),
        )
        .times(2)
        .output(|| {
            ListDiscoveredResourcesOutput::builder()
                .set_resource_identifiers(Some(bucket_ids(0..1)))
                .build()
        })
        .build();
    let batch = batch_echo(Arc::default());
    let client = mock_client!(
        aws_sdk_config,
        RuleMode::MatchAny,
        [&recording(), &throttled, &batch],
        |config| config.retry_config(
            RetryConfig::standard()
                .with_max_attempts(4)
                .with_initial_backoff(Duration::from_millis(1))
        )
    );
    let pull = pull_one(client, Method::Batch).await;
    assert!(pull.is_complete(), "{:?}", pull.failures);
    assert_eq!(ids(&pull), vec!["bucket-000"]);
    assert_eq!(throttled.num_calls(), 3);
}

#[tokio::test]
async fn regions_without_a_recorder_are_reported_together() {
    let none = || {
        mock!(Client::describe_configuration_recorder_status)
            .then_output(|| DescribeConfigurationRecorderStatusOutput::builder().build())
    };
    let (a, b) = (none(), none());
    let pull = pull_regions(
        vec![
            (
                "us-west-2".to_owned(),
                mock_client!(aws_sdk_config, RuleMode::MatchAny, [&a]),
            ),
            (
                "ap-south-1".to_owned(),
                mock_client!(aws_sdk_config, RuleMode::MatchAny, [&b]),
            ),
        ],
        &[BUCKET.to_owned()],
        Method::Batch,
        true,
        &settings(),
        progress(),
    )
    .await;
    assert!(pull.items.is_empty());
    assert_eq!(pull.failures.len(), 1, "{:?}", pull.failures);
    assert_eq!(pull.failures[0].scope, "ap-south-1, us-west-2");
    assert!(
        pull.failures[0]
            .message
            .contains("no configuration recorder in 2 regions (ap-south-1, us-west-2)")
    );
}

#[tokio::test]
async fn an_aggregator_can_be_queried_with_select() {
    let found = mock!(Client::describe_configuration_aggregators)
        .then_output(|| DescribeConfigurationAggregatorsOutput::builder().build());
    let sources = mock!(Client::describe_configuration_aggregator_sources_status)
        .then_output(|| DescribeConfigurationAggregatorSourcesStatusOutput::builder().build());
    let rows = mock!(Client::select_aggregate_resource_config)
        .match_requests(|r| {
            r.configuration_aggregator_name() == Some("org")
                && r.expression() == Some("SELECT * WHERE resourceType = 'AWS::S3::Bucket'")
        })
        .then_output(|| {
            SelectAggregateResourceConfigOutput::builder()
                .results(
                    serde_json::json!({"accountId": "222233334444", "awsRegion": "eu-west-1",
                        "resourceType": BUCKET, "resourceId": "b", "configuration": {}})
                    .to_string(),
                )
                .results("not json")
                .build()
        });
    let client = mock_client!(
        aws_sdk_config,
        RuleMode::MatchAny,
        [&found, &sources, &rows]
    );
    let pull = pull_aggregator(
        &client,
        "org",
        &[BUCKET.to_owned()],
        Method::Select,
        &settings(),
        progress(),
    )
    .await
    .unwrap();
    assert_eq!(ids(&pull), vec!["b"]);
    assert_eq!(pull.items[0]["awsAccountId"], "222233334444");
    // A row that is not an item is not silently dropped.
    assert_eq!(pull.failures.len(), 1, "{:?}", pull.failures);
    assert_eq!(pull.failures[0].operation, "SelectAggregateResourceConfig");
    assert!(
        pull.failures[0]
            .message
            .starts_with("1 query result(s) were not JSON objects")
    );
}

#[tokio::test]
async fn a_throttled_region_is_retried_within_its_retry_time_then_given_up() {
    let throttled = mock!(Client::list_discovered_resources)
        .match_requests(|r| r.resource_type() == Some(&ResourceType::Bucket))
        .sequence()
        .http_status(
            400,
            Some(r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#.to_owned()),
        )
        .repeatedly()
        .build();
    let roles = mock!(Client::list_discovered_resources)
        .match_requests(|r| r.resource_type() == Some(&ResourceType::Role))
        .then_output(|| ListDiscoveredResourcesOutput::builder().build());
    // Retries without end as far as the SDK is concerned: only the region's retry time stops them.
    let client = mock_client!(
        aws_sdk_config,
        RuleMode::MatchAny,
        [&recording(), &throttled, &roles],
        |config| config.retry_config(
            RetryConfig::standard()
                .with_max_attempts(10_000)
                .with_initial_backoff(Duration::from_millis(1))
                .with_max_backoff(Duration::from_millis(2))
        )
    );
    let settings = Settings {
        max_retry_time: Duration::from_millis(50),
        concurrency: 1,
        ..settings()
    };
    let pull = pull_regions(
        vec![("eu-west-1".to_owned(), client)],
        &[BUCKET.to_owned(), "AWS::IAM::Role".to_owned()],
        Method::Batch,
        false,
        &settings,
        progress(),
    )
    .await;

    assert!(
        throttled.num_calls() > 3,
        "retried: {} calls",
        throttled.num_calls()
    );
    assert!(
        throttled.num_calls() < 10_000,
        "not to the end of the attempts"
    );
    assert_eq!(pull.failures.len(), 2, "{:#?}", pull.failures);
    let (roles_failure, buckets_failure) = (&pull.failures[0], &pull.failures[1]);
    assert_eq!(buckets_failure.scope, "eu-west-1 AWS::S3::Bucket");
    assert_eq!(buckets_failure.kind, FailureKind::Throttled);
    assert!(
        buckets_failure.message.starts_with(
            "ThrottlingException: Rate exceeded; not retried further: every call to eu-west-1 had failed without a break for"
        ),
        "{}",
        buckets_failure.message
    );
    assert!(
        buckets_failure
            .message
            .ends_with("and --max-retry-time allows 50 ms"),
        "{}",
        buckets_failure.message
    );
    // The other type was never asked for: the region had been given up.
    assert_eq!(roles_failure.scope, "eu-west-1 AWS::IAM::Role");
    assert_eq!(roles_failure.kind, FailureKind::GaveUp);
    assert_eq!(roles.num_calls(), 0);
}
