//! Runs the inline `tests:` of policies (`resilix policies test`, and our own test suite).

use rayon::prelude::*;

use crate::config::Config;
use crate::eval::{RelationIndex, Verdict, check_one};
use crate::input::{LoadOptions, load_text, testdoc};
use crate::model::{Resource, ResourceSet, SourceKind};
use crate::policy::{Catalog, Policy, TestCase};

/// The outcome of one test case.
#[derive(Debug, Clone)]
pub struct CaseResult {
    pub policy: String,
    pub case: String,
    /// `file:line` of the case in its policy file.
    pub location: String,
    /// Empty when the case passed.
    pub failures: Vec<String>,
}

impl CaseResult {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Runs every test case of every policy in the catalog, in catalog order.
pub fn run_policy_tests(catalog: &Catalog) -> Vec<CaseResult> {
    catalog
        .policies
        .par_iter()
        .flat_map_iter(|policy| policy.tests.iter().map(move |case| run_case(policy, case)))
        .collect()
}

fn run_case(policy: &Policy, case: &TestCase) -> CaseResult {
    let at = policy.origin.file.line_col(case.span.start);
    let mut result = CaseResult {
        policy: policy.id.clone(),
        case: case.name.clone(),
        location: format!("{}:{}", policy.origin.file.name(), at.line),
        failures: Vec::new(),
    };
    let text = match case.kind {
        SourceKind::Terraform => testdoc::terraform_plan(&case.input),
        SourceKind::AwsConfig => {
            testdoc::aws_config_items(&case.input, case.changes_since.as_deref())
        }
    };
    let loaded = text.and_then(|text| {
        load_text(
            &format!("{} (test {:?})", policy.id, case.name),
            &text,
            &LoadOptions::default(),
        )
        .map_err(|e| e.to_string())
    });
    let resources = match loaded {
        Ok(loaded) => ResourceSet {
            resources: loaded.resources,
        },
        Err(message) => {
            result
                .failures
                .push(format!("the test input could not be loaded: {message}"));
            return result;
        }
    };
    let catalog = Catalog::from_policies(vec![policy.clone()]);
    let relations = RelationIndex::build(&catalog, &resources.resources);
    for (key, expected) in &case.expect {
        let matching: Vec<usize> = resources
            .resources
            .iter()
            .enumerate()
            .filter(|(_, r)| matches_key(r, key))
            .map(|(i, _)| i)
            .collect();
        if matching.is_empty() {
            result
                .failures
                .push(format!("no resource `{key}` in the test input"));
            continue;
        }
        for index in matching {
            let actual = match check_one(
                policy,
                &Config::default(),
                &resources.resources,
                &relations,
                index,
            ) {
                None => "skip".to_owned(),
                Some(Err(message)) => format!("error ({message})"),
                Some(Ok(outcome)) => match outcome.verdict {
                    Verdict::Pass => "pass".to_owned(),
                    Verdict::Fail => "fail".to_owned(),
                    Verdict::Undecided => "review".to_owned(),
                    Verdict::Error => {
                        let notes: Vec<String> = outcome
                            .evidence
                            .iter()
                            .filter_map(|e| e.note.clone())
                            .collect();
                        if notes.is_empty() {
                            "error".to_owned()
                        } else {
                            format!("error ({})", notes.join("; "))
                        }
                    }
                },
            };
            let status = actual.split(' ').next().unwrap_or_default();
            if status != expected {
                result
                    .failures
                    .push(format!("`{key}`: expected {expected}, got {actual}"));
            }
        }
    }
    result
}

fn matches_key(resource: &Resource, key: &str) -> bool {
    resource.address == key
        || resource.resource_id.as_deref() == Some(key)
        || resource.resource_name.as_deref() == Some(key)
        || resource.arn.as_deref() == Some(key)
}
