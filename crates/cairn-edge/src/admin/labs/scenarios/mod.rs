//! Investigations: a real attack replayed into the learner's account amid benign activity,
//! and questions about it graded against the truth.
//!
//! Each scenario replays one Stratus Red Team technique's published detonation records
//! (`detonations/`, Apache-2.0): the records are rewritten into the learner's account and
//! region (every occurrence of the original account id and region), moved in time so the
//! attack ends just now with its own pacing kept, given new event IDs, and appended to the
//! journal as recorded calls — so event history, trails, CloudWatch Logs, EventBridge and the
//! detection engine see them as they would the account's own calls. Before them, two lab
//! users (`lab-dev-alice`, `lab-ops-bob`) make ordinary calls through cairn, so the attack
//! has to be told apart from everyday activity. The truth is read from the replayed records
//! when the scenario starts and kept with the progress.

mod catalogue;

use cairn_model::ids::new_uuid;
use cairn_model::timefmt::{event_time, parse_event_time};
use cairn_store::journal::{Entry, EntryKind};
use cairn_store::labs::Progress;
use cairn_wire::AwsError;
use serde_json::{Value, json};

use super::exercises::{acting_as, lab_user};
use super::{Criterion, Ctx, Question, same_answer};
use crate::pipeline::internal::{Internal, WireCall};

pub use catalogue::ALL;

/// One investigation.
pub struct Scenario {
    pub name: &'static str,
    /// Stratus Red Team's technique id (`aws.defense-evasion.cloudtrail-stop`).
    pub technique: &'static str,
    pub title: &'static str,
    /// What the learner is told happened.
    pub story: &'static str,
    /// The detonation records (a JSON array of CloudTrail records).
    pub records: &'static str,
    pub questions: &'static [Asked],
}

/// A question, where its truth is in the records, and a hint.
pub struct Asked {
    pub question: Question,
    pub truth: Truth,
    pub hint: &'static str,
}

/// Where a question's answer is in the attack's records.
#[derive(Clone, Copy)]
pub enum Truth {
    /// A field (JSON pointer) of the first record of an event name.
    Field(&'static str, &'static str),
    /// How many distinct values a field (a string or a list of them) takes over the records
    /// of an event name.
    Distinct(&'static str, &'static str),
    /// The other account a trust policy (a string field holding the policy document) lets
    /// assume the role.
    TrustedAccount(&'static str, &'static str),
}

/// The benign users' permissions.
fn everyday_policy() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": [
                "s3:ListAllMyBuckets", "s3:CreateBucket", "s3:DeleteBucket", "s3:ListBucket",
                "logs:Describe*", "kms:ListKeys", "kms:ListAliases", "iam:Get*", "iam:List*",
                "cloudtrail:Describe*", "cloudtrail:Get*", "cloudtrail:LookupEvents",
                "cloudwatch:Describe*", "events:List*", "lambda:List*", "sqs:ListQueues"
            ],
            "Resource": "*"
        }]
    })
}

impl Scenario {
    pub fn steps(&self) -> Vec<String> {
        let ids: Vec<String> = self
            .questions
            .iter()
            .map(|a| format!("--answer {}=…", a.question.id))
            .collect();
        vec![
            "The attacker's calls are now in this account's event history, amid ordinary activity by lab-dev-alice and lab-ops-bob: tell them apart.".to_owned(),
            "Console: CloudTrail → Event history (filter on Event name, User name or Access key); Security → Findings shows what cairn's detection rules flagged.".to_owned(),
            "CLI: aws cloudtrail lookup-events --start-time <an hour ago> --max-results 50 (each event's CloudTrailEvent is the whole record); cairn findings.".to_owned(),
            "SQL: with a trail logging, sync its files (aws s3 sync s3://<bucket>/AWSLogs/ ./logs) and ask cairn query --from ./logs \"SELECT eventTime, eventName, userIdentity, requestParameters FROM events ORDER BY eventTime\".".to_owned(),
            format!("Answer: cairn lab check {} {}", self.name, ids.join(" ")),
        ]
    }

    /// The attack's records, rewritten into the learner's account and region and moved to end
    /// at `end_ms`.
    fn replayed(&self, account: &str, region: &str, end_ms: i64) -> Result<Vec<Value>, AwsError> {
        let originals: Vec<Value> = serde_json::from_str(self.records)
            .map_err(|e| AwsError::internal(format!("scenario {}: {e}", self.name)))?;
        let first = originals
            .first()
            .ok_or_else(|| AwsError::internal("an empty scenario"))?;
        let text_of = |k: &str| {
            first
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let (their_account, their_region) = (text_of("recipientAccountId"), text_of("awsRegion"));
        let last = originals
            .iter()
            .filter_map(|r| r.get("eventTime").and_then(parse_event_time))
            .max()
            .unwrap_or(end_ms);
        let shift = end_ms - last;
        let mut out = Vec::with_capacity(originals.len());
        for r in &originals {
            let mut text = r.to_string();
            if !their_account.is_empty() {
                text = text.replace(&their_account, account);
            }
            if !their_region.is_empty() {
                text = text.replace(&their_region, region);
            }
            let mut rec: Value = serde_json::from_str(&text)
                .map_err(|e| AwsError::internal(format!("scenario {}: {e}", self.name)))?;
            let at = rec
                .get("eventTime")
                .and_then(parse_event_time)
                .unwrap_or(last);
            rec["eventTime"] = json!(event_time(at + shift));
            rec["eventID"] = json!(new_uuid());
            out.push(rec);
        }
        out.sort_by_key(|r| r.get("eventTime").and_then(parse_event_time).unwrap_or(0));
        Ok(out)
    }

    pub fn start(&self, ctx: &Ctx) -> Result<Value, AwsError> {
        let background = everyday_activity(ctx)?;
        let records = self.replayed(ctx.account(), &ctx.who.region, ctx.now_ms - 30_000)?;
        let mut truth = serde_json::Map::new();
        for a in self.questions {
            let t = a.truth.of(&records, ctx.account()).ok_or_else(|| {
                AwsError::internal(format!(
                    "scenario {}: no truth for {}",
                    self.name, a.question.id
                ))
            })?;
            truth.insert(a.question.id.to_owned(), json!(t));
        }
        let entries: Vec<Vec<u8>> = records
            .iter()
            .map(|r| {
                Entry {
                    kind: EntryKind::Recorded,
                    account: ctx.account().to_owned(),
                    record: serde_json::to_vec(r).unwrap_or_default(),
                    served: None,
                }
                .encode()
            })
            .collect();
        ctx.app
            .journal
            .append(entries)
            .wait_blocking()
            .map_err(|e| {
                tracing::error!(error = %e, "replaying a scenario into the journal");
                AwsError::audit_unavailable()
            })?;
        Ok(json!({
            "truth": truth,
            "events": records.len(),
            "setUp": [
                format!("{background} ordinary calls by lab-dev-alice and lab-ops-bob."),
                format!(
                    "{} {} of the attack ({}) replayed into the account, the last at {}.",
                    records.len(),
                    if records.len() == 1 { "record" } else { "records" },
                    self.technique,
                    event_time(ctx.now_ms - 30_000)
                ),
            ],
        }))
    }

    pub fn grade(&self, p: &Progress) -> Vec<Criterion> {
        self.questions
            .iter()
            .map(|a| {
                let q = a.question;
                let name = q.text.to_owned();
                let truth = p
                    .state
                    .pointer(&format!("/truth/{}", q.id))
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                match p.answers.get(q.id) {
                    None => Criterion::fail(
                        name,
                        format!("No answer to {} yet.", q.id),
                        format!(
                            "{} Then: cairn lab check {} --answer {}=<value>",
                            a.hint, self.name, q.id
                        ),
                    ),
                    Some(given) if same_answer(given, truth) => {
                        Criterion::pass(name, format!("{given} is right."))
                    }
                    Some(given) => Criterion::fail(
                        name,
                        format!("{given} is not the answer to {}.", q.id),
                        a.hint.to_owned(),
                    ),
                }
            })
            .collect()
    }
}

impl Truth {
    fn of(&self, records: &[Value], account: &str) -> Option<String> {
        fn of_event<'a>(records: &'a [Value], name: &'a str) -> impl Iterator<Item = &'a Value> {
            records
                .iter()
                .filter(move |r| r.get("eventName").and_then(Value::as_str) == Some(name))
        }
        match *self {
            Truth::Field(event, pointer) => of_event(records, event).find_map(|r| {
                r.pointer(pointer)
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            }),
            Truth::Distinct(event, pointer) => {
                let mut seen = std::collections::BTreeSet::new();
                for r in of_event(records, event) {
                    match r.pointer(pointer) {
                        Some(Value::String(s)) => {
                            seen.insert(s.clone());
                        }
                        Some(Value::Array(a)) => {
                            seen.extend(a.iter().filter_map(Value::as_str).map(str::to_owned));
                        }
                        _ => {}
                    }
                }
                (!seen.is_empty()).then(|| seen.len().to_string())
            }
            Truth::TrustedAccount(event, pointer) => {
                let doc: Value = of_event(records, event)
                    .find_map(|r| r.pointer(pointer).and_then(Value::as_str))
                    .and_then(|s| serde_json::from_str(s).ok())?;
                let mut principals = Vec::new();
                for st in doc.get("Statement").and_then(Value::as_array)? {
                    match st.pointer("/Principal/AWS") {
                        Some(Value::String(s)) => principals.push(s.clone()),
                        Some(Value::Array(a)) => {
                            principals.extend(a.iter().filter_map(Value::as_str).map(str::to_owned))
                        }
                        _ => {}
                    }
                }
                principals.iter().find_map(|p| {
                    let id = p.split(':').nth(4).unwrap_or(p);
                    (id.len() == 12 && id != account).then(|| id.to_owned())
                })
            }
        }
    }
}

/// Ordinary calls by two lab users (made if missing): reads a developer and an operator make
/// every day, and a bucket made and removed. How many.
fn everyday_activity(ctx: &Ctx) -> Result<usize, AwsError> {
    let policy = everyday_policy();
    let alice = acting_as(ctx, lab_user(ctx, "lab-dev-alice", Some(&policy))?);
    let bob = acting_as(ctx, lab_user(ctx, "lab-ops-bob", Some(&policy))?);
    let json_calls: [(&Internal, &str, &str, Value); 10] = [
        (&alice, "sts", "GetCallerIdentity", json!({})),
        (&alice, "logs", "DescribeLogGroups", json!({})),
        (&alice, "kms", "ListKeys", json!({})),
        (&alice, "iam", "GetUser", json!({})),
        (&alice, "lambda", "ListFunctions", json!({})),
        (&bob, "cloudtrail", "DescribeTrails", json!({})),
        (&bob, "iam", "ListUsers", json!({})),
        (&bob, "iam", "ListRoles", json!({})),
        (&bob, "cloudwatch", "DescribeAlarms", json!({})),
        (&bob, "events", "ListRules", json!({})),
    ];
    let mut made = 0;
    for _round in 0..2 {
        for (who, service, op, input) in &json_calls {
            // A refusal is everyday activity too; only the journal failing stops the set-up.
            match who.call_json(ctx.app, service, op, input.clone()) {
                Err(e) if e.code == "ServiceUnavailable" => return Err(e),
                _ => made += 1,
            }
        }
        let bucket = format!("lab-dev-alice-{}", &new_uuid()[..8]);
        for (method, path) in [
            (http::Method::GET, "/".to_owned()),
            (http::Method::PUT, format!("/{bucket}")),
            (http::Method::GET, format!("/{bucket}")),
            (http::Method::DELETE, format!("/{bucket}")),
        ] {
            let call = WireCall {
                method,
                path,
                query: None,
                headers: vec![("host".to_owned(), "s3.amazonaws.com".to_owned())],
                body: bytes::Bytes::new(),
            };
            match alice.call_wire(ctx.app, "s3", call) {
                Err(e) if e.code == "ServiceUnavailable" => return Err(e),
                _ => made += 1,
            }
        }
    }
    Ok(made)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scenario_replays_into_the_account_and_knows_its_truth() {
        for s in ALL.iter() {
            let end = 1_800_000_000_000;
            let recs = s.replayed("123456789012", "eu-west-1", end).unwrap();
            assert!(!recs.is_empty(), "{}", s.name);
            let last = recs
                .iter()
                .filter_map(|r| r.get("eventTime").and_then(parse_event_time))
                .max()
                .unwrap();
            assert_eq!(last, end / 1000 * 1000, "{}", s.name);
            for r in &recs {
                assert_eq!(r["recipientAccountId"], "123456789012", "{}", s.name);
                assert_eq!(r["awsRegion"], "eu-west-1", "{}", s.name);
            }
            for a in s.questions {
                let t = a.truth.of(&recs, "123456789012");
                assert!(
                    t.as_deref().is_some_and(|t| !t.is_empty()),
                    "{} {}",
                    s.name,
                    a.question.id
                );
            }
        }
    }

    #[test]
    fn truths_are_the_attacks_facts() {
        let truth = |name: &str, id: &str| {
            let s = ALL.iter().find(|s| s.name == name).unwrap();
            let recs = s
                .replayed("123456789012", "us-east-1", 1_800_000_000_000)
                .unwrap();
            let a = s.questions.iter().find(|a| a.question.id == id).unwrap();
            a.truth.of(&recs, "123456789012").unwrap()
        };
        assert_eq!(truth("stopped-trail", "access-key"), "AKIAGGWFBBHBE7D3M9WI");
        assert_eq!(
            truth("stopped-trail", "trail"),
            "stratus-red-team-ct-stop-trail-buykxbqejv"
        );
        assert_eq!(truth("secrets-theft", "secrets"), "20");
        assert_eq!(truth("backdoored-role", "trusted-account"), "193672423079");
        assert_eq!(truth("shared-snapshot", "account"), "098797384747");
    }
}
