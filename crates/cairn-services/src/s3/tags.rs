//! S3's tag sets, on their own: reading a `<Tagging>` document or an `x-amz-tagging` header,
//! S3's limits on them (10 per object, 50 per bucket, key and value lengths, no `aws:` keys,
//! no duplicates) with S3's error codes, the stored form (an object's `:tagging` metadata, a
//! bucket's tagging configuration) and the `<Tagging>` document answered back.

use cairn_wire::AwsError;
use percent_encoding::{NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

use super::wire::xml::{Doc, Node, parse};

/// Where an object version keeps its tags among its stored metadata (a system value: never
/// answered as a header of its own).
pub const OBJECT_TAGS: &str = ":tagging";

/// S3's limits.
pub const MAX_OBJECT_TAGS: usize = 10;
pub const MAX_BUCKET_TAGS: usize = 50;
const MAX_KEY_CHARS: usize = 128;
const MAX_VALUE_CHARS: usize = 256;

/// A tag set, in the order it was given.
pub type TagSet = Vec<(String, String)>;

/// What a tag set is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TagsOf {
    Object,
    Bucket,
}

fn invalid_tag(msg: &str) -> AwsError {
    AwsError::client("InvalidTag", msg)
}

fn malformed_xml() -> AwsError {
    AwsError::client(
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema",
    )
}

/// Characters S3 allows in tags: letters, digits and spaces in any script, and `+ - = . _ : / @`.
fn allowed(s: &str) -> bool {
    s.chars().all(|c| {
        c.is_alphanumeric()
            || c.is_whitespace()
            || matches!(c, '+' | '-' | '=' | '.' | '_' | ':' | '/' | '@')
    })
}

/// Checks a tag set against S3's rules for what it is on.
pub fn validate(tags: &TagSet, of: TagsOf) -> Result<(), AwsError> {
    match of {
        TagsOf::Object if tags.len() > MAX_OBJECT_TAGS => {
            return Err(AwsError::client(
                "BadRequest",
                "Object tags cannot be greater than 10",
            ));
        }
        TagsOf::Bucket if tags.len() > MAX_BUCKET_TAGS => {
            return Err(invalid_tag("Bucket tag count cannot be greater than 50"));
        }
        _ => {}
    }
    let mut seen = std::collections::BTreeSet::new();
    for (k, v) in tags {
        if k.is_empty() || k.chars().count() > MAX_KEY_CHARS {
            return Err(invalid_tag(
                "The TagKey you have provided is too long, max 128",
            ));
        }
        if v.chars().count() > MAX_VALUE_CHARS {
            return Err(invalid_tag(
                "The TagValue you have provided is too long, max 256",
            ));
        }
        if k.to_ascii_lowercase().starts_with("aws:") {
            return Err(invalid_tag(
                "System tags cannot be added/updated by requester",
            ));
        }
        if !allowed(k) {
            return Err(invalid_tag("The TagKey you have provided is invalid"));
        }
        if !allowed(v) {
            return Err(invalid_tag("The TagValue you have provided is invalid"));
        }
        if !seen.insert(k.as_str()) {
            return Err(invalid_tag(
                "Cannot provide multiple Tags with the same key",
            ));
        }
    }
    Ok(())
}

/// The tags of a `<Tag>` list (a `TagSet`, or a lifecycle filter's `And`).
pub fn tags_in(parent: &Node) -> Result<TagSet, AwsError> {
    parent
        .all("Tag")
        .map(|t| match (t.text_of("Key"), t.child("Value")) {
            (Some(k), Some(v)) => Ok((k.to_owned(), v.text.clone())),
            _ => Err(malformed_xml()),
        })
        .collect()
}

/// A `<Tagging><TagSet>…</TagSet></Tagging>` request document, checked.
pub fn from_document(body: &[u8], of: TagsOf) -> Result<TagSet, AwsError> {
    let n = parse(body)
        .filter(|n| n.name == "Tagging")
        .ok_or_else(malformed_xml)?;
    let set = n.child("TagSet").ok_or_else(malformed_xml)?;
    let tags = tags_in(set)?;
    validate(&tags, of)?;
    Ok(tags)
}

/// The `x-amz-tagging` header of a write (`k1=v1&k2=v2`, URL-encoded), checked.
pub fn from_header(h: &str) -> Result<TagSet, AwsError> {
    let decode = |s: &str| {
        percent_decode_str(&s.replace('+', "%20"))
            .decode_utf8()
            .map(|c| c.into_owned())
            .map_err(|_| invalid_tag("The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates."))
    };
    let mut tags = TagSet::new();
    for pair in h.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        tags.push((decode(k)?, decode(v)?));
    }
    validate(&tags, TagsOf::Object)?;
    Ok(tags)
}

/// The stored form of a tag set: a URL query string, as the `x-amz-tagging` header carries it.
pub fn to_stored(tags: &TagSet) -> String {
    tags.iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                utf8_percent_encode(k, NON_ALPHANUMERIC),
                utf8_percent_encode(v, NON_ALPHANUMERIC)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// A stored tag set read back (what was stored was checked when it was).
pub fn from_stored(s: &str) -> TagSet {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let d = |x: &str| percent_decode_str(x).decode_utf8_lossy().into_owned();
            (d(k), d(v))
        })
        .collect()
}

/// The `<Tagging>` document GetObjectTagging and GetBucketTagging answer.
pub fn document(tags: &TagSet) -> Vec<u8> {
    let mut d = Doc::new("Tagging");
    d.open("TagSet");
    for (k, v) in tags {
        d.open("Tag").elem("Key", k).elem("Value", v).close("Tag");
    }
    d.close("TagSet");
    d.finish("Tagging")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(pairs: &[(&str, &str)]) -> TagSet {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn header_round_trips_through_the_stored_form() {
        let t = from_header("project=blue%20sky&team=a%2Fb&empty=").unwrap();
        assert_eq!(
            t,
            set(&[("project", "blue sky"), ("team", "a/b"), ("empty", "")])
        );
        assert_eq!(from_stored(&to_stored(&t)), t);
        assert_eq!(from_header("a+b=c+d").unwrap(), set(&[("a b", "c d")]));
    }

    #[test]
    fn limits_are_s3s() {
        let eleven: TagSet = (0..11).map(|i| (format!("k{i}"), "v".to_owned())).collect();
        assert_eq!(
            validate(&eleven, TagsOf::Object).unwrap_err().code,
            "BadRequest"
        );
        assert!(validate(&eleven, TagsOf::Bucket).is_ok());
        let fifty_one: TagSet = (0..51).map(|i| (format!("k{i}"), "v".to_owned())).collect();
        assert_eq!(
            validate(&fifty_one, TagsOf::Bucket).unwrap_err().code,
            "InvalidTag"
        );
        let long_key = set(&[(&"k".repeat(129), "v")]);
        assert!(
            validate(&long_key, TagsOf::Object)
                .unwrap_err()
                .message
                .contains("max 128")
        );
        let long_value = set(&[("k", &"v".repeat(257))]);
        assert!(
            validate(&long_value, TagsOf::Object)
                .unwrap_err()
                .message
                .contains("max 256")
        );
        let dup = set(&[("k", "1"), ("k", "2")]);
        assert!(
            validate(&dup, TagsOf::Object)
                .unwrap_err()
                .message
                .contains("same key")
        );
        assert_eq!(
            validate(&set(&[("aws:x", "1")]), TagsOf::Bucket)
                .unwrap_err()
                .code,
            "InvalidTag"
        );
        assert_eq!(
            validate(&set(&[("a#b", "1")]), TagsOf::Object)
                .unwrap_err()
                .code,
            "InvalidTag"
        );
        assert!(validate(&set(&[("Ünïcode key", "a+b=c.d_e:f/g@h")]), TagsOf::Object).is_ok());
    }

    #[test]
    fn documents_read_and_written() {
        let body = br#"<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>b</Key><Value></Value></Tag></TagSet></Tagging>"#;
        let t = from_document(body, TagsOf::Object).unwrap();
        assert_eq!(t, set(&[("a", "1"), ("b", "")]));
        let back = from_document(&document(&t), TagsOf::Object).unwrap();
        assert_eq!(back, t);
        assert_eq!(
            from_document(b"<Tagging/>", TagsOf::Object)
                .unwrap_err()
                .code,
            "MalformedXML"
        );
        assert_eq!(
            from_document(
                b"<Tagging><TagSet><Tag><Key>a</Key></Tag></TagSet></Tagging>",
                TagsOf::Object
            )
            .unwrap_err()
            .code,
            "MalformedXML"
        );
    }
}
