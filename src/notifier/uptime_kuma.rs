//! `kind = "uptime-kuma"`: an Uptime Kuma Push monitor: after every round its push URL is called with
//! `status=up`, or `status=down` and the reason when something failed.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::wire::exchange;
use super::{Beat, KindConfig, KindInfo, Note};
use crate::config::Secret;
use crate::config::check::FieldCheck;

pub const INFO: KindInfo = KindInfo::notifier(
    "uptime-kuma",
    "https://github.com/louislam/uptime-kuma/wiki",
    &[super::secret("url")],
);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The push URL (it holds the monitor's token: a secret).
    pub url: Secret,
}

#[async_trait]
impl KindConfig for Config {
    fn secrets_mut(&mut self) -> Vec<(String, &mut Secret)> {
        vec![("url".into(), &mut self.url)]
    }

    fn validate(&self, check: &mut FieldCheck<'_>) {
        check.http_url("url", self.url.expose());
        if !self.url.expose().contains("/api/push/") {
            check.problem(
                "url",
                "notifier.uptime-kuma.check.uptime_kuma_push_url",
                &[],
            );
        }
    }

    fn is_heartbeat(&self) -> bool {
        true
    }

    async fn send(
        &self,
        client: &reqwest::Client,
        _note: &Note,
        masked: &[&str],
    ) -> Result<String, String> {
        // A test from `notify test` is a good ping; alerts never reach heartbeats.
        self.beat(client, &Beat::Ok, masked).await
    }

    async fn beat(
        &self,
        client: &reqwest::Client,
        beat: &Beat,
        masked: &[&str],
    ) -> Result<String, String> {
        let mut url = reqwest::Url::parse(self.url.expose()).map_err(|e| e.to_string())?;
        let (status, msg) = match beat {
            Beat::Ok => ("up", "OK".to_owned()),
            Beat::Fail(reason) => ("down", reason.clone()),
        };
        // The push URL the monitor shows carries `?status=up&msg=OK&ping=`: ours replace them.
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| !matches!(k.as_ref(), "status" | "msg" | "ping"))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        url.query_pairs_mut()
            .clear()
            .extend_pairs(kept)
            .append_pair("status", status)
            .append_pair("msg", &msg)
            .append_pair("ping", "");
        exchange(client.get(url), masked)
            .await
            .and_then(|a| a.json_ok("ok", "msg"))
    }
}
