//! Route 53's XML: the documents it answers (hosted zones, record sets, changes, errors) and the change
//! request it takes.

use std::fmt::Write as _;

use serde::Deserialize;

use super::XMLNS;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct HostedZones {
    #[serde(default)]
    pub(super) hosted_zones: Option<HostedZoneList>,
    /// `ListHostedZones`: more zones after this page, from `NextMarker`.
    #[serde(default)]
    pub(super) is_truncated: bool,
    #[serde(default)]
    pub(super) next_marker: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct HostedZoneList {
    #[serde(rename = "HostedZone", default)]
    pub(super) items: Vec<HostedZone>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct HostedZone {
    pub(super) id: String,
    pub(super) name: String,
    #[serde(default)]
    pub(super) config: Option<HostedZoneConfig>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct HostedZoneConfig {
    #[serde(default)]
    pub(super) private_zone: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct RecordSets {
    #[serde(default)]
    pub(super) resource_record_sets: Option<RecordSetList>,
    #[serde(default)]
    pub(super) is_truncated: bool,
    #[serde(default)]
    pub(super) next_record_name: Option<String>,
    #[serde(default)]
    pub(super) next_record_type: Option<String>,
    #[serde(default)]
    pub(super) next_record_identifier: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct RecordSetList {
    #[serde(rename = "ResourceRecordSet", default)]
    pub(super) items: Vec<RecordSet>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct RecordSet {
    pub(super) name: String,
    #[serde(rename = "Type")]
    pub(super) record_type: String,
    #[serde(rename = "TTL", default)]
    pub(super) ttl: Option<u32>,
    #[serde(default)]
    pub(super) set_identifier: Option<String>,
    #[serde(default)]
    pub(super) alias_target: Option<AliasTarget>,
    #[serde(default)]
    pub(super) resource_records: Option<ResourceRecords>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct AliasTarget {
    #[serde(rename = "DNSName", default)]
    pub(super) _dns_name: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct ResourceRecords {
    #[serde(rename = "ResourceRecord", default)]
    pub(super) items: Vec<ResourceRecord>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ResourceRecord {
    pub(super) value: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ChangeResponse {
    pub(super) change_info: ChangeInfo,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ChangeInfo {
    pub(super) id: String,
    pub(super) status: String,
}

/// `ErrorResponse{Error{Type, Code, Message}}`, or `InvalidChangeBatch{Messages{Message…}}` as its own root.
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ErrorBody {
    #[serde(default)]
    pub(super) error: Option<ErrorDetail>,
    #[serde(default)]
    pub(super) messages: Option<Messages>,
    #[serde(default)]
    pub(super) message: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ErrorDetail {
    #[serde(default)]
    pub(super) code: String,
    #[serde(default)]
    pub(super) message: String,
}

#[derive(Deserialize)]
pub(super) struct Messages {
    #[serde(rename = "Message", default)]
    pub(super) items: Vec<String>,
}

/// The local name of the document's root element.
pub(super) fn root_name(xml: &str) -> Option<String> {
    let mut reader = quick_xml::Reader::from_str(xml);
    loop {
        match reader.read_event().ok()? {
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => {
                return Some(String::from_utf8_lossy(e.local_name().as_ref()).into_owned());
            }
            quick_xml::events::Event::Eof => return None,
            _ => {}
        }
    }
}

/// A name as Route 53 returns it (`\052` for `*`, other `\ddd` octal escapes, a trailing dot), compared
/// form: lower-case, unescaped, no trailing dot.
pub(super) fn unescape_name(name: &str) -> String {
    let bytes = name.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\'
            && let Some(code) = name
                .get(i + 1..i + 4)
                .and_then(|d| u8::from_str_radix(d, 8).ok())
        {
            out.push(code);
            i += 4;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    crate::provider::canonical(&String::from_utf8_lossy(&out))
}

pub(super) fn escape(text: &str) -> String {
    quick_xml::escape::escape(text).into_owned()
}

/// The `ChangeResourceRecordSets` document: one change, elements in the order the API requires.
pub(super) fn change_body(
    action: &str,
    name: &str,
    record_type: &str,
    ttl: u32,
    values: &[String],
) -> String {
    let records = values.iter().fold(String::new(), |mut out, v| {
        let _ = write!(
            out,
            "<ResourceRecord><Value>{}</Value></ResourceRecord>",
            escape(v)
        );
        out
    });
    format!(
        "<ChangeResourceRecordSetsRequest xmlns=\"{XMLNS}\"><ChangeBatch><Changes><Change><Action>{action}</Action><ResourceRecordSet><Name>{}</Name><Type>{record_type}</Type><TTL>{ttl}</TTL><ResourceRecords>{records}</ResourceRecords></ResourceRecordSet></Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>",
        escape(name)
    )
}
