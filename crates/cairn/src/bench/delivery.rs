//! Trail delivery throughput: events per second from the journal to stored log files (plan,
//! read, gzip, write to the embedded S3), for one multi-region trail.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use cairn_model::{Clock, SystemClock, timefmt};
use cairn_services::s3::policy::PolicyGate;
use cairn_store::journal::{Entry, EntryKind, Journal, JournalConfig, NoHook, SegmentJournal};
use cairn_store::objects::SqliteObjects;
use cairn_store::organizations::SqliteOrganizations;
use cairn_store::trails::{SqliteTrails, Trail};
use cairn_trail::delivery::Delivery;
use cairn_trail::sink::EmbeddedSink;
use serde_json::json;

use super::peak_rss_kib;

#[derive(clap::Args)]
pub struct DeliveryArgs {
    /// Events to deliver.
    #[arg(long, default_value_t = 500_000)]
    pub events: u64,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

const ACCOUNT: &str = "123456789012";

pub fn run(args: DeliveryArgs) -> anyhow::Result<()> {
    let dir = tempfile::Builder::new()
        .prefix("cairn-bench-delivery")
        .tempdir()?;
    let journal = Arc::new(SegmentJournal::open(
        &dir.path().join("journal"),
        JournalConfig::default(),
        Box::new(NoHook),
    )?);
    let trails = Arc::new(SqliteTrails::open(&dir.path().join("trails.db"))?);
    let objects = Arc::new(SqliteObjects::open(&dir.path().join("s3"))?);
    objects.create_bucket("bench-logs", ACCOUNT, "us-east-1", 0)?;
    let arn = format!("arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/bench");
    let policy = json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},
        "Action":"s3:PutObject","Resource":format!("arn:aws:s3:::bench-logs/AWSLogs/{ACCOUNT}/*")}]});
    objects.set_bucket_config(
        "bench-logs",
        cairn_store::objects::BucketConfig::Policy,
        Some(&policy.to_string()),
    )?;
    trails.put(&Trail {
        arn: arn.clone(),
        account: ACCOUNT.into(),
        home_region: "us-east-1".into(),
        name: "bench".into(),
        s3_bucket: "bench-logs".into(),
        include_global_events: true,
        multi_region: true,
        logging: true,
        logging_ranges: vec![(0, None)],
        ..Trail::default()
    })?;
    let now = SystemClock.now_millis();
    let regions = ["us-east-1", "eu-west-1", "ap-southeast-2"];
    let mut i = 0u64;
    while i < args.events {
        let n = (args.events - i).min(5000);
        let batch: Vec<Vec<u8>> = (i..i + n)
            .map(|k| {
                let r = json!({"eventVersion":"1.11","userIdentity":{"type":"Root","principalId":ACCOUNT,"arn":format!("arn:aws:iam::{ACCOUNT}:root"),"accountId":ACCOUNT,"accessKeyId":"AKIAEXAMPLEEXAMPLE00"},
                    "eventTime":timefmt::event_time(now),"eventSource":"cloudtrail.amazonaws.com","eventName":"DescribeTrails","awsRegion":regions[(k % 3) as usize],
                    "sourceIPAddress":"127.0.0.1","userAgent":"aws-cli/1.46.3 md/Botocore#1.43.62 ua/2.1 os/linux lang/python#3.11.7 botocore/1.43.62",
                    "requestParameters":null,"responseElements":null,"requestID":format!("{k:08x}-0000-4000-8000-000000000000"),
                    "eventID":format!("{k:08x}-1111-4000-8000-000000000000"),"readOnly":true,"eventType":"AwsApiCall","managementEvent":true,
                    "recipientAccountId":ACCOUNT,"eventCategory":"Management"});
                Entry { kind: EntryKind::Recorded, account: ACCOUNT.into(), record: serde_json::to_vec(&r).unwrap_or_default(), served: None }.encode()
            })
            .collect();
        journal.append(batch).wait_blocking()?;
        i += n;
    }
    let sink = EmbeddedSink {
        objects,
        gate: Arc::new(PolicyGate),
        clock: Arc::new(SystemClock),
    };
    let d = Delivery {
        journal,
        trails,
        organizations: Arc::new(SqliteOrganizations::open(
            &dir.path().join("organizations.db"),
        )?),
        sink: Arc::new(sink),
        clock: Arc::new(SystemClock),
        backoff: Default::default(),
        planned: Default::default(),
    };
    let t0 = Instant::now();
    let r = d.run_once()?;
    let secs = t0.elapsed().as_secs_f64();
    anyhow::ensure!(
        r.written_records as u64 == args.events,
        "delivered {} of {} events",
        r.written_records,
        args.events
    );
    let rate = args.events as f64 / secs;
    let rss = peak_rss_kib(None);
    if args.json {
        let mut m = BTreeMap::new();
        m.insert("bench", json!("delivery"));
        m.insert("events", json!(args.events));
        m.insert("files", json!(r.written_files));
        m.insert("seconds", json!(secs));
        m.insert("events_per_s", json!(rate.round()));
        m.insert("peak_rss_kib", json!(rss));
        println!("{}", serde_json::to_string(&m)?);
    } else {
        println!(
            "delivery: {} events into {} log files in {secs:.2} s = {rate:.0} events/s (peak RSS {} MiB)",
            args.events,
            r.written_files,
            rss.unwrap_or(0) / 1024
        );
    }
    Ok(())
}
