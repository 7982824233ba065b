//! The metrics store's contract: datapoints per metric (namespace, name, dimensions in any
//! order) read back by time window, metrics listed by namespace and name, expiry; alarms
//! created, replaced and deleted with their history and pending actions; an evaluation that
//! changes state writes state, history and actions together; actions retried until done.

use super::{Backend, cases};
use crate::metrics::{
    AlarmState, Datum, DatumValue, HistoryQuery, HistoryRow, MetricKey, PendingAction, StoredAlarm,
};

cases!(
    datapoints_are_per_metric_whatever_the_dimension_order,
    metrics_are_listed_by_namespace_and_name,
    old_datapoints_expire,
    alarms_are_replaced_listed_and_deleted_with_their_history,
    an_evaluation_writes_state_history_and_actions_together,
    due_alarms_and_actions_follow_the_clock,
    everything_survives_a_restart,
);

const ACCT: &str = "111122223333";
const R: &str = "us-east-1";

fn key(ns: &str, name: &str, dims: &[(&str, &str)]) -> MetricKey {
    MetricKey::new(
        ACCT,
        R,
        ns,
        name,
        dims.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    )
}

fn value(t: i64, v: f64) -> Datum {
    Datum {
        timestamp_ms: t,
        unit: None,
        value: DatumValue::Values(vec![(v, 1.0)]),
    }
}

fn alarm(name: &str, next_eval_ms: i64) -> StoredAlarm {
    StoredAlarm {
        account: ACCT.into(),
        region: R.into(),
        name: name.into(),
        config: format!(r#"{{"AlarmName":"{name}"}}"#),
        config_updated_ms: 5,
        actions_enabled: true,
        state: AlarmState {
            value: "INSUFFICIENT_DATA".into(),
            reason: "Unchecked: Initial alarm creation".into(),
            reason_data: None,
            updated_ms: 5,
            transitioned_ms: 5,
        },
        next_eval_ms,
    }
}

fn created(name: &str, t: i64) -> HistoryRow {
    HistoryRow {
        alarm: name.into(),
        timestamp_ms: t,
        kind: "ConfigurationUpdate".into(),
        summary: format!("Alarm \"{name}\" created"),
        data: "{}".into(),
    }
}

fn action(name: &str, target: &str, due_ms: i64) -> PendingAction {
    PendingAction {
        id: 0,
        account: ACCT.into(),
        region: R.into(),
        alarm: name.into(),
        target: target.into(),
        subject: "ALARM".into(),
        message: "{}".into(),
        attempts: 0,
        due_ms,
    }
}

fn datapoints_are_per_metric_whatever_the_dimension_order(b: &dyn Backend) {
    let m = b.metrics();
    let ab = key("NS", "M", &[("a", "1"), ("b", "2")]);
    let ba = key("NS", "M", &[("b", "2"), ("a", "1")]);
    let other = key("NS", "M", &[("a", "1")]);
    m.put_data(&ab, &[value(1000, 1.0), value(2000, 2.0)])
        .unwrap();
    m.put_data(&ba, &[value(3000, 3.0)]).unwrap();
    m.put_data(&other, &[value(1500, 9.0)]).unwrap();
    let set = Datum {
        timestamp_ms: 2500,
        unit: Some("Count".into()),
        value: DatumValue::Set {
            sample_count: 2.0,
            sum: 5.0,
            minimum: 1.0,
            maximum: 4.0,
        },
    };
    m.put_data(&ab, std::slice::from_ref(&set)).unwrap();
    let got = m.data(&ab, 0, 10_000).unwrap();
    assert_eq!(got.len(), 4);
    assert_eq!(got[0], value(1000, 1.0));
    assert_eq!(got[2], set);
    assert_eq!(got[3], value(3000, 3.0));
    // The window is [start, end).
    assert_eq!(m.data(&ab, 2000, 3000).unwrap().len(), 2);
    assert_eq!(m.data(&other, 0, 10_000).unwrap(), vec![value(1500, 9.0)]);
}

fn metrics_are_listed_by_namespace_and_name(b: &dyn Backend) {
    let m = b.metrics();
    m.put_data(&key("B", "x", &[]), &[value(1, 1.0)]).unwrap();
    m.put_data(&key("A", "y", &[("d", "v")]), &[value(1, 1.0)])
        .unwrap();
    m.put_data(&key("A", "x", &[]), &[value(1, 1.0)]).unwrap();
    let all = m.metrics(ACCT, R, None, None).unwrap();
    let names: Vec<_> = all
        .iter()
        .map(|k| (k.namespace.as_str(), k.name.as_str()))
        .collect();
    assert_eq!(names, [("A", "x"), ("A", "y"), ("B", "x")]);
    assert_eq!(all[1].dimensions, vec![("d".to_owned(), "v".to_owned())]);
    assert_eq!(m.metrics(ACCT, R, Some("A"), None).unwrap().len(), 2);
    assert_eq!(m.metrics(ACCT, R, None, Some("x")).unwrap().len(), 2);
    assert!(m.metrics(ACCT, "eu-west-1", None, None).unwrap().is_empty());
    assert!(m.metrics("999999999999", R, None, None).unwrap().is_empty());
}

fn old_datapoints_expire(b: &dyn Backend) {
    let m = b.metrics();
    let k = key("NS", "M", &[]);
    m.put_data(&k, &[value(1000, 1.0), value(5000, 2.0)])
        .unwrap();
    assert_eq!(m.expire_data(2000).unwrap(), 1);
    assert_eq!(m.data(&k, 0, 10_000).unwrap(), vec![value(5000, 2.0)]);
}

fn alarms_are_replaced_listed_and_deleted_with_their_history(b: &dyn Backend) {
    let m = b.metrics();
    m.put_alarm(&alarm("b", 60_000), &created("b", 5)).unwrap();
    m.put_alarm(&alarm("a", 60_000), &created("a", 6)).unwrap();
    let mut changed = alarm("a", 120_000);
    changed.config = r#"{"AlarmName":"a","Threshold":2}"#.into();
    m.put_alarm(&changed, &created("a", 7)).unwrap();
    let names: Vec<_> = m
        .alarms(ACCT, R)
        .unwrap()
        .into_iter()
        .map(|a| a.name)
        .collect();
    assert_eq!(names, ["a", "b"]);
    assert_eq!(m.alarm(ACCT, R, "a").unwrap(), Some(changed));
    assert!(m.alarm(ACCT, R, "zzz").unwrap().is_none());
    let q = HistoryQuery {
        alarm: Some("a".into()),
        ..HistoryQuery::default()
    };
    let h = m.history(ACCT, R, &q).unwrap();
    assert_eq!(
        h.iter().map(|r| r.timestamp_ms).collect::<Vec<_>>(),
        [7, 6],
        "newest first"
    );
    let asc = HistoryQuery {
        ascending: true,
        ..HistoryQuery::default()
    };
    assert_eq!(m.history(ACCT, R, &asc).unwrap().len(), 3);
    assert!(m.set_actions_enabled(ACCT, R, "b", false).unwrap());
    assert!(!m.alarm(ACCT, R, "b").unwrap().unwrap().actions_enabled);
    assert!(!m.set_actions_enabled(ACCT, R, "zzz", false).unwrap());
    assert_eq!(
        m.delete_alarms(ACCT, R, &["a".into(), "zzz".into()])
            .unwrap(),
        1
    );
    assert!(m.alarm(ACCT, R, "a").unwrap().is_none());
    assert!(m.history(ACCT, R, &q).unwrap().is_empty());
    assert_eq!(m.alarms(ACCT, R).unwrap().len(), 1);
}

fn an_evaluation_writes_state_history_and_actions_together(b: &dyn Backend) {
    let m = b.metrics();
    m.put_alarm(&alarm("a", 60_000), &created("a", 5)).unwrap();
    // An evaluation that keeps the state only moves the next evaluation.
    assert!(m.evaluated(ACCT, R, "a", 120_000, None).unwrap());
    let a = m.alarm(ACCT, R, "a").unwrap().unwrap();
    assert_eq!(
        (a.next_eval_ms, a.state.value.as_str()),
        (120_000, "INSUFFICIENT_DATA")
    );
    let state = AlarmState {
        value: "ALARM".into(),
        reason: "Threshold Crossed".into(),
        reason_data: Some(r#"{"version":"1.0"}"#.into()),
        updated_ms: 120_000,
        transitioned_ms: 120_000,
    };
    let h = HistoryRow {
        alarm: "a".into(),
        timestamp_ms: 120_000,
        kind: "StateUpdate".into(),
        summary: "Alarm updated from INSUFFICIENT_DATA to ALARM".into(),
        data: "{}".into(),
    };
    let actions = [action("a", "arn:aws:sns:us-east-1:111122223333:t", 120_000)];
    assert!(
        m.evaluated(ACCT, R, "a", 180_000, Some((&state, &h, &actions)))
            .unwrap()
    );
    let a = m.alarm(ACCT, R, "a").unwrap().unwrap();
    assert_eq!(a.state, state);
    assert_eq!(a.next_eval_ms, 180_000);
    let q = HistoryQuery {
        kind: Some("StateUpdate".into()),
        ..HistoryQuery::default()
    };
    assert_eq!(m.history(ACCT, R, &q).unwrap(), vec![h]);
    let due = m.due_actions(120_000).unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].target, "arn:aws:sns:us-east-1:111122223333:t");
    // A deleted alarm is not evaluated into existence again.
    m.delete_alarms(ACCT, R, &["a".into()]).unwrap();
    assert!(
        !m.evaluated(
            ACCT,
            R,
            "a",
            240_000,
            Some((&state, &created("a", 1), &actions))
        )
        .unwrap()
    );
    assert!(m.due_actions(i64::MAX).unwrap().is_empty());
}

fn due_alarms_and_actions_follow_the_clock(b: &dyn Backend) {
    let m = b.metrics();
    m.put_alarm(&alarm("soon", 60_000), &created("soon", 1))
        .unwrap();
    m.put_alarm(&alarm("later", 120_000), &created("later", 1))
        .unwrap();
    let due: Vec<_> = m
        .due_alarms(60_000)
        .unwrap()
        .into_iter()
        .map(|a| a.name)
        .collect();
    assert_eq!(due, ["soon"]);
    assert_eq!(m.due_alarms(120_000).unwrap().len(), 2);
    let s = m.alarm(ACCT, R, "soon").unwrap().unwrap().state;
    let h = created("soon", 2);
    m.evaluated(
        ACCT,
        R,
        "soon",
        60_000,
        Some((
            &s,
            &h,
            &[action("soon", "t1", 60_000), action("soon", "t2", 90_000)],
        )),
    )
    .unwrap();
    let due = m.due_actions(60_000).unwrap();
    assert_eq!(
        due.iter().map(|a| a.target.as_str()).collect::<Vec<_>>(),
        ["t1"]
    );
    m.action_retry(due[0].id, 100_000).unwrap();
    assert!(m.due_actions(60_000).unwrap().is_empty());
    let again = m.due_actions(100_000).unwrap();
    assert_eq!(again.len(), 2);
    assert_eq!(again[0].attempts, 1);
    m.action_done(again[0].id).unwrap();
    assert_eq!(m.due_actions(100_000).unwrap().len(), 1);
    m.add_history(ACCT, R, &created("soon", 3)).unwrap();
    // Two creations at 1, the evaluation's item at 2, the one just added at 3.
    assert_eq!(m.expire_history(3).unwrap(), 3);
    assert_eq!(
        m.history(ACCT, R, &HistoryQuery::default()).unwrap().len(),
        1
    );
}

fn everything_survives_a_restart(b: &dyn Backend) {
    let k = key("NS", "M", &[("d", "v")]);
    {
        let m = b.metrics();
        m.put_data(&k, &[value(1000, 1.0)]).unwrap();
        m.put_alarm(&alarm("a", 60_000), &created("a", 5)).unwrap();
        let s = m.alarm(ACCT, R, "a").unwrap().unwrap().state;
        m.evaluated(
            ACCT,
            R,
            "a",
            60_000,
            Some((&s, &created("a", 6), &[action("a", "t", 1)])),
        )
        .unwrap();
    }
    b.restart();
    let m = b.metrics();
    assert_eq!(m.data(&k, 0, 2000).unwrap(), vec![value(1000, 1.0)]);
    assert!(m.alarm(ACCT, R, "a").unwrap().is_some());
    assert_eq!(m.due_actions(1).unwrap().len(), 1);
}
