//! The service's own secret store: secrets a tray sent with a config (typed in its settings window) are kept
//! here, never in the user's keyring and never in a file another user can read, and the config names them
//! `{ store = "provider/home/token" }`.
//!
//! One file per entry in the `secrets/` folder of the service's data directory:
//! - Unix: the folder is owner-only (0700) and each file 0600, owned by the service's user
//!   (`/var/lib/ddns-tray/secrets`, which `StateDirectory=` keeps the service's);
//! - Windows: the folder's DACL admits SYSTEM and Administrators only, and each value is encrypted with
//!   DPAPI under the service's account (`LocalSystem`), so a copy of the file is of no use elsewhere.
//!
//! Entry names are kept as they are, percent-encoded into one file name. Removing a provider or notifier
//! from the config removes its entries (see `settings::write`).

use std::path::{Path, PathBuf};

use crate::config::Secret;
use crate::config::secret::{Lookup, SecretStore, SystemLookup};

/// The largest secret read back.
const MAX_SECRET: u64 = 64 * 1024;

/// A service's secret store in `dir`.
#[derive(Debug, Clone)]
pub struct Vault {
    dir: PathBuf,
}

impl Vault {
    #[must_use]
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The store of the data directory `data_dir` (its `secrets/` folder).
    #[must_use]
    pub fn in_data_dir(data_dir: &Path) -> Self {
        Self::new(data_dir.join("secrets"))
    }

    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn file(&self, entry: &str) -> Result<PathBuf, String> {
        if entry.trim().is_empty() || entry.len() > 200 {
            return Err(format!("`{entry}` is not an entry name"));
        }
        Ok(self.dir.join(crate::encode::pct(entry)))
    }

    /// The value stored under `entry`.
    pub fn read(&self, entry: &str) -> Result<String, String> {
        let path = self.file(entry)?;
        let bytes = crate::fsutil::read_limited(&path, MAX_SECRET)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .ok_or_else(|| format!("no entry `{entry}` in {}", self.dir.display()))?;
        let bytes = unseal(&bytes)?;
        String::from_utf8(bytes).map_err(|_| format!("entry `{entry}` is not text"))
    }

    /// Every entry held (names, decoded), for removing those the config no longer names.
    #[must_use]
    pub fn entries(&self) -> Vec<String> {
        let Ok(list) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut out: Vec<String> = list
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                if name.starts_with(crate::fsutil::TEMP_PREFIX) {
                    return None;
                }
                decode(&name)
            })
            .collect();
        out.sort();
        out
    }

    /// Creates the folder with the protection the module's doc names, or refuses a folder that is a link.
    fn ensure_dir(&self) -> Result<(), String> {
        #[cfg(windows)]
        crate::platform::windows::create_protected_dir(&self.dir)
            .map_err(|e| format!("{}: {e}", self.dir.display()))?;
        crate::fsutil::own_dir(&self.dir).map_err(|e| e.to_string())?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&self.dir, std::fs::Permissions::from_mode(0o700))
                .map_err(|e| format!("{}: {e}", self.dir.display()))?;
        }
        Ok(())
    }
}

impl SecretStore for Vault {
    fn store(&self, entry: &str, value: &str) -> Result<(), String> {
        let path = self.file(entry)?;
        self.ensure_dir()?;
        let sealed = seal(value.as_bytes())?;
        crate::fsutil::write_atomic(&path, &sealed).map_err(|e| format!("{}: {e}", path.display()))
    }

    fn delete(&self, entry: &str) -> Result<bool, String> {
        let path = self.file(entry)?;
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    fn reference(&self, entry: &str) -> Secret {
        Secret::stored(entry)
    }

    fn may_stay_in_file(&self) -> bool {
        false
    }
}

/// A process's secret lookup: the environment, the user's keyring, and its data directory's [`Vault`].
pub struct VaultLookup {
    vault: Vault,
}

impl VaultLookup {
    #[must_use]
    pub fn new(vault: Vault) -> Self {
        Self { vault }
    }
}

impl Lookup for VaultLookup {
    fn env(&self, var: &str) -> Option<String> {
        SystemLookup.env(var)
    }

    fn keyring(&self, entry: &str) -> Result<String, String> {
        SystemLookup.keyring(entry)
    }

    fn store(&self, entry: &str) -> Result<String, String> {
        self.vault.read(entry)
    }
}

/// A file name back to its entry name.
fn decode(name: &str) -> Option<String> {
    let bytes = name.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// What is written: on Windows encrypted with DPAPI under the process's account; elsewhere the value (the
/// folder's permissions protect it).
#[cfg(windows)]
fn seal(value: &[u8]) -> Result<Vec<u8>, String> {
    crate::platform::windows::dpapi_protect(value).map_err(|e| format!("DPAPI: {e}"))
}

#[cfg(not(windows))]
#[allow(clippy::unnecessary_wraps)] // the same signature as the Windows version
fn seal(value: &[u8]) -> Result<Vec<u8>, String> {
    Ok(value.to_vec())
}

#[cfg(windows)]
fn unseal(stored: &[u8]) -> Result<Vec<u8>, String> {
    crate::platform::windows::dpapi_unprotect(stored).map_err(|e| format!("DPAPI: {e}"))
}

#[cfg(not(windows))]
#[allow(clippy::unnecessary_wraps)] // the same signature as the Windows version
fn unseal(stored: &[u8]) -> Result<Vec<u8>, String> {
    Ok(stored.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_stored_owner_only_read_back_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::in_data_dir(dir.path());
        vault.store("provider/home/token", "s3cr3t-t0ken").unwrap();
        vault.store("notify/phone/url", "https://x/y").unwrap();
        assert_eq!(vault.read("provider/home/token").unwrap(), "s3cr3t-t0ken");
        assert_eq!(vault.entries(), ["notify/phone/url", "provider/home/token"]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(vault.dir()), 0o700);
            for e in std::fs::read_dir(vault.dir()).unwrap() {
                assert_eq!(mode(&e.unwrap().path()), 0o600);
            }
        }
        let mut s = vault.reference("provider/home/token");
        s.resolve(&VaultLookup::new(vault.clone())).unwrap();
        assert_eq!(s.expose(), "s3cr3t-t0ken");
        assert!(vault.delete("provider/home/token").unwrap());
        assert!(!vault.delete("provider/home/token").unwrap());
        assert!(vault.read("provider/home/token").is_err());
    }
}
