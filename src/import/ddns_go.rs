//! ddns-go's `.ddns_go_config.yaml`: `dnsconf[]` entries, each a provider (`dns.name`, `id`, `secret`,
//! `extparam`) with IPv4/IPv6 sources (`gettype` url / netInterface / cmd) and domains with `?key=value`
//! parameters, `ttl` and `httpinterface`; `webhook`, `lang`; the web UI's own `user` and `notallowwanaccess`.

use yaml_rust2::Yaml;

use super::draft::{Draft, Fam, KindFields, Record, Source, Val, s, secret};
use super::{ImportError, command_source, credential_in, first_yaml, fqdn};
use crate::i18n::tr;

pub(super) fn convert(text: &str) -> Result<Draft, ImportError> {
    let doc = first_yaml(text)?;
    if doc.as_hash().is_none() {
        return Err(ImportError::field(
            "dnsconf",
            tr("import.error.not_ddns_go", &[]),
        ));
    }
    let mut d = Draft::default();
    let entries: Vec<Yaml> = match &doc["dnsconf"] {
        Yaml::Array(list) => list.clone(),
        Yaml::BadValue | Yaml::Null if doc["dns"].as_hash().is_some() => {
            // Before v5 the file was one entry at the top level.
            d.carry("dns", tr("import.why.ddns_go_legacy", &[]));
            vec![doc.clone()]
        }
        Yaml::BadValue | Yaml::Null => Vec::new(),
        _ => {
            return Err(ImportError::field(
                "dnsconf",
                tr("import.error.not_a_list", &[]),
            ));
        }
    };
    for (i, entry) in entries.iter().enumerate() {
        if entry.as_hash().is_none() {
            return Err(ImportError::field(
                format!("dnsconf[{i}]"),
                tr("import.error.not_a_table", &[]),
            ));
        }
        one_entry(&mut d, i, entry);
    }
    webhook(&mut d, &doc);
    match str_of(&doc["lang"]) {
        l if l.starts_with("zh") => d.language = Some("zh-CN"),
        "en" => d.language = Some("en"),
        _ => {}
    }
    if !str_of(&doc["user"]["username"]).is_empty() {
        d.leave("user", tr("import.why.web_ui", &[]));
    }
    if doc["notallowwanaccess"].as_bool() == Some(false) {
        d.leave("notallowwanaccess", tr("import.why.web_ui", &[]));
    }
    Ok(d)
}

fn str_of(y: &Yaml) -> &str {
    y.as_str().unwrap_or_default().trim()
}

/// The value of a scalar as text (`ttl: 600` or `ttl: "600"`).
fn text_of(y: &Yaml) -> String {
    match y {
        Yaml::Integer(i) => i.to_string(),
        Yaml::Real(r) => r.clone(),
        Yaml::Boolean(b) => b.to_string(),
        _ => str_of(y).to_owned(),
    }
}

/// ddns-go's name, our kind, the id's field (and whether it is a secret), the secret's field.
type Mapping = (
    &'static str,
    &'static str,
    Option<(&'static str, bool)>,
    &'static str,
);

/// How a ddns-go `dns.name` maps: our kind, the field `dns.id` fills (and whether it is a secret; `None`:
/// ddns-go has no id for it) and the field `dns.secret` fills.
const KINDS: &[Mapping] = &[
    (
        "alidns",
        "alidns",
        Some(("access_key_id", false)),
        "access_key_secret",
    ),
    (
        "aliesa",
        "aliesa",
        Some(("access_key_id", false)),
        "access_key_secret",
    ),
    (
        "tencentcloud",
        "dnspod",
        Some(("secret_id", false)),
        "secret_key",
    ),
    (
        "edgeone",
        "edgeone",
        Some(("secret_id", false)),
        "secret_key",
    ),
    ("dnspod", "dnspod-token", Some(("token_id", false)), "token"),
    (
        "huaweicloud",
        "huaweicloud",
        Some(("access_key_id", false)),
        "secret_access_key",
    ),
    (
        "baiducloud",
        "baidu",
        Some(("access_key_id", false)),
        "secret_access_key",
    ),
    (
        "trafficroute",
        "volcengine",
        Some(("access_key_id", false)),
        "secret_access_key",
    ),
    (
        "volcengine",
        "volcengine",
        Some(("access_key_id", false)),
        "secret_access_key",
    ),
    ("cloudflare", "cloudflare", None, "token"),
    (
        "porkbun",
        "porkbun",
        Some(("api_key", true)),
        "secret_api_key",
    ),
    ("godaddy", "godaddy", Some(("api_key", true)), "api_secret"),
    ("namecheap", "namecheap", None, "password"),
    ("namesilo", "namesilo", None, "api_key"),
    ("dynv6", "dynv6", None, "token"),
    ("desec", "desec", None, "token"),
    ("gcore", "gcore", None, "token"),
    ("rainyun", "rainyun", None, "api_key"),
    ("vercel", "vercel", None, "token"),
    (
        "spaceship",
        "spaceship",
        Some(("api_key", false)),
        "api_secret",
    ),
    ("dnsla", "dnsla", Some(("api_id", false)), "api_secret"),
    (
        "nowcn",
        "nowcn",
        Some(("access_instance_id", false)),
        "access_key_secret",
    ),
    (
        "eranet",
        "nowcn",
        Some(("access_instance_id", false)),
        "access_key_secret",
    ),
    ("name_com", "namecom", Some(("username", false)), "token"),
    ("cloudns", "cloudns", Some(("auth_id", false)), "password"),
];

/// The provider of an entry: kind and fields, or why there is none. An unknown or empty `dns.name` is
/// alidns to ddns-go; an unknown one here is a kind we lack.
fn provider_of(kind: &str, id: &str, sec: &str, ext: &str, at: &str) -> Result<KindFields, String> {
    if kind == "dynadot" {
        return Err(tr("import.why.dynadot_ddns_password", &[]));
    }
    let name = if kind.is_empty() { "alidns" } else { kind };
    let Some((_, ours, id_field, secret_field)) = KINDS.iter().find(|k| k.0 == name) else {
        return Err(tr("import.why.no_kind", &[("kind", &kind)]));
    };
    let mut fields = Vec::new();
    if let Some((field, is_secret)) = id_field {
        if id.is_empty() {
            return Err(tr("import.why.empty_credential", &[("field", &"dns.id")]));
        }
        fields.push((
            *field,
            if *is_secret {
                secret(id, format!("{at}.dns.id"))
            } else {
                s(id)
            },
        ));
    }
    if sec.is_empty() {
        return Err(tr(
            "import.why.empty_credential",
            &[("field", &"dns.secret")],
        ));
    }
    fields.push((*secret_field, secret(sec, format!("{at}.dns.secret"))));
    if name == "vercel" && !ext.is_empty() {
        fields.push(("team_id", s(ext)));
    }
    if name == "eranet" {
        fields.push(("endpoint", s("https://www.eranet.com")));
    }
    Ok((ours, fields))
}

/// Kinds whose ddns-go credentials are a guess at which of our fields they fill: said in the notes.
const APPROXIMATE: &[(&str, &str)] = &[
    ("nowcn", "import.why.nowcn_keys"),
    ("eranet", "import.why.nowcn_keys"),
    ("cloudns", "import.why.cloudns_auth_id"),
];

fn one_entry(d: &mut Draft, i: usize, entry: &Yaml) {
    let dns_name = str_of(&entry["dns"]["name"]);
    let label = str_of(&entry["name"]);
    let at = if label.is_empty() {
        format!("dnsconf[{i}]")
    } else {
        format!("dnsconf[{i}] ({label})")
    };
    let hint = if label.is_empty() {
        format!("ddns-go-{}-{}", i + 1, dns_name)
    } else {
        label.to_owned()
    };
    let ttl = text_of(&entry["ttl"]).parse::<u32>().ok();
    // Which families and domains this entry manages.
    let mut families = Vec::new();
    for (key, fam) in [("ipv4", Fam::V4), ("ipv6", Fam::V6)] {
        let family = &entry[key];
        if family["enable"].as_bool() != Some(true) {
            continue;
        }
        let domains: Vec<String> = family["domains"]
            .as_vec()
            .map(|v| v.iter().map(|d| str_of(d).to_owned()).collect())
            .unwrap_or_default();
        let domains: Vec<String> = domains.into_iter().filter(|d| !d.is_empty()).collect();
        if domains.is_empty() {
            continue;
        }
        families.push((key, fam, domains));
    }
    if families.is_empty() {
        return;
    }
    let kind_and_fields = if dns_name == "callback" {
        callback(d, &at, entry, &families, ttl, &hint);
        return;
    } else {
        provider_of(
            dns_name,
            str_of(&entry["dns"]["id"]),
            str_of(&entry["dns"]["secret"]),
            str_of(&entry["dns"]["extparam"]),
            &at,
        )
    };
    let (kind, fields) = match kind_and_fields {
        Ok(k) => k,
        Err(why) => {
            let names: Vec<String> = families
                .iter()
                .flat_map(|(_, _, ds)| ds.iter().map(|d| split_domain(d).0))
                .collect();
            d.leave(
                format!("{at}: dns.name = {dns_name} ({})", names.join(", ")),
                why,
            );
            return;
        }
    };
    if let Some((_, key)) = APPROXIMATE.iter().find(|(k, _)| *k == dns_name) {
        d.carry(format!("{at}: dns.id"), tr(key, &[]));
    }
    let http_line = str_of(&entry["httpinterface"]).to_owned();
    if !http_line.is_empty() {
        let line = super::draft::slug(&http_line, "line");
        if !d.lines.iter().any(|(n, _)| *n == line) {
            d.lines.push((line.clone(), http_line.clone()));
        }
        d.carry(
            format!("{at}: httpinterface = {http_line}"),
            tr("import.why.httpinterface", &[("line", &line)]),
        );
    }
    let entry_ctx = Entry {
        at: &at,
        hint: &hint,
        kind,
        fields: &fields,
        ttl,
        line: (!http_line.is_empty()).then(|| super::draft::slug(&http_line, "line")),
    };
    for (key, fam, domains) in families {
        // `[detect]` is global: the first entry's sources are taken, an entry asking for others is noted.
        if let Some((list, setting)) = entry_sources(d, &at, key, fam, &entry[key]) {
            d.take_sources_noted(fam, list, setting, key);
        }
        for domain in domains {
            domain_record(d, &entry_ctx, fam, &domain);
        }
    }
}

/// What the records of one entry share.
struct Entry<'a> {
    at: &'a str,
    hint: &'a str,
    kind: &'static str,
    fields: &'a [(&'static str, Val)],
    ttl: Option<u32>,
    /// The `[[line]]` of `httpinterface`.
    line: Option<String>,
}

/// One domain of an entry: its record, its parameters on the record or on a provider of its own.
fn domain_record(d: &mut Draft, e: &Entry<'_>, fam: Fam, domain: &str) {
    let at = e.at;
    let (name, zone, params) = split_domain(domain);
    let mut fields: Vec<(&str, Val)> = e.fields.to_vec();
    let mut line = None;
    for (k, v) in &params {
        match (e.kind, k.as_str()) {
            ("alidns", "Line") | ("dnspod", "RecordLine") | ("dnspod-token", "record_line") => {
                line = Some(v.clone());
            }
            ("cloudflare", "proxied") => fields.push(("proxied", Val::Bool(v == "true"))),
            ("cloudflare", "comment") => fields.push(("comment", s(v))),
            _ => d.leave(
                format!("{at}: {domain}"),
                tr("import.why.domain_param", &[("param", &format!("{k}={v}"))]),
            ),
        }
    }
    if let Some(zone) = &zone {
        let zone_field = match e.kind {
            "porkbun" | "godaddy" | "namecheap" => Some("domain"),
            "hetzner" | "gandi" | "namesilo" | "spaceship" | "vercel" | "gcore" | "namecom"
            | "cloudns" | "nowcn" => Some("zone"),
            _ => None,
        };
        match zone_field {
            Some(f) => fields.push((f, s(zone))),
            None => d.carry(
                format!("{at}: {domain}"),
                tr("import.why.zone_found", &[("zone", zone)]),
            ),
        }
    }
    if e.kind == "namecheap" && fam == Fam::V6 {
        d.leave(
            format!("{at}: {domain}"),
            tr("import.why.namecheap_v6", &[]),
        );
        return;
    }
    let provider = d.provider(e.hint, e.kind, fields);
    d.record(Record {
        name,
        provider,
        rtype: Some(fam.rtype()),
        ttl: e.ttl,
        line,
        lines: e.line.clone().map(|l| vec![l]),
        provider_via_line: e.line.is_some().then_some(true),
        ..Record::default()
    });
}

/// `sub.example.com?Line=telecom&ttl=1` or `sub:zone.example?x=y`: the name, the zone when given, the
/// parameters.
pub(super) fn split_domain(domain: &str) -> (String, Option<String>, Vec<(String, String)>) {
    let (host, query) = domain.split_once('?').unwrap_or((domain, ""));
    let params = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect();
    match host.split_once(':') {
        Some((sub, zone)) => {
            let zone = fqdn(zone);
            let sub = sub.trim();
            let name = if sub.is_empty() || sub == "@" {
                zone.clone()
            } else {
                format!("{}.{zone}", fqdn(sub))
            };
            (name, Some(zone), params)
        }
        None => (fqdn(host), None, params),
    }
}

/// Percent-decoding and `+` as a space, as Go's `url.ParseQuery`.
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = text
            .get(i + 1..i + 3)
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'+', _) => out.push(b' '),
            (b'%', Some(b)) => {
                out.push(b);
                i += 2;
            }
            (b, _) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The detection of one family of an entry, and the setting it came from; `None` when there is none to take
/// (what was left out is noted).
fn entry_sources(
    d: &mut Draft,
    at: &str,
    key: &str,
    fam: Fam,
    family: &Yaml,
) -> Option<(Vec<Source>, String)> {
    let gettype = str_of(&family["gettype"]);
    let mut list = Vec::new();
    match gettype {
        "url" => {
            for url in str_of(&family["url"]).split(',').map(str::trim) {
                if !url.is_empty() {
                    list.push(Source::http(url));
                }
            }
        }
        "netInterface" => {
            let name = str_of(&family["netinterface"]);
            list.push(Source::interface((!name.is_empty()).then_some(name)));
            let reg = str_of(&family["ipv6reg"]);
            if fam == Fam::V6 && !reg.is_empty() {
                d.leave(
                    format!("{at}: {key}.ipv6reg = {reg}"),
                    tr("import.why.ipv6reg", &[]),
                );
            }
        }
        "cmd" => {
            let cmd = str_of(&family["cmd"]);
            if cmd.is_empty() {
                return None;
            }
            match command_source(cmd) {
                Ok((src, note)) => {
                    if let Some(note) = note {
                        d.carry(format!("{at}: {key}.cmd = {cmd}"), note);
                    }
                    list.push(src);
                }
                Err(why) => {
                    d.leave(format!("{at}: {key}.cmd = {cmd}"), why);
                    return None;
                }
            }
        }
        other => {
            d.leave(
                format!("{at}: {key}.gettype = {other}"),
                tr("import.why.no_detection", &[]),
            );
            return None;
        }
    }
    Some((list, format!("{at}: {key}.gettype = {gettype}")))
}

/// ddns-go's `#{…}` variables in our placeholders, or the variable we have none for.
fn callback_template(text: &str, ttl: &str, params: &[(String, String)]) -> Result<String, String> {
    let mut out = text
        .replace("#{ip}", "{ip}")
        .replace("#{domain}", "{name}")
        .replace("#{recordType}", "{type}")
        .replace("#{ttl}", ttl);
    for (k, v) in params {
        out = out.replace(&format!("#{{{k}}}"), v);
    }
    let var = regex_lite::Regex::new(r"#\{([A-Za-z0-9_]+)\}").unwrap();
    match var.captures(&out) {
        Some(c) => Err(c[0].to_owned()),
        None => Ok(out),
    }
}

/// `dns.name: callback`: one webhook provider per distinct request.
fn callback(
    d: &mut Draft,
    at: &str,
    entry: &Yaml,
    families: &[(&str, Fam, Vec<String>)],
    ttl: Option<u32>,
    hint: &str,
) {
    let url = str_of(&entry["dns"]["id"]);
    let body = entry["dns"]["secret"].as_str().unwrap_or_default();
    let ttl_text = ttl.map_or_else(|| "600".to_owned(), |t| t.to_string());
    for (key, fam, domains) in families {
        // A callback's detection is added to `[detect]` whatever the other entries took.
        if let Some((list, setting)) = entry_sources(d, at, key, *fam, &entry[*key]) {
            for src in list {
                d.source(*fam, src);
            }
            d.carry(setting, tr("import.why.detect", &[("family", key)]));
        }
        for domain in domains {
            let (name, _, params) = split_domain(domain);
            let filled = callback_template(url, &ttl_text, &params).and_then(|u| {
                let b = callback_template(body, &ttl_text, &params)?;
                Ok((u, b))
            });
            let (u, b) = match filled {
                Ok(ub) => ub,
                Err(var) => {
                    d.leave(
                        format!("{at}: {domain}"),
                        tr("import.why.callback_variable", &[("var", &var)]),
                    );
                    continue;
                }
            };
            if let Some(field) = credential_in(&u).or_else(|| credential_in(&b)) {
                d.leave(
                    format!("{at}: {name}"),
                    tr("import.why.credential_in_request", &[("field", &field)]),
                );
                continue;
            }
            let mut fields = vec![("url", s(&u))];
            if !b.is_empty() {
                fields.push(("method", s("POST")));
                if serde_json::from_str::<serde_json::Value>(&b.replace("{ip}", "0")).is_ok() {
                    fields.push((
                        "headers",
                        Val::Table(vec![("Content-Type".into(), s("application/json"))]),
                    ));
                }
                fields.push(("body", s(&b)));
            }
            let provider = d.provider(hint, "webhook", fields);
            d.simple(&name, &provider, *fam, None);
        }
    }
}

/// `webhook:` → a webhook notifier. ddns-go fires once per run with both families; ours per event.
fn webhook(d: &mut Draft, doc: &Yaml) {
    let hook = &doc["webhook"];
    let url = str_of(&hook["webhookurl"]);
    if url.is_empty() {
        return;
    }
    let map = |t: &str| {
        t.replace("#{ipv4Addr}", "{ip}")
            .replace("#{ipv6Addr}", "{ip}")
            .replace("#{ipv4Result}", "{event}")
            .replace("#{ipv6Result}", "{event}")
            .replace("#{ipv4Domains}", "{name}")
            .replace("#{ipv6Domains}", "{name}")
            .replace("#{timestamp}", "")
    };
    let url_t = map(url);
    let body = hook["webhookrequestbody"].as_str().unwrap_or_default();
    let body_t = map(body);
    if let Some(field) = credential_in(&url_t).or_else(|| credential_in(&body_t)) {
        d.leave(
            "webhook",
            tr("import.why.credential_in_request", &[("field", &field)]),
        );
        return;
    }
    let mut fields = vec![("url", s(&url_t))];
    let mut headers = Vec::new();
    for line in hook["webhookheaders"].as_str().unwrap_or_default().lines() {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let (k, v) = (k.trim(), v.trim());
        if k.is_empty() {
            continue;
        }
        let sensitive = ["auth", "token", "key", "secret", "cookie", "sign", "pass"]
            .iter()
            .any(|w| k.to_ascii_lowercase().contains(w));
        let value = if sensitive {
            secret(v, format!("webhook.webhookheaders {k}"))
        } else {
            s(v)
        };
        headers.push((k.to_owned(), value));
    }
    if !body_t.trim().is_empty() {
        fields.push(("method", s("POST")));
        if serde_json::from_str::<serde_json::Value>(&body_t).is_ok()
            && !headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        {
            headers.push(("Content-Type".into(), s("application/json")));
        }
        fields.push(("body", s(&body_t)));
    }
    if !headers.is_empty() {
        fields.push(("headers", Val::Table(headers)));
    }
    d.notifier("ddns-go-webhook", "webhook", fields);
    d.carry("webhook", tr("import.why.webhook_approx", &[]));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_with_zones_and_parameters() {
        let (name, zone, params) = split_domain("home.example.com?Line=telecom&ttl=60");
        assert_eq!(name, "home.example.com");
        assert_eq!(zone, None);
        assert_eq!(
            params,
            [
                ("Line".into(), "telecom".into()),
                ("ttl".into(), "60".into())
            ]
        );
        let (name, zone, _) = split_domain("www:cn.example.net");
        assert_eq!(
            (name.as_str(), zone.as_deref()),
            ("www.cn.example.net", Some("cn.example.net"))
        );
        let (name, _, _) = split_domain("@:example.org");
        assert_eq!(name, "example.org");
        let (_, _, params) =
            split_domain("a.example.com?RecordLine=%E7%94%B5%E4%BF%A1&comment=a+b");
        assert_eq!(params[0].1, "电信");
        assert_eq!(params[1].1, "a b");
        let (_, _, params) = split_domain("a.example.com?x=100%");
        assert_eq!(params[0].1, "100%");
    }

    #[test]
    fn a_callback_without_credentials_becomes_a_webhook() {
        let yaml = r##"
dnsconf:
    - name: hook
      ipv4:
        enable: true
        gettype: url
        url: https://api.ipify.org
        domains:
            - a.example.com?zone=z1
      dns:
        name: callback
        id: https://hook.example.net/set?host=#{domain}&ip=#{ip}&zone=#{zone}&ttl=#{ttl}
        secret: '{"type":"#{recordType}"}'
      ttl: "120"
"##;
        let d = convert(yaml).unwrap();
        assert_eq!(d.providers.len(), 1, "{d:?}");
        let p = &d.providers[0];
        assert_eq!(p.kind, "webhook");
        assert_eq!(
            p.fields[0].1,
            s("https://hook.example.net/set?host={name}&ip={ip}&zone=z1&ttl=120")
        );
        assert!(
            p.fields
                .contains(&("body".into(), s(r#"{"type":"{type}"}"#)))
        );
        assert!(p.fields.contains(&("method".into(), s("POST"))));
        assert_eq!(d.records[0].name, "a.example.com");
    }

    #[test]
    fn bad_yaml_names_its_line() {
        let e = convert("dnsconf:\n  - name: a\n    ipv4: [\n").unwrap_err();
        assert!(e.line.is_some(), "{e:?}");
        let e = convert("dnsconf: 3\n").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("dnsconf"));
    }
}
