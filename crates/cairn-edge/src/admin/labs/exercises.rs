//! The course's exercises: create a trail; find activity in event history; find a call in the
//! delivered log files and read its `userIdentity`; validate the logs and find a tampered file;
//! alert on an API activity; process events in real time with a function; apply the best
//! practices. Each grades what the learner built, read through the public APIs.

use std::io::Write;

use bytes::Bytes;
use cairn_store::labs::Progress;
use cairn_wire::AwsError;
use serde_json::{Value, json};

use super::read::{self, Trail};
use super::{Criterion, Ctx, Question, same_answer};

/// One exercise.
pub struct Exercise {
    pub name: &'static str,
    pub title: &'static str,
    pub goal: &'static str,
    /// The steps, in AWS's terms: the console's way and the CLI's.
    pub steps: &'static [&'static str],
    pub questions: &'static [Question],
    /// Sets the exercise up; what grading needs later.
    pub start: fn(&Ctx) -> Result<Value, AwsError>,
    pub grade: fn(&Ctx, &mut Progress) -> Vec<Criterion>,
}

pub static ALL: [Exercise; 7] = [
    CREATE_TRAIL,
    EVENT_HISTORY,
    LOG_FILES,
    VALIDATE_LOGS,
    ALERT_ON_API,
    REALTIME_FUNCTION,
    BEST_PRACTICES,
];

fn nothing(_: &Ctx) -> Result<Value, AwsError> {
    Ok(json!({}))
}

/// The account's trails, or the criterion saying they could not be read.
fn trails_or(ctx: &Ctx, name: &str) -> Result<Vec<Trail>, Criterion> {
    read::trails(ctx).map_err(|e| {
        Criterion::fail(
            name,
            format!("The trails could not be read: {}", e.message),
            "Check as the account's root user or an administrator.",
        )
    })
}

/// The criteria after the first failed one cannot be judged: they say so.
fn blocked(name: &str, by: &str) -> Criterion {
    Criterion::fail(
        name,
        format!("Not checked yet: \"{by}\" comes first."),
        format!("Meet \"{by}\" first."),
    )
}

/// Runs `first` in order, then, once they all pass, each of `independent` on its own (answers
/// to separate questions: one wrong answer does not hide whether another is right).
fn then_each(
    first: Vec<(&str, &dyn Fn() -> Criterion)>,
    independent: Vec<(&str, &dyn Fn() -> Criterion)>,
) -> Vec<Criterion> {
    let mut out = in_order(first);
    let blocker = out.iter().find(|c| !c.passed).map(|c| c.name.clone());
    for (name, judge) in independent {
        out.push(match &blocker {
            Some(by) => blocked(name, by),
            None => judge(),
        });
    }
    out
}

/// Runs criteria in order; the first that fails blocks the rest.
fn in_order(steps: Vec<(&str, &dyn Fn() -> Criterion)>) -> Vec<Criterion> {
    let mut out: Vec<Criterion> = Vec::new();
    for (name, judge) in steps {
        match out.iter().find(|c| !c.passed) {
            Some(first) => {
                let by = first.name.clone();
                out.push(blocked(name, &by));
            }
            None => out.push(judge()),
        }
    }
    out
}

// --- create-trail ---------------------------------------------------------------------------

const CREATE_TRAIL: Exercise = Exercise {
    name: "create-trail",
    title: "Create a trail",
    goal: "Create a trail that logs the account's management events to an S3 bucket, turn its logging on, and see it deliver a log file.",
    steps: &[
        "Console: CloudTrail → Trails → Create trail; name it, let it create a new S3 bucket, keep management events on, and create it (logging starts at once).",
        "CLI: aws s3 mb s3://my-trail-bucket-<your-id>; aws s3api put-bucket-policy --bucket my-trail-bucket-<your-id> --policy file://policy.json (the policy that lets cloudtrail.amazonaws.com check the bucket's ACL and write AWSLogs/<account>/*).",
        "CLI: aws cloudtrail create-trail --name my-trail --s3-bucket-name my-trail-bucket-<your-id>; aws cloudtrail start-logging --name my-trail.",
        "Make a few calls (aws s3 ls, aws iam list-users) and wait for the trail's next delivery (about five minutes; aws cloudtrail get-trail-status --name my-trail shows LatestDeliveryTime).",
        "cairn lab check create-trail",
    ],
    questions: &[],
    start: nothing,
    grade: grade_create_trail,
};

fn logging_trail(trails: &[Trail]) -> Option<&Trail> {
    trails.iter().find(|t| t.logging)
}

fn grade_create_trail(ctx: &Ctx, p: &mut Progress) -> Vec<Criterion> {
    let trails = match trails_or(ctx, "A trail exists") {
        Ok(t) => t,
        Err(c) => return vec![c],
    };
    let started = p.started_ms.div_euclid(1000) * 1000;
    in_order(vec![
        ("A trail exists", &|| match trails.first() {
            Some(t) => Criterion::pass(
                "A trail exists",
                format!("Trail {} delivers to bucket {}.", t.name, t.bucket),
            ),
            None => Criterion::fail(
                "A trail exists",
                "The account has no trail.",
                "Create one: Console → CloudTrail → Trails → Create trail, or aws cloudtrail create-trail --name my-trail --s3-bucket-name <bucket> (the bucket needs CloudTrail's bucket policy).",
            ),
        }),
        ("The trail is logging", &|| match logging_trail(&trails) {
            Some(t) => Criterion::pass(
                "The trail is logging",
                format!("Trail {} is logging.", t.name),
            ),
            None => {
                let name = trails
                    .first()
                    .map(|t| t.name.as_str())
                    .unwrap_or("my-trail");
                Criterion::fail(
                    "The trail is logging",
                    format!("Trail {name} is not logging."),
                    format!(
                        "Turn it on: aws cloudtrail start-logging --name {name} (or the trail's page → Start logging)."
                    ),
                )
            }
        }),
        ("It delivered a log file since the lab started", &|| {
            let delivered = trails
                .iter()
                .filter(|t| t.logging)
                .find(|t| t.delivered_ms.is_some_and(|d| d >= started));
            match delivered {
                Some(t) => match newest_log_file(ctx, t, started) {
                    Some(key) => Criterion::pass(
                        "It delivered a log file since the lab started",
                        format!("Trail {} delivered s3://{}/{key}.", t.name, t.bucket),
                    ),
                    None => Criterion::fail(
                        "It delivered a log file since the lab started",
                        format!(
                            "Trail {} reports a delivery, but no log file since the lab started is in bucket {}.",
                            t.name, t.bucket
                        ),
                        format!(
                            "List it: aws s3 ls s3://{}/ --recursive; a bucket policy or lifecycle rule may have removed it.",
                            t.bucket
                        ),
                    ),
                },
                None => Criterion::fail(
                    "It delivered a log file since the lab started",
                    "No logging trail has delivered a log file since the lab started.",
                    "Make a few calls (aws s3 ls, aws iam list-users) and wait for the next delivery, about five minutes (aws cloudtrail get-trail-status shows LatestDeliveryTime).",
                ),
            }
        }),
    ])
}

/// The newest CloudTrail log file a trail delivered since `since_ms`.
fn newest_log_file(ctx: &Ctx, t: &Trail, since_ms: i64) -> Option<String> {
    log_files(ctx, t, since_ms).pop()
}

/// The trail's log files delivered since `since_ms`, oldest first.
fn log_files(ctx: &Ctx, t: &Trail, since_ms: i64) -> Vec<String> {
    let prefix = format!("{}CloudTrail/", t.logs_prefix(ctx.account()));
    let mut files = read::list_objects(ctx, &t.bucket, &prefix).unwrap_or_default();
    files.retain(|o| o.modified_ms >= since_ms - 1000 && o.key.ends_with(".json.gz"));
    files.sort_by(|a, b| a.modified_ms.cmp(&b.modified_ms).then(a.key.cmp(&b.key)));
    files.into_iter().map(|o| o.key).collect()
}

// --- event-history --------------------------------------------------------------------------

const EVENT_HISTORY: Exercise = Exercise {
    name: "event-history",
    title: "Generate activity and find it in event history",
    goal: "Create an S3 bucket, then find that call in CloudTrail's event history and read its details.",
    steps: &[
        "Console: S3 → Create bucket; or CLI: aws s3 mb s3://lab-history-<your-id>.",
        "Console: CloudTrail → Event history; filter on Event name = CreateBucket and open the event.",
        "CLI: aws cloudtrail lookup-events --lookup-attributes AttributeKey=EventName,AttributeValue=CreateBucket --max-results 5 (each event's CloudTrailEvent holds the whole record).",
        "Answer: cairn lab check event-history --answer event-id=<EventId> --answer source-ip=<the record's sourceIPAddress>",
    ],
    questions: &[
        Question {
            id: "event-id",
            text: "What is the event ID of your CreateBucket call?",
        },
        Question {
            id: "source-ip",
            text: "From which IP address was the call made (the record's sourceIPAddress)?",
        },
    ],
    start: nothing,
    grade: grade_event_history,
};

fn record_of(event: &Value) -> Value {
    event
        .get("CloudTrailEvent")
        .and_then(Value::as_str)
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or(Value::Null)
}

fn no_answer(id: &str, lab: &str) -> String {
    format!("Answer it: cairn lab check {lab} --answer {id}=<value>.")
}

fn grade_event_history(ctx: &Ctx, p: &mut Progress) -> Vec<Criterion> {
    let events = read::lookup(ctx, Some(("EventName", "CreateBucket")), p.started_ms, 200);
    let created: Vec<Value> = match &events {
        Ok(list) => list
            .iter()
            .map(record_of)
            .filter(|r| r.get("errorCode").is_none())
            .collect(),
        Err(_) => Vec::new(),
    };
    let answers = p.answers.clone();
    in_order(vec![
        (
            "You created a bucket since the lab started",
            &|| match (&events, created.first()) {
                (Err(e), _) => Criterion::fail(
                    "You created a bucket since the lab started",
                    format!("Event history could not be read: {}", e.message),
                    "Check as the account's root user or an administrator.",
                ),
                (Ok(_), Some(r)) => Criterion::pass(
                    "You created a bucket since the lab started",
                    format!(
                        "CreateBucket of {} at {}.",
                        r.pointer("/requestParameters/bucketName")
                            .and_then(Value::as_str)
                            .unwrap_or("?"),
                        r.get("eventTime").and_then(Value::as_str).unwrap_or("?")
                    ),
                ),
                (Ok(_), None) => Criterion::fail(
                    "You created a bucket since the lab started",
                    "Event history shows no successful CreateBucket call since the lab started.",
                    "Create one: aws s3 mb s3://lab-history-<your-id> (or S3 → Create bucket in the console).",
                ),
            },
        ),
        ("You found its event ID", &|| {
            let name = "You found its event ID";
            match answers.get("event-id") {
                None => Criterion::fail(
                    name,
                    "No answer to event-id yet.",
                    format!(
                        "aws cloudtrail lookup-events --lookup-attributes AttributeKey=EventName,AttributeValue=CreateBucket --max-results 1, then {}",
                        no_answer("event-id", "event-history")
                    ),
                ),
                Some(a)
                    if created.iter().any(|r| {
                        r.get("eventID")
                            .and_then(Value::as_str)
                            .is_some_and(|id| same_answer(a, id))
                    }) =>
                {
                    Criterion::pass(name, format!("{a} is your CreateBucket call."))
                }
                Some(a) => Criterion::fail(
                    name,
                    format!(
                        "{a} is not the event ID of a CreateBucket call made since the lab started."
                    ),
                    "Copy the EventId of the event lookup-events returns for your CreateBucket call.",
                ),
            }
        }),
        ("You read where it came from", &|| {
            let name = "You read where it came from";
            let chosen = answers.get("event-id").and_then(|a| {
                created.iter().find(|r| {
                    r.get("eventID")
                        .and_then(Value::as_str)
                        .is_some_and(|id| same_answer(a, id))
                })
            });
            let truth = chosen
                .and_then(|r| r.get("sourceIPAddress"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            match answers.get("source-ip") {
                None => Criterion::fail(
                    name,
                    "No answer to source-ip yet.",
                    format!(
                        "The event's CloudTrailEvent has sourceIPAddress; {}",
                        no_answer("source-ip", "event-history")
                    ),
                ),
                Some(a) if same_answer(a, truth) => {
                    Criterion::pass(name, format!("The call came from {truth}."))
                }
                Some(a) => Criterion::fail(
                    name,
                    format!("{a} is not the sourceIPAddress of that event."),
                    "Read sourceIPAddress in the event's CloudTrailEvent (the console shows it as Source IP address).",
                ),
            }
        }),
    ])
}

// --- log-files ------------------------------------------------------------------------------

/// The IAM user whose call the log-files exercise has the learner find.
const VISITOR: &str = "lab-visitor";

const LOG_FILES: Exercise = Exercise {
    name: "log-files",
    title: "Find a call in the delivered log files and read its userIdentity",
    goal: "When this lab starts, an IAM user named lab-visitor tries to list the account's S3 buckets without permission. Find that call in your trail's delivered log files and read who made it and how it ended.",
    steps: &[
        "You need a logging trail (lab create-trail). Wait for its next delivery after this lab started (aws cloudtrail get-trail-status shows LatestDeliveryTime).",
        "CLI: aws s3 sync s3://<trail-bucket>/AWSLogs/ ./logs, then search the gzip'd JSON files: for f in $(find logs -name '*.json.gz'); do zcat $f | python3 -m json.tool | grep -n lab-visitor; done",
        "Console: S3 → the trail's bucket → AWSLogs/<account>/CloudTrail/<region>/<date> → download the newest files.",
        "Read the ListBuckets record's userIdentity (accessKeyId, principalId) and errorCode.",
        "Answer: cairn lab check log-files --answer access-key-id=AKIA… --answer principal-id=AIDA… --answer error-code=…",
    ],
    questions: &[
        Question {
            id: "access-key-id",
            text: "Which access key did lab-visitor use (userIdentity.accessKeyId)?",
        },
        Question {
            id: "principal-id",
            text: "What is lab-visitor's principal ID (userIdentity.principalId)?",
        },
        Question {
            id: "error-code",
            text: "How did the call end (its errorCode)?",
        },
    ],
    start: start_log_files,
    grade: grade_log_files,
};

/// An IAM user of the account (made if missing) and an active access key of it, as a
/// principal the lab can act as.
pub(super) fn lab_user(
    ctx: &Ctx,
    name: &str,
    policy: Option<&Value>,
) -> Result<cairn_model::Principal, AwsError> {
    match ctx.call("iam", "CreateUser", json!({"UserName": name})) {
        Ok(_) => {}
        Err(e) if e.code == "EntityAlreadyExists" => {}
        Err(e) => return Err(e),
    }
    if let Some(policy) = policy {
        ctx.call(
            "iam",
            "PutUserPolicy",
            json!({"UserName": name, "PolicyName": "lab-activity", "PolicyDocument": policy.to_string()}),
        )?;
    }
    let keys = ctx.call("iam", "ListAccessKeys", json!({"UserName": name}))?;
    let active = read::elements(read::xml_of(&keys), "member")
        .into_iter()
        .find(|m| read::element(m, "Status").as_deref() == Some("Active"))
        .and_then(|m| read::element(m, "AccessKeyId"));
    let key = match active {
        Some(k) => k,
        None => {
            let made = ctx.call("iam", "CreateAccessKey", json!({"UserName": name}))?;
            read::element(read::xml_of(&made), "AccessKeyId")
                .ok_or_else(|| AwsError::internal("CreateAccessKey answered no key"))?
        }
    };
    crate::edge::auth::principal_of_key(ctx.app, &key, ctx.now_ms)
        .ok_or_else(|| AwsError::internal(format!("the key of {name} does not resolve")))
}

/// The learner's context acting as `principal` instead.
pub(super) fn acting_as(
    ctx: &Ctx,
    principal: cairn_model::Principal,
) -> crate::pipeline::internal::Internal {
    crate::pipeline::internal::Internal {
        actor: crate::pipeline::internal::Actor::Caller(principal),
        account: ctx.who.account.clone(),
        region: ctx.who.region.clone(),
        source_arn: None,
        cause: ctx.who.cause.clone(),
        durability: crate::pipeline::Durability::Wait,
    }
}

fn start_log_files(ctx: &Ctx) -> Result<Value, AwsError> {
    let visitor = lab_user(ctx, VISITOR, None)?;
    let as_visitor = acting_as(ctx, visitor);
    let denied = as_visitor.call_wire(
        ctx.app,
        "s3",
        crate::pipeline::internal::WireCall {
            method: http::Method::GET,
            path: "/".into(),
            query: None,
            headers: vec![("host".to_owned(), "s3.amazonaws.com".to_owned())],
            body: Bytes::new(),
        },
    );
    let outcome = match denied {
        Ok(_) => "succeeded".to_owned(),
        Err(e) => e.code.to_string(),
    };
    Ok(json!({"setUp": [format!("IAM user {VISITOR} called ListBuckets ({outcome}).")]}))
}

/// The visitor's ListBuckets record in a log file a trail delivered since `since_ms`: the
/// record and the file's location.
fn visitor_call_in_files(ctx: &Ctx, trails: &[Trail], since_ms: i64) -> Option<(Value, String)> {
    for t in trails.iter().filter(|t| !t.bucket.is_empty()) {
        // The call was made when the lab started: among the first files after it.
        for key in log_files(ctx, t, since_ms).into_iter().take(200) {
            let Ok(body) = read::get_object(ctx, &t.bucket, &key) else {
                continue;
            };
            // The visitor's name in the text first: parsing is the cost, most files lack it.
            let Some(text) = read::gunzip(&body) else {
                continue;
            };
            if !text.windows(VISITOR.len()).any(|w| w == VISITOR.as_bytes()) {
                continue;
            }
            let Ok(doc) = serde_json::from_slice::<Value>(&text) else {
                continue;
            };
            let found = doc.get("Records").and_then(Value::as_array).and_then(|rs| {
                rs.iter().find(|r| {
                    r.get("eventName").and_then(Value::as_str) == Some("ListBuckets")
                        && r.pointer("/userIdentity/userName").and_then(Value::as_str)
                            == Some(VISITOR)
                        && r.get("eventTime")
                            .and_then(cairn_model::timefmt::parse_event_time)
                            .is_some_and(|t| t >= since_ms - 1000)
                })
            });
            if let Some(r) = found {
                return Some((r.clone(), format!("s3://{}/{key}", t.bucket)));
            }
        }
    }
    None
}

fn grade_log_files(ctx: &Ctx, p: &mut Progress) -> Vec<Criterion> {
    let trails = match trails_or(ctx, "A trail delivered lab-visitor's call") {
        Ok(t) => t,
        Err(c) => return vec![c],
    };
    let found = visitor_call_in_files(ctx, &trails, p.started_ms);
    let answers = &p.answers;
    let truth = |pointer: &str| {
        found
            .as_ref()
            .and_then(|(r, _)| r.pointer(pointer))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let question =
        |id: &'static str, name: &'static str, pointer: &'static str, field: &'static str| {
            let truth = truth(pointer);
            move || match answers.get(id) {
                None => Criterion::fail(
                    name,
                    format!("No answer to {id} yet."),
                    format!("Read {field} in the record; {}", no_answer(id, "log-files")),
                ),
                Some(a) if same_answer(a, &truth) => {
                    Criterion::pass(name, format!("{field} is {truth}."))
                }
                Some(a) => Criterion::fail(
                    name,
                    format!("{a} is not the record's {field}."),
                    format!("Read {field} in lab-visitor's ListBuckets record."),
                ),
            }
        };
    let key = question(
        "access-key-id",
        "You read the access key",
        "/userIdentity/accessKeyId",
        "userIdentity.accessKeyId",
    );
    let principal = question(
        "principal-id",
        "You read the principal ID",
        "/userIdentity/principalId",
        "userIdentity.principalId",
    );
    let error = question(
        "error-code",
        "You read how it ended",
        "/errorCode",
        "errorCode",
    );
    then_each(
        vec![("A trail delivered lab-visitor's call", &|| match &found {
            Some((_, at)) => Criterion::pass(
                "A trail delivered lab-visitor's call",
                format!("It is in {at}."),
            ),
            None if logging_trail(&trails).is_none() => Criterion::fail(
                "A trail delivered lab-visitor's call",
                "No trail is logging, so the call is in no log file.",
                "Create a trail and start it (lab create-trail), then cairn lab start log-files again.",
            ),
            None => Criterion::fail(
                "A trail delivered lab-visitor's call",
                "No log file delivered since the lab started holds lab-visitor's ListBuckets call yet.",
                "Wait for the trail's next delivery (about five minutes; get-trail-status shows LatestDeliveryTime).",
            ),
        })],
        vec![
            ("You read the access key", &key),
            ("You read the principal ID", &principal),
            ("You read how it ended", &error),
        ],
    )
}

// --- validate-logs --------------------------------------------------------------------------

const VALIDATE_LOGS: Exercise = Exercise {
    name: "validate-logs",
    title: "Validate the logs and detect a tampered file",
    goal: "Turn on log file validation, let the trail deliver a digest file, and then find the log file an intruder altered with aws cloudtrail validate-logs.",
    steps: &[
        "Console: the trail's page → General details → Edit → Log file validation: Enabled. CLI: aws cloudtrail update-trail --name my-trail --enable-log-file-validation",
        "Make a few calls; digests are delivered hourly (get-trail-status shows LatestDigestDeliveryTime).",
        "Once a digest covering a log file is delivered, the next cairn lab check alters one of the log files it covers, as an intruder would.",
        "CLI: aws cloudtrail validate-logs --trail-arn <trail ARN> --start-time <when the lab started> --verbose; it reports the file whose hash does not match.",
        "Answer: cairn lab check validate-logs --answer tampered-file=<the S3 key validate-logs names>",
    ],
    questions: &[Question {
        id: "tampered-file",
        text: "Which log file was altered (its S3 key)?",
    }],
    start: nothing,
    grade: grade_validate_logs,
};

fn grade_validate_logs(ctx: &Ctx, p: &mut Progress) -> Vec<Criterion> {
    let trails = match trails_or(ctx, "A trail validates its log files") {
        Ok(t) => t,
        Err(c) => return vec![c],
    };
    let started = p.started_ms.div_euclid(1000) * 1000;
    let validating = trails.iter().find(|t| t.validation && t.logging).cloned();
    let mut tampered: Option<String> = p
        .state
        .get("tampered")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let digest_since = validating
        .as_ref()
        .is_some_and(|t| t.digest_delivered_ms.is_some_and(|d| d >= started));
    let mut tamper_problem = None;
    if tampered.is_none()
        && digest_since
        && let Some(t) = &validating
    {
        match tamper(ctx, t, started) {
            Ok(Some(key)) => {
                p.state["tampered"] = json!(key);
                p.state["tamperedBucket"] = json!(t.bucket);
                p.state["tamperedMs"] = json!(ctx.now_ms);
                tampered = Some(key);
            }
            Ok(None) => {
                tamper_problem = Some(
                    "The digests delivered since the lab started cover no log file yet.".to_owned(),
                )
            }
            Err(e) => {
                tamper_problem = Some(format!(
                    "The trail's files could not be read: {}",
                    e.message
                ))
            }
        }
    }
    let answer = p.answers.get("tampered-file").cloned();
    in_order(vec![
        ("A trail validates its log files", &|| match &validating {
            Some(t) => Criterion::pass(
                "A trail validates its log files",
                format!(
                    "Trail {} has log file validation on and is logging.",
                    t.name
                ),
            ),
            None => {
                let name = trails
                    .first()
                    .map(|t| t.name.as_str())
                    .unwrap_or("my-trail");
                Criterion::fail(
                    "A trail validates its log files",
                    "No logging trail has log file validation on.",
                    format!(
                        "aws cloudtrail update-trail --name {name} --enable-log-file-validation (and start-logging if it is off)."
                    ),
                )
            }
        }),
        ("It delivered a digest file since the lab started", &|| {
            if digest_since {
                Criterion::pass(
                    "It delivered a digest file since the lab started",
                    "A digest file was delivered.",
                )
            } else {
                Criterion::fail(
                    "It delivered a digest file since the lab started",
                    "The trail has delivered no digest file since the lab started.",
                    "Digests come hourly: make a few calls and wait for the next one (get-trail-status shows LatestDigestDeliveryTime).",
                )
            }
        }),
        (
            "An intruder altered a log file",
            &|| match (&tampered, &tamper_problem) {
                (Some(_), _) => Criterion::pass(
                    "An intruder altered a log file",
                    "cairn altered one log file the digests cover, as an intruder would.",
                ),
                (None, Some(why)) => Criterion::fail(
                    "An intruder altered a log file",
                    why.clone(),
                    "Make a few calls and wait for the next hourly digest, then check again.",
                ),
                (None, None) => Criterion::fail(
                    "An intruder altered a log file",
                    "No log file was altered yet.",
                    "Check again once a digest is delivered.",
                ),
            },
        ),
        ("You found the altered file", &|| {
            let name = "You found the altered file";
            let truth = tampered.clone().unwrap_or_default();
            match &answer {
                None => Criterion::fail(
                    name,
                    "No answer to tampered-file yet.",
                    format!(
                        "aws cloudtrail validate-logs --trail-arn {} --start-time {} --verbose names it; then cairn lab check validate-logs --answer tampered-file=<key>.",
                        validating
                            .as_ref()
                            .map_or("<trail ARN>", |t| t.arn.as_str()),
                        cairn_model::timefmt::event_time(started)
                    ),
                ),
                Some(a) => {
                    let key = a
                        .strip_prefix("s3://")
                        .and_then(|r| r.split_once('/'))
                        .map_or(a.as_str(), |(_, k)| k);
                    if same_answer(key, &truth) {
                        Criterion::pass(name, format!("{truth} is the altered file."))
                    } else {
                        Criterion::fail(
                            name,
                            format!("{a} is not the altered file."),
                            "validate-logs reports it as INVALID: hash value doesn't match.",
                        )
                    }
                }
            }
        }),
    ])
}

/// Alters one log file that a digest delivered since `since_ms` covers (a record's
/// `sourceIPAddress` rewritten), as an intruder hiding their address would. Its key, or
/// `None` when no digest covers a log file yet.
fn tamper(ctx: &Ctx, t: &Trail, since_ms: i64) -> Result<Option<String>, AwsError> {
    let prefix = format!("{}CloudTrail-Digest/", t.logs_prefix(ctx.account()));
    let mut digests = read::list_objects(ctx, &t.bucket, &prefix)?;
    digests.retain(|o| o.modified_ms >= since_ms - 1000);
    digests.sort_by_key(|d| std::cmp::Reverse(d.modified_ms));
    for d in digests {
        let body = read::get_object(ctx, &t.bucket, &d.key)?;
        let Some(digest) = read::gunzip_json(&body) else {
            continue;
        };
        let covered = digest
            .get("logFiles")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for f in covered {
            let (Some(bucket), Some(key)) = (
                f.get("s3Bucket").and_then(Value::as_str),
                f.get("s3Object").and_then(Value::as_str),
            ) else {
                continue;
            };
            let Ok(original) = read::get_object(ctx, bucket, key) else {
                continue;
            };
            let Some(mut doc) = read::gunzip_json(&original) else {
                continue;
            };
            let Some(first) = doc.pointer_mut("/Records/0") else {
                continue;
            };
            first["sourceIPAddress"] = json!("198.51.100.66");
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            let text = serde_json::to_vec(&doc).map_err(|e| AwsError::internal(e.to_string()))?;
            gz.write_all(&text)
                .map_err(|e| AwsError::internal(e.to_string()))?;
            let altered = gz.finish().map_err(|e| AwsError::internal(e.to_string()))?;
            read::put_object(ctx, bucket, key, Bytes::from(altered))?;
            return Ok(Some(key.to_owned()));
        }
    }
    Ok(None)
}

// --- alert-on-api ---------------------------------------------------------------------------

const ALERT_ON_API: Exercise = Exercise {
    name: "alert-on-api",
    title: "Alert on an API activity",
    goal: "Be told when someone stops a trail: send the trail's events to CloudWatch Logs, count StopLogging calls with a metric filter, raise an alarm on that metric that notifies an SNS topic with a confirmed subscription, and see it fire.",
    steps: &[
        "Console: the trail's page → CloudWatch Logs → Edit → Enabled, a new log group and an IAM role. CLI: aws logs create-log-group --log-group-name trail-events; create a role CloudTrail can assume with logs:CreateLogStream and logs:PutLogEvents; aws cloudtrail update-trail --name my-trail --cloud-watch-logs-log-group-arn <group ARN> --cloud-watch-logs-role-arn <role ARN>.",
        "CLI: aws logs put-metric-filter --log-group-name trail-events --filter-name stop-logging --filter-pattern '{ $.eventName = \"StopLogging\" }' --metric-transformations metricName=StopLogging,metricNamespace=LabAlerts,metricValue=1",
        "CLI: aws sns create-topic --name trail-alerts; aws sns subscribe --topic-arn <topic> --protocol email --notification-endpoint you@example.com (confirm it from the mail cairn writes to its mailbox folder), or an SQS queue.",
        "CLI: aws cloudwatch put-metric-alarm --alarm-name trail-stopped --namespace LabAlerts --metric-name StopLogging --statistic Sum --period 300 --evaluation-periods 1 --threshold 1 --comparison-operator GreaterThanOrEqualToThreshold --alarm-actions <topic>",
        "Stop a trail (a second, scratch trail is fine): aws cloudtrail stop-logging --name scratch-trail; wait for the alarm (aws cloudwatch describe-alarms shows StateValue ALARM).",
        "cairn lab check alert-on-api",
    ],
    questions: &[],
    start: nothing,
    grade: grade_alert_on_api,
};

/// A StopLogging record as CloudTrail writes it, in the learner's account.
fn stop_logging_record(account: &str, region: &str) -> Value {
    json!({
        "eventVersion": "1.11",
        "userIdentity": {"type": "IAMUser", "principalId": "AIDAEXAMPLEEXAMPLE", "arn": format!("arn:aws:iam::{account}:user/someone"), "accountId": account, "accessKeyId": "AKIAEXAMPLEEXAMPLE", "userName": "someone"},
        "eventTime": "2024-01-01T00:00:00Z",
        "eventSource": "cloudtrail.amazonaws.com",
        "eventName": "StopLogging",
        "awsRegion": region,
        "sourceIPAddress": "192.0.2.10",
        "userAgent": "aws-cli/1.36.0",
        "requestParameters": {"name": format!("arn:aws:cloudtrail:{region}:{account}:trail/my-trail")},
        "responseElements": null,
        "requestID": "8f3b2c1d-0000-4000-8000-000000000001",
        "eventID": "8f3b2c1d-0000-4000-8000-000000000002",
        "readOnly": false,
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": account,
        "eventCategory": "Management"
    })
}

/// The same record for another call (what a filter must not count).
fn other_call(account: &str, region: &str, source: &str, name: &str) -> Value {
    let mut r = stop_logging_record(account, region);
    r["eventSource"] = json!(source);
    r["eventName"] = json!(name);
    r["requestParameters"] = json!({});
    r
}

fn log_group_name(arn: &str) -> String {
    arn.split(":log-group:")
        .nth(1)
        .unwrap_or(arn)
        .trim_end_matches(":*")
        .to_owned()
}

fn grade_alert_on_api(ctx: &Ctx, p: &mut Progress) -> Vec<Criterion> {
    let trails = match trails_or(ctx, "A trail sends its events to CloudWatch Logs") {
        Ok(t) => t,
        Err(c) => return vec![c],
    };
    let region = ctx.who.region.clone();
    let account = ctx.account().to_owned();
    let to_cwl: Vec<&Trail> = trails
        .iter()
        .filter(|t| t.log_group_arn.is_some() && t.logging)
        .collect();
    let stop = stop_logging_record(&account, &region).to_string();
    let describe = other_call(
        &account,
        &region,
        "cloudtrail.amazonaws.com",
        "DescribeTrails",
    )
    .to_string();
    let start = other_call(
        &account,
        &region,
        "cloudtrail.amazonaws.com",
        "StartLogging",
    )
    .to_string();
    // (group, filter name, namespace, metric) of each filter counting StopLogging and only it.
    let mut counting: Vec<(String, String, String, String)> = Vec::new();
    for t in &to_cwl {
        let group = log_group_name(t.log_group_arn.as_deref().unwrap_or_default());
        let Ok(d) = ctx.call(
            "logs",
            "DescribeMetricFilters",
            json!({"logGroupName": group}),
        ) else {
            continue;
        };
        for f in d
            .get("metricFilters")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
        {
            let pattern = f
                .get("filterPattern")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let matches = |msg: &str| {
                ctx.call(
                    "logs",
                    "TestMetricFilter",
                    json!({"filterPattern": pattern, "logEventMessages": [msg]}),
                )
                .ok()
                .and_then(|r| {
                    r.get("matches")
                        .and_then(Value::as_array)
                        .map(|m| !m.is_empty())
                })
                .unwrap_or(false)
            };
            if matches(&stop) && !matches(&describe) && !matches(&start) {
                for m in f
                    .get("metricTransformations")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default()
                {
                    counting.push((
                        group.clone(),
                        f.get("filterName")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_owned(),
                        m.get("metricNamespace")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_owned(),
                        m.get("metricName")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_owned(),
                    ));
                }
            }
        }
    }
    let alarms: Vec<Value> = ctx
        .call("monitoring", "DescribeAlarms", json!({"MaxRecords": 100}))
        .ok()
        .and_then(|d| d.get("MetricAlarms").and_then(Value::as_array).cloned())
        .unwrap_or_default();
    let on_metric: Vec<&Value> = alarms
        .iter()
        .filter(|a| {
            counting.iter().any(|(_, _, ns, m)| {
                a.get("Namespace").and_then(Value::as_str) == Some(ns)
                    && a.get("MetricName").and_then(Value::as_str) == Some(m)
            })
        })
        .collect();
    let topics_of = |a: &Value| -> Vec<String> {
        a.get("AlarmActions")
            .and_then(Value::as_array)
            .map(|acts| {
                acts.iter()
                    .filter_map(Value::as_str)
                    .filter(|s| s.starts_with("arn:aws:sns:"))
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    let notifying: Vec<&Value> = on_metric
        .iter()
        .copied()
        .filter(|a| !topics_of(a).is_empty())
        .collect();
    let confirmed = |topic: &str| -> bool {
        ctx.call(
            "sns",
            "ListSubscriptionsByTopic",
            json!({"TopicArn": topic}),
        )
        .ok()
        .is_some_and(|d| {
            read::elements(read::xml_of(&d), "SubscriptionArn")
                .iter()
                .any(|a| a.starts_with("arn:aws:sns:"))
        })
    };
    let heard: Vec<&Value> = notifying
        .iter()
        .copied()
        .filter(|a| topics_of(a).iter().any(|t| confirmed(t)))
        .collect();
    let started = p.started_ms.div_euclid(1000) * 1000;
    let fired = |a: &Value| -> bool {
        let name = a
            .get("AlarmName")
            .and_then(Value::as_str)
            .unwrap_or_default();
        ctx.call(
            "monitoring",
            "DescribeAlarmHistory",
            json!({"AlarmName": name, "HistoryItemType": "StateUpdate", "StartDate": started as f64 / 1000.0}),
        )
        .ok()
        .and_then(|d| d.get("AlarmHistoryItems").and_then(Value::as_array).cloned())
        .unwrap_or_default()
        .iter()
        .any(|h| h.get("HistorySummary").and_then(Value::as_str).is_some_and(|s| s.ends_with("to ALARM")))
    };
    let name_of = |a: &Value| {
        a.get("AlarmName")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    in_order(vec![
        (
            "A trail sends its events to CloudWatch Logs",
            &|| match to_cwl.first() {
                Some(t) if t.cwl_delivered_ms.is_none() => Criterion::fail(
                    "A trail sends its events to CloudWatch Logs",
                    format!(
                        "Trail {} is set to deliver to log group {} but has delivered nothing there yet.",
                        t.name,
                        log_group_name(t.log_group_arn.as_deref().unwrap_or_default())
                    ),
                    "Make a call and wait a moment; if nothing arrives, the role must let cloudtrail.amazonaws.com assume it and allow logs:CreateLogStream and logs:PutLogEvents on the group.",
                ),
                Some(t) => Criterion::pass(
                    "A trail sends its events to CloudWatch Logs",
                    format!(
                        "Trail {} delivers to log group {}.",
                        t.name,
                        log_group_name(t.log_group_arn.as_deref().unwrap_or_default())
                    ),
                ),
                None => Criterion::fail(
                    "A trail sends its events to CloudWatch Logs",
                    "No logging trail delivers to a CloudWatch Logs log group.",
                    "aws cloudtrail update-trail --name my-trail --cloud-watch-logs-log-group-arn <group ARN> --cloud-watch-logs-role-arn <role ARN> (or the trail's page → CloudWatch Logs → Edit).",
                ),
            },
        ),
        (
            "A metric filter counts StopLogging calls",
            &|| match counting.first() {
                Some((group, filter, ns, m)) => Criterion::pass(
                    "A metric filter counts StopLogging calls",
                    format!("Filter {filter} on {group} counts them as {ns}/{m}."),
                ),
                None => Criterion::fail(
                    "A metric filter counts StopLogging calls",
                    "No metric filter on the trail's log group matches a StopLogging record and only it.",
                    "aws logs put-metric-filter --log-group-name <group> --filter-name stop-logging --filter-pattern '{ $.eventName = \"StopLogging\" }' --metric-transformations metricName=StopLogging,metricNamespace=LabAlerts,metricValue=1",
                ),
            },
        ),
        (
            "An alarm on that metric notifies an SNS topic",
            &|| match notifying.first() {
                Some(a) => Criterion::pass(
                    "An alarm on that metric notifies an SNS topic",
                    format!("Alarm {} notifies {}.", name_of(a), topics_of(a).join(", ")),
                ),
                None if !on_metric.is_empty() => Criterion::fail(
                    "An alarm on that metric notifies an SNS topic",
                    format!(
                        "Alarm {} has no SNS topic among its alarm actions.",
                        name_of(on_metric[0])
                    ),
                    "Add the topic: put-metric-alarm again with --alarm-actions <topic ARN>.",
                ),
                None => Criterion::fail(
                    "An alarm on that metric notifies an SNS topic",
                    "No alarm watches the filter's metric.",
                    "aws cloudwatch put-metric-alarm --alarm-name trail-stopped --namespace <ns> --metric-name <metric> --statistic Sum --period 300 --evaluation-periods 1 --threshold 1 --comparison-operator GreaterThanOrEqualToThreshold --alarm-actions <topic ARN>",
                ),
            },
        ),
        (
            "The topic has a confirmed subscription",
            &|| match heard.first() {
                Some(a) => Criterion::pass(
                    "The topic has a confirmed subscription",
                    format!("Someone hears alarm {}.", name_of(a)),
                ),
                None => Criterion::fail(
                    "The topic has a confirmed subscription",
                    "The alarm's topic has no confirmed subscription: nobody would hear it.",
                    "aws sns subscribe --topic-arn <topic> --protocol email --notification-endpoint you@example.com, then confirm it (the mail is in cairn's mailbox folder), or subscribe an SQS queue.",
                ),
            },
        ),
        (
            "The alarm fired since the lab started",
            &|| match heard.iter().find(|a| fired(a)) {
                Some(a) => Criterion::pass(
                    "The alarm fired since the lab started",
                    format!("Alarm {} went to ALARM.", name_of(a)),
                ),
                None => Criterion::fail(
                    "The alarm fired since the lab started",
                    "The alarm has not gone to ALARM since the lab started.",
                    "Stop a trail (aws cloudtrail stop-logging --name scratch-trail) and wait for the delivery to CloudWatch Logs and the alarm's period.",
                ),
            },
        ),
    ])
}

// --- realtime-function ----------------------------------------------------------------------

const REALTIME_FUNCTION: Exercise = Exercise {
    name: "realtime-function",
    title: "Process events in real time with a function",
    goal: "Run a Lambda function for each write API call CloudTrail records, as it happens: an EventBridge rule on the default bus matching \"AWS API Call via CloudTrail\" events targets the function, and the function has run for one.",
    steps: &[
        "Write a handler (Python: def handler(event, context): print(event['detail']['eventName'])), zip it and create the function: aws lambda create-function --function-name on-api-call --runtime python3.12 --handler app.handler --role <role ARN> --zip-file fileb://app.zip",
        "CLI: aws events put-rule --name api-calls --event-pattern '{\"detail-type\": [\"AWS API Call via CloudTrail\"]}'; aws events put-targets --rule api-calls --targets Id=1,Arn=<function ARN>; aws lambda add-permission --function-name on-api-call --statement-id events --action lambda:InvokeFunction --principal events.amazonaws.com --source-arn <rule ARN>",
        "Console: Functions → the function shows its runs; EventBridge rules are on the Rules page.",
        "Make a write call (aws s3 mb s3://lab-realtime-<your-id>) and look for the function's output: aws logs tail /aws/lambda/on-api-call",
        "cairn lab check realtime-function",
    ],
    questions: &[],
    start: nothing,
    grade: grade_realtime_function,
};

/// An "AWS API Call via CloudTrail" event as EventBridge delivers it.
fn api_call_event(account: &str, region: &str, source: &str, name: &str) -> Value {
    let detail = other_call(account, region, source, name);
    json!({
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": "AWS API Call via CloudTrail",
        "source": format!("aws.{}", source.trim_end_matches(".amazonaws.com")),
        "account": account,
        "time": "2024-01-01T00:00:00Z",
        "region": region,
        "resources": [],
        "detail": detail,
    })
}

fn grade_realtime_function(ctx: &Ctx, p: &mut Progress) -> Vec<Criterion> {
    let account = ctx.account().to_owned();
    let region = ctx.who.region.clone();
    let functions: Result<Vec<Value>, AwsError> =
        ctx.call("lambda", "ListFunctions", json!({})).map(|d| {
            d.get("Functions")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        });
    let samples: Vec<String> = [
        ("s3.amazonaws.com", "CreateBucket"),
        ("iam.amazonaws.com", "CreateUser"),
        ("cloudtrail.amazonaws.com", "StopLogging"),
        ("sqs.amazonaws.com", "CreateQueue"),
    ]
    .iter()
    .map(|(s, n)| api_call_event(&account, &region, s, n).to_string())
    .collect();
    // (rule, function name) of each enabled default-bus rule matching an API call event and
    // targeting a function.
    let mut wired: Vec<(String, String)> = Vec::new();
    let rules = ctx
        .call("events", "ListRules", json!({}))
        .ok()
        .and_then(|d| d.get("Rules").and_then(Value::as_array).cloned())
        .unwrap_or_default();
    for r in &rules {
        let name = r.get("Name").and_then(Value::as_str).unwrap_or_default();
        let (Some(pattern), Some("ENABLED")) = (
            r.get("EventPattern").and_then(Value::as_str),
            r.get("State").and_then(Value::as_str),
        ) else {
            continue;
        };
        let matches = samples.iter().any(|e| {
            ctx.call(
                "events",
                "TestEventPattern",
                json!({"EventPattern": pattern, "Event": e}),
            )
            .ok()
            .and_then(|r| r.get("Result").and_then(Value::as_bool))
                == Some(true)
        });
        if !matches {
            continue;
        }
        let targets = ctx
            .call("events", "ListTargetsByRule", json!({"Rule": name}))
            .ok()
            .and_then(|d| d.get("Targets").and_then(Value::as_array).cloned())
            .unwrap_or_default();
        for t in targets {
            if let Some(f) = t
                .get("Arn")
                .and_then(Value::as_str)
                .and_then(|a| a.split(":function:").nth(1))
            {
                wired.push((name.to_owned(), f.split(':').next().unwrap_or(f).to_owned()));
            }
        }
    }
    let started = p.started_ms.div_euclid(1000) * 1000;
    let ran = |function: &str| -> bool {
        let group = functions
            .as_ref()
            .ok()
            .and_then(|fs| {
                fs.iter()
                    .find(|f| f.get("FunctionName").and_then(Value::as_str) == Some(function))
            })
            .and_then(|f| f.pointer("/LoggingConfig/LogGroup").and_then(Value::as_str))
            .map_or_else(|| format!("/aws/lambda/{function}"), str::to_owned);
        ctx.call(
            "logs",
            "FilterLogEvents",
            json!({"logGroupName": group, "startTime": started, "filterPattern": "\"START RequestId\"", "limit": 1}),
        )
        .ok()
        .and_then(|d| d.get("events").and_then(Value::as_array).map(|e| !e.is_empty()))
        .unwrap_or(false)
    };
    in_order(vec![
        ("A function exists", &|| match &functions {
            Ok(fs) if !fs.is_empty() => Criterion::pass(
                "A function exists",
                format!(
                    "{} function(s), {} among them.",
                    fs.len(),
                    fs[0]
                        .get("FunctionName")
                        .and_then(Value::as_str)
                        .unwrap_or("?")
                ),
            ),
            Ok(_) => Criterion::fail(
                "A function exists",
                "The account has no Lambda function.",
                "aws lambda create-function --function-name on-api-call --runtime python3.12 --handler app.handler --role <role ARN> --zip-file fileb://app.zip",
            ),
            Err(e) => Criterion::fail(
                "A function exists",
                format!("The functions could not be listed: {}", e.message),
                "Check as the account's root user or an administrator.",
            ),
        }),
        (
            "An EventBridge rule sends API calls to it",
            &|| match wired.first() {
                Some((rule, f)) => Criterion::pass(
                    "An EventBridge rule sends API calls to it",
                    format!("Rule {rule} sends them to {f}."),
                ),
                None => Criterion::fail(
                    "An EventBridge rule sends API calls to it",
                    "No enabled rule on the default bus matches \"AWS API Call via CloudTrail\" events and targets a function.",
                    "aws events put-rule --name api-calls --event-pattern '{\"detail-type\": [\"AWS API Call via CloudTrail\"]}', then aws events put-targets --rule api-calls --targets Id=1,Arn=<function ARN>",
                ),
            },
        ),
        (
            "The function ran for an event since the lab started",
            &|| match wired.iter().find(|(_, f)| ran(f)) {
                Some((_, f)) => Criterion::pass(
                    "The function ran for an event since the lab started",
                    format!("{f} ran."),
                ),
                None => Criterion::fail(
                    "The function ran for an event since the lab started",
                    "The function's log group shows no run since the lab started.",
                    "Make a write call the rule matches (aws s3 mb s3://lab-realtime-<your-id>); if it still does not run, check that lambda add-permission lets events.amazonaws.com invoke it.",
                ),
            },
        ),
    ])
}

// --- best-practices -------------------------------------------------------------------------

const BEST_PRACTICES: Exercise = Exercise {
    name: "best-practices",
    title: "Apply the best practices",
    goal: "Bring a trail up to the CIS AWS Foundations Benchmark: multi-region, logging all management events, log file validation on, log files encrypted with a KMS key, delivering to CloudWatch Logs, its bucket not public; then see it deliver a log file and a digest.",
    steps: &[
        "cairn checks (or the console's Security → Best-practice checks) lists each control with its fix.",
        "CLI: aws cloudtrail update-trail --name my-trail --is-multi-region-trail --enable-log-file-validation --kms-key-id <key ARN or alias> (the key policy must let cloudtrail.amazonaws.com GenerateDataKey*)",
        "CLI: aws cloudtrail update-trail --name my-trail --cloud-watch-logs-log-group-arn <group ARN> --cloud-watch-logs-role-arn <role ARN>",
        "Keep the bucket private: no policy statement or ACL grant for everyone.",
        "Wait for a delivery and the next hourly digest, then: cairn lab check best-practices",
    ],
    questions: &[],
    start: nothing,
    grade: grade_best_practices,
};

/// The controls the exercise asks for.
const CONTROLS: [&str; 5] = [
    "CloudTrail.1",
    "CloudTrail.2",
    "CloudTrail.4",
    "CloudTrail.5",
    "CloudTrail.6",
];

fn grade_best_practices(ctx: &Ctx, p: &mut Progress) -> Vec<Criterion> {
    let outcomes = crate::admin::checks::run(ctx.app, ctx.who);
    let mut out: Vec<Criterion> = CONTROLS
        .iter()
        .map(|id| {
            let name = id.to_string();
            match outcomes.iter().find(|o| o.control == *id) {
                Some(o) if o.status == "PASSED" => {
                    Criterion::pass(format!("{id}: {}", o.title), o.reason.clone())
                }
                Some(o) => Criterion::fail(
                    format!("{id}: {}", o.title),
                    o.reason.clone(),
                    o.fix.clone(),
                ),
                None => Criterion::fail(
                    name,
                    "The control could not be evaluated.",
                    "Run cairn checks to see why.",
                ),
            }
        })
        .collect();
    let started = p.started_ms.div_euclid(1000) * 1000;
    let name = "A trail like this delivered a log file and a digest since the lab started";
    let trails = read::trails(ctx).unwrap_or_default();
    let good = trails.iter().find(|t| {
        t.logging
            && t.multi_region
            && t.validation
            && t.kms_key.is_some()
            && t.delivered_ms.is_some_and(|d| d >= started)
            && t.digest_delivered_ms.is_some_and(|d| d >= started)
    });
    out.push(match good {
        Some(t) => Criterion::pass(name, format!("Trail {} delivered both.", t.name)),
        None => Criterion::fail(
            name,
            "No multi-region trail with validation and a KMS key has delivered both a log file and a digest since the lab started.",
            "Make a few calls and wait for the next delivery and the next hourly digest.",
        ),
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_group_name_is_read_from_its_arn() {
        assert_eq!(
            log_group_name("arn:aws:logs:us-east-1:111122223333:log-group:trail-events:*"),
            "trail-events"
        );
        assert_eq!(
            log_group_name("arn:aws:logs:us-east-1:111122223333:log-group:a/b"),
            "a/b"
        );
    }

    #[test]
    fn a_criterion_after_a_failed_one_is_not_judged() {
        let c = in_order(vec![
            ("one", &|| Criterion::pass("one", "ok")),
            ("two", &|| Criterion::fail("two", "missing", "do it")),
            ("three", &|| panic!("judged after a failure")),
        ]);
        assert_eq!(c.len(), 3);
        assert!(c[0].passed && !c[1].passed && !c[2].passed);
        assert!(c[2].explanation.contains("\"two\""));
    }
}
