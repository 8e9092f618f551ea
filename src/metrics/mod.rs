//! `[metrics]`: an HTTP endpoint for Prometheus and health checks (off unless `listen` is set).
//!
//! - `/metrics`: `OpenMetrics` text (prometheus-client). Counters and latency histograms are fed by the
//!   engine's events; gauges (addresses, record states, last success) are read from its status at each scrape.
//! - `/health`: 200 `ok` when every record is published and current and the last check is recent; 503 with a
//!   one-line reason otherwise.
//! - `/status`: the engine's status as JSON (what `ddns-tray ctl status --json` prints).
//!
//! With a `token`, every request needs `Authorization: Bearer <token>`. Requests are read with hyper; their
//! headers must come within 3 s, and a 17th connection closes the oldest one that has not sent a request, so
//! idle or stalled clients cannot keep a scrape or a health check waiting. Only GET is answered. A reload that
//! changes `[metrics]` moves the endpoint.

mod health;
mod serve;

use std::sync::Arc;
use std::time::SystemTime;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;

use crate::engine::{Event, Measurement, Phase, Status};
use crate::settings::{MetricsSettings, Settings};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FamilyLabel {
    family: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AddressLabels {
    family: String,
    address: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LineLabels {
    line: String,
    family: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LineAddressLabels {
    line: String,
    family: String,
    address: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RecordLabels {
    record: String,
    r#type: String,
    provider: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    record: String,
    r#type: String,
    provider: String,
    state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EventRecordLabels {
    record: String,
    r#type: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FailureLabels {
    record: String,
    r#type: String,
    class: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProviderLabel {
    provider: String,
}

type FloatGauge = Gauge<f64, AtomicU64>;
type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 5 ms .. ~20 s.
    Histogram::new(exponential_buckets(0.005, 2.0, 13))
}

/// Every metric ddns-tray exports.
pub struct Metrics {
    registry: Registry,
    address: Family<AddressLabels, Gauge>,
    line_up: Family<LineLabels, Gauge>,
    line_address: Family<LineAddressLabels, Gauge>,
    record_state: Family<StateLabels, Gauge>,
    last_success: Family<RecordLabels, FloatGauge>,
    failure_streak: Family<RecordLabels, Gauge>,
    /// While the write budget holds a record's write back: when it goes (0 otherwise).
    write_held: Family<RecordLabels, FloatGauge>,
    last_check: FloatGauge,
    paused: Gauge,
    updates: Family<EventRecordLabels, Counter>,
    failures: Family<FailureLabels, Counter>,
    address_changes: Family<FamilyLabel, Counter>,
    network_events: Family<FamilyLabel, Counter>,
    detection_seconds: Histograms<FamilyLabel>,
    provider_seconds: Histograms<ProviderLabel>,
}

/// The names of every exported metric family (as written in the text format, counters with `_total`).
pub const NAMES: &[&str] = &[
    "ddns_tray_info",
    "ddns_tray_address_info",
    "ddns_tray_line_up",
    "ddns_tray_line_address_info",
    "ddns_tray_record_state",
    "ddns_tray_record_last_success_timestamp_seconds",
    "ddns_tray_record_failure_streak",
    "ddns_tray_record_write_held_until_timestamp_seconds",
    "ddns_tray_last_check_timestamp_seconds",
    "ddns_tray_paused",
    "ddns_tray_updates_total",
    "ddns_tray_failures_total",
    "ddns_tray_address_changes_total",
    "ddns_tray_network_events_total",
    "ddns_tray_detection_duration_seconds",
    "ddns_tray_provider_duration_seconds",
];

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    #[must_use]
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let info: Family<Vec<(String, String)>, Gauge> = Family::default();
        info.get_or_create(&vec![(
            "version".to_owned(),
            env!("CARGO_PKG_VERSION").to_owned(),
        )])
        .set(1);
        registry.register("ddns_tray_info", "ddns-tray's version", info);
        let m = Self {
            address: Family::default(),
            line_up: Family::default(),
            line_address: Family::default(),
            record_state: Family::default(),
            last_success: Family::default(),
            failure_streak: Family::default(),
            write_held: Family::default(),
            last_check: FloatGauge::default(),
            paused: Gauge::default(),
            updates: Family::default(),
            failures: Family::default(),
            address_changes: Family::default(),
            network_events: Family::default(),
            detection_seconds: Family::new_with_constructor(latency_histogram),
            provider_seconds: Family::new_with_constructor(latency_histogram),
            registry: Registry::default(),
        };
        let mut r = registry;
        r.register(
            "ddns_tray_address_info",
            "The detected public address of each family (value 1)",
            m.address.clone(),
        );
        r.register(
            "ddns_tray_line_up",
            "Whether each [[line]] works, per family (1 or 0)",
            m.line_up.clone(),
        );
        r.register(
            "ddns_tray_line_address_info",
            "The public address seen through each [[line]] (value 1)",
            m.line_address.clone(),
        );
        r.register(
            "ddns_tray_record_state",
            "Each record's state: 1 for the current one of ok, pending, failing, stopped",
            m.record_state.clone(),
        );
        r.register(
            "ddns_tray_record_last_success_timestamp_seconds",
            "When each record was last published (Unix time)",
            m.last_success.clone(),
        );
        r.register(
            "ddns_tray_record_failure_streak",
            "Failures in a row of each record",
            m.failure_streak.clone(),
        );
        r.register(
            "ddns_tray_record_write_held_until_timestamp_seconds",
            "When a write the write budget holds back goes out (Unix time; 0 when none is held)",
            m.write_held.clone(),
        );
        r.register(
            "ddns_tray_last_check_timestamp_seconds",
            "When the public address was last checked (Unix time)",
            m.last_check.clone(),
        );
        r.register(
            "ddns_tray_paused",
            "1 while updates are paused",
            m.paused.clone(),
        );
        r.register("ddns_tray_updates", "Records published", m.updates.clone());
        r.register(
            "ddns_tray_failures",
            "Failed updates, by failure class",
            m.failures.clone(),
        );
        r.register(
            "ddns_tray_address_changes",
            "Changes of the public address",
            m.address_changes.clone(),
        );
        r.register(
            "ddns_tray_network_events",
            "Network changes reported by the OS",
            m.network_events.clone(),
        );
        r.register(
            "ddns_tray_detection_duration_seconds",
            "How long detecting a family's address took",
            m.detection_seconds.clone(),
        );
        r.register(
            "ddns_tray_provider_duration_seconds",
            "How long a provider call took",
            m.provider_seconds.clone(),
        );
        Self { registry: r, ..m }
    }

    /// Counts one engine event.
    pub fn observe(&self, event: &Event) {
        let split = |record: &str| {
            let (name, t) = record.rsplit_once(' ').unwrap_or((record, ""));
            (name.to_owned(), t.to_owned())
        };
        match event {
            Event::RecordUpdated { record, .. } => {
                let (record, r#type) = split(record);
                self.updates
                    .get_or_create(&EventRecordLabels { record, r#type })
                    .inc();
            }
            Event::RecordFailed { record, class, .. } => {
                let (record, r#type) = split(record);
                let class = class.as_str().to_owned();
                self.failures
                    .get_or_create(&FailureLabels {
                        record,
                        r#type,
                        class,
                    })
                    .inc();
            }
            Event::IpChanged {
                family,
                old: Some(_),
                ..
            } => {
                self.address_changes
                    .get_or_create(&FamilyLabel {
                        family: family.key().into(),
                    })
                    .inc();
            }
            Event::NetworkChanged { family } => {
                self.network_events
                    .get_or_create(&FamilyLabel {
                        family: family.key().into(),
                    })
                    .inc();
            }
            Event::Measured(Measurement::Detection {
                family, seconds, ..
            }) => {
                self.detection_seconds
                    .get_or_create(&FamilyLabel {
                        family: family.key().into(),
                    })
                    .observe(*seconds);
            }
            Event::Measured(Measurement::Provider {
                provider, seconds, ..
            }) => {
                self.provider_seconds
                    .get_or_create(&ProviderLabel {
                        provider: provider.clone(),
                    })
                    .observe(*seconds);
            }
            _ => {}
        }
    }

    /// The text format, with the gauges set from `status`.
    #[must_use]
    pub fn render(&self, status: &Status) -> String {
        let unix = |t: SystemTime| {
            t.duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64())
        };
        self.address.clear();
        for (family, ip) in [("ipv4", status.ipv4), ("ipv6", status.ipv6)] {
            if let Some(ip) = ip {
                self.address
                    .get_or_create(&AddressLabels {
                        family: family.into(),
                        address: ip.to_string(),
                    })
                    .set(1);
            }
        }
        self.line_up.clear();
        self.line_address.clear();
        for l in &status.lines {
            for (family, ip) in [
                (crate::config::Family::V4, l.ipv4),
                (crate::config::Family::V6, l.ipv6),
            ] {
                if ip.is_none() && !l.errors.contains_key(&family) {
                    continue; // not checked through this line
                }
                self.line_up
                    .get_or_create(&LineLabels {
                        line: l.name.clone(),
                        family: family.key().into(),
                    })
                    .set(i64::from(ip.is_some()));
                if let Some(ip) = ip {
                    self.line_address
                        .get_or_create(&LineAddressLabels {
                            line: l.name.clone(),
                            family: family.key().into(),
                            address: ip.to_string(),
                        })
                        .set(1);
                }
            }
        }
        self.record_state.clear();
        self.last_success.clear();
        self.failure_streak.clear();
        self.write_held.clear();
        for r in &status.records {
            let labels = RecordLabels {
                record: r.name.clone(),
                r#type: r.record_type.as_str().into(),
                provider: r.provider.clone(),
            };
            for (phase, word) in [
                (Phase::Ok, "ok"),
                (Phase::Pending, "pending"),
                (Phase::Failing, "failing"),
                (Phase::Stopped, "stopped"),
            ] {
                self.record_state
                    .get_or_create(&StateLabels {
                        record: labels.record.clone(),
                        r#type: labels.r#type.clone(),
                        provider: labels.provider.clone(),
                        state: word.into(),
                    })
                    .set(i64::from(r.phase == phase));
            }
            if let Some(at) = r.published_at {
                self.last_success.get_or_create(&labels).set(unix(at));
            }
            self.failure_streak
                .get_or_create(&labels)
                .set(i64::from(r.failures));
            self.write_held
                .get_or_create(&labels)
                .set(r.held_until.map_or(0.0, unix));
        }
        self.last_check.set(status.last_check.map_or(0.0, unix));
        self.paused.set(i64::from(status.paused));
        let mut out = String::new();
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// Runs the endpoint as the settings ask, following reloads: when `[metrics]` changes, the old listener is
/// closed and the new one opened (the counters carry on). A listener that cannot be opened is logged and the
/// daemon runs on without it; the next reload tries again. Ends when the settings' sender is gone.
#[must_use]
pub fn run(
    events: broadcast::Receiver<Event>,
    status: watch::Receiver<Status>,
    mut settings: watch::Receiver<Arc<Settings>>,
    shutdown: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let metrics = Arc::new(Metrics::new());
        tokio::spawn(feed(events, metrics.clone()));
        let mut current: Option<(
            MetricsSettings,
            CancellationToken,
            tokio::task::JoinHandle<()>,
        )> = None;
        let mut first = true;
        loop {
            let wanted = settings.borrow_and_update().metrics.clone();
            if current.as_ref().map(|(c, _, _)| c) != wanted.as_ref() {
                if let Some((old, stop, task)) = current.take() {
                    stop.cancel();
                    // The old listener is closed before the new one binds (it may be the same port).
                    let _ = task.await;
                    if wanted.is_none() {
                        tracing::info!("metrics endpoint on {} closed", old.listen);
                    }
                }
                if let Some(config) = wanted {
                    match tokio::net::TcpListener::bind(config.listen).await {
                        Ok(listener) => {
                            if !first {
                                tracing::info!("metrics on http://{}/metrics", config.listen);
                            }
                            let stop = shutdown.child_token();
                            let served = serve::Served {
                                metrics: metrics.clone(),
                                status: status.clone(),
                                settings: settings.clone(),
                                token: config.token.as_ref().map(|t| t.expose().to_owned()),
                            };
                            let task = tokio::spawn(serve::accept(listener, served, stop.clone()));
                            current = Some((config, stop, task));
                        }
                        Err(e) => tracing::error!(
                            "cannot listen for metrics on {}: {e}; running without metrics until the next reload",
                            config.listen
                        ),
                    }
                }
            }
            first = false;
            tokio::select! {
                () = shutdown.cancelled() => break,
                changed = settings.changed() => if changed.is_err() { break },
            }
        }
        if let Some((_, stop, task)) = current {
            stop.cancel();
            let _ = task.await;
        }
    })
}

async fn feed(mut events: broadcast::Receiver<Event>, metrics: Arc<Metrics>) {
    loop {
        match events.recv().await {
            Ok(e) => metrics.observe(&e),
            Err(broadcast::error::RecvError::Lagged(_)) => {}
            Err(broadcast::error::RecvError::Closed) => break,
        }
    }
}

pub use health::{Unhealthy, health};

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn every_exported_name_appears_in_a_scrape() {
        let m = Metrics::new();
        let v4 = crate::config::Family::V4;
        m.observe(&Event::RecordUpdated {
            record: "a.example.com A".into(),
            ip: "198.51.100.1".parse().unwrap(),
            previous: None,
        });
        m.observe(&Event::RecordFailed {
            record: "a.example.com A".into(),
            error: "x".into(),
            class: crate::provider::ErrorClass::Transient,
            failures: 1,
            stopped: false,
            retry_at: None,
        });
        m.observe(&Event::IpChanged {
            family: v4,
            old: Some("198.51.100.1".parse().unwrap()),
            new: "198.51.100.2".parse().unwrap(),
        });
        m.observe(&Event::NetworkChanged { family: v4 });
        m.observe(&Event::Measured(Measurement::Detection {
            family: v4,
            seconds: 0.02,
            ok: true,
        }));
        m.observe(&Event::Measured(Measurement::Provider {
            provider: "pdns".into(),
            seconds: 0.1,
            ok: true,
        }));
        let status = Status {
            ipv4: Some("198.51.100.2".parse().unwrap()),
            last_check: Some(SystemTime::now()),
            records: vec![crate::engine::RecordStatus {
                name: "a.example.com".into(),
                record_type: crate::config::RecordType::A,
                provider: "pdns".into(),
                line: None,
                published: Some("198.51.100.2".parse().unwrap()),
                published_at: Some(SystemTime::UNIX_EPOCH + Duration::from_hours(500_000)),
                phase: Phase::Ok,
                failures: 0,
                next_attempt: None,
                last_error: None,
                last_error_class: None,
                via: vec!["wan1".into()],
                held_until: Some(SystemTime::UNIX_EPOCH + Duration::from_mins(30_000_010)),
            }],
            lines: vec![crate::engine::LineStatus {
                name: "wan1".into(),
                ipv4: Some("198.51.100.2".parse().unwrap()),
                ipv6: None,
                errors: std::collections::BTreeMap::new(),
            }],
            ..Status::default()
        };
        let text = m.render(&status);
        for name in NAMES {
            assert!(
                text.lines().any(|l| l.starts_with(name)),
                "{name} missing from:\n{text}"
            );
        }
        assert!(text.contains(r#"ddns_tray_record_state{record="a.example.com",type="A",provider="pdns",state="ok"} 1"#), "{text}");
        assert!(text.contains(r#"ddns_tray_record_last_success_timestamp_seconds{record="a.example.com",type="A",provider="pdns"} 1800000000"#), "{text}");
        assert!(text.contains(r#"ddns_tray_record_write_held_until_timestamp_seconds{record="a.example.com",type="A",provider="pdns"} 1800000600"#), "{text}");
        assert!(
            text.contains(
                r#"ddns_tray_failures_total{record="a.example.com",type="A",class="transient"} 1"#
            ),
            "{text}"
        );
        assert!(
            text.contains(r#"ddns_tray_line_up{line="wan1",family="ipv4"} 1"#),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"), "{text}");
        assert_eq!(
            health(&status, Duration::from_mins(5), SystemTime::now()),
            Ok(())
        );
    }

    #[test]
    fn health_names_the_first_problem() {
        let mut status = Status {
            last_check: Some(SystemTime::now()),
            ..Status::default()
        };
        assert_eq!(
            health(&status, Duration::from_mins(5), SystemTime::now()),
            Ok(())
        );
        status.paused = true;
        assert_eq!(
            health(&status, Duration::from_mins(5), SystemTime::now()),
            Err(Unhealthy::Paused)
        );
        status.paused = false;
        let late = SystemTime::now() + Duration::from_secs(700);
        assert_eq!(
            health(&status, Duration::from_mins(5), late).map_err(|e| e.to_string()),
            Err("the last check was 11m 40s ago".into())
        );
    }
}
