//! Lake ingest: AWS log files (gzip'd `{"Records":[…]}` delivery files) into an event data
//! store's columnar files, as `cairn query --from` converts them. The corpus is synthesized
//! from the real records, flaws.cloud-like (large files of management events over months):
//! each event a real record with its own eventID and an eventTime spread over the span.
//! Reports events/s and input bytes/s of the conversion (read, gunzip, parse, columns, Parquet).
//! With `--sealed`, the store is encrypted as an event data store with a KMS key is (Parquet
//! modular encryption under a data key), and one query over it is timed as well, so that the
//! cost of encryption shows beside a run without it.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;

#[derive(clap::Args)]
pub struct LakeArgs {
    /// Events in the corpus.
    #[arg(long, default_value_t = 1_000_000)]
    pub events: u64,
    /// Events per delivery file.
    #[arg(long, default_value_t = 50_000)]
    pub per_file: u64,
    /// Days the events' times spread over.
    #[arg(long, default_value_t = 90)]
    pub days: u64,
    /// CloudTrail records to take events from, one JSON object per line (gzip if .gz).
    #[arg(
        long,
        default_value = "../shared/data/cloudtrail-real/records.jsonl.gz"
    )]
    pub records: PathBuf,
    /// Keep the corpus here (reused when it already holds the same corpus) instead of a
    /// temporary folder.
    #[arg(long, value_name = "DIR")]
    pub corpus: Option<PathBuf>,
    /// Write the columnar store here (replaced) instead of a temporary folder, and keep it.
    #[arg(long, value_name = "DIR")]
    pub store: Option<PathBuf>,
    /// Converter threads (default: the machine's cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Encrypt the store's files as those of an event data store with a KMS key (a fixed
    /// data key stands for the one KMS would give).
    #[arg(long)]
    pub sealed: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// The query timed after the ingest: every event read, grouped by name.
const QUERY: &str =
    "SELECT eventname, count(*) AS n FROM bench GROUP BY eventname ORDER BY n DESC LIMIT 10";

/// p50 of five runs of [`QUERY`] over the store, in ms.
fn query_ms(store: &Path, key: Option<cairn_lake::DataKey>) -> anyhow::Result<f64> {
    let prepared =
        cairn_lake::prepare_naming(QUERY, &["bench"]).map_err(|e| anyhow::anyhow!("{e}"))?;
    let place = cairn_lake::Place::Folder(store.to_path_buf());
    let files = cairn_lake::files::committed_parts(&place)?
        .iter()
        .map(|p| place.location(&p.name))
        .collect();
    let table = cairn_lake::Table {
        id: "bench".into(),
        files,
        key,
        bucket: None,
    };
    let engine = cairn_lake::Engine::new()?;
    let mut times = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        engine.run(
            &prepared,
            std::slice::from_ref(&table),
            &std::sync::atomic::AtomicBool::new(false),
            cairn_lake::Limits::default(),
        )?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

pub fn run(args: LakeArgs) -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let corpus = args
        .corpus
        .clone()
        .unwrap_or_else(|| tmp.path().join("corpus"));
    let files = synthesize(&args, &corpus)?;
    let input_bytes: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0))
        .sum();
    let store = args
        .store
        .clone()
        .unwrap_or_else(|| tmp.path().join("store"));
    let _ = std::fs::remove_dir_all(&store);
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let started = Instant::now();
    let key = args.sealed.then_some(cairn_lake::DataKey([0x5a; 32]));
    let done = crate::query::convert_sealed(&files, &store, threads, false, key.clone())?;
    let secs = started.elapsed().as_secs_f64();
    let query = query_ms(&store, key)?;
    anyhow::ensure!(
        done.errors.is_empty() && done.rows == args.events,
        "converted {} of {} events: {:?}",
        done.rows,
        args.events,
        done.errors
    );
    let parquet_bytes = dir_bytes(&store);
    let rate = done.rows as f64 / secs;
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "bench": "lake",
                "events": done.rows,
                "files": files.len(),
                "threads": threads,
                "seconds": secs,
                "events_per_sec": rate,
                "input_bytes": input_bytes,
                "input_mb_per_sec": input_bytes as f64 / secs / 1e6,
                "parquet_bytes": parquet_bytes,
                "peak_rss_kib": super::peak_rss_kib(None),
                "sealed": args.sealed,
                "query_p50_ms": query,
            })
        );
    } else {
        println!(
            "lake ingest{}: {} events from {} gzip'd delivery files ({:.1} MB) in {secs:.2} s on {threads} threads: {rate:.0} events/s, {:.1} MB/s of input; Parquet {:.1} MB; top event names p50 {query:.1} ms",
            if args.sealed { " (sealed)" } else { "" },
            done.rows,
            files.len(),
            input_bytes as f64 / 1e6,
            input_bytes as f64 / secs / 1e6,
            parquet_bytes as f64 / 1e6
        );
    }
    Ok(())
}

fn dir_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_bytes(&e.path()),
            _ => e.metadata().map(|m| m.len()).unwrap_or(0),
        })
        .sum()
}

/// The corpus's delivery files, written unless `dir` already holds this very corpus.
fn synthesize(args: &LakeArgs, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let label = format!(
        "{} events, {} per file, {} days, from {}",
        args.events,
        args.per_file,
        args.days,
        args.records.display()
    );
    let marker = dir.join("corpus.txt");
    let nfiles = args.events.div_ceil(args.per_file.max(1));
    let names: Vec<PathBuf> = (0..nfiles)
        .map(|i| dir.join(format!("cloudtrail{i:05}.json.gz")))
        .collect();
    if std::fs::read_to_string(&marker).is_ok_and(|m| m == label) {
        return Ok(names);
    }
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir)?;
    let templates = templates(&args.records)?;
    anyhow::ensure!(
        !templates.is_empty(),
        "no records in {}",
        args.records.display()
    );
    // 2019-01-01T00:00:00Z, then evenly over the span.
    let start = 1_546_300_800i64;
    let span = (args.days.max(1) * 86_400) as i64;
    let mut n = 0u64;
    for path in &names {
        let f =
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
        let mut gz =
            flate2::write::GzEncoder::new(std::io::BufWriter::new(f), flate2::Compression::new(6));
        gz.write_all(b"{\"Records\":[")?;
        let end = (n + args.per_file).min(args.events);
        let mut first = true;
        while n < end {
            if !first {
                gz.write_all(b",")?;
            }
            first = false;
            let t = start + (n as i128 * span as i128 / args.events.max(1) as i128) as i64;
            let time = time::OffsetDateTime::from_unix_timestamp(t)?;
            let rest = &templates[(n % templates.len() as u64) as usize];
            write!(
                gz,
                "{{\"eventTime\":\"{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z\",\"eventID\":\"{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}\",{rest}",
                time.year(),
                u8::from(time.month()),
                time.day(),
                time.hour(),
                time.minute(),
                time.second(),
                n as u32,
                (n >> 32) as u16,
                n % 0xfff,
                (n / 7) % 0xfff,
                n.wrapping_mul(0x9E37_79B9_7F4A_7C15) & 0xffff_ffff_ffff
            )?;
            n += 1;
        }
        gz.write_all(b"]}")?;
        gz.finish()?.flush()?;
    }
    std::fs::write(&marker, label)?;
    Ok(names)
}

/// The real records without their eventID and eventTime, each as the text after its opening
/// brace (management events only, as flaws.cloud's logs are).
fn templates(path: &Path) -> anyhow::Result<Vec<String>> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let reader: Box<dyn BufRead> = if path.extension().is_some_and(|e| e == "gz") {
        Box::new(BufReader::new(flate2::read::GzDecoder::new(file)))
    } else {
        Box::new(BufReader::new(file))
    };
    let mut out = Vec::new();
    for line in reader.lines() {
        let line = line?;
        let Ok(serde_json::Value::Object(mut m)) = serde_json::from_str(&line) else {
            continue;
        };
        if m.get("managementEvent") == Some(&serde_json::Value::Bool(false))
            || m.get("eventCategory").and_then(|c| c.as_str()) == Some("Data")
        {
            continue;
        }
        m.remove("eventID");
        m.remove("eventTime");
        if m.is_empty() {
            continue;
        }
        let text = serde_json::Value::Object(m).to_string();
        out.push(text[1..].to_string());
    }
    Ok(out)
}
