//! Add to group (G5) for any number of accounts, prepared before the write
//! lock so that other writes wait only for the writing.

use sqlx::pool::PoolConnection;
use sqlx::{Sqlite, SqliteConnection};

use super::Tx;
use super::selection::{Selection, insert_selection};

// ---- Add to group (G5), prepared before the write lock -------------------------
//
// A toggle of every account (100,000) used to read its selection, work out
// who was a member and write 100,000 memberships and 100,000 audit subjects
// all inside its write transaction: 1.6–5 s during which every other write
// (a sign-in, a subscription) waited for the lock. Now:
//
// 1. `prepare_toggle` takes a connection of its own out of the pool and, in
//    one read transaction (a snapshot), fills its temporary tables (in a
//    file): the selection (`selected_accounts`, with what the rows copy, and
//    an index of it in the memberships' name order) and the selected
//    accounts that are members (`toggle_leaving`). No write lock is held
//    for any of that.
// 2. `PreparedToggle::begin_write` takes the lock (BEGIN IMMEDIATE) and
//    asks SQLite whether another connection has committed since that
//    snapshot (`PRAGMA data_version`). If none has, the tables are what
//    reading them under the lock would give. If one has, who is a member
//    is read again (a look-up per member or per selected account, whichever
//    are fewer), and if accounts were added, deleted, renamed, blocked or
//    readdressed meanwhile (`account_changes`, migration 0008) the
//    selection is read again too, all under the lock.
// 3. `apply_toggle` removes and adds with one statement each, both in the
//    name indexes' order, and moves the member count with one more instead
//    of the per-row triggers; the audit record lists the accounts
//    (`audit_selected`). One transaction: all or nothing, as G5 says.
//
// The per-row work that statement-level work replaces is switched off on
// that connection: the member-count triggers (one UPDATE of the group per
// row, a fifth of the insert's time) and the foreign-key checks (a look-up
// of the account and of the group per row, another fifth: every account
// inserted was read in the snapshot the lock now protects, or under the
// lock, and the group is read under the lock). The connection is closed
// afterwards, never returned to the pool, so no other use ever meets it
// like that; closing it also removes its temporary tables and frees its
// page cache.

/// Page cache of the connection that applies a toggle (KiB; the pool's are
/// 2,000). Every index is written in key order, so a little more than
/// the pool's suffices: 4, 8 and 16 MB toggled 100,000 accounts in the same
/// time; each 4 MB more is 4 MB more of the server's peak memory.
const TOGGLE_CACHE_KIB: i64 = 4_000;

/// The triggers on the tables a toggle writes, which `apply_toggle` does
/// the work of (member counts); any other trigger there would be skipped
/// silently, so a toggle refuses to run until this list and `apply_toggle`
/// have been brought up to date.
const TOGGLE_STANDS_IN_FOR: &str = "memberships_delete,memberships_insert";

/// An Add-to-group toggle whose reading is done (step 1 above): the
/// connection holding its temporary tables, and the snapshot they were
/// read from.
pub struct PreparedToggle {
    /// None on PostgreSQL, which reads everything in the write transaction
    /// (its writers do not wait for one another's reading).
    conn: Option<PoolConnection<Sqlite>>,
    group_id: String,
    snapshot: Snapshot,
    /// Accounts selected.
    pub selected: u64,
    /// Times the selection was read again before taking the lock because
    /// accounts changed while it was read.
    pub reread_before: u32,
}

/// What tells whether tables read in one snapshot still hold later.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Snapshot {
    /// `PRAGMA data_version`: moves when another connection commits.
    version: i64,
    /// `account_changes.n`: moves when an account is added, deleted, or
    /// its email, sort name or state changes.
    accounts: i64,
}

/// A toggle under its write lock: apply it with `apply_toggle`.
pub struct LockedToggle {
    /// Accounts selected (as read under the lock if they were read again).
    pub selected: u64,
    /// What was read again under the lock: `"none"` (nobody committed since
    /// the snapshot), `"members"` or `"selection"` (accounts changed too).
    pub reread_in_lock: &'static str,
    /// When the write lock was taken.
    pub locked_at: std::time::Instant,
}

/// Step 1: reads the selection and who of it is a member of `group_id` on
/// a connection of the toggle's own, outside any write lock. When accounts
/// change meanwhile, reads again (twice at most), so that taking the lock
/// mostly finds the selection still true.
pub async fn prepare_toggle(
    db: &super::Db,
    group_id: &str,
    selection: &Selection<'_>,
) -> Result<PreparedToggle, sqlx::Error> {
    let super::Backend::Sqlite(pool) = db.backend() else {
        return Ok(PreparedToggle {
            conn: None,
            group_id: group_id.to_owned(),
            snapshot: Snapshot {
                version: 0,
                accounts: 0,
            },
            selected: 0,
            reread_before: 0,
        });
    };
    let mut conn = pool.acquire().await?;
    // Before anything else: whatever happens next, this connection with
    // its settings below never goes back to the pool.
    conn.close_on_drop();
    statement_level_only(&mut conn).await?;
    for pragma in [
        format!("PRAGMA cache_size = -{TOGGLE_CACHE_KIB}"),
        // Before any temporary table (it drops those there are).
        "PRAGMA temp_store = FILE".to_owned(),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(pragma))
            .execute(&mut *conn)
            .await?;
    }
    create_toggle_tables(&mut conn).await?;
    let (mut snapshot, mut selected) = read_in_snapshot(&mut conn, group_id, selection).await?;
    let mut reread_before = 0;
    while reread_before < 2 && account_changes(&mut conn).await? != snapshot.accounts {
        (snapshot, selected) = read_in_snapshot(&mut conn, group_id, selection).await?;
        reread_before += 1;
    }
    Ok(PreparedToggle {
        conn: Some(conn),
        group_id: group_id.to_owned(),
        snapshot,
        selected,
        reread_before,
    })
}

impl PreparedToggle {
    /// Step 2: takes the write lock on the toggle's connection and makes
    /// sure its tables hold what is there now, reading again under the
    /// lock what may have changed since they were read.
    pub async fn begin_write(
        self,
        db: &super::Db,
        selection: &Selection<'_>,
    ) -> Result<(Tx, LockedToggle), sqlx::Error> {
        let Some(conn) = self.conn else {
            return begin_write_pg(db, &self.group_id, selection).await;
        };
        let mut tx = db.begin_write_on(conn).await?;
        let mut locked = LockedToggle {
            selected: self.selected,
            reread_in_lock: "none",
            locked_at: std::time::Instant::now(),
        };
        if data_version(tx.sqlite()).await? != self.snapshot.version {
            if account_changes(tx.sqlite()).await? != self.snapshot.accounts {
                locked.selected =
                    fill_toggle_tables(tx.sqlite(), &self.group_id, selection).await?;
                locked.reread_in_lock = "selection";
            } else {
                fill_leaving(tx.sqlite(), &self.group_id, self.selected).await?;
                locked.reread_in_lock = "members";
            }
        }
        Ok((tx, locked))
    }
}

/// Step 3: selected members leave the group, selected non-members join it;
/// the group's member count moves by the difference. Returns (added,
/// removed). Needs the tables of `begin_write`, in its transaction.
pub async fn apply_toggle(
    tx: &mut Tx,
    group_id: &str,
    selection: &Selection<'_>,
    now: i64,
) -> Result<(u64, u64), sqlx::Error> {
    if let super::backend::On::Pg(x) = tx.on() {
        return apply_toggle_pg(x, group_id, now).await;
    }
    let removed = remove_leaving(tx, group_id, selection).await?;
    // In the order of the two name-ordered indexes (the group's members by
    // name, every membership by account name), read from the selection's
    // own index in that order: each index is written from one end to the
    // other instead of page by random page. (A plain INSERT: a membership
    // that exists after all is an error, not skipped.)
    let added = sqlx::query(
        "INSERT INTO memberships (group_id, account_id, created_at, sort_name, state)
         SELECT ?, s.id, ?, s.sort_name, s.state
         FROM temp.selected_accounts s INDEXED BY selected_by_name
         WHERE NOT EXISTS (SELECT 1 FROM temp.toggle_leaving l
                           WHERE l.sort_name = s.sort_name AND l.id = s.id)
         ORDER BY s.sort_name, s.id",
    )
    .bind(group_id)
    .bind(now)
    .execute(tx.sqlite())
    .await?
    .rows_affected();
    // What memberships_insert and memberships_delete do row by row.
    sqlx::query("UPDATE groups SET member_count = member_count + ? - ? WHERE id = ?")
        .bind(added as i64)
        .bind(removed as i64)
        .bind(group_id)
        .execute(tx.sqlite())
        .await?;
    Ok((added, removed))
}

/// Deletes the memberships of `temp.toggle_leaving`; returns how many.
///
/// A DELETE whose condition holds a subquery finds its rows first, then
/// deletes them in primary-key order (account id): random places of the two
/// name-ordered indexes, fine for a few thousand, 1 s and more for 100,000
/// (a page read, and a dirty page written out, per row). When every
/// account of the selection is one with some state, or any (every matching
/// account, no search), the members leaving are exactly the group's
/// members (in that state): a DELETE with no subquery says so, and SQLite
/// deletes those as it walks the group's members in name order.
async fn remove_leaving(
    tx: &mut Tx,
    group_id: &str,
    selection: &Selection<'_>,
) -> Result<u64, sqlx::Error> {
    let leaving: i64 = sqlx::query_scalar("SELECT count(*) FROM temp.toggle_leaving")
        .fetch_one(tx.sqlite())
        .await?;
    if leaving == 0 {
        return Ok(0);
    }
    let whole = match selection {
        Selection::Matching(f) if f.search.is_none() && f.groups.is_none() => Some(f.state),
        _ => None,
    };
    let Some(state) = whole else {
        return Ok(sqlx::query(
            "DELETE FROM memberships INDEXED BY memberships_by_account
             WHERE group_id = ? AND (sort_name, account_id) IN (SELECT sort_name, id FROM temp.toggle_leaving)",
        )
        .bind(group_id)
        .execute(tx.sqlite())
        .await?
        .rows_affected());
    };
    // A membership carries its account's state (migration 0003's trigger).
    let removed = sqlx::query(
        "DELETE FROM memberships INDEXED BY memberships_by_name
         WHERE group_id = ?1 AND (?2 IS NULL OR state = ?2)",
    )
    .bind(group_id)
    .bind(state)
    .execute(tx.sqlite())
    .await?
    .rows_affected();
    if removed != leaving as u64 {
        // Cannot happen while the tables hold (begin_write); if it did, the
        // transaction is rolled back rather than committed wrong.
        return Err(sqlx::Error::Protocol(format!(
            "toggle of {group_id}: {removed} members removed, {leaving} expected"
        )));
    }
    Ok(removed)
}

async fn data_version(conn: &mut SqliteConnection) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("PRAGMA data_version")
        .fetch_one(conn)
        .await
}

async fn account_changes(conn: &mut SqliteConnection) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT n FROM account_changes")
        .fetch_one(conn)
        .await
}

/// Switches off foreign-key checks and triggers on the toggle's connection
/// (see above), after making sure the triggers it stands in for are the
/// only ones on the tables it writes.
async fn statement_level_only(conn: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    let triggers: String = sqlx::query_scalar(
        "SELECT coalesce(group_concat(name, ','), '') FROM (
             SELECT name FROM sqlite_schema WHERE type = 'trigger' AND tbl_name IN
               ('memberships', 'groups', 'audit_log', 'audit_subjects', 'audit_lists',
                'audit_subject_lists')
             ORDER BY name)",
    )
    .fetch_one(&mut *conn)
    .await?;
    if triggers != TOGGLE_STANDS_IN_FOR {
        return Err(sqlx::Error::Protocol(format!(
            "the toggle does the work of the triggers {TOGGLE_STANDS_IN_FOR} itself, \
             but the tables it writes have {triggers}: update store::groups::apply_toggle"
        )));
    }
    sqlx::query("PRAGMA foreign_keys = OFF")
        .execute(&mut *conn)
        .await?;
    use libsqlite3_sys as ffi;
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    let mut now_on: std::ffi::c_int = -1;
    // SAFETY: the handle is locked (no other use of the connection) for
    // the call; this option takes an int and a pointer for the new setting.
    let rc = unsafe {
        ffi::sqlite3_db_config(
            db,
            ffi::SQLITE_DBCONFIG_ENABLE_TRIGGER,
            0 as std::ffi::c_int,
            &mut now_on as *mut std::ffi::c_int,
        )
    };
    if rc != ffi::SQLITE_OK || now_on != 0 {
        return Err(sqlx::Error::Protocol(format!(
            "SQLite did not switch triggers off (rc {rc}, now {now_on})"
        )));
    }
    Ok(())
}

/// The toggle's temporary tables. In a file (`temp_store = FILE`): 100,000
/// accounts are about 15 MB with the index, which in memory was the largest
/// part of the server's peak resident memory; the operating system caches
/// the file instead, and every table is written and read in key order, so a
/// small page cache serves.
async fn create_toggle_tables(conn: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    for sql in [
        "DROP TABLE IF EXISTS temp.selected_accounts",
        "DROP TABLE IF EXISTS temp.toggle_leaving",
        "CREATE TEMP TABLE selected_accounts (
             id TEXT PRIMARY KEY NOT NULL, email TEXT NOT NULL,
             sort_name TEXT NOT NULL, state TEXT NOT NULL
         ) WITHOUT ROWID",
        "CREATE TEMP TABLE toggle_leaving (
             sort_name TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (sort_name, id)
         ) WITHOUT ROWID",
    ] {
        sqlx::query(sql).execute(&mut *conn).await?;
    }
    Ok(())
}

/// Fills the toggle's tables in one read transaction; returns the snapshot
/// and the number of accounts selected.
async fn read_in_snapshot(
    conn: &mut PoolConnection<Sqlite>,
    group_id: &str,
    selection: &Selection<'_>,
) -> Result<(Snapshot, u64), sqlx::Error> {
    use sqlx::Acquire;
    // Deferred: it writes only temporary tables, so it never asks for the
    // write lock; its first read fixes the snapshot.
    let mut read = conn.begin().await?;
    let snapshot = Snapshot {
        version: data_version(&mut read).await?,
        accounts: account_changes(&mut read).await?,
    };
    let selected = fill_toggle_tables(&mut read, group_id, selection).await?;
    read.commit().await?;
    Ok((snapshot, selected))
}

/// The selection and who of it is a member, as the connection sees the
/// database now; returns the number of accounts selected.
async fn fill_toggle_tables(
    conn: &mut SqliteConnection,
    group_id: &str,
    selection: &Selection<'_>,
) -> Result<u64, sqlx::Error> {
    for sql in [
        "DROP INDEX IF EXISTS temp.selected_by_name",
        "DELETE FROM temp.selected_accounts",
    ] {
        sqlx::query(sql).execute(&mut *conn).await?;
    }
    let selected = insert_selection(&mut *conn, selection).await?;
    // Built once filled (sorting is cheaper than keeping it in order row by
    // row): the memberships' name order, which the insert walks.
    sqlx::query("CREATE INDEX temp.selected_by_name ON selected_accounts (sort_name, id, state)")
        .execute(&mut *conn)
        .await?;
    fill_leaving(conn, group_id, selected).await?;
    Ok(selected)
}

/// Who of the selection is a member of the group, looking up the smaller
/// side in the other: each selected account in the group's memberships, or
/// each of the group's members in the selection.
async fn fill_leaving(
    conn: &mut SqliteConnection,
    group_id: &str,
    selected: u64,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM temp.toggle_leaving")
        .execute(&mut *conn)
        .await?;
    let members: i64 =
        sqlx::query_scalar("SELECT coalesce((SELECT member_count FROM groups WHERE id = ?), 0)")
            .bind(group_id)
            .fetch_one(&mut *conn)
            .await?;
    // Both walk in account-name order (a membership carries its account's
    // sort name), so the look-ups and the table's rows come in key order.
    let sql = if (members.max(0) as u64) < selected {
        "INSERT INTO temp.toggle_leaving (sort_name, id) SELECT m.sort_name, m.account_id
         FROM memberships m INDEXED BY memberships_by_name
         CROSS JOIN temp.selected_accounts s INDEXED BY selected_by_name
              ON s.sort_name = m.sort_name AND s.id = m.account_id
         WHERE m.group_id = ?
         ORDER BY m.sort_name, m.account_id"
    } else {
        "INSERT INTO temp.toggle_leaving (sort_name, id) SELECT s.sort_name, s.id
         FROM temp.selected_accounts s INDEXED BY selected_by_name
         CROSS JOIN memberships m ON m.group_id = ? AND m.account_id = s.id
         ORDER BY s.sort_name, s.id"
    };
    sqlx::query(sql).bind(group_id).execute(&mut *conn).await?;
    Ok(())
}

// ---- PostgreSQL: read and write in the one transaction -------------------------
//
// PostgreSQL's writers do not queue behind one another's reading, so the
// toggle reads its selection inside its transaction; an advisory lock on
// the group makes two toggles of one group take turns (the second reads
// what the first wrote). The member-count triggers stay on.

async fn begin_write_pg(
    db: &super::Db,
    group_id: &str,
    selection: &Selection<'_>,
) -> Result<(Tx, LockedToggle), sqlx::Error> {
    let mut tx = db.begin_write().await?;
    super::backend::lock_decision(&mut tx, &format!("toggle:{group_id}")).await?;
    let locked_at = std::time::Instant::now();
    let selected = super::selection::select(&mut tx, selection).await?;
    if let super::backend::On::Pg(x) = tx.on() {
        sqlx::query(
            "CREATE TEMP TABLE toggle_leaving ON COMMIT DROP AS
             SELECT s.sort_name, s.id FROM selected_accounts s
             JOIN memberships m ON m.group_id = $1 AND m.account_id = s.id",
        )
        .bind(group_id)
        .execute(x)
        .await?;
    }
    Ok((
        tx,
        LockedToggle {
            selected,
            reread_in_lock: "selection",
            locked_at,
        },
    ))
}

async fn apply_toggle_pg(
    x: &mut sqlx::PgConnection,
    group_id: &str,
    now: i64,
) -> Result<(u64, u64), sqlx::Error> {
    let removed = sqlx::query(
        "DELETE FROM memberships WHERE group_id = $1 AND account_id IN (SELECT id FROM toggle_leaving)",
    )
    .bind(group_id)
    .execute(&mut *x)
    .await?
    .rows_affected();
    let added = sqlx::query(
        "INSERT INTO memberships (group_id, account_id, created_at, sort_name, state)
         SELECT $1, s.id, $2, s.sort_name, s.state FROM selected_accounts s
         WHERE NOT EXISTS (SELECT 1 FROM toggle_leaving l WHERE l.id = s.id)
         ORDER BY s.sort_name, s.id",
    )
    .bind(group_id)
    .bind(now)
    .execute(&mut *x)
    .await?
    .rows_affected();
    Ok((added, removed))
}
