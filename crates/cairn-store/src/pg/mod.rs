//! PostgreSQL: the database several cairn nodes share (DESIGN decision 5), beside the embedded
//! SQLite files of a single node.
//!
//! Each store keeps its tables in one PostgreSQL schema (a database may hold several cairn
//! deployments, and the shared store suite gives each case a fresh one). Its schema changes
//! are numbered migrations, `.sql` files under `sql/pg/` beside the SQLite schemas, applied in
//! order at open and remembered in `schema_migrations`, under an advisory lock so that nodes
//! starting together apply each once.
//!
//! Writes go through the same group transactions as the SQLite stores' (`crate::db`): a
//! call's writes commit only once its record is durable, with those of the calls that wrote
//! meanwhile, or roll back. One difference is PostgreSQL's: a failed statement aborts the
//! transaction it is in, so each store operation inside a group runs under a savepoint of
//! its own ([`PgDb::write_with`]) and a call's failed statement never takes the others'
//! writes down with it. Stores never open transactions of their own (`Client::transaction`
//! inside a group would commit the group early).
//!
//! A connection can be lost (the server restarts, the network drops): each is made again on
//! its next use, never in the middle of a transaction. A group whose connection was lost
//! fails as a whole (PostgreSQL rolled its writes back, or, if the connection went during its
//! COMMIT, nobody can say at once: its calls are refused either way, and their records decide
//! them); the next group, and the next read, begin on a new connection in the same schema.
//! Every connection waits at most [`LOCK_TIMEOUT`] for a lock, so a wait on another node's or
//! another store's group ends in an error rather than holding a call forever, and sends TCP
//! keepalives, so a server gone without a word is noticed.
//!
//! On PostgreSQL so far, each under the shared suite: the journal (`crate::journal::pg`, with
//! its own transactions rather than calls' groups), event history (`crate::history::pg`, a
//! journal consumer with its own transactions too), every store calls write to (identity,
//! KMS, trails, the S3 store's metadata with bodies behind `crate::objects::Bodies`,
//! CloudWatch Logs, metrics and alarms, SNS, SQS, Lambda, EventBridge, the lake's metadata),
//! the web console's sessions and failed sign-ins (`crate::console::PgConsole`, which a single
//! node keeps in memory instead) and consumer leases. `cairn serve --database` opens them
//! (`cairn_edge::cluster`).

pub mod clock;
pub(crate) mod fresh;
pub mod keys;

use std::collections::HashMap;
use std::ops::{Deref, DerefMut};
use std::time::{Duration, Instant};

use postgres::types::ToSql;
use postgres::{Client, Config, NoTls, Row, Statement};

use crate::db::{Db, Engine};
use crate::error::StoreError;

/// One numbered schema change of a store.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// The store it belongs to (`kms`, …).
    pub store: &'static str,
    /// Applied in increasing order, each once.
    pub version: i32,
    pub sql: &'static str,
}

/// PostgreSQL as the group machinery's engine.
pub struct Postgres;

/// A connection, whether a group's transaction is open on it, and where to make it again.
pub struct PgConn {
    /// Taken only when the connection is dropped (see [`close`]). A lost one that could not be
    /// made again stays until the next try: statements on it fail.
    client: Option<Client>,
    /// Statements prepared on `client`, by their text (see [`PgConn::query`]); emptied when
    /// the connection is made again (a statement belongs to the session that prepared it).
    statements: HashMap<String, Statement>,
    in_transaction: bool,
    url: String,
    schema: String,
    /// When a use last began outside a transaction (see [`CHECK_AFTER_IDLE`]).
    used: Instant,
}

/// Most statements kept prepared per connection. Stores' statements are a few dozen fixed
/// texts; a text built with values in it would otherwise grow the map without end, so past
/// this it starts again empty.
const MOST_STATEMENTS: usize = 256;

impl PgConn {
    /// `client`, working in `schema` of the database at `url` (where it is made again).
    pub(crate) fn new(client: Client, url: &str, schema: &str) -> PgConn {
        PgConn {
            client: Some(client),
            statements: HashMap::new(),
            in_transaction: false,
            url: url.to_owned(),
            schema: schema.to_owned(),
            used: Instant::now(),
        }
    }

    /// `sql` prepared on this connection, once: the client's own `query(&str, …)` parses and
    /// plans the text on the server and describes it in a round trip of its own before every
    /// execution (under load, PostgreSQL spent most of a read's time parsing it).
    fn prepared(&mut self, sql: &str) -> Result<Statement, postgres::Error> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.as_mut().expect(OPEN).prepare(sql)?;
        if self.statements.len() >= MOST_STATEMENTS {
            self.statements.clear();
        }
        self.statements.insert(sql.to_owned(), s.clone());
        Ok(s)
    }

    /// Runs `run` with `sql` prepared. A statement that failed is prepared afresh next time.
    /// One that PostgreSQL refused because what it returns changed shape since it was
    /// prepared (another node migrated a table it reads: `cached plan must not change result
    /// type`) ran nothing: outside a transaction it is prepared again and run at once.
    fn with_prepared<T>(
        &mut self,
        sql: &str,
        run: impl Fn(&mut Client, &Statement) -> Result<T, postgres::Error>,
    ) -> Result<T, postgres::Error> {
        let statement = self.prepared(sql)?;
        let out = run(self.client.as_mut().expect(OPEN), &statement);
        let Err(e) = &out else {
            return out;
        };
        self.statements.remove(sql);
        let reshaped = e.code() == Some(&postgres::error::SqlState::FEATURE_NOT_SUPPORTED);
        if !reshaped || self.in_transaction || self.is_closed() {
            return out;
        }
        let statement = self.prepared(sql)?;
        run(self.client.as_mut().expect(OPEN), &statement)
    }

    /// As [`Client::query`], with the statement prepared once per connection. Methods of the
    /// same name as the client's, so that every store's reads (`db.read().query(…)`) take them.
    pub fn query(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, postgres::Error> {
        self.with_prepared(sql, |c, s| c.query(s, params))
    }

    /// As [`Client::query_opt`], prepared once per connection.
    pub fn query_opt(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, postgres::Error> {
        self.with_prepared(sql, |c, s| c.query_opt(s, params))
    }

    /// As [`Client::query_one`], prepared once per connection.
    pub fn query_one(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Row, postgres::Error> {
        self.with_prepared(sql, |c, s| c.query_one(s, params))
    }

    /// As [`Client::execute`], prepared once per connection.
    pub fn execute(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, postgres::Error> {
        self.with_prepared(sql, |c, s| c.execute(s, params))
    }
}

const OPEN: &str = "a PostgreSQL connection is only taken from its holder when dropped";

impl Deref for PgConn {
    type Target = Client;
    fn deref(&self) -> &Client {
        self.client.as_ref().expect(OPEN)
    }
}

impl DerefMut for PgConn {
    fn deref_mut(&mut self) -> &mut Client {
        self.client.as_mut().expect(OPEN)
    }
}

impl Drop for PgConn {
    fn drop(&mut self) {
        close(self.client.take());
    }
}

/// Runs `f`, which uses PostgreSQL's blocking client, from any thread. The client drives each
/// call on a runtime of its own, which may not be started from a thread that runs async tasks
/// (tokio refuses, to keep such threads from stalling): there `f` runs in `block_in_place`, and
/// on a single-threaded runtime in a thread of its own. Elsewhere (the stores' usual callers:
/// blocking and worker threads) it simply runs.
pub fn blocking<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(RuntimeFlavor::CurrentThread) => {
            std::thread::scope(|scope| match scope.spawn(f).join() {
                Ok(v) => v,
                Err(panic) => std::panic::resume_unwind(panic),
            })
        }
        Ok(_) => tokio::task::block_in_place(f),
        Err(_) => f(),
    }
}

/// A connection unused for this long is checked with a round trip before its next use. The
/// client only learns that the server closed a connection (it restarted) when it next reads
/// from it, which would be in the middle of the next statement: a connection in steady use
/// is not checked (a restart fails the statements running then anyway, and the connection
/// is made again on the use after), one that sat idle through a restart is.
pub(crate) const CHECK_AFTER_IDLE: Duration = Duration::from_secs(1);

/// How long that check waits for the server's answer before giving the connection up.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// Whether a connection unused for `idle` may be used: not known closed, and if it was idle
/// long enough to have missed a restart, answering.
pub(crate) fn alive(c: &mut Client, idle: Duration) -> bool {
    alive_after(c, idle, CHECK_AFTER_IDLE)
}

/// As [`alive`], checking the connection once it was idle for `check_after`.
fn alive_after(c: &mut Client, idle: Duration, check_after: Duration) -> bool {
    if c.is_closed() {
        return false;
    }
    idle < check_after || blocking(|| c.is_valid(CHECK_TIMEOUT)).is_ok()
}

/// A [`Session`]'s connection is checked once it was idle this long: no restart of the
/// database, nor the stop and start that tests make, fits in this time, so a connection that
/// sat idle through one is always checked (and made again), while the back-to-back uses of a
/// busy node (leases are asked for on every round of their consumers) are not.
const SESSION_CHECK_AFTER_IDLE: Duration = Duration::from_millis(50);

/// One connection of a component that manages its own (leases, the test clock), outside
/// calls' groups: made on first use, checked before a use that follows a pause of
/// [`SESSION_CHECK_AFTER_IDLE`] (leases are asked for on every round of their consumers,
/// which under load is all the time), and made again once lost. A statement
/// is never tried twice; statements are prepared once per connection ([`PgConn::query`]).
pub(crate) struct Session {
    url: String,
    schema: String,
    what: &'static str,
    slot: std::sync::Mutex<Option<PgConn>>,
}

impl Session {
    /// A session in `schema`, starting with `first` if given; `what` names it in errors.
    pub(crate) fn new(
        url: &str,
        schema: &str,
        what: &'static str,
        first: Option<Client>,
    ) -> Session {
        Session {
            url: url.to_owned(),
            schema: schema.to_owned(),
            what,
            slot: std::sync::Mutex::new(first.map(|c| PgConn::new(c, url, schema))),
        }
    }

    /// Runs `f` on the connection, from any thread.
    pub(crate) fn with<T: Send>(
        &self,
        f: impl FnOnce(&mut PgConn) -> Result<T, postgres::Error> + Send,
    ) -> Result<T, StoreError> {
        let mut guard = self.slot.lock().unwrap_or_else(|p| p.into_inner());
        let slot: &mut Option<PgConn> = &mut guard;
        blocking(|| {
            if slot.as_ref().is_some_and(|c| c.client.is_none()) {
                *slot = None;
            }
            match slot.as_mut() {
                // Made again here if it was lost while idle.
                Some(c) => revive_after(c, SESSION_CHECK_AFTER_IDLE).map_err(backend)?,
                None => {
                    let c = client(&self.url, &self.schema, &[])?;
                    *slot = Some(PgConn::new(c, &self.url, &self.schema));
                }
            }
            let Some(c) = slot.as_mut() else {
                return Err(StoreError::Invalid(format!(
                    "no connection for {}",
                    self.what
                )));
            };
            let out = f(c);
            if out.is_err() && c.is_closed() {
                *slot = None;
            }
            out.map_err(backend)
        })
    }
}

/// Closes a connection from any thread (closing runs the client's runtime too).
pub(crate) fn close(client: Option<Client>) {
    if let Some(c) = client {
        blocking(move || drop(c));
    }
}

impl Engine for Postgres {
    type Conn = PgConn;
    type Error = postgres::Error;
    fn begin(conn: &mut PgConn) -> Result<(), postgres::Error> {
        conn.batch_execute("BEGIN")?;
        conn.in_transaction = true;
        Ok(())
    }
    fn commit(conn: &mut PgConn) -> Result<(), String> {
        let done = conn.batch_execute("COMMIT");
        // A COMMIT that fails has ended the transaction all the same (rolled back).
        conn.in_transaction = false;
        done.map_err(|e| e.to_string())
    }
    fn rollback(conn: &mut PgConn) -> Result<(), String> {
        let done = conn.batch_execute("ROLLBACK");
        conn.in_transaction = false;
        done.map_err(|e| e.to_string())
    }
    fn in_transaction(conn: &PgConn) -> bool {
        conn.in_transaction
    }
    fn revive(conn: &mut PgConn) -> Result<(), postgres::Error> {
        revive_after(conn, CHECK_AFTER_IDLE)
    }
}

/// Makes `conn` again if it was lost, checking it once it was idle for `check_after` (see
/// [`Engine::revive`]).
fn revive_after(conn: &mut PgConn, check_after: Duration) -> Result<(), postgres::Error> {
    if conn.in_transaction {
        return Ok(());
    }
    let idle = conn.used.elapsed();
    conn.used = Instant::now();
    let Some(c) = conn.client.as_mut() else {
        return Ok(());
    };
    if alive_after(c, idle, check_after) {
        return Ok(());
    }
    // Once per use, never in a loop: a database still away fails this use alone.
    let fresh = open(&conn.url, &conn.schema)?;
    tracing::info!(schema = %conn.schema, "connected to PostgreSQL again");
    conn.statements.clear();
    close(conn.client.replace(fresh));
    Ok(())
}

/// One schema of a PostgreSQL database, with a store's migrations applied: a writer
/// connection whose writes go in calls' groups, and a reader.
pub type PgDb = Db<Postgres>;

/// PostgreSQL's error as the stores report backend failures.
pub(crate) fn backend(e: postgres::Error) -> StoreError {
    // The client's own text for a server error is only "db error": say what the server said.
    let message = match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => e.to_string(),
    };
    StoreError::Backend {
        engine: "postgres",
        message,
    }
}

/// A schema name cairn made or was given: letters, digits and `_`, as an identifier written
/// without quotes.
fn valid_schema(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Serialises migrations across every node and store of a database (a fixed key).
const MIGRATION_LOCK: i64 = 0x6361_6972_6e00; // "cairn\0"

/// How long a node starting waits for another's migrations.
const MIGRATION_LOCK_TIMEOUT: &str = "5min";

/// How long one attempt to connect may take, unless the URL says otherwise (a database that
/// is away fails a call in this time, not the system's minutes).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a statement waits for a lock another connection holds (a row another node's or
/// another store's open group wrote, an advisory lock) before it fails.
pub const LOCK_TIMEOUT: &str = "10s";

/// TCP keepalives: a connection idle this long is probed, every interval, and given up after
/// this many probes unanswered; data unacknowledged for the user timeout ends it too. A server
/// that vanished (its machine, the network) is noticed in well under a minute rather than
/// the system's two hours.
const KEEPALIVE_IDLE: Duration = Duration::from_secs(10);
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(5);
const KEEPALIVE_RETRIES: u32 = 3;
const TCP_USER_TIMEOUT: Duration = Duration::from_secs(30);

/// How cairn connects to the database at `url`: its timeouts and keepalives.
fn config(url: &str) -> Result<Config, postgres::Error> {
    let mut config: Config = url.parse()?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    config
        .keepalives(true)
        .keepalives_idle(KEEPALIVE_IDLE)
        .keepalives_interval(KEEPALIVE_INTERVAL)
        .keepalives_retries(KEEPALIVE_RETRIES)
        .tcp_user_timeout(TCP_USER_TIMEOUT);
    Ok(config)
}

/// A connection as cairn uses one: its timeouts set, waiting at most [`LOCK_TIMEOUT`] for a
/// lock.
fn plain(url: &str) -> Result<Client, postgres::Error> {
    let config = config(url)?;
    let mut client = blocking(|| config.connect(NoTls))?;
    client.batch_execute(&format!("SET lock_timeout = '{LOCK_TIMEOUT}'"))?;
    Ok(client)
}

/// A connection working in `schema` (made if needed). The schema's name was checked.
fn open(url: &str, schema: &str) -> Result<Client, postgres::Error> {
    let mut client = plain(url)?;
    client.batch_execute(&format!(
        "CREATE SCHEMA IF NOT EXISTS {schema}; SET search_path TO {schema}"
    ))?;
    Ok(client)
}

fn connect_to(url: &str, schema: &str) -> Result<Client, StoreError> {
    open(url, schema).map_err(backend)
}

/// A plain connection working in `schema` (checked, made if needed), with `migrations`
/// applied: for stores that manage their own transactions (the journal), outside calls'
/// groups.
pub(crate) fn client(
    url: &str,
    schema: &str,
    migrations: &[Migration],
) -> Result<Client, StoreError> {
    if !valid_schema(schema) {
        return Err(StoreError::Invalid(format!(
            "PostgreSQL schema name {schema:?}: lower-case letters, digits and _, starting with a letter"
        )));
    }
    let mut c = connect_to(url, schema)?;
    migrate(&mut c, migrations)?;
    Ok(c)
}

impl Db<Postgres> {
    /// Connects (`url`: `postgres://user@host:port/db` or `host=… port=…`), makes `schema` if
    /// needed, works in it, and applies the store's migrations not applied yet.
    pub fn connect(url: &str, schema: &str, migrations: &[Migration]) -> Result<PgDb, StoreError> {
        if !valid_schema(schema) {
            return Err(StoreError::Invalid(format!(
                "PostgreSQL schema name {schema:?}: lower-case letters, digits and _, starting with a letter"
            )));
        }
        let mut writer = connect_to(url, schema)?;
        migrate(&mut writer, migrations)?;
        let reader = connect_to(url, schema)?;
        Ok(Db::with_connections(
            PgConn::new(writer, url, schema),
            PgConn::new(reader, url, schema),
            None,
        ))
    }

    /// Runs one store operation's statements on the writer. Inside a call they join its group
    /// under a savepoint (a failed statement is undone alone; the group goes on); outside
    /// one they commit together at once, or not at all.
    pub(crate) fn write_with<T>(
        &self,
        f: impl FnOnce(&mut Client) -> Result<T, postgres::Error>,
    ) -> Result<T, StoreError> {
        let mut w = self.write().map_err(backend)?;
        let (open, keep, undo) = if Postgres::in_transaction(&w) {
            (
                "SAVEPOINT cairn_op",
                "RELEASE SAVEPOINT cairn_op",
                "ROLLBACK TO SAVEPOINT cairn_op",
            )
        } else {
            ("BEGIN", "COMMIT", "ROLLBACK")
        };
        let client: &mut Client = &mut w;
        client.batch_execute(open).map_err(backend)?;
        match f(client) {
            Ok(v) => {
                client.batch_execute(keep).map_err(backend)?;
                Ok(v)
            }
            // On a lost connection there is nothing to undo: the transaction went with it.
            Err(e) => {
                if !client.is_closed()
                    && let Err(u) = client.batch_execute(undo)
                {
                    tracing::error!(error = %u, "could not undo a failed PostgreSQL store operation");
                }
                Err(backend(e))
            }
        }
    }
}

/// An advisory lock key for `name` of `kind` in `schema`: the first 8 bytes of a digest, so
/// that deployments sharing a database do not exclude each other.
pub(crate) fn advisory_key(kind: &str, schema: &str, name: &str) -> i64 {
    let d = ring::digest::digest(
        &ring::digest::SHA256,
        format!("cairn {kind}\0{schema}\0{name}").as_bytes(),
    );
    let mut k = [0u8; 8];
    k.copy_from_slice(&d.as_ref()[..8]);
    i64::from_be_bytes(k)
}

/// Runs `f` while holding the database-wide advisory lock `key`: for the once-per-cluster
/// steps of starting a node (making the first account) that two nodes starting together
/// must not both take.
pub fn exclusively<T>(url: &str, key: i64, f: impl FnOnce() -> T) -> Result<T, StoreError> {
    let mut c = plain(url).map_err(backend)?;
    c.execute("SELECT pg_advisory_lock($1)", &[&key])
        .map_err(backend)?;
    let out = f();
    // Closing the connection releases it too; unlocking first says so at once.
    if let Err(e) = c.execute("SELECT pg_advisory_unlock($1)", &[&key]) {
        tracing::warn!(error = %e, "could not release an advisory lock");
    }
    Ok(out)
}

/// Applies, in order and each in its own transaction, the migrations not yet recorded.
fn migrate(client: &mut Client, migrations: &[Migration]) -> Result<(), StoreError> {
    let mut tx = client.transaction().map_err(backend)?;
    // Another node may be applying a long migration: wait longer for it than a call waits for
    // a row, but not forever.
    tx.batch_execute(&format!(
        "SET LOCAL lock_timeout = '{MIGRATION_LOCK_TIMEOUT}'"
    ))
    .map_err(backend)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .map_err(backend)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             store TEXT NOT NULL,
             version INTEGER NOT NULL,
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now(),
             PRIMARY KEY (store, version))",
    )
    .map_err(backend)?;
    let mut sorted: Vec<&Migration> = migrations.iter().collect();
    sorted.sort_by_key(|m| (m.store, m.version));
    refuse_newer(&mut tx, &sorted)?;
    for m in sorted {
        let done = tx
            .query_opt(
                "SELECT 1 FROM schema_migrations WHERE store = $1 AND version = $2",
                &[&m.store, &m.version],
            )
            .map_err(backend)?
            .is_some();
        if done {
            continue;
        }
        tx.batch_execute(m.sql).map_err(|e| StoreError::Backend {
            engine: "postgres",
            message: format!("migration {} {}: {e}", m.store, m.version),
        })?;
        tx.execute(
            "INSERT INTO schema_migrations (store, version) VALUES ($1, $2)",
            &[&m.store, &m.version],
        )
        .map_err(backend)?;
        tracing::info!(
            store = m.store,
            version = m.version,
            "PostgreSQL migration applied"
        );
    }
    tx.commit().map_err(backend)
}

/// Refuses a schema that a newer cairn migrated past what this one knows (its tables may have
/// changed in ways this one would misread or break): every node of a cluster runs a version
/// that knows the database's schema.
fn refuse_newer(
    tx: &mut postgres::Transaction<'_>,
    known: &[&Migration],
) -> Result<(), StoreError> {
    let mut stores: Vec<&str> = known.iter().map(|m| m.store).collect();
    stores.dedup();
    for store in stores {
        let newest_known = known
            .iter()
            .filter(|m| m.store == store)
            .map(|m| m.version)
            .max()
            .unwrap_or(0);
        let applied: Option<i32> = tx
            .query_one(
                "SELECT max(version) FROM schema_migrations WHERE store = $1",
                &[&store],
            )
            .map_err(backend)?
            .get(0);
        if let Some(v) = applied.filter(|v| *v > newest_known) {
            return Err(StoreError::Invalid(format!(
                "the database's {store} schema is at version {v}, newer than this cairn knows (up to {newest_known}): a newer cairn migrated it; run that version (or newer) on this node too"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::{PgDb, valid_schema};
    use crate::suite::pg::TestPostgres;

    /// Statements are prepared once per connection: they outlive a rolled-back transaction,
    /// follow a table that changed shape, and are made again with a connection made again.
    #[test]
    fn prepared_statements_outlive_rollbacks_changes_of_shape_and_restarts() {
        let server = TestPostgres::start();
        let db = PgDb::connect(&server.url(), "prepared", &[]).unwrap();
        db.write_with(|c| c.batch_execute("CREATE TABLE t (a INT); INSERT INTO t VALUES (1)"))
            .unwrap();
        let count = |db: &PgDb| -> i64 {
            db.read()
                .query_one("SELECT count(*) FROM t", &[])
                .unwrap()
                .get(0)
        };
        assert_eq!(count(&db), 1);

        // Prepared on the writer inside a call whose writes roll back, then used again.
        for _ in 0..2 {
            let call = crate::db::enter();
            db.write_with(|c| c.execute("INSERT INTO t VALUES (2)", &[]))
                .unwrap();
            assert_eq!(count(&db), 2, "the call sees its own row");
            call.leave().finish(false).unwrap_err();
            assert_eq!(count(&db), 1);
        }

        // Another node changes the table's shape: the statement is prepared again.
        let shape = |db: &PgDb| db.read().query("SELECT * FROM t", &[]).unwrap()[0].len();
        assert_eq!(shape(&db), 1);
        db.write_with(|c| c.batch_execute("ALTER TABLE t ADD COLUMN b INT DEFAULT 2"))
            .unwrap();
        assert_eq!(shape(&db), 2);

        // The database restarts: the reader, idle through it, is made again with its
        // statements.
        server.stop();
        server.start_again();
        std::thread::sleep(super::CHECK_AFTER_IDLE);
        assert_eq!(count(&db), 1);
        assert_eq!(shape(&db), 2);
    }

    #[test]
    fn schema_names_are_plain_identifiers() {
        assert!(valid_schema("cairn"));
        assert!(valid_schema("suite_12"));
        for bad in ["", "Cairn", "1x", "a-b", "a;drop", "a b", &"x".repeat(64)] {
            assert!(!valid_schema(bad), "{bad}");
        }
    }

    #[test]
    #[allow(clippy::unwrap_used)]
    fn a_schema_migrated_past_what_this_version_knows_is_refused() {
        use super::{Migration, PgDb, plain};
        use crate::suite::pg::TestPostgres;
        const ONE: &[Migration] = &[Migration {
            store: "things",
            version: 1,
            sql: "CREATE TABLE things (id TEXT PRIMARY KEY)",
        }];
        let server = TestPostgres::start();
        PgDb::connect(&server.url(), "versions", ONE).unwrap();
        // An older version's schema is brought up to date; the same version opens it again.
        PgDb::connect(&server.url(), "versions", ONE).unwrap();
        // A newer cairn applied things' second migration, which this one does not know.
        let mut c = plain(&server.url()).unwrap();
        c.batch_execute(
            "INSERT INTO versions.schema_migrations (store, version) VALUES ('things', 2)",
        )
        .unwrap();
        let refused = PgDb::connect(&server.url(), "versions", ONE)
            .err()
            .unwrap()
            .to_string();
        assert!(
            refused
                .contains("things schema is at version 2, newer than this cairn knows (up to 1)"),
            "{refused}"
        );
    }
}
