//! The labs store's contract: one progress document per account and lab, replaced when kept
//! again, listed per account by lab name, forgotten on reset, and kept across restarts.

use serde_json::json;

use super::{Backend, cases};
use crate::labs::Progress;

cases!(
    progress_is_kept_replaced_and_forgotten,
    progress_lists_per_account_by_lab,
);

fn progress(account: &str, lab: &str, started_ms: i64) -> Progress {
    Progress {
        account: account.to_owned(),
        lab: lab.to_owned(),
        started_ms,
        state: json!({"bucket": "lab-bucket", "truth": {"access-key": "AKIAEXAMPLE"}}),
        answers: Default::default(),
        passed_ms: None,
        checks: 0,
        checked_ms: None,
    }
}

pub fn progress_is_kept_replaced_and_forgotten(b: &dyn Backend) {
    let s = b.labs();
    assert_eq!(s.progress("111111111111", "create-trail").unwrap(), None);
    let mut p = progress("111111111111", "create-trail", 1_000);
    s.keep(&p).unwrap();
    assert_eq!(
        s.progress("111111111111", "create-trail").unwrap(),
        Some(p.clone())
    );
    p.answers.insert("access-key".into(), "AKIA…".into());
    p.checks = 2;
    p.checked_ms = Some(5_000);
    p.passed_ms = Some(5_000);
    s.keep(&p).unwrap();
    drop(s);
    b.restart();
    let s = b.labs();
    assert_eq!(
        s.progress("111111111111", "create-trail").unwrap(),
        Some(p.clone())
    );
    assert!(s.forget("111111111111", "create-trail").unwrap());
    assert!(!s.forget("111111111111", "create-trail").unwrap());
    assert_eq!(s.progress("111111111111", "create-trail").unwrap(), None);
}

pub fn progress_lists_per_account_by_lab(b: &dyn Backend) {
    let s = b.labs();
    s.keep(&progress("111111111111", "validate-logs", 3))
        .unwrap();
    s.keep(&progress("111111111111", "create-trail", 1))
        .unwrap();
    s.keep(&progress("222222222222", "create-trail", 2))
        .unwrap();
    let labs = |a: &str| {
        s.list(a)
            .unwrap()
            .into_iter()
            .map(|p| (p.lab, p.started_ms))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        labs("111111111111"),
        [
            ("create-trail".to_owned(), 1),
            ("validate-logs".to_owned(), 3)
        ]
    );
    assert_eq!(labs("222222222222"), [("create-trail".to_owned(), 2)]);
    assert!(labs("333333333333").is_empty());
}
