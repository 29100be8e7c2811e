//! Inline suppressions in `.tf` sources (`# resilix:ignore ID[,ID…] reason="…" expires=…`):
//! the fixture repository `fixtures/repos/ignores` holds one case per block (see its README),
//! scanned as CI does, on a fixed day (`RESILIX_TODAY`).

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::emit::validate_sarif;
use crate::util::{copy_tree, fixture, resilix, run};

/// The day the scans run: after the `legacy` bucket's ignore expired (2026-01-31), before the
/// others do.
const TODAY: &str = "2026-12-07";

/// `resilix scan` of the fixture plan with its `.tf` sources, the three S3 policies the
/// fixture is about, in `format`.
fn scan(format: &str) -> Command {
    let mut command = resilix();
    command.env("RESILIX_TODAY", TODAY).args([
        "scan",
        "fixtures/repos/ignores/plan.json",
        "--tf-root",
        "fixtures/repos/ignores",
        "--check",
        "aws.s3.versioning",
        "--check",
        "aws.s3.access-logging",
        "--check",
        "aws.s3.block-public-access",
        "--format",
        format,
    ]);
    command
}

fn json_of(command: &mut Command) -> Value {
    let output = command.output().unwrap();
    serde_json::from_slice(&output.stdout).unwrap()
}

/// The SARIF results of one resource and policy.
fn sarif_result<'a>(log: &'a Value, address: &str, policy: &str) -> &'a Value {
    log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| {
            r["ruleId"] == policy
                && r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == address
        })
        .unwrap_or_else(|| panic!("no result of {policy} on {address}"))
}

#[test]
fn inline_ignores_sarif() {
    let output = scan("sarif").output().unwrap();
    assert_eq!(output.status.code(), Some(1), "unsuppressed findings fail");
    let text = String::from_utf8(output.stdout).unwrap();
    let errors = validate_sarif(&text);
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    let log: Value = serde_json::from_str(&text).unwrap();

    // Suppressed: in source, with the justification and the comment's line.
    let archive = sarif_result(&log, "aws_s3_bucket.archive", "aws.s3.versioning");
    assert_eq!(archive["suppressions"][0]["kind"], "inSource");
    assert_eq!(
        archive["suppressions"][0]["location"]["physicalLocation"]["region"]["startLine"],
        9
    );
    // Expired and reason-less: not suppressed.
    for address in ["aws_s3_bucket.legacy", "aws_s3_bucket.scratch"] {
        let result = sarif_result(&log, address, "aws.s3.versioning");
        assert!(result.get("suppressions").is_none(), "{address}: {result}");
    }
    // Each is a configuration notification at its line.
    let notifications = &log["runs"][0]["invocations"][0]["toolConfigurationNotifications"];
    let lines: Vec<&Value> = notifications
        .as_array()
        .unwrap()
        .iter()
        .map(|n| &n["locations"][0]["physicalLocation"]["region"]["startLine"])
        .collect();
    assert_eq!(lines, [15, 21]);

    insta::assert_json_snapshot!("inline_ignores_sarif", log, {
        ".runs[0].tool.driver.version" => "[version]",
        ".runs[0].tool.driver.semanticVersion" => "[version]",
        ".runs[0].tool.driver.rules" => "[rules: see emit_sarif]",
    });
}

#[test]
fn inline_ignores_json() {
    let report = json_of(&mut scan("json"));
    insta::assert_json_snapshot!("inline_ignores_json", report, {
        ".tool.version" => "[version]",
    });
}

#[test]
fn inline_ignores_text() {
    insta::assert_snapshot!("inline_ignores_text", run(&mut scan("text")));
}

#[test]
fn inline_ignores_github() {
    insta::assert_snapshot!("inline_ignores_github", run(&mut scan("github")));
}

#[test]
fn inline_ignores_markdown() {
    insta::assert_snapshot!("inline_ignores_markdown", run(&mut scan("markdown")));
}

/// What each case does to the disposition of the findings it names.
#[test]
fn each_case_decides_the_disposition() {
    let report = json_of(&mut scan("json"));
    let disposition = |address: &str, policy: &str| -> String {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["resource"]["address"] == address && f["policy"] == policy)
            .map(|f| f["disposition"].as_str().unwrap().to_owned())
            .unwrap_or_else(|| panic!("no finding of {policy} on {address}"))
    };
    let cases = [
        // Two IDs on one line.
        ("aws_s3_bucket.archive", "aws.s3.versioning", "waived"),
        ("aws_s3_bucket.archive", "aws.s3.access-logging", "waived"),
        (
            "aws_s3_bucket.archive",
            "aws.s3.block-public-access",
            "fail",
        ),
        // Expired, and reason-less: nothing suppressed.
        ("aws_s3_bucket.legacy", "aws.s3.versioning", "fail"),
        ("aws_s3_bucket.scratch", "aws.s3.versioning", "fail"),
        // Two lines above one block, one of them a glob (`aws.s3.block-*`), for both
        // for_each instances; the policy neither names still fails.
        (
            "aws_s3_bucket.team[\"analytics\"]",
            "aws.s3.versioning",
            "waived",
        ),
        (
            "aws_s3_bucket.team[\"billing\"]",
            "aws.s3.block-public-access",
            "waived",
        ),
        (
            "aws_s3_bucket.team[\"billing\"]",
            "aws.s3.access-logging",
            "fail",
        ),
        // An ignore of another policy: no effect.
        ("aws_s3_bucket.unmatched", "aws.s3.versioning", "fail"),
        ("aws_s3_bucket.unmatched", "aws.s3.access-logging", "fail"),
        // Inside the block, as Checkov's skip comments are written.
        ("aws_s3_bucket.inside", "aws.s3.versioning", "waived"),
        // In a local module's source: every count instance.
        (
            "module.archive.aws_s3_bucket.copy[0]",
            "aws.s3.access-logging",
            "waived",
        ),
        (
            "module.archive.aws_s3_bucket.copy[1]",
            "aws.s3.access-logging",
            "waived",
        ),
        (
            "module.archive.aws_s3_bucket.copy[1]",
            "aws.s3.versioning",
            "fail",
        ),
    ];
    for (address, policy, expected) in cases {
        assert_eq!(
            disposition(address, policy),
            expected,
            "{policy} on {address}"
        );
    }
    assert_eq!(report["summary"]["waived"], 9);
    let warnings: Vec<(&str, u64)> = report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| (w["file"].as_str().unwrap(), w["line"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        warnings,
        [
            ("fixtures/repos/ignores/main.tf", 15),
            ("fixtures/repos/ignores/main.tf", 21)
        ]
    );
}

/// Writes the fixture repository into `dir` with one `aws.s3.versioning` ignore, expiring on
/// `expires`, above every bucket block.
fn every_bucket_ignored(dir: &Path, expires: &str) {
    copy_tree(&fixture("repos/ignores"), dir);
    for file in ["main.tf", "modules/archive/main.tf"] {
        let path = dir.join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        let rewritten: String = text
            .lines()
            .filter(|line| !line.contains("resilix:ignore"))
            .map(|line| {
                if line.starts_with("resource \"aws_s3_bucket\"") {
                    format!(
                        "# resilix:ignore aws.s3.versioning reason=\"gate test\" expires={expires}\n{line}\n"
                    )
                } else {
                    format!("{line}\n")
                }
            })
            .collect();
        std::fs::write(&path, rewritten).unwrap();
    }
}

/// The gate reads the disposition: findings all suppressed inline pass it; the same ignores,
/// expired, fail it again.
#[test]
fn the_gate_honours_inline_ignores() {
    for (expires, code) in [("2027-01-31", 0), ("2026-12-06", 1)] {
        let dir = tempfile::tempdir().unwrap();
        every_bucket_ignored(dir.path(), expires);
        let output = resilix()
            .current_dir(dir.path())
            .env("RESILIX_TODAY", TODAY)
            .args([
                "scan",
                "plan.json",
                "--check",
                "aws.s3.versioning",
                "--format",
                "json",
            ])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(code), "expires {expires}");
        let report: Value = serde_json::from_slice(&output.stdout).unwrap();
        let (waived, failed) = if code == 0 { (9, 0) } else { (0, 9) };
        assert_eq!(report["summary"]["waived"], waived, "expires {expires}");
        assert_eq!(report["summary"]["failed"], failed, "expires {expires}");
    }
}

/// The reason is text from the pull request: no output writes its control characters raw,
/// and an ignore outside the `.tf` files the plan maps to is not read.
#[test]
fn a_hostile_reason_is_escaped_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixture("repos/ignores"), dir.path());
    let main = dir.path().join("main.tf");
    let text = std::fs::read_to_string(&main).unwrap().replace(
        "reason=\"archive bucket: written once, read by auditors\"",
        "reason=\"\u{1b}]8;;https://evil.example\u{7}x\u{1b}[2J \u{202e}::error::forged\"",
    );
    std::fs::write(&main, text).unwrap();
    // Not a file the plan's resources map to: never read.
    std::fs::write(
        dir.path().join("notes.txt"),
        "# resilix:ignore * reason=\"x\" expires=2027-01-01\nresource \"aws_s3_bucket\" \"legacy\" {}\n",
    )
    .unwrap();
    for format in [
        "text", "json", "sarif", "github", "markdown", "junit", "html",
    ] {
        let output = resilix()
            .current_dir(dir.path())
            .env("RESILIX_TODAY", TODAY)
            .args([
                "scan",
                "plan.json",
                "--check",
                "aws.s3.versioning",
                "--format",
                format,
            ])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{format}");
        for (stream, bytes) in [("stdout", &output.stdout), ("stderr", &output.stderr)] {
            let text = String::from_utf8_lossy(bytes);
            assert!(
                !text.contains('\u{1b}') && !text.contains('\u{7}') && !text.contains('\u{202e}'),
                "{format} {stream}: {text}"
            );
            assert!(
                !text
                    .lines()
                    .any(|l| l.trim_start().starts_with("::error::forged")),
                "{format} {stream}"
            );
        }
    }
}
