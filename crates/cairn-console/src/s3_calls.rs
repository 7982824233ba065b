//! The console's requests to S3, as the S3 console sends them: to the bucket's virtual host,
//! through S3's own API (and so authorized and recorded as the person's calls).

use bytes::Bytes;
use cairn_edge::pipeline::internal::WireCall;
use cairn_wire::sigv4::uri_encode;

fn host(bucket: &str, region: &str) -> String {
    format!("{bucket}.s3.{region}.amazonaws.com")
}

fn key_path(key: &str) -> String {
    format!("/{}", uri_encode(key).replace("%2F", "/"))
}

fn call(
    method: http::Method,
    bucket: &str,
    region: &str,
    path: String,
    query: Option<String>,
    body: Bytes,
) -> WireCall {
    let mut headers = vec![("host".to_owned(), host(bucket, region))];
    if !body.is_empty() {
        headers.push(("content-length".to_owned(), body.len().to_string()));
    }
    WireCall {
        method,
        path,
        query,
        headers,
        body,
    }
}

/// CreateBucket, in `region` (a LocationConstraint outside us-east-1, as S3 requires).
pub fn create_bucket(bucket: &str, region: &str) -> WireCall {
    let body = if region == "us-east-1" {
        Bytes::new()
    } else {
        Bytes::from(format!(
            "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>{region}</LocationConstraint></CreateBucketConfiguration>"
        ))
    };
    call(http::Method::PUT, bucket, region, "/".into(), None, body)
}

/// PutBucketPolicy.
pub fn put_bucket_policy(bucket: &str, region: &str, policy: &str) -> WireCall {
    call(
        http::Method::PUT,
        bucket,
        region,
        "/".into(),
        Some("policy".into()),
        Bytes::from(policy.to_owned()),
    )
}

/// ListBuckets.
pub fn list_buckets(region: &str) -> WireCall {
    WireCall {
        method: http::Method::GET,
        path: "/".into(),
        query: None,
        headers: vec![("host".to_owned(), format!("s3.{region}.amazonaws.com"))],
        body: Bytes::new(),
    }
}

/// ListObjectsV2 of one level under `prefix` (folders as common prefixes).
pub fn list_level(bucket: &str, region: &str, prefix: &str, token: Option<&str>) -> WireCall {
    let mut q = format!("list-type=2&delimiter=%2F&prefix={}", uri_encode(prefix));
    if let Some(t) = token {
        q.push_str(&format!("&continuation-token={}", uri_encode(t)));
    }
    call(
        http::Method::GET,
        bucket,
        region,
        "/".into(),
        Some(q),
        Bytes::new(),
    )
}

/// ListObjectsV2 of every key under `prefix` after `start_after`, one page.
pub fn list_all(
    bucket: &str,
    region: &str,
    prefix: &str,
    start_after: &str,
    token: Option<&str>,
) -> WireCall {
    let mut q = format!("list-type=2&prefix={}", uri_encode(prefix));
    if !start_after.is_empty() {
        q.push_str(&format!("&start-after={}", uri_encode(start_after)));
    }
    if let Some(t) = token {
        q.push_str(&format!("&continuation-token={}", uri_encode(t)));
    }
    call(
        http::Method::GET,
        bucket,
        region,
        "/".into(),
        Some(q),
        Bytes::new(),
    )
}

/// GetObject.
pub fn get_object(bucket: &str, region: &str, key: &str) -> WireCall {
    call(
        http::Method::GET,
        bucket,
        region,
        key_path(key),
        None,
        Bytes::new(),
    )
}

/// The values of every `<tag>` element in S3's XML answer, in order (S3's answers carry no
/// attributes or nesting that would make a full parse worthwhile for these few members;
/// entities are decoded by quick-xml).
pub fn xml_values(xml: &str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    xml.split(&open)
        .skip(1)
        .filter_map(|r| r.split(&close).next())
        .map(|v| {
            quick_xml::escape::unescape(v)
                .map(|c| c.into_owned())
                .unwrap_or_else(|_| v.to_owned())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_read_and_unescaped() {
        let xml = "<R><Key>a&amp;b</Key><Key>c</Key><CommonPrefixes><Prefix>p/</Prefix></CommonPrefixes></R>";
        assert_eq!(xml_values(xml, "Key"), vec!["a&b", "c"]);
        assert_eq!(xml_values(xml, "Prefix"), vec!["p/"]);
        let c = get_object("b", "us-east-1", "AWSLogs/1/x y.json.gz");
        assert_eq!(c.path, "/AWSLogs/1/x%20y.json.gz");
    }
}
