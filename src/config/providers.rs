//! Provider configs as written in `[[provider]]`, and [`KINDS`], the one table that lists every provider kind
//! with its fields (read by `ddns-tray check --providers`, validation hints, the start-up summary and the
//! settings dialog). A unit test keeps the table and the structs in step.
//!
//! Adding a provider: a struct and a [`ProviderKind`] variant here, its [`KINDS`] entry, a file in
//! `provider/`, its arm in `provider::build` and in validation (the compiler lists the `match`es), a README
//! section and tests.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::secret::Secret;

/// One field of a provider kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FieldInfo {
    pub name: &'static str,
    pub required: bool,
    /// Shown masked, stored in the keyring when one is available.
    pub secret: bool,
    pub help: &'static str,
}

/// One provider kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct KindInfo {
    /// The `kind = "..."` value.
    pub kind: &'static str,
    pub title: &'static str,
    /// Which credential to create, with the smallest permission that works.
    pub credential: &'static str,
    pub fields: &'static [FieldInfo],
}

const fn req(name: &'static str, help: &'static str) -> FieldInfo {
    FieldInfo {
        name,
        required: true,
        secret: false,
        help,
    }
}
const fn opt(name: &'static str, help: &'static str) -> FieldInfo {
    FieldInfo {
        name,
        required: false,
        secret: false,
        help,
    }
}
const fn secret(name: &'static str, help: &'static str) -> FieldInfo {
    FieldInfo {
        name,
        required: true,
        secret: true,
        help,
    }
}
const ENDPOINT: FieldInfo = opt(
    "endpoint",
    "base URL of the API (default: the provider's public URL)",
);

const DYNDNS2_FIELDS: &[FieldInfo] = &[
    opt(
        "server",
        "base URL of the update server (default: the preset's)",
    ),
    opt("username", "account user name, e.g. the DDNS key's ID"),
    secret("password", "password or update key"),
];

/// Every provider kind, in the order the settings dialog lists them.
pub const KINDS: &[KindInfo] = &[
    KindInfo {
        kind: "cloudflare",
        title: "Cloudflare",
        credential: "an API token with Zone > DNS > Edit (and Zone > Zone > Read unless zone_id is set) for the zone",
        fields: &[
            secret("token", "scoped API token (not the Global API Key)"),
            opt(
                "zone_id",
                "the zone's id; found from the record name when left out",
            ),
            opt(
                "proxied",
                "proxy through Cloudflare; an existing record's setting is kept when left out",
            ),
            opt(
                "comment",
                "record comment; an existing record's comment is kept when left out",
            ),
            ENDPOINT,
        ],
    },
    KindInfo {
        kind: "alidns",
        title: "Alibaba Cloud DNS",
        credential: "a RAM user AccessKey with AliyunDNSFullAccess (or alidns:*DomainRecord* on the domain)",
        fields: &[
            req("access_key_id", "AccessKey ID"),
            secret("access_key_secret", "AccessKey secret"),
            ENDPOINT,
        ],
    },
    KindInfo {
        kind: "dnspod",
        title: "Tencent Cloud DNSPod",
        credential: "a CAM sub-user API key (SecretId/SecretKey) with QcloudDNSPodFullAccess",
        fields: &[
            req("secret_id", "SecretId (AKID...)"),
            secret("secret_key", "SecretKey"),
            ENDPOINT,
        ],
    },
    KindInfo {
        kind: "huaweicloud",
        title: "Huawei Cloud DNS",
        credential: "an IAM user access key (AK/SK) with the DNS FullAccess policy",
        fields: &[
            req("access_key_id", "access key ID (AK)"),
            secret("secret_access_key", "secret access key (SK)"),
            ENDPOINT,
        ],
    },
    KindInfo {
        kind: "dyndns2",
        title: "dyndns2 (/nic/update)",
        credential: "the service's update user name and password or key",
        fields: DYNDNS2_FIELDS,
    },
    KindInfo {
        kind: "noip",
        title: "No-IP",
        credential: "a DDNS key (ID and key) for the hostname, or the account email and password",
        fields: DYNDNS2_FIELDS,
    },
    KindInfo {
        kind: "dynu",
        title: "Dynu",
        credential: "the account user name and the IP update password",
        fields: DYNDNS2_FIELDS,
    },
    KindInfo {
        kind: "dyn",
        title: "Dyn (Oracle)",
        credential: "the account user name and an updater client key",
        fields: DYNDNS2_FIELDS,
    },
    KindInfo {
        kind: "he",
        title: "Hurricane Electric",
        credential: "the dynamic DNS key generated for the record (user name defaults to the record name)",
        fields: DYNDNS2_FIELDS,
    },
    KindInfo {
        kind: "dnsomatic",
        title: "DNS-O-Matic",
        credential: "the OpenDNS/DNS-O-Matic account user name and password",
        fields: DYNDNS2_FIELDS,
    },
    KindInfo {
        kind: "duckdns",
        title: "DuckDNS",
        credential: "the account token shown on duckdns.org",
        fields: &[secret("token", "account token"), ENDPOINT],
    },
    KindInfo {
        kind: "desec",
        title: "deSEC",
        credential: "a token (Token management); restrict it to the domain with a token policy if you can",
        fields: &[secret("token", "API token"), ENDPOINT],
    },
    KindInfo {
        kind: "porkbun",
        title: "Porkbun",
        credential: "an API key pair, with API ACCESS switched on for the domain",
        fields: &[
            secret("api_key", "API key (pk1_...)"),
            secret("secret_api_key", "secret API key (sk1_...)"),
            opt(
                "domain",
                "the registered domain; default: the last two labels of the record name",
            ),
            ENDPOINT,
        ],
    },
    KindInfo {
        kind: "godaddy",
        title: "GoDaddy",
        credential: "a production API key and secret (GoDaddy allows DNS API use only to some accounts)",
        fields: &[
            secret("api_key", "API key"),
            secret("api_secret", "API secret"),
            opt(
                "domain",
                "the registered domain; default: the last two labels of the record name",
            ),
            ENDPOINT,
        ],
    },
    KindInfo {
        kind: "namecheap",
        title: "Namecheap Dynamic DNS",
        credential: "the domain's Dynamic DNS password (Advanced DNS page), not the account password; IPv4 only",
        fields: &[
            secret("password", "Dynamic DNS password"),
            opt(
                "domain",
                "the registered domain; default: the last two labels of the record name",
            ),
            ENDPOINT,
        ],
    },
    KindInfo {
        kind: "hetzner",
        title: "Hetzner (Cloud API DNS)",
        credential: "a project API token with Read & Write",
        fields: &[
            secret("token", "project API token"),
            opt("zone", "the zone; found from the record name when left out"),
            ENDPOINT,
        ],
    },
    KindInfo {
        kind: "gandi",
        title: "Gandi LiveDNS",
        credential: "a personal access token with \"Manage domain name technical configurations\"",
        fields: &[
            secret("token", "personal access token"),
            opt(
                "zone",
                "the domain; found from the record name when left out",
            ),
            ENDPOINT,
        ],
    },
    KindInfo {
        kind: "dynv6",
        title: "dynv6",
        credential: "an HTTP token (Keys > HTTP Tokens) for the zone",
        fields: &[secret("token", "HTTP token"), ENDPOINT],
    },
    KindInfo {
        kind: "powerdns",
        title: "PowerDNS (HTTP API)",
        credential: "the server's api-key",
        fields: &[
            req("url", "webserver URL, e.g. http://127.0.0.1:8081"),
            secret("api_key", "api-key from pdns.conf"),
            opt("server_id", "default localhost"),
            opt("zone", "found from the record name when left out"),
        ],
    },
    KindInfo {
        kind: "rfc2136",
        title: "RFC 2136 dynamic update (TSIG)",
        credential: "a TSIG key the server allows to update the zone",
        fields: &[
            req("server", "primary server, host:port"),
            req("zone", "the zone to update"),
            req("key_name", "TSIG key name"),
            opt(
                "key_algorithm",
                "hmac-sha256 (default), hmac-sha384 or hmac-sha512",
            ),
            secret("key_secret", "TSIG secret, base64"),
        ],
    },
    KindInfo {
        kind: "webhook",
        title: "Webhook (any HTTP request)",
        credential: "whatever the endpoint needs (put tokens in headers as secrets)",
        fields: &[
            req("url", "{ip}, {name} and {type} are filled in"),
            opt("method", "GET, POST, PUT, PATCH or DELETE"),
            opt("headers", "a table; values may be secrets"),
            opt("body", "request body, with placeholders"),
            opt("success_regex", "the answer must match it"),
        ],
    },
];

/// The `kind` values, for hints.
#[must_use]
pub fn kind_names() -> Vec<&'static str> {
    KINDS.iter().map(|k| k.kind).collect()
}

/// The table entry of a kind.
#[must_use]
pub fn kind_info(kind: &str) -> Option<&'static KindInfo> {
    KINDS.iter().find(|k| k.kind == kind)
}

/// The provider kinds and their fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ProviderKind {
    Cloudflare(CloudflareFile),
    Alidns(AccessKeyFile),
    Dnspod(DnspodFile),
    Huaweicloud(HuaweiFile),
    Dyndns2(Dyndns2File),
    Noip(Dyndns2File),
    Dynu(Dyndns2File),
    Dyn(Dyndns2File),
    He(Dyndns2File),
    Dnsomatic(Dyndns2File),
    Duckdns(TokenFile),
    Desec(TokenFile),
    Porkbun(PorkbunFile),
    Godaddy(GodaddyFile),
    Namecheap(NamecheapFile),
    Hetzner(ZoneTokenFile),
    Gandi(ZoneTokenFile),
    Dynv6(TokenFile),
    Powerdns(PowerDnsFile),
    Rfc2136(Rfc2136File),
    Webhook(WebhookFile),
}

impl ProviderKind {
    /// The `kind = "..."` value.
    #[must_use]
    pub fn kind_name(&self) -> &'static str {
        match self {
            Self::Cloudflare(_) => "cloudflare",
            Self::Alidns(_) => "alidns",
            Self::Dnspod(_) => "dnspod",
            Self::Huaweicloud(_) => "huaweicloud",
            Self::Dyndns2(_) => "dyndns2",
            Self::Noip(_) => "noip",
            Self::Dynu(_) => "dynu",
            Self::Dyn(_) => "dyn",
            Self::He(_) => "he",
            Self::Dnsomatic(_) => "dnsomatic",
            Self::Duckdns(_) => "duckdns",
            Self::Desec(_) => "desec",
            Self::Porkbun(_) => "porkbun",
            Self::Godaddy(_) => "godaddy",
            Self::Namecheap(_) => "namecheap",
            Self::Hetzner(_) => "hetzner",
            Self::Gandi(_) => "gandi",
            Self::Dynv6(_) => "dynv6",
            Self::Powerdns(_) => "powerdns",
            Self::Rfc2136(_) => "rfc2136",
            Self::Webhook(_) => "webhook",
        }
    }

    /// Every secret the provider holds (for fingerprints and for redacting server answers).
    #[must_use]
    pub fn secrets(&self) -> Vec<&Secret> {
        match self {
            Self::Cloudflare(c) => vec![&c.token],
            Self::Alidns(c) => vec![&c.access_key_secret],
            Self::Dnspod(c) => vec![&c.secret_key],
            Self::Huaweicloud(c) => vec![&c.secret_access_key],
            Self::Dyndns2(c)
            | Self::Noip(c)
            | Self::Dynu(c)
            | Self::Dyn(c)
            | Self::He(c)
            | Self::Dnsomatic(c) => vec![&c.password],
            Self::Duckdns(c) | Self::Desec(c) | Self::Dynv6(c) => vec![&c.token],
            Self::Porkbun(c) => vec![&c.api_key, &c.secret_api_key],
            Self::Godaddy(c) => vec![&c.api_key, &c.api_secret],
            Self::Namecheap(c) => vec![&c.password],
            Self::Hetzner(c) | Self::Gandi(c) => vec![&c.token],
            Self::Powerdns(c) => vec![&c.api_key],
            Self::Rfc2136(c) => vec![&c.key_secret],
            Self::Webhook(c) => c.headers.values().collect(),
        }
    }

    /// Every secret, mutably, with its field path relative to the provider (for resolving them).
    pub fn secrets_mut(&mut self) -> Vec<(String, &mut Secret)> {
        let one = |name: &str, s| vec![(name.to_owned(), s)];
        match self {
            Self::Cloudflare(c) => one("token", &mut c.token),
            Self::Alidns(c) => one("access_key_secret", &mut c.access_key_secret),
            Self::Dnspod(c) => one("secret_key", &mut c.secret_key),
            Self::Huaweicloud(c) => one("secret_access_key", &mut c.secret_access_key),
            Self::Dyndns2(c)
            | Self::Noip(c)
            | Self::Dynu(c)
            | Self::Dyn(c)
            | Self::He(c)
            | Self::Dnsomatic(c) => one("password", &mut c.password),
            Self::Duckdns(c) | Self::Desec(c) | Self::Dynv6(c) => one("token", &mut c.token),
            Self::Porkbun(c) => vec![
                ("api_key".into(), &mut c.api_key),
                ("secret_api_key".into(), &mut c.secret_api_key),
            ],
            Self::Godaddy(c) => vec![
                ("api_key".into(), &mut c.api_key),
                ("api_secret".into(), &mut c.api_secret),
            ],
            Self::Namecheap(c) => one("password", &mut c.password),
            Self::Hetzner(c) | Self::Gandi(c) => one("token", &mut c.token),
            Self::Powerdns(c) => one("api_key", &mut c.api_key),
            Self::Rfc2136(c) => one("key_secret", &mut c.key_secret),
            Self::Webhook(c) => c
                .headers
                .iter_mut()
                .map(|(k, v)| (format!("headers.{k}"), v))
                .collect(),
        }
    }

    /// The `endpoint` override, for kinds that have one.
    #[must_use]
    pub fn endpoint(&self) -> Option<&str> {
        match self {
            Self::Cloudflare(c) => c.endpoint.as_deref(),
            Self::Alidns(c) => c.endpoint.as_deref(),
            Self::Dnspod(c) => c.endpoint.as_deref(),
            Self::Huaweicloud(c) => c.endpoint.as_deref(),
            Self::Dyndns2(c)
            | Self::Noip(c)
            | Self::Dynu(c)
            | Self::Dyn(c)
            | Self::He(c)
            | Self::Dnsomatic(c) => c.server.as_deref(),
            Self::Duckdns(c) | Self::Desec(c) | Self::Dynv6(c) => c.endpoint.as_deref(),
            Self::Porkbun(c) => c.endpoint.as_deref(),
            Self::Godaddy(c) => c.endpoint.as_deref(),
            Self::Namecheap(c) => c.endpoint.as_deref(),
            Self::Hetzner(c) | Self::Gandi(c) => c.endpoint.as_deref(),
            Self::Powerdns(c) => Some(&c.url),
            Self::Rfc2136(_) | Self::Webhook(_) => None,
        }
    }

    /// The zone the provider is pinned to, when its config names one.
    #[must_use]
    pub fn zone(&self) -> Option<&str> {
        match self {
            Self::Powerdns(c) => c.zone.as_deref(),
            Self::Rfc2136(c) => Some(&c.zone),
            Self::Hetzner(c) | Self::Gandi(c) => c.zone.as_deref(),
            Self::Porkbun(c) => c.domain.as_deref(),
            Self::Godaddy(c) => c.domain.as_deref(),
            Self::Namecheap(c) => c.domain.as_deref(),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloudflareFile {
    pub token: Secret,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxied: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessKeyFile {
    pub access_key_id: String,
    pub access_key_secret: Secret,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DnspodFile {
    pub secret_id: String,
    pub secret_key: Secret,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HuaweiFile {
    pub access_key_id: String,
    pub secret_access_key: Secret,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dyndns2File {
    /// Base URL of the update server; `/nic/update` is added unless the URL has a path.
    #[serde(default, alias = "endpoint", skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    pub password: Secret,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenFile {
    pub token: Secret,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneTokenFile {
    pub token: Secret,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PorkbunFile {
    pub api_key: Secret,
    pub secret_api_key: Secret,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GodaddyFile {
    pub api_key: Secret,
    pub api_secret: Secret,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamecheapFile {
    pub password: Secret,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

/// `PowerDNS` Authoritative HTTP API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PowerDnsFile {
    /// Base URL of the webserver, e.g. `http://127.0.0.1:8081`.
    pub url: String,
    pub api_key: Secret,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
}

/// RFC 2136 DNS UPDATE signed with TSIG.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rfc2136File {
    /// `host:port` of the primary server.
    pub server: String,
    pub zone: String,
    pub key_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_algorithm: Option<String>,
    /// Base64, as in BIND/Knot key files.
    pub key_secret: Secret,
}

/// A user-defined HTTP request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookFile {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Header values may be secrets (`{ env = "TOKEN" }`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_regex: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kind in the table parses with exactly its listed fields, and rejects any other field: the table
    /// and the structs cannot drift apart.
    #[test]
    fn table_and_structs_agree() {
        for info in KINDS {
            let mut table = toml::Table::new();
            table.insert("kind".into(), info.kind.into());
            for f in info.fields {
                let value: toml::Value = match f.name {
                    "proxied" => true.into(),
                    "headers" => toml::Value::Table(toml::Table::new()),
                    _ => "x".into(),
                };
                table.insert(f.name.into(), value);
            }
            let parsed: ProviderKind = toml::Value::Table(table.clone())
                .try_into()
                .unwrap_or_else(|e| panic!("{}: {e}", info.kind));
            assert_eq!(parsed.kind_name(), info.kind);
            let secrets: Vec<&str> = info
                .fields
                .iter()
                .filter(|f| f.secret)
                .map(|f| f.name)
                .collect();
            assert_eq!(
                parsed.secrets().len(),
                secrets.len(),
                "{}: secrets",
                info.kind
            );
            table.insert("not_a_field".into(), "x".into());
            let err = toml::Value::Table(table)
                .try_into::<ProviderKind>()
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("unknown field `not_a_field`"),
                "{}: {err}",
                info.kind
            );
            // Required fields are required.
            for f in info.fields.iter().filter(|f| f.required) {
                let mut t = toml::Table::new();
                t.insert("kind".into(), info.kind.into());
                for g in info
                    .fields
                    .iter()
                    .filter(|g| g.name != f.name && g.name != "headers" && g.name != "proxied")
                {
                    t.insert(g.name.into(), "x".into());
                }
                assert!(
                    toml::Value::Table(t).try_into::<ProviderKind>().is_err(),
                    "{}: {} should be required",
                    info.kind,
                    f.name
                );
            }
        }
    }
}
