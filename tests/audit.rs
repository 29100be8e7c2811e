//! `resilix audit` end to end, over real HTTP, against a local AWS emulator (moto's server on
//! 127.0.0.1, with the Config fidelity fixes of `tests/aws/moto_config_shim.py`), seeded through
//! the normal S3, IAM and Config APIs by `tests/aws/seed.py`; and against a scripted stand-in
//! (crates/aws-stand-in) for what moto cannot do: hang, stall, throttle and page without end.
//!
//! The emulator needs Python with `tests/aws/requirements.txt`; `.ci/run` builds that venv and
//! sets RESILIX_MOTO_PYTHON (and RESILIX_REQUIRE_MOTO, so CI cannot skip this silently).

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use aws_stand_in::config::{Recorded, item};
use aws_stand_in::{Reply, Request, StandIn};
use insta_cmd::get_cargo_bin;
use serde_json::{Value, json};

use crate::emit::validate_sarif;
use crate::util::root;

const ACCOUNT: &str = "123456789012";
const PUBLIC_BUCKET: &str = "arn:aws:s3:::acme-public-assets";
const PRIVATE_BUCKET: &str = "arn:aws:s3:::acme-audit-logs";
const ADMIN_POLICY: &str = "arn:aws:iam::123456789012:policy/AdministratorAccessCustom";
const SCOPED_POLICY: &str = "arn:aws:iam::123456789012:policy/ReadAuditLogs";
const BUCKET_POLICY: &str = "aws.s3.block-public-access";
const ADMIN_CHECK: &str = "test.iam.no-full-admin";

/// The emulator, stopped (by its process id) when dropped.
struct Moto {
    child: Child,
    endpoint: String,
    log: PathBuf,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn python() -> Option<PathBuf> {
    match std::env::var_os("RESILIX_MOTO_PYTHON") {
        Some(path) => Some(PathBuf::from(path)),
        None if std::env::var_os("RESILIX_REQUIRE_MOTO").is_some() => {
            panic!("RESILIX_REQUIRE_MOTO is set but RESILIX_MOTO_PYTHON is not")
        }
        None => None,
    }
}

fn start_moto(python: &Path, dir: &Path) -> Moto {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log = dir.join("moto.log");
    let child = Command::new(python)
        .arg(root().join("tests/aws/moto_config_shim.py"))
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let moto = Moto {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
        log,
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "moto did not start: {}",
            std::fs::read_to_string(&moto.log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let seeded = Command::new(python)
        .arg(root().join("tests/aws/seed.py"))
        .arg(&moto.endpoint)
        .output()
        .unwrap();
    assert!(
        seeded.status.success(),
        "seeding failed: {}",
        String::from_utf8_lossy(&seeded.stderr)
    );
    moto
}

/// `resilix audit …` against the emulator, with static test credentials and no user AWS config.
fn audit(moto: &Moto, args: &[&str]) -> Output {
    audit_command(&moto.endpoint, args).output().unwrap()
}

/// `resilix audit --endpoint-url ENDPOINT …`, with static test credentials and no user AWS config.
pub(crate) fn audit_command(endpoint: &str, args: &[&str]) -> Command {
    let mut command = Command::new(get_cargo_bin("resilix"));
    command
        .current_dir(root())
        .arg("audit")
        .args(["--endpoint-url", endpoint])
        .args(args)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_SESSION_TOKEN")
        .env("NO_COLOR", "1");
    command
}

/// stderr with miette's line wrapping undone, so a message can be matched whole.
pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr)
        .replace('│', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// (policy, resource address) of every failing finding in a JSON report.
fn failing(report: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == "fail")
        .map(|f| {
            (
                f["policy"].as_str().unwrap().to_owned(),
                f["resource"]["address"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

fn has(found: &[(String, String)], policy: &str, address: &str) -> bool {
    found.iter().any(|(p, a)| p == policy && a == address)
}

#[test]
fn audit_against_a_local_aws_emulator() {
    let Some(python) = python() else {
        eprintln!(
            "skipped: set RESILIX_MOTO_PYTHON to a Python with tests/aws/requirements.txt (.ci/run does)"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let moto = start_moto(&python, dir.path());
    let policies = ["--policies", "tests/aws/policies"];

    // One account, one region: the public bucket and the admin policy fail, the others pass.
    let out = audit(
        &moto,
        &[
            &["--region", "us-east-1", "--format", "json"][..],
            &policies[..],
        ]
        .concat(),
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let found = failing(&report);
    assert!(has(&found, BUCKET_POLICY, PUBLIC_BUCKET), "{found:?}");
    assert!(has(&found, ADMIN_CHECK, ADMIN_POLICY), "{found:?}");
    assert!(!has(&found, BUCKET_POLICY, PRIVATE_BUCKET), "{found:?}");
    assert!(!has(&found, ADMIN_CHECK, SCOPED_POLICY), "{found:?}");
    let public = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["resource"]["address"] == PUBLIC_BUCKET)
        .unwrap();
    assert_eq!(public["resource"]["account"], ACCOUNT);
    assert_eq!(public["resource"]["region"], "us-east-1");
    assert!(report["errors"].as_array().unwrap().is_empty());
    assert_eq!(
        report["summary"]["resources"], 4,
        "2 buckets and 2 policies"
    );

    // SARIF: every result has a physical location GitHub accepts, and says account and region.
    let out = audit(
        &moto,
        &[
            &["--region", "us-east-1", "--format", "sarif"][..],
            &policies[..],
        ]
        .concat(),
    );
    let sarif_text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(validate_sarif(&sarif_text), Vec::<String>::new());
    let sarif: Value = serde_json::from_str(&sarif_text).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for result in results {
        let location = &result["locations"][0];
        assert_eq!(
            location["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .rsplit_once('/')
                .unwrap()
                .0,
            format!("aws/{ACCOUNT}"),
            "{result}"
        );
        assert_eq!(result["properties"]["account"], ACCOUNT);
        assert!(result["properties"]["region"].is_string());
    }

    // --save writes a snapshot `scan` reads back to the same findings; SARIF then points at the
    // item's line in it.
    let saved = dir.path().join("audit.json");
    let saved_arg = saved.to_str().unwrap();
    let out = audit(
        &moto,
        &[
            &[
                "--region",
                "us-east-1",
                "--format",
                "json",
                "--save",
                saved_arg,
            ][..],
            &policies[..],
        ]
        .concat(),
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let from_audit = failing(&serde_json::from_slice(&out.stdout).unwrap());
    assert_eq!(from_audit, found);
    let rescan = Command::new(get_cargo_bin("resilix"))
        .current_dir(root())
        .args(["scan", saved_arg, "--format", "json"])
        .args(policies)
        .output()
        .unwrap();
    assert_eq!(rescan.status.code(), Some(1), "{}", stderr(&rescan));
    assert_eq!(
        failing(&serde_json::from_slice(&rescan.stdout).unwrap()),
        found
    );
    let snapshot = std::fs::read_to_string(&saved).unwrap();
    assert!(snapshot.starts_with("{\"fileVersion\":\"1.0\""));
    assert!(snapshot.contains("\"complete\":true"));
    assert_eq!(
        snapshot.lines().count(),
        6,
        "a header, one line per item, a footer"
    );

    // The auditor's report renders from a live pull.
    let html = dir.path().join("report.html");
    let out = audit(
        &moto,
        &[
            &[
                "--region",
                "us-east-1",
                "--format",
                "html",
                "-o",
                html.to_str().unwrap(),
            ][..],
            &policies[..],
        ]
        .concat(),
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("acme-public-assets"));
    assert!(page.contains("Account 123456789012 · us-east-1"));
    assert!(!page.contains("This report is incomplete"));
    if let Some(keep) = std::env::var_os("RESILIX_KEEP_AUDIT_HTML") {
        std::fs::copy(&html, keep).unwrap();
    }

    // A region without a recorder: nothing to audit there, said clearly, exit 2, no report.
    let out = audit(&moto, &["--region", "us-west-2", "--format", "json"]);
    assert_eq!(out.status.code(), Some(2));
    let text = stderr(&out);
    assert!(
        text.contains("no configuration recorder in us-west-2"),
        "{text}"
    );
    assert!(text.contains("nothing could be pulled"), "{text}");
    assert!(out.stdout.is_empty());

    // Two regions, one without a recorder: the other is reported, marked incomplete, exit 2.
    let out = audit(
        &moto,
        &[
            &[
                "--region",
                "us-east-1",
                "--region",
                "us-west-2",
                "--format",
                "json",
            ][..],
            &policies[..],
        ]
        .concat(),
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let partial: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(failing(&partial), found);
    let errors = partial["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0]["message"].as_str().unwrap().starts_with(
            "aws-config: us-west-2: no configuration recorder (DescribeConfigurationRecorderStatus)"
        ),
        "{errors:?}"
    );

    // The organization path: an aggregator's items carry their account and region.
    let out = audit(
        &moto,
        &[
            &[
                "--aggregator",
                "org",
                "--region",
                "us-east-1",
                "--format",
                "json",
            ][..],
            &["--max-attempts", "1"][..],
            &policies[..],
        ]
        .concat(),
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let org: Value = serde_json::from_slice(&out.stdout).unwrap();
    let org_found = failing(&org);
    assert!(
        has(&org_found, BUCKET_POLICY, PUBLIC_BUCKET),
        "{org_found:?}"
    );
    assert!(has(&org_found, ADMIN_CHECK, ADMIN_POLICY), "{org_found:?}");
    for finding in org["findings"].as_array().unwrap() {
        assert_eq!(finding["resource"]["account"], ACCOUNT);
        assert!(finding["resource"]["region"].is_string());
    }
    // moto does not implement DescribeConfigurationAggregatorSourcesStatus: a warning, not a
    // silent pass.
    assert!(
        stderr(&out)
            .contains("could not check whether every source account and region is up to date"),
        "{}",
        stderr(&out)
    );

    // An aggregator that does not exist: a clear error, exit 2.
    let out = audit(&moto, &["--aggregator", "nope", "--region", "us-east-1"]);
    assert_eq!(out.status.code(), Some(2));
    let text = stderr(&out);
    assert!(
        text.contains("aggregator `nope`: NoSuchConfigurationAggregatorException"),
        "{text}"
    );
    assert!(
        text.contains("describe-configuration-aggregators"),
        "{text}"
    );
}

/// Far longer than any audit against the stand-in takes when its limits work.
const WATCHDOG: Duration = Duration::from_secs(60);

/// Runs `command`, and fails the test (killing the process) if it is still running after
/// [`WATCHDOG`]: an audit that hangs must fail its test, not hang the suite.
pub(crate) fn run_watched(command: &mut Command) -> Output {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let deadline = Instant::now() + WATCHDOG;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "`resilix audit` hung: still running after {WATCHDOG:?}; stderr: {}",
                String::from_utf8_lossy(&stderr.join().unwrap())
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

const BUCKET_TYPE: &str = "AWS::S3::Bucket";
const ROLE_TYPE: &str = "AWS::IAM::Role";
const BUCKET_ARN: &str = "arn:aws:s3:::logs";
const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/ci";

/// A bucket and a role in eu-west-1, as AWS Config records them.
fn recorded() -> Recorded {
    Recorded::new(vec![
        item(
            ACCOUNT,
            "eu-west-1",
            BUCKET_TYPE,
            "logs",
            BUCKET_ARN,
            &json!({"name": "logs"}),
        ),
        item(
            ACCOUNT,
            "eu-west-1",
            ROLE_TYPE,
            "AROA1",
            ROLE_ARN,
            &json!({"roleName": "ci", "assumeRolePolicyDocument": "%7B%7D"}),
        ),
    ])
}

/// A stand-in AWS Config serving [`recorded`], correctly until a test breaks one route.
fn stand_in() -> StandIn {
    let aws = StandIn::start().unwrap();
    recorded().install(&aws);
    aws
}

/// ListDiscoveredResources answering the bucket type with `broken` and the rest correctly.
fn break_bucket_listing(aws: &StandIn, broken: impl Fn(&Request) -> Reply + Send + Sync + 'static) {
    let recorded = recorded();
    aws.on("ListDiscoveredResources", move |r: &Request| {
        if r.str("resourceType") == Some(BUCKET_TYPE) {
            broken(r)
        } else {
            recorded.list_discovered_resources(r)
        }
    });
}

/// `resilix audit` of the bucket and role types in eu-west-1 against the stand-in, with short
/// limits (as a user would set them), under the watchdog.
fn audit_stand_in(aws: &StandIn, extra: &[&str]) -> Output {
    let mut args = vec![
        "--region",
        "eu-west-1",
        "--resource-type",
        BUCKET_TYPE,
        "--resource-type",
        ROLE_TYPE,
        "--format",
        "json",
        "--timeout",
        "200ms",
    ];
    if !extra.contains(&"--max-retry-time") {
        args.extend(["--max-retry-time", "500ms"]);
    }
    args.extend(extra);
    run_watched(&mut audit_command(&aws.endpoint(), &args))
}

/// The messages of a JSON report's errors.
fn error_messages(report: &Value) -> Vec<String> {
    report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap().to_owned())
        .collect()
}

/// The resource addresses a JSON report has findings for.
fn addresses(report: &Value) -> Vec<String> {
    let mut out: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["resource"]["address"].as_str().unwrap().to_owned())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// An audit that came back incomplete: exit 2, the role evaluated, one error about the buckets.
fn only_the_buckets_are_missing(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(2), "{}", stderr(out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["summary"]["resources"], 1,
        "the role is still evaluated"
    );
    assert!(addresses(&report).is_empty(), "the bucket is not: {report}");
    let errors = error_messages(&report);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        stderr(out).contains(&errors[0]),
        "every error is on stderr too: {}",
        stderr(out)
    );
    errors[0].clone()
}

#[test]
fn audit_of_the_stand_in_is_complete_when_it_answers() {
    let aws = stand_in();
    let out = audit_stand_in(&aws, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(error_messages(&report).is_empty(), "{report}");
    assert_eq!(report["summary"]["resources"], 2);
    assert_eq!(
        addresses(&report),
        vec![BUCKET_ARN],
        "the bucket has findings"
    );
}

#[test]
fn audit_of_an_endpoint_that_never_answers_ends_incomplete() {
    // Everything hangs: nothing is pulled, nothing is reported, exit 2.
    let aws = StandIn::start().unwrap();
    aws.on("DescribeConfigurationRecorderStatus", Reply::Hang);
    let out = audit_stand_in(&aws, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "no report when nothing was pulled");
    let text = stderr(&out);
    assert!(
        text.contains(
            "eu-west-1: timed out (DescribeConfigurationRecorderStatus): no answer within 200 ms (--timeout)"
        ),
        "{text}"
    );
    assert!(text.contains("nothing could be pulled"), "{text}");

    // One call hangs: the other type is reported, the report says what is missing.
    let aws = stand_in();
    break_bucket_listing(&aws, |_| Reply::Hang);
    let error = only_the_buckets_are_missing(&audit_stand_in(&aws, &[]));
    assert!(
        error.starts_with(
            "aws-config: eu-west-1 AWS::S3::Bucket: timed out (ListDiscoveredResources): no answer within 200 ms (--timeout)"
        ),
        "{error}"
    );
}

#[test]
fn audit_whose_page_tokens_come_back_around_is_incomplete() {
    let aws = stand_in();
    // Tokens A, B, then A again: following them would loop.
    break_bucket_listing(&aws, |r| {
        let next = match r.str("nextToken") {
            None => "A",
            Some("A") => "B",
            _ => "A",
        };
        Reply::json(json!({
            "resourceIdentifiers": [{"resourceType": BUCKET_TYPE, "resourceId": "logs"}],
            "nextToken": next
        }))
    });
    let error = only_the_buckets_are_missing(&audit_stand_in(&aws, &[]));
    assert!(
        error.starts_with(
            "aws-config: eu-west-1 AWS::S3::Bucket: paging did not end (ListDiscoveredResources): page 3 came with a page token the service had already handed out"
        ),
        "{error}"
    );
}

#[test]
fn audit_of_empty_pages_without_end_is_cut_off() {
    let aws = stand_in();
    break_bucket_listing(&aws, |r| {
        Reply::json(json!({"resourceIdentifiers": [], "nextToken": format!("token-{}", r.call)}))
    });
    let error = only_the_buckets_are_missing(&audit_stand_in(&aws, &[]));
    assert!(
        error.starts_with(
            "aws-config: eu-west-1 AWS::S3::Bucket: paging did not end (ListDiscoveredResources): 100 pages in a row came back empty"
        ),
        "{error}"
    );
    let buckets = aws
        .requests("ListDiscoveredResources")
        .iter()
        .filter(|r| r.str("resourceType") == Some(BUCKET_TYPE))
        .count();
    assert_eq!(buckets, 100);
}

#[test]
fn audit_under_constant_throttling_gives_up_on_the_region_and_says_so() {
    let aws = stand_in();
    aws.on("ListDiscoveredResources", Reply::throttle());
    // 0s: give the region up at its first failure (longer, the SDK's adaptive retry waits 8-20 s
    // before retrying a throttled call: see crates/resilix-aws/tests/pull.rs for retries within
    // the time allowed). One type at a time, so the second is never sent.
    let out = audit_stand_in(&aws, &["--max-retry-time", "0s", "--concurrency", "1"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let text = stderr(&out);
    assert!(
        text.contains(
            "ThrottlingException: Rate exceeded; not retried further: every call to eu-west-1 had failed without a break for 0 ms, and --max-retry-time allows 0 ms"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "not attempted (ListDiscoveredResources): every call to eu-west-1 had failed without a break for 0 ms, and --max-retry-time allows 0 ms, so resilix stopped calling it"
        ),
        "{text}"
    );
    assert!(text.contains("nothing could be pulled"), "{text}");
    assert_eq!(aws.calls("ListDiscoveredResources"), 1);
}

#[test]
fn audit_rejects_limits_that_are_not_durations() {
    for (flag, value, says) in [
        ("--timeout", "0s", "a timeout must be more than zero"),
        (
            "--timeout",
            "soon",
            "`soon` is not a duration (e.g. 30s, 500ms, 2m)",
        ),
        ("--max-retry-time", "-1s", "`-1s` is negative"),
        (
            "--max-retry-time",
            "2h",
            "`2h` is more than the longest allowed, 1h",
        ),
    ] {
        let out = audit_command("http://127.0.0.1:9", &[&format!("{flag}={value}")])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{flag} {value}");
        assert!(stderr(&out).contains(says), "{}", stderr(&out));
    }
}

/// `--save` onto a FIFO (`--save >(gzip > snapshot.json.gz)`): the snapshot is written in
/// place and reaches its reader whole; it cannot be read back, so the items as pulled are
/// judged, with the same findings.
#[cfg(unix)]
#[test]
fn audit_saved_to_a_fifo_reaches_its_reader_and_is_still_judged() {
    let aws = stand_in();
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("snapshot");
    let reader = crate::util::fifo_with_reader(&fifo);
    let out = audit_stand_in(&aws, &["--save", fifo.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(error_messages(&report).is_empty(), "{report}");
    assert_eq!(addresses(&report), vec![BUCKET_ARN]);
    let saved: Value = serde_json::from_slice(&reader.join().unwrap()).unwrap();
    assert_eq!(
        saved["configurationItems"].as_array().unwrap().len(),
        2,
        "{saved}"
    );
}

/// A bucket and a role of `account` in eu-west-1.
fn recorded_in(account: &str) -> Recorded {
    Recorded::new(vec![
        item(
            account,
            "eu-west-1",
            BUCKET_TYPE,
            &format!("logs-{account}"),
            &format!("arn:aws:s3:::logs-{account}"),
            &json!({"name": format!("logs-{account}")}),
        ),
        item(
            account,
            "eu-west-1",
            ROLE_TYPE,
            "AROA1",
            &format!("arn:aws:iam::{account}:role/ci"),
            &json!({"roleName": "ci", "assumeRolePolicyDocument": "%7B%7D"}),
        ),
    ])
}

#[test]
fn audit_of_member_accounts_pulls_each_through_its_role_and_says_which_pull_failed() {
    let (a, b) = ("111111111111", "222222222222");
    let aws = StandIn::start().unwrap();
    aws_stand_in::sts::Roles::new().install(&aws);
    recorded_in(a).install(&aws.account(a));
    recorded_in(b).install(&aws.account(b));
    // Account b's role may not list buckets.
    let listing = recorded_in(b);
    aws.account(b)
        .on("ListDiscoveredResources", move |r: &Request| {
            if r.str("resourceType") == Some(BUCKET_TYPE) {
                Reply::error(
                    400,
                    "AccessDeniedException",
                    "not authorized to perform config:ListDiscoveredResources",
                )
            } else {
                listing.list_discovered_resources(r)
            }
        });
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("accounts.txt");
    std::fs::write(
        &file,
        format!("# the organization's members\n{a}\n{b}  # payments\n"),
    )
    .unwrap();
    let out = audit_stand_in(
        &aws,
        &[
            "--accounts-file",
            file.to_str().unwrap(),
            "--assume-role",
            "audit/resilix",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let errors = error_messages(&report);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with(&format!(
            "aws-config: {b} eu-west-1 AWS::S3::Bucket: access denied (ListDiscoveredResources): AccessDeniedException"
        )),
        "{errors:?}"
    );
    // Every finding carries its account: the bucket of the account that could list them
    // fails (no public access block, …); the three resources pulled were all judged.
    let mut found: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {}",
                f["resource"]["account"].as_str().unwrap(),
                f["resource"]["address"].as_str().unwrap()
            )
        })
        .collect();
    found.sort();
    found.dedup();
    assert_eq!(found, [format!("{a} arn:aws:s3:::logs-{a}")]);
    assert_eq!(report["summary"]["resources"], 3, "{}", report["summary"]);
    let mut roles: Vec<String> = aws
        .requests("AssumeRole")
        .iter()
        .map(|r| r.str("RoleArn").unwrap().to_owned())
        .collect();
    roles.sort();
    assert_eq!(
        roles,
        [a, b].map(|id| format!("arn:aws:iam::{id}:role/audit/resilix"))
    );
    assert!(
        aws.log()
            .iter()
            .filter(|r| r.operation != "AssumeRole")
            .all(|r| r.account.is_some()),
        "nothing is asked with the caller's own credentials"
    );
}

#[test]
fn audit_of_member_accounts_needs_a_role_and_no_aggregator() {
    let aws = StandIn::start().unwrap();
    let usage = |args: &[&str]| {
        let out = run_watched(&mut audit_command(&aws.endpoint(), args));
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        stderr(&out)
    };
    let message = usage(&["--accounts", "111111111111"]);
    assert!(message.contains("--assume-role <NAME>"), "{message}");
    let message = usage(&["--assume-role", "resilix-audit"]);
    assert!(message.contains("--accounts"), "{message}");
    let message = usage(&[
        "--accounts",
        "111111111111",
        "--assume-role",
        "resilix-audit",
        "--aggregator",
        "org",
    ]);
    assert!(message.contains("cannot be used with"), "{message}");
    let message = usage(&["--accounts", "111111111111,12345", "--assume-role", "r"]);
    assert!(
        message.contains("`12345` is not an AWS account ID (twelve digits)"),
        "{message}"
    );
    let message = usage(&[
        "--accounts",
        "111111111111",
        "--assume-role",
        "arn:aws:iam::111111111111:role/r",
    ]);
    assert!(message.contains("is not a role name"), "{message}");
    assert_eq!(aws.log().len(), 0, "nothing is asked of AWS");
}

#[test]
fn audit_of_member_accounts_whose_sts_never_answers_times_out_per_account() {
    // STS accepts the connection and says nothing: each account's AssumeRole is bounded by
    // --timeout like every call, and the account is reported as not pulled.
    let aws = StandIn::start().unwrap();
    aws.on("AssumeRole", Reply::Hang);
    let out = audit_stand_in(
        &aws,
        &[
            "--accounts",
            "111111111111",
            "--assume-role",
            "resilix-audit",
            "--max-attempts",
            "2",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let message = stderr(&out);
    assert!(
        message.contains("account 111111111111: timed out (AssumeRole): could not assume")
            && message.contains("no answer within 200 ms (--timeout)")
            && message.contains("nothing in account 111111111111 was pulled"),
        "{message}"
    );
    assert_eq!(
        aws.calls("AssumeRole"),
        2,
        "retried once, as --max-attempts allows"
    );
}
