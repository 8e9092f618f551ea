//! `interface`: an address of a named interface, or of the interface holding the default route.
//!
//! IPv6 addresses that are temporary (privacy), deprecated, tentative or failed duplicate-address detection
//! are skipped (on Linux these flags come from `/proc/net/if_inet6`; other systems do not expose them through
//! the portable API, so there only the address ranges are checked). Link-local addresses are always skipped;
//! private, loopback and ULA addresses unless the source sets `allow_private`.

use std::net::{IpAddr, Ipv6Addr, SocketAddr, UdpSocket};

use async_trait::async_trait;

use super::{Query, Source, special_range};
use crate::config::Family;

pub struct InterfaceSource {
    name: Option<String>,
}

impl InterfaceSource {
    pub fn new(name: Option<String>) -> Self {
        Self { name }
    }
}

/// An address of an interface with what the kernel says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub ip: IpAddr,
    /// Why the address must not be published (temporary, deprecated, ...), if the OS told us.
    pub unusable: Option<&'static str>,
}

#[async_trait]
impl Source for InterfaceSource {
    fn label(&self) -> String {
        format!(
            "interface {}",
            self.name.as_deref().unwrap_or("(default route)")
        )
    }

    async fn fetch(&self, query: Query) -> Result<IpAddr, String> {
        let name = self.name.clone();
        tokio::task::spawn_blocking(move || {
            let iface = match name {
                Some(n) => n,
                None => default_route_interface(query.family)?,
            };
            let candidates = addresses(&iface, query.family)?;
            choose(&iface, &candidates, query)
        })
        .await
        .map_err(|e| format!("interface lookup failed: {e}"))?
    }
}

/// Picks the first publishable address, global ones before private ones.
pub fn choose(iface: &str, candidates: &[Candidate], query: Query) -> Result<IpAddr, String> {
    let mut skipped = Vec::new();
    let mut private = None;
    for c in candidates {
        let why = c.unusable.or_else(|| match special_range(c.ip) {
            Some(("link-local", _)) => Some("link-local"),
            Some((what, always)) if always || !query.allow_private => Some(what),
            _ => None,
        });
        match why {
            Some(why) => skipped.push(format!("{} {why}", c.ip)),
            None if special_range(c.ip).is_none() => return Ok(c.ip),
            None => {
                private.get_or_insert(c.ip);
            }
        }
    }
    private.ok_or_else(|| {
        if candidates.is_empty() {
            format!("interface {iface} has no {} address", query.family)
        } else {
            format!(
                "interface {iface} has no usable {} address (skipped: {})",
                query.family,
                skipped.join(", ")
            )
        }
    })
}

fn addresses(iface: &str, family: Family) -> Result<Vec<Candidate>, String> {
    #[cfg(target_os = "linux")]
    if family == Family::V6
        && let Ok(text) = std::fs::read_to_string("/proc/net/if_inet6")
    {
        if !interface_exists(iface)? {
            return Err(format!("no interface named {iface}"));
        }
        return Ok(parse_if_inet6(&text, iface));
    }
    let all = if_addrs::get_if_addrs().map_err(|e| format!("cannot list interfaces: {e}"))?;
    if !all.iter().any(|i| i.name == iface) {
        return Err(format!("no interface named {iface}"));
    }
    Ok(all
        .into_iter()
        .filter(|i| i.name == iface && Family::of(i.ip()) == family)
        .map(|i| Candidate {
            ip: i.ip(),
            unusable: None,
        })
        .collect())
}

fn interface_exists(iface: &str) -> Result<bool, String> {
    Ok(if_addrs::get_if_addrs()
        .map_err(|e| format!("cannot list interfaces: {e}"))?
        .iter()
        .any(|i| i.name == iface))
}

/// Parses `/proc/net/if_inet6` lines (`addr ifindex plen scope flags name`) for one interface.
pub fn parse_if_inet6(text: &str, iface: &str) -> Vec<Candidate> {
    const TEMPORARY: u32 = 0x01;
    const DADFAILED: u32 = 0x08;
    const DEPRECATED: u32 = 0x20;
    const TENTATIVE: u32 = 0x40;
    text.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() != 6 || f[5] != iface {
                return None;
            }
            let ip = Ipv6Addr::from(u128::from_str_radix(f[0], 16).ok()?);
            let flags = u32::from_str_radix(f[4], 16).ok()?;
            let unusable = [
                (TEMPORARY, "temporary"),
                (DEPRECATED, "deprecated"),
                (TENTATIVE, "tentative"),
                (DADFAILED, "duplicate (DAD failed)"),
            ]
            .iter()
            .find(|(bit, _)| flags & bit != 0)
            .map(|(_, what)| *what);
            Some(Candidate {
                ip: IpAddr::V6(ip),
                unusable,
            })
        })
        .collect()
}

/// The interface holding the default route of `family`.
fn default_route_interface(family: Family) -> Result<String, String> {
    #[cfg(target_os = "linux")]
    {
        let (file, parse): (&str, fn(&str) -> Option<String>) = match family {
            Family::V4 => ("/proc/net/route", parse_route_v4),
            Family::V6 => ("/proc/net/ipv6_route", parse_route_v6),
        };
        if let Ok(text) = std::fs::read_to_string(file) {
            return parse(&text).ok_or_else(|| format!("no {family} default route"));
        }
    }
    // Elsewhere: ask the kernel which local address it would use for an outside destination. Connecting a UDP
    // socket sends nothing; the destination is a documentation address.
    let (bind, probe): (SocketAddr, SocketAddr) = match family {
        Family::V4 => (([0, 0, 0, 0], 0).into(), ([192, 0, 2, 1], 9).into()),
        Family::V6 => (
            (Ipv6Addr::UNSPECIFIED, 0).into(),
            (
                "2001:db8::1"
                    .parse::<Ipv6Addr>()
                    .unwrap_or(Ipv6Addr::UNSPECIFIED),
                9,
            )
                .into(),
        ),
    };
    let socket = UdpSocket::bind(bind).map_err(|e| format!("cannot open a socket: {e}"))?;
    socket
        .connect(probe)
        .map_err(|_| format!("no {family} default route"))?;
    let local = socket.local_addr().map_err(|e| e.to_string())?.ip();
    if_addrs::get_if_addrs()
        .map_err(|e| format!("cannot list interfaces: {e}"))?
        .into_iter()
        .find(|i| i.ip() == local)
        .map(|i| i.name)
        .ok_or_else(|| format!("no interface holds {local}"))
}

/// `/proc/net/route`: the default route (destination and mask 0) with the lowest metric.
pub fn parse_route_v4(text: &str) -> Option<String> {
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() >= 8 && f[1] == "00000000" && f[7] == "00000000")
                .then(|| (f[6].parse::<u32>().unwrap_or(u32::MAX), f[0].to_owned()))
        })
        .min()
        .map(|(_, name)| name)
}

/// `/proc/net/ipv6_route`: `::/0` with the lowest metric, not on `lo` (the kernel keeps unreachable defaults there).
pub fn parse_route_v6(text: &str) -> Option<String> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let default =
                f.len() == 10 && f[0].chars().all(|c| c == '0') && f[1] == "00" && f[9] != "lo";
            default.then(|| {
                (
                    u32::from_str_radix(f[5], 16).unwrap_or(u32::MAX),
                    f[9].to_owned(),
                )
            })
        })
        .min()
        .map(|(_, name)| name)
}
