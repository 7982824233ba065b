//! S3 PUT and GET throughput with signed requests, as an SDK sends them (SigV4, payload hash),
//! against any endpoint: cairn's embedded S3 or a peer.

use std::sync::Arc;

use cairn_model::{Clock, SystemClock};
use cairn_wire::sigv4::{SigningKey, sha256_hex, sign};

use super::load::{Outgoing, Phase, Target, call, phase, target};
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
    /// Instead of AWS_ENDPOINT_URL, load an in-process endpoint that only checks each body's
    /// SHA-256, computes its MD5 ETag and keeps it in memory: the ceiling on this machine for
    /// any S3-compatible server under the same load.
    #[arg(long)]
    pub floor: bool,
    /// Write every object SSE-KMS under this KMS key (id, ARN or alias), so each PUT asks KMS
    /// for a data key and each GET asks KMS to decrypt it, as S3 does.
    #[arg(long, value_name = "KEY_ID")]
    pub sse_kms: Option<String>,
    #[arg(long)]
    pub json: bool,
}

fn request(
    t: &Target,
    method: &str,
    path: &str,
    body: Option<&Arc<Vec<u8>>>,
    body_hash: &str,
    sse_kms: Option<&str>,
) -> Outgoing {
    let bytes: &[u8] = body.map_or(&[], |b| b.as_slice());
    let mut h = http::HeaderMap::new();
    if let Some(key) = sse_kms
        && let Ok(v) = http::HeaderValue::from_str(key)
    {
        h.insert(
            "x-amz-server-side-encryption",
            http::HeaderValue::from_static("aws:kms"),
        );
        h.insert("x-amz-server-side-encryption-aws-kms-key-id", v);
    }
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
        bytes,
        SystemClock.now_millis(),
    );
    h.insert(
        "user-agent",
        http::HeaderValue::from_static("cairn-bench/1"),
    );
    Outgoing {
        head: cairn_wire::http1::request_head(method, path, &h, bytes.len()),
        body: body.cloned(),
    }
}

pub fn run(args: S3Args) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let t = Arc::new(if args.floor {
        let addr = rt.block_on(super::s3floor::start())?.to_string();
        Target {
            host: addr.clone(),
            addr,
            key_id: "AKIAFLOOR".into(),
            secret: "floor".into(),
        }
    } else {
        target()?
    });
    let bucket = format!("bench-{}", SystemClock.now_millis());
    let body = Arc::new(vec![b'x'; args.size]);
    let body_hash = Arc::new(sha256_hex(&body));
    let empty_hash = Arc::new(sha256_hex(b""));
    let (put, get, objects) = rt.block_on(async {
        let mut conn = None;
        let status = call(
            &mut conn,
            &t,
            &request(&t, "PUT", &format!("/{bucket}"), None, &empty_hash, None),
        )
        .await?;
        anyhow::ensure!(
            (200..300).contains(&status),
            "creating bucket {bucket}: HTTP {status}"
        );
        let targets = [Arc::clone(&t)];
        let (b, bh, bk, kms) = (
            Arc::clone(&body),
            Arc::clone(&body_hash),
            bucket.clone(),
            args.sse_kms.clone(),
        );
        let put = phase(
            &targets,
            args.connections,
            args.duration,
            Arc::new(move |i, tp| {
                request(
                    tp,
                    "PUT",
                    &format!("/{bk}/obj-{i}"),
                    Some(&b),
                    &bh,
                    kms.as_deref(),
                )
            }),
        )
        .await;
        let n = put.ops.max(1);
        let (eh, bk) = (Arc::clone(&empty_hash), bucket.clone());
        let get = phase(
            &targets,
            args.connections,
            args.duration,
            Arc::new(move |i, tg| {
                request(tg, "GET", &format!("/{bk}/obj-{}", i % n), None, &eh, None)
            }),
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
