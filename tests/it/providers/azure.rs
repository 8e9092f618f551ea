//! Azure DNS against two loopback fakes written from docs/providers/azure.md: Microsoft Entra ID's v2.0 token
//! endpoint (client-credentials form, `AADSTS` errors) and Azure Resource Manager's record sets at
//! `/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/dnsZones/{zone}/{type}/{relative}`
//! (`?api-version=2018-05-01`; `GET` 404 with the DNS provider's flat `NotFound` when absent, `PUT` with
//! `If-Match` / `If-None-Match: *` answering 412 on a mismatch, `DELETE`), zone listings paged by `nextLink`,
//! errors as `{"error":{"code","message"}}`. Bodies follow the spec's examples (GetARecordset.json,
//! CreateOrUpdateARecordsetAlias.json, ListZonesByResourceGroup.json).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::*;

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT: &str = "2b1e5f3c-0a4d-4c8e-9f6b-7d2a1c3e5b90";
/// Holds `~ . _ -` (kept) and `+ / =` (percent-encoded in the form).
const SECRET: &str = "s3cret~Q8.a_b-c+d/e=f";
/// The secret as the form must carry it, encoded by hand.
const SECRET_FORM: &str = "s3cret~Q8.a_b-c%2Bd%2Fe%3Df";
const SUB: &str = "8d3c2a1b-4e5f-4a6b-9c7d-0e1f2a3b4c5d";
const RG: &str = "dns-rg";
const API: &str = "api-version=2018-05-01";

fn zones_path(rg: &str) -> String {
    format!("/subscriptions/{SUB}/resourceGroups/{rg}/providers/Microsoft.Network/dnsZones")
}

fn set_path(rg: &str, zone: &str, rtype: &str, rel: &str) -> String {
    format!("{}/{zone}/{rtype}/{rel}", zones_path(rg))
}

struct State {
    /// `{rg}/{zone}/{type}/{relative}` -> the record set as ARM returns it.
    sets: BTreeMap<String, Value>,
    /// The zones: (resource group, name, zone type).
    zones: Vec<(&'static str, &'static str, &'static str)>,
    /// Tokens issued; only the last one is accepted.
    issued: Vec<String>,
    /// The `expires_in` the token endpoint answers.
    expires_in: Value,
    etags: u32,
}

impl State {
    fn token(&self) -> Option<&String> {
        self.issued.last()
    }
}

type Shared = Arc<Mutex<State>>;

fn arm_error(status: u16, code: &str, message: &str) -> Reply {
    Reply::status(
        status,
        json!({ "error": { "code": code, "message": message } }).to_string(),
    )
}

/// Entra ID: the exact client-credentials form for the fake ARM's scope.
fn login(
    state: Shared,
    arm_port: Arc<Mutex<u16>>,
) -> impl Fn(&Request) -> Reply + Send + Sync + 'static {
    move |r| {
        assert_eq!(r.method, "POST");
        assert_eq!(r.target, format!("/{TENANT}/oauth2/v2.0/token"));
        assert_eq!(
            r.headers["content-type"],
            "application/x-www-form-urlencoded"
        );
        assert!(!r.headers.contains_key("authorization"));
        let port = *arm_port.lock().unwrap();
        assert_eq!(
            r.body,
            format!(
                "grant_type=client_credentials&client_id={CLIENT}&client_secret={SECRET_FORM}&scope=http%3A%2F%2F127.0.0.1%3A{port}%2F.default"
            )
        );
        assert_eq!(r.form()["client_secret"], SECRET);
        let mut st = state.lock().unwrap();
        let token = format!("eyJ0eXAiOiJKV1Qi.tok{}.s3cret", st.issued.len() + 1);
        st.issued.push(token.clone());
        json_reply(&json!({
            "token_type": "Bearer", "expires_in": st.expires_in, "ext_expires_in": st.expires_in,
            "access_token": token,
        }))
    }
}

fn zone_entry(rg: &str, name: &str, zone_type: &str) -> Value {
    json!({
        "id": format!("/subscriptions/{SUB}/resourceGroups/{rg}/providers/Microsoft.Network/dnsZones/{name}"),
        "etag": "00000000-0000-0000-0000-000000000000", "location": "global", "name": name,
        "type": "Microsoft.Network/dnsZones",
        "properties": { "maxNumberOfRecordSets": 10000, "numberOfRecordSets": 4, "zoneType": zone_type,
                        "nameServers": ["ns1-01.azure-dns.com.", "ns2-01.azure-dns.net."] },
    })
}

/// Azure Resource Manager.
#[allow(clippy::too_many_lines)] // one fake, read top to bottom
fn arm(state: Shared, port: Arc<Mutex<u16>>) -> impl Fn(&Request) -> Reply + Send + Sync + 'static {
    move |r| {
        let mut st = state.lock().unwrap();
        let bearer = r.headers.get("authorization").cloned().unwrap_or_default();
        if st.token().is_none_or(|t| bearer != format!("Bearer {t}")) {
            return arm_error(
                401,
                "ExpiredAuthenticationToken",
                "The access token expiry UTC time '3/19/2023 8:55:46 AM' is earlier than current UTC time '3/19/2023 8:55:57 AM'.",
            );
        }
        let base = format!("http://127.0.0.1:{}", port.lock().unwrap());
        let q = r.query();
        assert_eq!(q["api-version"], "2018-05-01", "{}", r.target);
        let path = r.path().to_owned();
        // Zone listings: by resource group (two pages) or by subscription.
        if r.method == "GET" && (path.ends_with("/dnsZones") || path.ends_with("/dnszones")) {
            let all = path == format!("/subscriptions/{SUB}/providers/Microsoft.Network/dnszones");
            let rg = path
                .strip_prefix(&format!("/subscriptions/{SUB}/resourceGroups/"))
                .and_then(|p| p.strip_suffix("/providers/Microsoft.Network/dnsZones"));
            if !all && rg.is_none() {
                return Reply::status(404, "{}");
            }
            let zones: Vec<Value> = st
                .zones
                .iter()
                .filter(|(g, _, _)| all || rg == Some(*g))
                .map(|(g, n, t)| zone_entry(g, n, t))
                .collect();
            let (first, second) = zones.split_at(zones.len().min(1));
            return match q.get("$skipToken").map(String::as_str) {
                None if !second.is_empty() => json_reply(&json!({
                    "value": first,
                    "nextLink": format!("{base}{path}?{API}&$skipToken=p2"),
                })),
                None => json_reply(&json!({ "value": first })),
                Some("p2") => json_reply(&json!({ "value": second })),
                Some(_) => arm_error(400, "BadRequest", "bad skip token"),
            };
        }
        // Record sets.
        let Some(rest) = path.strip_prefix(&format!("/subscriptions/{SUB}/resourceGroups/")) else {
            return Reply::status(404, "{}");
        };
        let parts: Vec<&str> = rest.split('/').collect();
        let [
            rg,
            "providers",
            "Microsoft.Network",
            "dnsZones",
            zone,
            rtype,
            rel,
        ] = parts[..]
        else {
            return Reply::status(404, "{}");
        };
        if !st.zones.iter().any(|(g, n, _)| *g == rg && *n == zone) {
            return arm_error(
                404,
                "ParentResourceNotFound",
                &format!(
                    "Can not perform requested operation on nested resource. Parent resource '{zone}' not found."
                ),
            );
        }
        let key = format!("{rg}/{zone}/{rtype}/{rel}");
        let current = st.sets.get(&key).cloned();
        match r.method.as_str() {
            "GET" => current.map_or_else(
                || Reply::status(404, json!({ "code": "NotFound", "message": format!("The resource record '{rel}' does not exist in resource group '{rg}' of subscription '{SUB}'.") }).to_string()),
                |s| json_reply(&s),
            ),
            "PUT" => {
                assert_eq!(r.headers["content-type"], "application/json");
                let etag = current.as_ref().map(|c| c["etag"].as_str().unwrap().to_owned());
                match (r.headers.get("if-match"), r.headers.get("if-none-match"), &etag) {
                    (Some(m), None, Some(e)) if m == e => {}
                    (None, Some(star), None) if star == "*" => {}
                    _ => {
                        return arm_error(
                            412,
                            "PreconditionFailed",
                            "The condition specified using HTTP conditional header(s) is not met.",
                        );
                    }
                }
                let body = r.json();
                let props = &body["properties"];
                let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
                assert_eq!(keys, ["properties"], "only properties are sent: {body}");
                for k in props.as_object().unwrap().keys() {
                    assert!(
                        ["TTL", "ARecords", "AAAARecords", "metadata"].contains(&k.as_str()),
                        "read-only or foreign field {k} sent: {body}"
                    );
                }
                st.etags += 1;
                let mut stored = json!({
                    "id": format!("/subscriptions/{SUB}/resourceGroups/{rg}/providers/Microsoft.Network/dnsZones/{zone}/{rtype}/{rel}"),
                    "etag": format!("etag-{}", st.etags), "name": rel,
                    "type": format!("Microsoft.Network/dnsZones/{rtype}"),
                    "properties": props.clone(),
                });
                stored["properties"]["fqdn"] = json!(format!("{rel}.{zone}."));
                stored["properties"]["provisioningState"] = json!("Succeeded");
                st.sets.insert(key, stored.clone());
                let status = if etag.is_some() { 200 } else { 201 };
                Reply::status(status, stored.to_string())
            }
            "DELETE" => match st.sets.remove(&key) {
                Some(_) => Reply::ok(""),
                None => Reply::status(204, ""),
            },
            _ => Reply::status(405, "{}"),
        }
    }
}

fn record_set(
    rg: &str,
    zone: &str,
    rtype: &str,
    rel: &str,
    etag: &str,
    props: Value,
) -> (String, Value) {
    let mut set = json!({
        "id": format!("/subscriptions/{SUB}/resourceGroups/{rg}/providers/Microsoft.Network/dnsZones/{zone}/{rtype}/{rel}"),
        "etag": etag, "name": rel, "type": format!("Microsoft.Network/dnsZones/{rtype}"),
    });
    set["properties"] = props;
    (format!("{rg}/{zone}/{rtype}/{rel}"), set)
}

/// Record sets made by hand: other names, other types, an alias.
fn hand_made() -> Vec<(String, Value)> {
    vec![
        record_set(
            RG,
            "example.com",
            "A",
            "www",
            "h1",
            json!({ "TTL": 3600, "fqdn": "www.example.com.", "ARecords": [{ "ipv4Address": "192.0.2.80" }] }),
        ),
        record_set(
            RG,
            "example.com",
            "AAAA",
            "home",
            "h2",
            json!({ "TTL": 300, "fqdn": "home.example.com.", "AAAARecords": [{ "ipv6Address": "2001:db8::5" }] }),
        ),
        record_set(
            RG,
            "example.com",
            "TXT",
            "home",
            "h3",
            json!({ "TTL": 300, "fqdn": "home.example.com.", "TXTRecords": [{ "value": ["hand made"] }] }),
        ),
        record_set(
            RG,
            "example.com",
            "A",
            "@",
            "h4",
            json!({ "TTL": 3600, "fqdn": "example.com.", "ARecords": [{ "ipv4Address": "192.0.2.1" }] }),
        ),
        record_set(
            RG,
            "example.com",
            "A",
            "cdn",
            "h5",
            json!({ "TTL": 3600, "fqdn": "cdn.example.com.", "metadata": { "key1": "value1" },
            "targetResource": { "id": "/subscriptions/726f8cd6-6459-4db4-8e6d-2cd2716904e2/resourceGroups/test/providers/Microsoft.Network/trafficManagerProfiles/testpp2" },
            "ProvisioningState": "Succeeded" }),
        ),
    ]
}

struct Fakes {
    login: FakeHttp,
    arm: FakeHttp,
    state: Shared,
}

async fn start(extra: Vec<(String, Value)>) -> Fakes {
    let mut sets: BTreeMap<String, Value> = hand_made().into_iter().collect();
    sets.extend(extra);
    let state = Arc::new(Mutex::new(State {
        sets,
        // The first zone listed is private (skipped); example.com comes on the second page.
        zones: vec![
            (RG, "example.com", "Private"),
            (RG, "example.com", "Public"),
            (RG, "example.org", "Public"),
        ],
        issued: Vec::new(),
        expires_in: json!(3599),
        etags: 0,
    }));
    let port = Arc::new(Mutex::new(0));
    let arm_fake = FakeHttp::start(arm(state.clone(), port.clone())).await;
    *port.lock().unwrap() = arm_fake.port;
    let login_fake = FakeHttp::start(login(state.clone(), port)).await;
    Fakes {
        login: login_fake,
        arm: arm_fake,
        state,
    }
}

fn cfg_with(f: &Fakes, extra: &str) -> String {
    format!(
        "kind = \"azure\"\ntenant_id = \"{TENANT}\"\nclient_id = \"{CLIENT}\"\nclient_secret = \"{SECRET}\"\nsubscription_id = \"{SUB}\"\nlogin_endpoint = \"{}\"\nendpoint = \"{}\"\n{extra}",
        f.login.url(""),
        f.arm.url("")
    )
}

/// The ARM requests as `METHOD target`.
fn arm_log(f: &Fakes) -> Vec<String> {
    f.arm
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.target))
        .collect()
}

fn stored(f: &Fakes, key: &str) -> Option<Value> {
    f.state.lock().unwrap().sets.get(key).cloned()
}

fn hand_made_kept(f: &Fakes) {
    for (k, v) in hand_made() {
        assert_eq!(stored(f, &k), Some(v), "hand-made set {k} kept");
    }
}

#[tokio::test]
async fn create_update_unchanged_token_cached() {
    let f = start(vec![]).await;
    let p = build(&cfg_with(&f, &format!("resource_group = \"{RG}\"")));
    let out = update(&p, "home.example.com", RecordType::A, "198.51.100.7", None)
        .await
        .unwrap();
    assert_eq!(out, UpdateOutcome::Updated { record_id: None });
    let home = set_path(RG, "example.com", "A", "home");
    assert_eq!(
        arm_log(&f),
        [
            format!("GET {}?{API}", zones_path(RG)),
            format!("GET {}?{API}&$skipToken=p2", zones_path(RG)),
            format!("GET {home}?{API}"),
            format!("PUT {home}?{API}"),
        ]
    );
    let put = &writes(&f.arm)[0];
    assert_eq!(
        put.headers["if-none-match"], "*",
        "created only where there was none"
    );
    assert!(!put.headers.contains_key("if-match"));
    assert_eq!(
        put.json(),
        json!({ "properties": { "TTL": 300, "ARecords": [{ "ipv4Address": "198.51.100.7" }] } })
    );
    let token = f.state.lock().unwrap().issued[0].clone();
    assert!(
        f.arm
            .requests()
            .iter()
            .all(|r| r.headers["authorization"] == format!("Bearer {token}"))
    );

    // Next round: the zones are listed again, the set replaced with its etag, its TTL kept; the token reused.
    p.begin_round();
    update(&p, "home.example.com", RecordType::A, "198.51.100.8", None)
        .await
        .unwrap();
    let put = writes(&f.arm).pop().unwrap();
    assert_eq!(put.headers["if-match"], "etag-1");
    assert_eq!(
        put.json(),
        json!({ "properties": { "TTL": 300, "ARecords": [{ "ipv4Address": "198.51.100.8" }] } })
    );
    // Unchanged: read, nothing written.
    assert_eq!(
        update(&p, "home.example.com", RecordType::A, "198.51.100.8", None)
            .await
            .unwrap(),
        UpdateOutcome::Unchanged { record_id: None }
    );
    assert_eq!(writes(&f.arm).len(), 2);
    assert_eq!(f.login.requests().len(), 1, "the token is cached");
    assert_eq!(
        f.state.lock().unwrap().sets[&format!("{RG}/example.com/A/home")]["properties"]["ARecords"],
        json!([{ "ipv4Address": "198.51.100.8" }])
    );
    hand_made_kept(&f);
}

#[tokio::test]
async fn an_existing_set_keeps_its_metadata_and_ttl() {
    let mine = record_set(
        RG,
        "example.com",
        "A",
        "home",
        "e-7",
        json!({ "metadata": { "owner": "me" }, "TTL": 60, "fqdn": "home.example.com.", "provisioningState": "Succeeded",
                "ARecords": [{ "ipv4Address": "198.51.100.5" }, null, { "ipv4Address": "198.51.100.6" }],
                "AAAARecords": null, "TXTRecords": null }),
    );
    let f = start(vec![mine]).await;
    // Zone and resource group configured: no listing.
    let p = build(&cfg_with(
        &f,
        &format!("resource_group = \"{RG}\"\nzone = \"example.com\""),
    ));
    update(&p, "home.example.com", RecordType::A, "198.51.100.7", None)
        .await
        .unwrap();
    let home = set_path(RG, "example.com", "A", "home");
    assert_eq!(
        arm_log(&f),
        [format!("GET {home}?{API}"), format!("PUT {home}?{API}")]
    );
    let put = &writes(&f.arm)[0];
    assert_eq!(put.headers["if-match"], "e-7");
    assert_eq!(
        put.json(),
        json!({ "properties": { "TTL": 60, "metadata": { "owner": "me" }, "ARecords": [{ "ipv4Address": "198.51.100.7" }] } })
    );
    // A TTL set by the record replaces the set's.
    p.begin_round();
    update(
        &p,
        "home.example.com",
        RecordType::A,
        "198.51.100.7",
        Some(120),
    )
    .await
    .unwrap();
    assert_eq!(writes(&f.arm)[1].json()["properties"]["TTL"], json!(120));
    // The apex is `@`; AAAA writes AAAARecords.
    update(&p, "example.com", RecordType::Aaaa, "2001:db8::7", None)
        .await
        .unwrap();
    let put = writes(&f.arm).pop().unwrap();
    assert_eq!(put.path(), set_path(RG, "example.com", "AAAA", "@"));
    assert_eq!(
        put.json(),
        json!({ "properties": { "TTL": 300, "AAAARecords": [{ "ipv6Address": "2001:db8::7" }] } })
    );
    hand_made_kept(&f);
}

#[tokio::test]
async fn token_renewed_after_401_and_before_it_expires() {
    let f = start(vec![]).await;
    let p = build(&cfg_with(
        &f,
        &format!("resource_group = \"{RG}\"\nzone = \"example.com\""),
    ));
    update(&p, "home.example.com", RecordType::A, "198.51.100.7", None)
        .await
        .unwrap();
    // The service stops accepting the token (as if it expired early): 401, a new token, the call again.
    f.state.lock().unwrap().issued.push("revoked".into());
    update(&p, "home.example.com", RecordType::A, "198.51.100.8", None)
        .await
        .unwrap();
    let issued = f.state.lock().unwrap().issued.clone();
    assert_eq!(issued.len(), 3);
    let auth: Vec<String> = f
        .arm
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.headers["authorization"]))
        .collect();
    assert_eq!(
        auth,
        [
            format!("GET Bearer {}", issued[0]),
            format!("PUT Bearer {}", issued[0]),
            format!("GET Bearer {}", issued[0]),
            format!("GET Bearer {}", issued[2]),
            format!("PUT Bearer {}", issued[2]),
        ]
    );
    assert_eq!(f.login.requests().len(), 2);

    // A short-lived token (expires_in as a string, 6 s) is reused at first and renewed before it expires.
    let f = start(vec![]).await;
    f.state.lock().unwrap().expires_in = json!("6");
    let p = build(&cfg_with(
        &f,
        &format!("resource_group = \"{RG}\"\nzone = \"example.com\""),
    ));
    p.check("home.example.com", RecordType::A).await.unwrap();
    p.check("home.example.com", RecordType::A).await.unwrap();
    assert_eq!(f.login.requests().len(), 1);
    tokio::time::sleep(Duration::from_millis(3200)).await;
    p.check("home.example.com", RecordType::A).await.unwrap();
    assert_eq!(
        f.login.requests().len(),
        2,
        "renewed half-way through its life"
    );
    assert!(
        f.arm
            .requests()
            .iter()
            .all(|r| r.headers["authorization"] != "Bearer revoked")
    );
}

#[tokio::test]
async fn subscription_wide_lookup() {
    let f = start(vec![]).await;
    {
        let mut st = f.state.lock().unwrap();
        st.zones = vec![
            ("other-rg", "example.org", "Public"),
            (RG, "example.com", "Public"),
        ];
    }
    // Without resource_group: the subscription's zones, the group taken from the zone's id.
    let p = build(&cfg_with(&f, ""));
    update(&p, "a.b.example.com", RecordType::A, "198.51.100.7", None)
        .await
        .unwrap();
    assert_eq!(
        arm_log(&f),
        [
            format!("GET /subscriptions/{SUB}/providers/Microsoft.Network/dnszones?{API}"),
            format!(
                "GET /subscriptions/{SUB}/providers/Microsoft.Network/dnszones?{API}&$skipToken=p2"
            ),
            format!("GET {}?{API}", set_path(RG, "example.com", "A", "a.b")),
            format!("PUT {}?{API}", set_path(RG, "example.com", "A", "a.b")),
        ]
    );
    // A zone of the same name in two groups: refused until resource_group says which.
    f.state
        .lock()
        .unwrap()
        .zones
        .push(("other-rg", "example.com", "Public"));
    p.begin_round();
    let e = update(&p, "home.example.com", RecordType::A, "198.51.100.7", None)
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Rejected, "{e:?}");
    assert!(e.message.contains("resource_group"), "{e:?}");
    // No zone holds the name.
    let e = update(&p, "home.example.net", RecordType::A, "198.51.100.7", None)
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Rejected, "{e:?}");
    // A configured zone that does not hold the name: refused, not written at the apex.
    let p = build(&cfg_with(
        &f,
        &format!("resource_group = \"{RG}\"\nzone = \"example.com\""),
    ));
    let e = update(&p, "home.example.org", RecordType::A, "198.51.100.7", None)
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Rejected, "{e:?}");
    assert_eq!(writes(&f.arm).len(), 1);
    hand_made_kept(&f);
}

#[tokio::test]
async fn alias_sets_and_concurrent_changes() {
    let f = start(vec![]).await;
    let p = build(&cfg_with(
        &f,
        &format!("resource_group = \"{RG}\"\nzone = \"example.com\""),
    ));
    let e = update(&p, "cdn.example.com", RecordType::A, "198.51.100.7", None)
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Rejected, "{e:?}");
    assert!(e.message.contains("alias"), "{e:?}");
    assert!(writes(&f.arm).is_empty());

    // The set changes between the read and the write: 412, nothing overwritten; the next round reads again.
    let state = f.state.clone();
    let inner = arm(f.state.clone(), Arc::new(Mutex::new(f.arm.port)));
    f.arm.set(move |r| {
        if r.method == "PUT" {
            state
                .lock()
                .unwrap()
                .sets
                .get_mut(&format!("{RG}/example.com/A/www"))
                .unwrap()["etag"] = json!("changed");
        }
        inner(r)
    });
    let e = update(&p, "www.example.com", RecordType::A, "198.51.100.7", None)
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Transient, "{e:?}");
    assert_eq!(
        stored(&f, &format!("{RG}/example.com/A/www")).unwrap()["properties"]["ARecords"],
        json!([{ "ipv4Address": "192.0.2.80" }])
    );
    f.arm
        .set(arm(f.state.clone(), Arc::new(Mutex::new(f.arm.port))));
    p.begin_round();
    update(&p, "www.example.com", RecordType::A, "198.51.100.7", None)
        .await
        .unwrap();
    let put = writes(&f.arm).pop().unwrap();
    assert_eq!(put.headers["if-match"], "changed");
    assert_eq!(put.json()["properties"]["TTL"], json!(3600));
}

#[tokio::test]
async fn token_errors() {
    common_failures(
        |url| {
            format!(
                "kind = \"azure\"\ntenant_id = \"{TENANT}\"\nclient_id = \"{CLIENT}\"\nclient_secret = \"{SECRET}\"\nsubscription_id = \"{SUB}\"\nresource_group = \"{RG}\"\nlogin_endpoint = \"{url}\"\nendpoint = \"{url}\""
            )
        },
        Reply::status(401, aad(7_000_215, "invalid_client", "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '2b1e5f3c-0a4d-4c8e-9f6b-7d2a1c3e5b90'.")),
        "home.example.com",
    )
    .await;
    for (reply, class, words) in [
        (
            Reply::status(
                401,
                aad(
                    7_000_215,
                    "invalid_client",
                    "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app 'x'.",
                ),
            ),
            ErrorClass::Auth,
            "Secret ID",
        ),
        (
            Reply::status(
                401,
                aad(
                    7_000_222,
                    "invalid_client",
                    "The provided client secret keys for app 'x' are expired.",
                ),
            ),
            ErrorClass::Auth,
            "expired",
        ),
        (
            Reply::status(
                400,
                aad(
                    700_016,
                    "unauthorized_client",
                    "Application with identifier 'x' was not found in the directory 'Contoso'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.",
                ),
            ),
            ErrorClass::Auth,
            "client_id",
        ),
        (
            Reply::status(
                400,
                aad(
                    90_002,
                    "invalid_tenant",
                    "Tenant 'x' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.",
                ),
            ),
            ErrorClass::Auth,
            "tenant_id",
        ),
        (
            Reply::status(
                400,
                aad(
                    70_011,
                    "invalid_scope",
                    "The provided request must include a 'scope' input parameter.",
                ),
            ),
            ErrorClass::Rejected,
            "endpoint",
        ),
        (
            Reply::status(429, "{}").with_header("Retry-After", "17"),
            ErrorClass::RateLimited {
                retry_after: Some(17),
            },
            "rate limited",
        ),
    ] {
        let login = FakeHttp::start(move |_| reply.clone()).await;
        let arm = FakeHttp::start(|_| Reply::status(500, "{}")).await;
        let p = build(&format!(
            "kind = \"azure\"\ntenant_id = \"{TENANT}\"\nclient_id = \"{CLIENT}\"\nclient_secret = \"{SECRET}\"\nsubscription_id = \"{SUB}\"\nresource_group = \"{RG}\"\nlogin_endpoint = \"{}\"\nendpoint = \"{}\"",
            login.url(""),
            arm.url("")
        ));
        let e = update(&p, "home.example.com", RecordType::A, "198.51.100.1", None)
            .await
            .unwrap_err();
        assert_eq!(e.class, class, "{e:?}");
        assert!(e.message.contains(words), "{words}: {e:?}");
        assert!(
            !e.message.contains("s3cret") && !e.message.contains("Trace ID"),
            "{e:?}"
        );
        assert!(arm.requests().is_empty(), "no ARM call without a token");
    }
}

/// An Entra ID error body as the real ones (docs/providers/azure.md §2, issues quoted there).
fn aad(code: u32, error: &str, text: &str) -> String {
    json!({
        "error": error,
        "error_description": format!("AADSTS{code}: {text}\r\nTrace ID: 0b0e6c4a-1f2e-4c55-b3f4-6c2f3e1d0a00\r\nCorrelation ID: 9d8aaacf-a655-4b1f-b113-3d0691054798\r\nTimestamp: 2026-12-04 07:21:29Z"),
        "error_codes": [code], "timestamp": "2026-12-04 07:21:29Z",
        "trace_id": "0b0e6c4a-1f2e-4c55-b3f4-6c2f3e1d0a00", "correlation_id": "9d8aaacf-a655-4b1f-b113-3d0691054798",
        "error_uri": format!("https://login.microsoftonline.com/error?code={code}"),
    })
    .to_string()
}

#[tokio::test]
async fn arm_errors() {
    // The token is issued; every ARM call gets the reply.
    async fn with(reply: Reply) -> (ProviderError, usize) {
        let f = start(vec![]).await;
        let reply = Arc::new(reply);
        f.arm.set(move |_| (*reply).clone());
        let p = build(&cfg_with(
            &f,
            &format!("resource_group = \"{RG}\"\nzone = \"example.com\""),
        ));
        let e = update(&p, "home.example.com", RecordType::A, "198.51.100.1", None)
            .await
            .unwrap_err();
        assert!(!e.message.contains("s3cret"), "{e:?}");
        (e, f.login.requests().len())
    }
    let (e, tokens) = with(arm_error(401, "InvalidAuthenticationToken", "The received access token is not valid: at least one of the claims 'puid' or 'altsecid' or 'oid' should be present.")).await;
    assert_eq!(e.class, ErrorClass::Auth, "{e:?}");
    assert_eq!(tokens, 2, "a 401 gets one new token, then stops");
    for (reply, class, words) in [
        (
            arm_error(
                403,
                "AuthorizationFailed",
                "The client '2b1e5f3c-0a4d-4c8e-9f6b-7d2a1c3e5b90' with object id 'o' does not have authorization to perform action 'Microsoft.Network/dnsZones/A/read' over scope '/subscriptions/s/resourceGroups/dns-rg/providers/Microsoft.Network/dnsZones/example.com/A/home' or the scope is invalid. If access was recently granted, please refresh your credentials.",
            ),
            ErrorClass::Auth,
            "Microsoft.Network/dnsZones/A/read",
        ),
        (
            arm_error(
                404,
                "ResourceGroupNotFound",
                "Resource group 'dns-rg' could not be found.",
            ),
            ErrorClass::Rejected,
            "ResourceGroupNotFound",
        ),
        (
            arm_error(429, "TooManyRequests", "The request is being throttled.")
                .with_header("Retry-After", "42"),
            ErrorClass::RateLimited {
                retry_after: Some(42),
            },
            "rate limited",
        ),
        (
            arm_error(503, "ServiceUnavailable", "The service is unavailable."),
            ErrorClass::Transient,
            "ServiceUnavailable",
        ),
        (
            Reply::Truncated {
                body: "{\"propert".into(),
            },
            ErrorClass::Transient,
            "",
        ),
        (
            Reply::ok("<html>captive portal</html>"),
            ErrorClass::Transient,
            "",
        ),
    ] {
        let (e, tokens) = with(reply).await;
        assert_eq!(e.class, class, "{e:?}");
        assert!(e.message.contains(words), "{words}: {e:?}");
        assert_eq!(tokens, 1);
    }
    // A missing zone: the GET answers ARM's ParentResourceNotFound, not the record set's NotFound.
    let f = start(vec![]).await;
    let p = build(&cfg_with(
        &f,
        &format!("resource_group = \"{RG}\"\nzone = \"example.net\""),
    ));
    let e = update(&p, "home.example.net", RecordType::A, "198.51.100.1", None)
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Rejected, "{e:?}");
    assert!(writes(&f.arm).is_empty());
    // A next page on another host is not followed (it would get the token).
    let elsewhere = FakeHttp::start(|_| json_reply(&json!({ "value": [] }))).await;
    let f = start(vec![]).await;
    let next = elsewhere.url(&format!("{}?{API}&$skipToken=p2", zones_path(RG)));
    let inner = arm(f.state.clone(), Arc::new(Mutex::new(f.arm.port)));
    f.arm.set(move |r| {
        if r.path().ends_with("/dnsZones") {
            json_reply(&json!({ "value": [], "nextLink": next }))
        } else {
            inner(r)
        }
    });
    let p = build(&cfg_with(&f, &format!("resource_group = \"{RG}\"")));
    let e = update(&p, "home.example.com", RecordType::A, "198.51.100.1", None)
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Transient, "{e:?}");
    assert!(elsewhere.requests().is_empty());
}

#[test]
fn config_checks() {
    let ok = format!(
        "[[provider]]\nname = \"p\"\nkind = \"azure\"\ntenant_id = \"{TENANT}\"\nclient_id = \"{CLIENT}\"\nclient_secret = \"{SECRET}\"\nsubscription_id = \"{SUB}\"\nresource_group = \"{RG}\"\n"
    );
    assert!(load_str(&ok, &|_: &str| None).is_ok());
    assert!(
        load_str(
            &ok.replace(TENANT, "contoso.onmicrosoft.com"),
            &|_: &str| None
        )
        .is_ok()
    );
    for (from, to, field) in [
        (
            SECRET,
            "0f3e2d1c-5b4a-4987-a6b5-c4d3e2f1a0b9",
            ".client_secret",
        ),
        (CLIENT, "my-app", ".client_id"),
        (SUB, "Pay-As-You-Go", ".subscription_id"),
        (TENANT, "contoso", ".tenant_id"),
        (RG, "rg/other", ".resource_group"),
    ] {
        let issues = load_str(&ok.replace(from, to), &|_: &str| None).unwrap_err();
        assert!(
            issues.iter().any(|i| i.path.ends_with(field)),
            "{field}: {issues:#?}"
        );
    }
}
