//! A browser upload (PostObject) read into the request every write handler knows: the form's
//! `key` (with `${filename}`) becomes the request's key, its file the payload, and the fields
//! that stand for a PutObject's headers (Content-Type, Cache-Control, `x-amz-meta-*`,
//! `acl`, …) its headers. The form itself is kept for the policy's conditions.

use bytes::Bytes;
use cairn_wire::AwsError;
use cairn_wire::post_form;
use http::{HeaderName, HeaderValue};

use super::{MAX_KEY_BYTES, S3Request};

/// Form fields that a PutObject would send as headers, by their header name.
fn header_of(field: &str) -> Option<String> {
    let f = field.to_ascii_lowercase();
    let plain = [
        "cache-control",
        "content-type",
        "content-disposition",
        "content-encoding",
        "expires",
    ];
    if plain.contains(&f.as_str())
        || f.starts_with("x-amz-meta-")
        || f.starts_with("x-amz-server-side-encryption")
        || f == "x-amz-storage-class"
    {
        return Some(f);
    }
    (f == "acl").then(|| "x-amz-acl".to_owned())
}

/// Reads the form of a PostObject into `req`; what it lacks is refused as S3 refuses it.
pub fn take_form(req: &mut S3Request, body: &Bytes) -> Result<(), AwsError> {
    let content_type = req.header("content-type").unwrap_or("").to_owned();
    let form = post_form::parse(&content_type, body).map_err(|_| {
        AwsError::client(
            "MalformedPOSTRequest",
            "The body of your POST request is not well-formed multipart/form-data.",
        )
    })?;
    let key = form.field("key").map(str::to_owned).ok_or_else(|| {
        AwsError::client(
            "InvalidArgument",
            "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.",
        )
        .with_extra("ArgumentName", "key")
        .with_extra("ArgumentValue", "")
    })?;
    let file = form.file.clone().ok_or_else(|| {
        AwsError::client(
            "InvalidArgument",
            "POST requires exactly one file upload per request.",
        )
        .with_extra("ArgumentName", "file")
        .with_extra("ArgumentValue", "0")
    })?;
    let key = key.replace("${filename}", &file.filename);
    if key.is_empty() {
        return Err(AwsError::client(
            "InvalidArgument",
            "User key must have a length greater than 0.",
        ));
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(AwsError::client("KeyTooLongError", "Your key is too long"));
    }
    // The request's own Content-Type is the form's; the object's is a field of it.
    req.headers.remove(http::header::CONTENT_TYPE);
    for (name, value) in &form.fields {
        let Some(h) = header_of(name) else { continue };
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(h.as_bytes()),
            HeaderValue::from_bytes(value.as_bytes()),
        ) {
            req.headers.insert(n, v);
        }
    }
    req.addr.key = Some(key);
    req.payload = Bytes::from(file.body);
    req.form = Some(form);
    Ok(())
}
