//! The JSON path of a byte offset in a JSON text (`$.configuration.root_module.resources`),
//! so that a load error names the place in terms users can look up with `jq`, whatever the
//! layout of the file (`terraform show -json` writes a whole plan on one line, where a column
//! number alone says little).
//!
//! The path is found by one scan of the text up to the offset, tracking only the structure
//! (brackets, keys, element counts): it works on damaged JSON too, up to the damage. It is
//! computed when an error is shown, not when it is made.

use std::fmt::Write as _;

/// Path segments shown at most; a deeper path keeps its first and last ones.
const MAX_SEGMENTS: usize = 24;
/// Characters of a key shown at most.
const MAX_KEY_CHARS: usize = 64;

enum Frame {
    Object {
        /// The key of the member being read (`None` before the first key).
        key: Option<String>,
        /// Between members: a key is expected next.
        awaiting_key: bool,
    },
    Array {
        index: usize,
    },
}

/// The path of the innermost value that starts before `offset`, as RFC 9535 normalized-path
/// style text (`$.a['b c'][3]`); `$` for the document itself.
pub(crate) fn path_at(text: &str, offset: usize) -> String {
    let bytes = text.as_bytes();
    let end = offset.min(bytes.len());
    let mut stack: Vec<Frame> = Vec::new();
    let mut i = 0;
    while i < end {
        let Some(&byte) = bytes.get(i) else { break };
        match byte {
            b'{' => stack.push(Frame::Object {
                key: None,
                awaiting_key: true,
            }),
            b'[' => stack.push(Frame::Array { index: 0 }),
            b'}' | b']' => {
                stack.pop();
            }
            b',' => match stack.last_mut() {
                Some(Frame::Array { index }) => *index += 1,
                Some(Frame::Object { awaiting_key, .. }) => *awaiting_key = true,
                None => {}
            },
            b':' => {
                if let Some(Frame::Object { awaiting_key, .. }) = stack.last_mut() {
                    *awaiting_key = false;
                }
            }
            b'"' => {
                let close = string_end(bytes, i);
                if let Some(Frame::Object {
                    key,
                    awaiting_key: true,
                }) = stack.last_mut()
                {
                    *key = Some(decode_key(text, i, close));
                }
                i = close;
            }
            _ => {}
        }
        i += 1;
    }
    render(&stack)
}

/// The index of the quote closing the string that opens at `open` (the text's end when the
/// string is not closed).
fn string_end(bytes: &[u8], open: usize) -> usize {
    let mut i = open + 1;
    while let Some(&byte) = bytes.get(i) {
        match byte {
            b'\\' => i += 2,
            b'"' => return i,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// A key's text, unescaped, at most [`MAX_KEY_CHARS`] characters.
fn decode_key(text: &str, open: usize, close: usize) -> String {
    let raw = text.get(open..=close).unwrap_or("");
    // Keys are short; a long one is cut before it is decoded.
    let decoded = if raw.len() <= 4 * MAX_KEY_CHARS {
        serde_json::from_str::<String>(raw).ok()
    } else {
        None
    };
    let decoded =
        decoded.unwrap_or_else(|| text.get(open + 1..close).unwrap_or("").replace('\\', ""));
    let mut key: String = decoded.chars().take(MAX_KEY_CHARS).collect();
    if decoded.chars().nth(MAX_KEY_CHARS).is_some() {
        key.push('…');
    }
    key
}

fn render(stack: &[Frame]) -> String {
    let segments: Vec<String> = stack
        .iter()
        .filter_map(|frame| match frame {
            Frame::Object {
                key: Some(key),
                awaiting_key: false,
            } => Some(name_segment(key)),
            Frame::Object { .. } => None,
            Frame::Array { index } => Some(format!("[{index}]")),
        })
        .collect();
    let mut path = String::from("$");
    if segments.len() <= MAX_SEGMENTS {
        path.extend(segments);
        return path;
    }
    let head = MAX_SEGMENTS / 3;
    let tail = MAX_SEGMENTS - head;
    path.extend(segments.iter().take(head).cloned());
    let _ = write!(path, "…({} more)…", segments.len() - head - tail);
    path.extend(segments.iter().skip(segments.len() - tail).cloned());
    path
}

/// `.name` for plain identifiers, `['name']` otherwise; control characters escaped.
fn name_segment(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        return format!(".{name}");
    }
    let mut out = String::from("['");
    for c in name.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push_str("']");
    out
}

#[cfg(test)]
mod tests {
    use super::path_at;

    fn at(text: &str, needle: &str) -> String {
        let offset = text.find(needle).unwrap();
        path_at(text, offset)
    }

    #[test]
    fn paths_of_values_members_and_elements() {
        let text = r#"{"a": {"b c": [1, {"d": "x"}, [true, null]]}, "e": "oops"}"#;
        assert_eq!(at(text, "{\"a\""), "$");
        assert_eq!(at(text, "{\"b c\""), "$.a");
        assert_eq!(at(text, "[1"), "$.a['b c']");
        assert_eq!(at(text, "1,"), "$.a['b c'][0]");
        assert_eq!(at(text, "\"x\""), "$.a['b c'][1].d");
        assert_eq!(at(text, "null"), "$.a['b c'][2][1]");
        assert_eq!(at(text, "\"oops\""), "$.e");
        // Inside a string value (an error in embedded JSON): still the member.
        assert_eq!(at(text, "ops"), "$.e");
        // Past the end of a member, serde's position for a type error: the same member.
        assert_eq!(path_at(text, text.rfind("\"}").unwrap()), "$.e");
    }

    #[test]
    fn escaped_and_hostile_keys_and_deep_paths() {
        let text = r#"{"q\"uote": {"line\nbreak": {"x": 1}}}"#;
        assert_eq!(at(text, "1}"), "$['q\"uote']['line\\u000abreak'].x");
        // Brackets and commas inside strings are not structure.
        let text = r#"{"a": "[,{", "b": [",]", 2]}"#;
        assert_eq!(at(text, "2]"), "$.b[1]");
        let deep = format!("{}1{}", "[".repeat(300), "]".repeat(300));
        let path = at(&deep, "1");
        assert!(
            path.starts_with("$[0][0]") && path.contains("…(276 more)…"),
            "{path}"
        );
        // Truncated text: the path up to where it ends.
        assert_eq!(path_at(r#"{"a": [{"b": "unterminated"#, 100), "$.a[0].b");
    }
}
