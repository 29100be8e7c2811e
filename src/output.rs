//! Output files are written whole or not at all: to a temporary file beside the target, then
//! renamed over it.

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Failure to write an output file.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum OutputError {
    #[error("cannot write {path}: the directory {dir} does not exist")]
    #[diagnostic(
        code(output::missing_dir),
        help("create the directory first, or choose another --output path")
    )]
    MissingDirectory { path: String, dir: String },
    #[error("cannot write {path}: {source}")]
    #[diagnostic(code(output::io))]
    Io {
        path: String,
        #[source]
        source: io::Error,
    },
}

/// Writes `path` atomically with what `write` produces; on any error the previous content of
/// `path` (if any) is left untouched and no partial file remains.
pub fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<(), OutputError> {
    let display = path.display().to_string();
    let dir: PathBuf = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.is_dir() {
        return Err(OutputError::MissingDirectory {
            path: display,
            dir: dir.display().to_string(),
        });
    }
    let io_error = |source| OutputError::Io {
        path: display.clone(),
        source,
    };
    let temp = tempfile::Builder::new()
        .prefix(".resilix-")
        .suffix(".tmp")
        .tempfile_in(&dir)
        .map_err(io_error)?;
    {
        let mut writer = BufWriter::new(temp.as_file());
        write(&mut writer).map_err(io_error)?;
        writer.flush().map_err(io_error)?;
    }
    temp.as_file().sync_all().map_err(io_error)?;
    if let Ok(meta) = fs::metadata(path) {
        // Keep the permissions of a file we replace.
        let _ = fs::set_permissions(temp.path(), meta.permissions());
    }
    temp.persist(path).map_err(|e| io_error(e.error))?;
    Ok(())
}
