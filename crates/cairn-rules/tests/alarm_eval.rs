//! Table-driven evaluation cases: AWS's missing-data truth tables row by row (ALERTING.md §4.4,
//! from the CloudWatch user guide "Configuring how CloudWatch alarms treat missing data"), M of
//! N, every statistic and comparison operator, low-sample-count percentiles, no transition when
//! the state does not change, each with the exact `StateReason`.
//!
//! Patterns are written as in AWS's tables: oldest left, newest right, one character per period
//! of the evaluation range: `0` a non-breaching datapoint (value 0.0), `X` a breaching one (value
//! 5.0), `-` no datapoint. The threshold is 1.0 with `GreaterThanOrEqualToThreshold`, the
//! statistic `Sum`, Period 60, and the evaluation runs at 2026-12-04T10:05:20.500Z, so the newest
//! period is 10:04:00–10:05:00 and a range of 5 starts at 10:00:00.

// Tests may unwrap (clippy.toml allows it only inside #[test] functions, not helpers).
#![allow(clippy::unwrap_used)]

use cairn_rules::alarm::{
    AlarmConfig, AlarmStatus, ComparisonOperator, MetricDatum, StateValue, StatisticSpec,
    TreatMissingData, evaluate, evaluation_range,
};
use serde_json::json;

/// 2026-12-04T10:05:00Z.
const END: i64 = 1_796_378_700_000;
const NOW: i64 = END + 20_500;

use StateValue::{Alarm, InsufficientData as Insufficient, Ok as OkState};
use TreatMissingData::{Breaching, Ignore, Missing, NotBreaching};

fn config(n: u32, m: Option<u32>, tmd: TreatMissingData) -> AlarmConfig {
    let mut c = AlarmConfig::new(
        "a",
        "CIS",
        "RootUse",
        StatisticSpec::from_parts(Some("Sum"), None).unwrap(),
        60,
        n,
        1.0,
        ComparisonOperator::GreaterThanOrEqualToThreshold,
    );
    c.datapoints_to_alarm = m;
    c.treat_missing_data = Some(tmd);
    c
}

fn data(pattern: &str) -> Vec<MetricDatum> {
    let chars: Vec<char> = pattern.chars().filter(|c| !c.is_whitespace()).collect();
    let len = chars.len() as i64;
    chars
        .iter()
        .enumerate()
        .filter_map(|(j, c)| {
            let start = END - (len - j as i64) * 60_000;
            match c {
                '0' => Some(MetricDatum::value(start + 7_000, 0.0)),
                'X' => Some(MetricDatum::value(start + 7_000, 5.0)),
                _ => None,
            }
        })
        .collect()
}

fn status(v: StateValue) -> AlarmStatus {
    if v == Insufficient {
        return AlarmStatus::initial();
    }
    AlarmStatus {
        value: v,
        reason: "before".into(),
        reason_data: None,
    }
}

struct Case {
    /// Where the row comes from.
    name: &'static str,
    n: u32,
    m: Option<u32>,
    tmd: TreatMissingData,
    pattern: &'static str,
    from: StateValue,
    /// `None`: no transition (state kept or unchanged).
    to: Option<StateValue>,
    reason: &'static str,
}

const TC_OK_0_10_00: &str = "Threshold Crossed: 1 datapoint [0.0 (04/12/26 10:00:00)] was not greater than or equal to the threshold (1.0).";
const TC_ALARM_3: &str = "Threshold Crossed: 3 datapoints [5.0 (04/12/26 10:04:00), 5.0 (04/12/26 10:02:00), 5.0 (04/12/26 10:01:00)] were greater than or equal to the threshold (1.0).";
const TC_ALARM_X_10_02: &str = "Threshold Crossed: 1 datapoint [5.0 (04/12/26 10:02:00)] was greater than or equal to the threshold (1.0).";
const M2_ALARM_2: &str = "Threshold Crossed: 2 out of the last 3 datapoints [5.0 (04/12/26 10:04:00), 5.0 (04/12/26 10:02:00)] were greater than or equal to the threshold (1.0) (minimum 2 datapoints for INSUFFICIENT_DATA -> ALARM transition).";
const M2_ALARM_2_FROM_OK: &str = "Threshold Crossed: 2 out of the last 3 datapoints [5.0 (04/12/26 10:04:00), 5.0 (04/12/26 10:02:00)] were greater than or equal to the threshold (1.0) (minimum 2 datapoints for OK -> ALARM transition).";

#[rustfmt::skip]
fn cases() -> Vec<Case> {
    let c = |name, n, m, tmd, pattern, from, to, reason| Case { name, n, m, tmd, pattern, from, to, reason };
    vec![
        // AWS doc table, N=3 M=3 (DatapointsToAlarm unset: the short reason form), row 1:
        // three real datapoints in the range decide, missing ones are not consulted.
        c("doc N3M3 r1 missing", 3, None, Missing, "0 - X - X", Insufficient, Some(OkState), TC_OK_0_10_00),
        c("doc N3M3 r1 ignore", 3, None, Ignore, "0 - X - X", Insufficient, Some(OkState), TC_OK_0_10_00),
        c("doc N3M3 r1 breaching", 3, None, Breaching, "0 - X - X", Alarm, Some(OkState), TC_OK_0_10_00),
        c("doc N3M3 r1 notBreaching", 3, None, NotBreaching, "0 - X - X", Alarm, Some(OkState), TC_OK_0_10_00),
        // Row 2: one real OK point; even two breaching fills cannot make 3.
        c("doc N3M3 r2 missing", 3, None, Missing, "0 - - - -", Insufficient, Some(OkState), TC_OK_0_10_00),
        c("doc N3M3 r2 ignore", 3, None, Ignore, "0 - - - -", Alarm, Some(OkState), TC_OK_0_10_00),
        c("doc N3M3 r2 breaching", 3, None, Breaching, "0 - - - -", Alarm, Some(OkState), TC_OK_0_10_00),
        c("doc N3M3 r2 notBreaching", 3, None, NotBreaching, "0 - - - -", Insufficient, Some(OkState), TC_OK_0_10_00),
        // Row 3: nothing at all.
        c("doc N3M3 r3 missing", 3, None, Missing, "- - - - -", OkState, Some(Insufficient),
          "Insufficient Data: no datapoints were received for 3 periods and 3 missing datapoints were treated as [Missing]."),
        c("doc N3M3 r3 ignore keeps OK", 3, None, Ignore, "- - - - -", OkState, None, ""),
        c("doc N3M3 r3 ignore keeps ALARM", 3, None, Ignore, "- - - - -", Alarm, None, ""),
        c("doc N3M3 r3 breaching", 3, None, Breaching, "- - - - -", OkState, Some(Alarm),
          "Threshold Crossed: no datapoints were received for 3 periods and 3 missing datapoints were treated as [Breaching]."),
        c("doc N3M3 r3 notBreaching", 3, None, NotBreaching, "- - - - -", Insufficient, Some(OkState),
          "Threshold Crossed: no datapoints were received for 3 periods and 3 missing datapoints were treated as [NonBreaching]."),
        // Row 4: the three most recent real datapoints all breach.
        c("doc N3M3 r4 missing", 3, None, Missing, "0 X X - X", Insufficient, Some(Alarm), TC_ALARM_3),
        c("doc N3M3 r4 ignore", 3, None, Ignore, "0 X X - X", OkState, Some(Alarm), TC_ALARM_3),
        c("doc N3M3 r4 breaching", 3, None, Breaching, "0 X X - X", OkState, Some(Alarm), TC_ALARM_3),
        c("doc N3M3 r4 notBreaching", 3, None, NotBreaching, "0 X X - X", OkState, Some(Alarm), TC_ALARM_3),
        // Row 5: the premature-alarm rule: the lone breaching point is 3 periods old (>= M), so
        // `missing` alarms; `ignore` keeps the state.
        c("doc N3M3 r5 missing", 3, None, Missing, "- - X - -", OkState, Some(Alarm), TC_ALARM_X_10_02),
        c("doc N3M3 r5 ignore", 3, None, Ignore, "- - X - -", OkState, None, ""),
        c("doc N3M3 r5 breaching", 3, None, Breaching, "- - X - -", Insufficient, Some(Alarm), TC_ALARM_X_10_02),
        c("doc N3M3 r5 notBreaching", 3, None, NotBreaching, "- - X - -", Alarm, Some(OkState),
          "Threshold Crossed: no datapoints were received for 2 periods and 2 missing datapoints were treated as [NonBreaching]."),

        // AWS doc table, N=3 M=2 (DatapointsToAlarm set: the long reason form), row 1.
        c("doc N3M2 r1 missing", 3, Some(2), Missing, "0 - X - X", Insufficient, Some(Alarm), M2_ALARM_2),
        c("doc N3M2 r1 ignore", 3, Some(2), Ignore, "0 - X - X", Insufficient, Some(Alarm), M2_ALARM_2),
        c("doc N3M2 r1 breaching", 3, Some(2), Breaching, "0 - X - X", Insufficient, Some(Alarm), M2_ALARM_2),
        c("doc N3M2 r1 notBreaching", 3, Some(2), NotBreaching, "0 - X - X", Insufficient, Some(Alarm), M2_ALARM_2),
        // Row 2: the newest three are all present (X 0 X): 2 of 3 breach.
        c("doc N3M2 r2 missing", 3, Some(2), Missing, "0 0 X 0 X", OkState, Some(Alarm), M2_ALARM_2_FROM_OK),
        c("doc N3M2 r2 ignore", 3, Some(2), Ignore, "0 0 X 0 X", OkState, Some(Alarm), M2_ALARM_2_FROM_OK),
        c("doc N3M2 r2 breaching", 3, Some(2), Breaching, "0 0 X 0 X", OkState, Some(Alarm), M2_ALARM_2_FROM_OK),
        c("doc N3M2 r2 notBreaching", 3, Some(2), NotBreaching, "0 0 X 0 X", OkState, Some(Alarm), M2_ALARM_2_FROM_OK),
        // Row 3: two real points (one breaching); only `breaching` fills the missing newest one.
        c("doc N3M2 r3 missing", 3, Some(2), Missing, "0 - X - -", Alarm, Some(OkState),
          "Threshold Crossed: 1 out of the last 2 datapoints [0.0 (04/12/26 10:00:00)] was not greater than or equal to the threshold (1.0) (minimum 2 datapoints for ALARM -> OK transition)."),
        c("doc N3M2 r3 ignore", 3, Some(2), Ignore, "0 - X - -", Alarm, Some(OkState),
          "Threshold Crossed: 1 out of the last 2 datapoints [0.0 (04/12/26 10:00:00)] was not greater than or equal to the threshold (1.0) (minimum 2 datapoints for ALARM -> OK transition)."),
        c("doc N3M2 r3 breaching", 3, Some(2), Breaching, "0 - X - -", OkState, Some(Alarm),
          "Threshold Crossed: 1 out of the last 3 datapoints [5.0 (04/12/26 10:02:00)] was greater than or equal to the threshold (1.0) (minimum 2 datapoints for OK -> ALARM transition)."),
        c("doc N3M2 r3 notBreaching", 3, Some(2), NotBreaching, "0 - X - -", Alarm, Some(OkState),
          "Threshold Crossed: 1 out of the last 3 datapoints [0.0 (04/12/26 10:00:00)] was not greater than or equal to the threshold (1.0) (minimum 2 datapoints for ALARM -> OK transition)."),
        // Row 4: one real OK point, the newest.
        c("doc N3M2 r4 missing", 3, Some(2), Missing, "- - - - 0", Alarm, Some(OkState),
          "Threshold Crossed: 1 out of the last 1 datapoints [0.0 (04/12/26 10:04:00)] was not greater than or equal to the threshold (1.0) (minimum 2 datapoints for ALARM -> OK transition)."),
        c("doc N3M2 r4 ignore", 3, Some(2), Ignore, "- - - - 0", Insufficient, Some(OkState),
          "Threshold Crossed: 1 out of the last 1 datapoints [0.0 (04/12/26 10:04:00)] was not greater than or equal to the threshold (1.0) (minimum 2 datapoints for INSUFFICIENT_DATA -> OK transition)."),
        c("doc N3M2 r4 breaching", 3, Some(2), Breaching, "- - - - 0", OkState, Some(Alarm),
          "Threshold Crossed: no datapoints were received for 2 periods and 2 missing datapoints were treated as [Breaching]."),
        c("doc N3M2 r4 notBreaching", 3, Some(2), NotBreaching, "- - - - 0", Alarm, Some(OkState),
          "Threshold Crossed: 1 out of the last 3 datapoints [0.0 (04/12/26 10:04:00)] was not greater than or equal to the threshold (1.0) (minimum 2 datapoints for ALARM -> OK transition)."),
        // Row 5: premature-alarm rule with M=2: the lone breaching point is 2 periods old.
        c("doc N3M2 r5 missing", 3, Some(2), Missing, "- - - X -", OkState, Some(Alarm),
          "Threshold Crossed: 1 out of the last 1 datapoints [5.0 (04/12/26 10:03:00)] was greater than or equal to the threshold (1.0) (minimum 2 datapoints for OK -> ALARM transition)."),
        c("doc N3M2 r5 ignore", 3, Some(2), Ignore, "- - - X -", OkState, None, ""),
        c("doc N3M2 r5 breaching", 3, Some(2), Breaching, "- - - X -", OkState, Some(Alarm),
          "Threshold Crossed: 1 out of the last 3 datapoints [5.0 (04/12/26 10:03:00)] was greater than or equal to the threshold (1.0) (minimum 2 datapoints for OK -> ALARM transition)."),
        c("doc N3M2 r5 notBreaching", 3, Some(2), NotBreaching, "- - - X -", Alarm, Some(OkState),
          "Threshold Crossed: no datapoints were received for 2 periods and 2 missing datapoints were treated as [NonBreaching]."),

        // Premature-alarm rule, the doc's counter-examples: a breaching newest point alone (or
        // one only 2 periods old with M=3) does not move the alarm under `missing`.
        c("premature newest only", 3, None, Missing, "- - - - X", Insufficient, None, ""),
        c("premature 2 old, M=3", 3, None, Missing, "- - - X -", OkState, None, ""),
        // Initial state: an alarm with no data stays INSUFFICIENT_DATA (no transition, no history).
        c("initial, no data", 1, None, Missing, "- - -", Insufficient, None, ""),
        // No transition when the computed state equals the current one.
        c("OK stays OK", 3, None, Missing, "0 0 0 0 0", OkState, None, ""),
        c("ALARM stays ALARM", 1, None, Missing, "- - X", Alarm, None, ""),
        // CIS-style alarm (N=1): first match → ALARM; afterwards no data → INSUFFICIENT_DATA with
        // `missing`, OK with `notBreaching` (ALERTING.md §4.4, last bullet).
        c("CIS first match", 1, None, Missing, "- - X", Insufficient, Some(Alarm),
          "Threshold Crossed: 1 datapoint [5.0 (04/12/26 10:04:00)] was greater than or equal to the threshold (1.0)."),
        c("CIS quiet, missing", 1, None, Missing, "- - -", Alarm, Some(Insufficient),
          "Insufficient Data: no datapoints were received for 1 period and 1 missing datapoint was treated as [Missing]."),
        c("CIS quiet, notBreaching", 1, None, NotBreaching, "- - -", Alarm, Some(OkState),
          "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as [NonBreaching]."),
        // A breach older than the range's newest period is still the most recent real datapoint
        // within the range (N=1, range 3) and decides: AWS's rule 2.
        c("N1 older point in range", 1, None, Missing, "X - -", OkState, Some(Alarm),
          "Threshold Crossed: 1 datapoint [5.0 (04/12/26 10:02:00)] was greater than or equal to the threshold (1.0)."),
        // M of N variants: 3 of 5 (range 7) — breaches need not be consecutive.
        c("M3N5 non-consecutive", 5, Some(3), Missing, "0 0 X 0 X 0 X", OkState, Some(Alarm),
          "Threshold Crossed: 3 out of the last 5 datapoints [5.0 (04/12/26 10:04:00), 5.0 (04/12/26 10:02:00), 5.0 (04/12/26 10:00:00)] were greater than or equal to the threshold (1.0) (minimum 3 datapoints for OK -> ALARM transition)."),
        c("M3N5 two of five", 5, Some(3), Missing, "X X 0 0 X 0 X", Alarm, Some(OkState),
          "Threshold Crossed: 3 out of the last 5 datapoints [0.0 (04/12/26 10:03:00), 0.0 (04/12/26 10:01:00), 0.0 (04/12/26 10:00:00)] were not greater than or equal to the threshold (1.0) (minimum 3 datapoints for ALARM -> OK transition)."),
        c("M1N2 any breach", 2, Some(1), Missing, "0 0 X 0", OkState, Some(Alarm),
          "Threshold Crossed: 1 out of the last 2 datapoints [5.0 (04/12/26 10:03:00)] was greater than or equal to the threshold (1.0) (minimum 1 datapoint for OK -> ALARM transition)."),
        c("M1N2 back to OK needs both", 2, Some(1), Missing, "X X 0 0", Alarm, Some(OkState),
          "Threshold Crossed: 2 out of the last 2 datapoints [0.0 (04/12/26 10:04:00), 0.0 (04/12/26 10:03:00)] were not greater than or equal to the threshold (1.0) (minimum 2 datapoints for ALARM -> OK transition)."),
        c("M2N2 explicit", 2, Some(2), Missing, "0 0 X X", Insufficient, Some(Alarm),
          "Threshold Crossed: 2 out of the last 2 datapoints [5.0 (04/12/26 10:04:00), 5.0 (04/12/26 10:03:00)] were greater than or equal to the threshold (1.0) (minimum 2 datapoints for INSUFFICIENT_DATA -> ALARM transition)."),
        c("N4 default M, one OK breaks it", 4, None, Missing, "X X X 0 X X", OkState, None, ""),
        c("N4 default M, all breach", 4, None, Breaching, "0 0 X X X X", OkState, Some(Alarm),
          "Threshold Crossed: 4 datapoints [5.0 (04/12/26 10:04:00), 5.0 (04/12/26 10:03:00), 5.0 (04/12/26 10:02:00), 5.0 (04/12/26 10:01:00)] were greater than or equal to the threshold (1.0)."),
        // Breaching fills count with real breaches (N=5, M=4): 2 real X + 2 fills.
        c("breaching fills M4N5", 5, Some(4), Breaching, "- - - X - X 0", OkState, Some(Alarm),
          "Threshold Crossed: 2 out of the last 5 datapoints [5.0 (04/12/26 10:03:00), 5.0 (04/12/26 10:01:00)] were greater than or equal to the threshold (1.0) (minimum 4 datapoints for OK -> ALARM transition)."),
    ]
}

#[test]
fn evaluation_table() {
    let cases = cases();
    assert!(cases.len() >= 40, "{} rows", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let cfg = config(case.n, case.m, case.tmd);
        cfg.validate().unwrap();
        let width = case.pattern.chars().filter(|c| !c.is_whitespace()).count();
        assert_eq!(
            width as u32,
            evaluation_range(case.n),
            "{}: pattern width",
            case.name
        );
        let current = status(case.from);
        let ev = evaluate(&cfg, &current, &data(case.pattern), NOW);
        let got = ev
            .transition
            .as_ref()
            .map(|t| (t.new.value, t.new.reason.as_str()));
        let want = case.to.map(|s| (s, case.reason));
        if got != want {
            failures.push(format!("{}:\n   got {got:?}\n  want {want:?}", case.name));
        }
        match &ev.transition {
            Some(t) => {
                assert_eq!(ev.state, t.new.value);
                assert_eq!(t.old, current);
                assert_eq!(t.history.history_item_type, "StateUpdate");
                assert_eq!(
                    t.history.history_summary,
                    format!(
                        "Alarm updated from {} to {}",
                        case.from.as_str(),
                        t.new.value.as_str()
                    )
                );
            }
            None => assert_eq!(ev.state, case.from, "{}", case.name),
        }
        assert_eq!(ev.next_evaluation_ms, END + 60_000);
    }
    assert!(
        failures.is_empty(),
        "{} of {} rows differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn reason_data_of_a_threshold_crossing() {
    let cfg = config(3, Some(2), Missing);
    let ev = evaluate(&cfg, &AlarmStatus::initial(), &data("0 - X - X"), NOW);
    let t = ev.transition.unwrap();
    assert_eq!(
        t.new.reason_data.unwrap(),
        json!({
            "version": "1.0",
            "queryDate": "2026-12-04T10:05:20.500+0000",
            "startDate": "2026-12-04T10:00:00.000+0000",
            "statistic": "Sum",
            "period": 60,
            "recentDatapoints": [0.0, 5.0, 5.0],
            "threshold": 1.0,
            "evaluatedDatapoints": [
                {"timestamp": "2026-12-04T10:04:00.000+0000", "sampleCount": 1.0, "value": 5.0},
                {"timestamp": "2026-12-04T10:02:00.000+0000", "sampleCount": 1.0, "value": 5.0},
                {"timestamp": "2026-12-04T10:00:00.000+0000", "sampleCount": 1.0, "value": 0.0}
            ]
        })
    );
}

#[test]
fn reason_data_of_missing_data_and_history() {
    let mut cfg = config(1, None, Missing);
    cfg.unit = Some("Count".into());
    let before = evaluate(&cfg, &AlarmStatus::initial(), &[], NOW);
    assert!(before.transition.is_none());
    let alarm = AlarmStatus {
        value: Alarm,
        reason: "Threshold Crossed: x".into(),
        reason_data: Some(json!({"version": "1.0"})),
    };
    let t = evaluate(&cfg, &alarm, &[], NOW).transition.unwrap();
    let data = t.new.reason_data.clone().unwrap();
    assert_eq!(
        data.to_string(),
        r#"{"version":"1.0","queryDate":"2026-12-04T10:05:20.500+0000","startDate":"2026-12-04T10:04:00.000+0000","unit":"Count","statistic":"Sum","period":60,"recentDatapoints":[],"threshold":1.0,"evaluatedDatapoints":[{"timestamp":"2026-12-04T10:04:00.000+0000"}]}"#
    );
    assert_eq!(t.history.alarm_name, "a");
    assert_eq!(t.history.timestamp_ms, NOW);
    assert_eq!(
        t.history.history_summary,
        "Alarm updated from ALARM to INSUFFICIENT_DATA"
    );
    let history: serde_json::Value = serde_json::from_str(&t.history.history_data).unwrap();
    assert_eq!(
        history,
        json!({
            "version": "1.0",
            "oldState": {"stateValue": "ALARM", "stateReason": "Threshold Crossed: x", "stateReasonData": {"version": "1.0"}},
            "newState": {"stateValue": "INSUFFICIENT_DATA",
                "stateReason": "Insufficient Data: no datapoints were received for 1 period and 1 missing datapoint was treated as [Missing].",
                "stateReasonData": data}
        })
    );
    // Keys in AWS's order.
    assert!(
        t.history
            .history_data
            .starts_with(r#"{"version":"1.0","oldState":{"stateValue":"ALARM""#)
    );
}

#[test]
fn set_alarm_state_then_evaluation_restores_the_computed_state() {
    let cfg = config(1, None, Missing);
    let ok = evaluate(&cfg, &AlarmStatus::initial(), &data("- - 0"), NOW)
        .transition
        .unwrap()
        .new;
    let forced =
        cairn_rules::alarm::set_alarm_state("a", &ok, Alarm, "testing", None, NOW).unwrap();
    assert_eq!(
        forced.history.history_summary,
        "Alarm updated from OK to ALARM"
    );
    assert_eq!(forced.new.reason, "testing");
    assert!(
        cairn_rules::alarm::set_alarm_state("a", &forced.new, Alarm, "again", None, NOW).is_none()
    );
    let back = evaluate(&cfg, &forced.new, &data("- - 0"), NOW + 60_000)
        .transition
        .unwrap();
    assert_eq!(back.old.value, Alarm);
    assert_eq!(back.new.value, OkState);
}
