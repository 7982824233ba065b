//! Policy documents from hostile callers: any text, and any JSON built from policy grammar,
//! parses or is refused without a panic, and whatever parses evaluates without one.

use proptest::prelude::*;
use serde_json::{Value, json};

use crate::*;

fn element() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        prop_oneof![
            Just("*".to_owned()),
            Just("Allow".to_owned()),
            Just("Deny".to_owned()),
            Just("s3:*".to_owned()),
            Just("arn:aws:s3:::b/*".to_owned()),
            Just("arn:aws:iam::111122223333:root".to_owned()),
            Just("${aws:username}".to_owned()),
            Just("${".to_owned()),
            Just("10.0.0.0/8".to_owned()),
            Just("2026-01-01T00:00:00Z".to_owned()),
            "[a-zA-Z:*?/${}.-]{0,24}",
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("Effect".to_owned()),
                    Just("Action".to_owned()),
                    Just("NotAction".to_owned()),
                    Just("Resource".to_owned()),
                    Just("NotResource".to_owned()),
                    Just("Principal".to_owned()),
                    Just("NotPrincipal".to_owned()),
                    Just("Condition".to_owned()),
                    Just("StringLike".to_owned()),
                    Just("IpAddress".to_owned()),
                    Just("DateGreaterThan".to_owned()),
                    Just("ForAnyValue:StringEquals".to_owned()),
                    Just("aws:SourceIp".to_owned()),
                    Just("AWS".to_owned()),
                    Just("Service".to_owned()),
                    "[A-Za-z:]{1,12}",
                ],
                inner,
                0..5,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn document() -> impl Strategy<Value = String> {
    (prop::collection::vec(element(), 0..4), any::<bool>()).prop_map(|(statements, versioned)| {
        let mut doc = json!({ "Statement": statements });
        if versioned {
            doc["Version"] = json!("2012-10-17");
        }
        doc.to_string()
    })
}

fn judge_everything(doc: &PolicyDocument) {
    let mut ctx = Context::new();
    ctx.set("aws:SourceIp", "10.1.2.3");
    ctx.set("aws:username", "alice");
    let callers = [
        Caller::User {
            account: "111122223333".into(),
            arn: "arn:aws:iam::111122223333:user/alice".into(),
        },
        Caller::Service {
            name: "cloudtrail.amazonaws.com".into(),
        },
    ];
    for caller in &callers {
        let req = Request {
            caller,
            action: "s3:GetObject",
            resource: "arn:aws:s3:::b/k",
            context: &ctx,
        };
        let _ = doc.evaluate(&req);
        let _ = evaluate(&[doc], Some(doc), Some("111122223333"), &req);
    }
}

proptest! {
    #[test]
    fn any_text_is_parsed_or_refused(text in "\\PC{0,200}") {
        for kind in [PolicyKind::Identity, PolicyKind::Resource, PolicyKind::Trust] {
            if let Ok(doc) = PolicyDocument::parse(&text, kind) {
                judge_everything(&doc);
            }
        }
        let _ = PolicyDocument::parse_lenient(&text);
    }

    #[test]
    fn grammar_shaped_documents_parse_or_are_refused_and_evaluate(text in document()) {
        for kind in [PolicyKind::Identity, PolicyKind::Resource, PolicyKind::Trust] {
            if let Ok(doc) = PolicyDocument::parse(&text, kind) {
                judge_everything(&doc);
            }
        }
        if let Ok(doc) = PolicyDocument::parse_lenient(&text) {
            judge_everything(&doc);
        }
    }
}

#[test]
fn deeply_nested_documents_are_refused() {
    let deep = format!(
        "{{\"Version\":\"2012-10-17\",\"Statement\":{}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    assert!(PolicyDocument::parse(&deep, PolicyKind::Identity).is_err());
}
