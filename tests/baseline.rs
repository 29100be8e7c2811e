//! Baselines: `resilix baseline create` records today's findings; `scan --baseline` fails only on
//! new ones and keeps the known ones visible.

use std::path::Path;

use serde_json::Value;

use crate::cli::{repo_policy_args, with_tmp_filter};
use crate::emit::validate_sarif;
use crate::util::{resilix, run};

const REPO_PLAN: &str = "fixtures/repos/network/plan.json";

/// A baseline of the fixture repository made with its own policies only (without the
/// built-in S3 policy), so that a later scan with the S3 policy has new findings.
fn create(dir: &Path, extra: &[&str]) -> std::path::PathBuf {
    let file = dir.join("baseline.json");
    let status = resilix()
        .args([
            "baseline",
            "create",
            REPO_PLAN,
            "-q",
            "--no-builtin-policies",
        ])
        .args(["--policies", "fixtures/repos/network/policies", "--output"])
        .arg(&file)
        .args(extra)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    file
}

#[test]
fn baseline_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = create(dir.path(), &[]);
    let text = std::fs::read_to_string(&file).unwrap();
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(env!("CARGO_PKG_VERSION"), "[VERSION]");
    settings.bind(|| insta::assert_snapshot!("baseline_file", text));
    // Fingerprints do not depend on where findings point: a baseline made without the .tf
    // sources is the same file.
    let dir2 = tempfile::tempdir().unwrap();
    let empty = tempfile::tempdir().unwrap();
    let without_sources = create(dir2.path(), &["--tf-root", empty.path().to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(without_sources).unwrap(), text);
}

#[test]
fn known_findings_are_notes_and_only_new_ones_fail() {
    let dir = tempfile::tempdir().unwrap();
    let baseline = create(dir.path(), &[]);

    // The same policies: every finding is known, nothing fails.
    let status = resilix()
        .args(["scan", REPO_PLAN, "-q", "--no-builtin-policies"])
        .args([
            "--policies",
            "fixtures/repos/network/policies",
            "--baseline",
        ])
        .arg(&baseline)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));

    // With the S3 policy too: its two findings are new and fail; the others stay visible.
    let sarif = dir.path().join("results.sarif");
    let output = resilix()
        .args(["scan", REPO_PLAN, "--format", "text"])
        .args(repo_policy_args())
        .arg("--baseline")
        .arg(&baseline)
        .arg("--report")
        .arg(format!("sarif={}", sarif.display()))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = std::fs::read_to_string(&sarif).unwrap();
    assert!(validate_sarif(&text).is_empty());
    let value: Value = serde_json::from_str(&text).unwrap();
    let states: Vec<(String, String, String)> = value["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
                r["level"].as_str().unwrap().to_owned(),
                r["baselineState"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let state = |address: &str| {
        states
            .iter()
            .find(|(a, _, _)| a == address)
            .map(|(_, level, state)| (level.as_str(), state.as_str()))
    };
    assert_eq!(
        state("aws_s3_bucket.team[\"billing\"]"),
        Some(("error", "new"))
    );
    assert_eq!(
        state("module.net.aws_security_group.bastion"),
        Some(("note", "unchanged"))
    );
    assert_eq!(
        state("module.net.aws_ebs_volume.data[0]"),
        Some(("note", "unchanged"))
    );
    // New findings come first.
    assert_eq!(states[0].2, "new");
    with_tmp_filter(dir.path(), || {
        insta::assert_snapshot!(
            "baseline_scan_text",
            String::from_utf8_lossy(&output.stdout)
        );
    });
}

#[test]
fn a_bad_baseline_is_an_error_before_scanning() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("baseline.json");
    std::fs::write(
        &file,
        "{\n  \"schema\": \"something/else\",\n  \"findings\": []\n}\n",
    )
    .unwrap();
    with_tmp_filter(dir.path(), || {
        insta::assert_snapshot!(
            "baseline_bad_file",
            run(resilix().args(["scan", REPO_PLAN, "--baseline"]).arg(&file))
        );
    });
    let missing = dir.path().join("missing.json");
    let output = resilix()
        .args(["scan", REPO_PLAN, "--baseline"])
        .arg(&missing)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty(), "nothing is written");
}

/// An unreadable input would leave its findings out of the baseline, to come back as "new":
/// nothing is written.
#[test]
fn a_baseline_is_not_written_from_unreadable_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        "{\"format_version\": \"1.2\", \"resource_changes\": [",
    )
    .unwrap();
    let file = dir.path().join("baseline.json");
    let status = resilix()
        .args(["baseline", "create", REPO_PLAN, "-q"])
        .arg(&bad)
        .arg("--output")
        .arg(&file)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(2));
    assert!(!file.exists());
}

/// `baseline create` reads resilix.yaml as `scan` does: a policy the config turns on is in the
/// baseline, so the scan that uses the baseline has nothing new.
#[test]
fn a_baseline_uses_the_policies_the_config_selects() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("baseline.json");
    let plan = "fixtures/policies/aws.s3.replication/fail.plan.json";
    let config = ["--config", "fixtures/config/opt-in.yaml"];
    let status = resilix()
        .args(["baseline", "create", plan, "-q", "--output"])
        .arg(&file)
        .args(config)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("\"aws.s3.replication\""), "{text}");
    let status = resilix()
        .args(["scan", plan, "-q", "--format", "json", "--baseline"])
        .arg(&file)
        .args(config)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
}
