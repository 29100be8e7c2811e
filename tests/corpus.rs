//! Every real plan and AWS Config file of the corpus (fixtures/corpus, see its SOURCES.md) loads
//! without error.

use std::fmt::Write as _;

use resilix::input::{LoadOptions, load_source, read_source};

use crate::util::{fixture, relative};

#[test]
fn every_corpus_file_loads_without_error() {
    let mut files: Vec<_> = walkdir::WalkDir::new(fixture("corpus"))
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .map(|e| e.into_path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 53, "the corpus has 53 files");
    let mut summary = String::new();
    for path in &files {
        let file =
            read_source(path, u64::MAX).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let loaded = load_source(&file, &LoadOptions::default())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let types: std::collections::BTreeSet<&str> = loaded
            .resources
            .iter()
            .map(|r| r.type_name.as_ref())
            .collect();
        // Every resource's values parse.
        for resource in &loaded.resources {
            resource
                .documents()
                .unwrap_or_else(|e| panic!("{} {}: {e}", path.display(), resource.address));
        }
        writeln!(
            summary,
            "{}: {} resource(s), {} type(s), {} warning(s)",
            relative(path).trim_start_matches("fixtures/corpus/"),
            loaded.resources.len(),
            types.len(),
            loaded.warnings.len()
        )
        .unwrap();
    }
    insta::assert_snapshot!("corpus_load_summary", summary);
}
