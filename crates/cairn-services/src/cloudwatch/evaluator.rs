//! Alarm evaluation as a consumer of cairn's clock: every alarm due at the clock's time is
//! evaluated at each instant it was due since its last evaluation (so a test clock that jumps
//! ahead sees every minute's evaluation, as AWS would have made them), its state change,
//! history item and actions written together; then the actions due are carried out.

use std::sync::Arc;

use cairn_rules::alarm::{
    AlarmConfig, AlarmStatus, MetricDatum, StateValue, Transition, evaluate, evaluation_range,
};
use cairn_store::StoreError;
use cairn_store::journal::{Consumer, Round};
use cairn_store::metrics::{AlarmState, HistoryRow, MetricKey, PendingAction, StoredAlarm};
use serde_json::Value;

use super::alarm_config::{config_of, identity_of};
use super::handlers::metrics_rules_value;
use crate::app::App;

/// Most evaluations of one alarm in one round (a clock that jumped a day ahead evaluates the
/// last day's minutes, not every minute since the epoch).
const MOST_STEPS: usize = 1440;

/// The state an alarm is stored in, as the evaluator sees it.
pub(super) fn status_of(a: &StoredAlarm) -> AlarmStatus {
    AlarmStatus {
        value: StateValue::parse(&a.state.value).unwrap_or(StateValue::InsufficientData),
        reason: a.state.reason.clone(),
        reason_data: a
            .state
            .reason_data
            .as_deref()
            .and_then(|d| serde_json::from_str(d).ok()),
    }
}

/// What a transition writes: the new state, its history item, and the actions it causes.
pub(super) fn change_of(
    alarm: &StoredAlarm,
    config: &AlarmConfig,
    doc: &Value,
    t: &Transition,
) -> (AlarmState, HistoryRow, Vec<PendingAction>) {
    let state = AlarmState {
        value: t.new.value.as_str().to_owned(),
        reason: t.new.reason.clone(),
        reason_data: t.new.reason_data.as_ref().map(Value::to_string),
        updated_ms: t.timestamp_ms,
        transitioned_ms: t.timestamp_ms,
    };
    let history = HistoryRow {
        alarm: alarm.name.clone(),
        timestamp_ms: t.history.timestamp_ms,
        kind: t.history.history_item_type.to_owned(),
        summary: t.history.history_summary.clone(),
        data: t.history.history_data.clone(),
    };
    let actions = super::actions::for_transition(alarm, config, &identity_of(alarm, doc), t);
    (state, history, actions)
}

/// Evaluates one alarm at each instant it was due up to `now_ms`. Answers how many
/// transitions it made.
fn evaluate_alarm(app: &App, alarm: &StoredAlarm, now_ms: i64) -> Result<u64, StoreError> {
    let doc: Value = serde_json::from_str(&alarm.config).unwrap_or(Value::Null);
    let config = match config_of(&alarm.name, &doc) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(alarm = %alarm.name, error = %e.message, "a stored alarm no longer reads; not evaluated");
            app.metrics
                .evaluated(&alarm.account, &alarm.region, &alarm.name, i64::MAX, None)?;
            return Ok(0);
        }
    };
    let period_ms = i64::from(config.period) * 1000;
    let range = i64::from(evaluation_range(config.evaluation_periods));
    let first = alarm.next_eval_ms.max(now_ms - MOST_STEPS as i64 * 60_000);
    let key = MetricKey::new(
        &alarm.account,
        &alarm.region,
        &config.namespace,
        &config.metric_name,
        config
            .dimensions
            .iter()
            .map(|d| (d.name.clone(), d.value.clone()))
            .collect(),
    );
    let data: Vec<MetricDatum> = app
        .metrics
        .data(
            &key,
            first - (range + 1) * period_ms - 3_600_000,
            now_ms + 1,
        )?
        .into_iter()
        .map(|d| MetricDatum {
            timestamp_ms: d.timestamp_ms,
            value: metrics_rules_value(&d.value),
            unit: d.unit,
            dimensions: config.dimensions.clone(),
        })
        .collect();
    let mut status = status_of(alarm);
    let mut at = first;
    let mut transitions = 0;
    for _ in 0..MOST_STEPS {
        if at > now_ms {
            break;
        }
        let ev = evaluate(&config, &status, &data, at);
        let change = ev
            .transition
            .as_ref()
            .map(|t| change_of(alarm, &config, &doc, t));
        let next = ev.next_evaluation_ms.max(at + 1);
        let found = app.metrics.evaluated(
            &alarm.account,
            &alarm.region,
            &alarm.name,
            next,
            change.as_ref().map(|(s, h, a)| (s, h, a.as_slice())),
        )?;
        if !found {
            break;
        }
        if let Some(t) = ev.transition {
            status = t.new;
            transitions += 1;
        }
        at = next;
    }
    Ok(transitions)
}

/// Evaluates every alarm due now. Answers how many transitions were made.
pub fn evaluate_due(app: &App) -> Result<u64, String> {
    let now = app.clock.now_millis();
    let mut n = 0;
    for alarm in app.metrics.due_alarms(now).map_err(|e| e.to_string())? {
        n += evaluate_alarm(app, &alarm, now).map_err(|e| e.to_string())?;
    }
    Ok(n)
}

/// CloudWatch's clock-driven work (alarm evaluation, then alarm actions) as a consumer: it
/// reads no journal entries, runs on the server's cadence and whenever the test clock moves.
pub struct AlarmWork {
    pub app: Arc<App>,
}

impl Consumer for AlarmWork {
    fn name(&self) -> &'static str {
        "alarms"
    }

    fn needs_from(&self) -> Result<u64, StoreError> {
        Ok(u64::MAX)
    }

    fn run_due(&self) -> Result<Round, String> {
        let transitions = evaluate_due(&self.app)?;
        let sent = super::actions::run_due(&self.app)?;
        Ok(Round {
            done: transitions + sent,
        })
    }
}
