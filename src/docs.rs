//! Documentation generated from the catalog: the policy reference (`docs/policies.md`, kept
//! fresh by a test), `policies show`, and control coverage (`controls`).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::frameworks;
use crate::model::SourceKind;
use crate::policy::{Catalog, Category, Policy, SettingDefault};

/// The anchor GitHub gives the heading of a policy section (`### \`aws.s3.x\`` → `awss3x`).
pub fn anchor(policy_id: &str) -> String {
    policy_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect()
}

fn kinds(policy: &Policy) -> Vec<(SourceKind, Vec<&str>)> {
    policy.types_by_kind().into_iter().collect()
}

/// A policy's controls in report order: NIST, ISO 17799, COBIT 4.1, then CIS and others.
pub fn ordered_controls(policy: &Policy) -> Vec<(&String, &Vec<String>)> {
    let mut controls: Vec<(&String, &Vec<String>)> = policy.controls.iter().collect();
    controls.sort_by_key(|(framework, _)| {
        let rank = crate::policy::REQUIRED_FRAMEWORKS
            .iter()
            .position(|f| f == framework)
            .unwrap_or(crate::policy::REQUIRED_FRAMEWORKS.len());
        (rank, framework.as_str())
    });
    controls
}

/// " (derived)", " (from Security Hub Redshift.10)" or nothing: where a framework list comes from.
fn provenance(policy: &Policy, framework: &str) -> String {
    if policy.derived.iter().any(|d| d == framework) {
        " (derived)".to_owned()
    } else if let Some(source) = policy.sources.get(framework) {
        format!(" (from {})", source.from)
    } else {
        String::new()
    }
}

fn control_title(framework: &str, id: &str) -> Option<&'static str> {
    frameworks::get(framework)?
        .control(id)
        .map(|c| c.title.as_str())
}

/// The Markdown policy reference: a table of contents by category, then one section per policy.
pub fn policy_reference(catalog: &Catalog) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Policy reference\n");
    let _ = writeln!(
        out,
        "Generated from `policies/` by `resilix policies docs`; a test fails when this file is stale.\n\n\
         {} policies. Severity says how bad the weakness is; every policy maps to NIST SP 800-53 Rev. 5, \
         ISO/IEC 17799:2005 and COBIT 4.1; a policy that implements a Security Hub control of the AWS \
         Foundational Security Best Practices standard names it (`aws-fsbp`), and CIS AWS Foundations \
         recommendations are named where one exists. Framework picks marked *derived* are our judgement rather than a published mapping; a list \
         marked *from* a Security Hub control or AWS Config rule copies that published list, and every \
         difference from it is listed with its reason (a test fails when they disagree).\n",
        catalog.len()
    );
    let mut by_category: BTreeMap<Category, Vec<&Policy>> = BTreeMap::new();
    for policy in &catalog.policies {
        by_category.entry(policy.category).or_default().push(policy);
    }
    for (category, policies) in &by_category {
        let _ = writeln!(out, "## {} ({})\n", category.as_str(), policies.len());
        let _ = writeln!(out, "| id | severity | inputs | title |\n|---|---|---|---|");
        for policy in policies {
            let inputs: Vec<&str> = kinds(policy).iter().map(|(k, _)| k.as_str()).collect();
            let _ = writeln!(
                out,
                "| [`{}`](#{}) | {} | {} | {}{} |",
                policy.id,
                anchor(&policy.id),
                policy.severity,
                inputs.join(", "),
                policy.title,
                if policy.enabled { "" } else { " *(opt-in)*" }
            );
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(out, "## Settings left unset\n");
    let _ = writeln!(
        out,
        "A plan says nothing about a setting its author leaves out: AWS's default applies. Each \
         policy declares, for the settings it judges, what that default is and what resilix does \
         with it (`defaults:` of a target): *fail* (the default is unsafe), *pass* (it is safe), \
         *review* (it depends on something the plan does not show), *= value* (the value AWS \
         uses, judged as if it were set), or the setting of another resource of the plan. A \
         setting set by an expression known only after apply is not unset: a value test on it \
         is *review*.\n"
    );
    let _ = writeln!(
        out,
        "| policy | input | types | setting | AWS's default | resilix |\n|---|---|---|---|---|---|"
    );
    for policy in &catalog.policies {
        for target in &policy.targets {
            for default in &target.defaults {
                let _ = writeln!(
                    out,
                    "| [`{}`](#{}) | {} | {} | `{}` | {} ([AWS]({})) | {} |",
                    policy.id,
                    anchor(&policy.id),
                    target.kind,
                    target
                        .types
                        .iter()
                        .map(|t| format!("`{t}`"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    default.setting(),
                    default.aws.trim(),
                    default.reference,
                    default.short_resolution()
                );
            }
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "## Policies\n");
    for policy in &catalog.policies {
        let _ = writeln!(out, "### `{}`\n", policy.id);
        let _ = writeln!(
            out,
            "**{}** — {} · {}{}\n",
            policy.title,
            policy.severity,
            policy.category,
            if policy.enabled {
                ""
            } else {
                " · opt-in (off unless `policies: {enable: [...]}` in resilix.yaml names it)"
            }
        );
        let _ = writeln!(out, "{}\n", policy.description.trim());
        let _ = writeln!(out, "*Why it matters.* {}\n", policy.rationale.trim());
        let _ = writeln!(out, "*How to fix.* {}\n", policy.remediation.text.trim());
        if let Some(snippet) = &policy.remediation.terraform {
            let _ = writeln!(out, "```hcl\n{}\n```\n", snippet.trim_end());
        }
        let _ = writeln!(out, "| input | resource types |\n|---|---|");
        for (kind, types) in kinds(policy) {
            let _ = writeln!(
                out,
                "| {kind} | {} |",
                types
                    .iter()
                    .map(|t| format!("`{t}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        let defaults: Vec<(SourceKind, &SettingDefault)> = policy
            .targets
            .iter()
            .flat_map(|t| t.defaults.iter().map(move |d| (t.kind, d)))
            .collect();
        if !defaults.is_empty() {
            let _ = writeln!(
                out,
                "\n| input | setting not set | AWS's default | resilix |\n|---|---|---|---|"
            );
            for (kind, default) in &defaults {
                let _ = writeln!(
                    out,
                    "| {kind} | `{}` | {} ([AWS]({})) | {} |",
                    default.setting(),
                    default.aws.trim(),
                    default.reference,
                    default.short_resolution()
                );
            }
        }
        let _ = writeln!(out, "\n| framework | controls |\n|---|---|");
        for (framework, ids) in ordered_controls(policy) {
            let listed: Vec<String> = ids
                .iter()
                .map(|id| match control_title(framework, id) {
                    Some(title) => format!("{id} {title}"),
                    None => id.clone(),
                })
                .collect();
            let _ = writeln!(
                out,
                "| {framework}{} | {} |",
                provenance(policy, framework),
                listed.join("; ")
            );
        }
        for (framework, source) in &policy.sources {
            if source.exclude.is_empty() && source.add.is_empty() {
                continue;
            }
            let _ = writeln!(out, "\n*{framework} differs from {}:*\n", source.from);
            for (id, reason) in &source.exclude {
                let _ = writeln!(out, "- {id} not mapped: {}", reason.trim());
            }
            for (id, reason) in &source.add {
                let _ = writeln!(out, "- {id} added: {}", reason.trim());
            }
        }
        if !policy.params.is_empty() {
            let _ = writeln!(out, "\n| parameter | default | meaning |\n|---|---|---|");
            for (name, param) in &policy.params {
                let _ = writeln!(
                    out,
                    "| `{name}` | `{}` | {} |",
                    param.default,
                    param.description.trim()
                );
            }
        }
        if !policy.references.is_empty() {
            let _ = writeln!(
                out,
                "\nReferences: {}",
                policy
                    .references
                    .iter()
                    .map(|r| format!("<{r}>"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(
        out,
        "---\n\nControl IDs and short titles only; no control text. NIST SP 800-53 is a U.S. Government work. \
         ISO/IEC 17799 is © ISO/IEC and COBIT 4.1 © ISACA/ITGI. ISO 17799 and COBIT 4.1 mappings derive in part \
         from the Open Security Architecture control catalogue (opensecurityarchitecture.org), licensed \
         CC BY-SA 4.0; modified. CIS AWS Foundations recommendation numbers only (CIS Benchmarks are CC BY-NC-SA 4.0)."
    );
    out
}

/// One policy rendered for a person (`resilix policies show ID`).
pub fn policy_text(policy: &Policy) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}\n{}\n", policy.id, "=".repeat(policy.id.len()));
    let _ = writeln!(out, "{}", policy.title);
    if !policy.enabled {
        let _ = writeln!(
            out,
            "opt-in: off unless resilix.yaml enables it (policies: {{enable: [{}]}})",
            policy.id
        );
    }
    let _ = writeln!(
        out,
        "severity {} · category {} · {:?}\n",
        policy.severity, policy.category, policy.status
    );
    let _ = writeln!(out, "{}\n", policy.description.trim());
    let _ = writeln!(out, "Why it matters\n  {}\n", policy.rationale.trim());
    let _ = writeln!(out, "How to fix\n  {}", policy.remediation.text.trim());
    if let Some(snippet) = &policy.remediation.terraform {
        for line in snippet.trim_end().lines() {
            let _ = writeln!(out, "    {line}");
        }
    }
    let _ = writeln!(out, "\nChecks");
    for (kind, types) in kinds(policy) {
        let _ = writeln!(out, "  {kind}: {}", types.join(", "));
    }
    let _ = writeln!(out, "\nControls");
    for (framework, ids) in ordered_controls(policy) {
        let _ = writeln!(out, "  {framework}{}", provenance(policy, framework));
        for id in ids {
            let _ = writeln!(
                out,
                "    {id:<10} {}",
                control_title(framework, id).unwrap_or("")
            );
        }
        if let Some(source) = policy.sources.get(framework) {
            for (id, reason) in &source.exclude {
                let _ = writeln!(
                    out,
                    "    {id} is in {} but not mapped: {}",
                    source.from,
                    reason.trim()
                );
            }
            for (id, reason) in &source.add {
                let _ = writeln!(
                    out,
                    "    {id} is mapped beyond {}: {}",
                    source.from,
                    reason.trim()
                );
            }
        }
    }
    if !policy.params.is_empty() {
        let _ = writeln!(out, "\nParameters");
        for (name, param) in &policy.params {
            let _ = writeln!(
                out,
                "  {name} = {}   {}",
                param.value,
                param.description.trim()
            );
        }
    }
    if !policy.references.is_empty() {
        let _ = writeln!(out, "\nReferences");
        for reference in &policy.references {
            let _ = writeln!(out, "  {reference}");
        }
    }
    let _ = writeln!(
        out,
        "\nDefined in {} ({} inline test case(s))",
        policy.origin.file.name(),
        policy.tests.len()
    );
    out
}

/// How much of a framework the catalog assesses automatically.
#[derive(Debug, Clone, Serialize)]
pub struct Coverage {
    pub framework: &'static str,
    pub name: &'static str,
    /// Current (not withdrawn) controls of the framework.
    pub controls_total: usize,
    /// Controls at least one policy maps to.
    pub covered: usize,
    pub percent: f64,
    /// Policies mapping to this framework.
    pub policies: usize,
    pub controls: Vec<ControlCoverage>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ControlCoverage {
    pub id: String,
    pub title: String,
    pub group: String,
    /// Policy ids that assess the control.
    pub policies: Vec<String>,
}

/// Coverage of one framework by the catalog; `None` for an unknown framework.
pub fn coverage(catalog: &Catalog, framework_id: &str) -> Option<Coverage> {
    let framework = frameworks::get(framework_id)?;
    let mut by_control: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut policies = 0;
    for policy in &catalog.policies {
        if let Some(ids) = policy.controls.get(framework_id) {
            policies += 1;
            for id in ids {
                by_control
                    .entry(id.as_str())
                    .or_default()
                    .push(policy.id.clone());
            }
        }
    }
    let controls: Vec<ControlCoverage> = framework
        .controls
        .iter()
        .filter(|c| !c.withdrawn)
        .map(|c| ControlCoverage {
            id: c.id.clone(),
            title: c.title.clone(),
            group: c.group.clone(),
            policies: by_control.get(c.id.as_str()).cloned().unwrap_or_default(),
        })
        .collect();
    let covered = controls.iter().filter(|c| !c.policies.is_empty()).count();
    let total = controls.len();
    Some(Coverage {
        framework: framework.id,
        name: framework.name,
        controls_total: total,
        covered,
        percent: if total == 0 {
            0.0
        } else {
            (covered as f64) * 100.0 / (total as f64)
        },
        policies,
        controls,
    })
}
