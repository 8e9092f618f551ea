//! A user-defined HTTP request, shared by the webhook provider and the webhook notifier: a URL, a method,
//! headers whose values may be secrets, and a body, each with `{placeholder}`s that are filled in escaped
//! for their place (percent-encoded in the URL, one line of text in a header, JSON-escaped in a JSON body).
//! The tokens such a request carries (query values, token-like path segments, body strings) are masked
//! wherever a server echoes them.

use std::collections::BTreeMap;

use crate::config::Secret;
use crate::config::check::FieldCheck;

/// HTTP methods a user-defined request may use.
pub const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE"];

/// The parts of a user-defined request, as a kind's config holds them.
#[derive(Debug, Clone, Copy)]
pub struct Template<'a> {
    pub url: &'a str,
    pub method: Option<&'a str>,
    pub headers: &'a BTreeMap<String, Secret>,
    pub body: Option<&'a str>,
}

impl Template<'_> {
    /// The checks of the request: the URL with its placeholders filled is an http(s) URL; the method is
    /// known; header names and values are valid (a value with a line break would fail every request).
    pub fn check(&self, check: &mut FieldCheck<'_>, placeholders: &[&str]) {
        let sample = placeholders
            .iter()
            .fold(self.url.to_owned(), |u, p| u.replace(p, "x"));
        check.http_url("url", &sample);
        if let Some(m) = self.method
            && !METHODS.contains(&m.to_ascii_uppercase().as_str())
        {
            check.problem(
                "method",
                "check.request.unsupported_method",
                &[("m", &m), ("choices", &METHODS.join(", "))],
            );
        }
        for (name, value) in self.headers {
            if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
                check.problem(
                    &format!("headers.{name}"),
                    "check.request.valid_header_name",
                    &[],
                );
            }
            // The value itself is never quoted (it may be a secret).
            if reqwest::header::HeaderValue::from_str(value.expose()).is_err() {
                check.problem(
                    &format!("headers.{name}"),
                    "check.request.valid_header_value_holds",
                    &[],
                );
            }
        }
    }

    /// The method: as configured, else POST with a body and GET without.
    #[must_use]
    pub fn method(&self) -> reqwest::Method {
        self.method.map_or(
            if self.body.is_some() {
                reqwest::Method::POST
            } else {
                reqwest::Method::GET
            },
            |m| {
                reqwest::Method::from_bytes(m.to_ascii_uppercase().as_bytes())
                    .unwrap_or(reqwest::Method::GET)
            },
        )
    }

    /// The request with `values` (`("{ip}", "198.51.100.7")`, ...) filled in, each escaped for its place.
    pub fn build(
        &self,
        client: &reqwest::Client,
        values: &[(&str, &str)],
    ) -> reqwest::RequestBuilder {
        let mut request = client.request(self.method(), fill(self.url, values, Escape::Url));
        for (name, value) in self.headers {
            request = request.header(
                name.as_str(),
                header_text(&fill(value.expose(), values, Escape::None)),
            );
        }
        if let Some(body) = self.body {
            let json = {
                let b = body.trim_start();
                b.starts_with('{') || b.starts_with('[')
            };
            request = request.body(fill(
                body,
                values,
                if json { Escape::Json } else { Escape::None },
            ));
        }
        request
    }

    /// Everything to mask in what a server sends back: the header values (they may be secrets), query
    /// values, the password of the URL, path segments that look like tokens (and the whole path when one
    /// does), and string values of a JSON or form body; placeholders are not tokens.
    #[must_use]
    pub fn tokens(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .headers
            .values()
            .map(|v| v.expose().to_owned())
            .collect();
        out.extend(tokens(self.url, self.body));
        out
    }
}

/// How a placeholder's value is escaped where it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escape {
    None,
    /// Percent-encoded, `:` kept (an IPv6 address reads as one in a query or path).
    Url,
    /// Escaped as inside a JSON string.
    Json,
}

/// Fills the placeholders of `template` with `values`, escaped.
#[must_use]
pub fn fill(template: &str, values: &[(&str, &str)], escape: Escape) -> String {
    let mut out = template.to_owned();
    for (key, value) in values {
        if !out.contains(key) {
            continue;
        }
        let value = match escape {
            Escape::None => (*value).to_owned(),
            Escape::Url => crate::encode::pct_except(value, b":"),
            Escape::Json => {
                let quoted = serde_json::Value::String((*value).to_owned()).to_string();
                quoted[1..quoted.len() - 1].to_owned()
            }
        };
        out = out.replace(key, &value);
    }
    out
}

/// Header values are one line of visible text: line breaks become spaces, and non-ASCII text is
/// RFC 2047-encoded (ntfy's `Title` accepts it so).
#[must_use]
pub fn header_text(text: &str) -> String {
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if one_line.is_ascii() {
        one_line
    } else {
        use base64::Engine as _;
        format!(
            "=?UTF-8?B?{}?=",
            base64::engine::general_purpose::STANDARD.encode(one_line.as_bytes())
        )
    }
}

/// Whether a path segment looks like a token rather than a word of the API's structure (`api`, `push`,
/// `hooks`): long, or with digits or capitals in it.
fn token_like(segment: &str) -> bool {
    segment.len() >= 12
        || (segment.len() >= 4
            && segment
                .bytes()
                .any(|c| c.is_ascii_digit() || c.is_ascii_uppercase()))
}

/// Values in a URL (and body) worth masking when a server echoes them: query values, the password of
/// the URL, path segments that look like tokens (and the whole path when one does), and string values of
/// a JSON or form body; placeholders are not tokens.
#[must_use]
pub fn tokens(url: &str, body: Option<&str>) -> Vec<String> {
    let plain = |v: &str| !v.contains('{') && v.len() >= 4;
    let mut out = Vec::new();
    if let Ok(u) = reqwest::Url::parse(url) {
        out.extend(u.password().map(str::to_owned));
        out.extend(
            u.query_pairs()
                .map(|(_, v)| v.into_owned())
                .filter(|v| plain(v)),
        );
        let tokens: Vec<String> = u
            .path_segments()
            .into_iter()
            .flatten()
            .filter(|s| token_like(s) && plain(s))
            .map(str::to_owned)
            .collect();
        // The path as a whole first: a server echoing `/wh/<token>` shows no part of it.
        if !tokens.is_empty() && !u.path().contains('{') {
            out.push(u.path().to_owned());
        }
        out.extend(tokens);
    }
    if let Some(body) = body {
        match serde_json::from_str::<serde_json::Value>(body) {
            Ok(v) => collect_strings(&v, &mut out),
            Err(_) => out.extend(
                body.split('&')
                    .filter_map(|kv| kv.split_once('=').map(|(_, v)| v.to_owned())),
            ),
        }
        out.retain(|v| plain(v));
    }
    out
}

fn collect_strings(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|x| collect_strings(x, out)),
        serde_json::Value::Object(o) => o.values().for_each(|x| collect_strings(x, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_escaped_for_their_place() {
        let values = [
            ("{title}", "Updated \"a\""),
            ("{message}", "Updated \"a\"\nx & y"),
            ("{ip}", "2001:db8::7"),
            ("{old}", ""),
        ];
        assert_eq!(
            fill("https://h/?t={title}&ip={ip}&o={old}", &values, Escape::Url),
            "https://h/?t=Updated%20%22a%22&ip=2001:db8::7&o="
        );
        assert_eq!(
            fill(r#"{"m":"{message}"}"#, &values, Escape::Json),
            r#"{"m":"Updated \"a\"\nx & y"}"#
        );
        assert_eq!(header_text("a\nb"), "a b");
        assert_eq!(header_text("更新"), "=?UTF-8?B?5pu05paw?=");
    }
}
