//! The daemon's daily log files: `ddns-tray.YYYY-MM-DD.log` (UTC dates) in the log directory, owner-only,
//! the newest [`KEEP`] kept.
//!
//! Written through `fsutil::open_append`, so a service running as root or SYSTEM never appends through a
//! link someone put in place of today's file (or of the `logs/` directory), and a FIFO there never blocks
//! it: such a file is refused with its name and the reason, once, and the lines go to stderr only. The
//! writer is meant to sit behind `tracing_appender::non_blocking`, so a slow disk never holds up the
//! engine either.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Daily files kept.
pub const KEEP: usize = 7;
const PREFIX: &str = "ddns-tray.";
const SUFFIX: &str = ".log";

/// Appends to today's log file, starting a new one when the date changes.
pub struct DailyLog {
    dir: PathBuf,
    open: Option<(String, File)>,
    /// The last refusal reported (each different one is reported once).
    reported: Option<String>,
}

impl DailyLog {
    /// Opens today's file in `dir` (created owner-only). An error names the file or directory and why.
    pub fn open(dir: &Path) -> std::io::Result<Self> {
        let mut log = Self {
            dir: dir.to_owned(),
            open: None,
            reported: None,
        };
        log.current()?;
        Ok(log)
    }

    /// The file name for `day` (`YYYY-MM-DD`).
    #[must_use]
    pub fn file_name(day: &str) -> String {
        format!("{PREFIX}{day}{SUFFIX}")
    }

    fn today() -> String {
        let stamp = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
        stamp.get(..10).unwrap_or("1970-01-01").to_owned()
    }

    fn current(&mut self) -> std::io::Result<&mut File> {
        let day = Self::today();
        if self.open.as_ref().is_none_or(|(d, _)| *d != day) {
            self.open = None;
            crate::fsutil::own_dir(&self.dir)?;
            let file = crate::fsutil::open_append(&self.dir.join(Self::file_name(&day)))?;
            self.open = Some((day, file));
            self.prune();
        }
        match self.open.as_mut() {
            Some((_, f)) => Ok(f),
            None => Err(std::io::Error::other("no log file open")),
        }
    }

    /// Removes the oldest daily files beyond [`KEEP`] (only ours: the name's date is checked).
    fn prune(&self) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let mut days: Vec<String> = entries
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                let day = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
                let ok = day.len() == 10
                    && day.bytes().enumerate().all(|(i, c)| {
                        if i == 4 || i == 7 {
                            c == b'-'
                        } else {
                            c.is_ascii_digit()
                        }
                    });
                ok.then(|| day.to_owned())
            })
            .collect();
        days.sort();
        let extra = days.len().saturating_sub(KEEP);
        for day in &days[..extra] {
            let _ = std::fs::remove_file(self.dir.join(Self::file_name(day)));
        }
    }
}

impl Write for DailyLog {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.current() {
            Ok(f) => f.write(buf),
            Err(e) => {
                let why = e.to_string();
                if self.reported.as_deref() != Some(why.as_str()) {
                    eprintln!("warning: cannot write the log file: {why}; logging to stderr only");
                    self.reported = Some(why);
                }
                // The line is dropped, not retried: logging must never stop the daemon.
                Ok(buf.len())
            }
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self.open.as_mut() {
            Some((_, f)) => f.flush(),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest_files_and_only_ours() {
        let dir = tempfile::tempdir().unwrap();
        for day in 1..=9 {
            std::fs::write(
                dir.path().join(format!("ddns-tray.2020-01-0{day}.log")),
                "x",
            )
            .unwrap();
        }
        std::fs::write(dir.path().join("ddns-tray.notes.log"), "mine").unwrap();
        let mut log = DailyLog::open(dir.path()).unwrap();
        log.write_all(b"hello\n").unwrap();
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names.len(), KEEP + 1, "{names:?}");
        assert!(names.contains(&"ddns-tray.notes.log".to_owned()));
        assert!(!names.contains(&"ddns-tray.2020-01-03.log".to_owned()));
        assert!(names.contains(&"ddns-tray.2020-01-04.log".to_owned()));
        let today = DailyLog::file_name(&DailyLog::today());
        assert_eq!(
            std::fs::read_to_string(dir.path().join(today)).unwrap(),
            "hello\n"
        );
    }

    #[cfg(unix)]
    #[test]
    fn refuses_links_and_fifos_and_never_blocks() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let logs = dir.path().join("logs");
        let target = dir.path().join("elsewhere");
        std::fs::create_dir(&target).unwrap();
        std::os::unix::fs::symlink(&target, &logs).unwrap();
        let err = DailyLog::open(&logs).err().unwrap().to_string();
        assert!(
            err.contains("symbolic link") && err.contains("logs"),
            "{err}"
        );
        std::fs::remove_file(&logs).unwrap();

        std::fs::create_dir(&logs).unwrap();
        let today = logs.join(DailyLog::file_name(&DailyLog::today()));
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&today)
                .status()
                .unwrap()
                .success()
        );
        let err = DailyLog::open(&logs).err().unwrap().to_string();
        assert!(err.contains("FIFO") && err.contains(".log"), "{err}");
        std::fs::remove_file(&today).unwrap();

        let mut log = DailyLog::open(&logs).unwrap();
        log.write_all(b"x\n").unwrap();
        let mode = std::fs::metadata(&today).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
