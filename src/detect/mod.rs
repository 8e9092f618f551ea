//! Public IP detection: one file per source kind behind [`Source`], and the [`Detector`] that applies the
//! policy (`first` / `agree`), the per-source timeout and the answer checks.
//!
//! An answer counts only if it is exactly one address of the family asked for and a global unicast address;
//! everything else is rejected with a log line naming the source and what it answered. When no valid answer
//! arrives the result is [`Detection::Unavailable`]: callers publish nothing and clear nothing.
//!
//! [`Detector::for_line`] builds the same sources sent through one `[[line]]` (an uplink): their sockets
//! bound to the line's interface or source address.

mod answer;
pub mod cdn;
pub mod command;
mod dns;
mod http;
pub(crate) mod interface;
mod policy;
pub mod reach;
pub mod router;
pub mod settings;
mod trace;

pub(crate) use dns::answer_address;
pub(crate) use trace::parse_trace;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

use crate::config::Family;
pub(crate) use crate::http::snippet;
pub use answer::{check_answer, parse_text, special_range};
use policy::{agree, confirmed_answer, first_answer, operator_of, several_operators};
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
    /// A `router` source: its answer before the checks (its own external address even when private), for
    /// [`reach::judge`].
    #[serde(skip)]
    pub router_said: Option<Result<IpAddr, String>>,
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
    /// A `router` source: asked again by [`Detector::router_answer`].
    router: bool,
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
            router: false,
        }
    }

    /// Marks it as a router's own word on its external address (see [`reach`]).
    #[must_use]
    pub fn as_router(mut self) -> Self {
        self.router = true;
        self
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
        self.check(family, self.fetch(family).await)
    }

    /// Asks the source, within its timeout; the answer unchecked.
    async fn fetch(&self, family: Family) -> Result<IpAddr, String> {
        let query = Query {
            family,
            allow_private: self.allow_private,
        };
        let answer = match tokio::time::timeout(self.timeout, self.source.fetch(query)).await {
            Ok(answer) => answer,
            Err(_) => Err(format!(
                "no answer within {}",
                humantime::format_duration(self.timeout)
            )),
        };
        answer.inspect_err(|e| {
            tracing::info!(source = %self.source.label(), %family, error = %e, "IP source failed");
        })
    }

    /// Checks an answer: family, range, a CDN's own.
    fn check(&self, family: Family, answer: Result<IpAddr, String>) -> Result<IpAddr, String> {
        let answer = answer?;
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
            let raw = s.fetch(family).await;
            let latency_ms = start.elapsed().as_millis();
            let router_said = s.router.then(|| raw.clone());
            let (ip, error) = match s.check(family, raw) {
                Ok(ip) => (Some(ip), None),
                Err(e) => (None, Some(e)),
            };
            SourceReport {
                source: s.source.label(),
                ip,
                error,
                latency_ms,
                operator: s.operator.clone(),
                router_said,
            }
        });
        futures_util::future::join_all(tasks).await
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
    let mut configured =
        Configured::new(source, s.timeout, s.allow_private).with_cdn(cdn, s.allow_cdn);
    if matches!(s.kind, SourceKind::Router { .. }) {
        configured = configured.as_router();
    }
    match &s.operator {
        Some(o) => configured.operated_by(o.clone()),
        None => configured,
    }
}

#[cfg(test)]
mod tests;
