//! SigV2 presigned URLs (`AWSAccessKeyId`, `Expires`, `Signature`), which botocore and the AWS
//! CLI still produce for S3 by default. Only the query form is accepted; SigV2 headers are not.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use percent_encoding::percent_decode_str;
use sha1::Sha1;

use crate::sigv4::SigV4Error;

/// S3 sub-resources that are part of the string to sign.
const SUBRESOURCES: &[&str] = &[
    "acl",
    "delete",
    "lifecycle",
    "location",
    "logging",
    "notification",
    "partNumber",
    "policy",
    "requestPayment",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "tagging",
    "torrent",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
    "website",
    "cors",
    "encryption",
];

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PresignedV2 {
    pub access_key_id: String,
    pub expires_s: i64,
    pub signature: String,
}

fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// Reads SigV2 query parameters, if the request carries them.
pub fn parse(raw_query: Option<&str>) -> Option<Result<PresignedV2, SigV4Error>> {
    let q = raw_query?;
    let get = |name: &str| {
        q.split('&').find_map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k == name).then(|| decode(v))
        })
    };
    let key = get("AWSAccessKeyId")?;
    let (Some(expires), Some(signature)) = (get("Expires"), get("Signature")) else {
        return Some(Err(SigV4Error::QueryParams(
            "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters".into(),
        )));
    };
    let Ok(expires_s) = expires.parse::<i64>() else {
        return Some(Err(SigV4Error::QueryParams("Invalid Expires".into())));
    };
    Some(Ok(PresignedV2 {
        access_key_id: key,
        expires_s,
        signature,
    }))
}

/// Verifies a SigV2 presigned request. `resource_path` is the path-style resource
/// (`/bucket/key`, still percent-encoded as sent).
pub fn verify(
    p: &PresignedV2,
    method: &str,
    resource_path: &str,
    raw_query: Option<&str>,
    headers: &http::HeaderMap,
    secret: &str,
    now_ms: i64,
) -> Result<(), SigV4Error> {
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("");
    let mut amz: Vec<(String, String)> = headers
        .iter()
        .filter(|(k, _)| k.as_str().starts_with("x-amz-"))
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).trim().to_owned(),
            )
        })
        .collect();
    amz.sort();
    let mut sub: Vec<(String, String)> = raw_query
        .unwrap_or("")
        .split('&')
        .filter_map(|p| {
            let (k, v) = p.split_once('=').map_or((p, None), |(k, v)| (k, Some(v)));
            SUBRESOURCES
                .contains(&k)
                .then(|| (k.to_owned(), v.map(decode).unwrap_or_default()))
        })
        .collect();
    sub.sort();
    let mut resource = resource_path.to_owned();
    for (i, (k, v)) in sub.iter().enumerate() {
        resource.push(if i == 0 { '?' } else { '&' });
        resource.push_str(k);
        if !v.is_empty() || raw_query.is_some_and(|q| q.contains(&format!("{k}="))) {
            resource.push('=');
            resource.push_str(v);
        }
    }
    let mut sts = format!(
        "{method}\n{}\n{}\n{}\n",
        header("content-md5"),
        header("content-type"),
        p.expires_s
    );
    for (k, v) in &amz {
        sts.push_str(&format!("{k}:{v}\n"));
    }
    sts.push_str(&resource);
    let mut mac =
        Hmac::<Sha1>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(sts.as_bytes());
    let provided =
        STANDARD
            .decode(p.signature.as_bytes())
            .map_err(|_| SigV4Error::BadSignature {
                string_to_sign: sts.clone(),
                canonical_request: String::new(),
            })?;
    mac.verify_slice(&provided)
        .map_err(|_| SigV4Error::BadSignature {
            string_to_sign: sts,
            canonical_request: String::new(),
        })?;
    if now_ms > p.expires_s * 1000 {
        return Err(SigV4Error::PresignExpired {
            expires_ms: p.expires_s * 1000,
            now_ms,
            expires_s: 0,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A URL botocore 1.44 presigned (`generate_presigned_url`, clock fixed at 1141889000).
    #[test]
    fn botocore_presigned_url_verifies() {
        let q = "AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=fScKGHCDI0NY5E7CYp9Vc8VKMbY%3D&Expires=1141889120";
        let p = parse(Some(q)).unwrap().unwrap();
        let h = http::HeaderMap::new();
        verify(
            &p,
            "GET",
            "/johnsmith/photos/puppy.jpg",
            Some(q),
            &h,
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            1_141_889_000_000,
        )
        .unwrap();
        assert!(matches!(
            verify(
                &p,
                "GET",
                "/johnsmith/photos/kitten.jpg",
                Some(q),
                &h,
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                1_141_889_000_000
            ),
            Err(SigV4Error::BadSignature { .. })
        ));
        assert!(matches!(
            verify(
                &p,
                "GET",
                "/johnsmith/photos/puppy.jpg",
                Some(q),
                &h,
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                1_141_889_121_000
            ),
            Err(SigV4Error::PresignExpired { .. })
        ));
    }

    proptest::proptest! {
        #[test]
        fn any_query_parses_or_is_refused(q in "\\PC{0,200}", sig in "[A-Za-z0-9%+/=]{0,40}", exp in "-?[0-9]{0,22}") {
            let h = http::HeaderMap::new();
            for query in [q.clone(), format!("AWSAccessKeyId=AKIA&Signature={sig}&Expires={exp}")] {
                if let Some(Ok(p)) = parse(Some(&query)) {
                    let _ = verify(&p, "GET", "/b/k", Some(&query), &h, "secret", 0);
                    let _ = verify(&p, "GET", "/b/k", Some(&query), &h, "secret", i64::MAX / 2);
                }
            }
        }
    }
}
