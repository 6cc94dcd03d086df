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
    /// With the instance's side of the commit notices (see `commit`).
    Postgres(
        Transaction<'static, Postgres>,
        Arc<super::commit_notices::Notices>,
    ),
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
        notices: Arc<super::commit_notices::Notices>,
    ) -> Self {
        Self {
            inner: Inner::Postgres(inner, notices),
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
            Inner::Postgres(t, _) => On::Pg(t),
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
            Inner::Postgres(mut t, notices) => {
                // A transaction that wrote (or locked rows) has an id: it
                // sends its notice here, whatever the triggers sent (the
                // same notice twice in one transaction is delivered once).
                let txid: Option<i64> = sqlx::query_scalar(
                    "SELECT t.id FROM (SELECT txid_current_if_assigned() AS id) t,
                     LATERAL (SELECT pg_notify('portal_commits', t.id::text)) n
                     WHERE t.id IS NOT NULL",
                )
                .fetch_optional(&mut *t)
                .await?;
                let expected = txid.and_then(|id| notices.expect(id));
                t.commit().await?;
                // This process forgets at once; the others have forgotten
                // once they acknowledge (`commit_notices`). A transaction
                // without an id changed nothing: as SQLite's hook, which
                // counts only commits that wrote, it forgets nothing.
                if txid.is_some() {
                    super::commits::bump();
                }
                if let Some(e) = expected {
                    notices.acknowledged(e).await;
                }
            }
        }
        self.after.run(self.effects);
        Ok(())
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        match self.inner {
            Inner::Sqlite(t) => t.rollback().await,
            Inner::Postgres(t, _) => t.rollback().await,
        }
    }
}

impl Tx {
    /// The SQLite connection of the transaction, for SQLite's own paths
    /// (the bulk toggle's prepared tables, `portal seed`), which PostgreSQL
    /// never takes (docs/postgres.md). No `Deref`: a use case passing
    /// `&mut *tx` by mistake would reach this on PostgreSQL.
    pub(crate) fn sqlite(&mut self) -> &mut SqliteConnection {
        match &mut self.inner {
            Inner::Sqlite(t) => t,
            Inner::Postgres(..) => unreachable!("a SQLite-only store function on PostgreSQL"),
        }
    }
}
