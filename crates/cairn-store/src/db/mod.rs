//! SQLite databases whose writes commit only with the durable record of the call that made them.
//!
//! Audit fails closed: a call whose record cannot be made durable is refused with 503, and a
//! refused call must leave no trace but its absence. So the writes a call makes to a store are
//! not committed while it runs. They go into an open *group* transaction on the store's writer
//! connection, shared by every call that writes there meanwhile, much as the journal groups
//! records into one fsync. Each member [finishes](CallScope::finish) once its record is durable
//! (or has failed); the last member to finish commits the group, or rolls it back if any
//! member's record failed. Every member waits for that outcome before it answers, so a client
//! that got an answer sees its write in the next call.
//!
//! Everyone else reads through a second connection and sees only committed state: nothing a
//! call wrote is visible to others before its record is durable. Writes made outside a call
//! (the edge noting a key's use, journal consumers) are ordinary transactions: they wait for an
//! open group to end and commit at once.
//!
//! A connection the engine can lose (PostgreSQL's) is made again by [`Engine::revive`] before a
//! use that begins afresh: a read on the reader, a group beginning, a write outside a call.
//! Never inside a group: its transaction went with the connection, so its members' further
//! statements fail and its commit fails, and every member is refused (as when a member's
//! record fails).
//!
//! The group machinery is the engine's business only where a transaction begins, commits and
//! rolls back ([`Engine`]): SQLite ([`Sqlite`], the embedded stores) and PostgreSQL
//! (`crate::pg`, the stores of several nodes) share it, and a call that writes to both has
//! one scope for all its groups.
//!
//! A store takes [`Db::read`] for statements that only read and [`Db::write`] for any that
//! change something, registers what must happen to files and caches once the outcome is known
//! ([`Db::after_commit`], [`Db::after_rollback`]), and marks changes that caches derived from
//! the store must notice ([`Db::changed`], read back as [`Db::generation`]).

pub(crate) mod checkpoint;
mod errors;
mod scope;

#[cfg(test)]
mod tests;

use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

pub use scope::{CallScope, Entered, enter};

use crate::error::StoreError;

/// How long a connection waits for SQLite's own file locks (another process, a checkpoint).
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Prepared statements kept per connection (more than any store runs).
const STATEMENT_CACHE: usize = 256;

/// What the group machinery needs of a database engine: its connection, and how a group's
/// transaction begins, commits and rolls back on it.
pub trait Engine: Send + Sync + 'static {
    type Conn: Send;
    type Error: std::fmt::Display;
    fn begin(conn: &mut Self::Conn) -> Result<(), Self::Error>;
    fn commit(conn: &mut Self::Conn) -> Result<(), String>;
    fn rollback(conn: &mut Self::Conn) -> Result<(), String>;
    /// Whether a transaction is open on the connection.
    fn in_transaction(conn: &Self::Conn) -> bool;
    /// Makes a connection lost since its last use usable again, before a use that begins
    /// afresh (no transaction open on it: one that was open died with the connection and must
    /// fail, not go on elsewhere). An error is that use's; the next one tries again.
    fn revive(conn: &mut Self::Conn) -> Result<(), Self::Error>;
}

/// SQLite, the embedded stores' engine.
pub struct Sqlite;

impl Engine for Sqlite {
    type Conn = Connection;
    type Error = rusqlite::Error;
    fn begin(conn: &mut Connection) -> Result<(), rusqlite::Error> {
        conn.execute_batch("BEGIN IMMEDIATE")
    }
    fn commit(conn: &mut Connection) -> Result<(), String> {
        conn.execute_batch("COMMIT").map_err(|e| e.to_string())
    }
    fn rollback(conn: &mut Connection) -> Result<(), String> {
        conn.execute_batch("ROLLBACK").map_err(|e| e.to_string())
    }
    fn in_transaction(conn: &Connection) -> bool {
        !conn.is_autocommit()
    }
    fn revive(_: &mut Connection) -> Result<(), rusqlite::Error> {
        // A file does not go away.
        Ok(())
    }
}

/// One database: a writer connection that calls write through in groups, and a reader.
pub struct Db<E: Engine = Sqlite> {
    shared: Arc<Shared<E>>,
}

/// Another handle on the same database (its connections and groups are shared).
impl<E: Engine> Clone for Db<E> {
    fn clone(&self) -> Self {
        Db {
            shared: Arc::clone(&self.shared),
        }
    }
}

pub(crate) struct Shared<E: Engine> {
    /// SQLite's write-ahead log: fsynced after a group's commit when a member needs its writes
    /// to survive a power loss, not only a crash (what `synchronous = FULL` does for each
    /// commit). None where every commit is durable (PostgreSQL).
    wal: Option<PathBuf>,
    state: Mutex<State<E::Conn>>,
    /// Signalled whenever a group ends.
    ended: Condvar,
    reader: Mutex<E::Conn>,
    generation: AtomicU64,
    /// SQLite's log is checkpointed off the writer's path while this is kept.
    _checkpointed: Option<checkpoint::Checkpointed>,
}

struct State<C> {
    conn: C,
    group: Option<Group>,
}

pub(crate) type Hook = Box<dyn FnOnce() + Send>;

/// The open group transaction and the calls that wrote in it.
struct Group {
    /// Members that have not finished yet.
    pending: usize,
    /// Set once a member has finished: no new call joins, so the group ends soon.
    closing: bool,
    /// A member's record did not become durable: the whole group rolls back.
    failed: bool,
    /// Some member marked a change that derived caches must notice.
    changed: bool,
    /// Some member's writes must survive a power loss: the log is fsynced after the commit.
    sync_wal: bool,
    on_commit: Vec<Hook>,
    on_rollback: Vec<Hook>,
    outcome: Arc<Outcome>,
}

/// How a group ended, shared with its members.
pub(crate) type Outcome = OnceLock<Result<(), String>>;

impl Db<Sqlite> {
    /// Opens (creating if needed) the database at `path` and applies `schema` to it.
    pub fn open(path: &Path, schema: &str) -> Result<Db, StoreError> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.execute_batch(schema)?;
        let reader = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        reader.busy_timeout(BUSY_TIMEOUT)?;
        // Every statement a store runs is prepared once per connection and kept.
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        reader.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        let checkpointed = checkpoint::register(path, &conn)?;
        Ok(Db::build(
            conn,
            reader,
            Some(wal_of(path)),
            Some(checkpointed),
        ))
    }
}

impl<E: Engine> Db<E> {
    /// A database over its writer and reader connections (`wal`: SQLite's log, to fsync
    /// after commits that need it).
    pub(crate) fn with_connections(
        writer: E::Conn,
        reader: E::Conn,
        wal: Option<PathBuf>,
    ) -> Db<E> {
        Db::build(writer, reader, wal, None)
    }

    fn build(
        writer: E::Conn,
        reader: E::Conn,
        wal: Option<PathBuf>,
        checkpointed: Option<checkpoint::Checkpointed>,
    ) -> Db<E> {
        Db {
            shared: Arc::new(Shared {
                wal,
                state: Mutex::new(State {
                    conn: writer,
                    group: None,
                }),
                ended: Condvar::new(),
                reader: Mutex::new(reader),
                generation: AtomicU64::new(1),
                _checkpointed: checkpointed,
            }),
        }
    }

    /// A connection for statements that only read. Inside a call that has written here, it is
    /// the writer (the call sees its own writes); otherwise the reader, which sees only what
    /// is committed.
    pub fn read(&self) -> Reading<'_, E> {
        if scope::is_member(&self.shared) {
            // In the call's group: if its connection was lost, so is the group, and the read
            // must fail with it.
            Reading(Held::Writer(self.shared.lock_state()))
        } else {
            Reading(Held::Reader(self.shared.lock_reader()))
        }
    }

    /// The reader, even inside a call that has written here: only what is committed, as
    /// others see it (a generation kept in the database, say, which must not move before the
    /// call's changes commit).
    pub(crate) fn read_committed(&self) -> Reading<'_, E> {
        Reading(Held::Reader(self.shared.lock_reader()))
    }

    /// The writer connection. Inside a call, it joins (or begins) the open group, whose
    /// outcome the call's record decides. Outside one, it waits until no group is open, and
    /// each statement or transaction commits as usual.
    pub fn write(&self) -> Result<Writing<'_, E>, E::Error> {
        let st = if scope::active() {
            self.shared.join()?
        } else {
            let mut st = self.shared.lock_state();
            while st.group.is_some() {
                st = self.shared.wait(st);
            }
            E::revive(&mut st.conn)?;
            st
        };
        Ok(Writing {
            st,
            wal: self.shared.wal.as_deref(),
        })
    }

    /// Runs `f` once this call's writes here are committed (at once outside a call, or if the
    /// call has not written here). It may run under the database's lock: it must not use it.
    pub fn after_commit(&self, f: impl FnOnce() + Send + 'static) {
        let mut f = Some(f);
        let deferred = scope::with_member(&self.shared, |m| {
            if let Some(f) = f.take() {
                m.on_commit.push(Box::new(f));
            }
        });
        if !deferred && let Some(f) = f {
            f()
        }
    }

    /// Runs `f` if this call's writes here are rolled back (never outside a call). It runs
    /// under the database's lock: it must not use it.
    pub fn after_rollback(&self, f: impl FnOnce() + Send + 'static) {
        scope::with_member(&self.shared, |m| m.on_rollback.push(Box::new(f)));
    }

    /// Marks a change that caches derived from this database must notice: the generation
    /// moves on once the change is committed (not before, or a reader could cache the old
    /// state under the new generation).
    pub fn changed(&self) {
        if !scope::with_member(&self.shared, |m| m.changed = true) {
            self.shared.generation.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// Moves on after every committed change marked by [`Db::changed`].
    pub fn generation(&self) -> u64 {
        self.shared.generation.load(Ordering::Acquire)
    }

    /// Whether the current call has written here and not yet committed: what it reads is not
    /// what others see, so nothing it reads may be cached for them.
    pub fn uncommitted_here(&self) -> bool {
        scope::is_member(&self.shared)
    }
}

impl<E: Engine> Shared<E> {
    fn lock_state(&self) -> MutexGuard<'_, State<E::Conn>> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The reader, made again first if its connection was lost. Reads cannot fail here: if it
    /// could not be made again, the read fails on the lost connection (and the next tries
    /// again).
    fn lock_reader(&self) -> MutexGuard<'_, E::Conn> {
        let mut r = self.reader.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = E::revive(&mut r) {
            tracing::warn!(error = %e, "could not connect the reader again");
        }
        r
    }

    fn wait<'a>(&self, st: MutexGuard<'a, State<E::Conn>>) -> MutexGuard<'a, State<E::Conn>> {
        self.ended.wait(st).unwrap_or_else(|p| p.into_inner())
    }

    /// Makes the current call a member of the open group (beginning one if none is open).
    fn join(self: &Arc<Self>) -> Result<MutexGuard<'_, State<E::Conn>>, E::Error> {
        let mut st = self.lock_state();
        if scope::is_member(self) {
            return Ok(st);
        }
        // A call that is already a member elsewhere may join a closing group: making it wait
        // could close a cycle of groups each waiting for the other's member.
        let may_join_closing = scope::is_member_anywhere();
        loop {
            match &st.group {
                None => {
                    // A group begins on a live connection; one lost in the last group's time
                    // took only that group down.
                    E::revive(&mut st.conn)?;
                    E::begin(&mut st.conn)?;
                    st.group = Some(Group {
                        pending: 0,
                        closing: false,
                        failed: false,
                        changed: false,
                        sync_wal: false,
                        on_commit: Vec::new(),
                        on_rollback: Vec::new(),
                        outcome: Arc::new(OnceLock::new()),
                    });
                    break;
                }
                Some(g) if !g.closing || may_join_closing => break,
                Some(_) => st = self.wait(st),
            }
        }
        let Some(g) = st.group.as_mut() else {
            unreachable!("a group was just found or begun")
        };
        g.pending += 1;
        let host: Arc<dyn GroupHost> = Arc::clone(self) as Arc<dyn GroupHost>;
        scope::add_member(host, Arc::clone(&g.outcome));
        Ok(st)
    }

    fn end_group(&self, st: &mut State<E::Conn>) {
        let Some(g) = st.group.take() else { return };
        let result = if g.failed {
            Err("a call in the group was not recorded".to_owned())
        } else {
            E::commit(&mut st.conn).and_then(|()| match (&self.wal, g.sync_wal) {
                (Some(wal), true) => sync_file(wal),
                _ => Ok(()),
            })
        };
        match &result {
            Ok(()) => g.on_commit.into_iter().for_each(|f| f()),
            Err(reason) => {
                if E::in_transaction(&st.conn)
                    && let Err(e) = E::rollback(&mut st.conn)
                {
                    tracing::error!(error = %e, %reason, "could not roll back a group of calls");
                }
                g.on_rollback.into_iter().for_each(|f| f());
            }
        }
        if g.changed {
            self.generation.fetch_add(1, Ordering::AcqRel);
        }
        let _ = g.outcome.set(result);
    }
}

/// A database's groups as a call's scope sees them, whatever the engine.
pub(crate) trait GroupHost: Send + Sync {
    /// A member is done (its record durable, or not), handing over what is to follow the
    /// outcome. The last one ends the group.
    fn leave(
        &self,
        outcome: &Arc<Outcome>,
        recorded: bool,
        on_commit: Vec<Hook>,
        on_rollback: Vec<Hook>,
        changed: bool,
    );
    /// Waits until the group `outcome` belongs to has ended, and says how.
    fn outcome(&self, outcome: &Outcome) -> Result<(), String>;
}

impl<E: Engine> GroupHost for Shared<E> {
    fn leave(
        &self,
        outcome: &Arc<Outcome>,
        recorded: bool,
        on_commit: Vec<Hook>,
        on_rollback: Vec<Hook>,
        changed: bool,
    ) {
        let mut st = self.lock_state();
        let Some(g) = st.group.as_mut() else { return };
        if !Arc::ptr_eq(&g.outcome, outcome) {
            return;
        }
        g.pending = g.pending.saturating_sub(1);
        g.closing = true;
        g.failed |= !recorded;
        g.changed |= changed;
        g.on_commit.extend(on_commit);
        g.on_rollback.extend(on_rollback);
        if g.pending == 0 {
            self.end_group(&mut st);
            self.ended.notify_all();
        }
    }

    fn outcome(&self, outcome: &Outcome) -> Result<(), String> {
        let mut st = self.lock_state();
        loop {
            if let Some(o) = outcome.get() {
                return o.clone();
            }
            st = self.wait(st);
        }
    }
}

/// A connection to read with (see [`Db::read`]).
pub struct Reading<'a, E: Engine = Sqlite>(Held<'a, E>);

enum Held<'a, E: Engine> {
    Writer(MutexGuard<'a, State<E::Conn>>),
    Reader(MutexGuard<'a, E::Conn>),
}

impl<E: Engine> Deref for Reading<'_, E> {
    type Target = E::Conn;
    fn deref(&self) -> &E::Conn {
        match &self.0 {
            Held::Writer(st) => &st.conn,
            Held::Reader(c) => c,
        }
    }
}

impl<E: Engine> DerefMut for Reading<'_, E> {
    fn deref_mut(&mut self) -> &mut E::Conn {
        match &mut self.0 {
            Held::Writer(st) => &mut st.conn,
            Held::Reader(c) => c,
        }
    }
}

/// The writer connection (see [`Db::write`]).
pub struct Writing<'a, E: Engine = Sqlite> {
    st: MutexGuard<'a, State<E::Conn>>,
    wal: Option<&'a Path>,
}

impl<E: Engine> Deref for Writing<'_, E> {
    type Target = E::Conn;
    fn deref(&self) -> &E::Conn {
        &self.st.conn
    }
}

impl<E: Engine> Writing<'_, E> {
    /// What this call wrote here must survive a power loss once committed, not only a crash
    /// (a database kept at `synchronous = NORMAL` otherwise syncs its log only at checkpoints).
    /// Inside a call, the group's commit is followed by an fsync of the log; outside one,
    /// each statement commits on its own and the log is fsynced at once.
    pub fn sync_at_commit(&mut self) -> Result<(), StoreError> {
        let in_group = E::in_transaction(&self.st.conn);
        match self.st.group.as_mut() {
            Some(g) if in_group => {
                g.sync_wal = true;
                Ok(())
            }
            _ => match self.wal {
                Some(wal) => sync_file(wal).map_err(|e| {
                    StoreError::Invalid(format!("could not sync a database log: {e}"))
                }),
                None => Ok(()),
            },
        }
    }
}

/// The write-ahead log of the database at `path`.
fn wal_of(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}

/// fsyncs a file by path (the kernel syncs the file, whichever descriptor wrote it).
fn sync_file(path: &Path) -> Result<(), String> {
    match std::fs::File::open(path) {
        Ok(f) => f
            .sync_data()
            .map_err(|e| format!("{}: {e}", path.display())),
        // No log (not in WAL mode, or checkpointed and removed): nothing is waiting in one.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

impl<E: Engine> DerefMut for Writing<'_, E> {
    fn deref_mut(&mut self) -> &mut E::Conn {
        &mut self.st.conn
    }
}
