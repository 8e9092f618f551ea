//! APIs that write a name's whole record set at once (Gandi `LiveDNS`, `GoDaddy`, PowerDNS): creating and
//! updating a set are one `put` of all its values, removing it one `clear`. Such a provider implements
//! [`SetApi`] (read, put, clear); the blanket [`RecordApi`] below makes the reconciler's create, update and
//! delete of them, with one TTL rule: the record's own, else the set's current one, else the kind's default.

use std::net::IpAddr;

use async_trait::async_trait;

use super::{Capabilities, Existing, ProviderError, RecordApi, Written, Zone};
use crate::config::RecordType;

/// A record API whose writes replace a name's whole set.
#[async_trait]
pub trait SetApi: Send + Sync {
    /// A short name for messages (``gandi `home` ``).
    fn label(&self) -> String;
    fn capabilities(&self) -> Capabilities;
    /// The TTL a new set gets when the record sets none.
    fn default_ttl(&self) -> u32;
    /// The zone holding `name` (see [`RecordApi::zone`]).
    async fn zone(&self, name: &str) -> Result<Zone, ProviderError>;
    /// The set of `name` and `record_type` as one [`Existing`] (none when there is no set).
    async fn list(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
    ) -> Result<Vec<Existing>, ProviderError>;
    /// Makes the set hold exactly `values` at `ttl`.
    async fn put(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
        values: &[IpAddr],
        ttl: u32,
    ) -> Result<(), ProviderError>;
    /// Removes the set.
    async fn clear(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
    ) -> Result<(), ProviderError>;
    /// The domains this credential can see (see [`RecordApi::zones`]).
    async fn zones(&self) -> Result<Option<Vec<String>>, ProviderError> {
        Ok(None)
    }
    /// A round starts: forget what was cached during the last one.
    fn begin_round(&self) {}
}

#[async_trait]
impl<T: SetApi> RecordApi for T {
    fn label(&self) -> String {
        SetApi::label(self)
    }

    fn capabilities(&self) -> Capabilities {
        SetApi::capabilities(self)
    }

    async fn zone(&self, name: &str) -> Result<Zone, ProviderError> {
        SetApi::zone(self, name).await
    }

    async fn list(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
    ) -> Result<Vec<Existing>, ProviderError> {
        SetApi::list(self, zone, name, record_type).await
    }

    async fn create(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
        values: &[IpAddr],
        ttl: Option<u32>,
        _line: Option<&str>,
    ) -> Result<Written, ProviderError> {
        let ttl = ttl.unwrap_or_else(|| self.default_ttl());
        self.put(zone, name, record_type, values, ttl).await?;
        Ok(Written::new(None))
    }

    async fn update(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
        existing: &Existing,
        values: &[IpAddr],
        ttl: Option<u32>,
    ) -> Result<Written, ProviderError> {
        let ttl = ttl.or(existing.ttl).unwrap_or_else(|| self.default_ttl());
        self.put(zone, name, record_type, values, ttl).await?;
        Ok(Written::new(None))
    }

    async fn delete(
        &self,
        zone: &Zone,
        name: &str,
        record_type: RecordType,
        _existing: &Existing,
    ) -> Result<(), ProviderError> {
        self.clear(zone, name, record_type).await
    }

    async fn zones(&self) -> Result<Option<Vec<String>>, ProviderError> {
        SetApi::zones(self).await
    }

    fn begin_round(&self) {
        SetApi::begin_round(self);
    }
}
