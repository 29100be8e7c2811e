//! The excerpt of an input file shown under a load error, with every value blanked out.
//!
//! A plan marks its secrets in `after_sensitive` / `before_sensitive`, but an error excerpt is a
//! view of the raw text: `terraform show -json` writes a whole plan on one line, so the window
//! around an error easily holds a password next to it, and the error may point into the secret
//! itself (a plan cut off inside it, a bad escape or a control character in it). An excerpt
//! therefore shows the JSON's structure only: punctuation, `true`/`false`/`null`, the keys, and
//! the values of a few identity keys (`address`, `type`, …) of the document's top levels. The
//! characters of every other string and of every number are replaced with `*`, byte for byte, so
//! that every offset and label stays where it was — the value the error points at included.
//!
//! Only the text before a syntax error is known to be JSON (serde_json read it): after it, a
//! stray quote may have turned values into what looks like keys or bare words. There, nothing
//! but punctuation and line breaks is shown.

use std::sync::{Arc, OnceLock};

use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

use crate::source::{SourceFile, read_excerpt};

/// Keys whose string values name things and never hold secrets, where they are members of the
/// document's top levels (the plan, a resource change, a configuration item: see
/// [`IDENTITY_DEPTH`]); deeper, the same names are attributes of a resource.
const IDENTITY_KEYS: &[&str] = &[
    "address",
    "module_address",
    "previous_address",
    "mode",
    "type",
    "provider_name",
    "format_version",
    "terraform_version",
    "resourceType",
    "resourceId",
    "ARN",
    "arn",
    "awsRegion",
    "awsAccountId",
    "configurationItemStatus",
];

/// The deepest object whose identity keys keep their values: 1 is the document, 3 a member of a
/// list in it (`resource_changes[0]`, `configurationItems[0]`). A resource's attribute values
/// are deeper (`resource_changes[0].change.after` is at 5).
const IDENTITY_DEPTH: usize = 3;

/// Lines of context kept on each side of the error.
const CONTEXT_LINES: usize = 1;

/// Redacted windows of a file around one offset, computed the first time the error is shown
/// (a run may make many errors and show one): one with context lines for the snippet, one
/// without for the `file:line:column` header.
#[derive(Debug, Clone)]
pub(super) struct RedactedExcerpt {
    file: Arc<SourceFile>,
    offset: usize,
    /// Where the text stops being known JSON: the offset of a syntax error, else the end.
    json_until: usize,
    with_context: OnceLock<Window>,
    alone: OnceLock<Window>,
}

#[derive(Debug, Clone)]
struct Window {
    data: String,
    span: SourceSpan,
    line: usize,
    column: usize,
    line_count: usize,
}

impl Window {
    fn new(file: &SourceFile, offset: usize, json_until: usize, context: usize) -> Window {
        let text = file.text();
        let span = SourceSpan::new(offset.into(), usize::from(offset < text.len()));
        let window = read_excerpt(file, &span, context, context).ok();
        let (start, len, line, column, line_count) =
            window.as_ref().map_or((offset, 0, 0, 0, 1), |w| {
                (
                    w.span().offset(),
                    w.span().len(),
                    w.line(),
                    w.column(),
                    w.line_count(),
                )
            });
        let end = start.saturating_add(len).min(text.len());
        Window {
            data: redact(text, start, end, json_until),
            span: SourceSpan::new(start.into(), end.saturating_sub(start)),
            line,
            column,
            line_count,
        }
    }
}

impl RedactedExcerpt {
    /// The excerpt around `offset` of a file that is JSON throughout (an error about its shape).
    pub(super) fn new(file: &Arc<SourceFile>, offset: usize) -> RedactedExcerpt {
        RedactedExcerpt::with_json_until(file, offset, file.text().len())
    }

    /// The excerpt around a syntax error at `offset`: only the text before it is known JSON.
    pub(super) fn at_syntax_error(file: &Arc<SourceFile>, offset: usize) -> RedactedExcerpt {
        RedactedExcerpt::with_json_until(file, offset, offset)
    }

    fn with_json_until(
        file: &Arc<SourceFile>,
        offset: usize,
        json_until: usize,
    ) -> RedactedExcerpt {
        RedactedExcerpt {
            file: Arc::clone(file),
            offset: offset.min(file.text().len()),
            json_until: json_until.min(file.text().len()),
            with_context: OnceLock::new(),
            alone: OnceLock::new(),
        }
    }
}

impl SourceCode for RedactedExcerpt {
    fn read_span<'a>(
        &'a self,
        _span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let (cell, context) = if context_lines_before == 0 && context_lines_after == 0 {
            (&self.alone, 0)
        } else {
            (&self.with_context, CONTEXT_LINES)
        };
        let window =
            cell.get_or_init(|| Window::new(&self.file, self.offset, self.json_until, context));
        Ok(Box::new(MietteSpanContents::new_named(
            self.file.name().to_owned(),
            window.data.as_bytes(),
            window.span,
            window.line,
            window.column,
            window.line_count,
        )))
    }
}

/// `text[start..end]` with the characters of every string and number blanked, except keys and
/// the values of [`IDENTITY_KEYS`] at the top levels; from `json_until` on (where a syntax error
/// is), everything but punctuation and line breaks.
///
/// The text is scanned from its beginning to know whether the window opens inside a string and
/// how deep it is (linear, and only on the error path).
fn redact(text: &str, start: usize, end: usize, json_until: usize) -> String {
    let bytes = text.as_bytes();
    let end = end.min(bytes.len());
    let start = start.min(end);
    let json_until = json_until.min(bytes.len());
    let mut out: Vec<u8> = bytes.get(start..end).unwrap_or_default().to_vec();
    let mut blank = |from: usize, to: usize| {
        for position in from.max(start)..to.min(end) {
            if let Some(slot) = out.get_mut(position - start)
                && !matches!(*slot, b'\n' | b'\r')
            {
                *slot = b'*';
            }
        }
    };
    let lexed = end.min(json_until);
    let mut index = 0;
    let mut depth = 0usize;
    // The key whose value comes next, if it is an identity key of a top-level object.
    let mut identity_key = false;
    while index < lexed {
        let Some(&byte) = bytes.get(index) else { break };
        match byte {
            b'{' | b'[' => {
                depth += 1;
                identity_key = false;
                index += 1;
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                identity_key = false;
                index += 1;
            }
            b',' | b':' => index += 1,
            b if b.is_ascii_whitespace() => index += 1,
            b'"' => {
                let open = index;
                let mut close = index + 1;
                while let Some(&b) = bytes.get(close) {
                    match b {
                        b'\\' => close += 2,
                        b'"' => break,
                        _ => close += 1,
                    }
                }
                let close = close.min(bytes.len());
                // A key is a whole string followed by `:`, both read as JSON.
                let colon = bytes
                    .get(close + 1..json_until)
                    .and_then(|rest| rest.iter().position(|b| !b.is_ascii_whitespace()))
                    .filter(|&at| bytes.get(close + 1 + at) == Some(&b':'));
                if close < json_until && colon.is_some() {
                    identity_key = depth <= IDENTITY_DEPTH
                        && text
                            .get(open + 1..close)
                            .is_some_and(|key| IDENTITY_KEYS.contains(&key));
                } else {
                    if !(identity_key && close < json_until) {
                        blank(open + 1, close);
                    }
                    identity_key = false;
                }
                index = close + 1;
            }
            _ => {
                // A number, `true`, `false`, `null` (or, where the JSON is broken, a bare word).
                let token_end = bytes
                    .get(index..)
                    .and_then(|rest| rest.iter().position(|&b| is_delimiter(b)))
                    .map_or(bytes.len(), |at| index + at);
                let token = bytes.get(index..token_end).unwrap_or_default();
                if !matches!(token, b"true" | b"false" | b"null") {
                    blank(index, token_end);
                }
                identity_key = false;
                index = token_end;
            }
        }
    }
    // Past a syntax error, the text is not known to be JSON: nothing of it is read as a key.
    for position in json_until.max(start)..end {
        if !bytes.get(position).copied().is_some_and(is_delimiter) {
            blank(position, position + 1);
        }
    }
    // Only whole characters were replaced (every run blanked lies between ASCII delimiters, and
    // the window starts and ends on character boundaries), so this never loses anything.
    String::from_utf8_lossy(&out).into_owned()
}

/// Punctuation and whitespace: what separates JSON tokens, and all an excerpt shows of broken
/// JSON.
fn is_delimiter(byte: u8) -> bool {
    matches!(byte, b'{' | b'}' | b'[' | b']' | b',' | b':' | b'"') || byte.is_ascii_whitespace()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole of `text`, known JSON up to `json_until`.
    fn shown(text: &str, json_until: usize) -> String {
        let shown = redact(text, 0, text.len(), json_until);
        assert_eq!(shown.len(), text.len(), "{shown}");
        shown
    }

    #[test]
    fn values_and_numbers_are_blanked_keys_and_top_level_identity_kept() {
        let text = r#"{"format_version":"1.2","resource_changes":[{"address":"aws_db.x","change":{"after":{"password":"hunter2","n":37,"ok":true,"none":null,"é":"é!","type":"secret-type"}}}]}"#;
        let shown = shown(text, text.len());
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains(r#""format_version":"1.2""#), "{shown}");
        assert!(shown.contains(r#""address":"aws_db.x""#), "{shown}");
        assert!(shown.contains(r#""password":"*******""#), "{shown}");
        assert!(shown.contains(r#""n":**,"ok":true,"none":null"#), "{shown}");
        assert!(shown.contains(r#""é":"***""#), "{shown}");
        // An attribute that happens to be called `type` is a value like any other.
        assert!(shown.contains(r#""type":"***********""#), "{shown}");
    }

    #[test]
    fn the_value_at_the_error_is_blanked_too() {
        let text = r#"{"schema": "something/else", "other": -1.5e3, "nested": {"a": "b"}}"#;
        let shown = shown(text, text.len());
        assert_eq!(
            shown,
            r#"{"schema": "**************", "other": ******, "nested": {"a": "*"}}"#
        );
    }

    #[test]
    fn a_window_that_opens_inside_a_string_blanks_its_part() {
        let text = r#"{"secret":"abcdefghijklmnop","x":"q"}"#;
        let start = text.find("ghij").unwrap_or(0);
        let shown = redact(text, start, text.len(), text.len());
        assert!(shown.starts_with("**********\""), "{shown}");
        assert!(shown.ends_with(r#""x":"*"}"#), "{shown}");
    }

    #[test]
    fn escapes_line_breaks_and_unterminated_strings_are_handled() {
        let text = "{\"a\":\"x\\\"secret\\\\\",\"b\":\"two\nlines\",\"c\":\"unterminated secret";
        let shown = shown(text, text.len());
        assert!(!shown.contains("secret"), "{shown}");
        assert!(
            !shown.contains("two") && !shown.contains("lines"),
            "{shown}"
        );
        // Line breaks stay, so that the excerpt's lines are the file's.
        assert_eq!(shown.matches('\n').count(), 1, "{shown}");
    }

    /// Past a syntax error nothing is read as JSON: a stray quote turns the secret into a bare
    /// word and the punctuation after it into strings and keys.
    #[test]
    fn nothing_past_a_syntax_error_is_shown_but_punctuation() {
        let text = r#"{"address":"a.b","pw":""hunter2",":x":1,"next":"value"}"#;
        let error = text.find("hunter2").unwrap_or(0);
        let shown = shown(text, error);
        assert_eq!(
            shown,
            r#"{"address":"a.b","pw":""*******",":*":*,"****":"*****"}"#
        );
    }

    /// A string the error points into (truncated, a bad escape, a control character) is not
    /// a key and not an identity value, even after an identity key.
    #[test]
    fn a_string_holding_a_syntax_error_is_blanked() {
        for text in [
            r#"{"address":"hunter2"#,
            r#"{"address":"hunt\qer2"}"#,
            "{\"address\":\"hunt\u{1}er2\"}",
            r#"{"hunter2"#,
            r#"{"pin":86753091"#,
        ] {
            let error = text.find("er2").or_else(|| text.find("91")).unwrap_or(0);
            let shown = shown(text, error);
            assert!(!shown.contains("hunt") && !shown.contains("er2"), "{shown}");
            assert!(
                !shown.contains("8675") && !shown.contains("\u{1}"),
                "{shown}"
            );
        }
    }
}
