//! `http`: a URL answering with the IP as text, or text holding exactly one IP.

use std::net::IpAddr;

use async_trait::async_trait;

use super::{Query, Source, parse_text};
use crate::config::Family;

/// Answers larger than this are not an address (and not read further).
pub const MAX_ANSWER: usize = 4096;

pub struct HttpSource {
    url: String,
    client: reqwest::Client,
}

impl HttpSource {
    pub fn new(url: String, family: Family) -> Self {
        Self {
            url,
            client: crate::http::detection_client(Some(family)),
        }
    }
}

/// GETs `url` with `client` and returns the body, checking the status and the size.
pub async fn get_text(client: &reqwest::Client, url: &str) -> Result<String, String> {
    let response = client
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
    fn label(&self) -> String {
        format!("http {}", self.url)
    }

    async fn fetch(&self, _query: Query) -> Result<IpAddr, String> {
        parse_text(&get_text(&self.client, &self.url).await?)
    }
}
