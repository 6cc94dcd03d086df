use sqlx::{FromRow, QueryBuilder, Sqlite, SqliteExecutor};

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
    Ok(qb.build().execute(&mut **tx).await?.rows_affected())
}

/// G5: selected members leave the group, selected non-members join it.
/// Returns (added, removed).
pub async fn toggle_selected(
    tx: &mut Tx,
    group_id: &str,
    now: i64,
) -> Result<(u64, u64), sqlx::Error> {
    sqlx::query(
        "CREATE TEMP TABLE IF NOT EXISTS was_member (id TEXT PRIMARY KEY NOT NULL) WITHOUT ROWID",
    )
    .execute(&mut **tx)
    .await?;
    sqlx::query("DELETE FROM temp.was_member")
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO temp.was_member (id) SELECT m.account_id
         FROM temp.selected_accounts s CROSS JOIN memberships m ON m.group_id = ? AND m.account_id = s.id",
    )
    .bind(group_id)
    .execute(&mut **tx)
    .await?;
    let removed = sqlx::query(
        "DELETE FROM memberships WHERE group_id = ? AND account_id IN (SELECT id FROM temp.was_member)",
    )
    .bind(group_id)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    let added = sqlx::query(
        "INSERT INTO memberships (group_id, account_id, created_at, sort_name, state)
         SELECT ?, s.id, ?, s.sort_name, s.state FROM temp.selected_accounts s
         WHERE s.id NOT IN (SELECT id FROM temp.was_member)",
    )
    .bind(group_id)
    .bind(now)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok((added, removed))
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
