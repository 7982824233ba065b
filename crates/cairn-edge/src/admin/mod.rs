//! cairn's own calls on its endpoint, beside AWS's: signed with SigV4 for the service name
//! `cairn`, answered in JSON, for an account's root user only.
//!
//! - `Cairn.Import`: `cairn import` loads records into a running instance, each into event
//!   history at once.
//! - `Cairn.AdvanceClock`: with `cairn serve --test-clock`, moves time forward and runs every
//!   journal consumer whose time has come (trail delivery, digests) before answering, so tests
//!   reach the next delivery or digest period without sleeping.
//! - `Cairn.InjectFault`: with `cairn serve --test-faults`, makes a part of cairn fail as a
//!   broken disk would (`{"Fault": "JournalWrite"}`: the next journal commit), so tests can
//!   check that a call refused for it left no trace.
//! - `Cairn.ListFindings`: the detection engine's findings of the caller's account, for
//!   `cairn findings`.
//! - `Cairn.RunChecks`: the account's best-practice checks (`checks`: Security Hub's CIS
//!   controls for CloudTrail, CloudWatch and KMS), read through the services' APIs as the
//!   root user, for `cairn checks`.
//! - `Cairn.ListLabs`, `Cairn.StartLab`, `Cairn.CheckLab`, `Cairn.LabHint`, `Cairn.ResetLab`:
//!   the labs (`labs`) for `cairn lab`: their list with the account's progress, starting one
//!   (its set-up recorded as the root user's calls), grading it (reads not recorded), the next
//!   step's hint, forgetting progress.
//!
//! These calls administer cairn itself; AWS has no such API, so they are not recorded as
//! CloudTrail events (the records they load are).

pub mod checks;
pub mod labs;

use std::sync::Arc;

use bytes::Bytes;
use cairn_import::Importer;
use cairn_model::Principal;
use cairn_wire::{AwsError, Protocol};
use http::{HeaderMap, Response};
use http_body_util::Full;
use serde_json::{Value, json};

use crate::app::App;
use crate::edge::Call;
use crate::edge::respond::{error_response, json_response};

/// The signing name of cairn's own calls.
pub const SIGNING_NAME: &str = "cairn";

/// The largest batch of records one call may carry, as its JSON body.
pub const MAX_BATCH_BYTES: usize = 900 * 1024;

/// The test clock and what to run when it moves.
pub struct TestClockControl {
    pub clock: cairn_model::TestClock,
    /// Runs every journal consumer whose time has come (blocking); says what it did.
    pub run_due: Box<dyn Fn() -> Value + Send + Sync>,
}

/// What `cairn serve` lets tests do (loopback listeners only).
#[derive(Clone, Default)]
pub struct TestControls {
    /// `--test-clock`.
    pub clock: Option<Arc<TestClockControl>>,
    /// `--test-faults`.
    pub faults: bool,
}

pub async fn serve(
    app: Arc<App>,
    call: Call,
    headers: &HeaderMap,
    body: Bytes,
    tests: TestControls,
) -> Response<Full<Bytes>> {
    let protocol = Protocol::Json11;
    let rid = call.request_id.clone();
    let target = crate::pipeline::codec::json::target_of(headers);
    if !matches!(
        target,
        "Cairn.Import"
            | "Cairn.AdvanceClock"
            | "Cairn.InjectFault"
            | "Cairn.ListFindings"
            | "Cairn.RunChecks"
            | "Cairn.ListLabs"
            | "Cairn.StartLab"
            | "Cairn.CheckLab"
            | "Cairn.LabHint"
            | "Cairn.ResetLab"
    ) {
        let e = AwsError::client(
            "UnknownOperationException",
            format!("cairn has no operation '{target}'"),
        );
        return error_response(&e, protocol, &rid);
    }
    // Administering an instance is its accounts' owners' act.
    let Principal::Root { account, .. } = &call.principal else {
        let e = AwsError::new(
            403,
            "AccessDeniedException",
            format!("Only an account's root user may call {target}."),
        );
        return error_response(&e, protocol, &rid);
    };
    if target == "Cairn.InjectFault" {
        return match inject_fault(&app, tests.faults, &body) {
            Ok(v) => json_response(v.to_string().into_bytes(), protocol, &rid),
            Err(e) => error_response(&e, protocol, &rid),
        };
    }
    if target == "Cairn.ListFindings" {
        let (app, account) = (Arc::clone(&app), account.to_string());
        let listed =
            tokio::task::spawn_blocking(move || list_findings(&app, &account, &body)).await;
        return match listed {
            Ok(Ok(v)) => json_response(v.to_string().into_bytes(), protocol, &rid),
            Ok(Err(e)) => error_response(&e, protocol, &rid),
            Err(_) => error_response(
                &AwsError::internal("listing findings failed"),
                protocol,
                &rid,
            ),
        };
    }
    // Checks and labs read the account as its root user, through the services' APIs; those
    // reads are not recorded (a lab's set-up is: see `lab_call`).
    let as_caller = || crate::pipeline::internal::Internal {
        actor: crate::pipeline::internal::Actor::Caller(call.principal.clone()),
        account: account.to_string(),
        region: call.region.clone(),
        source_arn: None,
        cause: rid.clone(),
        durability: crate::pipeline::Durability::Unrecorded,
    };
    if target == "Cairn.RunChecks" {
        let who = as_caller();
        let app = Arc::clone(&app);
        let ran = tokio::task::spawn_blocking(move || checks::run(&app, &who)).await;
        return match ran {
            Ok(outcomes) => {
                let v = json!({ "Controls": outcomes });
                json_response(v.to_string().into_bytes(), protocol, &rid)
            }
            Err(_) => error_response(&AwsError::internal("the checks failed"), protocol, &rid),
        };
    }
    if target.contains("Lab") {
        let who = as_caller();
        let (app, target) = (Arc::clone(&app), target.to_owned());
        let done = tokio::task::spawn_blocking(move || lab_call(&app, who, &target, &body)).await;
        return match done {
            Ok(Ok(v)) => json_response(v.to_string().into_bytes(), protocol, &rid),
            Ok(Err(e)) => error_response(&e, protocol, &rid),
            Err(_) => error_response(&AwsError::internal("the lab call failed"), protocol, &rid),
        };
    }
    if target == "Cairn.AdvanceClock" {
        return match advance_clock(tests.clock, &body).await {
            Ok(v) => json_response(v.to_string().into_bytes(), protocol, &rid),
            Err(e) => error_response(&e, protocol, &rid),
        };
    }
    let records = match serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("Records").cloned())
        .and_then(|r| serde_json::from_value::<Vec<String>>(r).ok())
    {
        Some(r) => r,
        None => {
            let e = AwsError::client(
                "SerializationException",
                "Expected {\"Records\": [<record JSON text>, …]}",
            );
            return error_response(&e, protocol, &rid);
        }
    };
    let importer = Importer {
        journal: app.journal.clone(),
        history: Arc::clone(&app.history),
        account: account.to_string(),
    };
    let done = tokio::task::spawn_blocking(move || importer.import_records(records)).await;
    match done {
        Ok(Ok(r)) => {
            let body =
                json!({"Records": r.records, "Imported": r.imported, "Duplicates": r.duplicates});
            json_response(body.to_string().into_bytes(), protocol, &rid)
        }
        Ok(Err(e)) => {
            tracing::error!(error = %e, "import into the journal failed");
            error_response(&AwsError::audit_unavailable(), protocol, &rid)
        }
        Err(_) => error_response(
            &AwsError::internal("the import failed unexpectedly"),
            protocol,
            &rid,
        ),
    }
}

/// The caller's account's findings, oldest first: `{"After": seq, "MaxResults": n}` →
/// `{"Findings": [{…, "seq": n}], "NextAfter": seq}` (`NextAfter` when more may follow).
fn list_findings(app: &App, account: &str, body: &[u8]) -> Result<Value, AwsError> {
    let ask: Value = if body.is_empty() {
        json!({})
    } else {
        serde_json::from_slice(body)
            .map_err(|_| AwsError::client("SerializationException", "Expected a JSON object"))?
    };
    let after = ask.get("After").and_then(Value::as_i64).unwrap_or(0);
    let max = ask
        .get("MaxResults")
        .and_then(Value::as_u64)
        .unwrap_or(1000)
        .clamp(1, 10_000) as usize;
    let kept = app
        .detections
        .list(Some(account), after, max)
        .map_err(|e| {
            tracing::error!(error = %e, "reading findings");
            AwsError::new(
                503,
                "ServiceUnavailable",
                "The findings cannot be read now.",
            )
        })?;
    let next = (kept.len() == max)
        .then(|| kept.last().map(|k| k.seq))
        .flatten();
    let findings: Vec<Value> = kept
        .iter()
        .map(|k| {
            let mut v = serde_json::to_value(&k.finding).unwrap_or_default();
            v["seq"] = json!(k.seq);
            v
        })
        .collect();
    Ok(json!({"Findings": findings, "NextAfter": next}))
}

/// A lab call: `{"Lab": name?, "Answers": {id: value}?}` (`Lab` required to start one).
fn lab_call(
    app: &App,
    mut who: crate::pipeline::internal::Internal,
    target: &str,
    body: &[u8],
) -> Result<Value, AwsError> {
    let ask: Value = if body.is_empty() {
        json!({})
    } else {
        serde_json::from_slice(body)
            .map_err(|_| AwsError::client("SerializationException", "Expected a JSON object"))?
    };
    let name = ask.get("Lab").and_then(Value::as_str).map(str::to_owned);
    let now_ms = app.clock.now_millis();
    if target == "Cairn.StartLab" {
        // A lab's set-up changes the account: recorded, as the caller's calls.
        who.durability = crate::pipeline::Durability::Wait;
    }
    let ctx = labs::Ctx {
        app,
        who: &who,
        now_ms,
    };
    match target {
        "Cairn.ListLabs" => labs::list(&ctx),
        "Cairn.StartLab" => {
            let name = name.ok_or_else(|| {
                AwsError::client(
                    "ValidationException",
                    "Name the lab to start: {\"Lab\": name}.",
                )
            })?;
            labs::start(&ctx, &name)
        }
        "Cairn.CheckLab" => {
            let answers: Vec<(String, String)> = match ask.get("Answers") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Object(m)) => m
                    .iter()
                    .map(|(k, v)| {
                        v.as_str()
                            .map(|s| (k.clone(), s.to_owned()))
                            .ok_or_else(|| {
                                AwsError::client("ValidationException", "Each answer is a string.")
                            })
                    })
                    .collect::<Result<_, _>>()?,
                Some(_) => {
                    return Err(AwsError::client(
                        "ValidationException",
                        "Answers is an object of question id to answer.",
                    ));
                }
            };
            labs::check(&ctx, name.as_deref(), &answers)
        }
        "Cairn.LabHint" => labs::hint(&ctx, name.as_deref()),
        _ => labs::reset(&ctx, name.as_deref()),
    }
}

/// Arms the fault `{"Fault": name}` names.
fn inject_fault(app: &App, allowed: bool, body: &[u8]) -> Result<Value, AwsError> {
    if !allowed {
        return Err(AwsError::client(
            "UnsupportedOperationException",
            "This instance takes no injected faults: start cairn serve with --test-faults.",
        ));
    }
    let fault = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("Fault").and_then(Value::as_str).map(str::to_owned));
    match fault.as_deref() {
        Some("JournalWrite") => {
            tracing::warn!("fault injected: the next journal commit fails");
            app.journal.fail_next_write();
            Ok(json!({"Fault": "JournalWrite"}))
        }
        _ => Err(AwsError::client(
            "ValidationException",
            "Expected {\"Fault\": \"JournalWrite\"}.",
        )),
    }
}

/// Moves the test clock forward by `{"Seconds": n}` and runs what became due.
async fn advance_clock(
    control: Option<Arc<TestClockControl>>,
    body: &[u8],
) -> Result<Value, AwsError> {
    let Some(control) = control else {
        return Err(AwsError::client(
            "UnsupportedOperationException",
            "This instance keeps real time: start cairn serve with --test-clock to move it.",
        ));
    };
    let seconds = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("Seconds").and_then(Value::as_f64))
        .filter(|s| s.is_finite() && *s >= 0.0 && *s <= 10.0 * 365.0 * 86_400.0)
        .ok_or_else(|| {
            AwsError::client(
                "ValidationException",
                "Expected {\"Seconds\": n} with 0 <= n <= ten years: time only moves forward.",
            )
        })?;
    control.clock.advance_millis((seconds * 1000.0) as i64);
    let c = Arc::clone(&control);
    let ran = tokio::task::spawn_blocking(move || (c.run_due)())
        .await
        .map_err(|_| AwsError::internal("the consumers' round failed unexpectedly"))?;
    use cairn_model::Clock as _;
    Ok(json!({
        "Now": control.clock.now_millis(),
        "OffsetSeconds": control.clock.offset_millis() / 1000,
        "Ran": ran,
    }))
}
