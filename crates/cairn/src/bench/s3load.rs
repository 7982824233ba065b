//! S3 PUT and GET throughput with signed requests, as an SDK sends them (SigV4, payload hash),
//! against any endpoint: cairn's embedded S3 or a peer.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use cairn_model::{Clock, SystemClock};
use cairn_wire::sigv4::{SigningKey, sha256_hex, sign};

use super::load::{Target, call, target};
use super::{peak_rss_kib, percentile};

#[derive(clap::Args)]
pub struct S3Args {
    /// Object size in bytes.
    #[arg(long, default_value_t = 4096)]
    pub size: usize,
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 16)]
    pub connections: usize,
    /// Seconds for each of the PUT and GET phases.
    #[arg(long, default_value_t = 10)]
    pub duration: u64,
    /// A label for the results.
    #[arg(long, default_value = "target")]
    pub label: String,
    /// PID of the server, to report its peak RSS.
    #[arg(long)]
    pub server_pid: Option<u32>,
    #[arg(long)]
    pub json: bool,
}

fn request(t: &Target, method: &str, path: &str, body: &[u8], body_hash: &str) -> Vec<u8> {
    let mut h = http::HeaderMap::new();
    h.insert(
        "host",
        http::HeaderValue::from_str(&t.host).unwrap_or(http::HeaderValue::from_static("localhost")),
    );
    if let Ok(v) = http::HeaderValue::from_str(body_hash) {
        h.insert("x-amz-content-sha256", v);
    }
    let key = SigningKey {
        access_key_id: &t.key_id,
        secret_access_key: &t.secret,
        region: "us-east-1",
        service: "s3",
    };
    sign(
        &key,
        method,
        path,
        None,
        &mut h,
        body,
        SystemClock.now_millis(),
    );
    h.insert(
        "user-agent",
        http::HeaderValue::from_static("cairn-bench/1"),
    );
    cairn_wire::http1::request_bytes(method, path, &h, body)
}

struct Phase {
    ops: u64,
    failed: u64,
    secs: f64,
    lat: Vec<f64>,
}

async fn phase(
    t: Arc<Target>,
    conns: usize,
    secs: u64,
    make: Arc<dyn Fn(u64) -> Vec<u8> + Send + Sync>,
) -> Phase {
    let stop = Arc::new(AtomicBool::new(false));
    let seq = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..conns {
        let (t, stop, seq, make) = (
            Arc::clone(&t),
            Arc::clone(&stop),
            Arc::clone(&seq),
            Arc::clone(&make),
        );
        tasks.push(tokio::spawn(async move {
            let mut conn = None;
            let (mut ok, mut failed, mut lat) = (0u64, 0u64, Vec::new());
            while !stop.load(Ordering::Relaxed) {
                let req = make(seq.fetch_add(1, Ordering::Relaxed));
                let t0 = Instant::now();
                match call(&mut conn, &t, &req).await {
                    Ok(s) if (200..300).contains(&s) => {
                        ok += 1;
                        lat.push(t0.elapsed().as_secs_f64() * 1000.0);
                    }
                    Ok(_) => failed += 1,
                    Err(_) => {
                        failed += 1;
                        conn = None;
                    }
                }
            }
            (ok, failed, lat)
        }));
    }
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop.store(true, Ordering::Relaxed);
    let mut p = Phase {
        ops: 0,
        failed: 0,
        secs: 0.0,
        lat: Vec::new(),
    };
    for task in tasks {
        if let Ok((ok, failed, lat)) = task.await {
            p.ops += ok;
            p.failed += failed;
            p.lat.extend(lat);
        }
    }
    p.secs = started.elapsed().as_secs_f64();
    p.lat.sort_by(f64::total_cmp);
    p
}

pub fn run(args: S3Args) -> anyhow::Result<()> {
    let t = Arc::new(target()?);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let bucket = format!("bench-{}", SystemClock.now_millis());
    let body = Arc::new(vec![b'x'; args.size]);
    let body_hash = Arc::new(sha256_hex(&body));
    let empty_hash = Arc::new(sha256_hex(b""));
    let (put, get, objects) = rt.block_on(async {
        let mut conn = None;
        let status = call(
            &mut conn,
            &t,
            &request(&t, "PUT", &format!("/{bucket}"), b"", &empty_hash),
        )
        .await?;
        anyhow::ensure!(
            (200..300).contains(&status),
            "creating bucket {bucket}: HTTP {status}"
        );
        let (tp, b, bh, bk) = (
            Arc::clone(&t),
            Arc::clone(&body),
            Arc::clone(&body_hash),
            bucket.clone(),
        );
        let put = phase(
            Arc::clone(&t),
            args.connections,
            args.duration,
            Arc::new(move |i| request(&tp, "PUT", &format!("/{bk}/obj-{i}"), &b, &bh)),
        )
        .await;
        let n = put.ops.max(1);
        let (tg, eh, bk) = (Arc::clone(&t), Arc::clone(&empty_hash), bucket.clone());
        let get = phase(
            Arc::clone(&t),
            args.connections,
            args.duration,
            Arc::new(move |i| request(&tg, "GET", &format!("/{bk}/obj-{}", i % n), b"", &eh)),
        )
        .await;
        anyhow::Ok((put, get, n))
    })?;
    let mb = |p: &Phase| p.ops as f64 * args.size as f64 / p.secs / 1_048_576.0;
    let rss = peak_rss_kib(args.server_pid);
    for (name, p) in [("put", &put), ("get", &get)] {
        let ops = p.ops as f64 / p.secs;
        if args.json {
            println!(
                "{}",
                serde_json::json!({"bench":"s3","label":args.label,"op":name,"size":args.size,"connections":args.connections,
                "ops":p.ops,"failed":p.failed,"ops_per_s":ops.round(),"mib_per_s":mb(p),"p50_ms":percentile(&p.lat,50.0),"p99_ms":percentile(&p.lat,99.0),
                "objects":objects,"server_peak_rss_kib":rss})
            );
        } else {
            println!(
                "{}: S3 {} {} B: {ops:.0} ops/s, {:.1} MiB/s, p50 {:.2} ms, p99 {:.2} ms, {} failed",
                args.label,
                name.to_uppercase(),
                args.size,
                mb(p),
                percentile(&p.lat, 50.0),
                percentile(&p.lat, 99.0),
                p.failed
            );
        }
    }
    Ok(())
}
