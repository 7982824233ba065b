//! The evaluation table: one row per case (policies, caller, action, resource, context,
//! expected decision), each a full decision through `evaluate_with` (and `evaluate`).

use serde_json::json;

use crate::*;

const A: &str = "111122223333";
const B: &str = "444455556666";

fn user(account: &str, name: &str) -> Caller {
    Caller::User {
        account: account.into(),
        arn: format!("arn:aws:iam::{account}:user/{name}"),
    }
}

fn session(account: &str, role: &str, name: &str) -> Caller {
    Caller::AssumedRole {
        account: account.into(),
        arn: format!("arn:aws:sts::{account}:assumed-role/{role}/{name}"),
        role_arn: format!("arn:aws:iam::{account}:role/{role}"),
    }
}

fn root(account: &str) -> Caller {
    Caller::Root {
        account: account.into(),
    }
}

fn service(name: &str) -> Caller {
    Caller::Service { name: name.into() }
}

fn doc(statements: serde_json::Value) -> String {
    json!({"Version": "2012-10-17", "Statement": statements}).to_string()
}

fn allow(action: &str, resource: &str) -> String {
    doc(json!([{"Effect": "Allow", "Action": action, "Resource": resource}]))
}

fn with_cond(effect: &str, action: &str, cond: serde_json::Value) -> String {
    doc(json!([{"Effect": effect, "Action": action, "Resource": "*", "Condition": cond}]))
}

struct Case {
    name: &'static str,
    identity: Vec<String>,
    resource: Option<(String, &'static str)>,
    rule: ResourceRule,
    caller: Caller,
    action: &'static str,
    target: &'static str,
    context: Vec<(&'static str, Vec<&'static str>)>,
    want: Decision,
}

fn case(
    name: &'static str,
    identity: Vec<String>,
    caller: Caller,
    action: &'static str,
    target: &'static str,
    want: Decision,
) -> Case {
    Case {
        name,
        identity,
        resource: None,
        rule: ResourceRule::Standard,
        caller,
        action,
        target,
        context: Vec::new(),
        want,
    }
}

impl Case {
    fn ctx(mut self, key: &'static str, values: &[&'static str]) -> Case {
        self.context.push((key, values.to_vec()));
        self
    }
    fn res(mut self, policy: String, account: &'static str) -> Case {
        self.resource = Some((policy, account));
        self
    }
    fn exclusive(mut self) -> Case {
        self.rule = ResourceRule::Exclusive;
        self
    }
}

use Decision::{Allow as Y, ExplicitDeny as X, ImplicitDeny as N};

fn cond_case(
    name: &'static str,
    op: &str,
    key: &'static str,
    policy_value: serde_json::Value,
    ctx: &[&'static str],
    want: Decision,
) -> Case {
    let mut c = case(
        name,
        vec![with_cond(
            "Allow",
            "s3:GetObject",
            json!({op: {key: policy_value}}),
        )],
        user(A, "alice"),
        "s3:GetObject",
        "arn:aws:s3:::b/k",
        want,
    );
    if !ctx.is_empty() {
        c = c.ctx(key, ctx);
    }
    c
}

fn table() -> Vec<Case> {
    let alice = || user(A, "alice");
    let obj = "arn:aws:s3:::bucket/key";
    vec![
        // Allow, deny, implicit deny.
        case("plain allow", vec![allow("s3:GetObject", "*")], alice(), "s3:GetObject", obj, Y),
        case("no policy is an implicit deny", vec![], alice(), "s3:GetObject", obj, N),
        case("other action is an implicit deny", vec![allow("s3:PutObject", "*")], alice(), "s3:GetObject", obj, N),
        case("explicit deny beats allow in one document", vec![doc(json!([
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "*"}]))], alice(), "s3:GetObject", obj, X),
        case("explicit deny beats allow across documents", vec![allow("*", "*"),
            doc(json!([{"Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::bucket/*"}]))], alice(), "s3:GetObject", obj, X),
        case("deny elsewhere does not apply", vec![allow("*", "*"),
            doc(json!([{"Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::other/*"}]))], alice(), "s3:GetObject", obj, Y),
        // Action wildcards and case.
        case("star action", vec![allow("*", "*")], alice(), "cloudtrail:CreateTrail", "*", Y),
        case("service star", vec![allow("cloudtrail:*", "*")], alice(), "cloudtrail:CreateTrail", "*", Y),
        case("service star is per service", vec![allow("cloudtrail:*", "*")], alice(), "s3:GetObject", obj, N),
        case("prefix star", vec![allow("cloudtrail:Get*", "*")], alice(), "cloudtrail:GetTrailStatus", "*", Y),
        case("prefix star misses", vec![allow("cloudtrail:Get*", "*")], alice(), "cloudtrail:LookupEvents", "*", N),
        case("question mark", vec![allow("s3:?etObject", "*")], alice(), "s3:GetObject", obj, Y),
        case("actions are case-insensitive", vec![allow("CloudTrail:lookupevents", "*")], alice(), "cloudtrail:LookupEvents", "*", Y),
        case("action list", vec![doc(json!([{"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"], "Resource": "*"}]))], alice(), "s3:GetObject", obj, Y),
        // NotAction.
        case("NotAction allows everything else", vec![doc(json!([{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]))], alice(), "s3:GetObject", obj, Y),
        case("NotAction excludes its own", vec![doc(json!([{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]))], alice(), "iam:CreateUser", "*", N),
        case("deny with NotAction denies everything else", vec![allow("*", "*"),
            doc(json!([{"Effect": "Deny", "NotAction": ["cloudtrail:LookupEvents"], "Resource": "*"}]))], alice(), "s3:GetObject", obj, X),
        case("deny with NotAction spares its own", vec![allow("*", "*"),
            doc(json!([{"Effect": "Deny", "NotAction": ["cloudtrail:LookupEvents"], "Resource": "*"}]))], alice(), "cloudtrail:LookupEvents", "*", Y),
        // Resources.
        case("resource wildcard", vec![allow("s3:GetObject", "arn:aws:s3:::bucket/*")], alice(), "s3:GetObject", obj, Y),
        case("resource mismatch", vec![allow("s3:GetObject", "arn:aws:s3:::other/*")], alice(), "s3:GetObject", obj, N),
        case("resources are case-sensitive", vec![allow("s3:GetObject", "arn:aws:s3:::BUCKET/*")], alice(), "s3:GetObject", obj, N),
        case("NotResource allows others", vec![doc(json!([{"Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3:::secret/*"}]))], alice(), "s3:GetObject", obj, Y),
        case("NotResource excludes its own", vec![doc(json!([{"Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3:::bucket/*"}]))], alice(), "s3:GetObject", obj, N),
        case("star resource covers no-resource actions", vec![allow("s3:ListAllMyBuckets", "*")], alice(), "s3:ListAllMyBuckets", "*", Y),
        // Policy variables.
        case("aws:username in a resource", vec![allow("iam:GetUser", "arn:aws:iam::*:user/${aws:username}")], alice(), "iam:GetUser", "arn:aws:iam::111122223333:user/alice", Y)
            .ctx("aws:username", &["alice"]),
        case("aws:username for someone else", vec![allow("iam:GetUser", "arn:aws:iam::*:user/${aws:username}")], alice(), "iam:GetUser", "arn:aws:iam::111122223333:user/bob", N)
            .ctx("aws:username", &["alice"]),
        case("absent variable matches nothing", vec![allow("iam:GetUser", "arn:aws:iam::*:user/${aws:username}")], alice(), "iam:GetUser", "arn:aws:iam::111122223333:user/", N),
        case("variable default", vec![allow("s3:GetObject", "arn:aws:s3:::bucket/${aws:username, 'shared'}/*")], alice(), "s3:GetObject", "arn:aws:s3:::bucket/shared/x", Y),
        case("escaped star is literal", vec![allow("s3:GetObject", "arn:aws:s3:::bucket/${*}")], alice(), "s3:GetObject", "arn:aws:s3:::bucket/*", Y),
        case("escaped star is not a wildcard", vec![allow("s3:GetObject", "arn:aws:s3:::bucket/${*}")], alice(), "s3:GetObject", obj, N),
        case("2008 documents take variables literally", vec![json!({"Version": "2008-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/${aws:username}"}]}).to_string()],
            alice(), "s3:GetObject", "arn:aws:s3:::bucket/alice", N).ctx("aws:username", &["alice"]),
        // String conditions.
        cond_case("StringEquals match", "StringEquals", "aws:RequestedRegion", json!("eu-west-1"), &["eu-west-1"], Y),
        cond_case("StringEquals mismatch", "StringEquals", "aws:RequestedRegion", json!("eu-west-1"), &["us-east-1"], N),
        cond_case("StringEquals any of the values", "StringEquals", "aws:RequestedRegion", json!(["eu-west-1", "us-east-1"]), &["us-east-1"], Y),
        cond_case("StringEquals absent key fails", "StringEquals", "aws:RequestedRegion", json!("eu-west-1"), &[], N),
        cond_case("StringNotEquals match", "StringNotEquals", "aws:RequestedRegion", json!("eu-west-1"), &["us-east-1"], Y),
        cond_case("StringNotEquals mismatch", "StringNotEquals", "aws:RequestedRegion", json!(["eu-west-1", "us-east-1"]), &["us-east-1"], N),
        cond_case("StringNotEquals absent key holds", "StringNotEquals", "aws:RequestedRegion", json!("eu-west-1"), &[], Y),
        cond_case("StringEqualsIgnoreCase", "StringEqualsIgnoreCase", "aws:username", json!("ALICE"), &["alice"], Y),
        cond_case("StringNotEqualsIgnoreCase", "StringNotEqualsIgnoreCase", "aws:username", json!("ALICE"), &["alice"], N),
        cond_case("StringLike", "StringLike", "s3:prefix", json!("home/*"), &["home/alice/"], Y),
        cond_case("StringLike mismatch", "StringLike", "s3:prefix", json!("home/*"), &["tmp/"], N),
        cond_case("StringNotLike", "StringNotLike", "s3:prefix", json!("secret/*"), &["home/"], Y),
        cond_case("StringEquals is case-sensitive", "StringEquals", "aws:username", json!("Alice"), &["alice"], N),
        cond_case("StringEqualsIfExists absent", "StringEqualsIfExists", "s3:x-amz-server-side-encryption", json!("AES256"), &[], Y),
        cond_case("StringEqualsIfExists present and wrong", "StringEqualsIfExists", "s3:x-amz-server-side-encryption", json!("AES256"), &["aws:kms"], N),
        cond_case("condition value with a variable", "StringEquals", "s3:prefix", json!("home/${aws:username}/"), &["home//"], N),
        // Numeric.
        cond_case("NumericLessThan", "NumericLessThan", "s3:max-keys", json!("100"), &["10"], Y),
        cond_case("NumericLessThan fails", "NumericLessThan", "s3:max-keys", json!("100"), &["100"], N),
        cond_case("NumericLessThanEquals", "NumericLessThanEquals", "s3:max-keys", json!(100), &["100"], Y),
        cond_case("NumericGreaterThan", "NumericGreaterThan", "aws:MultiFactorAuthAge", json!("3600"), &["7200"], Y),
        cond_case("NumericGreaterThanEquals fails", "NumericGreaterThanEquals", "aws:MultiFactorAuthAge", json!("3600"), &["10"], N),
        cond_case("NumericEquals", "NumericEquals", "s3:max-keys", json!("10"), &["10.0"], Y),
        cond_case("NumericNotEquals", "NumericNotEquals", "s3:max-keys", json!("10"), &["11"], Y),
        cond_case("NumericLessThan not a number", "NumericLessThan", "s3:max-keys", json!("10"), &["ten"], N),
        // Dates.
        cond_case("DateLessThan", "DateLessThan", "aws:CurrentTime", json!("2030-01-01T00:00:00Z"), &["2026-11-25T10:00:00Z"], Y),
        cond_case("DateLessThan past", "DateLessThan", "aws:CurrentTime", json!("2001-01-01T00:00:00Z"), &["2026-11-25T10:00:00Z"], N),
        cond_case("DateGreaterThan bare date", "DateGreaterThan", "aws:CurrentTime", json!("2026-01-01"), &["2026-11-25T10:00:00Z"], Y),
        cond_case("DateGreaterThanEquals epoch", "DateGreaterThanEquals", "aws:EpochTime", json!("1700000000"), &["1800000000"], Y),
        cond_case("DateEquals", "DateEquals", "aws:TokenIssueTime", json!("2026-11-25T10:00:00Z"), &["2026-11-25T10:00:00.000Z"], Y),
        cond_case("DateNotEquals", "DateNotEquals", "aws:TokenIssueTime", json!("2026-11-25T10:00:00Z"), &["2026-11-25T10:00:01Z"], Y),
        cond_case("DateLessThanEquals", "DateLessThanEquals", "aws:CurrentTime", json!("2026-11-25T10:00:00Z"), &["2026-11-25T10:00:00Z"], Y),
        // Bool, Binary, Null.
        cond_case("Bool true", "Bool", "aws:MultiFactorAuthPresent", json!("true"), &["true"], Y),
        cond_case("Bool false", "Bool", "aws:MultiFactorAuthPresent", json!("true"), &["false"], N),
        cond_case("Bool JSON boolean", "Bool", "aws:SecureTransport", json!(false), &["false"], Y),
        cond_case("Bool absent key (long-term keys)", "Bool", "aws:MultiFactorAuthPresent", json!("true"), &[], N),
        cond_case("BoolIfExists absent", "BoolIfExists", "aws:MultiFactorAuthPresent", json!("false"), &[], Y),
        cond_case("BinaryEquals", "BinaryEquals", "aws:SomeBinary", json!("QmluYXJ5"), &["QmluYXJ5"], Y),
        cond_case("Null true with the key absent", "Null", "aws:TokenIssueTime", json!("true"), &[], Y),
        cond_case("Null true with the key present", "Null", "aws:TokenIssueTime", json!("true"), &["2026-11-25T10:00:00Z"], N),
        cond_case("Null false with the key present", "Null", "aws:TokenIssueTime", json!("false"), &["2026-11-25T10:00:00Z"], Y),
        // Addresses.
        cond_case("IpAddress in block", "IpAddress", "aws:SourceIp", json!("203.0.113.0/24"), &["203.0.113.7"], Y),
        cond_case("IpAddress outside", "IpAddress", "aws:SourceIp", json!("203.0.113.0/24"), &["198.51.100.7"], N),
        cond_case("IpAddress single address", "IpAddress", "aws:SourceIp", json!("127.0.0.1"), &["127.0.0.1"], Y),
        cond_case("IpAddress IPv6", "IpAddress", "aws:SourceIp", json!("2001:db8::/32"), &["2001:db8::1"], Y),
        cond_case("NotIpAddress", "NotIpAddress", "aws:SourceIp", json!(["10.0.0.0/8", "192.168.0.0/16"]), &["203.0.113.7"], Y),
        cond_case("NotIpAddress inside", "NotIpAddress", "aws:SourceIp", json!(["10.0.0.0/8"]), &["10.1.2.3"], N),
        // ARNs.
        cond_case("ArnLike", "ArnLike", "aws:PrincipalArn", json!("arn:aws:iam::*:role/Admin*"), &["arn:aws:iam::111122223333:role/AdminTeam"], Y),
        cond_case("ArnLike parts", "ArnLike", "aws:PrincipalArn", json!("arn:aws:iam::*:role/Admin*"), &["arn:aws:iam::111122223333:user/AdminTeam"], N),
        cond_case("ArnEquals", "ArnEquals", "aws:SourceArn", json!("arn:aws:cloudtrail:us-east-1:111122223333:trail/t"), &["arn:aws:cloudtrail:us-east-1:111122223333:trail/t"], Y),
        cond_case("ArnNotEquals", "ArnNotEquals", "aws:SourceArn", json!("arn:aws:cloudtrail:us-east-1:111122223333:trail/t"), &["arn:aws:cloudtrail:us-east-1:111122223333:trail/u"], Y),
        cond_case("ArnNotLike", "ArnNotLike", "aws:PrincipalArn", json!("arn:aws:iam::*:role/Admin*"), &["arn:aws:iam::111122223333:role/AdminTeam"], N),
        // Set operators.
        cond_case("ForAllValues all listed", "ForAllValues:StringEquals", "aws:TagKeys", json!(["team", "env"]), &["team", "env"], Y),
        cond_case("ForAllValues one unlisted", "ForAllValues:StringEquals", "aws:TagKeys", json!(["team"]), &["team", "owner"], N),
        cond_case("ForAllValues absent key holds", "ForAllValues:StringEquals", "aws:TagKeys", json!(["team"]), &[], Y),
        cond_case("ForAnyValue one listed", "ForAnyValue:StringEquals", "aws:TagKeys", json!(["team"]), &["owner", "team"], Y),
        cond_case("ForAnyValue absent key fails", "ForAnyValue:StringEquals", "aws:TagKeys", json!(["team"]), &[], N),
        cond_case("ForAnyValue StringLike", "ForAnyValue:StringLike", "aws:TagKeys", json!(["cost-*"]), &["cost-center"], Y),
        // Several keys and operators: all must hold.
        case("two operators both hold", vec![with_cond("Allow", "s3:GetObject", json!({
            "IpAddress": {"aws:SourceIp": "127.0.0.0/8"}, "StringEquals": {"aws:RequestedRegion": "us-east-1"}}))],
            alice(), "s3:GetObject", obj, Y).ctx("aws:SourceIp", &["127.0.0.1"]).ctx("aws:RequestedRegion", &["us-east-1"]),
        case("two operators one fails", vec![with_cond("Allow", "s3:GetObject", json!({
            "IpAddress": {"aws:SourceIp": "127.0.0.0/8"}, "StringEquals": {"aws:RequestedRegion": "us-east-1"}}))],
            alice(), "s3:GetObject", obj, N).ctx("aws:SourceIp", &["127.0.0.1"]).ctx("aws:RequestedRegion", &["eu-west-1"]),
        case("two keys in one operator", vec![with_cond("Allow", "s3:GetObject", json!({
            "StringEquals": {"aws:RequestedRegion": "us-east-1", "aws:username": "alice"}}))],
            alice(), "s3:GetObject", obj, N).ctx("aws:RequestedRegion", &["us-east-1"]).ctx("aws:username", &["bob"]),
        case("condition keys are case-insensitive", vec![with_cond("Allow", "s3:GetObject", json!({"StringEquals": {"AWS:RequestedRegion": "us-east-1"}}))],
            alice(), "s3:GetObject", obj, Y).ctx("aws:requestedregion", &["us-east-1"]),
        case("deny unless MFA", vec![allow("*", "*"), with_cond("Deny", "*", json!({"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}))],
            alice(), "s3:GetObject", obj, X),
        case("deny unless MFA, with MFA", vec![allow("*", "*"), with_cond("Deny", "*", json!({"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}))],
            alice(), "s3:GetObject", obj, Y).ctx("aws:MultiFactorAuthPresent", &["true"]),
        // Root and services.
        case("root needs no policy", vec![], root(A), "cloudtrail:CreateTrail", "*", Y),
        case("bucket policy deny binds root", vec![], root(A), "s3:DeleteBucket", "arn:aws:s3:::bucket", X)
            .res(doc(json!([{"Effect": "Deny", "Principal": "*", "Action": "s3:DeleteBucket", "Resource": "arn:aws:s3:::bucket"}])), A),
        case("service allowed by the bucket policy", vec![], service("cloudtrail.amazonaws.com"), "s3:PutObject", obj, Y)
            .res(doc(json!([{"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject", "Resource": "arn:aws:s3:::bucket/*"}])), A),
        case("other service not allowed", vec![], service("config.amazonaws.com"), "s3:PutObject", obj, N)
            .res(doc(json!([{"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject", "Resource": "arn:aws:s3:::bucket/*"}])), A),
        // The anonymous caller: only what lets everyone in.
        case("anonymous allowed by a star principal", vec![], Caller::Anonymous, "s3:GetObject", obj, Y).res(doc(json!([
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/*"}])), A),
        case("anonymous allowed by an AWS star principal", vec![], Caller::Anonymous, "s3:GetObject", obj, Y).res(doc(json!([
            {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetObject", "Resource": "*"}])), A),
        case("anonymous allowed by a NotPrincipal", vec![], Caller::Anonymous, "s3:GetObject", obj, Y).res(doc(json!([
            {"Effect": "Allow", "NotPrincipal": {"AWS": A}, "Action": "s3:GetObject", "Resource": "*"}])), A),
        case("anonymous is no account", vec![], Caller::Anonymous, "s3:GetObject", obj, N).res(doc(json!([
            {"Effect": "Allow", "Principal": {"AWS": A}, "Action": "s3:GetObject", "Resource": "*"}])), A),
        case("anonymous is no service", vec![], Caller::Anonymous, "s3:GetObject", obj, N).res(doc(json!([
            {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:GetObject", "Resource": "*"}])), A),
        case("anonymous has no identity policies", vec![allow("*", "*")], Caller::Anonymous, "s3:GetObject", obj, N),
        case("anonymous denied by a star deny", vec![], Caller::Anonymous, "s3:GetObject", obj, X).res(doc(json!([
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"},
            {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}])), A),
        case("anonymous with a source-ip condition", vec![], Caller::Anonymous, "s3:GetObject", obj, N).res(doc(json!([
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*",
             "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}])), A).ctx("aws:SourceIp", &["192.0.2.1"]),
        // Resource policies, same account.
        case("bucket policy naming the user allows without identity policy", vec![], alice(), "s3:GetObject", obj, Y)
            .res(doc(json!([{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:user/alice"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/*"}])), A),
        case("bucket policy naming the account only delegates", vec![], alice(), "s3:GetObject", obj, N)
            .res(doc(json!([{"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/*"}])), A),
        case("identity allow is enough in the same account", vec![allow("s3:GetObject", "*")], alice(), "s3:GetObject", obj, Y)
            .res(doc(json!([{"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject", "Resource": "*"}])), A),
        case("bucket policy deny beats identity allow", vec![allow("s3:*", "*")], alice(), "s3:GetObject", obj, X)
            .res(doc(json!([{"Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::111122223333:user/alice"}, "Action": "s3:*", "Resource": "*"}])), A),
        case("NotPrincipal deny spares the named", vec![allow("s3:*", "*")], alice(), "s3:GetObject", obj, Y)
            .res(doc(json!([{"Effect": "Deny", "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:user/alice"}, "Action": "s3:*", "Resource": "*"}])), A),
        case("NotPrincipal deny hits others", vec![allow("s3:*", "*")], user(A, "bob"), "s3:GetObject", obj, X)
            .res(doc(json!([{"Effect": "Deny", "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:user/alice"}, "Action": "s3:*", "Resource": "*"}])), A),
        case("star principal allows anyone in the account", vec![], user(A, "bob"), "s3:GetObject", obj, Y)
            .res(doc(json!([{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/*"}])), A),
        case("star principal still needs another account's own allow", vec![], user(B, "eve"), "s3:GetObject", obj, N)
            .res(doc(json!([{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/*"}])), A),
        // Resource policies, across accounts.
        case("cross-account needs the resource policy", vec![allow("s3:GetObject", "*")], user(B, "bob"), "s3:GetObject", obj, N).res(doc(json!([
            {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject", "Resource": "*"}])), A),
        case("cross-account needs the identity policy", vec![], user(B, "bob"), "s3:GetObject", obj, N).res(doc(json!([
            {"Effect": "Allow", "Principal": {"AWS": B}, "Action": "s3:GetObject", "Resource": "*"}])), A),
        case("cross-account with both", vec![allow("s3:GetObject", "*")], user(B, "bob"), "s3:GetObject", obj, Y).res(doc(json!([
            {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{B}:root")}, "Action": "s3:GetObject", "Resource": "*"}])), A),
        case("cross-account root with the account named", vec![], root(B), "s3:GetObject", obj, Y).res(doc(json!([
            {"Effect": "Allow", "Principal": {"AWS": B}, "Action": "s3:GetObject", "Resource": "*"}])), A),
        case("cross-account root without it", vec![], root(B), "s3:GetObject", obj, N).res(doc(json!([
            {"Effect": "Allow", "Principal": {"AWS": A}, "Action": "s3:GetObject", "Resource": "*"}])), A),
        // Key and trust policies (exclusive).
        case("key policy delegating to the account, identity allows", vec![allow("kms:Encrypt", "*")], alice(), "kms:Encrypt", "arn:aws:kms:us-east-1:111122223333:key/k", Y)
            .res(doc(json!([{"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{A}:root")}, "Action": "kms:*", "Resource": "*"}])), A).exclusive(),
        case("key policy delegating, no identity allow", vec![], alice(), "kms:Encrypt", "arn:aws:kms:us-east-1:111122223333:key/k", N)
            .res(doc(json!([{"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{A}:root")}, "Action": "kms:*", "Resource": "*"}])), A).exclusive(),
        case("key policy without the account locks identity allows out", vec![allow("kms:*", "*")], alice(), "kms:Encrypt", "arn:aws:kms:us-east-1:111122223333:key/k", N)
            .res(doc(json!([{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:user/bob"}, "Action": "kms:*", "Resource": "*"}])), A).exclusive(),
        case("key policy without the account locks root out", vec![], root(A), "kms:Decrypt", "arn:aws:kms:us-east-1:111122223333:key/k", N)
            .res(doc(json!([{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:user/bob"}, "Action": "kms:*", "Resource": "*"}])), A).exclusive(),
        case("trust policy naming the user", vec![], alice(), "sts:AssumeRole", "arn:aws:iam::111122223333:role/R", Y)
            .res(doc(json!([{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:user/alice"}, "Action": "sts:AssumeRole"}])), A).exclusive(),
        case("trust policy not naming the caller", vec![allow("sts:AssumeRole", "*")], alice(), "sts:AssumeRole", "arn:aws:iam::111122223333:role/R", N)
            .res(doc(json!([{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}])), A).exclusive(),
        case("trust policy with MFA condition, no MFA", vec![allow("sts:AssumeRole", "*")], alice(), "sts:AssumeRole", "arn:aws:iam::111122223333:role/R", N)
            .res(doc(json!([{"Effect": "Allow", "Principal": {"AWS": A}, "Action": "sts:AssumeRole", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}])), A).exclusive(),
        case("trust policy with MFA condition, MFA", vec![allow("sts:AssumeRole", "*")], alice(), "sts:AssumeRole", "arn:aws:iam::111122223333:role/R", Y)
            .res(doc(json!([{"Effect": "Allow", "Principal": {"AWS": A}, "Action": "sts:AssumeRole", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}])), A).exclusive()
            .ctx("aws:MultiFactorAuthPresent", &["true"]),
        case("cross-account trust naming the other account", vec![allow("sts:AssumeRole", "arn:aws:iam::111122223333:role/R")], user(B, "bob"), "sts:AssumeRole", "arn:aws:iam::111122223333:role/R", Y)
            .res(doc(json!([{"Effect": "Allow", "Principal": {"AWS": B}, "Action": "sts:AssumeRole"}])), A).exclusive(),
        case("role ARN principal matches its sessions", vec![], session(A, "Deployer", "ci"), "s3:GetObject", obj, Y)
            .res(doc(json!([{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/Deployer"}, "Action": "s3:GetObject", "Resource": "*"}])), A),
        case("session ARN principal", vec![], session(A, "Deployer", "ci"), "s3:GetObject", obj, Y)
            .res(doc(json!([{"Effect": "Allow", "Principal": {"AWS": "arn:aws:sts::111122223333:assumed-role/Deployer/ci"}, "Action": "s3:GetObject", "Resource": "*"}])), A),
        case("other role's sessions", vec![], session(A, "Other", "ci"), "s3:GetObject", obj, N)
            .res(doc(json!([{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/Deployer"}, "Action": "s3:GetObject", "Resource": "*"}])), A),
        // Every operator the other way round.
        cond_case("StringEqualsIgnoreCase mismatch", "StringEqualsIgnoreCase", "aws:username", json!("ALICE"), &["bob"], N),
        cond_case("StringNotEqualsIgnoreCase holds", "StringNotEqualsIgnoreCase", "aws:username", json!("ALICE"), &["bob"], Y),
        cond_case("StringNotLike fails on a match", "StringNotLike", "s3:prefix", json!("secret/*"), &["secret/plans"], N),
        cond_case("StringLike question mark", "StringLike", "s3:prefix", json!("v?/"), &["v2/"], Y),
        cond_case("StringLike is case-sensitive", "StringLike", "s3:prefix", json!("Home/*"), &["home/x"], N),
        cond_case("NumericEquals mismatch", "NumericEquals", "s3:max-keys", json!("10"), &["11"], N),
        cond_case("NumericNotEquals fails on equal", "NumericNotEquals", "s3:max-keys", json!("10"), &["10"], N),
        cond_case("NumericLessThanEquals fails", "NumericLessThanEquals", "s3:max-keys", json!("100"), &["101"], N),
        cond_case("NumericGreaterThan fails on equal", "NumericGreaterThan", "aws:MultiFactorAuthAge", json!("3600"), &["3600"], N),
        cond_case("NumericGreaterThanEquals on equal", "NumericGreaterThanEquals", "aws:MultiFactorAuthAge", json!(3600), &["3600"], Y),
        cond_case("DateEquals mismatch", "DateEquals", "aws:TokenIssueTime", json!("2026-11-25T10:00:00Z"), &["2026-11-25T10:00:01Z"], N),
        cond_case("DateEquals across zones", "DateEquals", "aws:TokenIssueTime", json!("2026-11-25T12:00:00+02:00"), &["2026-11-25T10:00:00Z"], Y),
        cond_case("DateNotEquals fails on equal", "DateNotEquals", "aws:TokenIssueTime", json!("2026-11-25T10:00:00Z"), &["2026-11-25T10:00:00Z"], N),
        cond_case("DateLessThanEquals fails", "DateLessThanEquals", "aws:CurrentTime", json!("2026-11-25T10:00:00Z"), &["2026-11-25T10:00:01Z"], N),
        cond_case("DateGreaterThan fails", "DateGreaterThan", "aws:CurrentTime", json!("2030-01-01"), &["2026-11-25T10:00:00Z"], N),
        cond_case("DateGreaterThanEquals fails", "DateGreaterThanEquals", "aws:EpochTime", json!("1800000000"), &["1700000000"], N),
        cond_case("DateLessThan epoch against ISO", "DateLessThan", "aws:EpochTime", json!("2030-01-01T00:00:00Z"), &["1764064800"], Y),
        cond_case("DateLessThan unreadable request date", "DateLessThan", "aws:CurrentTime", json!("2030-01-01T00:00:00Z"), &["soon"], N),
        cond_case("Bool is case-insensitive", "Bool", "aws:SecureTransport", json!("TRUE"), &["true"], Y),
        cond_case("BinaryEquals mismatch", "BinaryEquals", "aws:SomeBinary", json!("QmluYXJ5"), &["T3RoZXI="], N),
        cond_case("ArnEquals mismatch", "ArnEquals", "aws:SourceArn", json!("arn:aws:cloudtrail:us-east-1:111122223333:trail/t"), &["arn:aws:cloudtrail:us-east-1:111122223333:trail/u"], N),
        cond_case("ArnEquals with wildcards", "ArnEquals", "aws:SourceArn", json!("arn:aws:cloudtrail:*:111122223333:trail/*"), &["arn:aws:cloudtrail:eu-west-1:111122223333:trail/t"], Y),
        cond_case("ArnLike star does not span parts", "ArnLike", "aws:SourceArn", json!("arn:aws:cloudtrail:*:trail/t"), &["arn:aws:cloudtrail:us-east-1:111122223333:trail/t"], N),
        cond_case("ArnLike on something not an ARN", "ArnLike", "aws:SourceArn", json!("arn:aws:s3:::b"), &["b"], N),
        cond_case("ArnNotEquals fails on equal", "ArnNotEquals", "aws:SourceArn", json!("arn:aws:cloudtrail:us-east-1:111122223333:trail/t"), &["arn:aws:cloudtrail:us-east-1:111122223333:trail/t"], N),
        cond_case("ArnNotLike holds", "ArnNotLike", "aws:PrincipalArn", json!("arn:aws:iam::*:role/Admin*"), &["arn:aws:iam::111122223333:user/alice"], Y),
        cond_case("Null false with the key absent", "Null", "aws:TokenIssueTime", json!("false"), &[], N),
        cond_case("Null with a JSON boolean", "Null", "aws:TokenIssueTime", json!(true), &[], Y),
        cond_case("NotIpAddress absent key holds", "NotIpAddress", "aws:SourceIp", json!("10.0.0.0/8"), &[], Y),
        cond_case("IpAddress absent key fails", "IpAddress", "aws:SourceIp", json!("0.0.0.0/0"), &[], N),
        cond_case("IpAddress IPv6 outside", "IpAddress", "aws:SourceIp", json!("2001:db8::/32"), &["2001:db9::1"], N),
        cond_case("IpAddress everything", "IpAddress", "aws:SourceIp", json!("0.0.0.0/0"), &["198.51.100.7"], Y),
        cond_case("ArnNotLike absent key holds", "ArnNotLike", "aws:SourceArn", json!("arn:aws:s3:::*"), &[], Y),
        cond_case("NumericLessThanIfExists absent", "NumericLessThanIfExists", "aws:MultiFactorAuthAge", json!("3600"), &[], Y),
        cond_case("NumericLessThanIfExists present and true", "NumericLessThanIfExists", "aws:MultiFactorAuthAge", json!("3600"), &["60"], Y),
        cond_case("StringEqualsIfExists present and right", "StringEqualsIfExists", "s3:x-amz-server-side-encryption", json!("AES256"), &["AES256"], Y),
        cond_case("StringNotEqualsIfExists present and equal", "StringNotEqualsIfExists", "s3:x-amz-server-side-encryption", json!("AES256"), &["AES256"], N),
        cond_case("IpAddressIfExists present and outside", "IpAddressIfExists", "aws:SourceIp", json!("10.0.0.0/8"), &["192.0.2.1"], N),
        cond_case("ForAnyValue none listed", "ForAnyValue:StringEquals", "aws:TagKeys", json!(["team"]), &["owner", "env"], N),
        cond_case("ForAllValues StringLike", "ForAllValues:StringLike", "aws:TagKeys", json!(["cost-*", "env"]), &["cost-center", "env"], Y),
        cond_case("ForAllValues StringNotEquals", "ForAllValues:StringNotEquals", "aws:TagKeys", json!(["secret"]), &["team", "env"], Y),
        cond_case("ForAnyValue StringNotEquals, every value listed", "ForAnyValue:StringNotEquals", "aws:TagKeys", json!(["team", "env"]), &["team", "env"], N),
        cond_case("StringEquals on a multi-valued key: any value", "StringEquals", "aws:TagKeys", json!("env"), &["team", "env"], Y),
        cond_case("StringNotEquals on a multi-valued key: none may match", "StringNotEquals", "aws:TagKeys", json!("env"), &["team", "env"], N),
        // Service condition keys.
        cond_case("kms encryption context", "StringLike", "kms:EncryptionContext:aws:cloudtrail:arn", json!("arn:aws:cloudtrail:*:111122223333:trail/*"), &["arn:aws:cloudtrail:us-east-1:111122223333:trail/t"], Y),
        cond_case("sts:ExternalId", "StringEquals", "sts:ExternalId", json!("x-123"), &["x-124"], N),
        cond_case("aws:PrincipalType", "StringEquals", "aws:PrincipalType", json!("User"), &["User"], Y),
        // More variables.
        case("variable from the context in a resource", vec![allow("s3:GetObject", "arn:aws:s3:::bucket/${s3:prefix}*")], alice(), "s3:GetObject", "arn:aws:s3:::bucket/home/a", Y)
            .ctx("s3:prefix", &["home/"]),
        case("aws:userid in a resource", vec![allow("s3:*", "arn:aws:s3:::bucket/home/${aws:userid}/*")], alice(), "s3:GetObject", "arn:aws:s3:::bucket/home/AIDAEXAMPLE/x", Y)
            .ctx("aws:userid", &["AIDAEXAMPLE"]),
        case("a variable's value is literal", vec![allow("s3:GetObject", "arn:aws:s3:::bucket/${aws:username}")], alice(), "s3:GetObject", "arn:aws:s3:::bucket/anything", N)
            .ctx("aws:username", &["a*"]),
        case("a variable's value matches itself", vec![allow("s3:GetObject", "arn:aws:s3:::bucket/${aws:username}")], alice(), "s3:GetObject", "arn:aws:s3:::bucket/a*", Y)
            .ctx("aws:username", &["a*"]),
        case("escaped question mark", vec![allow("s3:GetObject", "arn:aws:s3:::bucket/what${?}")], alice(), "s3:GetObject", "arn:aws:s3:::bucket/whatX", N),
        case("escaped dollar", vec![allow("s3:GetObject", "arn:aws:s3:::bucket/${$}{x}")], alice(), "s3:GetObject", "arn:aws:s3:::bucket/${x}", Y),
        case("default not used when the key is there", vec![allow("s3:GetObject", "arn:aws:s3:::bucket/${aws:username, 'shared'}/*")], alice(), "s3:GetObject", "arn:aws:s3:::bucket/shared/x", N)
            .ctx("aws:username", &["alice"]),
        case("PrincipalAccount in an ArnLike condition", vec![with_cond("Allow", "s3:GetObject", json!({"ArnLike": {"aws:SourceArn": "arn:aws:cloudtrail:*:${aws:PrincipalAccount}:trail/*"}}))],
            alice(), "s3:GetObject", obj, Y).ctx("aws:PrincipalAccount", &[A]).ctx("aws:SourceArn", &["arn:aws:cloudtrail:us-east-1:111122223333:trail/t"]),
        case("PrincipalArn variable in StringEquals", vec![with_cond("Allow", "s3:GetObject", json!({"StringEquals": {"s3:x-owner": "${aws:PrincipalArn}"}}))],
            alice(), "s3:GetObject", obj, Y).ctx("aws:PrincipalArn", &["arn:aws:iam::111122223333:user/alice"]).ctx("s3:x-owner", &["arn:aws:iam::111122223333:user/alice"]),
        case("unresolvable variable in StringNotEquals", vec![with_cond("Allow", "s3:GetObject", json!({"StringNotEquals": {"s3:prefix": "${aws:username}/"}}))],
            alice(), "s3:GetObject", obj, Y).ctx("s3:prefix", &["alice/"]),
        // Deny forms.
        case("deny with NotResource hits the rest", vec![allow("s3:*", "*"), doc(json!([{"Effect": "Deny", "Action": "s3:*", "NotResource": ["arn:aws:s3:::bucket", "arn:aws:s3:::bucket/*"]}]))],
            alice(), "s3:GetObject", "arn:aws:s3:::other/key", X),
        case("deny with NotResource spares its own", vec![allow("s3:*", "*"), doc(json!([{"Effect": "Deny", "Action": "s3:*", "NotResource": ["arn:aws:s3:::bucket", "arn:aws:s3:::bucket/*"]}]))],
            alice(), "s3:GetObject", obj, Y),
        case("deny outside an address range", vec![allow("*", "*"), with_cond("Deny", "*", json!({"NotIpAddress": {"aws:SourceIp": ["192.0.2.0/24"]}}))],
            alice(), "s3:GetObject", obj, X).ctx("aws:SourceIp", &["203.0.113.9"]),
        case("deny outside a region", vec![allow("*", "*"), with_cond("Deny", "*", json!({"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1", "eu-central-1"]}}))],
            alice(), "cloudtrail:CreateTrail", "*", X).ctx("aws:RequestedRegion", &["us-east-1"]),
        case("statement order does not matter", vec![doc(json!([
            {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "*"},
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]))], alice(), "s3:GetObject", obj, X),
        case("identity deny binds a role session", vec![allow("*", "*"), doc(json!([{"Effect": "Deny", "Action": "iam:*", "Resource": "*"}]))],
            session(A, "Deployer", "ci"), "iam:CreateUser", "*", X),
        // More resource policies.
        case("cross-account resource deny", vec![allow("s3:*", "*")], user(B, "bob"), "s3:GetObject", obj, X).res(doc(json!([
            {"Effect": "Allow", "Principal": {"AWS": B}, "Action": "s3:*", "Resource": "*"},
            {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}])), A),
        case("cross-account identity deny", vec![allow("s3:*", "*"), doc(json!([{"Effect": "Deny", "Action": "s3:GetObject", "Resource": "*"}]))],
            user(B, "bob"), "s3:GetObject", obj, X).res(doc(json!([
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:user/bob"}, "Action": "s3:*", "Resource": "*"}])), A),
        case("cross-account user named, identity allows", vec![allow("s3:GetObject", "arn:aws:s3:::bucket/*")], user(B, "bob"), "s3:GetObject", obj, Y).res(doc(json!([
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:user/bob"}, "Action": "s3:GetObject", "Resource": "*"}])), A),
        case("cross-account role session via role ARN", vec![allow("s3:GetObject", "*")], session(B, "Reader", "s"), "s3:GetObject", obj, Y).res(doc(json!([
            {"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::444455556666:role/Reader"]}, "Action": "s3:GetObject", "Resource": "*"}])), A),
        case("resource policy names another user", vec![], user(A, "bob"), "s3:GetObject", obj, N).res(doc(json!([
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:user/alice"}, "Action": "s3:GetObject", "Resource": "*"}])), A),
        case("resource policy for another resource", vec![], alice(), "s3:GetObject", obj, N).res(doc(json!([
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:user/alice"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::other/*"}])), A),
        case("service principal list", vec![], service("config.amazonaws.com"), "s3:PutObject", obj, Y).res(doc(json!([
            {"Effect": "Allow", "Principal": {"Service": ["cloudtrail.amazonaws.com", "config.amazonaws.com"]}, "Action": "s3:PutObject", "Resource": "*"}])), A),
        case("service needs the resource policy, not identity policies", vec![], service("cloudtrail.amazonaws.com"), "s3:PutObject", obj, N).res(doc(json!([
            {"Effect": "Allow", "Principal": {"AWS": A}, "Action": "s3:PutObject", "Resource": "*"}])), A),
        case("service principal with a condition", vec![], service("cloudtrail.amazonaws.com"), "s3:PutObject", obj, N).res(doc(json!([
            {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject", "Resource": "*",
             "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}}])), A).ctx("s3:x-amz-acl", &["private"]),
        case("federated principal matches no caller", vec![], alice(), "s3:GetObject", obj, N).res(doc(json!([
            {"Effect": "Allow", "Principal": {"Federated": "cognito-identity.amazonaws.com"}, "Action": "s3:GetObject", "Resource": "*"}])), A),
        case("AWS star principal", vec![], user(A, "bob"), "s3:GetObject", obj, Y).res(doc(json!([
            {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetObject", "Resource": "*"}])), A),
        case("NotPrincipal allow reaches others", vec![], user(A, "bob"), "s3:GetObject", obj, Y).res(doc(json!([
            {"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:user/alice"}, "Action": "s3:GetObject", "Resource": "*"}])), A),
        case("NotPrincipal naming the account spares its users", vec![allow("s3:*", "*")], user(A, "bob"), "s3:GetObject", obj, Y).res(doc(json!([
            {"Effect": "Deny", "NotPrincipal": {"AWS": A}, "Action": "s3:*", "Resource": "*"}])), A),
        case("root of the account in the resource policy", vec![], root(A), "s3:GetObject", obj, Y).res(doc(json!([
            {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{A}:root")}, "Action": "s3:GetObject", "Resource": "*"}])), A),
        case("account deny binds every principal of it", vec![allow("s3:*", "*")], session(A, "Deployer", "ci"), "s3:GetObject", obj, X).res(doc(json!([
            {"Effect": "Deny", "Principal": {"AWS": A}, "Action": "s3:GetObject", "Resource": "*"}])), A),
        case("key policy naming the user directly", vec![], alice(), "kms:Decrypt", "arn:aws:kms:us-east-1:111122223333:key/k", Y)
            .res(doc(json!([{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:user/alice"}, "Action": "kms:Decrypt", "Resource": "*"}])), A).exclusive(),
        case("key policy naming the account lets root in", vec![], root(A), "kms:Decrypt", "arn:aws:kms:us-east-1:111122223333:key/k", Y)
            .res(doc(json!([{"Effect": "Allow", "Principal": {"AWS": A}, "Action": "kms:*", "Resource": "*"}])), A).exclusive(),
        case("key policy deny", vec![allow("kms:*", "*")], alice(), "kms:Decrypt", "arn:aws:kms:us-east-1:111122223333:key/k", X)
            .res(doc(json!([{"Effect": "Allow", "Principal": {"AWS": A}, "Action": "kms:*", "Resource": "*"},
                            {"Effect": "Deny", "Principal": {"AWS": A}, "Action": "kms:Decrypt", "Resource": "*"}])), A).exclusive(),
        // Trust policies.
        case("trust policy, MFA absent with long-term keys", vec![allow("sts:AssumeRole", "*")], alice(), "sts:AssumeRole", "arn:aws:iam::111122223333:role/R", N)
            .res(doc(json!([{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:user/alice"}, "Action": "sts:AssumeRole", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}])), A).exclusive()
            .ctx("aws:MultiFactorAuthPresent", &["false"]),
        case("trust policy denying without MFA", vec![allow("sts:AssumeRole", "*")], alice(), "sts:AssumeRole", "arn:aws:iam::111122223333:role/R", X)
            .res(doc(json!([{"Effect": "Allow", "Principal": {"AWS": A}, "Action": "sts:AssumeRole"},
                            {"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole", "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}])), A).exclusive(),
        case("trust policy with MFA age", vec![allow("sts:AssumeRole", "*")], alice(), "sts:AssumeRole", "arn:aws:iam::111122223333:role/R", Y)
            .res(doc(json!([{"Effect": "Allow", "Principal": {"AWS": A}, "Action": "sts:AssumeRole", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": true}, "NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}}}])), A).exclusive()
            .ctx("aws:MultiFactorAuthPresent", &["true"]).ctx("aws:MultiFactorAuthAge", &["120"]),
        case("trust policy with external id", vec![allow("sts:AssumeRole", "*")], user(B, "bob"), "sts:AssumeRole", "arn:aws:iam::111122223333:role/R", N)
            .res(doc(json!([{"Effect": "Allow", "Principal": {"AWS": B}, "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"sts:ExternalId": "x-123"}}}])), A).exclusive(),
        case("trust policy for a service", vec![], service("ec2.amazonaws.com"), "sts:AssumeRole", "arn:aws:iam::111122223333:role/R", Y)
            .res(doc(json!([{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}])), A).exclusive(),
        case("trust policy with a wildcard action", vec![], alice(), "sts:AssumeRole", "arn:aws:iam::111122223333:role/R", Y)
            .res(doc(json!([{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:user/alice"}, "Action": "sts:AssumeRole*"}])), A).exclusive(),
    ]
}

/// The kind a table's resource policy is written as: a trust policy names no resources.
fn kind_of(policy: &str) -> PolicyKind {
    if policy.contains("Resource\"") {
        PolicyKind::Resource
    } else {
        PolicyKind::Trust
    }
}

#[test]
fn evaluation_table() {
    let cases = table();
    assert!(cases.len() >= 80, "only {} cases", cases.len());
    let mut names = std::collections::HashSet::new();
    let mut failures = Vec::new();
    for c in &cases {
        assert!(names.insert(c.name), "two cases are named {:?}", c.name);
        // Every document in the table is one IAM accepts for its kind.
        let identity: Vec<PolicyDocument> = c
            .identity
            .iter()
            .map(|d| {
                PolicyDocument::parse(d, PolicyKind::Identity)
                    .unwrap_or_else(|e| panic!("{}: {e}", c.name))
            })
            .collect();
        let resource = c.resource.as_ref().map(|(d, _)| {
            let strict =
                PolicyDocument::parse(d, kind_of(d)).unwrap_or_else(|e| panic!("{}: {e}", c.name));
            let lenient =
                PolicyDocument::parse_lenient(d).unwrap_or_else(|e| panic!("{}: {e}", c.name));
            assert_eq!(
                strict, lenient,
                "{}: strict and lenient readings differ",
                c.name
            );
            strict
        });
        let mut ctx = Context::new();
        for (k, v) in &c.context {
            ctx.set_many(k, v.iter().map(|s| s.to_string()).collect());
        }
        let req = Request {
            caller: &c.caller,
            action: c.action,
            resource: c.target,
            context: &ctx,
        };
        let docs: Vec<&PolicyDocument> = identity.iter().collect();
        let account = c.resource.as_ref().map(|(_, a)| *a);
        let got = evaluate_with(&docs, resource.as_ref(), account, c.rule, &req);
        if got.decision != c.want {
            failures.push(format!("{}: want {:?}, got {:?}", c.name, c.want, got));
        }
        if c.rule == ResourceRule::Standard {
            let plain = evaluate(&docs, resource.as_ref(), account, &req);
            assert_eq!(plain, got, "{}: evaluate and evaluate_with differ", c.name);
        }
        let expected_source = match got.decision {
            Decision::Allow => DenySource::None,
            _ => got.deny_source,
        };
        assert_eq!(got.deny_source, expected_source, "{}", c.name);
        assert_ne!(
            (got.decision != Decision::Allow, got.deny_source),
            (true, DenySource::None),
            "{}: a denial names its source",
            c.name
        );
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
