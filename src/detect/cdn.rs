//! Addresses of a CDN's own network, which are never a user's public address: an echo service answering
//! with one is answering for itself (on 2025-10-27 `https://1.1.1.1/cdn-cgi/trace` returned `ip=104.18.0.0`
//! to users; favonia/cloudflare-ddns issue 1262, timothymiller/cloudflare-ddns issue 216). Such answers are
//! rejected from every source unless the source sets `allow_cdn = true`.
//!
//! The built-in list is Cloudflare's published ranges (<https://www.cloudflare.com/ips-v4>, `ips-v6`) as of
//! [`CLOUDFLARE_LIST_DATE`]; `[detect] cdn_ranges = [...]` replaces it (an empty list turns the check off).
//! Cloudflare WARP's egress addresses are in these ranges too: behind WARP a DDNS record cannot point at
//! this machine, and the trace source's own `warp=on` check says so.

use std::net::IpAddr;

/// When the built-in list was last compared with Cloudflare's published one.
pub const CLOUDFLARE_LIST_DATE: &str = "2024-06-25";

/// Cloudflare's published ranges (`ips-v4`, `ips-v6`).
pub const CLOUDFLARE: &[&str] = &[
    "173.245.48.0/20",
    "103.21.244.0/22",
    "103.22.200.0/22",
    "103.31.4.0/22",
    "141.101.64.0/18",
    "108.162.192.0/18",
    "190.93.240.0/20",
    "188.114.96.0/20",
    "197.234.240.0/22",
    "198.41.128.0/17",
    "162.158.0.0/15",
    "104.16.0.0/13",
    "104.24.0.0/14",
    "172.64.0.0/13",
    "131.0.72.0/22",
    "2400:cb00::/32",
    "2606:4700::/32",
    "2803:f800::/32",
    "2405:b500::/32",
    "2405:8100::/32",
    "2a06:98c0::/29",
    "2c0f:f248::/32",
];

/// A list of networks (address and prefix length).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ranges {
    nets: Vec<(IpAddr, u8)>,
    /// Whose they are, for messages ("Cloudflare's" for the built-in list).
    owner: &'static str,
}

impl Default for Ranges {
    fn default() -> Self {
        Self::builtin()
    }
}

impl Ranges {
    /// The built-in list (Cloudflare's).
    #[must_use]
    pub fn builtin() -> Self {
        Self {
            nets: CLOUDFLARE
                .iter()
                .filter_map(|n| crate::config::parse_network(n).ok())
                .collect(),
            owner: "Cloudflare's",
        }
    }

    /// A list from validated settings (`cdn_ranges`).
    #[must_use]
    pub fn from_nets(nets: Vec<(IpAddr, u8)>) -> Self {
        Self {
            nets,
            owner: "a CDN's (cdn_ranges)",
        }
    }

    /// Why `ip` is not a user's address, when it is in one of the ranges.
    #[must_use]
    pub fn reject(&self, ip: IpAddr) -> Option<String> {
        let (net, len) = self
            .nets
            .iter()
            .find(|(net, len)| contains(*net, *len, ip))?;
        Some(format!(
            "{ip} is {} own address ({net}/{len}), not this network's: the echo service answered for itself",
            self.owner
        ))
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.nets.is_empty()
    }
}

fn contains(net: IpAddr, len: u8, ip: IpAddr) -> bool {
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
            u32::from(n) & mask == u32::from(i) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(i)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
            u128::from(n) & mask == u128::from(i) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloudflares_own_addresses_are_rejected_and_others_not() {
        let r = Ranges::builtin();
        assert_eq!(
            r.nets.len(),
            CLOUDFLARE.len(),
            "every built-in entry parses"
        );
        for own in [
            "104.18.0.0",
            "172.67.1.2",
            "2606:4700::6810:84e5",
            "2a06:98c7::1",
        ] {
            let why = r.reject(own.parse().unwrap()).unwrap();
            assert!(why.contains("Cloudflare's own address"), "{why}");
        }
        for theirs in [
            "1.1.1.1",
            "8.8.8.8",
            "104.15.255.255",
            "104.32.0.0",
            "2001:db8::1",
            "2a06:98d0::1",
        ] {
            assert_eq!(r.reject(theirs.parse().unwrap()), None, "{theirs}");
        }
    }

    #[test]
    fn configured_lists_replace_the_builtin_one_and_name_bad_entries() {
        let no_env = |_: &str| None;
        let load = |list: &str| {
            crate::settings::load_str(&format!("[detect]\ncdn_ranges = [{list}]\n"), &no_env)
        };
        let ranges = |list: &str| {
            let (_, s) = load(list).unwrap();
            Ranges::from_nets(s.detect.cdn_ranges.unwrap())
        };
        let r = ranges("\"203.0.113.0/24\", \"2001:db8::/32\"");
        assert!(r.reject("203.0.113.9".parse().unwrap()).is_some());
        assert!(r.reject("104.18.0.0".parse().unwrap()).is_none());
        assert!(ranges("").is_empty());
        let bad = load("\"10.0.0.0/8\", \"cdn\", \"1.2.3.0/33\"").unwrap_err();
        assert_eq!(
            bad.iter().map(|i| i.path.as_str()).collect::<Vec<_>>(),
            ["detect.cdn_ranges[1]", "detect.cdn_ranges[2]"]
        );
    }
}
