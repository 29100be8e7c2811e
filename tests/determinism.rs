//! Output is byte-identical whatever the thread count, and from run to run.

use std::process::Command;

use insta_cmd::get_cargo_bin;

use crate::util::root;

fn run(threads: &str, format: &str) -> Vec<u8> {
    let output = Command::new(get_cargo_bin("resilix"))
        .current_dir(root())
        .env("RAYON_NUM_THREADS", threads)
        .args([
            "scan",
            "fixtures/policies",
            "fixtures/corpus",
            "fixtures/emit",
            "--format",
            format,
            "-q",
        ])
        .output()
        .unwrap();
    assert!(!output.stdout.is_empty());
    output.stdout
}

#[test]
fn output_is_identical_with_1_and_8_threads() {
    for format in ["sarif", "json", "text", "github", "markdown", "junit"] {
        let one = run("1", format);
        let eight = run("8", format);
        assert!(
            one == eight,
            "{format} output differs between 1 and 8 threads"
        );
        assert!(
            run("8", format) == eight,
            "{format} output differs between two runs"
        );
    }
}
