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
    // SAFETY: as the caller promises; the hook takes no data.
    unsafe {
        ffi::sqlite3_wal_hook(db, Some(after_commit), std::ptr::null_mut());
    }
}
