//! Built-in policies: fixtures with snapshots, fixture coverage, and inline test cases.
//!
//! Convention: `fixtures/policies/<policy-id>/<stem>.json`, where the stem starts with `fail`
//! (the policy must fail at least one resource) or `pass` (the policy must pass at least one
//! resource and fail none). Plans are `*.plan.json`, AWS Config data `*.config.json`. Each
//! fixture's findings, rendered as text with only that policy enabled, are snapshotted as
//! `<policy-id>__<stem>`.
//!
//! Change-control policies are checked on AWS Config data through `resilix diff`: their Config
//! fixtures come in pairs, `<stem>.old.config.json` and `<stem>.new.config.json`, evaluated as
//! the changes from the old to the new set (snapshot `<policy-id>__<stem>.diff`).

use std::collections::{BTreeMap, BTreeSet};

use resilix::emit::OutputFormat;
use resilix::findings::Disposition;
use resilix::model::SourceKind;
use resilix::testing::run_policy_tests;

use crate::util::{builtin_catalog, diff_scan, fixture, only_policy, render, scan};

#[test]
fn policy_fixtures() {
    insta::glob!("../fixtures/policies", "*/*.json", |path| {
        let id = path
            .parent()
            .and_then(Path::file_name)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let mut stem = path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .trim_end_matches(".json")
            .to_owned();
        if stem.ends_with(".new.config") {
            // The second half of a diff pair: evaluated with its `.old.config` file.
            return;
        }
        let only = only_policy(&id)
            .unwrap_or_else(|| panic!("fixtures/policies/{id}: no built-in policy has this id"));
        let report = match stem.strip_suffix(".old.config") {
            Some(pair) => {
                let new = path.with_file_name(format!("{pair}.new.config.json"));
                assert!(
                    new.exists(),
                    "{id}/{stem}: no {pair}.new.config.json beside it"
                );
                stem = format!("{pair}.diff");
                diff_scan(&only, path, &new)
            }
            None => scan(&only, &[path.to_path_buf()]),
        };
        let failed = report.count(Disposition::Fail);
        if stem.starts_with("fail") {
            assert!(
                failed > 0,
                "{id}/{stem}: expected at least one failing resource"
            );
        } else if stem.starts_with("pass") {
            assert_eq!(
                failed,
                0,
                "{id}/{stem}: expected no failing resource:\n{}",
                render(&report, &only, OutputFormat::Text)
            );
            assert!(
                !report.passes.is_empty(),
                "{id}/{stem}: expected at least one passing resource"
            );
        } else {
            panic!("{id}/{stem}: fixture names start with `fail` or `pass`");
        }
        assert_eq!(
            report.count(Disposition::Error),
            0,
            "{id}/{stem}: evaluation errors"
        );
        // Name snapshots `<policy-id>__<stem>` whatever the set of fixtures (glob! would name
        // them after the common prefix of the matched files, which moves as fixtures are added).
        let mut settings = insta::Settings::clone_current();
        settings.remove_snapshot_suffix();
        settings.bind(|| {
            insta::assert_snapshot!(
                format!("{id}__{stem}"),
                render(&report, &only, OutputFormat::Text)
            );
        });
    });
}

/// Every built-in policy has a failing and a passing fixture for each input kind it targets.
#[test]
fn every_policy_has_failing_and_passing_fixtures() {
    let catalog = builtin_catalog();
    let mut missing = Vec::new();
    for policy in &catalog.policies {
        let dir = fixture("policies").join(&policy.id);
        let names: BTreeSet<String> = std::fs::read_dir(&dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        for target in &policy.targets {
            let suffix = match target.kind {
                SourceKind::Terraform => ".plan.json",
                SourceKind::AwsConfig => ".config.json",
            };
            for prefix in ["fail", "pass"] {
                if !names
                    .iter()
                    .any(|n| n.starts_with(prefix) && n.ends_with(suffix))
                {
                    missing.push(format!("{}: no {prefix}*{suffix}", policy.id));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "missing fixtures:\n{}",
        missing.join("\n")
    );
}

/// The inline `tests:` of every built-in policy pass (as `resilix policies test` runs them).
#[test]
fn inline_policy_tests_pass() {
    let catalog = builtin_catalog();
    let results = run_policy_tests(catalog);
    let failures: Vec<String> = results
        .iter()
        .filter(|r| !r.passed())
        .map(|r| {
            format!(
                "{} — {} ({}): {}",
                r.policy,
                r.case,
                r.location,
                r.failures.join("; ")
            )
        })
        .collect();
    assert!(
        failures.is_empty(),
        "failing policy tests:\n{}",
        failures.join("\n")
    );
    let mut per_policy: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &results {
        *per_policy.entry(r.policy.as_str()).or_default() += 1;
    }
    for policy in &catalog.policies {
        assert!(
            per_policy.get(policy.id.as_str()).copied().unwrap_or(0) >= 2,
            "{} has fewer than two inline test cases",
            policy.id
        );
    }
}
