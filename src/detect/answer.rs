//! What an answer must be: one address in the text a source returned, of the family asked for, and a
//! global unicast address unless the source allows private ones (CGNAT, documentation and other special
//! ranges are named when refused).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::snippet;
use crate::config::Family;

/// Parses a text answer: the whole (trimmed) text as one address, or text holding exactly one address.
/// HTML is rejected outright: captive portals and challenge pages must never be mined for an address.
pub fn parse_text(text: &str) -> Result<IpAddr, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err("empty answer".into());
    }
    if let Ok(ip) = trimmed.parse::<IpAddr>() {
        return Ok(ip);
    }
    if trimmed.contains('<') {
        return Err("answer is an HTML page, not an address".into());
    }
    let mut found: Vec<IpAddr> = Vec::new();
    for token in trimmed.split(|c: char| !(c.is_ascii_hexdigit() || c == '.' || c == ':')) {
        let token = token.trim_matches(|c| c == '.' || c == ':');
        if let Ok(ip) = token.parse::<IpAddr>()
            && !ip.is_unspecified()
            && !found.contains(&ip)
        {
            found.push(ip);
        }
    }
    match found.as_slice() {
        [ip] => Ok(*ip),
        [] => Err(format!(
            "no IP address in the answer `{}`",
            snippet(trimmed)
        )),
        many => Err(format!(
            "answer holds {} addresses, expected exactly one",
            many.len()
        )),
    }
}

/// Checks that an answer is usable: the family asked for, and a global unicast address unless the source
/// allows private ones. Unspecified, multicast and broadcast addresses are never usable.
pub fn check_answer(ip: IpAddr, family: Family, allow_private: bool) -> Result<IpAddr, String> {
    let ip = match ip {
        IpAddr::V6(v6) if family == Family::V4 => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .ok_or("an IPv6 address, but IPv4 was asked")?,
        IpAddr::V4(_) if family == Family::V6 => {
            return Err("an IPv4 address, but IPv6 was asked".into());
        }
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some() => {
            return Err("an IPv4-mapped address, not an IPv6 one".into());
        }
        other => other,
    };
    match special_range(ip) {
        Some((what, always)) if always || !allow_private => {
            Err(format!("{ip} is {what}, not a public address"))
        }
        _ => Ok(ip),
    }
}

/// Names the special range an address is in, and whether it is unusable even with `allow_private`.
#[must_use]
pub fn special_range(ip: IpAddr) -> Option<(&'static str, bool)> {
    match ip {
        IpAddr::V4(v4) => special_v4(v4),
        IpAddr::V6(v6) => special_v6(v6),
    }
}

pub(super) fn in_v4(ip: Ipv4Addr, net: [u8; 4], len: u32) -> bool {
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    u32::from(ip) & mask == u32::from(Ipv4Addr::from(net)) & mask
}

pub(super) fn special_v4(ip: Ipv4Addr) -> Option<(&'static str, bool)> {
    const TABLE: &[([u8; 4], u32, &str, bool)] = &[
        ([0, 0, 0, 0], 8, "in 0.0.0.0/8 (this network)", true),
        ([255, 255, 255, 255], 32, "the broadcast address", true),
        ([224, 0, 0, 0], 4, "multicast", true),
        ([240, 0, 0, 0], 4, "reserved (240.0.0.0/4)", true),
        ([10, 0, 0, 0], 8, "private (RFC 1918)", false),
        ([172, 16, 0, 0], 12, "private (RFC 1918)", false),
        ([192, 168, 0, 0], 16, "private (RFC 1918)", false),
        (
            [100, 64, 0, 0],
            10,
            "carrier-grade NAT (100.64.0.0/10)",
            false,
        ),
        ([127, 0, 0, 0], 8, "loopback", false),
        ([169, 254, 0, 0], 16, "link-local", false),
        (
            [192, 0, 0, 0],
            24,
            "IETF protocol assignments (192.0.0.0/24)",
            false,
        ),
        ([192, 0, 2, 0], 24, "documentation (TEST-NET-1)", false),
        ([198, 51, 100, 0], 24, "documentation (TEST-NET-2)", false),
        ([203, 0, 113, 0], 24, "documentation (TEST-NET-3)", false),
        ([198, 18, 0, 0], 15, "benchmarking (198.18.0.0/15)", false),
        ([192, 88, 99, 0], 24, "6to4 relay anycast", false),
    ];
    TABLE
        .iter()
        .find(|(net, len, _, _)| in_v4(ip, *net, *len))
        .map(|(_, _, what, always)| (*what, *always))
}

pub(super) fn special_v6(ip: Ipv6Addr) -> Option<(&'static str, bool)> {
    let seg = ip.segments();
    let bits = u128::from(ip);
    let in_net = |net: u128, len: u32| bits >> (128 - len) == net >> (128 - len);
    if ip.is_unspecified() {
        return Some(("the unspecified address", true));
    }
    if seg[0] >> 8 == 0xff {
        return Some(("multicast", true));
    }
    if ip.is_loopback() {
        return Some(("loopback", false));
    }
    if in_net(0xfe80 << 112, 10) {
        return Some(("link-local", false));
    }
    if in_net(0xfc00 << 112, 7) {
        return Some(("a unique local address (ULA)", false));
    }
    if in_net(0x2001_0db8 << 96, 32) || in_net(0x3fff << 112, 20) {
        return Some(("documentation", false));
    }
    if in_net(0x0064_ff9b << 96, 96) || in_net(0x0064_ff9b_0001 << 80, 48) {
        return Some(("a NAT64 translation address", false));
    }
    if in_net(0x2001 << 112, 23) {
        return Some((
            "IETF protocol assignments (2001::/23, includes Teredo)",
            false,
        ));
    }
    if in_net(0x2002 << 112, 16) {
        // RFC 7526: the relays are gone; such an address is not reachable from most of the internet.
        return Some(("a deprecated 6to4 address (2002::/16)", false));
    }
    if !in_net(0x2000 << 112, 3) {
        return Some(("outside global unicast (2000::/3)", false));
    }
    None
}
