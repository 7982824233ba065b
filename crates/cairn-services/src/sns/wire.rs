//! SNS's wire shapes: the query codec (version 2010-03-31, XML answers), the flat form's
//! maps and lists (`Attributes.entry.N.key`, `MessageAttributes.entry.N.Name`,
//! `Tags.member.N.Key`, `PublishBatchRequestEntries.member.N.…`), and XML writers.

use std::collections::BTreeMap;

use cairn_wire::xml::escape;

use crate::pipeline::codec::form::Form;
use crate::pipeline::codec::query::QueryCodec;

pub(super) static CODEC: QueryCodec = QueryCodec {
    version: "2010-03-31",
    xmlns: "http://sns.amazonaws.com/doc/2010-03-31/",
};

/// One message attribute as published.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct MessageAttribute {
    pub data_type: String,
    /// The string value, or the base64 of the binary one.
    pub value: String,
    pub binary: bool,
}

/// `{prefix}.entry.N.key` / `.value` → a map (Attributes).
pub(super) fn entries(form: &Form, prefix: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for n in 1.. {
        let Some(k) = form.get(&format!("{prefix}.entry.{n}.key")) else {
            break;
        };
        let v = form
            .get(&format!("{prefix}.entry.{n}.value"))
            .cloned()
            .unwrap_or_default();
        out.insert(k.clone(), v);
    }
    out
}

/// `{prefix}.member.N` → a list of strings (TagKeys).
pub(super) fn members(form: &Form, prefix: &str) -> Vec<String> {
    (1..)
        .map_while(|n| form.get(&format!("{prefix}.member.{n}")).cloned())
        .collect()
}

/// `{prefix}.entry.N.Name` / `.Value.DataType` / `.Value.StringValue|BinaryValue`.
pub(super) fn message_attributes(form: &Form, prefix: &str) -> BTreeMap<String, MessageAttribute> {
    let mut out = BTreeMap::new();
    for n in 1.. {
        let at = format!("{prefix}.entry.{n}");
        let Some(name) = form.get(&format!("{at}.Name")) else {
            break;
        };
        let data_type = form
            .get(&format!("{at}.Value.DataType"))
            .cloned()
            .unwrap_or_default();
        let (value, binary) = match form.get(&format!("{at}.Value.BinaryValue")) {
            Some(b) => (b.clone(), true),
            None => (
                form.get(&format!("{at}.Value.StringValue"))
                    .cloned()
                    .unwrap_or_default(),
                false,
            ),
        };
        out.insert(
            name.clone(),
            MessageAttribute {
                data_type,
                value,
                binary,
            },
        );
    }
    out
}

/// The sub-form of one member of a list of structures (`PublishBatchRequestEntries.member.2.`
/// → `Id`, `Message`, …).
pub(super) fn member_forms(form: &Form, prefix: &str) -> Vec<Form> {
    let mut out = Vec::new();
    for n in 1.. {
        let head = format!("{prefix}.member.{n}.");
        let sub: Form = form
            .iter()
            .filter_map(|(k, v)| k.strip_prefix(&head).map(|r| (r.to_owned(), v.clone())))
            .collect();
        if sub.is_empty() {
            break;
        }
        out.push(sub);
    }
    out
}

/// `<{name}><entry><key>…</key><value>…</value></entry>…</{name}>`
pub(super) fn map_xml(name: &str, m: &BTreeMap<String, String>) -> String {
    let mut s = format!("    <{name}>\n");
    for (k, v) in m {
        s.push_str(&format!(
            "      <entry>\n        <key>{}</key>\n        <value>{}</value>\n      </entry>\n",
            escape(k),
            escape(v)
        ));
    }
    s.push_str(&format!("    </{name}>\n"));
    s
}

/// `<Tags><member><Key/><Value/></member>…</Tags>`
pub(super) fn tags_xml(tags: &BTreeMap<String, String>) -> String {
    let mut s = "    <Tags>\n".to_owned();
    for (k, v) in tags {
        s.push_str(&format!(
            "      <member>\n        <Key>{}</Key>\n        <Value>{}</Value>\n      </member>\n",
            escape(k),
            escape(v)
        ));
    }
    s.push_str("    </Tags>\n");
    s
}

/// One `<member>` of ListSubscriptions(ByTopic).
pub(super) fn subscription_xml(
    arn: &str,
    owner: &str,
    protocol: &str,
    endpoint: &str,
    topic: &str,
) -> String {
    format!(
        "      <member>\n        <SubscriptionArn>{}</SubscriptionArn>\n        <Owner>{}</Owner>\n        <Protocol>{}</Protocol>\n        <Endpoint>{}</Endpoint>\n        <TopicArn>{}</TopicArn>\n      </member>\n",
        escape(arn),
        escape(owner),
        escape(protocol),
        escape(endpoint),
        escape(topic)
    )
}
