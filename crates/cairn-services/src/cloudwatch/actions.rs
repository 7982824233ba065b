//! What an alarm's state change makes happen: the SNS notifications its actions for the new
//! state send (written with the transition, so none is lost if cairn stops before sending),
//! and carrying out those that are due, through SNS's own API as `cloudwatch.amazonaws.com`.

use cairn_rules::alarm::{
    AlarmConfig, AlarmIdentity, StateValue, Transition, notification_message, notification_subject,
};
use cairn_store::metrics::{HistoryRow, PendingAction, StoredAlarm};
use serde_json::{Value, json};

use crate::app::App;
use crate::pipeline::Durability;
use crate::pipeline::internal::Internal;

/// The service principal alarm actions are taken as.
pub const CLOUDWATCH: &str = "cloudwatch.amazonaws.com";

/// How many times an action is tried before it is given up.
const MOST_ATTEMPTS: i64 = 10;

/// The actions `transition` causes for an alarm whose actions are enabled: one SNS publish per
/// topic among the new state's actions (other kinds of action are not carried out).
pub(super) fn for_transition(
    alarm: &StoredAlarm,
    config: &AlarmConfig,
    identity: &AlarmIdentity,
    transition: &Transition,
) -> Vec<PendingAction> {
    if !alarm.actions_enabled {
        return Vec::new();
    }
    let targets = match transition.new.value {
        StateValue::Ok => &identity.ok_actions,
        StateValue::Alarm => &identity.alarm_actions,
        StateValue::InsufficientData => &identity.insufficient_data_actions,
    };
    let subject = notification_subject(&alarm.name, transition.new.value, &alarm.region);
    let message = notification_message(config, identity, transition).to_string();
    targets
        .iter()
        .filter(|t| t.starts_with("arn:aws:sns:"))
        .map(|t| PendingAction {
            id: 0,
            account: alarm.account.clone(),
            region: alarm.region.clone(),
            alarm: alarm.name.clone(),
            target: t.clone(),
            subject: subject.clone(),
            message: message.clone(),
            attempts: 0,
            due_ms: transition.timestamp_ms,
        })
        .collect()
}

/// The history item AWS writes for an action's outcome.
fn action_history(a: &PendingAction, now_ms: i64, ok: bool, error: Option<&str>) -> HistoryRow {
    let summary = if ok {
        format!("Successfully executed action {}", a.target)
    } else {
        format!("Failed to execute action {}", a.target)
    };
    let mut data = json!({"actionState": if ok { "Succeeded" } else { "Failed" }, "notificationResource": a.target});
    if let Some(e) = error {
        data["error"] = Value::String(e.to_owned());
    }
    HistoryRow {
        alarm: a.alarm.clone(),
        timestamp_ms: now_ms,
        kind: "Action".to_owned(),
        summary,
        data: data.to_string(),
    }
}

/// Carries out the actions due now; answers how many were sent. A failed one is retried with a
/// growing delay and given up after [`MOST_ATTEMPTS`], each outcome noted in the alarm's history.
pub fn run_due(app: &App) -> Result<u64, String> {
    let now = app.clock.now_millis();
    let due = app.metrics.due_actions(now).map_err(|e| e.to_string())?;
    let mut sent = 0;
    for a in due {
        let alarm_arn = super::wire::alarm_arn(&a.region, &a.account, &a.alarm);
        let caller = Internal::service(
            CLOUDWATCH,
            &a.account,
            &a.region,
            Some(&alarm_arn),
            Durability::Wait,
        );
        let topic_region = a.target.split(':').nth(3).unwrap_or(&a.region).to_owned();
        let caller = Internal {
            region: topic_region,
            ..caller
        };
        let input = json!({"TopicArn": a.target, "Subject": a.subject, "Message": a.message});
        match caller.call_json(app, "sns", "Publish", input) {
            Ok(_) => {
                app.metrics.action_done(a.id).map_err(|e| e.to_string())?;
                let _ = app.metrics.add_history(
                    &a.account,
                    &a.region,
                    &action_history(&a, now, true, None),
                );
                sent += 1;
            }
            Err(e) if a.attempts + 1 >= MOST_ATTEMPTS => {
                tracing::warn!(alarm = %a.alarm, target = %a.target, error = %e.message, "giving up an alarm action");
                app.metrics.action_done(a.id).map_err(|e| e.to_string())?;
                let _ = app.metrics.add_history(
                    &a.account,
                    &a.region,
                    &action_history(&a, now, false, Some(&e.message)),
                );
            }
            Err(e) => {
                tracing::debug!(alarm = %a.alarm, target = %a.target, error = %e.message, "alarm action failed; retrying");
                let delay = 1000 * (1_i64 << a.attempts.clamp(0, 8));
                app.metrics
                    .action_retry(a.id, now + delay)
                    .map_err(|e| e.to_string())?;
            }
        }
    }
    Ok(sent)
}
