//! DNS providers: one file per provider behind [`Provider`]; `error` classifies failures for policy.
//!
//! [`build`] turns validated [`ProviderSettings`] into a provider; its exhaustive `match` is the checklist for
//! adding one (config variant, file here, README section, tests).

pub mod error;
mod powerdns;
mod rfc2136;
mod webhook;

use std::net::IpAddr;
use std::sync::Arc;

use async_trait::async_trait;

pub use error::{ErrorClass, ProviderError};

use crate::config::{ProviderKind, ProviderSettings, RecordType};

/// One record to set.
#[derive(Debug, Clone, Copy)]
pub struct UpdateRequest<'a> {
    /// Lower-case ASCII, no trailing dot.
    pub name: &'a str,
    pub record_type: RecordType,
    pub ip: IpAddr,
    pub ttl: Option<u32>,
    /// The provider's id for this record from an earlier update, if it has ids.
    pub record_id: Option<&'a str>,
}

/// A successful update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateOutcome {
    /// The provider now serves `ip` for the record.
    Updated { record_id: Option<String> },
    /// The provider already served `ip` ("no change" answers); nothing was written.
    Unchanged { record_id: Option<String> },
}

/// A DNS host that can point a name at an address.
#[async_trait]
pub trait Provider: Send + Sync {
    /// Makes `name`'s `record_type` set hold exactly `ip`, creating the record if needed. Idempotent: calling
    /// it again with the same request is safe. The engine calls it only when the published value differs or
    /// the keep-alive is due, one record at a time per round. Errors are classified for retry policy.
    async fn update(&self, request: &UpdateRequest<'_>) -> Result<UpdateOutcome, ProviderError>;
}

/// Builds the provider for validated settings.
#[must_use]
pub fn build(settings: &ProviderSettings) -> Arc<dyn Provider> {
    let name = settings.name.clone();
    match &settings.kind {
        ProviderKind::Powerdns(cfg) => Arc::new(powerdns::PowerDns::new(name, cfg)),
        ProviderKind::Rfc2136(cfg) => Arc::new(rfc2136::Rfc2136::new(name, cfg)),
        ProviderKind::Webhook(cfg) => Arc::new(webhook::Webhook::new(name, cfg)),
    }
}
