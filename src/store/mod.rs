//! Database access: the only code that knows which database is in use
//! (SQLite, or PostgreSQL: `backend`, docs/postgres.md); every function
//! takes a pool, a connection or a transaction.

pub mod access;
pub mod account_list;
pub mod accounts;
pub mod add_to_group;
pub mod api_tokens;
pub mod applications;
pub mod audit;
pub mod backend;
pub mod backup;
pub mod client_limits;
pub mod commit_notices;
pub mod commits;
mod conn;
pub mod copy;
pub mod dashboard;
pub mod email_templates;
pub mod groups;
pub mod identities;
pub mod identity_providers;
pub mod invitations;
pub mod notifications;
pub mod oidc_grants;
pub mod outbox;
pub mod products;
mod query;
pub mod seed;
pub mod selection;
pub mod sessions;
pub mod settings;
pub mod signing_keys;
mod sqlite_memory;
pub mod subscriptions;
pub mod tokens;
mod tx;

use std::str::FromStr;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

pub use backend::{Backend, Exec};
pub use conn::Conn;
pub use tx::{AfterCommit, Effects, Tx};

use crate::clock::Clock;

#[derive(Clone)]
pub struct Db {
    backend: Backend,
    /// SQLite has one writer at a time: this process's write transactions
    /// take turns here, in order, instead of in SQLite's busy handler, which
    /// sleeps up to 100 ms between tries (a token endpoint under load had a
    /// p99 of 250 ms from those sleeps alone).
    writers: std::sync::Arc<tokio::sync::Semaphore>,
    /// How long a write waits for its turn before the request is answered
    /// "busy" (S-18): the pool's acquire timeout.
    write_wait: Duration,
    /// How SQLite's connections are opened (`for_bulk_load` opens one more).
    options: SqliteConnectOptions,
    clock: Clock,
    after_commit: std::sync::Arc<AfterCommit>,
    /// PostgreSQL: this instance's side of the commit notices (see
    /// `spawn_commit_listener`).
    notices: std::sync::Arc<commit_notices::Notices>,
}

/// Page cache of the bulk-load connection, in KiB: the indexes of 100,000
/// accounts stay cached while they are filled.
const BULK_CACHE_KIB: i64 = 256 * 1024;

/// Connections to PostgreSQL one instance opens at most, unless
/// `DATABASE_MAX_CONNECTIONS` says otherwise: as many as requests a
/// two-core instance serves at once with profit (fewer queued requests
/// for a connection; more only kept PostgreSQL busier switching).
pub const DEFAULT_PG_CONNECTIONS: u32 = 16;

impl Db {
    /// Opens (creating if needed) the database with the settings of S-18 and
    /// applies the embedded migrations.
    pub async fn open(url: &str, acquire_timeout: Duration) -> anyhow::Result<Self> {
        Self::open_with(url, acquire_timeout, DEFAULT_PG_CONNECTIONS).await
    }

    /// The same, with at most `pg_connections` connections to PostgreSQL
    /// (`DATABASE_MAX_CONNECTIONS`; SQLite's pools are sized by its rules).
    pub async fn open_with(
        url: &str,
        acquire_timeout: Duration,
        pg_connections: u32,
    ) -> anyhow::Result<Self> {
        if is_postgres(url) {
            return Self::open_postgres(url, acquire_timeout, pg_connections).await;
        }
        sqlite_memory::configure();
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            && let Some(parent) =
                std::path::Path::new(path.split('?').next().unwrap_or(path)).parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent)?;
        }
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5))
            .pragma("temp_store", "memory")
            // Checkpoints run in the background (`spawn_checkpointer`), not
            // inside whichever request's commit happens to cross the limit.
            .pragma("wal_autocheckpoint", "0")
            // 2 MB of pages per connection (four connections): the upper
            // levels of every index stay cached; the operating system caches
            // the rest of the file anyway.
            .pragma("cache_size", "-2000");
        // Four connections: two cores run at most two statements at once,
        // and a request no longer holds one while argon2 works; each more
        // connection is a thread, a page cache and prepared statements kept
        // in memory (eight cost the peak resident set about 8 MB).
        // One connection first, alone: it creates the file, switches it to
        // the write-ahead log and applies the migrations. Several pool
        // connections opening a brand-new file at once raced to switch its
        // journal mode, and the loser failed the start with "database is
        // locked" (seen on a loaded machine, twice in fifteen first starts).
        prepare_file(&options, url).await?;
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .min_connections(1)
            // sqlx pings a connection's thread before handing it out: a
            // round trip per statement that cannot fail for SQLite, which
            // runs in this process (a third of a page's hand-offs).
            .test_before_acquire(false)
            // Nothing goes stale in an in-process database; reopening only
            // throws away a connection's page cache and prepared statements.
            .idle_timeout(None)
            .max_lifetime(None)
            .after_connect(|conn, _| Box::pin(configure_connection(conn)))
            .acquire_timeout(acquire_timeout)
            .connect_with(options.clone())
            .await?;
        commits::ensure_counted(&pool).await?;
        subscriptions::backfill_key_hashes(&pool).await?;
        let db = Self {
            backend: Backend::Sqlite(pool),
            writers: one_writer(),
            write_wait: acquire_timeout,
            options,
            clock: Clock::default(),
            after_commit: Default::default(),
            notices: Default::default(),
        };
        // A large write-ahead log left by a bulk load (or a crash) slows every
        // read until it is folded back; start from a clean main file.
        db.checkpoint().await?;
        Ok(db)
    }

    /// PostgreSQL (13 or later): a pool and the PostgreSQL migrations.
    async fn open_postgres(
        url: &str,
        acquire_timeout: Duration,
        max_connections: u32,
    ) -> anyhow::Result<Self> {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(max_connections)
            .min_connections(max_connections.min(2))
            // A ping before every hand-out is one more round trip per
            // statement (a page makes several); a connection that died
            // fails its statement instead, and the pool replaces it.
            .test_before_acquire(false)
            .acquire_timeout(acquire_timeout)
            .connect_with(pg_options(url)?)
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(Self {
            backend: Backend::Postgres(pool),
            writers: one_writer(),
            write_wait: acquire_timeout,
            options: SqliteConnectOptions::new(),
            clock: Clock::default(),
            after_commit: Default::default(),
            notices: Default::default(),
        })
    }

    /// One connection for several reads (see `Conn`).
    pub async fn acquire(&self) -> Result<Conn, sqlx::Error> {
        let started = std::time::Instant::now();
        let conn = Conn::acquire(&self.backend).await;
        crate::metrics::pool_wait(started.elapsed().as_secs_f64());
        conn
    }

    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.backend, Backend::Postgres(_))
    }

    /// `/readyz` (SPEC R5): whether the database answers a statement now.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        crate::on_pool!(self, |pool| sqlx::query("SELECT 1")
            .execute(pool)
            .await
            .map(drop))
    }

    /// Folds SQLite's write-ahead log back into the database file.
    pub async fn checkpoint(&self) -> Result<(), sqlx::Error> {
        if let Backend::Sqlite(pool) = &self.backend {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(pool)
                .await?;
        }
        Ok(())
    }

    /// Folds the write-ahead log back into the database every second while
    /// the server runs, without waiting for readers (PASSIVE). A commit that
    /// crossed SQLite's automatic checkpoint limit used to do this itself:
    /// every other 1,000-account Add-to-group toggle paid 20 ms or more.
    pub fn spawn_checkpointer(&self) {
        let Backend::Sqlite(pool) = &self.backend else {
            return;
        };
        let pool = pool.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut checked_at = None;
            loop {
                tick.tick().await;
                if pool.is_closed() {
                    break;
                }
                // Nothing committed since the last checkpoint, nothing to
                // fold back: no statement (it took a connection for a few
                // milliseconds every second, under read-only load too).
                let commits = commits::count();
                if checked_at == Some(commits) {
                    continue;
                }
                // (busy, frames in the log, frames folded back): done when
                // every frame is back; a reader may have held some up.
                match sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(PASSIVE)")
                    .fetch_one(&pool)
                    .await
                {
                    Ok((_, log, folded)) if log == folded => checked_at = Some(commits),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "background checkpoint failed"),
                }
            }
        });
    }

    /// On PostgreSQL, counts the commits of every instance and makes this
    /// one's wait for the others (see `commit_notices`); SQLite's hook
    /// already counts them all.
    pub fn spawn_commit_listener(&self) {
        if let Backend::Postgres(pool) = &self.backend {
            commit_notices::spawn_listener(pool.clone(), self.notices.clone());
        }
    }

    /// Holds, until dropped, the lock that lets one instance at a time do
    /// its first-start work (the first administrator, the signing keys):
    /// several instances starting together on one empty PostgreSQL
    /// database would each make them. A session-level advisory lock on a
    /// connection of its own, released when that connection closes (also
    /// if the process dies). Nothing to hold on SQLite (one process).
    pub async fn start_lock(&self) -> Result<Option<sqlx::PgConnection>, sqlx::Error> {
        let Backend::Postgres(pool) = &self.backend else {
            return Ok(None);
        };
        let mut conn = pool.acquire().await?.detach();
        sqlx::query("SELECT pg_advisory_lock(hashtext('portal:first-start'))")
            .execute(&mut conn)
            .await?;
        Ok(Some(conn))
    }

    /// SQLite's pool, for what only SQLite has (`portal seed`'s bulk load,
    /// which refuses a PostgreSQL URL first); never reached on PostgreSQL.
    pub fn pool(&self) -> &SqlitePool {
        match &self.backend {
            Backend::Sqlite(pool) => pool,
            Backend::Postgres(_) => unreachable!("a SQLite-only store function on PostgreSQL"),
        }
    }

    /// The same database through a connection of its own with a large page
    /// cache, for `portal seed`: the server's pooled connections keep their
    /// small cache. Close it when done.
    pub async fn for_bulk_load(&self) -> Result<Db, sqlx::Error> {
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .after_connect(|conn, _| Box::pin(configure_connection(conn)))
            .connect_with(
                self.options
                    .clone()
                    .pragma("cache_size", format!("-{BULK_CACHE_KIB}")),
            )
            .await?;
        Ok(Db {
            backend: Backend::Sqlite(pool),
            writers: one_writer(),
            write_wait: self.write_wait,
            options: self.options.clone(),
            clock: self.clock.clone(),
            after_commit: Default::default(),
            notices: Default::default(),
        })
    }

    pub async fn close(&self) {
        match &self.backend {
            Backend::Sqlite(pool) => pool.close().await,
            Backend::Postgres(pool) => pool.close().await,
        }
    }

    /// The same database read and written on `clock`'s time.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// What runs after each commit that asks for it (see `Tx`); set once.
    pub fn after_commit(&self) -> &AfterCommit {
        &self.after_commit
    }

    /// A write transaction, begun IMMEDIATE so that it takes the write lock
    /// up front: a deferred one that upgrades fails at once with SQLITE_BUSY.
    pub async fn begin_write(&self) -> Result<Tx, sqlx::Error> {
        let started = std::time::Instant::now();
        let tx = self.open_write().await;
        crate::metrics::pool_wait(started.elapsed().as_secs_f64());
        tx
    }

    async fn open_write(&self) -> Result<Tx, sqlx::Error> {
        match &self.backend {
            Backend::Sqlite(pool) => {
                let turn = self.turn_to_write().await?;
                let inner = pool.begin_with("BEGIN IMMEDIATE").await?;
                Ok(Tx::new(
                    inner,
                    self.clock.now(),
                    self.after_commit.clone(),
                    Some(turn),
                ))
            }
            Backend::Postgres(pool) => {
                let inner = pool.begin().await?;
                Ok(Tx::new_pg(
                    inner,
                    self.clock.now(),
                    self.after_commit.clone(),
                    self.notices.clone(),
                ))
            }
        }
    }

    /// A write transaction, as `begin_write`, on a connection taken from the
    /// pool earlier: one that has read (into its temporary tables) what the
    /// change needs before the write lock is taken, so that others' writes
    /// do not wait for that reading (`groups::PreparedToggle`).
    pub async fn begin_write_on(
        &self,
        conn: sqlx::pool::PoolConnection<sqlx::Sqlite>,
    ) -> Result<Tx, sqlx::Error> {
        use sqlx::SqlSafeStr;
        // What `Pool::begin_with` does, with this connection (the function
        // is public in sqlx, if undocumented).
        let turn = self.turn_to_write().await?;
        let inner = sqlx::Transaction::begin(conn, Some("BEGIN IMMEDIATE".into_sql_str())).await?;
        Ok(Tx::new(
            inner,
            self.clock.now(),
            self.after_commit.clone(),
            Some(turn),
        ))
    }

    /// Waits for this process's turn to write (in order of asking), at
    /// most the acquire timeout; past it the database counts as busy.
    async fn turn_to_write(&self) -> Result<tokio::sync::OwnedSemaphorePermit, sqlx::Error> {
        match tokio::time::timeout(self.write_wait, self.writers.clone().acquire_owned()).await {
            Ok(Ok(turn)) => Ok(turn),
            _ => Err(sqlx::Error::PoolTimedOut),
        }
    }
}

fn one_writer() -> std::sync::Arc<tokio::sync::Semaphore> {
    std::sync::Arc::new(tokio::sync::Semaphore::new(1))
}

/// Whether `DATABASE_URL` names a PostgreSQL database.
pub fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Creates (if needed) and migrates the file on a single connection, and
/// makes sure SQLite can use its write-ahead log there (S-18; the count of
/// commits in `commits` relies on the log's hook). A file system where the
/// log cannot be used leaves another journal mode: refuse to start on it.
async fn prepare_file(options: &SqliteConnectOptions, url: &str) -> anyhow::Result<()> {
    use sqlx::Connection;
    let mut conn = sqlx::SqliteConnection::connect_with(options).await?;
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut conn)
        .await?;
    if !mode.eq_ignore_ascii_case("wal") {
        anyhow::bail!(
            "SQLite could not use its write-ahead log for {url} (journal mode {mode}); \
             Portal needs it (a local file system, not a network share)"
        );
    }
    sqlx::migrate!("./migrations").run(&mut conn).await?;
    conn.close().await?;
    Ok(())
}

/// True when the database could not take the lock in time (S-18): SQLite's
/// SQLITE_BUSY or SQLITE_LOCKED, whatever their extended code (517 is
/// BUSY_SNAPSHOT, 773 BUSY_TIMEOUT …), read from the result code rather
/// than the message; PostgreSQL's conflicts, by SQLSTATE.
pub fn is_busy(e: &dyn sqlx::error::DatabaseError) -> bool {
    const SQLITE_BUSY: i64 = 5;
    const SQLITE_LOCKED: i64 = 6;
    let Some(code) = e.code() else {
        return false;
    };
    if e.try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
        .is_some()
    {
        // PostgreSQL's SQLSTATE: serialization failure, deadlock, lock not available.
        return matches!(code.as_ref(), "40001" | "40P01" | "55P03");
    }
    code.parse::<i64>()
        .is_ok_and(|code| matches!(code & 0xff, SQLITE_BUSY | SQLITE_LOCKED))
}

/// How each PostgreSQL connection is opened: no JIT, as no statement here
/// runs long enough to repay compiling it. (The lists built at run time,
/// whose best plan depends on the values, such as a search, run as unnamed
/// statements, planned for their values each time: prepared, PostgreSQL
/// plans them once for any values after five runs, and the Users tab's
/// search took 19 ms that way against 1.6 ms.)
fn pg_options(url: &str) -> Result<sqlx::postgres::PgConnectOptions, sqlx::Error> {
    Ok(sqlx::postgres::PgConnectOptions::from_str(url)?.options([("jit", "off")]))
}

/// PostgreSQL refused a text value it cannot hold: a NUL character, bound
/// as text (SQLSTATE 22021, character not in repertoire) or inside JSON
/// (22P05, untranslatable character).
pub fn is_unstorable_text(e: &dyn sqlx::error::DatabaseError) -> bool {
    e.try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
        .is_some()
        && e.code().is_some_and(|c| c == "22021" || c == "22P05")
}

/// Escapes a user's search text for an FTS5 MATCH as one quoted phrase.
pub(crate) fn fts_phrase(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// Settings sqlx has no option for, made once per connection.
///
/// SQLite compiles a statement again at its next run whenever a binding
/// that might change its plan was bound anew (a LIMIT, a LIKE pattern, a
/// value compared with a partial index): sqlx binds every value on every
/// run, so such statements were compiled on every page (a sixth of the
/// Access control page's time). With the query planner stability guarantee
/// each prepared statement keeps its plan.
async fn configure_connection(conn: &mut sqlx::SqliteConnection) -> Result<(), sqlx::Error> {
    use libsqlite3_sys as ffi;
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    // SAFETY: the handle is locked (no other use of the connection) for the
    // call; this option takes an int and an optional pointer for the old value.
    let rc = unsafe {
        ffi::sqlite3_db_config(
            db,
            ffi::SQLITE_DBCONFIG_ENABLE_QPSG,
            1 as std::ffi::c_int,
            std::ptr::null_mut::<std::ffi::c_int>(),
        )
    };
    if rc != ffi::SQLITE_OK {
        tracing::warn!(rc, "SQLite refused the query planner stability guarantee");
    }
    // SAFETY: as above.
    unsafe { commits::count_on(db) };
    Ok(())
}

/// Tables whose rows get readable ids made from their names.
pub enum Named {
    Groups,
    Products,
}

/// `base`, or `base-2`, `base-3` … whichever id the table does not hold yet.
pub async fn free_id(tx: &mut Tx, table: Named, base: &str) -> Result<String, sqlx::Error> {
    let sql = match table {
        Named::Groups => crate::sql!("SELECT EXISTS (SELECT 1 FROM groups WHERE id = ?)"),
        Named::Products => crate::sql!("SELECT EXISTS (SELECT 1 FROM products WHERE id = ?)"),
    };
    let mut id = base.to_owned();
    let mut n = 2;
    while crate::run!(&mut *tx, sql, |x, q| sqlx::query_scalar::<_, bool>(q)
        .bind(&id)
        .fetch_one(x)
        .await)?
    {
        id = format!("{base}-{n}");
        n += 1;
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use sqlx::Connection;
    use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode};

    /// A real lock conflict is recognised by its result code, and the
    /// service layer turns it into "busy, try again" (S-18), not a 500.
    #[tokio::test]
    async fn a_lock_conflict_is_busy() {
        let dir = tempfile::tempdir().unwrap();
        let options = SqliteConnectOptions::new()
            .filename(dir.path().join("busy.db"))
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(Duration::ZERO);
        let mut holder = SqliteConnection::connect_with(&options).await.unwrap();
        let mut other = SqliteConnection::connect_with(&options).await.unwrap();
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut holder)
            .await
            .unwrap();
        let err = sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut other)
            .await
            .unwrap_err();
        let sqlx::Error::Database(db) = &err else {
            panic!("not a database error: {err}")
        };
        assert!(super::is_busy(db.as_ref()), "{db}");
        assert!(matches!(
            crate::services::ServiceError::from(err),
            crate::services::ServiceError::Unavailable
        ));
        let not_busy = sqlx::query("SELECT * FROM no_such_table")
            .execute(&mut other)
            .await
            .unwrap_err();
        let sqlx::Error::Database(db) = &not_busy else {
            panic!("not a database error: {not_busy}")
        };
        assert!(!super::is_busy(db.as_ref()), "{db}");
    }
}
