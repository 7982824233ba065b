//! A forwarded call's request and answer as CloudTrail records them (`requestParameters`,
//! `responseElements`), read through the service's model in CloudTrail's conventions:
//!
//! - JSON services: the document with member names in lower camel case (`SecretId` →
//!   `secretId`, `KMSKeyId` → `kmsKeyId`), map keys as sent, timestamps in answers as AWS's
//!   records print them (`Apr 4, 2023, 8:16:48 AM`), sensitive values hidden
//!   (`HIDDEN_DUE_TO_SECURITY_REASONS`) and secret values left out.
//! - EC2: the names of its XML API (each member's `locationName`: `ipPermissions`, `groups`,
//!   `cidrIp`), lists as `{"items": [...]}` under their `…Set` names (`instancesSet`,
//!   `filterSet`), the request's lists that were not sent as `{}` (EC2 records every list of a
//!   request structure), answers converted from EC2's XML (`return` → `_return`), sensitive
//!   values as `<sensitiveDataRemoved>`.
//! - The query protocol: member names in lower camel case, lists as arrays.

use serde_json::{Map, Value, json};

use super::model::{MemberRef, Model, Shape};
use crate::pipeline::codec::form::lower_first;

/// How CloudTrail writes a sensitive value of a JSON service.
pub const HIDDEN: &str = "HIDDEN_DUE_TO_SECURITY_REASONS";
/// How CloudTrail writes a sensitive value of EC2 (`userData`, `keyMaterial`).
pub const EC2_REMOVED: &str = "<sensitiveDataRemoved>";

/// Members whose values CloudTrail leaves out of a record altogether, by signing name.
const LEFT_OUT: &[(&str, &[&str])] = &[("secretsmanager", &["SecretString", "SecretBinary"])];

/// EC2's request lists whose record names are not their wire names' (`InstanceId.N` is
/// `instancesSet`), as (model member, record name, key of each scalar item); from real records.
const EC2_SETS: &[(&str, &str, &str)] = &[
    ("InstanceIds", "instancesSet", "instanceId"),
    ("ResourceIds", "resourcesSet", "resourceId"),
    ("Resources", "resourcesSet", "resourceId"),
    ("AttributeNames", "accountAttributeNameSet", "attributeName"),
    ("PublicIps", "publicIpsSet", "publicIp"),
    ("ExecutableUsers", "executableBySet", "user"),
    ("ImageIds", "imagesSet", "imageId"),
    ("Owners", "ownersSet", "owner"),
    ("KeyNames", "keySet", "keyName"),
    ("GroupIds", "securityGroupIdSet", "groupId"),
    ("GroupNames", "securityGroupSet", "groupName"),
    ("RestorableByUserIds", "sharedUsersSet", "user"),
    ("SnapshotIds", "snapshotSet", "snapshotId"),
    ("SubnetIds", "subnetSet", "subnetId"),
    ("VolumeIds", "volumeSet", "volumeId"),
    ("VpcIds", "vpcSet", "vpcId"),
    ("SecurityGroupIds", "groupSet", "groupId"),
    ("SecurityGroups", "groupSet", "groupName"),
];

/// Request lists EC2 records only when sent (later additions to its API).
const EC2_ONLY_WHEN_SENT: &[&str] = &["TagSpecifications"];

/// `KMSKeyId` → `kmsKeyId`, `ARN` → `arn`, `SecretId` → `secretId`.
pub fn lower_camel(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let upper = chars.iter().take_while(|c| c.is_ascii_uppercase()).count();
    let lowered = match upper {
        0 => return name.to_owned(),
        n if n == chars.len() => n,
        1 => 1,
        // An acronym before a word: its last capital starts the word (`KMSKey` → `kmsKey`).
        n if chars[n].is_ascii_lowercase() => n - 1,
        n => n,
    };
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if i < lowered {
                c.to_ascii_lowercase()
            } else {
                *c
            }
        })
        .collect()
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
        .unwrap_or_default()
}

/// Whether values are going into a request's record or an answer's.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Request,
    Response,
}

/// A JSON service's input or output document, as recorded.
pub fn from_json(model: &Model, shape: &str, v: &Value, side: Side) -> Value {
    let left_out = LEFT_OUT
        .iter()
        .find(|(s, _)| *s == model.signing_name())
        .map_or(&[][..], |(_, m)| *m);
    json_value(model, shape, v, side, left_out)
}

fn json_value(model: &Model, shape: &str, v: &Value, side: Side, left_out: &[&str]) -> Value {
    let Some(s) = model.shape(shape) else {
        return v.clone();
    };
    if s.sensitive {
        return Value::String(HIDDEN.to_owned());
    }
    match (s.kind.as_str(), v) {
        ("structure", Value::Object(o)) => {
            let mut out = Map::new();
            for (k, x) in o {
                match s.members.iter().find(|(n, _)| n == k) {
                    Some(_) if left_out.contains(&k.as_str()) => {}
                    Some((_, m)) => {
                        out.insert(
                            lower_camel(k),
                            json_value(model, &m.shape, x, side, left_out),
                        );
                    }
                    None => {
                        out.insert(lower_camel(k), x.clone());
                    }
                }
            }
            Value::Object(out)
        }
        ("list", Value::Array(a)) => match &s.member {
            Some(m) => Value::Array(
                a.iter()
                    .map(|x| json_value(model, &m.shape, x, side, left_out))
                    .collect(),
            ),
            None => v.clone(),
        },
        ("map", Value::Object(o)) => match &s.value {
            Some(m) => Value::Object(
                o.iter()
                    .map(|(k, x)| (k.clone(), json_value(model, &m.shape, x, side, left_out)))
                    .collect(),
            ),
            None => v.clone(),
        },
        ("timestamp", Value::Number(n)) if side == Side::Response => n
            .as_f64()
            .and_then(java_date)
            .map_or_else(|| v.clone(), Value::String),
        _ => v.clone(),
    }
}

/// How AWS's Java services print a date in a record: `Apr 4, 2023, 8:16:48 AM`.
fn java_date(epoch_seconds: f64) -> Option<String> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let t = time::OffsetDateTime::from_unix_timestamp(epoch_seconds.floor() as i64).ok()?;
    let (h, half) = match t.hour() {
        0 => (12, "AM"),
        h @ 1..=11 => (h, "AM"),
        12 => (12, "PM"),
        h => (h - 12, "PM"),
    };
    Some(format!(
        "{} {}, {}, {}:{:02}:{:02} {}",
        MONTHS[usize::from(u8::from(t.month())) - 1],
        t.day(),
        t.year(),
        h,
        t.minute(),
        t.second(),
        half
    ))
}

/// Form parameters (`Name.1.Member=value`), by name.
pub type Form = std::collections::BTreeMap<String, String>;

/// An EC2 request's parameters, as recorded.
pub fn from_ec2_form(model: &Model, shape: &str, form: &Form) -> Value {
    match model.shape(shape) {
        Some(s) => Value::Object(ec2_structure(model, s, "", form, true)),
        None => Value::Object(Map::new()),
    }
}

/// The wire name EC2's serializer sends a member under.
fn ec2_wire_name(name: &str, m: &MemberRef) -> String {
    m.query_name
        .clone()
        .or_else(|| m.location_name.as_deref().map(upper_first))
        .unwrap_or_else(|| name.to_owned())
}

fn ec2_structure(
    model: &Model,
    s: &Shape,
    prefix: &str,
    form: &Form,
    sent: bool,
) -> Map<String, Value> {
    let mut out = Map::new();
    for (name, m) in &s.members {
        let key = format!("{prefix}{}", ec2_wire_name(name, m));
        let Some(ms) = model.shape(&m.shape) else {
            continue;
        };
        match ms.kind.as_str() {
            "list" => {
                let (set, item_key) = ec2_set_names(name, m, ms);
                let items = ec2_list(model, ms, &key, form, &item_key);
                if !items.is_empty() {
                    out.insert(set, json!({ "items": items }));
                } else if sent && !EC2_ONLY_WHEN_SENT.contains(&name.as_str()) {
                    out.insert(set, json!({}));
                }
            }
            "structure" => {
                let inner = ec2_structure(model, ms, &format!("{key}."), form, false);
                if !inner.is_empty() {
                    out.insert(ec2_record_name(name, m), Value::Object(inner));
                }
            }
            _ => {
                if let Some(v) = form.get(&key) {
                    out.insert(ec2_record_name(name, m), scalar(ms, v, EC2_REMOVED));
                }
            }
        }
    }
    out
}

fn ec2_record_name(name: &str, m: &MemberRef) -> String {
    m.location_name
        .as_deref()
        .map_or_else(|| lower_camel(name), lower_first)
}

/// A request list's record name and the key of its scalar items.
fn ec2_set_names(name: &str, m: &MemberRef, list: &Shape) -> (String, String) {
    if let Some((_, set, item)) = EC2_SETS.iter().find(|(n, _, _)| *n == name) {
        return ((*set).to_owned(), (*item).to_owned());
    }
    let item = m
        .location_name
        .as_deref()
        .or(list
            .member
            .as_ref()
            .and_then(|x| x.location_name.as_deref())
            .filter(|l| *l != "item"))
        .map_or_else(|| "item".to_owned(), lower_first);
    let set = match m.location_name.as_deref() {
        // A flattened wire name (`Filter.N`) is recorded as a set (`filterSet`).
        Some(l) if l.starts_with(|c: char| c.is_ascii_uppercase()) => {
            format!("{}Set", lower_first(l))
        }
        Some(l) => l.to_owned(),
        None => lower_camel(name),
    };
    (set, item)
}

/// The numbered entries `{key}.N…` of a list, in order.
fn indices(form: &Form, key: &str) -> Vec<u32> {
    let prefix = format!("{key}.");
    let mut found: Vec<u32> = form
        .range(prefix.clone()..)
        .take_while(|(k, _)| k.starts_with(&prefix))
        .filter_map(|(k, _)| k[prefix.len()..].split('.').next()?.parse().ok())
        .collect();
    found.sort_unstable();
    found.dedup();
    found
}

fn ec2_list(model: &Model, list: &Shape, key: &str, form: &Form, item_key: &str) -> Vec<Value> {
    let Some(member) = list.member.as_ref().and_then(|m| model.shape(&m.shape)) else {
        return Vec::new();
    };
    indices(form, key)
        .into_iter()
        .filter_map(|n| {
            let at = format!("{key}.{n}");
            if member.kind == "structure" {
                Some(Value::Object(ec2_structure(
                    model,
                    member,
                    &format!("{at}."),
                    form,
                    true,
                )))
            } else {
                let v = form.get(&at)?;
                Some(json!({ item_key: scalar(member, v, EC2_REMOVED) }))
            }
        })
        .collect()
}

/// A scalar sent as text, typed by its shape.
pub(super) fn scalar(s: &Shape, v: &str, hidden: &str) -> Value {
    if s.sensitive {
        return Value::String(hidden.to_owned());
    }
    match s.kind.as_str() {
        "integer" | "long" => v.parse::<i64>().map_or_else(|_| json!(v), |n| json!(n)),
        "double" | "float" => v.parse::<f64>().map_or_else(|_| json!(v), |n| json!(n)),
        "boolean" => match v {
            "true" => json!(true),
            "false" => json!(false),
            _ => json!(v),
        },
        _ => json!(v),
    }
}

/// A query-protocol request's parameters (`Name.member.N`, `Name.entry.N.key`), as recorded.
pub fn from_query_form(model: &Model, shape: &str, form: &Form) -> Value {
    match model.shape(shape) {
        Some(s) => Value::Object(query_structure(model, s, "", form)),
        None => Value::Object(Map::new()),
    }
}

fn query_structure(model: &Model, s: &Shape, prefix: &str, form: &Form) -> Map<String, Value> {
    let mut out = Map::new();
    for (name, m) in &s.members {
        let key = format!("{prefix}{}", m.location_name.as_deref().unwrap_or(name));
        if let Some(v) = query_value(model, &m.shape, &key, form) {
            out.insert(lower_camel(name), v);
        }
    }
    out
}

fn query_value(model: &Model, shape: &str, key: &str, form: &Form) -> Option<Value> {
    let s = model.shape(shape)?;
    match s.kind.as_str() {
        "structure" => {
            let inner = query_structure(model, s, &format!("{key}."), form);
            (!inner.is_empty()).then_some(Value::Object(inner))
        }
        "list" => {
            let member = s.member.as_ref()?;
            let base = if s.flattened {
                key.to_owned()
            } else {
                format!(
                    "{key}.{}",
                    member.location_name.as_deref().unwrap_or("member")
                )
            };
            let items: Vec<Value> = indices(form, &base)
                .into_iter()
                .filter_map(|n| query_value(model, &member.shape, &format!("{base}.{n}"), form))
                .collect();
            (!items.is_empty()).then_some(Value::Array(items))
        }
        "map" => {
            let (k, v) = (s.key.as_ref()?, s.value.as_ref()?);
            let base = if s.flattened {
                key.to_owned()
            } else {
                format!("{key}.entry")
            };
            let kn = k.location_name.as_deref().unwrap_or("key");
            let vn = v.location_name.as_deref().unwrap_or("value");
            let mut out = Map::new();
            for n in indices(form, &base) {
                let Some(name) = form.get(&format!("{base}.{n}.{kn}")) else {
                    continue;
                };
                if let Some(x) = query_value(model, &v.shape, &format!("{base}.{n}.{vn}"), form) {
                    out.insert(name.clone(), x);
                }
            }
            (!out.is_empty()).then_some(Value::Object(out))
        }
        _ => form.get(key).map(|v| scalar(s, v, HIDDEN)),
    }
}

/// An element of an XML answer.
#[derive(Debug, Default)]
pub struct Element {
    pub name: String,
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The text of the first element named `name` anywhere below this one.
    pub fn find_text(&self, name: &str) -> Option<&str> {
        self.children.iter().find_map(|c| {
            if c.name == name {
                Some(c.text.as_str())
            } else {
                c.find_text(name)
            }
        })
    }
}

/// Parses an XML document into its root element (`None`: not XML).
pub fn parse_xml(body: &[u8]) -> Option<Element> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(body);
    let mut stack: Vec<Element> = Vec::new();
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf).ok()? {
            Event::Start(e) => stack.push(Element {
                name: String::from_utf8_lossy(e.local_name().as_ref()).into_owned(),
                ..Element::default()
            }),
            Event::Empty(e) => {
                let el = Element {
                    name: String::from_utf8_lossy(e.local_name().as_ref()).into_owned(),
                    ..Element::default()
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => return Some(el),
                }
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.unescape().ok()?);
                }
            }
            Event::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Event::End(_) => {
                let done = stack.pop()?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => return Some(done),
                }
            }
            Event::Eof => return None,
            _ => {}
        }
        buf.clear();
    }
}

/// An EC2 answer's elements, as recorded (`shape`: the operation's output).
pub fn from_ec2_xml(model: &Model, shape: Option<&str>, root: &Element) -> Value {
    Value::Object(ec2_elements(
        model,
        shape.and_then(|s| model.shape(s)),
        root,
    ))
}

fn ec2_elements(model: &Model, s: Option<&Shape>, el: &Element) -> Map<String, Value> {
    let mut out = Map::new();
    for c in &el.children {
        let member = s.and_then(|s| {
            s.members
                .iter()
                .find(|(n, m)| m.location_name.as_deref() == Some(c.name.as_str()) || *n == c.name)
        });
        let ms = member.and_then(|(_, m)| model.shape(&m.shape));
        let key = if c.name == "return" {
            "_return".to_owned()
        } else {
            c.name.clone()
        };
        out.insert(key, ec2_element(model, ms, c));
    }
    out
}

fn ec2_element(model: &Model, s: Option<&Shape>, el: &Element) -> Value {
    match s.map(|s| s.kind.as_str()) {
        Some("list") => {
            let member = s
                .and_then(|s| s.member.as_ref())
                .and_then(|m| model.shape(&m.shape));
            let items: Vec<Value> = el
                .children
                .iter()
                .map(|c| ec2_element(model, member, c))
                .collect();
            if items.is_empty() {
                json!({})
            } else {
                json!({ "items": items })
            }
        }
        Some("structure") => Value::Object(ec2_elements(model, s, el)),
        Some(_) => s.map_or_else(|| json!(el.text), |s| scalar(s, &el.text, EC2_REMOVED)),
        None if el.children.iter().any(|c| c.name == "item") => json!({
            "items": el.children.iter().map(|c| ec2_element(model, None, c)).collect::<Vec<_>>()
        }),
        None if !el.children.is_empty() => Value::Object(ec2_elements(model, None, el)),
        // An element the model does not list (EC2 answers `<return>` for calls whose output
        // has no such member): a flag when it reads as one.
        None => match el.text.as_str() {
            "true" => json!(true),
            "false" => json!(false),
            t => json!(t),
        },
    }
}

/// A query-protocol answer's result (`<{Op}Result>`), as recorded: member names in lower camel
/// case, lists as arrays.
/// A REST-XML document's elements (`root` is the shape's own element), as recorded.
pub fn from_rest_xml(model: &Model, shape: &str, root: &Element) -> Value {
    match model.shape(shape) {
        // AWS names these members as Java beans do: the first letter lowered (`tTL`).
        Some(s) => Value::Object(query_xml_structure(model, s, root, lower_first)),
        None => Value::Null,
    }
}

pub fn from_query_xml(model: &Model, shape: Option<&str>, root: &Element) -> Option<Value> {
    let result = root.children.iter().find(|c| c.name.ends_with("Result"))?;
    let s = shape.and_then(|s| model.shape(s))?;
    Some(Value::Object(query_xml_structure(
        model,
        s,
        result,
        lower_camel,
    )))
}

/// How a document's member names are recorded.
type Naming = fn(&str) -> String;

fn query_xml_structure(
    model: &Model,
    s: &Shape,
    el: &Element,
    name_of: Naming,
) -> Map<String, Value> {
    let mut out = Map::new();
    for (name, m) in &s.members {
        let wire = m.location_name.as_deref().unwrap_or(name);
        let Some(ms) = model.shape(&m.shape) else {
            continue;
        };
        let value = if ms.kind == "list" && (ms.flattened || m.flattened == Some(true)) {
            let items: Vec<Value> = el
                .children
                .iter()
                .filter(|c| c.name == wire)
                .filter_map(|c| query_xml_value(model, ms.member.as_ref(), c, name_of))
                .collect();
            (!items.is_empty()).then_some(Value::Array(items))
        } else {
            el.child(wire)
                .and_then(|c| query_xml_value(model, Some(m), c, name_of))
        };
        if let Some(v) = value {
            out.insert(name_of(name), v);
        }
    }
    out
}

fn query_xml_value(
    model: &Model,
    m: Option<&MemberRef>,
    el: &Element,
    name_of: Naming,
) -> Option<Value> {
    let s = m.and_then(|m| model.shape(&m.shape));
    Some(match s.map(|s| s.kind.as_str()) {
        Some("structure") => Value::Object(query_xml_structure(model, s?, el, name_of)),
        Some("list") => Value::Array(
            el.children
                .iter()
                .filter_map(|c| query_xml_value(model, s?.member.as_ref(), c, name_of))
                .collect(),
        ),
        Some("map") => {
            let s = s?;
            let kn = s
                .key
                .as_ref()
                .and_then(|k| k.location_name.as_deref())
                .unwrap_or("key");
            let vn = s
                .value
                .as_ref()
                .and_then(|v| v.location_name.as_deref())
                .unwrap_or("value");
            Value::Object(
                el.children
                    .iter()
                    .filter_map(|entry| {
                        let k = entry.child(kn)?.text.clone();
                        let v =
                            query_xml_value(model, s.value.as_ref(), entry.child(vn)?, name_of)?;
                        Some((k, v))
                    })
                    .collect(),
            )
        }
        Some(_) => scalar(s?, &el.text, HIDDEN),
        None => json!(el.text),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Form {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn names_in_lower_camel_case() {
        for (from, to) in [
            ("SecretId", "secretId"),
            ("KMSKeyId", "kmsKeyId"),
            ("ARN", "arn"),
            ("SSESpecification", "sseSpecification"),
            ("name", "name"),
            ("TableName", "tableName"),
        ] {
            assert_eq!(lower_camel(from), to);
        }
    }

    #[test]
    fn an_ec2_security_group_rule_is_recorded_as_ec2_writes_it() {
        let model = Model::load("ec2", None).unwrap();
        let f = form(&[
            ("Action", "AuthorizeSecurityGroupIngress"),
            ("GroupId", "sg-1"),
            ("IpPermissions.1.IpProtocol", "tcp"),
            ("IpPermissions.1.FromPort", "22"),
            ("IpPermissions.1.ToPort", "22"),
            ("IpPermissions.1.IpRanges.1.CidrIp", "0.0.0.0/0"),
        ]);
        let got = from_ec2_form(&model, "AuthorizeSecurityGroupIngressRequest", &f);
        // A real record of the same call (2026, the corpus).
        let real = json!({"groupId": "sg-0e79c7acdf4a0225e", "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "groups": {}, "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}, "ipv6Ranges": {}, "prefixListIds": {}}]}});
        assert_eq!(got["ipPermissions"], real["ipPermissions"]);
        assert_eq!(got["groupId"], "sg-1");
        let keys: Vec<_> = got.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["groupId", "ipPermissions"]);
    }

    #[test]
    fn ec2_lists_take_their_record_names() {
        let model = Model::load("ec2", None).unwrap();
        let f = form(&[
            ("InstanceId.1", "i-1"),
            ("Filter.1.Name", "vpc-id"),
            ("Filter.1.Value.1", "vpc-1"),
            ("Filter.1.Value.2", "vpc-2"),
        ]);
        let got = from_ec2_form(&model, "DescribeInstancesRequest", &f);
        assert_eq!(
            got,
            json!({"filterSet": {"items": [{"name": "vpc-id", "valueSet": {"items": [{"value": "vpc-1"}, {"value": "vpc-2"}]}}]}, "instancesSet": {"items": [{"instanceId": "i-1"}]}})
        );
        let got = from_ec2_form(&model, "DescribeSecurityGroupsRequest", &form(&[]));
        let mut keys: Vec<_> = got.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        assert_eq!(
            keys,
            ["filterSet", "securityGroupIdSet", "securityGroupSet"]
        );
        let got = from_ec2_form(
            &model,
            "RunInstancesRequest",
            &form(&[("ImageId", "ami-1"), ("UserData", "c2VjcmV0")]),
        );
        assert_eq!(got["userData"], EC2_REMOVED);
    }

    #[test]
    fn json_secrets_are_hidden_or_left_out() {
        let model = Model::load("secretsmanager", None).unwrap();
        let got = from_json(
            &model,
            "CreateSecretRequest",
            &json!({"Name": "db", "SecretString": "hunter2", "ClientRequestToken": "t"}),
            Side::Request,
        );
        assert_eq!(got, json!({"name": "db", "clientRequestToken": "t"}));
        let ssm = Model::load("ssm", None).unwrap();
        let got = from_json(
            &ssm,
            "PutParameterRequest",
            &json!({"Name": "/p", "Value": "v", "Type": "SecureString"}),
            Side::Request,
        );
        assert_eq!(
            got,
            json!({"name": "/p", "value": HIDDEN, "type": "SecureString"})
        );
    }

    #[test]
    fn answers_print_dates_as_aws_records_do() {
        assert_eq!(
            java_date(1_680_596_208.5).unwrap(),
            "Apr 4, 2023, 8:16:48 AM"
        );
        assert_eq!(
            java_date(1_680_638_400.0).unwrap(),
            "Apr 4, 2023, 8:00:00 PM"
        );
    }

    #[test]
    fn an_ec2_answer_becomes_its_response_elements() {
        let model = Model::load("ec2", None).unwrap();
        let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
<CreateSecurityGroupResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r-1</requestId><return>true</return><groupId>sg-1</groupId><tagSet/></CreateSecurityGroupResponse>"#;
        let root = parse_xml(xml).unwrap();
        let got = from_ec2_xml(&model, Some("CreateSecurityGroupResult"), &root);
        assert_eq!(
            got,
            json!({"requestId": "r-1", "_return": true, "groupId": "sg-1", "tagSet": {}})
        );
    }

    #[test]
    fn a_query_answer_becomes_its_response_elements() {
        let model = Model::load("autoscaling", None).unwrap();
        let xml = br#"<DescribeTagsResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/"><DescribeTagsResult><Tags><member><Key>env</Key><Value>prod</Value><PropagateAtLaunch>true</PropagateAtLaunch></member></Tags></DescribeTagsResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DescribeTagsResponse>"#;
        let root = parse_xml(xml).unwrap();
        let got = from_query_xml(&model, Some("TagsType"), &root).unwrap();
        assert_eq!(
            got,
            json!({"tags": [{"key": "env", "value": "prod", "propagateAtLaunch": true}]})
        );
    }

    #[test]
    fn query_lists_and_maps() {
        let model = Model::load("ec2", None).unwrap();
        // EC2's model read as the query protocol would be: only the flattening differs.
        let got = from_query_form(
            &model,
            "CreateSecurityGroupRequest",
            &form(&[("GroupDescription", "d"), ("GroupName", "g")]),
        );
        assert_eq!(got, json!({"description": "d", "groupName": "g"}));
    }
}
