//! The Lambda store's contract: functions created once per ARN with their code, listed by
//! name per account and region in pages, updated (configuration, policy, concurrency, tags)
//! without touching their code, their code replaced on its own, deleted with their code and
//! queued invocations; the invocation queue handing out due invocations oldest first, moving
//! retries on and forgetting finished ones; a refused call's function and code leaving no
//! trace; and all of it surviving a restart.

use std::collections::BTreeMap;

use super::{Backend, cases};
use crate::db::enter;
use crate::lambda::{Function, NewInvocation};

cases!(
    functions_are_created_once_with_their_code,
    functions_are_listed_by_name_in_pages_per_place,
    updates_keep_the_code_and_code_updates_keep_the_rest,
    deleting_takes_code_and_queued_invocations,
    the_queue_hands_out_due_invocations_in_order,
    a_refused_create_leaves_no_function_and_no_code,
    everything_survives_a_restart,
);

const ACCT: &str = "111122223333";

fn function(name: &str, region: &str) -> Function {
    Function {
        arn: format!("arn:aws:lambda:{region}:{ACCT}:function:{name}"),
        account: ACCT.into(),
        region: region.into(),
        name: name.into(),
        config: format!(r#"{{"Runtime":"python3.12","Handler":"{name}.handler"}}"#),
        code_sha256: "c2hhMjU2".into(),
        code_size: 4,
        revision_id: "r1".into(),
        tags: BTreeMap::from([("team".into(), name.into())]),
        policy: None,
        reserved_concurrency: None,
        invoke_config: None,
        created_ms: 1,
        modified_ms: 1,
    }
}

fn invocation(f: &Function, id: &str, due_ms: i64) -> NewInvocation {
    NewInvocation {
        function_arn: f.arn.clone(),
        request_id: id.into(),
        payload: format!(r#"{{"id":"{id}"}}"#).into_bytes(),
        context: "{}".into(),
        due_ms,
    }
}

fn functions_are_created_once_with_their_code(b: &dyn Backend) {
    let s = b.lambda();
    let f = function("f", "us-east-1");
    assert!(s.create_function(&f, b"zip1").unwrap());
    let mut again = f.clone();
    again.config = "{}".into();
    assert!(!s.create_function(&again, b"zip2").unwrap());
    assert_eq!(s.function(&f.arn).unwrap(), Some(f.clone()));
    assert_eq!(s.code(&f.arn).unwrap(), Some(b"zip1".to_vec()));
    assert_eq!(
        s.function("arn:aws:lambda:us-east-1:111122223333:function:nope")
            .unwrap(),
        None
    );
    assert_eq!(
        s.code("arn:aws:lambda:us-east-1:111122223333:function:nope")
            .unwrap(),
        None
    );
}

fn functions_are_listed_by_name_in_pages_per_place(b: &dyn Backend) {
    let s = b.lambda();
    for name in ["c", "a", "b"] {
        s.create_function(&function(name, "us-east-1"), b"z")
            .unwrap();
    }
    s.create_function(&function("elsewhere", "eu-west-1"), b"z")
        .unwrap();
    let names = |after: Option<&str>, limit| -> Vec<String> {
        s.functions(ACCT, "us-east-1", after, limit)
            .unwrap()
            .into_iter()
            .map(|f| f.name)
            .collect()
    };
    assert_eq!(names(None, 50), ["a", "b", "c"]);
    assert_eq!(names(None, 2), ["a", "b"]);
    assert_eq!(names(Some("b"), 2), ["c"]);
    assert!(names(Some("c"), 2).is_empty());
    assert!(
        s.functions("999999999999", "us-east-1", None, 50)
            .unwrap()
            .is_empty()
    );
}

fn updates_keep_the_code_and_code_updates_keep_the_rest(b: &dyn Backend) {
    let s = b.lambda();
    let f = function("f", "us-east-1");
    s.create_function(&f, b"zip1").unwrap();
    let mut changed = f.clone();
    changed.config = r#"{"Timeout":30}"#.into();
    changed.revision_id = "r2".into();
    changed.policy = Some(r#"{"Version":"2012-10-17","Statement":[]}"#.into());
    changed.reserved_concurrency = Some(5);
    changed.invoke_config = Some(r#"{"MaximumRetryAttempts":0}"#.into());
    changed.tags.insert("env".into(), "test".into());
    changed.modified_ms = 9;
    // What cannot change: where the function lives.
    changed.created_ms = 1;
    assert!(s.update_function(&changed).unwrap());
    assert_eq!(s.function(&f.arn).unwrap(), Some(changed.clone()));
    assert_eq!(s.code(&f.arn).unwrap(), Some(b"zip1".to_vec()));

    assert!(s.put_code(&f.arn, b"zip2").unwrap());
    assert_eq!(s.code(&f.arn).unwrap(), Some(b"zip2".to_vec()));
    assert_eq!(s.function(&f.arn).unwrap(), Some(changed));

    let ghost = function("ghost", "us-east-1");
    assert!(!s.update_function(&ghost).unwrap());
    assert!(!s.put_code(&ghost.arn, b"z").unwrap());
    assert_eq!(s.code(&ghost.arn).unwrap(), None);
}

fn deleting_takes_code_and_queued_invocations(b: &dyn Backend) {
    let s = b.lambda();
    let (f, g) = (function("f", "us-east-1"), function("g", "us-east-1"));
    s.create_function(&f, b"zf").unwrap();
    s.create_function(&g, b"zg").unwrap();
    s.enqueue(&invocation(&f, "1", 5), 1).unwrap();
    s.enqueue(&invocation(&g, "2", 5), 1).unwrap();
    assert!(s.delete_function(&f.arn).unwrap());
    assert!(!s.delete_function(&f.arn).unwrap());
    assert_eq!(s.function(&f.arn).unwrap(), None);
    assert_eq!(s.code(&f.arn).unwrap(), None);
    let left: Vec<_> = s
        .queued()
        .unwrap()
        .into_iter()
        .map(|i| i.request_id)
        .collect();
    assert_eq!(left, ["2"]);
    // A function of the same name starts afresh.
    assert!(s.create_function(&f, b"new").unwrap());
    assert_eq!(s.code(&f.arn).unwrap(), Some(b"new".to_vec()));
}

fn the_queue_hands_out_due_invocations_in_order(b: &dyn Backend) {
    let s = b.lambda();
    let f = function("f", "us-east-1");
    s.create_function(&f, b"z").unwrap();
    let late = s.enqueue(&invocation(&f, "late", 50), 1).unwrap();
    let first = s.enqueue(&invocation(&f, "first", 10), 1).unwrap();
    let second = s.enqueue(&invocation(&f, "second", 10), 2).unwrap();
    assert!(first < second);
    let due = s.due(20, 10).unwrap();
    let ids: Vec<_> = due.iter().map(|i| i.request_id.as_str()).collect();
    assert_eq!(ids, ["first", "second"]);
    assert_eq!(due[0].payload, br#"{"id":"first"}"#.to_vec());
    assert_eq!(
        (due[0].attempts, due[0].next_ms, due[0].created_ms),
        (0, 10, 1)
    );
    assert_eq!(s.due(20, 1).unwrap().len(), 1);

    s.retry_later(first, 1, 60).unwrap();
    let ids: Vec<_> = s.due(55, 10).unwrap().into_iter().map(|i| i.id).collect();
    assert_eq!(ids, [second, late]);
    let retried = s.due(60, 10).unwrap();
    let again = retried.iter().find(|i| i.id == first).unwrap();
    assert_eq!((again.attempts, again.next_ms), (1, 60));

    s.finish(second).unwrap();
    s.finish(late).unwrap();
    let left: Vec<_> = s.queued().unwrap().into_iter().map(|i| i.id).collect();
    assert_eq!(left, [first]);
}

fn a_refused_create_leaves_no_function_and_no_code(b: &dyn Backend) {
    let s = b.lambda();
    let f = function("refused", "us-east-1");
    let call = enter();
    assert!(s.create_function(&f, b"zip").unwrap());
    s.enqueue(&invocation(&f, "1", 1), 1).unwrap();
    assert!(call.leave().finish(false).is_err());
    assert_eq!(s.function(&f.arn).unwrap(), None);
    assert_eq!(s.code(&f.arn).unwrap(), None);
    assert!(s.queued().unwrap().is_empty());
    // A recorded one stays.
    let call = enter();
    assert!(s.create_function(&f, b"zip").unwrap());
    call.leave().finish(true).unwrap();
    assert_eq!(s.code(&f.arn).unwrap(), Some(b"zip".to_vec()));
}

fn everything_survives_a_restart(b: &dyn Backend) {
    let f = function("f", "us-east-1");
    {
        let s = b.lambda();
        s.create_function(&f, b"zip").unwrap();
        let mut changed = f.clone();
        changed.policy = Some("{}".into());
        s.update_function(&changed).unwrap();
        s.enqueue(&invocation(&f, "1", 5), 1).unwrap();
    }
    b.restart();
    let s = b.lambda();
    assert_eq!(
        s.function(&f.arn).unwrap().unwrap().policy.as_deref(),
        Some("{}")
    );
    assert_eq!(s.code(&f.arn).unwrap(), Some(b"zip".to_vec()));
    assert_eq!(s.queued().unwrap().len(), 1);
}
