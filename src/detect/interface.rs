//! `interface`: an address of a named interface, or of the interface holding the default route.
//!
//! IPv6 addresses that are temporary (privacy), deprecated, tentative or failed duplicate-address detection
//! are skipped: their flags come from `/proc/net/if_inet6` on Linux, `GetAdaptersAddresses` on Windows
//! (suffix origin, DAD state, preferred lifetime) and the `SIOCGIFAFLAG_IN6` ioctl on macOS. Link-local
//! addresses are always skipped; private, loopback and ULA addresses unless the source sets `allow_private`.
//!
//! [`stable_v6`] is the stable global IPv6 address of the default-route interface: the HTTP sources bind
//! their IPv6 sockets to it, so an echo service sees (and reports) the address that is published, not a
//! temporary one the OS would pick for outgoing connections.

use std::net::{IpAddr, Ipv6Addr};

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

/// The stable, global IPv6 address of the interface holding the IPv6 default route, if there is one.
#[must_use]
pub fn stable_v6() -> Option<Ipv6Addr> {
    let iface = default_route_interface(Family::V6).ok()?;
    let candidates = addresses(&iface, Family::V6).ok()?;
    let query = Query {
        family: Family::V6,
        allow_private: false,
    };
    match choose(&iface, &candidates, query) {
        Ok(IpAddr::V6(ip)) => Some(ip),
        _ => None,
    }
}

/// The address of `family` a line's sockets are bound to when they cannot be bound to the interface
/// itself: the interface's first usable one, private ones included (an uplink behind a modem has one).
#[cfg(not(target_os = "linux"))]
#[must_use]
pub fn address_of(iface: &str, family: Family) -> Option<IpAddr> {
    let candidates = addresses(iface, family).ok()?;
    choose(
        iface,
        &candidates,
        Query {
            family,
            allow_private: true,
        },
    )
    .ok()
}

/// An `interface` source on a line bound to a local address: that address, while this machine holds it.
pub struct SourceAddress {
    pub ip: IpAddr,
}

#[async_trait]
impl Source for SourceAddress {
    fn label(&self) -> String {
        format!("line source {}", self.ip)
    }

    async fn fetch(&self, query: Query) -> Result<IpAddr, String> {
        if Family::of(self.ip) != query.family {
            return Err(format!(
                "the line's source {} is not an {} address",
                self.ip, query.family
            ));
        }
        let held = if_addrs::get_if_addrs()
            .map_err(|e| format!("cannot list the interfaces: {e}"))?
            .iter()
            .any(|i| i.ip() == self.ip);
        if held {
            Ok(self.ip)
        } else {
            Err(format!("no interface holds {} now", self.ip))
        }
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

/// Why `iface` is not in the OS's list of addresses: the OS lists only interfaces that have one, so on Linux
/// tell "no such interface" from "no address now" (a link whose address was just removed).
fn missing(iface: &str, family: Family) -> String {
    let exists = cfg!(target_os = "linux")
        && !iface.contains('/')
        && !iface.starts_with('.')
        && std::path::Path::new("/sys/class/net").join(iface).exists();
    if exists {
        format!("interface {iface} has no {family} address")
    } else {
        format!("no interface named {iface} (or it has no addresses)")
    }
}

/// The addresses of `iface` of `family`, with the OS's flags for IPv6.
fn addresses(iface: &str, family: Family) -> Result<Vec<Candidate>, String> {
    if family == Family::V6
        && let Some(flagged) = v6_with_flags(iface)?
    {
        return Ok(flagged);
    }
    let all = if_addrs::get_if_addrs().map_err(|e| format!("cannot list interfaces: {e}"))?;
    if !all.iter().any(|i| i.name == iface) {
        return Err(missing(iface, family));
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

/// IPv6 addresses with their flags, where the OS tells them; `Ok(None)` to fall back to the plain list.
#[cfg(target_os = "linux")]
fn v6_with_flags(iface: &str) -> Result<Option<Vec<Candidate>>, String> {
    let Ok(text) = std::fs::read_to_string("/proc/net/if_inet6") else {
        return Ok(None);
    };
    let exists = if_addrs::get_if_addrs()
        .map_err(|e| format!("cannot list interfaces: {e}"))?
        .iter()
        .any(|i| i.name == iface);
    if !exists {
        return Err(missing(iface, Family::V6));
    }
    Ok(Some(parse_if_inet6(&text, iface)))
}

#[cfg(windows)]
fn v6_with_flags(iface: &str) -> Result<Option<Vec<Candidate>>, String> {
    match crate::platform::windows::ipv6_addresses(iface) {
        Ok(Some(list)) => Ok(Some(
            list.into_iter()
                .map(|a| Candidate {
                    ip: IpAddr::V6(a.ip),
                    unusable: a.unusable,
                })
                .collect(),
        )),
        Ok(None) => Err(format!("no interface named {iface}")),
        Err(e) => Err(format!("cannot list the addresses of {iface}: {e}")),
    }
}

#[cfg(target_os = "macos")]
fn v6_with_flags(iface: &str) -> Result<Option<Vec<Candidate>>, String> {
    let all = if_addrs::get_if_addrs().map_err(|e| format!("cannot list interfaces: {e}"))?;
    if !all.iter().any(|i| i.name == iface) {
        return Err(format!("no interface named {iface}"));
    }
    Ok(Some(
        all.into_iter()
            .filter_map(|i| match i.ip() {
                IpAddr::V6(v6) if i.name == iface => Some(Candidate {
                    ip: IpAddr::V6(v6),
                    unusable: macos::flags(iface, v6).ok().and_then(macos::unusable),
                }),
                _ => None,
            })
            .collect(),
    ))
}

#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
fn v6_with_flags(_iface: &str) -> Result<Option<Vec<Candidate>>, String> {
    Ok(None)
}

/// The `IN6_IFF_*` flags of an address, through the `SIOCGIFAFLAG_IN6` ioctl (compiled for macOS only).
#[cfg(target_os = "macos")]
mod macos {
    #![allow(unsafe_code)]

    use std::net::Ipv6Addr;

    /// `struct in6_ifreq`: the name, then a union whose largest member (`struct in6_ifstat`) makes it
    /// 288 bytes in all, as `SIOCGIFAFLAG_IN6 = _IOWR('i', 73, struct in6_ifreq)` = 0xc1206949 encodes.
    #[repr(C)]
    struct In6Ifreq {
        name: [libc::c_char; 16],
        addr: libc::sockaddr_in6,
        _rest: [u8; 288 - 16 - 28],
    }
    const SIOCGIFAFLAG_IN6: libc::c_ulong = 0xc120_6949;
    const IN6_IFF_TENTATIVE: i32 = 0x0002;
    const IN6_IFF_DUPLICATED: i32 = 0x0004;
    const IN6_IFF_DEPRECATED: i32 = 0x0010;
    const IN6_IFF_TEMPORARY: i32 = 0x0080;

    pub fn flags(iface: &str, ip: Ipv6Addr) -> std::io::Result<i32> {
        // SAFETY: a plain socket, closed below; the request struct is fully initialised and sized as the
        // ioctl expects; the kernel writes the flags into the union's first member.
        unsafe {
            let fd = libc::socket(libc::AF_INET6, libc::SOCK_DGRAM, 0);
            if fd < 0 {
                return Err(std::io::Error::last_os_error());
            }
            let mut req: In6Ifreq = std::mem::zeroed();
            for (d, s) in req.name.iter_mut().zip(iface.bytes().take(15)) {
                *d = s.cast_signed();
            }
            req.addr.sin6_len =
                u8::try_from(std::mem::size_of::<libc::sockaddr_in6>()).unwrap_or(28);
            req.addr.sin6_family = libc::sa_family_t::try_from(libc::AF_INET6).unwrap_or(30);
            req.addr.sin6_addr.s6_addr = ip.octets();
            let rc = libc::ioctl(fd, SIOCGIFAFLAG_IN6, &raw mut req);
            libc::close(fd);
            if rc < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(std::ptr::read_unaligned(
                (&raw const req.addr).cast::<i32>(),
            ))
        }
    }

    pub fn unusable(flags: i32) -> Option<&'static str> {
        if flags & IN6_IFF_TEMPORARY != 0 {
            Some("temporary")
        } else if flags & IN6_IFF_DEPRECATED != 0 {
            Some("deprecated")
        } else if flags & IN6_IFF_DUPLICATED != 0 {
            Some("duplicate (DAD failed)")
        } else if flags & IN6_IFF_TENTATIVE != 0 {
            Some("tentative")
        } else {
            None
        }
    }
}

/// Parses `/proc/net/if_inet6` lines (`addr ifindex plen scope flags name`) for one interface.
#[cfg(any(target_os = "linux", test))]
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
    let (bind, probe): (std::net::SocketAddr, std::net::SocketAddr) = match family {
        Family::V4 => (([0, 0, 0, 0], 0).into(), ([192, 0, 2, 1], 9).into()),
        Family::V6 => (
            (Ipv6Addr::UNSPECIFIED, 0).into(),
            (Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1), 9).into(),
        ),
    };
    let socket =
        std::net::UdpSocket::bind(bind).map_err(|e| format!("cannot open a socket: {e}"))?;
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
#[cfg(any(target_os = "linux", test))]
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
#[cfg(any(target_os = "linux", test))]
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
