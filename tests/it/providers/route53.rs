//! AWS Route 53 against a loopback fake written from the REST-XML API reference (docs/providers/route53.md):
//! `ListHostedZonesByName` and `ListResourceRecordSets` start at a name (in reversed-label order) and page,
//! `ChangeResourceRecordSets` takes one XML document and answers a `PENDING` change info. The fake checks
//! every request's `SigV4` signature by recomputing it from the received request with ring, following the
//! documented steps (not the implementation's code), and keeps hand-made record sets that must survive.

#![allow(clippy::format_collect)] // the fake builds its XML from format! pieces

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use ring::{digest, hmac};

use super::*;

const AKID: &str = "AKIDEXAMPLE";
const SECRET: &str = "r53-s3cret-key/K7MDENG+bPxRfiCYEXAMPLEKEY";
const TOKEN: &str = "r53-s3cret-session-token";
const XMLNS: &str = "https://route53.amazonaws.com/doc/2013-04-01/";

fn cfg(endpoint: &str) -> String {
    format!(
        "kind = \"route53\"\naccess_key_id = \"{AKID}\"\nsecret_access_key = \"{SECRET}\"\nendpoint = \"{endpoint}\""
    )
}

/// One record set in the fake's zone.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Set {
    name: String,
    rtype: String,
    set_id: Option<String>,
    alias: bool,
    ttl: u32,
    values: Vec<String>,
}

fn set(name: &str, rtype: &str, ttl: u32, values: &[&str]) -> Set {
    Set {
        name: name.into(),
        rtype: rtype.into(),
        set_id: None,
        alias: false,
        ttl,
        values: values.iter().map(|v| (*v).to_owned()).collect(),
    }
}

/// Route 53's listing order: the name with its labels reversed, then the type, then the set identifier.
fn order(name: &str, rtype: &str, set_id: Option<&str>) -> (String, String, String) {
    let reversed: Vec<&str> = name.trim_end_matches('.').split('.').rev().collect();
    (
        reversed.join("."),
        rtype.to_owned(),
        set_id.unwrap_or("").to_owned(),
    )
}

/// The hand-made sets every test starts with, besides the ones under test.
fn hand_made() -> Vec<Set> {
    let mut weighted_a = set("weighted.example.com.", "A", 60, &["192.0.2.1"]);
    weighted_a.set_id = Some("a".into());
    let mut weighted_b = set("weighted.example.com.", "A", 60, &["192.0.2.2"]);
    weighted_b.set_id = Some("b".into());
    let mut alias = set("alias.example.com.", "A", 0, &[]);
    alias.alias = true;
    vec![
        set("example.com.", "NS", 172_800, &["ns-1.awsdns-00.com."]),
        set("home.example.com.", "AAAA", 300, &["2001:db8::7"]),
        set("home.example.com.", "TXT", 300, &["\"hand made\""]),
        set("www.example.com.", "A", 300, &["192.0.2.80"]),
        set("\\052.example.com.", "A", 300, &["192.0.2.99"]),
        weighted_a,
        weighted_b,
        alias,
    ]
}

// ---- an independent SigV4 check, written from the documented steps ----

fn sha256_hex(data: &[u8]) -> String {
    hex(digest::digest(&digest::SHA256, data).as_ref())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hmac256(key: &[u8], data: &str) -> Vec<u8> {
    hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data.as_bytes())
        .as_ref()
        .to_vec()
}

/// RFC 3986: unreserved characters stay, everything else `%XX` in upper case.
fn uri_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Recomputes the request's signature as a server would; `Err` says what is wrong.
fn verify_sigv4(r: &Request, token: Option<&str>) -> Result<(), String> {
    let auth = r
        .headers
        .get("authorization")
        .ok_or("no Authorization header")?;
    let amz_date = r.headers.get("x-amz-date").ok_or("no X-Amz-Date header")?;
    let date = &amz_date[..8];
    let rest = auth
        .strip_prefix(&format!(
            "AWS4-HMAC-SHA256 Credential={AKID}/{date}/us-east-1/route53/aws4_request, SignedHeaders="
        ))
        .ok_or_else(|| format!("credential scope: {auth}"))?;
    let (signed, signature) = rest.split_once(", Signature=").ok_or("no Signature=")?;
    let mut want_signed = vec!["host", "x-amz-date"];
    if !r.body.is_empty() {
        want_signed.insert(0, "content-type");
    }
    if token.is_some() {
        want_signed.push("x-amz-security-token");
    }
    if signed != want_signed.join(";") {
        return Err(format!("SignedHeaders={signed}"));
    }
    if r.headers.get("x-amz-security-token").map(String::as_str) != token {
        return Err("session token header".into());
    }
    // X-Amz-Date within 5 minutes of the fake's clock.
    let sent = humantime::parse_rfc3339(&format!(
        "{}-{}-{}T{}:{}:{}Z",
        &amz_date[..4],
        &amz_date[4..6],
        &amz_date[6..8],
        &amz_date[9..11],
        &amz_date[11..13],
        &amz_date[13..15]
    ))
    .map_err(|e| e.to_string())?;
    let skew = std::time::SystemTime::now()
        .duration_since(sent)
        .unwrap_or_else(|e| e.duration());
    if skew.as_secs() > 300 {
        return Err("X-Amz-Date is more than 5 minutes off".into());
    }
    // 1. canonical query: decoded pairs re-encoded, sorted by name then value.
    let mut pairs: Vec<(String, String)> = r
        .query()
        .iter()
        .map(|(k, v)| (uri_encode(k), uri_encode(v)))
        .collect();
    pairs.sort();
    let query: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    // 2. canonical headers, in SignedHeaders order (already sorted), values trimmed.
    let headers: String = signed
        .split(';')
        .map(|h| format!("{h}:{}\n", r.headers.get(h).map_or("", |v| v.trim())))
        .collect();
    let canonical = format!(
        "{}\n{}\n{}\n{headers}\n{signed}\n{}",
        r.method,
        r.path(),
        query.join("&"),
        sha256_hex(r.body.as_bytes())
    );
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{date}/us-east-1/route53/aws4_request\n{}",
        sha256_hex(canonical.as_bytes())
    );
    let k_date = hmac256(format!("AWS4{SECRET}").as_bytes(), date);
    let k_region = hmac256(&k_date, "us-east-1");
    let k_service = hmac256(&k_region, "route53");
    let k_signing = hmac256(&k_service, "aws4_request");
    let expected = hex(&hmac256(&k_signing, &to_sign));
    if expected == signature {
        Ok(())
    } else {
        Err(format!(
            "signature {signature} != {expected} for\n{canonical}"
        ))
    }
}

// ---- the fake ----

struct Zone53 {
    sets: Vec<Set>,
    changes: usize,
}

fn error(status: u16, code: &str, message: &str) -> Reply {
    Reply::status(
        status,
        format!(
            "<?xml version=\"1.0\"?><ErrorResponse xmlns=\"{XMLNS}\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>ffffffff-ffff-ffff-ffff-ffffffffffff</RequestId></ErrorResponse>"
        ),
    )
}

fn set_xml(s: &Set) -> String {
    let mut out = format!(
        "<ResourceRecordSet><Name>{}</Name><Type>{}</Type>",
        s.name, s.rtype
    );
    if let Some(id) = &s.set_id {
        out += &format!("<SetIdentifier>{id}</SetIdentifier><Weight>10</Weight>");
    }
    if s.alias {
        out += "<AliasTarget><HostedZoneId>Z2FDTNDATAQYW2</HostedZoneId><DNSName>d111111abcdef8.cloudfront.net.</DNSName><EvaluateTargetHealth>false</EvaluateTargetHealth></AliasTarget>";
    } else {
        out += &format!("<TTL>{}</TTL><ResourceRecords>", s.ttl);
        for v in &s.values {
            out += &format!("<ResourceRecord><Value>{v}</Value></ResourceRecord>");
        }
        out += "</ResourceRecords>";
    }
    out + "</ResourceRecordSet>"
}

/// The text of every `<tag>` element in `xml`.
fn all(xml: &str, tag: &str) -> Vec<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    xml.split(&open)
        .skip(1)
        .filter_map(|p| p.split_once(&close).map(|(v, _)| v.to_owned()))
        .collect()
}

/// The public hosted zones (and a private one of the same name), for `ListHostedZonesByName`.
const ZONES: [(&str, &str, bool); 4] = [
    ("Z0PRIVATE", "example.com.", true),
    ("Z148QEXAMPLE8V", "example.com.", false),
    ("Z2OTHER", "example.net.", false),
    ("Z3SUB", "sub.example.org.", false),
];

/// Serves the three documented calls (and `GetChange`); `zone_id` is the zone holding `sets`. Page size 1, so
/// every listing with more than one set pages (the API returns "up to" `maxitems`).
#[allow(clippy::too_many_lines)] // one fake / one scenario, read top to bottom
fn fake(
    state: Arc<Mutex<Zone53>>,
    token: Option<&'static str>,
) -> impl Fn(&Request) -> Reply + Send + Sync + 'static {
    move |r: &Request| {
        if let Err(e) = verify_sigv4(r, token) {
            return error(403, "SignatureDoesNotMatch", &e.replace('<', "&lt;"));
        }
        let q = r.query();
        match (r.method.as_str(), r.path()) {
            // Every hosted zone, two a page whatever `maxitems` asks, `NextMarker` = the next zone's id.
            ("GET", "/2013-04-01/hostedzone") => {
                assert_eq!(q["maxitems"], "100");
                let from = q
                    .get("marker")
                    .map_or(0, |m| ZONES.iter().position(|(id, _, _)| id == m).unwrap());
                let items: String = ZONES
                    .iter()
                    .skip(from)
                    .take(2)
                    .map(|(id, name, private)| format!("<HostedZone><Id>/hostedzone/{id}</Id><Name>{name}</Name><CallerReference>ref-{id}</CallerReference><Config><PrivateZone>{private}</PrivateZone></Config><ResourceRecordSetCount>7</ResourceRecordSetCount></HostedZone>"))
                    .collect();
                let more = ZONES.get(from + 2).map_or(String::new(), |(id, _, _)| {
                    format!("<NextMarker>{id}</NextMarker>")
                });
                Reply::ok(format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListHostedZonesResponse xmlns=\"{XMLNS}\"><HostedZones>{items}</HostedZones><IsTruncated>{}</IsTruncated>{more}<MaxItems>100</MaxItems></ListHostedZonesResponse>",
                    !more.is_empty()
                ))
            }
            ("GET", "/2013-04-01/hostedzonesbyname") => {
                assert_eq!(q.len(), 2, "{q:?}");
                assert_eq!(q["maxitems"], "5");
                let start = order(&q["dnsname"], "", None).0;
                let mut zones: Vec<_> = ZONES
                    .iter()
                    .filter(|(_, n, _)| order(n, "", None).0 >= start)
                    .collect();
                zones.sort_by_key(|(_, n, _)| order(n, "", None));
                let items: String = zones
                    .iter()
                    .take(5)
                    .map(|(id, name, private)| format!("<HostedZone><Id>/hostedzone/{id}</Id><Name>{name}</Name><CallerReference>ref-{id}</CallerReference><Config><PrivateZone>{private}</PrivateZone></Config><ResourceRecordSetCount>7</ResourceRecordSetCount></HostedZone>"))
                    .collect();
                Reply::ok(format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListHostedZonesByNameResponse xmlns=\"{XMLNS}\"><HostedZones>{items}</HostedZones><DNSName>{}</DNSName><IsTruncated>false</IsTruncated><MaxItems>5</MaxItems></ListHostedZonesByNameResponse>",
                    q["dnsname"]
                ))
            }
            ("GET", "/2013-04-01/hostedzone/Z148QEXAMPLE8V/rrset") => {
                assert_eq!(q["maxitems"], "100");
                assert!(q["name"].ends_with('.'), "{q:?}");
                let Some(rtype) = q.get("type") else {
                    return error(400, "InvalidInput", "type without name");
                };
                let start = order(&q["name"], rtype, q.get("identifier").map(String::as_str));
                let zone = state.lock().unwrap();
                let mut sets: Vec<&Set> = zone
                    .sets
                    .iter()
                    .filter(|s| order(&s.name, &s.rtype, s.set_id.as_deref()) >= start)
                    .collect();
                sets.sort_by_key(|s| order(&s.name, &s.rtype, s.set_id.as_deref()));
                let page: String = sets.iter().take(1).map(|s| set_xml(s)).collect();
                let next = sets.get(1).map_or_else(
                    || "<IsTruncated>false</IsTruncated>".to_owned(),
                    |n| {
                        format!(
                            "<IsTruncated>true</IsTruncated><NextRecordName>{}</NextRecordName><NextRecordType>{}</NextRecordType>{}",
                            n.name,
                            n.rtype,
                            n.set_id.as_ref().map_or(String::new(), |i| format!("<NextRecordIdentifier>{i}</NextRecordIdentifier>"))
                        )
                    },
                );
                Reply::ok(format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListResourceRecordSetsResponse xmlns=\"{XMLNS}\"><ResourceRecordSets>{page}</ResourceRecordSets>{next}<MaxItems>1</MaxItems></ListResourceRecordSetsResponse>"
                ))
            }
            ("POST", "/2013-04-01/hostedzone/Z148QEXAMPLE8V/rrset") => {
                assert_eq!(r.headers["content-type"], "application/xml");
                assert!(r.target.split_once('?').is_none());
                let body = &r.body;
                assert!(
                    body.starts_with(&format!("<ChangeResourceRecordSetsRequest xmlns=\"{XMLNS}\"><ChangeBatch><Changes><Change><Action>")),
                    "{body}"
                );
                let (action, name, rtype, ttl) = (
                    all(body, "Action").concat(),
                    all(body, "Name").concat(),
                    all(body, "Type").concat(),
                    all(body, "TTL").concat().parse::<u32>().unwrap(),
                );
                let values = all(body, "Value");
                let mut zone = state.lock().unwrap();
                let fqdn = format!("{}.", name.trim_end_matches('.'));
                let at = zone
                    .sets
                    .iter()
                    .position(|s| s.name == fqdn && s.rtype == rtype && s.set_id.is_none());
                match (action.as_str(), at) {
                    ("UPSERT", Some(i)) => {
                        zone.sets[i].ttl = ttl;
                        zone.sets[i].values = values;
                    }
                    ("UPSERT", None) => zone.sets.push(Set {
                        name: fqdn,
                        rtype,
                        set_id: None,
                        alias: false,
                        ttl,
                        values,
                    }),
                    ("DELETE", Some(i))
                        if zone.sets[i].ttl == ttl && zone.sets[i].values == values =>
                    {
                        zone.sets.remove(i);
                    }
                    _ => {
                        return Reply::status(
                            400,
                            format!(
                                "<?xml version=\"1.0\"?><InvalidChangeBatch xmlns=\"{XMLNS}\"><Messages><Message>Tried to {action} resource record set [name='{fqdn}', type='{rtype}'] but the values provided do not match the current values</Message></Messages><RequestId>ffff</RequestId></InvalidChangeBatch>"
                            ),
                        );
                    }
                }
                zone.changes += 1;
                Reply::ok(format!(
                    "<?xml version=\"1.0\"?><ChangeResourceRecordSetsResponse xmlns=\"{XMLNS}\"><ChangeInfo><Id>/change/C2682N5HXP0BZ{}</Id><Status>PENDING</Status><SubmittedAt>2026-12-04T15:00:00.000Z</SubmittedAt></ChangeInfo></ChangeResourceRecordSetsResponse>",
                    zone.changes
                ))
            }
            ("GET", p) if p.starts_with("/2013-04-01/change/") => Reply::ok(format!(
                "<?xml version=\"1.0\"?><GetChangeResponse xmlns=\"{XMLNS}\"><ChangeInfo><Id>/change/{}</Id><Status>INSYNC</Status><SubmittedAt>2026-12-04T15:00:00.000Z</SubmittedAt></ChangeInfo></GetChangeResponse>",
                p.rsplit('/').next().unwrap()
            )),
            (_, p) if p.starts_with("/2013-04-01/hostedzone/") => {
                error(404, "NoSuchHostedZone", "No hosted zone found with ID")
            }
            _ => error(404, "InvalidInput", "unknown path"),
        }
    }
}

async fn start(sets: Vec<Set>, token: Option<&'static str>) -> (FakeHttp, Arc<Mutex<Zone53>>) {
    let mut all_sets = hand_made();
    all_sets.extend(sets);
    let state = Arc::new(Mutex::new(Zone53 {
        sets: all_sets,
        changes: 0,
    }));
    (FakeHttp::start(fake(state.clone(), token)).await, state)
}

fn upsert(name: &str, rtype: &str, ttl: u32, values: &[&str]) -> String {
    let records: String = values
        .iter()
        .map(|v| format!("<ResourceRecord><Value>{v}</Value></ResourceRecord>"))
        .collect();
    format!(
        "<ChangeResourceRecordSetsRequest xmlns=\"{XMLNS}\"><ChangeBatch><Changes><Change><Action>UPSERT</Action><ResourceRecordSet><Name>{name}</Name><Type>{rtype}</Type><TTL>{ttl}</TTL><ResourceRecords>{records}</ResourceRecords></ResourceRecordSet></Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>"
    )
}

/// The sets other than the one at `name`/`rtype`: what must survive unchanged.
fn others(state: &Arc<Mutex<Zone53>>, name: &str, rtype: &str) -> Vec<Set> {
    let mut sets: Vec<Set> = state
        .lock()
        .unwrap()
        .sets
        .iter()
        .filter(|s| !(s.name == name && s.rtype == rtype && s.set_id.is_none()))
        .cloned()
        .collect();
    sets.sort_by_key(|s| order(&s.name, &s.rtype, s.set_id.as_deref()));
    sets
}

fn sorted(mut sets: Vec<Set>) -> Vec<Set> {
    sets.sort_by_key(|s| order(&s.name, &s.rtype, s.set_id.as_deref()));
    sets
}

#[allow(clippy::too_many_lines)] // one fake / one scenario, read top to bottom
#[tokio::test]
async fn create_update_unchanged_signed_and_hand_made_sets_kept() {
    // Create: the zone is found by name (the private zone of the same name is skipped), the listing starts at
    // home.example.com. A and finds AAAA there (a hand-made set), so the A set is created with the default TTL.
    let (f, state) = start(vec![], None).await;
    let p = build(&cfg(&f.url("")));
    let out = update(&p, "home.example.com", RecordType::A, "198.51.100.7", None)
        .await
        .unwrap();
    assert_eq!(out, UpdateOutcome::Updated { record_id: None });
    let reqs = f.requests();
    let lookups: Vec<String> = reqs
        .iter()
        .filter(|r| r.path() == "/2013-04-01/hostedzonesbyname")
        .map(|r| r.query()["dnsname"].clone())
        .collect();
    assert_eq!(lookups, ["home.example.com", "example.com"]);
    let list = reqs
        .iter()
        .find(|r| r.path().ends_with("/rrset") && r.method == "GET")
        .unwrap();
    assert_eq!(
        list.query(),
        BTreeMap::from([
            ("maxitems".to_owned(), "100".to_owned()),
            ("name".to_owned(), "home.example.com.".to_owned()),
            ("type".to_owned(), "A".to_owned()),
        ])
    );
    let w = writes(&f);
    assert_eq!(w.len(), 1);
    assert_eq!(
        w[0].body,
        upsert("home.example.com", "A", 300, &["198.51.100.7"])
    );
    assert_eq!(
        others(&state, "home.example.com.", "A"),
        sorted(hand_made())
    );

    // Update: the set's TTL is kept, its values replaced; nothing else changes.
    let (f, state) = start(
        vec![set(
            "home.example.com.",
            "A",
            600,
            &["198.51.100.6", "198.51.100.5"],
        )],
        None,
    )
    .await;
    let p = build(&cfg(&f.url("")));
    update(&p, "home.example.com", RecordType::A, "198.51.100.7", None)
        .await
        .unwrap();
    let w = writes(&f);
    assert_eq!(w.len(), 1);
    assert_eq!(
        w[0].body,
        upsert("home.example.com", "A", 600, &["198.51.100.7"])
    );
    assert_eq!(
        others(&state, "home.example.com.", "A"),
        sorted(hand_made())
    );

    // Unchanged (the value written with leading zeros): no write, whatever the round.
    let (f, _) = start(vec![], None).await;
    let p = build(&cfg(&f.url("")));
    assert_eq!(
        update(
            &p,
            "home.example.com",
            RecordType::Aaaa,
            "2001:0db8::7",
            None
        )
        .await
        .unwrap(),
        UpdateOutcome::Unchanged { record_id: None }
    );
    assert!(writes(&f).is_empty());

    // A record's own TTL is written; two addresses make one set of two values.
    let (f, state) = start(vec![], None).await;
    let p = build(&cfg(&f.url("")));
    let addrs: Vec<IpAddr> = ["198.51.100.9", "198.51.100.8"]
        .iter()
        .map(|a| a.parse().unwrap())
        .collect();
    p.update(&UpdateRequest {
        name: "nas.example.com",
        record_type: RecordType::A,
        addrs: &addrs,
        ttl: Some(60),
        line: None,
        record_id: None,
        previous: None,
    })
    .await
    .unwrap();
    let w = writes(&f);
    assert_eq!(
        w[0].body,
        upsert(
            "nas.example.com",
            "A",
            60,
            &["198.51.100.8", "198.51.100.9"]
        )
    );
    assert_eq!(others(&state, "nas.example.com.", "A"), sorted(hand_made()));
}

#[tokio::test]
async fn zone_id_and_session_token() {
    let (f, state) = start(vec![], Some(TOKEN)).await;
    let p = build(&format!(
        "{}\nsession_token = \"{TOKEN}\"\nzone_id = \"/hostedzone/Z148QEXAMPLE8V\"",
        cfg(&f.url(""))
    ));
    update(&p, "home.example.com", RecordType::A, "198.51.100.7", None)
        .await
        .unwrap();
    let reqs = f.requests();
    assert!(
        reqs.iter()
            .all(|r| r.path() != "/2013-04-01/hostedzonesbyname"),
        "a configured zone id needs no lookup"
    );
    assert!(
        reqs.iter()
            .all(|r| r.headers["x-amz-security-token"] == TOKEN)
    );
    assert_eq!(state.lock().unwrap().changes, 1);

    // The same fake refuses a request signed without the token (the check really checks).
    let p = build(&format!(
        "{}\nzone_id = \"Z148QEXAMPLE8V\"",
        cfg(&f.url(""))
    ));
    let err = update(&p, "home.example.com", RecordType::A, "198.51.100.8", None)
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::Auth, "{err:?}");
}

#[tokio::test]
async fn alias_and_routing_policy_sets_are_refused_after_paging() {
    let (f, state) = start(vec![], None).await;
    let p = build(&cfg(&f.url("")));
    // Two weighted sets: the first page holds set `a` and points at set `b` with NextRecordIdentifier.
    let err = update(
        &p,
        "weighted.example.com",
        RecordType::A,
        "198.51.100.7",
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(err.class, ErrorClass::Rejected, "{err:?}");
    let pages: Vec<BTreeMap<String, String>> = f
        .requests()
        .iter()
        .filter(|r| r.path().ends_with("/rrset"))
        .map(Request::query)
        .collect();
    assert_eq!(pages.len(), 2, "{pages:?}");
    assert_eq!(pages[1]["identifier"], "b");
    assert_eq!(pages[1]["name"], "weighted.example.com.");
    let err = update(&p, "alias.example.com", RecordType::A, "198.51.100.7", None)
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::Rejected, "{err:?}");
    assert!(writes(&f).is_empty());
    assert_eq!(others(&state, "", ""), sorted(hand_made()));

    // The wildcard comes back as `\052`: compared unescaped, it is the `*` set, and unchanged.
    assert_eq!(
        update(&p, "*.example.com", RecordType::A, "192.0.2.99", None)
            .await
            .unwrap(),
        UpdateOutcome::Unchanged { record_id: None }
    );
}

#[tokio::test]
async fn no_zone_and_unknown_zone_id() {
    let (f, _) = start(vec![], None).await;
    let p = build(&cfg(&f.url("")));
    let err = update(&p, "home.example.org", RecordType::A, "198.51.100.7", None)
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::Rejected, "{err:?}");
    let p = build(&format!("{}\nzone_id = \"ZNOPE\"", cfg(&f.url(""))));
    let err = update(&p, "home.example.com", RecordType::A, "198.51.100.7", None)
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::Rejected, "{err:?}");
    assert!(err.message.contains("NoSuchHostedZone"), "{err:?}");
}

#[allow(clippy::too_many_lines)] // one fake / one scenario, read top to bottom
#[tokio::test]
async fn failures() {
    common_failures(
        cfg,
        error(
            403,
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
        ),
        "home.example.com",
    )
    .await;
    let cases: Vec<(Reply, ErrorClass)> = vec![
        (
            error(400, "Throttling", "Rate exceeded").with_header("Retry-After", "7"),
            ErrorClass::RateLimited {
                retry_after: Some(7),
            },
        ),
        (
            error(400, "ThrottlingException", "Rate exceeded"),
            ErrorClass::RateLimited { retry_after: None },
        ),
        (
            error(
                400,
                "PriorRequestNotComplete",
                "The request was rejected because Route 53 was still processing a prior request.",
            ),
            ErrorClass::Transient,
        ),
        (
            error(
                403,
                "AccessDenied",
                "User: arn:aws:iam::123456789012:user/ddns is not authorized to perform: route53:ListHostedZonesByName",
            ),
            ErrorClass::Auth,
        ),
        (
            error(
                403,
                "SignatureDoesNotMatch",
                "Signature expired: 20240518T140400Z is now earlier than 20240518T141400Z",
            ),
            ErrorClass::Auth,
        ),
        (
            Reply::status(
                400,
                format!(
                    "<?xml version=\"1.0\"?><InvalidChangeBatch xmlns=\"{XMLNS}\"><Messages><Message>RRSet of type CNAME with DNS name home.example.com. is not permitted</Message></Messages><RequestId>r</RequestId></InvalidChangeBatch>"
                ),
            ),
            ErrorClass::Rejected,
        ),
        (
            error(400, "InvalidInput", "Invalid request"),
            ErrorClass::Rejected,
        ),
    ];
    for (reply, class) in cases {
        let f = FakeHttp::start(move |_| reply.clone()).await;
        let err = update(
            &build(&cfg(&f.url(""))),
            "home.example.com",
            RecordType::A,
            "198.51.100.1",
            None,
        )
        .await
        .unwrap_err();
        assert_eq!(err.class, class, "{err:?}");
        assert!(!err.message.contains("s3cret"), "{err:?}");
        if err.message.contains("expired") {
            assert!(err.message.contains("clock"), "{err:?}");
        }
    }

    // A write whose answer is not a change info could not be confirmed.
    let (f, _) = start(vec![], None).await;
    let inner = fake(
        Arc::new(Mutex::new(Zone53 {
            sets: hand_made(),
            changes: 0,
        })),
        None,
    );
    f.set(move |r| {
        if r.method == "POST" {
            Reply::ok("<html>proxy</html>")
        } else {
            inner(r)
        }
    });
    let err = update(
        &build(&cfg(&f.url(""))),
        "home.example.com",
        RecordType::A,
        "198.51.100.1",
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(err.class, ErrorClass::Unconfirmed, "{err:?}");
}

/// "Test" names the public hosted zones the credential sees (`ListHostedZones`, both pages by `NextMarker`,
/// each request SigV4-signed as the fake recomputes it; the private zone left out), beside the check; a name
/// in no public zone fails with the zones still shown.
#[tokio::test]
async fn test_lists_the_domains_the_credential_sees() {
    let (f, _) = start(
        vec![set("home.example.com.", "A", 300, &["198.51.100.7"])],
        None,
    )
    .await;
    let p = build(&cfg(&f.url("")));
    let said = ddns_tray::provider::test(p.as_ref(), "home.example.com", RecordType::A)
        .await
        .unwrap();
    let (check, zones) = said.split_once('\n').unwrap();
    assert_eq!(
        check,
        "credentials accepted; zone example.com; home.example.com A holds 198.51.100.7"
    );
    assert_eq!(
        zones,
        "domains this credential can see (3): example.com, example.net, sub.example.org"
    );
    let lists: Vec<String> = f
        .requests()
        .iter()
        .filter(|r| r.path() == "/2013-04-01/hostedzone")
        .map(|r| format!("{} {}", r.method, r.target))
        .collect();
    assert_eq!(
        lists,
        [
            "GET /2013-04-01/hostedzone?maxitems=100",
            "GET /2013-04-01/hostedzone?maxitems=100&marker=Z2OTHER"
        ]
    );

    let err = ddns_tray::provider::test(p.as_ref(), "home.example.org", RecordType::A)
        .await
        .unwrap_err();
    assert!(
        err.contains("no public hosted zone of this account holds home.example.org"),
        "{err}"
    );
    assert!(
        err.ends_with(
            "\ndomains this credential can see (3): example.com, example.net, sub.example.org"
        ),
        "{err}"
    );
}
