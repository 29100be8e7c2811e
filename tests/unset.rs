//! Issue 21: a setting the configuration leaves out takes AWS's default, as each policy
//! declares it (`defaults:`); a setting configured by an expression known only after apply is
//! not unset. The declarations and the behaviour agree for every built-in policy, and a plan
//! and the AWS Config item of the resource it creates get the same verdict.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use resilix::emit::OutputFormat;
use resilix::eval::{PolicyResult, RelationIndex, Verdict, check_one};
use resilix::findings::Disposition;
use resilix::input::{LoadOptions, load_text, testdoc};
use resilix::model::SourceKind;
use resilix::policy::selector::PathStep;
use resilix::policy::{Catalog, Outcome, Policy, SettingDefault, Unset};

use crate::util::{builtin_catalog, fixture, only_policy, render, scan};

/// Disposition of every (policy, resource address) of a report.
fn dispositions(report: &resilix::findings::Report, catalog: &Catalog) -> BTreeMap<String, String> {
    let name = |policy: usize, resource: usize| {
        let id = catalog.get(policy).map_or("?", |p| p.id.as_str());
        let address = report
            .resources
            .get(resource)
            .map_or("?", |r| r.address.as_str());
        format!("{id} {address}")
    };
    let mut out = BTreeMap::new();
    for pass in &report.passes {
        out.insert(name(pass.policy, pass.resource), "pass".to_owned());
    }
    for finding in &report.findings {
        let status = match finding.disposition() {
            Disposition::Fail => "fail",
            Disposition::Review => "review",
            Disposition::Error => "error",
            _ => "other",
        };
        out.insert(name(finding.policy, finding.resource), status.to_owned());
    }
    out
}

/// An instance that names no subnet launches in the default subnet, which maps a public IPv4
/// address: the plan fails, and so does the AWS Config item the instance becomes. Instances in
/// a plan's subnet follow its `map_public_ip_on_launch`, through `count` modules and
/// `for_each` instances alike; a subnet outside the plan leaves the verdict open.
#[test]
fn unset_public_ip_same_verdict_in_the_plan_and_in_aws_config() {
    let catalog = only_policy("aws.ec2.instance-no-public-ip").unwrap();
    let report = scan(
        &catalog,
        &[
            fixture("unset/default-subnet.plan.json"),
            fixture("unset/default-subnet.config.json"),
        ],
    );
    let got = dispositions(&report, &catalog);
    let expected: BTreeMap<String, String> = [
        ("aws_instance.bastion", "fail"),
        ("aws_instance.web", "fail"),
        ("aws_instance.workers[\"a\"]", "pass"),
        ("aws_instance.workers[\"b\"]", "pass"),
        ("module.batch[0].aws_instance.this", "fail"),
        ("module.batch[1].aws_instance.this", "fail"),
        ("aws_instance.legacy", "review"),
        (
            "arn:aws:ec2:us-east-1:123456789012:instance/i-0f3a9c1b2d4e5f607",
            "fail",
        ),
    ]
    .into_iter()
    .map(|(a, s)| (format!("aws.ec2.instance-no-public-ip {a}"), s.to_owned()))
    .collect();
    assert_eq!(got, expected);
    // The failure says why: the setting is not set, and what AWS does then.
    let bastion = report
        .findings
        .iter()
        .find(|f| {
            report
                .resources
                .get(f.resource)
                .is_some_and(|r| r.address == "aws_instance.bastion")
        })
        .unwrap();
    assert!(
        bastion
            .message
            .contains("`associate_public_ip_address` not set; AWS's default is"),
        "{}",
        bastion.message
    );
}

/// What users see for the fixture: the default each verdict took, with its reference.
#[test]
fn unset_defaults_text() {
    let catalog = builtin_catalog();
    let report = scan(catalog, &[fixture("unset/default-subnet.plan.json")]);
    insta::assert_snapshot!(render(&report, catalog, OutputFormat::Text));
}

/// Evaluates one policy on a `terraform` test input (as inline policy tests are written) and
/// returns the result for `address`.
fn evaluate(policy: &Policy, input: &Value, address: &str) -> Option<PolicyResult> {
    let text = testdoc::terraform_plan(input).unwrap();
    let loaded = load_text("catalog-defaults.json", &text, &LoadOptions::default()).unwrap();
    let catalog = Catalog::from_policies(vec![policy.clone()]);
    let relations = RelationIndex::build(&catalog, &loaded.resources);
    let index = loaded.resources.iter().position(|r| r.address == address)?;
    check_one(
        policy,
        &resilix::config::Config::default(),
        &loaded.resources,
        &relations,
        index,
    )
    .map(|r| r.unwrap())
}

/// Writes `value` at a default's path in a resource's test values, creating blocks on the way.
fn put(values: &mut Map<String, Value>, steps: &[PathStep], value: Value) {
    fn build(steps: &[PathStep], value: Value) -> Value {
        match steps.split_first() {
            None => value,
            Some((PathStep::Name(name), rest)) => {
                let mut map = Map::new();
                map.insert(name.clone(), build(rest, value));
                Value::Object(map)
            }
            Some((PathStep::Each, rest)) => Value::Array(vec![build(rest, value)]),
        }
    }
    let Some((PathStep::Name(first), rest)) = steps.split_first() else {
        panic!("a default's path starts with a name");
    };
    let slot = values.entry(first.clone()).or_insert(Value::Null);
    match (rest.split_first(), &mut *slot) {
        (Some((PathStep::Each, inner)), Value::Array(items)) if !items.is_empty() => {
            if let Some(Value::Object(block)) = items.first_mut() {
                put(block, inner, value);
            }
        }
        (Some((PathStep::Name(_), _)), Value::Object(block)) => put(block, rest, value),
        _ => *slot = build(rest, value),
    }
}

/// What a declared default comes to in a plan that holds nothing but the resource: a related
/// default finds no related resource.
fn alone(default: &SettingDefault) -> Outcome {
    match &default.when_unset {
        Unset::Outcome(outcome) => outcome.clone(),
        Unset::Related(related) => match (&related.check.from, &related.from_unset) {
            (Some(_), Some(outcome)) => outcome.clone(),
            _ => related.otherwise.clone(),
        },
    }
}

fn verdict_name(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Pass => "pass",
        Verdict::Fail => "fail",
        Verdict::Undecided => "review",
        Verdict::Error => "error",
    }
}

/// For every built-in policy and every Terraform type it targets with declared defaults:
/// (i) with nothing configured, every declared setting is reported as unset and the verdict is
/// the one the declarations give — the verdict of the same resource with each setting
/// *configured* to what its default came to (a value as that value, an undecided default as
/// an expression known only after apply), or a failure where a default is unsafe;
/// (ii) with every declared setting configured by an expression known only after apply, no
/// default applies and nothing fails.
#[test]
fn every_declared_default_agrees_with_behaviour() {
    let mut checked = 0;
    let mut problems = Vec::new();
    let mut not_applicable = Vec::new();
    for policy in &builtin_catalog().policies {
        for target in policy
            .targets
            .iter()
            .filter(|t| t.kind == SourceKind::Terraform && !t.defaults.is_empty())
        {
            for type_name in target.types.iter().filter(|t| !t.contains('*')) {
                checked += 1;
                let address = format!("{type_name}.subject");
                let case = |values: Map<String, Value>| json!({ address.clone(): values });
                let what = format!("{} on {type_name}", policy.id);
                // (i) Nothing configured.
                // A target whose `when` needs a setting no default gives (a criticality tag)
                // does not apply to an empty resource: nothing to compare.
                let Some(empty) = evaluate(policy, &case(Map::new()), &address) else {
                    not_applicable.push(what);
                    continue;
                };
                let unset: Vec<&str> = empty.defaults.iter().map(|a| a.path.as_str()).collect();
                let declared: Vec<&str> = target.defaults.iter().map(|d| d.path.text()).collect();
                if unset != declared {
                    problems.push(format!(
                        "{what}: with nothing configured, defaults applied {unset:?}, declared {declared:?}"
                    ));
                }
                let mut reference = Map::new();
                let mut unsafe_default = false;
                for default in &target.defaults {
                    match alone(default) {
                        Outcome::Value(v) => put(&mut reference, &default.steps, v),
                        Outcome::Review => {
                            put(&mut reference, &default.steps, json!({"$unknown": true}));
                        }
                        Outcome::Fail => unsafe_default = true,
                        Outcome::Pass => {}
                    }
                }
                let expected = if unsafe_default {
                    Verdict::Fail
                } else {
                    match evaluate(policy, &case(reference.clone()), &address) {
                        Some(result) => result.verdict,
                        None => {
                            problems
                                .push(format!("{what}: the configured resource is not evaluated"));
                            continue;
                        }
                    }
                };
                if empty.verdict != expected {
                    problems.push(format!(
                        "{what}: nothing configured gives {}, the declaration gives {} (configured as {})",
                        verdict_name(empty.verdict),
                        verdict_name(expected),
                        Value::Object(reference)
                    ));
                }
                // A target whose every default is declared safe passes an empty resource.
                let all_safe = target.defaults.iter().all(|d| alone(d) == Outcome::Pass);
                if all_safe && empty.verdict != Verdict::Pass {
                    problems.push(format!(
                        "{what}: every default is declared `pass`, but nothing configured gives {}",
                        verdict_name(empty.verdict)
                    ));
                }
                if empty.verdict == Verdict::Pass
                    && empty.defaults.iter().any(|a| a.outcome == Outcome::Review)
                {
                    problems.push(format!(
                        "{what}: passes on a default the plan does not decide"
                    ));
                }
                // (ii) Every declared setting configured, known only after apply.
                let mut unknown = Map::new();
                for default in &target.defaults {
                    put(&mut unknown, &default.steps, json!({"$unknown": true}));
                }
                let Some(result) = evaluate(policy, &case(unknown.clone()), &address) else {
                    problems.push(format!("{what}: the unknown resource is not evaluated"));
                    continue;
                };
                if !result.defaults.is_empty() {
                    problems.push(format!(
                        "{what}: a setting configured as {} is taken as unset",
                        Value::Object(unknown)
                    ));
                } else if result.verdict == Verdict::Fail {
                    problems.push(format!(
                        "{what}: fails when every judged setting is known only after apply"
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert_eq!(
        not_applicable,
        ["aws.ec2.termination-protection on aws_instance"],
        "targets that an empty resource does not reach"
    );
    assert!(checked >= 5, "only {checked} target types declare defaults");
}

/// Item 3: a setting configured by an expression known only after apply. An existence test
/// (a KMS key is set) holds; a test of the value (is `encrypted` true?) is undecided, never a
/// pass, and the setting is not taken as unset.
#[test]
fn unset_configured_unknown_exists_but_its_value_is_open() {
    let catalog = Catalog::from_policies(
        ["aws.cloudwatch.log-group-kms", "aws.ebs.encrypted"]
            .iter()
            .map(|id| builtin_catalog().by_id(id).unwrap().1.clone())
            .collect(),
    );
    let report = scan(&catalog, &[fixture("unset/configured-unknown.plan.json")]);
    let got = dispositions(&report, &catalog);
    let expected: BTreeMap<String, String> = [
        (
            "aws.cloudwatch.log-group-kms aws_cloudwatch_log_group.app",
            "pass",
        ),
        ("aws.ebs.encrypted aws_ebs_volume.copy", "review"),
        ("aws.ebs.encrypted aws_ebs_volume.data", "review"),
    ]
    .into_iter()
    .map(|(a, s)| (a.to_owned(), s.to_owned()))
    .collect();
    assert_eq!(got, expected);
    let message = |address: &str| {
        report
            .findings
            .iter()
            .find(|f| {
                report
                    .resources
                    .get(f.resource)
                    .is_some_and(|r| r.address == address)
            })
            .map(|f| f.message.clone())
            .unwrap()
    };
    // The copy's `encrypted` is configured: undecided before apply, not left to a default.
    assert!(
        message("aws_ebs_volume.copy").ends_with("cannot be decided before apply"),
        "{}",
        message("aws_ebs_volume.copy")
    );
    // The volume that leaves it out takes the account's default, which the plan does not show.
    assert!(
        message("aws_ebs_volume.data").contains("`encrypted` not set; AWS's default is"),
        "{}",
        message("aws_ebs_volume.data")
    );
}

/// Item 5, catalog-wide: no built-in policy passes a Terraform resource on silence. For every
/// Terraform type a built-in policy of settings targets, a resource with nothing configured
/// passes only where the target declares what AWS does with the settings it leaves out (each
/// declaration is then checked against behaviour by `every_declared_default_agrees_with_behaviour`);
/// otherwise the silence must fail or be reviewed. Change-control policies judge the change
/// (its action, who made it), not settings, and are not concerned.
#[test]
fn unset_no_builtin_policy_passes_on_silence_without_a_declaration() {
    let mut problems = Vec::new();
    let mut checked = 0;
    for policy in builtin_catalog()
        .policies
        .iter()
        .filter(|p| p.category != resilix::policy::Category::ChangeControl)
    {
        for target in policy
            .targets
            .iter()
            .filter(|t| t.kind == SourceKind::Terraform)
        {
            for type_name in target.types.iter().filter(|t| !t.contains('*')) {
                let address = format!("{type_name}.subject");
                let Some(empty) = evaluate(policy, &json!({ address.clone(): {} }), &address)
                else {
                    continue;
                };
                checked += 1;
                if empty.verdict == Verdict::Pass && target.defaults.is_empty() {
                    problems.push(format!(
                        "{} on {type_name}: passes with nothing configured, and declares no defaults",
                        policy.id
                    ));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{}\n{} problems",
        problems.join("\n"),
        problems.len()
    );
    assert!(checked >= 100, "only {checked} target types checked");
}

/// Item 4, false positives of the declared defaults: an instance launched on an existing
/// network interface gets no auto-assigned public IPv4 address whatever subnet it is in (no
/// `subnet_id` is not the default subnet then), and an instance store mapping of a launch
/// template (`ebs = []`) has no EBS volume to encrypt. A launch template that maps nothing
/// takes the AMI's volumes: undecided.
#[test]
fn unset_network_interfaces_and_instance_store_volumes() {
    let catalog = Catalog::from_policies(
        [
            "aws.ec2.instance-no-public-ip",
            "aws.ec2.block-devices-encrypted",
        ]
        .iter()
        .map(|id| builtin_catalog().by_id(id).unwrap().1.clone())
        .collect(),
    );
    let report = scan(
        &catalog,
        &[fixture("unset/interfaces-and-instance-store.plan.json")],
    );
    let got = dispositions(&report, &catalog);
    let expected: BTreeMap<String, String> = [
        (
            "aws.ec2.instance-no-public-ip aws_instance.appliance",
            "pass",
        ),
        (
            "aws.ec2.block-devices-encrypted aws_instance.appliance",
            "review",
        ),
        (
            "aws.ec2.block-devices-encrypted aws_launch_template.batch",
            "pass",
        ),
        (
            "aws.ec2.block-devices-encrypted aws_launch_template.plain",
            "review",
        ),
    ]
    .into_iter()
    .map(|(a, s)| (a.to_owned(), s.to_owned()))
    .collect();
    assert_eq!(got, expected);
}

/// Item 4: no quantifier passes vacuously over a collection that is unknown or left to an
/// unsafe default, and an empty list the plan knows is a value (nothing in it to judge).
#[test]
fn unset_no_vacuous_pass_over_unknown_or_defaulted_collections() {
    let cases: &[(&str, &str, Value, Verdict)] = &[
        // `path: $.ingress[*]` + `none:` over rules known only after apply.
        (
            "aws.ec2.security-group-admin-ports-public",
            "aws_security_group",
            json!({"ingress": {"$unknown": true}}),
            Verdict::Undecided,
        ),
        // … over rules configured by a reference (a module output, say).
        (
            "aws.ec2.security-group-admin-ports-public",
            "aws_security_group",
            json!({"ingress": {"$ref": "module.rules.ingress"}}),
            Verdict::Undecided,
        ),
        // … over a known empty list: no rule opens anything.
        (
            "aws.ec2.security-group-admin-ports-public",
            "aws_security_group",
            json!({"ingress": []}),
            Verdict::Pass,
        ),
        // `match: all` over a list known only after apply, and over a known empty one.
        (
            "aws.rds.snapshot-not-public",
            "aws_db_snapshot",
            json!({"shared_accounts": {"$unknown": true}}),
            Verdict::Undecided,
        ),
        (
            "aws.rds.snapshot-not-public",
            "aws_db_snapshot",
            json!({"shared_accounts": []}),
            Verdict::Pass,
        ),
        // `path: $.root_block_device[*]` + `all:` over blocks known only after apply.
        (
            "aws.ec2.block-devices-encrypted",
            "aws_instance",
            json!({"root_block_device": {"$unknown": true}}),
            Verdict::Undecided,
        ),
        // A block left out takes its unsafe default: IMDSv1 stays on.
        (
            "aws.ec2.imdsv2-required",
            "aws_instance",
            json!({"ami": "ami-0c7217cdde317cfec"}),
            Verdict::Fail,
        ),
        // The subnet's setting, when the instance leaves associate_public_ip_address out:
        // none named, the default subnet maps public IPs.
        (
            "aws.ec2.instance-no-public-ip",
            "aws_instance",
            json!({"ami": "ami-0c7217cdde317cfec"}),
            Verdict::Fail,
        ),
    ];
    let mut problems = Vec::new();
    for (id, type_name, values, expected) in cases {
        let (_, policy) = builtin_catalog().by_id(id).unwrap();
        let address = format!("{type_name}.subject");
        let got =
            evaluate(policy, &json!({ address.clone(): values }), &address).map(|r| r.verdict);
        if got != Some(*expected) {
            problems.push(format!("{id} on {values}: {got:?}, expected {expected:?}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
