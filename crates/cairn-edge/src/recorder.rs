//! The recorder: turns a served call into its CloudTrail record and makes it durable.
//!
//! Beside the record, a call's journal entry keeps how it was answered (status, bytes sent,
//! times: [`Served`]) for consumers that need more than a record says (S3's server access
//! logs); the record itself is what AWS writes, no more. An answer never goes out before its
//! record is durable, so the times run to when the entry is made: the answer is ready, and
//! only the wait for the journal and the sending of it are left out.

use cairn_model::record::EVENT_VERSION;
use cairn_model::{ApiCallRecord, EventCategory, Principal, RecordResource, timefmt};
use std::time::Instant;

use cairn_store::journal::{Entry, EntryKind, Served};
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
    /// What the service knows of its answer, for the entry (never the record).
    pub answer: AnswerFacts,
}

/// What a service knows of its answer beyond the record: kept in the call's journal entry
/// ([`Served`]) for S3's server access log.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AnswerFacts {
    /// The HTTP status of a successful answer, when the service sets its own (S3's 206 for
    /// a range, its 204s); a failure's is its error's, anything else's 200.
    pub status: Option<u16>,
    /// The answer's body bytes.
    pub bytes_sent: Option<u64>,
    /// The size of the object the call was about (the whole object, of which a range may
    /// have been sent).
    pub object_size: Option<u64>,
}

/// When a request arrived, and when its body had been read (unknown for a body read while
/// the call runs), measured on the machine's monotonic clock, not the injected one: these
/// are durations, for the access log's times.
#[derive(Clone, Copy, Debug)]
pub struct Arrival {
    pub at: Instant,
    pub body_read: Option<Instant>,
}

impl Arrival {
    /// A request that arrived whole just now (an internal call).
    pub fn now() -> Arrival {
        let at = Instant::now();
        Arrival {
            at,
            body_read: Some(at),
        }
    }
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
    /// When the request arrived (`None` where nothing measures it).
    pub arrival: Option<Arrival>,
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
    let served = served(ctx, &facts, error);
    let record = build_record(ctx, facts, error, now_ms);
    let entry = |account: &str, r: &ApiCallRecord| {
        Entry {
            kind: EntryKind::Recorded,
            account: account.to_owned(),
            record: r.to_json_bytes(),
            served: Some(served),
        }
        .encode()
    };
    let mut out = vec![entry(&ctx.recipient_account, &record)];
    if let Some(other) = shared_with {
        out.push(entry(&other, &shared_copy(&record, &other)));
    }
    (record.request_id, out)
}

/// How a call was answered, as far as is known now (its entry is made before the answer goes
/// out).
fn served(ctx: &CallContext, facts: &CallFacts, error: Option<&AwsError>) -> Served {
    let now = Instant::now();
    let ms = |since: Instant| u32::try_from(now.duration_since(since).as_millis()).ok();
    Served {
        status: match error {
            Some(e) => e.status,
            None => facts.answer.status.unwrap_or(200),
        },
        bytes_sent: facts.answer.bytes_sent.unwrap_or(0),
        object_size: error
            .is_none()
            .then_some(facts.answer.object_size)
            .flatten(),
        total_ms: ctx.arrival.and_then(|a| ms(a.at)),
        turn_around_ms: ctx
            .arrival
            .and_then(|a| a.body_read.or(Some(a.at)))
            .and_then(ms),
    }
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
        served: None,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::codec::testing::context;

    fn facts(answer: AnswerFacts) -> CallFacts {
        CallFacts {
            event_source: "s3.amazonaws.com".into(),
            event_name: "GetObject".into(),
            read_only: true,
            category: EventCategory::Data,
            request_parameters: Some(serde_json::json!({"bucketName": "b", "key": "k"})),
            response_elements: None,
            additional_event_data: Some(serde_json::json!({"bytesTransferredOut": 10})),
            resources: Vec::new(),
            shared_with: None,
            recorded_error: None,
            answer,
        }
    }

    #[test]
    fn the_entry_keeps_the_answer_and_the_record_stays_awss() {
        let mut ctx = context();
        ctx.arrival = Some(Arrival::now());
        let answer = AnswerFacts {
            status: Some(206),
            bytes_sent: Some(10),
            object_size: Some(100),
        };
        let (_, encoded) = entries(&ctx, facts(answer), None, 0);
        let entry = Entry::decode(0, &encoded[0]).unwrap();
        let served = entry.served.unwrap();
        assert_eq!(
            (served.status, served.bytes_sent, served.object_size),
            (206, 10, Some(100))
        );
        assert!(served.total_ms.is_some() && served.turn_around_ms.is_some());
        // The record is what build_record makes, with nothing of the answer added.
        let record: Value = serde_json::from_slice(&entry.record).unwrap();
        let keys: Vec<&str> = record
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        for k in [
            "status",
            "bytesSent",
            "objectSize",
            "totalTime",
            "turnAroundTime",
        ] {
            assert!(!keys.contains(&k), "{k} in {keys:?}");
        }
        assert_eq!(
            record["additionalEventData"],
            serde_json::json!({"bytesTransferredOut": 10})
        );

        // A failure answers its error's status, and no object; nothing measured, no times.
        ctx.arrival = None;
        let e = AwsError::new(404, "NoSuchKey", "The specified key does not exist.");
        let (_, encoded) = entries(&ctx, facts(answer), Some(&e), 0);
        let served = Entry::decode(0, &encoded[0]).unwrap().served.unwrap();
        assert_eq!(
            (served.status, served.object_size, served.total_ms),
            (404, None, None)
        );
    }
}
