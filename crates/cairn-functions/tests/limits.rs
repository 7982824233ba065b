//! Limits that keep a function from exhausting cairn's own resources: its output held in
//! memory, and connections to its Runtime API.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;

const FLOOD: &str = r#"
import sys
def handler(event, context):
    line = 'x' * 262000 + '\n'
    for _ in range(event['n']):
        sys.stdout.write(line)
    sys.stdout.flush()
    return 'done'
"#;

/// A function printing ~100 MB in one invocation: cairn keeps at most its byte budget
/// (4 MB) of the newest lines, and one line says how many were dropped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_flood_stays_under_the_budget() {
    let fx = executor(system_python(), cairn_functions::PythonClient::Cairn, 4);
    let f = python_function(&fx, "flood", FLOOD);
    let out = fx
        .executor
        .invoke(&f, invocation(r#"{"n": 400}"#))
        .await
        .unwrap();
    assert_eq!(out.function_error, None, "{:?}", &out.payload);
    assert_eq!(json(&out.payload), "done");
    let bytes: usize = out.log.iter().map(|(_, m)| m.len()).sum();
    assert!(bytes < 4 * 1024 * 1024 + 64 * 1024, "{bytes} bytes of log");
    let msgs = messages(&out.log);
    let notice = msgs
        .iter()
        .find(|m| m.contains("earlier lines of output dropped"))
        .unwrap_or_else(|| panic!("no drop notice in {} lines", msgs.len()));
    assert!(notice.starts_with("[cairn] "), "{notice}");
    assert!(msgs.iter().any(|m| m.starts_with("START ")));
    assert!(msgs.iter().any(|m| m.starts_with("REPORT ")));
    let flood = msgs.iter().filter(|m| m.starts_with("xxxx")).count();
    assert!((1..400).contains(&flood), "{flood} flood lines kept");
}
