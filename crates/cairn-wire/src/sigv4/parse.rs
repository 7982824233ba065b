//! Reading the claimed signature out of a request, without any secret.

use super::errors::SigV4Error;
use super::{AuthKind, CredentialScope, MAX_PRESIGN_EXPIRES_S, ParsedAuth, RequestParts};
use percent_encoding::percent_decode_str;

const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// Parses the signature a request claims. `Ok(None)` means the request carries no signature at
/// all (neither an `Authorization` header nor presigned query parameters).
pub fn parse(parts: &RequestParts<'_>) -> Result<Option<ParsedAuth>, SigV4Error> {
    if let Some(h) = parts.headers.get(http::header::AUTHORIZATION) {
        let h = h.to_str().map_err(|_| {
            SigV4Error::Incomplete("Authorization header is not valid ASCII".into())
        })?;
        return parse_header(h, parts).map(Some);
    }
    let query = parts.raw_query.unwrap_or("");
    if query
        .split('&')
        .any(|p| p.starts_with("X-Amz-Algorithm=") || p.starts_with("X-Amz-Signature="))
    {
        return parse_presigned(query).map(Some);
    }
    Ok(None)
}

fn parse_header(h: &str, parts: &RequestParts<'_>) -> Result<ParsedAuth, SigV4Error> {
    let Some(rest) = h.strip_prefix(ALGORITHM) else {
        let algo = h.split_whitespace().next().unwrap_or("");
        return Err(SigV4Error::UnsupportedAlgorithm(algo.to_owned()));
    };
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for item in rest.split(',') {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let Some((k, v)) = item.split_once('=') else {
            return Err(SigV4Error::Incomplete(format!(
                "'{item}' not a valid key=value pair (missing equal-sign) in Authorization header: '{h}'."
            )));
        };
        match k.trim() {
            "Credential" => credential = Some(v.trim()),
            "SignedHeaders" => signed_headers = Some(v.trim()),
            "Signature" => signature = Some(v.trim()),
            _ => {}
        }
    }
    let mut missing = Vec::new();
    if credential.is_none() {
        missing.push("Credential");
    }
    if signed_headers.is_none() {
        missing.push("SignedHeaders");
    }
    if signature.is_none() {
        missing.push("Signature");
    }
    let amz_date = header_str(parts, "x-amz-date");
    if amz_date.is_none() && header_str(parts, "date").is_none() {
        missing.push("X-Amz-Date");
    }
    if !missing.is_empty() {
        let mut msg: Vec<String> = missing
            .iter()
            .map(|m| {
                if *m == "X-Amz-Date" {
                    "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.".to_owned()
                } else {
                    format!("Authorization header requires '{m}' parameter.")
                }
            })
            .collect();
        msg.push(format!("Authorization={h}"));
        return Err(SigV4Error::Incomplete(msg.join(" ")));
    }
    let (credential, signed_headers, signature) = (
        credential.unwrap_or_default(),
        signed_headers.unwrap_or_default(),
        signature.unwrap_or_default(),
    );
    let amz_date = match amz_date {
        Some(d) => d.to_owned(),
        None => http_date_to_amz(header_str(parts, "date").unwrap_or(""))?,
    };
    build(
        AuthKind::Header,
        credential,
        signed_headers,
        signature,
        &amz_date,
        header_str(parts, "x-amz-security-token").map(str::to_owned),
    )
}

fn parse_presigned(query: &str) -> Result<ParsedAuth, SigV4Error> {
    let get = |name: &str| -> Option<String> {
        query.split('&').find_map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k == name).then(|| percent_decode_str(v).decode_utf8_lossy().into_owned())
        })
    };
    let algorithm = get("X-Amz-Algorithm");
    let credential = get("X-Amz-Credential");
    let date = get("X-Amz-Date");
    let expires = get("X-Amz-Expires");
    let signed_headers = get("X-Amz-SignedHeaders");
    let signature = get("X-Amz-Signature");
    let token = get("X-Amz-Security-Token");
    let (Some(algorithm), Some(credential), Some(date), Some(signed_headers), Some(signature)) =
        (algorithm, credential, date, signed_headers, signature)
    else {
        return Err(SigV4Error::QueryParams(
            "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.".into(),
        ));
    };
    if algorithm != ALGORITHM {
        return Err(SigV4Error::QueryParams(
            "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"".into(),
        ));
    }
    let expires_s = match expires {
        None => {
            return Err(SigV4Error::QueryParams(
                "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.".into(),
            ));
        }
        Some(e) => e
            .parse::<i64>()
            .map_err(|_| SigV4Error::QueryParams("X-Amz-Expires should be a number".into()))?,
    };
    if expires_s < 0 {
        return Err(SigV4Error::QueryParams(
            "X-Amz-Expires must be non-negative".into(),
        ));
    }
    if expires_s > MAX_PRESIGN_EXPIRES_S {
        return Err(SigV4Error::QueryParams(
            "X-Amz-Expires must be less than a week (in seconds) that is 604800".into(),
        ));
    }
    build(
        AuthKind::Presigned { expires_s },
        &credential,
        &signed_headers,
        &signature,
        &date,
        token,
    )
}

fn build(
    kind: AuthKind,
    credential: &str,
    signed_headers: &str,
    signature: &str,
    amz_date: &str,
    security_token: Option<String>,
) -> Result<ParsedAuth, SigV4Error> {
    let mut it = credential.split('/');
    let (Some(key), Some(date), Some(region), Some(service), Some(term), None) = (
        it.next(),
        it.next(),
        it.next(),
        it.next(),
        it.next(),
        it.next(),
    ) else {
        return Err(SigV4Error::MalformedCredential(credential.to_owned()));
    };
    if key.is_empty() || region.is_empty() || service.is_empty() {
        return Err(SigV4Error::MalformedCredential(credential.to_owned()));
    }
    if term != "aws4_request" {
        return Err(SigV4Error::BadTerminator(term.to_owned()));
    }
    let request_time_ms =
        parse_amz_date(amz_date).ok_or_else(|| SigV4Error::BadDate(amz_date.to_owned()))?;
    if amz_date.get(..8) != Some(date) {
        return Err(SigV4Error::ScopeDateMismatch {
            scope_date: date.to_owned(),
            amz_date: amz_date.to_owned(),
        });
    }
    let signed_headers: Vec<String> = signed_headers
        .split(';')
        .filter(|s| !s.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    if signed_headers.is_empty() {
        return Err(SigV4Error::Incomplete(
            "Authorization header requires 'SignedHeaders' parameter.".into(),
        ));
    }
    // A signature that does not cover `host` could be replayed against another endpoint.
    if !signed_headers.iter().any(|h| h == "host") {
        return Err(SigV4Error::HostNotSigned);
    }
    Ok(ParsedAuth {
        kind,
        access_key_id: key.to_owned(),
        scope: CredentialScope {
            date: date.to_owned(),
            region: region.to_owned(),
            service: service.to_owned(),
        },
        amz_date: amz_date.to_owned(),
        request_time_ms,
        signed_headers,
        signature: signature.to_owned(),
        security_token,
    })
}

fn header_str<'a>(parts: &RequestParts<'a>, name: &str) -> Option<&'a str> {
    parts.headers.get(name).and_then(|v| v.to_str().ok())
}

/// Parses `YYYYMMDDTHHMMSSZ` into milliseconds since the epoch.
pub(crate) fn parse_amz_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = s.get(r)?;
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    let year = i32::try_from(num(0..4)?).ok()?;
    let month = time::Month::try_from(u8::try_from(num(4..6)?).ok()?).ok()?;
    let date = time::Date::from_calendar_date(year, month, u8::try_from(num(6..8)?).ok()?).ok()?;
    let t = time::Time::from_hms(
        u8::try_from(num(9..11)?).ok()?,
        u8::try_from(num(11..13)?).ok()?,
        u8::try_from(num(13..15)?).ok()?,
    )
    .ok()?;
    let dt = time::PrimitiveDateTime::new(date, t).assume_utc();
    Some(dt.unix_timestamp() * 1000)
}

/// Converts an RFC 7231 `Date` header into the `X-Amz-Date` form.
fn http_date_to_amz(s: &str) -> Result<String, SigV4Error> {
    let fmt = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let t = time::PrimitiveDateTime::parse(s, &fmt)
        .map_err(|_| SigV4Error::BadDate(s.to_owned()))?
        .assume_utc();
    Ok(super::amz_date(t.unix_timestamp() * 1000))
}
