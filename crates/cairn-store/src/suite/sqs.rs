//! The SQS store's contract: queues per account and region (created once, attributes with
//! their modification time, tags, delete with their messages), messages received oldest first
//! once visible and hidden for the visibility timeout, retention, deletion and visibility
//! changes by receipt handle, dead-letter moves after too many receives, purges, counts, and
//! that sends move the generation a long poll waits on.

use std::collections::BTreeMap;

use super::{Backend, cases};
use crate::sqs::{DeadLetter, Message, NewMessage, Queue, QueueKey, Receive, VisibilityChange};

cases!(
    queues_are_per_account_and_region_and_created_once,
    attributes_and_tags_are_replaced,
    messages_are_received_in_order_once_visible_and_hidden_meanwhile,
    receipts_delete_and_change_visibility,
    retention_leaves_old_messages_out,
    messages_received_too_often_move_to_the_dead_letter_queue,
    purge_and_delete_take_the_messages,
    counts_follow_the_messages_states,
    sends_move_the_generation_on,
    everything_survives_a_restart,
);

const ACCT: &str = "111122223333";

fn key(name: &str) -> QueueKey {
    QueueKey::new(ACCT, "us-east-1", name)
}

fn queue(name: &str, created_ms: i64) -> Queue {
    Queue {
        key: key(name),
        created_ms,
        modified_ms: created_ms,
        attributes: BTreeMap::new(),
        tags: BTreeMap::new(),
        purged_ms: None,
    }
}

fn msg(id: &str, sent_ms: i64, visible_ms: i64) -> NewMessage {
    NewMessage {
        id: id.into(),
        body: format!("body of {id}"),
        attributes: "{}".into(),
        md5_body: "0".repeat(32),
        sender_id: ACCT.into(),
        sent_ms,
        visible_ms,
    }
}

fn handle(m: &Message) -> String {
    format!("{}-{}", m.id, m.receive_count)
}

fn recv(now_ms: i64, max: usize, hide_ms: i64) -> Receive<'static> {
    Receive {
        now_ms,
        oldest_ms: 0,
        max,
        visible_until_ms: now_ms + hide_ms,
        receipt: &handle,
        dead_letter: None,
    }
}

fn ids(v: &[Message]) -> Vec<&str> {
    v.iter().map(|m| m.id.as_str()).collect()
}

pub fn queues_are_per_account_and_region_and_created_once(b: &dyn Backend) {
    let s = b.sqs();
    assert!(s.create_queue(&queue("b", 2)).unwrap());
    assert!(s.create_queue(&queue("a", 1)).unwrap());
    assert!(
        !s.create_queue(&queue("a", 9)).unwrap(),
        "a name is taken once"
    );
    assert_eq!(s.queue(&key("a")).unwrap().unwrap().created_ms, 1);
    let mut other = queue("a", 3);
    other.key.region = "eu-west-1".into();
    assert!(s.create_queue(&other).unwrap());
    let names: Vec<String> = s
        .queues(ACCT, "us-east-1")
        .unwrap()
        .into_iter()
        .map(|q| q.key.name)
        .collect();
    assert_eq!(names, ["a", "b"]);
    assert!(s.queue(&key("c")).unwrap().is_none());
    assert_eq!(key("a").arn(), "arn:aws:sqs:us-east-1:111122223333:a");
}

pub fn attributes_and_tags_are_replaced(b: &dyn Backend) {
    let s = b.sqs();
    s.create_queue(&queue("q", 1)).unwrap();
    let attrs = BTreeMap::from([("VisibilityTimeout".to_string(), "5".to_string())]);
    assert!(s.set_attributes(&key("q"), &attrs, 7).unwrap());
    let tags = BTreeMap::from([("team".to_string(), "sec".to_string())]);
    assert!(s.set_tags(&key("q"), &tags).unwrap());
    let q = s.queue(&key("q")).unwrap().unwrap();
    assert_eq!(q.attributes, attrs);
    assert_eq!(q.tags, tags);
    assert_eq!((q.created_ms, q.modified_ms), (1, 7));
    assert!(!s.set_attributes(&key("none"), &attrs, 7).unwrap());
    assert!(!s.set_tags(&key("none"), &tags).unwrap());
}

pub fn messages_are_received_in_order_once_visible_and_hidden_meanwhile(b: &dyn Backend) {
    let s = b.sqs();
    s.create_queue(&queue("q", 1)).unwrap();
    s.send(&key("q"), &[msg("m1", 10, 10), msg("m2", 11, 11)])
        .unwrap();
    s.send(&key("q"), &[msg("late", 12, 500)]).unwrap();
    let got = s.receive(&key("q"), &recv(100, 10, 30)).unwrap();
    assert_eq!(ids(&got), ["m1", "m2"], "the delayed message is not ready");
    assert_eq!(got[0].receive_count, 1);
    assert_eq!(got[0].first_receive_ms, Some(100));
    assert_eq!(got[0].receipt.as_deref(), Some("m1-1"));
    assert_eq!(got[0].body, "body of m1");
    assert!(
        s.receive(&key("q"), &recv(120, 10, 30)).unwrap().is_empty(),
        "hidden"
    );
    let again = s.receive(&key("q"), &recv(130, 1, 30)).unwrap();
    assert_eq!(
        ids(&again),
        ["m1"],
        "visible again after the timeout, one at most"
    );
    assert_eq!(again[0].receive_count, 2);
    assert_eq!(
        again[0].first_receive_ms,
        Some(100),
        "the first receive is kept"
    );
    let later = s.receive(&key("q"), &recv(600, 10, 30)).unwrap();
    assert_eq!(ids(&later), ["m1", "m2", "late"]);
}

pub fn receipts_delete_and_change_visibility(b: &dyn Backend) {
    let s = b.sqs();
    s.create_queue(&queue("q", 1)).unwrap();
    s.send(&key("q"), &[msg("m1", 10, 10), msg("m2", 10, 10)])
        .unwrap();
    let got = s.receive(&key("q"), &recv(100, 10, 30)).unwrap();
    assert!(s.delete_message(&key("q"), "m1-1").unwrap());
    assert!(!s.delete_message(&key("q"), "m1-1").unwrap(), "gone");
    assert_eq!(got.len(), 2);
    assert_eq!(
        s.change_visibility(&key("q"), "m2-1", 100, 100).unwrap(),
        VisibilityChange::Changed
    );
    assert_eq!(
        s.change_visibility(&key("q"), "m2-1", 101, 200).unwrap(),
        VisibilityChange::NotInFlight,
        "visible again: not in flight"
    );
    assert_eq!(
        s.change_visibility(&key("q"), "nope", 101, 200).unwrap(),
        VisibilityChange::NoSuchReceipt
    );
    assert_eq!(
        ids(&s.receive(&key("q"), &recv(101, 10, 30)).unwrap()),
        ["m2"]
    );
}

pub fn retention_leaves_old_messages_out(b: &dyn Backend) {
    let s = b.sqs();
    s.create_queue(&queue("q", 1)).unwrap();
    s.send(&key("q"), &[msg("old", 10, 10), msg("new", 50, 50)])
        .unwrap();
    assert_eq!(s.counts(&key("q"), 100, 20).unwrap().visible, 1);
    let mut r = recv(100, 10, 30);
    r.oldest_ms = 20;
    assert_eq!(ids(&s.receive(&key("q"), &r).unwrap()), ["new"]);
    assert_eq!(s.counts(&key("q"), 100, 0).unwrap().in_flight, 1);
}

pub fn messages_received_too_often_move_to_the_dead_letter_queue(b: &dyn Backend) {
    let s = b.sqs();
    s.create_queue(&queue("q", 1)).unwrap();
    s.create_queue(&queue("dlq", 1)).unwrap();
    s.send(&key("q"), &[msg("m1", 10, 10), msg("m2", 10, 10)])
        .unwrap();
    let dlq = key("dlq");
    let source = key("q").arn();
    let with_dl = |now| {
        let mut r = recv(now, 1, 10);
        r.dead_letter = Some(DeadLetter {
            queue: &dlq,
            max_receives: 2,
            source_arn: &source,
        });
        r
    };
    assert_eq!(ids(&s.receive(&key("q"), &with_dl(100)).unwrap()), ["m1"]);
    assert_eq!(ids(&s.receive(&key("q"), &with_dl(100)).unwrap()), ["m2"]);
    assert_eq!(ids(&s.receive(&key("q"), &with_dl(200)).unwrap()), ["m1"]);
    // m1 has been received twice: it moves, and the receive goes on to m2.
    assert_eq!(ids(&s.receive(&key("q"), &with_dl(300)).unwrap()), ["m2"]);
    let dead = s.receive(&dlq, &recv(300, 10, 10)).unwrap();
    assert_eq!(ids(&dead), ["m1"]);
    assert_eq!(
        dead[0].receive_count, 1,
        "counted afresh in the dead-letter queue"
    );
    assert_eq!(dead[0].source_arn.as_deref(), Some(source.as_str()));
    assert_eq!(dead[0].body, "body of m1");
}

pub fn purge_and_delete_take_the_messages(b: &dyn Backend) {
    let s = b.sqs();
    s.create_queue(&queue("q", 1)).unwrap();
    s.send(&key("q"), &[msg("m1", 10, 10), msg("m2", 10, 10)])
        .unwrap();
    assert_eq!(s.purge(&key("q"), 77).unwrap(), 2);
    assert_eq!(s.queue(&key("q")).unwrap().unwrap().purged_ms, Some(77));
    assert!(s.receive(&key("q"), &recv(100, 10, 30)).unwrap().is_empty());
    s.send(&key("q"), &[msg("m3", 10, 10)]).unwrap();
    assert!(s.delete_queue(&key("q")).unwrap());
    assert!(!s.delete_queue(&key("q")).unwrap());
    s.create_queue(&queue("q", 2)).unwrap();
    assert!(
        s.receive(&key("q"), &recv(100, 10, 30)).unwrap().is_empty(),
        "a queue made again under the name is empty"
    );
}

pub fn counts_follow_the_messages_states(b: &dyn Backend) {
    let s = b.sqs();
    s.create_queue(&queue("q", 1)).unwrap();
    s.send(
        &key("q"),
        &[msg("a", 10, 10), msg("b", 10, 10), msg("c", 10, 1000)],
    )
    .unwrap();
    s.receive(&key("q"), &recv(100, 1, 30)).unwrap();
    let c = s.counts(&key("q"), 100, 0).unwrap();
    assert_eq!((c.visible, c.in_flight, c.delayed), (1, 1, 1));
}

pub fn sends_move_the_generation_on(b: &dyn Backend) {
    let s = b.sqs();
    s.create_queue(&queue("q", 1)).unwrap();
    let before = s.generation();
    s.send(&key("q"), &[msg("a", 10, 10)]).unwrap();
    assert!(s.generation() > before);
}

pub fn everything_survives_a_restart(b: &dyn Backend) {
    {
        let s = b.sqs();
        s.create_queue(&queue("q", 1)).unwrap();
        s.send(&key("q"), &[msg("a", 10, 10)]).unwrap();
    }
    b.restart();
    let s = b.sqs();
    assert!(s.queue(&key("q")).unwrap().is_some());
    assert_eq!(
        ids(&s.receive(&key("q"), &recv(100, 10, 30)).unwrap()),
        ["a"]
    );
}
