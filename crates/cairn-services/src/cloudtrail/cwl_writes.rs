//! CloudTrail writing trails' records into their CloudWatch Logs groups, for the delivery
//! consumer (`cairn_trail::cwl`): as the role session it assumed for the trail, a
//! `CreateLogStream` of `<account>_CloudTrail_<region>` (an organization trail's:
//! `<o-id>_<account>_CloudTrail_<region>`, one per account) when the stream is missing and one
//! `PutLogEvents` per batch, each made durable (with its record) before delivery moves on.
//!
//! Sessions are kept per trail and assumed again before they expire, when the trail's role
//! changes, or when a call fails (the role may have been fixed meanwhile), so an hour of
//! delivery costs one recorded `AssumeRole`, as in AWS.
//!
//! Which records a stream already holds (asked only after a write whose outcome was lost) is
//! read from the Logs store directly: it is CloudTrail checking its own work, a read the role
//! need not allow and AWS would not show, so it is not a Logs call.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use cairn_store::logs::{EventQuery, GroupKey, Position, Streams};
use cairn_store::trails::Trail;
use cairn_trail::cwl::{CwlEvent, CwlSink};
use cairn_wire::AwsError;
use serde_json::{Value, json};

use super::cwl_session::{
    GroupArn, as_session, assume, organization_of, parse_group_arn, stream_name,
};
use crate::app::App;
use crate::pipeline::Durability;

/// How long a session is used: AssumeRole's default hour, less a margin.
const SESSION_USE_MS: i64 = 50 * 60 * 1000;
/// Stored events read per page when checking a stream.
const CHECK_PAGE: usize = 10_000;

struct Session {
    role_arn: String,
    key: String,
    assumed_ms: i64,
    /// The streams known to exist.
    ready: HashSet<String>,
}

/// Writes trails' records to CloudWatch Logs through Logs' API.
pub struct LogsWrites {
    app: Arc<App>,
    sessions: Mutex<HashMap<String, Session>>,
}

impl LogsWrites {
    pub fn new(app: Arc<App>) -> LogsWrites {
        LogsWrites {
            app,
            sessions: Mutex::default(),
        }
    }

    fn settings(t: &Trail) -> Result<(GroupArn, String), String> {
        let group = t
            .cw_log_group_arn
            .as_deref()
            .and_then(parse_group_arn)
            .ok_or_else(|| "InvalidCloudWatchLogsLogGroupArn".to_owned())?;
        let role = t
            .cw_role_arn
            .clone()
            .ok_or_else(|| "InvalidCloudWatchLogsRoleArn".to_owned())?;
        Ok((group, role))
    }

    /// The trail's session key (assumed again when due) and whether `stream` is known.
    fn session(&self, t: &Trail, role: &str, stream: &str) -> Result<(String, bool), String> {
        let now = self.app.clock.now_millis();
        if let Ok(s) = self.sessions.lock()
            && let Some(s) = s.get(&t.arn)
            && s.role_arn == role
            && now - s.assumed_ms < SESSION_USE_MS
        {
            return Ok((s.key.clone(), s.ready.contains(stream)));
        }
        let key = assume(&self.app, t, role, Durability::Wait).map_err(|e| code(&e))?;
        if let Ok(mut s) = self.sessions.lock() {
            s.insert(
                t.arn.clone(),
                Session {
                    role_arn: role.to_owned(),
                    key: key.clone(),
                    assumed_ms: now,
                    ready: HashSet::new(),
                },
            );
        }
        Ok((key, false))
    }

    fn forget(&self, t: &Trail) {
        if let Ok(mut s) = self.sessions.lock() {
            s.remove(&t.arn);
        }
    }

    fn stream_ready(&self, t: &Trail, stream: &str) {
        if let Ok(mut s) = self.sessions.lock()
            && let Some(s) = s.get_mut(&t.arn)
        {
            s.ready.insert(stream.to_owned());
        }
    }

    fn stream(&self, t: &Trail, account: &str) -> String {
        stream_name(t, organization_of(&self.app, t).as_deref(), account)
    }

    fn write(&self, t: &Trail, account: &str, events: &[CwlEvent]) -> Result<(), AwsError> {
        let (group, role) = Self::settings(t).map_err(|c| AwsError::client(c, ""))?;
        let stream = self.stream(t, account);
        let (key, ready) = self
            .session(t, &role, &stream)
            .map_err(|c| AwsError::client(c, ""))?;
        let caller = as_session(&self.app, t, &key, &group, Durability::Wait)?;
        let create = || match caller.call_json(
            &self.app,
            "logs",
            "CreateLogStream",
            json!({"logGroupName": group.name, "logStreamName": stream}),
        ) {
            Ok(_) => Ok(()),
            Err(e) if e.code == "ResourceAlreadyExistsException" => Ok(()),
            Err(e) => Err(e),
        };
        if !ready {
            create()?;
            self.stream_ready(t, &stream);
        }
        let log_events: Vec<Value> = events
            .iter()
            .map(|e| json!({"timestamp": e.timestamp, "message": e.message}))
            .collect();
        let put = || {
            caller.call_json(
                &self.app,
                "logs",
                "PutLogEvents",
                json!({"logGroupName": group.name, "logStreamName": stream, "logEvents": log_events}),
            )
        };
        match put() {
            // Someone deleted the stream: make it again.
            Err(e) if e.code == "ResourceNotFoundException" && e.message.contains("stream") => {
                create()?;
                put()
            }
            other => other,
        }
        .map(|_| ())
    }
}

/// What GetTrailStatus shows for a failed delivery: the refusing service's error code.
fn code(e: &AwsError) -> String {
    e.code.to_string()
}

impl CwlSink for LogsWrites {
    fn already_there(
        &self,
        t: &Trail,
        account: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<HashSet<String>, String> {
        let (group, _) = Self::settings(t)?;
        let key = GroupKey::new(&group.account, &group.region, &group.name);
        let mut q = EventQuery {
            streams: Streams::Named(vec![self.stream(t, account)]),
            start: Some(from_ms),
            end: Some(to_ms.saturating_add(1)),
            from: None::<Position>,
            descending: false,
            limit: CHECK_PAGE,
        };
        let mut ids = HashSet::new();
        loop {
            let page = self.app.logs.events(&key, &q).map_err(|e| e.to_string())?;
            for e in &page {
                if let Ok(v) = serde_json::from_str::<Value>(&e.message)
                    && let Some(id) = v.get("eventID").and_then(Value::as_str)
                {
                    ids.insert(id.to_owned());
                }
            }
            match page.last() {
                Some(last) if page.len() == CHECK_PAGE => q.from = Some(last.position()),
                _ => return Ok(ids),
            }
        }
    }

    fn put(&self, t: &Trail, account: &str, events: &[CwlEvent]) -> Result<(), String> {
        self.write(t, account, events).map_err(|e| {
            // The role, its policies or the group may be fixed before the retry: start over.
            self.forget(t);
            code(&e)
        })
    }
}
