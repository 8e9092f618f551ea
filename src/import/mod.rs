//! Other clients' configs turned into ours: ddns-go's YAML, ddclient.conf, inadyn.conf, ddns-updater's
//! config.json and favonia/cloudflare-ddns's environment (an env file or a Compose file). [`convert`] takes
//! the text and gives the TOML to write, what was carried over and how, what was left out and why, and the
//! secrets the TOML refers to (to store in the keyring, or to set as environment variables). No printing,
//! no files: `cli::import` and the settings window do that.
//!
//! Each format has its own file; they all build a `draft::Draft`, which writes the text. A secret never
//! reaches the text: it becomes `{ keyring = "<provider>/<field>" }` or `{ env = "DDNS_…" }`. What ddns-tray
//! cannot do (a provider it lacks, a router scraper, a shell pipeline, per-domain credentials in a URL) is
//! left out with the reason; records of a provider left out are left out with it.

mod ddclient;
mod ddns_go;
mod ddns_updater;
mod draft;
mod favonia;
mod inadyn;

use std::fmt;
use std::path::Path;

use crate::i18n::tr;

/// The formats `import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// ddns-go's `.ddns_go_config.yaml`.
    DdnsGo,
    /// `ddclient.conf`.
    Ddclient,
    /// `inadyn.conf`.
    Inadyn,
    /// qdm12/ddns-updater's `config.json`.
    DdnsUpdater,
    /// favonia/cloudflare-ddns: an env file or a Docker Compose file.
    Favonia,
}

impl Format {
    pub const ALL: [Self; 5] = [
        Self::DdnsGo,
        Self::Ddclient,
        Self::Inadyn,
        Self::DdnsUpdater,
        Self::Favonia,
    ];

    /// The name `--from` takes.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::DdnsGo => "ddns-go",
            Self::Ddclient => "ddclient",
            Self::Inadyn => "inadyn",
            Self::DdnsUpdater => "ddns-updater",
            Self::Favonia => "favonia",
        }
    }

    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where the secrets go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretMode {
    /// The OS keyring: `{ keyring = "<provider>/<field>" }`.
    Keyring,
    /// Environment variables: `{ env = "DDNS_<PROVIDER>_<FIELD>" }`.
    Env,
}

/// A setting of the other client, and what became of it (or why nothing did), in the language in use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub setting: String,
    pub why: String,
}

/// A secret the TOML refers to: the keyring entry or variable `name`, its value, and the setting it came
/// from.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretOut {
    pub name: String,
    pub value: String,
    pub from: String,
}

impl fmt::Debug for SecretOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretOut({} from {}: ***)", self.name, self.from)
    }
}

/// The result of an import.
#[derive(Debug, Clone)]
pub struct Imported {
    pub format: Format,
    /// The config to write; secrets only as references.
    pub toml: String,
    pub carried: Vec<Note>,
    pub left_out: Vec<Note>,
    pub secrets: Vec<SecretOut>,
}

/// An input that cannot be read: where (line, field) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportError {
    pub line: Option<usize>,
    pub field: Option<String>,
    pub message: String,
}

impl ImportError {
    pub(crate) fn at(line: usize, message: String) -> Self {
        Self {
            line: Some(line),
            field: None,
            message,
        }
    }

    pub(crate) fn field(field: impl Into<String>, message: String) -> Self {
        Self {
            line: None,
            field: Some(field.into()),
            message,
        }
    }
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.line, &self.field) {
            (Some(line), _) => f.write_str(&tr(
                "import.error.line",
                &[("line", line), ("message", &self.message)],
            )),
            (None, Some(field)) => f.write_str(&tr(
                "import.error.field",
                &[("field", field), ("message", &self.message)],
            )),
            (None, None) => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ImportError {}

/// The format of `text`: by its content, then by the file's name.
#[must_use]
pub fn detect(text: &str, file_name: Option<&str>) -> Option<Format> {
    let trimmed = text.trim_start();
    let lines = || {
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
    };
    if trimmed.starts_with('{') && text.contains("\"settings\"") {
        return Some(Format::DdnsUpdater);
    }
    if lines().any(|l| l.starts_with("dnsconf:")) {
        return Some(Format::DdnsGo);
    }
    let favonia_var = |l: &str| {
        let l = l.trim_start_matches("- ").trim_start();
        [
            "CLOUDFLARE_API_TOKEN",
            "CF_API_TOKEN",
            "DOMAINS",
            "IP4_DOMAINS",
            "IP6_DOMAINS",
        ]
        .iter()
        .any(|v| {
            l.strip_prefix(v)
                .is_some_and(|r| r.starts_with('=') || r.starts_with(':') || r.starts_with("_FILE"))
        })
    };
    if lines().any(favonia_var) {
        return Some(Format::Favonia);
    }
    let section = |l: &str| {
        (l.starts_with("provider ") || l.starts_with("custom ")) && l.trim_end().ends_with('{')
    };
    if lines().any(section) {
        return Some(Format::Inadyn);
    }
    if lines().any(|l| {
        ["protocol=", "use=", "usev4=", "usev6=", "daemon="]
            .iter()
            .any(|k| l.starts_with(k))
    }) {
        return Some(Format::Ddclient);
    }
    if lines().any(|l| l.starts_with("dns:")) && lines().any(|l| l.starts_with("ipv4:")) {
        return Some(Format::DdnsGo);
    }
    let name = file_name?.to_ascii_lowercase();
    let extension = |ext: &str| {
        Path::new(&name)
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case(ext))
    };
    if name.contains("ddns_go") || name.contains("ddns-go") {
        Some(Format::DdnsGo)
    } else if name.contains("ddclient") {
        Some(Format::Ddclient)
    } else if name.contains("inadyn") {
        Some(Format::Inadyn)
    } else if extension("json") {
        Some(Format::DdnsUpdater)
    } else if extension("env") || name == ".env" || name.contains("compose") {
        Some(Format::Favonia)
    } else {
        None
    }
}

/// Turns `text` (of `format`) into our config. `origin`, the file's path, resolves paths the file gives
/// relative to itself (a Compose file's secrets); nothing is read.
///
/// # Errors
/// The text is not valid in its format: the error names the line or field.
pub fn convert(
    text: &str,
    format: Format,
    mode: SecretMode,
    origin: Option<&Path>,
) -> Result<Imported, ImportError> {
    let mut draft = match format {
        Format::DdnsGo => ddns_go::convert(text)?,
        Format::Ddclient => ddclient::convert(text)?,
        Format::Inadyn => inadyn::convert(text)?,
        Format::DdnsUpdater => ddns_updater::convert(text)?,
        Format::Favonia => favonia::convert(text, origin.and_then(Path::parent))?,
    };
    if draft.records.is_empty() {
        draft.leave(String::new(), tr("import.why.no_records", &[]));
    }
    let header = tr("import.header", &[("format", &format)]);
    let (toml, secrets) = draft.render(mode, &header);
    Ok(Imported {
        format,
        toml,
        carried: draft.carried,
        left_out: draft.left_out,
        secrets,
    })
}

/// The detection source for a shell command of the other client: `ip addr show IFACE` (what it lists is
/// the interface's addresses) becomes an interface source; a command of one program with plain words runs
/// as is; anything the shell must interpret (pipes, quotes, variables) cannot run without a shell and is
/// left out. `Ok` holds the source and, when the command was translated, the note saying so.
pub(crate) fn command_source(cmd: &str) -> Result<(draft::Source, Option<String>), String> {
    let ip_addr = regex_lite::Regex::new(
        r"^\s*(?:/\S*/)?ip\s+(?:-[46]\s+)?(?:addr|address|a)\s+(?:show\s+|list\s+)?(?:dev\s+)?([A-Za-z0-9_.@-]+)(?:\s+scope\s+global)?\s*(?:\|\s*grep\s+-v\s+deprecated\s*)?$",
    )
    .unwrap();
    if let Some(c) = ip_addr.captures(cmd) {
        let name = c[1].to_owned();
        return Ok((
            draft::Source::interface(Some(&name)),
            Some(tr("import.why.command_as_interface", &[("name", &name)])),
        ));
    }
    let plain = cmd.chars().all(|c| {
        c.is_ascii_alphanumeric()
            || matches!(c, ' ' | '-' | '_' | '.' | '/' | ':' | '=' | ',' | '@')
    });
    if !plain || cmd.trim().is_empty() {
        return Err(tr("import.why.shell_command", &[]));
    }
    let argv: Vec<draft::Val> = cmd.split_whitespace().map(draft::s).collect();
    Ok((
        draft::Source::new("command", vec![("command", draft::Val::List(argv))]),
        None,
    ))
}

/// The dyndns2 preset served at `host` (an update server's host name), if any.
pub(crate) fn dyndns2_preset(host: &str) -> Option<&'static str> {
    const PRESETS: &[(&str, &str)] = &[
        ("dynupdate.no-ip.com", "noip"),
        ("api.dynu.com", "dynu"),
        ("members.dyndns.org", "dyn"),
        ("dyn.dns.he.net", "he"),
        ("updates.dnsomatic.com", "dnsomatic"),
        ("dyndns.inwx.com", "inwx"),
        ("infomaniak.com", "infomaniak"),
        ("nic.changeip.com", "changeip"),
        ("dyndns.strato.com", "strato"),
        ("update.spdyn.de", "spdyn"),
        ("ipv64.net", "ipv64"),
        ("dyndns.loopia.se", "loopia"),
        ("carol.selfhost.de", "selfhost"),
        ("dyndns.kasserver.com", "allinkl"),
    ];
    let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
    PRESETS.iter().find(|(h, _)| *h == host).map(|(_, k)| *k)
}

/// A record name as a DNS name: lower case, no trailing dot.
/// The first YAML document of `text` (`Null` when there is none); a syntax error at its line.
pub(crate) fn first_yaml(text: &str) -> Result<yaml_rust2::Yaml, ImportError> {
    let docs = yaml_rust2::YamlLoader::load_from_str(text).map_err(|e| {
        ImportError::at(
            e.marker().line(),
            tr("import.error.yaml", &[("error", &e.info())]),
        )
    })?;
    Ok(docs.into_iter().next().unwrap_or(yaml_rust2::Yaml::Null))
}

pub(crate) fn fqdn(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// The query parameter or JSON key in `text` that carries a credential written out (not a placeholder),
/// if any: such a URL or body cannot go into the config as it is.
pub(crate) fn credential_in(text: &str) -> Option<String> {
    let re = regex_lite::Regex::new(
        r#"(?i)["']?\b([a-z_]*(?:token|key|password|passwd|secret|apikey|pass|sign)[a-z_]*)["']?\s*[=:]\s*["']?([^&"',}\s]+)"#,
    )
    .unwrap();
    re.captures_iter(text).find_map(|c| {
        let value = &c[2];
        let placeholder = value.starts_with('{')
            || value.starts_with("#{")
            || value.starts_with('%')
            || value.starts_with('$');
        (!placeholder && value.len() >= 4).then(|| c[1].to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_told_by_content_then_by_name() {
        let cases = [
            ("dnsconf:\n  - name: x\n", Format::DdnsGo),
            ("{\"settings\": []}", Format::DdnsUpdater),
            ("protocol=noip\nlogin=a\n", Format::Ddclient),
            ("period = 300\nprovider no-ip.com {\n}\n", Format::Inadyn),
            ("CF_API_TOKEN=x\nDOMAINS=a.example\n", Format::Favonia),
            (
                "services:\n  a:\n    environment:\n      - DOMAINS=a.example\n",
                Format::Favonia,
            ),
        ];
        for (text, want) in cases {
            assert_eq!(detect(text, None), Some(want), "{text}");
        }
        assert_eq!(
            detect("# nothing\n", Some("/etc/inadyn.conf")),
            Some(Format::Inadyn)
        );
        assert_eq!(detect("# nothing\n", Some("notes.txt")), None);
    }

    #[test]
    fn commands_run_as_programs_interfaces_or_not_at_all() {
        let argv = |cmd: &str| match command_source(cmd).unwrap().0.fields[0].1.clone() {
            draft::Val::List(v) => v,
            other => panic!("{other:?}"),
        };
        assert_eq!(argv("external-ip"), [draft::s("external-ip")]);
        assert_eq!(
            argv("/usr/local/bin/wan-ip --family 4"),
            ["/usr/local/bin/wan-ip", "--family", "4"].map(draft::s)
        );
        for (cmd, iface) in [
            ("ip -4 addr show ppp0", "ppp0"),
            (
                "ip -6 addr show dev eth1 scope global | grep -v deprecated",
                "eth1",
            ),
            ("/sbin/ip addr show wan", "wan"),
        ] {
            let (src, note) = command_source(cmd).unwrap();
            assert_eq!(src, draft::Source::interface(Some(iface)), "{cmd}");
            assert!(note.is_some());
        }
        for cmd in [
            "/sbin/ip -4 addr show dev ppp0 | awk '/inet /{print $2}' | cut -d/ -f1",
            "curl -s https://example.net | jq -r .ip",
            "echo $IP",
        ] {
            assert!(command_source(cmd).is_err(), "{cmd}");
        }
    }

    #[test]
    fn credentials_written_in_urls_and_bodies_are_found() {
        assert_eq!(
            credential_in("https://x.example/u?host={name}&token=abcd1234").as_deref(),
            Some("token")
        );
        assert_eq!(
            credential_in(r##"{"name":"#{domain}","api_key":"FAKE-1"}"##).as_deref(),
            Some("api_key")
        );
        assert_eq!(
            credential_in("https://x.example/u?key=#{token}&ip=#{ip}"),
            None
        );
        assert_eq!(
            credential_in("https://x.example/u?hostname={name}&myip={ip}"),
            None
        );
    }
}
