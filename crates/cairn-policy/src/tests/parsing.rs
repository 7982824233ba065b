//! IAM's `MalformedPolicyDocument` messages, kind by kind, and what the lenient reading keeps.

use serde_json::{Value, json};

use crate::*;

fn bad(doc: &Value, kind: PolicyKind) -> String {
    match PolicyDocument::parse(&doc.to_string(), kind) {
        Err(PolicyError::Malformed(m)) => m,
        Ok(_) => panic!("accepted as {kind:?}: {doc}"),
    }
}

fn good(doc: &Value, kind: PolicyKind) -> PolicyDocument {
    PolicyDocument::parse(&doc.to_string(), kind)
        .unwrap_or_else(|e| panic!("refused as {kind:?} ({e}): {doc}"))
}

fn one(statement: Value) -> Value {
    json!({"Version": "2012-10-17", "Statement": statement})
}

const SYNTAX: &str = "Syntax errors in policy.";
const LEGACY: &str = "The policy failed legacy parsing";
use PolicyKind::{Identity as ID, Resource as RES, Trust as TRUST};

#[test]
fn syntax_errors() {
    assert!(matches!(
        PolicyDocument::parse("not json", ID),
        Err(PolicyError::Malformed(m)) if m == SYNTAX
    ));
    assert!(matches!(
        PolicyDocument::parse("{\"Statement\": ", ID),
        Err(PolicyError::Malformed(m)) if m == SYNTAX
    ));
    let st = json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*"});
    for doc in [
        json!([st]),
        json!("text"),
        json!({"Version": "2012-10-17"}),
        json!({"Version": "2012-10-17", "Statement": []}),
        json!({"Version": "2012-10-17", "Statement": ["afd"]}),
        json!({"Version": "2020-01-01", "Statement": st}),
        json!({"Version": 2012, "Statement": st}),
        json!({"Version": "2012-10-17", "Id": ["x"], "Statement": st}),
        json!({"Version": "2012-10-17", "Statement": st, "Extra": 1}),
        one(json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Extra": 1})),
        one(json!({"Effect": "Maybe", "Action": "s3:*", "Resource": "*"})),
        one(json!({"Effect": true, "Action": "s3:*", "Resource": "*"})),
        one(json!({"Effect": "Allow", "Action": "s3:*", "NotAction": "s3:Get*", "Resource": "*"})),
        one(json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*", "NotResource": "*"})),
        one(json!({"Effect": "Allow", "Action": {}, "Resource": "*"})),
        one(json!({"Effect": "Allow", "Action": [[]], "Resource": "*"})),
        one(json!({"Effect": "Allow", "Action": "s3:*", "Resource": ["arn:aws:s3:::b", {}]})),
        one(json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Sid": []})),
        one(json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": []})),
        one(
            json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"StringEquals": "b"}}),
        ),
        one(
            json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"StringEquals": {"k": {}}}}),
        ),
        one(
            json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"StringEquals": {"k": [null]}}}),
        ),
        // Unknown operators, and operators mangled.
        one(
            json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"StringSorta": {"a": "b"}}}),
        ),
        one(
            json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"ForAnyValue::StringEquals": {"a": "b"}}}),
        ),
        one(
            json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"NullIfExists": {"a": "true"}}}),
        ),
        one(
            json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"stringequals": {"a": "b"}}}),
        ),
    ] {
        for kind in [ID, RES, TRUST] {
            if kind != ID && doc.to_string().contains("\"Resource\"") {
                // The principal rules come first for these kinds; covered below.
                continue;
            }
            assert_eq!(bad(&doc, kind), SYNTAX, "{kind:?}: {doc}");
        }
    }
}

#[test]
fn unknown_operators_are_refused_by_every_kind() {
    let cond = json!({"StringSorta": {"a": "b"}});
    let id = one(json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": cond}));
    let res = one(
        json!({"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*", "Condition": cond}),
    );
    let trust = one(
        json!({"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole", "Condition": cond}),
    );
    assert_eq!(bad(&id, ID), SYNTAX);
    assert_eq!(bad(&res, RES), SYNTAX);
    assert_eq!(bad(&trust, TRUST), SYNTAX);
    // IAM lets an unknown operator through when it tests nothing.
    good(
        &one(
            json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"x": {}, "y": {}}}),
        ),
        ID,
    );
}

#[test]
fn missing_and_prohibited_fields() {
    let st = |v: Value| one(v);
    // Effect.
    assert_eq!(
        bad(&st(json!({"Action": "s3:*", "Resource": "*"})), ID),
        SYNTAX
    );
    assert_eq!(
        bad(
            &st(json!({"Principal": "*", "Action": "s3:*", "Resource": "*"})),
            RES
        ),
        "Missing required field Effect"
    );
    assert_eq!(
        bad(
            &st(json!({"Principal": "*", "Action": "sts:AssumeRole"})),
            TRUST
        ),
        "Missing required field Effect"
    );
    // Principal.
    assert_eq!(
        bad(
            &st(json!({"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"})),
            ID
        ),
        "Policy document should not specify a principal."
    );
    assert_eq!(
        bad(
            &st(
                json!({"Effect": "Deny", "NotPrincipal": {"AWS": "111122223333"}, "Action": "s3:*", "Resource": "*"})
            ),
            ID
        ),
        "Policy document should not specify a principal."
    );
    assert_eq!(
        bad(
            &st(json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})),
            RES
        ),
        "Missing required field Principal"
    );
    assert_eq!(
        bad(
            &st(json!({"Effect": "Allow", "Action": "sts:AssumeRole"})),
            TRUST
        ),
        "Missing required field Principal"
    );
    // Resource.
    assert_eq!(
        bad(
            &st(
                json!({"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "sts:AssumeRole", "Resource": "*"})
            ),
            TRUST
        ),
        "Has prohibited field Resource"
    );
    assert_eq!(
        bad(
            &st(
                json!({"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "sts:AssumeRole", "NotResource": "*"})
            ),
            TRUST
        ),
        "Has prohibited field NotResource"
    );
    assert_eq!(
        bad(&st(json!({"Effect": "Allow", "Action": "s3:*"})), ID),
        "Policy statement must contain resources."
    );
    assert_eq!(
        bad(
            &st(json!({"Effect": "Allow", "Action": "s3:*", "Resource": []})),
            ID
        ),
        "Policy statement must contain resources."
    );
    assert_eq!(
        bad(
            &st(json!({"Effect": "Allow", "Principal": "*", "Action": "s3:*"})),
            RES
        ),
        "Policy statement must contain resources."
    );
    // Actions.
    assert_eq!(
        bad(&st(json!({"Effect": "Allow", "Resource": "*"})), ID),
        "Policy statement must contain actions."
    );
    assert_eq!(
        bad(
            &st(json!({"Effect": "Allow", "Action": [], "Resource": "*"})),
            ID
        ),
        "Policy statement must contain actions."
    );
    assert_eq!(
        bad(
            &st(json!({"Effect": "Allow", "Principal": {"AWS": "111122223333"}})),
            TRUST
        ),
        "Policy statement must contain actions."
    );
    assert_eq!(
        bad(
            &json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny"}, {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}),
            ID
        ),
        "Policy statement must contain actions."
    );
}

#[test]
fn principals() {
    let trust =
        |p: Value| one(json!({"Effect": "Allow", "Principal": p, "Action": "sts:AssumeRole"}));
    for p in [
        json!("*"),
        json!({"AWS": "*"}),
        json!({"AWS": "111122223333"}),
        json!({"AWS": ["arn:aws:iam::111122223333:root", "arn:aws:iam::111122223333:user/a/b"]}),
        json!({"AWS": "arn:aws:iam::111122223333:role/path/R"}),
        json!({"AWS": "arn:aws:sts::111122223333:assumed-role/R/s"}),
        json!({"AWS": "AIDAJQABLZS4A3QDU576Q"}),
        json!({"Service": ["ec2.amazonaws.com", "lambda.amazonaws.com"]}),
        json!({"Federated": "cognito-identity.amazonaws.com"}),
    ] {
        good(&trust(p), TRUST);
    }
    assert_eq!(
        bad(&trust(json!({"AWS": "alice"})), TRUST),
        "Invalid principal in policy: \"AWS\":\"alice\""
    );
    assert_eq!(
        bad(&trust(json!({"Service": ""})), TRUST),
        "Invalid principal in policy: \"SERVICE\":\"\""
    );
    assert_eq!(
        bad(&trust(json!("arn:aws:iam::111122223333:root")), TRUST),
        "Invalid principal in policy"
    );
    assert_eq!(bad(&trust(json!({})), TRUST), "Invalid principal in policy");
    assert_eq!(
        bad(&trust(json!({"Robot": "x"})), TRUST),
        "Invalid principal in policy"
    );
    assert_eq!(
        bad(&trust(json!({"AWS": []})), TRUST),
        "Invalid principal in policy"
    );
    let bucket = one(
        json!({"Effect": "Allow", "Principal": {"AWS": "bob"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}),
    );
    assert_eq!(bad(&bucket, RES), "Invalid principal in policy");
}

#[test]
fn legacy_parsing() {
    let st = |v: Value| one(v);
    for doc in [
        st(json!({"Effect": "allow", "Action": "s3:*", "Resource": "*"})),
        st(json!({"Effect": "denY", "Action": "s3:*", "Resource": "*"})),
        st(
            json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"DateGreaterThan": {"aws:CurrentTime": "sdfdsf"}}}),
        ),
        st(
            json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"DateLessThanEquals": {"a": "234-13"}}}),
        ),
        st(
            json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"DateLessThan": {"a": "9223372036854775808"}}}),
        ),
        st(
            json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"ForAnyValue:DateLessThanIfExists": {"a": ["2020-01-01", "x"]}}}),
        ),
        // Checked before actions are required.
        st(json!({"Effect": "Allow", "Condition": {"DateGreaterThan": {"a": "sdfdsf"}}})),
        st(json!({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3::example_bucket"})),
        st(json!({"Effect": "Allow", "Resource": "arn:aws:s3::example_bucket"})),
        st(
            json!({"Effect": "Allow", "NotAction": "s3:*", "Resource": "arn:aws::::example_bucket"}),
        ),
        st(
            json!({"Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3::example_bucket"}),
        ),
        st(json!({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws::fdsasf"})),
    ] {
        assert_eq!(bad(&doc, ID), LEGACY, "{doc}");
    }
    good(
        &st(
            json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"DateLessThanEquals": {"a": "2016-12-13t2:00:00.593194+23"}}}),
        ),
        ID,
    );
    good(
        &st(
            json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"DateGreaterThan": {"aws:EpochTime": 1700000000}}}),
        ),
        ID,
    );
}

#[test]
fn resource_formats_in_identity_policies() {
    let with = |r: Value| one(json!({"Effect": "Allow", "Action": "s3:ListBucket", "Resource": r}));
    let cases = [
        (
            json!("invalid resource"),
            "Resource invalid resource must be in ARN format or \"*\".",
        ),
        (json!(""), "Resource  must be in ARN format or \"*\"."),
        (
            json!(["adf"]),
            "Resource adf must be in ARN format or \"*\".",
        ),
        (
            json!("a:bsdfdsafsad"),
            "Partition \"bsdfdsafsad\" is not valid for resource \"arn:bsdfdsafsad:*:*:*:*\".",
        ),
        (
            json!("a:b:c:d:e:f:g:h"),
            "Partition \"b\" is not valid for resource \"arn:b:c:d:e:f:g:h\".",
        ),
        (
            json!("aws:s3:::example_bucket"),
            "Partition \"s3\" is not valid for resource \"arn:s3:::example_bucket:*\".",
        ),
        (
            json!([
                "arn:error:s3:::example_bucket",
                "arn:error:s3::example_bucket"
            ]),
            "Partition \"error\" is not valid for resource \"arn:error:s3:::example_bucket\".",
        ),
        (
            json!("arn:aws"),
            "Resource vendor must be fully qualified and cannot contain regexes.",
        ),
        (
            json!("arn:aws:iam:us-east-1::user/x"),
            "IAM resource arn:aws:iam:us-east-1::user/x cannot contain region information.",
        ),
        (
            json!("arn:aws:s3:us-east-1::example_bucket"),
            "Resource arn:aws:s3:us-east-1::example_bucket can not contain region information.",
        ),
        (
            json!("arn:aws:iam:::example_bucket"),
            "IAM resource path must either be \"*\" or start with user/, federated-user/, role/, group/, instance-profile/, mfa/, server-certificate/, policy/, sms-mfa/, saml-provider/, oidc-provider/, report/, access-report/.",
        ),
    ];
    for (r, message) in cases {
        assert_eq!(bad(&with(r.clone()), ID), message, "{r}");
    }
    for r in [
        json!("*"),
        json!(["arn:aws:s3:::example_bucket", "*"]),
        json!("arn:aws:iam::*:user/${aws:username}"),
        json!("arn:aws:iam:::user/example"),
        json!("arn:aws:s33:::example_bucket"),
        json!("arn:aws:fdsasf"),
        json!("arn:aws:ec2:us-east-1::instance/*"),
        json!("arn:aws:dynamodb:*:*:table/MyTable"),
        json!("arn:*:s3:::b"),
    ] {
        good(&with(r), ID);
    }
    // Bucket and key policies name resources their own services check.
    good(
        &one(
            json!({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "bucket/key"}),
        ),
        RES,
    );
}

#[test]
fn action_names_and_statement_ids() {
    let with = |a: Value| one(json!({"Effect": "Allow", "Action": a, "Resource": "*"}));
    let vendor = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.";
    assert_eq!(bad(&with(json!("invalid")), ID), vendor);
    assert_eq!(
        bad(
            &one(json!({"Effect": "Allow", "NotAction": "", "Resource": "*"})),
            ID
        ),
        vendor
    );
    assert_eq!(
        bad(&with(json!("s3:List:Bucket")), ID),
        "Actions/Condition can contain only one colon."
    );
    assert_eq!(
        bad(&with(json!("a a:ListBucket")), ID),
        "Vendor a a is not valid"
    );
    assert_eq!(
        bad(
            &one(
                json!({"Effect": "Allow", "Principal": "*", "Action": "GetObject", "Resource": "*"})
            ),
            RES
        ),
        vendor
    );
    for a in [
        "*",
        "s3-s:ListBucket",
        "s3.s:ListBucket",
        "iam: asdf safdsf af ",
        "*:Get*",
        "cloudtrail:*",
    ] {
        good(&with(json!(a)), ID);
    }
    let twice = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "a", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Sid": "a", "Effect": "Allow"}]});
    assert_eq!(
        bad(&twice, ID),
        "Statement IDs (SID) in a single policy must be unique."
    );
    let blank_twice = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Sid": "", "Effect": "Deny", "Action": "s3:*", "Resource": "*"}]});
    good(&blank_twice, ID);
}

#[test]
fn accepted_documents() {
    let d = good(
        &json!({"Version": "2012-10-17", "Id": "x", "Statement": {"Sid": "One", "Effect": "Deny", "Action": "*", "Resource": "*"}}),
        ID,
    );
    assert_eq!(d.statements.len(), 1);
    assert!(d.variables);
    let old = good(
        &json!({"Version": "2008-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}),
        ID,
    );
    assert!(!old.variables);
    let none = good(
        &json!({"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}),
        ID,
    );
    assert!(!none.variables);
    good(
        &one(
            json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {
            "Bool": {"aws:SecureTransport": true}, "NumericLessThan": {"s3:max-keys": 10},
            "StringEquals": {"aws:TagKeys": []}}}),
        ),
        ID,
    );
    let trust = good(
        &one(
            json!({"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "sts:AssumeRole",
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}),
        ),
        TRUST,
    );
    assert!(trust.statements[0].resources.is_none());
}

#[test]
fn lenient_reading_keeps_what_it_can() {
    let ctx = Context::new();
    let caller = Caller::User {
        account: "111122223333".into(),
        arn: "arn:aws:iam::111122223333:user/alice".into(),
    };
    let req = |action| Request {
        caller: &caller,
        action,
        resource: "arn:aws:s3:::b/k",
        context: &ctx,
    };
    // An unknown operator makes its statement never apply, and only its statement.
    let d = PolicyDocument::parse_lenient(
        &json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*", "Condition": {"StringSorta": {"a": "b"}}},
            {"Effect": "Allow", "Principal": "*", "Action": "s3:PutObject", "Resource": "*", "Unknown": 1}]})
        .to_string(),
    )
    .unwrap();
    assert_eq!(d.evaluate(&req("s3:GetObject")), Outcome::NotApplicable);
    assert_eq!(d.evaluate(&req("s3:PutObject")), Outcome::Allow);
    // A statement with no effect is dropped; kind rules do not apply.
    let d = PolicyDocument::parse_lenient(
        &json!({"Statement": [{"Action": "s3:*", "Resource": "*"}, {"Effect": "Deny", "Action": "s3:*"}]}).to_string(),
    )
    .unwrap();
    assert_eq!(d.statements.len(), 1);
    assert_eq!(d.evaluate(&req("s3:GetObject")), Outcome::ExplicitDeny);
    assert!(PolicyDocument::parse_lenient("[]").is_err());
    assert!(PolicyDocument::parse_lenient("{}").is_err());
    assert!(PolicyDocument::parse_lenient("nope").is_err());
}
