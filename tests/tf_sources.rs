//! Findings on `.tf` lines: a fixture repository (`fixtures/repos/network`: a root module, a
//! local module, a registry module called from it, `count` and `for_each`) and its plan.

use std::path::{Path, PathBuf};

use resilix::emit::{EmitContext, OutputFormat};
use resilix::input::{LoadOptions, TerraformSources, load_paths};
use resilix::policy::{Catalog, CatalogOptions, Severity};
use serde_json::Value;

use crate::emit::validate_sarif;
use crate::util::{emit_context, fixture, render_with, root, scan_with};

pub fn repo() -> PathBuf {
    fixture("repos/network")
}

/// The repository's own test policies and the built-in `aws.s3.block-public-access`.
pub fn repo_catalog() -> Catalog {
    Catalog::load(&CatalogOptions {
        builtins: false,
        user_paths: vec![
            repo().join("policies"),
            root().join("policies/aws/s3/block-public-access.yaml"),
        ],
        ..CatalogOptions::default()
    })
    .unwrap()
}

fn sources(root: &Path) -> LoadOptions {
    LoadOptions {
        terraform_sources: TerraformSources::Root(root.to_path_buf()),
        ..LoadOptions::default()
    }
}

/// A declaration as (file relative to the fixture repository, line, column).
type Place = Option<(String, usize, usize)>;

/// Where each resource of the fixture plan is declared.
fn declarations(options: LoadOptions) -> Vec<(String, Place)> {
    let loaded = load_paths(&[repo().join("plan.json")], &options);
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    loaded
        .resources
        .iter()
        .map(|r| {
            let place = r.origin.declaration.as_ref().map(|d| {
                let file = Path::new(&*d.file)
                    .strip_prefix(repo())
                    .unwrap_or(Path::new(&*d.file))
                    .to_string_lossy()
                    .replace('\\', "/");
                (file, d.line, d.column)
            });
            (r.address.clone(), place)
        })
        .collect()
}

fn at(file: &str, line: usize, column: usize) -> Place {
    Some((file.to_owned(), line, column))
}

#[test]
fn resources_point_at_the_blocks_that_declare_them() {
    let found = declarations(sources(&repo()));
    let expected = vec![
        ("aws_s3_bucket.logs", at("main.tf", 20, 1)),
        (
            "aws_s3_bucket_public_access_block.logs",
            at("main.tf", 24, 1),
        ),
        // for_each: both instances point at their one block.
        ("aws_s3_bucket.team[\"analytics\"]", at("buckets.tf", 8, 1)),
        ("aws_s3_bucket.team[\"billing\"]", at("buckets.tf", 8, 1)),
        // Inside the local module ./modules/net, followed from configuration.module_calls.
        ("module.net.aws_vpc.main", at("modules/net/main.tf", 5, 1)),
        (
            "module.net.aws_security_group.bastion",
            at("modules/net/main.tf", 13, 1),
        ),
        // count: both instances point at their one block, in another file of the module.
        (
            "module.net.aws_ebs_volume.data[0]",
            at("modules/net/volumes.tf", 1, 1),
        ),
        (
            "module.net.aws_ebs_volume.data[1]",
            at("modules/net/volumes.tf", 1, 1),
        ),
        // A registry module has no sources in the repository: its `module` block is the
        // closest place.
        (
            "module.net.module.endpoints.aws_vpc_endpoint.this[\"s3\"]",
            at("modules/net/main.tf", 26, 1),
        ),
    ];
    let expected: Vec<(String, Place)> = expected
        .into_iter()
        .map(|(a, p)| (a.to_owned(), p))
        .collect();
    assert_eq!(found, expected);
}

/// By default the plan's own directory is used when the current directory holds no `.tf` file
/// (the tests run in the crate root, which holds none).
#[test]
fn sources_are_found_beside_the_plan_by_default() {
    let found = declarations(LoadOptions::default());
    assert!(found.iter().all(|(_, place)| place.is_some()), "{found:?}");
    let off = declarations(LoadOptions {
        terraform_sources: TerraformSources::Off,
        ..LoadOptions::default()
    });
    assert!(off.iter().all(|(_, place)| place.is_none()));
}

/// Missing or broken sources fall back cleanly, with a warning naming the file and line.
#[test]
fn missing_and_broken_sources_fall_back() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["main.tf", "buckets.tf"] {
        std::fs::copy(repo().join(name), dir.path().join(name)).unwrap();
    }
    // buckets.tf no longer parses; modules/net is missing altogether.
    std::fs::write(
        dir.path().join("buckets.tf"),
        "resource \"aws_s3_bucket\" \"team\" {\n  for_each = var.teams\n  bucket = \n}\n",
    )
    .unwrap();
    let options = sources(dir.path());
    let loaded = load_paths(&[repo().join("plan.json")], &options);
    let place = |address: &str| {
        loaded
            .resources
            .iter()
            .find(|r| r.address == address)
            .unwrap()
            .origin
            .declaration
            .as_ref()
            .map(|d| (d.line, d.file.ends_with("main.tf")))
    };
    assert_eq!(place("aws_s3_bucket.logs"), Some((20, true)));
    // The broken file: back to the plan.
    assert_eq!(place("aws_s3_bucket.team[\"billing\"]"), None);
    // The missing module: its `module "net"` block.
    assert_eq!(place("module.net.aws_ebs_volume.data[0]"), Some((14, true)));
    let mut warnings: Vec<String> = loaded
        .warnings
        .iter()
        .map(|w| {
            format!("{}: {}", w.name, w.message).replace(&dir.path().display().to_string(), "[TMP]")
        })
        .collect();
    warnings.sort();
    insta::assert_snapshot!("tf_sources_fallback_warnings", warnings.join("\n"));
}

/// An explicit --tf-root without `.tf` files is reported, and findings stay on the plan.
#[test]
fn a_tf_root_without_sources_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let loaded = load_paths(&[repo().join("plan.json")], &sources(dir.path()));
    assert!(
        loaded
            .resources
            .iter()
            .all(|r| r.origin.declaration.is_none())
    );
    assert_eq!(loaded.warnings.len(), 1);
    assert!(
        loaded.warnings[0].message.contains("no .tf files"),
        "{:?}",
        loaded.warnings
    );
}

/// The report as a CI run renders it: URIs relative to the fixture repository, as if it were
/// the repository root (`--repo-root`), the gate at `low`.
fn repo_context(catalog: &Catalog) -> EmitContext<'_> {
    EmitContext {
        paths: resilix::findings::Paths {
            base_dir: repo(),
            working_dir: crate::util::root(),
        },
        fail_on: Some(Severity::Low),
        sarif_category: Some("terraform".to_owned()),
        ..emit_context(catalog)
    }
}

fn repo_report(catalog: &Catalog) -> resilix::findings::Report {
    scan_with(catalog, &[repo().join("plan.json")], sources(&repo()))
}

#[test]
fn repo_sarif() {
    let catalog = repo_catalog();
    let report = repo_report(&catalog);
    let text = render_with(&report, OutputFormat::Sarif, repo_context(&catalog));
    let errors = validate_sarif(&text);
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    let value: Value = serde_json::from_str(&text).unwrap();
    for result in value["runs"][0]["results"].as_array().unwrap() {
        let uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap();
        assert!(uri.ends_with(".tf"), "{uri}");
        assert!(
            !uri.starts_with('/') && !uri.contains(':'),
            "relative: {uri}"
        );
    }
    insta::assert_json_snapshot!("repo_sarif", value, {
        ".runs[0].tool.driver.version" => "[version]",
        ".runs[0].tool.driver.semanticVersion" => "[version]",
        ".runs[0].tool.driver.rules" => "[rules: see emit_sarif]",
    });
}

#[test]
fn repo_github() {
    let catalog = repo_catalog();
    let report = repo_report(&catalog);
    insta::assert_snapshot!(
        "repo_github",
        render_with(&report, OutputFormat::Github, repo_context(&catalog))
    );
}

#[test]
fn repo_markdown() {
    let catalog = repo_catalog();
    let report = repo_report(&catalog);
    insta::assert_snapshot!(
        "repo_markdown",
        render_with(&report, OutputFormat::Markdown, repo_context(&catalog))
    );
}

#[test]
fn repo_junit() {
    let catalog = repo_catalog();
    let report = repo_report(&catalog);
    insta::assert_snapshot!(
        "repo_junit",
        render_with(&report, OutputFormat::Junit, repo_context(&catalog))
    );
}

#[test]
fn repo_text() {
    let catalog = repo_catalog();
    let report = repo_report(&catalog);
    insta::assert_snapshot!(
        "repo_text",
        render_with(&report, OutputFormat::Text, repo_context(&catalog))
    );
}
