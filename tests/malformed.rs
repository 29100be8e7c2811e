//! Issue 11, item 3: wrong or malformed input never passes. Each input here is of a shape the
//! format forbids, or holds a value of the wrong type for a policy: the run ends in an error
//! naming the file and the JSON path (exit 2), or a finding — never a clean pass, never a run
//! whose only trace is a warning. The fixtures are in `fixtures/malformed/` (its README says
//! what each holds).

use std::process::Output;

use serde_json::Value;

use crate::util::{fixture, resilix};

fn malformed(name: &str) -> String {
    format!("fixtures/malformed/{name}")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Whether `haystack` holds `needle` once the line wrapping of diagnostics (and all white
/// space) is taken out.
fn holds(haystack: &str, needle: &str) -> bool {
    let flat = |s: &str| -> String { s.replace('│', "").split_whitespace().collect() };
    flat(haystack).contains(&flat(needle))
}

/// `scan --format json` of `paths`: exit code, the JSON report, stderr.
fn scan_json(paths: &[&str]) -> (Option<i32>, Value, String) {
    let output = resilix()
        .args(["scan", "--format", "json"])
        .args(paths)
        .output()
        .unwrap();
    let report = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
    (output.status.code(), report, stderr(&output))
}

/// The dispositions of `policy` on `address` in a JSON report (none when it passed).
fn dispositions(report: &Value, policy: &str, address: &str) -> Vec<String> {
    report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["policy"] == policy && f["resource"]["address"] == address)
        .map(|f| f["disposition"].as_str().unwrap_or("").to_owned())
        .collect()
}

/// Asserts the run refused the input: exit 2, nothing evaluated or passed, and a message with
/// the file and the JSON path.
fn assert_refused(paths: &[&str], file: &str, json_path: &str, words: &str) {
    let (code, report, stderr) = scan_json(paths);
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(report["summary"]["passed"], 0, "{report}");
    assert_eq!(report["summary"]["failed"], 0, "{report}");
    let errors = report["errors"].as_array().unwrap();
    assert!(
        errors.iter().any(|e| e["file"] == file),
        "{file}: {errors:?}"
    );
    for text in [stderr.as_str(), &report["errors"].to_string()] {
        assert!(text.contains(file), "{file} not named: {text}");
        assert!(
            holds(text, &format!("(at {json_path})")),
            "{json_path}: {text}"
        );
        assert!(holds(text, words), "{words}: {text}");
    }
    assert!(!stderr.contains("load::warning"), "{stderr}");
}

/// A security group whose `cidr_blocks` is a string, and one whose `ingress` is a string: a
/// wildcard over a scalar is not "no values" but an error for each policy that reads it, shown
/// on stderr, exit 2. The well-formed group beside them is still evaluated and passes.
#[test]
fn a_wildcard_over_a_scalar_is_an_error_not_no_values() {
    let file = malformed("security-group-scalars.plan.json");
    let (code, report, stderr) = scan_json(&[&file]);
    assert_eq!(code, Some(2), "{stderr}");
    let admin = "aws.ec2.security-group-admin-ports-public";
    assert_eq!(
        dispositions(&report, admin, "aws_security_group.cidr_string"),
        ["error"]
    );
    for policy in [
        admin,
        "aws.ec2.security-group-high-risk-ports-public",
        "aws.ec2.security-group-all-ports-public",
    ] {
        assert_eq!(
            dispositions(&report, policy, "aws_security_group.ingress_string"),
            ["error"],
            "{policy}"
        );
        assert!(dispositions(&report, policy, "aws_security_group.private").is_empty());
    }
    // Each error is on stderr with the file, the resource, the policy and the place.
    for (address, path) in [
        (
            "aws_security_group.cidr_string",
            "$.ingress[0] → $.cidr_blocks: found a string where the policy reads a list or an object",
        ),
        (
            "aws_security_group.ingress_string",
            "$.ingress: found a string where the policy reads a list or an object",
        ),
    ] {
        assert!(
            stderr
                .lines()
                .any(|l| l.contains(&format!("{file}:")) && l.contains(address)),
            "{address}: {stderr}"
        );
        assert!(
            holds(
                &stderr,
                &format!("{address}: policy {admin} could not be evaluated: {path}")
            ),
            "{path}: {stderr}"
        );
    }
    // The private group's checks passed; the two malformed groups passed none of the checks
    // that read what is malformed.
    assert!(report["summary"]["passed"].as_u64().unwrap() > 0);
    assert_eq!(report["summary"]["failed"], 0);
}

/// A resource change whose `after` or `before` is a string, a number or a list (or a mask of
/// the wrong kind) is refused at its place; `null` and objects (and boolean masks) are valid.
#[test]
fn a_change_whose_values_are_not_objects_is_refused() {
    let file = malformed("after-not-an-object.plan.json");
    assert_refused(
        &[&file],
        &file,
        "$.resource_changes[0].change.after",
        "a resource change's `after` must be an object or null, found a string",
    );
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("before", r#""x""#, "a string"),
        ("before", "7", "a number"),
        ("after", "[1, 2]", "a list"),
        ("after", "5", "a number"),
        ("after_unknown", r#""all""#, "a string"),
        ("after_sensitive", "[true]", "a list"),
    ];
    for (member, value, kind) in cases {
        let mut change = serde_json::Map::new();
        change.insert("actions".to_owned(), serde_json::json!(["update"]));
        for name in ["before", "after"] {
            change.insert(name.to_owned(), serde_json::json!({"encrypted": true}));
        }
        change.insert(member.to_owned(), serde_json::from_str(value).unwrap());
        let text = serde_json::json!({"format_version": "1.2", "resource_changes": [
            {"address": "aws_ebs_volume.v", "type": "aws_ebs_volume", "name": "v", "change": change}
        ]})
        .to_string();
        let path = dir.path().join(format!("{member}.json"));
        std::fs::write(&path, text).unwrap();
        let name = path.to_str().unwrap();
        assert_refused(
            &[name],
            name,
            &format!("$.resource_changes[0].change.{member}"),
            &format!("`{member}` must be"),
        );
        let (_, report, _) = scan_json(&[name]);
        assert!(
            report["errors"]
                .to_string()
                .contains(&format!("found {kind}"))
        );
    }
    // Valid shapes still load: null values, boolean masks.
    let valid = dir.path().join("valid.json");
    std::fs::write(
        &valid,
        r#"{"format_version":"1.2","resource_changes":[{"address":"aws_ebs_volume.v","type":"aws_ebs_volume","name":"v","change":{"actions":["delete"],"before":{"encrypted":true},"after":null,"after_unknown":{},"before_sensitive":false,"after_sensitive":false}}]}"#,
    )
    .unwrap();
    // (A deletion of a volume, which the change-control policy flags: it was evaluated.)
    let (code, report, stderr) = scan_json(&[valid.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(report["summary"]["errors"], 0);
    assert_eq!(
        dispositions(&report, "change.stateful-destroy", "aws_ebs_volume.v"),
        ["fail"]
    );
}

/// A damaged `configuration` (a string for `resources`, a number for an `address`, nesting
/// 300 levels deep) is an error at its place, not a warning that reads the plan without one —
/// which would read a setting left to AWS's default as merely "known after apply".
#[test]
fn a_damaged_configuration_is_an_error_not_a_warning() {
    // With its configuration intact, the volume whose encryption is "known after apply" but
    // not configured is unset: AWS's default decides (here the account's encryption by
    // default, which the plan does not show), and the finding says so.
    let intact = malformed("configuration-intact.plan.json");
    let (_, report, stderr) = scan_json(&[&intact]);
    assert_eq!(report["summary"]["errors"], 0, "{stderr}");
    let unset: Vec<&Value> = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["policy"] == "aws.ebs.encrypted")
        .collect();
    assert_eq!(unset.len(), 1, "{report}");
    assert_eq!(unset[0]["disposition"], "review");
    let message = unset[0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("`encrypted` not set; AWS's default is"),
        "{message}"
    );

    let damaged = malformed("configuration-damaged.plan.json");
    assert_refused(
        &[&damaged],
        &damaged,
        "$.configuration.root_module.resources",
        "expected a list, found a string",
    );

    let dir = tempfile::tempdir().unwrap();
    let plan =
        std::fs::read_to_string(fixture("malformed/configuration-intact.plan.json")).unwrap();
    let address = plan.replace(
        r#""address": "aws_ebs_volume.data",
          "mode""#,
        r#""address": 5,
          "mode""#,
    );
    assert_ne!(address, plan);
    let deep = {
        let mut module = String::from("{}");
        for _ in 0..100 {
            module = format!(r#"{{"module_calls": {{"m": {{"module": {module}}}}}}}"#);
        }
        plan.replace(
            r#""root_module": {"#,
            &format!(r#""root_module": {{"module_calls": {{"m": {{"module": {module}}}}},"#),
        )
    };
    let expressions = plan.replace(r#""expressions": {"#, r#""expressions": "oops", "x": {"#);
    for (name, text, json_path, words) in [
        (
            "address.json",
            address,
            "$.configuration.root_module.resources[0].address",
            "expected a string, found a number",
        ),
        (
            "deep.json",
            deep,
            "$.configuration.root_module.module_calls.m.module",
            "JSON nested too deeply",
        ),
        (
            "expressions.json",
            expressions,
            "$.configuration.root_module.resources[0].expressions",
            "`expressions` must be an object, found a string",
        ),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let path = path.to_str().unwrap();
        let (code, report, stderr) = scan_json(&[path]);
        assert_eq!(code, Some(2), "{name}: {stderr}");
        assert_eq!(report["summary"]["review"], 0, "{name}");
        assert_eq!(report["summary"]["passed"], 0, "{name}");
        assert!(stderr.contains(path), "{name}: {stderr}");
        assert!(holds(&stderr, json_path), "{name}: {json_path}: {stderr}");
        assert!(holds(&stderr, words), "{name}: {words}: {stderr}");
        assert!(!stderr.contains("load::warning"), "{name}: {stderr}");
    }
}

/// An AWS Config item whose `resourceType` is a list, or that has none, is refused at its
/// place (exit 2), not skipped with a warning. A SelectResourceConfig query that did not select
/// `resourceType` returns valid rows without it: those are still loaded, and said to be
/// unevaluated (the corpus has two such recordings).
#[test]
fn a_config_item_without_a_usable_resource_type_is_refused() {
    let list = malformed("config-resource-type-list.json");
    assert_refused(
        &[&list],
        &list,
        "$.configurationItems[0].resourceType",
        "a configuration item's `resourceType` must be a string, found a list",
    );
    let missing = malformed("config-resource-type-missing.json");
    assert_refused(
        &[&missing],
        &missing,
        "$.configurationItems[0]",
        "a configuration item has no `resourceType`",
    );
    // The same item alone (a single-item file) and as a SelectResourceConfig row of the wrong
    // type: refused too.
    let dir = tempfile::tempdir().unwrap();
    let single = dir.path().join("single.json");
    std::fs::write(
        &single,
        r#"{"resourceType": {"name": "AWS::EC2::Volume"}, "resourceId": "vol-1", "configuration": {"encrypted": false}}"#,
    )
    .unwrap();
    let single = single.to_str().unwrap();
    assert_refused(&[single], single, "$.resourceType", "found an object");
    let select = dir.path().join("select.json");
    std::fs::write(
        &select,
        r#"{"Results": ["{\"resourceType\": [\"AWS::EC2::Volume\"], \"resourceId\": \"vol-1\"}"]}"#,
    )
    .unwrap();
    let select = select.to_str().unwrap();
    assert_refused(&[select], select, "$.Results[0]", "found a list");
}

/// `resilix diff OLD NEW` where a side is not AWS Config data (a plan) is an error naming the
/// file, and nothing is compared: before, it exited 0 and counted every item as created.
#[test]
fn diff_of_something_that_is_not_config_data_is_an_error() {
    let config = "fixtures/diff/2026-11-20.json";
    let plan = "fixtures/examples/plan.json";
    for (old, new) in [(plan, config), (config, plan)] {
        let output = resilix()
            .args(["diff", old, new, "--format", "json"])
            .output()
            .unwrap();
        let stderr = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        let report: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(report["findings"], serde_json::json!([]), "{report}");
        assert!(
            stderr.contains(&format!("{plan}: this is a Terraform plan")),
            "{stderr}"
        );
        assert!(stderr.contains("not AWS Config data"), "{stderr}");
        assert!(!stderr.contains("created"), "{stderr}");
        assert!(stderr.contains("were not compared"), "{stderr}");
    }
    // Two AWS Config sets still compare.
    let output = resilix()
        .args(["diff", "fixtures/diff/2026-11-19.json", config, "-q"])
        .output()
        .unwrap();
    assert_ne!(output.status.code(), Some(2), "{}", stderr(&output));
}

/// An evaluation error (a number beyond what JSON numbers hold, in an attribute policies read)
/// is not only counted: it is on stderr with the file, the line, the resource and the policies
/// that could not be evaluated.
#[test]
fn every_evaluation_error_is_shown_on_stderr() {
    let file = malformed("number-out-of-range.plan.json");
    let output = resilix().args(["scan", &file]).output().unwrap();
    let stderr = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("1 error(s)"), "{stdout}");
    assert!(stderr.contains("eval::error"), "{stderr}");
    // Line 12, column 72: the end of `1e400` in the file.
    assert!(
        holds(
            &stderr,
            &format!(
                "{file}:12:72: aws_db_instance.main: resource values could not be parsed: number out of range; not evaluated:"
            )
        ),
        "{stderr}"
    );
    assert!(holds(&stderr, "aws.rds.backup-retention"), "{stderr}");
    assert!(holds(&stderr, "aws.rds.storage-encrypted"), "{stderr}");
}

/// `scan DIR` skips JSON files that are neither a plan nor AWS Config data; a damaged plan or
/// Config file found there is recognized by its shape and is an error, never skipped.
#[test]
fn damaged_inputs_found_by_a_directory_walk_are_errors_not_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(
        root.join("main.tf"),
        "resource \"aws_ebs_volume\" \"data\" {}\n",
    )
    .unwrap();
    std::fs::write(
        root.join("package.json"),
        r#"{"name": "web", "version": "1.0.0"}"#,
    )
    .unwrap();
    for name in [
        "configuration-damaged.plan.json",
        "after-not-an-object.plan.json",
        "config-resource-type-list.json",
    ] {
        std::fs::copy(fixture(&format!("malformed/{name}")), root.join(name)).unwrap();
    }
    let output = resilix()
        .args(["scan", "--format", "json"])
        .arg(root)
        .current_dir(root)
        .output()
        .unwrap();
    let stderr = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let errors = report["errors"].to_string();
    for (name, json_path) in [
        (
            "configuration-damaged.plan.json",
            "$.configuration.root_module.resources",
        ),
        (
            "after-not-an-object.plan.json",
            "$.resource_changes[0].change.after",
        ),
        (
            "config-resource-type-list.json",
            "$.configurationItems[0].resourceType",
        ),
    ] {
        assert!(
            errors.contains(name) && errors.contains(json_path),
            "{name}: {errors}"
        );
    }
    // Only package.json is skipped, as what it is.
    assert!(stderr.contains("skipped 1 JSON file(s)"), "{stderr}");
    assert!(stderr.contains("package.json"), "{stderr}");
}
