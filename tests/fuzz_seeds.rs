//! The fuzz targets' seeds, replayed through the fuzz harness (`fuzz/src/lib.rs`) on every run:
//! the fixtures and policies each target starts from, and every input a fuzzer ever crashed on
//! (`fuzz/regressions/<target>/`). Keeps the harness compiling with the crate, and a crash
//! found once can never come back unnoticed.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use resilix::input::InputFormat;

#[path = "../fuzz/src/lib.rs"]
mod harness;

use crate::util::root;

/// Files under `dir` (recursively) whose name ends with one of `suffixes`, sorted.
fn files(dir: &Path, suffixes: &[&str]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files(&path, suffixes));
        } else if suffixes.is_empty()
            || suffixes.iter().any(|s| path.to_string_lossy().ends_with(s))
        {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// Runs `target` on every file; names the files it panicked on.
fn replay(paths: &[PathBuf], target: impl Fn(&[u8])) {
    assert!(!paths.is_empty(), "no seeds found");
    let crashed: Vec<String> = paths
        .iter()
        .filter(|path| {
            let data = std::fs::read(path).unwrap();
            catch_unwind(AssertUnwindSafe(|| target(&data))).is_err()
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(crashed.is_empty(), "the harness panicked on {crashed:#?}");
}

fn regressions(target: &str) -> Vec<PathBuf> {
    files(&root().join("fuzz/regressions").join(target), &[])
}

#[test]
fn plan_seeds() {
    let fixtures = root().join("fixtures");
    let mut seeds = files(&fixtures.join("corpus/terraform-plans"), &[".json"]);
    seeds.extend(files(&fixtures.join("emit"), &["plan.json"]));
    seeds.extend(files(&fixtures.join("examples"), &["plan.json"]));
    seeds.extend(regressions("plan"));
    replay(&seeds, |data| {
        harness::scan_bytes(data, InputFormat::TerraformPlan)
    });
}

#[test]
fn aws_config_seeds() {
    let fixtures = root().join("fixtures");
    let mut seeds = files(&fixtures.join("corpus/aws-config"), &[".json"]);
    seeds.extend(files(&fixtures.join("emit"), &["config.json"]));
    seeds.extend(regressions("aws_config"));
    replay(&seeds, |data| {
        harness::scan_bytes(data, InputFormat::AwsConfig)
    });
}

#[test]
fn policy_seeds() {
    let mut seeds = files(&root().join("fixtures/user-policies"), &[".yaml"]);
    seeds.extend(files(&root().join("fixtures/policies-invalid"), &[".yaml"]));
    seeds.extend(files(&root().join("policies/aws/s3"), &[".yaml"]));
    seeds.extend(regressions("policy"));
    replay(&seeds, harness::compile_policy_bytes);
}

#[test]
fn config_seeds() {
    let mut seeds = files(&root().join("fuzz/seeds/config"), &[".yaml"]);
    seeds.extend(files(&root().join("fixtures/config"), &[".yaml"]));
    seeds.extend(regressions("config"));
    replay(&seeds, harness::config_bytes);
}
