//! Shared helpers: the repository root, loading fixtures, running the engine, rendering.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use resilix::emit::{EmitContext, OutputFormat, emitter_for};
use resilix::eval::evaluate;
use resilix::findings::Report;
use resilix::input::{LoadOptions, load_paths};
use resilix::model::ResourceSet;
use resilix::policy::{Catalog, CatalogOptions};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(relative: &str) -> PathBuf {
    root().join("fixtures").join(relative)
}

/// The built-in catalog (compiled once per test).
pub fn builtin_catalog() -> Catalog {
    Catalog::load(&CatalogOptions {
        builtins: true,
        ..CatalogOptions::default()
    })
    .unwrap_or_else(|e| panic!("built-in policies do not compile: {:?}", e.errors))
}

/// Loads and evaluates `paths` with `catalog`, as `scan` does.
pub fn scan(catalog: &Catalog, paths: &[PathBuf]) -> Report {
    let options = LoadOptions {
        reference_types: Some(Arc::new(catalog.reference_types())),
        ..LoadOptions::default()
    };
    let loaded = load_paths(paths, &options);
    assert!(loaded.errors.is_empty(), "load errors: {:?}", loaded.errors);
    let resources = ResourceSet {
        resources: loaded.resources,
    };
    let evaluation = evaluate(catalog, &resources);
    let mut report = Report {
        resources,
        findings: evaluation.findings,
        passes: evaluation.passes,
        errors: evaluation.errors,
        files: loaded.files,
        evaluated: evaluation.evaluated,
    };
    report.sort(catalog);
    report
}

/// Renders a report in a format, with paths relative to the repository root.
pub fn render(report: &Report, catalog: &Catalog, format: OutputFormat) -> String {
    let cx = EmitContext {
        catalog,
        version: "0.0.0-test",
        base_dir: root(),
        working_dir: root(),
        color: false,
        fail_on: None,
        frameworks: resilix::frameworks::all().iter().map(|f| f.id).collect(),
    };
    let mut out = Vec::new();
    emitter_for(format).emit(&mut out, report, &cx).unwrap();
    String::from_utf8(out).unwrap()
}

/// The path of a fixture relative to the repository root, with forward slashes.
pub fn relative(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}
