//! Output files are written whole or not at all: to a temporary file beside the target, then
//! renamed over it. A signal (Ctrl-C, SIGTERM) while writing must not leave the temporary file
//! behind: the files being written are registered, and `main`'s signal handler removes them
//! ([`remove_partial_outputs`]) before the process exits.

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

/// Temporary files being written now.
static PARTIAL: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Removes the temporary files of outputs being written (called on a termination signal; the
/// target files keep their previous content).
pub fn remove_partial_outputs() {
    let paths = PARTIAL.lock().unwrap_or_else(PoisonError::into_inner);
    for path in paths.iter() {
        let _ = fs::remove_file(path);
    }
}

/// Registers a temporary file for [`remove_partial_outputs`] while it lives.
struct Registered(PathBuf);

impl Registered {
    fn new(path: &Path) -> Registered {
        PARTIAL
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(path.to_path_buf());
        Registered(path.to_path_buf())
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        let mut paths = PARTIAL.lock().unwrap_or_else(PoisonError::into_inner);
        paths.retain(|p| p != &self.0);
    }
}

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
    let mut builder = tempfile::Builder::new();
    builder.prefix(".resilix-").suffix(".tmp");
    // A new output file gets the usual permissions (0666 less the umask), not the 0600 of a
    // temporary file.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(fs::Permissions::from_mode(0o666));
    }
    let temp = builder.tempfile_in(&dir).map_err(io_error)?;
    let _registered = Registered::new(temp.path());
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
