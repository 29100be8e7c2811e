//! The README as a contract: every YAML and shell example in it is run.
//!
//! - `yaml` blocks: the configuration example is used as `resilix.yaml` for a scan, on today's
//!   date (an example whose waiver has expired fails here); the policy example is compiled and
//!   its inline tests run; the workflow example's `uses: resilix/resilix` step may only pass
//!   inputs action.yml has (and .ci/run lints the whole workflow with actionlint).
//! - `sh` blocks: each runs as one bash script in a sandbox (a copy of the fixture repository as
//!   `infra/`, the example plan as `plan.json`, AWS Config snapshots where the examples name
//!   them), with stand-ins for `terraform` and `cargo` and the resilix under test on PATH. Each
//!   command must exit 0 or 1 (findings); `resilix audit` lines run against an endpoint on
//!   loopback that refuses connections (with `--max-attempts 1`), so they must get as far as the
//!   network and fail there (exit 2), never on their command line. Lines not run, by name ([`NOT_RUN`]): `.ci/run`
//!   (this suite itself), `python3 benches/run.py` (benchmarks, minutes long) and `docker`
//!   (no Docker engine here; the Dockerfile's structure is checked in tests/action.rs).

use std::process::Command;

use crate::util::{copy_tree, fixture, root};

/// Fenced blocks of a language, with the line each starts on.
fn blocks(language: &str) -> Vec<(usize, String)> {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (n, line) in readme.lines().enumerate() {
        match &mut current {
            None if line.trim_start() == format!("```{language}") => {
                current = Some((n + 2, String::new()));
            }
            Some(_) if line.trim_start() == "```" => out.extend(current.take()),
            Some((_, text)) => {
                text.push_str(line);
                text.push('\n');
            }
            None => {}
        }
    }
    assert!(current.is_none(), "an unclosed ```{language} block");
    out
}

fn resilix_bin() -> std::path::PathBuf {
    insta_cmd::get_cargo_bin("resilix")
}

#[test]
fn readme_configuration_example_is_valid_today() {
    let configs: Vec<(usize, String)> = blocks("yaml")
        .into_iter()
        .filter(|(_, b)| b.contains("waivers:"))
        .collect();
    assert_eq!(configs.len(), 1, "one resilix.yaml example");
    let (line, config) = &configs[0];
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("resilix.yaml"), config).unwrap();
    let output = Command::new(resilix_bin())
        .current_dir(dir.path())
        .env_remove("RESILIX_TODAY")
        .env_remove("RESILIX_CONFIG")
        .env("NO_COLOR", "1")
        .args(["scan", "-f", "json"])
        .arg(root().join("fixtures/examples/plan.json"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "README.md:{line}: the configuration example does not work:\n{stderr}"
    );
    assert!(
        !stderr.contains("expired") && !stderr.contains("warning"),
        "README.md:{line}: the example warns (an expired waiver or approval?):\n{stderr}"
    );
}

#[test]
fn readme_policy_example_compiles_and_its_tests_pass() {
    let policies: Vec<(usize, String)> = blocks("yaml")
        .into_iter()
        .filter(|(_, b)| b.starts_with("id: "))
        .collect();
    assert_eq!(policies.len(), 1);
    let (line, policy) = &policies[0];
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("example.yaml"), policy).unwrap();
    let output = Command::new(resilix_bin())
        .env("NO_COLOR", "1")
        .args(["policies", "test", "--no-builtin-policies"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "README.md:{line}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn readme_workflow_example_uses_only_the_actions_inputs() {
    let workflows: Vec<(usize, String)> = blocks("yaml")
        .into_iter()
        .filter(|(_, b)| b.contains("jobs:"))
        .collect();
    assert_eq!(workflows.len(), 1);
    let (line, workflow) = &workflows[0];
    let workflow: serde_json::Value = serde_saphyr::from_str(workflow).unwrap();
    let action: serde_json::Value =
        serde_saphyr::from_str(&std::fs::read_to_string(root().join("action.yml")).unwrap())
            .unwrap();
    let steps = workflow["jobs"]["plan"]["steps"].as_array().unwrap();
    let step = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("resilix/resilix@"))
        })
        .unwrap_or_else(|| panic!("README.md:{line}: no resilix/resilix step"));
    let uses = step["uses"].as_str().unwrap();
    assert!(
        uses.split_once('@').unwrap().1.starts_with('v'),
        "README.md:{line}: the example pins a release tag ({uses})"
    );
    for (input, _) in step["with"].as_object().unwrap() {
        assert!(
            action["inputs"].get(input).is_some(),
            "README.md:{line}: `{input}` is not an input of action.yml"
        );
    }
    assert!(step["with"].get("paths").is_some(), "the required input");
}

/// The sandbox the shell examples run in.
fn sandbox() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let copy = copy_tree;
    let d = dir.path();
    // The repository's files the examples name (`fixtures/examples/plan.json`), as after a clone.
    copy(&fixture("examples"), &d.join("fixtures/examples"));
    copy(&fixture("user-policies"), &d.join("fixtures/user-policies"));
    // A Terraform root with its sources (`infra/`), and one at the top.
    copy(&fixture("repos/network"), &d.join("infra"));
    std::fs::copy(
        d.join("infra/plan.json"),
        d.join("infra/.terraform-plan.json"),
    )
    .unwrap();
    std::fs::create_dir_all(d.join(".git")).unwrap();
    std::fs::copy(fixture("examples/plan.json"), d.join("plan.json")).unwrap();
    copy(&fixture("diff"), &d.join("snapshots"));
    copy(&fixture("diff"), &d.join("config-snapshots"));
    std::fs::copy(
        fixture("diff/2026-11-20.json"),
        d.join("audit-2026-11-01.json"),
    )
    .unwrap();
    // Stand-ins: `terraform plan -out F` writes F, `terraform show -json F` prints the plan of
    // the directory it runs in (or the example plan); `cargo install` installs nothing (the
    // resilix under test is already on PATH).
    let bin = d.join(".bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::write(
        bin.join("terraform"),
        format!(
            "#!/usr/bin/env bash\ncase \"$1\" in\n  plan) for a in \"$@\"; do case \"$a\" in -out=*) : > \"${{a#-out=}}\";; esac; done; if [ \"$2\" = -out ]; then : > \"$3\"; fi ;;\n  show) if [ -f .terraform-plan.json ]; then cat .terraform-plan.json; else cat {}; fi ;;\n  *) ;;\nesac\n",
            fixture("examples/plan.json").display()
        ),
    )
    .unwrap();
    std::fs::write(bin.join("cargo"), "#!/usr/bin/env bash\nexit 0\n").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(resilix_bin(), bin.join("resilix")).unwrap();
    #[cfg(unix)]
    for name in ["terraform", "cargo"] {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(bin.join(name), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    dir
}

/// Lines of the README's shell examples that are not run, and why.
const NOT_RUN: [(&str, &str); 3] = [
    (".ci/run", "the test suite itself"),
    ("python3 benches/run.py", "benchmarks take minutes"),
    ("docker ", "no Docker engine on this machine"),
];

#[test]
fn readme_shell_examples_run() {
    let sandbox = sandbox();
    let d = sandbox.path();
    let mut ran = 0;
    for (line, block) in blocks("sh") {
        let mut script = String::from("cd \"$SANDBOX\"\n");
        for (offset, command) in block.lines().enumerate() {
            let command = command.trim();
            if command.is_empty() || command.starts_with('#') {
                continue;
            }
            if NOT_RUN
                .iter()
                .any(|(prefix, _)| command.starts_with(prefix))
            {
                continue;
            }
            let at = line + offset;
            // `resilix audit` reaches for AWS: here an endpoint that refuses connections, tried
            // once (the SDK's retries of a refused connection would take minutes).
            let (command, expect) = match command.split_once('#') {
                _ if !command.starts_with("resilix audit") => (command.to_owned(), "0|1"),
                Some((args, _)) => (format!("{} --max-attempts 1", args.trim()), "2"),
                None => (format!("{command} --max-attempts 1"), "2"),
            };
            script.push_str(&format!(
                "{command}\nrc=$?\ncase $rc in {expect}) ;; *) echo \"README.md:{at}: exit $rc from: {}\" >&2; exit 1;; esac\n",
                command.replace('"', "\\\"").replace('$', "\\$").replace('`', "\\`")
            ));
            ran += 1;
        }
        let output = Command::new("bash")
            .args(["--noprofile", "--norc", "-c", &script])
            .env("SANDBOX", d)
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    d.join(".bin").display(),
                    std::env::var("PATH").unwrap()
                ),
            )
            .env("NO_COLOR", "1")
            .env("HOME", d)
            .env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
            .env("AWS_SECRET_ACCESS_KEY", "example")
            .env("AWS_REGION", "eu-west-1")
            .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env_remove("RESILIX_CONFIG")
            .env_remove("RESILIX_FORMAT")
            .env_remove("RESILIX_FAIL_ON")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "README.md:{line}: a shell example fails:\n{}\n{}",
            String::from_utf8_lossy(&output.stderr),
            String::from_utf8_lossy(&output.stdout)
        );
    }
    assert!(ran >= 20, "only {ran} commands found");
}

/// The first command of the README builds, installs and scans the example: it exits 1, because
/// the example has findings (the README says so).
#[test]
fn readme_first_command_exits_1_and_says_why() {
    let (line, first) = blocks("sh").into_iter().next().unwrap();
    assert_eq!(line, 4);
    assert!(first.starts_with(
        "cargo install --path . --locked && resilix scan fixtures/examples/plan.json"
    ));
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let intro: String = readme.lines().take(12).collect::<Vec<_>>().join("\n");
    assert!(intro.contains("exits 1"), "{intro}");
    let status = Command::new(resilix_bin())
        .current_dir(root())
        .args(["scan", "fixtures/examples/plan.json", "-q"])
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(1));
}

/// The performance section cites only files that are in the repository.
#[test]
fn readme_cites_only_files_in_the_repository() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let cited = regex::Regex::new(
        r"`((?:\.\./)*[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.*-]+)+\.(?:md|rs|py|yml|yaml|json|txt))`",
    )
    .unwrap();
    let mut checked = 0;
    for capture in cited.captures_iter(&readme) {
        let path = &capture[1];
        // Example paths of a user's own repository (`infra/plan.json`, `prod/plan.json`) are
        // not citations: only paths into this repository's own top-level directories, or out
        // of it (`../`), are.
        let first = path.split('/').next().unwrap_or_default();
        if path.contains('*') || !(first == ".." || root().join(first).is_dir()) {
            continue;
        }
        assert!(
            root().join(path).exists(),
            "README.md cites `{path}`, which is not in the repository"
        );
        checked += 1;
    }
    assert!(checked >= 10, "{checked}");
    let links = regex::Regex::new(r"\]\(([^)#:]+)\)").unwrap();
    for capture in links.captures_iter(&readme) {
        assert!(
            root().join(&capture[1]).exists(),
            "README.md links `{}`",
            &capture[1]
        );
    }
}
