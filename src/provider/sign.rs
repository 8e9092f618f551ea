//! Request signing for the cloud APIs that need it: Alibaba Cloud RPC signature V1 (HMAC-SHA1), Tencent Cloud
//! TC3-HMAC-SHA256, Huawei Cloud SDK-HMAC-SHA256. Each is tested against the vendor's published vector.

use std::collections::BTreeMap;

use base64::Engine as _;
use ring::{digest, hmac};

pub use crate::encode::{hex, pct, pct_except};

#[must_use]
pub fn sha256_hex(data: &[u8]) -> String {
    hex(digest::digest(&digest::SHA256, data).as_ref())
}

#[must_use]
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data)
        .as_ref()
        .to_vec()
}

/// The canonical query string: names and values percent-encoded, sorted by encoded name, `k=v` joined by `&`.
#[must_use]
pub fn canonical_query(params: &BTreeMap<String, String>) -> String {
    let mut pairs: Vec<(String, String)> = params.iter().map(|(k, v)| (pct(k), pct(v))).collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// `name:value\n` for each header, in order.
fn header_lines(headers: &[(&str, &str)], value: impl Fn(&str) -> &str) -> String {
    use std::fmt::Write as _;
    headers.iter().fold(String::new(), |mut out, (k, v)| {
        let _ = writeln!(out, "{k}:{}", value(v));
        out
    })
}

/// Alibaba Cloud RPC signature V1: `Base64(HMAC-SHA1(secret + "&", METHOD & pct("/") & pct(canonical)))`.
#[must_use]
pub fn aliyun_v1(
    method: &str,
    params: &BTreeMap<String, String>,
    access_key_secret: &str,
) -> String {
    let string_to_sign = format!("{method}&{}&{}", pct("/"), pct(&canonical_query(params)));
    let key = hmac::Key::new(
        hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
        format!("{access_key_secret}&").as_bytes(),
    );
    base64::engine::general_purpose::STANDARD
        .encode(hmac::sign(&key, string_to_sign.as_bytes()).as_ref())
}

/// Tencent Cloud TC3-HMAC-SHA256 for a POST to `/` with a JSON body. `headers` are the signed headers
/// (lower-case names and values as they are signed), sorted by name. Returns the `Authorization` value.
#[must_use]
pub fn tc3(
    secret_id: &str,
    secret_key: &str,
    service: &str,
    timestamp: u64,
    headers: &[(&str, &str)],
    body: &str,
) -> String {
    let date = humantime::format_rfc3339_seconds(
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(timestamp),
    )
    .to_string()[..10]
        .to_owned();
    let canonical_headers = header_lines(headers, |v| v);
    let signed_headers = headers
        .iter()
        .map(|(k, _)| *k)
        .collect::<Vec<_>>()
        .join(";");
    let canonical_request = format!(
        "POST\n/\n\n{canonical_headers}\n{signed_headers}\n{}",
        sha256_hex(body.as_bytes())
    );
    let scope = format!("{date}/{service}/tc3_request");
    let string_to_sign = format!(
        "TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{}",
        sha256_hex(canonical_request.as_bytes())
    );
    let k_date = hmac_sha256(format!("TC3{secret_key}").as_bytes(), date.as_bytes());
    let k_service = hmac_sha256(&k_date, service.as_bytes());
    let k_signing = hmac_sha256(&k_service, b"tc3_request");
    let signature = hex(&hmac_sha256(&k_signing, string_to_sign.as_bytes()));
    format!(
        "TC3-HMAC-SHA256 Credential={secret_id}/{scope}, SignedHeaders={signed_headers}, Signature={signature}"
    )
}

/// Huawei Cloud SDK-HMAC-SHA256. `path` is the request path (the canonical URI gets a trailing `/`),
/// `headers` the signed headers (lower-case names, trimmed values), sorted by name; must include `x-sdk-date`.
/// Returns the `Authorization` value.
#[must_use]
pub fn huawei(
    ak: &str,
    sk: &str,
    method: &str,
    path: &str,
    query: &BTreeMap<String, String>,
    headers: &[(&str, &str)],
    body: &str,
) -> String {
    let uri = if path.ends_with('/') {
        path.to_owned()
    } else {
        format!("{path}/")
    };
    let canonical_headers = header_lines(headers, str::trim);
    let signed_headers = headers
        .iter()
        .map(|(k, _)| *k)
        .collect::<Vec<_>>()
        .join(";");
    let canonical_request = format!(
        "{method}\n{uri}\n{}\n{canonical_headers}\n{signed_headers}\n{}",
        canonical_query(query),
        sha256_hex(body.as_bytes())
    );
    let date = headers
        .iter()
        .find(|(k, _)| *k == "x-sdk-date")
        .map_or("", |(_, v)| *v);
    let string_to_sign = format!(
        "SDK-HMAC-SHA256\n{date}\n{}",
        sha256_hex(canonical_request.as_bytes())
    );
    let signature = hex(&hmac_sha256(sk.as_bytes(), string_to_sign.as_bytes()));
    format!("SDK-HMAC-SHA256 Access={ak}, SignedHeaders={signed_headers}, Signature={signature}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn aliyun_v1_official_vector() {
        let p = params(&[
            ("AccessKeyId", "testid"),
            ("Action", "DescribeRegions"),
            ("Format", "XML"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"),
            ("SignatureVersion", "1.0"),
            ("Timestamp", "2016-02-23T12:46:24Z"),
            ("Version", "2014-05-26"),
        ]);
        assert_eq!(
            canonical_query(&p),
            "AccessKeyId=testid&Action=DescribeRegions&Format=XML&SignatureMethod=HMAC-SHA1&SignatureNonce=3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf&SignatureVersion=1.0&Timestamp=2016-02-23T12%3A46%3A24Z&Version=2014-05-26"
        );
        assert_eq!(
            aliyun_v1("GET", &p, "testsecret"),
            "OLeaidS1JvxuMvnyHOwuJ+uX5qY="
        );
        assert_eq!(
            aliyun_v1("POST", &p, "testsecret"),
            "MxbnVAM4w6sft9xjVpe/GCKueuk="
        );
    }

    #[test]
    fn aliyun_v1_alidns_fixture_and_encoding() {
        let p = params(&[
            ("AccessKeyId", "testid"),
            ("Action", "DescribeSubDomainRecords"),
            ("Format", "JSON"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"),
            ("SignatureVersion", "1.0"),
            ("SubDomain", "www.example.com"),
            ("Timestamp", "2016-02-23T12:46:24Z"),
            ("Type", "A"),
            ("Version", "2015-01-09"),
        ]);
        assert_eq!(
            aliyun_v1("GET", &p, "testsecret"),
            "9GvCzl+fgpeRILtUOI2QukvqqEA="
        );
        assert_eq!(pct("a b*~"), "a%20b%2A~");
    }

    #[test]
    fn tc3_official_vector() {
        let body = r#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#;
        assert_eq!(
            sha256_hex(body.as_bytes()),
            "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
        );
        let auth = tc3(
            "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
            "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
            "cvm",
            1_551_113_065,
            &[
                ("content-type", "application/json; charset=utf-8"),
                ("host", "cvm.tencentcloudapi.com"),
            ],
            body,
        );
        assert_eq!(
            auth,
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
        );
    }

    #[test]
    fn tc3_dnspod_fixture() {
        let body = r#"{"Domain":"example.com","SubDomain":"www","RecordType":"A","RecordLine":"默认","Value":"203.0.113.7","RecordId":162}"#;
        assert_eq!(
            sha256_hex(body.as_bytes()),
            "77ef3b62dbf02449a7fab128c4097be08c6304625d3c62785bfac12a700482ba"
        );
        let auth = tc3(
            "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
            "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
            "dnspod",
            1_551_113_065,
            &[
                ("content-type", "application/json; charset=utf-8"),
                ("host", "dnspod.tencentcloudapi.com"),
                ("x-tc-action", "modifyrecord"),
            ],
            body,
        );
        assert!(
            auth.ends_with(
                "Signature=faf0cede9ffcce7a0a08af44c1eb470bc6171e76f70f01297a07a8f58cf0c6d7"
            ),
            "{auth}"
        );
    }

    #[test]
    fn huawei_official_vector() {
        let auth = huawei(
            "QTWAOYTTINDUT2QVKYUC",
            "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc",
            "GET",
            "/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs",
            &params(&[
                ("limit", "2"),
                ("marker", "13551d6b-755d-4757-b956-536f674975c0"),
            ]),
            &[
                ("content-type", "application/json"),
                ("host", "service.region.example.com"),
                ("x-sdk-date", "20191115T033655Z"),
            ],
            "",
        );
        assert_eq!(
            auth,
            "SDK-HMAC-SHA256 Access=QTWAOYTTINDUT2QVKYUC, SignedHeaders=content-type;host;x-sdk-date, Signature=7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe"
        );
    }

    #[test]
    fn huawei_dns_fixture() {
        let body = r#"{"records":["203.0.113.7"],"ttl":300}"#;
        assert_eq!(
            sha256_hex(body.as_bytes()),
            "830edd54767a38e382ef840500a7c07de639072a8da8f85b811e8b07eb5ffb4f"
        );
        let auth = huawei(
            "QTWAOYTTINDUT2QVKYUC",
            "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc",
            "PUT",
            "/v2.1/zones/2c9eb155587194ec01587224c9f90149/recordsets/2c9eb155587228570158722b6ac30007",
            &BTreeMap::new(),
            &[
                ("content-type", "application/json"),
                ("host", "dns.myhuaweicloud.com"),
                ("x-sdk-date", "20191115T033655Z"),
            ],
            body,
        );
        assert!(
            auth.ends_with(
                "Signature=1cee48c0124c1ef0e3b54dcc531141059967dde206f87c64e026038bda3ba318"
            ),
            "{auth}"
        );
    }
}
