//! `dns`: ask a DNS server directly for a name that echoes the asker's address
//! (`myip.opendns.com` A/AAAA, `o-o.myaddr.l.google.com` TXT, `whoami.akamai.net` A).

use std::net::IpAddr;
use std::time::Duration;

use async_trait::async_trait;
use hickory_proto::op::{Message, MessageType, OpCode, Query as DnsQuery, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};

use super::{Query, Source};
use crate::config::Family;
use crate::dns::{Local, ServerAddr, exchange_from, parse_server, resolve};

const DEFAULT_NAME: &str = "myip.opendns.com";
const DEFAULT_SERVER_V4: &str = "208.67.222.222:53";
const DEFAULT_SERVER_V6: &str = "[2620:119:35::35]:53";

pub struct DnsSource {
    server: Result<ServerAddr, String>,
    name: String,
    record_type: RecordType,
    /// Through a `[[line]]`: bound to the line.
    line: Option<crate::config::LineBind>,
}

impl DnsSource {
    pub fn new(
        server: Option<&str>,
        name: Option<&str>,
        record_type: Option<&str>,
        family: Family,
        line: Option<crate::config::LineBind>,
    ) -> Self {
        let server = parse_server(server.unwrap_or(if family == Family::V4 {
            DEFAULT_SERVER_V4
        } else {
            DEFAULT_SERVER_V6
        }));
        let record_type = match (record_type, family) {
            (Some("TXT"), _) => RecordType::TXT,
            (_, Family::V4) => RecordType::A,
            (_, Family::V6) => RecordType::AAAA,
        };
        Self {
            server,
            name: name
                .unwrap_or(DEFAULT_NAME)
                .trim_end_matches('.')
                .to_owned(),
            record_type,
            line,
        }
    }

    /// Where the query's sockets are bound: the line's source address, or its interface (as a device on
    /// Linux, by its current address elsewhere).
    fn local(&self, server: std::net::SocketAddr) -> Local {
        let family = Family::of(server.ip());
        match &self.line {
            None => Local::default(),
            Some(crate::config::LineBind::Source(ip)) => Local {
                ip: Some(*ip),
                device: None,
            },
            #[cfg(target_os = "linux")]
            Some(crate::config::LineBind::Interface(name)) => {
                let _ = family;
                Local {
                    ip: None,
                    device: Some(name.clone()),
                }
            }
            #[cfg(not(target_os = "linux"))]
            Some(crate::config::LineBind::Interface(name)) => Local {
                ip: super::interface::address_of(name, family),
                device: None,
            },
        }
    }
}

#[async_trait]
impl Source for DnsSource {
    fn label(&self) -> String {
        let server = self
            .server
            .as_ref()
            .map_or_else(Clone::clone, ToString::to_string);
        format!("dns {} {} @{server}", self.name, self.record_type)
    }

    async fn fetch(&self, query: Query) -> Result<IpAddr, String> {
        let server = self.server.as_ref().map_err(Clone::clone)?;
        let addr = resolve_family(server, query.family).await?;
        let name =
            Name::from_ascii(format!("{}.", self.name)).map_err(|e| format!("bad name: {e}"))?;
        let mut message = Message::query();
        message.metadata.recursion_desired = true;
        message.add_query(DnsQuery::query(name, self.record_type));
        let id = message.metadata.id;
        let bytes = message
            .to_vec()
            .map_err(|e| format!("cannot encode the query: {e}"))?;
        // The detector bounds the whole fetch; this inner bound only keeps a lost UDP answer from hanging.
        let raw = exchange_from(addr, &bytes, id, Duration::from_secs(30), &self.local(addr))
            .await
            .map_err(|e| e.to_string())?;
        answer_address(&raw, self.record_type, &self.name)
    }
}

/// The server's address of `family`: a server named by host is asked over the family being detected
/// (a DNS echo answers with the address the query came from).
async fn resolve_family(
    server: &ServerAddr,
    family: Family,
) -> Result<std::net::SocketAddr, String> {
    if server.host.parse::<IpAddr>().is_ok() {
        return resolve(server).await.map_err(|e| e.to_string());
    }
    let found = tokio::net::lookup_host((server.host.as_str(), server.port))
        .await
        .map_err(|e| format!("cannot look up {}: {e}", server.host))?;
    found
        .into_iter()
        .find(|a| Family::of(a.ip()) == family)
        .ok_or_else(|| format!("{} has no {family} address", server.host))
}

/// The one address in a DNS answer to a query for `name` of `record_type` (A, AAAA or TXT).
pub fn answer_address(raw: &[u8], record_type: RecordType, name: &str) -> Result<IpAddr, String> {
    let answer = Message::from_vec(raw).map_err(|e| format!("malformed DNS answer: {e}"))?;
    if answer.metadata.message_type != MessageType::Response
        || answer.metadata.op_code != OpCode::Query
    {
        return Err("the server's answer is not a query response".into());
    }
    if answer.metadata.response_code != ResponseCode::NoError {
        return Err(format!(
            "the server answered {}",
            answer.metadata.response_code
        ));
    }
    let mut found: Vec<IpAddr> = Vec::new();
    for record in &answer.answers {
        let ip = match &record.data {
            RData::A(a) if record_type == RecordType::A => Some(IpAddr::V4(a.0)),
            RData::AAAA(a) if record_type == RecordType::AAAA => Some(IpAddr::V6(a.0)),
            // TXT: one string that is an address; other strings (e.g. Google's "edns0-client-subnet ...") are ignored.
            RData::TXT(txt) if record_type == RecordType::TXT => {
                txt.txt_data.iter().find_map(|d| {
                    std::str::from_utf8(d)
                        .ok()
                        .and_then(|s| s.trim().trim_matches('"').parse().ok())
                })
            }
            _ => None,
        };
        if let Some(ip) = ip
            && !found.contains(&ip)
        {
            found.push(ip);
        }
    }
    match found.as_slice() {
        [ip] => Ok(*ip),
        [] => Err(format!("no {record_type} answer for {name}")),
        many => Err(format!(
            "{} different addresses in the answer, expected exactly one",
            many.len()
        )),
    }
}
