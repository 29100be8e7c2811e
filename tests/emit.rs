//! One snapshot per output format over a shared fixture report, and SARIF validated against the
//! vendored OASIS SARIF 2.1.0 schema.

use std::path::PathBuf;

use std::sync::Arc;

use resilix::config::Config;
use resilix::emit::OutputFormat;
use resilix::findings::{Disposition, Report};
use resilix::input::{LoadOptions, load_paths};
use resilix::model::{Origin, ResourceSet};
use resilix::pipeline::Judgement;
use resilix::policy::{Catalog, CatalogOptions};
use resilix::source::SourceFile;
use serde_json::Value;

use crate::util::{emit_context, fixture, judge, render, render_with, root, scan};

/// One result of every disposition, through the pipeline every command takes: findings across
/// two files (a plan and a Config snapshot), one resource without a file (as a live pull has),
/// a failing, an undecided and an errored result, a waived one, one whose waiver has expired,
/// an approved change and one known from the baseline (`fixtures/emit/resilix.yaml`,
/// `fixtures/emit/baseline.json`), and passes.
pub fn fixture_report() -> (Report, Catalog) {
    let catalog = Catalog::load(&CatalogOptions {
        builtins: false,
        user_paths: vec![fixture("emit/policies")],
        ..CatalogOptions::default()
    })
    .unwrap();
    let text = std::fs::read_to_string(fixture("emit/resilix.yaml")).unwrap();
    let mut config = Config::parse(&SourceFile::new("fixtures/emit/resilix.yaml", text)).unwrap();
    config.today = jiff::civil::date(2026, 11, 20);
    let baseline = resilix::findings::baseline::load(
        &fixture("emit/baseline.json"),
        resilix::input::DEFAULT_MAX_INPUT_BYTES,
    )
    .unwrap();
    let options = LoadOptions {
        reference_types: Some(Arc::new(catalog.reference_types())),
        ..LoadOptions::default()
    };
    let mut loaded = load_paths(
        &[fixture("emit/plan.json"), fixture("emit/config.json")],
        &options,
    );
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let live = loaded
        .resources
        .iter_mut()
        .find(|r| r.address.starts_with("arn:aws:ec2"))
        .unwrap();
    live.origin = Origin::default();
    let report = judge(
        &catalog,
        &config,
        ResourceSet {
            resources: loaded.resources,
        },
        loaded.files,
        Judgement {
            baseline: Some(("fixtures/emit/baseline.json", &baseline)),
            min_severity: None,
        },
    );
    (report, catalog)
}

/// The fixture has a result of every disposition, so every format's snapshot shows each.
#[test]
fn the_emitter_fixture_holds_every_disposition() {
    let (report, catalog) = fixture_report();
    let of = |address: &str, policy: &str| {
        report
            .findings
            .iter()
            .find(|f| {
                report.resource(f).unwrap().address == address
                    && catalog.get(f.policy).unwrap().id == policy
            })
            .map(|f| (f.disposition(), f.expired_waiver().is_some()))
    };
    let encrypted = "test.storage.encrypted";
    assert_eq!(
        of("aws_ebs_volume.logs", encrypted),
        Some((Disposition::Fail, false))
    );
    assert_eq!(
        of("aws_ebs_volume.legacy", encrypted),
        Some((Disposition::Fail, true))
    );
    assert_eq!(
        of("aws_ebs_volume.archive", encrypted),
        Some((Disposition::Waived, false))
    );
    assert_eq!(
        of("aws_ebs_volume.backup", encrypted),
        Some((Disposition::Known, false))
    );
    assert_eq!(
        of("aws_ebs_volume.scratch", encrypted),
        Some((Disposition::Review, false))
    );
    assert_eq!(
        of("aws_ebs_volume.odd", "test.storage.size-limit"),
        Some((Disposition::Error, false))
    );
    assert_eq!(
        of("aws_ebs_volume.retired", "test.change.volume-destroyed"),
        Some((Disposition::Approved, false))
    );
    assert!(report.count(Disposition::Pass) > 0);
    // The gate counts the open failures only: logs, legacy (expired waiver), the live volume
    // (high) and scratch's size (low).
    assert_eq!(report.failing(Some(resilix::policy::Severity::Low)), 4);
}

pub fn validate_sarif(text: &str) -> Vec<String> {
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("sarif-schema-2.1.0.json")).unwrap())
            .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let instance: Value = serde_json::from_str(text).unwrap();
    validator
        .iter_errors(&instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn emit_text() {
    let (report, catalog) = fixture_report();
    insta::assert_snapshot!("emit_text", render(&report, &catalog, OutputFormat::Text));
}

#[test]
fn emit_json() {
    let (report, catalog) = fixture_report();
    let text = render(&report, &catalog, OutputFormat::Json);
    let value: Value = serde_json::from_str(&text).unwrap();
    // Snapshots of JSON values sort their keys: key order is not part of the format.
    insta::with_settings!({sort_maps => true}, {
        insta::assert_json_snapshot!("emit_json", value, {".tool.version" => "[version]"});
    });
}

#[test]
fn emit_sarif() {
    let (report, catalog) = fixture_report();
    let text = render(&report, &catalog, OutputFormat::Sarif);
    let errors = validate_sarif(&text);
    assert!(
        errors.is_empty(),
        "SARIF does not validate:\n{}",
        errors.join("\n")
    );
    let value: Value = serde_json::from_str(&text).unwrap();
    // GitHub's rules: non-empty texts, startLine >= 1, security-severity a string, <= 20 tags.
    for rule in value["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
    {
        assert!(rule["properties"]["security-severity"].is_string());
        assert!(rule["properties"]["tags"].as_array().unwrap().len() <= 20);
        assert!(!rule["help"]["text"].as_str().unwrap().is_empty());
    }
    for result in value["runs"][0]["results"].as_array().unwrap() {
        if let Some(line) =
            result["locations"][0]["physicalLocation"]["region"]["startLine"].as_u64()
        {
            assert!(line >= 1);
        }
        assert!(result["partialFingerprints"]["primaryLocationLineHash"].is_string());
    }
    insta::with_settings!({sort_maps => true}, {
        insta::assert_json_snapshot!("emit_sarif", value, {".runs[0].tool.driver.version" => "[version]", ".runs[0].tool.driver.semanticVersion" => "[version]"});
    });
}

/// SARIF of the whole built-in catalog over every policy fixture validates too.
#[test]
fn sarif_of_all_policy_fixtures_validates() {
    let catalog = crate::util::builtin_catalog();
    let paths: Vec<PathBuf> = vec![fixture("policies")];
    let report = scan(catalog, &paths);
    let text = render(&report, catalog, OutputFormat::Sarif);
    let errors = validate_sarif(&text);
    assert!(
        errors.is_empty(),
        "SARIF does not validate:\n{}",
        errors.join("\n")
    );
    let _ = root();
}

/// The per-framework control status the reports render.
#[test]
fn compliance_status_per_framework() {
    use resilix::findings::compliance::{ControlState, framework_status};
    let (report, catalog) = fixture_report();
    let nist = framework_status(&report, &catalog, "nist-800-53-r5").unwrap();
    let state = |id: &str| {
        nist.controls
            .iter()
            .find(|c| c.control.id == id)
            .map(|c| c.state)
    };
    // test.storage.encrypted failed on two volumes: SC-28 failed.
    assert_eq!(state("SC-28"), Some(ControlState::Failed));
    // test.storage.size-limit (CM-6) failed on one volume.
    assert_eq!(state("CM-6"), Some(ControlState::Failed));
    assert_eq!(state("AC-2"), Some(ControlState::NotAssessed));
    // CM-3's only finding is an approved change: an accepted exception fails no control.
    assert_eq!(state("CM-3"), Some(ControlState::Passed));
    let cm3 = nist
        .controls
        .iter()
        .find(|c| c.control.id == "CM-3")
        .unwrap();
    assert_eq!((cm3.failing.len(), cm3.accepted.len()), (0, 1));
    // The waived finding is an accepted exception of SC-28; the baselined one still fails it.
    let sc28 = nist
        .controls
        .iter()
        .find(|c| c.control.id == "SC-28")
        .unwrap();
    assert_eq!(sc28.accepted.len(), 1);
    assert!(
        sc28.failing
            .iter()
            .any(|&i| report.findings[i].disposition() == Disposition::Known)
    );
    assert_eq!(nist.covered(), 4);
    assert!(framework_status(&report, &catalog, "no-such-framework").is_none());
}

/// The context of a CI run: the gate at `low`, as `scan` defaults to.
fn gated(catalog: &Catalog) -> resilix::emit::EmitContext<'_> {
    resilix::emit::EmitContext {
        fail_on: Some(resilix::policy::Severity::Low),
        ..emit_context(catalog)
    }
}

#[test]
fn emit_markdown() {
    let (report, catalog) = fixture_report();
    insta::assert_snapshot!(
        "emit_markdown",
        render_with(&report, OutputFormat::Markdown, gated(&catalog))
    );
}

#[test]
fn emit_github() {
    let (report, catalog) = fixture_report();
    let text = render_with(&report, OutputFormat::Github, gated(&catalog));
    // One workflow command per line: no raw line break may survive in a message.
    for line in text.lines().filter(|l| l.starts_with("::")) {
        let (command, _) = line.split_once(' ').unwrap();
        assert!(
            ["::error", "::warning", "::notice"].contains(&command),
            "{line}"
        );
    }
    insta::assert_snapshot!("emit_github", text);
}

#[test]
fn emit_junit() {
    let (report, catalog) = fixture_report();
    let text = render_with(&report, OutputFormat::Junit, gated(&catalog));
    // One test case per policy × resource, passes included.
    let cases = text.matches("<testcase ").count();
    assert_eq!(
        cases,
        report.passes.len() + report.findings.len() + report.errors.len()
    );
    insta::assert_snapshot!("emit_junit", text);
}

/// GitHub rejects a run with more than 25,000 results: the highest-priority ones are kept and a
/// notification says what was left out.
#[test]
fn sarif_results_are_capped_at_githubs_limit() {
    use resilix::findings::Status;
    let (mut report, catalog) = fixture_report();
    let high = report
        .findings
        .iter()
        .find(|f| f.status() == Status::Fail && f.severity == resilix::policy::Severity::High)
        .unwrap()
        .clone();
    let low = report
        .findings
        .iter()
        .find(|f| f.severity == resilix::policy::Severity::Low && f.status() == Status::Fail)
        .unwrap()
        .clone();
    // 24,999 high + 3 low results, in priority order as the report keeps them.
    report.findings = std::iter::repeat_n(high, 24_999)
        .chain(std::iter::repeat_n(low, 3))
        .collect();
    let text = render(&report, &catalog, OutputFormat::Sarif);
    let value: Value = serde_json::from_str(&text).unwrap();
    let run = &value["runs"][0];
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 25_000);
    assert_eq!(
        results
            .iter()
            .filter(|r| r["ruleId"] == "test.storage.size-limit")
            .count(),
        1,
        "the lowest-priority results are the ones left out"
    );
    let notes = run["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap();
    let cut = notes
        .iter()
        .find(|n| n["level"] == "warning")
        .expect("a notification says what was cut");
    insta::assert_snapshot!(
        "sarif_results_cap_notification",
        cut["message"]["text"].as_str().unwrap()
    );
    assert_eq!(run["invocations"][0]["executionSuccessful"], true);
}

/// `--sarif-category` fills `automationDetails.id` the way upload-sarif's `category` does.
#[test]
fn sarif_category_is_the_automation_id() {
    let (report, catalog) = fixture_report();
    for (category, id) in [("terraform", "terraform/"), ("tf/prod/", "tf/prod/")] {
        let cx = resilix::emit::EmitContext {
            sarif_category: Some(category.to_owned()),
            ..emit_context(&catalog)
        };
        let text = render_with(&report, OutputFormat::Sarif, cx);
        assert!(validate_sarif(&text).is_empty());
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["runs"][0]["automationDetails"]["id"], id);
    }
}

/// `--min-severity` leaves low findings out of every output and of the gate, and says so.
#[test]
fn min_severity_leaves_low_findings_out() {
    use resilix::findings::Status;
    use resilix::policy::Severity;
    let (mut report, catalog) = fixture_report();
    let errors_before = report.count(resilix::findings::Disposition::Error);
    report.retain_at_least(Severity::Medium);
    assert!(
        report
            .findings
            .iter()
            .all(|f| f.severity >= Severity::Medium || f.status() == Status::Error)
    );
    assert_eq!(
        report.count(resilix::findings::Disposition::Error),
        errors_before,
        "errors always stay"
    );
    assert_eq!(report.filter.unwrap().hidden, 1);
    let text = render(&report, &catalog, OutputFormat::Sarif);
    assert!(validate_sarif(&text).is_empty());
    assert!(text.contains("1 finding(s) below medium were left out (--min-severity medium)."));
    assert!(!text.contains("\"ruleId\": \"test.storage.size-limit\""));
}

/// Renders the auditor's report for some frameworks only.
fn render_for(
    report: &Report,
    catalog: &Catalog,
    format: OutputFormat,
    frameworks: &[&'static str],
) -> String {
    let cx = resilix::emit::EmitContext {
        frameworks: frameworks.to_vec(),
        ..emit_context(catalog)
    };
    render_with(report, format, cx)
}

#[test]
fn emit_audit_markdown() {
    let (report, catalog) = fixture_report();
    let text = render_for(
        &report,
        &catalog,
        OutputFormat::AuditMarkdown,
        &["cobit-4.1"],
    );
    insta::assert_snapshot!("emit_audit_markdown", text);
}

/// The HTML report is one self-contained page: no scripts, no external assets, all text escaped,
/// and it says so when the run was incomplete.
#[test]
fn emit_html_is_self_contained() {
    let (report, catalog) = fixture_report();
    let html = render_for(
        &report,
        &catalog,
        OutputFormat::Html,
        &["nist-800-53-r5", "iso-17799-2005", "cobit-4.1", "aws-fsbp"],
    );
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.trim_end().ends_with("</html>"));
    for forbidden in [
        "<script",
        "<link",
        "<img",
        "src=",
        "href=\"http",
        "url(",
        "@import",
    ] {
        assert!(!html.contains(forbidden), "{forbidden} in the report");
    }
    // Every control of every framework is there: the assessed ones in the table, the rest listed.
    for framework in resilix::frameworks::all() {
        let live = framework.controls.iter().filter(|c| !c.withdrawn).count();
        assert!(
            html.contains(&format!("<p>{live} controls: ")),
            "{}",
            framework.id
        );
    }
    // The fixture has an evaluation error: the report must not read as complete.
    assert!(html.contains("This report is incomplete"));
    // Failing resources are grouped by account and region, or by plan file.
    assert!(html.contains("Account 111122223333 · eu-west-1"));
    assert!(html.contains("Plan fixtures/emit/plan.json"));
    // Tags balance (a crude check that escaping did not break the markup).
    for tag in ["section", "table", "details", "article", "ul"] {
        assert_eq!(
            html.matches(&format!("<{tag}")).count(),
            html.matches(&format!("</{tag}>")).count(),
            "<{tag}>"
        );
    }
}
