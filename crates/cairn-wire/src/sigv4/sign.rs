//! Signing requests the way SDKs do, for cairn's own clients (the benchmark load generator,
//! delivery to external S3 endpoints) and for tests.

use super::{
    AuthKind, CredentialScope, ParsedAuth, RequestParts, amz_date, compute_signature, sha256_hex,
};

/// What to sign with.
pub struct SigningKey<'a> {
    pub access_key_id: &'a str,
    pub secret_access_key: &'a str,
    pub region: &'a str,
    pub service: &'a str,
}

/// Signs a request with the `Authorization` header form. `headers` must already hold every
/// header to sign (at least `host`); this adds `x-amz-date` and `authorization`.
pub fn sign(
    key: &SigningKey<'_>,
    method: &str,
    raw_path: &str,
    raw_query: Option<&str>,
    headers: &mut http::HeaderMap,
    body: &[u8],
    now_ms: i64,
) {
    let date = amz_date(now_ms);
    if let Ok(v) = http::HeaderValue::from_str(&date) {
        headers.insert("x-amz-date", v);
    }
    let mut signed: Vec<String> = headers.keys().map(|k| k.as_str().to_owned()).collect();
    signed.sort();
    signed.dedup();
    let auth = ParsedAuth {
        kind: AuthKind::Header,
        access_key_id: key.access_key_id.to_owned(),
        scope: CredentialScope {
            date: date[..8].to_owned(),
            region: key.region.to_owned(),
            service: key.service.to_owned(),
        },
        amz_date: date.clone(),
        request_time_ms: now_ms,
        signed_headers: signed.clone(),
        signature: String::new(),
        security_token: None,
    };
    let payload = headers
        .get("x-amz-content-sha256")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_else(|| sha256_hex(body));
    let parts = RequestParts {
        method,
        raw_path,
        raw_query,
        headers,
    };
    let sig = compute_signature(key.secret_access_key, &auth, &parts, &payload);
    let value = format!(
        "AWS4-HMAC-SHA256 Credential={}/{}, SignedHeaders={}, Signature={sig}",
        key.access_key_id,
        auth.scope.to_scope_string(),
        signed.join(";")
    );
    if let Ok(v) = http::HeaderValue::from_str(&value) {
        headers.insert(http::header::AUTHORIZATION, v);
    }
}
