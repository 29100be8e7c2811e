//! Evaluation parses only the attributes policies can reach (projections); the results must be
//! exactly those of evaluating whole documents.

use std::path::PathBuf;
use std::sync::Arc;

use resilix::eval::{Projections, evaluate, evaluate_with};
use resilix::input::tags::read_tags;
use resilix::input::{LoadOptions, load_paths};
use resilix::model::ResourceSet;

use crate::util::{builtin_catalog, fixture};

#[test]
fn projected_evaluation_equals_whole_document_evaluation() {
    let catalog = builtin_catalog();
    let paths: Vec<PathBuf> = ["policies", "corpus/terraform-plans", "examples", "emit"]
        .iter()
        .map(|p| fixture(p))
        .collect();
    let options = LoadOptions {
        reference_types: Some(Arc::new(catalog.reference_types())),
        ..LoadOptions::default()
    };
    let loaded = load_paths(&paths, &options);
    let resources = ResourceSet {
        resources: loaded.resources,
    };
    let plans = resources
        .resources
        .iter()
        .filter(|r| {
            r.origin
                .file_name()
                .is_some_and(|n| n.ends_with(".plan.json"))
        })
        .count();
    assert!(
        plans > 300,
        "expected the per-policy plan fixtures, found {plans}"
    );

    let projected = evaluate(catalog, &resilix::config::Config::default(), &resources);
    let whole = evaluate_with(
        catalog,
        &resilix::config::Config::default(),
        &resources,
        &Projections::default(),
    );
    assert!(projected.findings.len() > 200 && projected.passes.len() > 200);
    assert_eq!(projected.passes, whole.passes);
    assert_eq!(projected.evaluated, whole.evaluated);
    assert_eq!(projected.errors, whole.errors);
    assert_eq!(projected.findings.len(), whole.findings.len());
    for (a, b) in projected.findings.iter().zip(&whole.findings) {
        assert_eq!(
            format!("{a:?}"),
            format!("{b:?}"),
            "{} differs when projected",
            resources.resources[a.resource].address
        );
    }
}

/// Triage takes the tags of resources with findings from evaluation when the documents it read
/// hold them: they must be the tags a full read gives.
#[test]
fn tags_read_during_evaluation_equal_a_full_read() {
    let catalog = builtin_catalog();
    let paths: Vec<PathBuf> = ["policies", "diff", "examples", "emit"]
        .iter()
        .map(|p| fixture(p))
        .collect();
    let loaded = load_paths(&paths, &LoadOptions::default());
    let resources = ResourceSet {
        resources: loaded.resources,
    };
    let evaluation = evaluate(catalog, &resilix::config::Config::default(), &resources);
    assert!(
        evaluation.tags.len() > 100,
        "expected tags read during evaluation, found {}",
        evaluation.tags.len()
    );
    let tagged = evaluation
        .tags
        .iter()
        .filter(|(_, tags)| !tags.after.is_empty())
        .count();
    assert!(tagged > 10, "expected resources with tags, found {tagged}");
    for (index, tags) in &evaluation.tags {
        let resource = &resources.resources[*index];
        assert_eq!(*tags, read_tags(resource), "{}", resource.address);
    }
}
