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
        read_bounded(io::stdin().lock(), &name, max_bytes, false)?
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
        let bytes = read_file(file, &meta, max_bytes).map_err(|source| LoadError::Io {
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

/// Files from this size up are read in parallel pieces.
#[cfg_attr(not(unix), allow(dead_code))]
const PARALLEL_READ_FROM: u64 = 16 << 20;

/// A file's bytes, at most `max_bytes + 1` of them. A large regular file is read in one piece
/// per thread, at its own offset: copying a 400 MB plan out of the page cache (and faulting in
/// the memory it goes to) is a quarter of a second on one core, the largest serial step of a
/// scan. A file that grew meanwhile is read again from the start, in one piece.
fn read_file(file: File, meta: &std::fs::Metadata, max_bytes: u64) -> io::Result<Vec<u8>> {
    #[cfg(unix)]
    if meta.is_file() && meta.len() >= PARALLEL_READ_FROM && meta.len() <= max_bytes {
        use rayon::prelude::*;
        use std::os::unix::fs::FileExt;
        if let Ok(len) = usize::try_from(meta.len()) {
            let mut bytes = vec![0u8; len];
            let piece = len.div_ceil(rayon::current_num_threads().max(1));
            let read = bytes
                .par_chunks_mut(piece)
                .enumerate()
                .try_for_each(|(i, chunk)| file.read_exact_at(chunk, (i * piece) as u64));
            let mut probe = [0u8; 1];
            if read.is_ok() && file.read_at(&mut probe, meta.len())? == 0 {
                return Ok(bytes);
            }
            // Shorter or longer than it said: read it as a stream, as for anything else.
            io::Seek::rewind(&mut &file)?;
        }
    }
    let capacity = usize::try_from(meta.len()).unwrap_or(0);
    let mut bytes = Vec::with_capacity(capacity.saturating_add(1));
    file.take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// The path as users gave it (`-` is shown as `<stdin>`).
pub fn display_name(path: &Path) -> String {
    if path == Path::new("-") {
        "<stdin>".to_owned()
    } else {
        path.display().to_string()
    }
}

fn read_bounded(
    reader: impl Read,
    name: &str,
    max_bytes: u64,
    compressed: bool,
) -> Result<Vec<u8>, LoadError> {
    let mut bytes = Vec::new();
    reader
        .take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|source| LoadError::Io {
            path: name.to_owned(),
            source,
        })?;
    if bytes.len() as u64 > max_bytes {
        return Err(LoadError::StreamTooLarge {
            path: name.to_owned(),
            limit: max_bytes,
            compressed,
        });
    }
    Ok(bytes)
}

/// AWS Config delivers snapshot and history files gzipped; a bomb is cut at the size bound.
fn gunzip(bytes: &[u8], name: &str, max_bytes: u64) -> Result<Vec<u8>, LoadError> {
    let decoder = flate2::read::MultiGzDecoder::new(bytes);
    read_bounded(decoder, name, max_bytes, true).map_err(|error| match error {
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
    // NUL is valid UTF-8 but never in JSON or YAML text: a file of zeros (preallocated, or
    // never written) or any binary file is named as such instead of quoted.
    if let Some(offset) = bytes.iter().take(4096).position(|&b| b == 0) {
        let before = bytes.get(..offset).unwrap_or_default();
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        return Err(LoadError::Encoding {
            path: name.to_owned(),
            message: format!(
                "this is a binary file, not text (a NUL byte on line {line}, byte {offset}); \
                 a binary plan (`terraform plan -out`) must first be converted with `terraform show -json`"
            ),
        });
    }
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
    fn a_large_file_read_in_pieces_is_the_file() {
        // Over the parallel-read size, an odd length (pieces of unequal size), and every
        // 16-byte record numbered, so a piece read at the wrong offset cannot go unnoticed.
        let len = usize::try_from(PARALLEL_READ_FROM).unwrap_or(usize::MAX) + 12_345;
        let mut text: String = (0..=len / 16).map(|i| format!("{i:015}\n")).collect();
        text.truncate(len);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.json");
        std::fs::write(&path, &text).unwrap();
        let read = read_source(&path, u64::MAX).unwrap();
        assert_eq!(read.text().len(), text.len());
        assert!(read.text() == text, "the pieces were not put back in order");
        // The size bound still holds for a file read in pieces.
        let limit = PARALLEL_READ_FROM + 1;
        assert!(matches!(
            read_source(&path, limit),
            Err(LoadError::TooLarge { .. })
        ));
    }

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

    #[test]
    fn nul_bytes_make_a_binary_file() {
        let error = decode_text(vec![0; 64], "zeros.json");
        let message = error.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("binary file"), "{message}");
    }
}
