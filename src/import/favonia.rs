//! favonia/cloudflare-ddns: its environment as an env file (`KEY=VALUE`) or a Docker Compose file
//! (`services.*.environment`, a list or a map; `${VAR}` interpolation; Docker secrets). Every service is
//! one updater: its provider names start with the service's name.

use std::path::Path;

use yaml_rust2::Yaml;

use super::draft::{Draft, Fam, Record, SecretVal, Source, Val, s, secret};
use super::{ImportError, fqdn};
use crate::i18n::tr;

/// Variables about how the updater itself runs, which ddns-tray does its own way.
const NOT_USED: &[&str] = &[
    "UPDATE_ON_START",
    "UPDATE_TIMEOUT",
    "CACHE_EXPIRATION",
    "TZ",
    "EMOJI",
    "QUIET",
    "PUID",
    "PGID",
    "CF_ACCOUNT_ID",
];

/// Variables for the Cloudflare WAF lists and record ownership, which ddns-tray does not manage.
const WAF: &[&str] = &[
    "WAF_LISTS",
    "WAF_LIST_DESCRIPTION",
    "WAF_LIST_ITEM_COMMENT",
    "MANAGED_WAF_LIST_ITEMS_COMMENT_REGEX",
    "MANAGED_RECORDS_COMMENT_REGEX",
];

/// One updater's environment, in order, with the line of each variable.
type Env = Vec<(String, String, usize)>;

pub(super) fn convert(text: &str, dir: Option<&Path>) -> Result<Draft, ImportError> {
    let mut d = Draft::default();
    let compose = text
        .lines()
        .any(|l| l.trim_end() == "services:" || l.starts_with("services:"));
    if compose {
        let doc = super::first_yaml(text)?;
        let Some(services) = doc["services"].as_hash() else {
            return Err(ImportError::field(
                "services",
                tr("import.error.not_a_table", &[]),
            ));
        };
        let mut first = [None, None];
        let mut any = false;
        for (name, service) in services {
            let name = name.as_str().unwrap_or_default();
            let env = service_env(service, name)?;
            if env.is_empty() {
                continue;
            }
            any = true;
            one(&mut d, &env, Some(name), &doc, dir, &mut first)?;
        }
        if !any {
            return Err(ImportError::field(
                "services",
                tr("import.error.no_environment", &[]),
            ));
        }
    } else {
        let env = env_file(text)?;
        one(&mut d, &env, None, &Yaml::Null, dir, &mut [None, None])?;
    }
    Ok(d)
}

/// `KEY=VALUE` lines (`export`, quotes and `#` comments allowed).
pub(super) fn env_file(text: &str) -> Result<Env, ImportError> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((k, v)) = line.split_once('=') else {
            return Err(ImportError::at(n + 1, tr("import.error.env_line", &[])));
        };
        out.push((k.trim().to_owned(), unquote(v.trim()), n + 1));
    }
    Ok(out)
}

fn unquote(v: &str) -> String {
    for q in ['"', '\''] {
        if v.len() >= 2 && v.starts_with(q) && v.ends_with(q) {
            return v[1..v.len() - 1].to_owned();
        }
    }
    v.to_owned()
}

/// A service's `environment`: a list of `KEY=VALUE` or a map; `$$` is a literal `$`.
fn service_env(service: &Yaml, name: &str) -> Result<Env, ImportError> {
    let mut out = Vec::new();
    match &service["environment"] {
        Yaml::Array(items) => {
            for item in items {
                let text = item.as_str().unwrap_or_default();
                let Some((k, v)) = text.split_once('=') else {
                    return Err(ImportError::field(
                        format!("services.{name}.environment"),
                        tr("import.error.env_line", &[]),
                    ));
                };
                out.push((k.trim().to_owned(), v.replace("$$", "$"), 0));
            }
        }
        Yaml::Hash(map) => {
            for (k, v) in map {
                let value = match v {
                    Yaml::String(s) => s.clone(),
                    Yaml::Integer(i) => i.to_string(),
                    Yaml::Boolean(b) => b.to_string(),
                    Yaml::Real(r) => r.clone(),
                    _ => String::new(),
                };
                out.push((
                    k.as_str().unwrap_or_default().to_owned(),
                    value.replace("$$", "$"),
                    0,
                ));
            }
        }
        _ => {}
    }
    Ok(out)
}

fn get<'a>(env: &'a Env, key: &str) -> Option<&'a str> {
    env.iter()
        .rev()
        .find(|(k, _, _)| k == key)
        .map(|(_, v, _)| v.trim())
}

/// A name in a list, with its `{hostid6=…}` option.
fn names(list: &str) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    let mut depth = 0;
    let mut cur = String::new();
    for c in list.chars() {
        match c {
            '{' | '(' | '[' => depth += 1,
            '}' | ')' | ']' => depth -= 1,
            _ => {}
        }
        if c == ',' && depth == 0 {
            out.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    out.push(cur);
    out.into_iter()
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
        .map(|n| match n.split_once('{') {
            Some((name, opts)) => {
                let opts = opts.trim_end_matches('}');
                let hostid = opts
                    .split_once('=')
                    .filter(|(k, _)| k.trim() == "hostid6")
                    .map(|(_, v)| v.trim().to_owned());
                (fqdn(name), hostid)
            }
            None => (fqdn(&n), None),
        })
        .collect()
}

/// The token: the value, `${VAR}` as the variable, a file (a Docker secret as the host's file).
fn token(d: &mut Draft, env: &Env, compose: &Yaml, dir: Option<&Path>) -> Result<Val, ImportError> {
    for key in ["CLOUDFLARE_API_TOKEN", "CF_API_TOKEN"] {
        let Some(v) = get(env, key).filter(|v| !v.is_empty()) else {
            continue;
        };
        if key == "CF_API_TOKEN" {
            d.carry(key, tr("import.why.deprecated_name", &[]));
        }
        let var = v
            .strip_prefix("${")
            .and_then(|r| r.strip_suffix('}'))
            .map(|r| r.split([':', '-']).next().unwrap_or(r).to_owned());
        return Ok(match var {
            Some(var) => {
                d.carry(key, tr("import.why.compose_variable", &[("var", &var)]));
                Val::Secret(SecretVal::Env(var))
            }
            None => secret(v, key),
        });
    }
    for key in ["CLOUDFLARE_API_TOKEN_FILE", "CF_API_TOKEN_FILE"] {
        let Some(path) = get(env, key).filter(|v| !v.is_empty()) else {
            continue;
        };
        // A Docker secret: /run/secrets/<name> inside the container, `secrets.<name>.file` on the host.
        let host = path
            .strip_prefix("/run/secrets/")
            .and_then(|name| compose["secrets"][name]["file"].as_str())
            .map(|file| match dir {
                Some(dir) if Path::new(file).is_relative() => dir
                    .join(file.trim_start_matches("./"))
                    .display()
                    .to_string(),
                _ => file.to_owned(),
            });
        if let Some(host) = host {
            d.carry(key, tr("import.why.docker_secret", &[("path", &host)]));
            return Ok(Val::Secret(SecretVal::File(host)));
        }
        if path.starts_with("/run/secrets/") {
            d.carry(key, tr("import.why.container_path", &[("path", &path)]));
        }
        return Ok(Val::Secret(SecretVal::File(path.to_owned())));
    }
    Err(ImportError::field(
        "CLOUDFLARE_API_TOKEN",
        tr("import.error.missing", &[]),
    ))
}

/// A family's detection, `Ok(None)` when the family is off, or why none.
fn provider_source(value: &str) -> Result<Option<Source>, String> {
    let (name, arg) = value.split_once(':').unwrap_or((value, ""));
    Ok(Some(match name {
        "cloudflare.trace" | "cloudflare" | "cloudflare.doh" => {
            Source::new("cloudflare-trace", vec![])
        }
        "local" => Source::interface(None),
        "local.iface" => Source::interface(Some(arg)),
        "url" | "url.via4" | "url.via6" => Source::http(arg),
        "ipify" => Source::http("https://api.ipify.org"),
        "none" | "unmanaged" => return Ok(None),
        _ => return Err(tr("import.why.static_ip", &[])),
    }))
}

fn one(
    d: &mut Draft,
    env: &Env,
    service: Option<&str>,
    compose: &Yaml,
    dir: Option<&Path>,
    first: &mut [Option<Source>; 2],
) -> Result<(), ImportError> {
    let at = |k: &str| match service {
        Some(s) => format!("{s}: {k}"),
        None => k.to_owned(),
    };
    let token = token(d, env, compose, dir)?;
    let on = detection(d, env, &at, first);
    // Fallback values.
    let proxied = get(env, "PROXIED").unwrap_or("false");
    let proxied_expr = parse_bool_expr(proxied).ok_or_else(|| {
        ImportError::field(
            "PROXIED",
            tr("import.error.proxied", &[("value", &proxied)]),
        )
    })?;
    if proxied != "false" {
        d.carry(at("PROXIED"), tr("import.why.proxied_fallback", &[]));
    }
    let comment = get(env, "RECORD_COMMENT").filter(|c| !c.is_empty());
    if comment.is_some() {
        d.carry(at("RECORD_COMMENT"), tr("import.why.comment_fallback", &[]));
    }
    let ttl = match get(env, "TTL") {
        None | Some("" | "1") => None,
        Some(t) => Some(
            t.parse::<u32>()
                .map_err(|_| ImportError::field("TTL", tr("import.error.number", &[])))?,
        ),
    };
    let prefix6 = match get(env, "IP6_DEFAULT_PREFIX_LEN") {
        None | Some("") => 64,
        Some(p) => p.parse::<u8>().ok().filter(|p| *p <= 128).ok_or_else(|| {
            ImportError::field("IP6_DEFAULT_PREFIX_LEN", tr("import.error.number", &[]))
        })?,
    };
    let hint = service.unwrap_or("cloudflare");
    let provider_for = |d: &mut Draft, name: &str| {
        let mut fields = vec![("token", token.clone())];
        if eval(&proxied_expr, name) {
            fields.push(("proxied", Val::Bool(true)));
        }
        if let Some(c) = comment {
            fields.push(("comment", s(c)));
        }
        d.provider(hint, "cloudflare", fields)
    };
    for (key, fams) in [
        ("DOMAINS", &[Fam::V4, Fam::V6][..]),
        ("IP4_DOMAINS", &[Fam::V4][..]),
        ("IP6_DOMAINS", &[Fam::V6][..]),
    ] {
        let Some(list) = get(env, key) else {
            continue;
        };
        for (name, hostid) in names(list) {
            for fam in fams {
                if !on[usize::from(*fam == Fam::V6)] {
                    continue;
                }
                let (ipv6_host, prefix) = match (&hostid, fam) {
                    (Some(h), Fam::V6) if h == "preserve" => (None, None),
                    (Some(h), Fam::V6) if h.starts_with('[') => {
                        d.leave(
                            at(&format!("{name}{{hostid6={h}}}")),
                            tr("import.why.hostid_set", &[]),
                        );
                        continue;
                    }
                    (Some(h), Fam::V6) => {
                        let host = h
                            .strip_prefix("mac(")
                            .and_then(|m| m.strip_suffix(')'))
                            .map_or_else(|| h.clone(), |m| m.replace('-', ":"));
                        (Some(host), Some(prefix6))
                    }
                    _ => (None, None),
                };
                let provider = provider_for(d, &name);
                d.record(Record {
                    name: name.clone(),
                    provider,
                    rtype: Some(fam.rtype()),
                    ttl,
                    ipv6_host,
                    ipv6_prefix_len: prefix,
                    ..Record::default()
                });
            }
        }
    }
    extras(d, env, &at, hint);
    Ok(())
}

/// Each family's detection into `[detect]` (the first updater's); whether the family is managed at all.
fn detection(
    d: &mut Draft,
    env: &Env,
    at: &dyn Fn(&str) -> String,
    first: &mut [Option<Source>; 2],
) -> [bool; 2] {
    let timeout = get(env, "DETECTION_TIMEOUT").filter(|t| !t.is_empty());
    // Detection per family.
    let mut on = [true, true];
    for (i, fam) in [Fam::V4, Fam::V6].into_iter().enumerate() {
        let (pk, old) = if fam == Fam::V4 {
            ("IP4_PROVIDER", "IP4_POLICY")
        } else {
            ("IP6_PROVIDER", "IP6_POLICY")
        };
        let (key, value) = match (get(env, pk), get(env, old)) {
            (Some(v), _) => (pk, v),
            (None, Some(v)) => {
                d.carry(at(old), tr("import.why.deprecated_name", &[]));
                (old, v)
            }
            (None, None) => (pk, "cloudflare.trace"),
        };
        match provider_source(value) {
            Ok(Some(mut src)) => {
                if value.starts_with("cloudflare.doh") || value == "cloudflare" {
                    d.carry(
                        at(&format!("{key}={value}")),
                        tr("import.why.doh_as_trace", &[]),
                    );
                } else if value == "local" {
                    d.carry(
                        at(&format!("{key}={value}")),
                        tr("import.why.local_as_interface", &[]),
                    );
                }
                src.timeout = timeout.map(str::to_owned);
                match &first[i] {
                    None => {
                        if get(env, pk).is_some() || get(env, old).is_some() {
                            d.source(fam, src.clone());
                            d.carry(
                                at(&format!("{key}={value}")),
                                tr("import.why.detect", &[("family", &fam.rtype())]),
                            );
                        }
                        first[i] = Some(src);
                    }
                    Some(taken) if *taken == src => {}
                    Some(_) => d.leave(
                        at(&format!("{key}={value}")),
                        tr("import.why.detect_global", &[]),
                    ),
                }
            }
            Ok(None) => on[i] = false,
            Err(why) => {
                d.leave(at(&format!("{key}={value}")), why);
                on[i] = false;
            }
        }
    }
    if let Some(t) = timeout {
        d.carry(
            at(&format!("DETECTION_TIMEOUT={t}")),
            tr("import.why.timeout", &[]),
        );
    }
    on
}

/// The schedule, what is left out, and the notifications.
fn extras(d: &mut Draft, env: &Env, at: &dyn Fn(&str) -> String, hint: &str) {
    // Schedule.
    if let Some(cron) = get(env, "UPDATE_CRON") {
        match cron.strip_prefix("@every ") {
            Some(every) if d.interval.is_none() => {
                d.interval = Some(every.trim().to_owned());
                d.carry(
                    at(&format!("UPDATE_CRON={cron}")),
                    tr("import.why.interval", &[]),
                );
            }
            Some(_) => d.leave(
                at(&format!("UPDATE_CRON={cron}")),
                tr("import.why.detect_global", &[]),
            ),
            None => d.leave(
                at(&format!("UPDATE_CRON={cron}")),
                tr("import.why.cron", &[]),
            ),
        }
    }
    if get(env, "DELETE_ON_STOP")
        .is_some_and(|v| matches!(v, "true" | "1" | "t" | "T" | "TRUE" | "True"))
    {
        d.leave(
            at("DELETE_ON_STOP=true"),
            tr("import.why.delete_on_stop", &[]),
        );
    }
    for key in ["IP4_DETECTION_FILTER", "IP6_DETECTION_FILTER"] {
        if let Some(v) = get(env, key).filter(|v| !v.is_empty() && *v != "keep-all") {
            d.leave(
                at(&format!("{key}={v}")),
                tr("import.why.detection_filter", &[]),
            );
        }
    }
    for key in WAF {
        if let Some(v) = get(env, key).filter(|v| !v.is_empty()) {
            d.leave(at(&format!("{key}={v}")), tr("import.why.waf", &[]));
        }
    }
    for key in NOT_USED {
        if let Some(v) = get(env, key) {
            d.leave(at(&format!("{key}={v}")), tr("import.why.not_used", &[]));
        }
    }
    // Notifications.
    if let Some(url) = get(env, "HEALTHCHECKS").filter(|u| !u.is_empty()) {
        d.notifier(
            &format!("{hint}-healthchecks"),
            "healthchecks",
            vec![("url", secret(url, at("HEALTHCHECKS")))],
        );
        d.carry(at("HEALTHCHECKS"), tr("import.why.notifier", &[]));
    }
    if let Some(url) = get(env, "UPTIMEKUMA").filter(|u| !u.is_empty()) {
        let base = url.split('?').next().unwrap_or(url);
        d.notifier(
            &format!("{hint}-uptime-kuma"),
            "uptime-kuma",
            vec![("url", secret(base, at("UPTIMEKUMA")))],
        );
        d.carry(at("UPTIMEKUMA"), tr("import.why.notifier", &[]));
    }
    if let Some(urls) = get(env, "SHOUTRRR") {
        for url in urls
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            shoutrrr(d, url, hint, &at("SHOUTRRR"));
        }
    }
}

/// A shoutrrr URL as one of our notifiers.
fn shoutrrr(d: &mut Draft, url: &str, hint: &str, at: &str) {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let scheme_shown = format!("{scheme}://…");
    match scheme {
        "discord" => {
            let Some((token, id)) = rest.split_once('@') else {
                d.leave(
                    format!("{at}: {scheme_shown}"),
                    tr("import.why.bad_value", &[]),
                );
                return;
            };
            let id = id.split(['?', '/']).next().unwrap_or(id);
            let webhook = format!("https://discord.com/api/webhooks/{id}/{token}");
            d.notifier(
                &format!("{hint}-discord"),
                "discord",
                vec![("url", secret(&webhook, at))],
            );
            d.carry(
                format!("{at}: {scheme_shown}"),
                tr("import.why.notifier", &[]),
            );
        }
        "ntfy" => {
            let rest = rest.split('?').next().unwrap_or(rest);
            let Some((host, topic)) = rest.rsplit_once('/') else {
                d.leave(
                    format!("{at}: {scheme_shown}"),
                    tr("import.why.bad_value", &[]),
                );
                return;
            };
            let mut fields = vec![("topic", secret(topic, at))];
            if !host.is_empty() && host != "ntfy.sh" {
                fields.push(("server", s(&format!("https://{host}"))));
            }
            d.notifier(&format!("{hint}-ntfy"), "ntfy", fields);
            d.carry(
                format!("{at}: {scheme_shown}"),
                tr("import.why.notifier", &[]),
            );
        }
        _ => d.leave(
            format!("{at}: {scheme_shown}"),
            tr("import.why.shoutrrr", &[]),
        ),
    }
}

/// favonia's `PROXIED`: a boolean or `is(…)`, `sub(…)`, `!`, `&&`, `||`, parentheses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Expr {
    Const(bool),
    Is(Vec<String>),
    Sub(Vec<String>),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
}

pub(super) fn parse_bool_expr(text: &str) -> Option<Expr> {
    let toks: Vec<String> = {
        let re = regex_lite::Regex::new(r"\|\||&&|[!(),]|[^\s!(),|&]+").unwrap();
        re.find_iter(text).map(|m| m.as_str().to_owned()).collect()
    };
    let mut pos = 0;
    let e = or(&toks, &mut pos)?;
    (pos == toks.len()).then_some(e)
}

fn or(t: &[String], p: &mut usize) -> Option<Expr> {
    let mut left = and(t, p)?;
    while t.get(*p).is_some_and(|x| x == "||") {
        *p += 1;
        left = Expr::Or(Box::new(left), Box::new(and(t, p)?));
    }
    Some(left)
}

fn and(t: &[String], p: &mut usize) -> Option<Expr> {
    let mut left = unary(t, p)?;
    while t.get(*p).is_some_and(|x| x == "&&") {
        *p += 1;
        left = Expr::And(Box::new(left), Box::new(unary(t, p)?));
    }
    Some(left)
}

fn unary(t: &[String], p: &mut usize) -> Option<Expr> {
    let tok = t.get(*p)?.clone();
    *p += 1;
    match tok.as_str() {
        "!" => Some(Expr::Not(Box::new(unary(t, p)?))),
        "(" => {
            let e = or(t, p)?;
            (t.get(*p)? == ")").then(|| *p += 1)?;
            Some(e)
        }
        "is" | "sub" => {
            (t.get(*p)? == "(").then(|| *p += 1)?;
            let mut names = Vec::new();
            loop {
                let x = t.get(*p)?.clone();
                *p += 1;
                match x.as_str() {
                    ")" => break,
                    "," => {}
                    name => names.push(fqdn(name)),
                }
            }
            Some(if tok == "is" {
                Expr::Is(names)
            } else {
                Expr::Sub(names)
            })
        }
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(Expr::Const(true)),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(Expr::Const(false)),
        _ => None,
    }
}

pub(super) fn eval(e: &Expr, name: &str) -> bool {
    let bare = name.strip_prefix("*.").unwrap_or(name);
    match e {
        Expr::Const(b) => *b,
        Expr::Is(names) => names.iter().any(|n| n == name),
        Expr::Sub(names) => names
            .iter()
            .any(|n| bare.ends_with(&format!(".{n}")) || (name.starts_with("*.") && bare == n)),
        Expr::Not(x) => !eval(x, name),
        Expr::And(a, b) => eval(a, name) && eval(b, name),
        Expr::Or(a, b) => eval(a, name) || eval(b, name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxied_expressions_bind_as_favonia_does() {
        let e = parse_bool_expr("is(example.com) || sub(example.com) && !is(ipv6.example.com)")
            .unwrap();
        assert!(eval(&e, "example.com"));
        assert!(eval(&e, "*.example.com"));
        assert!(eval(&e, "nas.example.com"));
        assert!(!eval(&e, "ipv6.example.com"));
        assert!(!eval(&e, "legacy.example.net"));
        assert_eq!(parse_bool_expr("true"), Some(Expr::Const(true)));
        assert!(parse_bool_expr("is(a.example").is_none());
        assert!(parse_bool_expr("maybe").is_none());
    }

    #[test]
    fn names_with_hostid6() {
        assert_eq!(
            names(
                "a.example.com, b.example.com{hostid6=mac(00-11-22-33-44-55)},c.example.com{hostid6=::1}"
            ),
            [
                ("a.example.com".into(), None),
                (
                    "b.example.com".into(),
                    Some("mac(00-11-22-33-44-55)".into())
                ),
                ("c.example.com".into(), Some("::1".into())),
            ]
        );
    }

    #[test]
    fn an_env_line_without_equals_names_its_line() {
        let e = convert("DOMAINS=a.example.com\nCLOUDFLARE_API_TOKEN\n", None).unwrap_err();
        assert_eq!(e.line, Some(2));
    }
}
