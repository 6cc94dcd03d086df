//! A count of the write transactions this process has committed, for the
//! in-memory answers that must be forgotten after any change (the session
//! check's). SQLite calls the hook below after each commit, on every
//! connection of every pool in the process: a count read before a database
//! read and unchanged afterwards means nothing was committed in between.

use std::ffi::{c_char, c_int, c_void};
use std::sync::atomic::{AtomicU64, Ordering};

use libsqlite3_sys as ffi;

static COMMITS: AtomicU64 = AtomicU64::new(0);

/// Commits so far (of any database this process has open).
pub fn count() -> u64 {
    COMMITS.load(Ordering::Acquire)
}

/// One more commit: on PostgreSQL, this process's own (after it has taken
/// place), each notice of another's and a lost listener (whatever it missed
/// is forgotten with everything else): see `commit_notices`.
#[doc(hidden)] // used by `execute!`, which tests may use too
pub fn bump() {
    COMMITS.fetch_add(1, Ordering::AcqRel);
}

/// The write-ahead log's hook runs after a commit has taken place and its
/// write lock is released (unlike the commit hook, which runs before), so a
/// reader that sees the new count also sees the new data.
unsafe extern "C" fn after_commit(
    _: *mut c_void,
    _: *mut ffi::sqlite3,
    _: *const c_char,
    _: c_int,
) -> c_int {
    COMMITS.fetch_add(1, Ordering::AcqRel);
    ffi::SQLITE_OK
}

/// Counts the commits of connection `db`. This replaces SQLite's automatic
/// checkpoints, which use the same hook and are off here anyway
/// (`wal_autocheckpoint=0`; `Db::spawn_checkpointer` does that work).
///
/// # Safety
/// `db` must be an open connection not in use by another thread.
pub(super) unsafe fn count_on(db: *mut ffi::sqlite3) {
    // SAFETY: as the caller promises; the hook never reads its data pointer,
    // which only marks the registration as ours (see `ensure_counted`).
    unsafe {
        ffi::sqlite3_wal_hook(db, Some(after_commit), ours());
    }
}

/// The data pointer our registration carries: SQLite's automatic
/// checkpoints register their own hook with the checkpoint size there.
fn ours() -> *mut c_void {
    std::ptr::addr_of!(COMMITS) as *mut c_void
}

/// Refuses to go on unless the hook is still ours on a connection of
/// `pool` and a commit there moves the count. Something that replaced the
/// hook after it was set (SQLite's automatic checkpoints use the same hook:
/// a `wal_autocheckpoint` set after the connection was configured) would
/// leave the count still, and a remembered session check would then
/// outlive a block or a sign-out with nothing to notice it.
pub async fn ensure_counted(pool: &sqlx::SqlitePool) -> anyhow::Result<()> {
    let refuse = || {
        anyhow::anyhow!(
            "SQLite does not report commits through Portal's write-ahead-log hook; \
             Portal relies on it to forget remembered session checks and will not start"
        )
    };
    let mut conn = pool.acquire().await?;
    {
        let mut handle = conn.lock_handle().await?;
        let db = handle.as_raw_handle().as_ptr();
        // SAFETY: the handle is locked for the call; registering again
        // returns the data pointer of the hook that was there.
        let previous = unsafe { ffi::sqlite3_wal_hook(db, Some(after_commit), ours()) };
        if previous != ours() {
            return Err(refuse());
        }
    }
    let before = count();
    sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
    sqlx::query(
        "INSERT INTO settings (key, value) VALUES ('commit_probe', ?)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    // A value never written before: a commit that changes nothing writes
    // no frames, and SQLite calls no hook for it.
    .bind(crate::domain::ids::new_secret())
    .execute(&mut *conn)
    .await?;
    sqlx::query("COMMIT").execute(&mut *conn).await?;
    if count() == before {
        return Err(refuse());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};

    /// A pool whose connections never got the hook (as if it had been
    /// replaced) is refused; the same file with the hook passes.
    #[tokio::test]
    async fn a_pool_without_the_hook_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let options = SqliteConnectOptions::new()
            .filename(dir.path().join("probe.db"))
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal);
        let plain = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await
            .unwrap();
        sqlx::query("CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            .execute(&plain)
            .await
            .unwrap();
        let err = super::ensure_counted(&plain).await.unwrap_err();
        assert!(err.to_string().contains("will not start"), "{err}");
        plain.close().await;

        let hooked = SqlitePoolOptions::new()
            .max_connections(1)
            .after_connect(|conn, _| {
                Box::pin(async move {
                    let mut handle = conn.lock_handle().await?;
                    // SAFETY: the handle is locked for the call.
                    unsafe { super::count_on(handle.as_raw_handle().as_ptr()) };
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .unwrap();
        super::ensure_counted(&hooked).await.unwrap();
    }
}
