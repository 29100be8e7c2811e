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
