//! `wildcard_match` edge cases, and single documents judged on their own.

use crate::*;

#[test]
fn wildcard_edges() {
    assert!(wildcard_match("", ""));
    assert!(!wildcard_match("", "a"));
    assert!(!wildcard_match("a", ""));
    assert!(wildcard_match("*", ""));
    assert!(wildcard_match("*", "*"));
    assert!(wildcard_match("*", "anything at all"));
    assert!(wildcard_match("**", ""));
    assert!(wildcard_match("a*", "a"));
    assert!(wildcard_match("a**", "abc"));
    assert!(wildcard_match("a*c", "abbbc"));
    assert!(wildcard_match("a*c", "acbc"));
    assert!(!wildcard_match("a*c", "abbb"));
    assert!(wildcard_match("*c", "abc"));
    assert!(!wildcard_match("*c", "abcd"));
    assert!(wildcard_match("a*b*c", "a-b-b-c"));
    assert!(!wildcard_match("a*b*c", "a-c-b"));
    assert!(wildcard_match("a?c", "abc"));
    assert!(!wildcard_match("a?c", "ac"));
    assert!(!wildcard_match("a?c", "abbc"));
    assert!(wildcard_match("??", "ab"));
    assert!(!wildcard_match("?", ""));
    assert!(wildcard_match("?*", "a"));
    assert!(!wildcard_match("?*", ""));
    assert!(!wildcard_match("abc", "abcd"));
    assert!(!wildcard_match("abc", "ABC"));
    // `?` is one character, however many bytes.
    assert!(wildcard_match("?", "é"));
    assert!(wildcard_match("?", "🦀"));
    assert!(!wildcard_match("??", "é"));
    assert!(wildcard_match("caf?", "café"));
    assert!(wildcard_match("*é", "résumé"));
    assert!(wildcard_match(
        "arn:aws:s3:::bucket/*",
        "arn:aws:s3:::bucket/a/b/c"
    ));
    assert!(!wildcard_match(
        "arn:aws:s3:::bucket/*",
        "arn:aws:s3:::bucket"
    ));
    // Many stars stay fast.
    let long = "a".repeat(5000);
    assert!(!wildcard_match(
        &"*a".repeat(50).replace("a*a", "a*b"),
        &long
    ));
}

#[test]
fn single_documents() {
    let ctx = Context::new();
    let alice = Caller::User {
        account: "111122223333".into(),
        arn: "arn:aws:iam::111122223333:user/alice".into(),
    };
    let req = |caller, action| Request {
        caller,
        action,
        resource: "arn:aws:s3:::b/k",
        context: &ctx,
    };
    let identity = PolicyDocument::parse(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#,
        PolicyKind::Identity,
    )
    .unwrap();
    assert_eq!(
        identity.evaluate(&req(&alice, "s3:GetObject")),
        Outcome::Allow
    );
    assert_eq!(
        identity.evaluate(&req(&alice, "S3:getobject")),
        Outcome::Allow
    );
    assert_eq!(
        identity.evaluate(&req(&alice, "s3:PutObject")),
        Outcome::NotApplicable
    );

    let bucket = PolicyDocument::parse(
        r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::b/*"},
            {"Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"*"}]}"#,
        PolicyKind::Resource,
    )
    .unwrap();
    let trail = Caller::Service {
        name: "cloudtrail.amazonaws.com".into(),
    };
    assert_eq!(
        bucket.evaluate(&req(&trail, "s3:PutObject")),
        Outcome::Allow
    );
    assert_eq!(
        bucket.evaluate(&req(&alice, "s3:PutObject")),
        Outcome::NotApplicable
    );
    assert_eq!(
        bucket.evaluate(&req(&alice, "s3:DeleteObject")),
        Outcome::ExplicitDeny
    );

    let trust = PolicyDocument::parse(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},
            "Action":"sts:AssumeRole","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}"#,
        PolicyKind::Trust,
    )
    .unwrap();
    let mut mfa = Context::new();
    mfa.set("aws:MultiFactorAuthPresent", "true");
    let assume = |ctx| Request {
        caller: &alice,
        action: "sts:AssumeRole",
        resource: "arn:aws:iam::111122223333:role/R",
        context: ctx,
    };
    assert_eq!(trust.evaluate(&assume(&mfa)), Outcome::Allow);
    assert_eq!(trust.evaluate(&assume(&ctx)), Outcome::NotApplicable);
}

#[test]
fn context_keys_are_case_insensitive() {
    let mut ctx = Context::new();
    ctx.set("AWS:SourceIp", "127.0.0.1");
    assert_eq!(ctx.get("aws:sourceip"), Some(&["127.0.0.1".to_owned()][..]));
    ctx.set("aws:sourceip", "10.0.0.1");
    assert_eq!(ctx.get("AWS:SOURCEIP"), Some(&["10.0.0.1".to_owned()][..]));
    ctx.set_many("aws:TagKeys", vec!["a".into(), "b".into()]);
    assert_eq!(ctx.get("aws:tagkeys").map(<[String]>::len), Some(2));
    assert_eq!(ctx.get("aws:username"), None);
}
