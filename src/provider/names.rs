//! Names and zones as the provider APIs need them: a name's suffixes (zone candidates), the longest zone
//! among an account's, the name relative to its zone (`@` for the apex), the usual registered domain, URL
//! pieces (base URL, host, one path segment) and the compared form of a name.

use super::{ProviderError, Zone, sign};

/// `a.b.example.com` -> `a.b.example.com`, `b.example.com`, `example.com` (longest first; never a bare TLD).
#[must_use]
pub(crate) fn suffixes(name: &str) -> Vec<String> {
    let labels: Vec<&str> = name.split('.').collect();
    (0..labels.len().saturating_sub(1))
        .map(|i| labels[i..].join("."))
        .collect()
}

/// Of `zones` (lower-case, no trailing dot), the longest one holding `name`.
#[must_use]
pub(crate) fn longest_zone<'a>(
    name: &str,
    zones: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    zones
        .into_iter()
        .filter(|z| in_zone(name, z))
        .max_by_key(|z| z.len())
}

/// The zone holding `name` among an account's `(name, id)` domains: the longest that holds it, with its id.
///
/// # Errors
/// No domain holds `name` (a rejected request: the record's name is wrong for this account).
pub(crate) fn zone_among(
    label: &str,
    name: &str,
    domains: &[(String, impl ToString)],
) -> Result<Zone, ProviderError> {
    let zone = longest_zone(name, domains.iter().map(|(n, _)| n.as_str())).ok_or_else(|| {
        ProviderError::rejected(format!("{label}: no domain of this account holds {name}"))
    })?;
    let id = domains
        .iter()
        .find(|(n, _)| n == zone)
        .map(|(_, id)| id.to_string())
        .unwrap_or_default();
    Ok(Zone {
        id,
        name: zone.to_owned(),
    })
}

/// Whether `name` is `zone` or below it (both lower-case, no trailing dot).
#[must_use]
pub(crate) fn in_zone(name: &str, zone: &str) -> bool {
    name == zone
        || name
            .strip_suffix(zone)
            .is_some_and(|rest| rest.ends_with('.'))
}

/// The name relative to its zone: `home` for `home.example.com` in `example.com`, `@` for the apex.
#[must_use]
pub(crate) fn relative(name: &str, zone: &str) -> String {
    name.strip_suffix(zone)
        .and_then(|r| r.strip_suffix('.'))
        .filter(|r| !r.is_empty())
        .map_or_else(|| "@".to_owned(), str::to_owned)
}

/// The last two labels: the registered domain for the usual one-label public suffixes (`.com`, `.de`).
#[must_use]
pub(crate) fn last_two_labels(name: &str) -> String {
    let labels: Vec<&str> = name.split('.').collect();
    labels[labels.len().saturating_sub(2)..].join(".")
}

/// The configured endpoint or the default, without a trailing slash.
#[must_use]
pub(crate) fn base_url(endpoint: Option<&str>, default: &str) -> String {
    endpoint.unwrap_or(default).trim_end_matches('/').to_owned()
}

/// `host[:port]` of a base URL, as signed request headers carry it.
#[must_use]
pub(crate) fn host_of(base: &str) -> String {
    reqwest::Url::parse(base)
        .ok()
        .and_then(|u| {
            u.host_str().map(|h| {
                u.port()
                    .map_or_else(|| h.to_owned(), |p| format!("{h}:{p}"))
            })
        })
        .unwrap_or_default()
}

/// Percent-encodes one URL path segment (RFC 3986: unreserved characters, and `@` and `*`, stay).
#[must_use]
pub(crate) fn segment(s: &str) -> String {
    sign::pct_except(s, b"@*")
}

/// Lowercase, without one trailing dot: how zone and record names are compared.
#[must_use]
pub(crate) fn canonical(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// `zones` as the user sees them: canonical (lower-case, no trailing dot), sorted, each once.
pub(crate) fn sorted_zones(zones: Vec<String>) -> Vec<String> {
    let mut zones: Vec<String> = zones
        .into_iter()
        .map(|z| canonical(&z))
        .filter(|z| !z.is_empty())
        .collect();
    zones.sort_unstable();
    zones.dedup();
    zones
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_helpers() {
        assert_eq!(
            suffixes("a.b.example.com"),
            ["a.b.example.com", "b.example.com", "example.com"]
        );
        assert_eq!(relative("home.example.com", "example.com"), "home");
        assert_eq!(relative("example.com", "example.com"), "@");
        assert_eq!(relative("a.b.example.com", "example.com"), "a.b");
        assert_eq!(last_two_labels("a.b.example.com"), "example.com");
        assert_eq!(segment("a/b c"), "a%2Fb%20c");
        assert_eq!(segment("*.x@"), "*.x@");
        assert!(in_zone("a.example.com", "example.com"));
        assert!(in_zone("example.com", "example.com"));
        assert!(!in_zone("aexample.com", "example.com"));
        assert_eq!(
            longest_zone(
                "a.b.example.com",
                ["example.com", "b.example.com", "c.example.com"]
            ),
            Some("b.example.com")
        );
    }
}
