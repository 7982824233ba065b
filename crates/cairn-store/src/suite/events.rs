//! The EventBridge store's contract: buses created once per ARN, listed per place and
//! deleted with their rules and targets; rules replaced by ARN, listed per bus by name,
//! tagged, and handed out when their schedule is due unless disabled; targets replaced by id
//! and found by ARN; events put on buses read back in order and forgotten once routed; a
//! cursor that moves only together with the deliveries it made; the outbox handing out due
//! deliveries oldest first; and all of it surviving a restart.

use std::collections::BTreeMap;

use super::{Backend, cases};
use crate::events::{EventBus, NewBusEvent, NewDelivery, Rule, Target};

cases!(
    buses_are_created_once_listed_and_deleted_with_their_rules,
    rules_are_replaced_listed_by_bus_and_tagged,
    schedules_are_due_unless_disabled_and_move_on_when_fired,
    targets_are_replaced_by_id_and_found_by_arn,
    bus_events_are_read_in_order_and_forgotten,
    cursors_move_with_their_deliveries_and_the_outbox_retries,
    everything_survives_a_restart,
);

const ACCT: &str = "111122223333";
const REGION: &str = "us-east-1";

fn bus(name: &str) -> EventBus {
    EventBus {
        arn: format!("arn:aws:events:{REGION}:{ACCT}:event-bus/{name}"),
        account: ACCT.into(),
        region: REGION.into(),
        name: name.into(),
        description: Some(format!("the {name} bus")),
        created_ms: 5,
        modified_ms: 5,
        tags: BTreeMap::new(),
    }
}

fn rule(bus: &str, name: &str) -> Rule {
    let arn = if bus == "default" {
        format!("arn:aws:events:{REGION}:{ACCT}:rule/{name}")
    } else {
        format!("arn:aws:events:{REGION}:{ACCT}:rule/{bus}/{name}")
    };
    Rule {
        arn,
        account: ACCT.into(),
        region: REGION.into(),
        bus: bus.into(),
        name: name.into(),
        event_pattern: Some(r#"{"source":["a"]}"#.into()),
        schedule: None,
        state: "ENABLED".into(),
        description: None,
        role_arn: None,
        created_by: ACCT.into(),
        created_ms: 7,
        next_fire_ms: None,
        tags: BTreeMap::new(),
    }
}

fn target(rule: &Rule, id: &str, arn: &str) -> Target {
    Target {
        rule_arn: rule.arn.clone(),
        id: id.into(),
        arn: arn.into(),
        spec: format!(r#"{{"Id":"{id}","Arn":"{arn}"}}"#),
    }
}

fn delivery(rule: &Rule, input: &str, due_ms: i64) -> NewDelivery {
    NewDelivery {
        rule_arn: rule.arn.clone(),
        target: r#"{"Id":"1","Arn":"arn:aws:sqs:us-east-1:111122223333:q"}"#.into(),
        event: r#"{"version":"0"}"#.into(),
        input: input.into(),
        event_ms: 3,
        due_ms,
    }
}

fn buses_are_created_once_listed_and_deleted_with_their_rules(b: &dyn Backend) {
    let s = b.events();
    assert!(s.create_bus(&bus("orders")).unwrap());
    assert!(s.create_bus(&bus("audit")).unwrap());
    let mut again = bus("orders");
    again.description = None;
    assert!(
        !s.create_bus(&again).unwrap(),
        "a second create changes nothing"
    );
    assert_eq!(s.bus(&bus("orders").arn).unwrap(), Some(bus("orders")));
    let names: Vec<_> = s
        .buses(ACCT, REGION)
        .unwrap()
        .into_iter()
        .map(|b| b.name)
        .collect();
    assert_eq!(names, ["audit", "orders"]);
    assert!(s.buses(ACCT, "eu-west-1").unwrap().is_empty());

    let r = rule("orders", "r1");
    s.put_rule(&r).unwrap();
    s.put_targets(&[target(&r, "t", "arn:aws:sqs:us-east-1:111122223333:q")])
        .unwrap();
    assert!(s.delete_bus(&bus("orders").arn).unwrap());
    assert!(!s.delete_bus(&bus("orders").arn).unwrap());
    assert_eq!(s.rule(&r.arn).unwrap(), None);
    assert!(s.targets(&r.arn).unwrap().is_empty());
    assert!(s.bus(&bus("audit").arn).unwrap().is_some());
}

fn rules_are_replaced_listed_by_bus_and_tagged(b: &dyn Backend) {
    let s = b.events();
    assert!(!s.any_pattern_rule().unwrap());
    s.put_rule(&rule("default", "zeta")).unwrap();
    assert!(s.any_pattern_rule().unwrap());
    s.put_rule(&rule("default", "alpha")).unwrap();
    s.put_rule(&rule("orders", "alpha")).unwrap();
    let mut changed = rule("default", "zeta");
    changed.state = "DISABLED".into();
    changed.description = Some("off".into());
    s.put_rule(&changed).unwrap();
    assert_eq!(s.rule(&changed.arn).unwrap(), Some(changed.clone()));
    let names: Vec<_> = s
        .rules(ACCT, REGION, "default")
        .unwrap()
        .into_iter()
        .map(|r| r.arn)
        .collect();
    assert_eq!(
        names,
        [rule("default", "alpha").arn, rule("default", "zeta").arn]
    );
    assert_eq!(s.rules(ACCT, REGION, "orders").unwrap().len(), 1);

    let tags = BTreeMap::from([("team".to_owned(), "a".to_owned())]);
    assert!(s.set_tags(&changed.arn, &tags).unwrap());
    assert_eq!(s.rule(&changed.arn).unwrap().unwrap().tags, tags);
    s.create_bus(&bus("orders")).unwrap();
    assert!(s.set_tags(&bus("orders").arn, &tags).unwrap());
    assert_eq!(s.bus(&bus("orders").arn).unwrap().unwrap().tags, tags);
    assert!(
        !s.set_tags("arn:aws:events:us-east-1:1:rule/none", &tags)
            .unwrap()
    );

    assert!(s.delete_rule(&changed.arn).unwrap());
    assert!(!s.delete_rule(&changed.arn).unwrap());
    assert_eq!(s.rules(ACCT, REGION, "default").unwrap().len(), 1);
}

fn schedules_are_due_unless_disabled_and_move_on_when_fired(b: &dyn Backend) {
    let s = b.events();
    let mut every = rule("default", "every");
    every.event_pattern = None;
    every.schedule = Some("rate(1 minute)".into());
    every.next_fire_ms = Some(60_000);
    let mut off = every.clone();
    off.arn = rule("default", "off").arn;
    off.name = "off".into();
    off.state = "DISABLED".into();
    s.put_rule(&every).unwrap();
    s.put_rule(&off).unwrap();
    assert!(!s.any_pattern_rule().unwrap(), "schedules only");
    s.put_rule(&rule("default", "pattern")).unwrap();
    assert!(s.schedules_due(59_999).unwrap().is_empty());
    let due: Vec<_> = s
        .schedules_due(60_000)
        .unwrap()
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(due, ["every"]);
    s.fired(
        &every.arn,
        120_000,
        &[delivery(&every, "{}", 60_000)],
        60_000,
    )
    .unwrap();
    assert!(s.schedules_due(60_000).unwrap().is_empty());
    assert_eq!(
        s.rule(&every.arn).unwrap().unwrap().next_fire_ms,
        Some(120_000)
    );
    assert_eq!(s.pending().unwrap().len(), 1);
}

fn targets_are_replaced_by_id_and_found_by_arn(b: &dyn Backend) {
    let s = b.events();
    let q = "arn:aws:sqs:us-east-1:111122223333:q";
    let t = "arn:aws:sns:us-east-1:111122223333:t";
    let (r1, r2, other) = (
        rule("default", "r1"),
        rule("default", "r2"),
        rule("orders", "r1"),
    );
    s.put_targets(&[target(&r1, "b", q), target(&r1, "a", t)])
        .unwrap();
    s.put_targets(&[target(&r2, "x", q), target(&other, "y", q)])
        .unwrap();
    s.put_targets(&[target(&r1, "b", t)]).unwrap();
    let ids: Vec<_> = s
        .targets(&r1.arn)
        .unwrap()
        .into_iter()
        .map(|t| (t.id, t.arn))
        .collect();
    assert_eq!(
        ids,
        [("a".into(), t.to_owned()), ("b".into(), t.to_owned())]
    );
    let default_prefix = format!("arn:aws:events:{REGION}:{ACCT}:rule/");
    // Rules of the default bus have no bus segment; a custom bus's do.
    let found = s.rules_with_target(&default_prefix, q).unwrap();
    assert!(found.contains(&r2.arn));
    assert!(!found.contains(&r1.arn));
    let orders_prefix = format!("arn:aws:events:{REGION}:{ACCT}:rule/orders/");
    assert_eq!(s.rules_with_target(&orders_prefix, q).unwrap(), [other.arn]);
    assert_eq!(
        s.remove_targets(&r1.arn, &["a".into(), "nope".into()])
            .unwrap(),
        1
    );
    assert_eq!(s.targets(&r1.arn).unwrap().len(), 1);
}

fn bus_events_are_read_in_order_and_forgotten(b: &dyn Backend) {
    let s = b.events();
    let e = |n: u32| NewBusEvent {
        account: ACCT.into(),
        region: REGION.into(),
        bus: "default".into(),
        event: format!(r#"{{"n":{n}}}"#),
    };
    s.put_bus_events(&[e(1), e(2), e(3)], 10).unwrap();
    s.put_bus_events(&[], 11).unwrap();
    let all = s.bus_events_after(0, 10).unwrap();
    assert_eq!(all.len(), 3);
    assert!(all.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(all[0].event, r#"{"n":1}"#);
    assert_eq!(all[0].created_ms, 10);
    let two = s.bus_events_after(all[0].seq, 1).unwrap();
    assert_eq!(two[0].event, r#"{"n":2}"#);
    s.forget_bus_events(all[1].seq).unwrap();
    let left = s.bus_events_after(0, 10).unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].event, r#"{"n":3}"#);
}

fn cursors_move_with_their_deliveries_and_the_outbox_retries(b: &dyn Backend) {
    let s = b.events();
    let r = rule("default", "r");
    assert_eq!(s.cursor("cloudtrail").unwrap(), None);
    s.advance(
        "cloudtrail",
        42,
        &[delivery(&r, "first", 100), delivery(&r, "second", 50)],
        20,
    )
    .unwrap();
    assert_eq!(s.cursor("cloudtrail").unwrap(), Some(42));
    s.advance("cloudtrail", 43, &[], 21).unwrap();
    assert_eq!(s.cursor("cloudtrail").unwrap(), Some(43));
    assert_eq!(s.cursor("bus").unwrap(), None);

    assert!(s.due(49, 10).unwrap().is_empty());
    let due: Vec<_> = s
        .due(100, 10)
        .unwrap()
        .into_iter()
        .map(|d| d.input)
        .collect();
    assert_eq!(due, ["second", "first"]);
    let first = s.due(100, 1).unwrap().remove(0);
    assert_eq!(first.attempts, 0);
    assert_eq!(first.created_ms, 20);
    s.retry_later(first.id, 1, 500, "AccessDenied").unwrap();
    let due = s.due(100, 10).unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].input, "first");
    let later = s.due(500, 10).unwrap();
    let retried = later.iter().find(|d| d.id == first.id).unwrap();
    assert_eq!(retried.attempts, 1);
    assert_eq!(retried.last_error.as_deref(), Some("AccessDenied"));
    for d in later {
        s.finish(d.id).unwrap();
    }
    assert!(s.pending().unwrap().is_empty());
}

fn everything_survives_a_restart(b: &dyn Backend) {
    let r = rule("orders", "kept");
    {
        let s = b.events();
        s.create_bus(&bus("orders")).unwrap();
        s.put_rule(&r).unwrap();
        s.put_targets(&[target(&r, "t", "arn:aws:sqs:us-east-1:111122223333:q")])
            .unwrap();
        s.put_bus_events(
            &[NewBusEvent {
                account: ACCT.into(),
                region: REGION.into(),
                bus: "orders".into(),
                event: "{}".into(),
            }],
            1,
        )
        .unwrap();
        s.advance("cloudtrail", 9, &[delivery(&r, "owed", 1)], 1)
            .unwrap();
    }
    b.restart();
    let s = b.events();
    assert!(s.bus(&bus("orders").arn).unwrap().is_some());
    assert_eq!(s.rule(&r.arn).unwrap(), Some(r.clone()));
    assert_eq!(s.targets(&r.arn).unwrap().len(), 1);
    assert_eq!(s.bus_events_after(0, 10).unwrap().len(), 1);
    assert_eq!(s.cursor("cloudtrail").unwrap(), Some(9));
    assert_eq!(s.pending().unwrap()[0].input, "owed");
}
