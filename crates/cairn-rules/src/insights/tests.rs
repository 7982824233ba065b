use super::*;

const DAY: i64 = 24 * 60;

fn call(arn: &str) -> Call<'_> {
    Call {
        user_identity_arn: Some(arn),
        user_agent: Some("aws-cli/1.46.3"),
        error_code: None,
    }
}

/// A steady week: two calls every ten minutes, from minute 0.
fn steady_week(s: &mut Series) {
    for m in (0..7 * DAY).step_by(10) {
        s.observe(m, call("arn:aws:iam::111122223333:user/ci"));
        s.observe(m, call("arn:aws:iam::111122223333:user/ci"));
    }
}

#[test]
fn a_steady_baseline_makes_no_insight() {
    let p = Params::aws_like();
    let mut s = Series::new(-1);
    steady_week(&mut s);
    assert!(s.judge(7 * DAY, 0, &p).is_empty());
    assert!(!s.is_open());
}

#[test]
fn a_burst_starts_an_insight_then_ends_it_with_its_duration() {
    let p = Params::aws_like();
    let mut s = Series::new(-1);
    steady_week(&mut s);
    let burst = 7 * DAY + 3;
    for m in burst..burst + 3 {
        for _ in 0..30 {
            s.observe(m, call("arn:aws:iam::111122223333:user/mallory"));
        }
    }
    let started = s.judge(burst, 0, &p);
    assert_eq!(started.len(), 1, "{started:?}");
    let start = &started[0];
    assert_eq!(start.state, State::Start);
    assert_eq!(start.start_minute, burst);
    assert_eq!(start.event_minute, burst);
    assert!((start.baseline_average - 0.2).abs() < 0.01, "{start:?}");
    assert_eq!(start.insight_average, 30.0);
    assert_eq!(start.baseline_duration, p.baseline_minutes);
    assert_eq!(start.insight_duration, None);
    assert_eq!(start.attributions[0].attribute, "userIdentityArn");
    assert_eq!(
        start.attributions[0].insight,
        vec![Share {
            value: "arn:aws:iam::111122223333:user/mallory".into(),
            average: 30.0
        }]
    );
    assert_eq!(
        start.attributions[0].baseline[0].value,
        "arn:aws:iam::111122223333:user/ci"
    );
    assert_eq!(start.attributions[2].insight[0].value, "null");
    // Still over the threshold, then quiet minutes: no End until five have passed.
    assert!(s.judge(burst + 6, 0, &p).is_empty());
    assert!(s.is_open());
    let ended = s.judge(burst + 7, 0, &p);
    assert_eq!(ended.len(), 1, "{ended:?}");
    let end = &ended[0];
    assert_eq!(end.state, State::End);
    assert_eq!(end.start_minute, burst);
    assert_eq!(end.event_minute, burst + 3);
    assert_eq!(end.insight_duration, Some(3));
    assert_eq!(end.insight_average, 30.0);
    assert!(end.insight_average > end.baseline_average);
    assert!(!s.is_open());
}

#[test]
fn a_quiet_api_has_a_zero_baseline_and_one_call_is_no_anomaly() {
    let p = Params::aws_like();
    let mut s = Series::new(-1);
    let m = 2 * DAY;
    s.observe(m, call("a"));
    assert!(s.judge(m, 0, &p).is_empty());
    for _ in 0..12 {
        s.observe(m + 1, call("a"));
    }
    let out = s.judge(m + 1, 0, &p);
    assert_eq!(out.len(), 1);
    assert!(out[0].baseline_average < 0.001);
    assert_eq!(out[0].baseline_duration, m + 1);
}

#[test]
fn no_insight_before_the_warm_up() {
    let p = Params::aws_like();
    let mut s = Series::new(-1);
    let m = p.warmup_minutes - 1;
    for _ in 0..50 {
        s.observe(m, call("a"));
    }
    assert!(s.judge(m, 0, &p).is_empty());
}

#[test]
fn a_resumed_insight_ends_with_the_same_start() {
    let p = Params::aws_like();
    let mut s = Series::new(-1);
    let m = 3 * DAY;
    for _ in 0..20 {
        s.observe(m, call("a"));
    }
    s.resume(m, 0, &p);
    let out = s.judge(m + 10, 0, &p);
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].state, State::End);
    assert_eq!(out[0].start_minute, m);
    assert_eq!(out[0].insight_duration, Some(1));
}

#[test]
fn old_minutes_are_dropped() {
    let p = Params::aws_like();
    let mut s = Series::new(-1);
    steady_week(&mut s);
    s.judge(30 * DAY, 0, &p);
    assert_eq!(s.counts(0, 30 * DAY).count(), 0);
}
