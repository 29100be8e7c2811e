//! Writes that never destroy (issue 11, item 5): special files are written in place, links are
//! followed to the file they name, and a command line that names one file twice (two outputs,
//! or an output and an input) is refused before anything runs.
#![cfg(unix)]

use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt, symlink};
use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::emit::validate_sarif;
use crate::util::{resilix, root};

const FAIL_PLAN: &str = "fixtures/policies/aws.s3.block-public-access/fail.plan.json";

/// `resilix scan FAIL_PLAN -q` with one built-in policy, run in `dir` (so relative output
/// paths are relative to it), with `args` after.
fn scan_in(dir: &Path, args: &[&str]) -> Command {
    let mut command = resilix();
    command
        .current_dir(dir)
        .args([
            "scan",
            "-q",
            "--no-builtin-policies",
            "--policies",
            &root()
                .join("policies/aws/s3/block-public-access.yaml")
                .display()
                .to_string(),
        ])
        .arg(root().join(FAIL_PLAN))
        .args(args);
    command
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The SARIF the same scan writes to a regular file.
fn reference_sarif(dir: &Path) -> Vec<u8> {
    let out = dir.join("reference.sarif");
    let status = scan_in(dir, &["-f", "sarif", "-o"])
        .arg(&out)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(1));
    let bytes = std::fs::read(&out).unwrap();
    std::fs::remove_file(&out).unwrap();
    bytes
}

#[test]
fn a_fifo_is_written_in_place_and_its_reader_gets_the_whole_report() {
    let dir = tempfile::tempdir().unwrap();
    let expected = reference_sarif(dir.path());
    let fifo = dir.path().join("pipe");
    let reader = crate::util::fifo_with_reader(&fifo);
    let output = scan_in(dir.path(), &["-f", "sarif", "-o"])
        .arg(&fifo)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let received = reader.join().unwrap();
    assert_eq!(received, expected, "the reader gets the whole SARIF");
    assert!(validate_sarif(&String::from_utf8(received).unwrap()).is_empty());
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo(),
        "the FIFO is still a FIFO"
    );
    assert_eq!(names(dir.path()), ["pipe"], "no temporary file");
}

#[test]
fn a_link_is_followed_and_its_target_replaced_in_the_target_directory() {
    let dir = tempfile::tempdir().unwrap();
    let expected = reference_sarif(dir.path());
    let reports = dir.path().join("reports");
    std::fs::create_dir(&reports).unwrap();
    let target = reports.join("results.sarif");
    std::fs::write(&target, "stale").unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).unwrap();
    // link → link → target, relative links in two directories.
    symlink("reports/results.sarif", dir.path().join("inner.sarif")).unwrap();
    symlink("inner.sarif", dir.path().join("latest.sarif")).unwrap();
    let output = scan_in(dir.path(), &["-f", "sarif", "-o", "latest.sarif"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    for link in ["latest.sarif", "inner.sarif"] {
        let meta = std::fs::symlink_metadata(dir.path().join(link)).unwrap();
        assert!(meta.file_type().is_symlink(), "{link} is still a link");
    }
    assert_eq!(
        std::fs::read(&target).unwrap(),
        expected,
        "the target is new"
    );
    assert_eq!(
        std::fs::metadata(&target).unwrap().permissions().mode() & 0o777,
        0o640,
        "the target keeps its permissions"
    );
    assert_eq!(names(&reports), ["results.sarif"], "no temporary file");
    assert_eq!(
        names(dir.path()),
        ["inner.sarif", "latest.sarif", "reports"]
    );
}

#[test]
fn a_dangling_link_creates_its_target() {
    let dir = tempfile::tempdir().unwrap();
    symlink("made.json", dir.path().join("link.json")).unwrap();
    let output = scan_in(dir.path(), &["-f", "json", "-o", "link.json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("made.json")).unwrap()).unwrap();
    assert_eq!(report["summary"]["failed"], 2);
    assert!(
        std::fs::symlink_metadata(dir.path().join("link.json"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

#[cfg(target_os = "linux")]
#[test]
fn a_full_device_is_an_error_with_the_system_message() {
    let dir = tempfile::tempdir().unwrap();
    let output = scan_in(dir.path(), &["-f", "sarif", "-o", "/dev/full"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let text = stderr(&output);
    assert!(
        text.contains("cannot write /dev/full: No space left on device"),
        "{text}"
    );
    let meta = std::fs::symlink_metadata("/dev/full").unwrap();
    assert!(
        meta.file_type().is_char_device(),
        "/dev/full is still a device"
    );
}

#[test]
fn dev_stdout_is_the_stream_itself() {
    let dir = tempfile::tempdir().unwrap();
    let expected = reference_sarif(dir.path());
    // A pipe: the bytes reach the reader.
    let output = scan_in(dir.path(), &["-f", "sarif", "-o", "/dev/stdout"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(output.stdout, expected);
    // A file opened for appending (`>> log`): appended to, not replaced.
    let log = dir.path().join("log");
    std::fs::write(&log, "earlier lines\n").unwrap();
    let appending = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    let output = scan_in(dir.path(), &["-f", "sarif", "-o", "/dev/stdout"])
        .stdout(Stdio::from(appending))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let mut want = b"earlier lines\n".to_vec();
    want.extend_from_slice(&expected);
    assert_eq!(std::fs::read(&log).unwrap(), want);
    assert_eq!(names(dir.path()), ["log"]);
}

/// Runs the command, which must be refused (exit 2) with `message` on stderr.
fn refused(command: &mut Command, message: &str) {
    let output = command.output().unwrap();
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert!(text.contains(message), "{message} in:\n{text}");
    assert!(output.stdout.is_empty(), "nothing on stdout either");
}

#[test]
fn one_file_named_twice_is_refused_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("a")).unwrap();
    // Not there yet: told apart by the canonical path.
    for spelling in ["r.out", "./r.out", "a/../r.out"] {
        refused(
            &mut scan_in(
                dir.path(),
                &["-o", "r.out", "--report", &format!("sarif={spelling}")],
            ),
            &format!("`--report sarif={spelling}` names the same file as `--output r.out`"),
        );
        assert_eq!(names(dir.path()), ["a"], "nothing written ({spelling})");
    }
    // There already, and through a link: by device and inode; the file is left as it was.
    std::fs::write(dir.path().join("r.out"), "previous").unwrap();
    symlink("r.out", dir.path().join("link.out")).unwrap();
    std::fs::hard_link(dir.path().join("r.out"), dir.path().join("hard.out")).unwrap();
    for spelling in ["./r.out", "a/../r.out", "link.out", "hard.out"] {
        refused(
            scan_in(
                dir.path(),
                &[
                    "-f",
                    "json",
                    "--report",
                    &format!("sarif={spelling}"),
                    "--report",
                ],
            )
            .arg(format!("markdown={}", dir.path().join("r.out").display())),
            &format!("names the same file as `--report sarif={spelling}`"),
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("r.out")).unwrap(),
            "previous"
        );
    }
    assert_eq!(names(dir.path()), ["a", "hard.out", "link.out", "r.out"]);
}

#[test]
fn dev_null_may_be_named_twice_and_dev_stdout_may_not() {
    let dir = tempfile::tempdir().unwrap();
    let output = scan_in(
        dir.path(),
        &["-o", "/dev/null", "--report", "sarif=/dev/null"],
    )
    .output()
    .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    refused(
        scan_in(dir.path(), &["--report", "sarif=/dev/stdout"]).stdout(Stdio::piped()),
        "`--report sarif=/dev/stdout` names the same file as stdout (the --format output)",
    );
    refused(
        &mut scan_in(
            dir.path(),
            &["-o", "/dev/stdout", "--report", "sarif=/proc/self/fd/1"],
        ),
        "names the same file as `--output /dev/stdout`",
    );
}

#[test]
fn an_output_that_is_an_input_is_refused_and_the_input_kept() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.json");
    std::fs::copy(root().join(FAIL_PLAN), &plan).unwrap();
    let original = std::fs::read(&plan).unwrap();
    symlink("plan.json", dir.path().join("plan-link.json")).unwrap();
    let run_on_plan = |args: &[&str]| {
        let mut command = resilix();
        command
            .current_dir(dir.path())
            .args(["scan", "-q", "plan.json"])
            .args(args);
        command
    };
    for output in ["plan.json", "./plan.json", "plan-link.json"] {
        refused(
            &mut run_on_plan(&["-o", output]),
            &format!("`--output {output}` would replace the input `plan.json`"),
        );
        refused(
            &mut run_on_plan(&["--report", &format!("sarif={output}")]),
            "would replace the input `plan.json`",
        );
    }
    // The plan read from stdin.
    refused(
        resilix()
            .current_dir(dir.path())
            .args(["scan", "-q", "-", "-o", "plan.json"])
            .stdin(std::fs::File::open(&plan).unwrap()),
        "`--output plan.json` would replace `PATH -` (stdin)",
    );
    // The baseline, the configuration, a policy file.
    std::fs::write(dir.path().join("baseline.json"), "{}").unwrap();
    refused(
        &mut run_on_plan(&["--baseline", "baseline.json", "-o", "baseline.json"]),
        "`--output baseline.json` would replace `--baseline baseline.json`",
    );
    std::fs::write(dir.path().join("resilix.yaml"), "fail-on: high\n").unwrap();
    refused(
        &mut run_on_plan(&["-o", "resilix.yaml"]),
        "would replace the configuration",
    );
    let policy = dir.path().join("policy.yaml");
    std::fs::copy(
        root().join("policies/aws/s3/block-public-access.yaml"),
        &policy,
    )
    .unwrap();
    refused(
        &mut run_on_plan(&["--policies", "policy.yaml", "--report", "json=policy.yaml"]),
        "`--report json=policy.yaml` would replace `--policies policy.yaml`",
    );
    // `baseline create` too.
    refused(
        resilix().current_dir(dir.path()).args([
            "baseline",
            "create",
            "plan.json",
            "-o",
            "plan-link.json",
        ]),
        "`--output plan-link.json` would replace the input `plan.json`",
    );
    assert_eq!(
        std::fs::read(&plan).unwrap(),
        original,
        "the plan is unchanged"
    );
    assert_eq!(
        names(dir.path()),
        [
            "baseline.json",
            "plan-link.json",
            "plan.json",
            "policy.yaml",
            "resilix.yaml"
        ]
    );
}

#[cfg(feature = "aws")]
#[test]
fn audit_save_and_output_one_file_is_refused_before_any_pull() {
    let dir = tempfile::tempdir().unwrap();
    // No endpoint and no credentials are needed: nothing is pulled.
    refused(
        resilix().current_dir(dir.path()).args([
            "audit",
            "--region",
            "eu-west-1",
            "--endpoint-url",
            "http://127.0.0.1:9",
            "--save",
            "x.json",
            "-o",
            "./x.json",
        ]),
        "`--output ./x.json` names the same file as `--save x.json`",
    );
    assert!(names(dir.path()).is_empty());
}

#[test]
fn a_directory_is_no_output_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("reports")).unwrap();
    let output = scan_in(dir.path(), &["-o", "reports"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let text = stderr(&output);
    assert!(
        text.contains("cannot write reports: it is a directory"),
        "{text}"
    );
    assert!(names(&dir.path().join("reports")).is_empty());
}

/// Whether this process runs as root (a file it creates is owned by uid 0).
fn running_as_root(dir: &Path) -> bool {
    let probe = dir.join(".uid");
    std::fs::write(&probe, "").unwrap();
    let uid = std::fs::metadata(&probe).unwrap().uid();
    std::fs::remove_file(&probe).unwrap();
    uid == 0
}

#[test]
fn a_read_only_directory_is_a_clear_error_and_keeps_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let locked = dir.path().join("locked");
    std::fs::create_dir(&locked).unwrap();
    std::fs::write(locked.join("results.sarif"), "previous").unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o555)).unwrap();
    let mut command = scan_in(dir.path(), &["-f", "sarif", "-o", "locked/results.sarif"]);
    if running_as_root(dir.path()) {
        // Root writes anywhere: run as nobody, whom the mode does bind. Nobody may not reach
        // the checkout (a clone under a 0700 directory), so the binary, the policy and the
        // plan are copied into the test's own directory first.
        let program = dir.path().join("resilix");
        std::fs::copy(command.get_program(), &program).unwrap();
        std::fs::copy(
            root().join("policies/aws/s3/block-public-access.yaml"),
            dir.path().join("policy.yaml"),
        )
        .unwrap();
        std::fs::copy(root().join(FAIL_PLAN), dir.path().join("plan.json")).unwrap();
        let mut unprivileged = Command::new("setpriv");
        unprivileged
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(program)
            .args([
                "scan",
                "-q",
                "--no-builtin-policies",
                "--policies",
                "policy.yaml",
            ])
            .args(["plan.json", "-f", "sarif", "-o", "locked/results.sarif"])
            .current_dir(dir.path())
            .env("NO_COLOR", "1");
        command = unprivileged;
    }
    let output = command.output().unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let text = stderr(&output);
    assert!(
        text.contains("cannot write locked/results.sarif: Permission denied"),
        "{text}"
    );
    assert_eq!(names(&locked), ["results.sarif"], "no temporary file");
    assert_eq!(
        std::fs::read_to_string(locked.join("results.sarif")).unwrap(),
        "previous"
    );
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
}
