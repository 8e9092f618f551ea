//! Secret values: API keys, passwords, TSIG secrets.
//!
//! In the file a secret is a string, `{ env = "VAR" }`, `{ file = "/path" }`, `{ keyring = "entry" }` (the
//! user's OS keyring) or `{ store = "entry" }` (the service's own store, `vault`). [`Secret`] keeps both the
//! source (what is written back to the file) and, once [`Secret::resolve`] ran during validation, the value.
//! `Debug` and `Display` print `***`; the value leaves only through [`Secret::expose`], which providers call
//! at the moment they build a request.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use serde::de::{self, Deserializer};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

/// Where a secret comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// The value itself, written in the config file.
    Literal(String),
    /// The name of an environment variable holding the value.
    Env(String),
    /// A file whose content (without trailing whitespace) is the value.
    File(PathBuf),
    /// An entry in the OS keyring (service `ddns-tray`), written by the settings dialog.
    Keyring(String),
    /// An entry in the service's own secret store (see `vault`), written by the service when a tray sends
    /// it a config with secrets typed in.
    Store(String),
}

/// Where secrets are looked up: the environment, and the OS keyring.
pub trait Lookup {
    fn env(&self, var: &str) -> Option<String>;
    /// The secret stored under `entry`, or why it cannot be had.
    fn keyring(&self, entry: &str) -> Result<String, String> {
        let _ = entry;
        Err("no keyring is available here".into())
    }
    /// The secret the service's store holds under `entry`, or why it cannot be had.
    fn store(&self, entry: &str) -> Result<String, String> {
        let _ = entry;
        Err("no secret store is available here".into())
    }
}

/// Where secrets typed in the settings window go when saved: the user's OS keyring for the tray's own
/// engine, the service's store (`vault`) for a service. The file then refers to them by entry.
pub trait SecretStore {
    /// Stores `value` under `entry`. An error means the store cannot be used: the secret stays in the file
    /// (the keyring) or the save is refused (the service's store).
    fn store(&self, entry: &str, value: &str) -> Result<(), String>;
    /// Removes `entry`; `Ok(false)` when there was none.
    fn delete(&self, entry: &str) -> Result<bool, String>;
    /// How the config refers to `entry` of this store.
    fn reference(&self, entry: &str) -> Secret;
    /// Whether a secret the store refuses may stay written in the file (the user's own owner-only file:
    /// yes; the service's file, which administrators edit: no).
    fn may_stay_in_file(&self) -> bool;
}

/// The OS keyring (Secret Service, Keychain, Windows Credential Manager).
#[cfg(feature = "keyring")]
pub struct OsKeyring;

#[cfg(feature = "keyring")]
impl SecretStore for OsKeyring {
    fn store(&self, entry: &str, value: &str) -> Result<(), String> {
        keyring_store(entry, value)
    }

    fn delete(&self, entry: &str) -> Result<bool, String> {
        keyring_delete(entry)
    }

    fn reference(&self, entry: &str) -> Secret {
        Secret::keyring(entry)
    }

    fn may_stay_in_file(&self) -> bool {
        true
    }
}

/// No store: secrets typed in stay in the config file (owner-only), as in a build without a keyring.
pub struct InFile;

impl SecretStore for InFile {
    fn store(&self, _: &str, _: &str) -> Result<(), String> {
        Err("this build has no keyring".into())
    }

    fn delete(&self, _: &str) -> Result<bool, String> {
        Ok(false)
    }

    fn reference(&self, entry: &str) -> Secret {
        Secret::keyring(entry)
    }

    fn may_stay_in_file(&self) -> bool {
        true
    }
}

/// A plain function is an environment lookup without a keyring (tests, tools).
impl<F: Fn(&str) -> Option<String>> Lookup for F {
    fn env(&self, var: &str) -> Option<String> {
        self(var)
    }
}

/// The keyring service name under which secrets are stored.
pub const KEYRING_SERVICE: &str = "ddns-tray";

/// Stores `value` in the OS keyring under `entry` (service `ddns-tray`).
///
/// # Errors
/// There is no usable keyring, or it refused.
#[cfg(feature = "keyring")]
pub fn keyring_store(entry: &str, value: &str) -> Result<(), String> {
    keyring::Entry::new(KEYRING_SERVICE, entry)
        .and_then(|e| e.set_password(value))
        .map_err(|e| e.to_string())
}

/// Removes `entry` from the OS keyring; `Ok(false)` when there was none.
///
/// # Errors
/// There is no usable keyring, or it refused.
#[cfg(feature = "keyring")]
pub fn keyring_delete(entry: &str) -> Result<bool, String> {
    match keyring::Entry::new(KEYRING_SERVICE, entry).and_then(|e| e.delete_credential()) {
        Ok(()) => Ok(true),
        Err(keyring::Error::NoEntry) => Ok(false),
        Err(e) => Err(e.to_string()),
    }
}

/// The real lookup: process environment and the OS keyring (Secret Service, Keychain, Credential Manager).
pub struct SystemLookup;

impl Lookup for SystemLookup {
    fn env(&self, var: &str) -> Option<String> {
        std::env::var(var).ok()
    }

    #[cfg(feature = "keyring")]
    fn keyring(&self, entry: &str) -> Result<String, String> {
        keyring::Entry::new(KEYRING_SERVICE, entry)
            .and_then(|e| e.get_password())
            .map_err(|e| e.to_string())
    }

    #[cfg(not(feature = "keyring"))]
    fn keyring(&self, _entry: &str) -> Result<String, String> {
        Err("this build of ddns-tray has no keyring support".into())
    }
}

/// A secret: its source, and after validation its resolved value.
#[derive(Clone)]
pub struct Secret {
    source: SecretSource,
    value: Option<Arc<str>>,
}

impl Secret {
    /// A secret written literally (used by the settings dialog and tests).
    #[must_use]
    pub fn literal(value: impl Into<String>) -> Self {
        Self {
            source: SecretSource::Literal(value.into()),
            value: None,
        }
    }

    /// A secret kept in the OS keyring under `entry`.
    #[must_use]
    pub fn keyring(entry: impl Into<String>) -> Self {
        Self {
            source: SecretSource::Keyring(entry.into()),
            value: None,
        }
    }

    /// A secret kept in the service's store under `entry`.
    #[must_use]
    pub fn stored(entry: impl Into<String>) -> Self {
        Self {
            source: SecretSource::Store(entry.into()),
            value: None,
        }
    }

    /// A secret with an already known value (tests, composition).
    #[must_use]
    pub fn resolved(value: impl Into<String>) -> Self {
        let value: String = value.into();
        Self {
            value: Some(Arc::from(value.as_str())),
            source: SecretSource::Literal(value),
        }
    }

    #[must_use]
    pub fn source(&self) -> &SecretSource {
        &self.source
    }

    /// The secret's value. Empty until [`Secret::resolve`] succeeded; validated settings always hold resolved
    /// secrets.
    #[must_use]
    pub fn expose(&self) -> &str {
        self.value.as_deref().unwrap_or("")
    }

    /// Reads the value from its source and checks it for the usual copy-paste mistakes. On error the message
    /// says what is wrong and never contains the value.
    pub fn resolve(&mut self, lookup: &dyn Lookup) -> Result<(), SecretProblem> {
        let value = match &self.source {
            SecretSource::Literal(v) => v.clone(),
            SecretSource::Keyring(entry) => lookup
                .keyring(entry)
                .map_err(|e| SecretProblem::words("keyring", &[("entry", entry), ("error", &e)]))?,
            SecretSource::Store(entry) => lookup
                .store(entry)
                .map_err(|e| SecretProblem::words("store", &[("entry", entry), ("error", &e)]))?,
            SecretSource::Env(var) => lookup
                .env(var)
                .ok_or_else(|| SecretProblem::words("env", &[("var", var)]))?,
            SecretSource::File(path) => match std::fs::read_to_string(path) {
                Ok(text) => text.trim_end_matches(['\n', '\r']).to_owned(),
                Err(e) => {
                    return Err(SecretProblem::words(
                        "file",
                        &[("path", &path.display()), ("error", &e)],
                    ));
                }
            },
        };
        check_value(&value)?;
        self.value = Some(Arc::from(value.as_str()));
        Ok(())
    }
}

/// What is wrong with a secret, without the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretProblem {
    pub message: String,
    pub hint: String,
}

impl SecretProblem {
    /// The problem in the catalogue's words (`check.secret.<key>.msg` and `.hint`).
    fn words(key: &str, args: &[(&str, &dyn std::fmt::Display)]) -> Self {
        Self {
            message: crate::i18n::tr(&format!("check.secret.{key}.msg"), args),
            hint: crate::i18n::tr(&format!("check.secret.{key}.hint"), args),
        }
    }
}

/// Catches placeholders, quote-wrapped values, pasted `KEY=value` lines and stray whitespace.
fn check_value(value: &str) -> Result<(), SecretProblem> {
    let problem = |key: &str| Err(SecretProblem::words(key, &[]));
    if value.is_empty() {
        return problem("empty");
    }
    if value.trim() != value {
        return problem("whitespace");
    }
    let quoted = |q: char| value.len() >= 2 && value.starts_with(q) && value.ends_with(q);
    if quoted('"') || quoted('\'') {
        return problem("quoted");
    }
    if let Some((key, _)) = value.split_once('=')
        && !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        && key.chars().next().is_some_and(|c| c.is_ascii_uppercase())
    {
        return problem("pasted_line");
    }
    if is_placeholder(value) {
        return problem("placeholder");
    }
    Ok(())
}

fn is_placeholder(value: &str) -> bool {
    const WORDS: &[&str] = &[
        "changeme",
        "placeholder",
        "todo",
        "fixme",
        "replaceme",
        "insertkeyhere",
        "none",
        "null",
    ];
    let compact: String = value
        .to_ascii_lowercase()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    let bracketed = value.starts_with('<') && value.ends_with('>');
    let unexpanded = value.starts_with("${") && value.ends_with('}');
    let shell_var = value.len() > 1
        && value.starts_with('$')
        && value[1..]
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    let first = value.chars().next();
    let filler = matches!(first, Some('x' | 'X' | '*' | '.' | '-'))
        && value.chars().all(|c| Some(c) == first);
    let word = WORDS.contains(&compact.as_str());
    let yours = compact.starts_with("your")
        && ["token", "key", "secret", "password", "pass"]
            .iter()
            .any(|w| compact.contains(w));
    bracketed || unexpanded || shell_var || filler || word || yours
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            SecretSource::Literal(_) => f.write_str("***"),
            SecretSource::Env(var) => write!(f, "*** (env {var})"),
            SecretSource::File(path) => write!(f, "*** (file {})", path.display()),
            SecretSource::Keyring(entry) => write!(f, "*** (keyring {entry})"),
            SecretSource::Store(entry) => write!(f, "*** (store {entry})"),
        }
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.source {
            SecretSource::Literal(v) => serializer.serialize_str(v),
            SecretSource::Env(var) => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("env", var)?;
                map.end()
            }
            SecretSource::File(path) => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("file", path)?;
                map.end()
            }
            SecretSource::Keyring(entry) => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("keyring", entry)?;
                map.end()
            }
            SecretSource::Store(entry) => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("store", entry)?;
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Literal(String),
            Table(std::collections::BTreeMap<String, toml::Value>),
        }
        const EXPECTED: &str = "a string, { env = \"VAR\" }, { file = \"/path\" }, { keyring = \"entry\" } or { store = \"entry\" }";
        let raw = Raw::deserialize(deserializer).map_err(|e: D::Error| {
            // A missing field keeps serde's own message; anything else gets ours.
            if e.to_string().starts_with("missing field") {
                e
            } else {
                de::Error::custom(format!("invalid secret: expected {EXPECTED}"))
            }
        })?;
        let source = match raw {
            Raw::Literal(v) => SecretSource::Literal(v),
            Raw::Table(map) => {
                let mut entries = map.into_iter();
                match (entries.next(), entries.next()) {
                    (Some((key, toml::Value::String(v))), None) if key == "env" => {
                        SecretSource::Env(v)
                    }
                    (Some((key, toml::Value::String(v))), None) if key == "file" => {
                        SecretSource::File(v.into())
                    }
                    (Some((key, toml::Value::String(v))), None) if key == "keyring" => {
                        SecretSource::Keyring(v)
                    }
                    (Some((key, toml::Value::String(v))), None) if key == "store" => {
                        SecretSource::Store(v)
                    }
                    _ => {
                        return Err(de::Error::custom(format!(
                            "invalid secret: expected {EXPECTED}"
                        )));
                    }
                }
            }
        };
        Ok(Self {
            source,
            value: None,
        })
    }
}

/// Resolves every secret of an entry (`secrets`: each with its field path relative to the entry at
/// `path`), reporting each one that cannot be read.
pub fn resolve_all(
    secrets: Vec<(String, &mut Secret)>,
    path: &str,
    lookup: &dyn Lookup,
    issues: &mut Vec<super::Issue>,
) {
    for (field, secret) in secrets {
        if let Err(p) = secret.resolve(lookup) {
            issues.push(super::Issue::new(
                format!("{path}.{field}"),
                p.message,
                p.hint,
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn debug_and_display_never_show_the_value() {
        let s = Secret::resolved("hunter2-very-secret");
        assert_eq!(format!("{s}"), "***");
        assert_eq!(format!("{s:?}"), "***");
        assert!(!format!("{:?}", Some(&s)).contains("hunter2"));
    }

    #[test]
    fn bad_values_are_named_without_the_value() {
        let cases = [
            ("empty", "", "is empty"),
            ("double quotes", "\"abc123def\"", "quotes"),
            ("single quotes", "'abc123def'", "quotes"),
            ("pasted env line", "CF_API_TOKEN=abcdef123", "NAME=value"),
            ("angle placeholder", "<your token>", "placeholder"),
            ("your-api-key", "YOUR-API-KEY", "placeholder"),
            ("changeme", "change-me", "placeholder"),
            ("xxx", "xxxxxxxx", "placeholder"),
            ("unexpanded env", "${PDNS_KEY}", "placeholder"),
            ("trailing space", "abc123 ", "whitespace"),
        ];
        for (name, value, want) in cases {
            let mut s = Secret::literal(value);
            let err = s.resolve(&no_env).expect_err(name);
            assert!(err.message.contains(want), "{name}: {err:?}");
            if !value.trim().is_empty() {
                assert!(
                    !err.message.contains(value.trim()),
                    "{name} leaks the value"
                );
                assert!(
                    !err.hint.contains(value.trim()),
                    "{name} leaks the value in the hint"
                );
            }
        }
    }

    #[test]
    fn real_looking_values_pass() {
        for value in ["s3cr3t-Key_42", "dGhpcyBpcyBhIGtleQ==", "abc=def", "secret"] {
            let mut s = Secret::literal(value);
            s.resolve(&no_env)
                .unwrap_or_else(|e| panic!("{value}: {e:?}"));
            assert_eq!(s.expose(), value);
        }
    }

    #[test]
    fn env_and_file_sources() {
        let mut s: Secret = toml::from_str::<toml::Table>("k = { env = \"MY_VAR\" }").unwrap()["k"]
            .clone()
            .try_into()
            .unwrap();
        let env = |k: &str| (k == "MY_VAR").then(|| "from-env-123".to_owned());
        s.resolve(&env).unwrap();
        assert_eq!(s.expose(), "from-env-123");

        let mut missing = Secret {
            source: SecretSource::Env("NOPE".into()),
            value: None,
        };
        assert!(
            missing
                .resolve(&no_env)
                .unwrap_err()
                .message
                .contains("`NOPE` is not set")
        );

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        std::fs::write(&path, "from-file-456\n").unwrap();
        let mut f = Secret {
            source: SecretSource::File(path),
            value: None,
        };
        f.resolve(&no_env).unwrap();
        assert_eq!(f.expose(), "from-file-456");
    }

    #[test]
    fn keyring_entries_resolve_through_the_lookup() {
        struct Keyring;
        impl Lookup for Keyring {
            fn env(&self, _: &str) -> Option<String> {
                None
            }
            fn keyring(&self, entry: &str) -> Result<String, String> {
                if entry == "p/token" {
                    Ok("from-keyring-789".into())
                } else {
                    Err("no entry".into())
                }
            }
        }
        let table: toml::Table = toml::from_str("k = { keyring = \"p/token\" }").unwrap();
        let mut s: Secret = table["k"].clone().try_into().unwrap();
        s.resolve(&Keyring).unwrap();
        assert_eq!(s.expose(), "from-keyring-789");
        assert_eq!(format!("{s:?}"), "*** (keyring p/token)");
        let mut missing = Secret::keyring("q/token");
        let err = missing.resolve(&Keyring).unwrap_err();
        assert!(
            err.message
                .contains("keyring entry `q/token` cannot be read"),
            "{err:?}"
        );
        assert!(
            Secret::keyring("x")
                .resolve(&no_env)
                .unwrap_err()
                .message
                .contains("no keyring")
        );
    }

    #[test]
    fn malformed_secret_tables_are_rejected() {
        for text in [
            "k = { env = 1 }",
            "k = { path = \"/x\" }",
            "k = { env = \"A\", file = \"/b\" }",
            "k = 5",
        ] {
            let table: toml::Table = toml::from_str(text).unwrap();
            let r: Result<Secret, _> = table["k"].clone().try_into();
            assert!(
                r.unwrap_err().to_string().contains("invalid secret"),
                "{text}"
            );
        }
    }
}
