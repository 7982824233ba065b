//! `cairn query`: Lake-style SQL over AWS CloudTrail log files (converted once into a cached
//! columnar copy, the table `events`) or over an event data store's files in the data directory.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::AtomicBool;
use std::time::UNIX_EPOCH;

use anyhow::{Context, bail};
use cairn_import::{FileError, discover, read_records};
use cairn_lake::convert::Record;
use cairn_lake::{Limits, QueryError, ResultFile, StoreDir, Table, prepare_naming, render};
use sha2::{Digest, Sha256};

use crate::DataDirArg;
use crate::datadir::DataDir;

/// The table name the converted `--from` logs take in the SQL.
pub const FROM_TABLE: &str = "events";
/// The stream the converted copy's one append is recorded under.
const FROM_STREAM: &str = "from";

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns under a header, for reading in a terminal.
    Table,
    /// RFC 4180 CSV with a header line; NULL is an empty field.
    Csv,
    /// JSON lines: one object per row, each column a string value or null.
    Json,
    /// A Parquet file (needs --output), columns as the result's types.
    Parquet,
}

#[derive(clap::Args)]
pub struct QueryArgs {
    #[command(flatten)]
    pub data_dir: DataDirArg,
    /// AWS CloudTrail log files, or folders of them (walked recursively): delivery files
    /// (.json.gz / .json with {"Records":[…]}), JSON arrays, JSON lines, EventBridge envelopes,
    /// LookupEvents output. The SQL names them `events`. Converted once into a columnar copy
    /// under $XDG_CACHE_HOME/cairn/query (else ~/.cache/cairn/query), reused while the files are
    /// unchanged. Repeatable.
    #[arg(long = "from", value_name = "PATH")]
    pub from: Vec<PathBuf>,
    /// An event data store of this instance's data directory to query; the SQL names it by its
    /// id, as CloudTrail Lake does (`SELECT … FROM <id>`). Repeatable.
    #[arg(long = "event-data-store", value_name = "ID")]
    pub event_data_store: Vec<String>,
    /// How to print the result.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Write the result to this file instead of standard output (required for parquet).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Converter threads for --from (default: the machine's cores).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// The statement: one SELECT, as CloudTrail Lake takes it (Trino functions, struct members
    /// as useridentity.arn, map lookups as element_at(requestparameters, 'bucketName')).
    #[arg(value_name = "SQL")]
    pub sql: String,
    /// The bucket event data stores keep their files in, from the configuration file's `[lake]`.
    #[arg(skip)]
    pub lake_bucket: Option<cairn_lake::BucketConfig>,
}

/// Runs the query; any failure is one line on stderr and exit status 1.
pub fn run(args: QueryArgs) -> anyhow::Result<()> {
    keep_freed_memory();
    if let Err(e) = query(args) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
    Ok(())
}

/// A query is one short process: memory it frees is kept for reuse instead of being handed
/// back to the system as it goes and again at exit (the allocator's default, right for the
/// server, was a tenth of a short query's CPU time).
fn keep_freed_memory() {
    // `mi_option_purge_delay` in mimalloc.h (v2 and v3 alike); the -sys crate names no
    // constant for it.
    const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    // SAFETY: sets a process-wide allocator option (an integer), which mimalloc reads on each
    // purge decision; called before the query's threads start.
    unsafe {
        libmimalloc_sys::mi_option_set(PURGE_DELAY, -1);
    }
}

fn query(args: QueryArgs) -> anyhow::Result<()> {
    if args.from.is_empty() && args.event_data_store.is_empty() {
        bail!("say what to query: --from PATH (CloudTrail log files) or --event-data-store ID");
    }
    if args.format == Format::Parquet && args.output.is_none() {
        bail!("--format parquet writes a file: give it with --output FILE");
    }
    let names: &[&str] = if args.from.is_empty() {
        &[]
    } else {
        &[FROM_TABLE]
    };
    let prepared = prepare_naming(&args.sql, names).map_err(|e| anyhow::anyhow!("{e}"))?;
    let engine = cairn_lake::Engine::new().context("starting the SQL engine")?;
    let mut tables = Vec::new();
    // Event data stores' folders, by their table's index: listed again when cairn serve merged
    // files away while the query ran.
    let mut stores: Vec<(usize, cairn_lake::Place)> = Vec::new();
    for name in &prepared.stores {
        if name == FROM_TABLE && !args.from.is_empty() {
            let threads = args.threads.unwrap_or_else(cores);
            let copy = cached_copy(&args.from, threads, std::io::stderr().is_terminal())?;
            if let Some(c) = &copy.made {
                eprintln!(
                    "converted {} events from {} files into {}{}",
                    c.rows,
                    c.files,
                    copy.root.display(),
                    if c.refused > 0 {
                        format!(" ({} records were not JSON objects)", c.refused)
                    } else {
                        String::new()
                    }
                );
            }
            tables.push(Table {
                id: FROM_TABLE.to_string(),
                files: copy.files,
                key: None,
                bucket: None,
            });
            continue;
        }
        if !args
            .event_data_store
            .iter()
            .any(|id| id.eq_ignore_ascii_case(name))
        {
            bail!("the query names event data store {name}: add --event-data-store {name}");
        }
        let dir = DataDir::resolve(&args.data_dir)?;
        let lake = dir.root.join("lake");
        let place = match &args.lake_bucket {
            Some(config) => {
                let bucket =
                    cairn_lake::Bucket::connect(config, lake.join("staging"), engine.handle())
                        .context("connecting to the lake's bucket")?;
                std::sync::Arc::new(bucket).place(name)
            }
            None => {
                let root = lake.join(name);
                if !root.is_dir() {
                    bail!("no event data store {name} has files in {}", lake.display());
                }
                cairn_lake::Place::Folder(root)
            }
        };
        let shown = place.location("");
        if cairn_lake::files::sealed_at(&place).with_context(|| format!("reading {shown}"))? {
            bail!(
                "event data store {name} is encrypted with a KMS key: query it through cairn serve (aws cloudtrail start-query), which asks KMS for its key"
            );
        }
        let parts = cairn_lake::files::committed_parts(&place)
            .with_context(|| format!("reading {shown}"))?;
        if args.lake_bucket.is_some()
            && parts.is_empty()
            && !place.exists_at(&place.location("_committed.json"))
        {
            bail!("no event data store {name} has files in {shown}");
        }
        tables.push(Table {
            id: name.clone(),
            files: parts.iter().map(|p| place.location(&p.name)).collect(),
            key: None,
            bucket: place.object_store(),
        });
        stores.push((tables.len() - 1, place));
    }
    let limits = Limits {
        max_result_bytes: usize::MAX,
        timeout: std::time::Duration::from_secs(u64::MAX / 4),
        // The user's own machine and query: no cap beyond what the system gives.
        max_memory: usize::MAX / 2,
    };
    let mut out: Box<dyn Write> = match (&args.output, args.format) {
        (_, Format::Parquet) => Box::new(std::io::sink()),
        (Some(p), _) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        (None, _) => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let mut printer = Printer::new(args.format);
    let mut parquet = args.output.as_deref().map(ResultFile::new);
    let cancel = AtomicBool::new(false);
    let mut emitted = false;
    let mut attempt = 0;
    let ran = loop {
        attempt += 1;
        let ran = engine.run_batches(
            &prepared,
            &tables,
            &cancel,
            limits,
            &mut |columns, batch| {
                emitted = true;
                if args.format == Format::Parquet {
                    if let Some(f) = parquet.as_mut() {
                        f.write(columns, batch)
                            .map_err(|e| QueryError::Failed(e.to_string()))?;
                    }
                    return Ok(());
                }
                printer
                    .rows(&mut out, columns, render::rows(batch))
                    .map_err(|e| QueryError::Failed(format!("writing the result: {e}")))
            },
        );
        // A store cairn serve is writing merges its small files as it goes, deleting them: a
        // query that listed one before it went runs again over the new listing (unless it
        // printed rows already).
        let gone = || {
            stores
                .iter()
                .any(|(i, place)| tables[*i].files.iter().any(|f| !place.exists_at(f)))
        };
        match ran {
            Err(QueryError::Failed(_)) if attempt < 3 && !emitted && gone() => {
                for (i, place) in &stores {
                    tables[*i].files = cairn_lake::files::committed_parts(place)
                        .with_context(|| format!("reading {}", place.location("")))?
                        .iter()
                        .map(|p| place.location(&p.name))
                        .collect();
                }
            }
            other => break other,
        }
    };
    let columns = match ran {
        Ok(c) => c,
        Err(e) => bail!("{e}"),
    };
    if args.format == Format::Parquet {
        if let Some(f) = parquet {
            f.finish(&columns)
                .map_err(|e| anyhow::anyhow!("writing the result: {e}"))?;
        }
        return Ok(());
    }
    printer
        .finish(&mut out, &columns)
        .and_then(|()| out.flush())
        .context("writing the result")?;
    Ok(())
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// Prints rows as they come (CSV, JSON lines) or at the end (the aligned table).
struct Printer {
    format: Format,
    header_done: bool,
    held: Vec<Vec<Option<String>>>,
}

impl Printer {
    fn new(format: Format) -> Printer {
        Printer {
            format,
            header_done: false,
            held: Vec::new(),
        }
    }

    fn rows(
        &mut self,
        out: &mut dyn Write,
        columns: &[String],
        rows: Vec<Vec<Option<String>>>,
    ) -> std::io::Result<()> {
        match self.format {
            Format::Table | Format::Parquet => self.held.extend(rows),
            Format::Csv => {
                self.csv_header(out, columns)?;
                for row in rows {
                    csv_line(out, row.iter().map(|v| v.as_deref().unwrap_or("")))?;
                }
            }
            Format::Json => {
                for row in rows {
                    out.write_all(json_line(columns, &row).as_bytes())?;
                }
            }
        }
        Ok(())
    }

    fn csv_header(&mut self, out: &mut dyn Write, columns: &[String]) -> std::io::Result<()> {
        if !self.header_done {
            self.header_done = true;
            csv_line(out, columns.iter().map(String::as_str))?;
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut dyn Write, columns: &[String]) -> std::io::Result<()> {
        match self.format {
            Format::Csv => self.csv_header(out, columns),
            Format::Table => out.write_all(table(columns, &self.held).as_bytes()),
            Format::Json | Format::Parquet => Ok(()),
        }
    }
}

/// One CSV record (RFC 4180): fields with commas, quotes or line breaks quoted, quotes doubled,
/// CRLF at the end.
fn csv_line<'a>(out: &mut dyn Write, fields: impl Iterator<Item = &'a str>) -> std::io::Result<()> {
    let mut line = String::new();
    for (i, f) in fields.enumerate() {
        if i > 0 {
            line.push(',');
        }
        if f.contains([',', '"', '\r', '\n']) {
            line.push('"');
            line.push_str(&f.replace('"', "\"\""));
            line.push('"');
        } else {
            line.push_str(f);
        }
    }
    line.push_str("\r\n");
    out.write_all(line.as_bytes())
}

/// One JSON object per row, members in the result's column order.
fn json_line(columns: &[String], row: &[Option<String>]) -> String {
    let mut line = String::from("{");
    for (i, (c, v)) in columns.iter().zip(row).enumerate() {
        if i > 0 {
            line.push(',');
        }
        line.push_str(&serde_json::Value::from(c.as_str()).to_string());
        line.push(':');
        match v {
            Some(v) => line.push_str(&serde_json::Value::from(v.as_str()).to_string()),
            None => line.push_str("null"),
        }
    }
    line.push_str("}\n");
    line
}

/// Aligned columns: a header, a rule, the rows (NULL shown empty), and a row count.
fn table(columns: &[String], rows: &[Vec<Option<String>>]) -> String {
    // A value's line breaks would break the alignment.
    let cell = |v: &Option<String>| {
        v.as_deref()
            .unwrap_or("")
            .replace(['\n', '\r'], " ")
            .replace('\t', " ")
    };
    let mut widths: Vec<usize> = columns.iter().map(|c| c.chars().count()).collect();
    let cells: Vec<Vec<String>> = rows.iter().map(|r| r.iter().map(cell).collect()).collect();
    for r in &cells {
        for (w, v) in widths.iter_mut().zip(r) {
            *w = (*w).max(v.chars().count());
        }
    }
    let line = |values: &mut dyn Iterator<Item = &str>| {
        let mut s = String::new();
        for (i, (v, w)) in values.zip(&widths).enumerate() {
            if i > 0 {
                s.push_str(" | ");
            }
            s.push_str(v);
            if i + 1 < widths.len() {
                s.extend(std::iter::repeat_n(' ', w - v.chars().count()));
            }
        }
        s.truncate(s.trim_end().len());
        s.push('\n');
        s
    };
    let mut out = line(&mut columns.iter().map(String::as_str));
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    out.push_str(&rule.join("-+-"));
    out.push('\n');
    for r in &cells {
        out.push_str(&line(&mut r.iter().map(String::as_str)));
    }
    out.push_str(&format!(
        "({} row{})\n",
        rows.len(),
        if rows.len() == 1 { "" } else { "s" }
    ));
    out
}

/// A columnar copy of log files, ready to query.
pub struct Copy {
    pub root: PathBuf,
    pub files: Vec<String>,
    /// What made it, when this call did (None: reused).
    pub made: Option<Converted>,
}

/// Where copies live: $XDG_CACHE_HOME/cairn/query, else ~/.cache/cairn/query.
fn cache_root() -> anyhow::Result<PathBuf> {
    if let Some(x) = std::env::var_os("XDG_CACHE_HOME").filter(|x| !x.is_empty()) {
        return Ok(Path::new(&x).join("cairn/query"));
    }
    match std::env::var_os("HOME").filter(|x| !x.is_empty()) {
        Some(h) => Ok(Path::new(&h).join(".cache/cairn/query")),
        None => bail!("cannot find a cache directory: set XDG_CACHE_HOME or HOME"),
    }
}

fn short_hash(h: Sha256) -> String {
    hex::encode(&h.finalize()[..8])
}

/// The copy of the logs under `paths`: reused when the same files (names, sizes, times) were
/// converted before; else converted now, and older copies of the same paths removed.
pub fn cached_copy(paths: &[PathBuf], threads: usize, show_progress: bool) -> anyhow::Result<Copy> {
    let mut canonical = Vec::with_capacity(paths.len());
    for p in paths {
        canonical
            .push(std::fs::canonicalize(p).with_context(|| format!("reading {}", p.display()))?);
    }
    canonical.sort();
    canonical.dedup();
    let files = discover(&canonical).map_err(|e| anyhow::anyhow!("{e}"))?;
    if files.is_empty() {
        bail!(
            "no CloudTrail log files (.json, .json.gz, .jsonl, .ndjson) under {}",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let mut which = Sha256::new();
    for p in &canonical {
        which.update(p.as_os_str().as_encoded_bytes());
        which.update([0]);
    }
    let mut what = Sha256::new();
    for f in &files {
        let md = std::fs::metadata(f).with_context(|| format!("reading {}", f.display()))?;
        let mtime = md
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        what.update(f.as_os_str().as_encoded_bytes());
        what.update([0]);
        what.update(md.len().to_le_bytes());
        what.update(mtime.to_le_bytes());
    }
    let prefix = short_hash(which);
    let key = format!("{prefix}-{}", short_hash(what));
    let cache = cache_root()?;
    let root = cache.join(&key);
    if root.is_dir() {
        return Ok(Copy {
            files: parts_of(&root)?,
            root,
            made: None,
        });
    }
    std::fs::create_dir_all(&cache).with_context(|| format!("creating {}", cache.display()))?;
    let temp = cache.join(format!("{key}.tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&temp);
    let report = convert(&files, &temp, threads, show_progress);
    let report = match report {
        Ok(r) => r,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&temp);
            return Err(e);
        }
    };
    for e in &report.errors {
        eprintln!("warning: {e}");
    }
    let made = report;
    if std::fs::rename(&temp, &root).is_err() {
        // Another query made the same copy meanwhile: use that one.
        let _ = std::fs::remove_dir_all(&temp);
    }
    remove_stale(&cache, &prefix, &key);
    Ok(Copy {
        files: parts_of(&root)?,
        root,
        made: Some(made),
    })
}

fn parts_of(root: &Path) -> anyhow::Result<Vec<String>> {
    let place = cairn_lake::Place::Folder(root.to_path_buf());
    Ok(cairn_lake::files::committed_parts(&place)
        .with_context(|| format!("reading {}", root.display()))?
        .iter()
        .map(|p| place.location(&p.name))
        .collect())
}

/// Removes older copies of the same paths, and copies a query that is gone left half made.
fn remove_stale(cache: &Path, prefix: &str, keep: &str) {
    let Ok(entries) = std::fs::read_dir(cache) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let stale = match name.split_once(".tmp-") {
            Some((_, pid)) => !Path::new("/proc").join(pid).exists(),
            None => name.starts_with(&format!("{prefix}-")) && name != keep,
        };
        if stale {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// What a conversion did.
#[derive(Debug, Default)]
pub struct Converted {
    pub files: usize,
    pub rows: u64,
    pub refused: u64,
    pub errors: Vec<FileError>,
}

/// Converts log files into a new store folder at `root`, on `threads` threads.
pub fn convert(
    files: &[PathBuf],
    root: &Path,
    threads: usize,
    show_progress: bool,
) -> anyhow::Result<Converted> {
    convert_sealed(files, root, threads, show_progress, None)
}

/// [`convert`], into a store sealed with `key` when one is given (the files are encrypted as
/// those of an event data store with a KMS key).
pub fn convert_sealed(
    files: &[PathBuf],
    root: &Path,
    threads: usize,
    show_progress: bool,
    key: Option<cairn_lake::DataKey>,
) -> anyhow::Result<Converted> {
    let total: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0))
        .sum();
    let bar = indicatif::ProgressBar::new(total);
    if show_progress {
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "converting {bar:40} {bytes}/{total_bytes} ({eta})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
    } else {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let errors = Mutex::new(Vec::new());
    let read = |path: &PathBuf, push: &mut dyn FnMut(Record<'_>)| {
        if read_delivery_file(path, push) {
            bar.inc(std::fs::metadata(path).map(|m| m.len()).unwrap_or(0));
            return;
        }
        let (records, errs) = read_records(path);
        for r in &records {
            push(Record::Text(r));
        }
        if !errs.is_empty() {
            errors
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .extend(errs);
        }
        bar.inc(std::fs::metadata(path).map(|m| m.len()).unwrap_or(0));
    };
    let mut store = StoreDir::open(root.to_path_buf())
        .with_context(|| format!("creating {}", root.display()))?;
    if let Some(key) = key {
        store.set_key(key).context("sealing the store")?;
    }
    let (appended, converted) = store
        .append_sources(
            FROM_STREAM,
            1,
            files.len() as u64,
            files,
            cairn_lake::files::Reader {
                threads,
                weight: &|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0),
                read: &read,
            },
        )
        .with_context(|| format!("writing {}", root.display()))?;
    bar.finish_and_clear();
    Ok(Converted {
        files: files.len(),
        rows: appended.rows,
        refused: converted.refused,
        errors: errors.into_inner().unwrap_or_else(|p| p.into_inner()),
    })
}

/// Hands over the records of a CloudTrail delivery file (`{"Records":[…]}`, gzip'd or not)
/// straight from the file's text, without a copy of each; false when the file is anything
/// else (then [`read_records`], which reads every container `cairn import` takes, reads it).
fn read_delivery_file(path: &Path, push: &mut dyn FnMut(Record<'_>)) -> bool {
    thread_local! {
        /// The decompressed text, kept between files (no fresh pages for each file).
        static TEXT: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let Ok(bytes) = std::fs::read(path) else {
        return false;
    };
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return records_of(&bytes, push);
    }
    TEXT.with_borrow_mut(|out| {
        if !gunzip_whole(&bytes, out) {
            out.clear();
            let mut gz = flate2::read::MultiGzDecoder::new(&bytes[..]);
            if std::io::Read::read_to_end(&mut gz, out).is_err() {
                return false;
            }
        }
        records_of(out, push)
    })
}

/// Decompresses a gzip file of one member in one call, into `out` sized from the file's
/// trailer; false (then a streaming decoder reads it) for anything else. libdeflate checks
/// the first member's CRC-32 and size against that member's own trailer; the file's last
/// eight bytes must be that same trailer, so a file of several members (whose last trailer
/// describes another member) is not taken for its first one, unless its last member repeats
/// the first byte for byte (CloudTrail writes one member per file).
fn gunzip_whole(bytes: &[u8], out: &mut Vec<u8>) -> bool {
    let Some(trailer) = bytes.len().checked_sub(8).and_then(|at| bytes.get(at..)) else {
        return false;
    };
    let word = |at: usize| {
        trailer
            .get(at..at + 4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(u32::from_le_bytes)
    };
    let (Some(crc), Some(size)) = (word(0), word(4)) else {
        return false;
    };
    // The buffer is kept between files: what it held is written over, not zeroed first.
    out.resize(size as usize, 0);
    let whole = matches!(
        libdeflater::Decompressor::new().gzip_decompress(bytes, out),
        Ok(n) if n == out.len()
    ) && crc32fast::hash(out) == crc;
    if !whole {
        out.clear();
    }
    whole
}

fn records_of(bytes: &[u8], push: &mut dyn FnMut(Record<'_>)) -> bool {
    #[derive(serde::Deserialize)]
    struct Delivery<'a> {
        #[serde(rename = "Records", borrow)]
        records: Vec<&'a serde_json::value::RawValue>,
    }
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    if !text.trim_start().starts_with('{') {
        return false;
    }
    let Ok(delivery) = serde_json::from_str::<Delivery<'_>>(text) else {
        return false;
    };
    // Parsed once here; each record's text is known JSON and is not checked again.
    for r in delivery.records {
        push(Record::Json(r));
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_files_of_one_member_or_several_read_whole() {
        use std::io::Write;
        let gz = |text: &[u8]| {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(text).unwrap();
            e.finish().unwrap()
        };
        let one = gz(b"{\"Records\":[{\"a\":1}]}");
        let mut out = Vec::new();
        assert!(gunzip_whole(&one, &mut out));
        assert_eq!(out, b"{\"Records\":[{\"a\":1}]}");
        // Two members: not taken for the first; the streaming decoder reads both.
        let mut two = gz(b"first ");
        two.extend(gz(b"second"));
        assert!(!gunzip_whole(&two, &mut out));
        // Damaged or short input is refused, never read as something else.
        assert!(!gunzip_whole(&one[..one.len() - 3], &mut out));
        assert!(!gunzip_whole(b"\x1f\x8b", &mut out));
        let mut bad = one.clone();
        let mid = bad.len() / 2;
        bad[mid] ^= 0xff;
        assert!(!gunzip_whole(&bad, &mut out));
    }

    #[test]
    fn csv_quotes_what_needs_it() {
        let mut out = Vec::new();
        csv_line(
            &mut out,
            ["a", "b,c", "say \"hi\"", "two\nlines", ""].into_iter(),
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "a,\"b,c\",\"say \"\"hi\"\"\",\"two\nlines\",\r\n"
        );
    }

    #[test]
    fn json_lines_keep_column_order_and_nulls() {
        let cols = vec![
            "eventName".to_string(),
            "n".to_string(),
            "_col2".to_string(),
        ];
        let row = vec![Some("Get\"Object".to_string()), None, Some("2".to_string())];
        assert_eq!(
            json_line(&cols, &row),
            "{\"eventName\":\"Get\\\"Object\",\"n\":null,\"_col2\":\"2\"}\n"
        );
    }

    #[test]
    fn tables_align() {
        let cols = vec!["name".to_string(), "count".to_string()];
        let rows = vec![
            vec![Some("ListBuckets".to_string()), Some("12".to_string())],
            vec![None, Some("3".to_string())],
        ];
        assert_eq!(
            table(&cols, &rows),
            "name        | count\n------------+------\nListBuckets | 12\n            | 3\n(2 rows)\n"
        );
    }
}
