//! The detections store's contract: findings kept in order with the cursor that moved past
//! the records they came from (both or neither), listed per account or for all, page by page,
//! and kept across restarts.

use super::{Backend, cases};
use crate::detections::Finding;

cases!(
    findings_and_the_cursor_move_together,
    findings_list_in_order_per_account_and_page_by_page,
);

fn finding(id: &str, account: &str) -> Finding {
    Finding {
        id: id.to_owned(),
        account: account.to_owned(),
        region: "us-east-1".into(),
        rule_id: "rule-1".into(),
        rule_set: "cairn".into(),
        title: "Trail stopped".into(),
        level: "high".into(),
        tags: vec!["attack.t1562.008".into()],
        created_ms: 1_700_000_000_000,
        event_time: "2023-11-14T22:13:20Z".into(),
        event_id: format!("event-{id}"),
        event_name: "StopLogging".into(),
        event_source: "cloudtrail.amazonaws.com".into(),
        principal: Some(format!("arn:aws:iam::{account}:root")),
        source_ip: Some("192.0.2.1".into()),
        group: None,
        count: 1,
    }
}

pub fn findings_and_the_cursor_move_together(b: &dyn Backend) {
    let s = b.detections();
    assert_eq!(s.cursor().unwrap(), None);
    s.advance(10, &[]).unwrap();
    assert_eq!(s.cursor().unwrap(), Some(10));
    s.advance(
        25,
        &[finding("a", "111111111111"), finding("b", "111111111111")],
    )
    .unwrap();
    assert_eq!(s.cursor().unwrap(), Some(25));
    drop(s);
    b.restart();
    let s = b.detections();
    assert_eq!(s.cursor().unwrap(), Some(25));
    let all = s.list(None, 0, 10).unwrap();
    assert_eq!(
        all.iter().map(|k| k.finding.clone()).collect::<Vec<_>>(),
        vec![finding("a", "111111111111"), finding("b", "111111111111")]
    );
}

pub fn findings_list_in_order_per_account_and_page_by_page(b: &dyn Backend) {
    let s = b.detections();
    s.advance(
        1,
        &[finding("a", "111111111111"), finding("b", "222222222222")],
    )
    .unwrap();
    s.advance(2, &[finding("c", "111111111111")]).unwrap();
    let ids =
        |v: Vec<crate::detections::Kept>| v.into_iter().map(|k| k.finding.id).collect::<Vec<_>>();
    assert_eq!(ids(s.list(None, 0, 10).unwrap()), ["a", "b", "c"]);
    assert_eq!(
        ids(s.list(Some("111111111111"), 0, 10).unwrap()),
        ["a", "c"]
    );
    assert_eq!(
        ids(s.list(Some("333333333333"), 0, 10).unwrap()),
        Vec::<String>::new()
    );
    let first = s.list(None, 0, 2).unwrap();
    assert_eq!(first.len(), 2);
    let after = first[1].seq;
    assert_eq!(ids(s.list(None, after, 2).unwrap()), ["c"]);
    assert!(first[0].seq < first[1].seq);
}
