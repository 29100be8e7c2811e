//! Terraform configuration sources (`.tf` files): where each resource is declared.
//!
//! A plan carries no file names or lines. To put a finding on the `resource "TYPE" "NAME"` block
//! that declares its resource, the `.tf` files of the root module are parsed with hcl-edit (a
//! real HCL parser that keeps spans), then those of every module whose `source` is a local path
//! (`./modules/net`, relative to the calling module), following the plan's
//! `configuration.module_calls`. Every `count`/`for_each` instance points at its block. A
//! resource inside a module whose sources are not local (registry, Git) points at the `module`
//! block that calls it, the closest line in the repository; a resource whose block is not found
//! keeps its place in the plan.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hcl_edit::Span;
use hcl_edit::parser::parse_body;
use rayon::prelude::*;

use super::ignores;
use super::terraform_config::ModuleTree;
use super::{LoadWarning, normalize_path as normalize, read_source};
use crate::model::Declaration;
use crate::source::SourceFile;

/// Where to look for the `.tf` sources of the plans being loaded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum TerraformSources {
    /// Do not look.
    Off,
    /// The current directory when it holds `.tf` files, else the plan file's directory when it
    /// does.
    #[default]
    Auto,
    /// The root module is in this directory (`--tf-root`).
    Root(PathBuf),
}

/// Modules nest no deeper than this (Terraform has no limit; real configurations stay far below).
const MAX_MODULE_DEPTH: usize = 32;

/// Declarations by configuration-level address: `aws_s3_bucket.logs`,
/// `module.net.aws_vpc.main`, `module.net.data.aws_iam_policy_document.x`, and the `module`
/// blocks themselves (`module.net`).
#[derive(Debug, Default)]
pub(crate) struct SourceIndex {
    declarations: HashMap<String, Declaration>,
}

impl SourceIndex {
    /// The declaration of a resource (by configuration address, without instance keys): its own
    /// block, else the innermost `module` block found on its module path.
    pub(crate) fn declaration(&self, config_address: &str) -> Option<&Declaration> {
        if let Some(found) = self.declarations.get(config_address) {
            return Some(found);
        }
        // `module.a.module.b.aws_x.y` → try `module.a.module.b`, then `module.a`.
        let mut ends: Vec<usize> = Vec::new();
        let mut rest = config_address;
        let mut consumed = 0;
        while let Some(after) = rest.strip_prefix("module.") {
            let name_len = after.find('.').unwrap_or(after.len());
            consumed += "module.".len() + name_len;
            ends.push(consumed);
            let skip = "module.".len() + name_len + 1;
            rest = rest.get(skip..).unwrap_or("");
            consumed += 1;
        }
        ends.iter()
            .rev()
            .filter_map(|&end| config_address.get(..end))
            .find_map(|module| self.declarations.get(module))
    }
}

/// The root module directory for a plan named `plan_name`, or `None` when nothing is to be
/// looked up. An explicit root that holds no `.tf` file is reported.
pub(crate) fn root_for(
    sources: &TerraformSources,
    plan_name: &str,
    warnings: &mut Vec<LoadWarning>,
) -> Option<PathBuf> {
    match sources {
        TerraformSources::Off => None,
        TerraformSources::Root(dir) => {
            if has_tf_files(dir) {
                Some(dir.clone())
            } else {
                warnings.push(LoadWarning {
                    name: dir.display().to_string(),
                    message:
                        "--tf-root: no .tf files in this directory; findings point at the plan"
                            .to_owned(),
                    help: Some(
                        "give the directory of the root module (where `terraform plan` ran)"
                            .to_owned(),
                    ),
                });
                None
            }
        }
        TerraformSources::Auto => {
            if has_tf_files(Path::new(".")) {
                return Some(PathBuf::new());
            }
            if plan_name == "<stdin>" {
                return None;
            }
            Path::new(plan_name)
                .parent()
                .filter(|dir| !dir.as_os_str().is_empty() && has_tf_files(dir))
                .map(Path::to_path_buf)
        }
    }
}

fn has_tf_files(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries
            .filter_map(Result::ok)
            .any(|e| is_tf_file(&e.path()) && e.path().is_file())
    })
}

fn is_tf_file(path: &Path) -> bool {
    path.extension().is_some_and(|ext| ext == "tf")
}

/// Parses the `.tf` files of the root module in `root` and of every local module `tree` calls.
pub(crate) fn index_sources(
    root: &Path,
    tree: &ModuleTree,
    max_bytes: u64,
) -> (SourceIndex, Vec<LoadWarning>) {
    let mut indexer = Indexer {
        max_bytes,
        parsed: HashMap::new(),
        index: SourceIndex::default(),
        warnings: Vec::new(),
    };
    indexer.module(&normalize(root), "", tree, 0);
    (indexer.index, indexer.warnings)
}

/// Declarations of one module directory, by module-relative address.
type ModuleDeclarations = Arc<BTreeMap<String, Declaration>>;

struct Indexer {
    max_bytes: u64,
    /// A module directory called more than once is parsed once.
    parsed: HashMap<PathBuf, ModuleDeclarations>,
    index: SourceIndex,
    warnings: Vec<LoadWarning>,
}

impl Indexer {
    fn module(&mut self, dir: &Path, prefix: &str, tree: &ModuleTree, depth: usize) {
        if depth > MAX_MODULE_DEPTH {
            return;
        }
        let declarations = self.directory(dir);
        for (local, declaration) in declarations.iter() {
            self.index
                .declarations
                .entry(format!("{prefix}{local}"))
                .or_insert_with(|| declaration.clone());
        }
        for (name, call) in &tree.calls {
            let Some(source) = call.source.as_deref().filter(|s| is_local(s)) else {
                continue;
            };
            let child = normalize(&dir.join(source));
            let child_prefix = format!("{prefix}module.{name}.");
            if !has_tf_files(&child) {
                self.warnings.push(LoadWarning {
                    name: child.display().to_string(),
                    message: format!(
                        "{prefix}module.{name}: no .tf files at its source {source:?}; its findings point at the module block"
                    ),
                    help: Some("check --tf-root: it must be the directory of the root module".to_owned()),
                });
                continue;
            }
            self.module(&child, &child_prefix, &call.module, depth + 1);
        }
    }

    /// The `resource`, `data` and `module` blocks of the `.tf` files in `dir`.
    fn directory(&mut self, dir: &Path) -> ModuleDeclarations {
        if let Some(done) = self.parsed.get(dir) {
            return Arc::clone(done);
        }
        let mut files: Vec<PathBuf> = std::fs::read_dir(if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        })
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| is_tf_file(p) && p.is_file())
                .collect()
        })
        .unwrap_or_default();
        // Override files (`override.tf`, `*_override.tf`) merge into blocks declared elsewhere:
        // read them last, so the declaring file wins.
        files.sort_by_key(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
            let is_override = name
                .as_deref()
                .is_some_and(|n| n == "override.tf" || n.ends_with("_override.tf"));
            (is_override, name)
        });
        // Files are parsed in parallel, then merged in the order above.
        let parsed: Vec<Result<Vec<(String, Declaration)>, LoadWarning>> = files
            .par_iter()
            .map(|path| {
                let path = normalize(&dir.join(path.file_name().unwrap_or_default()));
                let file = read_source(&path, self.max_bytes).map_err(|error| LoadWarning {
                    name: path.display().to_string(),
                    message: format!("cannot read this Terraform file ({error}); findings for resources declared here point at the plan"),
                    help: None,
                })?;
                declarations_in(&file)
            })
            .collect();
        let mut declarations = BTreeMap::new();
        for result in parsed {
            match result {
                Ok(found) => {
                    for (key, declaration) in found {
                        declarations.entry(key).or_insert(declaration);
                    }
                }
                Err(warning) => self.warnings.push(warning),
            }
        }
        let declarations = Arc::new(declarations);
        self.parsed
            .insert(dir.to_path_buf(), Arc::clone(&declarations));
        declarations
    }
}

/// The `resource`, `data` and `module` blocks of one `.tf` file, by module-relative address,
/// in file order; a file that does not parse is a warning naming its line.
fn declarations_in(file: &Arc<SourceFile>) -> Result<Vec<(String, Declaration)>, LoadWarning> {
    let body = parse_body(file.text()).map_err(|error| {
        let at = error.location();
        LoadWarning {
            name: format!("{}:{}:{}", file.name(), at.line(), at.column()),
            message: format!(
                "cannot parse this Terraform file ({}); findings for resources declared in it point at the plan",
                error.message()
            ),
            help: None,
        }
    })?;
    let name: Arc<str> = Arc::from(file.name());
    // Lines are split only in the files that hold an inline ignore at all.
    let lines: Option<Vec<&str>> = memchr::memmem::find(file.text().as_bytes(), b"resilix:ignore")
        .map(|_| file.text().lines().collect());
    let mut out = Vec::new();
    for block in body.blocks() {
        let labels: Vec<&str> = block.labels.iter().map(|l| l.as_str()).collect();
        let key = match (block.ident.as_str(), labels.as_slice()) {
            ("resource", [type_name, name]) => format!("{type_name}.{name}"),
            ("data", [type_name, name]) => format!("data.{type_name}.{name}"),
            ("module", [name]) => format!("module.{name}"),
            _ => continue,
        };
        let Some(span) = block.ident.span().or_else(|| block.span()) else {
            continue;
        };
        let at = file.line_col(span.start);
        let ignores = lines.as_deref().and_then(|lines| {
            // The header line after the labels, and the line of the closing brace.
            let labels_end = block
                .labels
                .last()
                .and_then(|l| l.span())
                .map_or(span.end, |s| s.end);
            let line_end = file.text().get(labels_end..).map_or(labels_end, |rest| {
                labels_end + rest.find('\n').unwrap_or(rest.len())
            });
            let tail = file.text().get(labels_end..line_end).unwrap_or("");
            let end = block
                .span()
                .map_or(at.line, |s| file.line_col(s.end.saturating_sub(1)).line);
            let found = ignores::of_block(&name, lines, at.line - 1, end - 1, tail);
            (!found.is_empty()).then(|| Arc::from(found))
        });
        out.push((
            key,
            Declaration {
                file: Arc::clone(&name),
                line: at.line,
                column: at.column,
                ignores,
            },
        ));
    }
    Ok(out)
}

/// Terraform treats a source as a local path only when it starts with `./` or `../`.
fn is_local(source: &str) -> bool {
    source.starts_with("./")
        || source.starts_with("../")
        || source.starts_with(".\\")
        || source.starts_with("..\\")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn declaration(file: &str, line: usize) -> Declaration {
        Declaration {
            file: Arc::from(file),
            line,
            column: 1,
            ignores: None,
        }
    }

    #[test]
    fn resources_inside_modules_fall_back_to_the_innermost_module_block() {
        let mut index = SourceIndex::default();
        index
            .declarations
            .insert("aws_vpc.main".into(), declaration("main.tf", 1));
        index
            .declarations
            .insert("module.vpc".into(), declaration("main.tf", 9));
        index
            .declarations
            .insert("module.vpc.module.subnets".into(), declaration("vpc.tf", 3));
        assert_eq!(index.declaration("aws_vpc.main").map(|d| d.line), Some(1));
        assert_eq!(
            index
                .declaration("module.vpc.module.subnets.aws_subnet.a")
                .map(|d| d.line),
            Some(3)
        );
        assert_eq!(
            index.declaration("module.vpc.aws_vpc.this").map(|d| d.line),
            Some(9)
        );
        assert_eq!(index.declaration("aws_s3_bucket.missing"), None);
        assert_eq!(index.declaration("module.other.aws_s3_bucket.b"), None);
    }

    #[test]
    fn blocks_are_found_by_a_real_parser() {
        let text = "# resource \"aws_s3_bucket\" \"commented\" {}\nlocals {\n  x = \"resource \\\"aws_s3_bucket\\\" \\\"in_string\\\" {\"\n}\n\n  resource \"aws_s3_bucket\" \"logs\" {\n  bucket = \"logs\"\n}\ndata aws_iam_policy_document \"p\" {}\nmodule \"net\" {\n  source = \"./net\"\n}\n";
        let file = SourceFile::new("infra/main.tf", text);
        let out = declarations_in(&file).unwrap_or_default();
        let found: Vec<(&str, usize, usize)> = out
            .iter()
            .map(|(k, d)| (k.as_str(), d.line, d.column))
            .collect();
        assert_eq!(
            found,
            vec![
                ("aws_s3_bucket.logs", 6, 3),
                ("data.aws_iam_policy_document.p", 9, 1),
                ("module.net", 10, 1),
            ]
        );
    }

    #[test]
    fn a_file_that_does_not_parse_is_a_warning_with_its_line() {
        let file = SourceFile::new("bad.tf", "resource \"a\" \"b\" {\n  x = \n}\n");
        let warning = declarations_in(&file).err();
        assert_eq!(
            warning.map(|w| w.name),
            Some("bad.tf:2:7".to_owned()),
            "the file and where it stops parsing"
        );
    }

    #[test]
    fn local_sources_and_normalized_paths() {
        assert!(is_local("./modules/net"));
        assert!(is_local("../shared"));
        assert!(!is_local("terraform-aws-modules/vpc/aws"));
        assert!(!is_local("git::https://example.com/m.git"));
        assert_eq!(
            normalize(Path::new("infra/./modules/../modules/net")),
            PathBuf::from("infra/modules/net")
        );
        assert_eq!(normalize(Path::new("../x/./y")), PathBuf::from("../x/y"));
        assert_eq!(normalize(Path::new("/../x")), PathBuf::from("/x"));
    }
}
