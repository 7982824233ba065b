//! The call a thread is running, and the databases it has written to in it.
//!
//! The pipeline enters a scope on the thread that runs a call; every [`super::Db::write`] made
//! on that thread joins the database's open group on the call's behalf. Calls a call makes to
//! other services inside it (on the same thread) share its scope: their writes commit or roll
//! back with it. When the call's stages are done the scope leaves the thread as a
//! [`CallScope`], which is finished once the call's record is durable (or has failed).

use std::cell::RefCell;
use std::marker::PhantomData;
use std::sync::Arc;

use super::{Engine, GroupHost, Hook, Outcome, Shared};
use crate::error::StoreError;

/// A database the call has written to, and what is to follow its group's outcome.
pub(super) struct Member {
    db: Arc<dyn GroupHost>,
    outcome: Arc<Outcome>,
    pub(super) on_commit: Vec<Hook>,
    pub(super) on_rollback: Vec<Hook>,
    pub(super) changed: bool,
}

thread_local! {
    /// `Some` while a call runs on this thread: the databases it has joined.
    static CURRENT: RefCell<Option<Vec<Member>>> = const { RefCell::new(None) };
}

/// Starts a call's scope on this thread. If one is already open (a call made inside another),
/// the inner call shares it and the returned guard does nothing.
pub fn enter() -> Entered {
    let outer = CURRENT.with(|c| {
        let mut c = c.borrow_mut();
        if c.is_some() {
            false
        } else {
            *c = Some(Vec::new());
            true
        }
    });
    Entered {
        outer,
        _on_this_thread: PhantomData,
    }
}

/// A scope open on this thread. Dropping it without [`Entered::leave`] (a panic) abandons the
/// call: its groups roll back.
pub struct Entered {
    outer: bool,
    _on_this_thread: PhantomData<*const ()>,
}

impl Entered {
    /// Closes the scope on this thread and hands over what the call joined, to be finished
    /// once its record's fate is known. An inner scope hands over nothing: the outer call
    /// finishes for both.
    pub fn leave(mut self) -> CallScope {
        let members = if self.outer { take() } else { Vec::new() };
        self.outer = false;
        CallScope { members }
    }
}

impl Drop for Entered {
    fn drop(&mut self) {
        if self.outer {
            drop(CallScope { members: take() });
        }
    }
}

fn take() -> Vec<Member> {
    CURRENT.with(|c| c.borrow_mut().take()).unwrap_or_default()
}

/// The groups a finished call's writes wait in.
#[must_use = "a call's writes stay uncommitted until its scope is finished"]
pub struct CallScope {
    members: Vec<Member>,
}

impl CallScope {
    /// Whether the call wrote nothing (nothing to commit or roll back).
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Finishes the call: `recorded` says whether its record is durable. Blocks until every
    /// group it wrote in has ended, and fails if any was rolled back (by this call's failure
    /// or another member's), in which case the call must be refused.
    pub fn finish(mut self, recorded: bool) -> Result<(), StoreError> {
        let members = std::mem::take(&mut self.members);
        let mut waits = Vec::with_capacity(members.len());
        // Leave every group before waiting for any, so no two calls wait on each other.
        for m in members {
            waits.push((Arc::clone(&m.db), Arc::clone(&m.outcome)));
            m.leave(recorded);
        }
        let mut failed = None;
        for (db, outcome) in &waits {
            if let Err(e) = db.outcome(outcome) {
                failed.get_or_insert(e);
            }
        }
        match failed {
            None => Ok(()),
            Some(reason) => Err(StoreError::RolledBack(reason)),
        }
    }
}

impl Drop for CallScope {
    fn drop(&mut self) {
        for m in self.members.drain(..) {
            m.leave(false);
        }
    }
}

/// Whether a call's scope is open on this thread.
pub(super) fn active() -> bool {
    CURRENT.with(|c| c.borrow().is_some())
}

/// Whether `m` is a membership of `db` (compared by address: the same database whatever
/// the engine).
fn is_of<E: Engine>(m: &Member, db: &Arc<Shared<E>>) -> bool {
    std::ptr::addr_eq(Arc::as_ptr(&m.db), Arc::as_ptr(db))
}

/// Whether the call on this thread has joined `db`'s open group.
pub(super) fn is_member<E: Engine>(db: &Arc<Shared<E>>) -> bool {
    CURRENT.with(|c| {
        c.borrow()
            .as_ref()
            .is_some_and(|ms| ms.iter().any(|m| is_of(m, db)))
    })
}

/// Whether the call on this thread has joined any group.
pub(super) fn is_member_anywhere() -> bool {
    CURRENT.with(|c| c.borrow().as_ref().is_some_and(|ms| !ms.is_empty()))
}

pub(super) fn add_member(db: Arc<dyn GroupHost>, outcome: Arc<Outcome>) {
    CURRENT.with(|c| {
        if let Some(ms) = c.borrow_mut().as_mut() {
            ms.push(Member {
                db,
                outcome,
                on_commit: Vec::new(),
                on_rollback: Vec::new(),
                changed: false,
            });
        }
    });
}

/// Runs `f` on the call's membership of `db`, if it has one; says whether it had.
pub(super) fn with_member<E: Engine>(db: &Arc<Shared<E>>, f: impl FnOnce(&mut Member)) -> bool {
    CURRENT.with(|c| {
        match c
            .borrow_mut()
            .as_mut()
            .and_then(|ms| ms.iter_mut().find(|m| is_of(m, db)))
        {
            Some(m) => {
                f(m);
                true
            }
            None => false,
        }
    })
}

impl Member {
    fn leave(self, recorded: bool) {
        let Member {
            db,
            outcome,
            on_commit,
            on_rollback,
            changed,
        } = self;
        db.leave(&outcome, recorded, on_commit, on_rollback, changed);
    }
}
