//! The steps of `init`: the DNS service, its credential (tested: the domains it sees), the domain and the
//! record, the family; the config's text at the end.

use super::ask::{Ask, Quit};
use super::{Options, Target, secret_env};
use crate::config::RecordType;
use crate::i18n::tr;
use crate::provider::{ErrorClass, KindInfo, Provider};

/// The steps; the config's text (secrets still literal: `write` moves them to the store).
pub(super) fn steps(
    ask: &mut dyn Ask,
    rt: &tokio::runtime::Runtime,
    target: &Target,
    options: &Options,
) -> Result<String, Quit> {
    ask.say(&tr(
        "init.welcome",
        &[("path", &target.paths.config.display())],
    ));
    ask.say(&tr(
        if target.service {
            "init.secrets_service"
        } else if cfg!(feature = "keyring") {
            "init.secrets_keyring"
        } else {
            "init.secrets_file"
        },
        &[],
    ));
    let info = choose_kind(ask, options)?;
    loop {
        let fields = credential(ask, info, options)?;
        let provider_text = provider_toml(info, &fields);
        let provider = match build(&provider_text) {
            Ok(p) => p,
            Err(problems) => {
                ask.say(&tr("init.credential_invalid", &[("problems", &problems)]));
                if options.non_interactive {
                    return Err(Quit(Some(problems)));
                }
                continue;
            }
        };
        ask.say(&tr("init.testing", &[]));
        let zones = match rt.block_on(provider.zones()) {
            Ok(zones) => zones,
            Err(e) => {
                ask.say(&tr("init.refused", &[("error", &e)]));
                if options.non_interactive || e.class == ErrorClass::Auth {
                    if options.non_interactive {
                        return Err(Quit(Some(e.to_string())));
                    }
                    continue;
                }
                // Not a refusal (the network, the provider's trouble): try again or go on without the list.
                match ask.line(&tr("init.retry_or_type", &[])) {
                    None => return Err(Quit(None)),
                    Some(a) if a.eq_ignore_ascii_case("r") => continue,
                    Some(_) => None,
                }
            }
        };
        let Some(record) = record_name(ask, zones.as_deref(), options)? else {
            continue; // the credential sees no domain: back to it
        };
        let record_types = families(ask, options)?;
        // The provider's own check of the record (read-only); a refusal brings the credential back.
        if let Err(e) = rt.block_on(provider.check(&record, record_types[0])) {
            ask.say(&tr("init.check_failed", &[("error", &e)]));
            if e.class == ErrorClass::Auth {
                if options.non_interactive {
                    return Err(Quit(Some(e.to_string())));
                }
                continue;
            }
            if !options.non_interactive && !yes(ask, "init.save_anyway", false)? {
                continue;
            }
        } else {
            ask.say(&tr("init.check_ok", &[("name", &record)]));
        }
        return Ok(config_text(info, &provider_text, &record, &record_types));
    }
}

/// Step 1: the DNS service, searched by kind or title in either language.
fn choose_kind(ask: &mut dyn Ask, options: &Options) -> Result<&'static KindInfo, Quit> {
    if let Some(kind) = &options.kind {
        return crate::provider::kind_info(kind).ok_or_else(|| {
            Quit(Some(tr(
                "init.unknown_kind",
                &[
                    ("kind", kind),
                    ("kinds", &crate::provider::kind_names().join(", ")),
                ],
            )))
        });
    }
    if options.non_interactive {
        return Err(missing("--provider"));
    }
    ask.say(&tr("init.step_kind", &[]));
    loop {
        let query = ask.line(&tr("init.search", &[])).ok_or(Quit(None))?;
        let query = query.to_lowercase();
        let found: Vec<&'static KindInfo> = crate::provider::kind_names()
            .into_iter()
            .filter_map(crate::provider::kind_info)
            .filter(|info| {
                query.is_empty()
                    || info.kind.contains(&query)
                    || title(info).to_lowercase().contains(&query)
            })
            .collect();
        match found.len() {
            0 => ask.say(&tr("init.none_found", &[("query", &query)])),
            1 => {
                ask.say(&format!("  {}", title(found[0])));
                return Ok(found[0]);
            }
            _ => {
                for (i, info) in found.iter().enumerate() {
                    ask.say(&format!(
                        "  {:>2}) {:<14} {}",
                        i + 1,
                        info.kind,
                        title(info)
                    ));
                }
                if let Some(i) = pick(ask, found.len())? {
                    return Ok(found[i]);
                }
            }
        }
    }
}

/// A number among `1..=count` (Enter: search again).
fn pick(ask: &mut dyn Ask, count: usize) -> Result<Option<usize>, Quit> {
    loop {
        let answer = ask
            .line(&tr("init.number", &[("max", &count)]))
            .ok_or(Quit(None))?;
        if answer.is_empty() {
            return Ok(None);
        }
        match answer.parse::<usize>() {
            Ok(n) if (1..=count).contains(&n) => return Ok(Some(n - 1)),
            _ => ask.say(&tr("init.not_a_choice", &[("answer", &answer)])),
        }
    }
}

fn title(info: &KindInfo) -> String {
    tr(&format!("provider.{}.title", info.kind), &[])
}

/// Step 2: the kind's required fields (secrets without echo); optional ones stay for the window or the file.
fn credential(
    ask: &mut dyn Ask,
    info: &'static KindInfo,
    options: &Options,
) -> Result<Vec<(&'static str, String)>, Quit> {
    let given: Vec<(&str, &str)> = options
        .fields
        .iter()
        .filter_map(|f| f.split_once('='))
        .collect();
    if options.non_interactive {
        return info
            .fields
            .iter()
            .filter(|f| f.required || given.iter().any(|(k, _)| *k == f.name))
            .map(|f| {
                given
                    .iter()
                    .find(|(k, _)| *k == f.name)
                    .map(|(_, v)| (*v).to_owned())
                    .or_else(|| std::env::var(secret_env(f.name)).ok())
                    .filter(|v| !v.is_empty())
                    .map(|v| (f.name, v))
                    .ok_or_else(|| missing(&format!("--set {}=…", f.name)))
            })
            .collect();
    }
    let kind = info.kind;
    ask.say(&tr(
        "init.step_credential",
        &[(
            "credential",
            &tr(&format!("provider.{kind}.credential"), &[]),
        )],
    ));
    if !info.credential_url.is_empty() {
        ask.say(&tr("init.create_at", &[("url", &info.credential_url)]));
    }
    // Optional fields given as flags (an `endpoint`, a `line`) are kept as given.
    let mut out: Vec<(&'static str, String)> = info
        .fields
        .iter()
        .filter(|f| !f.required)
        .filter_map(|f| {
            given
                .iter()
                .find(|(k, _)| *k == f.name)
                .map(|(_, v)| (f.name, (*v).to_owned()))
        })
        .collect();
    for f in info.fields.iter().filter(|f| f.required && !f.boolean) {
        if let Some((_, v)) = given.iter().find(|(k, _)| *k == f.name) {
            out.push((f.name, (*v).to_owned()));
            continue;
        }
        let label = tr(&format!("field.{}", f.name), &[]);
        let help = tr(&format!("provider.{kind}.help.{}", f.name), &[]);
        loop {
            let prompt = format!("  {label} ({help}):");
            let value = if f.secret {
                ask.secret(&prompt)
            } else {
                ask.line(&prompt)
            }
            .ok_or(Quit(None))?;
            if !value.is_empty() {
                out.push((f.name, value));
                break;
            }
            ask.say(&tr("init.required", &[]));
        }
    }
    Ok(out)
}

/// Step 3: the domain, picked among those the credential sees (or typed when the API cannot list them),
/// then the record's name in it. `None`: the credential sees no domain.
fn record_name(
    ask: &mut dyn Ask,
    zones: Option<&[String]>,
    options: &Options,
) -> Result<Option<String>, Quit> {
    if let Some(record) = &options.record {
        let record = crate::provider::canonical(record);
        if let Some(zones) = zones
            && !zones.iter().any(|z| crate::provider::in_zone(&record, z))
        {
            return Err(Quit(Some(tr(
                "init.record_outside",
                &[("name", &record), ("zones", &zones.join(", "))],
            ))));
        }
        return Ok(Some(record));
    }
    if options.non_interactive {
        return Err(missing("--record"));
    }
    let zone = match zones {
        Some([]) => {
            ask.say(&crate::provider::zones_line(&[]));
            return Ok(None);
        }
        Some(zones) => {
            ask.say(&tr("init.step_domain", &[("count", &zones.len())]));
            for (i, z) in zones.iter().enumerate() {
                ask.say(&format!("  {:>2}) {z}", i + 1));
            }
            loop {
                if let Some(i) = pick(ask, zones.len())? {
                    break zones[i].clone();
                }
            }
        }
        None => {
            ask.say(&tr("init.no_list", &[]));
            loop {
                let name = ask.line(&tr("init.full_name", &[])).ok_or(Quit(None))?;
                let name = crate::provider::canonical(&name);
                if name.contains('.') {
                    return Ok(Some(name));
                }
                ask.say(&tr("init.not_a_name", &[("name", &name)]));
            }
        }
    };
    loop {
        let host = ask
            .line(&tr("init.host", &[("zone", &zone)]))
            .ok_or(Quit(None))?;
        let host = crate::provider::canonical(&host);
        let name = if host.is_empty() || host == "@" {
            zone.clone()
        } else if crate::provider::in_zone(&host, &zone) {
            host
        } else {
            format!("{host}.{zone}")
        };
        if name
            .split('.')
            .all(|l| !l.is_empty() && l.len() <= 63 && !l.contains(char::is_whitespace))
        {
            return Ok(Some(name));
        }
        ask.say(&tr("init.not_a_name", &[("name", &name)]));
    }
}

/// Step 4: IPv4, IPv6 or both.
fn families(ask: &mut dyn Ask, options: &Options) -> Result<Vec<RecordType>, Quit> {
    let answer = match (&options.family, options.non_interactive) {
        (Some(f), _) => f.to_lowercase(),
        (None, true) => "a".to_owned(),
        (None, false) => ask.line(&tr("init.family", &[])).ok_or(Quit(None))?,
    };
    Ok(match answer.as_str() {
        "2" | "aaaa" | "ipv6" | "6" => vec![RecordType::Aaaa],
        "3" | "both" => vec![RecordType::A, RecordType::Aaaa],
        "" | "1" | "a" | "ipv4" | "4" => vec![RecordType::A],
        other if options.non_interactive || options.family.is_some() => {
            return Err(Quit(Some(tr("init.bad_family", &[("answer", &other)]))));
        }
        _ => vec![RecordType::A],
    })
}

/// A yes/no question; Enter takes `default`.
fn yes(ask: &mut dyn Ask, key: &str, default: bool) -> Result<bool, Quit> {
    let answer = ask.line(&tr(key, &[])).ok_or(Quit(None))?.to_lowercase();
    Ok(match answer.as_str() {
        "" => default,
        a => a.starts_with('y') || a.starts_with('是') || a == "1",
    })
}

fn missing(flag: &str) -> Quit {
    Quit(Some(tr("init.missing_flag", &[("flag", &flag)])))
}

/// The `[[provider]]` table, named after its kind.
fn provider_toml(info: &KindInfo, fields: &[(&'static str, String)]) -> String {
    let mut table = toml::Table::new();
    table.insert("name".into(), info.kind.into());
    table.insert("kind".into(), info.kind.into());
    for (name, value) in fields {
        table.insert((*name).into(), value.clone().into());
    }
    let mut doc = toml::Table::new();
    doc.insert(
        "provider".into(),
        toml::Value::Array(vec![toml::Value::Table(table)]),
    );
    toml::to_string(&doc).unwrap_or_default()
}

/// The provider alone, built as the engine would build it.
fn build(provider_text: &str) -> Result<std::sync::Arc<dyn Provider>, String> {
    let (_, settings) =
        crate::settings::load_str(provider_text, &crate::config::secret::SystemLookup).map_err(
            |issues| {
                issues
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("\n")
            },
        )?;
    settings
        .providers
        .first()
        .map(crate::provider::build)
        .ok_or_else(|| "no provider".to_owned())
}

/// The whole config: the provider and one record per family.
fn config_text(info: &KindInfo, provider_text: &str, record: &str, types: &[RecordType]) -> String {
    // IPv6 detection is off unless asked for.
    let mut text = if types.contains(&RecordType::Aaaa) {
        format!("ipv6 = true\n\n{provider_text}")
    } else {
        provider_text.to_owned()
    };
    for t in types {
        let _ = std::fmt::Write::write_fmt(
            &mut text,
            format_args!(
                "\n[[record]]\nname = {}\nprovider = {}\ntype = \"{t}\"\n",
                toml::Value::from(record),
                toml::Value::from(info.kind)
            ),
        );
    }
    text
}
