//! The console's Event history page over a large history: server time per page (sign-in
//! included once, then the page handler: its LookupEvents calls in the person's name, their
//! records, the HTML), for the filters a person uses. In process, so the figure is the
//! server's own time; `benches/console_pages.py` measures what a browser sees.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use bytes::Bytes;
use cairn_model::{Clock, SystemClock};
use cairn_services::App;
use cairn_services::app::{Layout, Options, Stores};
use cairn_services::edge::web::{WebFront, WebPeer};
use cairn_store::journal::JournalConfig;
use http_body_util::BodyExt;
use serde_json::json;

use super::lookup::{NAMES, SPAN_MS, USERS, fill_history};
use super::{peak_rss_kib, percentile};

#[derive(clap::Args)]
pub struct ConsoleArgs {
    /// Events in the history.
    #[arg(long, default_value_t = 1_000_000)]
    pub events: u64,
    /// Data directory to build in, or to reuse when it already holds that many events (then
    /// `cairn serve --data-dir` on it serves the same history to a browser).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Pages to time per filter.
    #[arg(long, default_value_t = 200)]
    pub pages: usize,
    /// The root password set for the console (for a browser run on the same directory).
    #[arg(long, default_value = "Bench-Passw0rd!")]
    pub password: String,
    /// Print JSON lines instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Builds the i-th page address of a kind.
type PageMaker = Box<dyn Fn(usize) -> String>;

fn peer() -> WebPeer {
    WebPeer {
        addr: SocketAddr::from(([127, 0, 0, 1], 40000)),
        https: false,
    }
}

fn request(
    method: &str,
    uri: &str,
    cookie: &str,
    body: String,
) -> anyhow::Result<http::Request<Bytes>> {
    Ok(http::Request::builder()
        .method(method)
        .uri(uri)
        .header("host", "127.0.0.1")
        .header("cookie", cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Bytes::from(body))?)
}

/// `name=value` of every cookie a response sets.
fn cookies(resp: &http::Response<http_body_util::Full<Bytes>>) -> Vec<String> {
    resp.headers()
        .get_all(http::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .map(str::to_owned)
        .collect()
}

async fn body_text(resp: http::Response<http_body_util::Full<Bytes>>) -> String {
    let bytes = resp
        .into_body()
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Signs in as root through the sign-in form, as a browser does; the session cookie.
async fn sign_in(console: &dyn WebFront, account: &str, password: &str) -> anyhow::Result<String> {
    let form = console
        .serve(
            request("GET", "/console/signin", "", String::new())?,
            peer(),
        )
        .await;
    let form_cookie = cookies(&form).join("; ");
    let html = body_text(form).await;
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .context("no CSRF token on the sign-in form")?
        .to_owned();
    let body = serde_urlencoded::to_string([
        ("csrf", csrf.as_str()),
        ("account", account),
        ("password", password),
    ])?;
    let resp = console
        .serve(
            request("POST", "/console/signin", &form_cookie, body)?,
            peer(),
        )
        .await;
    anyhow::ensure!(
        resp.status() == http::StatusCode::SEE_OTHER,
        "sign-in refused ({})",
        resp.status()
    );
    cookies(&resp)
        .into_iter()
        .find(|c| c.starts_with("cairn-console=") && c.len() > "cairn-console=".len())
        .context("no session cookie")
}

pub fn run(args: ConsoleArgs) -> anyhow::Result<()> {
    let dir = args.dir.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("cairn-bench-console-{}", args.events))
    });
    std::fs::create_dir_all(&dir)?;
    let layout = Layout::new(&dir);
    let stores = Stores::open(&layout, JournalConfig::default(), |_, _| {})?;
    let now = SystemClock.now_millis();
    let account = match stores.identity.accounts()?.into_iter().next() {
        Some(a) => a.id,
        None => stores.identity.create_account(now)?.0.id,
    };
    let build_s = fill_history(&stores, args.events, account.as_str(), now)?;
    stores
        .identity
        .set_root_password(&account, &args.password, now)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let _entered = runtime.enter();
    let app = Arc::new(App::build(
        &stores,
        &layout,
        cairn_services::registry(),
        Options::new(Arc::new(SystemClock)),
    )?);
    // The index follows the journal on its own thread: time pages only once it has caught up.
    let indexing = Instant::now();
    while stores.history.count()? < args.events {
        anyhow::ensure!(
            indexing.elapsed().as_secs() < 7200,
            "the history index did not catch up"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let build_s = build_s.map(|b| b + indexing.elapsed().as_secs_f64());
    let console = cairn_console::Console::new(Arc::clone(&app), "us-east-1");
    let day = move |i: usize| {
        let t = now - SPAN_MS + (i as i64 * 3_600_000) % SPAN_MS;
        let fmt = |ms: i64| {
            time::OffsetDateTime::from_unix_timestamp(ms / 1000)
                .map(|t| {
                    format!(
                        "{:04}-{:02}-{:02}T{:02}:{:02}",
                        t.year(),
                        t.month() as u8,
                        t.day(),
                        t.hour(),
                        t.minute()
                    )
                })
                .unwrap_or_default()
        };
        (fmt(t), fmt(t + 86_400_000))
    };
    let kinds: Vec<(&str, PageMaker)> = vec![
        (
            "no filter",
            Box::new(|_| "/console/cloudtrail/events".to_owned()),
        ),
        (
            "EventName",
            Box::new(|i| {
                format!(
                    "/console/cloudtrail/events?attr=EventName&value=Operation{:02}",
                    i % NAMES
                )
            }),
        ),
        (
            "Username",
            Box::new(|i| {
                format!(
                    "/console/cloudtrail/events?attr=Username&value=user{:03}",
                    (i * 31) % USERS
                )
            }),
        ),
        (
            "Username + ReadOnly",
            Box::new(|i| {
                format!(
                    "/console/cloudtrail/events?attr=Username&value=user{:03}&attr=ReadOnly&value=true",
                    (i * 31) % USERS
                )
            }),
        ),
        (
            "ReadOnly + one day",
            Box::new(move |i| {
                let (s, e) = day(i);
                format!("/console/cloudtrail/events?attr=ReadOnly&value=false&start={s}&end={e}")
            }),
        ),
        ("dashboard", Box::new(|_| "/console/cloudtrail".to_owned())),
    ];
    let lines = runtime.block_on(async {
        let cookie = sign_in(&*console, account.as_str(), &args.password).await?;
        let mut lines = Vec::new();
        for (label, make) in &kinds {
            // One page first, untimed: the index catching up with a history just built is
            // not what a person's page costs.
            console
                .serve(request("GET", &make(0), &cookie, String::new())?, peer())
                .await;
            let mut lat = Vec::with_capacity(args.pages);
            for i in 0..args.pages {
                let req = request("GET", &make(i), &cookie, String::new())?;
                let t0 = Instant::now();
                let resp = console.serve(req, peer()).await;
                let status = resp.status();
                let html = body_text(resp).await;
                lat.push(t0.elapsed().as_secs_f64() * 1000.0);
                anyhow::ensure!(
                    status == http::StatusCode::OK && !html.contains("role=\"alert\""),
                    "{label}: page failed ({status})"
                );
            }
            lat.sort_by(f64::total_cmp);
            lines.push((
                label.to_string(),
                percentile(&lat, 50.0),
                percentile(&lat, 99.0),
                lat.len(),
            ));
        }
        anyhow::Ok(lines)
    })?;
    let rss = peak_rss_kib(None);
    if args.json {
        for (label, p50, p99, n) in &lines {
            println!(
                "{}",
                json!({"bench":"console","events":args.events,"page":label,"p50_ms":p50,"p99_ms":p99,"samples":n,"build_s":build_s,"peak_rss_kib":rss})
            );
        }
    } else {
        println!(
            "Console pages over {} events{} (server time, in process):",
            args.events,
            build_s.map_or(String::new(), |s| format!(" (history built in {s:.0} s)"))
        );
        for (label, p50, p99, n) in &lines {
            println!("  {label:<24} p50 {p50:>7.2} ms   p99 {p99:>7.2} ms   ({n} pages)");
        }
        println!(
            "  data dir: {} (root password: {})",
            dir.display(),
            args.password
        );
    }
    Ok(())
}
