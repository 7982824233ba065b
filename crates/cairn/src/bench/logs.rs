//! CloudWatch Logs under load, against any endpoint (cairn or a peer such as moto_server):
//! `PutLogEvents` ingest with full batches from several connections (log events durably
//! stored per second), then optionally `FilterLogEvents` with a JSON pattern over everything
//! ingested (latency percentiles). Signed like an SDK; endpoint and keys from the environment,
//! as `eval "$(cairn env)"` sets them.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::bail;
use cairn_wire::client::Endpoint;
use serde_json::{Value, json};

use super::{peak_rss_kib, percentile};

#[derive(clap::Args)]
pub struct LogsArgs {
    /// Log events per PutLogEvents call (AWS allows up to 10,000 and 1 MiB).
    #[arg(long, default_value_t = 10_000)]
    pub batch: usize,
    /// Concurrent connections, each writing its own stream.
    #[arg(long, default_value_t = 4)]
    pub connections: usize,
    /// Seconds of ingest; 0 with --events to ingest exactly that many.
    #[arg(long, default_value_t = 10)]
    pub duration: u64,
    /// Ingest (at least) this many events instead of for --duration seconds.
    #[arg(long)]
    pub events: Option<u64>,
    /// Then this many FilterLogEvents calls with a JSON pattern over the whole group.
    #[arg(long, default_value_t = 0)]
    pub filter_calls: usize,
    /// A label for the results.
    #[arg(long, default_value = "target")]
    pub label: String,
    /// Load the machine's ceiling for this work instead of an endpoint: an in-process server
    /// that only verifies each request's SigV4 signature and appends the request body and a
    /// record to a journal with group-committed fsync (no parsing, no checks, no store).
    #[arg(long)]
    pub floor: bool,
    /// PID of the server, to report its peak RSS.
    #[arg(long)]
    pub server_pid: Option<u32>,
    #[arg(long)]
    pub json: bool,
}

/// The endpoint and keys `cairn bench load` reads from the environment, as a signing client.
fn endpoint() -> anyhow::Result<Endpoint> {
    endpoint_of(super::load::target()?)
}

fn endpoint_of(t: super::load::Target) -> anyhow::Result<Endpoint> {
    Ok(Endpoint {
        host_port: t.addr,
        region: std::env::var("AWS_DEFAULT_REGION").unwrap_or_else(|_| "us-east-1".into()),
        access_key_id: t.key_id,
        secret_access_key: t.secret,
        io_timeout: Some(Duration::from_secs(120)),
        ..Default::default()
    })
}

fn call(e: &Endpoint, op: &str, body: &[u8]) -> anyhow::Result<Value> {
    let target = format!("Logs_20140328.{op}");
    let r = e
        .send(
            "logs",
            "POST",
            "/",
            None,
            &[
                ("x-amz-target", &target),
                ("content-type", "application/x-amz-json-1.1"),
            ],
            body,
        )
        .map_err(|err| anyhow::anyhow!("{op}: {err}"))?;
    if !r.ok() {
        bail!(
            "{op} answered {}: {}",
            r.status,
            String::from_utf8_lossy(&r.body)
        );
    }
    Ok(serde_json::from_slice(&r.body).unwrap_or(Value::Null))
}

const GROUP: &str = "bench-logs";

/// The `k`th full batch for stream `n`: CloudTrail-like one-line records of about 70 bytes,
/// in timestamp order; each batch a millisecond per event later than the one before, as a
/// stream's events come in, all within the last few hours. Written straight into the body (no
/// JSON document of 10,000 objects) so that the load generator, which shares the machine with
/// the server it loads, spends its time sending rather than encoding.
fn batch_body(stream: &str, n: usize, size: usize, now_ms: i64, k: u64) -> Vec<u8> {
    use std::fmt::Write as _;
    let base = now_ms - 3 * 3_600_000 + (k * size as u64) as i64;
    let mut body = String::with_capacity(128 + size * 110);
    let _ = write!(
        body,
        r#"{{"logGroupName":{},"logStreamName":{},"logEvents":["#,
        Value::from(GROUP),
        Value::from(stream)
    );
    for i in 0..size {
        let kind = if i % 100 == 7 { "Root" } else { "IAMUser" };
        if i > 0 {
            body.push(',');
        }
        let _ = write!(
            body,
            r#"{{"timestamp":{},"message":"{{\"eventName\":\"ListBuckets\",\"userIdentity\":{{\"type\":\"{kind}\"}},\"n\":{}}}"}}"#,
            base + i as i64,
            (n * size + i) % 1000
        );
    }
    body.push_str("]}");
    body.into_bytes()
}

pub fn run(a: LogsArgs) -> anyhow::Result<()> {
    // The floor runs in this process for as long as the run, on a runtime of its own.
    let floor_dir = tempfile::tempdir()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let floor = if a.floor {
        let addr = rt
            .block_on(super::loadfloor::start(
                floor_dir.path(),
                super::loadfloor::Keep::RecordAndBody,
            ))?
            .to_string();
        Some(super::load::Target {
            host: addr.clone(),
            addr,
            key_id: super::loadfloor::KEY_ID.into(),
            secret: super::loadfloor::SECRET.into(),
        })
    } else {
        None
    };
    let endpoint = || match &floor {
        Some(t) => endpoint_of(t.clone()),
        None => endpoint(),
    };
    let e = endpoint()?;
    let _ = call(
        &e,
        "CreateLogGroup",
        json!({"logGroupName": GROUP}).to_string().as_bytes(),
    );
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let stored = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let start = Arc::new(Barrier::new(a.connections + 1));
    let per_connection = a.events.map(|n| n.div_ceil(a.connections as u64));
    let mut workers = Vec::new();
    for n in 0..a.connections {
        let stream = format!("s-{n}");
        let _ = call(
            &e,
            "CreateLogStream",
            json!({"logGroupName": GROUP, "logStreamName": stream})
                .to_string()
                .as_bytes(),
        );
        // Each call's batch is later than the one before, as a stream's events come in; the
        // next one is encoded while nothing else is in flight on this connection.
        let size = a.batch;
        let (stored, failed, stop, start) =
            (stored.clone(), failed.clone(), stop.clone(), start.clone());
        let e = endpoint()?;
        let batch = a.batch as u64;
        workers.push(std::thread::spawn(move || {
            start.wait();
            let mut mine = 0u64;
            let mut k = 0u64;
            while !stop.load(Ordering::Relaxed) && per_connection.is_none_or(|max| mine < max) {
                let body = batch_body(&stream, n, size, now_ms, k);
                k += 1;
                match call(&e, "PutLogEvents", &body) {
                    Ok(v) if v.get("rejectedLogEventsInfo").is_none() => {
                        stored.fetch_add(batch, Ordering::Relaxed);
                        mine += batch;
                    }
                    _ => {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    start.wait();
    let began = Instant::now();
    if a.events.is_none() {
        std::thread::sleep(Duration::from_secs(a.duration));
        stop.store(true, Ordering::Relaxed);
    }
    for w in workers {
        let _ = w.join();
    }
    let secs = began.elapsed().as_secs_f64();
    let n = stored.load(Ordering::Relaxed);
    let bad = failed.load(Ordering::Relaxed);
    let mut out = json!({
        "bench": "logs-ingest",
        "label": a.label,
        "batch": a.batch,
        "connections": a.connections,
        "seconds": secs,
        "events": n,
        "failed_calls": bad,
        "events_per_s": (n as f64 / secs).round(),
    });
    if let Some(rss) = peak_rss_kib(a.server_pid) {
        out["server_peak_rss_kib"] = json!(rss);
    }
    report(&a, &out);
    if a.filter_calls > 0 && !a.floor {
        let pattern = r#"{ $.userIdentity.type = "Root" && $.n = 7 }"#;
        let body = json!({"logGroupName": GROUP, "filterPattern": pattern, "limit": 10_000})
            .to_string()
            .into_bytes();
        let mut lat = Vec::with_capacity(a.filter_calls);
        let mut found = 0;
        for _ in 0..a.filter_calls {
            let t = Instant::now();
            let v = call(&e, "FilterLogEvents", &body)?;
            lat.push(t.elapsed().as_secs_f64() * 1000.0);
            found = v
                .get("events")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
        }
        lat.sort_by(f64::total_cmp);
        let out = json!({
            "bench": "logs-filter",
            "label": a.label,
            "events_in_group": n,
            "pattern": pattern,
            "calls": a.filter_calls,
            "matches_first_page": found,
            "p50_ms": percentile(&lat, 50.0),
            "p99_ms": percentile(&lat, 99.0),
        });
        report(&a, &out);
    }
    if bad > 0 && n == 0 {
        bail!("every PutLogEvents call failed");
    }
    Ok(())
}

fn report(a: &LogsArgs, v: &Value) {
    if a.json {
        println!("{v}");
    } else {
        println!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_body_is_the_json_an_sdk_would_send() {
        let body = batch_body("s-1", 1, 3, 1_000_000_000, 2);
        let v: Value = serde_json::from_slice(&body).expect("valid JSON");
        assert_eq!(v["logGroupName"], GROUP);
        assert_eq!(v["logStreamName"], "s-1");
        let events = v["logEvents"].as_array().expect("events");
        assert_eq!(events.len(), 3);
        let base = 1_000_000_000 - 3 * 3_600_000 + 6;
        assert_eq!(events[0]["timestamp"], base);
        assert_eq!(events[2]["timestamp"], base + 2);
        let record: Value =
            serde_json::from_str(events[1]["message"].as_str().expect("message")).expect("record");
        assert_eq!(record["eventName"], "ListBuckets");
        assert_eq!(record["userIdentity"]["type"], "IAMUser");
        assert_eq!(record["n"], 4);
    }
}
