//! Unused code is swept: installed code that no function has any more goes, unless a live
//! environment still runs from it; code that functions have stays.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashSet;

use cairn_functions::PythonClient;
use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn code_no_function_has_is_swept_unless_an_environment_runs_from_it() {
    let fx = executor(system_python(), PythonClient::Cairn, 4);
    let warm = python_function(&fx, "warm", "def handler(e, c):\n    return 1\n");
    let orphan = python_function(&fx, "orphan", "def handler(e, c):\n    return 2\n");
    let kept = python_function(&fx, "kept", "def handler(e, c):\n    return 3\n");
    // `warm` runs once and stays warm.
    let out = fx.executor.invoke(&warm, invocation("{}")).await.unwrap();
    assert_eq!(json(&out.payload), 1);
    // Only `kept` is a function's code now.
    let in_use = HashSet::from([kept.code_sha256.clone()]);
    assert_eq!(fx.executor.sweep_code(&in_use), 1, "orphan's code goes");
    assert!(!fx.executor.has_code(&orphan.code_sha256));
    assert!(fx.executor.has_code(&kept.code_sha256));
    assert!(
        fx.executor.has_code(&warm.code_sha256),
        "a warm environment runs from it"
    );
    // Once its environment is gone, so is its code.
    fx.executor.retire(&warm.arn);
    assert_eq!(fx.executor.sweep_code(&in_use), 1);
    assert!(!fx.executor.has_code(&warm.code_sha256));
    assert!(fx.executor.has_code(&kept.code_sha256));
}
