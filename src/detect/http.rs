//! `http`: a URL answering with the IP as text, or text holding exactly one IP. Also the client both HTTP
//! sources use ([`FamilyClient`]).

use std::net::IpAddr;
use std::sync::Mutex;

use async_trait::async_trait;

use super::{Query, Source, parse_text};
use crate::config::{Family, LineBind};

/// Answers larger than this are not an address (and not read further).
pub const MAX_ANSWER: usize = 4096;

pub struct HttpSource {
    url: String,
    client: FamilyClient,
}

impl HttpSource {
    pub fn new(url: String, family: Family, line: Option<&LineBind>) -> Self {
        Self {
            url,
            client: FamilyClient::new(family, line),
        }
    }

    /// Through `proxy` (a source with `allow_proxy = true`).
    #[must_use]
    pub fn through(mut self, proxy: Option<crate::config::Proxy>) -> Self {
        self.client = self.client.with_proxy(proxy);
        self
    }
}

/// An HTTP client whose sockets are of one family. For IPv6 they are bound to the stable address of the
/// default-route interface (see `interface::stable_v6`), so the echo reports the address that is published
/// and not a temporary one; the client is rebuilt when that address changes.
///
/// Through a `[[line]]` the sockets are bound to the line instead (see [`crate::http::line_client`]).
pub struct FamilyClient {
    family: Family,
    line: Option<LineBind>,
    /// Only for sources with `allow_proxy = true`, and never through a line.
    proxy: Option<crate::config::Proxy>,
    client: Mutex<(Option<IpAddr>, reqwest::Client)>,
}

impl FamilyClient {
    pub fn new(family: Family, line: Option<&LineBind>) -> Self {
        let client = match line {
            None => crate::http::detection_client(Some(family), None),
            Some(bind) => crate::http::line_client(family, bind, None),
        };
        Self {
            family,
            line: line.cloned(),
            proxy: None,
            client: Mutex::new((None, client)),
        }
    }

    /// The same client through `proxy`.
    #[must_use]
    pub fn with_proxy(mut self, proxy: Option<crate::config::Proxy>) -> Self {
        self.proxy = proxy;
        self.reset();
        self
    }

    /// Builds the client afresh (after the proxy was set).
    fn reset(&self) {
        let client = self.build(None);
        *self
            .client
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = (None, client);
    }

    fn build(&self, local: Option<IpAddr>) -> reqwest::Client {
        match &self.line {
            None => {
                crate::http::detection_client_via(Some(self.family), local, self.proxy.as_ref())
            }
            Some(bind) => crate::http::line_client(self.family, bind, local),
        }
    }

    /// The client to use now.
    fn current(&self) -> reqwest::Client {
        let local = match (&self.line, self.family) {
            // Where a socket cannot be bound to an interface, it is bound to the interface's address.
            #[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "android")))]
            (Some(LineBind::Interface(name)), family) => super::interface::address_of(name, family),
            (Some(_), _) | (None, Family::V4) => None,
            (None, Family::V6) => super::interface::stable_v6().map(IpAddr::V6),
        };
        let mut guard = self
            .client
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if guard.0 != local {
            *guard = (local, self.build(local));
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
