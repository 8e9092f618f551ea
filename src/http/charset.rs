//! Text of answers that may not be UTF-8: some Chinese APIs (West.cn) answer in GBK, with or without saying so.

/// Decodes an answer: the `Content-Type` charset when it names one, else UTF-8, else GBK.
#[must_use]
pub fn decode(bytes: &[u8], content_type: Option<&str>) -> String {
    let charset = content_type
        .and_then(|c| {
            c.split(';')
                .filter_map(|p| p.trim().split_once('='))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("charset"))
                .map(|(_, v)| v.trim().trim_matches('"').to_ascii_lowercase())
        })
        .unwrap_or_default();
    let gbk = matches!(charset.as_str(), "gbk" | "gb2312" | "gb18030" | "cp936");
    if !gbk && let Ok(text) = std::str::from_utf8(bytes) {
        return text.to_owned();
    }
    gbk_lossy(bytes)
}

/// GBK (and GB 18030) text with ASCII kept and every multi-byte character replaced by U+FFFD. Without a
/// code table the Chinese words of a message are lost, but everything the client reads (the JSON, ids,
/// names, addresses, codes) is ASCII, and a trail byte that looks like ASCII (`\`, `@`, letters) is never
/// taken for it.
fn gbk_lossy(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b < 0x80 {
            out.push(char::from(b));
            i += 1;
        } else if (0x81..=0xFE).contains(&b) {
            let next = bytes.get(i + 1).copied().unwrap_or(0);
            let four = (0x30..=0x39).contains(&next)
                && bytes.get(i + 2).is_some_and(|c| (0x81..=0xFE).contains(c))
                && bytes.get(i + 3).is_some_and(|c| (0x30..=0x39).contains(c));
            out.push(char::REPLACEMENT_CHARACTER);
            i += if four {
                4
            } else if (0x40..=0xFE).contains(&next) && next != 0x7F {
                2
            } else {
                1
            };
        } else {
            out.push(char::REPLACEMENT_CHARACTER);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn decodes_gbk_and_utf8() {
        // `{"code":500,"msg":"必传"}` in GBK (必 = B1 D8, 传 = B4 AB), with and without a charset.
        let gbk = b"{\"code\":500,\"msg\":\"\xB1\xD8\xB4\xAB\"}";
        let want = "{\"code\":500,\"msg\":\"\u{FFFD}\u{FFFD}\"}";
        assert_eq!(decode(gbk, Some("application/json; Charset=gb2312")), want);
        assert_eq!(decode(gbk, None), want);
        // A GBK trail byte of 0x5C (`\`) must not escape the closing quote (0x8F 0x5C is one character).
        let tricky = b"{\"msg\":\"\x8F\x5C\"}";
        let parsed: Value = serde_json::from_str(&decode(tricky, None)).unwrap();
        assert_eq!(parsed["msg"], "\u{FFFD}");
        let utf8 = "{\"code\":200,\"msg\":\"成功\"}";
        assert_eq!(decode(utf8.as_bytes(), Some("application/json")), utf8);
        assert_eq!(decode(utf8.as_bytes(), None), utf8);
    }
}
