//! S3's browser uploads (POST Object): the `multipart/form-data` body of a form posted to a
//! bucket's URL, and the signature it carries over its base64 policy document, SigV4
//! (`x-amz-algorithm`, `x-amz-credential`, `x-amz-date`, `x-amz-signature`) or SigV2
//! (`AWSAccessKeyId`, `signature`). Judging the policy's conditions is the S3 service's.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::Sha256;
use thiserror::Error;

use crate::sigv4::{CredentialScope, SigV4Error, signing_key};

/// Why a form could not be read.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum FormError {
    #[error("the request is not multipart/form-data with a boundary")]
    NotMultipart,
    #[error("the form's body is not well-formed multipart/form-data")]
    Malformed,
}

/// The uploaded file: its name as the browser gave it, its declared type, and its bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FormFile {
    pub filename: String,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

/// A posted form: its fields in order (names as sent) and the file (S3 ignores fields after it).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PostForm {
    pub fields: Vec<(String, String)>,
    pub file: Option<FormFile>,
}

impl PostForm {
    /// A field's value; names compare without regard to case, as S3 reads them.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Whether a request's `Content-Type` is a form upload.
pub fn is_form(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|c| {
        c.trim_start()
            .to_ascii_lowercase()
            .starts_with("multipart/form-data")
    })
}

fn boundary(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_owned())
            .filter(|b| !b.is_empty())
    })
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let first = *needle.first()?;
    let mut i = from;
    while i + needle.len() <= hay.len() {
        let at = hay[i..=hay.len() - needle.len()]
            .iter()
            .position(|&b| b == first)?;
        i += at;
        if hay[i..].starts_with(needle) {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// A `Content-Disposition` parameter (`name`, `filename`), unquoted.
fn disposition_param(header: &str, param: &str) -> Option<String> {
    header.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case(param)
            .then(|| v.trim().trim_matches('"').to_owned())
    })
}

/// Reads a `multipart/form-data` body: every field up to the file, and the file.
pub fn parse(content_type: &str, body: &[u8]) -> Result<PostForm, FormError> {
    let b = boundary(content_type).ok_or(FormError::NotMultipart)?;
    let delimiter = format!("--{b}");
    let next = format!("\r\n--{b}");
    let mut at = find(body, delimiter.as_bytes(), 0).ok_or(FormError::Malformed)? + delimiter.len();
    let mut form = PostForm::default();
    loop {
        // After a delimiter: `--` ends the form, a line break starts a part.
        if body[at..].starts_with(b"--") {
            return Ok(form);
        }
        if !body[at..].starts_with(b"\r\n") {
            return Err(FormError::Malformed);
        }
        let head_start = at + 2;
        let head_end = find(body, b"\r\n\r\n", head_start).ok_or(FormError::Malformed)?;
        let head = String::from_utf8_lossy(&body[head_start..head_end]);
        let content_start = head_end + 4;
        let end = find(body, next.as_bytes(), content_start).ok_or(FormError::Malformed)?;
        let content = &body[content_start..end];
        let mut disposition = None;
        let mut part_type = None;
        for line in head.split("\r\n") {
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            if k.trim().eq_ignore_ascii_case("content-disposition") {
                disposition = Some(v.trim().to_owned());
            } else if k.trim().eq_ignore_ascii_case("content-type") {
                part_type = Some(v.trim().to_owned());
            }
        }
        let disposition = disposition.ok_or(FormError::Malformed)?;
        let name = disposition_param(&disposition, "name").ok_or(FormError::Malformed)?;
        if name.eq_ignore_ascii_case("file") {
            form.file = Some(FormFile {
                filename: disposition_param(&disposition, "filename").unwrap_or_default(),
                content_type: part_type,
                body: content.to_vec(),
            });
            // S3 reads nothing after the file.
            return Ok(form);
        }
        form.fields
            .push((name, String::from_utf8_lossy(content).into_owned()));
        at = end + next.len();
    }
}

/// How a form claims to be signed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FormSignature {
    V4 {
        access_key_id: String,
        scope: CredentialScope,
        signature: String,
    },
    V2 {
        access_key_id: String,
        signature: String,
    },
}

impl FormSignature {
    pub fn access_key_id(&self) -> &str {
        match self {
            FormSignature::V4 { access_key_id, .. } | FormSignature::V2 { access_key_id, .. } => {
                access_key_id
            }
        }
    }
}

/// The signature a form claims: `None` when it carries none (an anonymous form).
pub fn signature_of(form: &PostForm) -> Option<Result<FormSignature, SigV4Error>> {
    if let Some(signature) = form.field("x-amz-signature") {
        let algorithm = form.field("x-amz-algorithm").unwrap_or("");
        if algorithm != "AWS4-HMAC-SHA256" {
            return Some(Err(SigV4Error::UnsupportedAlgorithm(algorithm.to_owned())));
        }
        let credential = form.field("x-amz-credential").unwrap_or("");
        let parts: Vec<&str> = credential.split('/').collect();
        let [key, date, region, service, terminator] = parts[..] else {
            return Some(Err(SigV4Error::MalformedCredential(credential.to_owned())));
        };
        if terminator != "aws4_request" {
            return Some(Err(SigV4Error::BadTerminator(terminator.to_owned())));
        }
        return Some(Ok(FormSignature::V4 {
            access_key_id: key.to_owned(),
            scope: CredentialScope {
                date: date.to_owned(),
                region: region.to_owned(),
                service: service.to_owned(),
            },
            signature: signature.to_owned(),
        }));
    }
    let key = form.field("AWSAccessKeyId")?;
    Some(Ok(FormSignature::V2 {
        access_key_id: key.to_owned(),
        signature: form.field("signature").unwrap_or("").to_owned(),
    }))
}

/// Checks a form's signature over its policy (the base64 text as posted) with the key's secret.
pub fn verify(sig: &FormSignature, policy: &str, secret: &str) -> Result<(), SigV4Error> {
    let bad = || SigV4Error::BadSignature {
        string_to_sign: policy.to_owned(),
        canonical_request: String::new(),
    };
    match sig {
        FormSignature::V4 {
            scope, signature, ..
        } => {
            let key = signing_key(secret, scope);
            let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|_| bad())?;
            mac.update(policy.as_bytes());
            let provided = hex::decode(signature.trim()).map_err(|_| bad())?;
            mac.verify_slice(&provided).map_err(|_| bad())
        }
        FormSignature::V2 { signature, .. } => {
            let mut mac = Hmac::<Sha1>::new_from_slice(secret.as_bytes()).map_err(|_| bad())?;
            mac.update(policy.as_bytes());
            let provided = STANDARD.decode(signature.trim()).map_err(|_| bad())?;
            mac.verify_slice(&provided).map_err(|_| bad())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body() -> (String, Vec<u8>) {
        let ct = "multipart/form-data; boundary=XyZ".to_owned();
        let b = b"--XyZ\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nup/${filename}\r\n--XyZ\r\nContent-Disposition: form-data; name=\"Policy\"\r\n\r\ncG9s\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--XyZ\r\nthe rest\r\n--XyZ--\r\n".to_vec();
        (ct, b)
    }

    #[test]
    fn reads_fields_and_the_file() {
        let (ct, b) = body();
        let f = parse(&ct, &b).unwrap();
        assert_eq!(f.field("KEY"), Some("up/${filename}"));
        assert_eq!(f.field("policy"), Some("cG9s"));
        let file = f.file.unwrap();
        assert_eq!(file.filename, "a.txt");
        assert_eq!(file.content_type.as_deref(), Some("text/plain"));
        assert_eq!(file.body, b"hello");
        assert!(is_form(Some("multipart/form-data; boundary=x")));
        assert!(!is_form(Some("text/plain")));
        assert_eq!(
            parse("multipart/form-data", &b),
            Err(FormError::NotMultipart)
        );
        assert_eq!(parse(&ct, b"--XyZ\r\nno end"), Err(FormError::Malformed));
    }

    #[test]
    fn signatures_over_the_policy() {
        let policy = "eyJleHBpcmF0aW9uIjogIjIwMzAtMDEtMDFUMDA6MDA6MDBaIn0=";
        let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        let scope = CredentialScope {
            date: "20300101".into(),
            region: "us-east-1".into(),
            service: "s3".into(),
        };
        let mut mac = Hmac::<Sha256>::new_from_slice(&signing_key(secret, &scope)).unwrap();
        mac.update(policy.as_bytes());
        let good = hex::encode(mac.finalize().into_bytes());
        let v4 = |signature: &str| FormSignature::V4 {
            access_key_id: "AKID".into(),
            scope: scope.clone(),
            signature: signature.into(),
        };
        assert!(verify(&v4(&good), policy, secret).is_ok());
        assert!(verify(&v4(&good), policy, "other").is_err());
        assert!(verify(&v4("zz"), policy, secret).is_err());
        let mut mac = Hmac::<Sha1>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(policy.as_bytes());
        let v2 = FormSignature::V2 {
            access_key_id: "AKID".into(),
            signature: STANDARD.encode(mac.finalize().into_bytes()),
        };
        assert!(verify(&v2, policy, secret).is_ok());
        assert!(verify(&v2, "other", secret).is_err());
        let form = PostForm {
            fields: vec![
                ("x-amz-algorithm".into(), "AWS4-HMAC-SHA256".into()),
                (
                    "x-amz-credential".into(),
                    "AKID/20300101/us-east-1/s3/aws4_request".into(),
                ),
                ("x-amz-signature".into(), good.clone()),
            ],
            file: None,
        };
        assert_eq!(signature_of(&form), Some(Ok(v4(&good))));
        assert_eq!(signature_of(&PostForm::default()), None);
    }

    proptest::proptest! {
        #[test]
        fn no_body_panics(b in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            let mut body = b"--XyZ\r\n".to_vec();
            body.extend(b);
            let _ = parse("multipart/form-data; boundary=XyZ", &body);
        }
    }
}
