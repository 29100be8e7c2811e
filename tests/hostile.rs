//! Hostile inputs: resilix runs on files built from pull requests and pulled from accounts.
//! Whatever it is fed, it ends with a clear message and exit code 2 (or a normal report), never
//! a crash, a hang or memory blown up by the input. Big inputs are made in a temporary
//! directory by each test; nothing large is committed.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use insta_cmd::get_cargo_bin;

use crate::util::{fixture, resilix};

/// Runs a command, failing the test if it takes longer than `limit` (a hang).
fn run_within(command: &mut Command, limit: Duration) -> Output {
    let start = Instant::now();
    let output = command.output().unwrap();
    let took = start.elapsed();
    assert!(took < limit, "took {took:?}, more than {limit:?}");
    output
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn hostile_policies() -> PathBuf {
    fixture("hostile")
}

fn write(dir: &Path, name: &str, text: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// A plan with one resource whose `after` is `after` (raw JSON).
fn plan_with_after(type_name: &str, after: &str) -> String {
    format!(
        r#"{{"format_version":"1.2","resource_changes":[{{"address":"{type_name}.a","type":"{type_name}","name":"a","change":{{"actions":["create"],"before":null,"after":{after}}}}}]}}"#
    )
}

const MINUTE: Duration = Duration::from_secs(60);
/// For the 10-million-element inputs in a debug build on a busy 2-core machine: these limits
/// catch a hang or a quadratic blow-up, not a slow run.
const FIVE_MINUTES: Duration = Duration::from_secs(300);

/// A 2 GB input is refused before it is read: the file is sparse, so the test writes nothing
/// to disk, and the refusal is immediate. `--max-input-size` raises the bound.
#[test]
fn a_2_gb_file_is_refused_unread_and_the_flag_raises_the_bound() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.json");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(2 << 30)
        .unwrap();
    let output = run_within(
        resilix().args(["scan", "-q"]).arg(&big),
        Duration::from_secs(10),
    );
    assert_eq!(output.status.code(), Some(2));
    let text = stderr(&output);
    assert!(
        text.contains(
            "2147483648 bytes is above the input size limit of 1073741824 bytes; nothing was read"
        ),
        "{text}"
    );
    assert!(text.contains("--max-input-size"), "{text}");

    // A smaller sparse file shows the flag at work: refused under the bound, read above it
    // (and then refused as what it is: zeros, not JSON).
    let zeros = dir.path().join("zeros.json");
    std::fs::File::create(&zeros)
        .unwrap()
        .set_len(2 << 20)
        .unwrap();
    let output = resilix()
        .args(["scan", "-q", "--max-input-size", "1M"])
        .arg(&zeros)
        .output()
        .unwrap();
    assert!(stderr(&output).contains("above the input size limit"));
    let output = resilix()
        .args(["scan", "-q", "--max-input-size", "3M"])
        .arg(&zeros)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let text = stderr(&output);
    assert!(!text.contains("above the input size limit"), "{text}");
    assert!(text.contains("this is a binary file"), "{text}");
}

/// Stdin has no size to check first: reading stops at the bound.
#[test]
fn stdin_above_the_bound_is_refused() {
    use std::io::Write as _;
    let mut child = resilix()
        .args(["scan", "-", "-q", "--max-input-size", "1K"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // The reader may stop reading (and close) before everything is written.
    let _ = stdin.write_all(&vec![b' '; 64 << 10]);
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let text = stderr(&output);
    assert!(
        text.contains("<stdin>: holds more than 1024 bytes, above the input size limit"),
        "{text}"
    );
}

/// Every file resilix reads is read under the input bound, not only inputs: the configuration,
/// policy files and baselines. An endless stream of zeros is refused from its first bytes, a
/// file above the bound before it is read, and a stream above it when reading reaches it.
#[test]
fn configuration_policies_and_baselines_are_read_under_the_bound() {
    use std::io::Write as _;
    let plan = fixture("policies/aws.s3.block-public-access/fail.plan.json");
    for (flag, code) in [
        ("--config", "config::io"),
        ("--policies", "policy::io"),
        ("--baseline", "load::encoding"),
    ] {
        let output = run_within(
            resilix()
                .args(["scan", "-q"])
                .arg(&plan)
                .args([flag, "/dev/zero"]),
            MINUTE,
        );
        assert_eq!(output.status.code(), Some(2), "{flag}");
        let text = stderr(&output);
        assert!(text.contains(code), "{flag}: {text}");
        assert!(
            text.contains("/dev/zero: this is a binary file, not text"),
            "{flag}: {text}"
        );
    }

    // Sparse files above the bound: refused before a byte is read.
    let dir = tempfile::tempdir().unwrap();
    let big = |name: &str| {
        let path = dir.path().join(name);
        std::fs::File::create(&path)
            .unwrap()
            .set_len(2 << 20)
            .unwrap();
        path
    };
    for (flag, name) in [
        ("--config", "resilix.yaml"),
        ("--policies", "policy.yaml"),
        ("--baseline", "baseline.json"),
    ] {
        let output = run_within(
            resilix()
                .args(["scan", "-q", "--max-input-size", "1M"])
                .arg(&plan)
                .arg(flag)
                .arg(big(name)),
            MINUTE,
        );
        assert_eq!(output.status.code(), Some(2), "{flag}");
        let text = stderr(&output);
        assert!(
            text.contains("2097152 bytes is above the input size limit of 1048576 bytes"),
            "{flag}: {text}"
        );
        assert!(text.contains("--max-input-size"), "{flag}: {text}");
    }

    // A configuration streamed through a pipe: reading stops at the bound.
    let mut child = resilix()
        .args([
            "scan",
            "-q",
            "--max-input-size",
            "1K",
            "--config",
            "/dev/stdin",
        ])
        .arg(&plan)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let _ = stdin.write_all(&vec![b' '; 64 << 10]);
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let text = stderr(&output);
    assert!(
        text.contains("/dev/stdin: holds more than 1024 bytes, above the input size limit"),
        "{text}"
    );
}

/// A gzip bomb: 16 KB that inflate to 16 MB of JSON-looking text. Decompression stops at the
/// bound (the buffer never grows past it), from a file and from stdin.
#[test]
fn a_gzip_bomb_is_cut_at_the_bound() {
    use std::io::Write as _;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(br#"{"configurationItems": ["#).unwrap();
    let spaces = vec![b' '; 1 << 20];
    for _ in 0..16 {
        encoder.write_all(&spaces).unwrap();
    }
    encoder.write_all(b"]}").unwrap();
    let bomb = encoder.finish().unwrap();
    assert!(bomb.len() < 256 << 10, "{} bytes", bomb.len());
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "ConfigSnapshot.json.gz", &bomb);
    let output = run_within(
        resilix()
            .args(["scan", "-q", "--max-input-size", "1M"])
            .arg(&path),
        MINUTE,
    );
    assert_eq!(output.status.code(), Some(2));
    let text = stderr(&output);
    assert!(
        text.contains("ConfigSnapshot.json.gz: decompresses to more than 1048576 bytes"),
        "{text}"
    );

    let mut child = resilix()
        .args(["scan", "-", "-q", "--max-input-size", "1M"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let _ = stdin.write_all(&bomb);
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let text = stderr(&output);
    assert!(
        text.contains("<stdin>: decompresses to more than 1048576 bytes"),
        "{text}"
    );

    // Under a bound it fits, the same file is read and judged as what it is.
    let output = run_within(
        resilix()
            .args(["scan", "-q", "--max-input-size", "17M"])
            .arg(&path),
        FIVE_MINUTES,
    );
    let text = stderr(&output);
    assert!(!text.contains("decompresses to more than"), "{text}");
}

/// JSON nested 1,000,000 deep: at the top level, inside a plan's resource values (parsed only
/// when a policy reads them), and inside an AWS Config item's embedded JSON string.
#[test]
fn json_nested_a_million_deep() {
    let dir = tempfile::tempdir().unwrap();
    let deep = format!("{}{}", "[".repeat(1_000_000), "]".repeat(1_000_000));
    let top = write(dir.path(), "top.json", &deep);
    let plan = write(
        dir.path(),
        "plan.json",
        plan_with_after("aws_instance", &format!(r#"{{"ebs_block_device":{deep}}}"#)),
    );
    let config = write(
        dir.path(),
        "config.json",
        format!(
            r#"{{"configurationItems":[{{"resourceType":"AWS::S3::Bucket","resourceId":"b","configuration":"{deep}"}}]}}"#
        ),
    );
    let output = run_within(
        resilix()
            .args(["scan", "-q", "-f", "json", "--policies"])
            .arg(hostile_policies())
            .args([&top, &plan, &config]),
        MINUTE,
    );
    assert_eq!(output.status.code(), Some(2));
    let text = stderr(&output);
    assert!(
        text.contains("top.json:1:129: JSON nested too deeply (more than 128 levels)"),
        "{text}"
    );
    assert!(
        text.contains(
            "config.json:1:91: `configuration` is not valid JSON: recursion limit exceeded"
        ),
        "{text}"
    );
    // The plan loads; its values fail to parse when the policy reads them: an error record.
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let errors = report["errors"].to_string();
    assert!(errors.contains("recursion limit exceeded"), "{errors}");
}

/// 10,000,000-element lists: as the items of an AWS Config file, as a plan's resource changes
/// (each one invalid: one error, not ten million), and inside one resource's values, which a
/// policy then meets element by element.
#[test]
fn ten_million_element_lists() {
    let dir = tempfile::tempdir().unwrap();
    let n = 10_000_000;
    let ones = vec!["1"; n].join(",");
    let items = write(dir.path(), "items.json", format!("[{ones}]"));
    let empties = vec!["{}"; n].join(",");
    let changes = write(
        dir.path(),
        "changes.json",
        format!(r#"{{"format_version":"1.2","resource_changes":[{empties}]}}"#),
    );
    let output = run_within(
        resilix().args(["scan", "-q"]).args([&items, &changes]),
        FIVE_MINUTES,
    );
    assert_eq!(output.status.code(), Some(2));
    let text = stderr(&output);
    assert!(
        text.contains("items.json:1:2: a configuration item must be a JSON object"),
        "{text}"
    );
    assert!(
        text.contains("changes.json:1:45: a resource change has no `type`"),
        "{text}"
    );
    assert_eq!(
        text.matches("has no `type`").count(),
        1,
        "one error per file"
    );

    let values = write(
        dir.path(),
        "values.json",
        plan_with_after(
            "aws_instance",
            &format!(r#"{{"ebs_block_device":[{ones},2]}}"#),
        ),
    );
    let output = run_within(
        resilix()
            .args([
                "scan",
                "-q",
                "-f",
                "json",
                "--no-builtin-policies",
                "--policies",
            ])
            .arg(hostile_policies())
            .arg(&values),
        FIVE_MINUTES,
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let finding = &report["findings"][0];
    assert_eq!(finding["policy"], "test.hostile.every-element");
    assert!(
        finding.to_string().contains("$.ebs_block_device[10000000]"),
        "the evidence names the one bad element: {finding}"
    );
}

/// A 100 MB string, met by `^(a+)+$`: a backtracking engine needs about 2^n steps on
/// "aaa…a!"; the regex crate is linear. 40 characters (2^40 steps for a backtracker: hours)
/// and 100,000,000 characters both finish in well under a minute.
#[test]
fn catastrophic_backtracking_regex_and_huge_strings_stay_linear() {
    let dir = tempfile::tempdir().unwrap();
    for (name, length) in [("short.json", 40), ("huge.json", 100_000_000)] {
        let plan = write(
            dir.path(),
            name,
            plan_with_after(
                "aws_s3_bucket",
                &format!(r#"{{"bucket":"{}!"}}"#, "a".repeat(length)),
            ),
        );
        let output = run_within(
            resilix()
                .args([
                    "scan",
                    "-q",
                    "-f",
                    "sarif",
                    "--no-builtin-policies",
                    "--policies",
                ])
                .arg(hostile_policies())
                .arg(&plan),
            MINUTE,
        );
        assert_eq!(output.status.code(), Some(1), "{name}: {}", stderr(&output));
        let sarif = String::from_utf8(output.stdout).unwrap();
        assert!(sarif.contains("test.hostile.backtracking"), "{name}");
        // Evidence quotes values cut short: a 100 MB value does not make a 100 MB report.
        assert!(
            sarif.len() < 64 << 10,
            "{name}: {} bytes of SARIF",
            sarif.len()
        );
    }
    // The same regex with a matching subject passes.
    let ok = write(
        dir.path(),
        "ok.json",
        plan_with_after(
            "aws_s3_bucket",
            &format!(r#"{{"bucket":"{}"}}"#, "a".repeat(1000)),
        ),
    );
    let output = resilix()
        .args(["scan", "-q", "--no-builtin-policies", "--policies"])
        .arg(hostile_policies())
        .arg(&ok)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

/// The regex engine itself, without the CLI: time grows linearly with the subject.
#[test]
fn the_regex_crate_is_linear_on_a_backtracking_pattern() {
    let regex = regex::Regex::new("^(a+)+$").unwrap();
    let time = |n: usize| {
        let subject = format!("{}!", "a".repeat(n));
        let start = Instant::now();
        assert!(!regex.is_match(&subject));
        start.elapsed()
    };
    time(1_000); // warm up the lazy DFA
    let small = time(1_000_000);
    let large = time(16_000_000);
    // 16x the input: linear is ~16x; exponential would never finish. Allow generous noise.
    assert!(
        large < small * 64 + Duration::from_millis(200),
        "1M: {small:?}, 16M: {large:?}"
    );
}

/// Invalid UTF-8 among good inputs, and in a policy file: named by file, line and column.
#[test]
fn invalid_utf8() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(
        dir.path(),
        "bad.json",
        b"{\n  \"format_version\": \"1.2\",\n  \"x\": \"\xc3\x28\"\n}\n",
    );
    let good = fixture("policies/aws.s3.block-public-access/fail.plan.json");
    let output = resilix()
        .args(["scan", "-q", "-f", "json"])
        .arg(&good)
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("bad.json: invalid UTF-8 at line 3, column 9"),
        "{}",
        stderr(&output)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["summary"]["failed"], 2, "the good input was scanned");

    let policy = write(dir.path(), "bad.yaml", b"id: x\ntitle: \"\xff\"\n");
    let output = resilix()
        .args(["scan", "-q", "--policies"])
        .arg(&policy)
        .arg(&good)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("bad.yaml: invalid UTF-8 at line 2, column 9"),
        "{}",
        stderr(&output)
    );
}

/// A billion laughs: nine levels of nine aliases each, after `head`.
fn alias_bomb(head: &str) -> String {
    let mut text = format!(
        "{head}a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
    );
    let mut previous = "a".to_owned();
    for level in 1..10 {
        let refs = vec![format!("*{previous}"); 9].join(",");
        text.push_str(&format!("l{level}: &l{level} [{refs}]\n"));
        previous = format!("l{level}");
    }
    text
}

/// A YAML alias bomb (a billion laughs) in a user policy is refused at once. The config file
/// is read with the same parser (`policy::yaml::parse`).
#[test]
fn yaml_alias_bomb_in_a_policy() {
    let dir = tempfile::tempdir().unwrap();
    let bomb = write(dir.path(), "bomb.yaml", alias_bomb("id: bomb\n"));
    let output = run_within(
        resilix()
            .args(["scan", "-q", "--policies"])
            .arg(&bomb)
            .arg(fixture(
                "policies/aws.s3.block-public-access/fail.plan.json",
            )),
        MINUTE,
    );
    assert_eq!(output.status.code(), Some(2));
    let text = stderr(&output);
    assert!(text.contains("bomb.yaml"), "{text}");
    assert!(text.contains("budget"), "{text}");

    let error = resilix::policy::yaml::parse(&text_of(&bomb)).unwrap_err();
    assert!(error.message.contains("budget"), "{}", error.message);
}

/// The same bomb as `--config FILE`: refused, named, exit 2, nothing evaluated.
#[test]
fn yaml_alias_bomb_in_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let bomb = write(dir.path(), "resilix.yaml", alias_bomb("fail-on: high\n"));
    let output = run_within(
        resilix()
            .args(["scan", "-q", "--format", "json", "--config"])
            .arg(&bomb)
            .arg(fixture(
                "policies/aws.s3.block-public-access/fail.plan.json",
            )),
        MINUTE,
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty(), "nothing is evaluated or written");
    let text = stderr(&output);
    assert!(text.contains("resilix.yaml"), "{text}");
    assert!(text.contains("budget"), "{text}");
}

fn text_of(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

/// YAML nested a million deep in a policy: an error, not a stack overflow.
#[test]
fn yaml_nested_a_million_deep_in_a_policy() {
    let dir = tempfile::tempdir().unwrap();
    let deep = format!(
        "id: deep\ntargets: {}{}\n",
        "[".repeat(1_000_000),
        "]".repeat(1_000_000)
    );
    let policy = write(dir.path(), "deep.yaml", deep);
    let output = run_within(
        resilix()
            .args(["scan", "-q", "--policies"])
            .arg(&policy)
            .arg(fixture(
                "policies/aws.s3.block-public-access/fail.plan.json",
            )),
        MINUTE,
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("deep.yaml"), "{}", stderr(&output));
}

/// Symbolic link loops in a scanned directory: a warning, and every real input is scanned once.
#[cfg(unix)]
#[test]
fn symlink_loops_in_a_scanned_directory() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("inputs");
    std::fs::create_dir_all(inputs.join("sub")).unwrap();
    std::fs::copy(
        fixture("policies/aws.s3.block-public-access/fail.plan.json"),
        inputs.join("sub/plan.json"),
    )
    .unwrap();
    symlink(&inputs, inputs.join("sub/loop")).unwrap();
    symlink("self.json", inputs.join("self.json")).unwrap();
    let output = run_within(
        resilix().args(["scan", "-f", "json"]).arg(&inputs),
        Duration::from_secs(20),
    );
    let text = stderr(&output);
    assert!(text.contains("symbolic link loop"), "{text}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        report["summary"]["failed"], 2,
        "the plan is scanned once: {report}"
    );
    // The self-referencing link is unreadable: an error naming it, so the exit code is 2.
    assert!(text.contains("self.json"), "{text}");
    assert_eq!(output.status.code(), Some(2), "{text}");
}

/// An unreadable file among readable ones: an error naming it, and the others are scanned.
#[cfg(unix)]
#[test]
fn an_unreadable_file_among_readable_ones() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let good = dir.path().join("good.json");
    std::fs::copy(
        fixture("policies/aws.s3.block-public-access/fail.plan.json"),
        &good,
    )
    .unwrap();
    std::fs::set_permissions(&good, std::fs::Permissions::from_mode(0o644)).unwrap();
    let secret = write(dir.path(), "secret.json", "{}");
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o000)).unwrap();
    let mut command = resilix();
    // root reads anything: drop to nobody where we can, to see the permission error.
    let is_root = std::fs::read(&secret).is_ok();
    if is_root {
        if !Path::new("/usr/bin/setpriv").exists() {
            eprintln!("skipped: running as root without setpriv");
            return;
        }
        command = Command::new("/usr/bin/setpriv");
        command
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(get_cargo_bin("resilix"))
            .current_dir(dir.path())
            .env("NO_COLOR", "1");
    }
    let output = command
        .args(["scan", "-f", "json"])
        .arg(&good)
        .arg(&secret)
        .output()
        .unwrap();
    let text = stderr(&output);
    if is_root && text.contains("Permission denied") && !text.contains("secret.json") {
        eprintln!("skipped: nobody cannot run the test binary here: {text}");
        return;
    }
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert!(text.contains("secret.json: Permission denied"), "{text}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        report["summary"]["failed"], 2,
        "the readable file was scanned"
    );
}

/// Evidence is capped per condition: a list of many failing elements shows the first ones and
/// says how many more there are, so a report stays small.
#[test]
fn evidence_of_many_failing_elements_is_capped() {
    let dir = tempfile::tempdir().unwrap();
    let twos = vec!["2"; 100_000].join(",");
    let plan = write(
        dir.path(),
        "twos.json",
        plan_with_after(
            "aws_instance",
            &format!(r#"{{"ebs_block_device":[{twos}]}}"#),
        ),
    );
    let output = resilix()
        .args([
            "scan",
            "-q",
            "-f",
            "json",
            "--no-builtin-policies",
            "--policies",
        ])
        .arg(hostile_policies())
        .arg(&plan)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let evidence = report["findings"][0]["evidence"].as_array().unwrap();
    assert_eq!(evidence.len(), 51, "{evidence:?}");
    assert_eq!(evidence[0]["path"], "$.ebs_block_device[0]");
    assert_eq!(evidence[50]["note"], "and 99950 more like it, not shown");
}

/// Issue 11, item 8: text from the pull request — a resource address with a line break, a
/// workflow command, ESC and C1 sequences, a `##[` command and a bidi override; a tag value and
/// an IAM action with ESC — reaches no output raw: no control character but the outputs' own
/// line breaks, no invisible reordering character, no line of text that GitHub would run as a
/// workflow command, no Markdown table broken by a line break. Every format, and stderr.
#[test]
fn untrusted_text_cannot_inject_into_any_output() {
    const FORMATS: [&str; 8] = [
        "text",
        "json",
        "sarif",
        "junit",
        "markdown",
        "github",
        "html",
        "audit-markdown",
    ];
    let raw = |c: char| {
        (c.is_control() && c != '\n')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200b}'..='\u{200f}' | '\u{2028}' | '\u{2029}')
    };
    for format in FORMATS {
        let output = resilix()
            .args(["scan", "--format", format, "--fail-on", "never"])
            .arg(fixture("inject/plan.json"))
            .arg("--policies")
            .arg(fixture("inject/policies"))
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            Some(0),
            "{format}: {}",
            stderr(&output)
        );
        let errors = stderr(&output);
        let stdout = String::from_utf8(output.stdout).unwrap();
        // The hostile resource is reported, whatever it is called.
        assert!(stdout.contains("txt.exe"), "{format}: {stdout}");
        for (name, text) in [("stdout", stdout.as_str()), ("stderr", errors.as_str())] {
            if let Some(c) = text.chars().find(|&c| raw(c)) {
                panic!("{format} {name}: raw {c:?} in\n{text}");
            }
            for line in text.lines() {
                // GitHub runs `::command` at the start of a line (after blanks) and
                // `##[command]` anywhere in it; only the github format writes commands, its own.
                let command = line.trim_start().starts_with("::");
                assert!(
                    !command
                        || (format == "github"
                            && ["::error ", "::warning ", "::notice "]
                                .iter()
                                .any(|c| line.starts_with(c))),
                    "{format} {name}: {line}"
                );
                assert!(!line.contains("##["), "{format} {name}: {line}");
            }
        }
        if format.contains("markdown") {
            // A table row stays one line: it starts and ends with a pipe.
            for line in stdout.lines().filter(|l| l.starts_with('|')) {
                assert!(line.ends_with('|'), "{format}: {line}");
            }
            let rows = stdout.lines().filter(|l| l.contains("txt.exe")).count();
            assert!(rows > 0 && stdout.lines().filter(|l| l.contains("pwned")).count() == rows);
        }
    }
}

/// Issue 11, item 6: `$..*..*..*..*..*..*` over a 3 KB, 40-deep document, as a policy's path,
/// as a relation's `via` (read on each related resource) and as its `from` (read on the
/// subject). Each would visit millions of nodes; the JSONPath budget refuses it before it runs,
/// and the (resource, policy) pair is an error naming the policy, the selector and the budget:
/// exit 2, never a pass and never a failure. That it finishes at all is the memory bound.
#[test]
fn nested_descendant_selectors_are_errors_within_the_jsonpath_budget() {
    let dir = Path::new("fixtures/jsonpath-budget");
    let budget =
        "the JSONPath `$..*..*..*..*..*..*` would visit more than 1,000,000 nodes of the document";
    for (policy, why) in [
        (
            "nested-descendants",
            format!("{budget} (the budget of one policy on one resource); not evaluated"),
        ),
        (
            "when-nested",
            format!("{budget} (the budget of one policy on one resource)"),
        ),
        (
            "related-via",
            format!(
                "related aws_instance.deep: `via`: {budget} (the budget of one related resource)"
            ),
        ),
        (
            "related-from",
            format!("{budget} (the budget of one policy on one resource)"),
        ),
    ] {
        let output = resilix()
            .args(["scan", "-f", "json", "--no-builtin-policies", "--policies"])
            .arg(dir.join(format!("{policy}.yaml")))
            .arg(dir.join("deep.plan.json"))
            .output()
            .unwrap();
        let text = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{policy}: {text}");
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(report["summary"]["errors"], 1, "{policy}");
        assert_eq!(report["summary"]["failed"], 0, "{policy}");
        assert_eq!(report["summary"]["passed"], 0, "{policy}");
        let finding = &report["findings"][0];
        assert_eq!(finding["disposition"], "error", "{policy}");
        let message = finding["message"].as_str().unwrap();
        let id = format!("test.jsonpath-budget.{policy}");
        assert!(
            message.starts_with(&format!("policy {id} could not be evaluated: ")),
            "{message}"
        );
        assert!(message.contains(&why), "{policy}: {message}");
        // Said on stderr too, at the resource (miette wraps the line).
        let unwrapped = text.replace("\n  │ ", " ");
        assert!(
            unwrapped.contains(&format!(
                "fixtures/jsonpath-budget/deep.plan.json:1:45: aws_instance.deep: policy {id}"
            )),
            "{policy}: {text}"
        );
    }
}

/// The budget costs a normal policy nothing: one descendant segment (`$..cidr_blocks[*]`) over
/// a real plan finds the three public security groups it found before, and no error.
#[test]
fn one_descendant_selector_over_a_real_plan_is_no_error() {
    let output = resilix()
        .args(["scan", "-f", "text", "--no-builtin-policies", "--policies"])
        .arg(fixture("jsonpath-budget/one-descendant.yaml"))
        .arg(fixture(
            "corpus/terraform-plans/checkov__plan_with_for_each__fv1.2_tf1.9.5.json",
        ))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    insta::assert_snapshot!(String::from_utf8_lossy(&output.stdout));
}
