//! The recorder: turns a served call into its CloudTrail record and makes it durable.

use cairn_model::record::EVENT_VERSION;
use cairn_model::{ApiCallRecord, EventCategory, Principal, RecordResource, timefmt};
use cairn_store::journal::{Entry, EntryKind};
use cairn_wire::AwsError;
use serde_json::Value;

use crate::app::App;

/// What the service front knows about a call, for its record.
#[derive(Clone, Debug)]
pub struct CallFacts {
    pub event_source: String,
    pub event_name: String,
    pub read_only: bool,
    pub category: EventCategory,
    pub request_parameters: Option<Value>,
    pub response_elements: Option<Value>,
    pub additional_event_data: Option<Value>,
    pub resources: Vec<RecordResource>,
    /// Another account that also gets the record (a cross-account AssumeRole is recorded in the
    /// caller's account and in the role's, with one `sharedEventID`).
    pub shared_with: Option<String>,
    /// The failure to record instead of the answer's error (see
    /// [`crate::pipeline::Details::recorded_error`]).
    pub recorded_error: Option<RecordedError>,
}

/// A failure as a record states it: `errorCode` and `errorMessage`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedError {
    pub code: String,
    pub message: String,
}

/// What the edge knows about a call.
#[derive(Clone, Debug)]
pub struct CallContext {
    pub principal: Principal,
    pub recipient_account: String,
    pub region: String,
    pub source_ip: String,
    pub user_agent: Option<String>,
    pub request_id: String,
    /// The connection's TLS, for `tlsDetails` (`None` over plain HTTP).
    pub tls: Option<cairn_model::TlsDetails>,
    /// The AWS service that made this call on the principal's behalf (`s3.amazonaws.com`
    /// asking KMS for an object's data key): the record's `userIdentity.invokedBy`.
    pub invoked_by: Option<String>,
    /// The resource a service acts for (a trail), as policies see it in `aws:SourceArn`.
    pub source_arn: Option<String>,
    /// Made with a console session's credentials (`sessionCredentialFromConsole`).
    pub from_console: bool,
}

pub fn build_record(
    ctx: &CallContext,
    facts: CallFacts,
    error: Option<&AwsError>,
    now_ms: i64,
) -> ApiCallRecord {
    let recorded = facts.recorded_error.or_else(|| {
        // JSON services answer AccessDeniedException; CloudTrail records every refusal as
        // AccessDenied.
        error.map(|e| RecordedError {
            code: match e.code.as_ref() {
                "AccessDeniedException" => "AccessDenied".to_owned(),
                other => other.to_owned(),
            },
            message: e.message.clone(),
        })
    });
    let failed = recorded.is_some();
    let (error_code, error_message) = match recorded {
        Some(r) => (Some(r.code), Some(r.message).filter(|m| !m.is_empty())),
        None => (None, None),
    };
    let mut user_identity = ctx.principal.user_identity();
    if let (Some(by), Value::Object(m)) = (&ctx.invoked_by, &mut user_identity) {
        m.entry("invokedBy")
            .or_insert_with(|| Value::String(by.clone()));
    }
    let mut r = ApiCallRecord {
        event_version: EVENT_VERSION,
        user_identity,
        event_time: timefmt::event_time(now_ms),
        event_source: facts.event_source,
        event_name: facts.event_name,
        aws_region: ctx.region.clone(),
        source_ip_address: ctx.source_ip.clone(),
        user_agent: ctx.user_agent.clone(),
        error_code,
        error_message,
        request_parameters: facts.request_parameters,
        // Failed calls have no response.
        response_elements: if failed {
            None
        } else {
            facts.response_elements
        },
        additional_event_data: facts.additional_event_data,
        request_id: ctx.request_id.clone(),
        event_id: cairn_model::ids::new_uuid(),
        read_only: facts.read_only,
        resources: facts.resources,
        event_type: "AwsApiCall",
        management_event: facts.category == EventCategory::Management,
        recipient_account_id: ctx.recipient_account.clone(),
        // A shared event, and every call an AWS service makes on its own: AWS gives those a
        // sharedEventID (every AWSService record in the real corpus has one, CloudTrail's
        // GetBucketAcl and GenerateDataKey included). So does the bucket owner's record of an
        // anonymous request (AWS's record of an anonymous S3 `PreflightRequest`, 2024-11-28,
        // requestID K5FWSE708GZHVRRS, has one).
        shared_event_id: (facts.shared_with.is_some()
            || matches!(
                ctx.principal,
                cairn_model::Principal::AwsService { .. } | cairn_model::Principal::Anonymous
            ))
        .then(cairn_model::ids::new_uuid),
        event_category: facts.category,
        tls_details: ctx.tls.clone(),
        session_credential_from_console: ctx.from_console,
    };
    r.enforce_size_limits();
    r
}

/// The copy of a record for the other account of a shared event: the caller appears as an
/// `AWSAccount`, as AWS writes it for the account that did not make the call.
pub fn shared_copy(record: &ApiCallRecord, account: &str) -> ApiCallRecord {
    let mut copy = record.clone();
    copy.event_id = cairn_model::ids::new_uuid();
    copy.recipient_account_id = account.to_owned();
    let ui = &record.user_identity;
    let principal_id = ui
        .get("principalId")
        .and_then(Value::as_str)
        .map(|p| p.split(':').next().unwrap_or(p).to_owned());
    copy.user_identity = serde_json::json!({
        "type": "AWSAccount",
        "principalId": principal_id,
        "accountId": ui.get("accountId"),
    });
    copy
}

/// A call's journal entries: its record in the caller's account, and the copy for the other
/// account of a shared event.
fn entries(
    ctx: &CallContext,
    facts: CallFacts,
    error: Option<&AwsError>,
    now_ms: i64,
) -> (String, Vec<Vec<u8>>) {
    let shared_with = facts.shared_with.clone();
    let record = build_record(ctx, facts, error, now_ms);
    let entry = |account: &str, r: &ApiCallRecord| {
        Entry {
            kind: EntryKind::Recorded,
            account: account.to_owned(),
            record: r.to_json_bytes(),
        }
        .encode()
    };
    let mut out = vec![entry(&ctx.recipient_account, &record)];
    if let Some(other) = shared_with {
        out.push(entry(&other, &shared_copy(&record, &other)));
    }
    (record.request_id, out)
}

/// Records a call and waits until its record is durable. An error here means the call must be
/// refused: audit fails closed.
pub async fn commit(
    app: &App,
    ctx: &CallContext,
    facts: CallFacts,
    error: Option<&AwsError>,
) -> Result<(), AwsError> {
    let (request_id, entries) = entries(ctx, facts, error, app.clock.now_millis());
    match app.journal.append(entries).wait().await {
        Ok(_) => Ok(()),
        Err(e) => {
            tracing::error!(error = %e, %request_id, "could not record call; refusing it");
            Err(AwsError::audit_unavailable())
        }
    }
}

/// Records an event that is not an API call (a console sign-in), given whole as its record's
/// JSON, for `account`, and waits until it is durable. An error means the event must be
/// treated as not having happened: audit fails closed.
pub async fn commit_event(app: &App, account: &str, record: Vec<u8>) -> Result<(), AwsError> {
    let entry = Entry {
        kind: EntryKind::Recorded,
        account: account.to_owned(),
        record,
    }
    .encode();
    match app.journal.append(vec![entry]).wait().await {
        Ok(_) => Ok(()),
        Err(e) => {
            tracing::error!(error = %e, "could not record an event; refusing what caused it");
            Err(AwsError::audit_unavailable())
        }
    }
}

/// Records a call without waiting for the record to be durable: for internal calls, whose
/// durability the enclosing call's own record covers (the journal is ordered, and fails closed
/// for everything after a failure).
pub fn enqueue(
    app: &App,
    ctx: &CallContext,
    facts: CallFacts,
    error: Option<&AwsError>,
) -> Result<(), AwsError> {
    let (_, entries) = entries(ctx, facts, error, app.clock.now_millis());
    // Dropping the pending append leaves it queued: the writer commits it in order.
    drop(app.journal.append(entries));
    if app.journal.failure().is_some() {
        return Err(AwsError::audit_unavailable());
    }
    Ok(())
}
