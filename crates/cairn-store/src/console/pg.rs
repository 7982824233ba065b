//! Console sessions and failed sign-ins on PostgreSQL (schema in `sql/pg/console_*.sql`), for
//! the nodes of a cluster: what one node writes, every other reads at once (each statement
//! commits by itself; the console writes outside API calls' groups).

use postgres::Row;

use super::{ConsoleSession, ConsoleStore, id_digest};
use crate::error::StoreError;
use crate::pg::{Migration, PgDb, backend};

const MIGRATIONS: &[Migration] = &[Migration {
    store: "console",
    version: 1,
    sql: include_str!("../../sql/pg/console_0001.sql"),
}];

const COLUMNS: &str =
    "access_key_id, account, display_name, csrf, expires_ms, must_change_password";

pub struct PgConsole {
    db: PgDb,
}

fn row_to_session(r: &Row) -> ConsoleSession {
    ConsoleSession {
        access_key_id: r.get(0),
        account: r.get(1),
        display_name: r.get(2),
        csrf: r.get(3),
        expires_ms: r.get(4),
        must_change_password: r.get(5),
    }
}

impl PgConsole {
    /// The store in `schema` of the database at `url` (made and migrated if needed).
    pub fn open(url: &str, schema: &str) -> Result<PgConsole, StoreError> {
        Ok(PgConsole {
            db: PgDb::connect(url, schema, MIGRATIONS)?,
        })
    }

    fn start_session(&self, id: &str, s: &ConsoleSession) -> Result<(), StoreError> {
        let digest = id_digest(id);
        let digest: &[u8] = &digest;
        self.db.write_with(|c| {
            c.execute(
                &format!("INSERT INTO console_sessions (id_sha256, {COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"),
                &[&digest, &s.access_key_id, &s.account, &s.display_name, &s.csrf, &s.expires_ms, &s.must_change_password],
            )
        })?;
        Ok(())
    }

    fn session(&self, id: &str, now_ms: i64) -> Result<Option<ConsoleSession>, StoreError> {
        let digest = id_digest(id);
        let digest: &[u8] = &digest;
        // An expired row is left for the sweep: a read stays a read.
        Ok(self
            .db
            .read()
            .query_opt(
                &format!(
                    "SELECT {COLUMNS} FROM console_sessions WHERE id_sha256 = $1 AND expires_ms > $2"
                ),
                &[&digest, &now_ms],
            )
            .map_err(backend)?
            .as_ref()
            .map(row_to_session))
    }

    fn password_changed(&self, id: &str) -> Result<(), StoreError> {
        let digest = id_digest(id);
        let digest: &[u8] = &digest;
        self.db.write_with(|c| {
            c.execute(
                "UPDATE console_sessions SET must_change_password = FALSE WHERE id_sha256 = $1",
                &[&digest],
            )
        })?;
        Ok(())
    }

    fn end_session(&self, id: &str) -> Result<Option<ConsoleSession>, StoreError> {
        let digest = id_digest(id);
        let digest: &[u8] = &digest;
        let row = self.db.write_with(|c| {
            c.query_opt(
                &format!("DELETE FROM console_sessions WHERE id_sha256 = $1 RETURNING {COLUMNS}"),
                &[&digest],
            )
        })?;
        Ok(row.as_ref().map(row_to_session))
    }

    fn sweep_sessions(&self, now_ms: i64) -> Result<u64, StoreError> {
        self.db.write_with(|c| {
            c.execute(
                "DELETE FROM console_sessions WHERE expires_ms <= $1",
                &[&now_ms],
            )
        })
    }

    fn add_failure(
        &self,
        keys: &[String],
        at_ms: i64,
        forget_before_ms: i64,
    ) -> Result<(), StoreError> {
        self.db.write_with(|c| {
            // The index on at_ms keeps this cheap: only what just fell out of the window.
            c.execute(
                "DELETE FROM signin_failures WHERE at_ms < $1",
                &[&forget_before_ms],
            )?;
            c.execute(
                "INSERT INTO signin_failures (key, at_ms) SELECT k, $2 FROM unnest($1::TEXT[]) AS k",
                &[&keys, &at_ms],
            )
        })?;
        Ok(())
    }

    fn failures_since(&self, key: &str, since_ms: i64) -> Result<Vec<i64>, StoreError> {
        Ok(self
            .db
            .read()
            .query(
                "SELECT at_ms FROM signin_failures WHERE key = $1 AND at_ms >= $2 ORDER BY at_ms",
                &[&key, &since_ms],
            )
            .map_err(backend)?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    fn clear_failures(&self, key: &str) -> Result<(), StoreError> {
        self.db
            .write_with(|c| c.execute("DELETE FROM signin_failures WHERE key = $1", &[&key]))?;
        Ok(())
    }
}

impl ConsoleStore for PgConsole {
    forward! {
        blocking:
        fn start_session(&self, id: &str, session: &ConsoleSession) -> Result<(), StoreError>;
        fn session(&self, id: &str, now_ms: i64) -> Result<Option<ConsoleSession>, StoreError>;
        fn password_changed(&self, id: &str) -> Result<(), StoreError>;
        fn end_session(&self, id: &str) -> Result<Option<ConsoleSession>, StoreError>;
        fn sweep_sessions(&self, now_ms: i64) -> Result<u64, StoreError>;
        fn add_failure(&self, keys: &[String], at_ms: i64, forget_before_ms: i64) -> Result<(), StoreError>;
        fn failures_since(&self, key: &str, since_ms: i64) -> Result<Vec<i64>, StoreError>;
        fn clear_failures(&self, key: &str) -> Result<(), StoreError>;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::suite::pg::TestPostgres;

    fn session(expires_ms: i64) -> ConsoleSession {
        ConsoleSession {
            access_key_id: "ASIAEXAMPLE".into(),
            account: "111122223333".into(),
            display_name: "alice".into(),
            csrf: "csrf-token".into(),
            expires_ms,
            must_change_password: true,
        }
    }

    /// Two nodes on one database: a session started through one is open through the other,
    /// its password change and its end are seen there at once, and failures count across both.
    #[test]
    fn two_nodes_share_sessions_and_failures() {
        let server = TestPostgres::start();
        let a = PgConsole::open(&server.url(), "console_nodes").unwrap();
        let b = PgConsole::open(&server.url(), "console_nodes").unwrap();

        a.start_session("cookie-1", &session(10_000)).unwrap();
        let seen = b.session("cookie-1", 1).unwrap().unwrap();
        assert_eq!(seen, session(10_000));
        b.password_changed("cookie-1").unwrap();
        assert!(
            !a.session("cookie-1", 2)
                .unwrap()
                .unwrap()
                .must_change_password
        );
        assert!(b.end_session("cookie-1").unwrap().is_some());
        assert!(a.session("cookie-1", 3).unwrap().is_none());
        assert!(a.end_session("cookie-1").unwrap().is_none(), "ended once");

        let keys = vec![
            "who:111122223333/alice".to_owned(),
            "ip:10.0.0.1".to_owned(),
        ];
        a.add_failure(&keys, 100, 0).unwrap();
        b.add_failure(&keys, 200, 0).unwrap();
        assert_eq!(a.failures_since(&keys[0], 0).unwrap(), [100, 200]);
        a.clear_failures(&keys[0]).unwrap();
        assert!(b.failures_since(&keys[0], 0).unwrap().is_empty());
        assert_eq!(b.failures_since(&keys[1], 0).unwrap(), [100, 200]);

        // The sweep on either node forgets what expired, for both.
        a.start_session("cookie-2", &session(500)).unwrap();
        a.start_session("cookie-3", &session(5_000)).unwrap();
        assert_eq!(b.sweep_sessions(500).unwrap(), 1);
        assert!(a.session("cookie-3", 500).unwrap().is_some());
    }

    /// The table holds digests of session ids, never the ids (the cookies) themselves.
    #[test]
    fn session_ids_are_stored_only_as_digests() {
        let server = TestPostgres::start();
        let s = PgConsole::open(&server.url(), "console_digests").unwrap();
        s.start_session("the-cookie-value", &session(10_000))
            .unwrap();
        let mut c = postgres::Client::connect(&server.url(), postgres::NoTls).unwrap();
        let rows = c
            .query(
                "SELECT id_sha256, access_key_id, account, display_name, csrf FROM console_digests.console_sessions",
                &[],
            )
            .unwrap();
        assert_eq!(rows.len(), 1);
        let stored: Vec<u8> = rows[0].get(0);
        assert_eq!(stored, id_digest("the-cookie-value"));
        for i in 1..5 {
            let v: String = rows[0].get(i);
            assert!(!v.contains("the-cookie-value"));
        }
    }

    /// While the database is away, asking for a session is an error (the console answers that
    /// it cannot check sessions), not "signed out"; afterwards the session is there again.
    #[test]
    fn an_unreachable_database_is_an_error_not_a_signed_out_session() {
        let server = TestPostgres::start();
        let s = PgConsole::open(&server.url(), "console_restarts").unwrap();
        s.start_session("cookie", &session(10_000)).unwrap();
        server.stop();
        let e = s.session("cookie", 1).unwrap_err();
        assert!(matches!(e, StoreError::Backend { .. }), "{e}");
        assert!(s.add_failure(&["ip:10.0.0.1".to_owned()], 1, 0).is_err());
        server.start_again();
        assert!(s.session("cookie", 2).unwrap().is_some());
    }
}
