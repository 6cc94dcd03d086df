//! A selection of accounts for a bulk change of one group's members (G3,
//! G4, G5): put in the temporary table `selected_accounts`, so that adding,
//! removing and toggling are one statement each whatever its size, and the
//! audit log can name every account in one more statement. On PostgreSQL
//! the table is dropped when its transaction ends (`ON COMMIT DROP`).

use sqlx::{Database, Encode, QueryBuilder, Type};

use super::{Exec, Tx};
use crate::{execute, run, run_built, sql};

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

/// Fills `selected_accounts` with the (existing) accounts of the selection;
/// returns how many there are. Each carries what the membership and audit
/// rows copy from its account, so the account is looked up once, not once
/// per statement (1,000 accounts are 1,000 scattered reads).
pub async fn select(tx: &mut Tx, selection: &Selection<'_>) -> Result<u64, sqlx::Error> {
    execute!(
        &mut *tx,
        sql!(
            sqlite: "CREATE TEMP TABLE IF NOT EXISTS selected_accounts (
                 id TEXT PRIMARY KEY NOT NULL, email TEXT NOT NULL,
                 sort_name TEXT NOT NULL, state TEXT NOT NULL
             ) WITHOUT ROWID",
            pg: "CREATE TEMP TABLE IF NOT EXISTS selected_accounts (
                 id TEXT PRIMARY KEY NOT NULL, email TEXT NOT NULL,
                 sort_name TEXT NOT NULL, state TEXT NOT NULL
             ) ON COMMIT DROP"
        )
    )?;
    execute!(
        &mut *tx,
        sql!(sqlite: "DELETE FROM temp.selected_accounts", pg: "DELETE FROM selected_accounts")
    )?;
    insert_selection(tx, selection).await
}

/// Adds the (existing) accounts of the selection to the empty
/// `selected_accounts`; returns how many there are.
pub(super) async fn insert_selection<'c>(
    e: impl Exec<'c>,
    selection: &Selection<'_>,
) -> Result<u64, sqlx::Error> {
    run_built!(e, |pg| selection_insert(pg, selection), |qb, x| Ok(qb
        .build()
        .execute(x)
        .await?
        .rows_affected()))
}

fn selection_insert<DB: Database>(pg: bool, selection: &Selection<'_>) -> QueryBuilder<DB>
where
    for<'t> String: Encode<'t, DB> + Type<DB>,
    for<'t> i64: Encode<'t, DB> + Type<DB>,
{
    let mut qb = QueryBuilder::<DB>::new(if pg {
        "INSERT INTO selected_accounts (id, email, sort_name, state)
         SELECT a.id, a.email, a.sort_name, a.state FROM accounts a"
    } else {
        "INSERT OR IGNORE INTO temp.selected_accounts (id, email, sort_name, state)
         SELECT a.id, a.email, a.sort_name, a.state FROM accounts a"
    });
    match selection {
        Selection::Ids(ids) => {
            qb.push(" WHERE a.id IN ");
            super::account_list::push_values(&mut qb, pg, ids);
        }
        Selection::Matching(filter) => super::account_list::push_filters(&mut qb, pg, filter),
    }
    // In key order: each page is written once, full.
    qb.push(if pg {
        " ORDER BY a.id ON CONFLICT DO NOTHING"
    } else {
        " ORDER BY a.id"
    });
    qb
}

/// Adds the selected accounts that are not members yet; returns how many.
pub async fn add_selected(tx: &mut Tx, group_id: &str, now: i64) -> Result<u64, sqlx::Error> {
    execute!(
        tx,
        sql!(
            sqlite: "INSERT OR IGNORE INTO memberships (group_id, account_id, created_at, sort_name, state)
                     SELECT ?, s.id, ?, s.sort_name, s.state FROM temp.selected_accounts s",
            pg: "INSERT INTO memberships (group_id, account_id, created_at, sort_name, state)
                 SELECT $1, s.id, $2, s.sort_name, s.state FROM selected_accounts s
                 ON CONFLICT DO NOTHING"
        ),
        group_id,
        now
    )
}

/// Removes the selected accounts from the group; returns how many were members.
pub async fn remove_selected(tx: &mut Tx, group_id: &str) -> Result<u64, sqlx::Error> {
    execute!(
        tx,
        sql!(
            sqlite: "DELETE FROM memberships WHERE group_id = ? AND account_id IN (SELECT id FROM temp.selected_accounts)",
            pg: "DELETE FROM memberships WHERE group_id = $1 AND account_id IN (SELECT id FROM selected_accounts)"
        ),
        group_id
    )
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
    let selected: i64 = run!(
        &mut *tx,
        sql!(
            sqlite: "SELECT count(*) FROM temp.selected_accounts",
            pg: "SELECT count(*) FROM selected_accounts"
        ),
        |x, q| sqlx::query_scalar(q).fetch_one(x).await
    )?;
    if selected <= LISTED_ABOVE {
        execute!(
            tx,
            sql!(
                sqlite: "INSERT OR IGNORE INTO audit_subjects (audit_id, kind, subject_id, name)
                         SELECT ?, 'account', s.id, s.email FROM temp.selected_accounts s",
                pg: "INSERT INTO audit_subjects (audit_id, kind, subject_id, name)
                     SELECT $1, 'account', s.id, s.email FROM selected_accounts s
                     ON CONFLICT DO NOTHING"
            ),
            audit_id
        )?;
        return Ok(());
    }
    execute!(
        &mut *tx,
        sql!("INSERT INTO audit_lists (kind, audit_id, subjects) VALUES ('account', ?, ?)"),
        audit_id,
        selected
    )?;
    execute!(
        tx,
        sql!(
            sqlite: "INSERT INTO audit_subject_lists (audit_id, kind, subject_id, name)
                     SELECT ?, 'account', s.id, s.email FROM temp.selected_accounts s ORDER BY s.id",
            pg: "INSERT INTO audit_subject_lists (audit_id, kind, subject_id, name)
                 SELECT $1, 'account', s.id, s.email FROM selected_accounts s ORDER BY s.id"
        ),
        audit_id
    )?;
    Ok(())
}
