//! A write transaction, and what must happen once it has committed.
//!
//! A use case changes data, writes its audit record and queues any email in
//! one transaction. What must follow the commit (waking the email worker)
//! is registered on the transaction by the store function that causes it
//! and run by [`Tx::commit`]: no use case calls it by hand, so none can
//! forget it. Remembered answers (the session check, the key check) need no
//! registration: they are forgotten by every commit (`store::commits`).
//!
//! The transaction also carries the time it began, read once from the
//! application's clock, so every row it writes agrees on "now".

use std::ops::{Deref, DerefMut};
use std::sync::{Arc, OnceLock};

use sqlx::{Postgres, Sqlite, SqliteConnection, Transaction};

use super::backend::On;

/// What a committed transaction asks to happen afterwards.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Effects {
    /// A message was written to the outbox: wake the email worker.
    pub mail_queued: bool,
}

/// Who runs the effects: set once at start (tools that send no mail, such
/// as `seed`, leave it unset).
#[derive(Default)]
pub struct AfterCommit {
    run: OnceLock<Box<dyn Fn(Effects) + Send + Sync>>,
}

impl AfterCommit {
    pub fn set(&self, run: impl Fn(Effects) + Send + Sync + 'static) {
        let _ = self.run.set(Box::new(run));
    }

    fn run(&self, effects: Effects) {
        if effects != Effects::default()
            && let Some(run) = self.run.get()
        {
            run(effects);
        }
    }
}

pub struct Tx {
    inner: Inner,
    now: i64,
    effects: Effects,
    after: Arc<AfterCommit>,
    /// SQLite: this process's turn to write (see `Db::begin_write`), given
    /// back when the transaction ends.
    _turn: Option<tokio::sync::OwnedSemaphorePermit>,
}

/// The transaction of the database in use.
enum Inner {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

impl Tx {
    pub(super) fn new(
        inner: Transaction<'static, Sqlite>,
        now: i64,
        after: Arc<AfterCommit>,
        turn: Option<tokio::sync::OwnedSemaphorePermit>,
    ) -> Self {
        Self {
            inner: Inner::Sqlite(inner),
            now,
            effects: Effects::default(),
            after,
            _turn: turn,
        }
    }

    pub(super) fn new_pg(
        inner: Transaction<'static, Postgres>,
        now: i64,
        after: Arc<AfterCommit>,
    ) -> Self {
        Self {
            inner: Inner::Postgres(inner),
            now,
            effects: Effects::default(),
            after,
            _turn: None,
        }
    }

    /// Where the transaction's statements run (see `backend::Exec`).
    pub(super) fn on(&mut self) -> On<'_> {
        match &mut self.inner {
            Inner::Sqlite(t) => On::Sqlite(t),
            Inner::Postgres(t) => On::Pg(t),
        }
    }

    /// When this transaction began (unix seconds, from the application's clock).
    pub fn now(&self) -> i64 {
        self.now
    }

    pub(crate) fn mail_queued(&mut self) {
        self.effects.mail_queued = true;
    }

    /// Commits, then runs what the transaction's changes asked for.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self.inner {
            Inner::Sqlite(t) => t.commit().await?,
            Inner::Postgres(t) => {
                t.commit().await?;
                // Others learn of it by the notice it sent; this process
                // forgets at once, before it answers the next request.
                super::commits::bump();
            }
        }
        self.after.run(self.effects);
        Ok(())
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        match self.inner {
            Inner::Sqlite(t) => t.rollback().await,
            Inner::Postgres(t) => t.rollback().await,
        }
    }
}

// The SQLite connection of the transaction, for SQLite's own paths (the
// bulk toggle's prepared tables, `portal seed`), which PostgreSQL never
// takes (docs/postgres.md).
impl Deref for Tx {
    type Target = SqliteConnection;

    fn deref(&self) -> &SqliteConnection {
        match &self.inner {
            Inner::Sqlite(t) => t,
            Inner::Postgres(_) => unreachable!("a SQLite-only store function on PostgreSQL"),
        }
    }
}

impl DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        match &mut self.inner {
            Inner::Sqlite(t) => t,
            Inner::Postgres(_) => unreachable!("a SQLite-only store function on PostgreSQL"),
        }
    }
}
