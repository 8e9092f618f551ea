//! `ConfigFile -> Settings`: each kind reads its own table first (problems of the file as written), then
//! everything is checked, every problem collected with its field path and a hint.

use std::collections::HashSet;
use std::time::Duration;

use super::records::{lines, records};
use super::{MetricsSettings, Settings};
use crate::config::check::{duration, problem, proxy};
use crate::config::file::{ConfigFile, NamedEntry, ProxyFile};
use crate::config::secret::Lookup;
use crate::config::{Issue, Proxy};

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
    let (interval, max_interval) = schedule(file, &mut issues);
    let ipv4 = file.ipv4.unwrap_or(true);
    let ipv6 = file.ipv6.unwrap_or(false);
    if !ipv4 && !ipv6 {
        issues.push(crate::config::check::problem(
            "ipv4",
            "check.settings.both_ipv4_ipv6_false",
            &[],
        ));
    }

    let language = language(file, &mut issues);
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
    let providers = entries(
        &file.providers,
        provider_kinds,
        "provider",
        proxy.as_ref(),
        lookup,
        &mut issues,
        crate::provider::settings,
    );
    let lines = lines(file, &mut issues);
    let records = records(file, ipv4, ipv6, &providers, &unreadable, &mut issues);
    let notify = entries(
        &file.notify,
        notifier_kinds,
        "notifier",
        proxy.as_ref(),
        lookup,
        &mut issues,
        crate::notifier::settings,
    );
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

/// `interval` and `max_interval` (`None`: never re-publish an unchanged address).
fn schedule(file: &ConfigFile, issues: &mut Vec<Issue>) -> (Duration, Option<Duration>) {
    let interval = duration(
        file.interval.as_deref(),
        "interval",
        DEFAULT_INTERVAL,
        issues,
    );
    if interval < MIN_INTERVAL {
        issues.push(crate::config::check::problem(
            "interval",
            "check.settings.too_short",
            &[("interval", &humantime::format_duration(interval))],
        ));
    }
    let max_interval = match file.max_interval.as_deref().map(str::trim) {
        Some("0") => None,
        other => {
            let d = duration(other, "max_interval", DEFAULT_MAX_INTERVAL, issues);
            if d < interval && file.max_interval.is_some() {
                issues.push(crate::config::check::problem(
                    "max_interval",
                    "check.settings.shorter_than_interval",
                    &[],
                ));
            }
            Some(d)
        }
    };
    (interval, max_interval)
}

/// `language`: "auto" (the OS's), "en" or "zh-CN".
fn language(file: &ConfigFile, issues: &mut Vec<Issue>) -> crate::i18n::Language {
    match file.language.as_deref() {
        None => crate::i18n::Language::Auto,
        Some(text) => crate::i18n::Language::parse(text).unwrap_or_else(|| {
            issues.push(crate::config::check::problem(
                "language",
                "check.settings.language_ddns_tray_speaks",
                &[
                    ("text", &text),
                    ("choices", &crate::i18n::Language::CHOICES),
                ],
            ));
            crate::i18n::Language::Auto
        }),
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

/// A named entry's `name`: not empty, and unique in its list. `list` is `provider` or `notifier`: the
/// words are `check.settings.<list>_name_empty` and `<list>_name_taken`.
fn check_name(
    seen: &mut HashSet<String>,
    name: &str,
    path: &str,
    list: &str,
    issues: &mut Vec<Issue>,
) {
    if name.trim().is_empty() {
        issues.push(problem(
            format!("{path}.name"),
            &format!("check.settings.{list}_name_empty"),
            &[],
        ));
    } else if !seen.insert(name.to_owned()) {
        issues.push(problem(
            format!("{path}.name"),
            &format!("check.settings.{list}_name_taken"),
            &[("name", &name)],
        ));
    }
}

/// How an entry of a kind becomes its settings (`provider::settings`, `notifier::settings`).
type MakeSettings<E, K, S> = fn(&E, K, Option<Proxy>, &dyn Lookup, &mut Vec<Issue>) -> S;

/// A list of named entries (providers, notifiers): each name checked (not empty, unique in the list; `list`
/// names the words), each entry whose kind table could be read made into its settings by `settings`, with
/// its proxy (its own, else the top-level one).
fn entries<E: NamedEntry, K, S>(
    list: &[E],
    kinds: Vec<Option<K>>,
    words: &str,
    global_proxy: Option<&Proxy>,
    lookup: &dyn Lookup,
    issues: &mut Vec<Issue>,
    settings: MakeSettings<E, K, S>,
) -> Vec<S> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (entry, kind) in list.iter().zip(kinds) {
        check_name(&mut seen, entry.name(), entry.path(), words, issues);
        let Some(kind) = kind else { continue };
        let proxy = entry_proxy(entry.proxy(), entry.path(), global_proxy, lookup, issues);
        out.push(settings(entry, kind, proxy, lookup, issues));
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
        issues.push(crate::config::check::problem(
            "metrics.listen",
            "check.settings.address_port",
            &[("listen", &m.listen)],
        ));
        return None;
    };
    if !listen.ip().is_loopback() && m.allow_remote != Some(true) {
        issues.push(crate::config::check::problem(
            "metrics.listen",
            "check.settings.reachable_from_other_machines",
            &[("listen", &listen)],
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
