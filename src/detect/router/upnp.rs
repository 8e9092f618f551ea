//! `UPnP` IGD: one SSDP search for the gateway's WAN connection service, its description, and the SOAP call
//! `GetExternalIPAddress`; bounded reads and waits, with the small XML reading it needs.

#[allow(clippy::wildcard_imports)] // the router source's shared types and limits
use super::*;

pub(super) fn m_search() -> String {
    format!(
        "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\nST: {SEARCH_TARGET}\r\n\r\n"
    )
}

/// The `LOCATION` of an SSDP answer from an internet gateway (or one of its connection services), if the
/// datagram is one.
#[must_use]
pub fn parse_ssdp(datagram: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(datagram).ok()?;
    let mut lines = text.split("\r\n").flat_map(|l| l.split('\n'));
    let status = lines.next()?;
    let mut words = status.split_whitespace();
    if !words.next()?.starts_with("HTTP/1.") || words.next()? != "200" {
        return None;
    }
    let (mut location, mut gateway) = (None, false);
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.trim().eq_ignore_ascii_case("location") {
            location = Some(value.to_owned());
        } else if name.trim().eq_ignore_ascii_case("st") {
            gateway = value.starts_with("urn:schemas-upnp-org:device:InternetGatewayDevice:")
                || CONNECTION_SERVICES.iter().any(|s| value.starts_with(s));
        }
    }
    location.filter(|l| gateway && l.len() <= 512)
}

/// A `LOCATION` to fetch: plain http, on the host that answered the search.
pub(super) fn location_on(location: &str, responder: Ipv4Addr) -> Result<reqwest::Url, String> {
    let url = reqwest::Url::parse(location).map_err(|_| "not a URL".to_owned())?;
    if url.scheme() != "http" {
        return Err(format!("a {} URL, not http", url.scheme()));
    }
    if url.host_str() == Some(responder.to_string().as_str()) {
        Ok(url)
    } else {
        Err(format!("not on {responder}, which answered"))
    }
}

/// One `M-SEARCH`; the `LOCATION` of the first gateway that answers (the known gateway only, when there is one).
pub(super) async fn discover(
    bind: &Bind,
    gateway: Option<Ipv4Addr>,
) -> Result<reqwest::Url, Failure> {
    let io = |e: std::io::Error| Failure::Silent(format!("UPnP: cannot search: {e}"));
    let socket = bind.udp().await.map_err(io)?;
    socket.set_multicast_ttl_v4(2).map_err(io)?;
    socket
        .send_to(m_search().as_bytes(), SSDP_GROUP)
        .await
        .map_err(io)?;
    let deadline = Instant::now() + SSDP_WAIT;
    let mut buf = [0u8; MAX_DATAGRAM];
    let mut ignored = Vec::new();
    loop {
        let (n, from) = match tokio::time::timeout_at(deadline, socket.recv_from(&mut buf)).await {
            Err(_) => break,
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionReset => continue,
            Ok(Err(e)) => return Err(io(e)),
            Ok(Ok(got)) => got,
        };
        let IpAddr::V4(from) = from.ip() else {
            continue;
        };
        let Some(location) = parse_ssdp(&buf[..n]) else {
            continue;
        };
        if gateway.is_some_and(|g| g != from) {
            ignored.push(format!("{from} is not the gateway"));
            continue;
        }
        match location_on(&location, from) {
            Ok(url) => return Ok(url),
            Err(e) => ignored.push(format!("{from}'s description is {e}")),
        }
    }
    let mut text = format!(
        "UPnP: no internet gateway answered a search within {}",
        humantime::format_duration(SSDP_WAIT)
    );
    if !ignored.is_empty() {
        text = format!("{text} (ignored: {})", ignored.join("; "));
    }
    Err(Failure::Silent(text))
}

/// The connection services of the device described at `location`.
pub(super) async fn description(
    client: &reqwest::Client,
    location: &reqwest::Url,
) -> Result<Vec<Service>, Failure> {
    let answered = |e: String| Failure::Reason(format!("UPnP: the router's description: {e}"));
    let response = client
        .get(location.clone())
        .timeout(HTTP_TIMEOUT)
        .send()
        .await
        .map_err(|e| answered(crate::http::describe(&e)))?;
    if response.url().host() != location.host() {
        return Err(answered("redirected away from the router".into()));
    }
    if !response.status().is_success() {
        return Err(answered(format!("HTTP status {}", response.status())));
    }
    let xml = crate::http::read_body(response, MAX_DESCRIPTION)
        .await
        .map_err(answered)?;
    parse_description(&xml, location).map_err(answered)
}

/// The `WANIPConnection` and `WANPPPConnection` services of a device description (IP first), their control
/// and event URLs resolved against `URLBase` or `location` and required to be on the same host and port as
/// `location` (an event URL that is not is left out).
pub fn parse_description(xml: &str, location: &reqwest::Url) -> Result<Vec<Service>, String> {
    let base = element_text(xml, "URLBase")
        .and_then(|b| reqwest::Url::parse(&b).ok())
        .filter(|b| b.scheme() == "http")
        .unwrap_or_else(|| location.clone());
    let mut found: Vec<(usize, Service)> = Vec::new();
    let mut elsewhere = false;
    for service in elements(xml, "service") {
        let Some(service_type) = element_text(service, "serviceType") else {
            continue;
        };
        let Some(rank) = CONNECTION_SERVICES
            .iter()
            .position(|s| service_type.starts_with(s))
        else {
            continue;
        };
        let Some(control) = element_text(service, "controlURL").filter(|c| !c.is_empty()) else {
            continue;
        };
        let on_router = |url: &reqwest::Url| {
            url.scheme() == "http"
                && url.host() == location.host()
                && url.port_or_known_default() == location.port_or_known_default()
        };
        match base.join(&control) {
            Ok(url) if on_router(&url) => {
                // Its events, where it has them (on the router too, like the control URL).
                let event_url = element_text(service, "eventSubURL")
                    .filter(|e| !e.is_empty())
                    .and_then(|e| base.join(&e).ok())
                    .filter(on_router);
                found.push((
                    rank,
                    Service {
                        service_type,
                        control_url: url,
                        event_url,
                    },
                ));
            }
            _ => elsewhere = true,
        }
    }
    found.sort_by_key(|(rank, _)| *rank);
    if found.is_empty() {
        return Err(if elsewhere {
            "its connection service's control URL points away from the router".into()
        } else {
            "it lists no WANIPConnection or WANPPPConnection service".into()
        });
    }
    Ok(found.into_iter().map(|(_, s)| s).take(4).collect())
}

pub(super) fn soap_request(service_type: &str) -> String {
    format!(
        "<?xml version=\"1.0\"?>\r\n<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" \
         s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body>\
         <u:GetExternalIPAddress xmlns:u=\"{service_type}\"></u:GetExternalIPAddress></s:Body></s:Envelope>\r\n"
    )
}

/// The first address the services report, in order; else why none did.
pub(super) async fn soap_any(
    client: &reqwest::Client,
    services: &[Service],
) -> Result<Ipv4Addr, Failure> {
    let mut last = Failure::Reason("UPnP: no connection service".into());
    for service in services {
        match soap(client, service).await {
            Ok(ip) => return Ok(ip),
            Err(e) => last = e,
        }
    }
    Err(last)
}

pub(super) async fn soap(client: &reqwest::Client, service: &Service) -> Result<Ipv4Addr, Failure> {
    let response = client
        .post(service.control_url.clone())
        .timeout(HTTP_TIMEOUT)
        .header("Content-Type", "text/xml; charset=\"utf-8\"")
        .header(
            "SOAPAction",
            format!("\"{}#GetExternalIPAddress\"", service.service_type),
        )
        .body(soap_request(&service.service_type))
        .send()
        .await
        .map_err(|e| {
            Failure::Silent(format!(
                "UPnP: GetExternalIPAddress: {}",
                crate::http::describe(&e)
            ))
        })?;
    let status = response.status().as_u16();
    let body = crate::http::read_body(response, MAX_SOAP)
        .await
        .map_err(|e| Failure::Reason(format!("UPnP: GetExternalIPAddress: {e}")))?;
    match parse_soap(status, &body) {
        Ok(Some(ip)) => Ok(ip),
        Ok(None) => Err(Failure::NoPublic(
            "an empty UPnP NewExternalIPAddress".into(),
        )),
        Err(e) => Err(Failure::Reason(format!("UPnP: {e}"))),
    }
}

/// The address in a `GetExternalIPAddress` answer: `Ok(None)` when the router sent an empty one.
pub fn parse_soap(status: u16, body: &str) -> Result<Option<Ipv4Addr>, String> {
    if status != 200 {
        let code = element_text(body, "errorCode");
        let why = element_text(body, "errorDescription");
        return Err(match (code, why) {
            (Some(c), Some(w)) => format!(
                "the router refused GetExternalIPAddress: UPnP error {} ({})",
                snippet(&c),
                snippet(&w)
            ),
            (Some(c), None) => format!(
                "the router refused GetExternalIPAddress: UPnP error {}",
                snippet(&c)
            ),
            _ => format!("GetExternalIPAddress: HTTP status {status}"),
        });
    }
    let Some(text) = element_text(body, "NewExternalIPAddress") else {
        return Err("the router's answer holds no NewExternalIPAddress".into());
    };
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<Ipv4Addr>().map(Some).map_err(|_| {
        format!(
            "the router's external address `{}` is not an IPv4 address",
            snippet(&text)
        )
    })
}

/// The contents of each element whose local name is `name`, in document order (the outer one where the same
/// name nests).
pub(super) fn elements<'a>(xml: &'a str, name: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(open) = xml[at..].find('<').map(|i| at + i) {
        let rest = &xml[open + 1..];
        let end_of_name = rest
            .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
            .unwrap_or(rest.len());
        let qname = &rest[..end_of_name];
        let local = qname.rsplit(':').next().unwrap_or(qname);
        let Some(close_of_tag) = rest.find('>') else {
            break;
        };
        let after_tag = open + 1 + close_of_tag + 1;
        if qname.is_empty() || qname.starts_with(['/', '?', '!']) || local != name {
            at = open + 1;
            continue;
        }
        if rest[..close_of_tag].ends_with('/') {
            out.push("");
            at = after_tag;
            continue;
        }
        let closing = format!("</{qname}");
        let mut search = after_tag;
        let mut found = None;
        while let Some(i) = xml[search..].find(&closing).map(|i| search + i) {
            let next = xml[i + closing.len()..].chars().next();
            if next.is_some_and(|c| c == '>' || c.is_whitespace()) {
                found = Some(i);
                break;
            }
            search = i + closing.len();
        }
        let Some(end) = found else {
            break;
        };
        out.push(&xml[after_tag..end]);
        at = end + closing.len();
    }
    out
}

/// The trimmed text of the first element named `name`, entities decoded.
pub(super) fn element_text(xml: &str, name: &str) -> Option<String> {
    elements(xml, name).first().map(|t| unescape(t.trim()))
}

pub(super) fn unescape(text: &str) -> String {
    if !text.contains('&') {
        return text.to_owned();
    }
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}
