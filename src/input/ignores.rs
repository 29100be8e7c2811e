//! Inline suppressions in `.tf` sources: `# resilix:ignore ID[,ID…] reason="…" expires=YYYY-MM-DD`
//! (or `//`), on the lines directly above a block, after its `{`, or on the first lines of its
//! body.
//!
//! Only the comments next to a block count, so each comment line belongs to at most one block
//! and a file is read once. A comment line is one that starts with `#` or `//` after
//! indentation: the lines next to a block's header are never inside a string or a heredoc (a
//! heredoc ends with its marker, a line of code), so no HCL text is mistaken for a comment. A
//! blank line ends the comments above a block, as it does for `#trivy:ignore:`: a file's header
//! comment does not reach its first block.
//!
//! A comment that suppresses nothing as written (no reason, no expiry date, a date that is
//! not one) is kept with its problem, so the run reports it at its line rather than ignoring it.

use std::sync::Arc;

use jiff::civil::Date;

use crate::model::InlineIgnore;
use crate::pattern::Pattern;

/// What a comment starts with to be an inline ignore.
const KEYWORD: &str = "resilix:ignore";
/// A reason longer than this is cut (it is shown in every output, per finding).
const MAX_REASON_CHARS: usize = 1000;
/// IDs per comment, at most.
const MAX_IDS: usize = 64;

/// The ignore comments of one block.
///
/// `lines` are the file's lines; `header` is the 0-based index of the line holding the block's
/// type, `end` that of its closing brace; `tail` is the header line after the block's labels.
pub(crate) fn of_block(
    file: &Arc<str>,
    lines: &[&str],
    header: usize,
    end: usize,
    tail: &str,
) -> Vec<InlineIgnore> {
    let mut found = Vec::new();
    // Above: the comment lines directly above the header, in file order.
    let above = lines
        .get(..header)
        .unwrap_or_default()
        .iter()
        .rev()
        .take_while(|line| comment(line).is_some())
        .count();
    for index in header - above..header {
        found.extend(at_line(file, lines, index));
    }
    // On the header line, after `{` (or after a one-line `{}`).
    let after_brace = tail
        .trim_start()
        .strip_prefix('{')
        .map(|rest| rest.trim_start());
    if let Some(rest) = after_brace {
        let rest = rest.strip_prefix('}').unwrap_or(rest);
        if let Some(ignore) = comment(rest).and_then(|text| parse(file, header + 1, text)) {
            found.push(ignore);
        }
    }
    // Inside: the comment lines at the top of the body, blank lines between them allowed.
    for index in header + 1..end {
        let Some(line) = lines.get(index) else { break };
        if line.trim().is_empty() {
            continue;
        }
        if comment(line).is_none() {
            break;
        }
        found.extend(at_line(file, lines, index));
    }
    found
}

fn at_line(file: &Arc<str>, lines: &[&str], index: usize) -> Option<InlineIgnore> {
    let text = comment(lines.get(index)?)?;
    parse(file, index + 1, text)
}

/// The text of a `#` or `//` comment that is the whole line (after indentation).
fn comment(line: &str) -> Option<&str> {
    let line = line.trim_start();
    line.strip_prefix('#').or_else(|| line.strip_prefix("//"))
}

/// Parses the text of a comment; `None` when it is not an inline ignore.
fn parse(file: &Arc<str>, line: usize, text: &str) -> Option<InlineIgnore> {
    let rest = text.trim_start().strip_prefix(KEYWORD)?;
    let mut ignore = InlineIgnore {
        file: Arc::clone(file),
        line,
        policies: Vec::new(),
        reason: String::new(),
        expires: None,
        problem: None,
    };
    if let Some(after) = rest.strip_prefix(':') {
        // `#trivy:ignore:ID` written with our keyword: say how ours is spelled.
        let id = after.split([':', ' ', '\t']).next().unwrap_or("");
        ignore.problem = Some(format!(
            "the policy IDs follow `resilix:ignore` after a space, not a colon (`resilix:ignore {id} reason=\"…\" expires=YYYY-MM-DD`)"
        ));
        return Some(ignore);
    }
    if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
        // `resilix:ignored`, `resilix:ignore-me`: another word, not ours.
        return None;
    }
    let mut problems: Vec<String> = Vec::new();
    let mut reason: Option<String> = None;
    let mut expires: Option<&str> = None;
    let mut chars = rest;
    loop {
        chars = chars.trim_start();
        if chars.is_empty() {
            break;
        }
        if let Some(value) = chars.strip_prefix("reason=") {
            let (text, after, closed) = reason_value(value);
            if !closed {
                problems.push("the reason is missing its closing quote".to_owned());
            }
            if reason.replace(text).is_some() {
                problems.push("`reason=` is given twice".to_owned());
            }
            chars = after;
            continue;
        }
        let token_end = chars.find(char::is_whitespace).unwrap_or(chars.len());
        let (token, after) = chars.split_at(token_end);
        chars = after;
        if let Some(value) = token.strip_prefix("expires=") {
            if expires.replace(value).is_some() {
                problems.push("`expires=` is given twice".to_owned());
            }
        } else if let Some((key, _)) = token.split_once('=') {
            problems.push(format!(
                "unknown `{key}=` (an ignore takes `reason=\"…\"` and `expires=YYYY-MM-DD`)"
            ));
        } else {
            for id in token.split(',').filter(|id| !id.is_empty()) {
                if !id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '*' | '?'))
                {
                    problems.push(format!("`{id}` is not a policy ID or glob"));
                } else if ignore.policies.len() < MAX_IDS {
                    ignore.policies.push(Pattern::new(id));
                } else {
                    problems.push(format!("more than {MAX_IDS} policy IDs on one line"));
                    break;
                }
            }
        }
    }
    if ignore.policies.is_empty() {
        problems.push(
            "it names no policy (`resilix:ignore ID[,ID…]`, IDs or globs such as `aws.s3.*`)"
                .to_owned(),
        );
    }
    match reason.as_deref().map(str::trim) {
        None => {
            problems.push("it has no `reason=\"…\"` saying why the finding is accepted".to_owned())
        }
        Some("") => {
            problems.push("its `reason=\"\"` is empty (say why the finding is accepted)".to_owned())
        }
        Some(text) => ignore.reason = crate::model::value::truncate(text, MAX_REASON_CHARS),
    }
    match expires {
        None => problems
            .push("it has no `expires=YYYY-MM-DD` (every waiver names the day it ends)".to_owned()),
        Some(text) => match text.parse::<Date>() {
            Ok(date) if text.len() == 10 => ignore.expires = Some(date),
            Ok(_) | Err(_) => problems.push(format!(
                "`expires={text}` is not a date (write YYYY-MM-DD, for example 2027-03-31)"
            )),
        },
    }
    problems.dedup();
    if !problems.is_empty() {
        ignore.problem = Some(problems.join("; "));
    }
    Some(ignore)
}

/// The value of `reason=`: quoted (`"…"`, with `\"` and `\\`), else up to the next space.
/// Returns the value, the text after it, and whether a quote that opened was closed.
fn reason_value(value: &str) -> (String, &str, bool) {
    let Some(quoted) = value.strip_prefix('"') else {
        let end = value.find(char::is_whitespace).unwrap_or(value.len());
        let (text, after) = value.split_at(end);
        return (text.to_owned(), after, true);
    };
    let mut out = String::new();
    let mut escaped = false;
    for (at, c) in quoted.char_indices() {
        match c {
            _ if escaped => {
                out.push(c);
                escaped = false;
            }
            '\\' => escaped = true,
            '"' => return (out, quoted.get(at + 1..).unwrap_or(""), true),
            _ => out.push(c),
        }
    }
    (out, "", false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Option<InlineIgnore> {
        parse(&Arc::from("main.tf"), 3, text)
    }

    #[test]
    fn a_well_formed_ignore() {
        let ignore = one(
            r#" resilix:ignore aws.s3.versioning,aws.s3.* reason="archive \"cold\" bucket" expires=2027-03-31"#,
        )
        .unwrap();
        assert_eq!(ignore.problem, None);
        let ids: Vec<&str> = ignore.policies.iter().map(Pattern::text).collect();
        assert_eq!(ids, ["aws.s3.versioning", "aws.s3.*"]);
        assert_eq!(ignore.reason, "archive \"cold\" bucket");
        assert_eq!(
            ignore.expires.map(|d| d.to_string()).as_deref(),
            Some("2027-03-31")
        );
        assert!(ignore.names("aws.s3.access-logging"));
        assert!(!ignore.names("aws.ec2.imdsv2"));
    }

    #[test]
    fn ignores_that_suppress_nothing_say_why() {
        let problem = |text: &str| one(text).and_then(|i| i.problem).unwrap_or_default();
        assert!(
            problem("resilix:ignore aws.s3.versioning expires=2027-03-31").contains("no `reason=")
        );
        assert!(
            problem(r#"resilix:ignore aws.s3.versioning reason=" " expires=2027-03-31"#)
                .contains("empty")
        );
        assert!(problem(r#"resilix:ignore aws.s3.versioning reason="x""#).contains("no `expires="));
        assert!(
            problem(r#"resilix:ignore aws.s3.versioning reason="x" expires=2027-02-30"#)
                .contains("not a date")
        );
        assert!(
            problem(r#"resilix:ignore reason="x" expires=2027-03-31"#).contains("names no policy")
        );
        assert!(
            problem(r#"resilix:ignore a.b reason="x expires=2027-03-31"#).contains("closing quote")
        );
        assert!(
            problem(r#"resilix:ignore a.b reason="x" expires=2027-03-31 ticket=T-1"#)
                .contains("unknown `ticket=`")
        );
        assert!(
            problem(r#"resilix:ignore:aws.s3.versioning"#).contains("after a space, not a colon")
        );
        assert!(
            problem(r#"resilix:ignore a/b reason="x" expires=2027-03-31"#)
                .contains("`a/b` is not a policy ID")
        );
    }

    #[test]
    fn other_comments_are_not_ignores() {
        assert!(one(" the bucket is old").is_none());
        assert!(one(" resilix:ignored").is_none());
        assert!(one(" see resilix:ignore in the README").is_none());
        assert!(one(" resilix:ignore").is_some_and(|i| i.problem.is_some()));
    }

    #[test]
    fn comments_above_on_and_inside_a_block() {
        let text = "# file header\n\n# resilix:ignore a.one reason=\"r\" expires=2027-01-01\n// a note\n// resilix:ignore a.two reason=\"r\" expires=2027-01-01\nresource \"t\" \"n\" { # resilix:ignore a.three reason=\"r\" expires=2027-01-01\n\n  # resilix:ignore a.four reason=\"r\" expires=2027-01-01\n  x = 1\n  # resilix:ignore a.late reason=\"r\" expires=2027-01-01\n}\n# resilix:ignore a.next reason=\"r\" expires=2027-01-01\nresource \"t\" \"m\" {}\n";
        let lines: Vec<&str> = text.lines().collect();
        let file: Arc<str> = Arc::from("main.tf");
        let found = of_block(
            &file,
            &lines,
            5,
            10,
            " { # resilix:ignore a.three reason=\"r\" expires=2027-01-01",
        );
        let ids: Vec<(usize, &str)> = found
            .iter()
            .map(|i| (i.line, i.policies.first().map_or("", Pattern::text)))
            .collect();
        assert_eq!(
            ids,
            [(3, "a.one"), (5, "a.two"), (6, "a.three"), (8, "a.four")]
        );
        let next = of_block(&file, &lines, 12, 12, " {}");
        assert_eq!(next.iter().map(|i| i.line).collect::<Vec<_>>(), [12]);
    }
}
