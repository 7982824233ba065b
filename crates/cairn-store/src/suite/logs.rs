//! The Logs store's contract: groups per account and region (create once, retention, tags,
//! delete with everything in them), streams per group, events in (timestamp, id) order read
//! forward and backward from a position over named, prefixed or all streams, expiry, and
//! metric filters (create or replace keeping the creation time), subscription filters (which
//! see only events stored after them) and the batches their delivery reads behind a durable
//! cursor; and the account's resource policies (create or replace by name, per account and
//! region, kept across a restart).

use std::collections::BTreeMap;

use super::{Backend, cases};
use crate::logs::{
    EventQuery, GroupKey, LogGroup, LogStream, MetricFilter, NewEvent, Position, ResourcePolicy,
    Streams, SubscriptionFilter,
};

cases!(
    groups_are_per_account_and_region_and_created_once,
    retention_and_tags_are_set_and_cleared,
    streams_are_per_group_and_created_once,
    events_move_the_stream_on_and_read_in_order_both_ways,
    events_are_read_from_named_or_prefixed_streams_in_a_window,
    expired_events_are_removed,
    metric_filters_replace_by_name_and_keep_their_creation_time,
    deleting_a_group_takes_everything_in_it,
    everything_survives_a_restart,
    subscription_filters_see_events_stored_after_them,
    subscription_delivery_reads_batches_behind_a_durable_cursor,
    resource_policies_replace_by_name_per_account_and_region,
    resource_policies_survive_a_restart,
);

const ACCT: &str = "111122223333";

fn key(name: &str) -> GroupKey {
    GroupKey::new(ACCT, "us-east-1", name)
}

fn group(name: &str, created_ms: i64) -> LogGroup {
    LogGroup {
        key: key(name),
        created_ms,
        retention_days: None,
        tags: BTreeMap::new(),
    }
}

fn stream(name: &str) -> LogStream {
    LogStream {
        name: name.into(),
        created_ms: 1,
        first_event_ms: None,
        last_event_ms: None,
        last_ingestion_ms: None,
        uploads: 0,
    }
}

fn ev(timestamp: i64, message: &str) -> NewEvent {
    NewEvent {
        timestamp,
        message: message.into(),
    }
}

fn q(limit: usize) -> EventQuery {
    EventQuery {
        limit,
        ..EventQuery::default()
    }
}

fn messages(v: &[crate::logs::LogEvent]) -> Vec<&str> {
    v.iter().map(|e| e.message.as_str()).collect()
}

pub fn groups_are_per_account_and_region_and_created_once(b: &dyn Backend) {
    let s = b.logs();
    assert!(s.create_group(&group("b", 2)).unwrap());
    assert!(s.create_group(&group("a", 1)).unwrap());
    assert!(
        !s.create_group(&group("a", 9)).unwrap(),
        "a name is taken once"
    );
    assert_eq!(s.group(&key("a")).unwrap().unwrap().created_ms, 1);
    let mut other = group("a", 3);
    other.key.region = "eu-west-1".into();
    assert!(s.create_group(&other).unwrap());
    let names: Vec<String> = s
        .groups(ACCT, "us-east-1")
        .unwrap()
        .into_iter()
        .map(|g| g.key.name)
        .collect();
    assert_eq!(names, ["a", "b"]);
    assert!(s.groups("444455556666", "us-east-1").unwrap().is_empty());
    assert!(s.group(&key("nope")).unwrap().is_none());
}

pub fn retention_and_tags_are_set_and_cleared(b: &dyn Backend) {
    let s = b.logs();
    s.create_group(&group("g", 1)).unwrap();
    assert!(s.set_retention(&key("g"), Some(7)).unwrap());
    assert_eq!(s.group(&key("g")).unwrap().unwrap().retention_days, Some(7));
    assert!(s.set_retention(&key("g"), None).unwrap());
    assert_eq!(s.group(&key("g")).unwrap().unwrap().retention_days, None);
    assert!(!s.set_retention(&key("nope"), Some(7)).unwrap());
    let tags = BTreeMap::from([("team".to_string(), "sec".to_string())]);
    assert!(s.set_tags(&key("g"), &tags).unwrap());
    assert_eq!(s.group(&key("g")).unwrap().unwrap().tags, tags);
    assert!(!s.set_tags(&key("nope"), &tags).unwrap());
}

pub fn streams_are_per_group_and_created_once(b: &dyn Backend) {
    let s = b.logs();
    s.create_group(&group("g", 1)).unwrap();
    s.create_group(&group("h", 1)).unwrap();
    assert!(s.create_stream(&key("g"), &stream("s2")).unwrap());
    assert!(s.create_stream(&key("g"), &stream("s1")).unwrap());
    assert!(!s.create_stream(&key("g"), &stream("s1")).unwrap());
    assert!(s.create_stream(&key("h"), &stream("s1")).unwrap());
    let names: Vec<String> = s
        .streams(&key("g"))
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, ["s1", "s2"]);
    assert_eq!(s.stream(&key("g"), "s1").unwrap().unwrap(), stream("s1"));
    assert!(s.delete_stream(&key("g"), "s1").unwrap());
    assert!(!s.delete_stream(&key("g"), "s1").unwrap());
    assert!(s.stream(&key("g"), "s1").unwrap().is_none());
    assert!(s.stream(&key("h"), "s1").unwrap().is_some());
}

pub fn events_move_the_stream_on_and_read_in_order_both_ways(b: &dyn Backend) {
    let s = b.logs();
    s.create_group(&group("g", 1)).unwrap();
    s.create_stream(&key("g"), &stream("s")).unwrap();
    let after = s
        .put_events(&key("g"), "s", &[ev(10, "a"), ev(20, "b")], 100)
        .unwrap();
    assert_eq!(
        (
            after.first_event_ms,
            after.last_event_ms,
            after.last_ingestion_ms,
            after.uploads
        ),
        (Some(10), Some(20), Some(100), 1)
    );
    // An older batch later: first moves back, last stays; equal timestamps keep arrival order.
    let after = s
        .put_events(&key("g"), "s", &[ev(5, "z"), ev(20, "c")], 200)
        .unwrap();
    assert_eq!(
        (after.first_event_ms, after.last_event_ms, after.uploads),
        (Some(5), Some(20), 2)
    );
    let empty = s.put_events(&key("g"), "s", &[], 300).unwrap();
    assert_eq!(
        (empty.last_ingestion_ms, empty.uploads),
        (Some(200), 3),
        "an empty batch moves only the token"
    );
    let all = s.events(&key("g"), &q(100)).unwrap();
    assert_eq!(messages(&all), ["z", "a", "b", "c"]);
    assert_eq!(all[1].ingestion_ms, 100);
    // Pages forward from a position, and backward.
    let first = s.events(&key("g"), &q(2)).unwrap();
    let next = s
        .events(
            &key("g"),
            &EventQuery {
                from: Some(first[1].position()),
                ..q(2)
            },
        )
        .unwrap();
    assert_eq!(messages(&next), ["b", "c"]);
    let back = s
        .events(
            &key("g"),
            &EventQuery {
                descending: true,
                from: Some(Position {
                    timestamp: 20,
                    id: next[1].id,
                }),
                ..q(10)
            },
        )
        .unwrap();
    assert_eq!(messages(&back), ["b", "a", "z"]);
}

pub fn events_are_read_from_named_or_prefixed_streams_in_a_window(b: &dyn Backend) {
    let s = b.logs();
    s.create_group(&group("g", 1)).unwrap();
    for n in ["app-1", "app-2", "db_%"] {
        s.create_stream(&key("g"), &stream(n)).unwrap();
    }
    s.put_events(&key("g"), "app-1", &[ev(1, "a1"), ev(30, "a1 late")], 5)
        .unwrap();
    s.put_events(&key("g"), "app-2", &[ev(2, "a2")], 5).unwrap();
    s.put_events(&key("g"), "db_%", &[ev(3, "db")], 5).unwrap();
    let read = |streams: Streams, start, end| {
        let e = s
            .events(
                &key("g"),
                &EventQuery {
                    streams,
                    start,
                    end,
                    ..q(100)
                },
            )
            .unwrap();
        e.into_iter().map(|e| e.message).collect::<Vec<_>>()
    };
    assert_eq!(
        read(Streams::All, None, None),
        ["a1", "a2", "db", "a1 late"]
    );
    assert_eq!(
        read(
            Streams::Named(vec!["app-2".into(), "db_%".into()]),
            None,
            None
        ),
        ["a2", "db"]
    );
    assert_eq!(
        read(Streams::Prefix("app".into()), None, None),
        ["a1", "a2", "a1 late"]
    );
    assert_eq!(read(Streams::Prefix("db_".into()), None, None), ["db"]);
    assert!(
        read(Streams::Prefix("d%".into()), None, None).is_empty(),
        "% is no wildcard"
    );
    assert_eq!(
        read(Streams::All, Some(2), Some(30)),
        ["a2", "db"],
        "[start, end)"
    );
}

pub fn expired_events_are_removed(b: &dyn Backend) {
    let s = b.logs();
    s.create_group(&group("g", 1)).unwrap();
    s.create_stream(&key("g"), &stream("s")).unwrap();
    s.put_events(&key("g"), "s", &[ev(1, "old"), ev(50, "new")], 60)
        .unwrap();
    assert_eq!(s.expire_events(&key("g"), 50).unwrap(), 1);
    assert_eq!(messages(&s.events(&key("g"), &q(10)).unwrap()), ["new"]);
}

pub fn metric_filters_replace_by_name_and_keep_their_creation_time(b: &dyn Backend) {
    let s = b.logs();
    s.create_group(&group("g", 1)).unwrap();
    s.create_group(&group("a", 1)).unwrap();
    let f = |group: &str, name: &str, pattern: &str, created_ms| MetricFilter {
        group: group.into(),
        name: name.into(),
        pattern: pattern.into(),
        transformations: "[]".into(),
        created_ms,
    };
    s.put_metric_filter(&key("g"), &f("g", "f", "ERROR", 5))
        .unwrap();
    s.put_metric_filter(&key("g"), &f("g", "f", "WARN", 9))
        .unwrap();
    s.put_metric_filter(&key("a"), &f("a", "z", "", 7)).unwrap();
    assert_eq!(
        s.metric_filters(ACCT, "us-east-1", Some("g")).unwrap(),
        [f("g", "f", "WARN", 5)]
    );
    let all = s.metric_filters(ACCT, "us-east-1", None).unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].group, "a", "by group, then name");
    assert!(s.delete_metric_filter(&key("g"), "f").unwrap());
    assert!(!s.delete_metric_filter(&key("g"), "f").unwrap());
}

pub fn deleting_a_group_takes_everything_in_it(b: &dyn Backend) {
    let s = b.logs();
    s.create_group(&group("g", 1)).unwrap();
    s.create_stream(&key("g"), &stream("s")).unwrap();
    s.put_events(&key("g"), "s", &[ev(1, "m")], 2).unwrap();
    let f = MetricFilter {
        group: "g".into(),
        name: "f".into(),
        pattern: "".into(),
        transformations: "[]".into(),
        created_ms: 1,
    };
    s.put_metric_filter(&key("g"), &f).unwrap();
    assert!(s.delete_group(&key("g")).unwrap());
    assert!(!s.delete_group(&key("g")).unwrap());
    // A new group of the same name starts empty.
    s.create_group(&group("g", 3)).unwrap();
    assert!(s.streams(&key("g")).unwrap().is_empty());
    assert!(s.events(&key("g"), &q(10)).unwrap().is_empty());
    assert!(
        s.metric_filters(ACCT, "us-east-1", Some("g"))
            .unwrap()
            .is_empty()
    );
}

pub fn everything_survives_a_restart(b: &dyn Backend) {
    let s = b.logs();
    s.create_group(&group("g", 1)).unwrap();
    s.set_retention(&key("g"), Some(30)).unwrap();
    s.create_stream(&key("g"), &stream("s")).unwrap();
    s.put_events(&key("g"), "s", &[ev(1, "kept")], 2).unwrap();
    drop(s);
    b.restart();
    let s = b.logs();
    assert_eq!(
        s.group(&key("g")).unwrap().unwrap().retention_days,
        Some(30)
    );
    assert_eq!(s.stream(&key("g"), "s").unwrap().unwrap().uploads, 1);
    assert_eq!(messages(&s.events(&key("g"), &q(10)).unwrap()), ["kept"]);
}

fn sub(group: &str, name: &str, destination: &str) -> SubscriptionFilter {
    SubscriptionFilter {
        group: group.into(),
        name: name.into(),
        pattern: "".into(),
        destination_arn: destination.into(),
        role_arn: None,
        distribution: "ByLogStream".into(),
        from_id: 0,
        created_ms: 4,
    }
}

pub fn subscription_filters_see_events_stored_after_them(b: &dyn Backend) {
    let s = b.logs();
    s.create_group(&group("g", 1)).unwrap();
    s.create_stream(&key("g"), &stream("s")).unwrap();
    s.put_events(&key("g"), "s", &[ev(1, "before"), ev(2, "before")], 2)
        .unwrap();
    let (_, end) = s.subscription_cursor().unwrap();
    s.put_subscription_filter(&key("g"), &sub("g", "f", "arn:1"))
        .unwrap();
    let got = s
        .subscription_filters(ACCT, "us-east-1", Some("g"))
        .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].from_id, end, "from the next event id on");
    assert_eq!(got[0].destination_arn, "arn:1");
    // Replacing moves it on to events stored after the replacement, keeping its creation time.
    s.put_events(&key("g"), "s", &[ev(3, "after")], 4).unwrap();
    let mut changed = sub("g", "f", "arn:2");
    changed.created_ms = 99;
    s.put_subscription_filter(&key("g"), &changed).unwrap();
    let got = s.subscription_filters(ACCT, "us-east-1", None).unwrap();
    assert_eq!(got[0].from_id, end + 1);
    assert_eq!(
        (got[0].destination_arn.as_str(), got[0].created_ms),
        ("arn:2", 4)
    );
    let all = s.all_subscription_filters().unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].0, key("g"));
    assert!(s.delete_subscription_filter(&key("g"), "f").unwrap());
    assert!(!s.delete_subscription_filter(&key("g"), "f").unwrap());
    // Deleting a group takes its subscription filters.
    s.put_subscription_filter(&key("g"), &sub("g", "f", "arn:1"))
        .unwrap();
    s.delete_group(&key("g")).unwrap();
    assert!(s.all_subscription_filters().unwrap().is_empty());
}

pub fn subscription_delivery_reads_batches_behind_a_durable_cursor(b: &dyn Backend) {
    let s = b.logs();
    let (start, end) = s.subscription_cursor().unwrap();
    assert_eq!(start, end, "a new store starts at the end");
    s.create_group(&group("g", 1)).unwrap();
    s.create_stream(&key("g"), &stream("s")).unwrap();
    s.create_stream(&key("g"), &stream("t")).unwrap();
    s.put_events(&key("g"), "s", &[ev(1, "a"), ev(2, "b")], 2)
        .unwrap();
    s.put_events(&key("g"), "t", &[ev(3, "c")], 2).unwrap();
    let batches = s.batches_from(start, 10).unwrap();
    assert_eq!(batches.len(), 2);
    assert_eq!(batches[0].first_id, start);
    assert_eq!(batches[0].stream, "s");
    assert_eq!(
        batches[0].events,
        [(1, "a".to_string()), (2, "b".to_string())]
    );
    assert_eq!(batches[1].first_id, start + 2);
    assert_eq!(batches[1].key, key("g"));
    assert_eq!(s.batches_from(start, 1).unwrap().len(), 1, "a limit");
    assert!(s.batches_from(start + 3, 10).unwrap().is_empty());
    s.set_subscription_cursor(start + 2).unwrap();
    drop(s);
    b.restart();
    let s = b.logs();
    assert_eq!(s.subscription_cursor().unwrap(), (start + 2, start + 3));
}

fn policy(name: &str, document: &str, updated_ms: i64) -> ResourcePolicy {
    ResourcePolicy {
        name: name.into(),
        document: document.into(),
        updated_ms,
    }
}

pub fn resource_policies_replace_by_name_per_account_and_region(b: &dyn Backend) {
    let s = b.logs();
    s.put_resource_policy(ACCT, "us-east-1", &policy("b", "{1}", 1))
        .unwrap();
    s.put_resource_policy(ACCT, "us-east-1", &policy("a", "{2}", 2))
        .unwrap();
    s.put_resource_policy(ACCT, "us-east-1", &policy("b", "{3}", 3))
        .unwrap();
    s.put_resource_policy(ACCT, "eu-west-1", &policy("c", "{4}", 4))
        .unwrap();
    s.put_resource_policy("444455556666", "us-east-1", &policy("d", "{5}", 5))
        .unwrap();
    assert_eq!(
        s.resource_policies(ACCT, "us-east-1").unwrap(),
        vec![policy("a", "{2}", 2), policy("b", "{3}", 3)],
        "by name; a put of a taken name replaces its document and time"
    );
    assert_eq!(
        s.resource_policies(ACCT, "eu-west-1").unwrap(),
        vec![policy("c", "{4}", 4)]
    );
    assert!(s.delete_resource_policy(ACCT, "us-east-1", "a").unwrap());
    assert!(!s.delete_resource_policy(ACCT, "us-east-1", "a").unwrap());
    assert!(
        !s.delete_resource_policy(ACCT, "us-east-1", "d").unwrap(),
        "another account's policy is not this one's"
    );
    assert_eq!(
        s.resource_policies(ACCT, "us-east-1").unwrap(),
        vec![policy("b", "{3}", 3)]
    );
    assert_eq!(
        s.resource_policies("444455556666", "us-east-1")
            .unwrap()
            .len(),
        1
    );
}

pub fn resource_policies_survive_a_restart(b: &dyn Backend) {
    let s = b.logs();
    s.put_resource_policy(ACCT, "us-east-1", &policy("p", "{}", 7))
        .unwrap();
    drop(s);
    b.restart();
    assert_eq!(
        b.logs().resource_policies(ACCT, "us-east-1").unwrap(),
        vec![policy("p", "{}", 7)]
    );
}
