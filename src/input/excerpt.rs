//! The excerpt of an input file shown under a load error, with string values blanked out.
//!
//! A plan marks its secrets in `after_sensitive` / `before_sensitive`, but an error excerpt is a
//! view of the raw text: `terraform show -json` writes a whole plan on one line, so the window
//! around an error easily holds a password next to it. An excerpt therefore shows the JSON's
//! structure (punctuation, keys, numbers, and the values of a few identity keys such as
//! `address` and `type`) and replaces the characters of every other string value with `*`,
//! byte for byte, so that every offset and label stays where it was. The string the error
//! points into is kept: it is the one users need to see.

use std::sync::{Arc, OnceLock};

use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

use crate::source::{SourceFile, read_excerpt};

/// Keys whose string values name things and never hold secrets.
const IDENTITY_KEYS: &[&str] = &[
    "address",
    "module_address",
    "previous_address",
    "mode",
    "type",
    "provider_name",
    "actions",
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

/// Lines of context kept on each side of the error.
const CONTEXT_LINES: usize = 1;

/// Redacted windows of a file around one offset, computed the first time the error is shown
/// (a run may make many errors and show one): one with context lines for the snippet, one
/// without for the `file:line:column` header.
#[derive(Debug, Clone)]
pub struct RedactedExcerpt {
    file: Arc<SourceFile>,
    offset: usize,
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
    fn new(file: &SourceFile, offset: usize, context: usize) -> Window {
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
            data: redact(text, start, end, offset),
            span: SourceSpan::new(start.into(), end.saturating_sub(start)),
            line,
            column,
            line_count,
        }
    }
}

impl RedactedExcerpt {
    pub fn new(file: &Arc<SourceFile>, offset: usize) -> RedactedExcerpt {
        RedactedExcerpt {
            file: Arc::clone(file),
            offset: offset.min(file.text().len()),
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
        let window = cell.get_or_init(|| Window::new(&self.file, self.offset, context));
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

/// `text[start..end]` with the characters of string values blanked, except values of
/// [`IDENTITY_KEYS`], the string that contains `keep`, and the value of a key that does.
///
/// The text is scanned from its beginning to know whether the window opens inside a string
/// (linear, and only on the error path).
fn redact(text: &str, start: usize, end: usize, keep: usize) -> String {
    let bytes = text.as_bytes();
    let mut out: Vec<u8> = bytes.get(start..end).unwrap_or_default().to_vec();
    let mut index = 0;
    let mut last_key: Option<(usize, usize)> = None;
    // The error points at a key: its string value is what the error is about.
    let mut keep_value = false;
    while index < bytes.len() {
        let Some(&byte) = bytes.get(index) else { break };
        if byte != b'"' {
            if matches!(byte, b'{' | b'[' | b',') {
                keep_value = false;
            }
            index += 1;
            if index >= end {
                break;
            }
            continue;
        }
        // A string literal: find its closing quote.
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
        let content = (open + 1)..close;
        let is_key = bytes
            .get(close + 1..)
            .and_then(|rest| rest.iter().find(|b| !b.is_ascii_whitespace()))
            == Some(&b':');
        let overlaps = content.start < end && content.end > start;
        if is_key {
            last_key = Some((content.start, content.end));
            keep_value = (open..=close).contains(&keep);
        } else if overlaps {
            let identity = last_key
                .and_then(|(s, e)| text.get(s..e))
                .is_some_and(|key| IDENTITY_KEYS.contains(&key));
            let holds_keep = keep_value || (open..=close).contains(&keep);
            if !identity && !holds_keep {
                for position in content.start.max(start)..content.end.min(end) {
                    if let Some(slot) = out.get_mut(position - start) {
                        *slot = b'*';
                    }
                }
            }
        }
        if close >= end {
            break;
        }
        index = close + 1;
    }
    // Only whole characters were replaced (a string's content lies between two ASCII quotes,
    // and the window starts and ends on character boundaries), so this never loses anything.
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(text: &str, keep: usize) -> String {
        redact(text, 0, text.len(), keep)
    }

    #[test]
    fn values_are_blanked_keys_identity_and_the_error_string_kept() {
        let text =
            r#"{"address":"aws_db.x","after":{"password":"hunter2","n":3,"é":"é!"},"bad":"here"}"#;
        let keep = text.find("here").unwrap_or(0);
        let shown = window(text, keep);
        assert_eq!(shown.len(), text.len());
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains(r#""address":"aws_db.x""#), "{shown}");
        assert!(shown.contains(r#""password":"*******""#), "{shown}");
        assert!(shown.contains(r#""n":3"#), "{shown}");
        assert!(shown.contains(r#""é":"***""#), "{shown}");
        assert!(shown.contains(r#""bad":"here""#), "{shown}");
    }

    #[test]
    fn the_value_of_the_key_in_error_is_kept() {
        let text = r#"{"schema": "something/else", "other": "hidden", "nested": {"a": "b"}}"#;
        let shown = window(text, text.find("\"schema\"").unwrap_or(0));
        assert!(shown.contains(r#""schema": "something/else""#), "{shown}");
        assert!(shown.contains(r#""other": "******""#), "{shown}");
        let shown = window(text, text.find("\"nested\"").unwrap_or(0));
        assert!(shown.contains(r#"{"a": "*"}"#), "{shown}");
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
    fn escapes_and_unterminated_strings_are_handled() {
        let text = r#"{"a":"x\"secret\\","b":"unterminated secret"#;
        let shown = window(text, 0);
        assert!(!shown.contains("secret"), "{shown}");
        assert_eq!(shown.len(), text.len());
    }
}
