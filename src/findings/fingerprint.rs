//! Which finding is which across runs: fingerprints (baselines match them, SARIF
//! `partialFingerprints` carry them) and the paths they name inputs by.
//!
//! A finding is the policy, the resource's identity and the input it came from:
//! - a Terraform resource: its address (and deposed key) and the plan's path relative to the
//!   repository root, so the same address in `prod/plan.json` and `staging/plan.json` is two
//!   findings, and a checkout elsewhere (another machine, another CI workspace) changes nothing;
//! - an AWS Config item: its account, region, type and resource id, whichever file or pull it
//!   came from (the same item in two snapshots is the same resource).
//!
//! Never the line or the run: moving code does not make a finding new.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::input::normalize_path;
use crate::model::{Resource, ResourceSet, SourceKind};

/// Where inputs are: outputs and fingerprints name files relative to the repository root
/// (`base_dir`); inputs are named relative to the directory the command ran in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Paths {
    pub base_dir: PathBuf,
    pub working_dir: PathBuf,
}

impl Paths {
    /// The path of an input file as a repository-relative URI (forward slashes), never absolute
    /// when the file is inside the base directory.
    pub fn artifact_uri(&self, name: &str) -> String {
        if name == "<stdin>" {
            return "stdin".to_owned();
        }
        let path = Path::new(name);
        let absolute = if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.working_dir.join(path)
        };
        let absolute = normalize_path(&absolute);
        let base = normalize_path(&self.base_dir);
        let relative = absolute
            .strip_prefix(&base)
            .map(Path::to_path_buf)
            .unwrap_or(absolute);
        let text = relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        if relative.is_absolute() {
            format!("file://{}", text.trim_start_matches('/').replace("//", "/"))
                .replacen("file://", "file:///", 1)
        } else {
            text
        }
    }
}

/// The fingerprints of a report's findings: the repository-relative name of each input file
/// is worked out once, not once per finding.
#[derive(Debug, Default)]
pub struct Fingerprints {
    /// Input file names (as users gave them) → repository-relative URIs.
    inputs: HashMap<String, String>,
}

impl Fingerprints {
    pub fn new(resources: &ResourceSet, paths: &Paths) -> Fingerprints {
        let mut inputs = HashMap::new();
        for resource in &resources.resources {
            if resource.source != SourceKind::Terraform {
                continue;
            }
            if let Some(name) = resource.origin.file_name()
                && !inputs.contains_key(name)
            {
                inputs.insert(name.to_owned(), paths.artifact_uri(name));
            }
        }
        Fingerprints { inputs }
    }

    /// The fingerprint of `policy_id`'s result on `resource`: 16 hex digits.
    pub fn of(&self, policy_id: &str, resource: &Resource) -> String {
        let mut hasher = Sha256::new();
        hasher.update(policy_id.as_bytes());
        hasher.update([0]);
        hasher.update(resource.identity().as_bytes());
        if resource.source == SourceKind::Terraform {
            let input = resource
                .origin
                .file_name()
                .and_then(|name| self.inputs.get(name))
                .map_or("", String::as_str);
            hasher.update([0]);
            hasher.update(input.as_bytes());
        }
        let digest = hasher.finalize();
        digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
    }

    /// The repository-relative path of the plan a Terraform resource came from (`None` for
    /// AWS Config data), as baselines record it for people reading them.
    pub fn input(&self, resource: &Resource) -> Option<&str> {
        match resource.source {
            SourceKind::Terraform => resource
                .origin
                .file_name()
                .and_then(|name| self.inputs.get(name))
                .map(String::as_str),
            SourceKind::AwsConfig => None,
        }
    }
}
