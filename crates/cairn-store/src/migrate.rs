//! Copying an embedded instance's SQLite stores into a cluster's PostgreSQL schemas, table by
//! table, for `cairn migrate`.
//!
//! The two backends keep the same contract in twin schemas (`sql/*.sql`, `sql/pg/*.sql`): the
//! same tables and columns, with a few renamed (EventBridge's tables, a reserved word) and
//! secrets that the embedded store keeps in a file only its owner reads sealed in the database
//! (`X` there, `X_sealed` here). Much of what a store holds is never listed by its trait
//! (delivery plans, digest chains, cursors, outboxes), so a row copy is the one way to move all
//! of it unchanged; values that name journal offsets are rewritten by the caller, since the
//! segment journal's offsets are byte positions and PostgreSQL's are entry numbers.
//!
//! Nothing is dropped silently: a SQLite table or column with no twin, unless the caller says
//! why it is skipped, is an error before anything is written.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use postgres::types::ToSql;
use postgres::{Client, NoTls};
pub use rusqlite::types::Value;
use rusqlite::{Connection, OpenFlags};

use crate::error::StoreError;
use crate::pg::backend;
use crate::seal::Sealer;

/// A value rewritten on its way: `(PostgreSQL table, column, value)`.
pub type Rewrite<'a> = dyn Fn(&str, &str, Value) -> Result<Value, StoreError> + 'a;

/// How one store's SQLite tables map onto its PostgreSQL twin.
pub struct TablePlan<'a> {
    /// SQLite tables kept under another name in PostgreSQL: `(sqlite, postgres)`.
    pub renamed: &'a [(&'a str, &'a str)],
    /// Columns kept under another name: `(postgres table, postgres column, sqlite column)`.
    pub renamed_columns: &'a [(&'a str, &'a str, &'a str)],
    /// SQLite tables not copied (rebuilt on the cluster, or kept another way there).
    pub skipped: &'a [&'a str],
    /// Seals `X_sealed` columns whose SQLite twin `X` is in the clear.
    pub sealer: Option<&'a Sealer>,
    pub rewrite: &'a Rewrite<'a>,
}

/// Rows copied into one table.
#[derive(Debug, Clone)]
pub struct Copied {
    pub table: String,
    pub rows: u64,
}

fn sqlite_err(path: &Path) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
    move |e| StoreError::Backend {
        engine: "sqlite",
        message: format!("{}: {e}", path.display()),
    }
}

fn invalid(msg: String) -> StoreError {
    StoreError::Invalid(msg)
}

/// One column to fill: its PostgreSQL name and type, and where its value comes from.
struct Column {
    pg: String,
    pg_type: String,
    sqlite: String,
    seal: bool,
}

/// The rows of every table of the SQLite database at `sqlite`.
pub fn count_rows(sqlite: &Path) -> Result<u64, StoreError> {
    if !sqlite.exists() {
        return Ok(0);
    }
    let db = open_sqlite(sqlite)?;
    let mut total = 0u64;
    for t in sqlite_tables(&db, sqlite)? {
        total += table_rows(&db, sqlite, &t)?;
    }
    Ok(total)
}

fn open_sqlite(path: &Path) -> Result<Connection, StoreError> {
    Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(sqlite_err(path))
}

fn sqlite_tables(db: &Connection, path: &Path) -> Result<Vec<String>, StoreError> {
    let mut st = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY rowid")
        .map_err(sqlite_err(path))?;
    let names = st
        .query_map([], |r| r.get::<_, String>(0))
        .map_err(sqlite_err(path))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(sqlite_err(path))?;
    Ok(names)
}

fn table_rows(db: &Connection, path: &Path, table: &str) -> Result<u64, StoreError> {
    let n: i64 = db
        .query_row(&format!("SELECT count(*) FROM \"{table}\""), [], |r| {
            r.get(0)
        })
        .map_err(sqlite_err(path))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

fn sqlite_columns(db: &Connection, path: &Path, table: &str) -> Result<Vec<String>, StoreError> {
    let mut st = db
        .prepare(&format!(
            "SELECT name FROM pragma_table_info('{table}') ORDER BY cid"
        ))
        .map_err(sqlite_err(path))?;
    let cols = st
        .query_map([], |r| r.get::<_, String>(0))
        .map_err(sqlite_err(path))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(sqlite_err(path))?;
    Ok(cols)
}

/// A name written into SQL without quotes: lower-case letters, digits and `_`.
fn plain_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// A connection working in `schema`, which must exist (the store's migrations made it).
pub fn connect(url: &str, schema: &str) -> Result<Client, StoreError> {
    if !plain_name(schema) {
        return Err(invalid(format!("schema name {schema:?}")));
    }
    let mut c = Client::connect(url, NoTls).map_err(backend)?;
    c.batch_execute(&format!("SET search_path TO {schema}"))
        .map_err(backend)?;
    Ok(c)
}

/// Copies every table of the SQLite database at `sqlite` into `schema` (made by the store's
/// own migrations, and empty but for their seed rows, which are replaced), in one transaction;
/// then moves the schema's sequences past the copied ids. `progress(rows)` after each batch.
pub fn copy_store(
    sqlite: &Path,
    url: &str,
    schema: &str,
    plan: &TablePlan<'_>,
    progress: &mut dyn FnMut(u64),
) -> Result<Vec<Copied>, StoreError> {
    if !sqlite.exists() {
        return Ok(Vec::new());
    }
    let db = open_sqlite(sqlite)?;
    let mut pg = connect(url, schema)?;
    let pg_columns = pg_columns(&mut pg, schema)?;

    // Every table and column is matched before anything is written.
    let mut work = Vec::new();
    for table in sqlite_tables(&db, sqlite)? {
        if plan.skipped.contains(&table.as_str()) {
            continue;
        }
        let rows = table_rows(&db, sqlite, &table)?;
        let pg_table = plan
            .renamed
            .iter()
            .find(|(s, _)| *s == table)
            .map(|(_, p)| (*p).to_owned())
            .unwrap_or_else(|| table.clone());
        let Some(targets) = pg_columns.get(&pg_table) else {
            if rows == 0 {
                continue;
            }
            return Err(invalid(format!(
                "{}: table {table} ({rows} rows) has no counterpart in the database's {schema} schema; not copied",
                sqlite.display()
            )));
        };
        let have = sqlite_columns(&db, sqlite, &table)?;
        let mut columns = Vec::new();
        let mut used = BTreeSet::new();
        for (name, ty, _) in targets {
            let renamed = plan
                .renamed_columns
                .iter()
                .find(|(t, c, _)| *t == pg_table && c == name)
                .map(|(_, _, s)| (*s).to_owned());
            let (source, seal) = if let Some(s) = renamed.filter(|s| have.contains(s)) {
                (s, false)
            } else if have.contains(name) {
                (name.clone(), false)
            } else if let Some(clear) = name
                .strip_suffix("_sealed")
                .filter(|c| have.iter().any(|h| h == c))
            {
                if plan.sealer.is_none() {
                    return Err(invalid(format!(
                        "{pg_table}.{name}: no key to seal {table}.{clear} with"
                    )));
                }
                (clear.to_owned(), true)
            } else {
                // A column only the database has (a generated id): its default fills it.
                continue;
            };
            used.insert(source.clone());
            columns.push(Column {
                pg: name.clone(),
                pg_type: ty.clone(),
                sqlite: source,
                seal,
            });
        }
        if let Some(lost) = have.iter().find(|c| !used.contains(*c)) {
            return Err(invalid(format!(
                "{}: column {table}.{lost} has no counterpart in {schema}.{pg_table}; not copied",
                sqlite.display()
            )));
        }
        let identity = targets.iter().any(|(_, _, id)| *id);
        work.push((table, pg_table, columns, identity));
    }

    let mut tx = pg.transaction().map_err(backend)?;
    let mut copied = Vec::new();
    for (table, pg_table, columns, identity) in work {
        tx.batch_execute(&format!("DELETE FROM {pg_table}"))
            .map_err(backend)?;
        let names: Vec<&str> = columns.iter().map(|c| c.pg.as_str()).collect();
        let marks: Vec<String> = (1..=columns.len()).map(|i| format!("${i}")).collect();
        let insert = format!(
            "INSERT INTO {pg_table} ({}) {}VALUES ({})",
            names.join(", "),
            if identity {
                "OVERRIDING SYSTEM VALUE "
            } else {
                ""
            },
            marks.join(", ")
        );
        let statement = tx.prepare(&insert).map_err(backend)?;
        // Rows in the order they were written (WITHOUT ROWID tables: their primary key's).
        let order = if sqlite_has_rowid(&db, &table) {
            " ORDER BY rowid"
        } else {
            ""
        };
        let select = format!(
            "SELECT {} FROM \"{table}\"{order}",
            columns
                .iter()
                .map(|c| format!("\"{}\"", c.sqlite))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let mut st = db.prepare(&select).map_err(sqlite_err(sqlite))?;
        let mut cursor = st.query([]).map_err(sqlite_err(sqlite))?;
        let mut done = 0u64;
        while let Some(row) = cursor.next().map_err(sqlite_err(sqlite))? {
            let mut params: Vec<Box<dyn ToSql + Sync>> = Vec::with_capacity(columns.len());
            for (i, c) in columns.iter().enumerate() {
                let mut v: Value = row.get(i).map_err(sqlite_err(sqlite))?;
                if c.seal
                    && let Some(sealer) = plan.sealer
                {
                    v = match v {
                        Value::Null => Value::Null,
                        Value::Text(t) => Value::Blob(sealer.seal(t.as_bytes())?),
                        Value::Blob(b) => Value::Blob(sealer.seal(&b)?),
                        other => {
                            return Err(invalid(format!(
                                "{table}.{}: cannot seal {other:?}",
                                c.sqlite
                            )));
                        }
                    };
                }
                let v = (plan.rewrite)(&pg_table, &c.pg, v)?;
                params.push(to_param(&pg_table, c, v)?);
            }
            let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p.as_ref()).collect();
            tx.execute(&statement, &refs).map_err(|e| {
                let e = backend(e);
                invalid(format!("copying {table} into {schema}.{pg_table}: {e}"))
            })?;
            done += 1;
            if done.is_multiple_of(256) {
                progress(256);
            }
        }
        progress(done % 256);
        copied.push(Copied {
            table: pg_table,
            rows: done,
        });
    }
    // Ids the database hands out next must not collide with the copied ones.
    for (table, cols) in &pg_columns {
        for (col, _, _) in cols {
            let seq: Option<String> = tx
                .query_one(
                    "SELECT pg_get_serial_sequence($1, $2)",
                    &[&format!("{schema}.{table}"), col],
                )
                .map_err(backend)?
                .get(0);
            if let Some(seq) = seq {
                // setval takes a regclass, which a text parameter does not serialize into.
                let seq = seq.replace('\'', "''");
                tx.batch_execute(&format!(
                    "SELECT setval('{seq}', (SELECT COALESCE(MAX({col}), 0) FROM {table}) + 1, false)"
                ))
                .map_err(backend)?;
            }
        }
    }
    tx.commit().map_err(backend)?;
    Ok(copied)
}

fn sqlite_has_rowid(db: &Connection, table: &str) -> bool {
    db.prepare(&format!("SELECT rowid FROM \"{table}\" LIMIT 0"))
        .is_ok()
}

/// The columns of each table of `schema`: name, data type, and whether it is an identity
/// column (which an insert must override).
type PgColumns = BTreeMap<String, Vec<(String, String, bool)>>;

fn pg_columns(pg: &mut Client, schema: &str) -> Result<PgColumns, StoreError> {
    let rows = pg
        .query(
            "SELECT c.table_name::text, c.column_name::text, c.data_type::text, c.is_identity::text
             FROM information_schema.columns c
             JOIN information_schema.tables t
               ON t.table_schema = c.table_schema AND t.table_name = c.table_name
             WHERE c.table_schema = $1 AND t.table_type = 'BASE TABLE'
             ORDER BY c.table_name, c.ordinal_position",
            &[&schema],
        )
        .map_err(backend)?;
    let mut out = PgColumns::new();
    for r in rows {
        let table: String = r.get(0);
        let identity: String = r.get(3);
        out.entry(table)
            .or_default()
            .push((r.get(1), r.get(2), identity == "YES"));
    }
    Ok(out)
}

fn to_param(table: &str, c: &Column, v: Value) -> Result<Box<dyn ToSql + Sync>, StoreError> {
    let wrong = |v: &Value| {
        invalid(format!(
            "{table}.{} ({}): cannot store {v:?}",
            c.pg, c.pg_type
        ))
    };
    Ok(match c.pg_type.as_str() {
        "bigint" => Box::new(match v {
            Value::Null => None,
            Value::Integer(i) => Some(i),
            other => return Err(wrong(&other)),
        }),
        "integer" => Box::new(match v {
            Value::Null => None,
            Value::Integer(i) => Some(i32::try_from(i).map_err(|_| wrong(&v))?),
            other => return Err(wrong(&other)),
        }),
        "smallint" => Box::new(match v {
            Value::Null => None,
            Value::Integer(i) => Some(i16::try_from(i).map_err(|_| wrong(&v))?),
            other => return Err(wrong(&other)),
        }),
        "boolean" => Box::new(match v {
            Value::Null => None,
            Value::Integer(i) => Some(i != 0),
            other => return Err(wrong(&other)),
        }),
        "double precision" => Box::new(match v {
            Value::Null => None,
            Value::Integer(i) => Some(i as f64),
            Value::Real(f) => Some(f),
            other => return Err(wrong(&other)),
        }),
        "real" => Box::new(match v {
            Value::Null => None,
            Value::Integer(i) => Some(i as f32),
            Value::Real(f) => Some(f as f32),
            other => return Err(wrong(&other)),
        }),
        "bytea" => Box::new(match v {
            Value::Null => None,
            Value::Blob(b) => Some(b),
            Value::Text(t) => Some(t.into_bytes()),
            other => return Err(wrong(&other)),
        }),
        "text" => Box::new(match v {
            Value::Null => None,
            Value::Text(t) => Some(t),
            Value::Integer(i) => Some(i.to_string()),
            Value::Real(f) => Some(f.to_string()),
            Value::Blob(b) => Some(
                String::from_utf8(b)
                    .map_err(|e| invalid(format!("{table}.{}: not UTF-8 text: {e}", c.pg)))?,
            ),
        }),
        other => {
            return Err(invalid(format!(
                "{table}.{}: column type {other} is not one migrate copies",
                c.pg
            )));
        }
    })
}

/// Runs statements in `schema` (fix-ups after a copy: heads, sequences not owned by a column).
pub fn execute(url: &str, schema: &str, sql: &str) -> Result<(), StoreError> {
    connect(url, schema)?.batch_execute(sql).map_err(backend)
}

/// Whether `schema` has a table `table` with any row (a cluster already in use).
pub fn has_rows(url: &str, schema: &str, table: &str) -> Result<bool, StoreError> {
    if !plain_name(schema) || !plain_name(table) {
        return Err(invalid(format!("name {schema:?}.{table:?}")));
    }
    let mut c = Client::connect(url, NoTls).map_err(backend)?;
    let exists: bool = c
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2)",
            &[&schema, &table],
        )
        .map_err(backend)?
        .get(0);
    if !exists {
        return Ok(false);
    }
    let any: bool = c
        .query_one(
            &format!("SELECT EXISTS (SELECT 1 FROM {schema}.{table})"),
            &[],
        )
        .map_err(backend)?
        .get(0);
    Ok(any)
}

/// The text values of the first column of `sql` over the SQLite database at `sqlite` (none
/// when it does not exist).
pub fn sqlite_strings(sqlite: &Path, sql: &str) -> Result<Vec<String>, StoreError> {
    if !sqlite.exists() {
        return Ok(Vec::new());
    }
    let db = open_sqlite(sqlite)?;
    let mut st = db.prepare(sql).map_err(sqlite_err(sqlite))?;
    let out = st
        .query_map([], |r| r.get::<_, String>(0))
        .map_err(sqlite_err(sqlite))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(sqlite_err(sqlite))?;
    Ok(out)
}

/// The integer `sql` answers over the SQLite database at `sqlite`, if any row.
pub fn sqlite_i64(sqlite: &Path, sql: &str) -> Result<Option<i64>, StoreError> {
    if !sqlite.exists() {
        return Ok(None);
    }
    let db = open_sqlite(sqlite)?;
    let mut st = db.prepare(sql).map_err(sqlite_err(sqlite))?;
    let mut rows = st.query([]).map_err(sqlite_err(sqlite))?;
    match rows.next().map_err(sqlite_err(sqlite))? {
        Some(r) => r.get::<_, Option<i64>>(0).map_err(sqlite_err(sqlite)),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::{KeyOwner, NewSession, PgIdentity, SqliteIdentity};
    use crate::suite::pg::TestPostgres;

    fn keep(_: &str, _: &str, v: Value) -> Result<Value, StoreError> {
        Ok(v)
    }

    fn plan<'a>(sealer: Option<&'a Sealer>) -> TablePlan<'a> {
        TablePlan {
            renamed: &[],
            renamed_columns: &[],
            skipped: &[],
            sealer,
            rewrite: &keep,
        }
    }

    #[test]
    fn identity_copied_keeps_every_secret_sealed() {
        let server = TestPostgres::start();
        let dir = tempfile::tempdir().unwrap();
        let embedded = SqliteIdentity::open(&dir.path().join("identity.db")).unwrap();
        let (acct, root) = embedded.create_account(1).unwrap();
        let session = embedded
            .create_session_key(
                NewSession {
                    account: &acct.id,
                    owner: KeyOwner::Root,
                    session_name: None,
                    mfa: false,
                    expires_ms: i64::MAX / 2,
                },
                1,
            )
            .unwrap();
        let device = embedded
            .create_mfa_device(&acct.id, "/", "d", &vec![], 1)
            .unwrap();
        let secret = embedded.instance_secret("pagination").unwrap();
        drop(embedded);

        let key = dir.path().join("identity.key");
        let cluster = PgIdentity::open(&server.url(), "moved", &key).unwrap();
        let sealer = Sealer::open(&key).unwrap();
        let mut seen = 0;
        let copied = copy_store(
            &dir.path().join("identity.db"),
            &server.url(),
            "moved",
            &plan(Some(&sealer)),
            &mut |n| seen += n,
        )
        .unwrap();
        let rows: u64 = copied.iter().map(|c| c.rows).sum();
        assert_eq!(seen, rows);
        assert_eq!(rows, count_rows(&dir.path().join("identity.db")).unwrap());

        assert_eq!(cluster.accounts().unwrap(), vec![acct.clone()]);
        assert_eq!(cluster.key(&root.access_key_id).unwrap().unwrap(), root);
        assert_eq!(
            cluster.key(&session.access_key_id).unwrap().unwrap(),
            session
        );
        assert_eq!(
            cluster.mfa_device(&device.serial).unwrap().seed,
            device.seed
        );
        assert_eq!(cluster.instance_secret("pagination").unwrap(), secret);
        assert!(has_rows(&server.url(), "moved", "accounts").unwrap());
        assert!(!has_rows(&server.url(), "moved", "iam_users").unwrap());
        assert!(!has_rows(&server.url(), "nowhere", "accounts").unwrap());
    }

    /// A SQLite database beside a PostgreSQL schema made by hand.
    fn pair(
        server: &TestPostgres,
        schema: &str,
        sqlite_sql: &str,
        pg_sql: &str,
    ) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        Connection::open(dir.path().join("s.db"))
            .unwrap()
            .execute_batch(sqlite_sql)
            .unwrap();
        let mut c = Client::connect(&server.url(), NoTls).unwrap();
        c.batch_execute(&format!(
            "CREATE SCHEMA {schema}; SET search_path TO {schema}; {pg_sql}"
        ))
        .unwrap();
        dir
    }

    #[test]
    fn ids_continue_after_the_copied_ones() {
        let server = TestPostgres::start();
        let dir = pair(
            &server,
            "ids",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT, on_ INTEGER);
             INSERT INTO t VALUES (1, 'a', 1), (7, 'b', 0);",
            "CREATE TABLE t (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v TEXT, on_ BOOLEAN);",
        );
        copy_store(
            &dir.path().join("s.db"),
            &server.url(),
            "ids",
            &plan(None),
            &mut |_| {},
        )
        .unwrap();
        let mut c = connect(&server.url(), "ids").unwrap();
        let id: i64 = c
            .query_one(
                "INSERT INTO t (v, on_) VALUES ('c', true) RETURNING id",
                &[],
            )
            .unwrap()
            .get(0);
        assert_eq!(id, 8);
        let on: Vec<bool> = c
            .query("SELECT on_ FROM t ORDER BY id", &[])
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(on, [true, false, true]);
    }

    #[test]
    fn nothing_is_dropped_silently() {
        let server = TestPostgres::start();
        // A table the cluster has no place for, with rows: refused, nothing written.
        let dir = pair(
            &server,
            "lost_table",
            "CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('a');
             CREATE TABLE extra (v TEXT); INSERT INTO extra VALUES ('x');",
            "CREATE TABLE t (v TEXT);",
        );
        let e = copy_store(
            &dir.path().join("s.db"),
            &server.url(),
            "lost_table",
            &plan(None),
            &mut |_| {},
        )
        .unwrap_err();
        assert!(e.to_string().contains("table extra (1 rows)"), "{e}");
        assert!(!has_rows(&server.url(), "lost_table", "t").unwrap());
        // Unless the plan says why it is skipped.
        let skipping = TablePlan {
            skipped: &["extra"],
            ..plan(None)
        };
        copy_store(
            &dir.path().join("s.db"),
            &server.url(),
            "lost_table",
            &skipping,
            &mut |_| {},
        )
        .unwrap();
        assert!(has_rows(&server.url(), "lost_table", "t").unwrap());

        // A column the cluster has no place for: refused.
        let dir = pair(
            &server,
            "lost_column",
            "CREATE TABLE t (v TEXT, w TEXT); INSERT INTO t VALUES ('a', 'b');",
            "CREATE TABLE t (v TEXT);",
        );
        let e = copy_store(
            &dir.path().join("s.db"),
            &server.url(),
            "lost_column",
            &plan(None),
            &mut |_| {},
        )
        .unwrap_err();
        assert!(e.to_string().contains("column t.w"), "{e}");
        // A secret to seal with no key to seal it: refused.
        let dir = pair(
            &server,
            "unsealed",
            "CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('a');",
            "CREATE TABLE t (v_sealed BYTEA);",
        );
        let e = copy_store(
            &dir.path().join("s.db"),
            &server.url(),
            "unsealed",
            &plan(None),
            &mut |_| {},
        )
        .unwrap_err();
        assert!(e.to_string().contains("no key to seal"), "{e}");
    }
}
