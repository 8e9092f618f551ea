//! NAT-PMP (RFC 6886): the external-address request to the gateway, its answer, and the gateway's
//! announcements of a new address (to 224.0.0.1:5350), heard and filtered.

#[allow(clippy::wildcard_imports)] // the router source's shared types and limits
use super::*;

/// A NAT-PMP answer to the external-address request; announcements are the same 12 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NatPmpAnswer {
    /// 0 is success; the address means nothing otherwise.
    pub result: u16,
    pub epoch: u32,
    pub address: Ipv4Addr,
}

/// Parses an answer (or announcement): version 0, opcode 128, a result code, and on success the seconds since
/// the router's epoch and its external address, 12 bytes in all.
pub fn parse_natpmp(packet: &[u8]) -> Result<NatPmpAnswer, String> {
    match packet {
        [] | [_] => return Err(format!("a {}-byte packet is not NAT-PMP", packet.len())),
        [v, ..] if *v != 0 => return Err(format!("version {v}, not NAT-PMP (0)")),
        [_, op, ..] if *op != 128 => {
            return Err(format!("opcode {op}, not an external-address answer (128)"));
        }
        _ => {}
    }
    if packet.len() != 12 {
        return Err(format!(
            "a {}-byte external-address answer, not 12",
            packet.len()
        ));
    }
    Ok(NatPmpAnswer {
        result: u16::from_be_bytes([packet[2], packet[3]]),
        epoch: u32::from_be_bytes([packet[4], packet[5], packet[6], packet[7]]),
        address: Ipv4Addr::new(packet[8], packet[9], packet[10], packet[11]),
    })
}

/// What a non-zero NAT-PMP result code means (RFC 6886 §3.5).
#[must_use]
pub fn natpmp_result(code: u16) -> String {
    match code {
        1 => "the router does not support NAT-PMP version 0".into(),
        2 => "the router refuses NAT-PMP (not authorized: it may be switched off)".into(),
        3 => "the router has no public address (NAT-PMP result 3, \"network failure\")".into(),
        4 => "the router is out of resources".into(),
        5 => "the router does not support the external-address request".into(),
        n => format!("the router answered NAT-PMP result {n}"),
    }
}

pub(super) async fn natpmp(gateway: Ipv4Addr, bind: &Bind) -> Result<Ipv4Addr, Failure> {
    let io = |e: std::io::Error| Failure::Silent(format!("NAT-PMP: cannot ask {gateway}: {e}"));
    let socket = bind.udp().await.map_err(io)?;
    socket.connect((gateway, NATPMP_PORT)).await.map_err(io)?;
    let mut buf = [0u8; MAX_DATAGRAM];
    for wait in NATPMP_WAITS {
        socket.send(&[0, 0]).await.map_err(io)?;
        let deadline = Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, socket.recv(&mut buf)).await {
                Err(_) => break,
                Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                    return Err(Failure::Silent(format!(
                        "NAT-PMP: {gateway} does not run NAT-PMP (port {NATPMP_PORT} closed)"
                    )));
                }
                Ok(Err(e)) => return Err(io(e)),
                Ok(Ok(n)) => match parse_natpmp(&buf[..n]) {
                    Ok(a) if a.result == 0 => return Ok(a.address),
                    Ok(a) if a.result == 3 => {
                        return Err(Failure::NoPublic("NAT-PMP result 3".into()));
                    }
                    Ok(a) => {
                        return Err(Failure::Reason(format!(
                            "NAT-PMP: {}",
                            natpmp_result(a.result)
                        )));
                    }
                    Err(e) => tracing::debug!(%gateway, "ignoring a NAT-PMP packet: {e}"),
                },
            }
        }
    }
    let total: Duration = NATPMP_WAITS.iter().sum();
    Err(Failure::Silent(format!(
        "NAT-PMP: no answer from {gateway} within {}",
        humantime::format_duration(total)
    )))
}

/// A gateway whose announcements count, and the local address that reaches it (where to join the group, and
/// where its `UPnP` events are received).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Announcer {
    pub gateway: Ipv4Addr,
    pub local: Option<Ipv4Addr>,
    /// A source asks it over `UPnP` (`protocol` `auto` or `upnp`): its events are subscribed to.
    pub upnp: bool,
}

/// The gateways of the `router` sources of `detect` (directly, and through each line), as the routing table
/// says now. Empty when no router source is configured, or no gateway is known.
#[must_use]
pub fn announcers(detect: &DetectSettings, lines: &[LineSettings]) -> Vec<Announcer> {
    let mut out = Vec::new();
    for source in &detect.ipv4 {
        let SourceKind::Router { gateway, protocol } = &source.kind else {
            continue;
        };
        let upnp = Protocol::parse(protocol.as_deref()) != Protocol::NatPmp;
        let configured: Option<Ipv4Addr> = gateway.as_deref().and_then(|g| g.trim().parse().ok());
        let binds = std::iter::once(None).chain(lines.iter().map(|l| Some(&l.bind)));
        for bind in binds {
            let Some(gateway) = configured.or_else(|| gateway_of(bind).ok()) else {
                continue;
            };
            let local = match bind {
                Some(LineBind::Source(IpAddr::V4(ip))) => Some(*ip),
                _ => local_toward(gateway),
            };
            out.push(Announcer {
                gateway,
                local,
                upnp,
            });
        }
    }
    out.sort();
    out.dedup();
    out
}

/// A new announcement: the gateway and what it said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Announcement {
    pub gateway: Ipv4Addr,
    pub answer: NatPmpAnswer,
}

impl std::fmt::Display for Announcement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.answer.result == 0 {
            write!(f, "{} announced {}", self.gateway, self.answer.address)
        } else {
            write!(
                f,
                "{} announced result {}",
                self.gateway, self.answer.result
            )
        }
    }
}

/// Which announcements are news: from a known gateway, and not a repeat of its last one.
#[derive(Debug, Default)]
pub struct Filter {
    gateways: Vec<Ipv4Addr>,
    last: HashMap<Ipv4Addr, ((u16, Ipv4Addr), Instant)>,
}

impl Filter {
    #[must_use]
    pub fn new(gateways: Vec<Ipv4Addr>) -> Self {
        Self {
            gateways,
            last: HashMap::new(),
        }
    }

    /// The announcement in `packet` from `from`, if it is news at `now`.
    pub fn news(&mut self, packet: &[u8], from: IpAddr, now: Instant) -> Option<Announcement> {
        let IpAddr::V4(gateway) = from else {
            return None;
        };
        if !self.gateways.contains(&gateway) {
            return None;
        }
        let answer = parse_natpmp(packet).ok()?;
        let said = (
            answer.result,
            if answer.result == 0 {
                answer.address
            } else {
                Ipv4Addr::UNSPECIFIED
            },
        );
        let repeat = self
            .last
            .get(&gateway)
            .is_some_and(|(s, at)| *s == said && now.duration_since(*at) < REPEAT_WINDOW);
        self.last.insert(gateway, (said, now));
        (!repeat).then_some(Announcement { gateway, answer })
    }
}

/// Hears the gateways' NAT-PMP announcements on UDP 5350 (the all-hosts group joined on each LAN address).
pub struct Listener {
    socket: UdpSocket,
    filter: Filter,
}

impl Listener {
    /// Binds UDP port 5350 (once per process) and joins 224.0.0.1 where the announcers are reached.
    pub async fn bind(announcers: &[Announcer]) -> Result<Self, String> {
        let socket = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, ANNOUNCE_PORT))
            .await
            .map_err(|e| format!("cannot listen on UDP port {ANNOUNCE_PORT}: {e}"))?;
        let mut joined = Vec::new();
        for a in announcers {
            let local = a.local.unwrap_or(Ipv4Addr::UNSPECIFIED);
            if joined.contains(&local) {
                continue;
            }
            joined.push(local);
            // Every host is in the all-hosts group anyway (the kernel joins it on each interface); a refusal
            // here only means this socket did not ask again.
            if let Err(e) = socket.join_multicast_v4(ALL_HOSTS, local) {
                tracing::debug!("joining {ALL_HOSTS} on {local}: {e}");
            }
        }
        Ok(Self {
            socket,
            filter: Filter::new(announcers.iter().map(|a| a.gateway).collect()),
        })
    }

    /// The next announcement that is news.
    pub async fn next(&mut self) -> std::io::Result<Announcement> {
        let mut buf = [0u8; MAX_DATAGRAM];
        loop {
            let (n, from) = match self.socket.recv_from(&mut buf).await {
                Ok(got) => got,
                // Windows reports an earlier send's ICMP error on the next receive; nothing is sent here.
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => continue,
                Err(e) => return Err(e),
            };
            if let Some(a) = self.filter.news(&buf[..n], from.ip(), Instant::now()) {
                return Ok(a);
            }
        }
    }
}
