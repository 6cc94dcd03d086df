use sqlx::{FromRow, QueryBuilder, Sqlite, SqliteExecutor};

use super::Tx;
use crate::domain::group::GroupKind;
use crate::domain::ids::{AccountId, GroupId};
use crate::domain::query::{self, GroupField};

#[derive(Debug, Clone, FromRow, serde::Deserialize)]
pub struct GroupRef {
    #[sqlx(try_from = "String")]
    pub id: GroupId,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub kind: GroupKind,
}

#[derive(Debug, Clone, FromRow)]
pub struct GroupRow {
    #[sqlx(try_from = "String")]
    pub id: GroupId,
    pub name: String,
    pub description: Option<String>,
    #[sqlx(try_from = "String")]
    pub kind: GroupKind,
    pub external_id: Option<String>,
    pub member_count: i64,
    pub version: i64,
}

#[derive(Debug, Clone, FromRow, serde::Deserialize)]
pub struct GroupListRow {
    #[sqlx(try_from = "String")]
    pub id: GroupId,
    pub name: String,
    pub name_key: String,
    pub description: Option<String>,
    #[sqlx(try_from = "String")]
    pub kind: GroupKind,
    pub member_count: i64,
    pub product_count: i64,
}

pub async fn add_member(
    tx: &mut Tx,
    group_id: &GroupId,
    account_id: &AccountId,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT OR IGNORE INTO memberships (group_id, account_id, created_at, sort_name, state)
         SELECT ?, id, ?, sort_name, state FROM accounts WHERE id = ?",
    )
    .bind(group_id.as_str())
    .bind(now)
    .bind(account_id.as_str())
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

/// Every group an account is in, Developers included (every account is
/// in it, G2), system groups first, then by name.
pub async fn rows_of_account(
    e: impl SqliteExecutor<'_>,
    account_id: &str,
) -> Result<Vec<GroupRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, name, description, kind, external_id, member_count, version FROM groups
         WHERE id = 'developers'
            OR id IN (SELECT m.group_id FROM memberships m WHERE m.account_id = ?)
         ORDER BY kind <> 'system', name_key",
    )
    .bind(account_id)
    .fetch_all(e)
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
        (!a.kind.is_system(), &a.name_key, &a.id).cmp(&(!b.kind.is_system(), &b.name_key, &b.id))
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

// ---- the management API's list (SPEC M4) ---------------------------------------

fn group_column(f: GroupField) -> &'static str {
    match f {
        GroupField::Name => "g.id",
        GroupField::DisplayName => "g.name",
        GroupField::Description => "g.description",
        GroupField::ExternalId => "g.external_id",
    }
}

/// `limit` groups from `offset`, system groups first, then by name; with
/// their number in all.
pub async fn filtered(
    e: &mut sqlx::SqliteConnection,
    filter: Option<&query::Filter<GroupField>>,
    offset: i64,
    limit: i64,
) -> Result<(Vec<GroupRow>, i64), sqlx::Error> {
    let push_where = |qb: &mut QueryBuilder<Sqlite>| {
        qb.push(" FROM groups g WHERE 1 = 1");
        if let Some(f) = filter {
            qb.push(" AND ");
            super::query::push_filter(qb, f, &group_column);
        }
    };
    let mut qb = QueryBuilder::<Sqlite>::new(
        "SELECT g.id, g.name, g.description, g.kind, g.external_id, g.member_count, g.version",
    );
    push_where(&mut qb);
    qb.push(" ORDER BY g.kind <> 'system', g.name_key, g.id LIMIT ")
        .push_bind(limit)
        .push(" OFFSET ")
        .push_bind(offset);
    let rows = qb.build_query_as().fetch_all(&mut *e).await?;
    let mut qb = QueryBuilder::<Sqlite>::new("SELECT count(*)");
    push_where(&mut qb);
    let count = qb.build_query_scalar().fetch_one(&mut *e).await?;
    Ok((rows, count))
}
