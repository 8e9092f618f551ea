//! `router`: the LAN's gateway tells its own external address: NAT-PMP (RFC 6886) first and `UPnP` IGD as the
//! fallback (or only the one `protocol` names), and [`Listener`] hears the gateway's NAT-PMP announcements of
//! a new one. No echo service and nothing beyond the LAN is asked.
//!
//! - NAT-PMP: the 2-byte request to the gateway's UDP port 5351, sent again after 250 and 500 ms (RFC 6886's
//!   schedule, cut after three sends: 1.75 s in all). The socket is connected to the gateway, so only its
//!   answers are read; a closed port (ICMP unreachable) ends the wait at once.
//! - `UPnP` IGD (under `auto`, when NAT-PMP gives no address and does not say there is none): one SSDP `M-SEARCH` for an `InternetGatewayDevice:1` per check (`IGDv2` devices answer it too),
//!   answers awaited for 1.5 s; the first whose `LOCATION` is on the host that answered (the gateway, when it
//!   is known) is used. Its description (at most 64 KiB) names the `WANIPConnection` / `WANPPPConnection`
//!   control URLs, which are kept for the next checks and forgotten when they fail; then a SOAP
//!   `GetExternalIPAddress` (an answer of at most 16 KiB).
//! - The gateway is the source's `gateway`, else the one of the default route (Linux: `/proc/net/route`;
//!   elsewhere NAT-PMP needs `gateway`, `UPnP` needs none). Through a `[[line]]` the sockets are bound to the
//!   line, and the gateway is that of the line's interface.
//! - Routers report no address when theirs is private or carrier-grade NAT (miniupnpd: NAT-PMP result 3 and
//!   an empty `UPnP` answer): one clear "unavailable". An address a router does report goes through the
//!   [`super::Detector`]'s checks like any other source's answer.
//! - Announcements ([`Listener`]): 12-byte NAT-PMP packets to 224.0.0.1:5350, from a known gateway only; a
//!   repeat of the last one from the same gateway within [`REPEAT_WINDOW`] is not news (routers send each
//!   several times).
//! - `UPnP` events ([`watch_events`], in `gena.rs`): a subscription to the gateway's connection service, so a
//!   new `ExternalIPAddress` is heard at once.

mod gena;
mod natpmp;
mod upnp;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use tokio::net::UdpSocket;
use tokio::time::Instant;

use super::{Query, Source, snippet};
use crate::config::{Family, LineBind, LineSettings};
use crate::detect::{DetectSettings, SourceKind};

/// The gateway's NAT-PMP port.
pub const NATPMP_PORT: u16 = 5351;
/// Where gateways multicast their announcements (to 224.0.0.1).
pub const ANNOUNCE_PORT: u16 = 5350;
const ALL_HOSTS: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 1);
const SSDP_GROUP: SocketAddr = SocketAddr::V4(std::net::SocketAddrV4::new(
    Ipv4Addr::new(239, 255, 255, 250),
    1900,
));
/// How long each NAT-PMP request waits before it is sent again (RFC 6886 §3.1 starts at 250 ms and doubles).
const NATPMP_WAITS: [Duration; 3] = [
    Duration::from_millis(250),
    Duration::from_millis(500),
    Duration::from_secs(1),
];
/// How long answers to the one `M-SEARCH` are awaited (it asks for them within `MX: 1` second).
const SSDP_WAIT: Duration = Duration::from_millis(1500);
/// Each HTTP exchange with the router (description, SOAP).
const HTTP_TIMEOUT: Duration = Duration::from_secs(2);
/// Bounds on what the router may send.
pub const MAX_DESCRIPTION: usize = 64 * 1024;
pub const MAX_SOAP: usize = 16 * 1024;
const MAX_DATAGRAM: usize = 2048;
/// How a router source's error begins when the router said it has no public address (see [`super::reach`]).
pub const NO_PUBLIC: &str = "the router has no public address (";
/// A repeat of an announcement within this long is the same news (RFC 6886 §3.2.1 repeats one for ~2 minutes).
pub const REPEAT_WINDOW: Duration = Duration::from_mins(3);

const SEARCH_TARGET: &str = "urn:schemas-upnp-org:device:InternetGatewayDevice:1";
const CONNECTION_SERVICES: [&str; 2] = [
    "urn:schemas-upnp-org:service:WANIPConnection:",
    "urn:schemas-upnp-org:service:WANPPPConnection:",
];

/// Which protocols a router source speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// NAT-PMP, then `UPnP` when NAT-PMP gives no address.
    Auto,
    NatPmp,
    Upnp,
}

impl Protocol {
    /// The config's `protocol` (validated: `auto`, `natpmp` or `upnp`; absent is `auto`).
    #[must_use]
    pub fn parse(text: Option<&str>) -> Self {
        match text {
            Some("natpmp") => Self::NatPmp,
            Some("upnp") => Self::Upnp,
            _ => Self::Auto,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::NatPmp => "natpmp",
            Self::Upnp => "upnp",
        }
    }
}

/// A control URL found in a router's description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// `urn:schemas-upnp-org:service:WANIPConnection:2`, as the description names it (the SOAP action's namespace).
    pub service_type: String,
    pub control_url: reqwest::Url,
    /// Where its events are subscribed to (`eventSubURL`), when it lists one.
    pub event_url: Option<reqwest::Url>,
}

pub struct RouterSource {
    protocol: Protocol,
    gateway: Option<Ipv4Addr>,
    line: Option<LineBind>,
    /// The connection services of the last router that answered, tried first at the next check.
    services: Mutex<Vec<Service>>,
}

impl RouterSource {
    #[must_use]
    pub fn new(protocol: Option<&str>, gateway: Option<&str>, line: Option<LineBind>) -> Self {
        Self {
            protocol: Protocol::parse(protocol),
            gateway: gateway.and_then(|g| g.trim().parse().ok()),
            line,
            services: Mutex::new(Vec::new()),
        }
    }

    fn cached(&self) -> Vec<Service> {
        self.services
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn remember(&self, services: Vec<Service>) {
        *self
            .services
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = services;
    }

    /// The `UPnP` half: the remembered control URL, else one search and the description of who answered.
    async fn upnp(&self, bind: &Bind, gateway: Option<Ipv4Addr>) -> Result<Ipv4Addr, Failure> {
        let client = bind.http_client(self.line.as_ref());
        let cached = self.cached();
        if !cached.is_empty() {
            match soap_any(&client, &cached).await {
                Err(Failure::Silent(e)) => {
                    tracing::debug!(
                        "the router's remembered control URL failed ({e}); searching again"
                    );
                    self.remember(Vec::new());
                }
                // An address, or the router's own word that it has none.
                answer => return answer,
            }
        }
        let location = discover(bind, gateway).await?;
        let services = description(&client, &location).await?;
        let answer = soap_any(&client, &services).await;
        // Kept when the router answered at all (an empty address is the router's state, not a wrong URL).
        if !matches!(answer, Err(Failure::Silent(_))) {
            self.remember(services);
        }
        answer
    }
}

/// Why a protocol gave no address: nobody answered; the router says it has no public address (how it said
/// so); or another reason (a refusal, no gateway known).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Failure {
    Silent(String),
    NoPublic(String),
    Reason(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Silent(s) | Self::Reason(s) => f.write_str(s),
            Self::NoPublic(how) => write!(
                f,
                "{NO_PUBLIC}{how}: routers say so when their own WAN address is private or carrier-grade \
                 NAT, i.e. behind another NAT, or their WAN link is down)"
            ),
        }
    }
}

#[async_trait]
impl Source for RouterSource {
    fn label(&self) -> String {
        match self.gateway {
            Some(g) => format!("router {} @{g}", self.protocol.name()),
            None => format!("router {} @(default gateway)", self.protocol.name()),
        }
    }

    async fn fetch(&self, query: Query) -> Result<IpAddr, String> {
        if query.family != Family::V4 {
            return Err("a router tells only its IPv4 address".into());
        }
        let gateway = match self.gateway {
            Some(g) => Ok(g),
            None => gateway_of(self.line.as_ref()),
        };
        let bind = Bind::new(self.line.as_ref(), gateway.as_ref().ok().copied())?;
        let natpmp = match (self.protocol, &gateway) {
            (Protocol::Upnp, _) => None,
            (_, Ok(g)) => Some(natpmp(*g, &bind).await),
            (_, Err(e)) => Some(Err(Failure::Reason(format!("NAT-PMP: {e}")))),
        };
        let natpmp = match natpmp {
            Some(Ok(ip)) => return Ok(IpAddr::V4(ip)),
            // The router has spoken: asking it again over UPnP would only say the same.
            Some(Err(e @ Failure::NoPublic(_))) => return Err(e.to_string()),
            Some(Err(e)) if self.protocol == Protocol::NatPmp => return Err(e.to_string()),
            other => other.and_then(Result::err),
        };
        let upnp = match self.upnp(&bind, gateway.as_ref().ok().copied()).await {
            Ok(ip) => return Ok(IpAddr::V4(ip)),
            Err(e) => e,
        };
        Err(match (natpmp, upnp) {
            (None, u) => u.to_string(),
            (Some(Failure::Silent(_)), Failure::Silent(_)) => {
                let at = gateway.map_or_else(|_| String::new(), |g| format!(" at {g}"));
                format!("no router answers NAT-PMP{at} or a UPnP search on this LAN")
            }
            (Some(n), u) => format!("{n}; {u}"),
        })
    }
}

/// How this check's sockets are sent: from a local address and (Linux) through a device.
#[derive(Debug, Clone)]
struct Bind {
    local: Ipv4Addr,
    device: Option<String>,
}

impl Bind {
    /// Through the line when there is one; else from the address the gateway is reached from (so the search's
    /// multicast leaves on the LAN interface: Linux sends a multicast from a bound address out of the
    /// interface holding it).
    fn new(line: Option<&LineBind>, gateway: Option<Ipv4Addr>) -> Result<Self, String> {
        match line {
            None => Ok(Self {
                local: gateway
                    .and_then(local_toward)
                    .unwrap_or(Ipv4Addr::UNSPECIFIED),
                device: None,
            }),
            Some(LineBind::Source(IpAddr::V4(ip))) => Ok(Self {
                local: *ip,
                device: None,
            }),
            Some(LineBind::Source(ip)) => Err(format!(
                "the line's source {ip} is not an IPv4 address, and a router tells only its IPv4 address"
            )),
            #[cfg(target_os = "linux")]
            Some(LineBind::Interface(name)) => Ok(Self {
                local: Ipv4Addr::UNSPECIFIED,
                device: Some(name.clone()),
            }),
            #[cfg(not(target_os = "linux"))]
            Some(LineBind::Interface(name)) => {
                match super::interface::address_of(name, Family::V4) {
                    Some(IpAddr::V4(ip)) => Ok(Self {
                        local: ip,
                        device: None,
                    }),
                    _ => Err(format!("interface {name} has no IPv4 address")),
                }
            }
        }
    }

    async fn udp(&self) -> std::io::Result<UdpSocket> {
        let socket = UdpSocket::bind((self.local, 0)).await?;
        #[cfg(target_os = "linux")]
        if let Some(device) = &self.device {
            socket.bind_device(Some(device.as_bytes()))?;
        }
        // Elsewhere a line's interface is reached through its address (`local`).
        #[cfg(not(target_os = "linux"))]
        let _ = &self.device;
        Ok(socket)
    }

    fn http_client(&self, line: Option<&LineBind>) -> reqwest::Client {
        let local = (!self.local.is_unspecified()).then_some(IpAddr::V4(self.local));
        match line {
            Some(bind) => crate::http::line_client(Family::V4, bind, local),
            None => crate::http::detection_client(Some(Family::V4), local),
        }
    }
}

/// The local address the kernel would send to `gateway` from (connecting a UDP socket sends nothing).
fn local_toward(gateway: Ipv4Addr) -> Option<Ipv4Addr> {
    let socket = std::net::UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).ok()?;
    socket.connect((gateway, NATPMP_PORT)).ok()?;
    match socket.local_addr().ok()?.ip() {
        IpAddr::V4(ip) if !ip.is_unspecified() => Some(ip),
        _ => None,
    }
}

// ---- NAT-PMP ----

// ---- UPnP IGD ----

// ---- A small XML reader: elements by local name (any namespace prefix), no DTDs, no nesting of the same name.

// ---- The gateway ----

/// The gateway the router sources ask: that of the default route, or through a line that of the line's
/// interface (Linux: `/proc/net/route`).
fn gateway_of(line: Option<&LineBind>) -> Result<Ipv4Addr, String> {
    #[cfg(target_os = "linux")]
    {
        let iface = match line {
            None => None,
            Some(LineBind::Interface(name)) => Some(name.clone()),
            Some(LineBind::Source(ip)) => Some(
                if_addrs::get_if_addrs()
                    .map_err(|e| format!("cannot list interfaces: {e}"))?
                    .into_iter()
                    .find(|i| i.ip() == *ip)
                    .map(|i| i.name)
                    .ok_or_else(|| format!("no interface holds {ip} now"))?,
            ),
        };
        let text = std::fs::read_to_string("/proc/net/route")
            .map_err(|e| format!("cannot read the routing table: {e}"))?;
        parse_gateway(&text, iface.as_deref()).ok_or_else(|| match iface {
            Some(i) => format!("no gateway on {i}; set the source's `gateway`"),
            None => "no IPv4 default gateway; set the source's `gateway`".into(),
        })
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = line;
        Err("the default gateway is not known here; set the source's `gateway`".into())
    }
}

/// `/proc/net/route`: the gateway of the default route with the lowest metric (on `iface` when given; there,
/// any route through a gateway when the interface holds no default route of the main table).
#[cfg(any(target_os = "linux", test))]
#[must_use]
pub fn parse_gateway(text: &str, iface: Option<&str>) -> Option<Ipv4Addr> {
    const RTF_GATEWAY: u32 = 0x2;
    let routes: Vec<(bool, u32, Ipv4Addr)> = text
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            if f.len() < 8 || iface.is_some_and(|i| i != f[0]) {
                return None;
            }
            let flags = u32::from_str_radix(f[3], 16).ok()?;
            let gateway = Ipv4Addr::from(u32::from_str_radix(f[2], 16).ok()?.to_ne_bytes());
            if flags & RTF_GATEWAY == 0 || gateway.is_unspecified() {
                return None;
            }
            let default = f[1] == "00000000" && f[7] == "00000000";
            Some((!default, f[6].parse().unwrap_or(u32::MAX), gateway))
        })
        .filter(|(not_default, _, _)| iface.is_some() || !not_default)
        .collect();
    routes.into_iter().min().map(|(_, _, g)| g)
}

// ---- Announcements ----

pub use gena::{
    MAX_NOTIFY, Subscription, parse_propertyset, parse_timeout, subscribe_answer,
    watch as watch_events,
};
#[allow(clippy::wildcard_imports)]
use natpmp::*;
pub use natpmp::{
    Announcement, Announcer, Filter, Listener, NatPmpAnswer, announcers, natpmp_result,
    parse_natpmp,
};
#[allow(clippy::wildcard_imports)]
use upnp::*;
pub use upnp::{parse_description, parse_soap, parse_ssdp};

#[cfg(test)]
mod tests {
    use super::*;

    const GW: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 1);

    #[test]
    fn natpmp_answers() {
        let ok = [0, 128, 0, 0, 0, 0, 0, 7, 11, 22, 33, 44];
        assert_eq!(
            parse_natpmp(&ok),
            Ok(NatPmpAnswer {
                result: 0,
                epoch: 7,
                address: Ipv4Addr::new(11, 22, 33, 44)
            })
        );
        // miniupnpd with a CGNAT address on its WAN side.
        let refused = [0, 128, 0, 3, 0, 0, 0, 5, 0, 0, 0, 0];
        assert_eq!(parse_natpmp(&refused).unwrap().result, 3);
        assert!(natpmp_result(3).contains("no public address"));
        let cases: &[(&str, &[u8], &str)] = &[
            ("empty", &[], "0-byte"),
            ("one byte", &[0], "1-byte"),
            ("short", &[0, 128, 0, 0, 0, 0, 0, 7, 11, 22, 33], "11-byte"),
            (
                "long",
                &[0, 128, 0, 0, 0, 0, 0, 7, 11, 22, 33, 44, 0],
                "13-byte",
            ),
            ("request echoed", &[0, 0], "opcode 0"),
            ("a mapping answer", &[0, 129, 0, 0], "opcode 129"),
            (
                "PCP announce",
                &[2, 128, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
                "version 2",
            ),
        ];
        for (name, packet, want) in cases {
            let e = parse_natpmp(packet).unwrap_err();
            assert!(e.contains(want), "{name}: {e}");
        }
    }

    #[test]
    fn ssdp_answers() {
        let good = "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n\
                    USN: uuid:x::urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\nEXT:\r\n\
                    LOCATION: http://10.77.0.1:5000/rootDesc.xml\r\n\r\n";
        assert_eq!(
            parse_ssdp(good.as_bytes()).as_deref(),
            Some("http://10.77.0.1:5000/rootDesc.xml")
        );
        let lower = "HTTP/1.1 200 OK\nst: urn:schemas-upnp-org:service:WANIPConnection:1\nlocation: http://10.0.0.1/d.xml\n";
        assert_eq!(
            parse_ssdp(lower.as_bytes()).as_deref(),
            Some("http://10.0.0.1/d.xml")
        );
        let bad: &[(&str, &[u8])] = &[
            ("empty", b""),
            ("not utf-8", &[0xff, 0xfe, 0x00]),
            ("a media server", b"HTTP/1.1 200 OK\r\nST: urn:schemas-upnp-org:device:MediaServer:1\r\nLOCATION: http://10.0.0.5/\r\n\r\n"),
            ("no location", b"HTTP/1.1 200 OK\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n\r\n"),
            ("an error", b"HTTP/1.1 404 Not Found\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\nLOCATION: http://10.0.0.1/\r\n\r\n"),
            ("a search (another client's)", b"M-SEARCH * HTTP/1.1\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\nLOCATION: http://10.0.0.1/\r\n\r\n"),
        ];
        for (name, datagram) in bad {
            assert_eq!(parse_ssdp(datagram), None, "{name}");
        }
        let long = format!(
            "HTTP/1.1 200 OK\r\nST: {SEARCH_TARGET}\r\nLOCATION: http://10.0.0.1/{}\r\n\r\n",
            "a".repeat(600)
        );
        assert_eq!(parse_ssdp(long.as_bytes()), None, "an overlong location");
    }

    #[test]
    fn locations_must_be_plain_http_on_the_responder() {
        assert!(location_on("http://10.77.0.1:5000/rootDesc.xml", GW).is_ok());
        for bad in [
            "http://10.77.0.9:5000/rootDesc.xml",
            "http://example.com/rootDesc.xml",
            "https://10.77.0.1/rootDesc.xml",
            "file:///etc/passwd",
            "nonsense",
        ] {
            assert!(location_on(bad, GW).is_err(), "{bad}");
        }
    }

    fn description_of(services: &str) -> String {
        format!(
            "<?xml version=\"1.0\"?><root xmlns=\"urn:schemas-upnp-org:device-1-0\"><device><serviceList>\
             <service><serviceType>urn:schemas-upnp-org:service:Layer3Forwarding:1</serviceType>\
             <controlURL>/ctl/L3F</controlURL></service></serviceList><deviceList><device><serviceList>\
             {services}</serviceList></device></deviceList></device></root>"
        )
    }

    #[test]
    fn descriptions() {
        let location = reqwest::Url::parse("http://10.77.0.1:5000/rootDesc.xml").unwrap();
        // miniupnpd's shape (IGDv2), with a PPP service listed before the IP one.
        let xml = description_of(
            "<service><serviceType>urn:schemas-upnp-org:service:WANPPPConnection:1</serviceType>\
             <controlURL>/ctl/PPPConn</controlURL></service>\
             <service>\n  <serviceType> urn:schemas-upnp-org:service:WANIPConnection:2 </serviceType>\
             <serviceId>urn:upnp-org:serviceId:WANIPConn1</serviceId><controlURL>/ctl/IPConn?a=1&amp;b=2</controlURL>\
             <eventSubURL>/evt/IPConn</eventSubURL></service>",
        );
        let found = parse_description(&xml, &location).unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(
            found[0].service_type,
            "urn:schemas-upnp-org:service:WANIPConnection:2"
        );
        assert_eq!(
            found[0].control_url.as_str(),
            "http://10.77.0.1:5000/ctl/IPConn?a=1&b=2"
        );
        assert_eq!(
            found[1].control_url.as_str(),
            "http://10.77.0.1:5000/ctl/PPPConn"
        );
        // Prefixed names and a URLBase.
        let xml = "<d:root xmlns:d=\"x\"><d:URLBase>http://10.77.0.1:5000/base/</d:URLBase><d:service>\
                   <d:serviceType>urn:schemas-upnp-org:service:WANIPConnection:1</d:serviceType>\
                   <d:controlURL>ctl</d:controlURL></d:service></d:root>";
        assert_eq!(
            parse_description(xml, &location).unwrap()[0]
                .control_url
                .as_str(),
            "http://10.77.0.1:5000/base/ctl"
        );
        let hostile: &[(&str, String, &str)] = &[
            ("no services", description_of(""), "lists no"),
            (
                "no control URL",
                description_of(
                    "<service><serviceType>urn:schemas-upnp-org:service:WANIPConnection:1</serviceType></service>",
                ),
                "lists no",
            ),
            (
                "empty control URL",
                description_of(
                    "<service><serviceType>urn:schemas-upnp-org:service:WANIPConnection:1</serviceType><controlURL/></service>",
                ),
                "lists no",
            ),
            (
                "control URL elsewhere",
                description_of(
                    "<service><serviceType>urn:schemas-upnp-org:service:WANIPConnection:1</serviceType>\
                     <controlURL>http://203.0.113.9/ctl</controlURL></service>",
                ),
                "points away",
            ),
            (
                "control URL on another port",
                description_of(
                    "<service><serviceType>urn:schemas-upnp-org:service:WANIPConnection:1</serviceType>\
                     <controlURL>http://10.77.0.1:80/ctl</controlURL></service>",
                ),
                "points away",
            ),
            (
                "unclosed",
                "<root><service><serviceType>urn:schemas-upnp-org:service:WANIPConnection:1".into(),
                "lists no",
            ),
            ("not XML", "\u{0}\u{1}<<<>>>&&&".into(), "lists no"),
            ("huge", "<service>".repeat(200_000), "lists no"),
            (
                "deeply nested",
                format!("{}{}", "<a>".repeat(100_000), "</a>".repeat(100_000)),
                "lists no",
            ),
        ];
        for (name, xml, want) in hostile {
            let started = std::time::Instant::now();
            let e = parse_description(xml, &location).unwrap_err();
            assert!(e.contains(want), "{name}: {e}");
            assert!(
                started.elapsed() < Duration::from_secs(2),
                "{name} took {:?}",
                started.elapsed()
            );
        }
    }

    #[test]
    fn soap_answers() {
        let ok = "<?xml version=\"1.0\"?><s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>\
                  <u:GetExternalIPAddressResponse xmlns:u=\"urn:schemas-upnp-org:service:WANIPConnection:2\">\
                  <NewExternalIPAddress>11.22.33.44</NewExternalIPAddress></u:GetExternalIPAddressResponse></s:Body></s:Envelope>";
        assert_eq!(parse_soap(200, ok), Ok(Some(Ipv4Addr::new(11, 22, 33, 44))));
        // miniupnpd when its own address is private or CGNAT.
        let empty = ok.replace("11.22.33.44", "");
        assert_eq!(parse_soap(200, &empty), Ok(None));
        let fault = "<s:Envelope><s:Body><s:Fault><detail><UPnPError><errorCode>501</errorCode>\
                     <errorDescription>Action Failed</errorDescription></UPnPError></detail></s:Fault></s:Body></s:Envelope>";
        let e = parse_soap(500, fault).unwrap_err();
        assert!(e.contains("UPnP error 501 (Action Failed)"), "{e}");
        assert!(parse_soap(500, "").unwrap_err().contains("HTTP status 500"));
        assert!(
            parse_soap(200, "<x/>")
                .unwrap_err()
                .contains("no NewExternalIPAddress")
        );
        let junk = ok.replace("11.22.33.44", "<script>x</script>");
        assert!(parse_soap(200, &junk).is_err());
        let v6 = ok.replace("11.22.33.44", "2001:db8::1");
        assert!(parse_soap(200, &v6).unwrap_err().contains("not an IPv4"));
        let long = ok.replace("11.22.33.44", &"9".repeat(10_000));
        assert!(
            parse_soap(200, &long).unwrap_err().len() < 200,
            "the router's text is cut"
        );
    }

    #[test]
    fn soap_request_names_the_service() {
        let body = soap_request("urn:schemas-upnp-org:service:WANIPConnection:2");
        assert!(body.contains(
            "<u:GetExternalIPAddress xmlns:u=\"urn:schemas-upnp-org:service:WANIPConnection:2\">"
        ));
        assert!(m_search().contains("ST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n"));
        assert!(m_search().ends_with("\r\n\r\n"));
    }

    #[test]
    fn default_gateways_from_proc_net_route() {
        let hex = |ip: [u8; 4]| format!("{:08X}", u32::from_ne_bytes(ip));
        let row =
            |iface: &str, dest: [u8; 4], gw: [u8; 4], flags: &str, metric: u32, mask: [u8; 4]| {
                format!(
                    "{iface}\t{}\t{}\t{flags}\t0\t0\t{metric}\t{}\t0\t0\t0\n",
                    hex(dest),
                    hex(gw),
                    hex(mask)
                )
            };
        let mut text =
            "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
                .to_owned();
        text += &row("wlan0", [0; 4], [192, 168, 1, 1], "0003", 600, [0; 4]);
        text += &row("eth0", [0; 4], [10, 77, 0, 1], "0003", 100, [0; 4]);
        text += &row(
            "eth0",
            [10, 77, 0, 0],
            [0; 4],
            "0001",
            0,
            [255, 255, 255, 0],
        );
        text += &row(
            "wan2",
            [172, 16, 0, 0],
            [172, 16, 9, 1],
            "0003",
            0,
            [255, 240, 0, 0],
        );
        assert_eq!(parse_gateway(&text, None), Some(GW), "the lowest metric");
        assert_eq!(
            parse_gateway(&text, Some("wlan0")),
            Some(Ipv4Addr::new(192, 168, 1, 1))
        );
        assert_eq!(
            parse_gateway(&text, Some("wan2")),
            Some(Ipv4Addr::new(172, 16, 9, 1)),
            "a line's interface without a default route in the main table"
        );
        assert_eq!(parse_gateway(&text, Some("eth9")), None);
        assert_eq!(parse_gateway("Iface\n", None), None);
        assert_eq!(parse_gateway("garbage\nx y z\n", None), None);
    }

    #[test]
    fn announcements_from_the_gateway_once_each() {
        let mut filter = Filter::new(vec![GW]);
        let t0 = Instant::now();
        let new = [0, 128, 0, 0, 0, 0, 0, 1, 11, 22, 33, 44];
        let from = IpAddr::V4(GW);
        assert!(
            filter
                .news(&new, IpAddr::V4(Ipv4Addr::new(10, 77, 0, 66)), t0)
                .is_none(),
            "not the gateway"
        );
        assert!(filter.news(&new, "::1".parse().unwrap(), t0).is_none());
        let a = filter.news(&new, from, t0).expect("the first is news");
        assert_eq!(a.answer.address, Ipv4Addr::new(11, 22, 33, 44));
        assert_eq!(a.to_string(), "10.77.0.1 announced 11.22.33.44");
        assert!(
            filter
                .news(&new, from, t0 + Duration::from_millis(250))
                .is_none(),
            "a repeat"
        );
        let mut later = new;
        later[7] = 9; // only the epoch moved
        assert!(
            filter
                .news(&later, from, t0 + Duration::from_secs(64))
                .is_none(),
            "still a repeat"
        );
        assert!(
            filter
                .news(&new, from, t0 + Duration::from_mins(5))
                .is_some(),
            "long after: news again"
        );
        let changed = [0, 128, 0, 0, 0, 0, 0, 2, 11, 22, 44, 66];
        assert!(
            filter
                .news(&changed, from, t0 + Duration::from_mins(5))
                .is_some()
        );
        let pcp = [
            2u8, 128, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        assert!(
            filter
                .news(&pcp, from, t0 + Duration::from_mins(6))
                .is_none(),
            "PCP is not read"
        );
        assert!(
            filter
                .news(&[0, 128, 0], from, t0 + Duration::from_mins(6))
                .is_none(),
            "short"
        );
    }

    #[test]
    fn labels_and_protocols() {
        let s = RouterSource::new(Some("natpmp"), Some("10.77.0.1"), None);
        assert_eq!(s.label(), "router natpmp @10.77.0.1");
        let s = RouterSource::new(None, None, None);
        assert_eq!(s.label(), "router auto @(default gateway)");
        assert_eq!(Protocol::parse(Some("upnp")), Protocol::Upnp);
    }
}
