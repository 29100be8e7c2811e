//! What the fuzz targets run: the same path from bytes to output as `resilix scan`, with every
//! error rendered as users see it. A panic anywhere (also one the evaluator would catch and turn
//! into an error finding) aborts the fuzzer: libfuzzer-sys installs an aborting panic hook.

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};

use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme};
use resilix::config::Config;
use resilix::emit::{EmitContext, OutputFormat, emitter_for};
use resilix::input::{InputFormat, LoadOptions, decode_text, load_source};
use resilix::model::ResourceSet;
use resilix::policy::compile::compile_policy;
use resilix::policy::{Catalog, CatalogOptions, Policy};
use resilix::source::SourceFile;
use serde_json::Value;

/// Small policies that between them use every operator, combinator and quantifier on the
/// resource types the seed corpus holds, so fuzzed inputs reach every operator.
const OPERATOR_CONDITIONS: &[(&str, &str)] = &[
    ("equals", "{path: $.acl, equals: private}"),
    ("not-equals", "{path: '$.tags.Name', not_equals: x}"),
    ("in", "{path: $.instance_type, in: [t3.micro, t3.small]}"),
    ("not-in", "{path: '$..grantee', not_in: [AllUsers]}"),
    ("exists", "{path: $.kms_key_id, exists: true}"),
    ("absent", "{path: $.website, absent: true}"),
    ("truthy", "{path: '$..encrypted', truthy: true}"),
    ("falsy", "{path: $.publicly_accessible, falsy: true}"),
    ("matches", "{path: '$.*', matches: '^(?i)[a-z0-9-]{1,63}$'}"),
    ("contains", "{path: $.cidr_blocks, contains: 0.0.0.0/0}"),
    (
        "compare",
        "{all: [{path: $.size, gt: 1}, {path: $.size, lte: 16384}, {path: $.allocated_storage, gte: 20}, {path: $.port, lt: 65536}]}",
    ),
    ("cidr", "{path: '$..cidr_blocks[*]', cidr_public: false}"),
    (
        "ports",
        "{path: $.from_port, port_overlaps: [22, '3389', '20-25']}",
    ),
    (
        "json",
        "{path: $.assume_role_policy, json: {path: '$.Statement[*].Effect', any: {path: $, equals: Allow}}}",
    ),
    (
        "each",
        "{path: '$.ingress[*]', all: {path: '$.cidr_blocks[*]', cidr_public: false}}",
    ),
    (
        "quantifiers",
        "{any: [{path: '$..tags', none: {path: $.Owner, exists: true}}, {not: {path: $.versioning, exists: false}}]}",
    ),
    (
        "related",
        "{related: {types: [aws_s3_bucket_public_access_block, aws_s3_bucket_versioning, aws_security_group], via: $.bucket, any: {path: $.block_public_acls, truthy: true}}}",
    ),
    ("param-compare", "{path: $.size, lte: {param: limit}}"),
    (
        "param-in",
        "{path: $.instance_type, not_in: {param: names}}",
    ),
    (
        "related-all",
        "{related: {type: aws_security_group_rule, all: [{path: $.cidr_blocks, not_in: ['0.0.0.0/0']}]}}",
    ),
];

const TERRAFORM_TYPES: &str = "[aws_s3_bucket, aws_instance, aws_security_group, aws_security_group_rule, aws_ebs_volume, aws_db_instance, aws_iam_role, aws_iam_policy, aws_lambda_function, aws_vpc, aws_subnet]";
const CONFIG_TYPES: &str = r#"["AWS::S3::Bucket", "AWS::EC2::SecurityGroup", "AWS::EC2::Instance", "AWS::EC2::Volume", "AWS::EC2::VPC", "AWS::EC2::Subnet", "AWS::IAM::Role", "AWS::IAM::Policy", "AWS::RDS::DBInstance", "AWS::Lambda::Function"]"#;

/// The policy text for one operator condition.
pub fn operator_policy(name: &str, condition: &str) -> String {
    format!(
        "id: fuzz.{name}\ntitle: Fuzz {name}\nseverity: medium\ncategory: hardening\n\
         description: d\nrationale: r\nremediation: fix it\nmessage: m\n\
         params:\n  limit: {{description: a limit, default: 3}}\n  names: {{description: names, default: [a, b]}}\n\
         controls: {{nist-800-53-r5: [CM-6], iso-17799-2005: [10.3.1], cobit-4.1: [DS3.1]}}\n\
         targets:\n  terraform:\n    types: {TERRAFORM_TYPES}\n    assert: {condition}\n\
         \x20 aws-config:\n    types: {CONFIG_TYPES}\n    assert: {{path: $.configuration, all: {condition}}}\n"
    )
}

fn operator_policies(params: &BTreeMap<String, BTreeMap<String, Value>>) -> Vec<Policy> {
    let mut policies = Vec::new();
    for (name, condition) in OPERATOR_CONDITIONS {
        let file = SourceFile::new(
            format!("fuzz/{name}.yaml"),
            operator_policy(name, condition),
        );
        match compile_policy(&file, false, params) {
            Ok(policy) => policies.push(policy),
            Err(errors) => {
                for error in &errors {
                    render(error);
                }
            }
        }
    }
    policies
}

/// The built-in policies, the emitter fixtures' policies and the operator policies.
static CATALOG: LazyLock<Catalog> = LazyLock::new(|| {
    let catalog = full_catalog(&BTreeMap::new());
    // A harness that silently lost its policies would fuzz nothing of the evaluator.
    assert!(
        catalog.len() >= OPERATOR_CONDITIONS.len(),
        "fuzz policies do not compile"
    );
    catalog
});

fn full_catalog(params: &BTreeMap<String, BTreeMap<String, Value>>) -> Catalog {
    let mut policies = match Catalog::load(&CatalogOptions {
        builtins: true,
        user_paths: vec![fixtures().join("emit/policies")],
        params: params.clone(),
        ..CatalogOptions::default()
    }) {
        Ok(catalog) => catalog.policies,
        Err(errors) => {
            render(&errors);
            Vec::new()
        }
    };
    policies.extend(operator_policies(params));
    Catalog::from_policies(policies)
}

/// The repository's `fixtures/`, from the fuzz project or from the main crate (whose tests
/// replay the seeds through this harness).
pub fn fixtures() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    if dir.ends_with("fuzz") {
        dir.join("../fixtures")
    } else {
        dir.join("fixtures")
    }
}

/// Resources from a few fixtures of both kinds, for compiled policies to meet.
static FIXTURE_RESOURCES: LazyLock<Vec<(String, String)>> = LazyLock::new(|| {
    [
        "emit/plan.json",
        "emit/config.json",
        "policies/aws.s3.block-public-access/fail.plan.json",
        "policies/aws.s3.block-public-access/fail.config.json",
        "corpus/aws-config/cloud-custodian__placebo__SelectResourceConfig__sg.json",
    ]
    .iter()
    .filter_map(|name| {
        let text = std::fs::read_to_string(fixtures().join(name)).ok()?;
        Some(((*name).to_owned(), text))
    })
    .collect()
});

fn fixture_resources(catalog: &Catalog) -> ResourceSet {
    let options = LoadOptions {
        reference_types: Some(Arc::new(catalog.reference_types())),
        ..LoadOptions::default()
    };
    let mut resources = Vec::new();
    for (name, text) in FIXTURE_RESOURCES.iter() {
        let file = SourceFile::new(name.as_str(), text.as_str());
        if let Ok(loaded) = load_source(&file, &options) {
            resources.extend(loaded.resources);
        }
    }
    ResourceSet { resources }
}

/// Renders a diagnostic as `main` prints it (the excerpt and labels exercise every span).
pub fn render(diagnostic: &dyn Diagnostic) -> String {
    let mut out = String::new();
    let _ = GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor())
        .with_width(100)
        .render_report(&mut out, diagnostic);
    out
}

/// Evaluates, sorts, and writes the report in every output format.
pub fn evaluate_and_emit(catalog: &Catalog, resources: ResourceSet) {
    evaluate_and_emit_with(catalog, &Config::default(), resources);
}

/// [`evaluate_and_emit`] with a configuration's triage (approvals, waivers, criticality).
pub fn evaluate_and_emit_with(catalog: &Catalog, config: &Config, resources: ResourceSet) {
    let report = resilix::pipeline::report(
        catalog,
        config,
        resilix::pipeline::Inputs {
            resources,
            errors: Vec::new(),
            files: 1,
            paths: resilix::findings::Paths {
                base_dir: std::path::PathBuf::from("/work"),
                working_dir: std::path::PathBuf::from("/work"),
            },
        },
        resilix::pipeline::Judgement::default(),
    );
    for warning in config.warnings() {
        render(&warning);
    }
    let cx = EmitContext {
        catalog,
        version: "0.0.0-fuzz",
        paths: resilix::findings::Paths {
            base_dir: std::path::PathBuf::from("/work"),
            working_dir: std::path::PathBuf::from("/work"),
        },
        color: true,
        fail_on: None,
        sarif_category: Some("fuzz".to_owned()),
        frameworks: resilix::frameworks::all().iter().map(|f| f.id).collect(),
    };
    for format in <OutputFormat as clap::ValueEnum>::value_variants() {
        let mut out = Vec::new();
        let _ = emitter_for(*format).emit(&mut out, &report, &cx);
    }
}

/// Bytes → text → resources (with `format`) → evaluation → every output format.
pub fn scan_bytes(data: &[u8], format: InputFormat) {
    let text = match decode_text(data.to_vec(), "fuzz.json") {
        Ok(text) => text,
        Err(error) => {
            render(&error);
            return;
        }
    };
    let file = SourceFile::new("fuzz.json", text);
    let catalog = &*CATALOG;
    let options = LoadOptions {
        format,
        reference_types: Some(Arc::new(catalog.reference_types())),
        ..LoadOptions::default()
    };
    match load_source(&file, &options) {
        Ok(loaded) => {
            for warning in &loaded.warnings {
                render(warning);
            }
            evaluate_and_emit(
                catalog,
                ResourceSet {
                    resources: loaded.resources,
                },
            );
        }
        Err(error) => {
            render(&error);
        }
    }
}

/// Bytes → a user policy; a policy that compiles runs its inline tests and meets the fixtures.
pub fn compile_policy_bytes(data: &[u8]) {
    let text = match decode_text(data.to_vec(), "fuzz.yaml") {
        Ok(text) => text,
        Err(error) => {
            render(&error);
            return;
        }
    };
    let file = SourceFile::new("fuzz.yaml", text);
    match compile_policy(&file, false, &BTreeMap::new()) {
        Ok(policy) => {
            let catalog = Catalog::from_policies(vec![policy]);
            let _ = resilix::testing::run_policy_tests(&catalog);
            let resources = fixture_resources(&catalog);
            evaluate_and_emit(&catalog, resources);
        }
        Err(errors) => {
            for error in &errors {
                render(error);
            }
        }
    }
}

/// Bytes → `resilix.yaml` as `--config` reads it → the whole catalog compiled with its
/// parameters, checked against it and selected by it → run on the fixtures with its triage.
pub fn config_bytes(data: &[u8]) {
    let Ok(text) = decode_text(data.to_vec(), "resilix.yaml") else {
        return;
    };
    let file = SourceFile::new("resilix.yaml", text);
    let config = match Config::parse(&file) {
        Ok(config) => config,
        Err(errors) => {
            render(&errors);
            return;
        }
    };
    let catalog = full_catalog(&config.param_values());
    if let Err(errors) = config.check(&catalog) {
        render(&errors);
        return;
    }
    let catalog = config.select(catalog);
    let resources = fixture_resources(&catalog);
    evaluate_and_emit_with(&catalog, &config, resources);
}
