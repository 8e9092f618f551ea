//! What an importer builds before it becomes text: providers, records, detection sources, notifiers and
//! the few top-level settings, with each secret kept apart until [`Draft::render`] writes it as a reference
//! (`{ keyring = … }` or `{ env = … }`) and hands its value back for storing.

use std::fmt::Write as _;

use super::{Note, SecretMode, SecretOut};

/// A value of a kind's field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Val {
    Str(String),
    Bool(bool),
    List(Vec<Val>),
    /// An inline table (webhook headers).
    Table(Vec<(String, Val)>),
    Secret(SecretVal),
}

/// A secret as the other client held it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SecretVal {
    /// The value itself, and the setting it came from (`dns.secret of dnsconf[0]`).
    Value { value: String, from: String },
    /// Already read from an environment variable by the other client.
    Env(String),
    /// Already read from a file by the other client.
    File(String),
}

/// A secret with its value, from the setting `from`.
pub(crate) fn secret(value: &str, from: impl Into<String>) -> Val {
    Val::Secret(SecretVal::Value {
        value: value.to_owned(),
        from: from.into(),
    })
}

pub(crate) fn s(text: &str) -> Val {
    Val::Str(text.to_owned())
}

/// A provider kind and its fields, as an importer maps one.
pub(crate) type KindFields = (&'static str, Vec<(&'static str, Val)>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Provider {
    pub name: String,
    pub kind: String,
    pub fields: Vec<(String, Val)>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Record {
    pub name: String,
    pub provider: String,
    pub rtype: Option<&'static str>,
    pub ttl: Option<u32>,
    pub line: Option<String>,
    pub ipv6_host: Option<String>,
    pub ipv6_prefix_len: Option<u8>,
    pub lines: Option<Vec<String>>,
    pub provider_via_line: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Source {
    pub kind: &'static str,
    pub fields: Vec<(String, Val)>,
    pub allow_private: bool,
    pub timeout: Option<String>,
}

impl Source {
    pub fn new(kind: &'static str, fields: Vec<(&str, Val)>) -> Self {
        Self {
            kind,
            fields: fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
            allow_private: false,
            timeout: None,
        }
    }

    pub fn http(url: &str) -> Self {
        Self::new("http", vec![("url", s(url))])
    }

    pub fn interface(name: Option<&str>) -> Self {
        Self::new(
            "interface",
            name.map(|n| ("name", s(n))).into_iter().collect(),
        )
    }
}

/// Which family a source or record serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fam {
    V4,
    V6,
}

impl Fam {
    pub fn rtype(self) -> &'static str {
        match self {
            Self::V4 => "A",
            Self::V6 => "AAAA",
        }
    }
}

/// The config being built, and the notes about what was carried and what was not.
#[derive(Debug, Default)]
pub(crate) struct Draft {
    pub interval: Option<String>,
    pub max_interval: Option<String>,
    pub proxy: Option<String>,
    pub language: Option<&'static str>,
    pub detect4: Vec<Source>,
    pub detect6: Vec<Source>,
    pub providers: Vec<Provider>,
    pub records: Vec<Record>,
    pub lines: Vec<(String, String)>,
    pub notify: Vec<Provider>,
    pub carried: Vec<Note>,
    pub left_out: Vec<Note>,
    /// The sources taken into `[detect]` per family (IPv4, IPv6), by [`Draft::take_sources`].
    taken: [Option<Vec<Source>>; 2],
}

/// What [`Draft::take_sources`] made of an entry's sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Taken {
    /// The first of their family: they are `[detect]`'s now.
    First,
    /// The same as the ones taken.
    Same,
    /// Others than the ones taken: left out (the caller says so).
    Other,
}

impl Draft {
    /// [`Draft::take_sources`], noted: the first as carried into `[detect]` (for `family`, as the client
    /// names it), other ones as left out, the same ones not at all.
    pub fn take_sources_noted(
        &mut self,
        fam: Fam,
        list: Vec<Source>,
        setting: String,
        family: &str,
    ) {
        match self.take_sources(fam, list) {
            Taken::First => self.carry(
                setting,
                crate::i18n::tr("import.why.detect", &[("family", &family)]),
            ),
            Taken::Same => {}
            Taken::Other => self.leave(setting, crate::i18n::tr("import.why.detect_global", &[])),
        }
    }

    /// Our `[detect]` is global, where the other clients detect per entry: the first entry's sources of a
    /// family are taken into it, and a later entry's are only compared with them.
    pub fn take_sources(&mut self, fam: Fam, list: Vec<Source>) -> Taken {
        let slot = usize::from(fam == Fam::V6);
        match &self.taken[slot] {
            Some(taken) if *taken == list => Taken::Same,
            Some(_) => Taken::Other,
            None => {
                for src in &list {
                    self.source(fam, src.clone());
                }
                self.taken[slot] = Some(list);
                Taken::First
            }
        }
    }

    /// Adds a provider, or finds an identical one (same kind and fields) and returns its name. A new one
    /// is named `hint`, made unique.
    pub fn provider(&mut self, hint: &str, kind: &str, fields: Vec<(&str, Val)>) -> String {
        let fields: Vec<(String, Val)> =
            fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        if let Some(p) = self
            .providers
            .iter()
            .find(|p| p.kind == kind && same_fields(&p.fields, &fields))
        {
            return p.name.clone();
        }
        let taken: Vec<&str> = self.providers.iter().map(|p| p.name.as_str()).collect();
        let name = unique(&slug(hint, kind), &taken);
        self.providers.push(Provider {
            name: name.clone(),
            kind: kind.to_owned(),
            fields,
        });
        name
    }

    /// Adds a record unless the same one is there already.
    pub fn record(&mut self, record: Record) {
        if !self.records.contains(&record) {
            self.records.push(record);
        }
    }

    /// A record of `name` at `provider` of one type.
    pub fn simple(&mut self, name: &str, provider: &str, fam: Fam, ttl: Option<u32>) {
        self.record(Record {
            name: name.to_owned(),
            provider: provider.to_owned(),
            rtype: Some(fam.rtype()),
            ttl,
            ..Record::default()
        });
    }

    /// Adds a detection source for `fam` unless the same one is there already.
    pub fn source(&mut self, fam: Fam, source: Source) {
        let list = match fam {
            Fam::V4 => &mut self.detect4,
            Fam::V6 => &mut self.detect6,
        };
        if !list.contains(&source) {
            list.push(source);
        }
    }

    pub fn notifier(&mut self, hint: &str, kind: &str, fields: Vec<(&str, Val)>) {
        let taken: Vec<&str> = self.notify.iter().map(|p| p.name.as_str()).collect();
        let name = unique(&slug(hint, kind), &taken);
        self.notify.push(Provider {
            name,
            kind: kind.to_owned(),
            fields: fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
        });
    }

    /// `setting` was carried over (`why`: where it went, or how it was approximated).
    pub fn carry(&mut self, setting: impl Into<String>, why: String) {
        let note = Note {
            setting: setting.into(),
            why,
        };
        if !self.carried.contains(&note) {
            self.carried.push(note);
        }
    }

    /// `setting` could not be carried over, for `why`.
    pub fn leave(&mut self, setting: impl Into<String>, why: String) {
        let note = Note {
            setting: setting.into(),
            why,
        };
        if !self.left_out.contains(&note) {
            self.left_out.push(note);
        }
    }

    /// The config's text, with every secret written as a reference, and the secrets to store or set.
    pub fn render(&self, mode: SecretMode, header: &str) -> (String, Vec<SecretOut>) {
        let mut secrets = Vec::new();
        let mut out = String::new();
        for line in header.lines() {
            let _ = writeln!(out, "# {line}");
        }
        out.push('\n');
        let mut top = Vec::new();
        if let Some(i) = &self.interval {
            top.push(("interval", quote(i)));
        }
        if let Some(i) = &self.max_interval {
            top.push(("max_interval", quote(i)));
        }
        // The families the records need: IPv6 is off by default, IPv4 on.
        let has = |t: &str| self.records.iter().any(|r| r.rtype == Some(t));
        if !self.records.is_empty() && !has("A") {
            top.push(("ipv4", "false".into()));
        }
        if has("AAAA") {
            top.push(("ipv6", "true".into()));
        }
        if let Some(l) = self.language {
            top.push(("language", quote(l)));
        }
        if let Some(p) = &self.proxy {
            top.push(("proxy", quote(p)));
        }
        for (k, v) in &top {
            let _ = writeln!(out, "{k} = {v}");
        }
        if !top.is_empty() {
            out.push('\n');
        }
        if !self.detect4.is_empty() || !self.detect6.is_empty() {
            out.push_str("[detect]\n");
            for (key, list) in [("ipv4", &self.detect4), ("ipv6", &self.detect6)] {
                if list.is_empty() {
                    continue;
                }
                let _ = writeln!(out, "{key} = [");
                for src in list {
                    let mut fields = vec![("kind".to_owned(), s(src.kind))];
                    fields.extend(src.fields.iter().cloned());
                    if let Some(t) = &src.timeout {
                        fields.push(("timeout".into(), s(t)));
                    }
                    if src.allow_private {
                        fields.push(("allow_private".into(), Val::Bool(true)));
                    }
                    let _ = writeln!(
                        out,
                        "  {},",
                        inline(&fields, mode, "", &mut secrets, &mut Vec::new())
                    );
                }
                out.push_str("]\n");
            }
            out.push('\n');
        }
        let mut taken = Vec::new();
        for (list, entries) in [("provider", &self.providers), ("notify", &self.notify)] {
            for p in entries {
                let _ = writeln!(out, "[[{list}]]");
                let _ = writeln!(out, "name = {}", quote(&p.name));
                let _ = writeln!(out, "kind = {}", quote(&p.kind));
                let prefix = if list == "notify" {
                    format!("notify/{}", p.name)
                } else {
                    p.name.clone()
                };
                for (k, v) in &p.fields {
                    let entry = format!("{prefix}/{k}");
                    let _ = writeln!(
                        out,
                        "{} = {}",
                        key(k),
                        value(v, mode, &entry, &mut secrets, &mut taken)
                    );
                }
                out.push('\n');
                if list == "provider" {
                    self.render_records(&p.name, &mut out);
                }
            }
        }
        for (name, interface) in &self.lines {
            let _ = writeln!(
                out,
                "[[line]]\nname = {}\ninterface = {}\n",
                quote(name),
                quote(interface)
            );
        }
        while out.ends_with("\n\n") {
            out.pop();
        }
        (out, secrets)
    }

    fn render_records(&self, provider: &str, out: &mut String) {
        for r in self.records.iter().filter(|r| r.provider == provider) {
            out.push_str("[[record]]\n");
            let _ = writeln!(out, "name = {}", quote(&r.name));
            let _ = writeln!(out, "provider = {}", quote(&r.provider));
            if let Some(t) = r.rtype {
                let _ = writeln!(out, "type = {}", quote(t));
            }
            if let Some(t) = r.ttl {
                let _ = writeln!(out, "ttl = {t}");
            }
            if let Some(l) = &r.line {
                let _ = writeln!(out, "line = {}", quote(l));
            }
            if let Some(h) = &r.ipv6_host {
                let _ = writeln!(out, "ipv6_host = {}", quote(h));
            }
            if let Some(p) = r.ipv6_prefix_len {
                let _ = writeln!(out, "ipv6_prefix_len = {p}");
            }
            if let Some(lines) = &r.lines {
                let list: Vec<String> = lines.iter().map(|l| quote(l)).collect();
                let _ = writeln!(out, "lines = [{}]", list.join(", "));
            }
            if let Some(v) = r.provider_via_line {
                let _ = writeln!(out, "provider_via_line = {v}");
            }
            out.push('\n');
        }
    }
}

/// Fields alike, secrets compared by value (not by the setting they came from).
fn same_fields(a: &[(String, Val)], b: &[(String, Val)]) -> bool {
    fn same(a: &Val, b: &Val) -> bool {
        match (a, b) {
            (
                Val::Secret(SecretVal::Value { value: x, .. }),
                Val::Secret(SecretVal::Value { value: y, .. }),
            ) => x == y,
            (Val::List(x), Val::List(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
            }
            (Val::Table(x), Val::Table(y)) => same_fields(x, y),
            (x, y) => x == y,
        }
    }
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|((ka, va), (kb, vb))| ka == kb && same(va, vb))
}

/// A TOML string.
pub(crate) fn quote(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}

/// A TOML key: bare when it can be.
fn key(k: &str) -> String {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        k.to_owned()
    } else {
        quote(k)
    }
}

fn inline(
    fields: &[(String, Val)],
    mode: SecretMode,
    entry: &str,
    secrets: &mut Vec<SecretOut>,
    taken: &mut Vec<String>,
) -> String {
    let parts: Vec<String> = fields
        .iter()
        .map(|(k, v)| {
            format!(
                "{} = {}",
                key(k),
                value(v, mode, &format!("{entry}.{k}"), secrets, taken)
            )
        })
        .collect();
    format!("{{ {} }}", parts.join(", "))
}

fn value(
    v: &Val,
    mode: SecretMode,
    entry: &str,
    secrets: &mut Vec<SecretOut>,
    taken: &mut Vec<String>,
) -> String {
    match v {
        Val::Str(t) => quote(t),
        Val::Bool(b) => b.to_string(),
        Val::List(items) => {
            let parts: Vec<String> = items
                .iter()
                .map(|i| value(i, mode, entry, secrets, taken))
                .collect();
            format!("[{}]", parts.join(", "))
        }
        Val::Table(fields) => inline(fields, mode, entry, secrets, taken),
        Val::Secret(SecretVal::Env(var)) => format!("{{ env = {} }}", quote(var)),
        Val::Secret(SecretVal::File(path)) => format!("{{ file = {} }}", quote(path)),
        Val::Secret(SecretVal::Value { value, from }) => {
            let reference = match mode {
                SecretMode::Keyring => "keyring",
                SecretMode::Env => "env",
            };
            // One value (a token several providers share) is one entry.
            if let Some(same) = secrets.iter().find(|s| s.value == *value) {
                return format!("{{ {reference} = {} }}", quote(&same.name));
            }
            let (reference, name) = match mode {
                SecretMode::Keyring => ("keyring", entry.to_owned()),
                SecretMode::Env => ("env", env_name(entry, taken)),
            };
            taken.push(name.clone());
            secrets.push(SecretOut {
                name: name.clone(),
                value: value.clone(),
                from: from.clone(),
            });
            format!("{{ {reference} = {} }}", quote(&name))
        }
    }
}

/// `DDNS_<ENTRY>` in capitals, everything but letters and digits as `_`, made unique.
fn env_name(entry: &str, taken: &[String]) -> String {
    let mut base = String::from("DDNS_");
    for c in entry.chars() {
        if c.is_ascii_alphanumeric() {
            base.push(c.to_ascii_uppercase());
        } else if !base.ends_with('_') {
            base.push('_');
        }
    }
    let base = base.trim_end_matches('_').to_owned();
    let taken: Vec<&str> = taken.iter().map(String::as_str).collect();
    unique(&base, &taken)
}

/// `base`, or `base-2`, `base-3`… (`_2` for variable names) when taken.
fn unique(base: &str, taken: &[&str]) -> String {
    let sep = if base.starts_with("DDNS_") { "_" } else { "-" };
    let mut name = base.to_owned();
    let mut n = 1;
    while taken.contains(&name.as_str()) {
        n += 1;
        name = format!("{base}{sep}{n}");
    }
    name
}

/// A provider name from a hint: lower case letters, digits, `-`, `_` and `.`; `fallback` when empty.
pub(crate) fn slug(hint: &str, fallback: &str) -> String {
    let mut out = String::new();
    for c in hint.trim().chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_matches('-').to_owned();
    if out.is_empty() {
        fallback.to_owned()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_become_references_and_names_stay_unique() {
        let mut d = Draft::default();
        let a = d.provider("cf home", "cloudflare", vec![("token", secret("T1", "x"))]);
        let b = d.provider("cf home", "cloudflare", vec![("token", secret("T2", "y"))]);
        let again = d.provider("other", "cloudflare", vec![("token", secret("T1", "x"))]);
        assert_eq!((a.as_str(), b.as_str()), ("cf-home", "cf-home-2"));
        assert_eq!(again, a, "an identical provider is shared");
        d.simple("h.example.com", &a, Fam::V4, Some(60));
        let (text, secrets) = d.render(SecretMode::Env, "t");
        assert!(!text.contains("T1") && !text.contains("T2"), "{text}");
        assert!(
            text.contains("token = { env = \"DDNS_CF_HOME_TOKEN\" }"),
            "{text}"
        );
        assert!(
            text.contains("token = { env = \"DDNS_CF_HOME_2_TOKEN\" }"),
            "{text}"
        );
        assert_eq!(secrets.len(), 2);
        assert_eq!(secrets[0].value, "T1");
        let (text, secrets) = d.render(SecretMode::Keyring, "t");
        assert!(
            text.contains("token = { keyring = \"cf-home/token\" }"),
            "{text}"
        );
        assert_eq!(secrets[1].name, "cf-home-2/token");
        let parsed: toml::Table = text.parse().unwrap();
        assert_eq!(parsed["record"][0]["ttl"].as_integer(), Some(60));
    }
}
