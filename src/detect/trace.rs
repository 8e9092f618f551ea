//! `cloudflare-trace`: the `ip=` line of Cloudflare's `/cdn-cgi/trace`.

use std::net::IpAddr;

use async_trait::async_trait;

use super::http::{FamilyClient, get_text};
use super::{Query, Source};
use crate::config::Family;

// By hostname, not the anycast 1.1.1.1, whose trace answered with Cloudflare's own 104.18.0.0 on
// 2025-10-27; the family client asks it over the family being detected.
pub const DEFAULT_V4: &str = "https://api.cloudflare.com/cdn-cgi/trace";
pub const DEFAULT_V6: &str = "https://api.cloudflare.com/cdn-cgi/trace";

pub struct TraceSource {
    url: String,
    client: FamilyClient,
}

impl TraceSource {
    pub fn new(
        url: Option<String>,
        family: Family,
        line: Option<&crate::config::LineBind>,
    ) -> Self {
        let url = url.unwrap_or_else(|| {
            (if family == Family::V4 {
                DEFAULT_V4
            } else {
                DEFAULT_V6
            })
            .to_owned()
        });
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

/// Reads the trace's `key=value` lines: exactly one `ip=` line; `warp=on` means the answer is Cloudflare's
/// WARP egress, not this network's address.
pub fn parse_trace(text: &str) -> Result<IpAddr, String> {
    let mut ips = Vec::new();
    for line in text.lines() {
        match line.trim().split_once('=') {
            Some(("ip", value)) => ips.push(value.trim()),
            Some(("warp", "on" | "plus")) => {
                return Err(
                    "the answer came through Cloudflare WARP (warp=on), not this network".into(),
                );
            }
            _ => {}
        }
    }
    match ips.as_slice() {
        [one] => one
            .parse()
            .map_err(|_| format!("`ip={}` is not an address", super::snippet(one))),
        [] => Err(format!(
            "no `ip=` line in the answer `{}`",
            super::snippet(text.trim())
        )),
        _ => Err("several `ip=` lines in the answer".into()),
    }
}

#[async_trait]
impl Source for TraceSource {
    fn label(&self) -> String {
        format!("cloudflare-trace {}", crate::http::origin(&self.url))
    }

    async fn fetch(&self, _query: Query) -> Result<IpAddr, String> {
        parse_trace(&get_text(&self.client, &self.url).await?)
    }
}
