//! HTTP plumbing shared by IP sources and providers: client construction (rustls with ring), bounded body
//! reads, `Retry-After` parsing, error text that never carries a URL (URLs may hold tokens), and the text of
//! answers for people (markup reduced to text, GBK decoded: [`charset`]).
//!
//! Every client shares one TLS configuration whose certificate verifier loads the OS's root certificates on
//! the first https handshake, once per process: a daemon with plain-http sources and providers never loads
//! them, and one with ten providers loads them once, not ten times (each reqwest client would otherwise read
//! and parse the whole system store when it is built).

pub mod charset;
pub mod template;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::{Arc, Once, OnceLock};
use std::time::{Duration, SystemTime};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

use crate::config::Family;

/// Sent on every request; providers such as No-IP and Dyn refuse requests without a descriptive agent.
pub const USER_AGENT: &str = concat!(
    "ddns-tray/",
    env!("CARGO_PKG_VERSION"),
    " (+https://github.com/ddns-tray/ddns-tray)"
);

fn install_crypto() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Fails only when another provider was installed first, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// The OS's certificate verifier, built (and the roots loaded) on first use.
struct LazyVerifier {
    provider: Arc<rustls::crypto::CryptoProvider>,
    inner: OnceLock<Result<Arc<rustls_platform_verifier::Verifier>, rustls::Error>>,
}

impl std::fmt::Debug for LazyVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LazyVerifier")
    }
}

impl LazyVerifier {
    fn get(&self) -> Result<&Arc<rustls_platform_verifier::Verifier>, rustls::Error> {
        self.inner
            .get_or_init(|| {
                tracing::debug!("loading the system's root certificates");
                rustls_platform_verifier::Verifier::new(self.provider.clone()).map(Arc::new)
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

impl ServerCertVerifier for LazyVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.get()?
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.get()?.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.get()?.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The TLS configuration every client shares (built once; cheap until the first https handshake).
fn tls_config() -> rustls::ClientConfig {
    static CONFIG: OnceLock<rustls::ClientConfig> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            install_crypto();
            let provider = rustls::crypto::CryptoProvider::get_default()
                .cloned()
                .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()));
            let mut config = rustls::ClientConfig::builder_with_provider(provider.clone())
                .with_safe_default_protocol_versions()
                .unwrap_or_else(|_| {
                    rustls::ClientConfig::builder_with_provider(provider.clone())
                        .with_protocol_versions(rustls::DEFAULT_VERSIONS)
                        .expect("the default TLS versions are supported by ring")
                })
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(LazyVerifier {
                    provider,
                    inner: OnceLock::new(),
                }))
                .with_no_client_auth();
            config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
            config
        })
        .clone()
}

/// A client for IP detection: no proxy (a proxy would report its own address) and, when `family` is given,
/// sockets bound to that family so an IPv6 question is never answered over IPv4 — to `local` when given
/// (a stable IPv6 address), else to the family's unspecified address.
#[must_use]
pub fn detection_client(family: Option<Family>, local: Option<IpAddr>) -> reqwest::Client {
    detection_client_via(family, local, None)
}

/// [`detection_client`] through `proxy` (a source with `proxy` and `allow_proxy = true`); `None`: direct.
#[must_use]
pub fn detection_client_via(
    family: Option<Family>,
    local: Option<IpAddr>,
    proxy: Option<&crate::config::Proxy>,
) -> reqwest::Client {
    install_crypto();
    let local = local.or_else(|| {
        family.map(|f| match f {
            Family::V4 => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            Family::V6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        })
    });
    let builder = reqwest::Client::builder()
        .tls_backend_preconfigured(tls_config())
        .user_agent(USER_AGENT)
        .local_address(local)
        .connect_timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::limited(3));
    let builder = match proxy {
        Some(p @ crate::config::Proxy::Via { .. }) => builder.proxy(reqwest_proxy(p)),
        _ => builder.no_proxy(),
    };
    builder.build().unwrap_or_else(|_| reqwest::Client::new())
}

/// A detection client whose sockets go out through a `[[line]]`: bound to the line's interface
/// (`SO_BINDTODEVICE` on Linux, `IP_BOUND_IF` on macOS) or local address. `local` is the address to bind
/// on systems that cannot bind to an interface (Windows: the interface's current address of `family`).
#[must_use]
pub fn line_client(
    family: Family,
    bind: &crate::config::LineBind,
    local: Option<IpAddr>,
) -> reqwest::Client {
    install_crypto();
    let builder = reqwest::Client::builder()
        .tls_backend_preconfigured(tls_config())
        .user_agent(USER_AGENT)
        .no_proxy()
        .connect_timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::limited(3));
    let unspecified = match family {
        Family::V4 => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        Family::V6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    };
    bound(builder, bind, local, Some(unspecified))
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

/// A client for provider APIs sent through a `[[line]]` (`provider_via_line`): bound like
/// [`line_client`], and no proxy (a proxy would be reached through the default route).
#[must_use]
pub fn line_api_client(bind: &crate::config::LineBind, local: Option<IpAddr>) -> reqwest::Client {
    install_crypto();
    let builder = reqwest::Client::builder()
        .tls_backend_preconfigured(tls_config())
        .user_agent(USER_AGENT)
        .no_proxy()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none());
    bound(builder, bind, local, None)
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

/// Binds a client's sockets to a line: its source address; or its interface (with `family`'s unspecified
/// address when given, so only that family is used), or, where sockets cannot be bound to an interface, the
/// interface's address `local`.
fn bound(
    builder: reqwest::ClientBuilder,
    bind: &crate::config::LineBind,
    local: Option<IpAddr>,
    unspecified: Option<IpAddr>,
) -> reqwest::ClientBuilder {
    match bind {
        crate::config::LineBind::Source(ip) => builder.local_address(Some(*ip)),
        #[cfg(any(target_os = "linux", target_os = "macos", target_os = "android"))]
        crate::config::LineBind::Interface(name) => {
            let _ = local;
            builder.interface(name).local_address(unspecified)
        }
        #[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "android")))]
        crate::config::LineBind::Interface(_) => {
            let _ = unspecified;
            builder.local_address(local)
        }
    }
}

/// A client for provider APIs and alerts, through the OS's proxy setting (`HTTPS_PROXY`/`NO_PROXY` and
/// the like everywhere; the `WinINET` setting on Windows, the system configuration on macOS).
#[must_use]
pub fn api_client() -> reqwest::Client {
    api_client_via(None)
}

/// [`api_client`] with the config's `proxy`: `None` is the OS's setting, [`Proxy::Direct`] no proxy at
/// all, [`Proxy::Via`] that proxy (its credentials sent as it asks: Basic for HTTP, RFC 1929 for SOCKS5).
///
/// [`Proxy::Direct`]: crate::config::Proxy::Direct
/// [`Proxy::Via`]: crate::config::Proxy::Via
#[must_use]
pub fn api_client_via(proxy: Option<&crate::config::Proxy>) -> reqwest::Client {
    install_crypto();
    let mut builder = reqwest::Client::builder()
        .tls_backend_preconfigured(tls_config())
        .user_agent(USER_AGENT)
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none());
    match proxy {
        None => {}
        Some(crate::config::Proxy::Direct) => builder = builder.no_proxy(),
        Some(p) => builder = builder.proxy(reqwest_proxy(p)),
    }
    builder.build().unwrap_or_else(|_| reqwest::Client::new())
}

/// The proxy with its credentials in the URL (Basic for HTTP proxies, RFC 1929 for SOCKS5).
fn reqwest_proxy(proxy: &crate::config::Proxy) -> reqwest::Proxy {
    let crate::config::Proxy::Via {
        url,
        username,
        password,
    } = proxy
    else {
        return unusable_proxy();
    };
    let mut with = reqwest::Url::parse(url).ok();
    if let Some(u) = with.as_mut() {
        let _ = u.set_username(username.as_deref().unwrap_or(""));
        let _ = u.set_password(password.as_ref().map(crate::config::Secret::expose));
    }
    // Validated at load; never fall back to going direct silently.
    with.and_then(|u| reqwest::Proxy::all(u.as_str()).ok())
        .unwrap_or_else(unusable_proxy)
}

/// A proxy nothing answers at (a closed loopback port): calls fail instead of going direct.
fn unusable_proxy() -> reqwest::Proxy {
    reqwest::Proxy::all("http://127.0.0.1:9")
        .unwrap_or_else(|_| reqwest::Proxy::custom(|_| None::<&str>))
}

/// Reads at most `limit` bytes of body; a longer body is an error, not silently cut.
pub async fn read_body(response: reqwest::Response, limit: usize) -> Result<String, String> {
    let body = read_bytes(response, limit).await?;
    String::from_utf8(body).map_err(|_| "answer is not UTF-8 text".to_owned())
}

/// [`read_body`] as bytes, for answers in another character set (West.cn's GBK).
pub async fn read_bytes(mut response: reqwest::Response, limit: usize) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > limit {
                    return Err(format!("answer is larger than {limit} bytes"));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(e) => return Err(format!("answer cut off: {}", describe(&e))),
        }
    }
    Ok(body)
}

/// A request error as text, without the URL.
#[must_use]
pub fn describe(error: &reqwest::Error) -> String {
    let mut text = if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        "cannot connect".to_owned()
    } else if error.is_body() || error.is_decode() {
        "answer cut off or unreadable".to_owned()
    } else {
        "request failed".to_owned()
    };
    let mut source = std::error::Error::source(error);
    let mut last = String::new();
    while let Some(s) = source {
        last = s.to_string();
        source = s.source();
    }
    let lower = last.to_ascii_lowercase();
    if lower.contains("tunnel") || lower.contains("proxy") || lower.contains("socks") {
        // The proxy said no (or is not there): say so, not that the service did.
        "the proxy refused the connection (check `proxy`'s address, username and password, and whether it \
         lets this host through)"
            .clone_into(&mut text);
    }
    if !last.is_empty() && !last.contains("://") {
        text.push_str(": ");
        text.push_str(&last);
    }
    text
}

/// `Retry-After` as seconds or an HTTP date, relative to `now`.
#[must_use]
pub fn retry_after(headers: &reqwest::header::HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The scheme and host of a URL, for messages (no path or query: they may hold tokens).
#[must_use]
pub fn origin(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => {
            format!("{}://{}", u.scheme(), u.host_str().unwrap_or("?"))
                + &u.port().map(|p| format!(":{p}")).unwrap_or_default()
        }
        Err(_) => "<invalid url>".to_owned(),
    }
}

/// The first 60 characters of a text as [`plain_text`], for messages.
#[must_use]
pub fn snippet(text: &str) -> String {
    let plain = plain_text(text);
    if plain.chars().count() > 60 {
        let mut cut: String = plain.chars().take(60).collect();
        cut.push('…');
        cut
    } else {
        plain
    }
}

/// A text for people, on one line: markup a server sent instead of an answer (an HTML error page, an XML
/// fault) reduced to the text it shows (no tags, scripts, styles or comments; the common entities decoded),
/// control characters and runs of whitespace folded into one space.
#[must_use]
pub fn plain_text(text: &str) -> String {
    let markup = text.as_bytes().windows(2).any(|w| {
        w[0] == b'<' && (w[1].is_ascii_alphabetic() || matches!(w[1], b'!' | b'/' | b'?'))
    });
    let stripped = if markup {
        strip_markup(text)
    } else {
        text.to_owned()
    };
    stripped
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn strip_markup(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while let Some(at) = text[i..].find('<').map(|p| p + i) {
        out.push_str(&text[i..at]);
        out.push(' ');
        let rest = &lower[at..];
        let end = if rest.starts_with("<!--") {
            rest.find("-->").map(|p| p + 3)
        } else if let Some(block) = ["script", "style"]
            .into_iter()
            .find(|b| rest[1..].starts_with(b))
        {
            rest.find(&format!("</{block}"))
                .and_then(|p| rest[p..].find('>').map(|q| p + q + 1))
        } else {
            rest.find('>').map(|p| p + 1)
        };
        let Some(len) = end else {
            i = text.len();
            break;
        };
        i = at + len;
    }
    out.push_str(&text[i..]);
    out.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// Replaces every occurrence of the given secrets in `text` with `***` (for text a server sent back).
#[must_use]
pub fn redact(text: &str, secrets: &[&str]) -> String {
    // Longest first: a whole URL or path before the token inside it.
    let mut secrets: Vec<&str> = secrets.iter().copied().filter(|s| s.len() >= 4).collect();
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let mut out = text.to_owned();
    for s in secrets {
        out = out.replace(s, "***");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};

    #[test]
    fn markup_is_reduced_to_its_text() {
        let page = "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>501 Not Implemented</title>\n<style>body { color: red }</style><script>var x = 1 < 2;</script>\n</head><body>\n<!-- a comment -->\n<h1>Not Implemented</h1>\n<p>GET to /v2/zones not supported.<br />\n</p>\n</body></html>\n";
        assert_eq!(
            plain_text(page),
            "501 Not Implemented Not Implemented GET to /v2/zones not supported."
        );
        assert_eq!(
            snippet(&format!("HTTP 501 Not Implemented: {page}")),
            "HTTP 501 Not Implemented: 501 Not Implemented Not Implemente…"
        );
        assert_eq!(
            plain_text(
                "<?xml version=\"1.0\"?><Error><Code>InvalidChangeBatch</Code><Message>a &amp; b</Message></Error>"
            ),
            "InvalidChangeBatch a & b"
        );
        // Text that only mentions < and > is left alone; lines are folded.
        assert_eq!(
            plain_text("ttl < 60 or > 86400\r\n\tsee docs"),
            "ttl < 60 or > 86400 see docs"
        );
        // An unclosed tag drops the rest, never the text before it.
        assert_eq!(plain_text("bad gateway <html"), "bad gateway");
        assert_eq!(plain_text("<script>never closed"), "");
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = httpdate::parse_http_date("Wed, 25 Nov 2026 10:00:00 GMT").unwrap();
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h, now), None);
        h.insert(RETRY_AFTER, HeaderValue::from_static("120"));
        assert_eq!(retry_after(&h, now), Some(Duration::from_mins(2)));
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 25 Nov 2026 10:05:00 GMT"),
        );
        assert_eq!(retry_after(&h, now), Some(Duration::from_mins(5)));
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h, now), None);
    }

    #[test]
    fn origin_drops_path_and_query() {
        assert_eq!(
            origin("https://www.duckdns.org/update?token=abc"),
            "https://www.duckdns.org"
        );
        assert_eq!(
            origin("http://127.0.0.1:8081/api/v1"),
            "http://127.0.0.1:8081"
        );
    }
}
