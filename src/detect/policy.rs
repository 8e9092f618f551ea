//! The policies that combine a family's sources: `first` (the first valid answer, sources asked with a
//! stagger), `confirm` (a change needs a source of another operator to agree) and `agree` (two sources must
//! agree); and who runs a source (its operator), derived from its host.

use std::net::IpAddr;
use std::time::Duration;

use super::{Configured, Detection};
use crate::config::Family;

/// Under `first`, the next source is asked when the one before has failed or has not answered within this:
/// one dead echo costs this much, not its whole timeout.
pub const STAGGER: Duration = Duration::from_millis(300);

/// The first valid answer, asking the sources in order, each [`STAGGER`] after the one before (or at once
/// when it failed), the earlier ones still running: "happy eyeballs" over IP sources.
pub(super) async fn first_answer(sources: &[Configured], family: Family) -> Detection {
    match first_answer_from(sources, family).await {
        Ok((ip, _)) => Detection::Known(ip),
        Err(why) => Detection::Unavailable(why),
    }
}

/// [`first_answer`], with the index of the source that gave it.
pub(super) async fn first_answer_from(
    sources: &[Configured],
    family: Family,
) -> Result<(IpAddr, usize), String> {
    let all: Vec<&Configured> = sources.iter().collect();
    let (found, answers) = staggered(&all, family, |_| true).await;
    if let Some((i, ip)) = found {
        return Ok((ip, i));
    }
    let errors: Vec<String> = sources
        .iter()
        .zip(answers)
        .map(|(s, a)| {
            format!(
                "{}: {}",
                s.source.label(),
                a.and_then(Result::err).unwrap_or_default()
            )
        })
        .collect();
    Err(format!(
        "every {family} source failed ({})",
        errors.join("; ")
    ))
}

/// Asks `sources` in order, each [`STAGGER`] after the one before (or at once when it failed), the earlier
/// ones still running, until one gives an address `wanted` takes: that source's index and the address.
/// Every answer that came is kept, by index (`None`: not asked, or asked and cut short).
pub(super) async fn staggered(
    sources: &[&Configured],
    family: Family,
    wanted: impl Fn(IpAddr) -> bool,
) -> (Option<(usize, IpAddr)>, Vec<Option<Result<IpAddr, String>>>) {
    use futures_util::stream::{FuturesUnordered, StreamExt as _};
    let mut answers: Vec<Option<Result<IpAddr, String>>> = vec![None; sources.len()];
    let ask = |i: usize| {
        let s: &Configured = sources[i];
        async move { (i, s.ask(family).await) }
    };
    let mut running = FuturesUnordered::new();
    let mut next = 0;
    loop {
        if running.is_empty() {
            if next >= sources.len() {
                break;
            }
            running.push(ask(next));
            next += 1;
        }
        let more = next < sources.len();
        tokio::select! {
            Some((i, answer)) = running.next() => {
                if let Ok(ip) = answer
                    && wanted(ip)
                {
                    return (Some((i, ip)), answers);
                }
                answers[i] = Some(answer);
            },
            () = tokio::time::sleep(STAGGER), if more => {
                running.push(ask(next));
                next += 1;
            }
        }
    }
    (None, answers)
}

/// Whether the operators named are at least two.
pub(super) fn several_operators<'a>(mut operators: impl Iterator<Item = &'a str>) -> bool {
    let Some(first) = operators.next() else {
        return false;
    };
    operators.any(|o| o != first)
}

/// Under `confirm`: the first valid answer (as `first`). When it is `known`, that is all. Otherwise the
/// sources of other operators are asked the same way until one gives the same address (confirmed) or all
/// have answered (not confirmed: nothing is written). With one operator configured there is nobody to
/// confirm: the first answer stands.
pub(super) async fn confirmed_answer(
    sources: &[Configured],
    family: Family,
    known: Option<IpAddr>,
) -> Detection {
    let (ip, by) = match first_answer_from(sources, family).await {
        Ok(found) => found,
        Err(why) => return Detection::Unavailable(why),
    };
    let operator = &sources[by].operator;
    if Some(ip) == known || !several_operators(sources.iter().map(|s| s.operator.as_str())) {
        return Detection::Known(ip);
    }
    let others: Vec<&Configured> = sources.iter().filter(|s| s.operator != *operator).collect();
    let (found, answers) = staggered(&others, family, |other| other == ip).await;
    if let Some((i, _)) = found {
        tracing::info!(%family, %ip, first = %sources[by].source.label(), confirmed_by = %others[i].source.label(), "address change confirmed by another operator");
        return Detection::Known(ip);
    }
    let seen: Vec<String> = others
        .iter()
        .zip(answers)
        .filter_map(|(s, a)| {
            let said = match a? {
                Ok(other) => other.to_string(),
                Err(e) => e,
            };
            Some(format!("{}: {said}", s.source.label()))
        })
        .collect();
    Detection::Unavailable(format!(
        "{ip} from {} ({operator}) is not confirmed by another operator ({}); nothing is published until one agrees",
        sources[by].source.label(),
        seen.join("; ")
    ))
}

/// Under `agree`: the answer given by the most sources, if at least two gave it and no other answer ties it.
pub(super) fn agree(answers: &[Result<IpAddr, String>], family: Family) -> Detection {
    let mut counts: Vec<(IpAddr, usize)> = Vec::new();
    for ip in answers.iter().filter_map(|a| a.as_ref().ok()) {
        match counts.iter_mut().find(|(seen, _)| seen == ip) {
            Some((_, n)) => *n += 1,
            None => counts.push((*ip, 1)),
        }
    }
    counts.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    match counts.as_slice() {
        [(ip, n), rest @ ..] if *n >= 2 && rest.first().is_none_or(|(_, m)| m < n) => {
            Detection::Known(*ip)
        }
        [] => Detection::Unavailable(format!("no {family} source gave a valid answer")),
        _ => {
            let seen: Vec<String> = counts.iter().map(|(ip, n)| format!("{ip} x{n}")).collect();
            Detection::Unavailable(format!(
                "{family} sources do not agree ({})",
                seen.join(", ")
            ))
        }
    }
}

/// Who runs a source, from its label (`http https://api.ipify.org` -> `ipify`): the operators of the
/// well-known echo services by their hosts, else the host itself; local sources (interface, command,
/// router) each count as their own.
#[must_use]
pub fn operator_of(label: &str) -> String {
    const KNOWN: &[(&str, &str)] = &[
        ("cloudflare.com", "Cloudflare"),
        ("cloudflare-dns.com", "Cloudflare"),
        ("one.one.one.one", "Cloudflare"),
        ("icanhazip.com", "Cloudflare"),
        ("1.1.1.1", "Cloudflare"),
        ("1.0.0.1", "Cloudflare"),
        ("2606:4700:4700::1111", "Cloudflare"),
        ("2606:4700:4700::1001", "Cloudflare"),
        ("ipify.org", "ipify"),
        ("opendns.com", "Cisco OpenDNS"),
        ("208.67.222.222", "Cisco OpenDNS"),
        ("208.67.220.220", "Cisco OpenDNS"),
        ("2620:119:35::35", "Cisco OpenDNS"),
        ("2620:119:53::53", "Cisco OpenDNS"),
        ("google.com", "Google"),
        ("googleapis.com", "Google"),
        ("akamai.net", "Akamai"),
        ("akamaitech.net", "Akamai"),
        ("ipinfo.io", "ipinfo"),
        ("ifconfig.me", "ifconfig.me"),
        ("ip.sb", "IP.SB"),
    ];
    let mut words = label.split_whitespace();
    let kind = words.next().unwrap_or_default();
    let target = if kind == "dns" {
        // `dns NAME TYPE @server`: the server says who answers.
        label
            .split_whitespace()
            .find_map(|w| w.strip_prefix('@'))
            .unwrap_or_default()
    } else {
        words.next().unwrap_or_default()
    };
    if !matches!(kind, "http" | "cloudflare-trace" | "dns") {
        return format!("{kind} {target}").trim().to_owned();
    }
    if kind == "cloudflare-trace" && (target.is_empty() || target == "(default)") {
        return "Cloudflare".into();
    }
    // The host of a URL or of `server:port` (`[v6]:53`).
    let rest = target.split_once("://").map_or(target, |(_, r)| r);
    let authority = rest.split(['/', '?', '@']).next().unwrap_or(rest);
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or(v6)
    } else {
        authority.rsplit_once(':').map_or(authority, |(h, _)| h)
    }
    .trim_end_matches('.')
    .to_ascii_lowercase();
    for (suffix, who) in KNOWN {
        if host == *suffix || host.ends_with(&format!(".{suffix}")) {
            return (*who).to_owned();
        }
    }
    host
}
