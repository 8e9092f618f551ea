//! Public IP detection: one file per source kind behind [`Source`], and the [`Detector`] that applies the
//! policy (`first` / `agree`), the per-source timeout and the answer checks.
//!
//! An answer counts only if it is exactly one address of the family asked for and a global unicast address;
//! everything else is rejected with a log line naming the source and what it answered. When no valid answer
//! arrives the result is [`Detection::Unavailable`]: callers publish nothing and clear nothing.
//!
//! [`Detector::for_line`] builds the same sources sent through one `[[line]]` (an uplink): their sockets
//! bound to the line's interface or source address.

pub mod cdn;
mod command;
mod dns;
mod http;
pub(crate) mod interface;
pub mod router;
pub mod settings;
mod trace;

pub(crate) use dns::answer_address;
pub(crate) use trace::parse_trace;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

use crate::config::Family;
pub(crate) use crate::http::snippet;
pub use settings::{DetectSettings, Policy, SourceKind, SourceSettings};

/// What a source is asked.
#[derive(Debug, Clone, Copy)]
pub struct Query {
    pub family: Family,
    /// The source may prefer private addresses (only the interface source uses this to pick among several).
    pub allow_private: bool,
}

/// One way of learning the public IP.
#[async_trait]
pub trait Source: Send + Sync {
    /// Short description for logs and `ddns-tray detect`, e.g. `http https://api.ipify.org`. Never a secret.
    fn label(&self) -> String;

    /// Asks once and returns the single address the source reports. The [`Detector`] bounds the call with the
    /// source's timeout and checks family and range afterwards, so a source need not.
    async fn fetch(&self, query: Query) -> Result<IpAddr, String>;
}

/// The outcome of detection for one family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Detection {
    Known(IpAddr),
    /// No valid answer; the reason says what every source did.
    Unavailable(String),
}

/// One source's answer, as shown by `ddns-tray detect`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SourceReport {
    pub source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<IpAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub latency_ms: u128,
    /// Who runs the source (sources of one operator never confirm each other).
    pub operator: String,
}

/// A source with its settings.
pub struct Configured {
    source: Box<dyn Source>,
    timeout: Duration,
    allow_private: bool,
    /// Answers inside a CDN's own ranges are accepted.
    allow_cdn: bool,
    cdn: Arc<cdn::Ranges>,
    operator: String,
}

impl Configured {
    /// A source checked against the built-in CDN ranges, its operator derived from its label.
    #[must_use]
    pub fn new(source: Box<dyn Source>, timeout: Duration, allow_private: bool) -> Self {
        let operator = operator_of(&source.label());
        Self {
            source,
            timeout,
            allow_private,
            allow_cdn: false,
            cdn: Arc::new(cdn::Ranges::builtin()),
            operator,
        }
    }

    /// Sets who runs the source (sources of one operator never confirm each other).
    #[must_use]
    pub fn operated_by(mut self, operator: impl Into<String>) -> Self {
        self.operator = operator.into();
        self
    }

    /// Sets the CDN ranges its answers are checked against, and whether they are accepted anyway.
    #[must_use]
    pub fn with_cdn(mut self, cdn: Arc<cdn::Ranges>, allow: bool) -> Self {
        self.cdn = cdn;
        self.allow_cdn = allow;
        self
    }

    /// Asks the source and checks its answer.
    async fn ask(&self, family: Family) -> Result<IpAddr, String> {
        let query = Query {
            family,
            allow_private: self.allow_private,
        };
        let answer = match tokio::time::timeout(self.timeout, self.source.fetch(query)).await {
            Ok(Ok(ip)) => ip,
            Ok(Err(e)) => {
                tracing::info!(source = %self.source.label(), %family, error = %e, "IP source failed");
                return Err(e);
            }
            Err(_) => {
                let e = format!(
                    "no answer within {}",
                    humantime::format_duration(self.timeout)
                );
                tracing::info!(source = %self.source.label(), %family, error = %e, "IP source failed");
                return Err(e);
            }
        };
        let checked = check_answer(answer, family, self.allow_private).and_then(|ip| {
            match self.cdn.reject(ip).filter(|_| !self.allow_cdn) {
                Some(why) => Err(why),
                None => Ok(ip),
            }
        });
        checked.inspect_err(|why| {
            tracing::warn!(source = %self.source.label(), %family, answer = %answer, "IP source answer rejected: {why}");
        })
    }
}

/// Applies the policy over the sources of each family.
pub struct Detector {
    policy: Policy,
    ipv4: Vec<Configured>,
    ipv6: Vec<Configured>,
}

impl Detector {
    #[must_use]
    pub fn new(policy: Policy, ipv4: Vec<Configured>, ipv6: Vec<Configured>) -> Self {
        Self { policy, ipv4, ipv6 }
    }

    /// Builds the real sources from validated settings.
    #[must_use]
    pub fn from_settings(settings: &DetectSettings) -> Self {
        Self::through(settings, None)
    }

    /// The detector of a `[[line]]`: the same sources, with their sockets sent through the line (an
    /// `interface` source reads the line's interface; a `command` source gets the line in its environment).
    #[must_use]
    pub fn for_line(settings: &DetectSettings, line: &crate::config::LineSettings) -> Self {
        Self::through(settings, Some(line))
    }

    fn through(settings: &DetectSettings, line: Option<&crate::config::LineSettings>) -> Self {
        let cdn = Arc::new(
            settings
                .cdn_ranges
                .clone()
                .map_or_else(cdn::Ranges::builtin, cdn::Ranges::from_nets),
        );
        let build = |family: Family| {
            settings
                .sources(family)
                .iter()
                .map(|s| build_source(s, family, line, cdn.clone()))
                .collect()
        };
        Self::new(settings.policy, build(Family::V4), build(Family::V6))
    }

    fn sources(&self, family: Family) -> &[Configured] {
        match family {
            Family::V4 => &self.ipv4,
            Family::V6 => &self.ipv6,
        }
    }

    /// Detects the public address of `family` under the policy, with no address known before (under
    /// `confirm`, any answer then needs a second operator's).
    pub async fn detect(&self, family: Family) -> Detection {
        self.detect_since(family, None).await
    }

    /// Detects the public address of `family` under the policy; `known` is the address detected last
    /// (under `confirm`, an answer equal to it costs one request, any other needs a second operator's).
    pub async fn detect_since(&self, family: Family, known: Option<IpAddr>) -> Detection {
        let sources = self.sources(family);
        if sources.is_empty() {
            return Detection::Unavailable(format!("no {family} sources are configured"));
        }
        match self.policy {
            Policy::First => first_answer(sources, family).await,
            Policy::Confirm => confirmed_answer(sources, family, known).await,
            Policy::Agree => {
                let answers =
                    futures_util::future::join_all(sources.iter().map(|s| s.ask(family))).await;
                agree(&answers, family)
            }
        }
    }

    /// What the policy concludes from a [`Detector::probe`] of every source.
    #[must_use]
    pub fn conclude(&self, family: Family, reports: &[SourceReport]) -> Detection {
        let answers: Vec<Result<IpAddr, String>> = reports
            .iter()
            .map(|r| r.ip.ok_or_else(|| r.error.clone().unwrap_or_default()))
            .collect();
        match self.policy {
            Policy::First => answers.iter().find_map(|a| a.as_ref().ok()).map_or_else(
                || Detection::Unavailable(format!("every {family} source failed")),
                |ip| Detection::Known(*ip),
            ),
            Policy::Agree => agree(&answers, family),
            Policy::Confirm => {
                let first = reports.iter().find_map(|r| r.ip.map(|ip| (ip, r)));
                match first {
                    None => Detection::Unavailable(format!("every {family} source failed")),
                    Some((ip, _))
                        if !several_operators(reports.iter().map(|r| r.operator.as_str())) =>
                    {
                        Detection::Known(ip)
                    }
                    Some((ip, by)) => {
                        if reports
                            .iter()
                            .any(|r| r.ip == Some(ip) && r.operator != by.operator)
                        {
                            Detection::Known(ip)
                        } else {
                            Detection::Unavailable(format!(
                                "{ip} from {} is not confirmed by another operator's source",
                                by.source
                            ))
                        }
                    }
                }
            }
        }
    }

    /// Every source's answer with its latency, and what the policy concludes from them (`ddns-tray detect`,
    /// the settings window's "Detect now").
    pub async fn report(&self, family: Family) -> (Vec<SourceReport>, Detection) {
        let reports = self.probe(family).await;
        let conclusion = self.conclude(family, &reports);
        (reports, conclusion)
    }

    /// Asks every source of `family` concurrently and reports each answer with its latency.
    pub async fn probe(&self, family: Family) -> Vec<SourceReport> {
        let tasks = self.sources(family).iter().map(|s| async move {
            let start = Instant::now();
            let result = s.ask(family).await;
            let latency_ms = start.elapsed().as_millis();
            let (ip, error) = match result {
                Ok(ip) => (Some(ip), None),
                Err(e) => (None, Some(e)),
            };
            SourceReport {
                source: s.source.label(),
                ip,
                error,
                latency_ms,
                operator: s.operator.clone(),
            }
        });
        futures_util::future::join_all(tasks).await
    }
}

/// Under `first`, the next source is asked when the one before has failed or has not answered within this:
/// one dead echo costs this much, not its whole timeout.
pub const STAGGER: Duration = Duration::from_millis(300);

/// The first valid answer, asking the sources in order, each [`STAGGER`] after the one before (or at once
/// when it failed), the earlier ones still running: "happy eyeballs" over IP sources.
async fn first_answer(sources: &[Configured], family: Family) -> Detection {
    match first_answer_from(sources, family).await {
        Ok((ip, _)) => Detection::Known(ip),
        Err(why) => Detection::Unavailable(why),
    }
}

/// [`first_answer`], with the index of the source that gave it.
async fn first_answer_from(
    sources: &[Configured],
    family: Family,
) -> Result<(IpAddr, usize), String> {
    let all: Vec<&Configured> = sources.iter().collect();
    let (found, answers) = staggered(&all, family, |_| true).await;
    if let Some((i, ip)) = found {
        return Ok((ip, i));
    }
    let errors: Vec<String> = sources
        .iter()
        .zip(answers)
        .map(|(s, a)| {
            format!(
                "{}: {}",
                s.source.label(),
                a.and_then(Result::err).unwrap_or_default()
            )
        })
        .collect();
    Err(format!(
        "every {family} source failed ({})",
        errors.join("; ")
    ))
}

/// Asks `sources` in order, each [`STAGGER`] after the one before (or at once when it failed), the earlier
/// ones still running, until one gives an address `wanted` takes: that source's index and the address.
/// Every answer that came is kept, by index (`None`: not asked, or asked and cut short).
async fn staggered(
    sources: &[&Configured],
    family: Family,
    wanted: impl Fn(IpAddr) -> bool,
) -> (Option<(usize, IpAddr)>, Vec<Option<Result<IpAddr, String>>>) {
    use futures_util::stream::{FuturesUnordered, StreamExt as _};
    let mut answers: Vec<Option<Result<IpAddr, String>>> = vec![None; sources.len()];
    let ask = |i: usize| {
        let s: &Configured = sources[i];
        async move { (i, s.ask(family).await) }
    };
    let mut running = FuturesUnordered::new();
    let mut next = 0;
    loop {
        if running.is_empty() {
            if next >= sources.len() {
                break;
            }
            running.push(ask(next));
            next += 1;
        }
        let more = next < sources.len();
        tokio::select! {
            Some((i, answer)) = running.next() => {
                if let Ok(ip) = answer
                    && wanted(ip)
                {
                    return (Some((i, ip)), answers);
                }
                answers[i] = Some(answer);
            },
            () = tokio::time::sleep(STAGGER), if more => {
                running.push(ask(next));
                next += 1;
            }
        }
    }
    (None, answers)
}

/// Whether the operators named are at least two.
fn several_operators<'a>(mut operators: impl Iterator<Item = &'a str>) -> bool {
    let Some(first) = operators.next() else {
        return false;
    };
    operators.any(|o| o != first)
}

/// Under `confirm`: the first valid answer (as `first`). When it is `known`, that is all. Otherwise the
/// sources of other operators are asked the same way until one gives the same address (confirmed) or all
/// have answered (not confirmed: nothing is written). With one operator configured there is nobody to
/// confirm: the first answer stands.
async fn confirmed_answer(
    sources: &[Configured],
    family: Family,
    known: Option<IpAddr>,
) -> Detection {
    let (ip, by) = match first_answer_from(sources, family).await {
        Ok(found) => found,
        Err(why) => return Detection::Unavailable(why),
    };
    let operator = &sources[by].operator;
    if Some(ip) == known || !several_operators(sources.iter().map(|s| s.operator.as_str())) {
        return Detection::Known(ip);
    }
    let others: Vec<&Configured> = sources.iter().filter(|s| s.operator != *operator).collect();
    let (found, answers) = staggered(&others, family, |other| other == ip).await;
    if let Some((i, _)) = found {
        tracing::info!(%family, %ip, first = %sources[by].source.label(), confirmed_by = %others[i].source.label(), "address change confirmed by another operator");
        return Detection::Known(ip);
    }
    let seen: Vec<String> = others
        .iter()
        .zip(answers)
        .filter_map(|(s, a)| {
            let said = match a? {
                Ok(other) => other.to_string(),
                Err(e) => e,
            };
            Some(format!("{}: {said}", s.source.label()))
        })
        .collect();
    Detection::Unavailable(format!(
        "{ip} from {} ({operator}) is not confirmed by another operator ({}); nothing is published until one agrees",
        sources[by].source.label(),
        seen.join("; ")
    ))
}

/// Under `agree`: the answer given by the most sources, if at least two gave it and no other answer ties it.
fn agree(answers: &[Result<IpAddr, String>], family: Family) -> Detection {
    let mut counts: Vec<(IpAddr, usize)> = Vec::new();
    for ip in answers.iter().filter_map(|a| a.as_ref().ok()) {
        match counts.iter_mut().find(|(seen, _)| seen == ip) {
            Some((_, n)) => *n += 1,
            None => counts.push((*ip, 1)),
        }
    }
    counts.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    match counts.as_slice() {
        [(ip, n), rest @ ..] if *n >= 2 && rest.first().is_none_or(|(_, m)| m < n) => {
            Detection::Known(*ip)
        }
        [] => Detection::Unavailable(format!("no {family} source gave a valid answer")),
        _ => {
            let seen: Vec<String> = counts.iter().map(|(ip, n)| format!("{ip} x{n}")).collect();
            Detection::Unavailable(format!(
                "{family} sources do not agree ({})",
                seen.join(", ")
            ))
        }
    }
}

fn build_source(
    s: &SourceSettings,
    family: Family,
    line: Option<&crate::config::LineSettings>,
    cdn: Arc<cdn::Ranges>,
) -> Configured {
    use crate::config::LineBind;
    let bind = line.map(|l| &l.bind);
    let source: Box<dyn Source> = match &s.kind {
        SourceKind::Http { url } => {
            Box::new(http::HttpSource::new(url.clone(), family, bind).through(s.proxy.clone()))
        }
        SourceKind::CloudflareTrace { url } => {
            Box::new(trace::TraceSource::new(url.clone(), family, bind).through(s.proxy.clone()))
        }
        SourceKind::Dns {
            server,
            name,
            record_type,
        } => Box::new(dns::DnsSource::new(
            server.as_deref(),
            name.as_deref(),
            record_type.as_deref(),
            family,
            bind.cloned(),
        )),
        SourceKind::Interface { name } => match bind {
            None => Box::new(interface::InterfaceSource::new(name.clone())),
            Some(LineBind::Interface(iface)) => {
                Box::new(interface::InterfaceSource::new(Some(iface.clone())))
            }
            Some(LineBind::Source(ip)) => Box::new(interface::SourceAddress { ip: *ip }),
        },
        SourceKind::Command { command } => {
            Box::new(command::CommandSource::new(command.clone(), line.cloned()))
        }
        SourceKind::Router { protocol, gateway } => Box::new(router::RouterSource::new(
            protocol.as_deref(),
            gateway.as_deref(),
            bind.cloned(),
        )),
    };
    let configured = Configured::new(source, s.timeout, s.allow_private).with_cdn(cdn, s.allow_cdn);
    match &s.operator {
        Some(o) => configured.operated_by(o.clone()),
        None => configured,
    }
}

/// Parses a text answer: the whole (trimmed) text as one address, or text holding exactly one address.
/// HTML is rejected outright: captive portals and challenge pages must never be mined for an address.
pub fn parse_text(text: &str) -> Result<IpAddr, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err("empty answer".into());
    }
    if let Ok(ip) = trimmed.parse::<IpAddr>() {
        return Ok(ip);
    }
    if trimmed.contains('<') {
        return Err("answer is an HTML page, not an address".into());
    }
    let mut found: Vec<IpAddr> = Vec::new();
    for token in trimmed.split(|c: char| !(c.is_ascii_hexdigit() || c == '.' || c == ':')) {
        let token = token.trim_matches(|c| c == '.' || c == ':');
        if let Ok(ip) = token.parse::<IpAddr>()
            && !ip.is_unspecified()
            && !found.contains(&ip)
        {
            found.push(ip);
        }
    }
    match found.as_slice() {
        [ip] => Ok(*ip),
        [] => Err(format!(
            "no IP address in the answer `{}`",
            snippet(trimmed)
        )),
        many => Err(format!(
            "answer holds {} addresses, expected exactly one",
            many.len()
        )),
    }
}

/// Checks that an answer is usable: the family asked for, and a global unicast address unless the source
/// allows private ones. Unspecified, multicast and broadcast addresses are never usable.
pub fn check_answer(ip: IpAddr, family: Family, allow_private: bool) -> Result<IpAddr, String> {
    let ip = match ip {
        IpAddr::V6(v6) if family == Family::V4 => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .ok_or("an IPv6 address, but IPv4 was asked")?,
        IpAddr::V4(_) if family == Family::V6 => {
            return Err("an IPv4 address, but IPv6 was asked".into());
        }
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some() => {
            return Err("an IPv4-mapped address, not an IPv6 one".into());
        }
        other => other,
    };
    match special_range(ip) {
        Some((what, always)) if always || !allow_private => {
            Err(format!("{ip} is {what}, not a public address"))
        }
        _ => Ok(ip),
    }
}

/// Names the special range an address is in, and whether it is unusable even with `allow_private`.
#[must_use]
pub fn special_range(ip: IpAddr) -> Option<(&'static str, bool)> {
    match ip {
        IpAddr::V4(v4) => special_v4(v4),
        IpAddr::V6(v6) => special_v6(v6),
    }
}

fn in_v4(ip: Ipv4Addr, net: [u8; 4], len: u32) -> bool {
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    u32::from(ip) & mask == u32::from(Ipv4Addr::from(net)) & mask
}

fn special_v4(ip: Ipv4Addr) -> Option<(&'static str, bool)> {
    const TABLE: &[([u8; 4], u32, &str, bool)] = &[
        ([0, 0, 0, 0], 8, "in 0.0.0.0/8 (this network)", true),
        ([255, 255, 255, 255], 32, "the broadcast address", true),
        ([224, 0, 0, 0], 4, "multicast", true),
        ([240, 0, 0, 0], 4, "reserved (240.0.0.0/4)", true),
        ([10, 0, 0, 0], 8, "private (RFC 1918)", false),
        ([172, 16, 0, 0], 12, "private (RFC 1918)", false),
        ([192, 168, 0, 0], 16, "private (RFC 1918)", false),
        (
            [100, 64, 0, 0],
            10,
            "carrier-grade NAT (100.64.0.0/10)",
            false,
        ),
        ([127, 0, 0, 0], 8, "loopback", false),
        ([169, 254, 0, 0], 16, "link-local", false),
        (
            [192, 0, 0, 0],
            24,
            "IETF protocol assignments (192.0.0.0/24)",
            false,
        ),
        ([192, 0, 2, 0], 24, "documentation (TEST-NET-1)", false),
        ([198, 51, 100, 0], 24, "documentation (TEST-NET-2)", false),
        ([203, 0, 113, 0], 24, "documentation (TEST-NET-3)", false),
        ([198, 18, 0, 0], 15, "benchmarking (198.18.0.0/15)", false),
        ([192, 88, 99, 0], 24, "6to4 relay anycast", false),
    ];
    TABLE
        .iter()
        .find(|(net, len, _, _)| in_v4(ip, *net, *len))
        .map(|(_, _, what, always)| (*what, *always))
}

fn special_v6(ip: Ipv6Addr) -> Option<(&'static str, bool)> {
    let seg = ip.segments();
    let bits = u128::from(ip);
    let in_net = |net: u128, len: u32| bits >> (128 - len) == net >> (128 - len);
    if ip.is_unspecified() {
        return Some(("the unspecified address", true));
    }
    if seg[0] >> 8 == 0xff {
        return Some(("multicast", true));
    }
    if ip.is_loopback() {
        return Some(("loopback", false));
    }
    if in_net(0xfe80 << 112, 10) {
        return Some(("link-local", false));
    }
    if in_net(0xfc00 << 112, 7) {
        return Some(("a unique local address (ULA)", false));
    }
    if in_net(0x2001_0db8 << 96, 32) || in_net(0x3fff << 112, 20) {
        return Some(("documentation", false));
    }
    if in_net(0x0064_ff9b << 96, 96) || in_net(0x0064_ff9b_0001 << 80, 48) {
        return Some(("a NAT64 translation address", false));
    }
    if in_net(0x2001 << 112, 23) {
        return Some((
            "IETF protocol assignments (2001::/23, includes Teredo)",
            false,
        ));
    }
    if in_net(0x2002 << 112, 16) {
        // RFC 7526: the relays are gone; such an address is not reachable from most of the internet.
        return Some(("a deprecated 6to4 address (2002::/16)", false));
    }
    if !in_net(0x2000 << 112, 3) {
        return Some(("outside global unicast (2000::/3)", false));
    }
    None
}

#[cfg(test)]
mod tests;

/// Who runs a source, from its label (`http https://api.ipify.org` -> `ipify`): the operators of the
/// well-known echo services by their hosts, else the host itself; local sources (interface, command,
/// router) each count as their own.
#[must_use]
pub fn operator_of(label: &str) -> String {
    const KNOWN: &[(&str, &str)] = &[
        ("cloudflare.com", "Cloudflare"),
        ("cloudflare-dns.com", "Cloudflare"),
        ("one.one.one.one", "Cloudflare"),
        ("icanhazip.com", "Cloudflare"),
        ("1.1.1.1", "Cloudflare"),
        ("1.0.0.1", "Cloudflare"),
        ("2606:4700:4700::1111", "Cloudflare"),
        ("2606:4700:4700::1001", "Cloudflare"),
        ("ipify.org", "ipify"),
        ("opendns.com", "Cisco OpenDNS"),
        ("208.67.222.222", "Cisco OpenDNS"),
        ("208.67.220.220", "Cisco OpenDNS"),
        ("2620:119:35::35", "Cisco OpenDNS"),
        ("2620:119:53::53", "Cisco OpenDNS"),
        ("google.com", "Google"),
        ("googleapis.com", "Google"),
        ("akamai.net", "Akamai"),
        ("akamaitech.net", "Akamai"),
        ("ipinfo.io", "ipinfo"),
        ("ifconfig.me", "ifconfig.me"),
        ("ip.sb", "IP.SB"),
    ];
    let mut words = label.split_whitespace();
    let kind = words.next().unwrap_or_default();
    let target = if kind == "dns" {
        // `dns NAME TYPE @server`: the server says who answers.
        label
            .split_whitespace()
            .find_map(|w| w.strip_prefix('@'))
            .unwrap_or_default()
    } else {
        words.next().unwrap_or_default()
    };
    if !matches!(kind, "http" | "cloudflare-trace" | "dns") {
        return format!("{kind} {target}").trim().to_owned();
    }
    if kind == "cloudflare-trace" && (target.is_empty() || target == "(default)") {
        return "Cloudflare".into();
    }
    // The host of a URL or of `server:port` (`[v6]:53`).
    let rest = target.split_once("://").map_or(target, |(_, r)| r);
    let authority = rest.split(['/', '?', '@']).next().unwrap_or(rest);
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or(v6)
    } else {
        authority.rsplit_once(':').map_or(authority, |(h, _)| h)
    }
    .trim_end_matches('.')
    .to_ascii_lowercase();
    for (suffix, who) in KNOWN {
        if host == *suffix || host.ends_with(&format!(".{suffix}")) {
            return (*who).to_owned();
        }
    }
    host
}
