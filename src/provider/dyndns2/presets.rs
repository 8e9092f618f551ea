//! The services that speak dyndns2, one [`Preset`] entry each: the update URL, the parameter names, where the
//! credential goes, and the reply words and HTTP statuses a service adds to the protocol's own. Sources for every
//! entry (vendor pages, ddclient, inadyn, qdm12/ddns-updater, `OpenWrt`, pfSense) are in
//! `docs/providers/dyn-endpoints.md` (retrieved 2026-12-04); what no source confirms is marked there and below.

use super::{Credential, Meaning, Preset, User, V6, Word};
use crate::config::kinds::{FieldInfo, KindInfo};

const FIELDS: &[FieldInfo] = &[
    super::super::opt("server"),
    super::super::opt("username"),
    super::super::secret("password"),
];
/// Kinds whose credentials name the host or the user (the user name is optional).
const FIELDS_OPT_USER: &[FieldInfo] = FIELDS;
/// DDNSS: the key alone.
const FIELDS_KEY: &[FieldInfo] = &[
    super::super::opt("server"),
    super::super::secret("password"),
];
/// INWX: the acknowledgement that the host has no AAAA record to keep.
const FIELDS_INWX: &[FieldInfo] = &[
    super::super::opt("server"),
    super::super::opt("username"),
    super::super::secret("password"),
    super::super::flag("ipv4_only"),
];

/// A plain dyndns2 service: `hostname`, `myip` for both families, Basic auth with a user name.
const PLAIN: Preset = Preset {
    info: KindInfo::provider("dyndns2", "", FIELDS),
    server: "",
    host: Some("hostname"),
    v4: "myip",
    v6: V6::Param("myip"),
    v6_extra: &[],
    credential: Credential::Basic(User::Required),
    words: &[],
    statuses: &[],
    html: false,
};

/// `kind = "dyndns2"`: any server (`server` required), `/nic/update` when the URL has no path.
pub const GENERIC: Preset = Preset {
    info: KindInfo::provider("dyndns2", "", FIELDS)
        .example("username = \"me\"\npassword = \"dd-secret-value\"")
        .api("server"),
    ..PLAIN
};

pub const NOIP: Preset = Preset {
    info: KindInfo::provider("noip", "https://my.noip.com/dynamic-dns", FIELDS)
        .example("username = \"me@example.com\"\npassword = \"noip-secret\"")
        .api("server"),
    server: "https://dynupdate.no-ip.com/nic/update",
    v6: V6::Param("myipv6"),
    ..PLAIN
};

/// Dynu fills the A record from the request's source address unless `myip` is given: an IPv6 update sends
/// `myip=no` (as ddclient and `OpenWrt` do). `servererror` and `unknown` are its own words for "try later".
pub const DYNU: Preset = Preset {
    info: KindInfo::provider(
        "dynu",
        "https://www.dynu.com/en-US/ControlPanel/ManageCredentials",
        FIELDS,
    )
    .example("username = \"me\"\npassword = \"dynu-secret\"")
    .api("server"),
    server: "https://api.dynu.com/nic/update",
    v6: V6::Param("myipv6"),
    v6_extra: &[("myip", "no")],
    words: &[
        Word::first(
            "servererror",
            Meaning::Transient("the server had an error (servererror); trying again later"),
        ),
        Word::first(
            "unknown",
            Meaning::Transient("the server answered `unknown`; trying again later"),
        ),
    ],
    ..PLAIN
};

pub const DYN: Preset = Preset {
    info: KindInfo::provider(
        "dyn",
        "https://account.dyn.com/profile/security/updater",
        FIELDS,
    )
    .example("username = \"me\"\npassword = \"dyn-updater-key\"")
    .api("server"),
    server: "https://members.dyndns.org/v3/update",
    ..PLAIN
};

pub const HE: Preset = Preset {
    info: KindInfo::provider("he", "https://dns.he.net/", FIELDS_OPT_USER)
        .example("password = \"he-record-key\"")
        .api("server"),
    server: "https://dyn.dns.he.net/nic/update",
    credential: Credential::Basic(User::RecordName),
    ..PLAIN
};

pub const DNSOMATIC: Preset = Preset {
    info: KindInfo::provider("dnsomatic", "https://dnsomatic.com/", FIELDS)
        .example("username = \"me\"\npassword = \"dnsomatic-secret\"")
        .api("server"),
    server: "https://updates.dnsomatic.com/nic/update",
    ..PLAIN
};

/// INWX: the `DynDNS` account names the host. A request without `myipv6` deletes the host's AAAA record and one
/// without `myip` sets its A record to 127.0.0.1, so a one-family update always damages the other family. The
/// engine updates one family per request, so only A records are allowed, and only once the config confirms
/// (`ipv4_only = true`) that the host has no AAAA record to keep.
pub const INWX: Preset = Preset {
    info: KindInfo::provider("inwx", "https://www.inwx.com/en/offer/dyndns", FIELDS_INWX)
        .example("username = \"dyndns-user\"\npassword = \"inwx-dyndns-secret\"\nipv4_only = true")
        .api("server"),
    server: "https://dyndns.inwx.com/nic/update",
    v6: V6::Refused("provider.inwx.check.aaaa"),
    words: &[
        Word::first(
            "badsys",
            Meaning::Rejected("the server refused the request's system parameter (badsys)"),
        ),
        Word::first(
            "!yours",
            Meaning::Rejected("the hostname does not belong to this DynDNS account (!yours)"),
        ),
        Word::first(
            "!active",
            Meaning::Rejected("the DynDNS account or host is not active (!active)"),
        ),
    ],
    ..PLAIN
};

/// Infomaniak: the `DynDNS` user made for the record (not the admin login); IPv6 in `myip`. Its replies were
/// `successfully_changed`/`no_change` for a while in 2024, and errors come with HTTP 400 and a dyndns2 word.
pub const INFOMANIAK: Preset = Preset {
    info: KindInfo::provider(
        "infomaniak",
        "https://www.infomaniak.com/en/support/faq/2357/getting-started-guide-dyndns-with-an-infomaniak-domain",
        FIELDS,
    )
    .example("username = \"dyndns-user\"\npassword = \"infomaniak-secret\"")
    .api("server"),
    server: "https://infomaniak.com/nic/update",
    words: &[
        Word::first("successfully_changed", Meaning::Updated),
        Word::first("no_change", Meaning::Unchanged),
        Word::anywhere(
            "validation failed",
            Meaning::Rejected("the server refused the request (Validation failed)"),
        ),
    ],
    ..PLAIN
};

/// `ChangeIP`: the address in `ip`; replies are not dyndns2 words (`200 Successful Update`, `402`, `422`).
/// No source shows IPv6 updates, so AAAA records are refused.
pub const CHANGEIP: Preset = Preset {
    info: KindInfo::provider(
        "changeip",
        "https://www.changeip.com/accounts/knowledgebase.php?action=displayarticle&id=34",
        FIELDS,
    )
    .example("username = \"me\"\npassword = \"changeip-secret\"")
    .api("server"),
    server: "https://nic.changeip.com/nic/update",
    v4: "ip",
    v6: V6::Refused("provider.changeip.check.aaaa"),
    words: &[
        Word::first(
            "402",
            Meaning::Rejected("the name needs Premium DNS, or includes `www.` (402)"),
        ),
        Word::first("422", Meaning::Rejected("the hostname is not valid (422)")),
        Word::any_word("successful", Meaning::Updated),
    ],
    ..PLAIN
};

/// Strato: the user name is a domain of the package (default: the record's last two labels); `abuse` means too
/// many requests, so it waits instead of stopping.
pub const STRATO: Preset = Preset {
    info: KindInfo::provider(
        "strato",
        "https://www.strato.de/faq/hosting/so-einfach-richten-sie-dyndns-fuer-ihre-domains-ein/",
        FIELDS_OPT_USER,
    )
    .example("password = \"strato-dyndns-secret\"")
    .api("server"),
    server: "https://dyndns.strato.com/nic/update",
    credential: Credential::Basic(User::Domain),
    words: &[
        Word::first(
            "abuse",
            Meaning::Wait(
                30 * 60,
                "too many requests (abuse); waiting at least 30 minutes",
            ),
        ),
        Word::first(
            "badrequest",
            Meaning::Rejected("the server refused the request (badrequest)"),
        ),
    ],
    ..PLAIN
};

/// Spdyn: the account, or a host's update token with the host name as user (the default).
pub const SPDYN: Preset = Preset {
    info: KindInfo::provider(
        "spdyn",
        "https://wiki.securepoint.de/SPDyn/Updatetoken",
        FIELDS_OPT_USER,
    )
    .example("password = \"abcd-efgh-ijkl\"")
    .api("server"),
    server: "https://update.spdyn.de/nic/update",
    credential: Credential::Basic(User::RecordName),
    words: &[
        Word::first(
            "!yours",
            Meaning::Rejected("the host does not belong to this account or token (!yours)"),
        ),
        Word::first(
            "fatal",
            Meaning::Rejected("the host was disabled in spdyn's interface (fatal)"),
        ),
        Word::first(
            "abuse",
            Meaning::Rejected(
                "the host is locked after earlier failed attempts (abuse); check the credentials, then unlock it at spdyn.de",
            ),
        ),
    ],
    ..PLAIN
};

/// `IPv64`: the domain update token as Basic password (any user name; the record name is sent); over the limit
/// (48 updates a day by default) it answers `overcommited` with HTTP 403.
pub const IPV64: Preset = Preset {
    info: KindInfo::provider("ipv64", "https://ipv64.net/account", FIELDS_OPT_USER)
        .example("password = \"ipv64-domain-update-token\"")
        .api("server"),
    server: "https://ipv64.net/nic/update",
    v6: V6::Param("myipv6"),
    credential: Credential::Basic(User::RecordName),
    words: &[Word::anywhere(
        "overcommited",
        Meaning::Wait(
            60 * 60,
            "the account's daily update limit is used up (overcommited); waiting at least an hour",
        ),
    )],
    ..PLAIN
};

/// Loopia: the customer-zone login; `911` means a malformed request (bad address or parameters), not an outage.
/// IPv6 goes in `myip` as `OpenWrt` sends it (not documented by Loopia).
pub const LOOPIA: Preset = Preset {
    info: KindInfo::provider(
        "loopia",
        "https://support.loopia.se/wiki/om-dyndns-stodet/",
        FIELDS,
    )
    .example("username = \"me@example.com\"\npassword = \"loopia-secret\"")
    .api("server"),
    server: "https://dyndns.loopia.se/",
    words: &[
        Word::first(
            "911",
            Meaning::Rejected(
                "the server refused the request as malformed (911: bad address or parameters)",
            ),
        ),
        Word::first(
            "badrequest",
            Meaning::Rejected("the server refused the request (badrequest)"),
        ),
    ],
    ..PLAIN
};

/// Selfhost: the `DynDNS` account (numeric id); one family per request (two addresses are answered `abuse`);
/// HTTP 204 means no change, and its other statuses have their own meanings.
pub const SELFHOST: Preset = Preset {
    info: KindInfo::provider(
        "selfhost",
        "https://selfhost.de/cgi-bin/selfhost?p=faq&show=113",
        FIELDS,
    )
    .example("username = \"174299\"\npassword = \"selfhost-secret\"")
    .api("server"),
    server: "https://carol.selfhost.de/nic/update",
    words: &[
        Word::first(
            "noauth",
            Meaning::Auth("bad DynDNS account or password (noauth)"),
        ),
        Word::first(
            "abuse",
            Meaning::Rejected(
                "the server refused the request as abuse (blocked, or a malformed request)",
            ),
        ),
        Word::first(
            "badrequest",
            Meaning::Rejected("the server refused the request (badrequest)"),
        ),
    ],
    statuses: &[
        (204, Meaning::Unchanged),
        (
            409,
            Meaning::Rejected("no zone for this hostname (HTTP 409)"),
        ),
        (410, Meaning::Rejected("the account is inactive (HTTP 410)")),
        (
            411,
            Meaning::Rejected("the address was refused as malformed (HTTP 411)"),
        ),
        (
            412,
            Meaning::Rejected("the address was refused as private (HTTP 412)"),
        ),
        (
            503,
            Meaning::Transient("the server has a DNS error (HTTP 503)"),
        ),
    ],
    ..PLAIN
};

/// All-Inkl (KAS): the DDNS user (`dyn…`) names the host, so no hostname is sent; IPv6 in `myip6`. The path is
/// `/` as All-Inkl's router settings show it.
pub const ALLINKL: Preset = Preset {
    info: KindInfo::provider("allinkl", "https://kas.all-inkl.com/", FIELDS)
        .example("username = \"dyn0123456\"\npassword = \"kas-ddns-secret\"")
        .api("server"),
    server: "https://dyndns.kasserver.com/",
    host: None,
    v6: V6::Param("myip6"),
    ..PLAIN
};

/// DDNSS: the update key in `key=` (no user name), the host in `host`, addresses in `ip`/`ip6`; the answer is an
/// HTML page (`Updated 1 hostname.`).
pub const DDNSS: Preset = Preset {
    info: KindInfo::provider("ddnss", "https://ddnss.de/info.php", FIELDS_KEY)
        .example("password = \"0123456789abcdef0123456789abcdef\"")
        .api("server"),
    server: "https://ddnss.de/upd.php",
    host: Some("host"),
    v4: "ip",
    v6: V6::Param("ip6"),
    credential: Credential::Query("key"),
    words: &[
        Word::anywhere(
            "badysys",
            Meaning::Rejected("the server refused the request (badysys)"),
        ),
        Word::anywhere(
            "badauth",
            Meaning::Auth("the update key was refused (badauth)"),
        ),
        Word::anywhere(
            "notfqdn",
            Meaning::Rejected("the hostname is not a fully qualified domain name (notfqdn)"),
        ),
        Word::anywhere("no change", Meaning::Unchanged),
        Word::anywhere("updated 1 hostname", Meaning::Updated),
    ],
    html: true,
    ..PLAIN
};

/// Every preset, `kind = "dyndns2"` first.
pub(super) const ALL: &[&Preset] = &[
    &GENERIC,
    &NOIP,
    &DYNU,
    &DYN,
    &HE,
    &DNSOMATIC,
    &INWX,
    &INFOMANIAK,
    &CHANGEIP,
    &STRATO,
    &SPDYN,
    &IPV64,
    &LOOPIA,
    &SELFHOST,
    &ALLINKL,
    &DDNSS,
];
