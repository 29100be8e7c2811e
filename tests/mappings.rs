//! Framework mappings that say where they come from: every framework list a built-in policy does
//! not mark `derived` records the published list it copies (`sources:`), and differs from it only
//! by reasoned `exclude`/`add` entries; every AWS FSBP ID is a control of the vendored list; the
//! FSBP column reaches SARIF and `resilix controls`.

use std::collections::BTreeSet;

use resilix::emit::OutputFormat;
use resilix::frameworks;
use resilix::policy::compile::compile_policy;
use resilix::source::SourceFile;

use crate::util::{builtin_catalog, fixture, only_policy, render, resilix, root, scan};

/// A policy that claims its NIST list is sourced names the source; the list is the published
/// one less `exclude` plus `add`, and every difference carries a reason.
#[test]
fn sourced_nist_lists_record_their_source() {
    let mut sourced = 0;
    for policy in &builtin_catalog().policies {
        if policy.derived.iter().any(|d| d == "nist-800-53-r5") {
            assert!(
                !policy.sources.contains_key("nist-800-53-r5"),
                "{}: a derived list has no source",
                policy.id
            );
            continue;
        }
        let source = policy.sources.get("nist-800-53-r5").unwrap_or_else(|| {
            panic!(
                "{}: the NIST list is not marked derived, so `sources.nist-800-53-r5` must say \
                 which published list it copies",
                policy.id
            )
        });
        sourced += 1;
        let expected = source.expected();
        let actual: BTreeSet<&str> = policy.controls["nist-800-53-r5"]
            .iter()
            .map(String::as_str)
            .collect();
        assert_eq!(
            actual, expected,
            "{}: list differs from {}",
            policy.id, source.from
        );
        for (id, reason) in source.exclude.iter().chain(&source.add) {
            assert!(
                reason.split_whitespace().count() >= 5,
                "{}: the reason for {id} says too little: {reason:?}",
                policy.id
            );
        }
    }
    assert!(sourced > 100, "only {sourced} sourced NIST lists");
}

/// The check is real: a built-in policy whose list drifts from its recorded source does not
/// compile, and the error names the missing and the extra IDs.
#[test]
fn a_list_that_drifts_from_its_source_is_refused() {
    let path = root().join("policies/aws/redshift/encrypted.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let line = "  nist-800-53-r5: [CA-9(1), CM-3(6), SC-13, SC-28, SC-28(1), SI-7(6)]";
    assert!(
        text.contains(line),
        "the fixture line moved: update this test"
    );
    let drifted = text.replace(
        line,
        "  nist-800-53-r5: [CA-9(1), CM-3(6), SC-13, SC-28(1), SI-7(6), CP-9]",
    );
    let file = SourceFile::new("policies/aws/redshift/encrypted.yaml", drifted);
    let errors = compile_policy(&file, true, &Default::default()).unwrap_err();
    let messages: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "`controls.nist-800-53-r5` differs from its source, Security Hub Redshift.10: it lacks \
          SC-28 and has CP-9 beyond it"
        ]
    );
}

/// Every FSBP ID a policy names is a current control of the vendored FSBP list.
#[test]
fn fsbp_ids_are_controls_of_the_vendored_list() {
    let fsbp = frameworks::get("aws-fsbp").unwrap();
    let mut named = BTreeSet::new();
    for policy in &builtin_catalog().policies {
        for id in policy.controls.get("aws-fsbp").into_iter().flatten() {
            let control = fsbp.control(id).unwrap_or_else(|| {
                panic!("{}: {id} is not in src/frameworks/aws-fsbp.tsv", policy.id)
            });
            assert!(!control.withdrawn, "{}: {id} is retired", policy.id);
            named.insert(id.as_str());
        }
    }
    // `resilix controls --framework aws-fsbp --format json` counts the same controls.
    let output = resilix()
        .args(["controls", "--framework", "aws-fsbp", "--format", "json"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let coverage = &value[0];
    assert_eq!(coverage["framework"], "aws-fsbp");
    assert_eq!(
        coverage["controls_total"],
        fsbp.controls.iter().filter(|c| !c.withdrawn).count()
    );
    assert_eq!(coverage["covered"], named.len());
    let covered: BTreeSet<&str> = coverage["controls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| !c["policies"].as_array().unwrap().is_empty())
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(covered, named);
}

/// The mappings the catalog review showed wrong stay fixed (catalog-review.md §1.2–1.4).
#[test]
fn mappings_the_review_showed_wrong_stay_fixed() {
    // (policy, framework, control, mapped?)
    let cases = [
        ("aws.redshift.encrypted", "nist-800-53-r5", "SC-28", true),
        ("aws.redshift.encrypted", "nist-800-53-r5", "SC-8(3)", false),
        ("aws.redshift.encrypted", "nist-800-53-r5", "CP-9", false),
        (
            "aws.dynamodb.kms-encryption",
            "nist-800-53-r5",
            "SC-28",
            true,
        ),
        (
            "aws.dynamodb.kms-encryption",
            "nist-800-53-r5",
            "SI-19(4)",
            false,
        ),
        (
            "change.stateful-destroy",
            "nist-800-53-r5",
            "CM-3(2)",
            false,
        ),
        ("aws.kms.deletion-window", "nist-800-53-r5", "CP-9", false),
        (
            "aws.lambda.dead-letter-queue",
            "nist-800-53-r5",
            "CP-10",
            false,
        ),
        (
            "aws.dynamodb.deletion-protection",
            "nist-800-53-r5",
            "SI-13(5)",
            false,
        ),
        (
            "aws.rds.deletion-protection",
            "nist-800-53-r5",
            "SI-13(5)",
            false,
        ),
        (
            "aws.lambda.deprecated-runtime",
            "nist-800-53-r5",
            "SA-22",
            true,
        ),
        ("aws.eks.supported-version", "nist-800-53-r5", "SA-22", true),
        ("aws.ec2.no-paravirtual", "nist-800-53-r5", "SA-22", true),
        (
            "aws.cloudfront.origin-ssl-protocols",
            "nist-800-53-r5",
            "SA-22",
            true,
        ),
        ("aws.ecs.task-logging", "nist-800-53-r5", "AU-6(3)", true),
        (
            "aws.ecs.service-no-public-ip",
            "nist-800-53-r5",
            "SC-7(3)",
            true,
        ),
        ("aws.guardduty.enabled", "nist-800-53-r5", "SA-11(1)", false),
        (
            "aws.ssm.association-compliance",
            "iso-17799-2005",
            "15.1.2",
            false,
        ),
        (
            "aws.ssm.association-compliance",
            "cobit-4.1",
            "PO2.1",
            false,
        ),
        (
            "aws.accessanalyzer.no-blanket-public-archive",
            "cobit-4.1",
            "PO1.3",
            false,
        ),
        ("aws.ecs.task-no-privileged", "cobit-4.1", "PO4.11", false),
        (
            "aws.ecs.task-non-root-user",
            "iso-17799-2005",
            "10.1.3",
            false,
        ),
        ("aws.rds.multi-az", "iso-17799-2005", "10.5.1", false),
        ("aws.s3.lifecycle", "cobit-4.1", "DS4.9", false),
        ("aws.s3.versioning", "cobit-4.1", "DS4.9", false),
        ("aws.s3.tls-only", "cobit-4.1", "DS5.8", false),
        ("aws.kms.deletion-window", "iso-17799-2005", "10.5.1", false),
        (
            "aws.lambda.dead-letter-queue",
            "iso-17799-2005",
            "14.1.4",
            false,
        ),
        ("aws.ecr.scan-on-push", "cobit-4.1", "PO9.3", false),
        ("aws.ssm.patch-compliance", "cobit-4.1", "AI3.3", true),
        ("aws.ecs.task-no-host-network", "aws-fsbp", "ECS.17", true),
        ("aws.ecs.task-non-root-user", "aws-fsbp", "ECS.20", true),
    ];
    let catalog = builtin_catalog();
    for (id, framework, control, mapped) in cases {
        let (_, policy) = catalog.by_id(id).unwrap();
        let ids = policy.controls.get(framework).unwrap();
        assert_eq!(
            ids.iter().any(|c| c == control),
            mapped,
            "{id} {framework} {control}: {ids:?}"
        );
    }
    // SA-22, the control for unsupported components, covers every end-of-life policy.
    let sa22: BTreeSet<&str> = catalog
        .policies
        .iter()
        .filter(|p| p.controls["nist-800-53-r5"].iter().any(|c| c == "SA-22"))
        .map(|p| p.id.as_str())
        .collect();
    assert_eq!(sa22.len(), 6, "{sa22:?}");
    // Neither TLS nor the key policy: DS5.8 (key management) is on no in-transit check.
    for policy in &catalog.policies {
        let tls = policy.controls["cobit-4.1"].iter().any(|c| c == "DS5.11");
        let keys = policy.controls["cobit-4.1"].iter().any(|c| c == "DS5.8");
        assert!(
            !(tls && keys),
            "{}: DS5.8 on an in-transit check",
            policy.id
        );
    }
}

/// The FSBP column reaches SARIF: a tag per control, kept ahead of the long NIST list so the
/// 20-tag limit does not cut it, and the `properties.controls` map.
#[test]
fn fsbp_controls_reach_sarif() {
    let only = only_policy("aws.guardduty.enabled").unwrap();
    let report = scan(
        &only,
        &[fixture("policies/aws.guardduty.enabled/fail.plan.json")],
    );
    let sarif: serde_json::Value =
        serde_json::from_str(&render(&report, &only, OutputFormat::Sarif)).unwrap();
    let rule = &sarif["runs"][0]["tool"]["driver"]["rules"][0];
    let tags: Vec<&str> = rule["properties"]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(tags.len(), 20, "{tags:?}");
    assert_eq!(tags[..3], ["security", "detection", "AWS-FSBP/GuardDuty.1"]);
    assert_eq!(
        rule["properties"]["controls"]["aws-fsbp"],
        serde_json::json!(["GuardDuty.1"])
    );
    let result = &sarif["runs"][0]["results"][0];
    assert_eq!(
        result["properties"]["controls"]["aws-fsbp"],
        serde_json::json!(["GuardDuty.1"])
    );
}
