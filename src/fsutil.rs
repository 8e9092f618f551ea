//! Files the app owns (config, state, history, logs, keys): bounded reads that refuse anything but a regular
//! file, appends and locks that never follow a link and never block on a special file, atomic replacement,
//! and cleaning up temp files a killed process left behind.
//!
//! A service runs as root or SYSTEM and writes in a directory others may have put things in: it never writes
//! through a symbolic link (or a Windows reparse point) it did not make, and never opens a FIFO or device for
//! writing (opening one would block, or write into something that is not ours). [`open_append`] and
//! [`open_lock`] check the type before opening, open with no-follow and non-blocking semantics, and check the
//! opened file again.

use std::fs::File;
use std::io::{Read as _, Write as _};
use std::path::Path;

/// The prefix of every temp file [`write_atomic`] makes (and [`remove_stale_temp_files`] removes).
pub const TEMP_PREFIX: &str = ".ddns-tray-";
const TEMP_SUFFIX: &str = ".tmp";

/// Creates `dir` (and its parents) owner-only (0700 on Unix): state, keys and logs live there. A directory
/// that already exists is left as it is (it may be the user's, e.g. `--data-dir .`).
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir)
    }
}

/// A regular file opened for reading, with its size. `Ok(None)` when it does not exist. A directory, FIFO,
/// device or socket is refused without being opened (a FIFO would block, `/dev/zero` never ends); the file
/// is opened non-blocking and checked again once open (the path may have been swapped meanwhile).
fn open_to_read(path: &Path) -> std::io::Result<Option<(File, u64)>> {
    fn not_regular() -> std::io::Error {
        std::io::Error::other(
            "not a regular file (a directory, device, FIFO or socket); refusing to read it",
        )
    }
    match std::fs::metadata(path) {
        Ok(m) if !m.is_file() => return Err(not_regular()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    }
    let mut options = File::options();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
    let file = options.open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(not_regular());
    }
    Ok(Some((file, meta.len())))
}

/// Reads a whole file of at most `limit` bytes. `Ok(None)` when it does not exist. A directory, FIFO,
/// device or socket is refused without being opened, and so is a file larger than `limit`: both are errors
/// that name the problem.
pub fn read_limited(path: &Path, limit: u64) -> std::io::Result<Option<Vec<u8>>> {
    let Some((file, len)) = open_to_read(path)? else {
        return Ok(None);
    };
    if len > limit {
        return Err(too_large(limit));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    // The file may grow between the check and the read: never read more than the limit.
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(too_large(limit));
    }
    Ok(Some(bytes))
}

/// Reads the last `limit` bytes of a file at most (all of a smaller one), starting after the first line
/// break when it had to skip: for line files (the history) that someone let grow too large. `Ok(None)` when
/// it does not exist; non-regular files are refused as by [`read_limited`].
pub fn read_tail(path: &Path, limit: u64) -> std::io::Result<Option<Vec<u8>>> {
    use std::io::{Seek as _, SeekFrom};
    let Some((mut file, len)) = open_to_read(path)? else {
        return Ok(None);
    };
    let skip = len.saturating_sub(limit);
    file.seek(SeekFrom::Start(skip))?;
    let mut bytes = Vec::new();
    file.take(limit).read_to_end(&mut bytes)?;
    if skip > 0 {
        let start = bytes
            .iter()
            .position(|c| *c == b'\n')
            .map_or(bytes.len(), |i| i + 1);
        bytes.drain(..start);
    }
    Ok(Some(bytes))
}

fn too_large(limit: u64) -> std::io::Error {
    std::io::Error::other(format!(
        "larger than {} KiB; refusing to read it",
        limit / 1024
    ))
}

/// Why a file the app writes was refused: it names the file and says what to do.
fn refused(path: &Path, what: &str) -> std::io::Error {
    std::io::Error::other(format!(
        "refusing to write {}: it is {what}, not a regular file (ddns-tray never writes through a link or into \
         a special file); remove it and ddns-tray will create the file",
        path.display()
    ))
}

/// What `meta` is, in words, when it is not a regular file ddns-tray may write.
fn not_writable_kind(meta: &std::fs::Metadata) -> Option<&'static str> {
    let t = meta.file_type();
    if t.is_symlink() {
        return Some("a symbolic link");
    }
    #[cfg(windows)]
    {
        use std::os::windows::fs::MetadataExt as _;
        const FILE_ATTRIBUTE_REPARSE_POINT: u32 = 0x400;
        if meta.file_attributes() & FILE_ATTRIBUTE_REPARSE_POINT != 0 {
            return Some("a reparse point (a link or junction)");
        }
    }
    if t.is_dir() {
        return Some("a directory");
    }
    if !t.is_file() {
        return Some("a FIFO, socket or device");
    }
    None
}

/// Opens `path` with `options` (which must create it if missing) for writing: not through a symbolic link
/// or reparse point, never blocking on a FIFO, and only if it is (or was made) a regular file. Files it
/// creates are owner-only on Unix.
fn open_owned(path: &Path, options: &mut std::fs::OpenOptions) -> std::io::Result<File> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) => {
            if let Some(what) = not_writable_kind(&meta) {
                return Err(refused(path, what));
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    #[cfg(windows)]
    {
        use std::os::windows::fs::OpenOptionsExt as _;
        // Opens a reparse point itself instead of what it points to; refused below.
        const FILE_FLAG_OPEN_REPARSE_POINT: u32 = 0x0020_0000;
        options.custom_flags(FILE_FLAG_OPEN_REPARSE_POINT);
    }
    let file = options.open(path);
    // O_NOFOLLOW on a link that appeared after the check (ELOOP), or a FIFO without a reader (ENXIO).
    #[cfg(unix)]
    let file = file.map_err(|e| match e.raw_os_error() {
        Some(libc::ELOOP) => refused(path, "a symbolic link"),
        Some(libc::ENXIO) => refused(path, "a FIFO, socket or device"),
        _ => e,
    });
    let file = file?;
    if let Some(what) = not_writable_kind(&file.metadata()?) {
        return Err(refused(path, what));
    }
    Ok(file)
}

/// Opens `path` for appending, creating it (owner-only) when missing; see [`open_owned`] for what is refused.
pub fn open_append(path: &Path) -> std::io::Result<File> {
    open_owned(path, File::options().create(true).append(true))
}

/// Opens (creating, never truncating) the lock file `path`; see [`open_owned`] for what is refused.
pub fn open_lock(path: &Path) -> std::io::Result<File> {
    open_owned(
        path,
        File::options().create(true).truncate(false).write(true),
    )
}

/// A directory the app creates and writes in (e.g. `logs/`): created owner-only when missing, refused when
/// it is a symbolic link or not a directory (a link would send every write somewhere else).
pub fn own_dir(dir: &Path) -> std::io::Result<()> {
    match std::fs::symlink_metadata(dir) {
        Ok(meta) if meta.file_type().is_symlink() => Err(std::io::Error::other(format!(
            "refusing to write in {}: it is a symbolic link (ddns-tray never writes through a link); remove it \
             and ddns-tray will create the directory",
            dir.display()
        ))),
        Ok(meta) if !meta.is_dir() => Err(std::io::Error::other(format!(
            "{} is not a directory; remove it and ddns-tray will create the directory",
            dir.display()
        ))),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => private_dir(dir),
        Err(e) => Err(e),
    }
}

/// Writes `bytes` to `path` atomically: a temp file in the same directory (owner-only permissions on Unix),
/// fsync, rename over the target, fsync the directory. On any failure the old file is untouched and the temp
/// file removed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .suffix(TEMP_SUFFIX)
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Removes temp files of [`write_atomic`] left in `dir` by a process that was killed mid-write. Call it only
/// while holding the lock that keeps other writers out of `dir`. Returns how many were removed.
#[must_use = "say how many were removed, or ignore it explicitly"]
pub fn remove_stale_temp_files(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let is_ours = name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX);
        if is_ours
            && entry.file_type().is_ok_and(|t| t.is_file())
            && std::fs::remove_file(entry.path()).is_ok()
        {
            removed += 1;
        }
    }
    removed
}

/// A short name derived stably from `dir` (SHA-256 of its canonical path): `ddns-tray-<16 hex digits>`, for
/// endpoints (sockets, pipes) that every build of the program must find again.
#[must_use]
pub fn stable_name(dir: &Path) -> String {
    use sha2::{Digest as _, Sha256};
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_owned());
    let digest = Sha256::digest(dir.to_string_lossy().as_bytes());
    format!("ddns-tray-{}", crate::encode::hex(&digest[..8]))
}

/// Keeps a copy of the regular file `path` (at most `limit` bytes) beside it as `<path>.<suffix>`, or
/// `<path>.<suffix>.2`, … when that is taken, written atomically; returns the copy's path.
///
/// # Errors
/// The file is missing, not a regular file, too large, or the copy cannot be written.
pub fn keep_copy(path: &Path, suffix: &str, limit: u64) -> std::io::Result<std::path::PathBuf> {
    let bytes = read_limited(path, limit)?
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "not a regular file"))?;
    let base = format!("{}.{suffix}", path.display());
    let copy = (1..=1000)
        .map(|n| {
            std::path::PathBuf::from(if n == 1 {
                base.clone()
            } else {
                format!("{base}.{n}")
            })
        })
        .find(|p| p.symlink_metadata().is_err())
        .ok_or_else(|| std::io::Error::other(format!("{base}.1000 and all before it are taken")))?;
    write_atomic(&copy, &bytes)?;
    Ok(copy)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_reads_refuse_devices_fifos_and_large_files() {
        let dir = tempfile::tempdir().unwrap();
        let small = dir.path().join("small");
        std::fs::write(&small, b"hello").unwrap();
        assert_eq!(read_limited(&small, 10).unwrap().unwrap(), b"hello");
        assert!(
            read_limited(&dir.path().join("absent"), 10)
                .unwrap()
                .is_none()
        );
        let err = read_limited(&small, 3).unwrap_err().to_string();
        assert!(err.contains("larger than"), "{err}");
        let err = read_limited(dir.path(), 10).unwrap_err().to_string();
        assert!(err.contains("not a regular file"), "{err}");
        #[cfg(unix)]
        {
            let err = read_limited(Path::new("/dev/zero"), 1 << 20)
                .unwrap_err()
                .to_string();
            assert!(err.contains("not a regular file"), "{err}");
            let fifo = dir.path().join("fifo");
            assert!(
                std::process::Command::new("mkfifo")
                    .arg(&fifo)
                    .status()
                    .unwrap()
                    .success()
            );
            let err = read_limited(&fifo, 10).unwrap_err().to_string();
            assert!(err.contains("not a regular file"), "{err}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn new_private_dirs_are_owner_only_and_existing_ones_untouched() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let new = dir.path().join("data/logs");
        private_dir(&new).unwrap();
        assert_eq!(
            std::fs::metadata(&new).unwrap().permissions().mode() & 0o777,
            0o700
        );
        let theirs = dir.path().join("theirs");
        std::fs::create_dir(&theirs).unwrap();
        std::fs::set_permissions(&theirs, std::fs::Permissions::from_mode(0o755)).unwrap();
        private_dir(&theirs).unwrap();
        assert_eq!(
            std::fs::metadata(&theirs).unwrap().permissions().mode() & 0o777,
            0o755
        );
    }

    #[test]
    fn stale_temp_files_are_removed_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".ddns-tray-abc.tmp"), b"x").unwrap();
        std::fs::write(dir.path().join("state.json"), b"{}").unwrap();
        std::fs::write(dir.path().join("notes.tmp"), b"mine").unwrap();
        assert_eq!(remove_stale_temp_files(dir.path()), 1);
        let mut left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(left, ["notes.tmp", "state.json"]);
    }
}
