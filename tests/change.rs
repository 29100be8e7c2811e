//! Change control end to end: the configuration file (approvals, waivers, criticality, the
//! gate), `resilix diff` over two Config snapshots, and configuration errors.

use std::process::Command;

use serde_json::Value;

use crate::emit::validate_sarif;
use crate::util::{self, run};

const CONFIG: &str = "fixtures/config/resilix.yaml";
const PLANS: [&str; 3] = [
    "fixtures/policies/change.stateful-destroy/fail.plan.json",
    "fixtures/policies/change.drift/fail.plan.json",
    "fixtures/policies/aws.s3.block-public-access/fail.plan.json",
];
const OLD: &str = "fixtures/diff/2026-11-19.json";
const NEW: &str = "fixtures/diff/2026-11-20.json";

/// `resilix` in the repository root, on a fixed day (waiver expiry), without colour.
fn resilix() -> Command {
    let mut command = util::resilix();
    command.env("RESILIX_TODAY", "2026-11-20");
    command
}

fn json(command: &mut Command) -> (Option<i32>, Value) {
    let output = command.output().unwrap();
    let value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.code(), value)
}

/// Approved replacements are notes naming their ticket (by tag and by the file), an active
/// waiver suppresses, an expired one does not and is warned about, criticality moves priority
/// and the order, and `fail-on: high` from the file sets the gate.
#[test]
fn cli_config_approvals_waivers_and_priority() {
    insta::assert_snapshot!(run(resilix()
        .arg("scan")
        .args(PLANS)
        .args(["--config", CONFIG])));
}

#[test]
fn cli_config_sarif_suppressions_and_rank() {
    let (code, sarif) = json(
        resilix()
            .arg("scan")
            .args(PLANS)
            .args(["--config", CONFIG, "--format", "sarif", "-q"]),
    );
    assert_eq!(code, Some(1));
    let text = sarif.to_string();
    let errors = validate_sarif(&text);
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let find = |rule: &str, name: &str| {
        results
            .iter()
            .find(|r| {
                r["ruleId"] == rule
                    && r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == name
            })
            .unwrap_or_else(|| panic!("no result {rule} on {name}"))
    };
    // Waived: suppressed, with the justification.
    let waived = find("change.drift", "aws_s3_bucket.scratch");
    assert_eq!(waived["suppressions"][0]["kind"], "external");
    assert!(
        waived["suppressions"][0]["justification"]
            .as_str()
            .unwrap()
            .contains("SEC-118")
    );
    // The waiver of the reports bucket expired: reported again, no suppression.
    let expired = find(
        "aws.s3.block-public-access",
        "module.reports.aws_s3_bucket.this",
    );
    assert!(expired.get("suppressions").is_none());
    assert_eq!(expired["properties"]["expiredWaiver"]["ticket"], "SEC-097");
    // Approved by the tag on the new table, and by the file: informational notes.
    let tagged = find("change.stateful-destroy", "aws_dynamodb_table.sessions");
    assert_eq!(
        (tagged["kind"].as_str(), tagged["level"].as_str()),
        (Some("informational"), Some("note"))
    );
    assert!(
        tagged["message"]["text"]
            .as_str()
            .unwrap()
            .contains("CHG-2207")
    );
    let by_file = find("change.stateful-destroy", "aws_kms_key.orders");
    assert_eq!(by_file["properties"]["approval"]["ticket"], "CHG-1001");
    // Priority: the critical database outranks the low-criticality bucket; rank and the
    // result's security-severity follow it, the rule keeps the base severity.
    let db = find("change.stateful-destroy", "aws_db_instance.orders");
    assert_eq!(db["rank"], 90.0);
    assert_eq!(db["properties"]["security-severity"], "9.0");
    let uploads = find("aws.s3.block-public-access", "aws_s3_bucket.uploads");
    assert_eq!(uploads["rank"], 60.0);
    let ranks: Vec<f64> = results
        .iter()
        .map(|r| r["rank"].as_f64().unwrap())
        .collect();
    assert!(ranks.windows(2).all(|w| w[0] >= w[1]), "{ranks:?}");
    for rule in sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
    {
        if rule["id"] == "change.stateful-destroy" {
            assert_eq!(rule["properties"]["security-severity"], "8.0");
        }
    }
}

/// Waived findings and approved changes do not count against the gate.
#[test]
fn waivers_and_approvals_do_not_fail_the_gate() {
    let (code, report) = json(
        resilix()
            .arg("scan")
            .arg(PLANS[1])
            .args(["--config", CONFIG, "--format", "json", "-q"]),
    );
    assert_eq!(
        code,
        Some(1),
        "the console change to the security group is not waived"
    );
    assert_eq!(report["summary"]["waived"], 1);
    // The group's drift and what it widened, and the recreated scratch bucket's missing access
    // block; the scratch bucket's deletion outside Terraform is waived.
    assert_eq!(report["summary"]["failed"], 3);
    let status = resilix()
        .args(["scan", "--config", CONFIG, "-q", "--fail-on", "critical"])
        .args(PLANS)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    // Without the configuration file, the tag still approves (default key `change-ticket`);
    // the approval in the file does not, so the KMS key deletion fails (with the database and
    // bucket replacements and the new bucket's missing public access block).
    let (_, plain) = json(resilix().args([
        "scan",
        PLANS[0],
        "--config",
        "fixtures/config/change-only.yaml",
        "--format",
        "json",
        "-q",
    ]));
    assert_eq!(plain["summary"]["failed"], 4);
    assert_eq!(plain["summary"]["approved"], 1);
}

#[test]
fn cli_diff_two_config_snapshots() {
    insta::assert_snapshot!(run(resilix().args(["diff", OLD, NEW])));
}

#[test]
fn diff_json_lists_each_change() {
    let (code, report) = json(resilix().args(["diff", OLD, NEW, "--format", "json", "-q"]));
    assert_eq!(code, Some(1));
    let mut seen: Vec<(String, String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["policy"].as_str().unwrap().to_owned(),
                f["resource"]["type"].as_str().unwrap().to_owned(),
                f["change"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            (
                "change.network-exposure-widened",
                "AWS::EC2::SecurityGroup",
                "update"
            ),
            ("change.privilege-widened", "AWS::IAM::Role", "update"),
            (
                "change.protection-weakened",
                "AWS::RDS::DBInstance",
                "update"
            ),
            ("change.protection-weakened", "AWS::S3::Bucket", "update"),
            ("change.stateful-destroy", "AWS::EC2::Volume", "delete"),
        ]
        .map(|(a, b, c)| (a.to_owned(), b.to_owned(), c.to_owned()))
    );
    // The diff of a snapshot with itself has nothing to report.
    let (code, same) = json(resilix().args(["diff", NEW, NEW, "--format", "json", "-q"]));
    assert_eq!(code, Some(0));
    assert_eq!(same["summary"]["resources"], 0);
}

#[test]
fn cli_config_shape_errors() {
    insta::assert_snapshot!(run(resilix().args([
        "scan",
        PLANS[0],
        "--config",
        "fixtures/config-invalid/shape.yaml"
    ])));
}

#[test]
fn cli_config_unknown_policies() {
    insta::assert_snapshot!(run(resilix().args([
        "scan",
        PLANS[0],
        "--config",
        "fixtures/config-invalid/policies.yaml"
    ])));
}

/// Opt-in policies are off by default; `policies.enable` turns them on, `disable` turns a
/// default one off, `only` runs just the named ones (opt-in included).
#[test]
fn opt_in_policies_follow_the_configuration() {
    let plan = "fixtures/examples/plan.json";
    let policies = |extra: &[&str]| -> std::collections::BTreeSet<String> {
        let (_, report) = json(
            resilix()
                .args(["scan", plan, "--format", "json", "--fail-on", "never", "-q"])
                .args(extra),
        );
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["policy"].as_str().unwrap().to_owned())
            .collect()
    };
    let default = policies(&[]);
    assert!(!default.contains("aws.s3.replication") && !default.contains("aws.s3.lifecycle"));
    assert!(default.contains("aws.s3.access-logging"));
    let configured = policies(&["--config", "fixtures/config/opt-in.yaml"]);
    assert!(configured.contains("aws.s3.replication") && configured.contains("aws.s3.lifecycle"));
    assert!(!configured.contains("aws.s3.access-logging"));
    assert!(configured.contains("aws.s3.block-public-access"));
}

/// Issue 11, item 1: a waiver in force is shown as waived by every format — never as a GitHub
/// error or warning, a JUnit failure or a row of the Markdown failing table — and the exit code
/// agrees with what they show.
#[test]
fn a_waived_finding_is_waived_in_every_format() {
    const PLAN: &str = "fixtures/repos/network/plan.json";
    const WAIVED: &str = "aws_s3_bucket.logs";
    let scan = |format: &str| {
        let output = resilix()
            .args(["scan", PLAN, "-q", "--format", format])
            .args(["--config", "fixtures/config/waive-logs-bucket.yaml"])
            .output()
            .unwrap();
        (
            output.status.code(),
            String::from_utf8(output.stdout).unwrap(),
        )
    };
    let (code, json) = scan("json");
    let report: Value = serde_json::from_str(&json).unwrap();
    let waived: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["resource"]["address"] == WAIVED)
        .collect();
    assert!(!waived.is_empty(), "the bucket has findings to waive");
    assert!(waived.iter().all(|f| f["disposition"] == "waived"));
    assert_eq!(report["summary"]["waived"], waived.len());

    let (github_code, github) = scan("github");
    for line in github.lines().filter(|l| l.contains(WAIVED)) {
        assert!(line.starts_with("::notice "), "{line}");
        assert!(line.contains("waived"), "{line}");
    }
    let (junit_code, junit) = scan("junit");
    let cases: Vec<&str> = junit
        .split("<testcase ")
        .filter(|c| c.contains(&format!("name=\"{WAIVED}\"")))
        .collect();
    assert!(
        cases
            .iter()
            .any(|c| c.contains("<skipped message=\"waived until 2099-12-31"))
    );
    assert!(cases.iter().all(|c| !c.contains("<failure")), "{cases:?}");
    let (markdown_code, markdown) = scan("markdown");
    let failing = markdown
        .split("### Failing findings")
        .nth(1)
        .map(|rest| rest.split("### ").next().unwrap_or(""))
        .unwrap_or("");
    assert!(!failing.contains(WAIVED), "{failing}");
    let accepted = markdown.split("### Accepted findings").nth(1).unwrap();
    assert!(accepted.contains(&format!(
        "| waived | medium | `aws.s3.access-logging` | `{WAIVED}` |"
    )));
    let (text_code, text) = scan("text");
    let block = text.split("\n\n").find(|b| b.starts_with(WAIVED)).unwrap();
    assert!(
        block
            .lines()
            .skip(1)
            .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
            .all(|l| l.trim_start().starts_with("WAIVED")),
        "{block}"
    );
    let (sarif_code, sarif) = scan("sarif");
    let sarif: Value = serde_json::from_str(&sarif).unwrap();
    for result in sarif["runs"][0]["results"].as_array().unwrap() {
        if result["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == WAIVED {
            assert_eq!(result["suppressions"][0]["status"], "accepted");
        }
    }
    // One exit code whatever the format.
    for other in [
        github_code,
        junit_code,
        markdown_code,
        text_code,
        sarif_code,
    ] {
        assert_eq!(other, code);
    }
}

/// One IAM statement of 400 actions × 400 resources against two narrower earlier ones that
/// cover it only in part (and a `Deny`, which grants nothing): the evidence names the first new
/// grants in order and counts every one of them, as the pairwise comparison would.
#[test]
fn a_large_iam_statement_is_compared_exactly() {
    use serde_json::json;
    let actions: Vec<String> = (0..400).map(|i| format!("svc:Action{i:04}")).collect();
    let resources: Vec<String> = (0..400).map(|i| format!("arn:aws:s3:::b/{i:04}")).collect();
    let document = |statements: Value| {
        serde_json::to_string(&json!({"Version": "2012-10-17", "Statement": statements})).unwrap()
    };
    let before = document(json!([
        {"Effect": "Allow", "Action": "svc:*", "Resource": resources[..200]},
        {"Effect": "Allow", "Action": actions.iter().step_by(2).collect::<Vec<_>>(), "Resource": "arn:aws:s3:::b/*"},
        {"Effect": "Deny", "Action": "*", "Resource": "*"},
    ]));
    let after = document(json!([
        {"Effect": "Allow", "Action": actions, "Resource": resources},
        {"Effect": "Allow", "NotAction": "iam:*", "Resource": "arn:aws:s3:::other"},
    ]));
    let plan = json!({
        "format_version": "1.2",
        "resource_changes": [{
            "address": "aws_iam_policy.wide",
            "mode": "managed",
            "type": "aws_iam_policy",
            "name": "wide",
            "change": {
                "actions": ["update"],
                "before": {"name": "wide", "policy": before},
                "after": {"name": "wide", "policy": after},
            },
        }],
    });
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.json");
    std::fs::write(&path, plan.to_string()).unwrap();
    let (code, report) = json(
        resilix()
            .args([
                "scan",
                "--check",
                "change.privilege-widened",
                "-f",
                "json",
                "-q",
            ])
            .arg(&path),
    );
    assert_eq!(code, Some(1));
    let finding = &report["findings"][0];
    assert_eq!(finding["status"], "fail");
    let actual = finding["evidence"][0]["actual"].as_str().unwrap();
    // The odd actions (200) on the upper half of the resources (200), and NotAction read as `*`.
    let shown = [
        "* on arn:aws:s3:::other".to_owned(),
        "svc:Action0001 on arn:aws:s3:::b/0200".to_owned(),
    ]
    .into_iter()
    .chain((201..207).map(|i| format!("svc:Action0001 on arn:aws:s3:::b/{i:04}")))
    .collect::<Vec<_>>()
    .join(", ");
    assert_eq!(
        actual,
        format!("newly allowing {shown} and {} more", 200 * 200 + 1 - 8)
    );
}
