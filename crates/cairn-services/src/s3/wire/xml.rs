//! S3's XML: writing response documents, and reading the few request documents S3 takes
//! (CompleteMultipartUpload, Delete, VersioningConfiguration, CreateBucketConfiguration).

use cairn_wire::xml::escape;
use quick_xml::events::Event;

pub const NS: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

/// Keys percent-encoded as SDKs put them in a path (S3 addressing is wire-level: `cairn-wire`).
pub use cairn_wire::s3_address::encode_key;

/// A small XML writer for response documents.
pub struct Doc(String);

impl Doc {
    pub fn new(root: &str) -> Doc {
        Doc(format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{root} xmlns=\"{NS}\">"
        ))
    }
    pub fn open(&mut self, tag: &str) -> &mut Self {
        self.0.push_str(&format!("<{tag}>"));
        self
    }
    pub fn close(&mut self, tag: &str) -> &mut Self {
        self.0.push_str(&format!("</{tag}>"));
        self
    }
    pub fn elem(&mut self, tag: &str, text: &str) -> &mut Self {
        self.0.push_str(&format!("<{tag}>{}</{tag}>", escape(text)));
        self
    }
    pub fn finish(mut self, root: &str) -> Vec<u8> {
        self.0.push_str(&format!("</{root}>"));
        self.0.into_bytes()
    }
}

/// A parsed element: its local name, text, and children.
#[derive(Debug, Default, Clone)]
pub struct Node {
    pub name: String,
    pub text: String,
    pub children: Vec<Node>,
}

impl Node {
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }
    pub fn text_of(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.as_str())
    }
}

impl Node {
    /// The element as CloudTrail records a request document in `requestParameters`: children
    /// by name (repeated ones as a list), `true`/`false` and whole numbers typed, other text
    /// as strings.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::{Map, Value};
        if self.children.is_empty() {
            return match self.text.as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                t if !t.is_empty()
                    && t.len() < 16
                    && t.bytes().all(|b| b.is_ascii_digit())
                    && !(t.len() > 1 && t.starts_with('0')) =>
                {
                    t.parse::<u64>()
                        .map(Value::from)
                        .unwrap_or_else(|_| t.into())
                }
                t => Value::String(t.to_owned()),
            };
        }
        let mut out = Map::new();
        for c in &self.children {
            let v = c.to_json();
            match out.get_mut(&c.name) {
                Some(Value::Array(list)) if self.all(&c.name).count() > 1 => list.push(v),
                Some(first) => {
                    let first = first.take();
                    out.insert(c.name.clone(), Value::Array(vec![first, v]));
                }
                None => {
                    out.insert(c.name.clone(), v);
                }
            }
        }
        Value::Object(out)
    }
}

/// How deep a request document may nest. S3's documents nest four levels at most; the limit
/// keeps a hostile document from building a tree so deep that dropping it overflows the stack.
pub const MAX_DEPTH: usize = 32;

/// Parses a document into its root element; `None` if it is not well-formed XML or nests
/// deeper than [`MAX_DEPTH`].
pub fn parse(body: &[u8]) -> Option<Node> {
    // Text is kept as sent: an object key may begin or end with spaces (S3 keeps them). The
    // whitespace between elements is dropped below, once a node is known to hold elements.
    let mut r = quick_xml::Reader::from_reader(body);
    let mut stack: Vec<Node> = Vec::new();
    let mut buf = Vec::new();
    loop {
        match r.read_event_into(&mut buf).ok()? {
            Event::Start(_) if stack.len() >= MAX_DEPTH => return None,
            Event::Start(e) => stack.push(Node {
                name: String::from_utf8_lossy(e.local_name().as_ref()).into_owned(),
                ..Node::default()
            }),
            Event::Empty(e) => {
                let n = Node {
                    name: String::from_utf8_lossy(e.local_name().as_ref()).into_owned(),
                    ..Node::default()
                };
                match stack.last_mut() {
                    Some(p) => p.children.push(n),
                    None => return Some(n),
                }
            }
            Event::Text(t) => {
                if let Some(n) = stack.last_mut() {
                    n.text.push_str(&t.unescape().ok()?);
                }
            }
            Event::CData(t) => {
                if let Some(n) = stack.last_mut() {
                    n.text.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Event::End(_) => {
                let mut n = stack.pop()?;
                if !n.children.is_empty() {
                    n.text.clear();
                }
                match stack.last_mut() {
                    Some(p) => p.children.push(n),
                    None => return Some(n),
                }
            }
            Event::Eof => return None,
            _ => {}
        }
        buf.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_keys_spaces_are_kept_and_indentation_is_not_text() {
        let body = b"<Delete>\n  <Object>\n    <Key> </Key>\n  </Object>\n  <Object><Key>_ a </Key></Object>\n</Delete>";
        let n = parse(body).unwrap();
        let keys: Vec<&str> = n.all("Object").filter_map(|o| o.text_of("Key")).collect();
        assert_eq!(keys, [" ", "_ a "]);
        assert_eq!(n.text, "");
    }

    #[test]
    fn parses_complete_multipart_upload() {
        let body = br#"<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Part><ETag>"a"</ETag><PartNumber>1</PartNumber></Part><Part><ETag>&quot;b&quot;</ETag><PartNumber>2</PartNumber></Part></CompleteMultipartUpload>"#;
        let n = parse(body).unwrap();
        assert_eq!(n.name, "CompleteMultipartUpload");
        let parts: Vec<(&str, &str)> = n
            .all("Part")
            .map(|p| (p.text_of("PartNumber").unwrap(), p.text_of("ETag").unwrap()))
            .collect();
        assert_eq!(parts, vec![("1", "\"a\""), ("2", "\"b\"")]);
        assert!(parse(b"<a><b></a>").is_none());
        assert!(parse(b"").is_none());
    }

    #[test]
    fn deep_nesting_is_refused_without_overflowing() {
        let deep = format!("{}{}", "<a>".repeat(100_000), "</a>".repeat(100_000));
        assert!(parse(deep.as_bytes()).is_none());
        let ok = format!("{}{}", "<a>".repeat(MAX_DEPTH), "</a>".repeat(MAX_DEPTH));
        assert!(parse(ok.as_bytes()).is_some());
    }

    proptest::proptest! {
        #[test]
        fn no_document_panics(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
            let _ = parse(&body);
        }

        #[test]
        fn no_tag_soup_panics(parts in proptest::collection::vec("(<[a-z]{1,3}>|</[a-z]{1,3}>|<[a-z]/>|&amp;|&#x[0-9a-f]{1,6};|<!\\[CDATA\\[x\\]\\]>|[a-z ]{0,4})", 0..64)) {
            let _ = parse(parts.concat().as_bytes());
        }
    }

    #[test]
    fn documents_become_recorded_json() {
        let n = parse(b"<C><Rule><Days>30</Days><On>true</On><Id>007</Id></Rule><Rule><Days>1</Days></Rule><Rule><Days>2</Days></Rule></C>").unwrap();
        assert_eq!(
            n.to_json(),
            serde_json::json!({"Rule": [{"Days": 30, "On": true, "Id": "007"}, {"Days": 1}, {"Days": 2}]})
        );
    }

    #[test]
    fn writes_documents() {
        let mut d = Doc::new("R");
        d.open("A").elem("K", "a<b").close("A");
        let s = String::from_utf8(d.finish("R")).unwrap();
        assert!(s.ends_with(
            "<R xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><A><K>a&lt;b</K></A></R>"
        ));
        assert_eq!(encode_key("a b/c+d~"), "a%20b/c%2Bd~");
    }
}
