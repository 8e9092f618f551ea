//! qdm12/ddns-updater's `config.json`: `{"settings": [{provider, domain, owner|host, ip_version,
//! ipv6_suffix, …the provider's own keys}]}`. Detection and notifications come from its environment, not
//! the file.

use serde_json::{Map, Value};

use super::draft::{Draft, Fam, Record, Val, s, secret};
use super::{ImportError, fqdn};
use crate::i18n::tr;

/// Keys every entry may have.
const COMMON: &[&str] = &["provider", "domain", "owner", "host", "ip_version", "ipv6_suffix"];

pub(super) fn convert(text: &str) -> Result<Draft, ImportError> {
    // The docs show trailing commas that Go's JSON refuses; users copy them. Take them out, and say so.
    let trailing = regex_lite::Regex::new(r",(\s*[}\]])").unwrap();
    let cleaned = trailing.replace_all(text, "$1");
    let doc: Value = serde_json::from_str(&cleaned).map_err(|e| {
        ImportError::at(e.line(), tr("import.error.json", &[("error", &e)]))
    })?;
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
    e.get(key).and_then(Value::as_str).unwrap_or_default().trim()
}

fn one(d: &mut Draft, i: usize, e: &Map<String, Value>) -> Result<(), ImportError> {
    let provider = text(e, "provider").to_ascii_lowercase();
    let at = format!("settings[{i}] ({provider})");
    let domain = text(e, "domain");
    if domain.is_empty() {
        return Err(ImportError::field(
            format!("settings[{i}].domain"),
            tr("import.error.missing", &[]),
        ));
    }
    // The names: `owner`/`host` (before v2.8.0) with `domain` as the zone, else FQDNs in `domain`.
    let owners = [text(e, "owner"), text(e, "host")]
        .into_iter()
        .find(|o| !o.is_empty());
    let names: Vec<String> = match owners {
        Some(owners) => owners
            .split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(|o| match o {
                "@" => fqdn(domain),
                o => format!("{}.{}", fqdn(o), fqdn(domain)),
            })
            .collect(),
        None => domain
            .split(',')
            .map(fqdn)
            .filter(|n| !n.is_empty())
            .collect(),
    };
    let families: &[Fam] = match text(e, "ip_version") {
        "ipv4" => &[Fam::V4],
        "ipv6" => &[Fam::V6],
        "" | "ipv4 or ipv6" => {
            d.carry(format!("{at}: ip_version"), tr("import.why.both_families", &[]));
            &[Fam::V4, Fam::V6]
        }
        other => {
            return Err(ImportError::field(
                format!("settings[{i}].ip_version"),
                tr("import.error.ip_version", &[("value", &other)]),
            ));
        }
    };
    let sec = |key: &str| {
        let v = text(e, key);
        (!v.is_empty()).then(|| secret(v, format!("settings[{i}].{key}")))
    };
    let need = |key: &str| sec(key).ok_or_else(|| tr("import.why.empty_credential", &[("field", &key)]));
    let mut used: Vec<&str> = vec!["ttl", "provider_ip"];
    let zone_hint = owners.map(|_| fqdn(domain));
    if provider == "custom" {
        custom(d, &at, e, &names, families);
        return Ok(());
    }
    let result: Result<(&str, Vec<(&str, Val)>), String> = (|| {
        Ok(match provider.as_str() {
            "cloudflare" => {
                used.extend(["zone_identifier", "token", "proxied", "email", "key", "user_service_key"]);
                if text(e, "token").is_empty() {
                    return Err(tr("import.why.cloudflare_global_key", &[]));
                }
                let mut f = vec![("token", need("token")?)];
                let zone_id = text(e, "zone_identifier");
                if !zone_id.is_empty() {
                    f.push(("zone_id", s(zone_id)));
                }
                if let Some(p) = e.get("proxied").and_then(Value::as_bool) {
                    f.push(("proxied", Val::Bool(p)));
                }
                ("cloudflare", f)
            }
            "duckdns" => {
                used.push("token");
                ("duckdns", vec![("token", need("token")?)])
            }
            "godaddy" => {
                used.extend(["key", "secret"]);
                let mut f = vec![("api_key", need("key")?), ("api_secret", need("secret")?)];
                if let Some(z) = &zone_hint {
                    f.push(("domain", s(z)));
                }
                ("godaddy", f)
            }
            "porkbun" => {
                used.extend(["api_key", "secret_api_key"]);
                let mut f = vec![
                    ("api_key", need("api_key")?),
                    ("secret_api_key", need("secret_api_key")?),
                ];
                if let Some(z) = &zone_hint {
                    f.push(("domain", s(z)));
                }
                ("porkbun", f)
            }
            "namecheap" => {
                used.push("password");
                let mut f = vec![("password", need("password")?)];
                if let Some(z) = &zone_hint {
                    f.push(("domain", s(z)));
                }
                ("namecheap", f)
            }
            "dynv6" => {
                used.push("token");
                ("dynv6", vec![("token", need("token")?)])
            }
            "desec" => {
                used.push("token");
                ("desec", vec![("token", need("token")?)])
            }
            "gandi" => {
                used.extend(["personal_access_token", "key"]);
                if text(e, "personal_access_token").is_empty() {
                    return Err(tr("import.why.gandi_legacy_key", &[]));
                }
                ("gandi", vec![("token", need("personal_access_token")?)])
            }
            "hetzner" => return Err(tr("import.why.hetzner_legacy", &[])),
            "hetznercloud" => {
                used.push("token");
                ("hetzner", vec![("token", need("token")?)])
            }
            "noip" | "dnsomatic" | "dynu" | "loopia" | "selfhost.de" | "spdyn" | "strato"
            | "infomaniak" | "changeip" | "allinkl" | "inwx" => {
                used.extend(["username", "password", "group"]);
                let kind = match provider.as_str() {
                    "selfhost.de" => "selfhost",
                    p => kinds_static(p),
                };
                let mut f = Vec::new();
                let user = text(e, "username");
                if !user.is_empty() {
                    f.push(("username", s(user)));
                }
                f.push(("password", need("password")?));
                if kind == "inwx" {
                    f.push(("ipv4_only", Val::Bool(true)));
                }
                (kind, f)
            }
            "dyn" => {
                used.extend(["username", "client_key", "password"]);
                let key = sec("client_key").or_else(|| sec("password"));
                let key = key.ok_or_else(|| tr("import.why.empty_credential", &[("field", &"client_key")]))?;
                ("dyn", vec![("username", s(text(e, "username"))), ("password", key)])
            }
            "he" => {
                used.push("password");
                ("he", vec![("password", need("password")?)])
            }
            "aliyun" => {
                used.extend(["access_key_id", "access_secret", "region"]);
                let id = text(e, "access_key_id");
                if id.is_empty() {
                    return Err(tr("import.why.empty_credential", &[("field", &"access_key_id")]));
                }
                ("alidns", vec![("access_key_id", s(id)), ("access_key_secret", need("access_secret")?)])
            }
            "dnspod" => {
                used.push("token");
                let token = text(e, "token");
                let Some((id, tok)) = token.split_once(',') else {
                    return Err(tr("import.why.empty_credential", &[("field", &"token")]));
                };
                (
                    "dnspod-token",
                    vec![
                        ("token_id", s(id.trim())),
                        ("token", secret(tok.trim(), format!("settings[{i}].token"))),
                    ],
                )
            }
            "route53" => {
                used.extend(["access_key", "secret_key", "zone_id"]);
                let id = text(e, "access_key");
                if id.is_empty() {
                    return Err(tr("import.why.empty_credential", &[("field", &"access_key")]));
                }
                let mut f = vec![("access_key_id", s(id)), ("secret_access_key", need("secret_key")?)];
                let z = text(e, "zone_id");
                if !z.is_empty() {
                    f.push(("zone_id", s(z)));
                }
                ("route53", f)
            }
            "digitalocean" => {
                used.push("token");
                ("digitalocean", vec![("token", need("token")?)])
            }
            "freedns" => {
                used.push("token");
                ("freedns", vec![("token", need("token")?)])
            }
            "ovh" => {
                used.extend(["mode", "api_endpoint", "app_key", "app_secret", "consumer_key", "username", "password"]);
                if text(e, "mode") != "api" {
                    return Err(tr("import.why.ovh_dynhost", &[]));
                }
                let region = match text(e, "api_endpoint") {
                    "ovh-ca" => "ca",
                    "ovh-us" => "us",
                    _ => "eu",
                };
                let ak = text(e, "app_key");
                if ak.is_empty() {
                    return Err(tr("import.why.empty_credential", &[("field", &"app_key")]));
                }
                (
                    "ovh",
                    vec![
                        ("application_key", s(ak)),
                        ("application_secret", need("app_secret")?),
                        ("consumer_key", need("consumer_key")?),
                        ("region", s(region)),
                    ],
                )
            }
            "google" => return Err(tr("import.why.google_domains", &[])),
            other => return Err(tr("import.why.no_kind", &[("kind", &other)])),
        })
    })();
    let (kind, fields) = match result {
        Ok(p) => p,
        Err(why) => {
            d.leave(format!("{at}: {}", names.join(", ")), why);
            return Ok(());
        }
    };
    if provider == "aliyun" && !text(e, "region").is_empty() {
        d.carry(format!("{at}: region"), tr("import.why.region_unused", &[]));
    }
    for key in e.keys() {
        if !COMMON.contains(&key.as_str()) && !used.contains(&key.as_str()) {
            d.leave(format!("{at}: {key}"), tr("import.why.not_used", &[]));
        }
    }
    if e.get("provider_ip").is_some() {
        d.leave(format!("{at}: provider_ip"), tr("import.why.not_used", &[]));
    }
    if provider == "dynu" && !text(e, "group").is_empty() {
        d.leave(format!("{at}: group"), tr("import.why.not_used", &[]));
    }
    let ttl = e
        .get("ttl")
        .and_then(Value::as_u64)
        .and_then(|t| u32::try_from(t).ok())
        .filter(|t| !(kind == "cloudflare" && *t == 1));
    let (ipv6_host, prefix_len) = match text(e, "ipv6_suffix") {
        "" => (None, None),
        suffix => {
            let (addr, bits) = suffix.split_once('/').unwrap_or((suffix, "64"));
            match bits.parse::<u8>() {
                Ok(n) if n <= 128 => (Some(addr.to_owned()), Some(128 - n)),
                _ => {
                    return Err(ImportError::field(
                        format!("settings[{i}].ipv6_suffix"),
                        tr("import.error.ipv6_suffix", &[]),
                    ));
                }
            }
        }
    };
    // DuckDNS answers every name under <sub>.duckdns.org with <sub>'s address: one record for them.
    let mut names = names;
    if kind == "duckdns" {
        let mut kept: Vec<String> = Vec::new();
        for name in &names {
            let labels: Vec<&str> = name.split('.').collect();
            let base = labels[labels.len().saturating_sub(3)..].join(".");
            if base != *name {
                d.carry(format!("{at}: {name}"), tr("import.why.duckdns_sub", &[("name", &base)]));
            }
            if !kept.contains(&base) {
                kept.push(base);
            }
        }
        names = kept;
    }
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
        let key = text(e, if *fam == Fam::V4 { "ipv4key" } else { "ipv6key" });
        if key.is_empty() {
            d.leave(format!("{at}: {}", fam.rtype()), tr("import.why.custom_no_key", &[]));
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

fn kinds_static(p: &str) -> &'static str {
    ["noip", "dnsomatic", "dynu", "loopia", "spdyn", "strato", "infomaniak", "changeip", "allinkl", "inwx"]
        .into_iter()
        .find(|k| *k == p)
        .unwrap_or("dyndns2")
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
        assert!(d.carried.iter().any(|n| n.why == tr("import.why.trailing_commas", &[])));
    }

    #[test]
    fn broken_json_names_its_line() {
        let e = convert("{\n\"settings\": [\n{\"provider\": }\n]}").unwrap_err();
        assert_eq!(e.line, Some(3), "{e:?}");
        let e = convert("{\"settings\": [{\"provider\": \"duckdns\"}]}").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("settings[0].domain"));
    }
}
