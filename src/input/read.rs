//! Reading files: the one reader of every file resilix reads (inputs, the configuration, policy
//! files, baselines), with its size bound, gzip, stdin, and text decoding (UTF-8 with or without
//! BOM, UTF-16 with BOM as PowerShell's `>` writes it).
//!
//! Memory stays within the bound: a file whose size is known is refused before it is read, a
//! stream (stdin, a pipe, a device, a gzip member) is read into a buffer that never grows past
//! the bound plus one byte, and a stream of binary data (`/dev/zero`, a `terraform plan -out`
//! file) is refused from its first bytes.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use super::LoadError;
use crate::source::SourceFile;

/// Reads a file or stdin (`-`) into a [`SourceFile`], refusing anything larger than `max_bytes`
/// (after decompression, for gzip) without holding more than that in memory.
pub fn read_source(path: &Path, max_bytes: u64) -> Result<Arc<SourceFile>, LoadError> {
    let name = display_name(path);
    let io_error = |source| LoadError::Io {
        path: name.clone(),
        source,
    };
    let bytes = if path == Path::new("-") {
        read_stream(io::stdin().lock(), &name, max_bytes)?
    } else {
        let file = File::open(path).map_err(io_error)?;
        let meta = file.metadata().map_err(io_error)?;
        if meta.is_dir() {
            return Err(io_error(io::Error::other("is a directory")));
        }
        if meta.len() > max_bytes {
            return Err(LoadError::TooLarge {
                path: name,
                size: meta.len(),
                limit: max_bytes,
            });
        }
        if meta.is_file() && !gzipped_file(&file).map_err(io_error)? {
            let bytes = read_file(file, &meta, &name, max_bytes)?;
            if bytes.len() as u64 > max_bytes {
                return Err(LoadError::TooLarge {
                    path: name,
                    size: bytes.len() as u64,
                    limit: max_bytes,
                });
            }
            bytes
        } else {
            read_stream(file, &name, max_bytes)?
        }
    };
    let text = decode_text(bytes, &name)?;
    Ok(SourceFile::new(name, text))
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Whether a regular file starts like gzip (read at offset 0, leaving the file's position).
fn gzipped_file(file: &File) -> io::Result<bool> {
    let mut head = [0u8; 2];
    #[cfg(unix)]
    let read = {
        use std::os::unix::fs::FileExt;
        let mut read = 0;
        while let Some(rest) = head.get_mut(read..).filter(|r| !r.is_empty()) {
            match file.read_at(rest, read as u64) {
                Ok(0) => break,
                Ok(n) => read += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        read
    };
    #[cfg(not(unix))]
    let read = {
        let mut reader = file;
        let read = fill(&mut reader, &mut head)?;
        io::Seek::rewind(&mut reader)?;
        read
    };
    Ok(head.get(..read) == Some(&GZIP_MAGIC[..]))
}

/// Reads into `buf` until it is full or the reader ends; how much was read.
fn fill(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut read = 0;
    while let Some(rest) = buf.get_mut(read..).filter(|r| !r.is_empty()) {
        match reader.read(rest) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(read)
}

/// A stream of unknown length (stdin, a pipe, a device, or a gzipped file): decompressed when
/// it starts like gzip, and read to at most `max_bytes`.
fn read_stream(reader: impl Read, name: &str, max_bytes: u64) -> Result<Vec<u8>, LoadError> {
    let mut reader = BufReader::with_capacity(64 << 10, reader);
    let mut head = [0u8; 2];
    let got = fill(&mut reader, &mut head).map_err(|source| LoadError::Io {
        path: name.to_owned(),
        source,
    })?;
    let head = head.get(..got).unwrap_or_default();
    let stream = head.chain(reader);
    if head == GZIP_MAGIC {
        // AWS Config delivers snapshot and history files gzipped; a bomb is cut at the bound.
        let decoder = flate2::read::MultiGzDecoder::new(stream);
        read_capped(decoder, name, max_bytes, None).map_err(|error| match error {
            LoadError::Io { path, source } => LoadError::Io {
                path,
                source: io::Error::new(source.kind(), format!("gzip: {source}")),
            },
            LoadError::StreamTooLarge { path, limit, .. } => LoadError::StreamTooLarge {
                path,
                limit,
                compressed: true,
            },
            other => other,
        })
    } else {
        read_capped(stream, name, max_bytes, None)
    }
}

/// Files from this size up are read in parallel pieces.
#[cfg_attr(not(unix), allow(dead_code))]
const PARALLEL_READ_FROM: u64 = 16 << 20;

/// A regular file's bytes, at most `max_bytes + 1` of them. A large file is read in one piece
/// per thread, at its own offset: copying a 400 MB plan out of the page cache (and faulting in
/// the memory it goes to) is a quarter of a second on one core, the largest serial step of a
/// scan. A file that grew meanwhile is read again from the start, in one piece.
fn read_file(
    file: File,
    meta: &std::fs::Metadata,
    name: &str,
    max_bytes: u64,
) -> Result<Vec<u8>, LoadError> {
    let io_error = |source| LoadError::Io {
        path: name.to_owned(),
        source,
    };
    #[cfg(unix)]
    if meta.len() >= PARALLEL_READ_FROM && meta.len() <= max_bytes {
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
            if read.is_ok() && file.read_at(&mut probe, meta.len()).map_err(io_error)? == 0 {
                return Ok(bytes);
            }
            // Shorter or longer than it said: read it as a stream, as for anything else.
            drop(bytes);
            io::Seek::rewind(&mut &file).map_err(io_error)?;
        }
    }
    read_capped(file, name, max_bytes, Some(meta.len())).map_err(|error| match error {
        // It grew while it was read.
        LoadError::StreamTooLarge { path, limit, .. } => LoadError::TooLarge {
            path,
            size: limit.saturating_add(1),
            limit,
        },
        other => other,
    })
}

/// What a stream is sniffed by before it is read on: a stream of binary data is refused here,
/// not after a gigabyte of it.
const SNIFF_BYTES: usize = 4096;

/// Reads at most `max_bytes` from `reader` (`expected`: its length, if known). The buffer grows
/// by doubling but never past `max_bytes + 1`, so memory stays within the bound; one byte more
/// than the bound is `StreamTooLarge`. A NUL byte in the first [`SNIFF_BYTES`] is a binary file,
/// refused at once.
fn read_capped(
    mut reader: impl Read,
    name: &str,
    max_bytes: u64,
    expected: Option<u64>,
) -> Result<Vec<u8>, LoadError> {
    let cap = usize::try_from(max_bytes.saturating_add(1)).unwrap_or(usize::MAX);
    let first = expected
        .and_then(|n| usize::try_from(n.saturating_add(1)).ok())
        .unwrap_or(64 << 10)
        .max(8 << 10)
        .min(cap);
    let mut buf: Vec<u8> = Vec::new();
    let mut filled = 0usize;
    let mut sniffed = false;
    loop {
        if filled == buf.len() {
            if buf.len() >= cap {
                return Err(LoadError::StreamTooLarge {
                    path: name.to_owned(),
                    limit: max_bytes,
                    compressed: false,
                });
            }
            let len = if buf.is_empty() {
                first
            } else {
                buf.len().saturating_mul(2).min(cap)
            };
            buf.reserve_exact(len - buf.len());
            buf.resize(len, 0);
        }
        let Some(spare) = buf.get_mut(filled..) else {
            break;
        };
        match reader.read(spare) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(source) => {
                return Err(LoadError::Io {
                    path: name.to_owned(),
                    source,
                });
            }
        }
        if !sniffed && filled >= SNIFF_BYTES {
            sniffed = true;
            if let Some(error) = binary(buf.get(..filled).unwrap_or_default(), name) {
                return Err(error);
            }
        }
    }
    buf.truncate(filled);
    Ok(buf)
}

/// The path as users gave it (`-` is shown as `<stdin>`).
pub fn display_name(path: &Path) -> String {
    if path == Path::new("-") {
        "<stdin>".to_owned()
    } else {
        path.display().to_string()
    }
}

/// Decodes input bytes to UTF-8 text: a UTF-8 BOM is dropped, UTF-16 (LE or BE, with BOM) is
/// transcoded, anything else must be valid UTF-8.
pub fn decode_text(bytes: Vec<u8>, name: &str) -> Result<String, LoadError> {
    let mut bytes = bytes;
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        bytes.drain(..3);
        return utf8(bytes, name);
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

/// A stream's first bytes as [`decode_text`] will judge them: a NUL byte where text is expected
/// (not in UTF-16, which has its BOM) is a binary file.
fn binary(head: &[u8], name: &str) -> Option<LoadError> {
    if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
        return None;
    }
    nul_error(head.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(head), name)
}

/// NUL is valid UTF-8 but never in JSON or YAML text: a file of zeros (preallocated, or never
/// written, or `/dev/zero`) or any binary file is named as such instead of quoted.
fn nul_error(bytes: &[u8], name: &str) -> Option<LoadError> {
    let offset = bytes.iter().take(SNIFF_BYTES).position(|&b| b == 0)?;
    let before = bytes.get(..offset).unwrap_or_default();
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    Some(LoadError::Encoding {
        path: name.to_owned(),
        message: format!(
            "this is a binary file, not text (a NUL byte on line {line}, byte {offset}); \
             a binary plan (`terraform plan -out`) must first be converted with `terraform show -json`"
        ),
    })
}

fn utf8(bytes: Vec<u8>, name: &str) -> Result<String, LoadError> {
    if let Some(error) = nul_error(&bytes, name) {
        return Err(error);
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
    fn streams_are_read_into_a_buffer_within_the_bound() {
        use std::io::Write as _;
        let limit: u64 = 5_000_000;
        let len = usize::try_from(limit).unwrap();
        // Exactly at the bound: read, and the buffer never grew past the bound plus one byte
        // (doubling from 64 KiB would have reached 8 MiB).
        let bytes = read_capped(io::repeat(b' ').take(limit), "s", limit, None).unwrap();
        assert_eq!(bytes.len(), len);
        assert!(bytes.capacity() <= len + 1, "{}", bytes.capacity());
        // One byte more: refused.
        let over = read_capped(io::repeat(b' ').take(limit + 1), "s", limit, None);
        assert!(matches!(over, Err(LoadError::StreamTooLarge { .. })));
        // The same through gzip: no copy of the compressed bytes, one bounded buffer.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&vec![b' '; len]).unwrap();
        let gz = gz.finish().unwrap();
        let bytes = read_stream(gz.as_slice(), "s.gz", limit).unwrap();
        assert_eq!(bytes.len(), len);
        assert!(bytes.capacity() <= len + 1, "{}", bytes.capacity());
        let over = read_stream(gz.as_slice(), "s.gz", limit - 1);
        assert!(matches!(
            over,
            Err(LoadError::StreamTooLarge {
                compressed: true,
                ..
            })
        ));
        // An endless stream of zeros is binary from its first bytes.
        let zeros = read_stream(io::repeat(0), "/dev/zero", u64::MAX);
        assert!(matches!(zeros, Err(LoadError::Encoding { .. })));
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
