//! Reading input bytes: size bound, gzip, stdin, and text decoding (UTF-8 with or without BOM,
//! UTF-16 with BOM as PowerShell's `>` writes it).

use std::fs::File;
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use super::LoadError;
use crate::source::SourceFile;

/// Reads a file or stdin (`-`) into a [`SourceFile`], refusing anything larger than `max_bytes`
/// before reading it whole.
pub fn read_source(path: &Path, max_bytes: u64) -> Result<Arc<SourceFile>, LoadError> {
    let name = display_name(path);
    let bytes = if path == Path::new("-") {
        read_bounded(io::stdin().lock(), &name, max_bytes)?
    } else {
        let file = File::open(path).map_err(|source| LoadError::Io {
            path: name.clone(),
            source,
        })?;
        let meta = file.metadata().map_err(|source| LoadError::Io {
            path: name.clone(),
            source,
        })?;
        if meta.is_dir() {
            return Err(LoadError::Io {
                path: name,
                source: io::Error::other("is a directory"),
            });
        }
        if meta.len() > max_bytes {
            return Err(LoadError::TooLarge {
                path: name,
                size: meta.len(),
                limit: max_bytes,
            });
        }
        let capacity = usize::try_from(meta.len()).unwrap_or(0);
        let mut bytes = Vec::with_capacity(capacity.saturating_add(1));
        file.take(max_bytes.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|source| LoadError::Io {
                path: name.clone(),
                source,
            })?;
        if bytes.len() as u64 > max_bytes {
            return Err(LoadError::TooLarge {
                path: name,
                size: bytes.len() as u64,
                limit: max_bytes,
            });
        }
        bytes
    };
    let bytes = if bytes.starts_with(&[0x1f, 0x8b]) {
        gunzip(&bytes, &name, max_bytes)?
    } else {
        bytes
    };
    let text = decode_text(bytes, &name)?;
    Ok(SourceFile::new(name, text))
}

/// The path as users gave it (`-` is shown as `<stdin>`).
pub fn display_name(path: &Path) -> String {
    if path == Path::new("-") {
        "<stdin>".to_owned()
    } else {
        path.display().to_string()
    }
}

fn read_bounded(reader: impl Read, name: &str, max_bytes: u64) -> Result<Vec<u8>, LoadError> {
    let mut bytes = Vec::new();
    reader
        .take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|source| LoadError::Io {
            path: name.to_owned(),
            source,
        })?;
    if bytes.len() as u64 > max_bytes {
        return Err(LoadError::TooLarge {
            path: name.to_owned(),
            size: bytes.len() as u64,
            limit: max_bytes,
        });
    }
    Ok(bytes)
}

/// AWS Config delivers snapshot and history files gzipped; a bomb is cut at the size bound.
fn gunzip(bytes: &[u8], name: &str, max_bytes: u64) -> Result<Vec<u8>, LoadError> {
    let decoder = flate2::read::MultiGzDecoder::new(bytes);
    read_bounded(decoder, name, max_bytes).map_err(|error| match error {
        LoadError::Io { path, source } => LoadError::Io {
            path,
            source: io::Error::new(source.kind(), format!("gzip: {source}")),
        },
        other => other,
    })
}

/// Decodes input bytes to UTF-8 text: a UTF-8 BOM is dropped, UTF-16 (LE or BE, with BOM) is
/// transcoded, anything else must be valid UTF-8.
pub fn decode_text(bytes: Vec<u8>, name: &str) -> Result<String, LoadError> {
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return utf8(rest.to_vec(), name);
    }
    let utf16 = |little: bool, body: &[u8]| -> Result<String, LoadError> {
        let units = body.chunks(2).map(|pair| match *pair {
            [a, b] if little => u16::from_le_bytes([a, b]),
            [a, b] => u16::from_be_bytes([a, b]),
            [a] => u16::from(a),
            _ => 0,
        });
        let mut out = String::with_capacity(body.len() / 2);
        for (index, unit) in char::decode_utf16(units).enumerate() {
            match unit {
                Ok(c) => out.push(c),
                Err(_) => {
                    return Err(LoadError::Encoding {
                        path: name.to_owned(),
                        message: format!(
                            "invalid UTF-16 at byte {} (unpaired surrogate)",
                            index * 2 + 2
                        ),
                    });
                }
            }
        }
        if body.len() % 2 == 1 {
            return Err(LoadError::Encoding {
                path: name.to_owned(),
                message: "UTF-16 input has an odd number of bytes (truncated?)".to_owned(),
            });
        }
        Ok(out)
    };
    match bytes.as_slice() {
        [0xFF, 0xFE, body @ ..] => utf16(true, body),
        [0xFE, 0xFF, body @ ..] => utf16(false, body),
        _ => utf8(bytes, name),
    }
}

fn utf8(bytes: Vec<u8>, name: &str) -> Result<String, LoadError> {
    String::from_utf8(bytes).map_err(|error| {
        let offset = error.utf8_error().valid_up_to();
        let before = error.as_bytes().get(..offset).unwrap_or_default();
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let column = before
            .rsplit(|&b| b == b'\n')
            .next()
            .map_or(0, |l| String::from_utf8_lossy(l).chars().count())
            + 1;
        let binary = error.as_bytes().iter().take(512).any(|&b| b == 0);
        LoadError::Encoding {
            path: name.to_owned(),
            message: if binary {
                format!(
                    "this is a binary file, not JSON text (invalid UTF-8 at line {line}, column {column}); \
                     a binary plan (`terraform plan -out`) must first be converted with `terraform show -json`"
                )
            } else {
                format!("invalid UTF-8 at line {line}, column {column} (byte {offset})")
            },
        }
    })
}

/// Removes `.` and `..` components without touching the file system: a leading `..` of a
/// relative path stays, a `..` above the root of an absolute one is dropped.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(".."),
            },
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_bom_and_utf16_are_decoded() {
        let text = "{\"a\": \"é\"}";
        let mut with_bom = vec![0xEF, 0xBB, 0xBF];
        with_bom.extend_from_slice(text.as_bytes());
        assert_eq!(decode_text(with_bom, "t").ok().as_deref(), Some(text));
        let mut le = vec![0xFF, 0xFE];
        le.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(decode_text(le, "t").ok().as_deref(), Some(text));
        let mut be = vec![0xFE, 0xFF];
        be.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
        assert_eq!(decode_text(be, "t").ok().as_deref(), Some(text));
    }

    #[test]
    fn invalid_utf8_names_line_and_column() {
        let error = decode_text(b"{\n  \"a\": \"\xff\"}".to_vec(), "x.json");
        let message = error.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("line 2, column 9"), "{message}");
    }
}
