//! What users see when a policy or an input is bad: every message names the file and, where
//! possible, the line and column. These are the user-facing texts; review them like UI.

use std::path::Path;

use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme};
use resilix::input::{LoadOptions, decode_text, load_source};
use resilix::policy::{Catalog, CatalogOptions};
use resilix::source::SourceFile;

use crate::util::{fixture, relative};

fn render(diagnostic: &dyn Diagnostic) -> String {
    let mut out = String::new();
    GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor())
        .with_width(100)
        .render_report(&mut out, diagnostic)
        .unwrap();
    out
}

/// Each invalid policy under fixtures/policies-invalid reports all its problems at once.
#[test]
fn invalid_policies() {
    insta::glob!("../fixtures/policies-invalid", "*.yaml", |path| {
        let name = relative(path);
        let text = std::fs::read_to_string(path).unwrap();
        let file = SourceFile::new(name, text);
        let errors = resilix::policy::compile::compile_policy(&file, false, &Default::default())
            .expect_err("the policy must not compile");
        let rendered: Vec<String> = errors.iter().map(|e| render(e)).collect();
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap()
            .to_owned();
        let mut settings = insta::Settings::clone_current();
        settings.remove_snapshot_suffix();
        settings
            .bind(|| insta::assert_snapshot!(format!("policy_error__{stem}"), rendered.join("\n")));
    });
}

/// Loading a directory of policies reports the errors of every file together.
#[test]
fn all_policy_errors_are_reported_together() {
    let errors = Catalog::load(&CatalogOptions {
        builtins: false,
        user_paths: vec![fixture("policies-invalid")],
        ..CatalogOptions::default()
    })
    .expect_err("invalid policies");
    let files: std::collections::BTreeSet<String> = errors
        .errors
        .iter()
        .map(|e| e.file.name().to_owned())
        .collect();
    let invalid = std::fs::read_dir(fixture("policies-invalid"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "yaml"))
        })
        .count();
    assert_eq!(
        files.len(),
        invalid,
        "one or more errors per invalid file: {files:?}"
    );
    assert!(errors.errors.len() > 15);
}

fn load_error(name: &str, bytes: &[u8]) -> String {
    let result = decode_text(bytes.to_vec(), name)
        .map(|text| SourceFile::new(name, text))
        .and_then(|file| load_source(&file, &LoadOptions::default()).map(|_| ()));
    match result {
        Ok(()) => panic!("{name} must not load"),
        Err(error) => render(&error),
    }
}

#[test]
fn bad_inputs() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty.json", Vec::new()),
        ("blank.json", b"  \n\n ".to_vec()),
        ("truncated.json", br#"{"format_version": "1.2", "resource_changes": [{"address": "aws_s3_bucket.b", "type": "aws_s3_"#.to_vec()),
        ("garbage.bin", vec![0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x00, 0x08, 0xff, 0xfe, 0x00, 0x9c]),
        ("neither.json", br#"{"name": "not a plan", "items": [1, 2, 3]}"#.to_vec()),
        ("scalar.json", b"42".to_vec()),
        ("deep.json", deep.into_bytes()),
        ("deep-object.json", format!("{{\"resource_changes\": {}{}}}", "[".repeat(5_000), "]".repeat(5_000)).into_bytes()),
        ("state.json", br#"{"format_version": "1.0", "terraform_version": "1.9.5", "values": {"root_module": {}}}"#.to_vec()),
        ("future.json", br#"{"format_version": "2.0", "resource_changes": []}"#.to_vec()),
        ("not-a-list.json", b"{\n  \"format_version\": \"1.2\",\n  \"resource_changes\": {\"a\": 1}\n}\n".to_vec()),
        ("no-type.json", b"{\"format_version\": \"1.2\", \"resource_changes\": [\n  {\"address\": \"x.y\", \"change\": {\"actions\": [\"create\"]}}\n]}".to_vec()),
        ("bad-select.json", br#"{"Results": ["{\"resourceType\": \"AWS::S3::Bucket\", "], "QueryInfo": {}}"#.to_vec()),
        ("trailing-comma.json", b"{\n  \"configurationItems\": [\n    {\"resourceType\": \"AWS::S3::Bucket\",}\n  ]\n}\n".to_vec()),
    ];
    let mut rendered = String::new();
    for (name, bytes) in &cases {
        rendered.push_str(&format!("── {name}\n{}\n", load_error(name, bytes)));
    }
    insta::assert_snapshot!("load_errors", rendered);
}

/// A UTF-16 plan (PowerShell's `>`) reads like its UTF-8 twin.
#[test]
fn utf16_plans_load() {
    let path = fixture("policies/aws.s3.block-public-access/fail.plan.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let decoded = decode_text(bytes, "utf16.json").unwrap();
    let file = SourceFile::new("utf16.json", decoded);
    let loaded = load_source(&file, &LoadOptions::default()).unwrap();
    assert_eq!(loaded.resources.len(), 3);
    let _ = Path::new("");
}
