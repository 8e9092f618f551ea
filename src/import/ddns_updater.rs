//! qdm12/ddns-updater's `config.json`: `{"settings": [{provider, domain, owner|host, ip_version,
//! ipv6_suffix, …the provider's own keys}]}`. Detection and notifications come from its environment, not
//! the file.

use serde_json::{Map, Value};

use super::draft::{Draft, Fam, KindFields, Record, Val, s, secret};
use super::{ImportError, fqdn};
use crate::i18n::tr;

/// Keys every entry may have.
const COMMON: &[&str] = &[
    "provider",
    "domain",
    "owner",
    "host",
    "ip_version",
    "ipv6_suffix",
];

pub(super) fn convert(text: &str) -> Result<Draft, ImportError> {
    // The docs show trailing commas that Go's JSON refuses; users copy them. Take them out, and say so.
    let trailing = regex_lite::Regex::new(r",(\s*[}\]])").unwrap();
    let cleaned = trailing.replace_all(text, "$1");
    let doc: Value = serde_json::from_str(&cleaned)
        .map_err(|e| ImportError::at(e.line(), tr("import.error.json", &[("error", &e)])))?;
    let mut d = Draft::default();
    if cleaned != text {
        d.carry("config.json", tr("import.why.trailing_commas", &[]));
    }
    let Some(settings) = doc.get("settings").and_then(Value::as_array) else {
        return Err(ImportError::field(
            "settings",
            tr("import.error.not_a_list", &[]),
        ));
    };
    for (i, entry) in settings.iter().enumerate() {
        let Some(entry) = entry.as_object() else {
            return Err(ImportError::field(
                format!("settings[{i}]"),
                tr("import.error.not_a_table", &[]),
            ));
        };
        one(&mut d, i, entry)?;
    }
    d.carry("config.json", tr("import.why.updater_env", &[]));
    Ok(d)
}

fn text<'a>(e: &'a Map<String, Value>, key: &str) -> &'a str {
    e.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .trim()
}

/// One entry of `settings[]`.
struct Entry<'a> {
    map: &'a Map<String, Value>,
    index: usize,
}

impl Entry<'_> {
    fn text(&self, key: &str) -> &str {
        text(self.map, key)
    }

    fn secret(&self, key: &str) -> Option<Val> {
        let v = self.text(key);
        (!v.is_empty()).then(|| secret(v, format!("settings[{}].{key}", self.index)))
    }

    fn need(&self, key: &str) -> Result<Val, String> {
        self.secret(key)
            .ok_or_else(|| tr("import.why.empty_credential", &[("field", &key)]))
    }
}

/// ddns-updater's id, our kind, `(our field, their key)` pairs, the zone's field.
type Simple = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
    Option<&'static str>,
);

/// Providers whose fields are keys of the entry: ddns-updater's id, our kind, `(our field, their key)`
/// (secrets all), and the field the zone goes in when the entry names one (`owner` + `domain`).
const SIMPLE: &[Simple] = &[
    ("duckdns", "duckdns", &[("token", "token")], None),
    ("dynv6", "dynv6", &[("token", "token")], None),
    ("desec", "desec", &[("token", "token")], None),
    (
        "digitalocean",
        "digitalocean",
        &[("token", "token")],
        Some("zone"),
    ),
    ("freedns", "freedns", &[("token", "token")], None),
    (
        "hetznercloud",
        "hetzner",
        &[("token", "token")],
        Some("zone"),
    ),
    ("he", "he", &[("password", "password")], None),
    (
        "namecheap",
        "namecheap",
        &[("password", "password")],
        Some("domain"),
    ),
    (
        "godaddy",
        "godaddy",
        &[("api_key", "key"), ("api_secret", "secret")],
        Some("domain"),
    ),
    (
        "porkbun",
        "porkbun",
        &[("api_key", "api_key"), ("secret_api_key", "secret_api_key")],
        Some("domain"),
    ),
];

/// Providers speaking dyndns2 with a user name and password: ddns-updater's id and our kind.
const BASIC: &[(&str, &str)] = &[
    ("noip", "noip"),
    ("dnsomatic", "dnsomatic"),
    ("dynu", "dynu"),
    ("loopia", "loopia"),
    ("selfhost.de", "selfhost"),
    ("spdyn", "spdyn"),
    ("strato", "strato"),
    ("infomaniak", "infomaniak"),
    ("changeip", "changeip"),
    ("allinkl", "allinkl"),
    ("inwx", "inwx"),
];

/// The keys each provider reads besides the common ones (the rest are listed as not used).
fn keys_of(provider: &str) -> &'static [&'static str] {
    match provider {
        "cloudflare" => &[
            "zone_identifier",
            "token",
            "proxied",
            "email",
            "key",
            "user_service_key",
            "ttl",
        ],
        "gandi" => &["personal_access_token", "key", "ttl"],
        "dyn" => &["username", "client_key", "password"],
        "aliyun" => &["access_key_id", "access_secret", "region"],
        "dnspod" => &["token"],
        "route53" => &["access_key", "secret_key", "zone_id", "ttl"],
        "ovh" => &[
            "mode",
            "api_endpoint",
            "app_key",
            "app_secret",
            "consumer_key",
            "username",
            "password",
        ],
        p if BASIC.iter().any(|b| b.0 == p) => &["username", "password", "group"],
        p => SIMPLE.iter().find(|k| k.0 == p).map_or(&[][..], |_| {
            &[
                "token",
                "password",
                "key",
                "secret",
                "api_key",
                "secret_api_key",
                "ttl",
            ]
        }),
    }
}

/// The provider of an entry, or why there is none.
fn provider_of(e: &Entry<'_>, provider: &str, zone: Option<&str>) -> Result<KindFields, String> {
    if let Some((_, kind, keys, zone_field)) = SIMPLE.iter().find(|k| k.0 == provider) {
        let mut fields = Vec::new();
        for (ours, theirs) in *keys {
            fields.push((*ours, e.need(theirs)?));
        }
        if let (Some(field), Some(zone)) = (zone_field, zone) {
            fields.push((*field, s(zone)));
        }
        return Ok((kind, fields));
    }
    if let Some((_, kind)) = BASIC.iter().find(|b| b.0 == provider) {
        let mut fields = Vec::new();
        let user = e.text("username");
        if !user.is_empty() {
            fields.push(("username", s(user)));
        }
        fields.push(("password", e.need("password")?));
        if *kind == "inwx" {
            fields.push(("ipv4_only", Val::Bool(true)));
        }
        return Ok((kind, fields));
    }
    special(e, provider)
}

/// The providers with more to them than keys.
fn special(e: &Entry<'_>, provider: &str) -> Result<KindFields, String> {
    let plain = |key: &str| match e.text(key) {
        "" => Err(tr("import.why.empty_credential", &[("field", &key)])),
        v => Ok(s(v)),
    };
    Ok(match provider {
        "cloudflare" => {
            if e.text("token").is_empty() {
                return Err(tr("import.why.cloudflare_global_key", &[]));
            }
            let mut fields = vec![("token", e.need("token")?)];
            if !e.text("zone_identifier").is_empty() {
                fields.push(("zone_id", plain("zone_identifier")?));
            }
            if let Some(p) = e.map.get("proxied").and_then(Value::as_bool) {
                fields.push(("proxied", Val::Bool(p)));
            }
            ("cloudflare", fields)
        }
        "gandi" => match e.secret("personal_access_token") {
            Some(token) => ("gandi", vec![("token", token)]),
            None => return Err(tr("import.why.gandi_legacy_key", &[])),
        },
        "dyn" => {
            let key = e.secret("client_key").or_else(|| e.secret("password"));
            let key =
                key.ok_or_else(|| tr("import.why.empty_credential", &[("field", &"client_key")]))?;
            (
                "dyn",
                vec![("username", plain("username")?), ("password", key)],
            )
        }
        "aliyun" => (
            "alidns",
            vec![
                ("access_key_id", plain("access_key_id")?),
                ("access_key_secret", e.need("access_secret")?),
            ],
        ),
        "dnspod" => {
            let Some((id, token)) = e.text("token").split_once(',') else {
                return Err(tr("import.why.empty_credential", &[("field", &"token")]));
            };
            (
                "dnspod-token",
                vec![
                    ("token_id", s(id.trim())),
                    (
                        "token",
                        secret(token.trim(), format!("settings[{}].token", e.index)),
                    ),
                ],
            )
        }
        "route53" => {
            let mut fields = vec![
                ("access_key_id", plain("access_key")?),
                ("secret_access_key", e.need("secret_key")?),
            ];
            if !e.text("zone_id").is_empty() {
                fields.push(("zone_id", plain("zone_id")?));
            }
            ("route53", fields)
        }
        "ovh" => {
            if e.text("mode") != "api" {
                return Err(tr("import.why.ovh_dynhost", &[]));
            }
            let region = match e.text("api_endpoint") {
                "ovh-ca" => "ca",
                "ovh-us" => "us",
                _ => "eu",
            };
            (
                "ovh",
                vec![
                    ("application_key", plain("app_key")?),
                    ("application_secret", e.need("app_secret")?),
                    ("consumer_key", e.need("consumer_key")?),
                    ("region", s(region)),
                ],
            )
        }
        "hetzner" => return Err(tr("import.why.hetzner_legacy", &[])),
        "google" => return Err(tr("import.why.google_domains", &[])),
        other => return Err(tr("import.why.no_kind", &[("kind", &other)])),
    })
}

/// The names of an entry: `owner`/`host` (before v2.8.0) with `domain` as the zone, else the FQDNs in
/// `domain`; and the zone when the entry names one.
fn names_of(e: &Entry<'_>) -> Result<(Vec<String>, Option<String>), ImportError> {
    let domain = e.text("domain");
    if domain.is_empty() {
        return Err(ImportError::field(
            format!("settings[{}].domain", e.index),
            tr("import.error.missing", &[]),
        ));
    }
    let owners = [e.text("owner"), e.text("host")]
        .into_iter()
        .find(|o| !o.is_empty());
    Ok(match owners {
        Some(owners) => (
            owners
                .split(',')
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .map(|o| match o {
                    "@" => fqdn(domain),
                    o => format!("{}.{}", fqdn(o), fqdn(domain)),
                })
                .collect(),
            Some(fqdn(domain)),
        ),
        None => (
            domain
                .split(',')
                .map(fqdn)
                .filter(|n| !n.is_empty())
                .collect(),
            None,
        ),
    })
}

fn one(d: &mut Draft, index: usize, map: &Map<String, Value>) -> Result<(), ImportError> {
    let e = Entry { map, index };
    let provider = e.text("provider").to_ascii_lowercase();
    let at = format!("settings[{index}] ({provider})");
    let (names, zone) = names_of(&e)?;
    let families: &[Fam] = match e.text("ip_version") {
        "ipv4" => &[Fam::V4],
        "ipv6" => &[Fam::V6],
        "" | "ipv4 or ipv6" => {
            d.carry(
                format!("{at}: ip_version"),
                tr("import.why.both_families", &[]),
            );
            &[Fam::V4, Fam::V6]
        }
        other => {
            return Err(ImportError::field(
                format!("settings[{index}].ip_version"),
                tr("import.error.ip_version", &[("value", &other)]),
            ));
        }
    };
    if provider == "custom" {
        custom(d, &at, map, &names, families);
        return Ok(());
    }
    let (kind, fields) = match provider_of(&e, &provider, zone.as_deref()) {
        Ok(p) => p,
        Err(why) => {
            d.leave(format!("{at}: {}", names.join(", ")), why);
            return Ok(());
        }
    };
    if provider == "aliyun" && !e.text("region").is_empty() {
        d.carry(format!("{at}: region"), tr("import.why.region_unused", &[]));
    }
    let used = keys_of(&provider);
    for key in map.keys() {
        if !COMMON.contains(&key.as_str()) && !used.contains(&key.as_str()) {
            d.leave(format!("{at}: {key}"), tr("import.why.not_used", &[]));
        }
    }
    if provider == "dynu" && !e.text("group").is_empty() {
        d.leave(format!("{at}: group"), tr("import.why.not_used", &[]));
    }
    let ttl = map
        .get("ttl")
        .and_then(Value::as_u64)
        .and_then(|t| u32::try_from(t).ok())
        .filter(|t| !(kind == "cloudflare" && *t == 1));
    let (ipv6_host, prefix_len) = match e.text("ipv6_suffix") {
        "" => (None, None),
        suffix => {
            let (addr, bits) = suffix.split_once('/').unwrap_or((suffix, "64"));
            match bits.parse::<u8>() {
                Ok(n) if n <= 128 => (Some(addr.to_owned()), Some(128 - n)),
                _ => {
                    return Err(ImportError::field(
                        format!("settings[{index}].ipv6_suffix"),
                        tr("import.error.ipv6_suffix", &[]),
                    ));
                }
            }
        }
    };
    let names = if kind == "duckdns" {
        duckdns_names(d, &at, &names)
    } else {
        names
    };
    let provider_name = d.provider(&format!("{provider}-{}", hint(&names)), kind, fields);
    for name in &names {
        for fam in families {
            if kind == "namecheap" && *fam == Fam::V6 {
                continue;
            }
            let v6 = *fam == Fam::V6;
            d.record(Record {
                name: name.clone(),
                provider: provider_name.clone(),
                rtype: Some(fam.rtype()),
                ttl,
                ipv6_host: ipv6_host.clone().filter(|_| v6),
                ipv6_prefix_len: prefix_len.filter(|_| v6),
                ..Record::default()
            });
        }
    }
    if kind == "namecheap" && families.contains(&Fam::V6) {
        d.leave(format!("{at}: AAAA"), tr("import.why.namecheap_v6", &[]));
    }
    Ok(())
}

/// `DuckDNS` answers every name under `<sub>.duckdns.org` with `<sub>`'s address: one record for them.
fn duckdns_names(d: &mut Draft, at: &str, names: &[String]) -> Vec<String> {
    let mut kept: Vec<String> = Vec::new();
    for name in names {
        let labels: Vec<&str> = name.split('.').collect();
        let base = labels[labels.len().saturating_sub(3)..].join(".");
        if base != *name {
            d.carry(
                format!("{at}: {name}"),
                tr("import.why.duckdns_sub", &[("name", &base)]),
            );
        }
        if !kept.contains(&base) {
            kept.push(base);
        }
    }
    kept
}

/// `custom`: `url` with `ipv4key=<ip>` or `ipv6key=<ip>` added, `success_regex`: one webhook per family
/// key.
fn custom(d: &mut Draft, at: &str, e: &Map<String, Value>, names: &[String], families: &[Fam]) {
    let url = text(e, "url");
    if let Some(field) = super::credential_in(url) {
        d.leave(
            format!("{at}: {}", names.join(", ")),
            tr("import.why.credential_in_request", &[("field", &field)]),
        );
        return;
    }
    for fam in families {
        let key = text(
            e,
            if *fam == Fam::V4 {
                "ipv4key"
            } else {
                "ipv6key"
            },
        );
        if key.is_empty() {
            d.leave(
                format!("{at}: {}", fam.rtype()),
                tr("import.why.custom_no_key", &[]),
            );
            continue;
        }
        let sep = if url.contains('?') { '&' } else { '?' };
        let mut fields = vec![("url", s(&format!("{url}{sep}{key}={{ip}}")))];
        let re = text(e, "success_regex");
        if !re.is_empty() {
            fields.push(("success_regex", s(re)));
        }
        let provider = d.provider(&format!("custom-{}", hint(names)), "webhook", fields);
        for name in names {
            d.simple(name, &provider, *fam, None);
        }
    }
}

fn hint(names: &[String]) -> String {
    names.first().map_or_else(String::new, |n| {
        let labels: Vec<&str> = n.split('.').filter(|l| *l != "*").collect();
        labels[labels.len().saturating_sub(2)..].join(".")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_suffixes_and_trailing_commas() {
        let d = convert(
            r#"{"settings": [{"provider": "dynv6", "domain": "example.dynv6.net", "owner": "@,www",
            "token": "t0k3n", "ip_version": "ipv6", "ipv6_suffix": "::1a/64",},]}"#,
        )
        .unwrap();
        let names: Vec<&str> = d.records.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["example.dynv6.net", "www.example.dynv6.net"]);
        assert_eq!(d.records[0].ipv6_host.as_deref(), Some("::1a"));
        assert_eq!(d.records[0].ipv6_prefix_len, Some(64));
        assert!(
            d.carried
                .iter()
                .any(|n| n.why == tr("import.why.trailing_commas", &[]))
        );
    }

    #[test]
    fn broken_json_names_its_line() {
        let e = convert("{\n\"settings\": [\n{\"provider\": }\n]}").unwrap_err();
        assert_eq!(e.line, Some(3), "{e:?}");
        let e = convert("{\"settings\": [{\"provider\": \"duckdns\"}]}").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("settings[0].domain"));
    }
}
