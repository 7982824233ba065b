//! AWS's AccessDenied messages.

use crate::*;

const TRAIL: &str = "arn:aws:cloudtrail:us-east-1:111122223333:trail/t";

fn message(caller: &Caller, decision: Decision, deny_source: DenySource) -> String {
    denial_message(
        caller,
        "cloudtrail:CreateTrail",
        TRAIL,
        &Evaluation {
            decision,
            deny_source,
        },
    )
}

fn alice() -> Caller {
    Caller::User {
        account: "111122223333".into(),
        arn: "arn:aws:iam::111122223333:user/alice".into(),
    }
}

#[test]
fn each_kind_of_denial() {
    let c = alice();
    assert_eq!(
        message(&c, Decision::ImplicitDeny, DenySource::IdentityPolicy),
        "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: cloudtrail:CreateTrail on resource: arn:aws:cloudtrail:us-east-1:111122223333:trail/t because no identity-based policy allows the cloudtrail:CreateTrail action"
    );
    assert_eq!(
        message(&c, Decision::ExplicitDeny, DenySource::IdentityPolicy),
        "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: cloudtrail:CreateTrail on resource: arn:aws:cloudtrail:us-east-1:111122223333:trail/t with an explicit deny in an identity-based policy"
    );
    assert_eq!(
        message(&c, Decision::ExplicitDeny, DenySource::ResourcePolicy),
        "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: cloudtrail:CreateTrail on resource: arn:aws:cloudtrail:us-east-1:111122223333:trail/t with an explicit deny in a resource-based policy"
    );
    assert_eq!(
        message(&c, Decision::ImplicitDeny, DenySource::ResourcePolicy),
        "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: cloudtrail:CreateTrail on resource: arn:aws:cloudtrail:us-east-1:111122223333:trail/t because no resource-based policy allows the cloudtrail:CreateTrail action"
    );
}

#[test]
fn callers_by_arn() {
    let root = Caller::Root {
        account: "111122223333".into(),
    };
    assert_eq!(root.arn(), "arn:aws:iam::111122223333:root");
    assert_eq!(root.account(), Some("111122223333"));
    assert!(
        message(&root, Decision::ExplicitDeny, DenySource::ResourcePolicy)
            .starts_with("User: arn:aws:iam::111122223333:root is not authorized")
    );
    let session = Caller::AssumedRole {
        account: "111122223333".into(),
        arn: "arn:aws:sts::111122223333:assumed-role/R/s".into(),
        role_arn: "arn:aws:iam::111122223333:role/R".into(),
    };
    assert!(
        message(&session, Decision::ImplicitDeny, DenySource::IdentityPolicy)
            .starts_with("User: arn:aws:sts::111122223333:assumed-role/R/s is not authorized")
    );
    let service = Caller::Service {
        name: "cloudtrail.amazonaws.com".into(),
    };
    assert_eq!(service.arn(), "cloudtrail.amazonaws.com");
    assert_eq!(service.account(), None);
}

#[test]
fn messages_from_real_decisions() {
    let id = PolicyDocument::parse(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:GetUser","Resource":"*"}]}"#,
        PolicyKind::Identity,
    )
    .unwrap();
    let c = alice();
    let ctx = Context::new();
    let resource = "arn:aws:iam::111122223333:user/alice";
    let req = Request {
        caller: &c,
        action: "iam:GetUser",
        resource,
        context: &ctx,
    };
    let eval = evaluate(&[&id], None, None, &req);
    assert_eq!(
        denial_message(&c, "iam:GetUser", resource, &eval),
        "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: iam:GetUser on resource: arn:aws:iam::111122223333:user/alice with an explicit deny in an identity-based policy"
    );
    let bob = Caller::User {
        account: "444455556666".into(),
        arn: "arn:aws:iam::444455556666:user/bob".into(),
    };
    let req = Request {
        caller: &bob,
        action: "s3:GetObject",
        resource: "arn:aws:s3:::b/k",
        context: &ctx,
    };
    let eval = evaluate(&[], None, Some("111122223333"), &req);
    assert_eq!(
        eval,
        Evaluation {
            decision: Decision::ImplicitDeny,
            deny_source: DenySource::ResourcePolicy
        }
    );
    assert!(
        denial_message(&bob, "s3:GetObject", "arn:aws:s3:::b/k", &eval)
            .ends_with("because no resource-based policy allows the s3:GetObject action")
    );
}
