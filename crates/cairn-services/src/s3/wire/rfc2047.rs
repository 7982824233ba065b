//! User metadata beyond US-ASCII, as S3 carries it in headers: a value made of RFC 2047
//! encoded-words (`=?UTF-8?B?…?=`, `=?UTF-8?Q?…?=`) is decoded before it is stored; a stored
//! value that is not printable US-ASCII is answered as one `=?UTF-8?B?…?=` encoded-word over
//! its UTF-8 bytes. Raw header bytes beyond ASCII are read as ISO-8859-1, as HTTP defines them.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// A stored value as a header carries it.
pub fn encode(value: &str) -> String {
    if value
        .bytes()
        .all(|b| b == b'\t' || (0x20..0x7f).contains(&b))
    {
        value.to_owned()
    } else {
        format!("=?UTF-8?B?{}?=", STANDARD.encode(value.as_bytes()))
    }
}

/// A header's value as stored: the text of its encoded-words when it is made only of them
/// (whitespace between adjacent words dropped, as RFC 2047 says), else its bytes as
/// ISO-8859-1 (which leaves ASCII unchanged).
pub fn decode(raw: &[u8]) -> String {
    let latin1 = || raw.iter().map(|&b| char::from(b)).collect::<String>();
    let Ok(text) = std::str::from_utf8(raw) else {
        return latin1();
    };
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.is_empty() {
        return latin1();
    }
    let mut out = String::new();
    for w in words {
        match word(w) {
            Some(t) => out.push_str(&t),
            None => return latin1(),
        }
    }
    out
}

/// One encoded-word's text: UTF-8 or ISO-8859-1, B or Q encoding.
fn word(w: &str) -> Option<String> {
    let inner = w.strip_prefix("=?")?.strip_suffix("?=")?;
    let mut parts = inner.splitn(3, '?');
    let (charset, encoding, text) = (parts.next()?, parts.next()?, parts.next()?);
    let bytes = match encoding {
        "B" | "b" => STANDARD.decode(text).ok()?,
        "Q" | "q" => q_decode(text)?,
        _ => return None,
    };
    match charset.to_ascii_uppercase().as_str() {
        "UTF-8" => String::from_utf8(bytes).ok(),
        "ISO-8859-1" | "US-ASCII" => Some(bytes.iter().map(|&b| char::from(b)).collect()),
        _ => None,
    }
}

fn q_decode(text: &str) -> Option<Vec<u8>> {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'_' => out.push(b' '),
            b'=' => {
                let hex = text.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_ascii_values_round_trip_as_encoded_words() {
        assert_eq!(encode("plain value"), "plain value");
        assert_eq!(encode("é日本"), "=?UTF-8?B?w6nml6XmnKw=?=");
        assert_eq!(decode(b"=?UTF-8?B?w6nml6XmnKw=?="), "é日本");
        assert_eq!(decode(b"=?utf-8?q?caf=C3=A9_au_lait?="), "café au lait");
        assert_eq!(decode(b"=?UTF-8?B?w6k=?= =?UTF-8?B?5pel?="), "é日");
        assert_eq!(decode(b"=?ISO-8859-1?Q?=E9?="), "é");
        // Raw bytes are ISO-8859-1; text that is not all encoded-words is kept as sent.
        assert_eq!(decode(&[0xE9]), "é");
        assert_eq!(decode(b"a =?UTF-8?B?w6k=?="), "a =?UTF-8?B?w6k=?=");
        assert_eq!(decode(b"=?UTF-8?B?!!?="), "=?UTF-8?B?!!?=");
        assert_eq!(decode(encode("é日本").as_bytes()), "é日本");
    }

    proptest::proptest! {
        #[test]
        fn every_value_survives_encode_then_decode(v in "\\PC{0,40}") {
            let stored = decode(encode(&v).as_bytes());
            // ASCII values with runs of spaces are kept as sent (they are not encoded-words).
            proptest::prop_assert_eq!(stored, v);
        }
    }
}
