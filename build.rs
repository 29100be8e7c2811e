//! Embeds the built-in policies (`policies/**/*.yaml`) into the binary: their text, and their
//! YAML trees parsed here once, so that a run compiles the catalog without parsing YAML.
//!
//! The trees are read with the crate's own reader (`src/policy/yaml.rs`, included below) and
//! written whole, so the compiler sees exactly what it would have parsed, spans included, and a
//! new key in the policy format needs nothing here. Each tree's `tests:` value is left out (a
//! null in its place): inline tests are compiled only by the commands that show or run them,
//! from the text. A file that does not parse has no tree; the run parses its text and reports
//! the error as for any policy file.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::{env, fs};

// The crate's reader: its `pub` is for the crate's modules; here the build script uses a part.
#[allow(dead_code, unreachable_pub)]
#[path = "src/policy/yaml.rs"]
mod yaml;

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml") {
            out.push(path);
        }
    }
}

/// The tree of a policy file without its inline tests, or `None` when it is not valid YAML.
fn tree(text: &str) -> Option<yaml::Node> {
    let mut root = yaml::parse(text).ok()?;
    if let yaml::NodeValue::Map(entries) = &mut root.value {
        for (key, value) in entries {
            if key.name == "tests" {
                value.value = yaml::NodeValue::Null;
            }
        }
    }
    Some(root)
}

fn fail(message: String) -> ! {
    println!("cargo:warning={message}");
    std::process::exit(1);
}

fn main() {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap_or_default()).join("policies");
    println!("cargo:rerun-if-changed={}", root.display());
    println!("cargo:rerun-if-changed=src/policy/yaml.rs");
    let mut files = Vec::new();
    collect(&root, &mut files);
    let out_dir = PathBuf::from(env::var("OUT_DIR").unwrap_or_default());
    let mut code = String::from(
        "/// Built-in policies: (path relative to `policies/`, YAML text, YAML tree without `tests:`\n\
         /// as `yaml::encode` wrote it, empty when the text does not parse).\n\
         pub(crate) static BUILTIN_POLICIES: &[(&str, &str, &[u8])] = &[\n",
    );
    for file in &files {
        let relative = file
            .strip_prefix(&root)
            .unwrap_or(file)
            .to_string_lossy()
            .replace('\\', "/");
        let text = fs::read_to_string(file)
            .unwrap_or_else(|e| fail(format!("could not read {}: {e}", file.display())));
        let encoded = match tree(&text) {
            Some(tree) => yaml::encode(&tree)
                .unwrap_or_else(|e| fail(format!("encoding {}: {e}", file.display()))),
            None => Vec::new(),
        };
        let blob = out_dir.join("trees").join(format!("{relative}.postcard"));
        if let Some(dir) = blob.parent()
            && let Err(error) = fs::create_dir_all(dir)
        {
            fail(format!("could not create {}: {error}", dir.display()));
        }
        if let Err(error) = fs::write(&blob, encoded) {
            fail(format!("could not write {}: {error}", blob.display()));
        }
        let _ = writeln!(
            code,
            "    ({relative:?}, include_str!({:?}), include_bytes!({:?})),",
            file.display().to_string(),
            blob.display().to_string()
        );
    }
    code.push_str("];\n");
    let out = out_dir.join("builtin_policies.rs");
    if let Err(error) = fs::write(&out, code) {
        fail(format!("could not write {}: {error}", out.display()));
    }
}
