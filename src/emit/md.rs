//! Escaping for the Markdown formats (the summary and the auditor's report): the one place
//! where text becomes Markdown.
//!
//! Everything is first made [`printable`] (no control character, no line break, no invisible
//! reordering character survives), so no value can end a table row, start a line of its own or
//! hide itself; then Markdown syntax and HTML are escaped. Runs of `#` are broken up so no line
//! of the document holds a `##[command]` a CI runner would obey.

use crate::printable::{break_hashes, printable};

/// Text from the inputs or a policy, for a table cell or a line: one line, Markdown syntax
/// (`|`, `\`, `` ` ``, `*`, `[`, `]`, `#`) escaped with a backslash, HTML as entities, runs of
/// whitespace collapsed.
pub(super) fn text(text: &str) -> String {
    let text = printable(text);
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        if c.is_whitespace() {
            space = !out.is_empty();
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        match c {
            '|' | '\\' | '`' | '*' | '[' | ']' | '#' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            c => out.push(c),
        }
    }
    out
}

/// Text written by policy authors (titles, descriptions, remediation), which may use Markdown
/// code spans and emphasis: one line, HTML escaped, nothing else.
pub(super) fn prose(text: &str) -> String {
    printable(&text.split_whitespace().collect::<Vec<_>>().join(" "))
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A code span that survives backticks and pipes inside a table cell (its fence is longer than
/// any run of backticks inside; a `|` is escaped, as GitHub requires even in code spans).
pub(super) fn code(text: &str) -> String {
    let text = printable(text)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    // Backslashes do not escape inside a code span: a `##` is broken with a visible one.
    let text = break_hashes(&text).into_owned();
    let longest_run = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest_run + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{}{pad}{fence}", text.replace('|', "\\|"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_breaks_a_table_or_a_line() {
        // A line break shows as `\n` (its backslash escaped for Markdown).
        assert_eq!(text("a | b\n<script>"), "a \\| b\\\\n&lt;script&gt;");
        assert_eq!(text("a|b  c <x> *y* #"), "a\\|b c &lt;x&gt; \\*y\\* \\#");
        assert_eq!(text("x\u{1b}[2J\u{2028}y"), "x\\\\u{1b}\\[2J\\\\u{2028}y");
        assert_eq!(code("aws_s3_bucket.b[\"x\"]"), "`aws_s3_bucket.b[\"x\"]`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`a"), "`` `a ``");
        assert_eq!(code("x|y"), "`x\\|y`");
        assert_eq!(code("a\nb\r\n|c"), "`a\\nb\\r\\n\\|c`");
        assert_eq!(
            code("a\u{0}\u{85}b ##[error]"),
            "`a\\u{0}\\u{85}b #\\#[error]`"
        );
        assert_eq!(prose("Set `x`\nto *y* <b>"), "Set `x` to *y* &lt;b&gt;");
    }
}
