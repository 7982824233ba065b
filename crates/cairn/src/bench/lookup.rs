//! LookupEvents latency over a large event history. Builds (or reuses) a data directory of N
//! synthetic management events spread over the last 80 days, then times the LookupEvents
//! handler (index query, journal reads, response building) for a mix of queries.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use cairn_model::{AccountId, Clock, Principal, SystemClock, timefmt};
use cairn_services::App;
use cairn_services::app::{Layout, Options, Stores};
use cairn_services::recorder::CallContext;
use cairn_store::journal::{Entry, EntryKind, JournalConfig};
use serde_json::{Value, json};

use super::{peak_rss_kib, percentile};

#[derive(clap::Args)]
pub struct LookupArgs {
    /// Events in the history.
    #[arg(long, default_value_t = 1_000_000)]
    pub events: u64,
    /// Data directory to build in, or to reuse when it already holds that many events.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Queries to time per query kind.
    #[arg(long, default_value_t = 500)]
    pub queries: usize,
    /// Print JSON lines instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Builds the i-th query of a kind.
type QueryMaker = Box<dyn Fn(usize) -> Value>;

const ACCOUNT: &str = "123456789012";
pub const NAMES: usize = 40;
pub const USERS: usize = 200;
const TRAILS: usize = 10_000;

fn record(i: u64, t_ms: i64, account: &str) -> String {
    let name = format!("Operation{:02}", i as usize % NAMES);
    let user = format!("user{:03}", (i as usize * 7) % USERS);
    let trail = format!("trail-{:05}", (i as usize * 13) % TRAILS);
    json!({
        "eventVersion":"1.11",
        "userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLEUSERID000","arn":format!("arn:aws:iam::{account}:user/{user}"),
            "accountId":account,"accessKeyId":format!("AKIAEXAMPLE{:09}", i % 50),"userName":user},
        "eventTime":timefmt::event_time(t_ms),"eventSource":"cloudtrail.amazonaws.com","eventName":name,
        "awsRegion":"us-east-1","sourceIPAddress":"203.0.113.25",
        "userAgent":"aws-cli/1.46.3 md/Botocore#1.43.62 ua/2.1 os/linux#6.18 md/arch#x86_64 lang/python#3.11.7 md/pyimpl#CPython botocore/1.43.62",
        "requestParameters":{"name":trail,"includeShadowTrails":true},"responseElements":null,
        "requestID":format!("{:08x}-0000-4000-8000-{:012x}", i, i),"eventID":format!("{:08x}-1111-4000-8000-{:012x}", i, i),
        "readOnly": !i.is_multiple_of(3),"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":account,"eventCategory":"Management",
        "tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"cloudtrail.us-east-1.amazonaws.com"}
    })
    .to_string()
}

/// How far back the synthetic history reaches.
pub const SPAN_MS: i64 = 80 * 86_400_000;

/// Fills the history of `stores` with `events` synthetic management events of `account`
/// spread over [`SPAN_MS`] before `now` (unless it holds that many already). How long it
/// took, when it had to.
pub fn fill_history(
    stores: &Stores,
    events: u64,
    account: &str,
    now: i64,
) -> anyhow::Result<Option<f64>> {
    let (history, journal) = (Arc::clone(&stores.history), stores.journal.clone());
    let span = SPAN_MS;
    let have = history.count()?;
    if have >= events {
        return Ok(None);
    }
    let bar = indicatif::ProgressBar::new(events);
    bar.set_style(indicatif::ProgressStyle::with_template(
        "building history {bar:40} {pos}/{len} ({per_sec}, {eta})",
    )?);
    bar.set_position(have);
    let t0 = Instant::now();
    let mut i = have;
    while i < events {
        let n = (events - i).min(5000);
        let batch: Vec<Vec<u8>> = (i..i + n)
            .map(|k| {
                let t = now - span + (k as i128 * span as i128 / events as i128) as i64;
                Entry {
                    kind: EntryKind::Imported,
                    account: account.into(),
                    record: record(k, t, account).into_bytes(),
                    served: None,
                }
                .encode()
            })
            .collect();
        journal.append(batch).wait_blocking()?;
        i += n;
        bar.set_position(i);
    }
    bar.finish_and_clear();
    Ok(Some(t0.elapsed().as_secs_f64()))
}

pub fn run(args: LookupArgs) -> anyhow::Result<()> {
    let dir = args.dir.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("cairn-bench-lookup-{}", args.events))
    });
    std::fs::create_dir_all(&dir)?;
    let layout = Layout::new(&dir);
    let stores = Stores::open(&layout, JournalConfig::default(), |_, _| {})?;
    let now = SystemClock.now_millis();
    let span = SPAN_MS;
    let build_s = fill_history(&stores, args.events, ACCOUNT, now)?;
    let app = App::build(
        &stores,
        &layout,
        cairn_services::registry(),
        Options::new(Arc::new(SystemClock)),
    )?;
    let account = AccountId::parse(ACCOUNT).context("account id")?;
    let ctx = CallContext {
        principal: Principal::Root {
            account,
            access_key_id: "AKIABENCH".into(),
            alias: None,
            session: None,
        },
        recipient_account: ACCOUNT.into(),
        region: "us-east-1".into(),
        source_ip: "127.0.0.1".into(),
        user_agent: None,
        request_id: "bench".into(),
        tls: None,
        invoked_by: None,
        from_console: false,
        source_arn: None,
        arrival: None,
    };
    let kinds: Vec<(&str, QueryMaker)> = vec![
        ("no attribute", Box::new(|_| json!({}))),
        (
            "EventName",
            Box::new(
                |i| json!({"LookupAttributes":[{"AttributeKey":"EventName","AttributeValue":format!("Operation{:02}", i % NAMES)}]}),
            ),
        ),
        (
            "Username",
            Box::new(
                |i| json!({"LookupAttributes":[{"AttributeKey":"Username","AttributeValue":format!("user{:03}", (i * 31) % USERS)}]}),
            ),
        ),
        (
            "ResourceName",
            Box::new(
                |i| json!({"LookupAttributes":[{"AttributeKey":"ResourceName","AttributeValue":format!("trail-{:05}", (i * 7919) % TRAILS)}]}),
            ),
        ),
        (
            "EventId",
            Box::new(move |i| {
                let k = (i as u64 * 104_729) % args.events;
                json!({"LookupAttributes":[{"AttributeKey":"EventId","AttributeValue":format!("{:08x}-1111-4000-8000-{:012x}", k, k)}]})
            }),
        ),
        (
            "ReadOnly + time range",
            Box::new(move |i| {
                let s = (now - span + (i as i64 * 3_600_000) % span) / 1000;
                json!({"LookupAttributes":[{"AttributeKey":"ReadOnly","AttributeValue":"false"}],"StartTime":s,"EndTime":s+86_400})
            }),
        ),
    ];
    let mut all = Vec::new();
    let mut lines = Vec::new();
    for (label, make) in &kinds {
        let mut lat = Vec::with_capacity(args.queries * 2);
        for i in 0..args.queries {
            let input = make(i);
            let t0 = Instant::now();
            let out = cairn_services::cloudtrail::handle(&app, &ctx, "LookupEvents", &input)
                .map_err(|e| anyhow::anyhow!("{}: {}", e.code, e.message))?;
            lat.push(t0.elapsed().as_secs_f64() * 1000.0);
            // Follow the token once: the second page is what paginators ask for next.
            if let Some(tok) = out.get("NextToken").and_then(Value::as_str) {
                let mut next = input.clone();
                next["NextToken"] = tok.into();
                let t0 = Instant::now();
                cairn_services::cloudtrail::handle(&app, &ctx, "LookupEvents", &next)
                    .map_err(|e| anyhow::anyhow!("{}: {}", e.code, e.message))?;
                lat.push(t0.elapsed().as_secs_f64() * 1000.0);
            }
        }
        lat.sort_by(f64::total_cmp);
        lines.push((
            label.to_string(),
            percentile(&lat, 50.0),
            percentile(&lat, 99.0),
            lat.len(),
        ));
        all.extend(lat);
    }
    all.sort_by(f64::total_cmp);
    let rss = peak_rss_kib(None);
    if args.json {
        for (label, p50, p99, n) in &lines {
            println!(
                "{}",
                json!({"bench":"lookup","events":args.events,"query":label,"p50_ms":p50,"p99_ms":p99,"samples":n})
            );
        }
        println!(
            "{}",
            json!({"bench":"lookup","events":args.events,"query":"all","p50_ms":percentile(&all,50.0),"p99_ms":percentile(&all,99.0),
            "samples":all.len(),"build_s":build_s,"peak_rss_kib":rss})
        );
    } else {
        println!(
            "LookupEvents over {} events{}:",
            args.events,
            build_s.map_or(String::new(), |s| format!(" (built in {s:.0} s)"))
        );
        for (label, p50, p99, n) in &lines {
            println!("  {label:<24} p50 {p50:>7.2} ms   p99 {p99:>7.2} ms   ({n} calls)");
        }
        println!(
            "  {:<24} p50 {:>7.2} ms   p99 {:>7.2} ms   peak RSS {} MiB",
            "all",
            percentile(&all, 50.0),
            percentile(&all, 99.0),
            rss.unwrap_or(0) / 1024
        );
    }
    Ok(())
}
