//! `http`: a URL answering with the IP as text, or text holding exactly one IP. Also the client both HTTP
//! sources use ([`FamilyClient`]).

use std::net::{IpAddr, Ipv6Addr};
use std::sync::Mutex;

use async_trait::async_trait;

use super::{Query, Source, parse_text};
use crate::config::Family;

/// Answers larger than this are not an address (and not read further).
pub const MAX_ANSWER: usize = 4096;

pub struct HttpSource {
    url: String,
    client: FamilyClient,
}

impl HttpSource {
    pub fn new(url: String, family: Family) -> Self {
        Self {
            url,
            client: FamilyClient::new(family),
        }
    }
}

/// An HTTP client whose sockets are of one family. For IPv6 they are bound to the stable address of the
/// default-route interface (see `interface::stable_v6`), so the echo reports the address that is published
/// and not a temporary one; the client is rebuilt when that address changes.
pub struct FamilyClient {
    family: Family,
    client: Mutex<(Option<Ipv6Addr>, reqwest::Client)>,
}

impl FamilyClient {
    pub fn new(family: Family) -> Self {
        Self {
            family,
            client: Mutex::new((None, crate::http::detection_client(Some(family), None))),
        }
    }

    /// The client to use now.
    fn current(&self) -> reqwest::Client {
        let stable = match self.family {
            Family::V4 => None,
            Family::V6 => super::interface::stable_v6(),
        };
        let mut guard = self
            .client
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if guard.0 != stable {
            *guard = (
                stable,
                crate::http::detection_client(Some(self.family), stable.map(IpAddr::V6)),
            );
        }
        guard.1.clone()
    }
}

/// GETs `url` and returns the body, checking the status and the size.
pub async fn get_text(client: &FamilyClient, url: &str) -> Result<String, String> {
    let response = client
        .current()
        .get(url)
        .send()
        .await
        .map_err(|e| crate::http::describe(&e))?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("HTTP status {status}"));
    }
    crate::http::read_body(response, MAX_ANSWER).await
}

#[async_trait]
impl Source for HttpSource {
    /// Only the origin: a URL's path or query may hold a token, and labels end up in logs and status.
    fn label(&self) -> String {
        format!("http {}", crate::http::origin(&self.url))
    }

    async fn fetch(&self, _query: Query) -> Result<IpAddr, String> {
        parse_text(&get_text(&self.client, &self.url).await?)
    }
}
