//! The process and its pipes: `resilix scan … | head` exits quietly; Ctrl-C while an output
//! file is being written leaves no partial or temporary file, and the previous file intact.
#![cfg(unix)]

use std::io::Read as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use clap::ValueEnum;
use insta_cmd::get_cargo_bin;
use resilix::emit::OutputFormat;

use crate::util::root;

/// A plan of `n` S3 buckets without public access blocks: one failing finding each.
fn many_buckets(dir: &Path, n: usize) -> std::path::PathBuf {
    let changes: Vec<String> = (0..n)
        .map(|i| {
            format!(
                r#"{{"address":"aws_s3_bucket.b{i}","type":"aws_s3_bucket","name":"b{i}","change":{{"actions":["create"],"after":{{"bucket":"bucket-{i}"}}}}}}"#
            )
        })
        .collect();
    let path = dir.join("many.json");
    std::fs::write(
        &path,
        format!(
            r#"{{"format_version":"1.2","resource_changes":[{}]}}"#,
            changes.join(",")
        ),
    )
    .unwrap();
    path
}

#[test]
fn a_closed_pipe_ends_the_run_quietly_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let plan = many_buckets(dir.path(), 2_000);
    for format in OutputFormat::value_variants() {
        let name = format.to_possible_value().unwrap().get_name().to_owned();
        let mut child = Command::new(get_cargo_bin("resilix"))
            .current_dir(root())
            .args(["scan", "-q", "--format", &name])
            .arg(&plan)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Read a little, as `head -c 100` does, then close the pipe.
        let mut stdout = child.stdout.take().unwrap();
        let mut first = [0u8; 100];
        stdout.read_exact(&mut first).unwrap();
        drop(stdout);
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.trim().is_empty(), "{name}: {stderr}");
        // The findings decide the exit code, as without the pipe; no panic (101), no signal.
        assert_eq!(output.status.code(), Some(1), "{name}: {stderr}");
    }
}

/// Whether the process `pid` is writing a temporary file in `dir`: a named `.resilix-*` one, or
/// (Linux) an unnamed one, which only its open descriptors show (`/proc/PID/fd/N` →
/// `DIR/#INODE (deleted)`).
fn writing_in(dir: &Path, pid: u32) -> bool {
    let named = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .any(|e| e.file_name().to_string_lossy().starts_with(".resilix-"));
    let unnamed = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|e| std::fs::read_link(e.path()).ok())
        .any(|target| target.starts_with(dir) && target.to_string_lossy().contains("/#"));
    named || unnamed
}

/// Starts writing a large SARIF file over `out` (which holds "previous content"), then sends
/// `signal` while the output is being written; returns what the process ended with.
fn interrupted_write(dir: &Path, signal: &str) -> std::process::Output {
    let plan = many_buckets(dir, 20_000);
    let out = dir.join("results.sarif");
    std::fs::write(&out, "previous content").unwrap();
    let mut child = Command::new(get_cargo_bin("resilix"))
        .current_dir(root())
        .args(["scan", "-q", "--format", "sarif", "--output"])
        .arg(&out)
        .arg(&plan)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !writing_in(dir, child.id()) {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it was interrupted: a bigger input is needed"
        );
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no output started"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    let killed = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    child.wait_with_output().unwrap()
}

/// What is left in `dir` besides the input, and the output's content.
fn left_behind(dir: &Path) -> (Vec<String>, String) {
    let mut left: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name != "many.json")
        .collect();
    left.sort();
    let content = std::fs::read_to_string(dir.join("results.sarif")).unwrap();
    (left, content)
}

#[test]
fn ctrl_c_while_writing_leaves_no_partial_file() {
    let dir = tempfile::tempdir().unwrap();
    let output = interrupted_write(dir.path(), "-INT");
    assert_eq!(
        output.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let (left, content) = left_behind(dir.path());
    assert_eq!(left, ["results.sarif"], "no temporary file is left");
    assert_eq!(content, "previous content", "the previous output is intact");
}

/// `kill -9` cannot be handled: on Linux the temporary file has no name while it is written,
/// so nothing is left behind even then.
#[cfg(target_os = "linux")]
#[test]
fn kill_9_while_writing_leaves_no_partial_file() {
    use std::os::unix::process::ExitStatusExt;
    let dir = tempfile::tempdir().unwrap();
    let output = interrupted_write(dir.path(), "-KILL");
    assert_eq!(output.status.signal(), Some(9));
    let (left, content) = left_behind(dir.path());
    assert_eq!(left, ["results.sarif"], "no temporary file is left");
    assert_eq!(content, "previous content", "the previous output is intact");
}

/// `resilix scan … 2>&1 | head`: stderr closed too. Diagnostics that cannot be written are
/// dropped; the exit code still says what happened (2: an input was malformed), no panic.
#[test]
fn a_closed_stderr_is_no_panic() {
    let dir = tempfile::tempdir().unwrap();
    let plan = many_buckets(dir.path(), 2_000);
    let broken = dir.path().join("broken.json");
    std::fs::write(
        &broken,
        "{\"format_version\": \"1.2\", \"resource_changes\": [",
    )
    .unwrap();
    let mut child = Command::new(get_cargo_bin("resilix"))
        .current_dir(root())
        .args(["scan", "--format", "text"])
        .arg(&plan)
        .arg(&broken)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 100];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(2));
}
