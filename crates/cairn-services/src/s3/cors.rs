//! Cross-origin resource sharing, as S3 judges it: a bucket's CORS rules (the
//! `CORSConfiguration` document of PutBucketCors, checked as S3 checks it), which rule a
//! request from an origin matches, and the `Access-Control-*` headers S3 answers with — to a
//! preflight (`OPTIONS`, unsigned: [`preflight`]) and to the actual request.

use cairn_wire::AwsError;

use super::wire::xml::{Node, parse};

/// S3's limit on a bucket's CORS rules.
const MAX_RULES: usize = 100;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rule {
    pub id: Option<String>,
    pub allowed_origins: Vec<String>,
    pub allowed_methods: Vec<String>,
    pub allowed_headers: Vec<String>,
    pub expose_headers: Vec<String>,
    pub max_age_seconds: Option<u64>,
}

fn malformed() -> AwsError {
    AwsError::client(
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema",
    )
}

fn texts(n: &Node, name: &str) -> Vec<String> {
    n.all(name).map(|c| c.text.trim().to_owned()).collect()
}

/// The rules of a `CORSConfiguration` document, refused as S3 refuses them.
pub fn parse_rules(body: &[u8]) -> Result<Vec<Rule>, AwsError> {
    let doc = parse(body)
        .filter(|n| n.name == "CORSConfiguration")
        .ok_or_else(malformed)?;
    let rules: Vec<&Node> = doc.all("CORSRule").collect();
    if rules.is_empty() || rules.len() > MAX_RULES {
        return Err(malformed());
    }
    rules.into_iter().map(rule_of).collect()
}

fn rule_of(n: &Node) -> Result<Rule, AwsError> {
    let rule = Rule {
        id: n.text_of("ID").map(str::to_owned),
        allowed_origins: texts(n, "AllowedOrigin"),
        allowed_methods: texts(n, "AllowedMethod"),
        allowed_headers: texts(n, "AllowedHeader"),
        expose_headers: texts(n, "ExposeHeader"),
        max_age_seconds: match n.text_of("MaxAgeSeconds") {
            None => None,
            Some(v) => Some(v.trim().parse().map_err(|_| malformed())?),
        },
    };
    if rule.allowed_origins.is_empty() || rule.allowed_methods.is_empty() {
        return Err(malformed());
    }
    if let Some(m) = rule
        .allowed_methods
        .iter()
        .find(|m| !matches!(m.as_str(), "GET" | "PUT" | "POST" | "DELETE" | "HEAD"))
    {
        return Err(AwsError::client(
            "InvalidRequest",
            format!("Found unsupported HTTP method in CORS config. Unsupported method is {m}"),
        ));
    }
    for o in &rule.allowed_origins {
        if o.matches('*').count() > 1 {
            return Err(AwsError::client(
                "InvalidRequest",
                format!("AllowedOrigin \"{o}\" can not have more than one wildcard."),
            ));
        }
    }
    for h in &rule.allowed_headers {
        if h.matches('*').count() > 1 {
            return Err(AwsError::client(
                "InvalidRequest",
                format!("AllowedHeader \"{h}\" can not have more than one wildcard."),
            ));
        }
    }
    Ok(rule)
}

/// `value` against a pattern with at most one `*` (case-insensitive, as S3 compares headers
/// and origins' schemes and hosts).
fn wildcard(pattern: &str, value: &str) -> bool {
    let (p, v) = (pattern.to_ascii_lowercase(), value.to_ascii_lowercase());
    match p.split_once('*') {
        None => p == v,
        Some((head, tail)) => {
            v.len() >= head.len() + tail.len() && v.starts_with(head) && v.ends_with(tail)
        }
    }
}

/// The first rule that allows `origin` to send `method` with `headers`, in the document's
/// order, as S3 picks it.
pub fn matching<'a>(
    rules: &'a [Rule],
    origin: &str,
    method: &str,
    headers: &[String],
) -> Option<&'a Rule> {
    rules.iter().find(|r| {
        r.allowed_origins.iter().any(|o| wildcard(o, origin))
            && r.allowed_methods.iter().any(|m| m == method)
            && headers
                .iter()
                .all(|h| r.allowed_headers.iter().any(|a| wildcard(a, h)))
    })
}

/// The headers S3 adds for a matched rule: to a preflight (`requested` = the method and
/// headers it asked for) or to an actual request (`None`).
pub fn response_headers(
    rule: &Rule,
    origin: &str,
    requested: Option<(&str, &[String])>,
) -> Vec<(String, String)> {
    let any_origin = rule.allowed_origins.iter().any(|o| o == "*");
    let mut out = vec![(
        "access-control-allow-origin".to_owned(),
        if any_origin {
            "*".to_owned()
        } else {
            origin.to_owned()
        },
    )];
    match requested {
        Some((method, headers)) => {
            out.push(("access-control-allow-methods".into(), method.to_owned()));
            if !headers.is_empty() {
                out.push(("access-control-allow-headers".into(), headers.join(", ")));
            }
        }
        None => out.push((
            "access-control-allow-methods".into(),
            rule.allowed_methods.join(", "),
        )),
    }
    if !rule.expose_headers.is_empty() {
        out.push((
            "access-control-expose-headers".into(),
            rule.expose_headers.join(", "),
        ));
    }
    if let Some(age) = rule.max_age_seconds {
        out.push(("access-control-max-age".into(), age.to_string()));
    }
    if !any_origin {
        out.push(("access-control-allow-credentials".into(), "true".into()));
    }
    out.push((
        "vary".into(),
        "Origin, Access-Control-Request-Headers, Access-Control-Request-Method".into(),
    ));
    out
}

/// The headers a preflight asks for (`Access-Control-Request-Headers`), lower-cased.
pub fn requested_headers(value: Option<&str>) -> Vec<String> {
    value
        .unwrap_or_default()
        .split(',')
        .map(|h| h.trim().to_ascii_lowercase())
        .filter(|h| !h.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &[u8] = b"<CORSConfiguration><CORSRule><AllowedOrigin>https://*.example.com</AllowedOrigin><AllowedMethod>PUT</AllowedMethod><AllowedMethod>GET</AllowedMethod><AllowedHeader>content-*</AllowedHeader><ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>3000</MaxAgeSeconds></CORSRule><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>";

    #[test]
    fn rules_match_origin_method_and_headers_in_order() {
        let rules = parse_rules(DOC).unwrap();
        let h = vec!["content-type".to_owned()];
        let first = matching(&rules, "https://app.example.com", "PUT", &h).unwrap();
        assert_eq!(first.max_age_seconds, Some(3000));
        assert!(matching(&rules, "https://app.example.com", "DELETE", &[]).is_none());
        assert!(
            matching(
                &rules,
                "https://app.example.com",
                "PUT",
                &["x-custom".into()]
            )
            .is_none()
        );
        let any = matching(&rules, "http://elsewhere", "GET", &[]).unwrap();
        assert_eq!(any.allowed_origins, ["*"]);
        let pre = response_headers(first, "https://app.example.com", Some(("PUT", &h)));
        assert!(pre.contains(&(
            "access-control-allow-origin".into(),
            "https://app.example.com".into()
        )));
        assert!(pre.contains(&("access-control-allow-headers".into(), "content-type".into())));
        assert!(pre.contains(&("access-control-allow-credentials".into(), "true".into())));
        let actual = response_headers(any, "http://elsewhere", None);
        assert_eq!(
            actual[0],
            ("access-control-allow-origin".into(), "*".into())
        );
    }

    #[test]
    fn documents_are_checked_as_s3_checks_them() {
        assert_eq!(
            parse_rules(b"<CORSConfiguration/>").unwrap_err().code,
            "MalformedXML"
        );
        let bad = b"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod></CORSRule></CORSConfiguration>";
        let e = parse_rules(bad).unwrap_err();
        assert_eq!(e.code, "InvalidRequest");
        assert!(e.message.ends_with("Unsupported method is PATCH"));
        let two = b"<CORSConfiguration><CORSRule><AllowedOrigin>*.*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>";
        assert_eq!(parse_rules(two).unwrap_err().code, "InvalidRequest");
        assert!(!wildcard("https://*.example.com", "https://example.com"));
        assert!(wildcard("*", "anything"));
    }
}
