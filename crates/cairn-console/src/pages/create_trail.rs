//! The Create trail wizard, in AWS's three steps: trail attributes (name, a new or existing
//! bucket, prefix, SSE-KMS key, log file validation, SNS, CloudWatch Logs), log events
//! (management, data and Insights events, as advanced event selectors built from choices or
//! written by hand), and review. The wizard's state travels in its forms; nothing is stored
//! until "Create trail", which makes the calls AWS's console makes, in its order: the new
//! bucket and the bucket policy CloudTrail needs, CreateTrail, PutEventSelectors,
//! PutInsightSelectors, StartLogging.

use std::sync::Arc;

use axum::Form;
use axum::extract::State;
use axum::response::Response;
use cairn_edge::edge::web::WebPeer;
use http::HeaderMap;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::trail_resources;
use super::{Me, error_of, with};
use crate::Shared;
use crate::render::{page, see_other};
use crate::s3_calls;

/// Everything the wizard asks, as its forms carry it (checkboxes are `on` or empty).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct Draft {
    pub name: String,
    /// `new` or `existing`.
    pub bucket_mode: String,
    pub new_bucket: String,
    pub existing_bucket: String,
    pub prefix: String,
    pub multi_region: String,
    pub validation: String,
    /// `none`, `new` or `existing`.
    pub kms_mode: String,
    /// A new key's alias (without `alias/`).
    pub kms_alias: String,
    pub kms_key: String,
    /// `none`, `new` or `existing`.
    pub sns_mode: String,
    /// The topic's name (new) or name or ARN (existing).
    pub sns_topic: String,
    /// `none`, `new` or `existing`.
    pub cwl_mode: String,
    /// A new log group's name and the new role's name.
    pub cwl_group: String,
    pub cwl_role: String,
    pub cwl_group_arn: String,
    pub cwl_role_arn: String,
    /// `all`, `read`, `write` or `none`.
    pub management: String,
    pub exclude_kms: String,
    /// `none`, `all`, `read` or `write`.
    pub data_s3: String,
    pub data_s3_bucket: String,
    /// `none` or `all`.
    pub data_lambda: String,
    /// `advanced` (the default, as AWS's console) or `basic` event selectors.
    pub selector_kind: String,
    /// Advanced event selectors written by hand (JSON); used as they are when given.
    pub advanced_json: String,
    pub insights_rate: String,
    pub insights_error: String,
}

#[derive(Deserialize)]
pub struct StepForm {
    #[serde(default)]
    csrf: String,
    /// The step to show next (1, 2, 3), or `create`.
    #[serde(default)]
    go: String,
    #[serde(flatten)]
    draft: Draft,
}

fn on(v: &str) -> bool {
    v == "on"
}

impl Draft {
    /// What the wizard proposes, as AWS's console does.
    fn proposed(account: &str) -> Draft {
        let suffix: [u8; 4] = rand::random();
        let suffix = hex::encode(suffix);
        Draft {
            name: "management-events".into(),
            bucket_mode: "new".into(),
            new_bucket: format!("aws-cloudtrail-logs-{account}-{suffix}"),
            kms_mode: "none".into(),
            kms_alias: format!("aws-cloudtrail-logs-{account}-{suffix}"),
            sns_mode: "none".into(),
            sns_topic: format!("aws-cloudtrail-logs-{account}-{suffix}"),
            cwl_mode: "none".into(),
            cwl_group: format!("aws-cloudtrail-logs-{account}-{suffix}"),
            cwl_role: "CloudTrailRoleForCloudWatchLogs_management-events".into(),
            multi_region: "on".into(),
            validation: "on".into(),
            management: "all".into(),
            data_s3: "none".into(),
            data_lambda: "none".into(),
            selector_kind: "advanced".into(),
            ..Draft::default()
        }
    }

    fn bucket(&self) -> &str {
        if self.bucket_mode == "existing" {
            self.existing_bucket.trim()
        } else {
            self.new_bucket.trim()
        }
    }

    fn prefix(&self) -> Option<&str> {
        Some(self.prefix.trim().trim_end_matches('/')).filter(|p| !p.is_empty())
    }

    /// The advanced event selectors the choices stand for (or the ones written by hand).
    fn selectors(&self) -> Result<Vec<Value>, String> {
        if !self.advanced_json.trim().is_empty() {
            let v: Value = serde_json::from_str(&self.advanced_json)
                .map_err(|e| format!("The advanced event selectors are not valid JSON: {e}"))?;
            return match v {
                Value::Array(a) => Ok(a),
                _ => Err("The advanced event selectors must be a JSON list.".into()),
            };
        }
        let read_only = |choice: &str| match choice {
            "read" => Some(json!({"Field": "readOnly", "Equals": ["true"]})),
            "write" => Some(json!({"Field": "readOnly", "Equals": ["false"]})),
            _ => None,
        };
        let mut out = Vec::new();
        if self.management != "none" {
            let mut fields = vec![json!({"Field": "eventCategory", "Equals": ["Management"]})];
            fields.extend(read_only(&self.management));
            if on(&self.exclude_kms) {
                fields.push(json!({"Field": "eventSource", "NotEquals": ["kms.amazonaws.com"]}));
            }
            out.push(json!({"Name": "Management events selector", "FieldSelectors": fields}));
        }
        if self.data_s3 != "none" && !self.data_s3.is_empty() {
            let mut fields = vec![
                json!({"Field": "eventCategory", "Equals": ["Data"]}),
                json!({"Field": "resources.type", "Equals": ["AWS::S3::Object"]}),
            ];
            fields.extend(read_only(&self.data_s3));
            let b = self.data_s3_bucket.trim();
            if !b.is_empty() {
                fields.push(
                    json!({"Field": "resources.ARN", "StartsWith": [format!("arn:aws:s3:::{b}/")]}),
                );
            }
            out.push(json!({"Name": "S3 data events", "FieldSelectors": fields}));
        }
        if self.data_lambda == "all" {
            out.push(json!({"Name": "Lambda data events", "FieldSelectors": [
                {"Field": "eventCategory", "Equals": ["Data"]},
                {"Field": "resources.type", "Equals": ["AWS::Lambda::Function"]},
            ]}));
        }
        Ok(out)
    }

    /// The basic event selector the choices stand for: one read/write type for management and
    /// data events alike (the management choice's, or the S3 one's when management is off).
    fn basic_selector(&self) -> Value {
        let kind = |c: &str| match c {
            "read" => "ReadOnly",
            "write" => "WriteOnly",
            _ => "All",
        };
        let management = self.management != "none" && !self.management.is_empty();
        let s3 = self.data_s3 != "none" && !self.data_s3.is_empty();
        let rw = if management {
            kind(&self.management)
        } else if s3 {
            kind(&self.data_s3)
        } else {
            "All"
        };
        let mut data = Vec::new();
        if s3 {
            let b = self.data_s3_bucket.trim();
            let value = if b.is_empty() {
                "arn:aws:s3".to_owned()
            } else {
                format!("arn:aws:s3:::{b}/")
            };
            data.push(json!({"Type": "AWS::S3::Object", "Values": [value]}));
        }
        if self.data_lambda == "all" {
            data.push(json!({"Type": "AWS::Lambda::Function", "Values": ["arn:aws:lambda"]}));
        }
        let mut sel = json!({"ReadWriteType": rw, "IncludeManagementEvents": management, "DataResources": data});
        if management && on(&self.exclude_kms) {
            sel["ExcludeManagementEventSources"] = json!(["kms.amazonaws.com"]);
        }
        sel
    }

    /// PutEventSelectors' input for the trail `name`.
    fn put_selectors_input(&self, name: &str) -> Result<Value, String> {
        if self.selector_kind == "basic" && self.advanced_json.trim().is_empty() {
            return Ok(json!({"TrailName": name, "EventSelectors": [self.basic_selector()]}));
        }
        let selectors = self.selectors()?;
        Ok(if selectors.is_empty() {
            // Nothing chosen: a trail that logs no events until selectors are added.
            json!({"TrailName": name, "EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": false}]})
        } else {
            json!({"TrailName": name, "AdvancedEventSelectors": selectors})
        })
    }

    fn insights(&self) -> Vec<Value> {
        let mut out = Vec::new();
        if on(&self.insights_rate) {
            out.push(json!({"InsightType": "ApiCallRateInsight"}));
        }
        if on(&self.insights_error) {
            out.push(json!({"InsightType": "ApiErrorRateInsight"}));
        }
        out
    }

    /// CreateTrail's input, with the KMS key, topic, log group and role it names (new ones by
    /// the names they will have).
    fn create_input(&self, made: &Made) -> Value {
        let mut i = json!({
            "Name": self.name.trim(),
            "S3BucketName": self.bucket(),
            "IsMultiRegionTrail": on(&self.multi_region),
            "EnableLogFileValidation": on(&self.validation),
        });
        let mut opt = |k: &str, v: &str| {
            if !v.trim().is_empty() {
                i[k] = json!(v.trim());
            }
        };
        opt("S3KeyPrefix", self.prefix().unwrap_or(""));
        opt("KmsKeyId", made.kms_key.as_deref().unwrap_or(""));
        opt("SnsTopicName", made.topic.as_deref().unwrap_or(""));
        opt(
            "CloudWatchLogsLogGroupArn",
            made.log_group_arn.as_deref().unwrap_or(""),
        );
        opt(
            "CloudWatchLogsRoleArn",
            made.role_arn.as_deref().unwrap_or(""),
        );
        i
    }

    /// What the trail will name, before anything new is made: existing ones as typed, new ones
    /// by the identifiers they will have.
    fn planned(&self, account: &str, region: &str) -> Made {
        let some = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        Made {
            kms_key: match self.kms_mode.as_str() {
                "new" => some(&format!("alias/{}", self.kms_alias.trim())),
                "existing" => some(&self.kms_key),
                _ => None,
            },
            topic: match self.sns_mode.as_str() {
                "new" | "existing" => some(&self.sns_topic),
                _ => None,
            },
            log_group_arn: match self.cwl_mode.as_str() {
                "new" => Some(format!(
                    "arn:aws:logs:{region}:{account}:log-group:{}:*",
                    self.cwl_group.trim()
                )),
                "existing" => some(&self.cwl_group_arn),
                _ => None,
            },
            role_arn: match self.cwl_mode.as_str() {
                "new" => Some(format!(
                    "arn:aws:iam::{account}:role/{}",
                    self.cwl_role.trim()
                )),
                "existing" => some(&self.cwl_role_arn),
                _ => None,
            },
        }
    }
}

/// The KMS key, SNS topic, log group and role a trail names.
#[derive(Clone, Debug, Default)]
pub struct Made {
    pub kms_key: Option<String>,
    pub topic: Option<String>,
    pub log_group_arn: Option<String>,
    pub role_arn: Option<String>,
}

impl Draft {}

/// The bucket policy AWS's console writes on a bucket it creates for a trail: CloudTrail may
/// read the bucket's ACL and write under `AWSLogs/<account>/`, for this trail only.
pub fn bucket_policy(bucket: &str, prefix: Option<&str>, account: &str, trail_arn: &str) -> String {
    let logs = match prefix {
        Some(p) => format!("arn:aws:s3:::{bucket}/{p}/AWSLogs/{account}/*"),
        None => format!("arn:aws:s3:::{bucket}/AWSLogs/{account}/*"),
    };
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AWSCloudTrailAclCheck20150319",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "s3:GetBucketAcl",
                "Resource": format!("arn:aws:s3:::{bucket}"),
                "Condition": {"StringEquals": {"AWS:SourceArn": trail_arn}}
            },
            {
                "Sid": "AWSCloudTrailWrite20150319",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": logs,
                "Condition": {"StringEquals": {
                    "s3:x-amz-acl": "bucket-owner-full-control",
                    "AWS:SourceArn": trail_arn
                }}
            }
        ]
    })
    .to_string()
}

fn step_page(
    shared: &Shared,
    me: &Me,
    step: u8,
    draft: &Draft,
    error: Option<Value>,
    done: &[String],
) -> Response {
    let frame = me.frame(shared, "Create trail", "trails");
    let selectors = draft
        .put_selectors_input(draft.name.trim())
        .map(|s| serde_json::to_string_pretty(&s).unwrap_or_default());
    let (selectors, selectors_error) = match selectors {
        Ok(s) => (s, None),
        Err(e) => (String::new(), Some(e)),
    };
    page(
        &shared.templates,
        "create_trail.html",
        with(
            frame,
            json!({
                "step": step,
                "draft": draft,
                "error": error,
                "done": done,
                "selectors": selectors,
                "selectors_error": selectors_error,
                "insights": draft.insights(),
                "create_input": serde_json::to_string_pretty(
                    &draft.create_input(&draft.planned(&me.session.account, &shared.region))
                ).unwrap_or_default(),
            }),
        ),
    )
}

/// GET /console/cloudtrail/create-trail
pub async fn start(me: Me, State(shared): State<Arc<Shared>>) -> Response {
    let draft = Draft::proposed(&me.session.account);
    step_page(&shared, &me, 1, &draft, None, &[])
}

/// POST /console/cloudtrail/create-trail: the next step, or the trail's creation.
pub async fn step(
    State(shared): State<Arc<Shared>>,
    axum::Extension(peer): axum::Extension<WebPeer>,
    headers: HeaderMap,
    Form(f): Form<StepForm>,
) -> Response {
    let me = match Me::posting(&shared, &headers, &peer, &f.csrf) {
        Ok(m) => m,
        Err(r) => return *r,
    };
    let draft = f.draft;
    match f.go.as_str() {
        "1" => step_page(&shared, &me, 1, &draft, None, &[]),
        "2" => {
            if let Some(problem) = attributes_problem(&draft) {
                return step_page(
                    &shared,
                    &me,
                    1,
                    &draft,
                    Some(json!({"code": "InvalidParameter", "message": problem})),
                    &[],
                );
            }
            step_page(&shared, &me, 2, &draft, None, &[])
        }
        "3" => step_page(&shared, &me, 3, &draft, None, &[]),
        "create" => create(&shared, &me, &draft).await,
        _ => step_page(&shared, &me, 1, &draft, None, &[]),
    }
}

/// What step 1 cannot go on without (the service checks the rest when the trail is made).
fn attributes_problem(d: &Draft) -> Option<&'static str> {
    if d.name.trim().is_empty() {
        return Some("Enter a trail name.");
    }
    if d.bucket().is_empty() {
        return Some("Enter the name of the S3 bucket for the trail's log files.");
    }
    None
}

/// Makes the new KMS key, SNS topic, log group and role the draft asks for, each with the
/// policy that lets CloudTrail use it for this trail; what the trail is to name.
async fn make_resources(
    shared: &Arc<Shared>,
    me: &Me,
    d: &Draft,
    account: &str,
    trail_arn: &str,
    done: &mut Vec<String>,
) -> Result<Made, cairn_wire::AwsError> {
    let region = shared.region.as_str();
    let made = d.planned(account, region);
    let name = d.name.trim();
    if d.kms_mode == "new" {
        let input = json!({
            "Description": format!("The KMS key for CloudTrail {trail_arn}"),
            "Policy": trail_resources::key_policy(account, trail_arn),
        });
        let key = me.caller.call(shared, "kms", "CreateKey", input).await?;
        let key_id = key
            .pointer("/KeyMetadata/KeyId")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let alias = made.kms_key.clone().unwrap_or_default();
        done.push(format!("Created KMS key {key_id}"));
        let input = json!({"AliasName": alias, "TargetKeyId": key_id});
        me.caller.call(shared, "kms", "CreateAlias", input).await?;
        done.push(format!("Named it {alias}"));
    }
    if d.sns_mode == "new" {
        let topic = d.sns_topic.trim();
        let topic_arn = format!("arn:aws:sns:{region}:{account}:{topic}");
        me.caller
            .call(shared, "sns", "CreateTopic", json!({"Name": topic}))
            .await?;
        done.push(format!("Created SNS topic {topic}"));
        let input = json!({
            "TopicArn": topic_arn,
            "AttributeName": "Policy",
            "AttributeValue": trail_resources::topic_policy(&topic_arn, trail_arn),
        });
        me.caller
            .call(shared, "sns", "SetTopicAttributes", input)
            .await?;
        done.push("Let CloudTrail publish to it".into());
    }
    if d.cwl_mode == "new" {
        let (group, role) = (d.cwl_group.trim(), d.cwl_role.trim());
        me.caller
            .call(
                shared,
                "logs",
                "CreateLogGroup",
                json!({"logGroupName": group}),
            )
            .await?;
        done.push(format!("Created log group {group}"));
        let input = json!({"RoleName": role, "AssumeRolePolicyDocument": trail_resources::logs_role_trust()});
        me.caller.call(shared, "iam", "CreateRole", input).await?;
        let input = json!({
            "RoleName": role,
            "PolicyName": format!("CloudTrail-CloudWatchLogs-{name}"),
            "PolicyDocument": trail_resources::logs_role_policy(account, region, group),
        });
        me.caller
            .call(shared, "iam", "PutRolePolicy", input)
            .await?;
        done.push(format!("Created role {role} for CloudTrail to write to it"));
    }
    Ok(made)
}

/// Makes the trail: each call as the person, stopping at the first refusal, which the review
/// page shows with what was already done.
async fn create(shared: &Arc<Shared>, me: &Me, d: &Draft) -> Response {
    let mut done: Vec<String> = Vec::new();
    let fail = |done: &[String], e: &cairn_wire::AwsError| {
        step_page(shared, me, 3, d, Some(error_of(e)), done)
    };
    let selectors_input = match d.put_selectors_input(d.name.trim()) {
        Ok(s) => s,
        Err(m) => {
            return step_page(
                shared,
                me,
                2,
                d,
                Some(json!({"code": "InvalidEventSelectorsException", "message": m})),
                &[],
            );
        }
    };
    let account = me.session.account.clone();
    let trail_arn = format!(
        "arn:aws:cloudtrail:{}:{account}:trail/{}",
        shared.region,
        d.name.trim()
    );
    if d.bucket_mode != "existing" {
        let bucket = d.bucket();
        if let Err(e) = me
            .caller
            .call_wire(
                shared,
                "s3",
                s3_calls::create_bucket(bucket, &shared.region),
            )
            .await
        {
            return fail(&done, &e);
        }
        done.push(format!("Created S3 bucket {bucket}"));
        let policy = bucket_policy(bucket, d.prefix(), &account, &trail_arn);
        if let Err(e) = me
            .caller
            .call_wire(
                shared,
                "s3",
                s3_calls::put_bucket_policy(bucket, &shared.region, &policy),
            )
            .await
        {
            return fail(&done, &e);
        }
        done.push(format!(
            "Wrote the bucket policy CloudTrail needs on {bucket}"
        ));
    }
    let name = d.name.trim();
    let made = match make_resources(shared, me, d, &account, &trail_arn, &mut done).await {
        Ok(m) => m,
        Err(e) => return fail(&done, &e),
    };
    if let Err(e) = me
        .caller
        .call(shared, "cloudtrail", "CreateTrail", d.create_input(&made))
        .await
    {
        return fail(&done, &e);
    }
    done.push(format!("Created trail {name}"));
    if let Err(e) = me
        .caller
        .call(shared, "cloudtrail", "PutEventSelectors", selectors_input)
        .await
    {
        return fail(&done, &e);
    }
    done.push("Set the trail's event selectors".into());
    let insights = d.insights();
    if !insights.is_empty() {
        let input = json!({"TrailName": name, "InsightSelectors": insights});
        if let Err(e) = me
            .caller
            .call(shared, "cloudtrail", "PutInsightSelectors", input)
            .await
        {
            return fail(&done, &e);
        }
        done.push("Turned on Insights events".into());
    }
    if let Err(e) = me
        .caller
        .call(shared, "cloudtrail", "StartLogging", json!({"Name": name}))
        .await
    {
        return fail(&done, &e);
    }
    see_other(&format!(
        "/console/cloudtrail/trails/{}",
        super::trails::encode(name)
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn choices_become_advanced_selectors() {
        let mut d = Draft::proposed("111122223333");
        d.management = "write".into();
        d.exclude_kms = "on".into();
        d.data_s3 = "read".into();
        d.data_s3_bucket = "b".into();
        let s = d.selectors().unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(
            s[0]["FieldSelectors"][1],
            json!({"Field": "readOnly", "Equals": ["false"]})
        );
        assert_eq!(
            s[0]["FieldSelectors"][2]["NotEquals"][0],
            "kms.amazonaws.com"
        );
        assert_eq!(
            s[1]["FieldSelectors"][3]["StartsWith"][0],
            "arn:aws:s3:::b/"
        );
        d.selector_kind = "basic".into();
        let basic = d.put_selectors_input("t").unwrap();
        assert_eq!(basic["EventSelectors"][0]["ReadWriteType"], "WriteOnly");
        assert_eq!(
            basic["EventSelectors"][0]["ExcludeManagementEventSources"][0],
            "kms.amazonaws.com"
        );
        assert_eq!(
            basic["EventSelectors"][0]["DataResources"][0]["Values"][0],
            "arn:aws:s3:::b/"
        );
        d.advanced_json = "{}".into();
        assert!(d.selectors().is_err());
    }

    #[test]
    fn the_bucket_policy_names_the_trail_and_the_prefix() {
        let p: Value =
            serde_json::from_str(&bucket_policy("b", Some("logs"), "111122223333", "arn:t"))
                .unwrap();
        assert_eq!(
            p["Statement"][1]["Resource"],
            "arn:aws:s3:::b/logs/AWSLogs/111122223333/*"
        );
        assert_eq!(
            p["Statement"][0]["Condition"]["StringEquals"]["AWS:SourceArn"],
            "arn:t"
        );
    }
}
