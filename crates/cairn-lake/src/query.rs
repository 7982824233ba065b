//! Running a prepared statement with DataFusion over event data stores' files: each store a
//! table named by its id, with Lake's schema and the Trino functions Lake's queries call.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use datafusion::arrow::array::RecordBatch;
use datafusion::common::config::{ConfigFileDecryptionProperties, TableParquetOptions};
use datafusion::dataframe::DataFrame;
use datafusion::datasource::MemTable;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::execution::TaskContext;
use datafusion::execution::context::SessionContext;
use datafusion::parquet::file::metadata::ParquetMetaDataReader;
use datafusion::physical_plan::{ExecutionPlan, displayable, execute_stream};
use datafusion::prelude::SessionConfig;
use futures::StreamExt;

use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;

use crate::LakeError;
use crate::statement::Prepared;
use crate::{expand, functions, render, schema};

/// Takes a result batch with the result's column labels.
pub type OnBatch<'a> = dyn FnMut(&[String], &RecordBatch) -> Result<(), QueryError> + 'a;

/// One event data store as a table.
#[derive(Debug, Clone)]
pub struct Table {
    /// The store's id, the table's name.
    pub id: String,
    /// Its files: local paths, or `s3://bucket/key` URLs of files in `bucket`.
    pub files: Vec<String>,
    /// The data key its files are encrypted with, when the store is sealed.
    pub key: Option<crate::DataKey>,
    /// The bucket its files are in (`s3://bucket` and a client), when they are not local.
    pub bucket: Option<(String, Arc<dyn object_store::ObjectStore>)>,
}

/// What a query answered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Output {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
    /// Events in the tables the query read.
    pub events_scanned: u64,
    /// Bytes of those tables' files.
    pub bytes_scanned: u64,
}

/// How a query ended, when not with an answer.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// The statement names what does not exist or cannot be planned (Lake's
    /// `InvalidQueryStatementException`).
    #[error("{0}")]
    Invalid(String),
    /// It failed while running (the query's `ErrorMessage`).
    #[error("{0}")]
    Failed(String),
    #[error("the query was cancelled")]
    Cancelled,
    #[error("the query ran longer than {0:?}")]
    TimedOut(Duration),
}

/// Limits on a query.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Lake's results are at most this large (`Query response is too large`).
    pub max_result_bytes: usize,
    /// How long a query may run (Lake: about an hour).
    pub timeout: Duration,
    /// The memory one query may hold (sorts, grouped aggregations and joins beyond it spill
    /// to disk; what cannot spill, such as an ungrouped array_agg, fails with Lake's "Query
    /// exhausted resources at this scale factor"): a cross join of a large store with itself
    /// must not take the server's memory.
    pub max_memory: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_result_bytes: 512 << 20,
            timeout: Duration::from_secs(3600),
            max_memory: 1 << 30,
        }
    }
}

/// The SQL engine: its own small runtime, so queries never hold the server's threads.
pub struct Engine {
    /// Always `Some` until dropped.
    runtime: Option<tokio::runtime::Runtime>,
    /// Whether filtered wide scans rebuild their rows from the record (off only in tests
    /// that compare both ways).
    rebuild: bool,
}

impl Drop for Engine {
    /// The engine may go inside another runtime (the server's application is dropped there),
    /// where a runtime must not block to stop: its threads are let go instead.
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl Engine {
    pub fn new() -> std::io::Result<Engine> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            // Reads of local files run on blocking threads, one per read: a query opening a
            // hundred files would start a hundred threads, each with its own allocator heap.
            .max_blocking_threads(4)
            .thread_name("cairn-sql")
            .enable_all()
            .build()?;
        Ok(Engine {
            runtime: Some(runtime),
            rebuild: true,
        })
    }

    /// The engine's runtime, which also drives the lake's calls to a bucket.
    pub fn handle(&self) -> tokio::runtime::Handle {
        self.rt().handle().clone()
    }

    fn rt(&self) -> &tokio::runtime::Runtime {
        // Set in `new`, taken only by `drop`.
        self.runtime
            .as_ref()
            .unwrap_or_else(|| unreachable!("the engine's runtime is gone"))
    }

    /// Plans the statement without running it: unknown columns, tables or functions are
    /// `Invalid`.
    pub fn check(&self, prepared: &Prepared, tables: &[Table]) -> Result<(), QueryError> {
        self.rt().block_on(async {
            let ctx = context(tables, Limits::default().max_memory).await?;
            ctx.sql(&prepared.sql)
                .await
                .map_err(|e| QueryError::Invalid(invalid_message(&e)))?;
            Ok(())
        })
    }

    /// Runs the statement to its end (blocking), giving up when `cancel` is set.
    pub fn run(
        &self,
        prepared: &Prepared,
        tables: &[Table],
        cancel: &AtomicBool,
        limits: Limits,
    ) -> Result<Output, QueryError> {
        let (events_scanned, bytes_scanned) = self.rt().block_on(sizes(tables));
        let mut rows = Vec::new();
        let mut bytes = 0usize;
        let columns = self.run_batches(prepared, tables, cancel, limits, &mut |_, batch| {
            for row in render::rows(batch) {
                bytes += row.iter().flatten().map(|v| v.len() + 8).sum::<usize>();
                if bytes > limits.max_result_bytes {
                    return Err(QueryError::Failed("Query response is too large".into()));
                }
                rows.push(row);
            }
            Ok(())
        })?;
        Ok(Output {
            columns,
            rows,
            events_scanned,
            bytes_scanned,
        })
    }

    /// Runs the statement to its end (blocking), handing each result batch to `each` as it
    /// comes, with the result's column labels (the batch's own names are the engine's;
    /// [`render::rows`] prints values as Lake does). Returns the labels.
    /// `limits.max_result_bytes` is the caller's to keep.
    pub fn run_batches(
        &self,
        prepared: &Prepared,
        tables: &[Table],
        cancel: &AtomicBool,
        limits: Limits,
        each: &mut OnBatch<'_>,
    ) -> Result<Vec<String>, QueryError> {
        let started = Instant::now();
        self.rt().block_on(async {
            let ctx = context(tables, limits.max_memory).await?;
            let frame = ctx
                .sql(&prepared.sql)
                .await
                .map_err(|e| QueryError::Invalid(invalid_message(&e)))?;
            let names: Vec<String> = frame
                .schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect();
            let columns = match &prepared.labels {
                Some(l) if l.len() == names.len() => l.clone(),
                _ => names,
            };
            let (plan, task) = physical_plan(frame, self.rebuild)
                .await
                .map_err(|e| run_failure(&e))?;
            let mut stream = execute_stream(plan, task).map_err(|e| run_failure(&e))?;
            loop {
                if cancel.load(Ordering::Relaxed) {
                    return Err(QueryError::Cancelled);
                }
                if started.elapsed() > limits.timeout {
                    return Err(QueryError::TimedOut(limits.timeout));
                }
                // Wake now and then to see the cancel flag even while a batch takes long.
                let next = tokio::time::timeout(Duration::from_millis(200), stream.next()).await;
                let batch = match next {
                    Err(_) => continue,
                    Ok(None) => break,
                    Ok(Some(b)) => b.map_err(|e| run_failure(&e))?,
                };
                each(&columns, &batch)?;
            }
            Ok(columns)
        })
    }
}

/// The physical plan of a statement, optimized once: filtered scans of many columns rebuild
/// their rows from the record ([`expand`]), and filters are applied while the files are
/// decoded when a scan reads the record (the other columns of a row are then decoded only
/// where the filter kept it); a filter that keeps many rows of a few columns (one address over
/// three months) is evaluated twice as slowly that way, so narrow scans filter after decoding.
async fn physical_plan(
    frame: DataFrame,
    rebuild: bool,
) -> datafusion::error::Result<(Arc<dyn ExecutionPlan>, Arc<TaskContext>)> {
    use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
    use datafusion::logical_expr::LogicalPlan;
    let (mut state, original) = frame.into_parts();
    let mut plan = state.optimize(&original)?;
    let mut rebuilt = false;
    if rebuild {
        let rewritten = expand::from_records(plan)?;
        rebuilt = rewritten.transformed;
        plan = rewritten.data;
    }
    let mut wide = false;
    let _ = plan.apply(|node| {
        if let LogicalPlan::TableScan(scan) = node {
            let columns = scan.projected_schema.fields();
            wide |= !scan.filters.is_empty()
                && (columns.len() >= expand::WIDE_SCAN
                    || columns.iter().any(|f| f.name() == schema::EVENT_JSON));
        }
        Ok(TreeNodeRecursion::Continue)
    });
    state
        .config_mut()
        .options_mut()
        .execution
        .parquet
        .pushdown_filters = wide;
    let physical = state
        .query_planner()
        .create_physical_plan(&plan, &state)
        .await?;
    tracing::debug!(plan = %displayable(physical.as_ref()).indent(true), "physical plan");
    if rebuilt
        && expand::filters_rebuilt_rows(&displayable(physical.as_ref()).indent(false).to_string())
    {
        // Rebuilding pays only for the rows a filter kept; a plan whose filter ended up
        // reading rebuilt rows would rebuild them all, so the columns are read as stored.
        return Box::pin(physical_plan(DataFrame::new(state, original), false)).await;
    }
    Ok((physical, state.task_ctx()))
}

/// A query's result written as a Parquet file, columns named by the result's labels.
pub struct ResultFile {
    path: PathBuf,
    writer: Option<(ArrowWriter<std::fs::File>, Arc<Schema>)>,
}

impl ResultFile {
    /// The file is created with the first batch.
    pub fn new(path: &std::path::Path) -> ResultFile {
        ResultFile {
            path: path.to_path_buf(),
            writer: None,
        }
    }

    pub fn write(&mut self, columns: &[String], batch: &RecordBatch) -> Result<(), LakeError> {
        let (writer, schema) = match &mut self.writer {
            Some((w, s)) => (w, s.clone()),
            None => {
                let fields: Vec<Field> = batch
                    .schema()
                    .fields()
                    .iter()
                    .enumerate()
                    .map(|(i, f)| {
                        let name = columns.get(i).unwrap_or(f.name());
                        f.as_ref().clone().with_name(name)
                    })
                    .collect();
                let file = std::fs::File::create(&self.path)?;
                let props = WriterProperties::builder()
                    .set_compression(Compression::ZSTD(ZstdLevel::default()))
                    .build();
                let schema = Arc::new(Schema::new(fields));
                let w = ArrowWriter::try_new(file, schema.clone(), Some(props))?;
                let (w, _) = self.writer.insert((w, schema.clone()));
                (w, schema)
            }
        };
        let renamed = RecordBatch::try_new(schema, batch.columns().to_vec())?;
        writer.write(&renamed)?;
        Ok(())
    }

    /// Closes the file; a result without rows is a file of its labels as text columns.
    pub fn finish(mut self, columns: &[String]) -> Result<(), LakeError> {
        if self.writer.is_none() {
            let fields: Vec<Field> = columns
                .iter()
                .map(|c| Field::new(c, DataType::Utf8, true))
                .collect();
            let schema = Arc::new(Schema::new(fields));
            self.write(columns, &RecordBatch::new_empty(schema))?;
        }
        if let Some((w, _)) = self.writer.take() {
            let file = w.into_inner()?;
            file.sync_all()?;
        }
        Ok(())
    }
}

/// Lake's message for a query that needed more than it may use.
const EXHAUSTED: &str = "Query exhausted resources at this scale factor";

/// A failure while running, in Lake's words where Lake has them.
fn run_failure(e: &datafusion::error::DataFusionError) -> QueryError {
    let text = e.to_string();
    if text.contains("Resources exhausted") {
        QueryError::Failed(EXHAUSTED.into())
    } else {
        QueryError::Failed(text)
    }
}

/// A message for a statement DataFusion could not plan, without its internal prefixes.
fn invalid_message(e: &datafusion::error::DataFusionError) -> String {
    let text = e.to_string();
    let text = text
        .strip_prefix("Error during planning: ")
        .or_else(|| text.strip_prefix("SQL error: "))
        .or_else(|| text.strip_prefix("Schema error: "))
        .unwrap_or(&text);
    // DataFusion goes on to list every column of the table: long, and not Lake's.
    let text = text
        .split("\nValid fields are")
        .next()
        .unwrap_or(text)
        .trim_end();
    format!("Query statement is invalid: {text}")
}

/// Events and bytes in the tables' files (from the files' footers and sizes).
/// Events and bytes in the tables' files, from their footers (Lake's query statistics).
async fn sizes(tables: &[Table]) -> (u64, u64) {
    let mut events = 0u64;
    let mut bytes = 0u64;
    for t in tables {
        let decryption = t.key.as_ref().and_then(|k| k.decryption().ok());
        for location in &t.files {
            if let Some((url, store)) = &t.bucket {
                let Some(key) = location.strip_prefix(&format!("{url}/")) else {
                    continue;
                };
                let key = object_store::path::Path::from(key);
                if let Some((size, rows)) = remote_footer(store.as_ref(), &key, &decryption).await {
                    bytes += size;
                    events += rows;
                }
            } else if let Ok(file) = std::fs::File::open(location) {
                bytes += file.metadata().map(|m| m.len()).unwrap_or(0);
                if let Ok(meta) = ParquetMetaDataReader::new()
                    .with_decryption_properties(decryption.clone())
                    .parse_and_finish(&file)
                {
                    events += meta.file_metadata().num_rows().max(0) as u64;
                }
            }
        }
    }
    (events, bytes)
}

/// A file's size and rows, from its footer: one ranged read of the object's end (S3 answers
/// the object's size with it), a second only when the footer is longer than that read.
async fn remote_footer(
    store: &dyn object_store::ObjectStore,
    key: &object_store::path::Path,
    decryption: &Option<Arc<datafusion::parquet::encryption::decrypt::FileDecryptionProperties>>,
) -> Option<(u64, u64)> {
    use datafusion::parquet::errors::ParquetError;
    use object_store::{GetOptions, GetRange};
    let mut want = 64u64 << 10;
    for _ in 0..2 {
        let options = GetOptions {
            range: Some(GetRange::Suffix(want)),
            ..GetOptions::default()
        };
        let got = store.get_opts(key, options).await.ok()?;
        let size = got.meta.size;
        let tail = got.bytes().await.ok()?;
        let mut reader =
            ParquetMetaDataReader::new().with_decryption_properties(decryption.clone());
        match reader.try_parse_sized(&tail, size) {
            Ok(()) => {
                let rows = reader.finish().ok()?.file_metadata().num_rows().max(0) as u64;
                return Some((size, rows));
            }
            Err(ParquetError::NeedMoreData(n)) if (n as u64) > want => want = n as u64,
            Err(_) => return None,
        }
    }
    None
}

/// How much of a file's end is read to find its footer at once.
const FOOTER_READ: usize = 64 << 10;

async fn context(tables: &[Table], max_memory: usize) -> Result<SessionContext, QueryError> {
    // No whole-table statistics gathered when a query is planned: that reads every file's
    // footer and folds min/max of every column (nested ones included) before the first row,
    // most of a short query's time. Row groups are still pruned by their own statistics
    // while the files are scanned.
    let mut config = SessionConfig::new()
        .with_target_partitions(2)
        .with_information_schema(false)
        .with_collect_statistics(false);
    // Filters may be applied while files are decoded (see `late_materialization`).
    config.options_mut().execution.parquet.reorder_filters = true;
    let runtime = datafusion::execution::runtime_env::RuntimeEnvBuilder::new()
        .with_memory_limit(max_memory, 1.0)
        .build_arc()
        .map_err(|e| QueryError::Failed(e.to_string()))?;
    let ctx = SessionContext::new_with_config_rt(config, runtime);
    functions::register(&ctx);
    let schema = schema::reading();
    for t in tables {
        if let Some((url, store)) = &t.bucket {
            let url = url::Url::parse(url).map_err(|e| QueryError::Failed(e.to_string()))?;
            ctx.register_object_store(&url, store.clone());
        }
        let provider: Arc<dyn datafusion::catalog::TableProvider> = if t.files.is_empty() {
            Arc::new(
                MemTable::try_new(schema.clone(), vec![vec![]])
                    .map_err(|e| QueryError::Failed(e.to_string()))?,
            )
        } else {
            let urls = t
                .files
                .iter()
                .map(ListingTableUrl::parse)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| QueryError::Failed(e.to_string()))?;
            // A file's footer is read with one read of its last 64 KiB (DataFusion's default
            // reads 512 KiB, twenty times the footers these files have): a query opens every
            // file of the store, and copying those reads took a fifth of `SELECT count(*)` over 10M events.
            let mut format = ParquetFormat::default();
            if let Some(key) = &t.key {
                // Files of a sealed store are read with its data key (those written before it
                // was sealed have plaintext footers and are read as they are).
                let mut options = TableParquetOptions::default();
                options.crypto.file_decryption = Some(ConfigFileDecryptionProperties {
                    footer_key_as_hex: hex::encode(key.0),
                    ..ConfigFileDecryptionProperties::default()
                });
                format = format.with_options(options);
            }
            let format = format.with_metadata_size_hint(Some(FOOTER_READ));
            let options = ListingOptions::new(Arc::new(format)).with_file_extension(".parquet");
            let config = ListingTableConfig::new_with_multi_paths(urls)
                .with_listing_options(options)
                .with_schema(schema.clone());
            Arc::new(ListingTable::try_new(config).map_err(|e| QueryError::Failed(e.to_string()))?)
        };
        ctx.register_table(
            datafusion::common::TableReference::bare(t.id.as_str()),
            provider,
        )
        .map_err(|e| QueryError::Failed(e.to_string()))?;
    }
    Ok(ctx)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::convert::BatchBuilder;
    use datafusion::arrow::datatypes::Schema;
    use datafusion::parquet::arrow::ArrowWriter;

    const ID: &str = "0e94c3a4-1d1d-4d73-b8a7-a3f4da4e4b12";

    /// Files written before the columns of events from outside AWS existed read them as NULL.
    #[test]
    fn files_without_the_newer_columns_read_them_as_null() {
        let mut b = BatchBuilder::new();
        b.push(r#"{"eventName":"Old","eventTime":"2024-05-01T01:00:00Z"}"#)
            .unwrap();
        let batch = b.finish();
        let full = schema::events();
        let kept: Vec<usize> = (0..full.fields().len())
            .filter(|&i| !matches!(full.field(i).name().as_str(), "metadata" | "eventdata"))
            .collect();
        let old = batch.project(&kept).unwrap();
        assert_eq!(old.schema().fields().len(), full.fields().len() - 2);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.parquet");
        let mut w = ArrowWriter::try_new(
            std::fs::File::create(&path).unwrap(),
            Arc::new(Schema::new(old.schema().fields().clone())),
            None,
        )
        .unwrap();
        w.write(&old).unwrap();
        w.close().unwrap();
        let prepared = crate::statement::prepare(&format!(
            "SELECT eventname, eventdata.eventname, metadata.channelarn FROM {ID}"
        ))
        .unwrap();
        let out = Engine::new()
            .unwrap()
            .run(
                &prepared,
                &[Table {
                    id: ID.into(),
                    files: vec![path.to_string_lossy().into_owned()],
                    key: None,
                    bucket: None,
                }],
                &AtomicBool::new(false),
                Limits::default(),
            )
            .unwrap();
        assert_eq!(out.rows, vec![vec![Some("Old".to_string()), None, None]]);
    }

    /// Rows of a filtered `SELECT *` rebuilt from their records are the rows the columns hold,
    /// for every record of the real corpus (nested identities, maps, odd types, absent members).
    #[test]
    fn rows_rebuilt_from_the_record_are_the_stored_rows() {
        use std::io::BufRead;
        let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data/cloudtrail-real/records.jsonl.gz");
        let file = std::fs::File::open(&path).expect("the real-record corpus");
        let records: Vec<String> = std::io::BufReader::new(flate2::read::GzDecoder::new(file))
            .lines()
            .map(|l| l.unwrap())
            .filter(|l| !l.trim().is_empty())
            .collect();
        let tmp = tempfile::tempdir().unwrap();
        let lake = crate::Lake::open(tmp.path()).unwrap();
        let store = lake.store(ID).unwrap();
        store
            .lock()
            .unwrap()
            .append(
                "journal",
                1,
                records.len() as u64,
                &mut records
                    .iter()
                    .map(|r| std::borrow::Cow::Borrowed(r.as_str())),
            )
            .unwrap();
        let tables = lake.tables(&[ID.to_string()]).unwrap();
        let sql = |where_: &str| {
            crate::statement::prepare(&format!(
                "SELECT * FROM {ID} WHERE {where_} ORDER BY eventjson"
            ))
            .unwrap()
        };
        let mut stored = Engine::new().unwrap();
        stored.rebuild = false;
        let rebuilt = Engine::new().unwrap();
        for filter in [
            "eventname IS NOT NULL OR eventname IS NULL",
            "eventsource = 'signin.amazonaws.com' AND eventname = 'ConsoleLogin'",
            "useridentity.type = 'AssumedRole'",
        ] {
            let run = |engine: &Engine| {
                engine
                    .run(
                        &sql(filter),
                        &tables,
                        &AtomicBool::new(false),
                        Limits::default(),
                    )
                    .unwrap()
            };
            let (a, b) = (run(&stored), run(&rebuilt));
            assert!(!a.rows.is_empty(), "{filter}");
            assert_eq!(a.columns, b.columns);
            assert_eq!(a.rows.len(), b.rows.len(), "{filter}");
            for (x, y) in a.rows.iter().zip(&b.rows) {
                assert_eq!(x, y, "{filter}");
            }
        }
        // The rows were rebuilt: the plan reads the record alone and rebuilds the rest.
        let shown = rebuilt.rt().block_on(async {
            let ctx = context(&tables, 1 << 30).await.unwrap();
            let frame = ctx
                .sql(&sql("eventname = 'ConsoleLogin'").sql)
                .await
                .unwrap();
            let (plan, _) = physical_plan(frame, true).await.unwrap();
            datafusion::physical_plan::displayable(plan.as_ref())
                .indent(true)
                .to_string()
        });
        assert!(shown.contains(expand::RECORD));
        assert!(shown.contains("predicate=eventname@"));
        assert!(!expand::filters_rebuilt_rows(&shown));
        // The first filter keeps every record.
        let all = rebuilt
            .run(
                &sql("eventname IS NOT NULL OR eventname IS NULL"),
                &tables,
                &AtomicBool::new(false),
                Limits::default(),
            )
            .unwrap();
        assert_eq!(all.rows.len(), records.len());
    }
}
