use super::*;
use serde_json::json;

const ACCT: &str = "111122223333";

fn trail(multi: bool) -> Trail {
    Trail {
        arn: format!("arn:aws:cloudtrail:us-east-1:{ACCT}:trail/t"),
        account: ACCT.into(),
        home_region: "us-east-1".into(),
        name: "t".into(),
        s3_bucket: "b".into(),
        include_global_events: true,
        multi_region: multi,
        logging: true,
        logging_ranges: vec![(100, Some(200)), (300, None)],
        ..Trail::default()
    }
}

fn mgmt(region: &str, name: &str, read_only: bool) -> Value {
    json!({"eventSource":"cloudtrail.amazonaws.com","eventName":name,"awsRegion":region,"readOnly":read_only,
           "eventCategory":"Management","managementEvent":true,"userIdentity":{"arn":"arn:aws:iam::111122223333:root"}})
}

fn object_event(key: &str, name: &str, read_only: bool) -> Value {
    json!({"eventSource":"s3.amazonaws.com","eventName":name,"awsRegion":"us-east-1","readOnly":read_only,
           "eventCategory":"Data","managementEvent":false,
           "resources":[{"type":"AWS::S3::Object","ARN":format!("arn:aws:s3:::data/{key}")},
                        {"accountId":ACCT,"type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::data"}]})
}

#[test]
fn account_region_logging_ranges_and_global_events() {
    let single = TrailFilter::of(&trail(false));
    let multi = TrailFilter::of(&trail(true));
    let e = mgmt("us-east-1", "X", false);
    assert!(single.takes(ACCT, 150, &e));
    assert!(!single.takes(ACCT, 99, &e), "before StartLogging");
    assert!(!single.takes(ACCT, 200, &e), "after StopLogging");
    assert!(single.takes(ACCT, 10_000, &e), "logging again");
    assert!(
        !single.takes("999999999999", 150, &e),
        "another account's event"
    );
    let west = mgmt("eu-west-1", "X", false);
    assert!(!single.takes(ACCT, 150, &west));
    assert!(multi.takes(ACCT, 150, &west));
    let iam = json!({"eventSource":"iam.amazonaws.com","awsRegion":"us-east-1","eventCategory":"Management"});
    assert!(single.takes(ACCT, 150, &iam));
    let mut no_global = trail(false);
    no_global.include_global_events = false;
    assert!(!TrailFilter::of(&no_global).takes(ACCT, 150, &iam));
    assert!(!single.takes(
        ACCT,
        150,
        &json!({"eventType":"AwsCloudTrailInsight","awsRegion":"us-east-1"})
    ));
}

fn with_basic(sel: Value) -> TrailFilter {
    let mut t = trail(false);
    t.event_selectors = Some(sel.to_string());
    TrailFilter::of(&t)
}

#[test]
fn default_selectors_take_management_events_only() {
    let f = TrailFilter::of(&trail(false));
    assert!(f.takes(ACCT, 150, &mgmt("us-east-1", "X", true)));
    assert!(!f.takes(ACCT, 150, &object_event("k", "GetObject", true)));
}

#[test]
fn basic_read_write_type_management_switch_and_exclusions() {
    let ro = with_basic(json!([{"ReadWriteType":"ReadOnly"}]));
    assert!(ro.takes(ACCT, 150, &mgmt("us-east-1", "Describe", true)));
    assert!(!ro.takes(ACCT, 150, &mgmt("us-east-1", "Create", false)));
    let wo = with_basic(json!([{"ReadWriteType":"WriteOnly"}]));
    assert!(!wo.takes(ACCT, 150, &mgmt("us-east-1", "Describe", true)));
    assert!(wo.takes(ACCT, 150, &mgmt("us-east-1", "Create", false)));
    let none = with_basic(json!([{"IncludeManagementEvents":false}]));
    assert!(!none.takes(ACCT, 150, &mgmt("us-east-1", "X", false)));
    let no_kms = with_basic(json!([{"ExcludeManagementEventSources":["kms.amazonaws.com"]}]));
    let kms = json!({"eventSource":"kms.amazonaws.com","awsRegion":"us-east-1","eventCategory":"Management"});
    assert!(!no_kms.takes(ACCT, 150, &kms));
    assert!(no_kms.takes(ACCT, 150, &mgmt("us-east-1", "X", false)));
}

#[test]
fn basic_data_resources() {
    let bucket = with_basic(
        json!([{"DataResources":[{"Type":"AWS::S3::Object","Values":["arn:aws:s3:::data/logs/"]}]}]),
    );
    assert!(bucket.takes(ACCT, 150, &object_event("logs/a", "PutObject", false)));
    assert!(!bucket.takes(ACCT, 150, &object_event("other/a", "PutObject", false)));
    let all = with_basic(
        json!([{"ReadWriteType":"WriteOnly","DataResources":[{"Type":"AWS::S3::Object","Values":["arn:aws:s3"]}]}]),
    );
    assert!(all.takes(ACCT, 150, &object_event("x", "PutObject", false)));
    assert!(!all.takes(ACCT, 150, &object_event("x", "GetObject", true)));
}

fn with_advanced(sel: Value) -> TrailFilter {
    let mut t = trail(false);
    t.advanced_event_selectors = Some(sel.to_string());
    TrailFilter::of(&t)
}

fn data_selector(extra: Value) -> Value {
    let mut fields = vec![
        json!({"Field":"eventCategory","Equals":["Data"]}),
        json!({"Field":"resources.type","Equals":["AWS::S3::Object"]}),
    ];
    fields.push(extra);
    json!([{"FieldSelectors": fields}])
}

#[test]
fn every_advanced_operator() {
    let cases = [
        (
            json!({"Field":"resources.ARN","Equals":["arn:aws:s3:::data/a.json"]}),
            "a.json",
            "b.json",
        ),
        (
            json!({"Field":"resources.ARN","StartsWith":["arn:aws:s3:::data/logs/"]}),
            "logs/x",
            "tmp/x",
        ),
        (
            json!({"Field":"resources.ARN","EndsWith":[".json"]}),
            "x.json",
            "x.csv",
        ),
        (
            json!({"Field":"resources.ARN","NotEquals":["arn:aws:s3:::data/secret"]}),
            "public",
            "secret",
        ),
        (
            json!({"Field":"resources.ARN","NotStartsWith":["arn:aws:s3:::data/tmp/"]}),
            "logs/x",
            "tmp/x",
        ),
        (
            json!({"Field":"resources.ARN","NotEndsWith":[".tmp"]}),
            "x.json",
            "x.tmp",
        ),
    ];
    for (cond, yes, no) in cases {
        let f = with_advanced(data_selector(cond.clone()));
        assert!(
            f.takes(ACCT, 150, &object_event(yes, "PutObject", false)),
            "{cond} should take {yes}"
        );
        assert!(
            !f.takes(ACCT, 150, &object_event(no, "PutObject", false)),
            "{cond} should not take {no}"
        );
    }
}

#[test]
fn advanced_fields_and_or_across_selectors() {
    let f = with_advanced(json!([
        {"FieldSelectors":[{"Field":"eventCategory","Equals":["Management"]},{"Field":"readOnly","Equals":["false"]}]},
        {"FieldSelectors":[{"Field":"eventCategory","Equals":["Data"]},{"Field":"resources.type","Equals":["AWS::S3::Object"]},
                           {"Field":"eventName","Equals":["PutObject","DeleteObject"]}]}
    ]));
    assert!(f.takes(ACCT, 150, &mgmt("us-east-1", "CreateTrail", false)));
    assert!(!f.takes(ACCT, 150, &mgmt("us-east-1", "DescribeTrails", true)));
    assert!(f.takes(ACCT, 150, &object_event("k", "PutObject", false)));
    assert!(!f.takes(ACCT, 150, &object_event("k", "GetObject", true)));
    let by_user = with_advanced(
        json!([{"FieldSelectors":[{"Field":"eventCategory","Equals":["Management"]},
        {"Field":"eventSource","NotEquals":["kms.amazonaws.com"]}]}]),
    );
    assert!(by_user.takes(ACCT, 150, &mgmt("us-east-1", "X", true)));
    let data_only = with_advanced(data_selector(json!({"Field":"readOnly","Equals":["true"]})));
    assert!(
        !data_only.takes(ACCT, 150, &mgmt("us-east-1", "X", true)),
        "no management selector, no management events"
    );
}
