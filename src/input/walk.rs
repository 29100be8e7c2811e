//! Which files the paths on the command line name: a file itself, or the data files below a
//! directory, walked the way the repository sees it. Hidden directories (`.terraform/`,
//! `.git/`), `node_modules/` and whatever the repository's `.gitignore` and `.ignore` files
//! ignore are skipped (the `ignore` crate, as ripgrep does), and so is every path a
//! `--skip-path` glob matches. A file named on the command line is always read.

use std::path::{Path, PathBuf};

use globset::{Glob, GlobBuilder, GlobMatcher};

use super::read::display_name;
use super::{LoadError, LoadWarning};

/// `--skip-path` globs (Checkov's `--skip-path`, Trivy's `--skip-dirs` / `--skip-files`).
///
/// A glob is matched against an entry's name, its path below the directory being walked, and
/// its path as the walk names it (`infra/legacy/plan.json`); `*` does not cross `/`, `**` does.
/// A directory that matches is not entered.
#[derive(Debug, Clone, Default)]
pub struct SkipPaths {
    globs: Vec<GlobMatcher>,
}

impl SkipPaths {
    pub fn new(globs: &[Glob]) -> SkipPaths {
        SkipPaths {
            globs: globs.iter().map(Glob::compile_matcher).collect(),
        }
    }

    fn matches(&self, path: &Path, root: &Path) -> bool {
        if self.globs.is_empty() {
            return false;
        }
        let below_root = path.strip_prefix(root).unwrap_or(path);
        let as_named = path.strip_prefix(".").unwrap_or(path);
        let name = path.file_name().map(Path::new);
        self.globs.iter().any(|glob| {
            glob.is_match(below_root)
                || glob.is_match(as_named)
                || name.is_some_and(|n| glob.is_match(n))
        })
    }
}

/// Parses one `--skip-path` glob (for clap).
pub fn parse_skip_glob(text: &str) -> Result<Glob, String> {
    GlobBuilder::new(text)
        .literal_separator(true)
        .build()
        .map_err(|e| format!("`{text}` is not a glob: {e}"))
}

/// A file to read, and where it came from.
#[derive(Debug, Clone)]
pub struct InputFile {
    pub path: PathBuf,
    /// The directory (an index into [`Expanded::dirs`]) whose walk found the file; `None` for
    /// a file named on the command line.
    pub found_in: Option<usize>,
}

/// A directory named on the command line, and what its walk saw.
#[derive(Debug, Clone)]
pub struct WalkedDir {
    pub path: PathBuf,
    /// Terraform source files (`*.tf`) below it: a directory of them and no plan is a
    /// Terraform root that was not planned yet.
    pub tf_files: usize,
}

/// The files the paths name, in order, and what went wrong finding them.
#[derive(Debug, Default)]
pub struct Expanded {
    pub files: Vec<InputFile>,
    pub dirs: Vec<WalkedDir>,
    pub errors: Vec<LoadError>,
    pub warnings: Vec<LoadWarning>,
}

/// How to turn Terraform sources into what resilix reads (two lines, for error help).
pub(crate) const PLAN_RECIPE: &str = "resilix reads plans, not .tf sources: make one with\n  \
terraform plan -out plan.out\n  terraform show -json plan.out > plan.json\nand scan plan.json";

/// The files a path names: the file itself, or the `*.json` / `*.json.gz` files below a
/// directory (sorted by name, so every run sees the same order).
pub fn expand_paths(paths: &[PathBuf], skip: &SkipPaths) -> Expanded {
    let mut out = Expanded::default();
    for path in paths {
        if path.as_os_str() == "-" || !path.is_dir() {
            out.files.push(InputFile {
                path: path.clone(),
                found_in: None,
            });
            continue;
        }
        let dir = out.dirs.len();
        let before = out.files.len();
        let mut tf_files = 0usize;
        let root = path.clone();
        let filter_skip = skip.clone();
        let walker = ignore::WalkBuilder::new(path)
            .follow_links(true)
            .hidden(true)
            .parents(true)
            .ignore(true)
            .git_ignore(true)
            .git_exclude(true)
            // A developer's own global ignore file would make CI and laptops see different files.
            .git_global(false)
            // .gitignore is honoured in an exported tree or a tarball too, not only in a clone.
            .require_git(false)
            .sort_by_file_name(|a, b| a.cmp(b))
            .filter_entry(move |entry| {
                entry.depth() == 0
                    || !((entry.file_type().is_some_and(|t| t.is_dir())
                        && entry.file_name() == "node_modules")
                        || filter_skip.matches(entry.path(), &root))
            })
            .build();
        for entry in walker {
            match entry {
                Ok(entry) => {
                    if let Some(error) = entry.error() {
                        out.warnings.push(ignore_file_warning(path, error));
                    }
                    if !entry.file_type().is_some_and(|t| t.is_file()) {
                        continue;
                    }
                    let name = entry.file_name().to_string_lossy();
                    if name.ends_with(".json") || name.ends_with(".json.gz") {
                        out.files.push(InputFile {
                            path: entry.into_path(),
                            found_in: Some(dir),
                        });
                    } else if name.ends_with(".tf") {
                        tf_files += 1;
                    }
                }
                Err(error) if is_loop(&error) => out.warnings.push(LoadWarning {
                    name: error_path(&error).map_or_else(|| display_name(path), display_name),
                    message: "symbolic link loop; the directory is already being scanned, so it was skipped"
                        .to_owned(),
                    help: None,
                }),
                Err(error) => out.errors.push(LoadError::Walk {
                    path: error_path(&error).map_or_else(|| display_name(path), display_name),
                    message: innermost(&error),
                }),
            }
        }
        if out.files.len() == before {
            out.errors.push(if tf_files > 0 {
                LoadError::Unrecognized {
                    name: display_name(path),
                    message: format!(
                        "this directory holds Terraform sources ({tf_files} .tf file(s)) and no plan"
                    ),
                    help: Some(PLAN_RECIPE.to_owned()),
                }
            } else {
                LoadError::Unrecognized {
                    name: display_name(path),
                    message: "no .json or .json.gz files found in this directory".to_owned(),
                    help: Some("hidden directories, node_modules and what .gitignore ignores are not walked; name a file there to scan it".to_owned()),
                }
            });
        }
        out.dirs.push(WalkedDir {
            path: path.clone(),
            tf_files,
        });
    }
    out
}

fn is_loop(error: &ignore::Error) -> bool {
    match error {
        ignore::Error::Loop { .. } => true,
        ignore::Error::WithPath { err, .. }
        | ignore::Error::WithDepth { err, .. }
        | ignore::Error::WithLineNumber { err, .. } => is_loop(err),
        _ => false,
    }
}

fn error_path(error: &ignore::Error) -> Option<&Path> {
    match error {
        ignore::Error::WithPath { path, .. } => Some(path),
        ignore::Error::Loop { child, .. } => Some(child),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        _ => None,
    }
}

/// The message of the innermost error, without the path the error names separately.
fn innermost(error: &ignore::Error) -> String {
    match error {
        ignore::Error::WithPath { err, .. }
        | ignore::Error::WithDepth { err, .. }
        | ignore::Error::WithLineNumber { err, .. } => innermost(err),
        ignore::Error::Io(io) => io.to_string(),
        other => other.to_string(),
    }
}

/// An ignore file that could not be read or parsed: its rules may be only partly applied.
fn ignore_file_warning(dir: &Path, error: &ignore::Error) -> LoadWarning {
    LoadWarning {
        name: error_path(error).map_or_else(|| display_name(dir), display_name),
        message: format!(
            "an ignore file could not be fully read, so its rules may not all apply: {error}"
        ),
        help: None,
    }
}
