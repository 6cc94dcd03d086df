use sqlx::pool::PoolConnection;
use sqlx::{FromRow, QueryBuilder, Sqlite, SqliteConnection, SqliteExecutor};

use super::Tx;

#[derive(Debug, Clone, FromRow, serde::Deserialize)]
pub struct GroupRef {
    pub id: String,
    pub name: String,
    pub kind: String,
}

#[derive(Debug, Clone, FromRow)]
pub struct GroupRow {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub kind: String,
    pub external_id: Option<String>,
    pub member_count: i64,
    pub version: i64,
}

#[derive(Debug, Clone, FromRow, serde::Deserialize)]
pub struct GroupListRow {
    pub id: String,
    pub name: String,
    pub name_key: String,
    pub description: Option<String>,
    pub kind: String,
    pub member_count: i64,
    pub product_count: i64,
}

pub async fn add_member(
    tx: &mut Tx,
    group_id: &str,
    account_id: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT OR IGNORE INTO memberships (group_id, account_id, created_at, sort_name, state)
         SELECT ?, id, ?, sort_name, state FROM accounts WHERE id = ?",
    )
    .bind(group_id)
    .bind(now)
    .bind(account_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The groups an account is an explicit member of (Developers is implicit).
pub async fn of_account(
    e: impl SqliteExecutor<'_>,
    account_id: &str,
) -> Result<Vec<GroupRef>, sqlx::Error> {
    sqlx::query_as(
        "SELECT g.id, g.name, g.kind FROM accounts a
         JOIN memberships m ON m.sort_name = a.sort_name AND m.account_id = a.id
         JOIN groups g ON g.id = m.group_id
         WHERE a.id = ? ORDER BY g.name_key",
    )
    .bind(account_id)
    .fetch_all(e)
    .await
}

pub async fn get(e: impl SqliteExecutor<'_>, id: &str) -> Result<Option<GroupRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, name, description, kind, external_id, member_count, version FROM groups WHERE id = ?",
    )
    .bind(id)
    .fetch_optional(e)
    .await
}

/// The custom groups of a picker (the Add to group menu) in name order, or
/// `None` when there are more than `limit`: then nothing is read but a count
/// that stops at `limit + 1`, so a programme with 1,000 groups pays nothing
/// for the menu it does not get.
pub async fn custom_up_to(
    e: impl SqliteExecutor<'_>,
    limit: i64,
) -> Result<Option<Vec<GroupRef>>, sqlx::Error> {
    // As one JSON row: every Users page asks for this menu (see accounts::list).
    let json: Option<String> = sqlx::query_scalar(
        "SELECT CASE WHEN (SELECT count(*) FROM (SELECT 1 FROM groups WHERE kind = 'custom' LIMIT ?1 + 1)) > ?1
                THEN NULL
                ELSE (SELECT coalesce(json_group_array(json_object('id', id, 'name', name, 'kind', kind)), '[]')
                      FROM (SELECT id, name, kind FROM groups WHERE kind = 'custom' ORDER BY name_key))
                END",
    )
    .bind(limit)
    .fetch_one(e)
    .await?;
    let Some(json) = json else { return Ok(None) };
    let mut groups: Vec<GroupRef> =
        serde_json::from_str(&json).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    groups.sort_by_cached_key(|g| g.name.to_lowercase());
    Ok(Some(groups))
}

/// A group by its display name, compared case-insensitively.
pub async fn by_name(
    e: impl SqliteExecutor<'_>,
    name: &str,
) -> Result<Option<GroupRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, name, description, kind, external_id, member_count, version FROM groups WHERE name_key = ?",
    )
    .bind(name.trim().to_lowercase())
    .fetch_optional(e)
    .await
}

/// Every group, system ones first, then by name (the Access control tab).
pub async fn all(e: impl SqliteExecutor<'_>) -> Result<Vec<GroupRef>, sqlx::Error> {
    sqlx::query_as("SELECT id, name, kind FROM groups ORDER BY kind <> 'system', name_key")
        .fetch_all(e)
        .await
}

/// One page of the Groups tab in name order, after `after` (a name key).
pub async fn list(
    e: impl SqliteExecutor<'_>,
    search: Option<&str>,
    after: Option<(&str, &str)>,
    limit: i64,
) -> Result<Vec<GroupListRow>, sqlx::Error> {
    // System groups first, then by name: the order of the listing index
    // (migration 0003), walked from the cursor; the page comes back as one
    // JSON row.
    let mut qb = QueryBuilder::<Sqlite>::new(
        "SELECT coalesce(json_group_array(json_object('id', id, 'name', name, 'name_key', name_key,
                'description', description, 'kind', kind, 'member_count', member_count,
                'product_count', (SELECT count(*) FROM product_groups pg WHERE pg.group_id = page.id))), '[]')
         FROM (SELECT g.id, g.name, g.name_key, g.description, g.kind, g.member_count
               FROM groups g WHERE 1 = 1",
    );
    if let Some(s) = search {
        // instr, not LIKE: SQLite compiles a statement again whenever a
        // LIKE pattern's binding changes (it might allow an index).
        qb.push(" AND instr(g.name_key, ")
            .push_bind(s.to_lowercase())
            .push(") > 0");
    }
    if let Some((key, id)) = after {
        qb.push(" AND (g.kind <> 'system', g.name_key, g.id) > (1, ")
            .push_bind(key.to_owned())
            .push(", ")
            .push_bind(id.to_owned())
            .push(")");
    }
    qb.push(" ORDER BY g.kind <> 'system', g.name_key, g.id LIMIT ")
        .push_bind(limit + 1)
        .push(") AS page");
    let json: String = qb.build_query_scalar().fetch_one(e).await?;
    let mut rows: Vec<GroupListRow> =
        serde_json::from_str(&json).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    // Nothing promises json_group_array keeps the subquery's order: restore it.
    rows.sort_by(|a, b| {
        (a.kind != "system", &a.name_key, &a.id).cmp(&(b.kind != "system", &b.name_key, &b.id))
    });
    Ok(rows)
}

pub async fn name_taken(
    e: impl SqliteExecutor<'_>,
    key: &str,
    except: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM groups WHERE name_key = ? AND id <> ?)")
        .bind(key)
        .bind(except)
        .fetch_one(e)
        .await
}

pub async fn insert(
    tx: &mut Tx,
    id: &str,
    name: &str,
    description: Option<&str>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO groups (id, name, name_key, description, kind, created_at) VALUES (?, ?, ?, ?, 'custom', ?)",
    )
    .bind(id)
    .bind(name)
    .bind(name.to_lowercase())
    .bind(description)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn update(
    tx: &mut Tx,
    id: &str,
    name: &str,
    description: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE groups SET name = ?, name_key = ?, description = ?, version = version + 1
         WHERE id = ? AND kind = 'custom'",
    )
    .bind(name)
    .bind(name.to_lowercase())
    .bind(description)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Memberships and product grants that go with a group (for the delete page).
pub async fn dependants(e: impl SqliteExecutor<'_>, id: &str) -> Result<(i64, i64), sqlx::Error> {
    sqlx::query_as(
        "SELECT (SELECT member_count FROM groups WHERE id = ?1),
                (SELECT count(*) FROM product_groups WHERE group_id = ?1)",
    )
    .bind(id)
    .fetch_one(e)
    .await
}

pub async fn delete(tx: &mut Tx, id: &str) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("DELETE FROM groups WHERE id = ? AND kind = 'custom'")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(r.rows_affected() == 1)
}

// ---- bulk membership changes ----------------------------------------------------
// A selection of accounts is first put in the temporary table `selected_accounts`,
// so that adding, removing and toggling are one statement each whatever the
// size of the selection, and the audit log can name every account in one
// more statement.

/// Which accounts a bulk change applies to.
pub enum Selection<'a> {
    Ids(&'a [String]),
    /// Every account matching the Users tab's search and state filter.
    Matching(super::accounts::Filter<'a>),
}

// Joins with `temp.selected_accounts` are CROSS JOINs: that makes SQLite loop over
// the selection and look each account up. Left to choose, with no statistics
// about the temporary table, it scanned all 100,000 accounts and looked each
// up in the selection (a 1,000-account toggle took 150 ms instead of 50).

/// Fills `temp.selected_accounts` with the (existing) accounts of the selection;
/// returns how many there are. Each carries what the membership and audit
/// rows copy from its account, so the account is looked up once, not once
/// per statement (1,000 accounts are 1,000 scattered reads).
pub async fn select(tx: &mut Tx, selection: &Selection<'_>) -> Result<u64, sqlx::Error> {
    sqlx::query(
        "CREATE TEMP TABLE IF NOT EXISTS selected_accounts (
             id TEXT PRIMARY KEY NOT NULL, email TEXT NOT NULL,
             sort_name TEXT NOT NULL, state TEXT NOT NULL
         ) WITHOUT ROWID",
    )
    .execute(&mut **tx)
    .await?;
    sqlx::query("DELETE FROM temp.selected_accounts")
        .execute(&mut **tx)
        .await?;
    insert_selection(tx, selection).await
}

/// Adds the (existing) accounts of the selection to the empty
/// `temp.selected_accounts`; returns how many there are.
async fn insert_selection(
    conn: &mut SqliteConnection,
    selection: &Selection<'_>,
) -> Result<u64, sqlx::Error> {
    let mut qb = QueryBuilder::<Sqlite>::new(
        "INSERT OR IGNORE INTO temp.selected_accounts (id, email, sort_name, state)
         SELECT a.id, a.email, a.sort_name, a.state FROM accounts a",
    );
    match selection {
        Selection::Ids(ids) => {
            qb.push(" WHERE a.id IN (SELECT value FROM json_each(")
                .push_bind(serde_json::to_string(ids).unwrap_or_default())
                .push("))");
        }
        Selection::Matching(filter) => super::accounts::push_filters(&mut qb, filter),
    }
    // In key order: each page is written once, full.
    qb.push(" ORDER BY a.id");
    Ok(qb.build().execute(conn).await?.rows_affected())
}

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
    conn: PoolConnection<Sqlite>,
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
    let mut conn = db.pool().acquire().await?;
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
        conn,
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
        let mut tx = db.begin_write_on(self.conn).await?;
        let mut locked = LockedToggle {
            selected: self.selected,
            reread_in_lock: "none",
            locked_at: std::time::Instant::now(),
        };
        if data_version(&mut tx).await? != self.snapshot.version {
            if account_changes(&mut tx).await? != self.snapshot.accounts {
                locked.selected = fill_toggle_tables(&mut tx, &self.group_id, selection).await?;
                locked.reread_in_lock = "selection";
            } else {
                fill_leaving(&mut tx, &self.group_id, self.selected).await?;
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
    .execute(&mut **tx)
    .await?
    .rows_affected();
    // What memberships_insert and memberships_delete do row by row.
    sqlx::query("UPDATE groups SET member_count = member_count + ? - ? WHERE id = ?")
        .bind(added as i64)
        .bind(removed as i64)
        .bind(group_id)
        .execute(&mut **tx)
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
        .fetch_one(&mut **tx)
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
        .execute(&mut **tx)
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
    .execute(&mut **tx)
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

/// Adds the selected accounts that are not members yet; returns how many.
pub async fn add_selected(tx: &mut Tx, group_id: &str, now: i64) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "INSERT OR IGNORE INTO memberships (group_id, account_id, created_at, sort_name, state)
         SELECT ?, s.id, ?, s.sort_name, s.state FROM temp.selected_accounts s",
    )
    .bind(group_id)
    .bind(now)
    .execute(&mut **tx)
    .await?
    .rows_affected())
}

/// Removes the selected accounts from the group; returns how many were members.
pub async fn remove_selected(tx: &mut Tx, group_id: &str) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM memberships WHERE group_id = ? AND account_id IN (SELECT id FROM temp.selected_accounts)")
        .bind(group_id)
        .execute(&mut **tx)
        .await?
        .rows_affected())
}

/// A change naming more accounts than this lists them in
/// `audit_subject_lists` (migration 0008) rather than one `audit_subjects`
/// row each. Ticking accounts page by page (50 a page) stays below it; a
/// toggle of every account matching a search is what goes above.
pub const LISTED_ABOVE: i64 = 1_000;

/// Names every selected account as a subject of audit entry `audit_id`:
/// one `audit_subjects` row each, or, above [`LISTED_ABOVE`] accounts, one
/// list (every row appended after the last list's, in key order).
pub async fn audit_selected(tx: &mut Tx, audit_id: i64) -> Result<(), sqlx::Error> {
    let selected: i64 = sqlx::query_scalar("SELECT count(*) FROM temp.selected_accounts")
        .fetch_one(&mut **tx)
        .await?;
    if selected <= LISTED_ABOVE {
        sqlx::query(
            "INSERT OR IGNORE INTO audit_subjects (audit_id, kind, subject_id, name)
             SELECT ?, 'account', s.id, s.email FROM temp.selected_accounts s",
        )
        .bind(audit_id)
        .execute(&mut **tx)
        .await?;
        return Ok(());
    }
    sqlx::query("INSERT INTO audit_lists (kind, audit_id, subjects) VALUES ('account', ?, ?)")
        .bind(audit_id)
        .bind(selected)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO audit_subject_lists (audit_id, kind, subject_id, name)
         SELECT ?, 'account', s.id, s.email FROM temp.selected_accounts s ORDER BY s.id",
    )
    .bind(audit_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Which of `ids` are members of the group.
pub async fn members_among(
    e: impl SqliteExecutor<'_>,
    group_id: &str,
    ids: &[String],
) -> Result<Vec<String>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query_scalar(
        "SELECT account_id FROM memberships WHERE group_id = ? AND account_id IN (SELECT value FROM json_each(?))",
    )
    .bind(group_id)
    .bind(serde_json::to_string(ids).unwrap_or_default())
    .fetch_all(e)
    .await
}

/// A product and what its Access control page offers to tick or add.
pub struct AccessChoices {
    pub product: super::products::ProductRow,
    /// The groups with access, system groups first, then by name.
    pub granted: Vec<GroupRef>,
    /// Every system group: always a checkbox there.
    pub system: Vec<GroupRef>,
    /// Custom and external groups whose name holds the text searched, not
    /// granted the product yet, in name order: the first `limit`.
    pub candidates: Vec<GroupRef>,
}

#[derive(FromRow)]
struct AccessRow {
    #[sqlx(flatten)]
    product: super::products::ProductRow,
    granted: String,
    system: String,
    candidates: String,
}

/// `None` when there is no such product.
pub async fn access_choices(
    e: impl SqliteExecutor<'_>,
    product_id: &str,
    text: &str,
    limit: i64,
) -> Result<Option<AccessChoices>, sqlx::Error> {
    use crate::domain::group::{ADMINISTRATORS, DEVELOPERS, GUESTS};
    // One statement: the product and three JSON lists, one hand-off to the
    // connection's thread instead of four. System groups by id: their ids
    // are fixed. instr, not LIKE: SQLite compiles a statement again whenever
    // a LIKE pattern's binding changes (the pattern might allow an index).
    let row: Option<AccessRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {columns},
           (SELECT coalesce(json_group_array(json_object('id', g.id, 'name', g.name, 'kind', g.kind)
                                             ORDER BY g.kind <> 'system', g.name_key), '[]')
            FROM product_groups pg JOIN groups g ON g.id = pg.group_id
            WHERE pg.product_id = ?1) AS granted,
           (SELECT coalesce(json_group_array(json_object('id', s.id, 'name', s.name, 'kind', s.kind)
                                             ORDER BY s.name_key), '[]')
            FROM groups s WHERE s.id IN (?4, ?5, ?6)) AS system,
           (SELECT coalesce(json_group_array(json_object('id', c.id, 'name', c.name, 'kind', c.kind)), '[]')
            FROM (SELECT g.id, g.name, g.kind FROM groups g
                  WHERE g.kind <> 'system' AND instr(g.name_key, ?2) > 0
                    AND NOT EXISTS (SELECT 1 FROM product_groups pg
                                    WHERE pg.product_id = ?1 AND pg.group_id = g.id)
                  ORDER BY g.name_key LIMIT ?3) c) AS candidates
         FROM products WHERE id = ?1",
        columns = super::products::COLUMNS
    )))
    .bind(product_id)
    .bind(text.to_lowercase())
    .bind(limit)
    .bind(ADMINISTRATORS)
    .bind(DEVELOPERS)
    .bind(GUESTS)
    .fetch_optional(e)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let parse = |json: &str| -> Result<Vec<GroupRef>, sqlx::Error> {
        serde_json::from_str(json).map_err(|e| sqlx::Error::Decode(Box::new(e)))
    };
    let mut candidates = parse(&row.candidates)?;
    // The LIMIT's subquery gives them in name order; nothing promises that
    // json_group_array keeps it, so order them here.
    candidates.sort_by_cached_key(|g| g.name.to_lowercase());
    Ok(Some(AccessChoices {
        product: row.product,
        granted: parse(&row.granted)?,
        system: parse(&row.system)?,
        candidates,
    }))
}
