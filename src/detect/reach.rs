//! Whether publishing can make this host reachable from the internet, as far as the LAN's router and the
//! detected address tell ([`judge`]): behind carrier-grade NAT or another NAT, a DNS name that
//! points at the address the internet sees reaches the NAT in front, not this host, and no DDNS client can
//! change that. Said in one sentence with its reason (the words for people are in [`crate::notify`]); what
//! the engine then does is `[detect] behind_nat` ([`super::settings::BehindNat`]).
//!
//! - The detected address itself in 100.64.0.0/10 (a source with `allow_private`): carrier-grade NAT.
//! - With a `router` source configured, the engine asks the router once more in each round, at the same
//!   time as the detection (whatever the policy did; `detect` uses the answer its probe got): its own
//!   external address in 100.64.0.0/10 (carrier-grade NAT) or private (another router in front of it); its
//!   word that it has none (miniupnpd's NAT-PMP result 3 or empty `UPnP` answer: its WAN address is private
//!   or CGNAT); or a public address that is not the detected one (a NAT beyond the router: double NAT).
//! - Anything else (no router source, a router that does not answer) is no finding: nothing is said.

use std::net::{IpAddr, Ipv4Addr};

use serde::{Deserialize, Serialize};

use super::{Detector, Query, answer::in_v4, router::NO_PUBLIC};
use crate::config::Family;

/// Why DDNS may not make this host reachable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Reach {
    /// The router's external address is carrier-grade NAT: the ISP shares one public address.
    CarrierGrade { router: Ipv4Addr },
    /// The detected address is carrier-grade NAT.
    SeenCarrierGrade { seen: Ipv4Addr },
    /// The router's external address is private: another router is in front of it.
    PrivateWan { router: Ipv4Addr },
    /// The router says it has no public address (`how` it said so).
    NoPublic { how: String },
    /// The router's public address is not the one the internet sees: another NAT beyond it.
    DoubleNat { router: Ipv4Addr, seen: IpAddr },
}

impl std::fmt::Display for Reach {
    /// English, for the log, `/health` and `detect --json`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::CarrierGrade { router } => write!(
                f,
                "DDNS cannot make this host reachable: the router's internet address {router} is \
                 carrier-grade NAT (100.64.0.0/10), shared by the ISP"
            ),
            Self::SeenCarrierGrade { seen } => write!(
                f,
                "DDNS cannot make this host reachable: its address {seen} is carrier-grade NAT \
                 (100.64.0.0/10), shared by the ISP"
            ),
            Self::PrivateWan { router } => write!(
                f,
                "DDNS may not reach this host: the router's internet address {router} is private, so \
                 another router is in front of it (it must forward the ports)"
            ),
            Self::NoPublic { how } => write!(
                f,
                "DDNS may not reach this host: the router says it has no public address ({how}); it \
                 is behind carrier-grade NAT or another router"
            ),
            Self::DoubleNat { router, seen } => write!(
                f,
                "DDNS may not reach this host: the internet sees {seen}, but the router's address is \
                 {router}, so another NAT is in front of it (it must forward the ports)"
            ),
        }
    }
}

impl Reach {
    /// Whether no port forwarding can help (carrier-grade NAT), as opposed to a NAT the user may control.
    #[must_use]
    pub fn certain(&self) -> bool {
        matches!(
            self,
            Self::CarrierGrade { .. } | Self::SeenCarrierGrade { .. }
        )
    }
}

fn carrier_grade(ip: Ipv4Addr) -> bool {
    in_v4(ip, [100, 64, 0, 0], 10)
}

/// What a router's own answer and the detected address say (`None`: nothing wrong, or nothing known).
#[must_use]
pub fn judge(router: Option<&Result<IpAddr, String>>, seen: Option<IpAddr>) -> Option<Reach> {
    if let Some(IpAddr::V4(seen)) = seen
        && carrier_grade(seen)
    {
        return Some(Reach::SeenCarrierGrade { seen });
    }
    match router? {
        Ok(IpAddr::V4(ip)) if carrier_grade(*ip) => Some(Reach::CarrierGrade { router: *ip }),
        Ok(IpAddr::V4(ip)) if super::special_range(IpAddr::V4(*ip)).is_some() => {
            Some(Reach::PrivateWan { router: *ip })
        }
        Ok(IpAddr::V4(ip)) => match seen {
            Some(seen @ IpAddr::V4(_)) if seen != IpAddr::V4(*ip) => {
                Some(Reach::DoubleNat { router: *ip, seen })
            }
            _ => None,
        },
        Ok(IpAddr::V6(_)) => None,
        Err(e) => e.strip_prefix(NO_PUBLIC).map(|rest| Reach::NoPublic {
            how: rest.split(':').next().unwrap_or(rest).trim().to_owned(),
        }),
    }
}

/// [`judge`] with the first `router` source's answer among `reports` that told anything (else the last).
#[must_use]
pub fn from_reports(reports: &[super::SourceReport], seen: Option<IpAddr>) -> Option<Reach> {
    let said: Vec<&Result<IpAddr, String>> = reports
        .iter()
        .filter_map(|r| r.router_said.as_ref())
        .collect();
    let told = said.iter().find(|a| tells(a)).or(said.last());
    judge(told.copied(), seen)
}

/// Whether a router's answer says anything of its address: one, or its word that it has none.
fn tells(answer: &Result<IpAddr, String>) -> bool {
    answer.as_ref().is_ok() || answer.as_ref().is_err_and(|e| e.starts_with(NO_PUBLIC))
}

impl Detector {
    /// Whether any IPv4 source is a `router`.
    #[must_use]
    pub fn has_router(&self) -> bool {
        self.ipv4.iter().any(|s| s.router)
    }

    /// What the `router` sources say of their own external address: the first answer, or the first word
    /// that there is none; else the last failure (`None`: no router source, or none answered in time).
    pub async fn router_answer(&self) -> Option<Result<IpAddr, String>> {
        let mut said = None;
        for s in self.ipv4.iter().filter(|s| s.router) {
            let query = Query {
                family: Family::V4,
                allow_private: true,
            };
            let Ok(answer) = tokio::time::timeout(s.timeout, s.source.fetch(query)).await else {
                continue;
            };
            let told = tells(&answer);
            said = Some(answer);
            if told {
                break;
            }
        }
        said
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn judgements() {
        let public = Ok(v4("11.22.33.44"));
        assert_eq!(judge(Some(&public), Some(v4("11.22.33.44"))), None);
        assert_eq!(judge(Some(&public), None), None, "nothing to compare");
        assert_eq!(judge(None, Some(v4("11.22.33.44"))), None, "no router");
        assert_eq!(
            judge(Some(&public), Some(v4("198.51.7.9"))),
            Some(Reach::DoubleNat {
                router: "11.22.33.44".parse().unwrap(),
                seen: v4("198.51.7.9")
            })
        );
        assert_eq!(
            judge(Some(&Ok(v4("100.64.7.8"))), Some(v4("198.51.7.9"))),
            Some(Reach::CarrierGrade {
                router: "100.64.7.8".parse().unwrap()
            })
        );
        assert_eq!(
            judge(Some(&Ok(v4("192.168.1.20"))), Some(v4("198.51.7.9"))),
            Some(Reach::PrivateWan {
                router: "192.168.1.20".parse().unwrap()
            })
        );
        assert_eq!(
            judge(None, Some(v4("100.100.1.2"))),
            Some(Reach::SeenCarrierGrade {
                seen: "100.100.1.2".parse().unwrap()
            })
        );
        assert_eq!(
            judge(None, Some(v4("100.128.1.2"))),
            None,
            "just past 100.64.0.0/10"
        );
        let refused = Err(format!("{NO_PUBLIC}NAT-PMP result 3: routers say so …)"));
        assert_eq!(
            judge(Some(&refused), Some(v4("198.51.7.9"))),
            Some(Reach::NoPublic {
                how: "NAT-PMP result 3".into()
            })
        );
        let silent =
            Err("no router answers NAT-PMP at 10.0.0.1 or a UPnP search on this LAN".into());
        assert_eq!(judge(Some(&silent), Some(v4("198.51.7.9"))), None);
        assert!(
            Reach::CarrierGrade {
                router: "100.64.7.8".parse().unwrap()
            }
            .certain()
        );
        assert!(!Reach::NoPublic { how: String::new() }.certain());
    }
}
