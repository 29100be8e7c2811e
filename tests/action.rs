//! The composite action (`action.yml`), run locally: its shell steps execute in order with a
//! simulated GitHub Actions environment (`GITHUB_WORKSPACE`, `GITHUB_OUTPUT`,
//! `GITHUB_STEP_SUMMARY`, `GITHUB_PATH`, `RUNNER_TEMP`, …), `${{ }}` expressions are evaluated
//! from the inputs and step outputs, and the files the steps write are checked. Steps that use
//! other actions (cache, upload-sarif) are not run: their `with:` and `if:` are evaluated and
//! checked. `cargo` is a stand-in that installs the resilix binary built for these tests and
//! records its arguments.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::emit::validate_sarif;
use crate::util::{fixture, root};

/// One step, as run (or, for `uses:` steps, as it would be called).
#[derive(Debug, Default)]
struct StepRun {
    id: String,
    /// `uses:` steps: the action, and whether its `if:` held.
    uses: Option<String>,
    ran: bool,
    with: BTreeMap<String, String>,
    exit: Option<i32>,
    stdout: String,
    stderr: String,
    outputs: BTreeMap<String, String>,
    summary: String,
}

struct Runner {
    action: Value,
    inputs: BTreeMap<String, String>,
    workspace: PathBuf,
    temp: PathBuf,
    /// Directories steps added through `GITHUB_PATH`, most recent first.
    path: Vec<PathBuf>,
    steps: Vec<StepRun>,
    cargo_log: PathBuf,
}

impl Runner {
    fn new(workspace: &Path, temp: &Path, inputs: &[(&str, &str)]) -> Runner {
        let text = std::fs::read_to_string(root().join("action.yml")).unwrap();
        let action: Value = serde_saphyr::from_str(&text).unwrap();
        // Defaults, then what the workflow gives.
        let mut values = BTreeMap::new();
        for (name, spec) in action["inputs"].as_object().unwrap() {
            if let Some(default) = spec.get("default") {
                values.insert(name.clone(), default.as_str().unwrap().to_owned());
            }
        }
        for (name, value) in inputs {
            assert!(
                action["inputs"].get(*name).is_some(),
                "action.yml has no input `{name}`"
            );
            values.insert((*name).to_owned(), (*value).to_owned());
        }
        for (name, spec) in action["inputs"].as_object().unwrap() {
            if spec.get("required").and_then(Value::as_bool) == Some(true) {
                assert!(values.contains_key(name), "required input `{name}` missing");
            }
        }
        // The stand-in for cargo: installs the test binary where `--root` says.
        let tools = temp.join("tools");
        std::fs::create_dir_all(&tools).unwrap();
        let cargo = tools.join("cargo");
        std::fs::write(
            &cargo,
            "#!/usr/bin/env bash\nset -eu\necho \"$*\" >> \"$FAKE_CARGO_LOG\"\nroot=\"\"\nwhile [ $# -gt 0 ]; do\n  if [ \"$1\" = --root ]; then root=\"$2\"; shift; fi\n  shift\ndone\nmkdir -p \"$root/bin\"\ncp \"$RESILIX_TEST_BIN\" \"$root/bin/resilix\"\n",
        )
        .unwrap();
        make_executable(&cargo);
        Runner {
            action,
            inputs: values,
            workspace: workspace.to_path_buf(),
            temp: temp.to_path_buf(),
            path: vec![tools],
            steps: Vec::new(),
            cargo_log: temp.join("cargo.log"),
        }
    }

    /// The value of a context path such as `inputs.fail-on` or `steps.scan.outputs.sarif`.
    fn context(&self, path: &str) -> String {
        let parts: Vec<&str> = path.split('.').collect();
        match parts.as_slice() {
            ["inputs", name] => self.inputs.get(*name).cloned().unwrap_or_default(),
            ["steps", id, "outputs", name] => self
                .steps
                .iter()
                .find(|s| s.id == *id)
                .and_then(|s| s.outputs.get(*name).cloned())
                .unwrap_or_default(),
            ["runner", "temp"] => self.runner_temp().display().to_string(),
            ["runner", "os"] => "Linux".to_owned(),
            ["github", "action_path"] => root().display().to_string(),
            _ => panic!("the test runner does not know the context `{path}`"),
        }
    }

    fn runner_temp(&self) -> PathBuf {
        self.temp.join("runner-temp")
    }

    /// Replaces every `${{ expr }}` in `text` (context paths only).
    fn expand(&self, text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${{") {
            out.push_str(&rest[..start]);
            let end = rest[start..].find("}}").expect("unclosed ${{") + start;
            out.push_str(&self.context(rest[start + 3..end].trim()));
            rest = &rest[end + 2..];
        }
        out.push_str(rest);
        out
    }

    /// An `if:` of the forms action.yml uses: `a == 'x' && b != ''`.
    fn condition(&self, expression: &str) -> bool {
        expression.split("&&").all(|term| {
            let term = term.trim();
            let (lhs, rhs, equal) = if let Some((l, r)) = term.split_once("==") {
                (l, r, true)
            } else if let Some((l, r)) = term.split_once("!=") {
                (l, r, false)
            } else {
                panic!("the test runner does not know the condition `{term}`")
            };
            let literal = rhs.trim().trim_matches('\'');
            (self.context(lhs.trim()) == literal) == equal
        })
    }

    /// Runs the action's steps in order, as a runner would; stops at the first failing step.
    fn run(mut self) -> Vec<StepRun> {
        let steps = self.action["runs"]["steps"].as_array().unwrap().clone();
        let runner_temp = self.runner_temp();
        std::fs::create_dir_all(&runner_temp).unwrap();
        for (n, step) in steps.iter().enumerate() {
            let id = step["id"]
                .as_str()
                .map_or_else(|| format!("step{n}"), str::to_owned);
            let condition = step["if"].as_str().is_none_or(|c| self.condition(c));
            let mut run = StepRun {
                id: id.clone(),
                ..StepRun::default()
            };
            if let Some(uses) = step["uses"].as_str() {
                run.uses = Some(uses.to_owned());
                run.ran = condition;
                if let Some(with) = step["with"].as_object() {
                    for (key, value) in with {
                        run.with
                            .insert(key.clone(), self.expand(value.as_str().unwrap()));
                    }
                }
                self.steps.push(run);
                continue;
            }
            if !condition {
                self.steps.push(run);
                continue;
            }
            let script = step["run"].as_str().unwrap();
            assert!(
                !script.contains("${{"),
                "step `{id}`: inputs must reach scripts through env, not ${{{{ }}}}"
            );
            assert_eq!(step["shell"], "bash", "step `{id}` names its shell");
            let files = self.temp.join(format!("files-{n}"));
            std::fs::create_dir_all(&files).unwrap();
            let (output, summary, github_path) = (
                files.join("output"),
                files.join("summary"),
                files.join("path"),
            );
            for file in [&output, &summary, &github_path] {
                std::fs::write(file, "").unwrap();
            }
            let script_file = files.join("script.sh");
            std::fs::write(&script_file, script).unwrap();
            let mut path: Vec<String> = self.path.iter().map(|p| p.display().to_string()).collect();
            path.push(std::env::var("PATH").unwrap_or_default());
            let mut command = Command::new("bash");
            // What `shell: bash` runs on GitHub's runners.
            command
                .args(["--noprofile", "--norc", "-eo", "pipefail"])
                .arg(&script_file)
                .current_dir(&self.workspace)
                .env_clear()
                .env("PATH", path.join(":"))
                .env("HOME", self.temp.join("home"))
                .env("GITHUB_ACTIONS", "true")
                .env("GITHUB_WORKSPACE", &self.workspace)
                .env("GITHUB_ACTION_PATH", root())
                .env("GITHUB_OUTPUT", &output)
                .env("GITHUB_STEP_SUMMARY", &summary)
                .env("GITHUB_PATH", &github_path)
                .env("RUNNER_TEMP", &runner_temp)
                .env("RUNNER_OS", "Linux")
                .env("RUNNER_ARCH", "X64")
                .env("NO_COLOR", "1")
                .env("FAKE_CARGO_LOG", &self.cargo_log)
                .env("RESILIX_TEST_BIN", insta_cmd::get_cargo_bin("resilix"));
            if let Some(env) = step["env"].as_object() {
                for (key, value) in env {
                    command.env(key, self.expand(value.as_str().unwrap()));
                }
            }
            let result = command.output().unwrap();
            run.ran = true;
            run.exit = result.status.code();
            run.stdout = String::from_utf8_lossy(&result.stdout).into_owned();
            run.stderr = String::from_utf8_lossy(&result.stderr).into_owned();
            run.outputs = parse_outputs(&std::fs::read_to_string(&output).unwrap());
            run.summary = std::fs::read_to_string(&summary).unwrap();
            for line in std::fs::read_to_string(&github_path).unwrap().lines() {
                self.path.insert(0, PathBuf::from(line));
            }
            let failed = run.exit != Some(0);
            self.steps.push(run);
            if failed {
                break;
            }
        }
        self.steps
    }
}

#[cfg(unix)]
fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[cfg(not(unix))]
fn make_executable(_: &Path) {}

/// `name=value` lines and `name<<DELIMITER` blocks, as GITHUB_OUTPUT holds them.
fn parse_outputs(text: &str) -> BTreeMap<String, String> {
    let mut outputs = BTreeMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some((name, delimiter)) = line.split_once("<<") {
            let value: Vec<&str> = lines.by_ref().take_while(|l| *l != delimiter).collect();
            outputs.insert(name.to_owned(), value.join("\n"));
        } else if let Some((name, value)) = line.split_once('=') {
            outputs.insert(name.to_owned(), value.to_owned());
        }
    }
    outputs
}

/// A checked-out repository: the fixture repository with a `.git` directory.
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let from = fixture("repos/network");
    for entry in walkdir::WalkDir::new(&from) {
        let entry = entry.unwrap();
        let target = dir.path().join(entry.path().strip_prefix(&from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
    std::fs::create_dir_all(dir.path().join(".git")).unwrap();
    dir
}

fn step<'s>(steps: &'s [StepRun], id: &str) -> &'s StepRun {
    steps
        .iter()
        .find(|s| s.id == id || s.uses.as_deref().is_some_and(|u| u.starts_with(id)))
        .unwrap_or_else(|| panic!("no step `{id}` in {steps:#?}"))
}

#[test]
fn action_scans_once_and_writes_sarif_annotations_and_summary() {
    let workspace = workspace();
    let temp = tempfile::tempdir().unwrap();
    let steps = Runner::new(
        workspace.path(),
        temp.path(),
        &[
            ("paths", "plan.json"),
            ("policies", "policies"),
            ("category", "terraform"),
        ],
    )
    .run();

    // The build: from the action's own source, cached on Cargo.lock.
    let lock = std::fs::read(root().join("Cargo.lock")).unwrap();
    let hash: String = Sha256::digest(&lock)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let cache = step(&steps, "actions/cache");
    assert_eq!(
        cache.with["key"],
        format!("resilix-Linux-X64-{}", &hash[..16])
    );
    assert!(cache.with["path"].contains("resilix-target"));
    let cargo = std::fs::read_to_string(temp.path().join("cargo.log")).unwrap();
    assert_eq!(cargo.lines().count(), 1, "one build: {cargo}");
    assert!(
        cargo.starts_with(&format!(
            "install --locked --quiet --path {}",
            root().display()
        )),
        "{cargo}"
    );

    // One scan: annotations on the .tf lines, SARIF and summary from the same run.
    let scan = step(&steps, "scan");
    assert_eq!(scan.exit, Some(0), "{}", scan.stderr);
    assert_eq!(scan.outputs["exit-code"], "1");
    assert!(
        scan.stdout.contains(
            "::error file=modules/net/main.tf,line=13,col=1,title=Security groups do not open SSH"
        ),
        "{}",
        scan.stdout
    );
    assert!(
        scan.stdout
            .contains("::error file=buckets.tf,line=8,col=1,")
    );
    assert_eq!(scan.outputs["sarif"], "resilix.sarif");
    let sarif = std::fs::read_to_string(workspace.path().join("resilix.sarif")).unwrap();
    assert!(validate_sarif(&sarif).is_empty());
    let value: Value = serde_json::from_str(&sarif).unwrap();
    let run = &value["runs"][0];
    assert_eq!(run["automationDetails"]["id"], "terraform/");
    let results = run["results"].as_array().unwrap();
    let annotations = scan.stdout.lines().filter(|l| l.starts_with("::")).count();
    assert_eq!(results.len(), annotations, "the same findings everywhere");
    let bastion = results
        .iter()
        .find(|r| {
            r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
                == "module.net.aws_security_group.bastion"
        })
        .unwrap();
    let physical = &bastion["locations"][0]["physicalLocation"];
    assert_eq!(physical["artifactLocation"]["uri"], "modules/net/main.tf");
    assert_eq!(physical["region"]["startLine"], 13);
    assert!(
        scan.summary.starts_with("## ❌ resilix:"),
        "{}",
        scan.summary
    );
    assert!(scan.summary.contains(
        "| critical | `fixture.network.ssh-from-internet` | `module.net.aws_security_group.bastion` | `modules/net/main.tf:13:1` |"
    ));
    assert!(scan.summary.contains("### Controls"));

    // The upload gets that file and the category; the gate fails the step.
    let upload = step(&steps, "github/codeql-action/upload-sarif");
    assert!(upload.ran);
    assert_eq!(upload.with["sarif_file"], "resilix.sarif");
    assert_eq!(upload.with["category"], "terraform");
    let gate = steps.last().unwrap();
    assert_eq!(gate.exit, Some(1), "{}", gate.stdout);
}

#[test]
fn action_soft_fail_without_annotations_or_summary() {
    let workspace = workspace();
    let temp = tempfile::tempdir().unwrap();
    let steps = Runner::new(
        workspace.path(),
        temp.path(),
        &[
            ("paths", "plan.json\n"),
            ("policies", "policies"),
            ("format", "json"),
            ("output", "resilix.json"),
            ("annotations", "false"),
            ("step-summary", "false"),
            ("upload-sarif", "false"),
            ("soft-fail", "true"),
        ],
    )
    .run();
    let scan = step(&steps, "scan");
    assert_eq!(scan.outputs["exit-code"], "1");
    assert!(!scan.stdout.contains("::error"), "{}", scan.stdout);
    assert!(
        scan.stdout.contains("modules/net/main.tf:13:1"),
        "text output"
    );
    assert_eq!(scan.summary, "", "no step summary");
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(workspace.path().join("resilix.json")).unwrap(),
    )
    .unwrap();
    assert!(report["summary"]["failed"].as_u64().unwrap() >= 5);
    // The SARIF is still written (for an upload later in the workflow), outside the workspace.
    let sarif = PathBuf::from(&scan.outputs["sarif"]);
    assert!(sarif.starts_with(temp.path()) && sarif.is_file());
    assert!(!step(&steps, "github/codeql-action/upload-sarif").ran);
    let gate = steps.last().unwrap();
    assert_eq!(gate.exit, Some(0), "soft-fail: {}", gate.stdout);
}

#[test]
fn action_with_a_baseline_passes_on_known_findings() {
    let workspace = workspace();
    let temp = tempfile::tempdir().unwrap();
    let status = Command::new(insta_cmd::get_cargo_bin("resilix"))
        .current_dir(workspace.path())
        .args([
            "baseline",
            "create",
            "plan.json",
            "--policies",
            "policies",
            "--output",
            "baseline.json",
            "-q",
        ])
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    let steps = Runner::new(
        workspace.path(),
        temp.path(),
        &[
            ("paths", "plan.json"),
            ("policies", "policies"),
            ("baseline", "baseline.json"),
        ],
    )
    .run();
    let scan = step(&steps, "scan");
    assert_eq!(scan.outputs["exit-code"], "0", "{}", scan.stderr);
    assert!(
        !scan.stdout.contains("::error"),
        "known findings are notices"
    );
    assert!(scan.summary.contains("known (reported, not failing)"));
    let sarif = std::fs::read_to_string(workspace.path().join("resilix.sarif")).unwrap();
    assert!(sarif.contains("\"baselineState\": \"unchanged\""));
    assert_eq!(steps.last().unwrap().exit, Some(0));
}

#[test]
fn action_reports_an_unreadable_plan_as_an_error_even_with_soft_fail() {
    let workspace = workspace();
    std::fs::write(
        workspace.path().join("broken.json"),
        "{\"format_version\": ",
    )
    .unwrap();
    let temp = tempfile::tempdir().unwrap();
    let steps = Runner::new(
        workspace.path(),
        temp.path(),
        &[("paths", "broken.json"), ("soft-fail", "true")],
    )
    .run();
    let scan = step(&steps, "scan");
    assert_eq!(scan.outputs["exit-code"], "2");
    assert!(
        scan.stdout.contains("::error file=broken.json,line=1"),
        "{}",
        scan.stdout
    );
    assert_eq!(steps.last().unwrap().exit, Some(2));
}
