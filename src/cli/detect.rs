//! `ddns-tray detect`: every configured source's answer and latency, and what the policy concludes (under
//! `confirm` and `agree`, which operators agreed); for IPv4, whether DDNS can reach this host at all
//! ([`crate::detect::reach`]: carrier-grade NAT, or another NAT in front of the router).

use std::fmt::Write as _;

use super::Exit;
use crate::config::Family;
use crate::detect::reach::Reach;
use crate::detect::{Detection, Detector, Policy, SourceReport};
use crate::i18n::tr;
use crate::settings::Settings;

/// What one family's sources answered, and the conclusion.
pub struct Asked {
    pub family: Family,
    pub reports: Vec<SourceReport>,
    pub conclusion: Detection,
    /// IPv4: why DDNS may not reach this host.
    pub reach: Option<Reach>,
}

/// Asks every source of each enabled family.
pub async fn ask(settings: &Settings) -> Vec<Asked> {
    let detector = Detector::from_settings(&settings.detect);
    let mut out = Vec::new();
    for family in Family::ALL
        .into_iter()
        .filter(|f| settings.family_enabled(*f))
    {
        let (reports, conclusion) = detector.report(family).await;
        // The router's own answer, as the probe got it (not asked again).
        let reach = match (&conclusion, family) {
            (Detection::Known(ip), Family::V4) => {
                crate::detect::reach::from_reports(&reports, Some(*ip))
            }
            (Detection::Unavailable(_), Family::V4) => {
                crate::detect::reach::from_reports(&reports, None)
            }
            _ => None,
        };
        out.push(Asked {
            family,
            reports,
            conclusion,
            reach,
        });
    }
    out
}

/// The answers as `detect` prints them (or JSON).
pub fn render(asked: &[Asked], policy: Policy, json: bool) -> Result<String, String> {
    if json {
        let mut out = serde_json::Map::new();
        for a in asked {
            let (ip, error) = match &a.conclusion {
                Detection::Known(ip) => (Some(ip.to_string()), None),
                Detection::Unavailable(e) => (None, Some(e.clone())),
            };
            let mut entry = serde_json::json!({ "ip": ip, "error": error, "sources": a.reports });
            if let Some(reach) = &a.reach {
                let mut r = serde_json::to_value(reach).map_err(|e| e.to_string())?;
                r["reason"] = reach.to_string().into();
                entry["reach"] = r;
            }
            out.insert(a.family.key().into(), entry);
        }
        return serde_json::to_string_pretty(&out)
            .map(|t| t + "\n")
            .map_err(|e| e.to_string());
    }
    let mut out = String::new();
    for a in asked {
        let _ = writeln!(
            out,
            "{}",
            tr(
                "cli.detect_family",
                &[("family", &a.family), ("policy", &policy)]
            )
        );
        for r in &a.reports {
            let answer = r.ip.map_or_else(
                || {
                    tr(
                        "cli.detect_error",
                        &[("error", &r.error.as_deref().unwrap_or(""))],
                    )
                },
                |ip| ip.to_string(),
            );
            let _ = writeln!(out, "  {:<48} {answer}  ({} ms)", r.source, r.latency_ms);
        }
        let conclusion = match &a.conclusion {
            // Who gave it: under `confirm` and `agree`, the operators that agreed.
            Detection::Known(ip) if policy != Policy::First => {
                // Each operator once, in the sources' order.
                let mut operators: Vec<&str> = Vec::new();
                for r in a.reports.iter().filter(|r| r.ip == Some(*ip)) {
                    if !operators.contains(&r.operator.as_str()) {
                        operators.push(&r.operator);
                    }
                }
                let list = operators.join(&tr("alerts.separator", &[]));
                tr("cli.detect_confirmed", &[("ip", ip), ("operators", &list)])
            }
            Detection::Known(ip) => ip.to_string(),
            Detection::Unavailable(e) => tr("cli.detect_unknown", &[("error", e)]),
        };
        let _ = writeln!(out, "  => {conclusion}");
        if let Some(reach) = &a.reach {
            let _ = writeln!(out, "  ! {}", crate::notify::reach(reach));
        }
    }
    Ok(out)
}

/// `ddns-tray detect [--json]`: `Exit::Failed` when a family's address cannot be told.
pub async fn detect(settings: &Settings, json: bool) -> Result<Exit, String> {
    let asked = ask(settings).await;
    print!("{}", render(&asked, settings.detect.policy, json)?);
    Ok(Exit::ok_if(
        asked
            .iter()
            .all(|a| matches!(a.conclusion, Detection::Known(_))),
    ))
}
