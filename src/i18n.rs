//! The user's language: English or Simplified Chinese, for every sentence a person reads (tray menu,
//! tooltip, toasts, alerts, the settings window, the command line's human output). The strings live in one
//! catalogue per language (`locales/en.toml`, `locales/zh-CN.toml`, through rust-i18n); flags, `--json`
//! keys and log lines stay English.
//!
//! The language comes from `language` in the config when it names one, else from the OS: `LC_ALL`,
//! `LC_MESSAGES`, `LANG` on Linux, the user's UI languages on Windows, the preferred languages on macOS.
//! Any Chinese locale (`zh_CN.UTF-8`, `zh-Hans-CN`, `zh-TW`) gets the Simplified Chinese catalogue;
//! everything else English.

pub use rust_i18n::t;

/// The catalogues, as build.rs laid them out: every key and text, one after another.
static TEXT: &str = include_str!(concat!(env!("OUT_DIR"), "/catalogues.txt"));
include!(concat!(env!("OUT_DIR"), "/catalogues.rs"));

/// The catalogues of `locales/`, served from static tables (build.rs) instead of rust-i18n's `HashMap`s:
/// nothing is copied at start. `t!` reaches them through the `i18n!` call in `lib.rs`.
pub struct Catalogues;

impl Catalogues {
    fn text(span: u32, end: u32) -> &'static str {
        TEXT.get(span as usize..end as usize).unwrap_or_default()
    }
}

impl rust_i18n::Backend for Catalogues {
    fn available_locales(&self) -> Vec<&str> {
        LOCALES.iter().map(|(locale, _)| *locale).collect()
    }

    fn translate(&self, locale: &str, key: &str) -> Option<&str> {
        let (_, entries) = LOCALES.iter().find(|(l, _)| *l == locale)?;
        let at = entries
            .binary_search_by(|e| Self::text(e[0], e[1]).cmp(key))
            .ok()?;
        Some(Self::text(entries[at][2], entries[at][3]))
    }
}

/// A language choice (`language = "auto" | "en" | "zh-CN"` in the config).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum Language {
    /// Follow the OS.
    #[default]
    Auto,
    English,
    Chinese,
}

impl Language {
    /// The values `language` accepts, for messages.
    pub const CHOICES: &'static str = "\"auto\", \"en\" or \"zh-CN\"";

    /// Parses the config's `language` (case and `-`/`_` do not matter; `zh` means Simplified Chinese).
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "auto" | "" => Some(Self::Auto),
            "en" | "en-us" | "en-gb" | "english" => Some(Self::English),
            "zh" | "zh-cn" | "zh-hans" | "zh-hans-cn" | "chinese" => Some(Self::Chinese),
            _ => None,
        }
    }

    /// The catalogue's name (`en`, `zh-CN`); `auto` for [`Language::Auto`].
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::English => "en",
            Self::Chinese => "zh-CN",
        }
    }

    /// How the language calls itself (for the chooser in the settings window).
    #[must_use]
    pub fn native_name(self) -> String {
        match self {
            Self::Auto => {
                t!("general.language_auto", os = os_language().native_name()).into_owned()
            }
            Self::English => "English".to_owned(),
            Self::Chinese => "简体中文".to_owned(),
        }
    }

    /// The language of an OS locale tag (`zh_CN.UTF-8`, `zh-Hans-CN`, `en-US`, `C`), when it is one of ours.
    #[must_use]
    pub fn of_locale(tag: &str) -> Option<Self> {
        let lang = tag
            .split(['_', '-', '.', '@'])
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        match lang.as_str() {
            "zh" => Some(Self::Chinese),
            "en" | "c" | "posix" => Some(Self::English),
            _ => None,
        }
    }
}

/// The OS's language: the first of the user's preferred locales that is English or Chinese; English when
/// none is.
#[must_use]
pub fn os_language() -> Language {
    sys_locale::get_locales()
        .find_map(|tag| Language::of_locale(&tag))
        .unwrap_or(Language::English)
}

/// Uses `choice` from now on (`Auto`: the OS's language). Returns the language in use.
#[allow(clippy::must_use_candidate)] // called for its effect; the result is for logs
pub fn set(choice: Language) -> Language {
    let lang = match choice {
        Language::Auto => os_language(),
        other => other,
    };
    rust_i18n::set_locale(lang.code());
    lang
}

/// The language in use.
#[must_use]
pub fn current() -> Language {
    if &*rust_i18n::locale() == Language::Chinese.code() {
        Language::Chinese
    } else {
        Language::English
    }
}

/// `key` from the catalogue in the language in use, with `%{name}` placeholders filled from `args`: for
/// code outside this crate (the command line in `main.rs`), where `t!` cannot reach the catalogues.
#[must_use]
pub fn tr(key: &str, args: &[(&str, &dyn std::fmt::Display)]) -> String {
    let mut text = crate::_rust_i18n_translate(&rust_i18n::locale(), key).into_owned();
    for (name, value) in args {
        text = text.replace(&format!("%{{{name}}}"), &value.to_string());
    }
    text
}

/// Whether the catalogue of `locale` has `key` (rust-i18n answers a missing key with `<locale>.<key>`).
#[must_use]
pub fn has_in(locale: &str, key: &str) -> bool {
    let text = crate::_rust_i18n_translate(locale, key);
    text != key && text != format!("{locale}.{key}")
}

/// Whether the catalogue of the language in use has `key`.
#[must_use]
pub fn has(key: &str) -> bool {
    has_in(&rust_i18n::locale(), key)
}

/// `key` from the catalogue of `locale` (`en`, `zh-CN`), whatever the language in use.
#[must_use]
pub fn tr_in(locale: &str, key: &str) -> String {
    crate::_rust_i18n_translate(locale, key).into_owned()
}

/// Every source file of the crate (path and text), for the checks that user-visible text goes through the
/// catalogues: read at test time, so a new file is covered without being listed.
#[cfg(test)]
pub(crate) fn sources() -> Vec<(String, String)> {
    fn walk(dir: &std::path::Path, out: &mut Vec<(String, String)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(&path, out);
            } else if path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("rs"))
                && !path.ends_with("src/i18n.rs")
            {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
                let name = path
                    .strip_prefix(root)
                    .unwrap_or(&path)
                    .display()
                    .to_string();
                out.push((name, text));
            }
        }
    }
    let mut out = Vec::new();
    walk(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut out,
    );
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// Every string of a catalogue file with its dotted key (`section.key`), read with the toml crate.
    fn strings(text: &str) -> Vec<(String, String)> {
        fn walk(prefix: &str, t: &toml::Table, out: &mut Vec<(String, String)>) {
            for (k, v) in t {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                match v {
                    toml::Value::Table(sub) => walk(&key, sub, out),
                    toml::Value::String(text) => out.push((key, text.clone())),
                    other => panic!("{key}: not a string: {other:?}"),
                }
            }
        }
        let mut out = Vec::new();
        walk("", &toml::from_str(text).unwrap(), &mut out);
        out
    }

    fn keys(text: &str) -> BTreeSet<String> {
        strings(text).into_iter().map(|(key, _)| key).collect()
    }

    const EN: &str = include_str!("../locales/en.toml");
    const ZH: &str = include_str!("../locales/zh-CN.toml");

    /// The static tables build.rs makes serve every string of the catalogue files, read here on their own
    /// with the toml crate: each key gives its text in its locale, and nothing else is found.
    #[test]
    fn the_static_catalogues_serve_every_string_of_the_files() {
        use rust_i18n::Backend as _;
        assert_eq!(Catalogues.available_locales(), ["en", "zh-CN"]);
        for (locale, file) in [("en", EN), ("zh-CN", ZH)] {
            let strings = strings(file);
            assert!(strings.len() > 1000, "{locale}: {} strings", strings.len());
            for (key, text) in &strings {
                assert_eq!(
                    Catalogues.translate(locale, key),
                    Some(text.as_str()),
                    "{locale} {key}"
                );
            }
            assert_eq!(Catalogues.translate(locale, "no.such.key"), None);
            assert_eq!(Catalogues.translate(locale, ""), None);
        }
        assert_eq!(Catalogues.translate("fr", "menu.quit"), None);
        assert_eq!(
            t!("menu.quit", locale = "zh-CN"),
            Catalogues.translate("zh-CN", "menu.quit").unwrap()
        );
    }

    #[test]
    fn both_catalogues_have_the_same_keys_and_placeholders() {
        let (en, zh) = (keys(EN), keys(ZH));
        let only_en: Vec<_> = en.difference(&zh).collect();
        let only_zh: Vec<_> = zh.difference(&en).collect();
        assert!(
            only_en.is_empty() && only_zh.is_empty(),
            "missing in zh-CN: {only_en:?}; missing in en: {only_zh:?}"
        );
        // The same %{placeholders} in both, so no value is dropped in translation.
        let placeholders = |s: &str| {
            let mut out = BTreeSet::new();
            let mut rest = s;
            while let Some(i) = rest.find("%{") {
                let tail = &rest[i + 2..];
                let end = tail.find('}').unwrap_or(tail.len());
                out.insert(tail[..end].to_owned());
                rest = &tail[end..];
            }
            out
        };
        for key in &en {
            let (e, z) = (
                t!(key.as_str(), locale = "en").into_owned(),
                t!(key.as_str(), locale = "zh-CN").into_owned(),
            );
            assert_eq!(placeholders(&e), placeholders(&z), "{key}: {e:?} vs {z:?}");
            assert_ne!(&e, key, "{key} is not in the catalogue");
            // Kinds are named by their product names, the same in both languages.
            let product_name = key.rsplit('.').next() == Some("title")
                && ["provider.", "notifier.", "source."]
                    .iter()
                    .any(|p| key.starts_with(p));
            if z.is_ascii() && !product_name && !e.is_empty() && e.chars().any(char::is_alphabetic)
            {
                // Names and units are the same in both; a sentence left in English is a gap.
                assert!(
                    ALIKE.contains(&key.as_str()),
                    "{key} reads the same in zh-CN ({z:?}): translate it or list it in ALIKE"
                );
            }
        }
    }

    /// Keys whose text is the same in both languages (product names, protocol words).
    const ALIKE: &[&str] = &[
        "tray.title",
        "general.english",
        "general.about",
        "status.ipv4",
        "status.ipv6",
        "records.ttl",
        "summary.ttl",
        "field.access_key_id",
        "field.access_key_secret",
        "field.secret_id",
        "field.secret_key",
        "field.secret_access_key",
        "provider.alidns.help.access_key_id",
        "provider.alidns.help.access_key_secret",
        "provider.dnspod.help.secret_key",
        "field.sendkey",
        // The names the providers' consoles show for these keys, left as shown there.
        "field.access_instance_id",
        "field.token_id",
        "field.api_id",
        "field.pushkey",
        "field.agentid",
        "field.app_token",
        "field.spt",
        "provider.dnsla.help.api_id",
        "provider.dnsla.help.api_secret",
        "provider.dnscom.help.api_key",
        "provider.nowcn.help.access_instance_id",
    ];

    /// Every `t!("…")` in the sources names a key the English catalogue has (rust-i18n would show the key).
    #[test]
    fn every_key_the_code_uses_is_in_the_catalogue() {
        let en = keys(EN);
        let mut missing = Vec::new();
        let mut used = 0;
        // `t!("key"` (possibly across lines) and `tr("key"`, not `format!("`.
        let calls =
            regex_lite::Regex::new(r#"(?:^|[^A-Za-z0-9_])(?:t!|tr)\(\s*"([^"]*)""#).unwrap();
        for (file, text) in &sources() {
            for c in calls.captures_iter(text) {
                let key = &c[1];
                used += 1;
                if !en.contains(key) {
                    missing.push(format!("{file}: {key}"));
                }
            }
        }
        // `problem(path, "key", …)` and `check.problem("field", "key", …)`: the key's message and hint.
        let problems =
            regex_lite::Regex::new(r#"problem\(\s*[^;]*?,\s*"([a-z][a-z0-9_.-]*)""#).unwrap();
        for (file, text) in &sources() {
            for c in problems.captures_iter(text) {
                for part in ["msg", "hint"] {
                    let key = format!("{}.{part}", &c[1]);
                    used += 1;
                    if !en.contains(&key) {
                        missing.push(format!("{file}: {key}"));
                    }
                }
            }
        }
        assert!(used > 100, "only {used} uses found");
        assert!(
            missing.is_empty(),
            "keys not in locales/en.toml: {missing:?}"
        );
    }

    /// No sentence reaches the user around the catalogues: egui widgets, menu items, toasts and
    /// messages in the user-facing modules take text from `t!`, never a literal with words in it.
    #[test]
    fn no_user_visible_literal_bypasses_the_catalogues() {
        let widget = regex_lite::Regex::new(
            r#"\.(?:label|button|heading|small|strong|monospace|hint_text|on_hover_text|checkbox|selectable_value|with_title|hyperlink_to|colored_label|link|set_text)\((?:[^()";]*,\s*)*"([^"]*)""#,
        )
        .unwrap();
        let other = regex_lite::Regex::new(
            r#"(?:MenuItem::(?:with_id|new)\([^;"]*|CheckMenuItem::with_id\([^;"]*|toast\(\s*Level::\w+,\s*|summary:\s*|title:\s*|body:\s*|message = Some\()"([^"]*)""#,
        )
        .unwrap();
        // Words that read the same in every language.
        let allowed = ["IPv4", "IPv6", "A", "AAAA", "ddns-tray", "Ctrl", "English"];
        let mut found = Vec::new();
        for (file, text) in &sources() {
            let code = text.split("#[cfg(test)]").next().unwrap_or(text);
            for re in [&widget, &other] {
                for c in re.captures_iter(code) {
                    let literal = &c[1];
                    let before = c[0].trim_end_matches(&format!("\"{literal}\"")).trim_end();
                    if before.ends_with("t!(") || before.ends_with("tr(") {
                        continue;
                    }
                    let wordy = literal.chars().filter(|ch| ch.is_alphabetic()).count() > 1;
                    if wordy && !allowed.contains(&literal) && !literal.starts_with('{') {
                        found.push(format!("{file}: {:?}", &c[0]));
                    }
                }
            }
        }
        assert!(found.is_empty(), "literals shown to the user: {found:#?}");
    }

    #[test]
    fn languages_from_locale_tags() {
        for (tag, want) in [
            ("zh_CN.UTF-8", Some(Language::Chinese)),
            ("zh-Hans-CN", Some(Language::Chinese)),
            ("zh-TW", Some(Language::Chinese)),
            ("en_US.UTF-8", Some(Language::English)),
            ("C", Some(Language::English)),
            ("de_DE.UTF-8", None),
        ] {
            assert_eq!(Language::of_locale(tag), want, "{tag}");
        }
        assert_eq!(Language::parse("zh_cn"), Some(Language::Chinese));
        assert_eq!(Language::parse("EN"), Some(Language::English));
        assert_eq!(Language::parse("fr"), None);
        assert_eq!(
            t!("menu.update_now", locale = "zh-CN"),
            "立即更新",
            "the Chinese catalogue is compiled in"
        );
    }
}
