//! Google Cloud DNS against a loopback fake written from the discovery document and the OAuth 2.0
//! service-account flow (docs/providers/gcloud.md). The fake is also the key's `token_uri`: it checks the JWT
//! bearer grant, verifies the assertion's RS256 signature with the PUBLIC half of the test key
//! (tests/fixtures/gcloud, made with openssl) using ring, and checks its claims. Listings page with
//! `nextPageToken`; changes must delete the listed set exactly, as the API requires.

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use ring::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};

use super::*;

const PRIVATE_PEM: &str = include_str!("../../fixtures/gcloud/test-key.pem");
const PUBLIC_DER: &[u8] = include_bytes!("../../fixtures/gcloud/test-key.pub.der");
const TOKEN: &str = "ya29.gcloud-s3cret-token";
const EMAIL: &str = "ddns@my-project.iam.gserviceaccount.com";

fn key_json(token_uri: &str) -> String {
    json!({
        "type": "service_account", "project_id": "my-project", "private_key_id": "abc123",
        "private_key": PRIVATE_PEM, "client_email": EMAIL, "client_id": "1234567890",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": token_uri,
    })
    .to_string()
}

fn cfg_with(endpoint: &str, token_uri: &str, extra: &str) -> String {
    // A TOML literal string holds the JSON as it is (the key's `\n` escapes stay JSON escapes).
    format!(
        "kind = \"gcloud\"\nservice_account_key = '{}'\nendpoint = \"{endpoint}\"\n{extra}",
        key_json(token_uri)
    )
}

fn cfg(endpoint: &str) -> String {
    cfg_with(endpoint, &format!("{endpoint}/token"), "")
}

fn b64(part: &str) -> Vec<u8> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .unwrap()
}

/// The token endpoint: `Err` says what is wrong with the grant.
fn check_grant(r: &Request, token_uri: &str) -> Result<(), String> {
    if r.headers.get("content-type").map(String::as_str)
        != Some("application/x-www-form-urlencoded")
    {
        return Err("content type".into());
    }
    let jwt = r
        .body
        .strip_prefix("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=")
        .ok_or("grant type")?;
    let parts: Vec<&str> = jwt.split('.').collect();
    let [header, claims, signature] = parts[..] else {
        return Err("not three parts".into());
    };
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, PUBLIC_DER)
        .verify(format!("{header}.{claims}").as_bytes(), &b64(signature))
        .map_err(|_| "Invalid JWT Signature.".to_owned())?;
    let header: Value = serde_json::from_slice(&b64(header)).unwrap();
    assert_eq!(
        header,
        json!({ "alg": "RS256", "typ": "JWT", "kid": "abc123" })
    );
    let claims: Value = serde_json::from_slice(&b64(claims)).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let (iat, exp) = (
        claims["iat"].as_u64().unwrap(),
        claims["exp"].as_u64().unwrap(),
    );
    assert!(
        iat <= now && now - iat < 120 && exp > now && exp - iat <= 3600,
        "{claims}"
    );
    assert_eq!(claims["iss"], EMAIL);
    assert_eq!(claims["aud"], token_uri);
    assert_eq!(
        claims["scope"],
        "https://www.googleapis.com/auth/ndev.clouddns.readwrite"
    );
    assert!(claims.get("sub").is_none());
    Ok(())
}

struct State {
    rrsets: Vec<Value>,
    tokens: usize,
}

const BASE: &str = "/projects/my-project/managedZones";

fn err(status: u16, reason: &str, message: &str) -> Reply {
    Reply::status(
        status,
        json!({ "error": { "code": status, "message": message, "errors": [{ "message": message, "domain": "global", "reason": reason }] } })
            .to_string(),
    )
}

#[allow(clippy::too_many_lines)] // one fake / one scenario, read top to bottom
fn fake(
    state: Arc<Mutex<State>>,
    port: Arc<Mutex<u16>>,
) -> impl Fn(&Request) -> Reply + Send + Sync + 'static {
    move |r: &Request| {
        let q = r.query();
        if r.path() == "/token" {
            let uri = format!("http://127.0.0.1:{}/token", port.lock().unwrap());
            return match check_grant(r, &uri) {
                Ok(()) => {
                    state.lock().unwrap().tokens += 1;
                    json_reply(
                        &json!({ "access_token": TOKEN, "expires_in": 3599, "token_type": "Bearer" }),
                    )
                }
                Err(e) => Reply::status(
                    400,
                    json!({ "error": "invalid_grant", "error_description": e }).to_string(),
                ),
            };
        }
        if r.headers.get("authorization").map(String::as_str) != Some(&format!("Bearer {TOKEN}")) {
            return err(401, "authError", "Invalid Credentials");
        }
        let mut st = state.lock().unwrap();
        match (r.method.as_str(), r.path()) {
            // Without `dnsName` every managed zone: 150 public (names end with a dot) and one private, in two
            // pages.
            ("GET", BASE) if !q.contains_key("dnsName") => {
                let second = match q.get("pageToken").map(String::as_str) {
                    None => false,
                    Some("all2") => true,
                    Some(other) => return err(400, "invalid", other),
                };
                let mut all: Vec<Value> = (0..149).map(|i| json!({ "name": format!("gz{i:03}"), "dnsName": format!("gz{i:03}.dev."), "id": format!("{}", 100 + i), "visibility": "public" })).collect();
                all.insert(1, json!({ "name": "example-com-internal", "dnsName": "example.com.", "id": "11", "visibility": "private" }));
                all.insert(2, json!({ "name": "corp-internal", "dnsName": "corp.internal.", "id": "13", "visibility": "private" }));
                all.push(json!({ "name": "example-com", "dnsName": "example.com.", "id": "12" }));
                let page: Vec<&Value> = all
                    .iter()
                    .skip(if second { 100 } else { 0 })
                    .take(100)
                    .collect();
                let mut body =
                    json!({ "kind": "dns#managedZonesListResponse", "managedZones": page });
                if !second {
                    body["nextPageToken"] = json!("all2");
                }
                json_reply(&body)
            }
            ("GET", BASE) => {
                // dnsName is a filter; two pages, a private zone of the same name on the first.
                let dns = q["dnsName"].clone();
                match (dns.as_str(), q.get("pageToken").map(String::as_str)) {
                    ("example.com.", None) => json_reply(
                        &json!({ "kind": "dns#managedZonesListResponse", "managedZones": [
                        { "name": "example-com-internal", "dnsName": "example.com.", "id": "11", "visibility": "private" }
                    ], "nextPageToken": "zp2" }),
                    ),
                    ("example.com.", Some("zp2")) => json_reply(
                        &json!({ "kind": "dns#managedZonesListResponse", "managedZones": [
                        { "name": "example-com", "dnsName": "example.com.", "id": "12", "visibility": "public" }
                    ] }),
                    ),
                    _ => json_reply(
                        &json!({ "kind": "dns#managedZonesListResponse", "managedZones": [] }),
                    ),
                }
            }
            ("GET", "/projects/my-project/managedZones/example-com/rrsets") => {
                let name = q["name"].clone();
                let rtype = q["type"].clone();
                let matching: Vec<Value> = st
                    .rrsets
                    .iter()
                    .filter(|s| s["name"] == name.as_str() && s["type"] == rtype.as_str())
                    .cloned()
                    .collect();
                // Page 1 is empty with a token (allowed: "up to" maxResults); page 2 holds the sets.
                match q.get("pageToken").map(String::as_str) {
                    None => json_reply(
                        &json!({ "kind": "dns#resourceRecordSetsListResponse", "rrsets": [], "nextPageToken": "rp2" }),
                    ),
                    Some("rp2") => json_reply(
                        &json!({ "kind": "dns#resourceRecordSetsListResponse", "rrsets": matching }),
                    ),
                    Some(_) => err(400, "invalid", "bad page token"),
                }
            }
            ("POST", "/projects/my-project/managedZones/example-com/changes") => {
                assert_eq!(r.headers["content-type"], "application/json");
                let change = r.json();
                for del in change["deletions"].as_array().cloned().unwrap_or_default() {
                    let Some(i) = st.rrsets.iter().position(|s| *s == del) else {
                        return err(
                            412,
                            "conditionNotMet",
                            "Precondition not met for 'entity.change.deletions[0]'",
                        );
                    };
                    st.rrsets.remove(i);
                }
                for add in change["additions"].as_array().cloned().unwrap_or_default() {
                    if st
                        .rrsets
                        .iter()
                        .any(|s| s["name"] == add["name"] && s["type"] == add["type"])
                    {
                        return err(
                            409,
                            "alreadyExists",
                            "The resource 'entity.change.additions[0]' named 'home.example.com. (A)' already exists",
                        );
                    }
                    st.rrsets.push(add);
                }
                let mut answer = change.clone();
                answer["kind"] = json!("dns#change");
                answer["id"] = json!("7");
                answer["status"] = json!("pending");
                answer["startTime"] = json!("2026-12-04T15:00:00.000Z");
                json_reply(&answer)
            }
            (_, p) if p.starts_with(BASE) => err(
                404,
                "notFound",
                "The 'parameters.managedZone' resource named 'x' does not exist.",
            ),
            _ => Reply::status(404, "{}"),
        }
    }
}

fn hand_made() -> Vec<Value> {
    vec![
        json!({ "name": "home.example.com.", "type": "AAAA", "ttl": 300, "rrdatas": ["2001:db8::7"] }),
        json!({ "name": "home.example.com.", "type": "TXT", "ttl": 300, "rrdatas": ["\"hand made\""] }),
        json!({ "name": "www.example.com.", "type": "A", "ttl": 300, "rrdatas": ["192.0.2.80"] }),
        json!({ "name": "geo.example.com.", "type": "A", "ttl": 300, "routingPolicy": { "geo": { "items": [{ "location": "europe-west1", "rrdatas": ["192.0.2.1"] }] } } }),
    ]
}

async fn start(extra: Vec<Value>) -> (FakeHttp, Arc<Mutex<State>>) {
    let mut rrsets = hand_made();
    rrsets.extend(extra);
    let state = Arc::new(Mutex::new(State { rrsets, tokens: 0 }));
    let port = Arc::new(Mutex::new(0));
    let f = FakeHttp::start(fake(state.clone(), port.clone())).await;
    *port.lock().unwrap() = f.port;
    (f, state)
}

fn changes(f: &FakeHttp) -> Vec<Value> {
    writes(f)
        .into_iter()
        .filter(|r| r.path().ends_with("/changes"))
        .map(|r| r.json())
        .collect()
}

fn survivors(state: &Arc<Mutex<State>>) -> Vec<Value> {
    let st = state.lock().unwrap();
    hand_made()
        .into_iter()
        .filter(|h| st.rrsets.contains(h))
        .collect()
}

#[tokio::test]
async fn create_update_unchanged_token_cached() {
    let (f, state) = start(vec![]).await;
    let p = build(&cfg(&f.url("")));
    assert_eq!(
        update(&p, "home.example.com", RecordType::A, "198.51.100.7", None)
            .await
            .unwrap(),
        UpdateOutcome::Updated { record_id: None }
    );
    assert_eq!(
        changes(&f),
        [
            json!({ "additions": [{ "name": "home.example.com.", "type": "A", "ttl": 300, "rrdatas": ["198.51.100.7"] }] })
        ]
    );
    let reqs = f.requests();
    let zones: Vec<_> = reqs
        .iter()
        .filter(|r| r.path() == BASE)
        .map(Request::query)
        .collect();
    assert_eq!(
        zones.len(),
        3,
        "home.example.com., then example.com. over two pages: {zones:?}"
    );
    assert_eq!(zones[2]["pageToken"], "zp2");
    let lists: Vec<_> = reqs
        .iter()
        .filter(|r| r.path().ends_with("/rrsets"))
        .map(Request::query)
        .collect();
    assert_eq!(lists[0]["name"], "home.example.com.");
    assert_eq!(lists[0]["type"], "A");
    assert_eq!(lists[1]["pageToken"], "rp2");

    // Next round on the same provider: the set is replaced atomically, its TTL kept; the token is reused.
    p.begin_round();
    update(&p, "home.example.com", RecordType::A, "198.51.100.8", None)
        .await
        .unwrap();
    assert_eq!(
        changes(&f)[1],
        json!({
            "additions": [{ "name": "home.example.com.", "type": "A", "ttl": 300, "rrdatas": ["198.51.100.8"] }],
            "deletions": [{ "name": "home.example.com.", "type": "A", "ttl": 300, "rrdatas": ["198.51.100.7"] }],
        })
    );
    // Unchanged: nothing written.
    assert_eq!(
        update(&p, "home.example.com", RecordType::A, "198.51.100.8", None)
            .await
            .unwrap(),
        UpdateOutcome::Unchanged { record_id: None }
    );
    assert_eq!(changes(&f).len(), 2);
    assert_eq!(state.lock().unwrap().tokens, 1, "the token is cached");
    assert_eq!(survivors(&state), hand_made());

    // An existing set with its own TTL and two values, with a configured zone: one value replaces both.
    let (f, state) = start(vec![json!({ "name": "home.example.com.", "type": "A", "ttl": 60, "rrdatas": ["198.51.100.5", "198.51.100.6"] })]).await;
    let p = build(&cfg_with(
        &f.url(""),
        &f.url("/token"),
        "managed_zone = \"example-com\"\nproject = \"my-project\"",
    ));
    update(&p, "home.example.com", RecordType::A, "198.51.100.7", None)
        .await
        .unwrap();
    assert!(f.requests().iter().all(|r| r.path() != BASE));
    assert_eq!(
        changes(&f),
        [json!({
            "additions": [{ "name": "home.example.com.", "type": "A", "ttl": 60, "rrdatas": ["198.51.100.7"] }],
            "deletions": [{ "name": "home.example.com.", "type": "A", "ttl": 60, "rrdatas": ["198.51.100.5", "198.51.100.6"] }],
        })]
    );
    assert_eq!(survivors(&state), hand_made());
}

#[tokio::test]
async fn routing_policy_sets_are_refused() {
    let (f, state) = start(vec![]).await;
    let p = build(&cfg(&f.url("")));
    let e = update(&p, "geo.example.com", RecordType::A, "198.51.100.7", None)
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Rejected, "{e:?}");
    assert!(changes(&f).is_empty());
    assert_eq!(survivors(&state), hand_made());
}

#[tokio::test]
async fn a_wrong_key_is_refused_by_its_signature() {
    // The same JSON with another RSA key (tests/fixtures/gcloud/other-key.pem): the signature does not verify.
    let (f, state) = start(vec![]).await;
    let other = key_json(&f.url("/token")).replace(
        &serde_json::to_string(PRIVATE_PEM).unwrap()[1..],
        &serde_json::to_string(include_str!("../../fixtures/gcloud/other-key.pem")).unwrap()[1..],
    );
    assert!(!other.contains(&serde_json::to_string(PRIVATE_PEM).unwrap()[1..]));
    let p = build(&format!(
        "kind = \"gcloud\"\nservice_account_key = '{other}'\nendpoint = \"{}\"",
        f.url("")
    ));
    let e = update(&p, "home.example.com", RecordType::A, "198.51.100.7", None)
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Auth, "{e:?}");
    assert!(e.message.contains("Invalid JWT Signature"), "{e:?}");
    assert_eq!(state.lock().unwrap().tokens, 0);
    let (f, _) = start(vec![]).await;
    let p = build(&cfg(&f.url("")));
    // Sanity: the right key works.
    update(&p, "home.example.com", RecordType::A, "198.51.100.7", None)
        .await
        .unwrap();
    // A token endpoint that refuses the grant as Google does.
    let f2 = FakeHttp::start(|_| {
        Reply::status(400, r#"{"error":"invalid_grant","error_description":"Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values and use a clock with skew to account for clock differences between systems."}"#)
    })
    .await;
    let e = update(
        &build(&cfg(&f2.url(""))),
        "home.example.com",
        RecordType::A,
        "198.51.100.7",
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(e.class, ErrorClass::Auth, "{e:?}");
    assert!(e.message.contains("clock"), "{e:?}");
}

#[tokio::test]
async fn failures() {
    // Every answer from one handler: the token exchange succeeds, the API call gets the reply.
    async fn with(reply: Reply) -> ProviderError {
        let reply = Arc::new(reply);
        let f = FakeHttp::start(move |r| {
            if r.path() == "/token" {
                json_reply(
                    &json!({ "access_token": TOKEN, "expires_in": 3599, "token_type": "Bearer" }),
                )
            } else {
                (*reply).clone()
            }
        })
        .await;
        update(
            &build(&cfg(&f.url(""))),
            "home.example.com",
            RecordType::A,
            "198.51.100.1",
            None,
        )
        .await
        .unwrap_err()
    }
    for (reply, class) in [
        (err(403, "forbidden", "Forbidden"), ErrorClass::Auth),
        (
            err(
                403,
                "accessNotConfigured",
                "Cloud DNS API has not been used in project my-project before or it is disabled.",
            ),
            ErrorClass::Auth,
        ),
        (
            err(401, "authError", "Invalid Credentials"),
            ErrorClass::Auth,
        ),
        (
            err(429, "rateLimitExceeded", "Rate Limit Exceeded").with_header("Retry-After", "42"),
            ErrorClass::RateLimited {
                retry_after: Some(42),
            },
        ),
        (
            err(
                404,
                "notFound",
                "The 'parameters.managedZone' resource named 'example-com' does not exist.",
            ),
            ErrorClass::Rejected,
        ),
        (
            err(503, "backendError", "Backend Error"),
            ErrorClass::Transient,
        ),
        (
            Reply::Truncated {
                body: "{\"managedZo".into(),
            },
            ErrorClass::Transient,
        ),
        (
            Reply::ok("<html>captive portal</html>"),
            ErrorClass::Transient,
        ),
    ] {
        let e = with(reply).await;
        assert_eq!(e.class, class, "{e:?}");
        assert!(!e.message.contains("s3cret"), "{e:?}");
    }
    // The set changed between the listing and the change: 412 on the deletion, read again next time.
    let (f, state) = start(vec![json!({ "name": "home.example.com.", "type": "A", "ttl": 300, "rrdatas": ["198.51.100.5"] })]).await;
    let p = build(&cfg(&f.url("")));
    let f_state = state.clone();
    let inner = fake(f_state, Arc::new(Mutex::new(f.port)));
    let st = state.clone();
    f.set(move |r| {
        if r.path().ends_with("/changes") {
            // Someone else edited the set meanwhile.
            st.lock()
                .unwrap()
                .rrsets
                .retain(|s| s["type"] != "A" || s["name"] != "home.example.com.");
        }
        inner(r)
    });
    let e = update(&p, "home.example.com", RecordType::A, "198.51.100.7", None)
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Transient, "{e:?}");
}

/// "Test" names the project's public zones (`managedZones.list` without `dnsName`, both pages by
/// `nextPageToken`, with the bearer token; private zones left out), beside the check; a name in no zone fails
/// with the zones still shown.
#[tokio::test]
async fn test_lists_the_domains_the_credential_sees() {
    let (f, _) = start(vec![json!({ "name": "home.example.com.", "type": "A", "ttl": 300, "rrdatas": ["198.51.100.7"] })]).await;
    let p = build(&cfg(&f.url("")));
    let said = ddns_tray::provider::test(p.as_ref(), "home.example.com", RecordType::A)
        .await
        .unwrap();
    let (check, zones) = said.split_once('\n').unwrap();
    assert_eq!(
        check,
        "credentials accepted; zone example.com; home.example.com A holds 198.51.100.7"
    );
    assert!(
        zones.starts_with(
            "domains this credential can see (150): example.com, gz000.dev, gz001.dev, "
        ),
        "{zones}"
    );
    assert!(zones.ends_with(" and 138 more"), "{zones}");
    assert!(!zones.contains("corp.internal"), "{zones}");
    let lists: Vec<String> = f
        .requests()
        .iter()
        .filter(|r| r.path() == BASE && !r.query().contains_key("dnsName"))
        .map(|r| {
            assert_eq!(r.headers["authorization"], format!("Bearer {TOKEN}"));
            format!("{} {}", r.method, r.target)
        })
        .collect();
    assert_eq!(
        lists,
        [format!("GET {BASE}"), format!("GET {BASE}?pageToken=all2")]
    );

    let err = ddns_tray::provider::test(p.as_ref(), "home.example.org", RecordType::A)
        .await
        .unwrap_err();
    assert!(
        err.contains("no public managed zone of project my-project serves home.example.org"),
        "{err}"
    );
    assert!(
        err.contains("\ndomains this credential can see (150): "),
        "{err}"
    );
}
