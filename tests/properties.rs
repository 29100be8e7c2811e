//! Properties over generated inputs (proptest):
//! - any JSON document (and any bytes) either loads or yields a clean, located error;
//! - evaluating any loaded resource with any built-in policy never panics (the evaluator turns
//!   a panic into an "internal error" finding: there must be none);
//! - output is byte-identical across thread counts and across runs, in every format;
//! - a fingerprint depends only on the policy, the resource's identity and the plan's
//!   repository-relative path.

use std::collections::BTreeSet;
use std::sync::{Arc, LazyLock};

use clap::ValueEnum;
use proptest::prelude::*;
use resilix::emit::{OutputFormat, emitter_for};
use resilix::findings::Report;
use resilix::findings::{Fingerprints, Paths};
use resilix::input::{InputFormat, LoadError, LoadOptions, decode_text, load_source};
use resilix::model::{ResourceSet, SourceKind};
use resilix::policy::Catalog;
use resilix::source::SourceFile;
use serde_json::{Map, Value, json};

use crate::util::builtin_catalog;

fn catalog() -> &'static Catalog {
    builtin_catalog()
}

/// The resource types the built-in policies check, per input kind.
fn builtin_types(kind: SourceKind) -> Vec<String> {
    let mut types = BTreeSet::new();
    for policy in &catalog().policies {
        for target in policy.targets.iter().filter(|t| t.kind == kind) {
            types.extend(target.types.iter().cloned());
        }
    }
    types.into_iter().collect()
}

/// Attribute names the built-in policies read (identifiers in their selectors), so that
/// generated values meet the policies' paths, not only unrelated keys.
static POLICY_KEYS: LazyLock<Vec<String>> = LazyLock::new(|| {
    let mut keys = BTreeSet::new();
    for policy in &catalog().policies {
        for line in policy
            .origin
            .file
            .text()
            .lines()
            .filter(|l| l.contains('$'))
        {
            for word in line.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
                if word.len() > 1 && !word.chars().all(|c| c.is_ascii_digit()) {
                    keys.insert(word.to_owned());
                }
            }
        }
    }
    keys.extend(["tags", "policy", "Statement", "Effect", "cidr_blocks"].map(String::from));
    keys.into_iter().collect()
});

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(POLICY_KEYS.clone()),
        1 => "[a-zA-Z_][a-zA-Z0-9_-]{0,10}",
        1 => any::<String>(),
    ]
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop::sample::select(vec![
            "0.0.0.0/0", "::/0", "10.0.0.0/8", "192.168.1.1/33", "22", "-1", "0-65535", "true",
            "AES256", "aws:kms", "*", "", "\u{0}resilix:sensitive", "\u{0}resilix:unknown-after-apply",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*"}]}"#,
            r#"{"Statement":{"Effect":"Deny"}}"#, "not json {",
        ])
        .prop_map(|s| Value::String(s.to_owned())),
        any::<String>().prop_map(Value::String),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(5, 96, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6)
                .prop_map(|entries| Value::Object(entries.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A mask over a value: sometimes `true`, sometimes shaped like it, sometimes not (at the top
/// always an object, a boolean or null: anything else is refused at load, see
/// `tests/malformed.rs`).
fn mask() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!(false)),
        Just(json!(true)),
        Just(json!({})),
        json_value().prop_map(|v| match v {
            Value::Object(map) =>
                Value::Object(map.into_iter().map(|(k, _)| (k, json!(true))).collect()),
            Value::Bool(b) => Value::Bool(b),
            _ => Value::Null,
        }),
    ]
}

/// A resource's values before or after a change, or an item's configuration: an object of
/// any members, or null (the only shapes the formats allow there).
fn change_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        1 => Just(Value::Null),
        6 => prop::collection::vec((key(), json_value()), 0..8)
            .prop_map(|entries| Value::Object(entries.into_iter().collect::<Map<_, _>>())),
    ]
}

/// A plan with resource changes of the built-in policies' types and generated values.
fn plan() -> impl Strategy<Value = Value> {
    let types = builtin_types(SourceKind::Terraform);
    let change = (
        prop::sample::select(types),
        "[a-z][a-z0-9_]{0,6}",
        prop::sample::subsequence(vec!["create", "update", "delete", "no-op", "read"], 1..3),
        change_value(),
        change_value(),
        mask(),
        mask(),
    )
        .prop_map(
            |(type_name, name, actions, after, before, sensitive, unknown)| {
                json!({
                    "address": format!("{type_name}.{name}"), "type": type_name, "name": name,
                    "mode": "managed",
                    "change": {"actions": actions, "before": before, "after": after,
                               "after_sensitive": sensitive, "before_sensitive": sensitive,
                               "after_unknown": unknown}
                })
            },
        );
    prop::collection::vec(change, 0..6).prop_map(|changes| {
        json!({"format_version": "1.2", "terraform_version": "1.9.5", "resource_changes": changes})
    })
}

/// An AWS Config snapshot with items of the built-in policies' types and generated values.
fn aws_config() -> impl Strategy<Value = Value> {
    let types = builtin_types(SourceKind::AwsConfig);
    let item = (
        prop::sample::select(types),
        "[a-z0-9-]{1,12}",
        change_value(),
        change_value(),
        any::<bool>(),
    )
        .prop_map(|(type_name, id, configuration, supplementary, as_text)| {
            let embed = |v: Value| {
                if as_text {
                    Value::String(v.to_string())
                } else {
                    v
                }
            };
            json!({
                "resourceType": type_name, "resourceId": id, "awsRegion": "eu-west-1",
                "awsAccountId": "123456789012", "configurationItemStatus": "OK",
                "configuration": embed(configuration),
                "supplementaryConfiguration": supplementary,
                "tags": {"env": "prod"}
            })
        });
    prop::collection::vec(item, 0..6).prop_map(|items| json!({"configurationItems": items}))
}

fn options(format: InputFormat) -> LoadOptions {
    LoadOptions {
        format,
        reference_types: Some(Arc::new(catalog().reference_types())),
        ..LoadOptions::default()
    }
}

/// A load error is clean: it names the file, and a located one points inside it.
fn assert_clean(error: &LoadError, file: &SourceFile) {
    assert_eq!(error.file_name(), file.name());
    let message = error.to_string();
    assert!(message.starts_with(file.name()), "{message}");
    if let Some((line, column)) = error.line_col() {
        let lines = file.text().lines().count().max(1);
        assert!(
            line >= 1 && line <= lines + 1,
            "line {line} of {lines}: {message}"
        );
        assert!(column >= 1, "{message}");
    }
}

fn load(name: &str, text: String, format: InputFormat) -> Option<ResourceSet> {
    let file = SourceFile::new(name, text);
    match load_source(&file, &options(format)) {
        Ok(loaded) => Some(ResourceSet {
            resources: loaded.resources,
        }),
        Err(error) => {
            assert_clean(&error, &file);
            None
        }
    }
}

fn report(resources: ResourceSet) -> Report {
    resilix::pipeline::report(
        catalog(),
        &resilix::config::Config::default(),
        resilix::pipeline::Inputs {
            resources,
            errors: Vec::new(),
            files: 1,
            paths: crate::util::paths(),
        },
        resilix::pipeline::Judgement::default(),
    )
}

/// Every output format, in order, as bytes.
fn render_all(report: &Report) -> Vec<Vec<u8>> {
    let cx = crate::util::emit_context(catalog());
    OutputFormat::value_variants()
        .iter()
        .map(|format| {
            let mut out = Vec::new();
            emitter_for(*format).emit(&mut out, report, &cx).unwrap();
            out
        })
        .collect()
}

fn assert_no_internal_error(report: &Report) {
    for finding in &report.findings {
        for evidence in &finding.evidence {
            let note = evidence.note.as_deref().unwrap_or("");
            assert!(!note.contains("This is a bug in resilix"), "{note}");
        }
    }
}

fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Any bytes: decoded and loaded, or refused with a clean error.
    #[test]
    fn any_bytes_load_or_fail_cleanly(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        match decode_text(bytes, "bytes.json") {
            Ok(text) => {
                for format in [InputFormat::Auto, InputFormat::TerraformPlan, InputFormat::AwsConfig] {
                    let _ = load("bytes.json", text.clone(), format);
                }
            }
            Err(error) => prop_assert_eq!(error.file_name(), "bytes.json"),
        }
    }

    /// Any JSON document, compact or pretty, with any loader.
    #[test]
    fn any_json_loads_or_fails_cleanly(value in json_value(), pretty in any::<bool>()) {
        let text = if pretty { serde_json::to_string_pretty(&value) } else { serde_json::to_string(&value) }.unwrap();
        for format in [InputFormat::Auto, InputFormat::TerraformPlan, InputFormat::AwsConfig] {
            if let Some(resources) = load("doc.json", text.clone(), format) {
                assert_no_internal_error(&report(resources));
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// Plans of the built-in policies' types with any values and masks: every policy meets
    /// every resource, and no evaluation panics.
    #[test]
    fn builtin_policies_never_panic_on_plans(plan in plan()) {
        let resources = load("plan.json", plan.to_string(), InputFormat::Auto)
            .expect("generated plans load");
        assert_no_internal_error(&report(resources));
    }

    /// AWS Config items of the built-in policies' types with any values.
    #[test]
    fn builtin_policies_never_panic_on_aws_config(doc in aws_config()) {
        if let Some(resources) = load("config.json", doc.to_string(), InputFormat::Auto) {
            assert_no_internal_error(&report(resources));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// The same input gives the same bytes in every format with 1 and 4 threads, twice.
    #[test]
    fn output_is_identical_across_thread_counts_and_runs(plan in plan(), doc in aws_config()) {
        let run = |threads: usize| {
            in_pool(threads, || {
                let mut resources = load("plan.json", plan.to_string(), InputFormat::Auto)
                    .unwrap_or_default();
                if let Some(more) = load("config.json", doc.to_string(), InputFormat::Auto) {
                    resources.resources.extend(more.resources);
                }
                render_all(&report(resources))
            })
        };
        let one = run(1);
        prop_assert!(one == run(4), "output differs between 1 and 4 threads");
        prop_assert!(one == run(4), "output differs between two runs");
    }

    /// A fingerprint is a function of the policy, the resource's identity and the plan's
    /// repository-relative path only: the same resource with other values, at another line,
    /// in another checkout, keeps it; another plan, another resource or another policy changes it.
    #[test]
    fn fingerprints_depend_only_on_policy_identity_and_input(
        name in "[a-z][a-z0-9_]{0,8}",
        other in "[a-z][a-z0-9_]{0,8}",
        first in change_value(),
        second in change_value(),
        padding in 0usize..5,
    ) {
        let one_in = |checkout: &str, address: &str, after: &Value, file: &str, pad: usize| {
            let doc = json!({"format_version": "1.2", "resource_changes": [
                {"address": address, "type": "aws_s3_bucket", "name": "x",
                 "change": {"actions": ["create"], "after": after}}]});
            let text = format!("{}{}", "\n".repeat(pad), serde_json::to_string_pretty(&doc).unwrap());
            let set = load(file, text, InputFormat::Auto).expect("loads");
            let paths = Paths { base_dir: checkout.into(), working_dir: checkout.into() };
            let prints = Fingerprints::new(&set, &paths);
            let resource = set.resources.first().expect("one resource");
            catalog().policies.iter().map(|p| prints.of(&p.id, resource)).collect::<Vec<_>>()
        };
        let one = |address: &str, after: &Value, file: &str, pad: usize| {
            one_in("/work/repo", address, after, file, pad)
        };
        let address = format!("aws_s3_bucket.{name}");
        let a = one(&address, &first, "a.json", 0);
        prop_assert_eq!(&a, &one(&address, &second, "a.json", padding));
        prop_assert_eq!(&a, &one_in("/elsewhere/checkout", &address, &second, "a.json", padding));
        let elsewhere = one(&address, &first, "elsewhere/a.json", 0);
        prop_assert!(a.iter().zip(&elsewhere).all(|(x, y)| x != y), "another plan, other findings");
        let distinct: BTreeSet<&String> = a.iter().collect();
        prop_assert_eq!(distinct.len(), a.len(), "policies share a fingerprint");
        if other != name {
            let b = one(&format!("aws_s3_bucket.{other}"), &first, "a.json", 0);
            prop_assert!(a.iter().zip(&b).all(|(x, y)| x != y));
        }
    }
}
