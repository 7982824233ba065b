//! S3 Lifecycle rules on their own: reading and checking a `LifecycleConfiguration` (with
//! S3's errors), which objects a rule's filter takes, the day arithmetic S3 documents (a
//! number of days after an object's creation, or after a version became noncurrent, rounded
//! up to the next midnight UTC) and, for one key's versions, what the rules make due now.
//! No I/O: the worker (`lifecycle_work.rs`) lists, applies and logs.

use cairn_store::objects::ObjectVersion;
use cairn_wire::AwsError;

use super::tags::{self, OBJECT_TAGS, TagSet};
use super::wire::xml::{Node, parse};

pub const DAY_MS: i64 = 86_400_000;
/// S3's limit on rules in one configuration.
const MAX_RULES: usize = 1000;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    pub prefix: String,
    pub tags: TagSet,
    pub size_greater_than: Option<u64>,
    pub size_less_than: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expiration {
    Days(i64),
    /// Midnight UTC of the date, in ms.
    Date(i64),
    /// Removes a delete marker that no version is left behind.
    ExpiredObjectDeleteMarker,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoncurrentExpiration {
    pub days: i64,
    /// How many of the newest noncurrent versions are kept whatever their age.
    pub newer_noncurrent: Option<usize>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub id: String,
    pub enabled: bool,
    pub filter: Filter,
    pub expiration: Option<Expiration>,
    pub noncurrent: Option<NoncurrentExpiration>,
    pub abort_multipart_days: Option<i64>,
}

/// What the rules make due for a key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// The current version expires: deleted (unversioned) or hidden by a delete marker.
    ExpireCurrent,
    /// A noncurrent version is removed for good.
    RemoveNoncurrent(String),
    /// An expired object delete marker is removed.
    RemoveDeleteMarker(String),
}

fn malformed() -> AwsError {
    AwsError::client(
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema",
    )
}

fn invalid(msg: &str) -> AwsError {
    AwsError::client("InvalidArgument", msg)
}

/// A positive whole number of days, or S3's InvalidArgument naming the field and action.
fn days(text: &str, field: &str, action: &str) -> Result<i64, AwsError> {
    match text.trim().parse::<i64>() {
        Ok(d) if d > 0 => Ok(d),
        Ok(_) => Err(invalid(&format!(
            "'{field}' for {action} action must be a positive integer"
        ))),
        Err(_) => Err(malformed()),
    }
}

/// `2024-01-01T00:00:00Z` (fractions allowed) at midnight UTC, in ms.
fn midnight_date(text: &str) -> Result<i64, AwsError> {
    let t =
        time::OffsetDateTime::parse(text.trim(), &time::format_description::well_known::Rfc3339)
            .map_err(|_| malformed())?;
    let ms = i64::try_from(t.unix_timestamp_nanos() / 1_000_000).map_err(|_| malformed())?;
    if ms.rem_euclid(DAY_MS) != 0 {
        return Err(invalid("'Date' must be at midnight GMT"));
    }
    Ok(ms)
}

fn size(text: &str) -> Result<u64, AwsError> {
    text.trim().parse::<u64>().map_err(|_| malformed())
}

/// A rule's `Filter` (or its legacy `Prefix`): exactly one of Prefix, Tag, And,
/// ObjectSizeGreaterThan, ObjectSizeLessThan, or none.
fn filter(rule: &Node) -> Result<Filter, AwsError> {
    let Some(f) = rule.child("Filter") else {
        return Ok(Filter {
            prefix: rule.text_of("Prefix").unwrap_or("").to_owned(),
            ..Filter::default()
        });
    };
    if rule.child("Prefix").is_some() || f.children.len() > 1 {
        return Err(malformed());
    }
    let mut out = Filter::default();
    let Some(only) = f.children.first() else {
        return Ok(out);
    };
    match only.name.as_str() {
        "Prefix" => out.prefix = only.text.clone(),
        "Tag" => {
            let one = Node {
                children: vec![only.clone()],
                ..Node::default()
            };
            out.tags = tags::tags_in(&one)?;
        }
        "ObjectSizeGreaterThan" => out.size_greater_than = Some(size(&only.text)?),
        "ObjectSizeLessThan" => out.size_less_than = Some(size(&only.text)?),
        "And" => {
            for c in &only.children {
                match c.name.as_str() {
                    "Prefix" => out.prefix = c.text.clone(),
                    "Tag" => {}
                    "ObjectSizeGreaterThan" => out.size_greater_than = Some(size(&c.text)?),
                    "ObjectSizeLessThan" => out.size_less_than = Some(size(&c.text)?),
                    _ => return Err(malformed()),
                }
            }
            out.tags = tags::tags_in(only)?;
        }
        _ => return Err(malformed()),
    }
    if !out.tags.is_empty() {
        tags::validate(&out.tags, tags::TagsOf::Object)?;
    }
    if let (Some(gt), Some(lt)) = (out.size_greater_than, out.size_less_than)
        && gt >= lt
    {
        return Err(invalid(
            "ObjectSizeGreaterThan must be less than ObjectSizeLessThan",
        ));
    }
    Ok(out)
}

fn expiration(rule: &Node) -> Result<Option<Expiration>, AwsError> {
    let Some(e) = rule.child("Expiration") else {
        return Ok(None);
    };
    let d = e.text_of("Days");
    let date = e.text_of("Date");
    let marker = e.text_of("ExpiredObjectDeleteMarker");
    match (d, date, marker) {
        (Some(d), None, None) => Ok(Some(Expiration::Days(days(d, "Days", "Expiration")?))),
        (None, Some(t), None) => Ok(Some(Expiration::Date(midnight_date(t)?))),
        (None, None, Some("true")) => Ok(Some(Expiration::ExpiredObjectDeleteMarker)),
        (None, None, Some("false")) => Ok(None),
        _ => Err(malformed()),
    }
}

fn noncurrent(rule: &Node) -> Result<Option<NoncurrentExpiration>, AwsError> {
    let Some(n) = rule.child("NoncurrentVersionExpiration") else {
        return Ok(None);
    };
    let d = n.text_of("NoncurrentDays").ok_or_else(malformed)?;
    let newer = match n.text_of("NewerNoncurrentVersions") {
        None => None,
        Some(t) => match t.trim().parse::<usize>() {
            Ok(k) if (1..=100).contains(&k) => Some(k),
            Ok(_) => {
                return Err(invalid(
                    "NewerNoncurrentVersions must be a positive integer between 1 and 100",
                ));
            }
            Err(_) => return Err(malformed()),
        },
    };
    Ok(Some(NoncurrentExpiration {
        days: days(d, "NoncurrentDays", "NoncurrentVersionExpiration")?,
        newer_noncurrent: newer,
    }))
}

/// Reads and checks a lifecycle configuration as S3 does.
pub fn parse_configuration(body: &[u8]) -> Result<Vec<Rule>, AwsError> {
    let doc = parse(body)
        .filter(|n| n.name == "LifecycleConfiguration")
        .ok_or_else(malformed)?;
    let nodes: Vec<&Node> = doc.all("Rule").collect();
    if nodes.is_empty() || nodes.len() > MAX_RULES {
        return Err(malformed());
    }
    let mut rules = Vec::new();
    for (i, n) in nodes.into_iter().enumerate() {
        let id = n.text_of("ID").unwrap_or("").to_owned();
        if id.chars().count() > 255 {
            return Err(invalid("ID length should not exceed allowed limit of 255"));
        }
        let enabled = match n.text_of("Status") {
            Some("Enabled") => true,
            Some("Disabled") => false,
            _ => return Err(malformed()),
        };
        let filter = filter(n)?;
        let expiration = expiration(n)?;
        let noncurrent = noncurrent(n)?;
        let abort_multipart_days = match n.child("AbortIncompleteMultipartUpload") {
            None => None,
            Some(a) => Some(days(
                a.text_of("DaysAfterInitiation").ok_or_else(malformed)?,
                "DaysAfterInitiation",
                "AbortIncompleteMultipartUpload",
            )?),
        };
        if expiration.is_none()
            && noncurrent.is_none()
            && abort_multipart_days.is_none()
            && !has_unenforced_action(n)
        {
            return Err(AwsError::client(
                "InvalidRequest",
                "At least one action needs to be specified in a rule",
            ));
        }
        if !filter.tags.is_empty() {
            if abort_multipart_days.is_some() {
                return Err(invalid(
                    "AbortIncompleteMultipartUpload cannot be specified with Tags",
                ));
            }
            if expiration == Some(Expiration::ExpiredObjectDeleteMarker) {
                return Err(invalid(
                    "ExpiredObjectDeleteMarker cannot be specified with Tags",
                ));
            }
        }
        // S3 names rules it was given without an ID.
        let id = if id.is_empty() {
            format!("rule-{}", i + 1)
        } else {
            id
        };
        rules.push(Rule {
            id,
            enabled,
            filter,
            expiration,
            noncurrent,
            abort_multipart_days,
        });
    }
    let mut ids: Vec<&str> = rules.iter().map(|r| r.id.as_str()).collect();
    ids.sort_unstable();
    if ids.windows(2).any(|w| w[0] == w[1]) {
        return Err(invalid(
            "Rule ID must be unique. Found same ID for more than one rule",
        ));
    }
    Ok(rules)
}

/// Transitions are accepted and kept (cairn has one storage class: nothing to move).
fn has_unenforced_action(rule: &Node) -> bool {
    rule.child("Transition").is_some() || rule.child("NoncurrentVersionTransition").is_some()
}

/// When something `days` days after `from_ms` falls due: rounded up to the next midnight
/// UTC, as S3 counts lifecycle days.
pub fn due_at(from_ms: i64, days: i64) -> i64 {
    let t = from_ms + days * DAY_MS;
    t.div_euclid(DAY_MS) * DAY_MS + if t.rem_euclid(DAY_MS) == 0 { 0 } else { DAY_MS }
}

/// Whether a rule's filter takes an object version (delete markers: by key alone).
pub fn matches(f: &Filter, v: &ObjectVersion) -> bool {
    if !v.key.starts_with(&f.prefix) {
        return false;
    }
    if v.delete_marker {
        return f.tags.is_empty() && f.size_greater_than.is_none() && f.size_less_than.is_none();
    }
    if f.size_greater_than.is_some_and(|gt| v.size <= gt)
        || f.size_less_than.is_some_and(|lt| v.size >= lt)
    {
        return false;
    }
    if f.tags.is_empty() {
        return true;
    }
    let own = v
        .metadata
        .get(OBJECT_TAGS)
        .map(|t| tags::from_stored(t))
        .unwrap_or_default();
    f.tags.iter().all(|t| own.contains(t))
}

/// What the rules make due now for one key, given its versions newest first (the latest
/// first, delete markers included).
pub fn due_for_key(rules: &[Rule], versions: &[ObjectVersion], now_ms: i64) -> Vec<Action> {
    let mut out = Vec::new();
    let Some(current) = versions.first().filter(|v| v.is_latest) else {
        return out;
    };
    let rules: Vec<&Rule> = rules.iter().filter(|r| r.enabled).collect();
    // The current version.
    if current.delete_marker {
        if versions.len() == 1
            && rules.iter().any(|r| {
                r.expiration == Some(Expiration::ExpiredObjectDeleteMarker)
                    && matches(&r.filter, current)
            })
        {
            out.push(Action::RemoveDeleteMarker(current.version_id.clone()));
        }
    } else if rules.iter().any(|r| {
        matches(&r.filter, current)
            && match r.expiration {
                Some(Expiration::Days(d)) => now_ms >= due_at(current.created_ms, d),
                Some(Expiration::Date(at)) => now_ms >= at,
                _ => false,
            }
    }) {
        out.push(Action::ExpireCurrent);
    }
    // Noncurrent versions: each became noncurrent when the version after it was made.
    for (i, v) in versions.iter().enumerate().skip(1) {
        let since = versions[i - 1].created_ms;
        let newer_noncurrent = i - 1;
        let expired = rules.iter().any(|r| {
            let Some(n) = &r.noncurrent else { return false };
            matches(&r.filter, v)
                && n.newer_noncurrent.is_none_or(|k| newer_noncurrent >= k)
                && now_ms >= due_at(since, n.days)
        });
        if expired {
            out.push(Action::RemoveNoncurrent(v.version_id.clone()));
        }
    }
    out
}

/// Whether an upload started at `initiated_ms` is due to be aborted under the rules.
pub fn upload_due(rules: &[Rule], key: &str, initiated_ms: i64, now_ms: i64) -> bool {
    rules.iter().any(|r| {
        r.enabled
            && key.starts_with(&r.filter.prefix)
            && r.abort_multipart_days
                .is_some_and(|d| now_ms >= due_at(initiated_ms, d))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn v(key: &str, id: &str, created_ms: i64, marker: bool, latest: bool) -> ObjectVersion {
        ObjectVersion {
            bucket: "b".into(),
            key: key.into(),
            version_id: id.into(),
            is_latest: latest,
            delete_marker: marker,
            size: 10,
            etag: String::new(),
            content_type: None,
            metadata: BTreeMap::new(),
            blob: None,
            sse: None,
            created_ms,
        }
    }

    fn config(rules: &str) -> Result<Vec<Rule>, AwsError> {
        parse_configuration(
            format!("<LifecycleConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">{rules}</LifecycleConfiguration>")
                .as_bytes(),
        )
    }

    #[test]
    fn days_round_up_to_the_next_midnight() {
        // AWS's example: created 2014-01-15 10:30 UTC, 3 days: due 2014-01-19 00:00 UTC.
        let created = 1_389_781_800_000; // 2014-01-15T10:30:00Z
        assert_eq!(due_at(created, 3), 1_390_089_600_000); // 2014-01-19T00:00:00Z
        // Exactly midnight stays.
        assert_eq!(due_at(0, 1), DAY_MS);
        assert_eq!(due_at(1, 1), 2 * DAY_MS);
    }

    #[test]
    fn configurations_are_checked_as_s3_checks_them() {
        let ok = config("<Rule><ID>logs</ID><Filter><Prefix>AWSLogs/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>30</Days></Expiration><NoncurrentVersionExpiration><NoncurrentDays>7</NoncurrentDays><NewerNoncurrentVersions>2</NewerNoncurrentVersions></NoncurrentVersionExpiration></Rule>").unwrap();
        assert_eq!(ok[0].filter.prefix, "AWSLogs/");
        assert_eq!(ok[0].expiration, Some(Expiration::Days(30)));
        assert_eq!(
            ok[0].noncurrent,
            Some(NoncurrentExpiration {
                days: 7,
                newer_noncurrent: Some(2)
            })
        );
        let code = |r: &str| config(r).unwrap_err().code.to_string();
        assert_eq!(
            code("<Rule><Status>On</Status><Expiration><Days>1</Days></Expiration></Rule>"),
            "MalformedXML"
        );
        assert_eq!(
            code("<Rule><Status>Enabled</Status><Expiration><Days>0</Days></Expiration></Rule>"),
            "InvalidArgument"
        );
        assert_eq!(
            code(
                "<Rule><Status>Enabled</Status><Expiration><Date>2024-01-01T10:00:00Z</Date></Expiration></Rule>"
            ),
            "InvalidArgument"
        );
        assert_eq!(
            code(
                "<Rule><Status>Enabled</Status><Expiration><Days>1</Days><Date>2024-01-01T00:00:00Z</Date></Expiration></Rule>"
            ),
            "MalformedXML"
        );
        assert_eq!(
            code("<Rule><Status>Enabled</Status></Rule>"),
            "InvalidRequest"
        );
        assert_eq!(
            code(
                "<Rule><ID>a</ID><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule><Rule><ID>a</ID><Status>Enabled</Status><Expiration><Days>2</Days></Expiration></Rule>"
            ),
            "InvalidArgument"
        );
        assert_eq!(
            code(
                "<Rule><Filter><Prefix>a</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>"
            ),
            "MalformedXML"
        );
        assert_eq!(
            code(
                "<Rule><Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>"
            ),
            "InvalidArgument"
        );
        assert_eq!(
            code(
                "<Rule><Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays><NewerNoncurrentVersions>101</NewerNoncurrentVersions></NoncurrentVersionExpiration></Rule>"
            ),
            "InvalidArgument"
        );
        assert_eq!(code(""), "MalformedXML");
        let and = config("<Rule><Filter><And><Prefix>p/</Prefix><Tag><Key>k</Key><Value>v</Value></Tag><ObjectSizeGreaterThan>5</ObjectSizeGreaterThan></And></Filter><Status>Enabled</Status><Expiration><Date>2024-01-01T00:00:00.000Z</Date></Expiration></Rule>").unwrap();
        assert_eq!(and[0].filter.tags, vec![("k".to_owned(), "v".to_owned())]);
        assert_eq!(and[0].filter.size_greater_than, Some(5));
        assert_eq!(and[0].expiration, Some(Expiration::Date(1_704_067_200_000)));
    }

    #[test]
    fn filters_take_prefix_tags_and_sizes() {
        let mut tagged = v("p/a", "1", 0, false, true);
        tagged.metadata.insert(OBJECT_TAGS.into(), "k=v&x=y".into());
        let f = Filter {
            prefix: "p/".into(),
            tags: vec![("k".into(), "v".into())],
            ..Filter::default()
        };
        assert!(matches(&f, &tagged));
        assert!(!matches(&f, &v("p/b", "1", 0, false, true)));
        assert!(!matches(
            &Filter {
                prefix: "q/".into(),
                ..Filter::default()
            },
            &tagged
        ));
        let sized = Filter {
            size_greater_than: Some(10),
            ..Filter::default()
        };
        assert!(!matches(&sized, &tagged));
        let small = Filter {
            size_less_than: Some(11),
            ..Filter::default()
        };
        assert!(matches(&small, &tagged));
    }

    #[test]
    fn what_falls_due_for_a_key() {
        let rules = config("<Rule><ID>r</ID><Filter><Prefix></Prefix></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays><NewerNoncurrentVersions>1</NewerNoncurrentVersions></NoncurrentVersionExpiration></Rule><Rule><ID>m</ID><Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration></Rule>").unwrap();
        let hour = 3_600_000;
        // Newest first: current made at day 3, noncurrent since day 3 and since day 1.
        let versions = vec![
            v("k", "c", 3 * DAY_MS + hour, false, true),
            v("k", "n1", DAY_MS + hour, false, false),
            v("k", "n2", hour, false, false),
        ];
        // Day 4 + 1 h: the current is not due until day 5; n1 is the one newer noncurrent kept.
        assert!(
            due_for_key(&rules, &versions, 4 * DAY_MS + hour)
                .contains(&Action::RemoveNoncurrent("n2".into()))
        );
        assert_eq!(due_for_key(&rules, &versions, 4 * DAY_MS + hour).len(), 1);
        let at5 = due_for_key(&rules, &versions, 5 * DAY_MS);
        assert_eq!(
            at5,
            vec![Action::ExpireCurrent, Action::RemoveNoncurrent("n2".into())]
        );
        // A lone delete marker goes; one with versions behind it stays.
        let lone = vec![v("k", "m", 0, true, true)];
        assert_eq!(
            due_for_key(&rules, &lone, 1),
            vec![Action::RemoveDeleteMarker("m".into())]
        );
        let shadowing = vec![
            v("k", "m", 10 * DAY_MS, true, true),
            v("k", "o", 0, false, false),
        ];
        assert!(
            !due_for_key(&rules, &shadowing, 10 * DAY_MS)
                .contains(&Action::RemoveDeleteMarker("m".into()))
        );
        // Disabled rules do nothing.
        let off =
            config("<Rule><Status>Disabled</Status><Expiration><Days>1</Days></Expiration></Rule>")
                .unwrap();
        assert!(due_for_key(&off, &versions, 100 * DAY_MS).is_empty());
        assert!(!upload_due(&rules, "k", 0, 100 * DAY_MS));
        let abort = config("<Rule><Filter><Prefix>up/</Prefix></Filter><Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>2</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>").unwrap();
        assert!(!upload_due(&abort, "up/k", hour, 2 * DAY_MS + hour));
        assert!(upload_due(&abort, "up/k", hour, 3 * DAY_MS));
        assert!(!upload_due(&abort, "other", hour, 30 * DAY_MS));
    }
}
