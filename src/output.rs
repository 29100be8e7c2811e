//! The one writer of output files ([`write_atomic`]). A file is written whole or not at all, and
//! writing never destroys what the path points at:
//! - a symbolic link is followed (a bounded chain) and its *target* is replaced, atomically, in
//!   the target's directory; the link stays a link;
//! - a regular file is written to a temporary file beside it, then renamed over it. On Linux the
//!   temporary file has no name while it is written (`O_TMPFILE`), so even `kill -9` leaves
//!   nothing behind; it is given a name (`linkat`) only to be renamed. Where the file system
//!   refuses `O_TMPFILE`, and on other systems, it is a named `.resilix-XXXXXX.tmp`;
//! - a device, FIFO or socket, or a file a process has open (`/dev/stdout`, `/proc/self/fd/N`),
//!   is written in place: no temporary file, no rename (`-o /dev/null` as root must not replace
//!   the system's `/dev/null` with a regular file, and `-o >(gzip > x)` must reach the reader).
//!
//! A signal (Ctrl-C, SIGTERM) while writing must not leave a named temporary file behind: the
//! ones that exist are registered, and `main`'s signal handler removes them
//! ([`remove_partial_outputs`]) before the process exits.
//!
//! Before anything runs, [`refuse_clashes`] refuses a command line that names one file twice:
//! as two outputs, or as an output and an input.

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

/// Temporary files being written now.
static PARTIAL: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Symbolic links followed at most, as the kernel's own bound (`ELOOP`).
const MAX_LINKS: usize = 40;

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
pub(crate) enum OutputError {
    #[error("cannot write {path}: the directory {dir} does not exist")]
    #[diagnostic(
        code(output::missing_dir),
        help("create the directory first, or choose another --output path")
    )]
    MissingDirectory { path: String, dir: String },
    #[error("cannot write {path}: it is a directory")]
    #[diagnostic(
        code(output::directory),
        help("name a file, e.g. {path}/results.sarif")
    )]
    Directory { path: String },
    #[error("cannot write {path}: {source}")]
    #[diagnostic(code(output::io))]
    Io {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("{second} names the same file as {first}")]
    #[diagnostic(
        code(output::same_file),
        help("give each output its own file (nothing was written)")
    )]
    SameOutput { first: String, second: String },
    #[error("{output} would replace {input}")]
    #[diagnostic(
        code(output::input),
        help("write the output to another file (nothing was written)")
    )]
    OutputIsInput { output: String, input: String },
}

/// How an output was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Written {
    /// A regular file, replaced whole: it can be read back.
    File,
    /// A device, FIFO, socket or open stream, written in place: what was written cannot be read
    /// back from it.
    InPlace,
}

/// Writes `path` atomically with what `write` produces; on any error the previous content of
/// `path` (if any) is left untouched and no partial file remains. A special file is written in
/// place (see the module documentation).
pub(crate) fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<Written, OutputError> {
    let display = path.display().to_string();
    let io_error = |source| OutputError::Io {
        path: display.clone(),
        source,
    };
    match resolve(path).map_err(io_error)? {
        Target::Directory => Err(OutputError::Directory { path: display }),
        Target::InPlace(target) => write_in_place(&target, write)
            .map(|()| Written::InPlace)
            .map_err(io_error),
        Target::Replace(target) => {
            let dir = parent(&target);
            if !dir.is_dir() {
                return Err(OutputError::MissingDirectory {
                    path: display,
                    dir: dir.display().to_string(),
                });
            }
            replace(&target, &dir, write)
                .map(|()| Written::File)
                .map_err(io_error)
        }
    }
}

/// What writing a path means.
#[derive(Debug)]
enum Target {
    /// A regular file, or none yet: replaced atomically (the end of the link chain).
    Replace(PathBuf),
    /// A device, FIFO or socket, or a process's open file: written in place.
    InPlace(PathBuf),
    Directory,
}

/// Follows `path`'s chain of symbolic links (at most [`MAX_LINKS`]) to what writing it means.
fn resolve(path: &Path) -> io::Result<Target> {
    let mut current = path.to_path_buf();
    for _ in 0..=MAX_LINKS {
        let meta = match fs::symlink_metadata(&current) {
            Ok(meta) => meta,
            // Nothing there yet (or a dangling link's target): a new file.
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                return Ok(Target::Replace(current));
            }
            Err(error) => return Err(error),
        };
        let kind = meta.file_type();
        if kind.is_symlink() {
            // `/dev/stdout` → `/proc/self/fd/1` → `pipe:[…]` or a file the shell opened: the
            // kernel's link to an open file, not a path to replace.
            if is_process_link(&current) {
                return Ok(Target::InPlace(current));
            }
            let link = fs::read_link(&current)?;
            current = parent(&current).join(link);
            continue;
        }
        return Ok(if kind.is_dir() {
            Target::Directory
        } else if kind.is_file() {
            Target::Replace(current)
        } else {
            Target::InPlace(current)
        });
    }
    Err(io::Error::other(format!(
        "more than {MAX_LINKS} symbolic links to follow"
    )))
}

/// Whether the link at `path` is one of procfs' links to a process's open files (or its cwd,
/// root, executable): writing follows it to that very file, whatever its name.
#[cfg(target_os = "linux")]
fn is_process_link(path: &Path) -> bool {
    rustix::fs::statfs(parent(path)).is_ok_and(|fs| fs.f_type == rustix::fs::PROC_SUPER_MAGIC)
}

#[cfg(not(target_os = "linux"))]
fn is_process_link(path: &Path) -> bool {
    // `/dev/fd/N` and the like: a link whose target cannot be found by name, though the link
    // itself leads somewhere.
    fs::read_link(path).is_ok_and(|link| {
        fs::symlink_metadata(parent(path).join(link)).is_err() && fs::metadata(path).is_ok()
    })
}

/// The directory of `path` (`.` for a bare file name).
fn parent(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Writes a special file in place. A regular file reached through a process link (`-o
/// /dev/stdout >> log`) is appended to, as the stream it is: nothing in it is lost.
fn write_in_place(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let file = fs::OpenOptions::new().append(true).open(path)?;
    let mut writer = BufWriter::new(file);
    write(&mut writer)?;
    writer.flush()
}

/// Replaces the regular file `target` (in `dir`) with what `write` produces.
fn replace(
    target: &Path,
    dir: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    // Keep the permissions of a file we replace; a new one gets the usual 0666 less the umask,
    // not the 0600 of a temporary file.
    let permissions = fs::metadata(target).ok().map(|m| m.permissions());
    #[cfg(target_os = "linux")]
    if let Some(file) = unnamed::create(dir)? {
        return unnamed::replace(file, target, dir, permissions, write);
    }
    let mut builder = temp_builder();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(fs::Permissions::from_mode(0o666));
    }
    let temp = builder.tempfile_in(dir)?;
    let _registered = Registered::new(temp.path());
    {
        let mut writer = BufWriter::new(temp.as_file());
        write(&mut writer)?;
        writer.flush()?;
    }
    temp.as_file().sync_all()?;
    if let Some(permissions) = permissions {
        let _ = temp.as_file().set_permissions(permissions);
    }
    temp.persist(target).map_err(|e| e.error)?;
    Ok(())
}

fn temp_builder() -> tempfile::Builder<'static, 'static> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(".resilix-").suffix(".tmp");
    builder
}

/// Linux: the temporary file is unnamed while it is written.
#[cfg(target_os = "linux")]
mod unnamed {
    use std::fs::{self, File};
    use std::io::{self, BufWriter, Write};
    use std::os::fd::AsFd;
    use std::path::Path;

    use rustix::fs::{AtFlags, CWD, Mode, OFlags};
    use rustix::io::Errno;

    use super::{Registered, temp_builder};

    /// An unnamed file in `dir`, or `None` where the file system does not make them (or where
    /// it could not be named: no `/proc` to link it through).
    pub(super) fn create(dir: &Path) -> io::Result<Option<File>> {
        if !Path::new("/proc/self/fd").is_dir() {
            return Ok(None);
        }
        let flags = OFlags::WRONLY | OFlags::TMPFILE | OFlags::CLOEXEC;
        match rustix::fs::openat(CWD, dir, flags, Mode::from_raw_mode(0o666)) {
            Ok(fd) => Ok(Some(File::from(fd))),
            // Not supported by this kernel or file system.
            Err(Errno::OPNOTSUPP | Errno::ISDIR | Errno::INVAL | Errno::NOSYS) => Ok(None),
            Err(errno) => Err(errno.into()),
        }
    }

    /// Writes `file`, names it beside `target` and renames it over `target`.
    pub(super) fn replace(
        file: File,
        target: &Path,
        dir: &Path,
        permissions: Option<fs::Permissions>,
        write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
    ) -> io::Result<()> {
        {
            let mut writer = BufWriter::new(&file);
            write(&mut writer)?;
            writer.flush()?;
        }
        file.sync_all()?;
        if let Some(permissions) = permissions {
            let _ = file.set_permissions(permissions);
        }
        // A name only now, for the rename: the one moment a signal could leave it behind, so
        // it is registered for the signal handler (and removed if the rename fails).
        let named = temp_builder().make_in(dir, |path| link(&file, path))?;
        let _registered = Registered::new(named.path());
        named.persist(target).map_err(|e| e.error)?;
        Ok(())
    }

    /// Gives the unnamed `file` the name `path`: through its descriptor where allowed
    /// (`AT_EMPTY_PATH` needs CAP_DAC_READ_SEARCH), else through `/proc/self/fd`.
    fn link(file: &File, path: &Path) -> io::Result<()> {
        match rustix::fs::linkat(file.as_fd(), "", CWD, path, AtFlags::EMPTY_PATH) {
            Ok(()) => Ok(()),
            Err(Errno::EXIST) => Err(Errno::EXIST.into()),
            Err(_) => {
                use std::os::fd::AsRawFd;
                let proc = format!("/proc/self/fd/{}", file.as_raw_fd());
                rustix::fs::linkat(CWD, proc.as_str(), CWD, path, AtFlags::SYMLINK_FOLLOW)
                    .map_err(io::Error::from)
            }
        }
    }
}

/// A file a command line names, and how it named it (`--output r.out`, `PATH plan.json`).
#[derive(Debug, Clone)]
pub struct Named {
    pub flag: String,
    /// `None`: the standard stream (stdout for an output, stdin for an input).
    pub path: Option<PathBuf>,
}

impl Named {
    pub fn new(flag: impl Into<String>, path: &Path) -> Named {
        Named {
            flag: flag.into(),
            path: Some(path.to_path_buf()),
        }
    }

    /// The standard stream, shown as `flag` (`stdout`, `PATH -`).
    pub fn stream(flag: impl Into<String>) -> Named {
        Named {
            flag: flag.into(),
            path: None,
        }
    }
}

/// How two names are told to be one file.
#[derive(Debug, PartialEq, Eq)]
enum FileKey {
    /// An existing file: device and inode (so `./r.out`, `a/../r.out`, a link to it and a hard
    /// link are one).
    #[cfg(unix)]
    Node(u64, u64),
    /// A file not there yet: its canonical directory and name.
    Path(PathBuf),
}

/// Refuses a command line that names one file twice: two outputs (`-o r.out --report
/// sarif=r.out`, `--save x -o x`), or an output that is an input (a plan, a snapshot, the
/// baseline, the configuration, a policy file). Compared by device and inode when the file
/// exists, else by canonical path. `/dev/null` may be named any number of times: writing it
/// twice loses nothing. Any other special file (`/dev/stdout`) is refused twice, as the two
/// outputs would run into each other.
pub(crate) fn refuse_clashes(outputs: &[Named], inputs: &[Named]) -> Result<(), OutputError> {
    let outputs: Vec<(&Named, FileKey)> = outputs
        .iter()
        .filter_map(|named| Some((named, key(named, Stream::Out)?)))
        .collect();
    for (i, (second, key)) in outputs.iter().enumerate() {
        if let Some((first, _)) = outputs.iter().take(i).find(|(_, k)| k == key) {
            return Err(OutputError::SameOutput {
                first: first.flag.clone(),
                second: second.flag.clone(),
            });
        }
    }
    for input in inputs {
        let Some(input_key) = key(input, Stream::In) else {
            continue;
        };
        if let Some((output, _)) = outputs.iter().find(|(_, k)| *k == input_key) {
            return Err(OutputError::OutputIsInput {
                output: output.flag.clone(),
                input: input.flag.clone(),
            });
        }
    }
    Ok(())
}

#[derive(Clone, Copy)]
enum Stream {
    In,
    Out,
}

/// The key of a named file; `None` for `/dev/null`, and for what cannot be told.
fn key(named: &Named, stream: Stream) -> Option<FileKey> {
    let Some(path) = &named.path else {
        return stream_key(stream);
    };
    if let Ok(meta) = fs::metadata(path) {
        if is_dev_null(&meta) {
            return None;
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            return Some(FileKey::Node(meta.dev(), meta.ino()));
        }
        #[cfg(not(unix))]
        return fs::canonicalize(path).ok().map(FileKey::Path);
    }
    // Not there yet: where the link chain ends, in its directory's canonical form.
    let target = match resolve(path) {
        Ok(Target::Replace(target) | Target::InPlace(target)) => target,
        _ => path.clone(),
    };
    let dir = parent(&target);
    let dir = fs::canonicalize(&dir)
        .or_else(|_| std::path::absolute(&dir))
        .unwrap_or(dir);
    Some(FileKey::Path(match target.file_name() {
        Some(name) => dir.join(name),
        None => dir,
    }))
}

#[cfg(unix)]
fn is_dev_null(meta: &fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    fs::metadata("/dev/null").is_ok_and(|null| null.dev() == meta.dev() && null.ino() == meta.ino())
}

#[cfg(not(unix))]
fn is_dev_null(_meta: &fs::Metadata) -> bool {
    false
}

/// The key of stdin or stdout, as the file it is (a pipe, a terminal, a redirected file).
#[cfg(unix)]
fn stream_key(stream: Stream) -> Option<FileKey> {
    use std::os::fd::AsFd;
    use std::os::unix::fs::MetadataExt;
    let fd = match stream {
        Stream::In => io::stdin().as_fd().try_clone_to_owned(),
        Stream::Out => io::stdout().as_fd().try_clone_to_owned(),
    };
    let meta = fs::File::from(fd.ok()?).metadata().ok()?;
    if is_dev_null(&meta) {
        return None;
    }
    Some(FileKey::Node(meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn stream_key(_stream: Stream) -> Option<FileKey> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chain_of_links_ends_at_its_target() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target.json");
        std::fs::write(&target, "old").unwrap();
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("target.json", dir.path().join("one")).unwrap();
            std::os::unix::fs::symlink("one", dir.path().join("two")).unwrap();
            match resolve(&dir.path().join("two")).unwrap() {
                Target::Replace(path) => assert_eq!(
                    fs::canonicalize(path).unwrap(),
                    fs::canonicalize(&target).unwrap()
                ),
                other => panic!("{other:?}"),
            }
            std::os::unix::fs::symlink("loop", dir.path().join("loop")).unwrap();
            assert!(resolve(&dir.path().join("loop")).is_err());
        }
    }
}
