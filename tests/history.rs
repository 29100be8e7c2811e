//! `resilix audit --changes-since` end to end, over real HTTP, against the scripted stand-in
//! (crates/aws-stand-in) serving a configuration history from `fixtures/history/` (written by
//! its `make_history.py`): which resources changed in the window, what each change is, what the
//! policies say about it, what was asked of AWS for it, and a saved history replayed offline.

use std::path::PathBuf;
use std::process::Output;

use aws_stand_in::cloudtrail::Trail;
use aws_stand_in::config::History;
use aws_stand_in::{Reply, Request, StandIn};
use serde_json::Value;

use crate::audit::{audit_command, run_watched, stderr};
use crate::util::fixture;

const SINCE: &str = "2026-12-01T00:00Z";
/// The approvals the history is judged by: the pipeline's role needs no ticket.
const CONFIG: &str = "fixtures/history/resilix.yaml";
const TYPES: [&str; 4] = [
    "AWS::S3::Bucket",
    "AWS::EC2::SecurityGroup",
    "AWS::KMS::Key",
    "AWS::EC2::Volume",
];

fn history_files() -> Vec<PathBuf> {
    [
        "bucket-console.json",
        "bucket-pipeline.json",
        "security-group.json",
        "kms-key.json",
        "bucket-logs.json",
        "volume.json",
        "bucket-untouched.json",
    ]
    .iter()
    .map(|name| fixture(&format!("history/{name}")))
    .collect()
}

fn history() -> History {
    History::from_files(&history_files())
}

/// AWS Config serving the history, CloudTrail its events.
fn stand_in() -> StandIn {
    let aws = StandIn::start().unwrap();
    history().install(&aws);
    trail().install(&aws);
    aws
}

/// `resilix audit --changes-since SINCE` of the four types in eu-west-1, JSON report unless
/// `extra` names a format.
fn audit_history(aws: &StandIn, extra: &[&str]) -> Output {
    let mut args = vec![
        "--region",
        "eu-west-1",
        "--changes-since",
        SINCE,
        "--timeout",
        "500ms",
        "--max-retry-time",
        "2s",
        "--config",
        CONFIG,
    ];
    for t in TYPES {
        args.extend(["--resource-type", t]);
    }
    if !extra.contains(&"--format") {
        args.extend(["--format", "json"]);
    }
    args.extend(extra);
    run_watched(&mut audit_command(&aws.endpoint(), &args))
}

/// (disposition, severity, policy, resource address) of every finding that is not a pass.
fn findings(report: &Value) -> Vec<String> {
    let mut out: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {} {} {}",
                f["disposition"].as_str().unwrap_or("?"),
                f["severity"].as_str().unwrap_or("?"),
                f["policy"].as_str().unwrap(),
                f["resource"]["address"].as_str().unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

/// The GetResourceConfigHistory requests, as `resourceId` (page token).
fn history_requests(aws: &StandIn) -> Vec<String> {
    aws.requests("GetResourceConfigHistory")
        .iter()
        .map(|r: &Request| {
            format!(
                "{} {}",
                r.str("resourceId").unwrap_or("?"),
                r.str("nextToken").unwrap_or("first page")
            )
        })
        .collect()
}

#[test]
fn the_history_of_the_window_is_pulled_and_each_change_judged() {
    let aws = stand_in();
    let out = audit_history(&aws, &[]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    insta::assert_snapshot!("history_findings", findings(&report).join("\n"));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("0 created, 5 modified, 1 deleted since 2026-12-01T00:00:00Z"),
        "{}",
        stderr(&out)
    );
    // Only the resources that changed in the window have their history pulled, once each (the
    // stand-in answers each with one page); the untouched bucket does not.
    let mut asked = history_requests(&aws);
    asked.sort();
    insta::assert_snapshot!("history_requests", asked.join("\n"));
    assert_eq!(aws.calls("ListDiscoveredResources"), 4);
    assert!(
        aws.requests("ListDiscoveredResources")
            .iter()
            .all(|r| r.get("includeDeletedResources") == Some(&Value::Bool(true))),
        "deleted resources are listed: a deletion in the window is a change"
    );
    // The volume's type holds only the deleted volume: nothing to fetch by key.
    assert_eq!(aws.calls("BatchGetResourceConfig"), 3);
}

#[test]
fn history_pages_are_followed_and_throttling_retried() {
    // One item per page, and the first request of the key's history throttled.
    let aws = StandIn::start().unwrap();
    let paged = history().page_size(1);
    paged.clone().install(&aws);
    trail().install(&aws);
    let throttled = std::sync::Mutex::new(std::collections::BTreeSet::new());
    aws.on("GetResourceConfigHistory", move |r: &Request| {
        let id = r.str("resourceId").unwrap_or_default().to_owned();
        if id.starts_with("1234abcd") && throttled.lock().unwrap().insert(id) {
            Reply::throttle()
        } else {
            paged.get_resource_config_history(r)
        }
    });
    let out = audit_history(&aws, &[]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(report["errors"].as_array().unwrap().is_empty(), "{report}");
    let unpaged = stand_in();
    let whole: Value = serde_json::from_slice(&audit_history(&unpaged, &[]).stdout).unwrap();
    assert_eq!(
        findings(&report),
        findings(&whole),
        "the same history, a page at a time"
    );
    // Each changed resource: one page per item back to the first one before the window (two
    // items each); the key's first call throttled and retried.
    let mut asked = history_requests(&aws);
    asked.sort();
    insta::assert_snapshot!("history_requests_paged", asked.join("\n"));
}

#[test]
fn a_saved_history_replays_offline_as_the_audit_judged_it() {
    let aws = stand_in();
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("history.json");
    let out = audit_history(&aws, &["--save", saved.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let live: Value = serde_json::from_slice(&out.stdout).unwrap();
    let text = std::fs::read_to_string(&saved).unwrap();
    let head: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(head["resilixAudit"]["changesSince"], "2026-12-01T00:00:00Z");
    assert_eq!(head["resilixAudit"]["method"], "history");
    assert_eq!(
        head["configurationItems"].as_array().unwrap().len(),
        12,
        "two items for each of the six changed resources"
    );
    let calls = aws.log().len();
    drop(aws);

    let replay = crate::util::resilix()
        .args(["scan", "--format", "json", "--config"])
        .arg(fixture("history/resilix.yaml"))
        .arg(&saved)
        .output()
        .unwrap();
    assert_eq!(replay.status.code(), Some(1), "{}", stderr(&replay));
    let offline: Value = serde_json::from_slice(&replay.stdout).unwrap();
    assert_eq!(findings(&offline), findings(&live));
    assert!(calls > 0);
    // `resilix diff HISTORY`: the change-control findings alone.
    let replay = crate::util::resilix()
        .args(["diff", "--format", "json", "--config"])
        .arg(fixture("history/resilix.yaml"))
        .arg(&saved)
        .output()
        .unwrap();
    assert_eq!(replay.status.code(), Some(1), "{}", stderr(&replay));
    let changes: Value = serde_json::from_slice(&replay.stdout).unwrap();
    let expected: Vec<String> = findings(&live)
        .into_iter()
        .filter(|f| f.contains(" change."))
        .collect();
    assert_eq!(findings(&changes), expected);

    // An attribution that cannot be read is refused, naming the file and the item's line: it
    // must not read as "nobody made this change".
    let garbled = dir.path().join("garbled.json");
    assert!(text.contains("\"resilixAttribution\":{\"events\":"));
    std::fs::write(
        &garbled,
        text.replacen(
            "\"resilixAttribution\":{\"events\":",
            "\"resilixAttribution\":{\"evnts\":",
            1,
        ),
    )
    .unwrap();
    let out = crate::util::resilix()
        .args(["scan", "--format", "json"])
        .arg(&garbled)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let message = stderr(&out);
    assert!(
        message.contains("garbled.json")
            && message
                .contains("`resilixAttribution` is not an attribution: unknown field `evnts`"),
        "{message}"
    );

    // A history whose window cannot be read is refused, naming the file and the place.
    let broken = dir.path().join("broken.json");
    std::fs::write(
        &broken,
        text.replace(
            "\"changesSince\":\"2026-12-01T00:00:00Z\"",
            "\"changesSince\":\"last week\"",
        ),
    )
    .unwrap();
    let out = crate::util::resilix()
        .args(["scan", "--format", "json"])
        .arg(&broken)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let message = stderr(&out);
    assert!(
        message.contains("broken.json")
            && message.contains("`changesSince` is not an RFC 3339 time"),
        "{message}"
    );
}

/// Who made each change, as the saved history records it: resource, capture time, then the
/// principal (session), source IP, user agent and call, or why it is unattributed.
fn attributions(saved: &Value) -> Vec<String> {
    saved["configurationItems"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|item| {
            let attribution = item.get("resilixAttribution")?;
            let who = match attribution["events"].as_array().unwrap().as_slice() {
                [] => format!(
                    "unattributed: {}",
                    attribution["unattributed"].as_str().unwrap()
                ),
                events => events
                    .iter()
                    .map(|e| {
                        let p = &e["principal"];
                        format!(
                            "{} {}{} root={} from {} with {:?}: {} at {}",
                            p["type"].as_str().unwrap(),
                            p["arn"].as_str().unwrap(),
                            p["session"]
                                .as_str()
                                .map(|s| format!(" (session {s})"))
                                .unwrap_or_default(),
                            p["root"],
                            e["sourceIpAddress"].as_str().unwrap(),
                            e["userAgent"].as_str().unwrap(),
                            e["eventName"].as_str().unwrap(),
                            e["eventTime"].as_str().unwrap(),
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
            };
            Some(format!(
                "{} {}: {who}",
                item["resourceId"].as_str().unwrap(),
                item["configurationItemCaptureTime"].as_str().unwrap()
            ))
        })
        .collect()
}

fn trail() -> Trail {
    Trail::from_file(&fixture("history/events.json"))
}

#[test]
fn each_change_is_attributed_through_its_cloudtrail_events() {
    let aws = stand_in();
    // The first lookup is throttled, and retried.
    let events = trail();
    aws.on("LookupEvents", move |r: &Request| {
        if r.call == 1 {
            Reply::throttle()
        } else {
            events.lookup_events(r)
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("history.json");
    let out = audit_history(&aws, &["--save", saved.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    insta::assert_snapshot!("history_attributions", attributions(&saved).join("\n"));
    // One lookup per related event of a change in the window, by its EventId, in its region
    // (items before the window are not looked up); the throttled one twice.
    let mut looked_up: Vec<String> = aws
        .requests("LookupEvents")
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r.region.as_deref().unwrap_or("?"),
                r.body["LookupAttributes"][0]["AttributeValue"]
                    .as_str()
                    .unwrap()
            )
        })
        .collect();
    looked_up.sort();
    insta::assert_snapshot!("history_lookups", looked_up.join("\n"));
}

#[test]
fn a_lookup_that_is_refused_leaves_the_audit_incomplete_not_unattributed() {
    let aws = stand_in();
    aws.on(
        "LookupEvents",
        Reply::error(
            400,
            "AccessDeniedException",
            "not authorized to perform cloudtrail:LookupEvents",
        ),
    );
    let out = audit_history(&aws, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let errors: Vec<&str> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert!(
        errors.iter().any(|e| e.contains("eu-west-1 CloudTrail: access denied (LookupEvents): event ev-console-1: AccessDeniedException")),
        "{errors:?}"
    );
    // What was pulled is still judged.
    assert!(!report["findings"].as_array().unwrap().is_empty());
}

/// The finding of `policy` on the resource whose address ends with `address`.
fn finding<'r>(report: &'r Value, policy: &str, address: &str) -> Option<&'r Value> {
    report["findings"].as_array().unwrap().iter().find(|f| {
        f["policy"] == policy
            && f["resource"]["address"]
                .as_str()
                .unwrap()
                .ends_with(address)
    })
}

#[test]
fn an_unauthorized_change_is_linked_to_what_it_weakened() {
    let aws = stand_in();
    let out = audit_history(&aws, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();

    // The console user's change: unauthorized, with who, from where and which call, and linked
    // both ways to what it weakened (the public access block turned off).
    let console = finding(&report, "change.unauthorized", ":::acme-public-console").unwrap();
    let weakened = finding(
        &report,
        "change.protection-weakened",
        ":::acme-public-console",
    )
    .unwrap();
    assert_eq!(console["severity"], "high");
    let evidence = &console["evidence"][0];
    assert_eq!(
        evidence["actual"],
        "PutBucketPublicAccessBlock by arn:aws:iam::123456789012:user/mallory from 203.0.113.7 at 2026-12-02T09:14:31Z"
    );
    assert_eq!(
        console["related"],
        serde_json::json!([{"policy": "change.protection-weakened", "fingerprint": weakened["fingerprint"]}])
    );
    assert_eq!(
        weakened["related"],
        serde_json::json!([{"policy": "change.unauthorized", "fingerprint": console["fingerprint"]}])
    );

    // The same change by the pipeline's role is authorized by `approvals.principals`: what it
    // weakened is still reported, linked to nothing.
    assert!(finding(&report, "change.unauthorized", ":::acme-public-pipeline").is_none());
    let pipeline = finding(
        &report,
        "change.protection-weakened",
        ":::acme-public-pipeline",
    )
    .unwrap();
    assert!(pipeline.get("related").is_none(), "{pipeline}");

    // The security group widened with a new ticket tag: authorized, and its widening approved.
    assert!(finding(&report, "change.unauthorized", "sg-0web").is_none());

    // The root user's key deletion: critical whatever the policy's severity, and linked.
    let root = finding(
        &report,
        "change.unauthorized",
        "1234abcd-12ab-34cd-56ef-1234567890ab",
    )
    .unwrap();
    assert_eq!(
        (root["disposition"].as_str(), root["severity"].as_str()),
        (Some("fail"), Some("critical"))
    );
    assert!(
        root["evidence"][0]["note"]
            .as_str()
            .unwrap()
            .contains("root user"),
        "{root}"
    );
    assert_eq!(root["related"][0]["policy"], "change.protection-weakened");

    // No related event: undecided, saying why; a missing event says CloudTrail no longer has it.
    let logs = finding(&report, "change.unauthorized", ":::acme-logs").unwrap();
    assert_eq!(logs["disposition"], "review");
    assert_eq!(
        logs["message"],
        format!(
            "The change was made without authorization — undecided: unattributed ({})",
            resilix_aws::attribution::NO_EVENT
        )
    );
    let volume = finding(&report, "change.unauthorized", "vol-0scratch").unwrap();
    assert!(
        volume["message"]
            .as_str()
            .unwrap()
            .contains("CloudTrail has no event ev-old-1"),
        "{volume}"
    );
    // Undecided links nothing: only an unauthorized change is linked.
    assert!(volume.get("related").is_none());

    // SARIF: the link is a related location naming the other result's rule and fingerprint.
    let sarif = audit_history(&stand_in(), &["--format", "sarif"]);
    let text = String::from_utf8(sarif.stdout).unwrap();
    assert_eq!(crate::emit::validate_sarif(&text), Vec::<String>::new());
    let sarif: Value = serde_json::from_str(&text).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let result = results
        .iter()
        .find(|r| {
            r["ruleId"] == "change.unauthorized"
                && r["properties"]["resourceIdentity"]
                    .as_str()
                    .unwrap()
                    .contains("acme-public-console")
        })
        .unwrap();
    assert_eq!(
        result["relatedLocations"][0]["message"]["text"],
        "What the unauthorized change weakened: change.protection-weakened"
    );
    assert_eq!(result["relatedLocations"][0]["id"], 1);
    assert_eq!(
        result["properties"]["related"],
        serde_json::json!([{"ruleId": "change.protection-weakened", "fingerprint": weakened["fingerprint"]}])
    );
}

/// The auditor's change log of the history, as the Markdown report writes it (the section from
/// its heading to the next one of the same level).
fn change_log(markdown: &str) -> String {
    let start = markdown.find("\n## Change log").expect("a change log");
    let rest = &markdown[start + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |at| at + 3);
    rest[..end].trim_end().to_owned()
}

#[test]
fn the_auditor_reads_who_changed_what_and_whether_it_was_authorized() {
    let aws = stand_in();
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("history.json");
    let out = audit_history(
        &aws,
        &[
            "--format",
            "audit-markdown",
            "--save",
            saved.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let markdown = String::from_utf8(out.stdout).unwrap();
    insta::assert_snapshot!("history_change_log", change_log(&markdown));

    // The requests made per changed resource: its history, and a lookup per related event;
    // besides them, one listing and one batch fetch per resource type, shared by its resources.
    let saved_items: Value =
        serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    let mut per_resource: std::collections::BTreeMap<String, (usize, usize)> = Default::default();
    for r in aws.requests("GetResourceConfigHistory") {
        per_resource
            .entry(r.str("resourceId").unwrap().to_owned())
            .or_default()
            .0 += 1;
    }
    for r in aws.requests("LookupEvents") {
        let event = r.body["LookupAttributes"][0]["AttributeValue"]
            .as_str()
            .unwrap();
        let owner = saved_items["configurationItems"]
            .as_array()
            .unwrap()
            .iter()
            .find(|item| {
                item["relatedEvents"]
                    .as_array()
                    .is_some_and(|e| e.iter().any(|e| e == event))
            })
            .and_then(|item| item["resourceId"].as_str())
            .unwrap();
        per_resource.entry(owner.to_owned()).or_default().1 += 1;
    }
    let mut counted: Vec<String> = per_resource
        .iter()
        .map(|(id, (history, lookups))| {
            format!("{id}: {history} GetResourceConfigHistory, {lookups} LookupEvents")
        })
        .collect();
    counted.push(format!(
        "shared: {} ListDiscoveredResources, {} BatchGetResourceConfig (per type)",
        aws.calls("ListDiscoveredResources"),
        aws.calls("BatchGetResourceConfig")
    ));
    insta::assert_snapshot!("history_requests_per_resource", counted.join("\n"));

    // What CloudTrail recorded is untrusted text (a user agent is whatever the caller sent): it
    // cannot end a table row, inject HTML or a workflow command, in either report.
    let text = std::fs::read_to_string(&saved).unwrap();
    let agent = "Mozilla/5.0 (Macintosh) AWS-Console-S3";
    assert!(text.contains(agent));
    let hostile = dir.path().join("hostile.json");
    std::fs::write(
        &hostile,
        text.replace(
            agent,
            "evil | <img src=x onerror=alert(1)>\\n##[set-output name=x]",
        ),
    )
    .unwrap();
    let render = |format: &str| {
        let out = crate::util::resilix()
            .args(["scan", "--format", format, "--config"])
            .arg(fixture("history/resilix.yaml"))
            .arg(&hostile)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        String::from_utf8(out.stdout).unwrap()
    };
    let markdown = render("audit-markdown");
    assert!(
        markdown
            .contains(r"evil \| &lt;img src=x onerror=alert(1)&gt;\\n\#\#\[set-output name=x\]"),
        "{}",
        change_log(&markdown)
    );
    let html = render("html");
    assert!(
        html.contains("evil | &lt;img src=x onerror=alert(1)&gt;\\n#&#35;[set-output name=x]"),
        "{html}"
    );
    assert!(!html.contains("<img") && !markdown.contains("<img"));

    // The HTML report holds the same log.
    let html = audit_history(&stand_in(), &["--format", "html"]);
    let html = String::from_utf8(html.stdout).unwrap();
    assert!(html.contains("<h2>Change log</h2>"), "{html}");
    assert!(
        html.contains("<td>unauthorized: the root user (critical)</td>"),
        "the root user's change"
    );
    assert!(
        html.contains(
            "<td>authorized: approvals.principals (arn:aws:iam::*:role/terraform-ci)</td>"
        )
    );
}

/// Issue 14: "a change by the root user is always critical". A change ticket does not lower it:
/// the ticket may approve what the change weakened (a planned change with that ticket would be
/// approved too), but using the root user for a change is itself the finding, and no approval
/// covers it.
#[test]
fn a_change_by_the_root_user_with_a_change_ticket_is_still_critical() {
    let mut items: Vec<Value> = Vec::new();
    for path in history_files() {
        let file: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        items.extend(
            file["configurationItems"]
                .as_array()
                .unwrap()
                .iter()
                .cloned(),
        );
    }
    // The root user's key deletion carries a new change ticket.
    let deletion = items
        .iter_mut()
        .find(|i| i["relatedEvents"] == serde_json::json!(["ev-root-1"]))
        .unwrap();
    deletion["tags"] = serde_json::json!({"change-ticket": "CHG-9001"});
    let aws = StandIn::start().unwrap();
    History::new(items).install(&aws);
    trail().install(&aws);
    let out = audit_history(&aws, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let key = "1234abcd-12ab-34cd-56ef-1234567890ab";
    let root = finding(&report, "change.unauthorized", key).unwrap();
    assert_eq!(
        (root["disposition"].as_str(), root["severity"].as_str()),
        (Some("fail"), Some("critical")),
        "{root}"
    );
    assert!(
        root["evidence"][0]["note"]
            .as_str()
            .unwrap()
            .contains("root user"),
        "{root}"
    );
    // The ticket approves what the change weakened, as it would a planned change.
    let weakened = finding(&report, "change.protection-weakened", key).unwrap();
    assert_eq!(weakened["disposition"], "approved", "{weakened}");
}

/// The member accounts of the organization tests: two whose audit role can be assumed (the
/// history's own account, and a copy of it in another account), one whose role is refused.
const MEMBER: &str = "123456789012";
const COPY: &str = "111111111111";
const REFUSED: &str = "210987654321";

/// The history and its events, as account `account` holds them (the fixtures belong to
/// 123456789012: every ARN and account ID moved to `account`).
fn history_of(account: &str) -> (History, Trail) {
    let mut items = Vec::new();
    for path in history_files() {
        let text = std::fs::read_to_string(path)
            .unwrap()
            .replace(MEMBER, account);
        let file: Value = serde_json::from_str(&text).unwrap();
        items.extend(
            file["configurationItems"]
                .as_array()
                .unwrap()
                .iter()
                .cloned(),
        );
    }
    let events = std::fs::read_to_string(fixture("history/events.json"))
        .unwrap()
        .replace(MEMBER, account);
    let events: Value = serde_json::from_str(&events).unwrap();
    (
        History::new(items),
        Trail::new(events["Events"].as_array().unwrap().clone()),
    )
}

/// One endpoint for the organization: STS, and each member account's AWS Config and
/// CloudTrail answering the requests signed with its role's credentials. Requests signed with
/// the caller's own credentials find no AWS Config there.
fn organization() -> StandIn {
    let aws = StandIn::start().unwrap();
    aws_stand_in::sts::Roles::new()
        .refuse(REFUSED)
        .install(&aws);
    for account in [MEMBER, COPY] {
        let (history, trail) = history_of(account);
        history.install(&aws.account(account));
        trail.install(&aws.account(account));
    }
    aws
}

#[test]
fn an_organization_history_is_pulled_account_by_account_through_assumed_roles() {
    let aws = organization();
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("history.json");
    let accounts = format!("{MEMBER},{REFUSED},{COPY}");
    let out = audit_history(
        &aws,
        &[
            "--accounts",
            &accounts,
            "--assume-role",
            "resilix-audit",
            "--save",
            saved.to_str().unwrap(),
        ],
    );
    // The refused account makes the audit incomplete: exit 2, whatever was found elsewhere.
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    // The report is read back from the saved history: its errors name that file.
    let prefix = format!("{}: ", saved.display());
    let errors: Vec<&str> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let message = e["message"].as_str().unwrap();
            message.strip_prefix(&prefix).unwrap_or(message)
        })
        .collect();
    assert_eq!(
        errors,
        [format!(
            "account {REFUSED}: role not assumed (AssumeRole): could not assume \
             arn:aws:iam::{REFUSED}:role/resilix-audit: AccessDenied: User: \
             arn:aws:iam::123456789012:user/auditor is not authorized to perform: sts:AssumeRole \
             on resource: arn:aws:iam::{REFUSED}:role/resilix-audit; nothing in account \
             {REFUSED} was pulled"
        )],
    );
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    assert_eq!(saved["resilixAudit"]["complete"], false);
    assert_eq!(
        saved["resilixAudit"]["scope"],
        serde_json::json!([
            format!("{COPY} eu-west-1"),
            format!("{MEMBER} eu-west-1"),
            format!("{REFUSED} eu-west-1")
        ]),
        "what was asked for, the refused account included"
    );

    // Each account's findings are exactly the one-account audit's, and carry their account.
    let single: Value = serde_json::from_slice(&audit_history(&stand_in(), &[]).stdout).unwrap();
    let of_account = |account: &str| -> Vec<String> {
        let findings = report["findings"].as_array().unwrap();
        let mut out: Vec<String> = findings
            .iter()
            .filter(|f| f["resource"]["account"] == account)
            .map(|f| {
                format!(
                    "{} {} {} {}",
                    f["disposition"].as_str().unwrap(),
                    f["severity"].as_str().unwrap(),
                    f["policy"].as_str().unwrap(),
                    f["resource"]["address"]
                        .as_str()
                        .unwrap()
                        .replace(account, MEMBER),
                )
            })
            .collect();
        out.sort();
        out
    };
    assert_eq!(of_account(MEMBER), findings(&single));
    assert_eq!(of_account(COPY), findings(&single));
    assert_eq!(
        report["findings"].as_array().unwrap().len(),
        2 * single["findings"].as_array().unwrap().len(),
        "every finding belongs to one of the two accounts pulled"
    );
    // Who made each change was looked up in its own account's CloudTrail.
    let console = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["policy"] == "change.unauthorized"
                && f["resource"]["account"] == COPY
                && f["resource"]["address"] == "arn:aws:s3:::acme-public-console"
        })
        .unwrap();
    assert_eq!(
        console["evidence"][0]["actual"],
        format!(
            "PutBucketPublicAccessBlock by arn:aws:iam::{COPY}:user/mallory from 203.0.113.7 at 2026-12-02T09:14:31Z"
        )
    );

    // One AssumeRole per account, by the role's ARN, with resilix's session name: the first
    // credentials serve the whole pull (no second call to check the role first).
    let mut assumed: Vec<String> = aws
        .requests("AssumeRole")
        .iter()
        .map(|r| {
            format!(
                "{} as {}",
                r.str("RoleArn").unwrap(),
                r.str("RoleSessionName").unwrap()
            )
        })
        .collect();
    assumed.sort();
    assert_eq!(
        assumed,
        [COPY, MEMBER, REFUSED].map(|a| format!(
            "arn:aws:iam::{a}:role/resilix-audit as {}",
            resilix_aws::SESSION_NAME
        ))
    );
    // Every other request was signed with an assumed role's credentials, none for the refused
    // account: what each account was asked.
    let log = aws.log();
    assert!(
        log.iter()
            .filter(|r| r.operation != "AssumeRole")
            .all(|r| r.account.as_deref() == Some(MEMBER) || r.account.as_deref() == Some(COPY)),
        "{:?}",
        log.iter()
            .map(|r| (&r.operation, &r.account))
            .collect::<Vec<_>>()
    );
    let mut per_account: std::collections::BTreeMap<(String, String), usize> = Default::default();
    for r in &log {
        let account = r.account.clone().unwrap_or_else(|| "caller".to_owned());
        *per_account
            .entry((account, r.operation.clone()))
            .or_default() += 1;
    }
    let counted: Vec<String> = per_account
        .iter()
        .map(|((account, operation), n)| format!("{account} {operation}: {n}"))
        .collect();
    insta::assert_snapshot!("history_requests_per_account", counted.join("\n"));
}
