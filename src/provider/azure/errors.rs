//! Azure's refusals by their codes: Entra ID's token errors (`AADSTS…`, `error`) and Azure Resource
//! Manager's (`{"error":{"code","message"}}`, or the DNS provider's flat `{"code","message"}`).

use serde_json::Value;

use crate::provider::{Answer, ErrorClass, ProviderError};

/// `(code, message)` of an error body: ARM's `{"error":{"code","message"}}` or the DNS provider's flat
/// `{"code","message"}` (its 404 for a missing record set).
pub(super) fn cloud_error(body: &str) -> (String, String) {
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let e = if v["error"].is_object() {
        &v["error"]
    } else {
        &v
    };
    let text = |k: &str| e[k].as_str().unwrap_or_default().to_owned();
    (text("code"), text("message"))
}

/// An Entra ID refusal by its `AADSTS` code, else its `error`.
pub(super) fn token_error(label: &str, answer: &Answer) -> ProviderError {
    let status = answer.status.as_u16();
    if status == 429 || status >= 500 {
        return answer.status_error(&format!("{label} (token)"), None);
    }
    let v: Value = serde_json::from_str(&answer.body).unwrap_or(Value::Null);
    let error = v["error"].as_str().unwrap_or_default();
    let description = v["error_description"].as_str().unwrap_or_default();
    // The first line (`AADSTS…: text`); the trace and correlation ids follow on the next lines.
    let first = answer.redact(description.lines().next().unwrap_or_default().trim());
    let code = v["error_codes"][0].as_u64().or_else(|| {
        let digits = description.strip_prefix("AADSTS")?;
        digits
            .split(|c: char| !c.is_ascii_digit())
            .next()?
            .parse()
            .ok()
    });
    let why = match code {
        Some(7_000_215) => "the client secret is wrong (use the secret's Value, not its Secret ID)",
        Some(7_000_222) => "the client secret has expired; add a new one to the app registration",
        Some(700_016) => "no app with this client_id in the tenant (check client_id and tenant_id)",
        Some(90_002 | 900_023) => "the tenant was not found (check tenant_id)",
        _ => match error {
            "invalid_client" | "unauthorized_client" | "invalid_grant" | "invalid_tenant" => {
                "the credentials were refused"
            }
            "invalid_scope" => {
                return ProviderError::rejected(format!(
                    "{label}: the token's scope was refused; check `endpoint` ({error}: {first})"
                ));
            }
            "temporarily_unavailable" => {
                return ProviderError::transient(format!("{label}: sign-in unavailable ({first})"));
            }
            _ => return answer.status_error(&format!("{label} (token)"), Some(&first)),
        },
    };
    ProviderError::auth(format!("{label}: {why} ({error}: {first})"))
}

/// An ARM refusal by its status and code.
pub(super) fn arm_error(label: &str, answer: &Answer) -> ProviderError {
    let (code, message) = cloud_error(&answer.body);
    let detail = if code.is_empty() {
        answer.snippet()
    } else {
        format!("{code}: {}", answer.redact(&message))
    };
    match answer.status.as_u16() {
        401 => ProviderError::auth(format!(
            "{label}: the access token was refused twice ({detail})"
        )),
        403 => ProviderError::auth(format!(
            "{label}: no permission ({detail}); give the app the DNS Zone Contributor role on the zone (a new role assignment takes a few minutes)"
        )),
        404 => ProviderError::rejected(format!(
            "{label}: not found; check subscription_id, resource_group and zone ({detail})"
        )),
        // The set changed (or appeared) since it was read: read it again next time.
        412 => ProviderError::transient(format!(
            "{label}: the record set changed meanwhile ({detail})"
        )),
        429 => ProviderError::new(
            ErrorClass::RateLimited {
                retry_after: answer.retry_after.map(|d| d.as_secs()),
            },
            format!("{label}: rate limited ({detail})"),
        ),
        _ => answer.status_error(label, Some(&detail)),
    }
}
