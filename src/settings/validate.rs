//! `ConfigFile -> Settings`: each kind reads its own table first (problems of the file as written), then
//! everything is checked, every problem collected with its field path and a hint.

use std::collections::HashSet;
use std::time::Duration;

use super::records::{lines, records};
use super::{MetricsSettings, Settings};
use crate::config::check::{duration, proxy};
use crate::config::file::{ConfigFile, ProxyFile};
use crate::config::secret::Lookup;
use crate::config::{Issue, Proxy};
use crate::notifier::NotifierSettings;
use crate::provider::ProviderSettings;

pub const DEFAULT_INTERVAL: Duration = Duration::from_mins(5);
pub const MIN_INTERVAL: Duration = Duration::from_secs(30);
pub const DEFAULT_MAX_INTERVAL: Duration = Duration::from_hours(24);

/// Validates a parsed file. `env` resolves `{ env = "VAR" }` secrets.
pub fn validate(file: &ConfigFile, lookup: &dyn Lookup) -> Result<Settings, Vec<Issue>> {
    let mut issues = Vec::new();
    // Each kind reads its own table first: these are problems of the file as written.
    let provider_kinds: Vec<_> = file
        .providers
        .iter()
        .map(|e| crate::provider::parse(e, &mut issues))
        .collect();
    let notifier_kinds: Vec<_> = file
        .notify
        .iter()
        .map(|e| crate::notifier::parse(e, &mut issues))
        .collect();
    let interval = duration(
        file.interval.as_deref(),
        "interval",
        DEFAULT_INTERVAL,
        &mut issues,
    );
    if interval < MIN_INTERVAL {
        issues.push(Issue::new(
            "interval",
            format!("{} is too short", humantime::format_duration(interval)),
            "use at least \"30s\"; public IP services and DNS providers throttle faster clients",
        ));
    }
    let max_interval = match file.max_interval.as_deref().map(str::trim) {
        Some("0") => None,
        other => {
            let d = duration(other, "max_interval", DEFAULT_MAX_INTERVAL, &mut issues);
            if d < interval && file.max_interval.is_some() {
                issues.push(Issue::new("max_interval", "is shorter than interval", "make it at least as long as `interval`, or \"0\" to never re-publish an unchanged IP"));
            }
            Some(d)
        }
    };
    let ipv4 = file.ipv4.unwrap_or(true);
    let ipv6 = file.ipv6.unwrap_or(false);
    if !ipv4 && !ipv6 {
        issues.push(Issue::new(
            "ipv4",
            "both ipv4 and ipv6 are false",
            "enable at least one address family",
        ));
    }

    let language = match file.language.as_deref() {
        None => crate::i18n::Language::Auto,
        Some(text) => crate::i18n::Language::parse(text).unwrap_or_else(|| {
            issues.push(Issue::new(
                "language",
                format!("`{text}` is not a language ddns-tray speaks"),
                format!("use {}", crate::i18n::Language::CHOICES),
            ));
            crate::i18n::Language::Auto
        }),
    };
    let detect = crate::detect::settings::parse(file, lookup, &mut issues);
    let proxy = proxy(file.proxy.as_ref(), "proxy", lookup, &mut issues);
    // A record naming a provider whose table could not be read is covered by that provider's problem.
    let unreadable: Vec<&str> = file
        .providers
        .iter()
        .zip(&provider_kinds)
        .filter(|(_, k)| k.is_none())
        .map(|(e, _)| e.name.as_str())
        .collect();
    let providers = providers(file, provider_kinds, proxy.as_ref(), lookup, &mut issues);
    let lines = lines(file, &mut issues);
    let records = records(file, ipv4, ipv6, &providers, &unreadable, &mut issues);
    let notify = notifiers(file, notifier_kinds, proxy.as_ref(), lookup, &mut issues);
    let metrics = metrics(file, lookup, &mut issues);

    if issues.is_empty() {
        Ok(Settings {
            interval,
            max_interval,
            proxy,
            write_budget: match file.write_budget {
                Some(0) => None,
                Some(n) => Some(n),
                None => Some(super::DEFAULT_WRITE_BUDGET),
            },
            ipv4,
            ipv6,
            notifications: file.notifications.unwrap_or(true),
            language,
            detect,
            providers,
            records,
            lines,
            notify,
            metrics,
        })
    } else {
        Err(issues)
    }
}

/// A provider's or notifier's `proxy`: its own, else the top-level one (`None`: the OS's setting).
fn entry_proxy(
    own: Option<&ProxyFile>,
    path: &str,
    global: Option<&Proxy>,
    lookup: &dyn Lookup,
    issues: &mut Vec<Issue>,
) -> Option<Proxy> {
    proxy(own, &format!("{path}.proxy"), lookup, issues).or_else(|| global.cloned())
}

/// The words for a list of named entries' name problems.
struct Naming {
    /// "provider", "notifier".
    what: &'static str,
    /// How to name one, and what uses the name.
    hint: &'static str,
}

/// A named entry's `name`: not empty, and unique in its list.
fn check_name(
    seen: &mut HashSet<String>,
    name: &str,
    path: &str,
    naming: &Naming,
    issues: &mut Vec<Issue>,
) {
    if name.trim().is_empty() {
        issues.push(Issue::new(format!("{path}.name"), "is empty", naming.hint));
    } else if !seen.insert(name.to_owned()) {
        issues.push(Issue::new(
            format!("{path}.name"),
            format!("another {} is already named `{name}`", naming.what),
            format!("give each {} its own name", naming.what),
        ));
    }
}

fn providers(
    file: &ConfigFile,
    kinds: Vec<Option<crate::provider::ProviderKind>>,
    global_proxy: Option<&Proxy>,
    lookup: &dyn Lookup,
    issues: &mut Vec<Issue>,
) -> Vec<ProviderSettings> {
    let naming = Naming {
        what: "provider",
        hint: "give the provider a name; records refer to it",
    };
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (entry, kind) in file.providers.iter().zip(kinds) {
        check_name(&mut seen, &entry.name, &entry.path, &naming, issues);
        let Some(kind) = kind else { continue };
        let proxy = entry_proxy(
            entry.proxy.as_ref(),
            &entry.path,
            global_proxy,
            lookup,
            issues,
        );
        out.push(crate::provider::settings(
            entry, kind, proxy, lookup, issues,
        ));
    }
    out
}

fn notifiers(
    file: &ConfigFile,
    kinds: Vec<Option<crate::notifier::NotifierKind>>,
    global_proxy: Option<&Proxy>,
    lookup: &dyn Lookup,
    issues: &mut Vec<Issue>,
) -> Vec<NotifierSettings> {
    let naming = Naming {
        what: "notifier",
        hint: "give the notifier a name (`ddns-tray notify test NAME` uses it)",
    };
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (entry, kind) in file.notify.iter().zip(kinds) {
        check_name(&mut seen, &entry.name, &entry.path, &naming, issues);
        let Some(kind) = kind else { continue };
        let proxy = entry_proxy(
            entry.proxy.as_ref(),
            &entry.path,
            global_proxy,
            lookup,
            issues,
        );
        out.push(crate::notifier::settings(
            entry, kind, proxy, lookup, issues,
        ));
    }
    out
}

fn metrics(
    file: &ConfigFile,
    lookup: &dyn Lookup,
    issues: &mut Vec<Issue>,
) -> Option<MetricsSettings> {
    let m = file.metrics.as_ref()?;
    let Ok(listen) = m.listen.trim().parse::<std::net::SocketAddr>() else {
        issues.push(Issue::new(
            "metrics.listen",
            format!("`{}` is not an address and port", m.listen),
            "write it as \"127.0.0.1:9851\" (or \"[::1]:9851\")",
        ));
        return None;
    };
    if !listen.ip().is_loopback() && m.allow_remote != Some(true) {
        issues.push(Issue::new(
            "metrics.listen",
            format!("{listen} is reachable from other machines"),
            "use 127.0.0.1, or set allow_remote = true (and a `token`) to expose the metrics on purpose",
        ));
    }
    let mut token = m.token.clone();
    if let Some(t) = &mut token
        && let Err(p) = t.resolve(lookup)
    {
        issues.push(Issue::new("metrics.token", p.message, p.hint));
    }
    Some(MetricsSettings { listen, token })
}
