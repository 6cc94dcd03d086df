//! A selection of accounts for a bulk change of one group's members (G3,
//! G4, G5): put in the temporary table `selected_accounts`, so that adding,
//! removing and toggling are one statement each whatever its size, and the
//! audit log can name every account in one more statement.

use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

use super::Tx;

/// Which accounts a bulk change applies to.
pub enum Selection<'a> {
    Ids(&'a [String]),
    /// Every account matching the Users tab's search and state filter.
    Matching(super::account_list::Filter<'a>),
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
pub(super) async fn insert_selection(
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
        Selection::Matching(filter) => super::account_list::push_filters(&mut qb, filter),
    }
    // In key order: each page is written once, full.
    qb.push(" ORDER BY a.id");
    Ok(qb.build().execute(conn).await?.rows_affected())
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
