//! Text from the inputs made safe to show: resource addresses, tag values, IAM actions and the
//! values quoted as evidence come from the pull request under review, and must not be able to
//! drive the terminal or the CI log that shows them.
//!
//! [`printable`] replaces every character that is not shown as itself — C0 and C1 control
//! characters (ESC starts terminal escape sequences; U+009B is an 8-bit CSI), line breaks, and
//! the invisible format characters that reorder or hide text ("Trojan Source": bidi overrides
//! and isolates, zero-width characters) — with a visible escape such as `\u{1b}`. Each output
//! format applies it in its one escaping function, before its own escaping (Markdown, HTML, XML,
//! workflow commands); the text format also keeps a line from starting a workflow command
//! ([`workflow_safe`]).

use std::borrow::Cow;
use std::fmt;

use miette::{Diagnostic, LabeledSpan};

/// Whether `c` must be escaped to be shown: a control character or an invisible format
/// character that changes how the text around it reads.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{2069}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
        )
}

/// `text` with every [unsafe](is_unsafe) character replaced by a visible escape (`\n`, `\t`,
/// `\u{1b}`); borrowed when there is none (the usual case).
pub fn printable(text: &str) -> Cow<'_, str> {
    // Printable ASCII is by far the most common: checked a byte at a time.
    if text.bytes().all(|b| (0x20..0x7f).contains(&b)) || !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        push_visible(&mut out, c);
    }
    Cow::Owned(out)
}

/// Appends `c`, escaped when it is [unsafe](is_unsafe).
fn push_visible(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if is_unsafe(c) => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
        c => out.push(c),
    }
}

/// A line of a log that GitHub Actions (and Azure Pipelines) will not read as a command: after
/// leading whitespace it does not start with `::` (a workflow command), and it holds no `##`
/// (`##[command]` and `##vso[command]` are read anywhere in a line). A backslash goes before the
/// second character of each ([`command_breaks`]). The line must already be [`printable`].
pub fn workflow_safe(line: &str) -> Cow<'_, str> {
    let breaks = command_breaks(line);
    if breaks.is_empty() {
        return Cow::Borrowed(line);
    }
    let mut out = String::with_capacity(line.len() + breaks.len());
    let mut breaks = breaks.iter().peekable();
    for (index, c) in line.char_indices() {
        if breaks.next_if_eq(&&index).is_some() {
            out.push('\\');
        }
        out.push(c);
    }
    Cow::Owned(out)
}

/// Where [`workflow_safe`] puts a backslash in `line`: the byte offsets, in order, of the second
/// `:` of a leading `::` and of every `#` that follows a `#`.
pub fn command_breaks(line: &str) -> Vec<usize> {
    let mut breaks = Vec::new();
    let trimmed = line.trim_start();
    if trimmed.starts_with("::") {
        breaks.push(line.len() - trimmed.len() + 1);
    }
    let mut previous = None;
    for (index, c) in line.char_indices() {
        if c == '#' && previous == Some('#') {
            breaks.push(index);
        }
        previous = Some(c);
    }
    breaks
}

/// `text` with a backslash between the two characters of every `##`, so it holds no
/// `##[command]` for a CI runner, for text that is not a line of its own ([`workflow_safe`]).
pub fn break_hashes(text: &str) -> Cow<'_, str> {
    if !text.contains("##") {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 4);
    for c in text.chars() {
        if c == '#' && out.ends_with('#') {
            out.push('\\');
        }
        out.push(c);
    }
    Cow::Owned(out)
}

/// A diagnostic as it is shown on stderr: its message, help, labels, causes and related
/// diagnostics made [`printable`] and [`workflow_safe`], whatever type it is and whoever wrote
/// it — the one place stderr text is made safe. (Source excerpts are quoted from the input by
/// their own type, which blanks the values in them.)
pub struct Shown<'d> {
    inner: &'d dyn Diagnostic,
    message: String,
    help: Option<String>,
    labels: Vec<LabeledSpan>,
    related: Vec<Shown<'d>>,
    cause: Option<Box<Cause>>,
}

impl<'d> Shown<'d> {
    pub fn new(inner: &'d dyn Diagnostic) -> Shown<'d> {
        Shown {
            inner,
            message: safe(&inner.to_string()),
            help: inner.help().map(|h| safe(&h.to_string())),
            labels: inner
                .labels()
                .map(|labels| {
                    labels
                        .map(|l| LabeledSpan::new_with_span(l.label().map(safe), *l.inner()))
                        .collect()
                })
                .unwrap_or_default(),
            related: inner
                .related()
                .map(|related| related.map(Shown::new).collect())
                .unwrap_or_default(),
            cause: Cause::chain(inner.source()),
        }
    }
}

/// Text for stderr: each line printable, and none of them a workflow command. Line breaks
/// stay (messages and help are laid out in lines; miette indents each one under its mark).
fn safe(text: &str) -> String {
    text.split('\n')
        .map(|line| workflow_safe(&printable(line)).into_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

/// An error's cause, as shown.
#[derive(Debug)]
struct Cause {
    text: String,
    next: Option<Box<Cause>>,
}

impl Cause {
    fn chain(error: Option<&(dyn std::error::Error + 'static)>) -> Option<Box<Cause>> {
        error.map(|e| {
            Box::new(Cause {
                text: safe(&e.to_string()),
                next: Cause::chain(e.source()),
            })
        })
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::error::Error for Cause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.next
            .as_deref()
            .map(|c| c as &(dyn std::error::Error + 'static))
    }
}

impl fmt::Debug for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Shown<'_> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause
            .as_deref()
            .map(|c| c as &(dyn std::error::Error + 'static))
    }
}

impl Diagnostic for Shown<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.inner.code()
    }

    fn severity(&self) -> Option<miette::Severity> {
        self.inner.severity()
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display + 'a>)
    }

    fn url<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.inner.url()
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.inner.source_code()
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            return None;
        }
        Some(Box::new(self.labels.iter().cloned()))
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(self.related.iter().map(|d| d as &dyn Diagnostic)))
    }

    fn diagnostic_source(&self) -> Option<&dyn Diagnostic> {
        None
    }
}

/// Writes diagnostics to stderr as `main` shows them ([`Shown`], wide, never breaking a file name
/// in the middle, coloured when `color`), one after the other.
pub fn write_diagnostics(
    out: &mut dyn std::io::Write,
    diagnostics: &[Box<dyn Diagnostic + Send + Sync + 'static>],
    color: bool,
) -> std::io::Result<()> {
    let handler = miette::MietteHandlerOpts::new()
        .color(color)
        .width(120)
        .break_words(false)
        .build();
    for diagnostic in diagnostics {
        let shown = Shown::new(diagnostic.as_ref());
        writeln!(out, "{}", Render(&handler, &shown))?;
    }
    Ok(())
}

/// A diagnostic rendered by a report handler, for `write!`.
struct Render<'a>(&'a dyn miette::ReportHandler, &'a dyn Diagnostic);

impl fmt::Display for Render<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.debug(self.1, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_invisible_characters_become_visible() {
        assert_eq!(
            printable("aws_s3_bucket.b"),
            Cow::Borrowed("aws_s3_bucket.b")
        );
        assert_eq!(printable("é ünïcödé ✓"), "é ünïcödé ✓");
        assert_eq!(
            printable("a\u{1b}[31mred\n::error\r\t\u{9b}\u{7f}"),
            "a\\u{1b}[31mred\\n::error\\r\\t\\u{9b}\\u{7f}"
        );
        assert_eq!(
            printable("admin\u{202e}txt.exe\u{2066}\u{200b}"),
            "admin\\u{202e}txt.exe\\u{2066}\\u{200b}"
        );
    }

    #[test]
    fn no_line_reads_as_a_workflow_command() {
        assert_eq!(workflow_safe("aws_s3_bucket.b  x"), "aws_s3_bucket.b  x");
        assert_eq!(workflow_safe("::error file=a::b"), ":\\:error file=a::b");
        assert_eq!(workflow_safe("   ::warning::x"), "   :\\:warning::x");
        assert_eq!(workflow_safe("x ##[error]y"), "x #\\#[error]y");
        assert_eq!(
            workflow_safe("##vso[task.setvariable]"),
            "#\\#vso[task.setvariable]"
        );
        assert_eq!(workflow_safe("###[x]"), "#\\#\\#[x]");
        assert_eq!(workflow_safe("a: b::c"), "a: b::c");
        assert_eq!(break_hashes("::x ###[y]"), "::x #\\#\\#[y]");
    }
}
