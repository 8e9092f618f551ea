//! `inadyn.conf` (libConfuse): `key = value` settings, lists `{ a, b }`, `provider NAME[:N] { … }` and
//! `custom NAME[:N] { … }` sections, `include("file")`, comments `#`, `//` and `/* */`.

use super::draft::{Draft, Fam, KindFields, Record, Source, Val, s, secret};
use super::{ImportError, command_source, dyndns2_preset, fqdn};
use crate::i18n::tr;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Item {
    Set {
        key: String,
        values: Vec<String>,
        line: usize,
    },
    Section {
        kind: String,
        title: String,
        items: Vec<Item>,
        line: usize,
    },
    Call {
        name: String,
        args: Vec<String>,
        line: usize,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Word(String),
    Punct(char),
}

fn tokens(text: &str) -> Result<Vec<(Tok, usize)>, ImportError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let mut line = 1;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\n' => {
                line += 1;
                i += 1;
            }
            c if c.is_whitespace() => i += 1,
            '#' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '/' if chars.get(i + 1) == Some(&'/') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '/' if chars.get(i + 1) == Some(&'*') => {
                i += 2;
                while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                    if chars[i] == '\n' {
                        line += 1;
                    }
                    i += 1;
                }
                i += 2;
            }
            '=' | '{' | '}' | ',' | '(' | ')' => {
                out.push((Tok::Punct(c), line));
                i += 1;
            }
            '"' | '\'' => {
                let start = line;
                let mut value = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => {
                            return Err(ImportError::at(
                                start,
                                tr("import.error.unclosed_quote", &[("key", &value)]),
                            ));
                        }
                        Some('\\') if c == '"' && i + 1 < chars.len() => {
                            let e = chars[i + 1];
                            value.push(match e {
                                'n' => '\n',
                                't' => '\t',
                                other => other,
                            });
                            i += 2;
                        }
                        Some(q) if *q == c => {
                            i += 1;
                            break;
                        }
                        Some(ch) => {
                            if *ch == '\n' {
                                line += 1;
                            }
                            value.push(*ch);
                            i += 1;
                        }
                    }
                }
                out.push((Tok::Word(value), start));
            }
            _ => {
                let mut value = String::new();
                while i < chars.len()
                    && !chars[i].is_whitespace()
                    && !matches!(
                        chars[i],
                        '=' | '{' | '}' | ',' | '(' | ')' | '#' | '"' | '\''
                    )
                {
                    value.push(chars[i]);
                    i += 1;
                }
                out.push((Tok::Word(value), line));
            }
        }
    }
    Ok(out)
}

pub(super) fn parse(text: &str) -> Result<Vec<Item>, ImportError> {
    let toks = tokens(text)?;
    let mut pos = 0;
    let items = block(&toks, &mut pos, false)?;
    Ok(items)
}

fn expected(line: usize, what: &str) -> ImportError {
    ImportError::at(line, tr("import.error.expected", &[("what", &what)]))
}

fn block(toks: &[(Tok, usize)], pos: &mut usize, nested: bool) -> Result<Vec<Item>, ImportError> {
    let mut items = Vec::new();
    let last_line = toks.last().map_or(1, |t| t.1);
    loop {
        let Some((tok, line)) = toks.get(*pos).cloned() else {
            if nested {
                return Err(expected(last_line, "}"));
            }
            return Ok(items);
        };
        *pos += 1;
        let key = match tok {
            Tok::Punct('}') if nested => return Ok(items),
            Tok::Word(w) => w,
            Tok::Punct(p) => return Err(expected(line, &format!("a setting, not '{p}'"))),
        };
        match toks.get(*pos) {
            Some((Tok::Punct('='), _)) => {
                *pos += 1;
                let values = match toks.get(*pos) {
                    Some((Tok::Punct('{'), _)) => {
                        *pos += 1;
                        let mut values = Vec::new();
                        loop {
                            match toks.get(*pos) {
                                Some((Tok::Word(w), _)) => values.push(w.clone()),
                                Some((Tok::Punct(','), _)) => {}
                                Some((Tok::Punct('}'), _)) => {
                                    *pos += 1;
                                    break;
                                }
                                _ => return Err(expected(line, "}")),
                            }
                            *pos += 1;
                        }
                        values
                    }
                    Some((Tok::Word(w), _)) => {
                        *pos += 1;
                        vec![w.clone()]
                    }
                    _ => return Err(expected(line, &format!("a value for {key}"))),
                };
                items.push(Item::Set { key, values, line });
            }
            Some((Tok::Punct('('), _)) => {
                *pos += 1;
                let mut args = Vec::new();
                loop {
                    match toks.get(*pos) {
                        Some((Tok::Word(w), _)) => args.push(w.clone()),
                        Some((Tok::Punct(','), _)) => {}
                        Some((Tok::Punct(')'), _)) => {
                            *pos += 1;
                            break;
                        }
                        _ => return Err(expected(line, ")")),
                    }
                    *pos += 1;
                }
                items.push(Item::Call {
                    name: key,
                    args,
                    line,
                });
            }
            Some((Tok::Word(title), _))
                if matches!(toks.get(*pos + 1), Some((Tok::Punct('{'), _))) =>
            {
                let title = title.clone();
                *pos += 2;
                let inner = block(toks, pos, true)?;
                items.push(Item::Section {
                    kind: key,
                    title,
                    items: inner,
                    line,
                });
            }
            _ => return Err(expected(line, &format!("'=' after {key}"))),
        }
    }
}

fn get<'a>(items: &'a [Item], key: &str) -> Option<&'a [String]> {
    items.iter().rev().find_map(|i| match i {
        Item::Set { key: k, values, .. } if k == key => Some(values.as_slice()),
        _ => None,
    })
}

fn one<'a>(items: &'a [Item], key: &str) -> &'a str {
    get(items, key)
        .and_then(|v| v.first())
        .map_or("", String::as_str)
}

fn truthy(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" => Some(true),
        "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

const GLOBAL_UNUSED: &[&str] = &[
    "user-agent",
    "secure-ssl",
    "broken-rtc",
    "ca-trust-file",
    "fake-address",
    "iterations",
    "cache-dir",
];

pub(super) fn convert(text: &str) -> Result<Draft, ImportError> {
    let items = parse(text)?;
    let mut d = Draft::default();
    let period = one(&items, "period");
    if !period.is_empty() {
        match period.parse::<u64>() {
            Ok(n) => {
                d.interval = Some(format!("{n}s"));
                d.carry(format!("period = {period}"), tr("import.why.interval", &[]));
            }
            Err(_) => return Err(ImportError::field("period", tr("import.error.number", &[]))),
        }
    }
    let forced = one(&items, "forced-update");
    if !forced.is_empty() {
        match forced.parse::<u64>() {
            Ok(n) => {
                d.max_interval = Some(format!("{n}s"));
                d.carry(
                    format!("forced-update = {forced}"),
                    tr("import.why.max_interval", &[]),
                );
            }
            Err(_) => {
                return Err(ImportError::field(
                    "forced-update",
                    tr("import.error.number", &[]),
                ));
            }
        }
    }
    let allow_v6 = truthy(one(&items, "allow-ipv6")).unwrap_or(false);
    let private = truthy(one(&items, "verify-address")) == Some(false);
    if private {
        d.carry(
            "verify-address = false",
            tr("import.why.allow_private", &[]),
        );
    }
    for key in GLOBAL_UNUSED {
        if let Some(v) = get(&items, key) {
            d.leave(
                format!("{key} = {}", v.join(", ")),
                tr("import.why.not_used", &[]),
            );
        }
    }
    let global_iface = one(&items, "iface").to_owned();
    for item in &items {
        if let Item::Section {
            kind,
            title,
            items: inner,
            line,
        } = item
        {
            let at = format!("{kind} {title} (line {line})");
            section(
                &mut d,
                &at,
                kind,
                title,
                inner,
                &global_iface,
                allow_v6,
                private,
            );
        }
    }
    Ok(d)
}

/// Which plugin a `provider` title names: exact names first, then the part that tells it (inadyn's loose
/// match).
fn plugin(title: &str) -> String {
    title
        .split(':')
        .next()
        .unwrap_or(title)
        .to_ascii_lowercase()
}

#[allow(clippy::too_many_arguments)]
fn section(
    d: &mut Draft,
    at: &str,
    kind: &str,
    title: &str,
    items: &[Item],
    global_iface: &str,
    allow_v6: bool,
    private: bool,
) {
    let username = one(items, "username");
    let password = one(items, "password");
    let hostnames: Vec<String> = get(items, "hostname")
        .or_else(|| get(items, "alias"))
        .map(<[String]>::to_vec)
        .unwrap_or_default();
    let ssl = truthy(one(items, "ssl")).unwrap_or(true);
    for i in items {
        if let Item::Call { name, args, line } = i {
            d.leave(
                format!("{name}({}) ({at}, line {line})", args.join(", ")),
                tr("import.why.include", &[]),
            );
        }
    }
    let plugin = plugin(title);
    // `default@dynv6.com` is `ipv6@dynv6.com`'s alias.
    let mut fam =
        if plugin.starts_with("ipv6@") || plugin == "default@dynv6.com" || plugin == "dynv6.com" {
            Fam::V6
        } else {
            Fam::V4
        };
    let mut domain: Option<String> = None;
    let creds = Creds {
        username,
        password,
        at,
    };
    let result = if kind == "custom" {
        custom(items, username, password, ssl, &mut domain, at)
    } else {
        plugin_provider(&plugin, items, &creds, &hostnames, &mut domain)
    };
    let (pkind, fields) = match result {
        Ok(p) => p,
        Err(why) => {
            d.leave(format!("{at}: {}", hostnames.join(", ")), why);
            return;
        }
    };
    if pkind == "cloudflare" && !username.is_empty() {
        d.carry(
            format!("{at}: username = {username}"),
            tr("import.why.zone_found", &[("zone", &username)]),
        );
    }
    let list = section_sources(d, at, items, global_iface, ssl, private, &mut fam);
    if fam == Fam::V6 && !allow_v6 {
        d.leave(
            format!("{at}: {}", hostnames.join(", ")),
            tr("import.why.allow_ipv6", &[]),
        );
        return;
    }
    if pkind == "namecheap" && fam == Fam::V6 {
        d.leave(
            format!("{at}: {}", hostnames.join(", ")),
            tr("import.why.namecheap_v6", &[]),
        );
        return;
    }
    if !list.is_empty() {
        d.take_sources_noted(fam, list, format!("{at}: checkip"), fam.rtype());
    }
    for key in ["wildcard", "user-agent"] {
        if let Some(v) = get(items, key) {
            d.leave(
                format!("{at}: {key} = {}", v.join(", ")),
                tr("import.why.not_used", &[]),
            );
        }
    }
    // -1 (the plugin's default) does not parse; 1 is Cloudflare's "automatic".
    let ttl = one(items, "ttl")
        .parse::<u32>()
        .ok()
        .filter(|t| !(pkind == "cloudflare" && *t == 1));
    let provider = d.provider(&title.replace(':', "-"), pkind, fields);
    for host in &hostnames {
        let h = fqdn(host);
        if pkind == "cloudflare" && h.len() == 32 && h.chars().all(|c| c.is_ascii_hexdigit()) {
            d.leave(format!("{at}: {host}"), tr("import.why.record_id", &[]));
            continue;
        }
        let name = match domain.as_deref() {
            Some(dom) if h == "@" || h == dom => dom.to_owned(),
            Some(dom) if !h.ends_with(&format!(".{dom}")) => format!("{h}.{dom}"),
            _ => h,
        };
        d.record(Record {
            name,
            provider: provider.clone(),
            rtype: Some(fam.rtype()),
            ttl,
            ..Record::default()
        });
    }
}

/// A section's detection: `iface`, `checkip-command`, `checkip-server`; the plugin's own default otherwise
/// (then none here: ddns-tray's own). An IPv6-only checkip server makes the section's records AAAA.
fn section_sources(
    d: &mut Draft,
    at: &str,
    items: &[Item],
    global_iface: &str,
    ssl: bool,
    private: bool,
    fam: &mut Fam,
) -> Vec<Source> {
    let iface = match one(items, "iface") {
        "" => global_iface,
        i => i,
    };
    let command = one(items, "checkip-command");
    let server = one(items, "checkip-server");
    let mut list = Vec::new();
    if !iface.is_empty() {
        list.push(Source::interface(Some(iface)));
    } else if !command.is_empty() {
        match command_source(command) {
            Ok((src, note)) => {
                if let Some(note) = note {
                    d.carry(format!("{at}: checkip-command"), note);
                }
                list.push(src);
            }
            Err(why) => d.leave(format!("{at}: checkip-command = {command}"), why),
        }
    } else if !server.is_empty() && server != "default" {
        let path = match one(items, "checkip-path") {
            "" => "/",
            p => p,
        };
        let scheme = if truthy(one(items, "checkip-ssl")).unwrap_or(ssl) {
            "https"
        } else {
            "http"
        };
        let url = format!("{scheme}://{server}{path}");
        if server.contains("dns64") || server.contains("ipv6") || server.starts_with("v6.") {
            *fam = Fam::V6;
        }
        if path.ends_with("/cdn-cgi/trace") {
            list.push(Source::new("cloudflare-trace", vec![("url", s(&url))]));
        } else {
            list.push(Source::http(&url));
        }
    } else if server.is_empty() {
        d.carry(
            format!("{at}: checkip"),
            tr("import.why.default_detection", &[]),
        );
    }
    if private {
        for src in &mut list {
            src.allow_private = true;
        }
    }
    list
}

/// A section's `username` and `password`, and where they are.
struct Creds<'a> {
    username: &'a str,
    password: &'a str,
    at: &'a str,
}

impl Creds<'_> {
    fn user(&self) -> Result<Val, String> {
        need("username", self.username)?;
        Ok(secret(self.username, format!("{}: username", self.at)))
    }

    fn pass(&self) -> Result<Val, String> {
        need("password", self.password)?;
        Ok(secret(self.password, format!("{}: password", self.at)))
    }

    fn plain_user(&self) -> Result<Val, String> {
        need("username", self.username)?;
        Ok(s(self.username))
    }

    /// A user name when there is one, and the password.
    fn basic(&self, kind: &'static str) -> Result<KindFields, String> {
        let mut fields = Vec::new();
        if !self.username.is_empty() {
            fields.push(("username", s(self.username)));
        }
        fields.push(("password", self.pass()?));
        Ok((kind, fields))
    }
}

fn need(field: &str, value: &str) -> Result<(), String> {
    if value.is_empty() {
        Err(tr("import.why.empty_credential", &[("field", &field)]))
    } else {
        Ok(())
    }
}

/// Plugins speaking dyndns2 with a user name and password: a part of the plugin's name, our kind.
const BASIC_PLUGINS: &[(&str, &str)] = &[
    ("dyndns.org", "dyn"),
    ("dnsomatic", "dnsomatic"),
    ("no-ip", "noip"),
    ("noip", "noip"),
    ("dynu", "dynu"),
    ("loopia", "loopia"),
    ("selfhost", "selfhost"),
    ("spdyn", "spdyn"),
    ("strato", "strato"),
    ("all-inkl", "allinkl"),
    ("infomaniak", "infomaniak"),
    ("changeip", "changeip"),
    ("ipv64", "ipv64"),
];

/// A `provider` section's plugin as our kind, or why there is none.
fn plugin_provider(
    plugin: &str,
    items: &[Item],
    c: &Creds<'_>,
    hostnames: &[String],
    domain: &mut Option<String>,
) -> Result<KindFields, String> {
    let has = |p: &str| plugin.contains(p);
    if has("cloudflare") {
        let mut fields = vec![("token", c.pass()?)];
        if let Some(p) = truthy(one(items, "proxied")) {
            fields.push(("proxied", Val::Bool(p)));
        }
        return Ok(("cloudflare", fields));
    }
    if has("tunnelbroker") || plugin == "ipv6@he.net" || plugin == "ipv6tb@he.net" {
        return Err(tr("import.why.tunnelbroker", &[]));
    }
    if has("he.net") {
        let mut fields = Vec::new();
        if !c.username.is_empty() && !hostnames.iter().any(|h| fqdn(h) == fqdn(c.username)) {
            fields.push(("username", s(c.username)));
        }
        fields.push(("password", c.pass()?));
        return Ok(("he", fields));
    }
    if plugin == "dyndns" {
        return c.basic("dyn");
    }
    if let Some((_, kind)) = BASIC_PLUGINS.iter().find(|(p, _)| has(p)) {
        return c.basic(kind);
    }
    Ok(match plugin {
        p if p.contains("duckdns") => ("duckdns", vec![("token", c.user()?)]),
        p if p.contains("desec") => ("desec", vec![("token", c.pass()?)]),
        p if p.contains("dynv6") => ("dynv6", vec![("token", c.user()?)]),
        p if p.contains("porkbun") => (
            "porkbun",
            vec![("api_key", c.user()?), ("secret_api_key", c.pass()?)],
        ),
        p if p.contains("namecheap") => {
            need("username", c.username)?;
            let dom = fqdn(c.username);
            *domain = Some(dom.clone());
            (
                "namecheap",
                vec![("password", c.pass()?), ("domain", s(&dom))],
            )
        }
        p if p.contains("dnspod") => (
            "dnspod-token",
            vec![("token_id", c.plain_user()?), ("token", c.pass()?)],
        ),
        p if p.contains("easydns") => (
            "easydns",
            vec![("username", c.plain_user()?), ("token", c.pass()?)],
        ),
        p if p.contains("zoneedit") => (
            "zoneedit",
            vec![("username", c.plain_user()?), ("token", c.pass()?)],
        ),
        p if p.contains("freedns") => return Err(tr("import.why.freedns_login", &[])),
        other => return Err(tr("import.why.no_kind", &[("kind", &other)])),
    })
}

/// A `custom` section: a known service behind its server, a dyndns2 server, or a webhook.
fn custom(
    items: &[Item],
    username: &str,
    password: &str,
    ssl: bool,
    domain: &mut Option<String>,
    at: &str,
) -> Result<KindFields, String> {
    let server = one(items, "ddns-server");
    let path = one(items, "ddns-path");
    let host = server.split([':', '/']).next().unwrap_or(server);
    let scheme = if ssl { "https" } else { "http" };
    if password.is_empty() {
        return Err(tr("import.why.empty_credential", &[("field", &"password")]));
    }
    let pass = || secret(password, format!("{at}: password"));
    let basic = |kind: &'static str, server: Option<String>| {
        let mut f = Vec::new();
        if let Some(u) = server {
            f.push(("server", s(&u)));
        }
        if !username.is_empty() {
            f.push(("username", s(username)));
        }
        f.push(("password", pass()));
        (kind, f)
    };
    if host == "dynamicdns.park-your-domain.com" {
        if username.is_empty() {
            return Err(tr("import.why.empty_credential", &[("field", &"username")]));
        }
        *domain = Some(fqdn(username));
        return Ok((
            "namecheap",
            vec![("password", pass()), ("domain", s(&fqdn(username)))],
        ));
    }
    if path.starts_with("/nic/update") {
        if let Some(kind) = dyndns2_preset(host) {
            return Ok(basic(kind, None));
        }
        return Ok(basic(
            "dyndns2",
            Some(format!("{scheme}://{server}/nic/update")),
        ));
    }
    if server.is_empty() {
        return Err(tr(
            "import.why.empty_credential",
            &[("field", &"ddns-server")],
        ));
    }
    if path.contains("%u") || path.contains("%p") || super::credential_in(path).is_some() {
        return Err(tr(
            "import.why.credential_in_request",
            &[("field", &"ddns-path")],
        ));
    }
    let mut url = format!(
        "{scheme}://{server}{}",
        path.replace("%h", "{name}").replace("%i", "{ip}")
    );
    if !path.contains("%h") && !path.contains("%i") {
        url.push_str(if truthy(one(items, "append-myip")) == Some(true) {
            "{ip}"
        } else {
            "{name}"
        });
    }
    let auth = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        format!("{username}:{password}"),
    );
    let mut f = vec![
        ("url", s(&url)),
        (
            "headers",
            Val::Table(vec![(
                "Authorization".into(),
                secret(
                    &format!("Basic {auth}"),
                    format!("{at}: username, password"),
                ),
            )]),
        ),
    ];
    let responses: Vec<String> = get(items, "ddns-response").map_or_else(
        || {
            ["good", "OK", "true", "success", "updated"]
                .map(String::from)
                .to_vec()
        },
        <[String]>::to_vec,
    );
    let responses: Vec<String> = responses
        .iter()
        .filter(|r| !r.is_empty())
        .map(|r| escape(r))
        .collect();
    if !responses.is_empty() {
        f.push(("success_regex", s(&responses.join("|"))));
    }
    Ok(("webhook", f))
}

/// A literal as a regex.
fn escape(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_sections_lists_includes_and_comments() {
        let text = "period = 300 # seconds\n/* a\n block */ allow-ipv6 = true\n\
                    provider cloudflare.com:1 {\n  // zone\n  username = example.com\n\
                    hostname = { \"a.example.com\", b.example.com }\n  include(\"/etc/x\")\n\
                    password = 'p#w'\n}\n";
        let items = parse(text).unwrap();
        assert_eq!(items.len(), 3, "{items:?}");
        assert_eq!(
            items[1],
            Item::Set {
                key: "allow-ipv6".into(),
                values: vec!["true".into()],
                line: 3
            }
        );
        let Item::Section {
            kind,
            title,
            items: inner,
            line,
        } = &items[2]
        else {
            panic!("{items:?}");
        };
        assert_eq!(
            (kind.as_str(), title.as_str(), *line),
            ("provider", "cloudflare.com:1", 4)
        );
        assert_eq!(
            get(inner, "hostname").unwrap(),
            ["a.example.com", "b.example.com"]
        );
        assert_eq!(one(inner, "password"), "p#w");
        assert!(
            matches!(&inner[2], Item::Call { name, args, .. } if name == "include" && args == &["/etc/x"])
        );
    }

    #[test]
    fn broken_files_name_their_line() {
        let e = parse("period = 300\nprovider x {\n username = a\n").unwrap_err();
        assert_eq!(e.line, Some(3), "{e:?}");
        let e = parse("period 300\n").unwrap_err();
        assert_eq!(e.line, Some(1), "{e:?}");
        let e = parse("a = \"open\n\n").unwrap_err();
        assert_eq!(e.line, Some(1), "{e:?}");
    }

    #[test]
    fn a_custom_section_without_credentials_in_its_path_becomes_a_webhook() {
        let d = convert(
            "custom mine {\n username = u\n password = pw\n ddns-server = up.example.org\n\
             ddns-path = \"/set?h=%h&a=%i\"\n ddns-response = { ok, \"good.\" }\n hostname = h.example.org\n}\n",
        )
        .unwrap();
        let p = &d.providers[0];
        assert_eq!(p.kind, "webhook");
        assert_eq!(
            p.fields[0].1,
            s("https://up.example.org/set?h={name}&a={ip}")
        );
        assert_eq!(p.fields[2].1, s("ok|good\\."));
        let (text, secrets) = d.render(super::super::SecretMode::Env, "");
        assert!(!text.contains("pw") && !text.contains("dTpwdw"), "{text}");
        assert_eq!(secrets[0].value, "Basic dTpwdw==");
    }
}
