//! What the controls look at, read through the services' APIs as `who`. A read that fails
//! leaves its part unknown (`None`), which the controls report as `NOT_AVAILABLE`.

use serde_json::{Value, json};

use crate::app::App;
use crate::pipeline::internal::{Internal, WireCall};

/// One trail, with what its status and selectors say.
#[derive(Clone, Debug, Default)]
pub struct Trail {
    pub name: String,
    pub arn: String,
    pub bucket: String,
    pub multi_region: bool,
    pub validation: bool,
    pub kms_key: Option<String>,
    pub log_group_arn: Option<String>,
    pub logging: bool,
    /// When it last delivered to CloudWatch Logs (ms).
    pub cwl_delivered_ms: Option<i64>,
    /// It logs read and write management events.
    pub all_management: bool,
}

/// A trail bucket's exposure.
#[derive(Clone, Debug)]
pub struct Bucket {
    pub name: String,
    /// `Some(true)`: a policy or ACL grants everyone; `None`: could not be read.
    pub public: Option<bool>,
    /// `Some(true)`: server access logging is on; `None`: cannot be read.
    pub access_logging: Option<bool>,
}

/// A metric filter of a log group.
#[derive(Clone, Debug)]
pub struct Filter {
    pub log_group: String,
    pub pattern: String,
    /// (namespace, metric name) of each transformation.
    pub metrics: Vec<(String, String)>,
}

/// An alarm on a metric.
#[derive(Clone, Debug)]
pub struct Alarm {
    pub name: String,
    pub namespace: String,
    pub metric: String,
    pub actions: Vec<String>,
}

/// A customer managed symmetric key.
#[derive(Clone, Debug)]
pub struct Key {
    pub id: String,
    pub rotation: Option<bool>,
}

/// Everything the controls judge; `None` where the reading failed.
#[derive(Clone, Debug, Default)]
pub struct Gathered {
    pub trails: Option<Vec<Trail>>,
    pub buckets: Vec<Bucket>,
    pub filters: Option<Vec<Filter>>,
    pub alarms: Option<Vec<Alarm>>,
    /// Topic ARN → confirmed subscriptions.
    pub subscribed: Vec<(String, usize)>,
    pub keys: Option<Vec<Key>>,
    /// Whether the root user has an MFA device (IAM's `AccountMFAEnabled`).
    pub root_mfa: Option<bool>,
}

fn s(v: &Value, k: &str) -> String {
    v.get(k)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn time_ms(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_f64().map(|f| (f * 1000.0) as i64),
        other => cairn_model::timefmt::parse_event_time(other),
    }
}

pub fn gather(app: &App, who: &Internal) -> Gathered {
    let call = |service: &str, op: &str, input: Value| who.call_json(app, service, op, input).ok();
    let trails = call(
        "cloudtrail",
        "DescribeTrails",
        json!({"includeShadowTrails": true}),
    )
    .map(|d| {
        d.get("trailList")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|t| trail(&call, t))
            .collect::<Vec<_>>()
    });
    let mut buckets: Vec<Bucket> = Vec::new();
    for t in trails.iter().flatten() {
        if !t.bucket.is_empty() && !buckets.iter().any(|b| b.name == t.bucket) {
            buckets.push(bucket(app, who, &t.bucket));
        }
    }
    let filters = call("logs", "DescribeMetricFilters", json!({})).map(|d| {
        d.get("metricFilters")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|f| Filter {
                log_group: s(f, "logGroupName"),
                pattern: s(f, "filterPattern"),
                metrics: f
                    .get("metricTransformations")
                    .and_then(Value::as_array)
                    .map(|ms| {
                        ms.iter()
                            .map(|m| (s(m, "metricNamespace"), s(m, "metricName")))
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect::<Vec<_>>()
    });
    let alarms = call("monitoring", "DescribeAlarms", json!({"MaxRecords": 100})).map(|d| {
        d.get("MetricAlarms")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|a| Alarm {
                name: s(a, "AlarmName"),
                namespace: s(a, "Namespace"),
                metric: s(a, "MetricName"),
                actions: a
                    .get("AlarmActions")
                    .and_then(Value::as_array)
                    .map(|xs| {
                        xs.iter()
                            .filter_map(|x| x.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect::<Vec<_>>()
    });
    let mut subscribed = Vec::new();
    for topic in alarms
        .iter()
        .flatten()
        .flat_map(|a| a.actions.iter())
        .filter(|a| a.starts_with("arn:aws:sns:"))
    {
        if subscribed.iter().any(|(t, _)| t == topic) {
            continue;
        }
        let confirmed = call(
            "sns",
            "ListSubscriptionsByTopic",
            json!({"TopicArn": topic}),
        )
        .map(|d| {
            let xml = d
                .get("Xml")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            tag_values(&xml, "SubscriptionArn")
                .iter()
                .filter(|a| a.starts_with("arn:"))
                .count()
        })
        .unwrap_or(0);
        subscribed.push((topic.clone(), confirmed));
    }
    let keys = call("kms", "ListKeys", json!({})).map(|d| {
        d.get("Keys")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
            .iter()
            .filter_map(|k| {
                let id = s(k, "KeyId");
                let meta = call("kms", "DescribeKey", json!({"KeyId": id}))?;
                let m = meta.get("KeyMetadata")?;
                let customer = s(m, "KeyManager") == "CUSTOMER";
                let symmetric = s(m, "KeySpec") == "SYMMETRIC_DEFAULT";
                let enabled = s(m, "KeyState") == "Enabled";
                (customer && symmetric && enabled).then(|| Key {
                    rotation: call("kms", "GetKeyRotationStatus", json!({"KeyId": id}))
                        .and_then(|r| r.get("KeyRotationEnabled").and_then(Value::as_bool)),
                    id,
                })
            })
            .collect::<Vec<_>>()
    });
    let root_mfa = call("iam", "GetAccountSummary", json!({})).and_then(|d| {
        let xml = d.get("Xml").and_then(Value::as_str).unwrap_or_default();
        summary_value(xml, "AccountMFAEnabled").map(|v| v == "1")
    });
    Gathered {
        trails,
        buckets,
        filters,
        alarms,
        subscribed,
        keys,
        root_mfa,
    }
}

/// A value of GetAccountSummary's `SummaryMap` (`<entry><key>…</key><value>…</value></entry>`).
fn summary_value(xml: &str, key: &str) -> Option<String> {
    tag_values(xml, "entry").into_iter().find_map(|e| {
        (tag_values(&e, "key").first().map(String::as_str) == Some(key))
            .then(|| tag_values(&e, "value").into_iter().next())
            .flatten()
    })
}

fn trail(call: &dyn Fn(&str, &str, Value) -> Option<Value>, t: &Value) -> Trail {
    let arn = s(t, "TrailARN");
    let status = call("cloudtrail", "GetTrailStatus", json!({"Name": arn}));
    let selectors = call("cloudtrail", "GetEventSelectors", json!({"TrailName": arn}));
    Trail {
        name: s(t, "Name"),
        bucket: s(t, "S3BucketName"),
        multi_region: t.get("IsMultiRegionTrail").and_then(Value::as_bool) == Some(true),
        validation: t.get("LogFileValidationEnabled").and_then(Value::as_bool) == Some(true),
        kms_key: t.get("KmsKeyId").and_then(Value::as_str).map(str::to_owned),
        log_group_arn: t
            .get("CloudWatchLogsLogGroupArn")
            .and_then(Value::as_str)
            .map(str::to_owned),
        logging: status
            .as_ref()
            .and_then(|s| s.get("IsLogging"))
            .and_then(Value::as_bool)
            == Some(true),
        cwl_delivered_ms: time_ms(
            status
                .as_ref()
                .and_then(|s| s.get("LatestCloudWatchLogsDeliveryTime")),
        ),
        all_management: selectors.as_ref().is_some_and(all_management),
        arn,
    }
}

/// Whether a trail's selectors log every management event, read and write.
fn all_management(sel: &Value) -> bool {
    if let Some(basic) = sel.get("EventSelectors").and_then(Value::as_array) {
        return basic.iter().any(|e| {
            e.get("IncludeManagementEvents").and_then(Value::as_bool) != Some(false)
                && e.get("ReadWriteType")
                    .and_then(Value::as_str)
                    .unwrap_or("All")
                    == "All"
        });
    }
    sel.get("AdvancedEventSelectors")
        .and_then(Value::as_array)
        .is_some_and(|adv| {
            adv.iter().any(|a| {
                let fields = a
                    .get("FieldSelectors")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                let management = fields.iter().any(|f| {
                    s(f, "Field") == "eventCategory"
                        && f.get("Equals")
                            .and_then(Value::as_array)
                            .is_some_and(|e| e.iter().any(|x| x == "Management"))
                });
                let narrowed = fields.iter().any(|f| s(f, "Field") == "readOnly");
                management && !narrowed
            })
        })
}

/// A bucket's policy and ACL, read as S3's API gives them.
fn bucket(app: &App, who: &Internal, name: &str) -> Bucket {
    let get = |sub: &str| {
        who.call_wire(
            app,
            "s3",
            WireCall {
                method: http::Method::GET,
                path: format!("/{name}"),
                query: Some(sub.to_owned()),
                headers: vec![("host".to_owned(), "s3.amazonaws.com".to_owned())],
                body: bytes::Bytes::new(),
            },
        )
    };
    let policy_public = match get("policy") {
        Ok(a) => serde_json::from_slice::<Value>(&a.body)
            .ok()
            .map(|p| policy_is_public(&p)),
        Err(e) if e.code == "NoSuchBucketPolicy" => Some(false),
        Err(_) => None,
    };
    let acl_public = get("acl").ok().map(|a| {
        let xml = String::from_utf8_lossy(&a.body);
        xml.contains("http://acs.amazonaws.com/groups/global/AllUsers")
            || xml.contains("http://acs.amazonaws.com/groups/global/AuthenticatedUsers")
    });
    let public = match (policy_public, acl_public) {
        (Some(true), _) | (_, Some(true)) => Some(true),
        (Some(false), Some(false)) => Some(false),
        _ => None,
    };
    let access_logging = get("logging")
        .ok()
        .map(|a| String::from_utf8_lossy(&a.body).contains("<LoggingEnabled>"));
    Bucket {
        name: name.to_owned(),
        public,
        access_logging,
    }
}

/// Whether a bucket policy is public, as S3 decides it (Block Public Access's definition).
fn policy_is_public(p: &Value) -> bool {
    cairn_policy::PolicyDocument::parse_lenient(&p.to_string())
        .is_ok_and(|d| cairn_policy::public::is_public(&d))
}

/// The texts of every `<tag>…</tag>` in an XML document.
fn tag_values(xml: &str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        let Some(j) = after.find(&close) else { break };
        out.push(after[..j].to_owned());
        rest = &after[j + close.len()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_policies_and_selectors() {
        assert!(policy_is_public(
            &json!({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}]})
        ));
        assert!(policy_is_public(
            &json!({"Statement": {"Effect": "Allow", "Principal": {"AWS": ["*"]}, "Action": "s3:*"}})
        ));
        assert!(!policy_is_public(
            &json!({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
            "Condition": {"StringEquals": {"aws:SourceAccount": "1"}}}]})
        ));
        assert!(!policy_is_public(
            &json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}}]})
        ));
        assert!(all_management(
            &json!({"EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": true}]})
        ));
        assert!(!all_management(
            &json!({"EventSelectors": [{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": true}]})
        ));
        assert!(!all_management(
            &json!({"EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": false}]})
        ));
        assert!(all_management(
            &json!({"AdvancedEventSelectors": [{"FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Management"]}]}]})
        ));
        assert!(!all_management(
            &json!({"AdvancedEventSelectors": [{"FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Management"]}, {"Field": "readOnly", "Equals": ["false"]}]}]})
        ));
        assert_eq!(
            tag_values("<a><S>x</S><S>PendingConfirmation</S></a>", "S"),
            ["x", "PendingConfirmation"]
        );
        let summary = "<SummaryMap><entry><key>AccountAccessKeysPresent</key><value>1</value></entry>\
                       <entry><key>AccountMFAEnabled</key><value>0</value></entry></SummaryMap>";
        assert_eq!(
            summary_value(summary, "AccountMFAEnabled").as_deref(),
            Some("0")
        );
        assert_eq!(
            summary_value(summary, "AccountAccessKeysPresent").as_deref(),
            Some("1")
        );
        assert_eq!(summary_value(summary, "Users"), None);
    }
}
