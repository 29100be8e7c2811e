//! What a Checkov or Trivy user reaches for first (issue 12): scanning a Terraform repository
//! as it is, the flags they know, colour conventions, completions and the man page.

use std::path::Path;
use std::process::Command;

use crate::util::{copy_tree, fixture, resilix, root, run};

/// A Terraform root as `terraform init` leaves it: the network fixture repository, with
/// `.terraform/modules/modules.json`, a `*.tfvars.json`, a `node_modules/` and a directory
/// that `.gitignore` ignores (holding a broken plan, which must never be read).
fn terraform_root() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixture("repos/network"), dir.path());
    let write = |path: &str, text: &str| {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        ".terraform/modules/modules.json",
        r#"{"Modules":[{"Key":"","Source":"","Dir":"."},{"Key":"net","Source":"./modules/net","Dir":"modules/net"}]}"#,
    );
    write(".terraform/providers/bad.json", "{not json");
    write("prod.tfvars.json", r#"{"region": "eu-west-1"}"#);
    write(
        "node_modules/left-pad/package.json",
        r#"{"name": "left-pad"}"#,
    );
    write("node_modules/broken.json", "{");
    write(".gitignore", "scratch/\n");
    write("scratch/plan.json", "{\"format_version\": ");
    dir
}

fn in_dir(dir: &Path) -> Command {
    let mut command = resilix();
    command.current_dir(dir);
    command
}

fn output(command: &mut Command) -> (Option<i32>, String, String) {
    let output = command.output().unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn scan_dot_in_an_initialized_terraform_root() {
    let dir = terraform_root();
    let (code, stdout, stderr) =
        output(in_dir(dir.path()).args(["scan", ".", "--policies", "policies", "-f", "json"]));
    // Findings (exit 1), not an error: .terraform/, node_modules/ and scratch/ are not read.
    assert_eq!(code, Some(1), "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["summary"]["files"], 1, "only plan.json is read");
    assert_eq!(report["summary"]["errors"], 0);
    for hidden in [
        "modules.json",
        "bad.json",
        "package.json",
        "broken.json",
        "scratch",
    ] {
        assert!(!stderr.contains(hidden), "{hidden} was read: {stderr}");
    }
    // The JSON that is neither a plan nor Config data is skipped, with a note naming it.
    assert!(
        stderr.contains("skipped 2 JSON file(s) that are neither a Terraform plan nor AWS Config data: ./plan.spec.json, ./prod.tfvars.json"),
        "{stderr}"
    );
    // Named on the command line, the same file is an error.
    let (code, _, stderr) = output(in_dir(dir.path()).args(["scan", "prod.tfvars.json"]));
    assert_eq!(code, Some(2));
    assert!(
        stderr
            .contains("prod.tfvars.json: the JSON is neither a Terraform plan nor AWS Config data"),
        "{stderr}"
    );
    // So is a hidden or ignored file named explicitly: it is read (and here malformed).
    let (code, _, stderr) = output(in_dir(dir.path()).args(["scan", "scratch/plan.json"]));
    assert_eq!(code, Some(2));
    assert!(stderr.contains("scratch/plan.json"), "{stderr}");
}

#[test]
fn scan_the_bundled_examples_directory() {
    let (code, stdout, stderr) =
        output(resilix().args(["scan", "fixtures/examples/", "-f", "json"]));
    assert_eq!(code, Some(1), "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["summary"]["files"], 1);
    assert!(report["summary"]["failed"].as_u64().unwrap() > 0);
    assert!(
        stderr.contains("fixtures/examples/plan.spec.json"),
        "{stderr}"
    );
    // -q: no note.
    let (code, _, stderr) = output(resilix().args(["scan", "fixtures/examples/", "-q"]));
    assert_eq!((code, stderr.as_str()), (Some(1), ""));
}

#[test]
fn skip_path_leaves_out_what_its_globs_match() {
    let dir = terraform_root();
    std::fs::create_dir_all(dir.path().join("legacy/old")).unwrap();
    std::fs::write(dir.path().join("legacy/old/plan.json"), "{\"truncated\": ").unwrap();
    let scan = |extra: &[&str]| {
        output(
            in_dir(dir.path())
                .args(["scan", ".", "--policies", "policies", "-f", "json"])
                .args(extra),
        )
    };
    let (code, _, stderr) = scan(&[]);
    assert_eq!(code, Some(2), "the truncated plan is read: {stderr}");
    // By directory path (below the walked directory), by name, by path glob.
    for globs in [
        &["--skip-path", "legacy"][..],
        &["--skip-path", "legacy/**"],
        &["--skip-path", "old"],
        &["--skip-path", "**/old/*.json"],
    ] {
        let (code, _, stderr) = scan(globs);
        assert_eq!(code, Some(1), "{globs:?}: {stderr}");
        assert!(!stderr.contains("legacy"), "{globs:?}: {stderr}");
    }
    // Repeatable; and a skipped JSON file is not even noted.
    let (code, _, stderr) = scan(&[
        "--skip-path",
        "legacy",
        "--skip-path",
        "*.tfvars.json",
        "--skip-path",
        "plan.spec.json",
    ]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(!stderr.contains("skipped"), "{stderr}");
    // `*` does not cross directories: `*.json` at the top level only … but names match too.
    let (code, _, _) = scan(&["--skip-path", "legacy/*.json"]);
    assert_eq!(code, Some(2), "legacy/old/plan.json is one level deeper");
    // A bad glob is a usage error.
    let (code, _, stderr) = scan(&["--skip-path", "a[b"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("is not a glob"), "{stderr}");
}

#[test]
fn terraform_sources_instead_of_a_plan() {
    let dir = tempfile::tempdir().unwrap();
    for file in ["main.tf", "buckets.tf"] {
        std::fs::copy(fixture("repos/network").join(file), dir.path().join(file)).unwrap();
    }
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(&regex::escape(&dir.path().display().to_string()), "[TMP]");
    settings.bind(|| {
        insta::assert_snapshot!(
            "scan_a_tf_file",
            run(in_dir(dir.path()).args(["scan", "main.tf"]))
        );
        insta::assert_snapshot!(
            "scan_a_directory_of_tf_files",
            run(in_dir(dir.path()).args(["scan", "."]))
        );
    });
    // Terraform source on stdin, without a file name to go by.
    let mut child = resilix()
        .args(["scan", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(
        child.stdin.as_mut().unwrap(),
        b"# the network\nresource \"aws_vpc\" \"main\" {\n  cidr_block = \"10.0.0.0/16\"\n}\n",
    )
    .unwrap();
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("this is Terraform source (HCL), not a plan"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn setup_terraform_wrapper_output_gets_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let plan = std::fs::read_to_string(fixture("repos/network/plan.json")).unwrap();
    let wrapped = format!(
        "[command]/home/runner/work/_temp/0b2c/terraform-bin show -json plan.out\n{plan}\n::debug::Terraform exited with code 0.\n"
    );
    std::fs::write(dir.path().join("plan.json"), wrapped).unwrap();
    let (code, _, stderr) = output(in_dir(dir.path()).args(["scan", "plan.json"]));
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("hashicorp/setup-terraform's wrapper"),
        "{stderr}"
    );
    assert!(stderr.contains("terraform_wrapper: false"), "{stderr}");
}

const FAIL_PLAN: &str = "fixtures/examples/plan.json";

fn failing_policies(args: &[&str]) -> Vec<String> {
    let (code, stdout, stderr) = output(
        resilix()
            .args(["scan", FAIL_PLAN, "-f", "json", "-q"])
            .args(args),
    );
    assert!(matches!(code, Some(0 | 1)), "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let mut ids: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["policy"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

#[test]
fn check_and_skip_check_select_policies() {
    let all = failing_policies(&[]);
    assert!(all.iter().any(|id| id.starts_with("aws.s3.")));
    let s3 = failing_policies(&["--check", "aws.s3.*"]);
    assert!(
        !s3.is_empty() && s3.iter().all(|id| id.starts_with("aws.s3.")),
        "{s3:?}"
    );
    // Repeatable, IDs and globs.
    let two = failing_policies(&["--check", "aws.s3.versioning", "--check", "aws.kms.*"]);
    assert_eq!(two, ["aws.kms.key-rotation", "aws.s3.versioning"]);
    let skipped = failing_policies(&[
        "--skip-check",
        "aws.s3.*",
        "--skip-check",
        "aws.kms.key-rotation",
    ]);
    let expected: Vec<String> = all
        .iter()
        .filter(|id| !id.starts_with("aws.s3.") && *id != "aws.kms.key-rotation")
        .cloned()
        .collect();
    assert_eq!(skipped, expected);
    // Both: skip wins.
    let both = failing_policies(&["--check", "aws.s3.*", "--skip-check", "aws.s3.versioning"]);
    assert!(!both.contains(&"aws.s3.versioning".to_owned()) && !both.is_empty());
    // An opt-in policy runs when --check names it, as with `policies.only`.
    let opt_in = failing_policies(&["--check", "aws.s3.replication"]);
    assert_eq!(opt_in, ["aws.s3.replication"]);
    // A typo is an error with a suggestion, before anything is scanned.
    insta::assert_snapshot!(
        "check_typo",
        run(resilix().args([
            "scan",
            FAIL_PLAN,
            "--check",
            "aws.s3.versoning",
            "--skip-check",
            "nope.*"
        ]))
    );
}

#[test]
fn check_replaces_the_configuration_only_and_skip_check_adds_to_disable() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("resilix.yaml"),
        "policies:\n  only: [\"aws.kms.*\", \"aws.s3.*\"]\n  disable: [aws.s3.versioning]\n",
    )
    .unwrap();
    let config = dir.path().join("resilix.yaml");
    let config = config.to_str().unwrap();
    let from_file = failing_policies(&["--config", config]);
    assert!(from_file.contains(&"aws.kms.key-rotation".to_owned()));
    assert!(!from_file.contains(&"aws.s3.versioning".to_owned()));
    let checked = failing_policies(&["--config", config, "--check", "aws.s3.*"]);
    assert!(
        checked.iter().all(|id| id.starts_with("aws.s3.")),
        "{checked:?}"
    );
    assert!(
        !checked.contains(&"aws.s3.versioning".to_owned()),
        "the file's disable still holds"
    );
    let skipped = failing_policies(&["--config", config, "--skip-check", "aws.kms.*"]);
    assert!(
        skipped.iter().all(|id| id.starts_with("aws.s3.")),
        "{skipped:?}"
    );
    // RESILIX_CONFIG names the file too.
    let (_, stdout, _) = output(
        resilix()
            .env("RESILIX_CONFIG", config)
            .args(["scan", FAIL_PLAN, "-f", "json", "-q"]),
    );
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["policy"] != "aws.s3.versioning")
    );
}

#[test]
fn soft_fail_and_environment_variables() {
    let code = |command: &mut Command| command.output().unwrap().status.code();
    assert_eq!(code(resilix().args(["scan", FAIL_PLAN, "-q"])), Some(1));
    assert_eq!(
        code(resilix().args(["scan", FAIL_PLAN, "-q", "--soft-fail"])),
        Some(0)
    );
    // --soft-fail wins over --fail-on and RESILIX_FAIL_ON.
    assert_eq!(
        code(resilix().args(["scan", FAIL_PLAN, "-q", "--soft-fail", "--fail-on", "low"])),
        Some(0)
    );
    assert_eq!(
        code(resilix().env("RESILIX_FAIL_ON", "low").args([
            "scan",
            FAIL_PLAN,
            "-q",
            "--soft-fail"
        ])),
        Some(0)
    );
    assert_eq!(
        code(
            resilix()
                .env("RESILIX_FAIL_ON", "never")
                .args(["scan", FAIL_PLAN, "-q"])
        ),
        Some(0)
    );
    // The example's worst findings are critical: a gate above that passes.
    assert_eq!(
        code(
            resilix()
                .env("RESILIX_FAIL_ON", "critical")
                .args(["scan", FAIL_PLAN, "-q"])
        ),
        Some(1)
    );
    // Errors still exit 2 with --soft-fail.
    assert_eq!(
        code(resilix().args([
            "scan",
            "fixtures/examples/plan.spec.json",
            "-q",
            "--soft-fail"
        ])),
        Some(2)
    );
    // RESILIX_FORMAT; the flag wins over it.
    let (_, stdout, _) = output(
        resilix()
            .env("RESILIX_FORMAT", "sarif")
            .args(["scan", FAIL_PLAN, "-q"]),
    );
    assert!(stdout.contains("\"version\": \"2.1.0\""));
    let (_, stdout, _) = output(
        resilix()
            .env("RESILIX_FORMAT", "sarif")
            .args(["scan", FAIL_PLAN, "-q", "-f", "json"]),
    );
    assert!(stdout.contains("\"schema\": \"resilix/report/v1\""));
    let (code, _, stderr) = output(
        resilix()
            .env("RESILIX_FORMAT", "yaml")
            .args(["scan", FAIL_PLAN]),
    );
    assert_eq!(code, Some(2));
    assert!(stderr.contains("invalid value 'yaml'"), "{stderr}");
}

#[test]
fn output_named_like_a_format_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let plan = root().join(FAIL_PLAN);
    let plan = plan.to_str().unwrap();
    insta::assert_snapshot!(
        "output_named_sarif",
        run(in_dir(dir.path()).args(["scan", plan, "-o", "sarif"]))
    );
    assert!(!dir.path().join("sarif").exists(), "nothing written");
    // Any format, any case, every evaluating command.
    let (code, _, stderr) = output(in_dir(dir.path()).args(["scan", plan, "--output", "JSON"]));
    assert_eq!(code, Some(2));
    assert!(stderr.contains("did you mean --format json?"), "{stderr}");
    // Meant as a file: ./sarif, or an existing file of that name.
    let (code, _, _) = output(in_dir(dir.path()).args(["scan", plan, "-q", "-o", "./sarif"]));
    assert_eq!(code, Some(1));
    assert!(dir.path().join("sarif").is_file());
    let (code, _, _) = output(in_dir(dir.path()).args(["scan", plan, "-q", "-o", "sarif"]));
    assert_eq!(code, Some(1), "the file exists: it is overwritten as asked");
    let (code, _, stderr) = output(in_dir(dir.path()).args(["diff", plan, plan, "-o", "markdown"]));
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("did you mean --format markdown?"),
        "{stderr}"
    );
}

const ESC: &str = "\u{1b}[";

#[test]
fn colour_follows_flag_and_environment() {
    let text = |envs: &[(&str, &str)], args: &[&str]| {
        let mut command = resilix();
        command
            .env_remove("NO_COLOR")
            .env_remove("FORCE_COLOR")
            .env_remove("CLICOLOR_FORCE")
            .env_remove("CLICOLOR")
            .args(["scan", FAIL_PLAN, "--check", "aws.kms.*"])
            .args(args);
        for (k, v) in envs {
            command.env(k, v);
        }
        output(&mut command).1
    };
    // Piped: plain, unless forced.
    assert!(!text(&[], &[]).contains(ESC));
    assert!(text(&[], &["--color", "always"]).contains(ESC));
    assert!(text(&[("FORCE_COLOR", "1")], &[]).contains(ESC));
    assert!(text(&[("CLICOLOR_FORCE", "1")], &[]).contains(ESC));
    assert!(!text(&[("FORCE_COLOR", "0")], &[]).contains(ESC));
    // NO_COLOR counts only when not empty (no-color.org); --color wins over both.
    assert!(text(&[("FORCE_COLOR", "1"), ("NO_COLOR", "")], &[]).contains(ESC));
    assert!(!text(&[("FORCE_COLOR", "1"), ("NO_COLOR", "1")], &[]).contains(ESC));
    assert!(text(&[("NO_COLOR", "1")], &["--color", "always"]).contains(ESC));
    assert!(!text(&[("FORCE_COLOR", "1")], &["--color", "never"]).contains(ESC));
    // Never in a file.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out.txt");
    text(&[], &["--color", "always", "-o", file.to_str().unwrap()]);
    assert!(!std::fs::read_to_string(&file).unwrap().contains(ESC));
}

/// On a real terminal (a pseudo-terminal from util-linux `script`): colour, unless TERM=dumb
/// or NO_COLOR is set.
#[cfg(unix)]
#[test]
fn colour_on_a_terminal() {
    let bin = insta_cmd::get_cargo_bin("resilix");
    let on_tty = |envs: &[(&str, &str)]| {
        let mut command = Command::new("script");
        command
            .current_dir(root())
            .args(["-qec"])
            .arg(format!(
                "{} scan {FAIL_PLAN} --check 'aws.kms.*' -q",
                bin.display()
            ))
            .arg("/dev/null")
            .env_remove("NO_COLOR")
            .env_remove("FORCE_COLOR")
            .env_remove("CLICOLOR_FORCE")
            .env_remove("CI")
            .env("TERM", "xterm-256color");
        for (k, v) in envs {
            command.env(k, v);
        }
        String::from_utf8_lossy(&command.output().unwrap().stdout).into_owned()
    };
    let plain = on_tty(&[]);
    assert!(plain.contains("KMS key"), "{plain}");
    assert!(plain.contains(ESC), "{plain}");
    assert!(!on_tty(&[("TERM", "dumb")]).contains(ESC));
    assert!(!on_tty(&[("NO_COLOR", "1")]).contains(ESC));
    assert!(on_tty(&[("NO_COLOR", "")]).contains(ESC));
}

#[test]
fn bash_completion_completes_subcommands_and_flags() {
    let script = output(resilix().args(["completions", "bash"])).1;
    assert!(script.contains("_resilix()"));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("resilix.bash");
    std::fs::write(&file, &script).unwrap();
    // Ask the completion function what bash would offer, as readline does on Tab.
    let complete = |words: &[&str]| {
        let line = words.join(" ");
        let probe = format!(
            "source {}\nCOMP_WORDS=({line})\nCOMP_CWORD={}\nCOMP_LINE='{line}'\nCOMP_POINT=${{#COMP_LINE}}\n_resilix resilix '{}' '{}'\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
            file.display(),
            words.len() - 1,
            words.last().unwrap(),
            words.get(words.len().wrapping_sub(2)).unwrap_or(&""),
        );
        let out = Command::new("bash")
            .args(["--norc", "--noprofile", "-c", &probe])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    let commands = complete(&["resilix", "sc"]);
    assert_eq!(commands, ["scan"]);
    let flags = complete(&["resilix", "scan", "--skip"]);
    assert_eq!(flags, ["--skip-check", "--skip-path"]);
    let values = complete(&["resilix", "scan", "--format", ""]);
    assert!(values.contains(&"sarif".to_owned()), "{values:?}");
    let shells = complete(&["resilix", "completions", ""]);
    for shell in ["bash", "zsh", "fish", "powershell"] {
        assert!(shells.contains(&shell.to_owned()), "{shells:?}");
    }
}

#[test]
fn completions_for_every_shell() {
    // zsh, fish and PowerShell are not installed here: the scripts are generated by
    // clap_complete from the same definition bash's is; check each names the new flags.
    for (shell, marker) in [
        ("zsh", "#compdef resilix"),
        ("fish", "complete -c resilix"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let (code, script, _) = output(resilix().args(["completions", shell]));
        assert_eq!(code, Some(0));
        assert!(script.contains(marker), "{shell}");
        for flag in ["skip-check", "skip-path", "soft-fail", "color"] {
            assert!(script.contains(flag), "{shell}: {flag}");
        }
    }
    let (code, _, stderr) = output(resilix().args(["completions", "tcsh"]));
    assert_eq!(code, Some(2));
    assert!(stderr.contains("invalid value 'tcsh'"), "{stderr}");
}

#[test]
fn man_pages_render_with_groff() {
    let render = |args: &[&str]| {
        let (code, page, stderr) = output(resilix().arg("man").args(args));
        assert_eq!(code, Some(0), "{stderr}");
        let mut groff = Command::new("groff")
            .args(["-k", "-man", "-Tutf8", "-ww", "-z"])
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(groff.stdin.as_mut().unwrap(), page.as_bytes()).unwrap();
        drop(groff.stdin.take());
        let checked = groff.wait_with_output().unwrap();
        assert!(checked.status.success());
        assert_eq!(
            String::from_utf8_lossy(&checked.stderr),
            "",
            "groff warnings in `man {args:?}`"
        );
        page
    };
    let top = render(&[]);
    assert!(top.contains(".TH resilix 1"));
    assert!(top.contains("completions"));
    let scan = render(&["scan"]);
    assert!(scan.contains(".TH resilix-scan 1"));
    for flag in [
        "skip\\-path",
        "skip\\-check",
        "soft\\-fail",
        "RESILIX_FORMAT",
        "RESILIX_FAIL_ON",
    ] {
        assert!(scan.contains(flag), "{flag}");
    }
    assert!(render(&["baseline", "create"]).contains(".TH resilix-baseline-create 1"));
    let (code, _, stderr) = output(resilix().args(["man", "nope"]));
    assert_eq!(code, Some(2));
    assert!(stderr.contains("its commands: scan, diff"), "{stderr}");
}

#[test]
fn configuration_is_found_up_to_the_repository_root() {
    let repo = tempfile::tempdir().unwrap();
    let deep = repo.path().join("infra/prod");
    std::fs::create_dir_all(&deep).unwrap();
    std::fs::create_dir_all(repo.path().join(".git")).unwrap();
    let plan = root().join(FAIL_PLAN);
    let plan = plan.to_str().unwrap();
    let scan = |dir: &Path| {
        output(
            in_dir(dir)
                .args(["scan", plan, "-f", "json", "-q"])
                .env_remove("RESILIX_CONFIG"),
        )
    };
    let failed = |stdout: &str| -> serde_json::Value {
        serde_json::from_str::<serde_json::Value>(stdout).unwrap()["summary"]["failed"].clone()
    };
    let (_, stdout, _) = scan(&deep);
    let unconfigured = failed(&stdout);
    // A hidden .resilix.yaml at the repository root applies two levels down.
    std::fs::write(
        repo.path().join(".resilix.yaml"),
        "policies: {only: [aws.kms.key-rotation]}\n",
    )
    .unwrap();
    let (code, stdout, stderr) = scan(&deep);
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(failed(&stdout), 1);
    // The nearest wins.
    std::fs::write(
        repo.path().join("infra/resilix.yaml"),
        "policies: {only: [\"aws.s3.*\", aws.kms.key-rotation]}\n",
    )
    .unwrap();
    let (_, stdout, _) = scan(&deep);
    assert!(failed(&stdout).as_u64().unwrap() > 1);
    // Errors in it name it as found from where resilix runs.
    std::fs::write(
        repo.path().join("infra/resilix.yaml"),
        "fail-on: sometimes\n",
    )
    .unwrap();
    let (code, _, stderr) = scan(&deep);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("../resilix.yaml"), "{stderr}");
    // Both names in one directory: an error, not a guess.
    std::fs::write(repo.path().join("infra/.resilix.yaml"), "fail-on: high\n").unwrap();
    let (code, _, stderr) = scan(&deep);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("both ../resilix.yaml and ../.resilix.yaml exist"),
        "{stderr}"
    );
    // Above the repository root nothing is looked for.
    let outer = tempfile::tempdir().unwrap();
    std::fs::write(outer.path().join("resilix.yaml"), "fail-on: sometimes\n").unwrap();
    let inner = outer.path().join("repo");
    std::fs::create_dir_all(inner.join(".git")).unwrap();
    let (_, stdout, stderr) = scan(&inner);
    assert!(stderr.is_empty(), "{stderr}");
    assert_eq!(failed(&stdout), unconfigured);
}

#[test]
fn diff_help_offers_only_what_a_config_diff_uses() {
    let (_, help, _) = output(resilix().args(["diff", "--help"]));
    for useless in ["--tf-root", "--input-format", "--baseline"] {
        assert!(
            !help.contains(useless),
            "{useless} does nothing for a diff:\n{help}"
        );
    }
    for useful in [
        "--skip-path",
        "--max-input-size",
        "--check",
        "--soft-fail",
        "--format",
    ] {
        assert!(help.contains(useful), "{useful}");
    }
    let (_, help, _) = output(resilix().args(["scan", "--help"]));
    assert!(help.contains(".json.gz"), "{help}");
}
