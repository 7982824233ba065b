//! Time-based one-time passwords (RFC 6238 over RFC 4226: HMAC-SHA1, 30 s steps, 6 digits),
//! what virtual MFA devices such as authenticator apps compute.

use ring::hmac;

pub const STEP_SECONDS: i64 = 30;

/// The 6-digit code for a time step.
pub fn code(seed: &[u8], step: i64) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, seed);
    let tag = hmac::sign(&key, &step.to_be_bytes());
    let d = tag.as_ref();
    let off = usize::from(d[d.len() - 1] & 0x0f);
    let bin = (u32::from(d[off] & 0x7f) << 24)
        | (u32::from(d[off + 1]) << 16)
        | (u32::from(d[off + 2]) << 8)
        | u32::from(d[off + 3]);
    format!("{:06}", bin % 1_000_000)
}

pub fn step_at(now_ms: i64) -> i64 {
    now_ms.div_euclid(1000 * STEP_SECONDS)
}

/// The step of the first of two consecutive codes that enable a device: codes from the last
/// few minutes, as AWS allows for slow typing and clock drift; AWS's error otherwise.
pub(crate) fn enabling_step(
    seed: &[u8],
    code1: &str,
    code2: &str,
    now_ms: i64,
) -> Result<i64, super::IamError> {
    let now = step_at(now_ms);
    (now - 10..=now + 1)
        .rev()
        .find(|s| code(seed, *s) == code1 && code(seed, s + 1) == code2)
        .ok_or_else(|| {
            super::IamError::InvalidAuthenticationCode(
                "Authentication code for device is not valid.".into(),
            )
        })
}

/// RFC 4648 base32 without padding, as authenticator apps take a seed.
pub fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let (mut buf, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buf = (buf << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buf >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buf << (5 - bits)) & 31) as usize]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6238_sha1_vectors() {
        // RFC 6238 appendix B, SHA-1, truncated to 6 digits.
        let seed = b"12345678901234567890";
        assert_eq!(code(seed, 59 / 30), "287082");
        assert_eq!(code(seed, 1111111109 / 30), "081804");
        assert_eq!(code(seed, 1234567890 / 30), "005924");
        assert_eq!(code(seed, 2000000000 / 30), "279037");
    }

    #[test]
    fn base32_rfc4648() {
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32(b"f"), "MY");
    }
}
