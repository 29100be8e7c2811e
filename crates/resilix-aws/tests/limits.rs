//! Pulls over real HTTP against a stand-in AWS Config on loopback (crates/aws-stand-in): the
//! SDK's own client, timeouts and retries meet an endpoint that hangs, stalls, throttles without
//! end or pages without end. Every pull runs under a watchdog, so a regression fails the test
//! instead of hanging the suite. Timeouts are short (200 ms), given through the same options
//! `resilix audit` sets from `--timeout` and `--max-retry-time`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::sync::Arc;
use std::time::Duration;

use aws_config::Region;
use aws_sdk_config::config::Credentials;
use aws_stand_in::config::{Recorded, item};
use aws_stand_in::{Reply, Request, StandIn};
use resilix_aws::{
    Failure, FailureKind, Method, NoProgress, Options, Pull, Settings, pull_with_config,
};
use serde_json::{Value, json};

const BUCKET: &str = "AWS::S3::Bucket";
const ROLE: &str = "AWS::IAM::Role";
const VOLUME: &str = "AWS::EC2::Volume";
/// Far longer than any of these pulls takes when the limits work; a pull still going then hangs.
const WATCHDOG: Duration = Duration::from_secs(30);

fn items() -> Vec<Value> {
    let bucket = |name: &str| {
        item(
            "111122223333",
            "eu-west-1",
            BUCKET,
            name,
            &format!("arn:aws:s3:::{name}"),
            &json!({"name": name}),
        )
    };
    vec![
        bucket("logs"),
        bucket("assets"),
        item(
            "111122223333",
            "eu-west-1",
            ROLE,
            "AROA1",
            "arn:aws:iam::111122223333:role/ci",
            &json!({"roleName": "ci"}),
        ),
    ]
}

/// A stand-in that answers an audit of `items()` correctly until a test breaks one route.
fn stand_in() -> StandIn {
    let aws = StandIn::start().unwrap();
    Recorded::new(items()).install(&aws);
    aws
}

fn options(aws: &StandIn, types: &[&str]) -> Options {
    Options {
        endpoint_url: Some(aws.endpoint()),
        regions: vec!["eu-west-1".to_owned()],
        resource_types: types.iter().map(|t| (*t).to_owned()).collect(),
        timeout: Duration::from_millis(200),
        settings: Settings {
            max_retry_time: Duration::from_millis(500),
            ..Settings::default()
        },
        ..Options::default()
    }
}

/// Pulls as `resilix audit` does (the SDK configuration from `Options::sdk_loader`), with static
/// test credentials and a region so nothing reaches past loopback.
async fn pull(options: &Options) -> Pull {
    let shared = options
        .sdk_loader()
        .region(Region::new("eu-west-1"))
        .credentials_provider(Credentials::new(
            "AKIDSTANDIN",
            "secret",
            None,
            None,
            "test",
        ))
        .load()
        .await;
    tokio::time::timeout(
        WATCHDOG,
        pull_with_config(&shared, options, Arc::new(NoProgress)),
    )
    .await
    .unwrap_or_else(|_| panic!("the pull hung: still going after {WATCHDOG:?}"))
    .unwrap()
}

fn only_failure(pull: &Pull) -> &Failure {
    assert_eq!(pull.failures.len(), 1, "{:#?}", pull.failures);
    &pull.failures[0]
}

fn ids(pull: &Pull) -> Vec<&str> {
    pull.items
        .iter()
        .map(|i| i["resourceId"].as_str().unwrap())
        .collect()
}

fn listed_type(request: &Request) -> &str {
    request.str("resourceType").unwrap_or_default()
}

#[tokio::test]
async fn the_stand_in_serves_a_complete_audit() {
    let aws = stand_in();
    let pull = pull(&options(&aws, &[BUCKET, ROLE])).await;
    assert!(pull.is_complete(), "{:#?}", pull.failures);
    // Sorted by account, region, type and id.
    assert_eq!(ids(&pull), vec!["AROA1", "assets", "logs"]);
    assert_eq!(pull.items[1]["configuration"]["name"], "assets");
    assert_eq!(aws.calls("DescribeConfigurationRecorderStatus"), 1);
    assert_eq!(aws.calls("BatchGetResourceConfig"), 2);
    let listed = aws.requests("ListDiscoveredResources");
    assert_eq!(listed.len(), 2);
    assert!(
        listed
            .iter()
            .all(|r| r.region.as_deref() == Some("eu-west-1"))
    );

    let select = Options {
        method: Method::Select,
        ..options(&aws, &[BUCKET])
    };
    let pull = self::pull(&select).await;
    assert!(pull.is_complete(), "{:#?}", pull.failures);
    assert_eq!(ids(&pull), vec!["assets", "logs"]);
}

#[tokio::test]
async fn an_endpoint_that_never_answers_times_out_and_the_region_is_incomplete() {
    let aws = StandIn::start().unwrap();
    aws.on("DescribeConfigurationRecorderStatus", Reply::Hang);
    let pull = pull(&options(&aws, &[BUCKET])).await;

    assert!(!pull.is_complete());
    assert!(pull.items.is_empty());
    let failure = only_failure(&pull);
    assert_eq!(failure.kind, FailureKind::TimedOut);
    assert_eq!(failure.scope, "eu-west-1");
    assert_eq!(failure.operation, "DescribeConfigurationRecorderStatus");
    assert!(
        failure
            .message
            .starts_with("no answer within 200 ms (--timeout)"),
        "{}",
        failure.message
    );
    // Retried within the limits, not once and not forever.
    let calls = aws.calls("DescribeConfigurationRecorderStatus");
    assert!((2..=8).contains(&calls), "{calls} attempts");
}

#[tokio::test]
async fn a_batch_call_that_hangs_leaves_its_type_incomplete_and_the_others_pulled() {
    let aws = stand_in();
    aws.on("BatchGetResourceConfig", |r: &Request| {
        let keys = r.get("resourceKeys").unwrap().as_array().unwrap();
        if keys[0]["resourceType"] == BUCKET {
            Reply::Hang
        } else {
            Recorded::new(items()).batch_get_resource_config(r)
        }
    });
    let pull = pull(&options(&aws, &[BUCKET, ROLE])).await;

    assert_eq!(ids(&pull), vec!["AROA1"]);
    let failure = only_failure(&pull);
    assert_eq!(failure.kind, FailureKind::TimedOut);
    assert_eq!(failure.scope, "eu-west-1 AWS::S3::Bucket");
    assert_eq!(failure.operation, "BatchGetResourceConfig");
    assert_eq!(pull.units.len(), 1, "only the roles are complete");
    assert_eq!(pull.units[0].resource_type, ROLE);
}

#[tokio::test]
async fn an_answer_that_stalls_half_way_times_out() {
    let aws = stand_in();
    aws.on(
        "ListDiscoveredResources",
        Reply::json(
            json!({"resourceIdentifiers": [{"resourceType": BUCKET, "resourceId": "logs"}]}),
        )
        .stalled(),
    );
    let pull = pull(&options(&aws, &[BUCKET])).await;
    let failure = only_failure(&pull);
    assert_eq!(failure.kind, FailureKind::TimedOut, "{failure:?}");
    assert_eq!(failure.operation, "ListDiscoveredResources");
    assert!(
        failure.message.contains("(--timeout)"),
        "{}",
        failure.message
    );
}

#[tokio::test]
async fn a_call_that_times_out_once_is_retried_and_the_pull_completes() {
    let aws = stand_in();
    let recorded = Recorded::new(items());
    aws.on("ListDiscoveredResources", move |r: &Request| {
        if r.call == 1 {
            Reply::Hang
        } else {
            recorded.list_discovered_resources(r)
        }
    });
    let pull = pull(&options(&aws, &[BUCKET])).await;
    assert!(pull.is_complete(), "{:#?}", pull.failures);
    assert_eq!(ids(&pull), vec!["assets", "logs"]);
    assert_eq!(aws.calls("ListDiscoveredResources"), 2);
}

/// Pages of one identifier each, whose tokens go `A`, `B`, then `A` again.
fn tokens_that_come_back_around(r: &Request) -> Reply {
    let (id, next) = match r.str("nextToken") {
        None => ("b-1", "A"),
        Some("A") => ("b-2", "B"),
        _ => ("b-3", "A"),
    };
    Reply::json(json!({
        "resourceIdentifiers": [{"resourceType": BUCKET, "resourceId": id}],
        "nextToken": next
    }))
}

#[tokio::test]
async fn page_tokens_that_come_back_around_leave_the_type_incomplete() {
    let aws = stand_in();
    aws.on("ListDiscoveredResources", |r: &Request| {
        if listed_type(r) == BUCKET {
            tokens_that_come_back_around(r)
        } else {
            Recorded::new(items()).list_discovered_resources(r)
        }
    });
    let pull = pull(&options(&aws, &[BUCKET, ROLE])).await;

    assert!(!pull.is_complete());
    assert_eq!(ids(&pull), vec!["AROA1"], "the roles are still pulled");
    let failure = only_failure(&pull);
    assert_eq!(failure.kind, FailureKind::Paging);
    assert_eq!(failure.scope, "eu-west-1 AWS::S3::Bucket");
    assert_eq!(failure.operation, "ListDiscoveredResources");
    assert!(
        failure
            .message
            .starts_with("page 3 came with a page token the service had already handed out"),
        "{}",
        failure.message
    );
    let buckets = aws
        .requests("ListDiscoveredResources")
        .into_iter()
        .filter(|r| listed_type(r) == BUCKET)
        .count();
    assert_eq!(buckets, 3, "A, B, A: then it stops");
}

#[tokio::test]
async fn select_pages_are_bounded_too() {
    let aws = stand_in();
    aws.on("SelectResourceConfig", |r: &Request| {
        let next = match r.str("NextToken") {
            None => "A",
            Some("A") => "B",
            _ => "A",
        };
        Reply::json(json!({"Results": [], "NextToken": next}))
    });
    let select = Options {
        method: Method::Select,
        ..options(&aws, &[BUCKET])
    };
    let pull = pull(&select).await;
    let failure = only_failure(&pull);
    assert_eq!(failure.kind, FailureKind::Paging);
    assert_eq!(failure.scope, "eu-west-1 AWS::S3::Bucket");
    assert_eq!(failure.operation, "SelectResourceConfig");
    assert_eq!(aws.calls("SelectResourceConfig"), 3);
}

#[tokio::test]
async fn empty_pages_with_a_new_token_every_time_are_cut_off() {
    let aws = stand_in();
    aws.on("ListDiscoveredResources", |r: &Request| {
        Reply::json(json!({"resourceIdentifiers": [], "nextToken": format!("token-{}", r.call)}))
    });
    let options = options(&aws, &[BUCKET]);
    let pull = pull(&options).await;
    let failure = only_failure(&pull);
    assert_eq!(failure.kind, FailureKind::Paging);
    assert_eq!(failure.scope, "eu-west-1 AWS::S3::Bucket");
    assert!(
        failure
            .message
            .starts_with("100 pages in a row came back empty, each with a token for more"),
        "{}",
        failure.message
    );
    assert_eq!(
        aws.calls("ListDiscoveredResources"),
        options.settings.max_empty_pages
    );
}

#[tokio::test]
async fn a_listing_longer_than_the_page_bound_is_incomplete() {
    let aws = StandIn::start().unwrap();
    let many: Vec<Value> = (0..10)
        .map(|n| {
            item(
                "111122223333",
                "eu-west-1",
                BUCKET,
                &format!("b{n}"),
                &format!("arn:aws:s3:::b{n}"),
                &json!({}),
            )
        })
        .collect();
    Recorded::new(many).page_size(2).install(&aws);
    let mut options = options(&aws, &[BUCKET]);
    options.settings.max_pages = 3;
    let pull = pull(&options).await;
    let failure = only_failure(&pull);
    assert_eq!(failure.kind, FailureKind::Paging);
    assert!(
        failure
            .message
            .starts_with("the listing went on past 3 pages"),
        "{}",
        failure.message
    );
    assert_eq!(aws.calls("ListDiscoveredResources"), 3);
    assert_eq!(
        aws.calls("BatchGetResourceConfig"),
        0,
        "nothing half-listed is fetched"
    );

    // Five pages are within a bound of five.
    options.settings.max_pages = 5;
    let pull = self::pull(&options).await;
    assert!(pull.is_complete(), "{:#?}", pull.failures);
    assert_eq!(pull.items.len(), 10);
}

/// With `--max-retry-time 0s` a region is given up at its first failure worth retrying. (With
/// more, the SDK's adaptive retry waits 8–20 s before retrying a throttled call: too slow for a
/// test here; `pull.rs` shows the retries within the time allowed, on the SDK's mocks.)
#[tokio::test]
async fn constant_throttling_gives_up_on_the_region_and_says_so() {
    let aws = stand_in();
    aws.on("ListDiscoveredResources", Reply::throttle());
    let mut options = options(&aws, &[BUCKET, ROLE, VOLUME]);
    options.settings.max_retry_time = Duration::ZERO;
    // One type at a time: the first gives the region up, the others are not sent.
    options.settings.concurrency = 1;
    let pull = pull(&options).await;

    assert!(pull.items.is_empty());
    assert_eq!(pull.failures.len(), 3, "{:#?}", pull.failures);
    let throttled: Vec<&Failure> = pull
        .failures
        .iter()
        .filter(|f| f.kind == FailureKind::Throttled)
        .collect();
    assert_eq!(throttled.len(), 1, "{:#?}", pull.failures);
    assert_eq!(
        throttled[0].message,
        "ThrottlingException: Rate exceeded; not retried further: every call to eu-west-1 had \
         failed without a break for 0 ms, and --max-retry-time allows 0 ms"
    );
    for failure in pull
        .failures
        .iter()
        .filter(|f| f.kind != FailureKind::Throttled)
    {
        assert_eq!(failure.kind, FailureKind::GaveUp, "{:#?}", pull.failures);
        assert_eq!(failure.operation, "ListDiscoveredResources");
        assert_eq!(
            failure.message,
            "every call to eu-west-1 had failed without a break for 0 ms, and --max-retry-time \
             allows 0 ms, so resilix stopped calling it"
        );
    }
    let asked: Vec<String> = aws
        .requests("ListDiscoveredResources")
        .iter()
        .map(|r| listed_type(r).to_owned())
        .collect();
    assert_eq!(
        asked,
        vec![throttled[0].scope["eu-west-1 ".len()..].to_owned()],
        "one attempt, for the first type only"
    );
}

#[tokio::test]
async fn an_aggregator_whose_pages_come_back_around_is_incomplete() {
    let aws = StandIn::start().unwrap();
    aws.on(
        "DescribeConfigurationAggregators",
        Reply::json(json!({"ConfigurationAggregators": [{"ConfigurationAggregatorName": "org"}]})),
    );
    aws.on(
        "DescribeConfigurationAggregatorSourcesStatus",
        Reply::json(json!({"AggregatedSourceStatusList": []})),
    );
    aws.on("ListAggregateDiscoveredResources", |r: &Request| {
        let (id, next) = match r.str("NextToken") {
            None => ("b-1", "A"),
            Some("A") => ("b-2", "B"),
            _ => ("b-3", "A"),
        };
        Reply::json(json!({
            "ResourceIdentifiers": [{
                "SourceAccountId": "111122223333", "SourceRegion": "eu-west-1",
                "ResourceId": id, "ResourceType": BUCKET
            }],
            "NextToken": next
        }))
    });
    let options = Options {
        aggregator: Some("org".to_owned()),
        ..options(&aws, &[BUCKET])
    };
    let pull = pull(&options).await;
    let failure = only_failure(&pull);
    assert_eq!(failure.kind, FailureKind::Paging);
    assert_eq!(failure.scope, "aggregator org AWS::S3::Bucket");
    assert_eq!(failure.operation, "ListAggregateDiscoveredResources");
    assert_eq!(aws.calls("ListAggregateDiscoveredResources"), 3);
    assert_eq!(aws.calls("BatchGetAggregateResourceConfig"), 0);
}
