//! Shared helpers: the repository root, loading fixtures, running the engine, rendering.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};

use insta_cmd::get_cargo_bin;
use resilix::config::Config;
use resilix::emit::{EmitContext, OutputFormat, emitter_for};
use resilix::findings::{Paths, Report};
use resilix::input::{LoadOptions, load_paths};
use resilix::model::ResourceSet;
use resilix::pipeline::{Inputs, Judgement};
use resilix::policy::{Catalog, CatalogOptions};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The `resilix` binary, run from the repository root, without colour, with the default
/// thread count.
pub fn resilix() -> Command {
    let mut command = Command::new(get_cargo_bin("resilix"));
    command
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env_remove("RESILIX_JOBS");
    command
}

/// Runs a command and renders what users see: exit code, stdout, stderr.
pub fn run(command: &mut Command) -> String {
    let output = command.output().unwrap();
    format!(
        "exit code: {}\n----- stdout -----\n{}\n----- stderr -----\n{}",
        output
            .status
            .code()
            .map_or("signal".to_owned(), |c| c.to_string()),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Paths as a run from the repository root has them (the repository is the git top level).
pub fn paths() -> Paths {
    Paths {
        base_dir: root(),
        working_dir: root(),
    }
}

pub fn fixture(relative: &str) -> PathBuf {
    root().join("fixtures").join(relative)
}

/// The built-in catalog with its inline tests, compiled once per test process.
pub fn builtin_catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        Catalog::load(&CatalogOptions {
            builtins: true,
            tests: true,
            ..CatalogOptions::default()
        })
        .unwrap_or_else(|e| panic!("built-in policies do not compile: {:?}", e.errors))
    })
}

/// A catalog of just the built-in policy `id`.
pub fn only_policy(id: &str) -> Option<Catalog> {
    let (_, policy) = builtin_catalog().by_id(id)?;
    Some(Catalog::from_policies(vec![policy.clone()]))
}

/// Loads and evaluates `paths` with `catalog`, as `scan` does.
pub fn scan(catalog: &Catalog, paths: &[PathBuf]) -> Report {
    scan_with(catalog, paths, LoadOptions::default())
}

/// [`scan`] with load options (e.g. where the `.tf` sources are).
pub fn scan_with(catalog: &Catalog, paths: &[PathBuf], options: LoadOptions) -> Report {
    let options = LoadOptions {
        reference_types: Some(Arc::new(catalog.reference_types())),
        ..options
    };
    let loaded = load_paths(paths, &options);
    assert!(loaded.errors.is_empty(), "load errors: {:?}", loaded.errors);
    judge(
        catalog,
        &Config::default(),
        ResourceSet {
            resources: loaded.resources,
        },
        loaded.files,
        Judgement::default(),
    )
}

/// Evaluates and judges resources through the pipeline every command takes.
pub fn judge(
    catalog: &Catalog,
    config: &Config,
    resources: ResourceSet,
    files: usize,
    judgement: Judgement<'_>,
) -> Report {
    resilix::pipeline::report(
        catalog,
        config,
        Inputs {
            resources,
            errors: Vec::new(),
            files,
            paths: paths(),
        },
        judgement,
    )
}

/// Loads two sets of AWS Config data and evaluates `catalog` on the changes between them, as
/// `resilix diff` does.
pub fn diff_scan(catalog: &Catalog, old: &Path, new: &Path) -> Report {
    let options = LoadOptions::default();
    let old = load_paths(&[old.to_path_buf()], &options);
    let new = load_paths(&[new.to_path_buf()], &options);
    assert!(old.errors.is_empty() && new.errors.is_empty());
    let diff = resilix::input::config_diff::diff(old.resources, new.resources);
    assert!(diff.errors.is_empty(), "{:?}", diff.errors);
    let changes = diff.changes;
    judge(
        catalog,
        &Config::default(),
        ResourceSet { resources: changes },
        old.files + new.files,
        Judgement::default(),
    )
}

/// Renders a report in a format, with paths relative to the repository root.
pub fn render(report: &Report, catalog: &Catalog, format: OutputFormat) -> String {
    render_with(report, format, emit_context(catalog))
}

/// The context tests render with: paths relative to the repository root, no colour, no gate.
pub fn emit_context(catalog: &Catalog) -> EmitContext<'_> {
    EmitContext {
        catalog,
        version: "0.0.0-test",
        paths: paths(),
        color: false,
        fail_on: None,
        sarif_category: None,
        frameworks: resilix::frameworks::all().iter().map(|f| f.id).collect(),
    }
}

/// Renders a report with a given context.
pub fn render_with(report: &Report, format: OutputFormat, cx: EmitContext<'_>) -> String {
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

/// Copies a directory tree (files and directories) into `to`; nothing when `from` is missing.
pub fn copy_tree(from: &Path, to: &Path) {
    if !from.exists() {
        return;
    }
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::create_dir_all(target.parent().unwrap()).unwrap();
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Makes a FIFO at `path` and starts its reader, which returns everything written to it: the
/// output side of a test of writes into a pipe (`-o >(…)`, `--save >(gzip > …)`).
#[cfg(unix)]
pub fn fifo_with_reader(path: &Path) -> std::thread::JoinHandle<Vec<u8>> {
    assert!(
        std::process::Command::new("mkfifo")
            .arg(path)
            .status()
            .unwrap()
            .success()
    );
    let path = path.to_owned();
    std::thread::spawn(move || std::fs::read(path).unwrap())
}
