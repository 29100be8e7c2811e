//! The composite action (`action.yml`), run as a runner runs it: its shell steps execute in order
//! with bash and a simulated GitHub Actions environment (`GITHUB_OUTPUT`, `GITHUB_PATH`,
//! `GITHUB_STEP_SUMMARY`, `RUNNER_TEMP`, …), `${{ }}` expressions and `if:` are evaluated from the
//! inputs and step outputs, and `continue-on-error` is honoured. The steps that use other actions
//! are simulated: `actions/cache/restore` and `actions/cache/save` over a cache directory that
//! outlives one run (so a second run is a warm runner), and `github/codeql-action/upload-sarif`,
//! which takes the file (or fails, as it does without code scanning or with a read-only token).
//!
//! The release the action downloads is served by a loopback HTTP server as GitHub serves
//! `GITHUB_SERVER_URL/OWNER/REPO/releases/download/TAG/ASSET`: archives of the resilix binary
//! built for these tests (a launcher of it, see [`launcher`]), and a `SHA256SUMS`. The build-from-source fallback runs a stand-in
//! `cargo` that installs that same binary where `--root` says and records its arguments: a
//! real `cargo install` of resilix takes minutes, and what is under test is the action's choice
//! to build, the cache key it builds under and that the built binary is the one that scans.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::emit::validate_sarif;
use crate::util::{copy_tree, fixture, root};

const VERSION: &str = concat!("v", env!("CARGO_PKG_VERSION"));
const TARGET: &str = "x86_64-unknown-linux-gnu";
const REPOSITORY: &str = "resilix/resilix";

fn hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A fake GitHub release server on 127.0.0.1: files under `root` by URL path, every request
/// logged. Stops when dropped.
struct ReleaseServer {
    url: String,
    root: tempfile::TempDir,
    requests: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    address: std::net::SocketAddr,
}

impl ReleaseServer {
    fn start() -> ReleaseServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let root = tempfile::tempdir().unwrap();
        let files = root.path().to_path_buf();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (log, stopped) = (Arc::clone(&requests), Arc::clone(&stop));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    serve(stream, &files, &log);
                }
            }
        });
        ReleaseServer {
            url: format!("http://{address}"),
            root,
            requests,
            stop,
            address,
        }
    }

    /// Publishes `name` in the release `tag`.
    fn put(&self, tag: &str, name: &str, bytes: &[u8]) {
        let dir = self
            .root
            .path()
            .join(REPOSITORY)
            .join("releases/download")
            .join(tag);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), bytes).unwrap();
    }

    /// A release as `.github/workflows/release.yml` publishes it: an archive per target holding
    /// `resilix-TAG-TARGET/resilix`, and SHA256SUMS. `tamper` changes the served Linux archive
    /// after its checksum was recorded.
    fn publish(&self, tag: &str, tamper: bool) {
        let staging = tempfile::tempdir().unwrap();
        let name = format!("resilix-{tag}-{TARGET}");
        std::fs::create_dir_all(staging.path().join(&name)).unwrap();
        let binary = staging.path().join(&name).join("resilix");
        std::fs::write(&binary, launcher()).unwrap();
        make_executable(&binary);
        let archive = staging.path().join(format!("{name}.tar.gz"));
        let status = Command::new("tar")
            .arg("-czf")
            .arg(&archive)
            .arg("-C")
            .arg(staging.path())
            .arg(&name)
            .status()
            .unwrap();
        assert!(status.success());
        let mut bytes = std::fs::read(&archive).unwrap();
        let mut sums = format!("{}  {name}.tar.gz\n", hex(&bytes));
        for other in [
            "aarch64-unknown-linux-gnu.tar.gz",
            "x86_64-apple-darwin.tar.gz",
            "aarch64-apple-darwin.tar.gz",
            "x86_64-pc-windows-msvc.zip",
        ] {
            sums.push_str(&format!(
                "{}  resilix-{tag}-{other}\n",
                hex(other.as_bytes())
            ));
        }
        if tamper {
            let last = bytes.len() - 9;
            bytes[last] ^= 0x55;
        }
        self.put(tag, &format!("{name}.tar.gz"), &bytes);
        self.put(tag, "SHA256SUMS", sums.as_bytes());
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for ReleaseServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.address);
    }
}

fn serve(mut stream: TcpStream, root: &Path, log: &Mutex<Vec<String>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request = String::new();
    if reader.read_line(&mut request).is_err() {
        return;
    }
    loop {
        let mut header = String::new();
        match reader.read_line(&mut header) {
            Ok(0) | Err(_) => break,
            Ok(_) if header == "\r\n" => break,
            Ok(_) => {}
        }
    }
    let path = request.split_whitespace().nth(1).unwrap_or("/").to_owned();
    log.lock().unwrap().push(path.clone());
    let file = root.join(path.trim_start_matches('/'));
    let response = match (path.contains(".."), std::fs::read(&file)) {
        (false, Ok(body)) => {
            let mut head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )
            .into_bytes();
            head.extend(body);
            head
        }
        _ => b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nNot Found"
            .to_vec(),
    };
    let _ = stream.write_all(&response);
}

/// One step, as run (or, for `uses:` steps, as simulated).
#[derive(Debug, Default)]
struct StepRun {
    id: String,
    uses: Option<String>,
    ran: bool,
    /// `success`, `failure` or `skipped`, as `steps.<id>.outcome`.
    outcome: String,
    with: BTreeMap<String, String>,
    exit: Option<i32>,
    stdout: String,
    stderr: String,
    outputs: BTreeMap<String, String>,
    summary: String,
    took: Duration,
    /// When the first workflow-command annotation (`::error`/`::warning`/`::notice file=`)
    /// reached stdout, from the start of the run.
    first_annotation: Option<Duration>,
}

/// How the simulated world around the action behaves.
struct World {
    server: ReleaseServer,
    /// The actions cache (kept across runs: a second run is a warm runner).
    cache: tempfile::TempDir,
    action_ref: String,
    upload_fails: bool,
}

impl World {
    fn new() -> World {
        let server = ReleaseServer::start();
        server.publish(VERSION, false);
        World {
            server,
            cache: tempfile::tempdir().unwrap(),
            action_ref: VERSION.to_owned(),
            upload_fails: false,
        }
    }

    fn cached_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = std::fs::read_dir(self.cache.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        keys.sort();
        keys
    }
}

/// One job run of the action.
struct Job {
    steps: Vec<StepRun>,
    /// Whether the job failed (a failing step without `continue-on-error`).
    failed: bool,
    temp: tempfile::TempDir,
}

impl Job {
    fn step(&self, id: &str) -> &StepRun {
        self.steps
            .iter()
            .find(|s| s.id == id || s.uses.as_deref().is_some_and(|u| u.starts_with(id)))
            .unwrap_or_else(|| panic!("no step `{id}` in {:#?}", self.steps))
    }

    fn cargo_log(&self) -> String {
        std::fs::read_to_string(self.temp.path().join("cargo.log")).unwrap_or_default()
    }

    fn uploaded(&self) -> Vec<PathBuf> {
        let dir = self.temp.path().join("uploaded");
        match std::fs::read_dir(&dir) {
            Ok(entries) => entries.map(|e| e.unwrap().path()).collect(),
            Err(_) => Vec::new(),
        }
    }
}

struct Runner<'w> {
    action: Value,
    inputs: BTreeMap<String, String>,
    workspace: PathBuf,
    temp: PathBuf,
    world: &'w World,
    path: Vec<PathBuf>,
    steps: Vec<StepRun>,
    started: Instant,
}

impl<'w> Runner<'w> {
    fn new(world: &'w World, workspace: &Path, temp: &Path, inputs: &[(&str, &str)]) -> Self {
        let text = std::fs::read_to_string(root().join("action.yml")).unwrap();
        let action: Value = serde_saphyr::from_str(&text).unwrap();
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
        // The stand-in for cargo (see the module comment).
        let tools = temp.join("tools");
        std::fs::create_dir_all(&tools).unwrap();
        let cargo = tools.join("cargo");
        std::fs::write(
            &cargo,
            "#!/usr/bin/env bash\nset -eu\necho \"$*\" >> \"$FAKE_CARGO_LOG\"\nroot=\"\"\ntarget=\"\"\nwhile [ $# -gt 0 ]; do\n  if [ \"$1\" = --root ]; then root=\"$2\"; shift; fi\n  if [ \"$1\" = --target-dir ]; then target=\"$2\"; shift; fi\n  shift\ndone\nmkdir -p \"$target/release\" \"$root/bin\"\necho built > \"$target/release/.fingerprint\"\ncp \"$RESILIX_TEST_LAUNCHER\" \"$root/bin/resilix\"\nchmod +x \"$root/bin/resilix\"\n",
        )
        .unwrap();
        make_executable(&cargo);
        std::fs::write(tools.join("resilix-launcher"), launcher()).unwrap();
        std::fs::create_dir_all(temp.join("home")).unwrap();
        Runner {
            action,
            inputs: values,
            workspace: workspace.to_path_buf(),
            temp: temp.to_path_buf(),
            world,
            path: vec![tools],
            steps: Vec::new(),
            started: Instant::now(),
        }
    }

    fn runner_temp(&self) -> PathBuf {
        self.temp.join("runner-temp")
    }

    /// The value of a context path such as `inputs.fail-on` or `steps.scan.outputs.sarif`.
    fn context(&self, path: &str) -> String {
        let parts: Vec<&str> = path.split('.').collect();
        let step = |id: &str| self.steps.iter().find(|s| s.id == id);
        match parts.as_slice() {
            ["inputs", name] => self.inputs.get(*name).cloned().unwrap_or_default(),
            ["steps", id, "outputs", name] => step(id)
                .and_then(|s| s.outputs.get(*name).cloned())
                .unwrap_or_default(),
            ["steps", id, "outcome"] => step(id).map(|s| s.outcome.clone()).unwrap_or_default(),
            ["runner", "temp"] => self.runner_temp().display().to_string(),
            ["runner", "os"] => "Linux".to_owned(),
            ["runner", "arch"] => "X64".to_owned(),
            ["github", "action_path"] => root().display().to_string(),
            ["github", "action_ref"] => self.world.action_ref.clone(),
            ["github", "action_repository"] => REPOSITORY.to_owned(),
            ["github", "server_url"] => self.world.server.url.clone(),
            _ => panic!("the test runner does not know the context `{path}`"),
        }
    }

    /// An expression of the forms action.yml uses: a context path, or `a == 'x' && b != ''`.
    fn evaluate(&self, expression: &str) -> String {
        if expression.contains("==") || expression.contains("!=") {
            self.condition(expression).to_string()
        } else {
            self.context(expression)
        }
    }

    fn expand(&self, text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${{") {
            out.push_str(&rest[..start]);
            let end = rest[start..].find("}}").expect("unclosed ${{") + start;
            out.push_str(&self.evaluate(rest[start + 3..end].trim()));
            rest = &rest[end + 2..];
        }
        out.push_str(rest);
        out
    }

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

    fn home_path(&self, path: &str) -> PathBuf {
        match path.strip_prefix("~/") {
            Some(rest) => self.temp.join("home").join(rest),
            None => PathBuf::from(path),
        }
    }

    /// The actions this action uses, simulated. Returns whether the step succeeded.
    fn simulate(&self, uses: &str, run: &mut StepRun) -> bool {
        let (action, pin) = uses.split_once('@').unwrap();
        assert!(
            pin.len() == 40 && pin.chars().all(|c| c.is_ascii_hexdigit()),
            "`{uses}`: third-party actions are pinned by commit SHA"
        );
        let paths: Vec<PathBuf> = run
            .with
            .get("path")
            .map(|p| {
                p.lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(|l| self.home_path(l.trim()))
                    .collect()
            })
            .unwrap_or_default();
        let store = self.world.cache.path();
        match action {
            "actions/cache/restore" => {
                let key = &run.with["key"];
                let prefixes: Vec<String> = run
                    .with
                    .get("restore-keys")
                    .map(|k| {
                        k.lines()
                            .map(str::to_owned)
                            .filter(|l| !l.is_empty())
                            .collect()
                    })
                    .unwrap_or_default();
                let found = if store.join(key).is_dir() {
                    Some(key.clone())
                } else {
                    self.world
                        .cached_keys()
                        .into_iter()
                        .find(|k| prefixes.iter().any(|p| k.starts_with(p)))
                };
                if let Some(found) = &found {
                    for (n, path) in paths.iter().enumerate() {
                        copy_tree(&store.join(found).join(n.to_string()), path);
                    }
                    run.outputs
                        .insert("cache-matched-key".into(), found.clone());
                }
                run.outputs.insert(
                    "cache-hit".into(),
                    (found.as_deref() == Some(key.as_str())).to_string(),
                );
                true
            }
            "actions/cache/save" => {
                let key = &run.with["key"];
                if !store.join(key).exists() {
                    for (n, path) in paths.iter().enumerate() {
                        copy_tree(path, &store.join(key).join(n.to_string()));
                    }
                }
                true
            }
            "github/codeql-action/upload-sarif" => {
                if self.world.upload_fails {
                    run.stderr = "Error: Resource not accessible by integration (code scanning is not enabled)".into();
                    return false;
                }
                let file = self.workspace.join(&run.with["sarif_file"]);
                let dir = self.temp.join("uploaded");
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::copy(&file, dir.join("results.sarif")).unwrap();
                true
            }
            other => panic!("the test runner does not simulate `{other}`"),
        }
    }

    /// Runs the steps in order; stops at the first failing step without `continue-on-error`.
    fn run(mut self) -> (Vec<StepRun>, bool) {
        let steps = self.action["runs"]["steps"].as_array().unwrap().clone();
        let runner_temp = self.runner_temp();
        std::fs::create_dir_all(&runner_temp).unwrap();
        let mut failed = false;
        for (n, step) in steps.iter().enumerate() {
            let id = step["id"]
                .as_str()
                .map_or_else(|| format!("step{n}"), str::to_owned);
            let mut run = StepRun {
                id: id.clone(),
                uses: step["uses"].as_str().map(str::to_owned),
                outcome: "skipped".to_owned(),
                ..StepRun::default()
            };
            if !step["if"].as_str().is_none_or(|c| self.condition(c)) {
                self.steps.push(run);
                continue;
            }
            let start = Instant::now();
            if let Some(with) = step["with"].as_object() {
                for (key, value) in with {
                    run.with
                        .insert(key.clone(), self.expand(value.as_str().unwrap()));
                }
            }
            let ok = if let Some(uses) = run.uses.clone() {
                run.ran = true;
                self.simulate(&uses, &mut run)
            } else {
                self.shell(n, step, &mut run, &runner_temp)
            };
            run.took = start.elapsed();
            run.outcome = if ok { "success" } else { "failure" }.to_owned();
            let continue_on_error = match &step["continue-on-error"] {
                Value::Bool(b) => *b,
                Value::String(s) => self.expand(s) == "true",
                _ => false,
            };
            self.steps.push(run);
            if !ok && !continue_on_error {
                failed = true;
                break;
            }
        }
        (self.steps, failed)
    }

    fn shell(&mut self, n: usize, step: &Value, run: &mut StepRun, runner_temp: &Path) -> bool {
        let id = &run.id;
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
            .env("GITHUB_SERVER_URL", &self.world.server.url)
            .env("GITHUB_OUTPUT", &output)
            .env("GITHUB_STEP_SUMMARY", &summary)
            .env("GITHUB_PATH", &github_path)
            .env("RUNNER_TEMP", runner_temp)
            .env("RUNNER_OS", "Linux")
            .env("RUNNER_ARCH", "X64")
            .env("NO_COLOR", "1")
            .env("FAKE_CARGO_LOG", self.temp.join("cargo.log"))
            .env(
                "RESILIX_TEST_LAUNCHER",
                self.temp.join("tools/resilix-launcher"),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // The runner's Rust toolchain (rustup's, outside the simulated home).
        let rustup_home = std::env::var_os("RUSTUP_HOME").unwrap_or_else(|| {
            Path::new(&std::env::var_os("HOME").unwrap_or_default())
                .join(".rustup")
                .into_os_string()
        });
        command.env("RUSTUP_HOME", rustup_home);
        if let Some(toolchain) = std::env::var_os("RUSTUP_TOOLCHAIN") {
            command.env("RUSTUP_TOOLCHAIN", toolchain);
        }
        if let Some(env) = step["env"].as_object() {
            for (key, value) in env {
                command.env(key, self.expand(value.as_str().unwrap()));
            }
        }
        let mut child = command.spawn().unwrap();
        let mut stderr_pipe = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            stderr_pipe.read_to_string(&mut text).unwrap();
            text
        });
        // Stdout line by line, to see when the first annotation arrives.
        for line in BufReader::new(child.stdout.take().unwrap()).lines() {
            let line = line.unwrap();
            if run.first_annotation.is_none()
                && ["::error file=", "::warning file=", "::notice file="]
                    .iter()
                    .any(|p| line.starts_with(p))
            {
                run.first_annotation = Some(self.started.elapsed());
            }
            run.stdout.push_str(&line);
            run.stdout.push('\n');
        }
        let status = child.wait().unwrap();
        run.ran = true;
        run.exit = status.code();
        run.stderr = stderr.join().unwrap();
        run.outputs = parse_outputs(&std::fs::read_to_string(&output).unwrap());
        run.summary = std::fs::read_to_string(&summary).unwrap();
        for line in std::fs::read_to_string(&github_path).unwrap().lines() {
            self.path.insert(0, PathBuf::from(line));
        }
        run.exit == Some(0)
    }
}

/// What the fake release's archives and the stand-in `cargo` install as `resilix`: a launcher
/// of the binary built for these tests. That binary is a 350 MB debug build; packing, hashing,
/// serving, caching and unpacking it in every test would measure the disk, not the action.
/// The action handles the launcher exactly as the real binary (checksum, unpacking, cache,
/// PATH), and the scan it runs is the real one.
fn launcher() -> String {
    format!(
        "#!/bin/sh\nexec '{}' \"$@\"\n",
        insta_cmd::get_cargo_bin("resilix").display()
    )
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
    copy_tree(&fixture("repos/network"), dir.path());
    std::fs::create_dir_all(dir.path().join(".git")).unwrap();
    dir
}

/// Runs the action once in `workspace` (a fresh runner: its own temp and home; the cache is the
/// world's).
fn run_action(world: &World, workspace: &Path, inputs: &[(&str, &str)]) -> Job {
    let temp = tempfile::tempdir().unwrap();
    let (steps, failed) = Runner::new(world, workspace, temp.path(), inputs).run();
    Job {
        steps,
        failed,
        temp,
    }
}

const REPO_INPUTS: [(&str, &str); 3] = [
    ("paths", "plan.json"),
    ("policies", "policies"),
    ("category", "terraform"),
];

#[test]
fn action_downloads_the_release_verifies_it_and_scans_once() {
    let world = World::new();
    let workspace = workspace();
    let job = run_action(&world, workspace.path(), &REPO_INPUTS);

    // The release of the action's tag, for Linux x86_64, checked against SHA256SUMS.
    let install = job.step("install");
    assert_eq!(
        install.exit,
        Some(0),
        "{}{}",
        install.stdout,
        install.stderr
    );
    let prefix = format!("/{REPOSITORY}/releases/download/{VERSION}");
    assert_eq!(
        world.server.requests(),
        [
            format!("{prefix}/SHA256SUMS"),
            format!("{prefix}/resilix-{VERSION}-{TARGET}.tar.gz")
        ]
    );
    assert!(
        install.stdout.contains("as SHA256SUMS lists it"),
        "{}",
        install.stdout
    );
    assert_eq!(install.outputs["version"], VERSION);
    assert_eq!(job.cargo_log(), "", "nothing is built");
    // Cached right away under the version and target.
    assert!(job.step("actions/cache/save").ran);
    assert_eq!(
        world.cached_keys(),
        [format!("resilix-bin-{VERSION}-{TARGET}")]
    );
    assert!(!job.steps.iter().any(|s| s.id == "build" && s.ran));

    // One scan: annotations on the .tf lines, SARIF and summary from the same run.
    let scan = job.step("scan");
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

    // Uploaded, then the gate fails the job: the decision comes after the summary and upload.
    let upload = job.step("upload");
    assert_eq!(upload.outcome, "success");
    assert_eq!(upload.with["sarif_file"], "resilix.sarif");
    assert_eq!(upload.with["category"], "terraform");
    assert_eq!(job.uploaded().len(), 1);
    let gate = job.steps.last().unwrap();
    assert_eq!(gate.exit, Some(1), "{}", gate.stdout);
    assert!(job.failed);
    let order: Vec<&str> = job
        .steps
        .iter()
        .filter(|s| s.ran)
        .map(|s| s.id.as_str())
        .collect();
    let position = |id: &str| order.iter().position(|s| *s == id).unwrap();
    assert!(position("scan") < position("upload") && position("upload") < order.len() - 1);

    // From a cold runner cache to the first annotation (the figure in the closing
    // note; printed, not asserted: speed is measured by benchmarks, not timed tests).
    let first = scan.first_annotation.unwrap();
    let download = install.took;
    eprintln!(
        "cold cache → first annotation: {:.2} s (of which the install step, download and checksum, {:.2} s; scan step {:.2} s)",
        first.as_secs_f64(),
        download.as_secs_f64(),
        scan.took.as_secs_f64()
    );
}

#[test]
fn a_warm_cache_skips_the_download() {
    let world = World::new();
    let workspace = workspace();
    let cold = run_action(&world, workspace.path(), &REPO_INPUTS);
    assert_eq!(cold.step("install").exit, Some(0));
    let requests = world.server.requests().len();
    assert_eq!(requests, 2);
    // A new runner (fresh temp and home), the same cache.
    let warm = run_action(&world, workspace.path(), &REPO_INPUTS);
    let restore = warm.step("restore-bin");
    assert_eq!(restore.outputs["cache-hit"], "true");
    let install = warm.step("install");
    assert_eq!(install.exit, Some(0), "{}", install.stderr);
    assert!(
        install.stdout.contains("from the runner cache"),
        "{}",
        install.stdout
    );
    assert_eq!(
        world.server.requests().len(),
        requests,
        "no request on a cache hit"
    );
    assert!(
        !warm.step("actions/cache/save").ran,
        "nothing to save again"
    );
    assert_eq!(warm.step("scan").outputs["exit-code"], "1");
}

#[test]
fn a_tampered_asset_fails_the_step_and_is_not_cached() {
    let world = World::new();
    world.server.publish(VERSION, true);
    let workspace = workspace();
    let job = run_action(&world, workspace.path(), &REPO_INPUTS);
    let install = job.step("install");
    assert_eq!(install.exit, Some(1));
    assert!(
        install
            .stdout
            .contains("::error title=resilix checksum mismatch::"),
        "{}",
        install.stdout
    );
    assert!(job.failed);
    assert_eq!(
        job.steps.last().unwrap().id,
        "install",
        "nothing runs after it"
    );
    assert!(
        world.cached_keys().is_empty(),
        "a bad download is never cached"
    );
    assert_eq!(
        job.cargo_log(),
        "",
        "no fallback build either: a mismatch is not a missing asset"
    );
    assert!(!workspace.path().join("resilix.sarif").exists());
}

#[test]
fn no_matching_release_asset_builds_from_source() {
    let lock = std::fs::read(root().join("Cargo.lock")).unwrap();
    let rustc = Command::new("rustc").arg("-V").output().unwrap().stdout;
    let expected_key = format!(
        "resilix-build-Linux-X64-{}-{}",
        &hex(&rustc)[..16],
        &hex(&lock)[..16]
    );
    for (why, inputs, publish) in [
        ("no such release", vec![("version", "v99.0.0")], None),
        (
            "the release has no asset for the target",
            vec![],
            Some("only-windows"),
        ),
        ("asked for", vec![("version", "source")], None),
    ] {
        let world = World::new();
        if publish.is_some() {
            world.server.put(
                VERSION,
                "SHA256SUMS",
                format!(
                    "{}  resilix-{VERSION}-x86_64-pc-windows-msvc.zip\n",
                    hex(b"x")
                )
                .as_bytes(),
            );
        }
        let workspace = workspace();
        let mut all: Vec<(&str, &str)> = REPO_INPUTS.to_vec();
        all.extend(inputs);
        let job = run_action(&world, workspace.path(), &all);
        let install = job.step("install");
        assert_eq!(install.exit, Some(0), "{why}: {}", install.stderr);
        assert!(
            install
                .stdout
                .contains("building resilix from the action's source"),
            "{why}"
        );
        assert_eq!(
            install.outputs["build-key"], expected_key,
            "{why}: rustc version + Cargo.lock"
        );
        assert_eq!(job.step("restore-build").outputs["cache-hit"], "false");
        let cargo = job.cargo_log();
        assert!(
            cargo.starts_with(&format!(
                "install --locked --quiet --path {}",
                root().display()
            )),
            "{why}: {cargo}"
        );
        assert_eq!(
            world.cached_keys(),
            std::slice::from_ref(&expected_key),
            "{why}"
        );
        assert_eq!(
            job.step("scan").outputs["exit-code"],
            "1",
            "{why}: the built binary scans"
        );
    }
}

#[test]
fn an_action_pinned_by_commit_runs_its_cargo_version() {
    let mut world = World::new();
    world.action_ref = "0123456789abcdef0123456789abcdef01234567".to_owned();
    let workspace = workspace();
    let job = run_action(&world, workspace.path(), &REPO_INPUTS);
    assert_eq!(job.step("prepare").outputs["version"], VERSION);
    assert_eq!(job.step("install").outputs["version"], VERSION);
    assert_eq!(job.cargo_log(), "");
    // A bad version input is refused before anything is fetched.
    let job = run_action(
        &world,
        workspace.path(),
        &[("paths", "plan.json"), ("version", "latest")],
    );
    assert_eq!(job.step("prepare").exit, Some(1));
    assert!(
        job.step("prepare")
            .stdout
            .contains("must be a release such as v0.2.0")
    );
}

#[test]
fn an_impossible_upload_does_not_fail_a_soft_fail_job() {
    let mut world = World::new();
    world.upload_fails = true;
    let workspace = workspace();
    let mut inputs = REPO_INPUTS.to_vec();
    inputs.push(("soft-fail", "true"));
    let job = run_action(&world, workspace.path(), &inputs);
    assert_eq!(job.step("upload").outcome, "failure");
    let gate = job.steps.last().unwrap();
    assert_eq!(gate.exit, Some(0), "{}", gate.stdout);
    assert!(
        gate.stdout.contains("the SARIF could not be uploaded"),
        "{}",
        gate.stdout
    );
    assert!(!job.failed);
    // Without soft-fail the failed upload fails the job.
    let job = run_action(&world, workspace.path(), &REPO_INPUTS);
    assert!(job.failed);
    assert_eq!(job.steps.last().unwrap().id, "upload");
}

#[test]
fn action_soft_fail_without_annotations_or_summary() {
    let world = World::new();
    let workspace = workspace();
    let job = run_action(
        &world,
        workspace.path(),
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
    );
    let scan = job.step("scan");
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
    assert!(sarif.starts_with(job.temp.path()) && sarif.is_file());
    assert!(!job.step("upload").ran);
    let gate = job.steps.last().unwrap();
    assert_eq!(gate.exit, Some(0), "soft-fail: {}", gate.stdout);
}

#[test]
fn action_passes_check_skip_check_and_skip_path() {
    let world = World::new();
    let workspace = workspace();
    std::fs::create_dir_all(workspace.path().join("old")).unwrap();
    std::fs::write(
        workspace.path().join("old/plan.json"),
        "{\"format_version\": ",
    )
    .unwrap();
    let job = run_action(
        &world,
        workspace.path(),
        &[
            ("paths", "."),
            ("policies", "policies"),
            ("check", "aws.s3.*\nfixture.*"),
            ("skip-check", "aws.s3.replication aws.s3.lifecycle"),
            ("skip-path", "old plan.spec.json"),
            ("upload-sarif", "false"),
        ],
    );
    let scan = job.step("scan");
    assert_eq!(scan.outputs["exit-code"], "1", "{}", scan.stderr);
    let sarif: Value = serde_json::from_str(
        &std::fs::read_to_string(workspace.path().join("resilix.sarif")).unwrap(),
    )
    .unwrap();
    let rules: Vec<&str> = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(
        rules
            .iter()
            .all(|id| id.starts_with("aws.s3.") || id.starts_with("fixture."))
    );
    assert!(!rules.contains(&"aws.s3.replication") && !rules.contains(&"aws.s3.lifecycle"));
    assert!(!scan.stderr.contains("old/plan.json"), "{}", scan.stderr);
}

#[test]
fn action_with_a_baseline_passes_on_known_findings() {
    let world = World::new();
    let workspace = workspace();
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
    let job = run_action(
        &world,
        workspace.path(),
        &[
            ("paths", "plan.json"),
            ("policies", "policies"),
            ("baseline", "baseline.json"),
        ],
    );
    let scan = job.step("scan");
    assert_eq!(scan.outputs["exit-code"], "0", "{}", scan.stderr);
    assert!(
        !scan.stdout.contains("::error"),
        "known findings are notices"
    );
    assert!(scan.summary.contains("known (reported, not failing)"));
    let sarif = std::fs::read_to_string(workspace.path().join("resilix.sarif")).unwrap();
    assert!(sarif.contains("\"baselineState\": \"unchanged\""));
    assert_eq!(job.steps.last().unwrap().exit, Some(0));
}

#[test]
fn an_unreadable_plan_fails_even_with_soft_fail_and_uploads_nothing() {
    let world = World::new();
    let workspace = workspace();
    std::fs::write(
        workspace.path().join("broken.json"),
        "{\"format_version\": ",
    )
    .unwrap();
    let job = run_action(
        &world,
        workspace.path(),
        &[
            ("paths", "broken.json plan.json"),
            ("policies", "policies"),
            ("soft-fail", "true"),
        ],
    );
    let scan = job.step("scan");
    assert_eq!(scan.outputs["exit-code"], "2");
    assert!(
        scan.stdout.contains("::error file=broken.json,line=1"),
        "{}",
        scan.stdout
    );
    // The SARIF exists (plan.json's findings, the error as a notification) but is not
    // uploaded: code scanning would close the alerts broken.json could not confirm.
    assert!(workspace.path().join("resilix.sarif").is_file());
    assert!(!job.step("upload").ran);
    assert!(job.uploaded().is_empty());
    let gate = job.steps.last().unwrap();
    assert_eq!(gate.exit, Some(2));
    assert!(gate.stdout.contains("no SARIF uploaded"), "{}", gate.stdout);
}

/// The Dockerfile cannot be built here (no Docker engine on this machine); its structure is
/// checked instead: a build stage on the MSRV toolchain with `--locked`, a small final stage
/// that runs as a non-root user with resilix as the entry point.
#[test]
fn dockerfile_is_multi_stage_small_and_non_root() {
    let text = std::fs::read_to_string(root().join("Dockerfile")).unwrap();
    let instructions: Vec<(String, String)> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .fold(Vec::<String>::new(), |mut lines, line| {
            match lines.last_mut() {
                Some(last) if last.ends_with('\\') => {
                    last.pop();
                    last.push(' ');
                    last.push_str(line);
                }
                _ => lines.push(line.to_owned()),
            }
            lines
        })
        .into_iter()
        .map(|l| {
            let (op, rest) = l.split_once(char::is_whitespace).unwrap_or((&l, ""));
            (op.to_ascii_uppercase(), rest.trim().to_owned())
        })
        .collect();
    let stages: Vec<usize> = instructions
        .iter()
        .enumerate()
        .filter(|(_, (op, _))| op == "FROM")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(stages.len(), 2, "a build stage and a final stage");
    let msrv = std::fs::read_to_string(root().join("Cargo.toml"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = \""))
        .unwrap()
        .trim_end_matches('"')
        .to_owned();
    let build_from = &instructions[stages[0]].1;
    assert!(
        build_from.starts_with(&format!("rust:{msrv}-")),
        "{build_from}"
    );
    assert!(build_from.ends_with(" AS build"), "{build_from}");
    let build = &instructions[stages[0]..stages[1]];
    assert!(
        build
            .iter()
            .any(|(op, rest)| op == "RUN" && rest.contains("cargo build --release --locked"))
    );
    let last = &instructions[stages[1]..];
    let final_from = &last[0].1;
    assert!(
        final_from.contains("distroless/cc"),
        "small final image: {final_from}"
    );
    let user = last
        .iter()
        .rev()
        .find(|(op, _)| op == "USER")
        .map(|(_, u)| u.as_str());
    assert!(
        user.is_some_and(|u| !matches!(u, "root" | "0" | "0:0")),
        "runs as a non-root user: {user:?}"
    );
    assert!(
        last.iter()
            .any(|(op, rest)| op == "COPY" && rest.starts_with("--from=build "))
    );
    assert!(
        last.iter()
            .any(|(op, rest)| op == "ENTRYPOINT" && rest.contains("resilix"))
    );
    assert!(
        !last.iter().any(|(op, _)| op == "RUN"),
        "nothing but the binary in the final image"
    );
    let ignore = std::fs::read_to_string(root().join(".dockerignore")).unwrap();
    for excluded in ["target", ".git"] {
        assert!(
            ignore.lines().any(|l| l.trim_matches('/') == excluded),
            "{excluded}"
        );
    }
}
