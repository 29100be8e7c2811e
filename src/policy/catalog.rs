//! All compiled policies of a run, indexed by input kind and resource type.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use serde_json::Value;

use super::builtin::BUILTIN_POLICIES;
use super::compile::{Tests, compile_policy, compile_tree};
use super::yaml::{self, Node};
use super::{Condition, Policy, PolicyError, PolicyErrors, RelatedCheck};
use crate::model::SourceKind;
use crate::pattern::Pattern;
use crate::source::SourceFile;

/// Index of a policy in [`Catalog::policies`].
pub type PolicyIndex = usize;

/// Where policies come from.
#[derive(Debug, Clone)]
pub struct CatalogOptions {
    /// Include the built-in policies.
    pub builtins: bool,
    /// Directories (or single files) of user policies (`--policies DIR`).
    pub user_paths: Vec<PathBuf>,
    /// Parameter values by policy ID (from the config file).
    pub params: BTreeMap<String, BTreeMap<String, Value>>,
    /// Policy files larger than this are refused (`--max-input-size`).
    pub max_bytes: u64,
    /// Compile the built-in policies' inline `tests:` (`policies test`, `show`, `docs`).
    /// Otherwise they are compiled from the trees `build.rs` parsed, without their tests, and
    /// no YAML is parsed for them. (User policies are always parsed whole.)
    pub tests: bool,
}

impl Default for CatalogOptions {
    fn default() -> Self {
        CatalogOptions {
            builtins: false,
            user_paths: Vec::new(),
            params: BTreeMap::new(),
            max_bytes: crate::input::DEFAULT_MAX_INPUT_BYTES,
            tests: false,
        }
    }
}

/// The compiled policies, sorted by ID.
#[derive(Debug, Default)]
pub struct Catalog {
    pub policies: Vec<Policy>,
    index: HashMap<(SourceKind, String), Vec<PolicyIndex>>,
    /// Targets whose types are patterns (`aws_*`): few, checked for every resource.
    patterns: Vec<(SourceKind, Pattern, PolicyIndex)>,
    by_id: HashMap<String, PolicyIndex>,
}

impl Catalog {
    /// Compiles every policy; all errors of all files are returned together.
    pub fn load(options: &CatalogOptions) -> Result<Catalog, PolicyErrors> {
        // A built-in policy comes with its YAML tree (`build.rs`), read back as it is compiled.
        let mut sources: Vec<(Arc<SourceFile>, bool, &'static [u8])> = Vec::new();
        if options.builtins {
            for (path, text, tree) in BUILTIN_POLICIES {
                let file = SourceFile::from_static(format!("policies/{path}"), text);
                sources.push((file, true, if options.tests { &[] } else { *tree }));
            }
        }
        let mut errors = Vec::new();
        for path in &options.user_paths {
            match user_policy_files(path) {
                Ok(files) => {
                    for file in files {
                        match crate::input::read_source(&file, options.max_bytes) {
                            Ok(source) => sources.push((source, false, &[])),
                            Err(error) => errors.push(PolicyError::unreadable(&error)),
                        }
                    }
                }
                Err(message) => errors.push(file_error(path, &message)),
            }
        }
        let compiled: Vec<Result<Policy, Vec<PolicyError>>> = sources
            .par_iter()
            .map(|(file, builtin, tree)| match embedded_tree(tree) {
                Some(root) => compile_tree(file, &root, *builtin, &options.params, Tests::Skip),
                None => compile_policy(file, *builtin, &options.params),
            })
            .collect();
        let mut policies = Vec::new();
        for result in compiled {
            match result {
                Ok(policy) => policies.push(policy),
                Err(mut e) => errors.append(&mut e),
            }
        }
        policies.sort_by(|a, b| a.id.cmp(&b.id));
        for pair in policies.windows(2) {
            if let [a, b] = pair
                && a.id == b.id
            {
                let mut error = PolicyError::new(
                    &b.origin.file,
                    "duplicate_id",
                    None,
                    format!(
                        "policy id `{}` is also defined in {}",
                        b.id,
                        a.origin.file.name()
                    ),
                );
                error.help("policy ids are unique and never reused; give this policy its own id");
                errors.push(error);
            }
        }
        if !errors.is_empty() {
            return Err(PolicyErrors {
                what: "policy files",
                errors,
            });
        }
        Ok(Catalog::from_policies(policies))
    }

    /// A catalog of already-compiled policies.
    pub fn from_policies(mut policies: Vec<Policy>) -> Catalog {
        policies.sort_by(|a, b| a.id.cmp(&b.id));
        let mut index: HashMap<(SourceKind, String), Vec<PolicyIndex>> = HashMap::new();
        let mut patterns = Vec::new();
        let mut by_id = HashMap::new();
        for (i, policy) in policies.iter().enumerate() {
            by_id.insert(policy.id.clone(), i);
            for target in &policy.targets {
                for type_name in &target.types {
                    let pattern = Pattern::new(type_name);
                    if pattern.is_literal() {
                        index
                            .entry((target.kind, type_name.clone()))
                            .or_default()
                            .push(i);
                    } else {
                        patterns.push((target.kind, pattern, i));
                    }
                }
            }
        }
        Catalog {
            policies,
            index,
            patterns,
            by_id,
        }
    }

    /// Keeps only the policies for which `keep` holds.
    pub fn retain(self, keep: impl Fn(&Policy) -> bool) -> Catalog {
        let policies = self.policies.into_iter().filter(|p| keep(p)).collect();
        Catalog::from_policies(policies)
    }

    /// Policies that target resources of this kind and type, in catalog order.
    pub fn for_type(&self, kind: SourceKind, type_name: &str) -> Cow<'_, [PolicyIndex]> {
        // The key is owned; a lookup by borrowed parts would need a custom Borrow impl.
        let exact = self
            .index
            .get(&(kind, type_name.to_owned()))
            .map_or(&[][..], Vec::as_slice);
        let mut matched = self
            .patterns
            .iter()
            .filter(|(k, p, _)| *k == kind && p.matches(type_name))
            .map(|(_, _, i)| *i)
            .peekable();
        if matched.peek().is_none() {
            return Cow::Borrowed(exact);
        }
        let mut all: Vec<PolicyIndex> = exact.iter().copied().chain(matched).collect();
        all.sort_unstable();
        all.dedup();
        Cow::Owned(all)
    }

    pub fn get(&self, index: PolicyIndex) -> Option<&Policy> {
        self.policies.get(index)
    }

    pub fn by_id(&self, id: &str) -> Option<(PolicyIndex, &Policy)> {
        let index = *self.by_id.get(id)?;
        Some((index, self.policies.get(index)?))
    }

    pub fn len(&self) -> usize {
        self.policies.len()
    }

    pub fn is_empty(&self) -> bool {
        self.policies.is_empty()
    }

    /// Every related check, with the input kind of its target.
    pub fn related_checks(&self) -> Vec<(SourceKind, &RelatedCheck)> {
        let mut out = Vec::new();
        for policy in &self.policies {
            for target in &policy.targets {
                let conditions = target.conditions();
                for condition in conditions {
                    for related in condition.related_checks() {
                        out.push((target.kind, related));
                    }
                }
            }
        }
        out
    }

    /// AWS Config resource types the policies look at: the types they target and the types
    /// their related checks follow (what `resilix audit` pulls).
    pub fn config_types(&self) -> BTreeSet<String> {
        let targets = self
            .policies
            .iter()
            .flat_map(|p| &p.targets)
            .filter(|t| t.kind == SourceKind::AwsConfig)
            .flat_map(|t| t.types.iter().cloned())
            // A pattern (`*`: every change of a history) names no type to pull.
            .filter(|t| Pattern::new(t).is_literal());
        let related = self
            .related_checks()
            .into_iter()
            .filter(|(kind, _)| *kind == SourceKind::AwsConfig)
            .flat_map(|(_, r)| r.types.iter().cloned());
        targets.chain(related).collect()
    }

    /// Terraform resource types whose `configuration` references some policy follows: the
    /// related types of incoming relations (their references point at the subject), and the
    /// subject types of outgoing ones (the subject's references point at them), and the types
    /// an existence test judges (a setting configured by a reference exists, and the evidence
    /// names what it references).
    pub fn reference_types(&self) -> BTreeSet<String> {
        let mut types = BTreeSet::new();
        for policy in &self.policies {
            for target in policy
                .targets
                .iter()
                .filter(|t| t.kind == SourceKind::Terraform)
            {
                if [Some(&target.assert), target.when.as_ref()]
                    .into_iter()
                    .flatten()
                    .any(Condition::tests_existence)
                {
                    types.extend(target.types.iter().cloned());
                }
                let conditions = target.conditions();
                for related in conditions.flat_map(|c| c.related_checks()) {
                    types.extend(related.types.iter().cloned());
                    if related.from.is_some() {
                        types.extend(target.types.iter().cloned());
                    }
                }
            }
        }
        types
    }
}

/// A built-in policy's tree as `build.rs` parsed it; `None` when there is none (its text did
/// not parse, or its tests are wanted) or, were it ever, when it does not read back: the text
/// is then parsed.
fn embedded_tree(bytes: &[u8]) -> Option<Node> {
    if bytes.is_empty() {
        return None;
    }
    yaml::decode(bytes).ok()
}

fn file_error(path: &Path, message: &str) -> PolicyError {
    PolicyError::new(
        &SourceFile::new(path.display().to_string(), ""),
        "io",
        None,
        message.to_owned(),
    )
}

/// The `*.yaml` / `*.yml` files of a user policy path, sorted.
/// A path that is not a directory is read as one policy file (a pipe or a device too, under the
/// size bound; the reader says what is wrong with it).
fn user_policy_files(path: &Path) -> Result<Vec<PathBuf>, String> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(path)
        .follow_links(true)
        .sort_by_file_name()
    {
        let entry = entry.map_err(|e| e.to_string())?;
        let name = entry.file_name().to_string_lossy();
        if entry.file_type().is_file() && (name.ends_with(".yaml") || name.ends_with(".yml")) {
            files.push(entry.into_path());
        }
    }
    if files.is_empty() {
        return Err("no .yaml policy files in this directory".to_owned());
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builtins(tests: bool) -> Catalog {
        Catalog::load(&CatalogOptions {
            builtins: true,
            tests,
            ..CatalogOptions::default()
        })
        .unwrap_or_else(|e| panic!("built-in policies do not compile: {:?}", e.errors))
    }

    #[test]
    fn every_builtin_policy_has_an_embedded_tree() {
        for (path, _, tree) in BUILTIN_POLICIES {
            assert!(embedded_tree(tree).is_some(), "{path}");
        }
    }

    /// The trees `build.rs` embeds compile to exactly the policies their YAML compiles to, but
    /// for the inline tests, which only `policies test`, `show` and `docs` read.
    #[test]
    fn embedded_trees_compile_as_their_yaml_does() {
        let embedded = builtins(false);
        let parsed = builtins(true);
        assert_eq!(embedded.len(), BUILTIN_POLICIES.len());
        assert_eq!(embedded.len(), parsed.len());
        assert!(embedded.policies.iter().all(|p| p.tests.is_empty()));
        assert!(
            parsed
                .policies
                .iter()
                .filter(|p| !p.tests.is_empty())
                .count()
                > 100
        );
        for (from_tree, from_yaml) in embedded.policies.iter().zip(&parsed.policies) {
            let mut from_yaml = from_yaml.clone();
            from_yaml.tests.clear();
            assert_eq!(format!("{from_tree:?}"), format!("{from_yaml:?}"));
        }
    }
}
