//! Byte and text encodings shared by every layer: lower-case hex and RFC 3986 percent-encoding.

use std::fmt::Write as _;

/// Lower-case hex.
#[must_use]
pub fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// RFC 3986 percent-encoding: `A-Z a-z 0-9 - _ . ~` stay, everything else is `%XX` (upper-case hex).
#[must_use]
pub fn pct(s: &str) -> String {
    pct_except(s, b"")
}

/// [`pct`], also leaving the bytes in `keep` as they are (e.g. `@` and `*` in a path segment).
#[must_use]
pub fn pct_except(s: &str, keep: &[u8]) -> String {
    s.bytes()
        .fold(String::with_capacity(s.len()), |mut out, b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) || keep.contains(&b) {
                out.push(char::from(b));
            } else {
                let _ = write!(out, "%{b:02X}");
            }
            out
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings() {
        assert_eq!(hex(&[0, 0xab, 0x10]), "00ab10");
        assert_eq!(pct("a b/ü~*"), "a%20b%2F%C3%BC~%2A");
        assert_eq!(pct_except("*.x@ y", b"@*"), "*.x@%20y");
    }
}
