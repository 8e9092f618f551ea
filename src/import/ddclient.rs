//! `ddclient.conf`: logical lines `[opt=value[, opt=value]…] [host[,host…] [login [password]]]`, `\`
//! continuations, `#` comments (not inside a `…password=` value), options on a line without hosts set
//! globals for every later host. Each host gets its provider from `protocol` (and `server` for dyndns2),
//! its records from `usev4`/`usev6`/`use`.

use std::collections::BTreeMap;

use super::draft::{Draft, Fam, Record, Source, Taken, Val, s, secret};
use super::{ImportError, command_source, dyndns2_preset, fqdn};
use crate::i18n::tr;

/// One logical line: its options in order, the positional words, and the line it starts on.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Logical {
    pub line: usize,
    pub options: Vec<(String, String)>,
    pub words: Vec<String>,
}

/// Settings about how ddclient itself runs, which ddns-tray does its own way.
const PROCESS: &[&str] = &[
    "syslog",
    "pid",
    "foreground",
    "file",
    "cache",
    "exec",
    "debug",
    "verbose",
    "quiet",
    "test",
    "force",
    "facility",
    "priority",
    "max-warn",
    "timeout",
    "jitter",
    "min-interval",
    "min-error-interval",
    "ssl_ca_dir",
    "ssl_ca_file",
    "redirect",
];

/// Options a host's detection reads.
const DETECTION: &[&str] = &[
    "use",
    "usev4",
    "usev6",
    "web",
    "webv4",
    "webv6",
    "if",
    "ifv4",
    "ifv6",
    "cmd",
    "cmdv4",
    "cmdv6",
    "web-skip",
    "webv4-skip",
    "webv6-skip",
    "cmd-skip",
    "fw",
    "fwv4",
    "fwv6",
    "fw-login",
    "fw-password",
    "fw-skip",
    "ip",
    "ipv4",
    "ipv6",
];

/// Splits the file into logical lines.
pub(super) fn logical_lines(text: &str) -> Result<Vec<Logical>, ImportError> {
    let mut out = Vec::new();
    let mut pending = String::new();
    let mut start = 0;
    for (n, raw) in text.lines().enumerate() {
        let line = strip_comment(raw);
        let line = line.trim_end();
        if pending.is_empty() {
            start = n + 1;
        }
        if let Some(head) = line.strip_suffix('\\') {
            pending.push_str(head);
            pending.push(' ');
            continue;
        }
        pending.push_str(line);
        let whole = std::mem::take(&mut pending);
        if !whole.trim().is_empty() {
            out.push(parse_logical(whole.trim(), start)?);
        }
    }
    if !pending.trim().is_empty() {
        out.push(parse_logical(pending.trim(), start)?);
    }
    Ok(out)
}

/// The line without its `#` comment: quotes protect, and so does an unquoted `…password=` value (ddclient
/// reads it up to the next space).
fn strip_comment(line: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::new();
    let mut quote = None;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match quote {
            Some(q) if c == q => quote = None,
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '#' => {
                let before: String = chars[..i].iter().collect();
                let in_password = before
                    .rsplit([' ', '\t', ','])
                    .next()
                    .and_then(|w| w.split_once('='))
                    .is_some_and(|(k, v)| k.ends_with("password") && !v.is_empty());
                if !in_password {
                    break;
                }
            }
            _ => {}
        }
        out.push(c);
        i += 1;
    }
    out
}

fn parse_logical(text: &str, line: usize) -> Result<Logical, ImportError> {
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let mut options = Vec::new();
    let skip = |i: &mut usize| {
        while *i < chars.len() && (chars[*i].is_whitespace() || chars[*i] == ',') {
            *i += 1;
        }
    };
    loop {
        skip(&mut i);
        // An option: a name, `=`, a value.
        let mut j = i;
        while j < chars.len()
            && (chars[j].is_ascii_alphanumeric() || chars[j] == '_' || chars[j] == '-')
        {
            j += 1;
        }
        if j == i || j >= chars.len() || chars[j] != '=' || !chars[i].is_ascii_alphabetic() {
            break;
        }
        let key: String = chars[i..j].iter().collect::<String>().to_ascii_lowercase();
        j += 1;
        let mut value = String::new();
        if j < chars.len() && (chars[j] == '\'' || chars[j] == '"') {
            let q = chars[j];
            j += 1;
            let mut closed = false;
            while j < chars.len() {
                match chars[j] {
                    '\\' if j + 1 < chars.len() => {
                        value.push(chars[j + 1]);
                        j += 2;
                        continue;
                    }
                    c if c == q => {
                        closed = true;
                        j += 1;
                        break;
                    }
                    c => value.push(c),
                }
                j += 1;
            }
            if !closed {
                return Err(ImportError::at(
                    line,
                    tr("import.error.unclosed_quote", &[("key", &key)]),
                ));
            }
        } else {
            let password = key.ends_with("password");
            while j < chars.len() && !chars[j].is_whitespace() && (password || chars[j] != ',') {
                if chars[j] == '\\' && j + 1 < chars.len() {
                    j += 1;
                }
                value.push(chars[j]);
                j += 1;
            }
        }
        options.push((key, value));
        i = j;
    }
    // The rest: hosts (commas, possibly with spaces), then login and password.
    let rest: String = chars[i.min(chars.len())..].iter().collect();
    let rest = regex_lite::Regex::new(r"\s*,\s*")
        .unwrap()
        .replace_all(rest.trim(), ",")
        .into_owned();
    let words = rest.split_whitespace().map(str::to_owned).collect();
    Ok(Logical {
        line,
        options,
        words,
    })
}

/// A host and its settings (the globals so far, then its line's).
struct Host {
    name: String,
    line: usize,
    opts: BTreeMap<String, String>,
}

pub(super) fn convert(text: &str) -> Result<Draft, ImportError> {
    let mut d = Draft::default();
    let mut globals: BTreeMap<String, String> = BTreeMap::new();
    let mut hosts: Vec<Host> = Vec::new();
    for logical in logical_lines(text)? {
        if logical.words.is_empty() {
            for (k, v) in logical.options {
                globals.insert(k, v);
            }
            continue;
        }
        let mut opts = globals.clone();
        for (k, v) in &logical.options {
            opts.insert(k.clone(), v.clone());
        }
        if let Some(login) = logical.words.get(1) {
            opts.insert("login".into(), login.clone());
        }
        if let Some(password) = logical.words.get(2) {
            opts.insert("password".into(), password.clone());
        }
        let mut names: Vec<String> = logical.words[0]
            .split(',')
            .filter(|h| !h.is_empty())
            .map(str::to_owned)
            .collect();
        if let Some(h) = opts.remove("host") {
            names.extend(h.split(',').filter(|h| !h.is_empty()).map(str::to_owned));
        }
        for name in names {
            if !hosts.iter().any(|h| h.name == name) {
                hosts.push(Host {
                    name,
                    line: logical.line,
                    opts: opts.clone(),
                });
            }
        }
    }
    globals_of(&mut d, &globals);
    for host in &hosts {
        one_host(&mut d, host);
    }
    Ok(d)
}

/// The settings that are ddns-tray's top level: how often, how long at most, the proxy.
fn globals_of(d: &mut Draft, g: &BTreeMap<String, String>) {
    if let Some(daemon) = g.get("daemon") {
        match duration(daemon) {
            Some(i) => {
                d.carry(format!("daemon={daemon}"), tr("import.why.interval", &[]));
                d.interval = Some(i);
            }
            None => d.leave(format!("daemon={daemon}"), tr("import.why.bad_value", &[])),
        }
    }
    if let Some(max) = g.get("max-interval")
        && let Some(m) = duration(max)
    {
        {
            d.max_interval = Some(m);
            d.carry(
                format!("max-interval={max}"),
                tr("import.why.max_interval", &[]),
            );
        }
    }
    if let Some(proxy) = g.get("proxy").filter(|p| !p.is_empty()) {
        let url = if proxy.contains("://") {
            proxy.clone()
        } else {
            format!("http://{proxy}")
        };
        d.carry(format!("proxy={proxy}"), tr("import.why.proxy", &[]));
        d.proxy = Some(url);
    }
    for key in ["mail", "mail-failure", "mail-from"] {
        if let Some(v) = g.get(key) {
            d.leave(format!("{key}={v}"), tr("import.why.mail", &[]));
        }
    }
    if let Some(v) = g.get("postscript") {
        d.leave(format!("postscript={v}"), tr("import.why.postscript", &[]));
    }
    for key in PROCESS {
        if let Some(v) = g.get(*key) {
            d.leave(format!("{key}={v}"), tr("import.why.process", &[]));
        }
    }
}

/// ddclient's delays: `300`, `5m`, `1h`, `25d`.
fn duration(text: &str) -> Option<String> {
    let t = text.trim();
    let (num, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: u64 = num.parse().ok()?;
    let unit = match unit {
        "" | "s" => "s",
        "m" => "m",
        "h" => "h",
        "d" => "d",
        _ => return None,
    };
    Some(format!("{n}{unit}"))
}

/// The URL of a builtin `web=` name, or the value as a URL.
fn web_url(value: &str, ssl: bool) -> (String, bool) {
    const BUILTIN: &[(&str, &str, bool)] = &[
        ("dyndns", "http://checkip.dyndns.org/", true),
        ("dynu", "https://checkip.dynu.com/", false),
        (
            "freedns",
            "https://freedns.afraid.org/dynamic/check.php",
            false,
        ),
        ("he", "https://checkip.dns.he.net/", false),
        ("he.net", "https://checkip.dns.he.net/", false),
        ("ip4only.me", "https://ip4only.me/api/", false),
        ("ip6only.me", "https://ip6only.me/api/", false),
        ("ipify-ipv4", "https://api.ipify.org/", false),
        ("ipify-ipv6", "https://api6.ipify.org/", false),
        ("loopia", "https://dns.loopia.se/checkip/checkip.php", true),
        (
            "myonlineportal",
            "https://myonlineportal.net/checkip",
            false,
        ),
        ("noip-ipv4", "http://ip1.dynupdate.no-ip.com/", false),
        ("noip-ipv6", "http://ip1.dynupdate6.no-ip.com/", false),
        ("desec-ipv4", "https://checkipv4.dedyn.io/", false),
        ("desec-ipv6", "https://checkipv6.dedyn.io/", false),
        (
            "joker-ipv4",
            "https://ipv4.svc.joker.com/nic/checkip",
            false,
        ),
        (
            "joker-ipv6",
            "https://ipv6.svc.joker.com/nic/checkip",
            false,
        ),
        (
            "nsupdate.info-ipv4",
            "https://ipv4.nsupdate.info/myip",
            false,
        ),
        (
            "nsupdate.info-ipv6",
            "https://ipv6.nsupdate.info/myip",
            false,
        ),
        ("updatedip", "https://checkip.updatedip.com", false),
        (
            "zoneedit",
            "https://dynamic.zoneedit.com/checkip.html",
            false,
        ),
    ];
    if let Some((_, url, skip)) = BUILTIN.iter().find(|(n, _, _)| *n == value) {
        return ((*url).to_owned(), *skip);
    }
    if value.contains("://") {
        (value.to_owned(), false)
    } else {
        let scheme = if ssl { "https" } else { "http" };
        (format!("{scheme}://{value}"), false)
    }
}

/// The detection source of one family of a host, `Ok(None)` when the family is off, or why none.
fn source_of(
    o: &BTreeMap<String, String>,
    fam: Fam,
    ssl: bool,
    notes: &mut Vec<(String, String)>,
) -> Result<Option<Source>, String> {
    let (key, v) = match fam {
        Fam::V4 => ("usev4", "v4"),
        Fam::V6 => ("usev6", "v6"),
    };
    let get = |k: &str| o.get(k).map(String::as_str).unwrap_or_default();
    let strategy = get(key);
    let legacy = get("use");
    let (how, suffix) = match (strategy, fam) {
        ("" | "disabled", Fam::V4) if !legacy.is_empty() && strategy.is_empty() => (legacy, ""),
        ("" | "disabled", _) => return Ok(None),
        (s, _) => (s.strip_suffix(v).unwrap_or(s), v),
    };
    let opt = |base: &str| get(&format!("{base}{suffix}")).to_owned();
    Ok(Some(match how {
        "web" => {
            let default = match (suffix, fam) {
                ("", _) => "dyndns",
                (_, Fam::V4) => "ipify-ipv4",
                (_, Fam::V6) => "ipify-ipv6",
            };
            let name = opt("web");
            let name = if name.is_empty() {
                default.to_owned()
            } else {
                name
            };
            let (url, needs_skip) = web_url(&name, ssl);
            let skip = opt("web").is_empty().then(String::new).unwrap_or_default();
            let skip_set = !get(&format!("web{suffix}-skip")).is_empty();
            if needs_skip || skip_set || !skip.is_empty() {
                notes.push((
                    format!("web{suffix}-skip"),
                    tr("import.why.web_skip", &[("url", &url)]),
                ));
            }
            Source::http(&url)
        }
        "if" => {
            let name = opt("if");
            let name = match (name.as_str(), suffix) {
                ("", "") => "ppp0".to_owned(),
                ("" | "default", _) => String::new(),
                (n, _) => n.to_owned(),
            };
            Source::interface((!name.is_empty()).then_some(name.as_str()))
        }
        "cmd" => {
            let cmd = opt("cmd");
            if cmd.is_empty() {
                return Err(tr("import.why.no_detection", &[]));
            }
            if !get("cmd-skip").is_empty() {
                notes.push(("cmd-skip".into(), tr("import.why.cmd_skip", &[])));
            }
            let (src, note) = command_source(&cmd)?;
            if let Some(note) = note {
                notes.push((format!("cmd{suffix}={cmd}"), note));
            }
            src
        }
        "ip" => return Err(tr("import.why.static_ip", &[])),
        _ => return Err(tr("import.why.router_scraper", &[])),
    }))
}

/// A host's provider: kind, fields, and the domain its names are relative to (Namecheap).
type Mapped = (&'static str, Vec<(&'static str, Val)>, Option<String>);

/// Where a host's setting is, for the notes and the secrets' origin.
fn at(host: &Host, key: &str) -> String {
    format!("{key} ({}, line {})", host.name, host.line)
}

/// The host's password: `password_env` names a variable; an unquoted trailing comma is ddclient's bug.
fn password(host: &Host) -> Result<Val, String> {
    if let Some(var) = host.opts.get("password_env") {
        return Ok(Val::Secret(super::draft::SecretVal::Env(var.clone())));
    }
    let p = opt(host, "password");
    if p.is_empty() {
        return Err(tr("import.why.empty_credential", &[("field", &"password")]));
    }
    Ok(secret(
        p.strip_suffix(',').unwrap_or(p),
        at(host, "password"),
    ))
}

/// `login`, required.
fn login(host: &Host) -> Result<&str, String> {
    match opt(host, "login") {
        "" => Err(tr("import.why.empty_credential", &[("field", &"login")])),
        l => Ok(l),
    }
}

/// Why a host's protocol has no provider here, or its kind and fields.
fn provider_of(host: &Host, ssl: bool) -> Result<Mapped, String> {
    let login_opt = opt(host, "login");
    let protocol = match opt(host, "protocol") {
        "" => "dyndns2",
        p => p,
    };
    let with_user = |kind, mut fields: Vec<(&'static str, Val)>| {
        if !login_opt.is_empty() {
            fields.insert(0, ("username", s(login_opt)));
        }
        (kind, fields, None)
    };
    Ok(match protocol {
        "dyndns2" => {
            let server = match opt(host, "server") {
                "" => "members.dyndns.org",
                other => other,
            };
            let script = opt(host, "script");
            let path_default = script.is_empty() || script == "/nic/update";
            let preset = dyndns2_preset(server).filter(|_| path_default && !server.contains('/'));
            if let Some(kind) = preset {
                with_user(kind, vec![("password", password(host)?)])
            } else {
                let scheme = if ssl { "https" } else { "http" };
                let script = if script.is_empty() {
                    "/nic/update"
                } else {
                    script
                };
                let url = if server.contains("://") {
                    format!("{server}{script}")
                } else {
                    format!("{scheme}://{server}{script}")
                };
                with_user(
                    "dyndns2",
                    vec![("server", s(&url)), ("password", password(host)?)],
                )
            }
        }
        "noip" | "dynu" | "changeip" | "infomaniak" => {
            let kind = ["noip", "dynu", "changeip", "infomaniak"]
                .into_iter()
                .find(|k| *k == protocol)
                .unwrap_or("dyndns2");
            with_user(kind, vec![("password", password(host)?)])
        }
        "inwx" => with_user(
            "inwx",
            vec![
                ("password", password(host)?),
                ("ipv4_only", Val::Bool(true)),
            ],
        ),
        "he.net" => ("he", vec![("password", password(host)?)], None),
        "duckdns" => ("duckdns", vec![("token", password(host)?)], None),
        "cloudflare" => {
            if !login_opt.is_empty() && login_opt != "token" {
                return Err(tr("import.why.cloudflare_global_key", &[]));
            }
            ("cloudflare", vec![("token", password(host)?)], None)
        }
        "nsupdate" => {
            return Err(tr(
                "import.why.tsig_key_file",
                &[("path", &opt(host, "password"))],
            ));
        }
        "freedns" => return Err(tr("import.why.freedns_login", &[])),
        other => api_provider(host, other)?,
    })
}

/// The protocols of APIs with keys and zones.
fn api_provider(host: &Host, protocol: &str) -> Result<Mapped, String> {
    let zone = opt(host, "zone");
    let with_zone = |mut fields: Vec<(&'static str, Val)>, field: &'static str| {
        if !zone.is_empty() {
            fields.push((field, s(&fqdn(zone))));
        }
        fields
    };
    Ok(match protocol {
        "porkbun" => {
            let key = opt(host, "apikey");
            let secret_key = opt(host, "secretapikey");
            if key.is_empty() || secret_key.is_empty() {
                return Err(tr("import.why.empty_credential", &[("field", &"apikey")]));
            }
            let mut fields = vec![
                ("api_key", secret(key, at(host, "apikey"))),
                (
                    "secret_api_key",
                    secret(secret_key, at(host, "secretapikey")),
                ),
            ];
            let root = [opt(host, "root-domain"), opt(host, "on-root-domain")]
                .into_iter()
                .find(|r| !r.is_empty() && *r != "yes" && *r != "no");
            if let Some(root) = root {
                fields.push(("domain", s(&fqdn(root))));
            }
            ("porkbun", fields, None)
        }
        "godaddy" => {
            let fields = vec![
                ("api_key", secret(login(host)?, at(host, "login"))),
                ("api_secret", password(host)?),
            ];
            ("godaddy", with_zone(fields, "domain"), None)
        }
        "namecheap" => {
            let domain = fqdn(login(host)?);
            let fields = vec![("password", password(host)?), ("domain", s(&domain))];
            ("namecheap", fields, Some(domain))
        }
        "gandi" => (
            "gandi",
            with_zone(vec![("token", password(host)?)], "zone"),
            None,
        ),
        "hetzner" => (
            "hetzner",
            with_zone(vec![("token", password(host)?)], "zone"),
            None,
        ),
        "digitalocean" => (
            "digitalocean",
            with_zone(vec![("token", password(host)?)], "zone"),
            None,
        ),
        "easydns" => (
            "easydns",
            vec![("username", s(login(host)?)), ("token", password(host)?)],
            None,
        ),
        "zoneedit1" => {
            let fields = vec![("username", s(login(host)?)), ("token", password(host)?)];
            ("zoneedit", with_zone(fields, "zone"), None)
        }
        "ionos" => ("ionos", vec![("api_key", password(host)?)], None),
        other => return Err(tr("import.why.no_kind", &[("kind", &other)])),
    })
}

/// Options a protocol's provider reads (besides detection and the globals).
const USED: &[&str] = &[
    "protocol",
    "server",
    "script",
    "login",
    "password",
    "password_env",
    "zone",
    "apikey",
    "secretapikey",
    "root-domain",
    "on-root-domain",
    "use-personal-access-token",
    "ttl",
    "ssl",
    "daemon",
    "max-interval",
    "proxy",
    "mail",
    "mail-failure",
    "mail-from",
    "postscript",
];

fn one_host(d: &mut Draft, host: &Host) {
    let get = |k: &str| opt(host, k);
    let ssl = !matches!(get("ssl"), "no" | "n" | "false" | "f" | "0");
    let protocol = match get("protocol") {
        "" => "dyndns2",
        p => p,
    };
    let (kind, fields, domain) = match provider_of(host, ssl) {
        Ok(p) => p,
        Err(why) => {
            d.leave(
                format!("{} (protocol={protocol}, line {})", host.name, host.line),
                why,
            );
            return;
        }
    };
    host_notes(d, host, protocol, kind, ssl);
    let name = record_name(kind, domain.as_deref(), &host.name);
    let ttl = get("ttl")
        .parse::<u32>()
        .ok()
        .filter(|_| protocol != "cloudflare");
    let mut families = host_families(d, host, ssl);
    if families.is_empty() {
        d.leave(host.name.clone(), tr("import.why.no_family", &[]));
        return;
    }
    if kind == "namecheap" {
        families.retain(|f| *f == Fam::V4);
    }
    let provider = d.provider(&format!("{kind}-{}", provider_hint(&name)), kind, fields);
    for fam in families {
        d.record(Record {
            name: name.clone(),
            provider: provider.clone(),
            rtype: Some(fam.rtype()),
            ttl,
            ..Record::default()
        });
    }
}

/// A host's option, "" when unset.
fn opt<'a>(host: &'a Host, key: &str) -> &'a str {
    host.opts.get(key).map(String::as_str).unwrap_or_default()
}

/// What a host's settings say that the provider does not carry.
fn host_notes(d: &mut Draft, host: &Host, protocol: &str, kind: &str, ssl: bool) {
    let get = |k: &str| opt(host, k);
    if get("password").ends_with(',') {
        d.carry(
            format!("password ({}, line {})", host.name, host.line),
            tr("import.why.password_comma", &[]),
        );
    }
    if protocol == "gandi"
        && !matches!(get("use-personal-access-token"), "yes" | "y" | "true" | "1")
    {
        d.carry(
            format!("gandi ({})", host.name),
            tr("import.why.gandi_api_key", &[]),
        );
    }
    if protocol == "inwx" {
        d.carry(
            format!("inwx ({})", host.name),
            tr("import.why.inwx_ipv4_only", &[]),
        );
    }
    if protocol == "cloudflare" && !get("zone").is_empty() {
        d.carry(
            format!("zone={}", get("zone")),
            tr("import.why.zone_found", &[("zone", &get("zone"))]),
        );
    }
    if !ssl && kind != "dyndns2" {
        d.carry("ssl=no", tr("import.why.ssl_https", &[]));
    }
    for key in ["mx", "backupmx", "wildcard"] {
        let v = get(key);
        if !v.is_empty() && !matches!(v, "no" | "n" | "false" | "0") {
            d.leave(
                format!("{key}={v} ({})", host.name),
                tr("import.why.not_used", &[]),
            );
        }
    }
    for (k, v) in &host.opts {
        if !USED.contains(&k.as_str())
            && !DETECTION.contains(&k.as_str())
            && !PROCESS.contains(&k.as_str())
            && !["mx", "backupmx", "wildcard", "host"].contains(&k.as_str())
        {
            let shown = if k.contains("password") || k.contains("key") {
                "…"
            } else {
                v.as_str()
            };
            d.leave(format!("{k}={shown}"), tr("import.why.not_used", &[]));
        }
    }
}

/// The record's name as the provider wants it: `DuckDNS` labels get their suffix, Namecheap's `@` and
/// labels their domain.
fn record_name(kind: &str, domain: Option<&str>, host: &str) -> String {
    let h = fqdn(host);
    match (kind, domain) {
        ("duckdns", _) if !h.ends_with(".duckdns.org") => format!("{h}.duckdns.org"),
        ("namecheap", Some(domain)) if h == "@" || h == domain => domain.to_owned(),
        ("namecheap", Some(domain)) if !h.ends_with(&format!(".{domain}")) => {
            format!("{h}.{domain}")
        }
        _ => h,
    }
}

/// The families a host updates, its detection taken into `[detect]` (the first host's per family).
fn host_families(d: &mut Draft, host: &Host, ssl: bool) -> Vec<Fam> {
    let get = |k: &str| opt(host, k);
    let mut families = Vec::new();
    for fam in [Fam::V4, Fam::V6] {
        let mut found = Vec::new();
        match source_of(&host.opts, fam, ssl, &mut found) {
            Ok(Some(src)) => {
                for (setting, why) in found {
                    d.carry(setting, why);
                }
                match d.take_sources(fam, vec![src]) {
                    Taken::First => d.carry(
                        format!("use ({})", fam.rtype()),
                        tr("import.why.detect", &[("family", &fam.rtype())]),
                    ),
                    Taken::Same => {}
                    Taken::Other => d.carry(
                        format!("{} ({})", host.name, fam.rtype()),
                        tr("import.why.detect_global", &[]),
                    ),
                }
                families.push(fam);
            }
            Ok(None) => {}
            Err(why) => {
                // The records stay, with ddns-tray's own detection for this family.
                let key = if get("usev4").is_empty() && fam == Fam::V4 {
                    "use".to_owned()
                } else {
                    format!("use{}", if fam == Fam::V4 { "v4" } else { "v6" })
                };
                d.leave(format!("{key}={}", get(&key)), why);
                families.push(fam);
            }
        }
    }
    if families.is_empty()
        && get("use").is_empty()
        && get("usev4").is_empty()
        && get("usev6").is_empty()
    {
        // No detection named: ddns-tray's own, IPv4.
        families.push(Fam::V4);
    }
    families
}

/// The registrable-looking end of a name, for a provider's name.
fn provider_hint(name: &str) -> String {
    let labels: Vec<&str> = name.split('.').collect();
    labels[labels.len().saturating_sub(2)..].join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuations_comments_and_host_lists() {
        let text = "daemon=300   # every 5 minutes\n\
                    protocol=noip,    \\\n\
                    login=me,  \\\n\
                    password='p#ss word' \\\n\
                    a.example.com, b.example.com\n\
                    protocol=he.net, password=k#ey,x vpn.example.net\n";
        let lines = logical_lines(text).unwrap();
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert_eq!(lines[0].options, [("daemon".into(), "300".into())]);
        assert_eq!(lines[1].line, 2);
        assert_eq!(
            lines[1].options,
            [
                ("protocol".into(), "noip".into()),
                ("login".into(), "me".into()),
                ("password".into(), "p#ss word".into())
            ]
        );
        assert_eq!(lines[1].words, ["a.example.com,b.example.com"]);
        // An unquoted password keeps what follows up to a space, '#' and ',' included (as ddclient).
        assert_eq!(lines[2].options[1], ("password".into(), "k#ey,x".into()));
        assert_eq!(lines[2].words, ["vpn.example.net"]);
    }

    #[test]
    fn positional_login_and_password_and_globals_in_order() {
        let d = convert(
            "protocol=dyndns2\nserver=dyn.example.org\nlogin=g\npassword=gp\none.example.org\n\
             protocol=noip two.example.org me secret\n",
        )
        .unwrap();
        assert_eq!(d.providers.len(), 2, "{d:?}");
        assert_eq!(d.providers[0].kind, "dyndns2");
        assert_eq!(
            d.providers[0].fields[1].1,
            s("https://dyn.example.org/nic/update")
        );
        assert_eq!(d.providers[1].kind, "noip");
        assert_eq!(d.providers[1].fields[0].1, s("me"));
        assert_eq!(
            d.providers[1].fields[1].1,
            secret("secret", "password (two.example.org, line 6)")
        );
    }

    #[test]
    fn an_unclosed_quote_names_its_line() {
        let e = convert("daemon=300\nprotocol=noip, password='abc host.example.com\n").unwrap_err();
        assert_eq!(e.line, Some(2));
    }
}
