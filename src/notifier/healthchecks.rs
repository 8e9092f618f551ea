//! `kind = "healthchecks"`: a heartbeat monitor (healthchecks.io and compatible): after every round its
//! ping URL is called, with `/fail` and the reason when something failed.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::wire::exchange;
use super::{Beat, KindConfig, KindInfo, Note};
use crate::config::Secret;
use crate::config::check::FieldCheck;

pub const INFO: KindInfo = KindInfo::notifier(
    "healthchecks",
    "https://healthchecks.io/docs/",
    &[super::secret("url")],
);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The ping URL (it holds the check's id: a secret).
    pub url: Secret,
}

#[async_trait]
impl KindConfig for Config {
    fn secrets_mut(&mut self) -> Vec<(String, &mut Secret)> {
        vec![("url".into(), &mut self.url)]
    }

    fn validate(&self, check: &mut FieldCheck<'_>) {
        check.http_url("url", self.url.expose());
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
        let base = self.url.expose().trim_end_matches('/');
        let request = match beat {
            Beat::Ok => client.post(base.to_owned()).body(String::new()),
            Beat::Fail(reason) => client.post(format!("{base}/fail")).body(reason.clone()),
        };
        exchange(request, masked).await.map(|a| a.summary())
    }
}
