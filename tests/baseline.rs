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

/// A repository in a temporary directory (it has `.git`, so it is the repository root) with the
/// fixture plan at `prod/plan.json` and `staging/plan.json`.
fn two_environments() -> tempfile::TempDir {
    let repo = tempfile::tempdir().unwrap();
    std::fs::create_dir(repo.path().join(".git")).unwrap();
    for env in ["prod", "staging"] {
        std::fs::create_dir(repo.path().join(env)).unwrap();
        std::fs::copy(REPO_PLAN, repo.path().join(env).join("plan.json")).unwrap();
    }
    repo
}

/// `resilix ARGS` in `dir`, with only the fixture repository's policies.
fn resilix_in(dir: &Path, args: &[&str]) -> std::process::Command {
    let mut command = resilix();
    command
        .current_dir(dir)
        .args(args)
        .args(["--no-builtin-policies", "--policies"])
        .arg(crate::util::fixture("repos/network/policies"));
    command
}

/// Issue 11, item 2: a baseline of `prod/plan.json` does not make the same addresses in
/// `staging/plan.json` known — a finding's identity includes the plan it came from — and the
/// baseline keeps matching in another checkout of the same repository.
#[test]
fn a_baseline_tells_plans_apart_and_survives_another_checkout() {
    let repo = two_environments();
    let baseline = repo.path().join("baseline.json");
    let status = resilix_in(
        repo.path(),
        &[
            "baseline",
            "create",
            "prod/plan.json",
            "-q",
            "-o",
            "baseline.json",
        ],
    )
    .status()
    .unwrap();
    assert_eq!(status.code(), Some(0));
    let recorded: Value =
        serde_json::from_str(&std::fs::read_to_string(&baseline).unwrap()).unwrap();
    let entries = recorded["findings"].as_array().unwrap();
    assert!(
        entries.iter().all(|e| e["input"] == "prod/plan.json"),
        "{recorded}"
    );

    let scan = |dir: &Path, baseline: &Path| {
        let output = resilix_in(
            dir,
            &[
                "scan",
                "prod/plan.json",
                "staging/plan.json",
                "-q",
                "-f",
                "json",
            ],
        )
        .arg("--baseline")
        .arg(baseline)
        .output()
        .unwrap();
        let report: Value = serde_json::from_slice(&output.stdout).unwrap();
        (output.status.code(), report)
    };
    let (code, report) = scan(repo.path(), &baseline);
    assert_eq!(code, Some(1), "staging's findings are new and fail");
    let comparison = &report["summary"]["baseline"];
    assert_eq!(comparison["unchanged"], entries.len());
    assert_eq!(comparison["new"], entries.len());
    for finding in report["findings"].as_array().unwrap() {
        let from_prod = finding["resource"]["file"] == "prod/plan.json";
        assert_eq!(
            finding["disposition"] == "known",
            from_prod,
            "{}",
            finding["resource"]
        );
    }

    // Another checkout (another machine, another CI workspace): the same baseline still
    // matches prod's findings.
    let elsewhere = two_environments();
    let (_, report) = scan(elsewhere.path(), &baseline);
    assert_eq!(report["summary"]["baseline"]["unchanged"], entries.len());
}

/// Issue 11, item 2: SARIF `partialFingerprints` are unique within a run, even when one
/// resource is reported twice (the same plan given twice): GitHub's `:N` occurrence suffix
/// numbers them.
#[test]
fn sarif_partial_fingerprints_are_unique_in_a_run() {
    let repo = two_environments();
    for plans in [
        ["prod/plan.json", "staging/plan.json"],
        ["prod/plan.json", "prod/plan.json"],
    ] {
        let output = resilix_in(repo.path(), &["scan", "-q", "-f", "sarif"])
            .args(plans)
            .output()
            .unwrap();
        let sarif: Value = serde_json::from_slice(&output.stdout).unwrap();
        let prints: Vec<&str> = sarif["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r["partialFingerprints"]["primaryLocationLineHash"]
                    .as_str()
                    .unwrap()
            })
            .collect();
        let distinct: std::collections::BTreeSet<&&str> = prints.iter().collect();
        assert!(prints.len() > 2);
        assert_eq!(distinct.len(), prints.len(), "{plans:?}: {prints:?}");
    }
}

/// Issue 11, item 2: a baseline written before findings were told apart by plan is refused
/// (exit 2, nothing scanned) with the command that recreates it.
#[test]
fn an_old_baseline_is_refused_with_how_to_recreate_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("baseline.json");
    std::fs::write(
        &file,
        r#"{"schema": "resilix/baseline/v1", "tool": {"name": "resilix", "version": "0.1.0"},
  "findings": [{"fingerprint": "686d662ad5d519d2", "policy": "fixture.network.ssh-from-internet",
                "resource": "module.net.aws_security_group.bastion"}]}"#,
    )
    .unwrap();
    let output = resilix()
        .args(["scan", REPO_PLAN, "--baseline"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty(), "nothing is scanned or written");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("resilix/baseline/v1"), "{stderr}");
    assert!(
        stderr.contains("resilix baseline create --output")
            && stderr.contains("baseline.json PATH..."),
        "{stderr}"
    );
}
