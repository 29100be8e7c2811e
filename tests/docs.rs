//! Generated documentation is fresh, and the policy commands work.

use std::process::Command;

use insta_cmd::get_cargo_bin;

use crate::util::{builtin_catalog, root};

/// docs/policies.md is generated from the built-in policies; regenerate it with
/// `cargo run -- policies docs > docs/policies.md` when this fails.
#[test]
fn policy_reference_is_fresh() {
    let expected = resilix::docs::policy_reference(builtin_catalog());
    let actual = std::fs::read_to_string(root().join("docs/policies.md")).unwrap_or_default();
    assert!(
        actual == expected,
        "docs/policies.md is stale: run `cargo run -- policies docs > docs/policies.md`"
    );
}

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let output = Command::new(get_cargo_bin("resilix"))
        .current_dir(root())
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

const USER: [&str; 3] = [
    "--no-builtin-policies",
    "--policies",
    "fixtures/user-policies",
];

#[test]
fn policies_list_json() {
    let (code, stdout, _) = run(&[&["policies", "list", "--format", "json"], &USER[..]].concat());
    assert_eq!(code, Some(0));
    let value: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    insta::assert_json_snapshot!("policies_list_json", value);
}

#[test]
fn policies_list_json_covers_every_builtin() {
    let (code, stdout, _) = run(&["policies", "list", "--format", "json"]);
    assert_eq!(code, Some(0));
    let value: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let list = value.as_array().unwrap();
    assert_eq!(list.len(), builtin_catalog().len());
    for policy in list {
        for key in ["id", "title", "severity", "category", "targets", "controls"] {
            assert!(policy.get(key).is_some(), "{key} missing in {policy}");
        }
        for framework in ["nist-800-53-r5", "iso-17799-2005", "cobit-4.1"] {
            assert!(
                policy["controls"][framework]
                    .as_array()
                    .is_some_and(|ids| !ids.is_empty())
            );
        }
    }
}

#[test]
fn policies_show() {
    let (code, stdout, _) = run(&[
        &["policies", "show", "acme.elb.internet-facing-waf"],
        &USER[..],
    ]
    .concat());
    assert_eq!(code, Some(0));
    insta::assert_snapshot!("policies_show", stdout);
    let (code, _, stderr) = run(&[
        &["policies", "show", "acme.elb.internet-facing-wa"],
        &USER[..],
    ]
    .concat());
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("did you mean `acme.elb.internet-facing-waf`?"),
        "{stderr}"
    );
}

#[test]
fn policies_test_passes_and_fails() {
    let (code, stdout, _) = run(&[
        "policies",
        "test",
        "--no-builtin-policies",
        "fixtures/user-policies",
    ]);
    assert_eq!(code, Some(0), "{stdout}");
    insta::assert_snapshot!("policies_test_user", stdout);
    let (code, stdout, _) = run(&[
        "policies",
        "test",
        "--no-builtin-policies",
        "fixtures/user-policies-wrong",
    ]);
    assert_eq!(code, Some(1));
    insta::assert_snapshot!("policies_test_failing", stdout);
}

#[test]
fn controls_coverage() {
    let (code, stdout, _) = run(&[&["controls", "--framework", "cobit-4.1"], &USER[..]].concat());
    assert_eq!(code, Some(0));
    insta::assert_snapshot!("controls_cobit_text", stdout);
    let (code, stdout, _) = run(&[&["controls", "--format", "json"], &USER[..]].concat());
    assert_eq!(code, Some(0));
    let value: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let frameworks: Vec<&str> = value
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["framework"].as_str().unwrap())
        .collect();
    assert_eq!(
        frameworks,
        ["nist-800-53-r5", "iso-17799-2005", "cobit-4.1", "aws-fsbp"]
    );
    assert_eq!(value[2]["controls_total"], 216);
    assert_eq!(value[0]["controls_total"], 1193 - 182);
    // 338 FSBP controls less the retired ECS.1.
    assert_eq!(value[3]["controls_total"], 337);
}

/// `controls --format json | head -1`: a reader that closes the pipe early is not an error
/// (the JSON writer used to hide the closed pipe behind serde's error and exit 2).
#[test]
fn controls_json_into_a_closed_pipe_is_not_an_error() {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = crate::util::resilix()
        .args(["controls", "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 1];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    let output = child.wait_with_output().unwrap();
    assert_eq!(first, *b"[");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
