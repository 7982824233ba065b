//! CloudTrail's wire shapes: the JSON 1.1 codec
//! (`X-Amz-Target: com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.<Op>`) and the
//! `Trail` document.

use cairn_store::trails::Trail;
use cairn_wire::Protocol;
use serde_json::{Map, Value};

use crate::pipeline::codec::json::JsonCodec;

pub const TARGET_PREFIX: &str = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.";

pub(super) static CODEC: JsonCodec = JsonCodec {
    protocol: Protocol::Json11,
    target_prefixes: &[TARGET_PREFIX, "CloudTrail_20131101."],
};

/// The `Trail` structure of DescribeTrails and GetTrail.
pub(super) fn trail_json(t: &Trail) -> Value {
    let mut m = Map::new();
    m.insert("Name".into(), t.name.clone().into());
    m.insert("S3BucketName".into(), t.s3_bucket.clone().into());
    if let Some(p) = &t.s3_key_prefix {
        m.insert("S3KeyPrefix".into(), p.clone().into());
    }
    if let Some(topic) = &t.sns_topic_name {
        // The deprecated member echoes what was given (a name or an ARN).
        m.insert("SnsTopicName".into(), topic.clone().into());
    }
    if let Some(arn) = super::sns_settings::topic_arn(t) {
        m.insert("SnsTopicARN".into(), arn.into());
    }
    m.insert(
        "IncludeGlobalServiceEvents".into(),
        t.include_global_events.into(),
    );
    m.insert("IsMultiRegionTrail".into(), t.multi_region.into());
    m.insert("HomeRegion".into(), t.home_region.clone().into());
    m.insert("TrailARN".into(), t.arn.clone().into());
    m.insert(
        "LogFileValidationEnabled".into(),
        t.log_file_validation.into(),
    );
    m.insert(
        "HasCustomEventSelectors".into(),
        (t.event_selectors.is_some() || t.advanced_event_selectors.is_some()).into(),
    );
    m.insert(
        "HasInsightSelectors".into(),
        t.insight_selectors.is_some().into(),
    );
    if let Some(g) = &t.cw_log_group_arn {
        m.insert("CloudWatchLogsLogGroupArn".into(), g.clone().into());
    }
    if let Some(r) = &t.cw_role_arn {
        m.insert("CloudWatchLogsRoleArn".into(), r.clone().into());
    }
    if let Some(k) = &t.kms_key_id {
        m.insert("KmsKeyId".into(), k.clone().into());
    }
    m.insert("IsOrganizationTrail".into(), t.organization.into());
    Value::Object(m)
}
