//! The SNS store's contract: topics created once per ARN, listed per account and region,
//! updated and deleted with their subscriptions and pending deliveries; subscriptions
//! replaced by ARN and counted on their topic when deleted; the outbox handing out due
//! deliveries oldest first, moving retries on and forgetting finished ones; one signing
//! certificate kept for good; and all of it surviving a restart.

use std::collections::BTreeMap;

use super::{Backend, cases};
use crate::sns::{NewDelivery, SigningCert, Subscription, Topic};

cases!(
    topics_are_created_once_and_listed_per_place,
    topic_updates_and_deletes_take_subscriptions_and_deliveries,
    subscriptions_are_replaced_listed_and_counted_when_deleted,
    outbox_hands_out_due_deliveries_in_order,
    the_first_signing_certificate_is_kept,
    everything_survives_a_restart,
);

const ACCT: &str = "111122223333";

fn topic(name: &str, region: &str) -> Topic {
    Topic {
        arn: format!("arn:aws:sns:{region}:{ACCT}:{name}"),
        account: ACCT.into(),
        region: region.into(),
        name: name.into(),
        created_ms: 1,
        attributes: BTreeMap::from([("DisplayName".into(), name.to_uppercase())]),
        tags: BTreeMap::new(),
        subscriptions_deleted: 0,
    }
}

fn sub(topic: &Topic, id: &str, created_ms: i64) -> Subscription {
    Subscription {
        arn: format!("{}:{id}", topic.arn),
        topic_arn: topic.arn.clone(),
        owner: ACCT.into(),
        protocol: "http".into(),
        endpoint: format!("http://127.0.0.1:9/{id}"),
        confirmed: false,
        token: Some(format!("token-{id}")),
        attributes: BTreeMap::new(),
        created_ms,
    }
}

fn delivery(s: &Subscription, payload: &str, due_ms: i64) -> NewDelivery {
    NewDelivery {
        subscription_arn: s.arn.clone(),
        topic_arn: s.topic_arn.clone(),
        payload: payload.into(),
        due_ms,
    }
}

fn topics_are_created_once_and_listed_per_place(b: &dyn Backend) {
    let s = b.sns();
    let a = topic("a", "us-east-1");
    assert!(s.create_topic(&a).unwrap());
    let mut again = a.clone();
    again.attributes.clear();
    assert!(!s.create_topic(&again).unwrap());
    assert_eq!(s.topic(&a.arn).unwrap(), Some(a.clone()));
    s.create_topic(&topic("b", "us-east-1")).unwrap();
    s.create_topic(&topic("c", "eu-west-1")).unwrap();
    let names: Vec<_> = s
        .topics(ACCT, "us-east-1")
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["a", "b"]);
    assert!(
        s.topic("arn:aws:sns:us-east-1:111122223333:nope")
            .unwrap()
            .is_none()
    );
}

fn topic_updates_and_deletes_take_subscriptions_and_deliveries(b: &dyn Backend) {
    let s = b.sns();
    let mut t = topic("a", "us-east-1");
    s.create_topic(&t).unwrap();
    t.tags.insert("team".into(), "audit".into());
    t.attributes.insert("Policy".into(), "{}".into());
    assert!(s.update_topic(&t).unwrap());
    assert_eq!(s.topic(&t.arn).unwrap().unwrap(), t);
    let x = sub(&t, "x", 1);
    s.put_subscription(&x).unwrap();
    s.enqueue(&[delivery(&x, "m", 0)], 0).unwrap();
    assert!(s.delete_topic(&t.arn).unwrap());
    assert!(!s.delete_topic(&t.arn).unwrap());
    assert!(s.subscription(&x.arn).unwrap().is_none());
    assert!(s.pending().unwrap().is_empty());
    assert!(!s.update_topic(&t).unwrap());
}

fn subscriptions_are_replaced_listed_and_counted_when_deleted(b: &dyn Backend) {
    let s = b.sns();
    let t = topic("a", "us-east-1");
    let other = topic("b", "eu-west-1");
    s.create_topic(&t).unwrap();
    s.create_topic(&other).unwrap();
    let mut x = sub(&t, "x", 2);
    let y = sub(&t, "y", 1);
    s.put_subscription(&x).unwrap();
    s.put_subscription(&y).unwrap();
    s.put_subscription(&sub(&other, "z", 0)).unwrap();
    x.confirmed = true;
    x.token = None;
    x.attributes
        .insert("RawMessageDelivery".into(), "true".into());
    s.put_subscription(&x).unwrap();
    assert_eq!(s.subscription(&x.arn).unwrap(), Some(x.clone()));
    let of: Vec<_> = s
        .subscriptions_of(&t.arn)
        .unwrap()
        .into_iter()
        .map(|s| s.arn)
        .collect();
    assert_eq!(of, [y.arn.clone(), x.arn.clone()]);
    assert_eq!(s.subscriptions_in(ACCT, "us-east-1").unwrap().len(), 2);
    assert_eq!(s.subscriptions_in(ACCT, "eu-west-1").unwrap().len(), 1);
    s.enqueue(&[delivery(&y, "m", 0)], 0).unwrap();
    assert!(s.delete_subscription(&y.arn).unwrap());
    assert!(!s.delete_subscription(&y.arn).unwrap());
    assert!(s.pending().unwrap().is_empty());
    assert_eq!(s.topic(&t.arn).unwrap().unwrap().subscriptions_deleted, 1);
}

fn outbox_hands_out_due_deliveries_in_order(b: &dyn Backend) {
    let s = b.sns();
    let t = topic("a", "us-east-1");
    s.create_topic(&t).unwrap();
    let x = sub(&t, "x", 1);
    s.put_subscription(&x).unwrap();
    s.enqueue(
        &[
            delivery(&x, "first", 10),
            delivery(&x, "second", 10),
            delivery(&x, "later", 50),
        ],
        5,
    )
    .unwrap();
    assert!(s.due(9, 10).unwrap().is_empty());
    let due = s.due(10, 10).unwrap();
    let payloads: Vec<_> = due.iter().map(|d| d.payload.as_str()).collect();
    assert_eq!(payloads, ["first", "second"]);
    assert_eq!(due[0].created_ms, 5);
    assert_eq!(s.due(100, 1).unwrap().len(), 1);
    s.retry_later(due[0].id, 1, 60).unwrap();
    s.finish(due[1].id).unwrap();
    let left: Vec<_> = s
        .due(100, 10)
        .unwrap()
        .into_iter()
        .map(|d| (d.payload, d.attempts))
        .collect();
    assert_eq!(left, [("later".to_owned(), 0), ("first".to_owned(), 1)]);
    assert_eq!(s.pending().unwrap().len(), 2);
}

fn the_first_signing_certificate_is_kept(b: &dyn Backend) {
    let s = b.sns();
    assert!(s.signing_cert().unwrap().is_none());
    let one = SigningCert {
        key_pem: "k1".into(),
        cert_pem: "c1".into(),
    };
    let two = SigningCert {
        key_pem: "k2".into(),
        cert_pem: "c2".into(),
    };
    assert_eq!(s.keep_signing_cert(&one).unwrap(), one);
    assert_eq!(s.keep_signing_cert(&two).unwrap(), one);
    assert_eq!(s.signing_cert().unwrap(), Some(one));
}

fn everything_survives_a_restart(b: &dyn Backend) {
    let t = topic("a", "us-east-1");
    let x = sub(&t, "x", 1);
    {
        let s = b.sns();
        s.create_topic(&t).unwrap();
        s.put_subscription(&x).unwrap();
        s.enqueue(&[delivery(&x, "m", 0)], 0).unwrap();
        s.keep_signing_cert(&SigningCert {
            key_pem: "k".into(),
            cert_pem: "c".into(),
        })
        .unwrap();
    }
    b.restart();
    let s = b.sns();
    assert_eq!(s.topic(&t.arn).unwrap(), Some(t));
    assert_eq!(s.subscription(&x.arn).unwrap(), Some(x));
    assert_eq!(s.pending().unwrap().len(), 1);
    assert!(s.signing_cert().unwrap().is_some());
}
