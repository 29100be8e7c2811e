//! The command line as users run it: exit codes, stdout and stderr in snapshots.

use std::io::Write as _;
use std::process::Command;

use crate::emit::validate_sarif;
use crate::util::{resilix, root, run};

/// `resilix scan` pinned to one built-in policy, so these snapshots are about the command
/// line, not about the size of the catalog.
fn scan() -> Command {
    let mut command = resilix();
    command.args([
        "scan",
        "--no-builtin-policies",
        "--policies",
        "policies/aws/s3/block-public-access.yaml",
    ]);
    command
}

macro_rules! assert_cmd_snapshot {
    ($command:expr) => {{
        let mut settings = insta::Settings::clone_current();
        settings.add_filter(env!("CARGO_PKG_VERSION"), "[VERSION]");
        settings.bind(|| insta::assert_snapshot!(run($command)));
    }};
}

/// Replaces the temporary directory in outputs.
pub fn with_tmp_filter(dir: &std::path::Path, f: impl FnOnce()) {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(&regex_escape(&dir.display().to_string()), "[TMP]");
    settings.bind(f);
}

fn regex_escape(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '/' || c == '_' || c == '-' {
                c.to_string()
            } else {
                format!("\\{c}")
            }
        })
        .collect()
}

const FAIL_PLAN: &str = "fixtures/policies/aws.s3.block-public-access/fail.plan.json";
const PASS_PLAN: &str = "fixtures/policies/aws.s3.block-public-access/pass.plan.json";

#[test]
fn cli_scan_failing_plan_exits_1() {
    assert_cmd_snapshot!(scan().args([FAIL_PLAN]));
}

#[test]
fn cli_scan_passing_plan_exits_0() {
    assert_cmd_snapshot!(scan().args([PASS_PLAN]));
}

#[test]
fn cli_fail_on_threshold() {
    assert_cmd_snapshot!(scan().args([
        FAIL_PLAN,
        "--fail-on",
        "critical",
        "--format",
        "json",
        "-q"
    ]));
    let status = scan()
        .args([FAIL_PLAN, "--fail-on", "never", "-q"])
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    let status = scan()
        .args([FAIL_PLAN, "--fail-on", "high", "-q"])
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(1));
}

#[test]
fn cli_malformed_input_among_good_ones() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("truncated.json");
    std::fs::write(&bad, "{\n  \"format_version\": \"1.2\",\n  \"resource_changes\": [\n    {\"address\": \"aws_s3_bucket.b\"").unwrap();
    with_tmp_filter(dir.path(), || {
        assert_cmd_snapshot!(scan().args([FAIL_PLAN]).arg(&bad).arg(PASS_PLAN));
    });
}

#[test]
fn cli_sarif_output_file_is_written_atomically_and_validates() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results.sarif");
    std::fs::write(&out, "previous content").unwrap();
    let status = scan()
        .args([FAIL_PLAN, "--format", "sarif", "-o"])
        .arg(&out)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(1));
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(validate_sarif(&text).is_empty());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .collect();
    assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
}

#[test]
fn cli_output_in_a_missing_directory() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("missing/results.sarif");
    with_tmp_filter(dir.path(), || {
        assert_cmd_snapshot!(
            scan()
                .args([FAIL_PLAN, "--format", "sarif", "-o"])
                .arg(&out)
        );
    });
    assert!(!out.exists());
}

#[test]
fn cli_stdin() {
    let text = std::fs::read(root().join(FAIL_PLAN)).unwrap();
    let mut child = scan()
        .args(["-", "--format", "json", "-q"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&text).unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["summary"]["failed"], 2);
    assert_eq!(report["findings"][0]["resource"]["file"], "stdin");
}

#[test]
fn cli_input_size_bound() {
    assert_cmd_snapshot!(scan().args([FAIL_PLAN, "--max-input-size", "8K"]));
}

#[test]
fn cli_invalid_user_policies_exit_2_before_scanning() {
    assert_cmd_snapshot!(resilix().args([
        "scan",
        PASS_PLAN,
        "--no-builtin-policies",
        "--policies",
        "fixtures/policies-invalid/unknown-key.yaml"
    ]));
}

#[test]
fn cli_usage_errors_exit_2() {
    let output = scan()
        .args([PASS_PLAN, "--format", "yaml"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("invalid value 'yaml'"));
    let output = resilix().arg("scan").output().unwrap();
    assert_eq!(output.status.code(), Some(2), "no PATH is a usage error");
}

#[test]
fn cli_directory_without_inputs() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "nothing to scan").unwrap();
    with_tmp_filter(dir.path(), || {
        assert_cmd_snapshot!(scan().arg(dir.path()));
    });
}

const REPO_PLAN: &str = "fixtures/repos/network/plan.json";

/// The fixture repository's policies (see `fixtures/repos/network/README.md`).
pub fn repo_policy_args() -> [&'static str; 5] {
    [
        "--no-builtin-policies",
        "--policies",
        "fixtures/repos/network/policies",
        "--policies",
        "policies/aws/s3/block-public-access.yaml",
    ]
}

/// `--format github` as a pull request sees it: annotations on the `.tf` lines, found beside
/// the plan, with paths relative to `--repo-root`.
#[test]
fn cli_github_annotations_on_tf_lines() {
    assert_cmd_snapshot!(
        resilix()
            .args(["scan", REPO_PLAN, "--format", "github"])
            .args(repo_policy_args())
            .args(["--repo-root", "fixtures/repos/network"])
    );
}

/// One run writes every report: annotations on stdout, SARIF, Markdown and JUnit to files.
#[test]
fn cli_one_run_writes_every_report() {
    let dir = tempfile::tempdir().unwrap();
    let sarif = dir.path().join("results.sarif");
    let summary = dir.path().join("summary.md");
    let junit = dir.path().join("junit.xml");
    let output = resilix()
        .args(["scan", REPO_PLAN, "--format", "github", "-q"])
        .args(repo_policy_args())
        .arg("--report")
        .arg(format!("sarif={}", sarif.display()))
        .arg("--report")
        .arg(format!("markdown={}", summary.display()))
        .arg("--report")
        .arg(format!("junit={}", junit.display()))
        .args(["--sarif-category", "terraform"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8(output.stdout).unwrap();
    let annotations = stdout.lines().filter(|l| l.starts_with("::")).count();
    let sarif = std::fs::read_to_string(&sarif).unwrap();
    assert!(validate_sarif(&sarif).is_empty());
    let value: serde_json::Value = serde_json::from_str(&sarif).unwrap();
    assert_eq!(value["runs"][0]["automationDetails"]["id"], "terraform/");
    assert_eq!(
        value["runs"][0]["results"].as_array().unwrap().len(),
        annotations,
        "the same findings in every output"
    );
    let summary = std::fs::read_to_string(&summary).unwrap();
    assert!(
        summary.starts_with("## ❌ resilix: 5 failing findings"),
        "{summary}"
    );
    let junit = std::fs::read_to_string(&junit).unwrap();
    assert!(junit.contains("<testsuites name=\"resilix\" tests=\"7\" failures=\"5\""));
}

#[test]
fn cli_report_argument_errors() {
    for (arg, expected) in [
        ("yaml=out.yaml", "`yaml` is not a format"),
        ("sarif", "expected FORMAT=FILE"),
        ("sarif=", "the file name is missing"),
    ] {
        let output = resilix()
            .args(["scan", PASS_PLAN, "--report", arg])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{arg}: {stderr}");
    }
}

/// `--min-severity` keeps findings below it out of the outputs and the gate.
#[test]
fn cli_min_severity() {
    let output = resilix()
        .args([
            "scan",
            REPO_PLAN,
            "--format",
            "json",
            "-q",
            "--min-severity",
            "critical",
        ])
        .args(repo_policy_args())
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "the critical finding still fails"
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["findings"].as_array().unwrap().len(), 1);
    assert_eq!(report["summary"]["hidden_below_min_severity"], 5);
    assert_eq!(report["findings"][0]["resource"]["declaration"]["line"], 13);
}

/// The repository root is the nearest directory holding `.git`, as a file (worktrees,
/// submodules) or a directory.
#[test]
fn repository_root_is_found_walking_up() {
    let dir = tempfile::tempdir().unwrap();
    let deep = dir.path().join("a/b");
    std::fs::create_dir_all(&deep).unwrap();
    let outside = resilix::cli::repository_root(&deep);
    assert!(outside == deep || !outside.starts_with(dir.path()));
    std::fs::write(dir.path().join("a/.git"), "gitdir: elsewhere").unwrap();
    assert_eq!(resilix::cli::repository_root(&deep), dir.path().join("a"));
}
