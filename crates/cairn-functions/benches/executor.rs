//! Executor benchmark: cold start latency of a trivial Python handler (p50, p90; goal p50
//! ≤ 300 ms) and warm invocations per second (goal ≥ 2,000/s), under cairn's own bootstrap
//! and under awslambdaric (when the project venv has it). One JSON line per measurement.
//!
//!     cargo bench -p cairn-functions --bench executor [-- --cold 30 --seconds 3 --parallel 4]

#![allow(clippy::unwrap_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;

const HANDLER: &str = "def handler(event, context):\n    return {\"ok\": True}\n";

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let cold_runs = arg("--cold", 30);
    let seconds = arg("--seconds", 3);
    let parallel = arg("--parallel", 4);
    for (client, python) in python_clients() {
        let fx = executor(&python, client, 64);
        let mut spec = python_function(&fx, "bench", HANDLER);
        let executor = Arc::new(fx.executor);

        // Cold starts: a new revision each time, so no warm process can take it.
        let mut wall = Vec::new();
        let mut init = Vec::new();
        for i in 0..cold_runs {
            spec.revision_id = format!("cold-{i}");
            let t0 = Instant::now();
            let out = executor
                .invoke(&spec, invocation("{}"))
                .await
                .expect("cold invoke");
            wall.push(t0.elapsed().as_secs_f64() * 1000.0);
            init.push(out.init_duration_ms.unwrap_or(0.0));
            assert_eq!(out.function_error, None, "{:?}", out.log);
            executor.retire(&spec.arn);
        }
        wall.sort_by(f64::total_cmp);
        init.sort_by(f64::total_cmp);
        println!(
            "{{\"bench\":\"cold_start\",\"client\":\"{client:?}\",\"runs\":{cold_runs},\"p50_ms\":{:.1},\"p90_ms\":{:.1},\"init_p50_ms\":{:.1}}}",
            percentile(&wall, 0.5),
            percentile(&wall, 0.9),
            percentile(&init, 0.5)
        );

        // Warm: one caller (one process), then `parallel` callers (as many processes).
        spec.revision_id = "warm".into();
        for callers in [1, parallel] {
            // Start the processes first: the measurement is of warm invocations only.
            let warmups: Vec<_> = (0..callers)
                .map(|_| {
                    let (executor, spec) = (executor.clone(), spec.clone());
                    tokio::spawn(async move {
                        executor
                            .invoke(&spec, invocation("{}"))
                            .await
                            .expect("warm-up")
                    })
                })
                .collect();
            for w in warmups {
                w.await.expect("warm-up task");
            }
            let until = Instant::now() + Duration::from_secs(seconds);
            let tasks: Vec<_> = (0..callers)
                .map(|_| {
                    let (executor, spec) = (executor.clone(), spec.clone());
                    tokio::spawn(async move {
                        let mut n = 0u64;
                        let mut cold = 0u64;
                        while Instant::now() < until {
                            let out = executor
                                .invoke(&spec, invocation("{}"))
                                .await
                                .expect("warm");
                            cold += u64::from(out.init_duration_ms.is_some());
                            n += 1;
                        }
                        (n, cold)
                    })
                })
                .collect();
            let mut total = 0;
            let mut cold = 0;
            for t in tasks {
                let (n, c) = t.await.expect("warm task");
                total += n;
                cold += c;
            }
            println!(
                "{{\"bench\":\"warm_invoke\",\"client\":\"{client:?}\",\"callers\":{callers},\"invocations\":{total},\"cold\":{cold},\"per_second\":{:.0}}}",
                total as f64 / seconds as f64
            );
        }
    }
}
