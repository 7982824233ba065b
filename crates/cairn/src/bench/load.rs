//! A load generator that signs every request like an SDK (SigV4, fresh date, body hash) and
//! keeps connections alive, measuring completed calls per second and latency.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use cairn_model::{Clock, SystemClock};
use cairn_wire::sigv4::{SigningKey, sign};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use super::{peak_rss_kib, percentile};

#[derive(clap::Args)]
pub struct LoadArgs {
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 32)]
    pub connections: usize,
    /// How long to run, in seconds.
    #[arg(long, default_value_t = 10)]
    pub duration: u64,
    /// The CloudTrail operation to call (JSON 1.1, body `{}`).
    #[arg(long, default_value = "DescribeTrails")]
    pub operation: String,
    /// Instead of a CloudTrail operation, Lambda `Invoke` (RequestResponse, payload `{}`) of
    /// this function: warm invocations through the API.
    #[arg(long, value_name = "FUNCTION")]
    pub invoke: Option<String>,
    /// Region to sign for.
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
    /// A label for the results (e.g. `cairn` or `moto_server`).
    #[arg(long, default_value = "target")]
    pub label: String,
    /// PID of the server, to report its peak RSS.
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// Instead of AWS_ENDPOINT_URL, load an in-process endpoint that only verifies SigV4 and
    /// appends the same record with group-committed fsync: the ceiling on this machine for
    /// recorded calls under the same load.
    #[arg(long, conflicts_with = "endpoints")]
    pub floor: bool,
    /// An endpoint to load (`http://HOST:PORT`) instead of AWS_ENDPOINT_URL. Repeat it to
    /// spread the connections over several (the nodes of a cluster), assigned round-robin:
    /// connection i goes to endpoint i mod N. Every endpoint is signed for with the same
    /// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.
    #[arg(long = "endpoint", value_name = "URL")]
    pub endpoints: Vec<String>,
}

/// One request to send: its head (and any small body) as built, then an optional large body
/// shared by every request of a phase, written without copying it into each request.
pub(super) struct Outgoing {
    pub head: Vec<u8>,
    pub body: Option<Arc<Vec<u8>>>,
}

impl From<Vec<u8>> for Outgoing {
    fn from(head: Vec<u8>) -> Self {
        Outgoing { head, body: None }
    }
}

/// A keep-alive connection and the buffer response bodies are drained into, reused so that the
/// load generator allocates nothing per response, however large.
pub(super) struct Conn {
    stream: BufReader<TcpStream>,
    scratch: Vec<u8>,
}

#[derive(Clone)]
pub(super) struct Target {
    pub host: String,
    pub addr: String,
    pub key_id: String,
    pub secret: String,
}

pub(super) fn target() -> anyhow::Result<Target> {
    let url = std::env::var("AWS_ENDPOINT_URL")
        .context("AWS_ENDPOINT_URL is not set (eval \"$(cairn env)\")")?;
    target_at(&url)
}

/// The endpoint at `url`, signed for with the environment's credentials.
fn target_at(url: &str) -> anyhow::Result<Target> {
    let Some(hostport) = url.strip_prefix("http://") else {
        bail!("only http:// endpoints are supported, got {url}");
    };
    let hostport = hostport.trim_end_matches('/').to_owned();
    Ok(Target {
        addr: hostport.clone(),
        host: hostport,
        key_id: std::env::var("AWS_ACCESS_KEY_ID").context("AWS_ACCESS_KEY_ID is not set")?,
        secret: std::env::var("AWS_SECRET_ACCESS_KEY")
            .context("AWS_SECRET_ACCESS_KEY is not set")?,
    })
}

/// The endpoints of a run: those given with `--endpoint`, else AWS_ENDPOINT_URL.
fn targets(endpoints: &[String]) -> anyhow::Result<Vec<Arc<Target>>> {
    if endpoints.is_empty() {
        return Ok(vec![Arc::new(target()?)]);
    }
    endpoints
        .iter()
        .map(|u| target_at(u).map(Arc::new))
        .collect()
}

/// The endpoint connection `i` of a phase talks to: round-robin over `targets`.
fn assigned(targets: &[Arc<Target>], i: usize) -> &Arc<Target> {
    &targets[i % targets.len()]
}

/// What each request of the run calls.
enum Call<'a> {
    /// A CloudTrail operation (JSON 1.1).
    CloudTrail(&'a str),
    /// Lambda `Invoke` of a function (REST-JSON).
    Invoke(&'a str),
}

fn request_bytes(t: &Target, call: &Call<'_>, region: &str) -> Vec<u8> {
    let body = b"{}";
    let mut h = http::HeaderMap::new();
    h.insert(
        "host",
        http::HeaderValue::from_str(&t.host).unwrap_or(http::HeaderValue::from_static("localhost")),
    );
    let (service, path) = match call {
        Call::CloudTrail(op) => {
            h.insert(
                "content-type",
                http::HeaderValue::from_static("application/x-amz-json-1.1"),
            );
            let target = format!("com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.{op}");
            if let Ok(v) = http::HeaderValue::from_str(&target) {
                h.insert("x-amz-target", v);
            }
            ("cloudtrail", "/".to_owned())
        }
        Call::Invoke(name) => (
            "lambda",
            format!("/2015-03-31/functions/{name}/invocations"),
        ),
    };
    let key = SigningKey {
        access_key_id: &t.key_id,
        secret_access_key: &t.secret,
        region,
        service,
    };
    sign(
        &key,
        "POST",
        &path,
        None,
        &mut h,
        body,
        SystemClock.now_millis(),
    );
    h.insert(
        "user-agent",
        http::HeaderValue::from_static("cairn-bench/1"),
    );
    cairn_wire::http1::request_bytes("POST", &path, &h, body)
}

/// Sends one request on `conn` (opening it if needed); returns the status, or an error.
pub(super) async fn call(
    conn: &mut Option<Conn>,
    t: &Target,
    req: &Outgoing,
) -> anyhow::Result<u16> {
    if conn.is_none() {
        let s = TcpStream::connect(&t.addr).await?;
        s.set_nodelay(true)?;
        *conn = Some(Conn {
            stream: BufReader::with_capacity(64 * 1024, s),
            scratch: vec![0; 256 * 1024],
        });
    }
    let Some(Conn { stream: c, scratch }) = conn.as_mut() else {
        bail!("no connection")
    };
    c.get_mut().write_all(&req.head).await?;
    if let Some(body) = &req.body {
        c.get_mut().write_all(body).await?;
    }
    let mut line = String::new();
    c.read_line(&mut line).await?;
    let mut it = line.split_whitespace();
    let version = it.next().unwrap_or("");
    let status: u16 = it
        .next()
        .and_then(|s| s.parse().ok())
        .context("bad status line")?;
    let mut len: Option<usize> = None;
    let mut close = version == "HTTP/1.0";
    loop {
        line.clear();
        if c.read_line(&mut line).await? == 0 {
            bail!("connection closed in headers");
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            let k = k.trim().to_ascii_lowercase();
            if k == "content-length" {
                len = v.trim().parse().ok();
            } else if k == "connection" {
                close = v.trim().eq_ignore_ascii_case("close");
            }
        }
    }
    match len {
        Some(mut left) => {
            while left > 0 {
                let n = left.min(scratch.len());
                c.read_exact(&mut scratch[..n]).await?;
                left -= n;
            }
        }
        None => {
            while c.read(scratch).await? > 0 {}
            close = true;
        }
    }
    if close {
        *conn = None;
    }
    Ok(status)
}

/// What one load phase achieved.
pub(super) struct Phase {
    pub ops: u64,
    pub failed: u64,
    pub secs: f64,
    /// Latencies of the successful calls, ms, sorted.
    pub lat: Vec<f64>,
}

/// What a phase's requests are made with: a sequence number and the endpoint the request goes to.
pub(super) type Make = Arc<dyn Fn(u64, &Target) -> Outgoing + Send + Sync>;

/// Keeps `conns` connections busy for `secs` seconds with the requests `make` builds,
/// counting what succeeds. Connection i talks to `targets[i mod N]`.
pub(super) async fn phase(targets: &[Arc<Target>], conns: usize, secs: u64, make: Make) -> Phase {
    let stop = Arc::new(AtomicBool::new(false));
    let seq = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..conns {
        let (t, stop, seq, make) = (
            Arc::clone(assigned(targets, i)),
            Arc::clone(&stop),
            Arc::clone(&seq),
            Arc::clone(&make),
        );
        tasks.push(tokio::spawn(async move {
            let mut conn = None;
            let (mut ok, mut failed, mut lat) = (0u64, 0u64, Vec::new());
            while !stop.load(Ordering::Relaxed) {
                let req = make(seq.fetch_add(1, Ordering::Relaxed), &t);
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

pub fn run(args: LoadArgs) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    // The floor's journal lives as long as the run.
    let floor_dir = tempfile::tempdir()?;
    let targets = if args.floor {
        let addr = rt
            .block_on(super::loadfloor::start(
                floor_dir.path(),
                super::loadfloor::Keep::Record,
            ))?
            .to_string();
        vec![Arc::new(Target {
            host: addr.clone(),
            addr,
            key_id: super::loadfloor::KEY_ID.into(),
            secret: super::loadfloor::SECRET.into(),
        })]
    } else {
        targets(&args.endpoints)?
    };
    let (op, region) = (args.operation.clone(), args.region.clone());
    let function = args.invoke.clone();
    let p = rt.block_on(phase(
        &targets,
        args.connections,
        args.duration,
        Arc::new(move |_, t| {
            let call = match &function {
                Some(f) => Call::Invoke(f),
                None => Call::CloudTrail(&op),
            };
            request_bytes(t, &call, &region).into()
        }),
    ));
    let (ok, failed, elapsed, lat) = (p.ops, p.failed, p.secs, p.lat);
    let rps = ok as f64 / elapsed;
    let operation = match &args.invoke {
        Some(f) => format!("lambda:Invoke {f}"),
        None => args.operation.clone(),
    };
    let rss = peak_rss_kib(args.server_pid);
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "bench": "load", "label": args.label, "operation": operation,
                "connections": args.connections, "endpoints": targets.len(), "seconds": elapsed, "ok": ok, "failed": failed,
                "calls_per_s": rps.round(), "p50_ms": percentile(&lat, 50.0), "p99_ms": percentile(&lat, 99.0),
                "server_peak_rss_kib": rss,
            })
        );
    } else {
        println!(
            "{}: {} {ok} calls in {elapsed:.1}s over {} connections to {} endpoint{} = {rps:.0} calls/s, p50 {:.2} ms, p99 {:.2} ms, {failed} failed{}",
            args.label,
            operation,
            args.connections,
            targets.len(),
            if targets.len() == 1 { "" } else { "s" },
            percentile(&lat, 50.0),
            percentile(&lat, 99.0),
            rss.map_or(String::new(), |r| format!(
                ", server peak RSS {} MiB",
                r / 1024
            ))
        );
    }
    // A run with failures measured something other than the calls it names.
    if failed > 0 || ok == 0 {
        bail!(
            "{failed} of {} calls failed{}",
            ok + failed,
            if ok == 0 {
                " (is the endpoint up and are the keys right?)"
            } else {
                ""
            }
        );
    }
    Ok(())
}
