//! Writing the JSON formats (JSON, SARIF): the one place their strings are escaped beyond what
//! JSON requires.
//!
//! serde_json escapes only what JSON forbids (`"`, `\`, C0 controls). A value from the inputs may
//! also hold C1 controls (U+009B is an 8-bit CSI), invisible reordering characters, or a
//! `##[command]` that a CI runner obeys when the report is printed in its log. Each of those is
//! written as a `\uXXXX` escape, which leaves the value exactly as it was for every JSON reader.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::{Formatter, PrettyFormatter};

use crate::printable::is_unsafe;

/// Serializes `value` as pretty-printed JSON with [the escapes above](self).
pub(super) fn to_writer_pretty<W: Write, T: Serialize + ?Sized>(
    writer: W,
    value: &T,
) -> io::Result<()> {
    let mut serializer =
        serde_json::Serializer::with_formatter(writer, Escaping(PrettyFormatter::new()));
    // `from` keeps the kind of an I/O error (a broken pipe must stay one).
    value.serialize(&mut serializer).map_err(io::Error::from)
}

/// A [`PrettyFormatter`] whose string fragments escape unsafe characters and break `##`.
struct Escaping<'a>(PrettyFormatter<'a>);

impl Formatter for Escaping<'_> {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let plain = fragment.bytes().all(|b| (0x20..0x7f).contains(&b));
        if plain && !fragment.contains("##") {
            return writer.write_all(fragment.as_bytes());
        }
        let mut previous = None;
        for c in fragment.chars() {
            if is_unsafe(c) || (c == '#' && previous == Some('#')) {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    write!(writer, "\\u{unit:04x}")?;
                }
            } else {
                let mut bytes = [0u8; 4];
                writer.write_all(c.encode_utf8(&mut bytes).as_bytes())?;
            }
            previous = Some(c);
        }
        Ok(())
    }

    fn begin_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.begin_array(writer)
    }

    fn end_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_array(writer)
    }

    fn begin_array_value<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_array_value(writer, first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_array_value(writer)
    }

    fn begin_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.begin_object(writer)
    }

    fn end_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_object(writer)
    }

    fn begin_object_key<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_object_key(writer, first)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.begin_object_value(writer)
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_object_value(writer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_characters_are_escaped_and_the_value_is_unchanged() {
        let value = serde_json::json!({
            "plain": "aws_s3_bucket.b",
            "hostile": "a\u{1b}[2J\u{9b}31m ##[error]x \u{202e}\u{1F600}",
        });
        let mut out = Vec::new();
        to_writer_pretty(&mut out, &value).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains(r#""plain": "aws_s3_bucket.b""#), "{text}");
        assert!(
            text.contains(r#""a\u001b[2J\u009b31m #\u0023[error]x \u202e😀""#),
            "{text}"
        );
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, value);
    }
}
