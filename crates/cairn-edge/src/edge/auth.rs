//! Authentication: from a request's signature (SigV4 header or query, an S3 SigV2
//! presigned URL, or the signed policy of an S3 browser upload form) to the principal behind it.
//! A request with no trace of a signature at all, in S3's protocol, is S3's anonymous caller
//! (see `crate::edge::anonymous`); anything that tries to sign and fails is refused, never
//! taken as anonymous.

use cairn_model::identity::SessionAttributes;
use cairn_model::{Principal, timefmt};
use cairn_store::identity::{AccessKey, Account, KeyOwner};
use cairn_wire::sigv4::{
    self, KeySecret, ParsedAuth, PayloadHash, RequestParts, SigV4Error, StreamingSeed,
};
use cairn_wire::{AwsError, Protocol, post_form, sigv2};

use crate::app::App;
use cairn_wire::s3_address as address;

/// How a request proved who sent it (for S3's `additionalEventData`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthMethod {
    AuthHeader,
    QueryString,
    /// It did not: an anonymous request (S3 records neither method nor signature version).
    None,
}

impl AuthMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::AuthHeader => "AuthHeader",
            AuthMethod::QueryString => "QueryString",
            AuthMethod::None => "",
        }
    }
}

/// A request whose signature checked out.
#[derive(Clone, Debug)]
pub struct Authenticated {
    pub principal: Principal,
    /// The signing name of the service (`cloudtrail`, `s3`, …).
    pub service: String,
    pub region: String,
    pub method: AuthMethod,
    /// `SigV4` or `SigV2`.
    pub signature_version: &'static str,
    /// For signed streaming uploads: what checking each chunk's signature needs.
    pub streaming: Option<StreamingSeed>,
}

impl Authenticated {
    /// An unsigned S3 request. Its region is the bucket's, known once S3 has found it.
    pub fn anonymous() -> Authenticated {
        Authenticated {
            principal: Principal::Anonymous,
            service: "s3".into(),
            region: String::new(),
            method: AuthMethod::None,
            signature_version: "",
            streaming: None,
        }
    }
}

/// The principal an active, unexpired key acts for at `now_ms`: how a service that holds
/// credentials (CloudTrail with the role session it assumed) makes its internal calls as them.
pub fn principal_of_key(app: &App, access_key_id: &str, now_ms: i64) -> Option<Principal> {
    let (key, account) = active_key(app, access_key_id).ok()?;
    if key.expires_ms.is_some_and(|e| e <= now_ms) {
        return None;
    }
    principal_of(app, key, account).ok()
}

/// The principal a key acts for, with the names and session facts its records carry;
/// `account` is a root key's account, read with the key.
fn principal_of(
    app: &App,
    key: AccessKey,
    account: Option<Account>,
) -> Result<Principal, SigV4Error> {
    let session = key.session.as_ref().map(|s| SessionAttributes {
        creation_date: timefmt::event_time(s.created_ms),
        mfa_authenticated: s.mfa,
    });
    let gone = |what: &str| {
        tracing::warn!(access_key_id = %key.access_key_id, "key of a {what} that no longer exists");
        SigV4Error::UnknownKey
    };
    let store_down = |e: cairn_store::StoreError| {
        tracing::error!(error = %e, "identity store unavailable");
        SigV4Error::Unavailable
    };
    match key.owner {
        KeyOwner::Root => {
            let alias = account.and_then(|a| a.alias);
            Ok(Principal::Root {
                account: key.account,
                access_key_id: key.access_key_id,
                alias,
                session,
            })
        }
        KeyOwner::User { user_id } => {
            let user = app
                .identity
                .user_by_id(&user_id)
                .map_err(store_down)?
                .ok_or_else(|| gone("user"))?;
            Ok(Principal::IamUser {
                account: key.account,
                user_id: user.user_id,
                user_name: user.name,
                path: user.path,
                access_key_id: key.access_key_id,
                session,
            })
        }
        KeyOwner::Role { role_id } => {
            let role = app
                .identity
                .role_by_id(&role_id)
                .map_err(store_down)?
                .ok_or_else(|| gone("role"))?;
            let s = key.session.ok_or_else(|| gone("role session"))?;
            Ok(Principal::AssumedRole {
                account: key.account,
                role_id: role.role_id,
                role_name: role.name,
                role_path: role.path,
                session_name: s.name.unwrap_or_default(),
                access_key_id: key.access_key_id,
                session: SessionAttributes {
                    creation_date: timefmt::event_time(s.created_ms),
                    mfa_authenticated: s.mfa,
                },
            })
        }
    }
}

/// An active key, with its account if it is a root key (one lookup: see
/// `IdentityStore::key_with_account`).
fn active_key(app: &App, access_key_id: &str) -> Result<(AccessKey, Option<Account>), SigV4Error> {
    match app.identity.key_with_account(access_key_id) {
        Ok(Some((k, account))) if k.active => Ok((k, account)),
        Ok(_) => Err(SigV4Error::UnknownKey),
        Err(e) => {
            tracing::error!(error = %e, "identity store unavailable");
            Err(SigV4Error::Unavailable)
        }
    }
}

/// A request whose claimed signature has been read and, where the headers alone decide it,
/// checked. Services other than S3 sign a hash of the body, so theirs is checked once the
/// body is read ([`finish`]).
pub struct Pending {
    /// The signing name of the service the request is for.
    pub service: String,
    pub protocol: Protocol,
    stage: Stage,
}

enum Stage {
    Verified(Box<Authenticated>),
    NeedsBody(Box<Unverified>),
    /// An S3 browser upload: its signature is a field of the form, over the form's policy.
    NeedsForm,
    /// No signature at all, in S3's protocol: S3 judges it as the anonymous caller.
    Anonymous,
}

/// A signature over the body, with the key that must have made it (and its account).
struct Unverified {
    auth: ParsedAuth,
    key: AccessKey,
    account: Option<Account>,
}

impl Pending {
    /// Whether the signature is already checked, so the body may be read as trusted.
    pub fn is_verified(&self) -> bool {
        matches!(self.stage, Stage::Verified(_))
    }

    /// Whether the request carries no signature and is S3's anonymous caller's.
    pub fn is_anonymous(&self) -> bool {
        matches!(self.stage, Stage::Anonymous)
    }
}

type Refusal = (AwsError, Protocol);

fn key_secret(key: &AccessKey) -> KeySecret<'_> {
    KeySecret {
        secret_access_key: &key.secret_access_key,
        session_token: key.session_token.as_deref(),
        expires_ms: key.expires_ms,
    }
}

fn authenticated(
    app: &App,
    auth: &ParsedAuth,
    key: AccessKey,
    account: Option<Account>,
    payload: &PayloadHash,
) -> Result<Authenticated, SigV4Error> {
    let signed_stream = matches!(payload, PayloadHash::Declared(v) if v.starts_with("STREAMING-AWS4-HMAC-SHA256-PAYLOAD"));
    let streaming = signed_stream.then(|| {
        StreamingSeed::new(
            &key.secret_access_key,
            &auth.scope,
            &auth.amz_date,
            &auth.signature,
        )
    });
    Ok(Authenticated {
        principal: principal_of(app, key, account)?,
        service: auth.scope.service.clone(),
        region: auth.scope.region.clone(),
        method: match auth.kind {
            sigv4::AuthKind::Header => AuthMethod::AuthHeader,
            sigv4::AuthKind::Presigned { .. } => AuthMethod::QueryString,
        },
        signature_version: "SigV4",
        streaming,
    })
}

fn wall_clock() -> i64 {
    use cairn_model::Clock as _;
    cairn_model::SystemClock.now_millis()
}

/// Reads and checks what the headers (and query string) say about who sent a request,
/// before any of its body is read; refuses it in the shape of the protocol the client speaks.
pub fn authenticate_headers(app: &App, parts: &RequestParts<'_>) -> Result<Pending, Refusal> {
    let guess = Protocol::sniff(parts.headers, parts.raw_query);
    match sigv4::parse(parts) {
        Ok(Some(auth)) => {
            let protocol = Protocol::of_request(&auth.scope.service, parts.headers);
            let fail = |e: SigV4Error| {
                (
                    e.to_aws_error(protocol, Some(&auth.access_key_id)),
                    protocol,
                )
            };
            let (key, account) = active_key(app, &auth.access_key_id).map_err(fail)?;
            let payload = PayloadHash::of_request(&auth, parts).map_err(fail)?;
            // Signatures are dated by the client's clock: they are judged against the wall
            // clock even when a test clock runs ahead of it.
            let now = wall_clock();
            sigv4::check_claims(&auth, &key_secret(&key), now).map_err(fail)?;
            // Temporary credentials expire by the instance's clock (a test clock moves it).
            if key.expires_ms.is_some_and(|e| app.clock.now_millis() >= e) {
                return Err(fail(SigV4Error::ExpiredToken));
            }
            let service = auth.scope.service.clone();
            if payload.needs_body() {
                return Ok(Pending {
                    service,
                    protocol,
                    stage: Stage::NeedsBody(Box::new(Unverified { auth, key, account })),
                });
            }
            sigv4::check_signature(&auth, parts, &key_secret(&key), &payload.resolve(&[]), now)
                .map_err(fail)?;
            let done = authenticated(app, &auth, key, account, &payload).map_err(fail)?;
            Ok(Pending {
                service,
                protocol,
                stage: Stage::Verified(Box::new(done)),
            })
        }
        Ok(None) => match sigv2::parse(parts.raw_query) {
            Some(Ok(v2)) => {
                let protocol = Protocol::RestXml;
                let fail =
                    |e: SigV4Error| (e.to_aws_error(protocol, Some(&v2.access_key_id)), protocol);
                let (key, account) = active_key(app, &v2.access_key_id).map_err(fail)?;
                let host = parts
                    .headers
                    .get(http::header::HOST)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                let resource = address::resolve(host, parts.raw_path).resource_path();
                sigv2::verify(
                    &v2,
                    parts.method,
                    &resource,
                    parts.raw_query,
                    parts.headers,
                    &key.secret_access_key,
                    wall_clock(),
                )
                .map_err(fail)?;
                let done = Authenticated {
                    principal: principal_of(app, key, account).map_err(fail)?,
                    service: "s3".into(),
                    region: "us-east-1".into(),
                    method: AuthMethod::QueryString,
                    signature_version: "SigV2",
                    streaming: None,
                };
                Ok(Pending {
                    service: "s3".into(),
                    protocol,
                    stage: Stage::Verified(Box::new(done)),
                })
            }
            Some(Err(e)) => Err((e.to_aws_error(Protocol::RestXml, None), Protocol::RestXml)),
            None if is_upload_form(parts) => Ok(Pending {
                service: "s3".into(),
                protocol: Protocol::RestXml,
                stage: Stage::NeedsForm,
            }),
            None if in_s3_protocol(parts, guess) && !claims_credentials(parts) => Ok(Pending {
                service: "s3".into(),
                protocol: Protocol::RestXml,
                stage: Stage::Anonymous,
            }),
            None => Err((SigV4Error::Missing.to_aws_error(guess, None), guess)),
        },
        Err(e) => Err((e.to_aws_error(guess, None), guess)),
    }
}

/// Whether an unsigned request is in S3's protocol rather than another service's (a JSON or
/// CBOR target, a query `Action`): a form-encoded body makes a query call only when it is
/// POSTed (IAM, STS, …); an object PUT with that content type is S3's.
fn in_s3_protocol(parts: &RequestParts<'_>, guess: Protocol) -> bool {
    match guess {
        Protocol::RestXml => true,
        Protocol::Query { .. } => {
            let action = parts
                .raw_query
                .is_some_and(|q| q.split('&').any(|p| p.starts_with("Action=")));
            parts.method != "POST" && !action
        }
        _ => false,
    }
}

/// Whether a request carries any piece of a credential (a session token, a signing algorithm,
/// a signed streaming payload, a presigned URL's parameters) without the signature that would
/// make it whole: it is refused as unsigned, never served as anonymous.
fn claims_credentials(parts: &RequestParts<'_>) -> bool {
    const HEADERS: &[&str] = &[
        "x-amz-security-token",
        "x-amz-credential",
        "x-amz-signature",
    ];
    const PARAMS: &[&str] = &[
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Signature",
        "X-Amz-Security-Token",
        "AWSAccessKeyId",
        "Signature",
    ];
    let header = HEADERS.iter().any(|h| parts.headers.contains_key(*h));
    let signed_stream = parts
        .headers
        .get("x-amz-content-sha256")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("STREAMING-AWS4-") || v.starts_with("STREAMING-ECDSA-"));
    let param = parts.raw_query.unwrap_or("").split('&').any(|p| {
        let name = p.split('=').next().unwrap_or(p);
        PARAMS.iter().any(|k| name.eq_ignore_ascii_case(k))
    });
    header || signed_stream || param
}

/// Whether a request is an S3 browser upload: a form POSTed to a bucket's URL.
fn is_upload_form(parts: &RequestParts<'_>) -> bool {
    let content_type = parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    parts.method == "POST" && post_form::is_form(content_type)
}

/// The principal behind an S3 browser upload form: the key its signature names, checked over
/// the form's policy (the policy's own conditions are the S3 service's to judge).
fn authenticate_form(
    app: &App,
    parts: &RequestParts<'_>,
    body: &[u8],
) -> Result<Authenticated, SigV4Error> {
    let content_type = parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // A form that cannot be read is the S3 service's to refuse (it is recorded there); here
    // it has no signature to check.
    let form = post_form::parse(content_type, body).map_err(|_| SigV4Error::Missing)?;
    let signature = post_form::signature_of(&form).ok_or(SigV4Error::Missing)??;
    let policy = form.field("policy").ok_or(SigV4Error::Missing)?;
    let (key, account) = active_key(app, signature.access_key_id())?;
    post_form::verify(&signature, policy, &key.secret_access_key)?;
    // Temporary credentials: the form carries the session's token, and the key is unexpired.
    if let Some(token) = &key.session_token
        && form.field("x-amz-security-token") != Some(token.as_str())
    {
        return Err(SigV4Error::UnknownKey);
    }
    if key.expires_ms.is_some_and(|e| app.clock.now_millis() >= e) {
        return Err(SigV4Error::ExpiredToken);
    }
    let (region, version) = match &signature {
        post_form::FormSignature::V4 { scope, .. } => (scope.region.clone(), "SigV4"),
        post_form::FormSignature::V2 { .. } => ("us-east-1".to_owned(), "SigV2"),
    };
    Ok(Authenticated {
        principal: principal_of(app, key, account)?,
        service: "s3".into(),
        region,
        // The form's signature travels in the body, not the query string.
        method: AuthMethod::AuthHeader,
        signature_version: version,
        streaming: None,
    })
}

/// Completes authentication once the body is read: checks a signature that covers the body.
pub fn finish(
    app: &App,
    pending: Pending,
    parts: &RequestParts<'_>,
    body: &[u8],
) -> Result<Authenticated, Refusal> {
    match pending.stage {
        Stage::Verified(done) => Ok(*done),
        Stage::Anonymous => Ok(Authenticated::anonymous()),
        Stage::NeedsForm => authenticate_form(app, parts, body)
            .map_err(|e| (e.to_aws_error(Protocol::RestXml, None), Protocol::RestXml)),
        Stage::NeedsBody(unverified) => {
            let Unverified { auth, key, account } = *unverified;
            let protocol = pending.protocol;
            let fail = |e: SigV4Error| {
                (
                    e.to_aws_error(protocol, Some(&auth.access_key_id)),
                    protocol,
                )
            };
            let payload = PayloadHash::OfBody;
            let hash = payload.resolve(body);
            sigv4::check_signature(&auth, parts, &key_secret(&key), &hash, wall_clock())
                .map_err(fail)?;
            authenticated(app, &auth, key, account, &payload).map_err(fail)
        }
    }
}

/// The check still owed by a request whose body is streamed through its call: its signature
/// covers the body, whose hash is known only at its end (see `crate::edge::stream`).
pub struct BodyCheck {
    auth: ParsedAuth,
    key: AccessKey,
    protocol: Protocol,
}

impl BodyCheck {
    /// Checks the signature against the body's SHA-256 (hex); refuses as [`finish`] would.
    pub fn verify(&self, parts: &RequestParts<'_>, payload_hash: &str) -> Result<(), AwsError> {
        sigv4::check_signature(
            &self.auth,
            parts,
            &key_secret(&self.key),
            payload_hash,
            wall_clock(),
        )
        .map_err(|e| e.to_aws_error(self.protocol, Some(&self.auth.access_key_id)))
    }
}

/// Authenticates a request whose body is streamed: the principal its key claims now, and the
/// check of the signature the body's end owes (none when the headers already proved it).
/// The call runs as that principal before the check: nothing it does may be taken as the
/// principal's (recorded, committed or passed on whole) until the check passes.
pub fn claim(app: &App, pending: Pending) -> Result<(Authenticated, Option<BodyCheck>), Refusal> {
    match pending.stage {
        Stage::Verified(done) => Ok((*done, None)),
        // A form's signature is in its body, and an anonymous call is S3's, which reads its
        // body first: neither is ever streamed through its call.
        Stage::NeedsForm | Stage::Anonymous => Err((
            SigV4Error::Missing.to_aws_error(Protocol::RestXml, None),
            Protocol::RestXml,
        )),
        Stage::NeedsBody(unverified) => {
            let Unverified { auth, key, account } = *unverified;
            let protocol = pending.protocol;
            let claimed = authenticated(app, &auth, key.clone(), account, &PayloadHash::OfBody)
                .map_err(|e| {
                    (
                        e.to_aws_error(protocol, Some(&auth.access_key_id)),
                        protocol,
                    )
                })?;
            Ok((
                claimed,
                Some(BodyCheck {
                    auth,
                    key,
                    protocol,
                }),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts<'a>(
        method: &'a str,
        query: Option<&'a str>,
        headers: &'a http::HeaderMap,
    ) -> RequestParts<'a> {
        RequestParts {
            method,
            raw_path: "/bucket/key",
            raw_query: query,
            headers,
        }
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, http::HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn only_s3_shaped_requests_without_any_credential_are_anonymous() {
        let anonymous = |method, query, h: &http::HeaderMap| {
            let p = parts(method, query, h);
            in_s3_protocol(&p, Protocol::sniff(h, query)) && !claims_credentials(&p)
        };
        let none = headers(&[]);
        assert!(anonymous("GET", None, &none));
        assert!(anonymous("GET", Some("list-type=2&prefix=a"), &none));
        let form = headers(&[("content-type", "application/x-www-form-urlencoded")]);
        assert!(
            anonymous("PUT", None, &form),
            "an object PUT with a form type"
        );
        // Other services' unsigned calls.
        assert!(!anonymous("POST", None, &form), "a query call (STS, IAM)");
        assert!(!anonymous("GET", Some("Action=ListUsers"), &none));
        let json = headers(&[("x-amz-target", "CloudTrail_20131101.DescribeTrails")]);
        assert!(!anonymous("POST", None, &json));
        let cbor = headers(&[("smithy-protocol", "rpc-v2-cbor")]);
        assert!(!anonymous("POST", None, &cbor));
        // Pieces of a credential without the signature that would make it whole.
        let token = headers(&[("x-amz-security-token", "t")]);
        assert!(!anonymous("GET", None, &token));
        let stream = headers(&[("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")]);
        assert!(!anonymous("PUT", None, &stream));
        for q in [
            "X-Amz-Credential=AKIA%2F20250101%2Fus-east-1%2Fs3%2Faws4_request",
            "x-amz-signature=00",
            "Signature=abc",
            "AWSAccessKeyId=AKIA",
        ] {
            assert!(!anonymous("GET", Some(q), &none), "{q}");
        }
        let unsigned_trailer =
            headers(&[("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER")]);
        assert!(anonymous("PUT", None, &unsigned_trailer));
    }
}
