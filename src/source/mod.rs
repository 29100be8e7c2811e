//! Input files as text, with line/column lookup and miette source excerpts.
//!
//! Every loaded input and every policy file becomes one [`SourceFile`]. Values keep their origin
//! as a byte offset into it; line and column are computed on demand from a line index that is
//! built once, the first time anyone asks.

use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, OnceLock};

use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

/// One input or policy file, decoded to UTF-8.
pub struct SourceFile {
    name: String,
    /// Owned, not `Arc<str>`: the file itself is shared behind an `Arc`, and converting a
    /// `String` into an `Arc<str>` (or a boxed `str`) may copy a 400 MB plan. Borrowed for the
    /// text built into the binary (the built-in policies: 700 KB not copied at every start).
    text: Cow<'static, str>,
    line_starts: OnceLock<Vec<usize>>,
    /// Characters before every `CHUNK` bytes, so a column on a very long line (a minified plan
    /// is one line) costs at most one chunk to count.
    char_checkpoints: OnceLock<Vec<usize>>,
}

/// Bytes between character-count checkpoints.
const CHUNK: usize = 1 << 12;

impl fmt::Debug for SourceFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SourceFile")
            .field("name", &self.name)
            .field("len", &self.text.len())
            .finish()
    }
}

/// A 1-based line and column (column counted in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LineCol {
    pub line: usize,
    pub column: usize,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Arc<Self> {
        SourceFile::with_text(name.into(), Cow::Owned(text.into()))
    }

    /// A file whose text is built into the binary.
    pub fn from_static(name: impl Into<String>, text: &'static str) -> Arc<Self> {
        SourceFile::with_text(name.into(), Cow::Borrowed(text))
    }

    fn with_text(name: String, text: Cow<'static, str>) -> Arc<Self> {
        Arc::new(SourceFile {
            name,
            text,
            line_starts: OnceLock::new(),
            char_checkpoints: OnceLock::new(),
        })
    }

    /// The name users see: the path as given on the command line, or `<stdin>`.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The text, without a copy when this is its only handle (to name a file read under one
    /// name by another).
    pub fn into_text(self: Arc<Self>) -> String {
        Arc::try_unwrap(self).map_or_else(
            |shared| shared.text.clone().into_owned(),
            |file| file.text.into_owned(),
        )
    }

    fn line_starts(&self) -> &[usize] {
        self.line_starts.get_or_init(|| {
            let mut starts = vec![0];
            starts.extend(memchr::memchr_iter(b'\n', self.text.as_bytes()).map(|i| i + 1));
            starts
        })
    }

    /// Line and column of a byte offset (clamped to the text).
    pub fn line_col(&self, offset: usize) -> LineCol {
        let offset = offset.min(self.text.len());
        let starts = self.line_starts();
        let line_index = starts.partition_point(|&s| s <= offset).saturating_sub(1);
        let line_start = starts.get(line_index).copied().unwrap_or(0);
        let column = if offset - line_start <= CHUNK {
            self.text
                .get(line_start..offset)
                .map_or(offset - line_start, |s| s.chars().count())
        } else {
            self.chars_before(offset) - self.chars_before(line_start)
        };
        LineCol {
            line: line_index + 1,
            column: column + 1,
        }
    }

    /// Number of characters in `text[..offset]` (UTF-8: bytes that do not continue a character).
    fn chars_before(&self, offset: usize) -> usize {
        let bytes = self.text.as_bytes();
        let checkpoints = self.char_checkpoints.get_or_init(|| {
            let mut total = 0;
            let mut out = Vec::with_capacity(bytes.len() / CHUNK + 1);
            for chunk in bytes.chunks(CHUNK) {
                out.push(total);
                total += count_chars(chunk);
            }
            out.push(total);
            out
        });
        let block = offset / CHUNK;
        let base = checkpoints.get(block).copied().unwrap_or(0);
        base + bytes.get(block * CHUNK..offset).map_or(0, count_chars)
    }

    /// Byte offset of a 1-based line and column (column in characters), clamped to the text.
    pub fn offset_of(&self, line: usize, column: usize) -> usize {
        let starts = self.line_starts();
        let Some(&line_start) = starts.get(line.saturating_sub(1)) else {
            return self.text.len();
        };
        let rest = self.text.get(line_start..).unwrap_or("");
        let within = rest
            .char_indices()
            .take_while(|(_, c)| *c != '\n')
            .nth(column.saturating_sub(1))
            .map_or_else(|| rest.find('\n').unwrap_or(rest.len()), |(index, _)| index);
        line_start + within
    }
}

fn count_chars(bytes: &[u8]) -> usize {
    // Plans are nearly all ASCII; `is_ascii` checks a word at a time.
    if bytes.is_ascii() {
        return bytes.len();
    }
    bytes.iter().filter(|&&b| (b as i8) >= -0x40).count()
}

/// A [`SourceCode`] over a [`SourceFile`] that never hands miette more than a small window.
///
/// `terraform show -json` writes a whole plan on one line; quoting "the line" of an error in a
/// 400 MB plan would print 400 MB. The window keeps whole lines when they are short and cuts
/// long lines to a few dozen characters around the error.
#[derive(Clone)]
pub struct Excerpt(pub Arc<SourceFile>);

impl fmt::Debug for Excerpt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Excerpt({})", self.0.name)
    }
}

const WIDE: usize = 100;

impl SourceCode for Excerpt {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        read_excerpt(&self.0, span, context_lines_before, context_lines_after)
    }
}

/// The windowed excerpt of `file` around `span` (see [`Excerpt`]).
pub fn read_excerpt<'a>(
    file: &'a SourceFile,
    span: &SourceSpan,
    context_lines_before: usize,
    context_lines_after: usize,
) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
    {
        let text = file.text();
        let start = span.offset().min(text.len());
        let end = (span.offset() + span.len()).min(text.len()).max(start);
        let starts = file.line_starts();
        let first = starts.partition_point(|&s| s <= start).saturating_sub(1);
        let last = starts
            .partition_point(|&s| s <= end.saturating_sub(usize::from(end > start)))
            .saturating_sub(1);
        let from_line = first.saturating_sub(context_lines_before);
        let to_line = (last + context_lines_after).min(starts.len().saturating_sub(1));
        let mut window_start = starts.get(from_line).copied().unwrap_or(0);
        let mut window_end = starts
            .get(to_line + 1)
            .map_or(text.len(), |next| next.saturating_sub(1));
        // Long lines: keep a window around the span only.
        if window_end - window_start > 4 * WIDE {
            window_start = floor_char(text, start.saturating_sub(WIDE).max(window_start));
            window_end = ceil_char(text, (end + WIDE).min(window_end));
        }
        let data = text.get(window_start..window_end).unwrap_or("");
        let first_line_of_window = starts
            .partition_point(|&s| s <= window_start)
            .saturating_sub(1);
        let line_start = starts.get(first_line_of_window).copied().unwrap_or(0);
        let column = text
            .get(line_start..window_start)
            .map_or(0, |s| s.chars().count());
        let line_count = data.lines().count().max(1);
        Ok(Box::new(MietteSpanContents::new_named(
            file.name.clone(),
            data.as_bytes(),
            SourceSpan::new(window_start.into(), window_end - window_start),
            first_line_of_window,
            column,
            line_count,
        )))
    }
}

fn floor_char(text: &str, mut index: usize) -> usize {
    while index > 0 && !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

fn ceil_char(text: &str, mut index: usize) -> usize {
    while index < text.len() && !text.is_char_boundary(index) {
        index += 1;
    }
    index
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_of_offsets() {
        let file = SourceFile::new("t.json", "{\n  \"a\": 1,\n  \"é\": 2\n}");
        assert_eq!(file.line_col(0), LineCol { line: 1, column: 1 });
        assert_eq!(file.line_col(4), LineCol { line: 2, column: 3 });
        let e = file.text().find("2").unwrap_or(0);
        assert_eq!(file.line_col(e), LineCol { line: 3, column: 8 });
        assert_eq!(file.offset_of(3, 8), e);
    }

    #[test]
    fn columns_on_a_long_line_count_characters() {
        let text = format!("{}é{}x", "a".repeat(3 * CHUNK + 7), "b".repeat(2 * CHUNK));
        let file = SourceFile::new("long.json", text.clone());
        let x = text.find('x').unwrap_or(0);
        assert_eq!(file.line_col(x).column, text[..x].chars().count() + 1);
        let e = text.find('é').unwrap_or(0);
        assert_eq!(
            file.line_col(e + 2).column,
            text[..e + 2].chars().count() + 1
        );
    }

    #[test]
    fn excerpt_of_a_huge_line_stays_small() {
        let text = format!("{}x{}", "a".repeat(100_000), "b".repeat(100_000));
        let file = SourceFile::new("big.json", text);
        let excerpt = Excerpt(file);
        let span = SourceSpan::new(100_000.into(), 1);
        let contents = excerpt.read_span(&span, 1, 1).ok();
        let len = contents.map_or(usize::MAX, |c| c.data().len());
        assert!(len <= 4 * WIDE, "window of {len} bytes");
    }
}
