//! Entry points for the fuzz suite (`fuzz/`, run by `scripts/fuzz.sh`): every parser that reads what the
//! outside world sends — config files, state files, IP sources' answers, DNS messages, provider answers. Each
//! must return an error for bad input and never panic, hang or read without bound. Not part of the API.

use crate::config::{Family, RecordType};

/// A secret lookup that answers everything, so validation runs to the end.
struct Anything;

impl crate::config::secret::Lookup for Anything {
    fn env(&self, _var: &str) -> Option<String> {
        Some("fuzz-secret-value".into())
    }

    fn keyring(&self, _entry: &str) -> Result<String, String> {
        Ok("fuzz-secret-value".into())
    }
}

/// Parses and validates a config file's text; a valid one must survive the settings window's round trip.
pub fn config(text: &str) {
    if let Ok((file, _)) = crate::settings::load_str(text, &Anything) {
        let written = file.to_toml().unwrap_or_default();
        assert!(
            crate::settings::load_str(&written, &Anything).is_ok(),
            "a valid config written back is invalid:\n{text}\n---\n{written}"
        );
    }
}

/// Reads a state file; what parses must serialise and parse again to the same state.
pub fn state(bytes: &[u8]) {
    if let Ok(state) = crate::store::parse(bytes) {
        let again = serde_json::to_vec(&state).unwrap_or_default();
        let back = crate::store::parse(&again).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, state);
    }
}

/// An HTTP or command source's answer, and Cloudflare's trace: an accepted address is of the family asked
/// and public.
pub fn source_answer(text: &str) {
    let answers = [
        crate::detect::parse_text(text),
        crate::detect::parse_trace(text),
    ];
    for ip in answers.into_iter().flatten() {
        for family in Family::ALL {
            if let Ok(checked) = crate::detect::check_answer(ip, family, false) {
                assert_eq!(Family::of(checked), family);
                assert!(crate::detect::special_range(checked).is_none());
            }
        }
    }
}

/// A DNS answer to the `dns` source, for each question type.
pub fn dns_answer(raw: &[u8]) {
    for t in [
        hickory_proto::rr::RecordType::A,
        hickory_proto::rr::RecordType::AAAA,
        hickory_proto::rr::RecordType::TXT,
    ] {
        let _ = crate::detect::answer_address(raw, t, "myip.opendns.com");
    }
}

/// A DNS UPDATE answer to the `rfc2136` provider: without a valid signature it is never "updated".
pub fn rfc2136_answer(raw: &[u8]) {
    if let Ok(crate::provider::UpdateOutcome::Updated { .. }) =
        crate::provider::fuzz_rfc2136_answer(raw)
    {
        panic!("an answer without our key's signature was believed");
    }
}

/// The record types, for targets that pick one from a byte.
#[must_use]
pub fn record_type(byte: u8) -> RecordType {
    if byte.is_multiple_of(2) {
        RecordType::A
    } else {
        RecordType::Aaaa
    }
}
