//! RFC 2136 DNS UPDATE signed with TSIG (RFC 8945).
//!
//! One message replaces the name's A or AAAA set atomically: update section = "delete `RRset`" (class ANY,
//! TTL 0, no data) followed by "add RR". The server's answer must carry a valid TSIG signature before a
//! NOERROR is believed; an unsigned or badly signed NOERROR is "could not confirm".

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use base64::Engine as _;
use hickory_proto::op::{
    Message, MessageType, OpCode, ResponseCode, UpdateMessage, update_message,
};
use hickory_proto::rr::rdata::tsig::{TsigAlgorithm, TsigError};
use hickory_proto::rr::rdata::{A, AAAA};
use hickory_proto::rr::{DNSClass, Name, RData, Record, TSigVerifier, TSigner};

use serde::{Deserialize, Serialize};

use super::{
    Capabilities, KindConfig, KindInfo, Provider, ProviderError, Setter, SetterProvider,
    UpdateOutcome, UpdateRequest,
};
use crate::config::check::FieldCheck;
use crate::config::{RecordType, Secret};
use crate::dns::{ServerAddr, exchange, parse_server, resolve};

const DEFAULT_TTL: u32 = 60;
const TIMEOUT: Duration = Duration::from_secs(10);
const FUDGE: u16 = 300;

/// TSIG algorithms the provider can sign with.
pub const TSIG_ALGORITHMS: &[&str] = &["hmac-sha256", "hmac-sha384", "hmac-sha512"];

pub const INFO: KindInfo = KindInfo::provider(
    "rfc2136",
    "",
    &[
        super::req("server"),
        super::req("zone"),
        super::req("key_name"),
        super::opt("key_algorithm"),
        super::secret("key_secret"),
    ],
)
.example("server = \"127.0.0.1:53\"\nzone = \"example.com\"\nkey_name = \"ddns-key\"\nkey_secret = \"c2VjcmV0LWtleS1ieXRlcw==\"").api("");

/// `kind = "rfc2136"`: DNS UPDATE signed with TSIG.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `host:port` of the primary server.
    pub server: String,
    pub zone: String,
    pub key_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_algorithm: Option<String>,
    /// Base64, as in BIND/Knot key files.
    pub key_secret: Secret,
}

impl KindConfig for Config {
    fn secrets_mut(&mut self) -> Vec<(String, &mut Secret)> {
        vec![("key_secret".into(), &mut self.key_secret)]
    }

    fn validate(&self, check: &mut FieldCheck<'_>) {
        check.host_port("server", &self.server);
        if let Err(e) = crate::config::check::normalize_domain(self.key_name.trim_end_matches('.'))
        {
            check.issue(
                "key_name",
                e,
                crate::i18n::tr("provider.rfc2136.check.use_key_s_name.hint", &[]),
            );
        }
        if let Some(alg) = &self.key_algorithm
            && !TSIG_ALGORITHMS.contains(&alg.to_ascii_lowercase().as_str())
        {
            check.problem(
                "key_algorithm",
                "provider.rfc2136.check.unsupported_algorithm",
                &[("alg", &alg), ("choices", &TSIG_ALGORITHMS.join(", "))],
            );
        }
        let secret = self.key_secret.expose();
        if !secret.is_empty()
            && base64::engine::general_purpose::STANDARD
                .decode(secret)
                .is_err()
        {
            check.problem("key_secret", "provider.rfc2136.check.valid_base64", &[]);
        }
    }

    fn zone(&self) -> Option<(&str, &'static str)> {
        Some((&self.zone, "zone"))
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            concurrency: 1,
            ..Capabilities::SETS
        }
    }

    fn build(
        &self,
        name: String,
        _kind: &'static str,
        _client: reqwest::Client,
    ) -> Arc<dyn Provider> {
        Arc::new(SetterProvider(Rfc2136::new(name, self)))
    }
}

struct Rfc2136 {
    name: String,
    server: Result<ServerAddr, String>,
    zone: String,
    signer: Result<TSigner, String>,
}

impl Rfc2136 {
    fn new(name: String, cfg: &Config) -> Self {
        let algorithm = match cfg
            .key_algorithm
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("hmac-sha384") => TsigAlgorithm::HmacSha384,
            Some("hmac-sha512") => TsigAlgorithm::HmacSha512,
            _ => TsigAlgorithm::HmacSha256,
        };
        let signer = base64::engine::general_purpose::STANDARD
            .decode(cfg.key_secret.expose())
            .map_err(|_| "key_secret is not valid base64".to_owned())
            .and_then(|key| {
                let key_name = Name::from_ascii(format!("{}.", cfg.key_name.trim_end_matches('.')))
                    .map_err(|e| format!("bad key_name: {e}"))?;
                TSigner::new(key, algorithm, key_name, FUDGE)
                    .map_err(|e| format!("cannot use the key: {e}"))
            });
        Self {
            name,
            server: parse_server(&cfg.server),
            zone: cfg.zone.trim_end_matches('.').to_ascii_lowercase(),
            signer,
        }
    }

    fn label(&self) -> String {
        format!("rfc2136 `{}`", self.name)
    }

    /// The signed UPDATE message replacing the set.
    fn message(
        &self,
        signer: &TSigner,
        request: &UpdateRequest<'_>,
        now: u64,
    ) -> Result<(Message, TSigVerifier), String> {
        let zone =
            Name::from_ascii(format!("{}.", self.zone)).map_err(|e| format!("bad zone: {e}"))?;
        let name =
            Name::from_ascii(format!("{}.", request.name)).map_err(|e| format!("bad name: {e}"))?;
        if !zone.zone_of(&name) {
            return Err(format!("{} is not inside zone {}", request.name, self.zone));
        }
        let mut adds = request.addrs.iter().map(|ip| {
            let data = match ip {
                IpAddr::V4(v4) => RData::A(A(*v4)),
                IpAddr::V6(v6) => RData::AAAA(AAAA(*v6)),
            };
            let mut add =
                Record::from_rdata(name.clone(), request.ttl.unwrap_or(DEFAULT_TTL), data);
            add.dns_class = DNSClass::IN;
            add
        });
        let first = adds.next().ok_or("nothing to publish")?;
        let mut delete = first.clone();
        delete.ttl = 0;
        let mut message = update_message::delete_rrset(delete, zone, false);
        message.add_update(first);
        for add in adds {
            message.add_update(add);
        }
        let verifier = message
            .finalize(signer, now)
            .map_err(|e| format!("cannot sign: {e}"))?
            .ok_or("the signer gave no verifier")?;
        Ok((message, verifier))
    }
}

#[async_trait]
impl Setter for Rfc2136 {
    fn multi_value(&self) -> bool {
        true
    }

    #[tracing::instrument(skip_all, fields(provider = %self.name, record = %request.name))]
    async fn set(&self, request: &UpdateRequest<'_>) -> Result<UpdateOutcome, ProviderError> {
        let label = self.label();
        let server = self
            .server
            .as_ref()
            .map_err(|e| ProviderError::rejected(format!("{label}: server {e}")))?;
        let signer = self
            .signer
            .as_ref()
            .map_err(|e| ProviderError::rejected(format!("{label}: {e}")))?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let (message, verifier) = self
            .message(signer, request, now)
            .map_err(|e| ProviderError::rejected(format!("{label}: {e}")))?;
        let bytes = message
            .to_vec()
            .map_err(|e| ProviderError::rejected(format!("{label}: cannot encode: {e}")))?;
        let addr = resolve(server)
            .await
            .map_err(|e| ProviderError::transient(format!("{label}: {e}")))?;
        let raw = exchange(addr, &bytes, message.metadata.id, TIMEOUT)
            .await
            .map_err(|e| {
                if e.maybe_delivered() {
                    ProviderError::unconfirmed(format!(
                        "{label}: {e}; could not confirm the update"
                    ))
                } else {
                    ProviderError::transient(format!("{label}: {e}"))
                }
            })?;
        interpret(&label, verifier, &raw)
    }

    /// A TSIG-signed query for the record: the server's signed answer shows it knows the key (servers
    /// check TSIG on queries too), and the answer shows the current value. Nothing is changed.
    async fn check(&self, name: &str, record_type: RecordType) -> Result<String, ProviderError> {
        let label = self.label();
        let server = self
            .server
            .as_ref()
            .map_err(|e| ProviderError::rejected(format!("{label}: server {e}")))?;
        let signer = self
            .signer
            .as_ref()
            .map_err(|e| ProviderError::rejected(format!("{label}: {e}")))?;
        let qname = Name::from_ascii(format!("{name}."))
            .map_err(|e| ProviderError::rejected(format!("{label}: bad name: {e}")))?;
        let qtype = if record_type == RecordType::A {
            hickory_proto::rr::RecordType::A
        } else {
            hickory_proto::rr::RecordType::AAAA
        };
        let mut message = Message::query();
        message.add_query(hickory_proto::op::Query::query(qname, qtype));
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut verifier = message
            .finalize(signer, now)
            .map_err(|e| ProviderError::rejected(format!("{label}: cannot sign: {e}")))?
            .ok_or_else(|| {
                ProviderError::rejected(format!("{label}: the signer gave no verifier"))
            })?;
        let bytes = message
            .to_vec()
            .map_err(|e| ProviderError::rejected(format!("{label}: cannot encode: {e}")))?;
        let addr = resolve(server)
            .await
            .map_err(|e| ProviderError::transient(format!("{label}: {e}")))?;
        let raw = exchange(addr, &bytes, message.metadata.id, TIMEOUT)
            .await
            .map_err(|e| ProviderError::transient(format!("{label}: {e}")))?;
        let answer = Message::from_vec(&raw)
            .map_err(|e| ProviderError::transient(format!("{label}: malformed answer ({e})")))?;
        tsig_error(&label, &answer)?;
        match answer.metadata.response_code {
            ResponseCode::NoError | ResponseCode::NXDomain => {}
            ResponseCode::NotAuth | ResponseCode::Refused => {
                return Err(ProviderError::auth(format!(
                    "{label}: the server refused the signed query ({}): check the key",
                    answer.metadata.response_code
                )));
            }
            other => {
                return Err(ProviderError::rejected(format!(
                    "{label}: the server answered {other}"
                )));
            }
        }
        let values: Vec<String> = answer
            .answers
            .iter()
            .filter_map(|r| match &r.data {
                RData::A(a) => Some(a.0.to_string()),
                RData::AAAA(a) => Some(a.0.to_string()),
                _ => None,
            })
            .collect();
        let key = if answer.signature().is_some() && verifier.verify(&raw).is_ok() {
            "key accepted"
        } else {
            "the server answered without signing, so the key is checked by the first update"
        };
        Ok(format!(
            "{}; {key}",
            super::found(name, record_type, &values, &self.zone)
        )
        .replacen("credentials accepted; ", "", 1))
    }
}

/// The TSIG error the server reported in its answer's signature, if any.
fn tsig_error(label: &str, answer: &Message) -> Result<(), ProviderError> {
    match answer.signature().and_then(|t| t.data.error) {
        None => Ok(()),
        Some(TsigError::BadSig) => Err(ProviderError::auth(format!(
            "{label}: the server rejected the TSIG signature (BADSIG): check key_secret and key_algorithm"
        ))),
        Some(TsigError::BadKey) => Err(ProviderError::auth(format!(
            "{label}: the server does not know the key (BADKEY): check key_name and key_algorithm"
        ))),
        Some(TsigError::BadTime) => Err(ProviderError::transient(format!(
            "{label}: the server says our clock is off (BADTIME): check the system clock"
        ))),
        Some(other) => Err(ProviderError::rejected(format!(
            "{label}: TSIG error {other:?}"
        ))),
    }
}

/// Reads the server's answer to a signed update.
fn interpret(
    label: &str,
    mut verifier: TSigVerifier,
    raw: &[u8],
) -> Result<UpdateOutcome, ProviderError> {
    let answer = Message::from_vec(raw).map_err(|e| {
        ProviderError::unconfirmed(format!(
            "{label}: malformed answer ({e}); could not confirm the update"
        ))
    })?;
    if answer.metadata.message_type != MessageType::Response
        || answer.metadata.op_code != OpCode::Update
    {
        return Err(ProviderError::unconfirmed(format!(
            "{label}: the answer is not an UPDATE response; could not confirm the update"
        )));
    }
    tsig_error(label, &answer)?;
    match answer.metadata.response_code {
        ResponseCode::NoError => {}
        ResponseCode::Refused => {
            return Err(ProviderError::auth(format!(
                "{label}: the server refused the update (REFUSED): check that the key may update this zone"
            )));
        }
        ResponseCode::NotAuth => {
            return Err(ProviderError::auth(format!(
                "{label}: the server is not authoritative for the zone or did not accept the key (NOTAUTH)"
            )));
        }
        ResponseCode::ServFail => {
            return Err(ProviderError::transient(format!(
                "{label}: the server failed (SERVFAIL)"
            )));
        }
        ResponseCode::NotZone => {
            return Err(ProviderError::rejected(format!(
                "{label}: the name is not inside the zone (NOTZONE)"
            )));
        }
        ResponseCode::NotImp => {
            return Err(ProviderError::rejected(format!(
                "{label}: the server does not support dynamic updates (NOTIMP)"
            )));
        }
        other => {
            return Err(ProviderError::rejected(format!(
                "{label}: the server answered {other}"
            )));
        }
    }
    // A NOERROR counts only when signed with our key, chained to our request's MAC, within the fudge window.
    verifier
        .verify(raw)
        .map(|_| UpdateOutcome::Updated { record_id: None })
        .map_err(|e| ProviderError::unconfirmed(format!("{label}: the server's answer failed TSIG verification ({e}); could not confirm the update")))
}

/// Reads `raw` as the answer to a signed update of `name` (the fuzz suite's entry point: whatever the bytes,
/// an answer is classified, never trusted unsigned, and never a panic).
#[doc(hidden)]
pub fn fuzz_answer(raw: &[u8]) -> Result<UpdateOutcome, ProviderError> {
    let cfg = Config {
        server: "127.0.0.1:53".into(),
        zone: "example.test".into(),
        key_name: "ddns-key".into(),
        key_algorithm: None,
        key_secret: Secret::resolved("c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"),
    };
    let provider = Rfc2136::new("fuzz".into(), &cfg);
    let signer = provider
        .signer
        .as_ref()
        .map_err(|e| ProviderError::rejected(e.clone()))?;
    let addrs = ["198.51.100.7".parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))];
    let request = UpdateRequest {
        name: "home.example.test",
        record_type: RecordType::A,
        addrs: &addrs,
        ttl: None,
        line: None,
        record_id: None,
        previous: None,
    };
    let (_, verifier) = provider
        .message(signer, &request, 1_700_000_000)
        .map_err(ProviderError::rejected)?;
    interpret("fuzz", verifier, raw)
}
