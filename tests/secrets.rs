//! Secret safety: a value a plan marks sensitive (`after_sensitive`, `before_sensitive`, from a
//! sensitive variable) appears nowhere — not in any output format, not on stderr, not in an
//! output file, not in evidence or error messages — whatever the policies do with it.
//!
//! Every output format is run: `OutputFormat::value_variants()` includes formats added later.

use std::process::Command;

use clap::ValueEnum;
use insta_cmd::get_cargo_bin;
use resilix::emit::OutputFormat;

use crate::util::{fixture, root};

/// The secret values of `fixtures/secrets/*.json`, all marked sensitive there.
fn secrets() -> Vec<String> {
    let text = std::fs::read_to_string(fixture("secrets/values.json")).unwrap();
    let values: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&text).unwrap();
    let secrets: Vec<String> = values
        .values()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    assert!(secrets.len() >= 8);
    secrets
}

fn format_name(format: OutputFormat) -> String {
    format.to_possible_value().unwrap().get_name().to_owned()
}

fn assert_no_secret(what: &str, bytes: &[u8], secrets: &[String]) {
    let text = String::from_utf8_lossy(bytes);
    for secret in secrets {
        assert!(
            !text.contains(secret.as_str()),
            "{what} contains the sensitive value {secret}:\n{text}"
        );
    }
}

#[test]
fn no_output_format_shows_a_sensitive_value() {
    let secrets = secrets();
    let dir = tempfile::tempdir().unwrap();
    let inputs = [
        fixture("secrets/plan.json"),
        fixture("secrets/invalid.json"),
        // The one-line form `terraform show -json` writes: error excerpts cannot rely on line
        // breaks to stay away from secrets.
        fixture("secrets/plan.min.json"),
        fixture("secrets/invalid.min.json"),
    ];
    let formats = OutputFormat::value_variants();
    assert!(formats.len() >= 3);
    for format in formats {
        let name = format_name(*format);
        let out = dir.path().join(format!("out.{name}"));
        for to_file in [false, true] {
            let mut command = Command::new(get_cargo_bin("resilix"));
            command
                .current_dir(root())
                .env("NO_COLOR", "1")
                .args(["scan", "--format", &name, "--fail-on", "never"])
                .arg("--policies")
                .arg(fixture("secrets/policies"))
                .args(&inputs);
            if to_file {
                command.arg("--output").arg(&out);
            }
            let output = command.output().unwrap();
            // The invalid inputs make the run exit 2, after scanning the valid ones.
            assert_eq!(output.status.code(), Some(2), "{name}");
            assert_no_secret(&format!("{name} stdout"), &output.stdout, &secrets);
            assert_no_secret(&format!("{name} stderr"), &output.stderr, &secrets);
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(
                stderr.contains("has no `type`"),
                "the error is still reported: {stderr}"
            );
            if to_file {
                let written = std::fs::read(&out).unwrap();
                assert!(!written.is_empty());
                assert_no_secret(&format!("{name} output file"), &written, &secrets);
            } else {
                assert!(!output.stdout.is_empty(), "{name} wrote nothing");
            }
        }
    }
}

/// The test above is only worth something if the probes really meet the secrets: the
/// findings quote the masked values, and the secrets are in the inputs.
#[test]
fn the_secret_probes_reach_the_sensitive_values() {
    let plan = std::fs::read_to_string(fixture("secrets/plan.json")).unwrap();
    let invalid = std::fs::read_to_string(fixture("secrets/invalid.json")).unwrap();
    for secret in secrets() {
        assert!(
            plan.contains(&secret) || invalid.contains(&secret),
            "{secret} is in no fixture"
        );
    }
    let output = Command::new(get_cargo_bin("resilix"))
        .current_dir(root())
        .args(["scan", "--format", "text", "--fail-on", "never", "-q"])
        .arg("--policies")
        .arg(fixture("secrets/policies"))
        .arg(fixture("secrets/plan.json"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    for shown in [
        "$['password'] is (sensitive)",
        "$['tags']['token'] is (sensitive)",
        "$['value'] is (sensitive)",
        "$['user_data'] is (sensitive)",
        "$['size'] is (sensitive)",
        "\"kms_key_id\":\"(sensitive)\"",
    ] {
        assert!(text.contains(shown), "`{shown}` missing from:\n{text}");
    }
}

/// Load errors quote an excerpt of the input: in a plan broken inside or next to a secret
/// (cut off inside it, a bad escape or a raw control character in it, a stray quote before
/// it, an error inside a sensitive number, or valid JSON of the wrong shape beside sensitive
/// numbers), no byte of stdout, stderr or the output file, in any format, holds any part of it.
/// `fixtures/secrets/broken/values.json` lists each file's secret fragments.
#[test]
fn load_error_excerpts_show_no_part_of_a_secret() {
    let listed: serde_json::Map<String, serde_json::Value> = serde_json::from_str(
        &std::fs::read_to_string(fixture("secrets/broken/values.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(listed.len(), 6);
    let mut inputs = Vec::new();
    let mut fragments = Vec::new();
    for (name, listed) in &listed {
        let input = fixture(&format!("secrets/broken/{name}"));
        let text = std::fs::read_to_string(&input).unwrap();
        // The probes meet the secrets: each fragment is in the input.
        for fragment in listed.as_array().unwrap() {
            let fragment = fragment.as_str().unwrap();
            assert!(text.contains(fragment), "{fragment} is not in {name}");
            fragments.push(fragment.to_owned());
        }
        inputs.push(input);
    }
    let dir = tempfile::tempdir().unwrap();
    for format in OutputFormat::value_variants() {
        let format = format_name(*format);
        let out = dir.path().join(format!("out.{format}"));
        for to_file in [false, true] {
            let mut command = Command::new(get_cargo_bin("resilix"));
            command
                .current_dir(root())
                .env("NO_COLOR", "1")
                .args(["scan", "--format", &format, "--fail-on", "never"])
                .args(&inputs);
            if to_file {
                command.arg("--output").arg(&out);
            }
            let output = command.output().unwrap();
            let what = format!("--format {format} (to a file: {to_file})");
            assert_eq!(output.status.code(), Some(2), "{what}");
            let stderr = String::from_utf8_lossy(&output.stderr);
            // Every error is still reported, with its excerpt.
            for name in listed.keys() {
                assert!(
                    stderr.contains(&format!("secrets/broken/{name}:1:")),
                    "{what}: no error for {name}: {stderr}"
                );
            }
            assert_eq!(
                stderr.matches("╭─[").count(),
                listed.len(),
                "{what}: {stderr}"
            );
            assert_no_secret(&format!("{what} stdout"), &output.stdout, &fragments);
            assert_no_secret(&format!("{what} stderr"), &output.stderr, &fragments);
            if to_file {
                let written = std::fs::read(&out).unwrap();
                assert_no_secret(&format!("{what} output file"), &written, &fragments);
            }
        }
    }
}
