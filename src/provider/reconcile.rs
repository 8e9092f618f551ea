//! The provider side's one policy. [`RecordApi`] is what an API that can read records implements (find the
//! zone, list a name's records of one type with their line and TTL, create, update, delete); [`Reconciler`]
//! turns it into a [`Provider`] and owns every decision:
//!
//! - only records on the managed line are looked at (the request's line, else the provider's default line);
//!   records on other lines, of other types or at other names are never changed or deleted;
//! - values are compared as parsed addresses (`2001:db8::1` equals `2001:0db8::1`), TTLs only when the config
//!   sets one;
//! - nothing is written when the records already hold exactly the wanted addresses;
//! - otherwise existing records are reused (the one updated before, then the one holding the address
//!   published before, then the first), missing ones created, and records left over deleted, unless the
//!   user opted out (`delete_duplicates = false`), in which case they are kept;
//! - writes come before deletes, so the name never resolves to nothing in between.
//!
//! [`Setter`] is the blind counterpart for protocols that can only write; [`SetterProvider`] adapts it.
//!
//! Zone lookups are cached for one round ([`RoundCache`]): many records in one zone cost one lookup.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::{Provider, ProviderError, UpdateOutcome, UpdateRequest};
use crate::config::RecordType;

/// A zone as the API knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    /// What the API calls it by (an id, or the name itself).
    pub id: String,
    /// Lower-case, no trailing dot; empty when only the id is known (a configured Cloudflare `zone_id`).
    pub name: String,
}

/// One record (or record set) the API listed at the name, of the type asked for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Existing {
    /// The API's id for it (record id, or the set's name for set-based APIs). Ids of set-based APIs, and ids
    /// starting with `@` (an API's own marker), are not reported to the engine.
    pub id: String,
    /// Its values as text; per-record APIs give one, set-based APIs the whole set.
    pub values: Vec<String>,
    /// Its line as the API names it; `None` for APIs without lines.
    pub line: Option<String>,
    pub ttl: Option<u32>,
    /// The API says it needs rewriting even if its values match (Cloudflare: `proxied` or `comment`
    /// differ from what the config sets).
    pub stale: bool,
}

impl Existing {
    fn addrs(&self) -> Vec<Option<IpAddr>> {
        self.values.iter().map(|v| parse_addr(v)).collect()
    }
}

/// A value as an address: surrounding space, a `/len` suffix (dynv6 prefixes) and a trailing dot are ignored.
#[must_use]
pub fn parse_addr(value: &str) -> Option<IpAddr> {
    value
        .trim()
        .split('/')
        .next()
        .unwrap_or("")
        .trim_end_matches('.')
        .parse()
        .ok()
}

/// What a create or update did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The record's id, when the API gives one.
    pub id: Option<String>,
    /// False when the API said the record already held exactly this (nothing was written).
    pub changed: bool,
}

impl Written {
    #[must_use]
    pub fn new(id: Option<String>) -> Self {
        Self { id, changed: true }
    }

    /// The API answered "already exists / no change".
    #[must_use]
    pub fn already(id: Option<String>) -> Self {
        Self { id, changed: false }
    }
}

/// The TTLs a provider accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TtlRule {
    pub min: u32,
    pub max: u32,
    /// A special value outside the range that is also accepted (Cloudflare's 1 = automatic).
    pub auto: Option<u32>,
}

impl TtlRule {
    pub const ANY: TtlRule = TtlRule {
        min: 1,
        max: 2_147_483_647,
        auto: None,
    };

    #[must_use]
    pub fn allows(self, ttl: u32) -> bool {
        (self.min..=self.max).contains(&ttl) || self.auto == Some(ttl)
    }
}

/// What a provider can do, declared by its kind and checked when the config is loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// Providers with resolution lines: the name of the default line. `None`: the API has no lines.
    pub default_line: Option<&'static str>,
    pub ttl: TtlRule,
    /// Whether a name can hold several addresses (records with `mode = "all"`).
    pub multi_value: bool,
    /// Whether the API keeps a name's addresses as one set (an `RRset`) rather than one record per address.
    pub sets: bool,
    /// How many updates of this provider the engine may run at once.
    pub concurrency: usize,
}

impl Capabilities {
    /// One record per address, no lines, any TTL, several values allowed, two calls at once.
    pub const RECORDS: Capabilities = Capabilities {
        default_line: None,
        ttl: TtlRule::ANY,
        multi_value: true,
        sets: false,
        concurrency: 2,
    };
    /// One set per name and type, otherwise like [`Capabilities::RECORDS`].
    pub const SETS: Capabilities = Capabilities {
        sets: true,
        ..Capabilities::RECORDS
    };
}

/// What an API that can read records offers. Every method may be called concurrently for different names;
/// errors are classified for the engine's retry policy.
#[async_trait]
pub trait RecordApi: Send + Sync {
    /// The kind and the provider's name, for messages.
    fn label(&self) -> String;

    fn capabilities(&self) -> Capabilities;

    /// The zone holding `name` (the longest one the account has, or the configured one).
    async fn zone(&self, name: &str) -> Result<Zone, ProviderError>;

    /// The records (or the set) at exactly `name` of `record_type`, on every line. Filtering by name and type
    /// is the API's job (fuzzy server-side searches must be filtered here); filtering by line is the
    /// reconciler's.
    async fn list(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
    ) -> Result<Vec<Existing>, ProviderError>;

    /// Creates a record (or the set) holding `values` on `line`.
    async fn create(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
        values: &[IpAddr],
        ttl: Option<u32>,
        line: Option<&str>,
    ) -> Result<Written, ProviderError>;

    /// Makes `existing` hold `values` (and `ttl` when given), keeping its line.
    async fn update(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
        existing: &Existing,
        values: &[IpAddr],
        ttl: Option<u32>,
    ) -> Result<Written, ProviderError>;

    /// Deletes `existing`.
    async fn delete(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
        existing: &Existing,
    ) -> Result<(), ProviderError>;

    /// The domains (zones) this credential can see, lower-case without the trailing dot, for "Test" and the
    /// first-run flow; `None` when the API has no call that lists them.
    async fn zones(&self) -> Result<Option<Vec<String>>, ProviderError> {
        Ok(None)
    }

    /// A round starts: forget what was cached during the last one.
    fn begin_round(&self) {}
}

/// A cache that lives for one round: concurrent askers of one key share one lookup; failures are not kept.
pub struct RoundCache<K, V> {
    map: Mutex<HashMap<K, Arc<tokio::sync::OnceCell<V>>>>,
}

impl<K, V> Default for RoundCache<K, V> {
    fn default() -> Self {
        Self {
            map: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Eq + Hash + Clone, V: Clone> RoundCache<K, V> {
    /// The cached value for `key`, or the result of `fetch` (cached when it succeeded).
    pub async fn get_or_try<E, F>(&self, key: &K, fetch: F) -> Result<V, E>
    where
        F: std::future::Future<Output = Result<V, E>>,
    {
        let cell = {
            let mut map = self
                .map
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            map.entry(key.clone()).or_default().clone()
        };
        cell.get_or_try_init(|| fetch).await.cloned()
    }

    /// Stores a value found another way (e.g. a listing that came with a zone probe).
    pub fn put(&self, key: K, value: V) {
        let cell = tokio::sync::OnceCell::new_with(Some(value));
        self.map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(key, Arc::new(cell));
    }

    /// A value already cached for `key`.
    pub fn peek(&self, key: &K) -> Option<V> {
        self.map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(key)
            .and_then(|c| c.get().cloned())
    }

    pub fn clear(&self) {
        self.map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }
}

/// The reconciler over a [`RecordApi`]. It holds the API as a trait object, so its plan-and-write logic is
/// compiled once for every kind instead of once per kind (about 200 KB of the static binary).
pub struct Reconciler {
    api: Box<dyn RecordApi>,
    delete_duplicates: bool,
    /// The provider-wide line (`line = "..."` of the provider), for requests that name none.
    line: Option<String>,
    zones: RoundCache<String, Zone>,
}

impl Reconciler {
    pub fn new(api: impl RecordApi + 'static) -> Self {
        Self {
            api: Box::new(api),
            delete_duplicates: true,
            line: None,
            zones: RoundCache::default(),
        }
    }

    /// The line to manage when a request names none (the provider's `line`).
    #[must_use]
    pub fn on_line(mut self, line: Option<&str>) -> Self {
        self.line = line.map(str::to_owned);
        self
    }

    /// Keep records left over at the name instead of deleting them (round-robin setups).
    #[must_use]
    pub fn keeping_duplicates(mut self, keep: bool) -> Self {
        self.delete_duplicates = !keep;
        self
    }

    async fn zone(&self, name: &str) -> Result<Zone, ProviderError> {
        self.zones
            .get_or_try(&name.to_owned(), self.api.zone(name))
            .await
    }

    /// The line this request manages, for APIs with lines.
    fn managed_line<'r>(&'r self, request: &UpdateRequest<'r>) -> Option<&'r str> {
        let caps = self.api.capabilities();
        caps.default_line
            .map(|default| request.line.or(self.line.as_deref()).unwrap_or(default))
    }
}

/// Whether an entry is on the managed line. APIs without lines (or entries without one) have one line.
fn on_line(existing: &Existing, managed: Option<&str>) -> bool {
    match (managed, existing.line.as_deref()) {
        (Some(m), Some(l)) => l == m,
        _ => true,
    }
}

/// What reconciling one name amounts to.
#[derive(Debug, Default, PartialEq, Eq)]
struct Plan {
    /// (existing index, values to write) for entries to rewrite.
    update: Vec<(usize, Vec<IpAddr>)>,
    /// Values to create, each its own record (or one set).
    create: Vec<Vec<IpAddr>>,
    /// Existing indexes to delete.
    delete: Vec<usize>,
    /// The index of the entry whose id identifies the record, when one is kept.
    kept: Option<usize>,
}

/// The pure decision, tested on its own. `want` is sorted and free of duplicates.
fn plan(
    mine: &[Existing],
    want: &[IpAddr],
    sets: bool,
    ttl: Option<u32>,
    delete_duplicates: bool,
    record_id: Option<&str>,
    previous: Option<IpAddr>,
) -> Plan {
    let ttl_differs = |e: &Existing| ttl.is_some_and(|t| e.ttl != Some(t));
    let mut plan = Plan::default();
    if sets {
        let Some(first) = preferred(
            mine,
            record_id,
            previous,
            &(0..mine.len()).collect::<Vec<_>>(),
        ) else {
            plan.create.push(want.to_vec());
            return plan;
        };
        let mut held: Vec<IpAddr> = mine[first].addrs().into_iter().flatten().collect();
        held.sort_unstable();
        held.dedup();
        let exact = held == want && mine[first].addrs().iter().all(Option::is_some);
        if !exact || ttl_differs(&mine[first]) || mine[first].stale {
            plan.update.push((first, want.to_vec()));
        }
        plan.kept = Some(first);
        plan.delete = (0..mine.len()).filter(|i| *i != first).collect();
        return plan;
    }
    // One record per address: match wanted addresses to records already holding them.
    let mut used = vec![false; mine.len()];
    let mut missing = Vec::new();
    for addr in want {
        let holder = (0..mine.len()).find(|&i| {
            !used[i] && mine[i].values.len() == 1 && parse_addr(&mine[i].values[0]) == Some(*addr)
        });
        match holder {
            Some(i) => {
                used[i] = true;
                if ttl_differs(&mine[i]) || mine[i].stale {
                    plan.update.push((i, vec![*addr]));
                }
                plan.kept.get_or_insert(i);
            }
            None => missing.push(*addr),
        }
    }
    // Reuse records left over for the missing addresses (ours first), create the rest.
    for addr in missing {
        let free: Vec<usize> = (0..mine.len()).filter(|i| !used[*i]).collect();
        let reuse = preferred(mine, record_id, previous, &free);
        match reuse {
            Some(i) => {
                used[i] = true;
                plan.update.push((i, vec![addr]));
                plan.kept.get_or_insert(i);
            }
            None => plan.create.push(vec![addr]),
        }
    }
    if delete_duplicates {
        plan.delete = (0..mine.len()).filter(|i| !used[*i]).collect();
    }
    plan
}

/// Among `candidates`: the record updated before, the one holding the address published before.
fn ours(
    mine: &[Existing],
    record_id: Option<&str>,
    previous: Option<IpAddr>,
    candidates: &[usize],
) -> Option<usize> {
    candidates
        .iter()
        .copied()
        .find(|&i| record_id.is_some_and(|id| mine[i].id == id))
        .or_else(|| {
            candidates.iter().copied().find(|&i| {
                previous.is_some_and(|p| mine[i].values.iter().any(|v| parse_addr(v) == Some(p)))
            })
        })
}

/// [`ours`], else the first candidate.
fn preferred(
    mine: &[Existing],
    record_id: Option<&str>,
    previous: Option<IpAddr>,
    candidates: &[usize],
) -> Option<usize> {
    ours(mine, record_id, previous, candidates).or_else(|| candidates.first().copied())
}

#[async_trait]
impl Provider for Reconciler {
    #[tracing::instrument(skip_all, fields(provider = %self.api.label(), record = %request.name))]
    async fn update(&self, request: &UpdateRequest<'_>) -> Result<UpdateOutcome, ProviderError> {
        let caps = self.api.capabilities();
        let mut want: Vec<IpAddr> = request.addrs.to_vec();
        want.sort_unstable();
        want.dedup();
        if want.is_empty() {
            return Err(ProviderError::rejected(format!(
                "{}: nothing to publish for {}",
                self.api.label(),
                request.name
            )));
        }
        let zone = self.zone(request.name).await?;
        let line = self.managed_line(request);
        let listed = self
            .api
            .list(&zone, request.name, request.record_type)
            .await?;
        let mine: Vec<Existing> = listed.into_iter().filter(|e| on_line(e, line)).collect();
        let plan = plan(
            &mine,
            &want,
            caps.sets,
            request.ttl,
            self.delete_duplicates,
            request.record_id,
            request.previous,
        );
        let (name, rtype) = (request.name, request.record_type);
        let mut record_id = plan.kept.map(|i| mine[i].id.clone());
        let mut wrote = false;
        for (i, values) in &plan.update {
            let done = self
                .api
                .update(&zone, name, rtype, &mine[*i], values, request.ttl)
                .await?;
            if Some(*i) == plan.kept {
                record_id = done.id.or(record_id);
            }
            wrote |= done.changed;
        }
        for values in &plan.create {
            let done = self
                .api
                .create(&zone, name, rtype, values, request.ttl, line)
                .await?;
            record_id = record_id.or(done.id);
            wrote |= done.changed;
        }
        for i in &plan.delete {
            tracing::warn!(
                record = %name,
                id = %mine[*i].id,
                values = %mine[*i].values.join(" "),
                "deleting a duplicate {rtype} record"
            );
            self.api.delete(&zone, name, rtype, &mine[*i]).await?;
            wrote = true;
        }
        // Set-based APIs have no record ids worth keeping; ids starting with `@` are the API's own markers.
        let record_id = record_id.filter(|id| !caps.sets && !id.starts_with('@'));
        Ok(if wrote {
            UpdateOutcome::Updated { record_id }
        } else {
            UpdateOutcome::Unchanged { record_id }
        })
    }

    async fn check(&self, name: &str, record_type: RecordType) -> Result<String, ProviderError> {
        let zone = self.zone(name).await?;
        let listed = self.api.list(&zone, name, record_type).await?;
        let values: Vec<String> = listed
            .iter()
            .flat_map(|e| {
                e.values.iter().map(move |v| match &e.line {
                    Some(l) => format!("{v} (line {l})"),
                    None => v.clone(),
                })
            })
            .collect();
        let zone_name = if zone.name.is_empty() {
            format!("id {}", zone.id)
        } else {
            zone.name.clone()
        };
        Ok(super::found(name, record_type, &values, &zone_name))
    }

    async fn zones(&self) -> Result<Option<Vec<String>>, ProviderError> {
        Ok(self.api.zones().await?.map(super::sorted_zones))
    }

    fn begin_round(&self) {
        self.zones.clear();
        self.api.begin_round();
    }

    fn concurrency(&self) -> usize {
        self.api.capabilities().concurrency.max(1)
    }
}

/// A protocol that can only write: it sets the name's address without reading it first. The engine's
/// record of what it published is the only guard against repeated writes, and it never sends one needlessly.
#[async_trait]
pub trait Setter: Send + Sync {
    /// Makes `request.name` point at `request.addrs` (one address unless the kind declares `multi_value`).
    async fn set(&self, request: &UpdateRequest<'_>) -> Result<UpdateOutcome, ProviderError>;

    /// What "Test" says: a read-only check when the protocol has one, else why there is none.
    async fn check(&self, name: &str, record_type: RecordType) -> Result<String, ProviderError>;

    fn multi_value(&self) -> bool {
        false
    }
}

/// A [`Setter`] as a [`Provider`].
pub struct SetterProvider<S>(pub S);

#[async_trait]
impl<S: Setter> Provider for SetterProvider<S> {
    async fn update(&self, request: &UpdateRequest<'_>) -> Result<UpdateOutcome, ProviderError> {
        if request.addrs.is_empty() || (request.addrs.len() > 1 && !self.0.multi_value()) {
            return Err(ProviderError::rejected(format!(
                "this provider sets one address at a time, not {}",
                request.addrs.len()
            )));
        }
        self.0.set(request).await
    }

    async fn check(&self, name: &str, record_type: RecordType) -> Result<String, ProviderError> {
        self.0.check(name, record_type).await
    }

    fn concurrency(&self) -> usize {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: &str, value: &str) -> Existing {
        Existing {
            id: id.into(),
            values: vec![value.into()],
            ..Existing::default()
        }
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn parsed_comparison_means_no_write() {
        let mine = [rec("a", "2001:0db8:0::1")];
        let p = plan(&mine, &[ip("2001:db8::1")], false, None, true, None, None);
        assert_eq!(
            p,
            Plan {
                kept: Some(0),
                ..Plan::default()
            }
        );
        let sets = [Existing {
            id: "s".into(),
            values: vec!["2001:db8::2".into(), "2001:DB8::1".into()],
            ..Existing::default()
        }];
        let want = [ip("2001:db8::1"), ip("2001:db8::2")];
        assert_eq!(
            plan(&sets, &want, true, None, true, None, None),
            Plan {
                kept: Some(0),
                ..Plan::default()
            }
        );
    }

    #[test]
    fn one_record_updated_the_rest_deleted_after() {
        let mine = [rec("a", "198.51.100.1"), rec("b", "198.51.100.2")];
        let p = plan(
            &mine,
            &[ip("198.51.100.9")],
            false,
            None,
            true,
            Some("b"),
            None,
        );
        assert_eq!(p.update, [(1, vec![ip("198.51.100.9")])]);
        assert_eq!(p.delete, [0]);
        assert_eq!(p.kept, Some(1));
        // The one already holding the address is kept; the other goes.
        let p = plan(&mine, &[ip("198.51.100.2")], false, None, true, None, None);
        assert!(p.update.is_empty() && p.create.is_empty());
        assert_eq!(p.delete, [0]);
    }

    #[test]
    fn round_robin_opt_out_rewrites_ours_and_keeps_the_rest() {
        let mine = [rec("other", "192.0.2.50"), rec("ours", "198.51.100.1")];
        let p = plan(
            &mine,
            &[ip("198.51.100.2")],
            false,
            None,
            false,
            None,
            Some(ip("198.51.100.1")),
        );
        assert_eq!(p.update, [(1, vec![ip("198.51.100.2")])]);
        assert!(p.delete.is_empty());
        // Nothing recognisably ours: the first is updated (as with deleting), the others stay.
        let p = plan(&mine, &[ip("198.51.100.2")], false, None, false, None, None);
        assert_eq!(p.update, [(0, vec![ip("198.51.100.2")])]);
        assert!(p.delete.is_empty() && p.create.is_empty());
        // Already there: nothing at all.
        let p = plan(&mine, &[ip("192.0.2.50")], false, None, false, None, None);
        assert_eq!(
            p,
            Plan {
                kept: Some(0),
                ..Plan::default()
            }
        );
    }

    #[test]
    fn several_wanted_addresses() {
        let mine = [rec("a", "198.51.100.1"), rec("b", "198.51.100.7")];
        let want = [ip("198.51.100.1"), ip("198.51.100.2"), ip("198.51.100.3")];
        let p = plan(&mine, &want, false, None, true, None, None);
        assert_eq!(p.update, [(1, vec![ip("198.51.100.2")])]);
        assert_eq!(p.create, [vec![ip("198.51.100.3")]]);
        assert!(p.delete.is_empty());
    }

    #[test]
    fn ttl_and_stale_entries_are_rewritten() {
        let mut e = rec("a", "198.51.100.1");
        e.ttl = Some(300);
        let p = plan(
            &[e.clone()],
            &[ip("198.51.100.1")],
            false,
            Some(60),
            true,
            None,
            None,
        );
        assert_eq!(p.update, [(0, vec![ip("198.51.100.1")])]);
        assert!(
            plan(
                &[e.clone()],
                &[ip("198.51.100.1")],
                false,
                None,
                true,
                None,
                None
            )
            .update
            .is_empty()
        );
        e.stale = true;
        assert_eq!(
            plan(&[e], &[ip("198.51.100.1")], false, None, true, None, None)
                .update
                .len(),
            1
        );
    }

    #[test]
    fn lines() {
        let mut a = rec("a", "198.51.100.1");
        a.line = Some("默认".into());
        let mut b = rec("b", "198.51.100.2");
        b.line = Some("电信".into());
        assert!(on_line(&a, Some("默认")) && !on_line(&b, Some("默认")));
        assert!(on_line(&b, Some("电信")));
        assert!(on_line(&a, None));
    }

    #[test]
    fn garbage_values_never_match() {
        let mine = [rec("a", "not-an-ip")];
        let p = plan(&mine, &[ip("198.51.100.1")], false, None, true, None, None);
        assert_eq!(p.update, [(0, vec![ip("198.51.100.1")])]);
        assert_eq!(parse_addr(" 2001:db8::/64"), Some(ip("2001:db8::")));
    }
}
