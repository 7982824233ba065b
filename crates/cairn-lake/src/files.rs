//! An event data store's files: Parquet, one folder per day (`eventdate=YYYY-MM-DD`, Hive
//! style, so DuckDB, Trino, Spark and Athena read the folder as a partitioned table), each
//! file named after what it holds: `<stream>.<first>-<last>.parquet`.
//!
//! A stream is one source of records with numbered positions: `journal` (journal offsets), an
//! import (`import-<id>`, numbered by the files it reads), a channel (`channel-<id>`, numbered
//! by its calls). Exactly once, across crashes:
//! - an append writes its files under temporary names, syncs them, renames them, and only then
//!   records the stream's last position in `_committed.json` (written the same way);
//! - at open, files a stream wrote past its committed position (an append cut short) are
//!   deleted, as are temporary files: the source hands those records again;
//! - compaction writes one file covering several of a stream's files, then deletes them; a
//!   file whose range another file of its folder covers is ignored (and removed), so a crash
//!   between the two steps never counts a record twice.
//!
//! A store encrypted with a KMS key is sealed: `_sealed.json` holds a check value of its data
//! key (never the key), written before its first encrypted file. Its files are then written
//! with Parquet's modular encryption (AES-GCM, footer and every column under the data key);
//! files written before it was sealed stay readable as they are. The key itself lives only in
//! memory ([`StoreDir::set_key`]): a sealed store without it refuses to append.
//!
//! The folder is a [`Place`]: on the local disk, or a prefix of a bucket (`place.rs`).

use std::collections::BTreeMap;
use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use datafusion::arrow::array::{Array, BooleanArray, RecordBatch, TimestampMillisecondArray};
use datafusion::arrow::compute::filter_record_batch;
use datafusion::parquet::arrow::ArrowSchemaConverter;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::encryption::decrypt::FileDecryptionProperties;
use datafusion::parquet::encryption::encrypt::FileEncryptionProperties;
use datafusion::parquet::file::properties::{EnabledStatistics, WriterProperties};
use datafusion::parquet::schema::types::ColumnPath;

use crate::LakeError;
use crate::convert::{BatchBuilder, Converted, ReadRecords};
use crate::place::{Listed, Place};
use crate::schema;

/// Rows gathered before they are handed to the file writer.
const CHUNK_ROWS: usize = 16_384;
/// Rows per Parquet row group: small enough that two cores scan a file in parallel and that
/// statistics on `eventtime` prune, large enough to compress well.
const ROW_GROUP_ROWS: usize = 131_072;
/// Pages of the wide columns (the record's text, its parameters, who made the call) hold about
/// this many bytes before compression: a few dozen records. A query that keeps a few rows
/// (`SELECT *` of the console sign-ins without MFA) then decompresses only the pages holding
/// them (found through the files' page index) instead of nearly every page of those columns.
const WIDE_PAGE_BYTES: usize = 64 << 10;
/// Memory one append's open files may hold in row groups not yet written out. Records spread
/// over many days open a file per day, each holding its row group until it is full, which a
/// day of a thread's run seldom fills: without a bound, a large import would hold nearly all
/// its output in memory. Past the bound, the largest row groups are written out early.
const BUFFERED_BYTES: usize = 96 << 20;

const COMMITTED: &str = "_committed.json";
const SEALED: &str = "_sealed.json";
/// Hive's name for the partition of rows whose partition value is null.
pub const NULL_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";

/// One of a store's files, as its name describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// `eventdate=<day>/<stream>.<first>-<last>.parquet`, within the store's folder.
    pub name: String,
    pub day: String,
    pub stream: String,
    pub first: u64,
    pub last: u64,
    pub size: u64,
    pub modified: Option<SystemTime>,
}

impl Part {
    fn parse(listed: Listed) -> Option<Part> {
        let (folder, file) = listed.name.split_once('/')?;
        let day = folder.strip_prefix("eventdate=")?;
        let stem = file.strip_suffix(".parquet")?;
        let (stream, range) = stem.rsplit_once('.')?;
        let (first, last) = range.split_once('-')?;
        Some(Part {
            day: day.to_string(),
            stream: stream.to_string(),
            first: first.parse().ok()?,
            last: last.parse().ok()?,
            size: listed.size,
            modified: listed.modified,
            name: listed.name,
        })
    }

    fn covers(&self, other: &Part) -> bool {
        self.stream == other.stream
            && self.day == other.day
            && self.name != other.name
            && self.first <= other.first
            && other.last <= self.last
            && (self.first, self.last) != (other.first, other.last)
    }
}

/// What an append did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Appended {
    /// Records written.
    pub rows: u64,
    /// Records refused, with why (by their index in the append).
    pub refused: Vec<(u64, String)>,
    /// Whether the range had been committed before (nothing was written).
    pub already: bool,
}

/// A valid stream name: lower-case letters, digits and dashes (it is part of file names).
pub fn valid_stream(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// One event data store's folder.
pub struct StoreDir {
    place: Place,
    /// The data key of a sealed store, once handed over.
    key: Option<DataKey>,
}

/// A sealed store's data key (AES-256).
#[derive(Clone, PartialEq, Eq)]
pub struct DataKey(pub [u8; 32]);

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(..)")
    }
}

impl DataKey {
    /// What `_sealed.json` keeps to recognise the key: a hash of it under a label of its own
    /// (the key cannot be recovered from it).
    fn check_value(&self) -> String {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        h.update(b"cairn lake data key check\0");
        h.update(self.0);
        hex::encode(h.finalize())
    }

    fn encryption(&self) -> Result<Arc<FileEncryptionProperties>, LakeError> {
        Ok(FileEncryptionProperties::builder(self.0.to_vec()).build()?)
    }

    /// How a reader opens files written under this key (files written before the store was
    /// sealed are read as they are).
    pub fn decryption(&self) -> Result<Arc<FileDecryptionProperties>, LakeError> {
        Ok(FileDecryptionProperties::builder(self.0.to_vec()).build()?)
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Sealed {
    check: String,
}

impl StoreDir {
    /// Opens (creating) the folder and finishes what a crash left: uncommitted and temporary
    /// files are deleted, covered files removed.
    pub fn open(root: PathBuf) -> Result<StoreDir, LakeError> {
        StoreDir::open_at(Place::Folder(root))
    }

    /// Opens the store's folder at `place` (on the disk or in a bucket), as [`StoreDir::open`].
    pub fn open_at(place: Place) -> Result<StoreDir, LakeError> {
        let dir = StoreDir::attach(place)?;
        dir.recover()?;
        Ok(dir)
    }

    /// Opens the store's folder at `place` without finishing what a crash left: for a caller
    /// that recovers it while no other process writes it (see `Lake::store`).
    pub fn attach(place: Place) -> Result<StoreDir, LakeError> {
        place.create()?;
        Ok(StoreDir { place, key: None })
    }

    /// Whether the store is sealed (encrypted under a data key).
    pub fn sealed(&self) -> Result<bool, LakeError> {
        Ok(self.sealed_check()?.is_some())
    }

    fn sealed_check(&self) -> Result<Option<String>, LakeError> {
        match self.place.read(SEALED)? {
            Some(bytes) => serde_json::from_slice::<Sealed>(&bytes)
                .map(|s| Some(s.check))
                .map_err(|e| LakeError::Corrupt(format!("{SEALED}: {e}"))),
            None => Ok(None),
        }
    }

    /// Hands the store its data key. The first key seals the store (durably, before any file
    /// is written under it); a sealed store takes only the key it was sealed with.
    pub fn set_key(&mut self, key: DataKey) -> Result<(), LakeError> {
        let check = key.check_value();
        match self.sealed_check()? {
            Some(c) if c == check => {}
            Some(_) => {
                return Err(LakeError::Invalid(
                    "this is not the data key the event data store was sealed with".into(),
                ));
            }
            None => {
                let bytes = serde_json::to_vec(&Sealed { check })
                    .map_err(|e| LakeError::Corrupt(format!("{SEALED}: {e}")))?;
                self.place.write_atomically(SEALED, &bytes)?;
            }
        }
        self.key = Some(key);
        Ok(())
    }

    /// Forgets the data key (the KMS key can no longer be used).
    pub fn forget_key(&mut self) {
        self.key = None;
    }

    /// The data key, if handed over.
    pub fn key(&self) -> Option<&DataKey> {
        self.key.as_ref()
    }

    /// The key files are written with: none for a store that is not sealed, an error for a
    /// sealed one whose key was not handed over.
    pub(crate) fn writing_key(&self) -> Result<Option<&DataKey>, LakeError> {
        match (&self.key, self.sealed()?) {
            (Some(k), _) => Ok(Some(k)),
            (None, false) => Ok(None),
            (None, true) => Err(LakeError::Locked),
        }
    }

    /// Where the store's files are.
    pub fn place(&self) -> &Place {
        &self.place
    }

    /// How the SQL engine names one of its files.
    pub fn location(&self, part: &Part) -> String {
        self.place.location(&part.name)
    }

    /// Every stream's last committed position.
    pub fn committed(&self) -> Result<BTreeMap<String, u64>, LakeError> {
        match self.place.read(COMMITTED)? {
            Some(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| LakeError::Corrupt(format!("{COMMITTED}: {e}"))),
            None => Ok(BTreeMap::new()),
        }
    }

    fn write_committed(&self, all: &BTreeMap<String, u64>) -> Result<(), LakeError> {
        let bytes =
            serde_json::to_vec(all).map_err(|e| LakeError::Corrupt(format!("{COMMITTED}: {e}")))?;
        self.place.write_atomically(COMMITTED, &bytes)
    }

    /// Deletes what appends cut short left: temporary files and files past their stream's
    /// committed position. Only while no other process writes the store.
    pub fn recover(&self) -> Result<(), LakeError> {
        let committed = self.committed()?;
        self.place.remove_temporaries()?;
        for part in self.all_parts()? {
            let done = committed.get(&part.stream).copied();
            // Past the committed position: written by an append a crash cut short.
            if done.is_none_or(|c| part.last > c) {
                tracing::info!(file = %part.name, "removing a lake file no append committed");
                self.place.remove(&part.name)?;
            }
        }
        Ok(())
    }

    fn all_parts(&self) -> Result<Vec<Part>, LakeError> {
        let mut out: Vec<Part> = self
            .place
            .list()?
            .into_iter()
            .filter_map(Part::parse)
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// The files a query reads: every committed file no other file covers (a compaction's
    /// inputs, whether it finished deleting them or was cut short). Files past their stream's
    /// committed position are not read: an append under way (in another process sharing the
    /// store) made them visible and has not committed them yet, or one was cut short.
    pub fn parts(&self) -> Result<Vec<Part>, LakeError> {
        let committed = self.committed()?;
        let all: Vec<Part> = self
            .all_parts()?
            .into_iter()
            .filter(|p| committed.get(&p.stream).is_some_and(|&c| p.last <= c))
            .collect();
        Ok(all
            .iter()
            .filter(|p| !all.iter().any(|q| q.covers(p)))
            .cloned()
            .collect())
    }

    /// Deletes the days before `day` (days since the epoch): events past the store's
    /// retention. Returns how many days went.
    pub fn drop_days_before(&self, day: i64) -> Result<usize, LakeError> {
        let cutoff = day_label(day);
        let mut days: Vec<String> = self.all_parts()?.into_iter().map(|p| p.day).collect();
        days.dedup();
        let mut dropped = 0;
        for d in days {
            // Hive's null partition sorts after every date and is kept.
            if d.as_bytes().first().is_some_and(u8::is_ascii_digit) && d < cutoff {
                self.place.remove_folder(&format!("eventdate={d}"))?;
                dropped += 1;
            }
        }
        Ok(dropped)
    }

    /// Deletes covered files last changed more than `min_age` ago. A query that listed them
    /// before the compaction that covered them may still be reading them: they stay a while.
    pub fn sweep_covered(&self, min_age: std::time::Duration) -> Result<usize, LakeError> {
        let all = self.all_parts()?;
        let mut removed = 0;
        for p in all.iter().filter(|p| all.iter().any(|q| q.covers(p))) {
            let old = p
                .modified
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age >= min_age);
            if old {
                self.place.remove(&p.name)?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Adds the records numbered `first..=last` of `stream`. Records that are not JSON objects
    /// are refused (reported, not written). A range at or
    /// below the stream's committed position is skipped; one overlapping it is an error.
    pub fn append<'a>(
        &self,
        stream: &str,
        first: u64,
        last: u64,
        records: &mut dyn Iterator<Item = std::borrow::Cow<'a, str>>,
    ) -> Result<Appended, LakeError> {
        let Some(committed) = self.begin(stream, first, last)? else {
            return Ok(Appended {
                already: true,
                ..Appended::default()
            });
        };
        let mut writing = Writing::new(self, format!("{stream}.{first}-{last}.parquet"))?;
        let mut pending = BatchBuilder::new();
        for (i, record) in records.enumerate() {
            if let Err(e) = pending.push(&record) {
                writing.report.refused.push((i as u64, e.to_string()));
                continue;
            }
            if pending.rows() >= CHUNK_ROWS {
                writing.spread(&pending.finish())?;
            }
        }
        if pending.rows() > 0 {
            writing.spread(&pending.finish())?;
        }
        let report = writing.finish_files()?;
        self.commit(committed, stream, last)?;
        Ok(report)
    }

    /// Like [`StoreDir::append`], for records already made into batches of the Lake schema
    /// (by [`BatchBuilder`], on other threads): the records numbered `first..=last` of
    /// `stream` are exactly the rows of `batches`. An error from the iterator abandons the
    /// append (nothing is committed; the source hands the range again).
    pub fn append_batches(
        &self,
        stream: &str,
        first: u64,
        last: u64,
        batches: &mut dyn Iterator<Item = Result<RecordBatch, LakeError>>,
    ) -> Result<Appended, LakeError> {
        let Some(committed) = self.begin(stream, first, last)? else {
            return Ok(Appended {
                already: true,
                ..Appended::default()
            });
        };
        let mut writing = Writing::new(self, format!("{stream}.{first}-{last}.parquet"))?;
        let want = schema::events();
        for batch in batches {
            let batch = batch?;
            if batch.schema().fields() != want.fields() {
                return Err(LakeError::Invalid(
                    "a batch without the Lake schema".to_string(),
                ));
            }
            writing.spread(&batch)?;
        }
        let report = writing.finish_files()?;
        self.commit(committed, stream, last)?;
        Ok(report)
    }

    /// Adds the records of `sources`, numbered `first..=last` of `stream` (one number per
    /// source, so `sources.len()` is `last - first + 1`), converted and written on `threads`
    /// threads: the sources are cut into `threads` runs of about equal `weight` (file sizes,
    /// say), and each thread reads its run (`read` hands a source's records over), builds the
    /// batches and writes its own files, named after its run's numbers. The stream's position
    /// is recorded once, after every thread's files are durable and visible, so a crash before
    /// that leaves files past the committed position, which the next open deletes.
    pub fn append_sources<S: Sync>(
        &self,
        stream: &str,
        first: u64,
        last: u64,
        sources: &[S],
        reader: Reader<'_, S>,
    ) -> Result<(Appended, Converted), LakeError> {
        let Reader {
            threads,
            weight,
            read,
        } = reader;
        if sources.len() as u64 != last.saturating_sub(first) + 1 {
            return Err(LakeError::Invalid(format!(
                "{} sources numbered {first}-{last}",
                sources.len()
            )));
        }
        let Some(committed) = self.begin(stream, first, last)? else {
            let already = Appended {
                already: true,
                ..Appended::default()
            };
            return Ok((already, Converted::default()));
        };
        let runs = runs(sources, threads, weight);
        let results: Vec<Result<(Appended, Converted), LakeError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = runs
                .into_iter()
                .map(|run| {
                    scope.spawn(move || {
                        let name = format!(
                            "{stream}.{}-{}.parquet",
                            first + run.start as u64,
                            first + run.end as u64 - 1
                        );
                        let mut writing = Writing::new(self, name)?;
                        let mut pending = BatchBuilder::new();
                        let mut converted = Converted::default();
                        let mut failed = None;
                        for source in &sources[run] {
                            read(source, &mut |record| {
                                if pending.push_record(record).is_err() {
                                    converted.refused += 1;
                                    return;
                                }
                                converted.rows += 1;
                                if pending.rows() >= CHUNK_ROWS && failed.is_none() {
                                    failed = writing.spread(&pending.finish()).err();
                                }
                            });
                            if let Some(e) = failed {
                                return Err(e);
                            }
                        }
                        if pending.rows() > 0 {
                            writing.spread(&pending.finish())?;
                        }
                        Ok((writing.finish_files()?, converted))
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(LakeError::Corrupt("a converter thread panicked".into()))
                    })
                })
                .collect()
        });
        let mut appended = Appended::default();
        let mut converted = Converted::default();
        for r in results {
            let (a, c) = r?;
            appended.rows += a.rows;
            converted.rows += c.rows;
            converted.refused += c.refused;
        }
        self.commit(committed, stream, last)?;
        Ok((appended, converted))
    }

    /// Starts an append: the committed positions, or None when the range was committed before.
    fn begin(
        &self,
        stream: &str,
        first: u64,
        last: u64,
    ) -> Result<Option<BTreeMap<String, u64>>, LakeError> {
        if !valid_stream(stream) || first > last {
            return Err(LakeError::Invalid(format!(
                "stream {stream:?} with range {first}-{last}"
            )));
        }
        // Files an append that failed left waiting for upload (one store's appends are serial;
        // a folder's own temporary files are removed when it is opened).
        if matches!(self.place, Place::Bucket { .. }) {
            self.place.remove_temporaries()?;
        }
        let committed = self.committed()?;
        let done = committed.get(stream).copied();
        match done {
            Some(c) if last <= c => return Ok(None),
            Some(c) if first <= c => {
                return Err(LakeError::Invalid(format!(
                    "stream {stream} range {first}-{last} overlaps its committed position {c}"
                )));
            }
            _ => {}
        }
        // Files of this stream an append cut short left (a process sharing the store died
        // mid-append after the store was opened here): they would hold the same records.
        for part in self.all_parts()? {
            if part.stream == stream && done.is_none_or(|c| part.last > c) {
                tracing::info!(file = %part.name, "removing a lake file no append committed");
                self.place.remove(&part.name)?;
            }
        }
        Ok(Some(committed))
    }

    /// Records the stream's new position (its files are durable and visible).
    fn commit(
        &self,
        mut committed: BTreeMap<String, u64>,
        stream: &str,
        last: u64,
    ) -> Result<(), LakeError> {
        committed.insert(stream.to_string(), last);
        self.write_committed(&committed)
    }

    /// Deletes the store's folder and everything in it.
    pub fn remove(self) -> Result<(), LakeError> {
        self.place.remove_folder("")
    }
}

/// How [`StoreDir::append_sources`] reads its sources.
pub struct Reader<'a, S> {
    /// Threads to convert on.
    pub threads: usize,
    /// A source's weight (its size, say): each thread takes a run of about equal weight.
    pub weight: &'a (dyn Fn(&S) -> u64 + Sync),
    /// Hands a source's records over.
    pub read: &'a ReadRecords<'a, S>,
}

/// An append under way: a file per day under temporary names, committed at the end.
struct Writing<'a> {
    dir: &'a StoreDir,
    name: String,
    /// The store's data key, when it is sealed.
    key: Option<DataKey>,
    writers: BTreeMap<String, DayWriter>,
    /// The memory the writers' unwritten row groups held after their last write, summed.
    buffered: usize,
    /// How much they may hold ([`BUFFERED_BYTES`]).
    budget: usize,
    report: Appended,
}

impl<'a> Writing<'a> {
    fn new(dir: &'a StoreDir, name: String) -> Result<Writing<'a>, LakeError> {
        Ok(Writing {
            dir,
            name,
            key: dir.writing_key()?.cloned(),
            writers: BTreeMap::new(),
            buffered: 0,
            budget: BUFFERED_BYTES,
            report: Appended::default(),
        })
    }

    /// Splits rows by day and hands each day's rows to that day's writer.
    fn spread(&mut self, batch: &RecordBatch) -> Result<(), LakeError> {
        let rows = batch.num_rows();
        if rows == 0 {
            return Ok(());
        }
        let Some(times) = batch
            .column_by_name("eventtime")
            .and_then(|c| c.as_any().downcast_ref::<TimestampMillisecondArray>())
        else {
            return Err(LakeError::Corrupt("batch without eventtime".into()));
        };
        // Records without a readable time keep a null `eventtime` in Hive's partition for
        // nulls: nothing a source hands over is dropped.
        let day_of = |i: usize| (!times.is_null(i)).then(|| times.value(i).div_euclid(86_400_000));
        // Delivery files hold their records in time order, so each of a batch's days is one
        // run of rows: it goes to its day as a slice of the batch, which copies nothing.
        let mut runs: Vec<(Option<i64>, usize, usize)> = Vec::new();
        let mut start = 0;
        for i in 1..=rows {
            if i == rows || day_of(i) != day_of(start) {
                runs.push((day_of(start), start, i - start));
                start = i;
            }
        }
        let one_run_per_day = {
            let mut days: Vec<Option<i64>> = runs.iter().map(|r| r.0).collect();
            days.sort_unstable();
            days.dedup();
            days.len() == runs.len()
        };
        if one_run_per_day {
            for (day, offset, len) in runs {
                self.write_day(day, &batch.slice(offset, len))?;
            }
            return Ok(());
        }
        // Days interleaved: one copy of each day's rows, so each day still gets one write.
        let mut days: BTreeMap<Option<i64>, Vec<bool>> = BTreeMap::new();
        for i in 0..rows {
            days.entry(day_of(i)).or_insert_with(|| vec![false; rows])[i] = true;
        }
        for (day, mask) in days {
            let part = filter_record_batch(batch, &BooleanArray::from(mask))?;
            self.write_day(day, &part)?;
        }
        Ok(())
    }

    fn write_day(&mut self, day: Option<i64>, part: &RecordBatch) -> Result<(), LakeError> {
        self.report.rows += part.num_rows() as u64;
        let label = day.map_or_else(|| NULL_PARTITION.to_string(), day_label);
        let writer = match self.writers.entry(label) {
            std::collections::btree_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::btree_map::Entry::Vacant(v) => {
                let name = format!("eventdate={}/{}", v.key(), self.name);
                let temp = self.dir.place.temp_path(&name)?;
                v.insert(DayWriter::create(temp, name, self.key.as_ref())?)
            }
        };
        let before = writer.buffered;
        writer.write(part)?;
        self.buffered = self.buffered.saturating_sub(before) + writer.buffered;
        self.bound_memory()
    }

    /// Writes out the largest unwritten row groups while the writers hold more than their
    /// budget, down to half of it (so that this seldom runs).
    fn bound_memory(&mut self) -> Result<(), LakeError> {
        if self.buffered <= self.budget {
            return Ok(());
        }
        let mut by_size: Vec<&mut DayWriter> = self.writers.values_mut().collect();
        by_size.sort_by_key(|w| std::cmp::Reverse(w.buffered));
        for w in by_size {
            if self.buffered <= self.budget / 2 {
                break;
            }
            let before = w.buffered;
            w.flush()?;
            self.buffered = self.buffered.saturating_sub(before) + w.buffered;
        }
        Ok(())
    }

    /// Makes the files durable, then visible (the caller then records the stream's position).
    fn finish_files(self) -> Result<Appended, LakeError> {
        let mut written = Vec::with_capacity(self.writers.len());
        for (_, w) in self.writers {
            written.push(w.close()?);
        }
        // Every file is durable under its temporary name before any becomes visible.
        self.dir.place.publish(&written)?;
        Ok(self.report)
    }
}

/// `sources` cut into at most `threads` consecutive runs of about equal weight.
fn runs<S>(
    sources: &[S],
    threads: usize,
    weight: &dyn Fn(&S) -> u64,
) -> Vec<std::ops::Range<usize>> {
    let threads = threads.clamp(1, sources.len().max(1));
    let weights: Vec<u64> = sources.iter().map(|s| weight(s).max(1)).collect();
    let total: u64 = weights.iter().sum();
    let mut out = Vec::with_capacity(threads);
    let mut start = 0;
    let mut acc = 0u64;
    let share = |k: usize| total * k as u64 / threads as u64;
    for (i, &w) in weights.iter().enumerate() {
        let k = out.len() + 1;
        // Close the run before a source that takes it further past its share than it is short.
        if k < threads
            && i > start
            && acc + w > share(k)
            && share(k).saturating_sub(acc) < acc + w - share(k)
        {
            out.push(start..i);
            start = i;
        }
        acc += w;
        if out.len() + 1 < threads && acc >= share(out.len() + 1) {
            out.push(start..i + 1);
            start = i + 1;
        }
    }
    if start < sources.len() {
        out.push(start..sources.len());
    }
    out
}

/// `YYYY-MM-DD` of a day number since the epoch.
pub(crate) fn day_label(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The date of a day number since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// A day's file being written under its temporary name.
struct DayWriter {
    temp: PathBuf,
    /// Its name in the store's folder.
    name: String,
    writer: ArrowWriter<File>,
    /// The memory its unwritten row group holds, as of its last write.
    buffered: usize,
}

impl DayWriter {
    fn create(temp: PathBuf, name: String, key: Option<&DataKey>) -> Result<DayWriter, LakeError> {
        let file = File::create(&temp)?;
        let properties = match key {
            None => properties(),
            Some(k) => properties()
                .into_builder()
                .with_file_encryption_properties(k.encryption()?)
                .build(),
        };
        let writer = ArrowWriter::try_new(file, schema::events(), Some(properties))?;
        Ok(DayWriter {
            temp,
            name,
            writer,
            buffered: 0,
        })
    }

    fn write(&mut self, batch: &RecordBatch) -> Result<(), LakeError> {
        self.writer.write(batch)?;
        self.buffered = self.writer.memory_size();
        Ok(())
    }

    /// Writes the rows held so far out as a row group.
    fn flush(&mut self) -> Result<(), LakeError> {
        self.writer.flush()?;
        self.buffered = self.writer.memory_size();
        Ok(())
    }

    fn close(self) -> Result<(PathBuf, String), LakeError> {
        let file = self.writer.into_inner()?;
        file.sync_all()?;
        Ok((self.temp, self.name))
    }
}

/// Columns whose every value differs from every other's: a dictionary would only be built,
/// found useless and dropped (hashing each value on the way).
const UNIQUE_COLUMNS: &[&str] = &[schema::EVENT_JSON, "eventid", "requestid", "sharedeventid"];

/// Top-level columns whose values are long or varied (the record's text, its parameters and
/// responses, who made the call, from where): compressed with zstd. The others hold short
/// repeated values (names, regions, flags) that their dictionary already reduces to a few bits
/// a row; compressing them would save little and cost a zstd compressor and decompressor for
/// each of their columns in every row group written.
const COMPRESSED_COLUMNS: &[&str] = &[
    schema::EVENT_JSON,
    "eventtime",
    "useridentity",
    "sourceipaddress",
    "useragent",
    "errormessage",
    "requestparameters",
    "responseelements",
    "additionaleventdata",
    "requestid",
    "eventid",
    "resources",
    "sharedeventid",
    "serviceeventdetails",
    "addendum",
    "edgedevicedetails",
    "insightdetails",
    "tlsdetails",
    "eventjsonchecksum",
    "eventdata",
    "metadata",
];

/// How files are written: zstd (DuckDB, Trino, Spark and Athena all read it) for the columns
/// that gain from it, row groups sized for parallel scans, and neither dictionary nor
/// statistics for columns of unique values.
fn properties() -> WriterProperties {
    static PROPERTIES: std::sync::LazyLock<WriterProperties> = std::sync::LazyLock::new(|| {
        let mut b = WriterProperties::builder()
            .set_compression(Compression::UNCOMPRESSED)
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS));
        if let Ok(parquet) = ArrowSchemaConverter::new().convert(&schema::events()) {
            for leaf in parquet.columns() {
                let path = leaf.path();
                if path
                    .parts()
                    .first()
                    .is_some_and(|top| COMPRESSED_COLUMNS.contains(&top.as_str()))
                {
                    b = b
                        .set_column_compression(
                            path.clone(),
                            Compression::ZSTD(ZstdLevel::default()),
                        )
                        .set_column_data_page_size_limit(path.clone(), WIDE_PAGE_BYTES);
                }
            }
        }
        for column in UNIQUE_COLUMNS {
            b = b
                .set_column_dictionary_enabled(ColumnPath::from(*column), false)
                // Nothing is ever looked up by a range of these values: no min/max to keep
                // (for `eventjson` that is a comparison of whole records per row).
                .set_column_statistics_enabled(ColumnPath::from(*column), EnabledStatistics::None);
        }
        b.build()
    });
    PROPERTIES.clone()
}

/// Writes `batches` as the file `name` of `place`: under a temporary name, synced, then made
/// visible, so the file is either whole or absent.
pub(crate) fn write_file(
    place: &Place,
    name: &str,
    batches: &[RecordBatch],
    key: Option<&DataKey>,
) -> Result<(), LakeError> {
    let mut w = DayWriter::create(place.temp_path(name)?, name.to_string(), key)?;
    for b in batches {
        w.write(b)?;
    }
    place.publish(&[w.close()?])
}

/// Whether the store at `place` is sealed (its files need its data key, which only KMS gives).
pub fn sealed_at(place: &Place) -> Result<bool, LakeError> {
    StoreDir {
        place: place.clone(),
        key: None,
    }
    .sealed()
}

/// The files a query of the store at `place` reads, without changing anything there (another
/// process may be appending): committed files no other file covers.
pub fn committed_parts(place: &Place) -> Result<Vec<Part>, LakeError> {
    let dir = StoreDir {
        place: place.clone(),
        key: None,
    };
    let committed = dir.committed()?;
    let all: Vec<Part> = dir
        .all_parts()?
        .into_iter()
        .filter(|p| committed.get(&p.stream).is_some_and(|c| p.last <= *c))
        .collect();
    Ok(all
        .iter()
        .filter(|p| !all.iter().any(|q| q.covers(p)))
        .cloned()
        .collect())
}

/// How [`copy_store`] renumbers one stream of a store (the journal's, when a store moves to a
/// journal that numbers entries differently): each file's range, and the committed position.
pub struct Renumber<'a> {
    pub stream: &'a str,
    pub range: &'a dyn Fn(u64, u64) -> (u64, u64),
    pub committed: &'a dyn Fn(u64) -> u64,
}

/// What [`copy_store`] copied.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Copied {
    pub files: u64,
    pub bytes: u64,
}

/// Copies the store at `from` to `to` (an empty place): its committed files no other file
/// covers, under their names, or renumbered as `renumber` says for its stream; then
/// `_sealed.json` as it is and `_committed.json` renumbered. `_committed.json` goes last: a
/// copy cut short leaves files no commit names, which the store removes when it opens.
/// Nothing at `from` changes. `progress(bytes)` follows the copy.
pub fn copy_store(
    from: &Place,
    to: &Place,
    renumber: Option<&Renumber<'_>>,
    progress: &mut dyn FnMut(u64),
) -> Result<Copied, LakeError> {
    let source = StoreDir {
        place: from.clone(),
        key: None,
    };
    let committed = source.committed()?;
    let parts = committed_parts(from)?;
    to.create()?;
    if let Some(sealed) = from.read(SEALED)? {
        to.write_atomically(SEALED, &sealed)?;
    }
    let mut copied = Copied::default();
    for part in &parts {
        let name = match renumber {
            Some(r) if r.stream == part.stream => {
                let (first, last) = (r.range)(part.first, part.last);
                format!(
                    "eventdate={}/{}.{first}-{last}.parquet",
                    part.day, part.stream
                )
            }
            _ => part.name.clone(),
        };
        let temp = to.temp_path(&name)?;
        match from {
            Place::Folder(root) => {
                std::fs::copy(root.join(&part.name), &temp)?;
            }
            Place::Bucket { .. } => std::fs::write(&temp, from.read_file(&part.name)?)?,
        }
        File::open(&temp)?.sync_all()?;
        to.publish(&[(temp, name)])?;
        copied.files += 1;
        copied.bytes += part.size;
        progress(part.size);
    }
    let renumbered: BTreeMap<String, u64> = committed
        .into_iter()
        .map(|(stream, at)| match renumber {
            Some(r) if r.stream == stream => (stream, (r.committed)(at)),
            _ => (stream, at),
        })
        .collect();
    let target = StoreDir {
        place: to.clone(),
        key: None,
    };
    target.write_committed(&renumbered)?;
    Ok(copied)
}

/// Shared handle type for a store's folder.
pub type SharedStoreDir = Arc<StoreDir>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::Record;
    use std::borrow::Cow;
    use std::fs;
    use std::path::Path;

    fn record(id: u64, time: &str) -> String {
        format!(
            r#"{{"eventVersion":"1.08","eventTime":"{time}","eventName":"E{id}","eventID":"id-{id}"}}"#
        )
    }

    fn rows_in(dir: &StoreDir) -> u64 {
        use datafusion::parquet::file::reader::{FileReader, SerializedFileReader};
        dir.parts()
            .unwrap()
            .iter()
            .map(|p| {
                let r = SerializedFileReader::new(File::open(dir.location(p)).unwrap()).unwrap();
                r.metadata().file_metadata().num_rows() as u64
            })
            .sum()
    }

    #[test]
    fn a_copied_store_holds_the_same_rows_with_one_stream_renumbered() {
        let tmp = tempfile::tempdir().unwrap();
        let from = StoreDir::open(tmp.path().join("eds")).unwrap();
        let append = |stream: &str, first: u64, last: u64, recs: &[String]| {
            from.append(
                stream,
                first,
                last,
                &mut recs.iter().map(|s| Cow::Borrowed(s.as_str())),
            )
            .unwrap();
        };
        append(
            "journal",
            11,
            20,
            &[
                record(1, "2024-05-01T01:00:00Z"),
                record(2, "2024-05-02T01:00:00Z"),
            ],
        );
        append("journal", 21, 30, &[record(3, "2024-05-01T02:00:00Z")]);
        append("channel-a", 1, 1, &[record(4, "2024-05-01T03:00:00Z")]);
        // Left by an append a crash cut short: not committed, not copied.
        let day = tmp.path().join("eds").join("eventdate=2024-05-01");
        fs::copy(
            day.join("journal.21-30.parquet"),
            day.join("journal.31-40.parquet"),
        )
        .unwrap();

        let to = Place::Folder(tmp.path().join("moved"));
        let range = |a: u64, b: u64| (a / 10 * 2 - 1, b / 10 * 2);
        let committed = |c: u64| c / 10 * 2;
        let renumber = Renumber {
            stream: "journal",
            range: &range,
            committed: &committed,
        };
        let mut bytes = 0;
        let copied = copy_store(
            &Place::Folder(tmp.path().join("eds")),
            &to,
            Some(&renumber),
            &mut |n| bytes += n,
        )
        .unwrap();
        assert_eq!(copied.files, 4);
        assert_eq!(copied.bytes, bytes);

        let moved = StoreDir::open_at(to).unwrap();
        let mut names: Vec<String> = moved.parts().unwrap().into_iter().map(|p| p.name).collect();
        names.sort();
        assert_eq!(
            names,
            [
                "eventdate=2024-05-01/channel-a.1-1.parquet",
                "eventdate=2024-05-01/journal.1-4.parquet",
                "eventdate=2024-05-01/journal.3-6.parquet",
                "eventdate=2024-05-02/journal.1-4.parquet",
            ]
        );
        let positions: Vec<(String, u64)> = moved.committed().unwrap().into_iter().collect();
        assert_eq!(
            positions,
            [("channel-a".to_string(), 1), ("journal".to_string(), 6)]
        );
        assert_eq!(rows_in(&moved), 4);
        // The stream goes on from its new position: a range it holds is not taken twice.
        let again = [record(3, "2024-05-01T02:00:00Z")];
        let got = moved
            .append(
                "journal",
                3,
                6,
                &mut again.iter().map(|s| Cow::Borrowed(s.as_str())),
            )
            .unwrap();
        assert!(got.already);
        let next = [record(5, "2024-05-01T04:00:00Z")];
        let got = moved
            .append(
                "journal",
                7,
                8,
                &mut next.iter().map(|s| Cow::Borrowed(s.as_str())),
            )
            .unwrap();
        assert_eq!((got.rows, got.already), (1, false));
        assert_eq!(rows_in(&moved), 5);
    }

    #[test]
    fn an_append_lands_by_day_once() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = StoreDir::open(tmp.path().join("eds")).unwrap();
        let recs = [
            record(1, "2024-05-01T01:00:00Z"),
            record(2, "2024-05-02T01:00:00Z"),
            "not json".to_string(),
            record(3, "2024-05-01T23:59:59Z"),
            r#"{"eventName":"no time"}"#.to_string(),
        ];
        let got = dir
            .append(
                "journal",
                10,
                14,
                &mut recs.iter().map(|s| Cow::Borrowed(s.as_str())),
            )
            .unwrap();
        assert_eq!(got.rows, 4);
        assert_eq!(got.refused.len(), 1);
        let parts = dir.parts().unwrap();
        let days: Vec<&str> = parts.iter().map(|p| p.day.as_str()).collect();
        assert_eq!(days, ["2024-05-01", "2024-05-02", NULL_PARTITION]);
        assert!(parts.iter().all(|p| p.first == 10 && p.last == 14));
        assert_eq!(rows_in(&dir), 4);
        // The same range again is skipped; an overlapping one refused.
        let again = dir
            .append(
                "journal",
                10,
                14,
                &mut recs.iter().map(|s| Cow::Borrowed(s.as_str())),
            )
            .unwrap();
        assert!(again.already);
        assert!(
            dir.append("journal", 12, 20, &mut std::iter::empty())
                .is_err()
        );
        assert_eq!(dir.committed().unwrap()["journal"], 14);
        assert_eq!(rows_in(&dir), 4);
    }

    #[test]
    fn files_no_commit_names_are_removed_at_open() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("eds");
        let dir = StoreDir::open(root.clone()).unwrap();
        let one = [record(1, "2024-05-01T01:00:00Z")];
        dir.append(
            "journal",
            1,
            1,
            &mut one.iter().map(|s| Cow::Borrowed(s.as_str())),
        )
        .unwrap();
        // A crash after the rename but before the commit: a file past the committed position,
        // and a temporary file.
        let day = root.join("eventdate=2024-05-01");
        fs::copy(
            day.join("journal.1-1.parquet"),
            day.join("journal.2-5.parquet"),
        )
        .unwrap();
        fs::write(day.join("journal.6-6.parquet.tmp"), b"partial").unwrap();
        let dir = StoreDir::open(root.clone()).unwrap();
        let names: Vec<String> = fs::read_dir(&day)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, ["journal.1-1.parquet"]);
        assert_eq!(rows_in(&dir), 1);
    }

    #[test]
    fn a_covering_file_hides_what_it_covers() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("eds");
        let dir = StoreDir::open(root.clone()).unwrap();
        for n in 1..=3u64 {
            let r = [record(n, "2024-05-01T01:00:00Z")];
            dir.append(
                "journal",
                n,
                n,
                &mut r.iter().map(|s| Cow::Borrowed(s.as_str())),
            )
            .unwrap();
        }
        assert_eq!(rows_in(&dir), 3);
        // A compaction that wrote its merged file and stopped before deleting the parts.
        let day = root.join("eventdate=2024-05-01");
        let merged = StoreDir::open(tmp.path().join("scratch")).unwrap();
        let all: Vec<String> = (1..=3).map(|n| record(n, "2024-05-01T01:00:00Z")).collect();
        merged
            .append(
                "journal",
                1,
                3,
                &mut all.iter().map(|s| Cow::Borrowed(s.as_str())),
            )
            .unwrap();
        fs::copy(
            tmp.path()
                .join("scratch/eventdate=2024-05-01/journal.1-3.parquet"),
            day.join("journal.1-3.parquet"),
        )
        .unwrap();
        assert_eq!(rows_in(&dir), 3);
        assert_eq!(dir.parts().unwrap().len(), 1);
        // The covered files stay until they are old enough that no query still reads them.
        assert_eq!(
            dir.sweep_covered(std::time::Duration::from_secs(3600))
                .unwrap(),
            0
        );
        assert_eq!(dir.sweep_covered(std::time::Duration::ZERO).unwrap(), 3);
        assert_eq!(fs::read_dir(&day).unwrap().count(), 1);
    }

    #[test]
    fn days_past_retention_go() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = StoreDir::open(tmp.path().join("eds")).unwrap();
        let recs = [
            record(1, "2024-04-30T01:00:00Z"),
            record(2, "2024-05-01T01:00:00Z"),
            r#"{"eventName":"no time"}"#.to_string(),
        ];
        dir.append(
            "journal",
            1,
            3,
            &mut recs.iter().map(|s| Cow::Borrowed(s.as_str())),
        )
        .unwrap();
        let may_first = crate::convert::days_from_civil(2024, 5, 1);
        assert_eq!(dir.drop_days_before(may_first).unwrap(), 1);
        let days: Vec<String> = dir.parts().unwrap().into_iter().map(|p| p.day).collect();
        assert_eq!(days, ["2024-05-01", NULL_PARTITION]);
    }

    #[test]
    fn days_round_trip() {
        for (day, label) in [
            (0, "1970-01-01"),
            (19_844, "2024-05-01"),
            (-1, "1969-12-31"),
        ] {
            assert_eq!(day_label(day), label);
        }
        for day in -1000..30_000 {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(crate::convert::days_from_civil(y, m, d), day);
        }
        assert!(valid_stream("import-1f0b"));
        assert!(!valid_stream("Journal"));
        assert!(!valid_stream("a.b"));
        assert!(!valid_stream(""));
    }

    #[test]
    fn sources_are_cut_into_runs_of_equal_weight() {
        let w = |n: &u64| *n;
        assert_eq!(runs(&[1u64, 1, 1, 1], 2, &w), vec![0..2, 2..4]);
        assert_eq!(runs(&[10u64, 1, 1, 1], 2, &w), vec![0..1, 1..4]);
        assert_eq!(runs(&[1u64, 1, 1, 10], 2, &w), vec![0..3, 3..4]);
        assert_eq!(runs(&[5u64], 4, &w), vec![0..1]);
        assert_eq!(runs(&[1u64, 1, 1], 3, &w), vec![0..1, 1..2, 2..3]);
        let none: [u64; 0] = [];
        assert!(runs(&none, 2, &w).is_empty());
    }

    fn reader<'a>(read: &'a ReadRecords<'a, u64>) -> Reader<'a, u64> {
        Reader {
            threads: 2,
            weight: &|_| 1,
            read,
        }
    }

    #[test]
    fn sources_append_once_on_several_threads() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("eds");
        let dir = StoreDir::open(root.clone()).unwrap();
        let sources: Vec<u64> = (0..6).collect();
        let read = |n: &u64, push: &mut dyn FnMut(Record<'_>)| {
            for k in 0..100u64 {
                push(Record::Text(&record(
                    n * 1000 + k,
                    if k % 2 == 0 {
                        "2024-05-01T01:00:00Z"
                    } else {
                        "2024-05-02T01:00:00Z"
                    },
                )));
            }
            push(Record::Text("not a record"));
            let raw: Box<serde_json::value::RawValue> =
                serde_json::from_str(r#"["not", "an object"]"#).unwrap();
            push(Record::Json(&raw));
        };
        let (got, converted) = dir
            .append_sources("from", 1, 6, &sources, reader(&read))
            .unwrap();
        assert_eq!(got.rows, 600);
        assert_eq!(converted.rows, 600);
        assert_eq!(converted.refused, 12);
        assert_eq!(rows_in(&dir), 600);
        let names: Vec<String> = dir
            .parts()
            .unwrap()
            .iter()
            .map(|p| format!("{}/{}-{}", p.day, p.first, p.last))
            .collect();
        assert_eq!(
            names,
            [
                "2024-05-01/1-3",
                "2024-05-01/4-6",
                "2024-05-02/1-3",
                "2024-05-02/4-6"
            ]
        );
        assert_eq!(dir.committed().unwrap()["from"], 6);
        // Again: already there.
        let (again, _) = dir
            .append_sources("from", 1, 6, &sources, reader(&read))
            .unwrap();
        assert!(again.already);
        assert!(
            dir.append_sources("from", 7, 9, &sources, reader(&read))
                .is_err()
        );
        // A crash before the commit: the files written are removed at the next open.
        let day = root.join("eventdate=2024-05-01");
        fs::copy(day.join("from.1-3.parquet"), day.join("from.7-9.parquet")).unwrap();
        let dir = StoreDir::open(root).unwrap();
        assert_eq!(rows_in(&dir), 600);
    }

    #[test]
    fn files_past_the_memory_budget_write_their_row_groups_early() {
        use datafusion::parquet::file::reader::{FileReader, SerializedFileReader};
        let tmp = tempfile::tempdir().unwrap();
        let dir = StoreDir::open(tmp.path().join("eds")).unwrap();
        let mut writing = Writing::new(&dir, "from.1-1.parquet".to_string()).unwrap();
        writing.budget = 1;
        for n in 0..4u64 {
            let mut b = BatchBuilder::new();
            for k in 0..50u64 {
                let day = if k % 2 == 0 { "01" } else { "02" };
                b.push(&record(n * 100 + k, &format!("2024-05-{day}T01:00:00Z")))
                    .unwrap();
            }
            writing.spread(&b.finish()).unwrap();
        }
        assert_eq!(writing.finish_files().unwrap().rows, 200);
        let day = tmp
            .path()
            .join("eds/eventdate=2024-05-01")
            .join("from.1-1.parquet");
        let meta = SerializedFileReader::new(File::open(day).unwrap())
            .unwrap()
            .metadata()
            .clone();
        assert_eq!(meta.file_metadata().num_rows(), 100);
        assert_eq!(meta.num_row_groups(), 4);
    }

    /// The same store, its files in a bucket (in memory here; S3 endpoints in the e2e tests).
    #[test]
    fn a_store_in_a_bucket_appends_once_recovers_compacts_and_forgets_days() {
        use object_store::{ObjectStore, ObjectStoreExt, memory::InMemory, path::Path as Key};
        let tmp = tempfile::tempdir().unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let memory = Arc::new(InMemory::new());
        let bucket = Arc::new(crate::place::Bucket::over(
            memory.clone(),
            "lake",
            "stores",
            tmp.path().join("staging"),
            rt.handle().clone(),
        ));
        let dir = StoreDir::open_at(bucket.place("eds")).unwrap();
        for n in 1..=5u64 {
            let recs = [
                record(n, "2024-04-30T01:00:00Z"),
                record(n + 100, "2024-05-01T01:00:00Z"),
            ];
            let got = dir
                .append(
                    "journal",
                    n,
                    n,
                    &mut recs.iter().map(|s| Cow::Borrowed(s.as_str())),
                )
                .unwrap();
            assert_eq!(got.rows, 2);
        }
        let keys = |prefix: &str| -> Vec<String> {
            let store = memory.clone();
            let prefix = Key::from(prefix);
            rt.block_on(async move {
                use futures::TryStreamExt;
                let mut v: Vec<String> = store
                    .list(Some(&prefix))
                    .map_ok(|m| m.location.to_string())
                    .try_collect()
                    .await
                    .unwrap();
                v.sort();
                v
            })
        };
        assert_eq!(keys("stores/eds").len(), 11, "{:?}", keys("stores/eds"));
        assert!(keys("stores/eds").contains(&"stores/eds/_committed.json".to_string()));
        assert_eq!(
            dir.location(&dir.parts().unwrap()[0]),
            "s3://lake/stores/eds/eventdate=2024-04-30/journal.1-1.parquet"
        );
        // Nothing waits in the staging folder once an append is done.
        let staged: Vec<_> = walk(&tmp.path().join("staging"));
        assert!(staged.is_empty(), "{staged:?}");
        // Again: already there.
        let again = dir
            .append("journal", 5, 5, &mut std::iter::empty())
            .unwrap();
        assert!(again.already);
        // A crash after an upload and before the commit: the file goes at the next open.
        let stray = Key::from("stores/eds/eventdate=2024-05-01/journal.6-9.parquet");
        {
            let store = memory.clone();
            rt.block_on(async move { store.put(&stray, b"partial".to_vec().into()).await })
                .unwrap();
        }
        let dir = StoreDir::open_at(bucket.place("eds")).unwrap();
        assert_eq!(dir.parts().unwrap().len(), 10);
        assert!(!keys("stores/eds").iter().any(|k| k.contains("6-9")));
        // Compaction reads and writes through the bucket.
        assert_eq!(crate::compact::compact(&dir, 2).unwrap(), 10);
        let parts = dir.parts().unwrap();
        let names: Vec<&str> = parts.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "eventdate=2024-04-30/journal.1-5.parquet",
                "eventdate=2024-05-01/journal.1-5.parquet"
            ]
        );
        assert_eq!(keys("stores/eds").len(), 3);
        // Retention drops a whole day; removing the store empties its prefix.
        let may_first = crate::convert::days_from_civil(2024, 5, 1);
        assert_eq!(dir.drop_days_before(may_first).unwrap(), 1);
        assert_eq!(dir.parts().unwrap().len(), 1);
        dir.remove().unwrap();
        assert!(keys("stores/eds").is_empty());
    }

    fn walk(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        if let Ok(entries) = fs::read_dir(dir) {
            for e in entries.flatten() {
                let p = e.path();
                if p.is_dir() {
                    out.extend(walk(&p));
                } else {
                    out.push(p);
                }
            }
        }
        out
    }

    #[test]
    fn readers_list_committed_files_and_change_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("eds");
        let dir = StoreDir::open(root.clone()).unwrap();
        let one = [record(1, "2024-05-01T01:00:00Z")];
        dir.append(
            "journal",
            1,
            1,
            &mut one.iter().map(|s| Cow::Borrowed(s.as_str())),
        )
        .unwrap();
        // An append under way in another process: renamed, not yet committed.
        let day = root.join("eventdate=2024-05-01");
        fs::copy(
            day.join("journal.1-1.parquet"),
            day.join("journal.2-5.parquet"),
        )
        .unwrap();
        let parts = committed_parts(&Place::Folder(root)).unwrap();
        assert_eq!(parts.len(), 1);
        assert_eq!((parts[0].first, parts[0].last), (1, 1));
        assert!(day.join("journal.2-5.parquet").exists());
    }
}
