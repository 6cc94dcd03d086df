use sqlx::{Database, Encode, FromRow, QueryBuilder, Type};

use super::backend::push_limit;
use super::{Exec, Tx};
use crate::domain::group::GroupKind;
use crate::domain::ids::{AccountId, GroupId};
use crate::domain::query::{self, GroupField};
use crate::{execute, on_pool, run, run_built, sql};

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
    /// An external group's identity provider (G7).
    #[sqlx(default)]
    #[serde(default)]
    pub provider: Option<String>,
}

pub async fn add_member(
    tx: &mut Tx,
    group_id: &GroupId,
    account_id: &AccountId,
    now: i64,
) -> Result<(), sqlx::Error> {
    execute!(
        tx,
        sql!(
            "INSERT INTO memberships (group_id, account_id, created_at, sort_name, state)
             SELECT ?, id, ?, sort_name, state FROM accounts WHERE id = ?
             ON CONFLICT DO NOTHING"
        ),
        group_id.as_str(),
        now,
        account_id.as_str()
    )?;
    Ok(())
}

/// The groups an account is an explicit member of (Developers is implicit).
pub async fn of_account<'c>(
    e: impl Exec<'c>,
    account_id: &str,
) -> Result<Vec<GroupRef>, sqlx::Error> {
    run!(
        e,
        sql!(
            "SELECT g.id, g.name, g.kind FROM accounts a
             JOIN memberships m ON m.sort_name = a.sort_name AND m.account_id = a.id
             JOIN groups g ON g.id = m.group_id
             WHERE a.id = ? ORDER BY g.name_key"
        ),
        |x, q| sqlx::query_as(q).bind(account_id).fetch_all(x).await
    )
}

pub async fn get<'c>(e: impl Exec<'c>, id: &str) -> Result<Option<GroupRow>, sqlx::Error> {
    run!(
        e,
        sql!(
            "SELECT id, name, description, kind, external_id, member_count, version FROM groups WHERE id = ?"
        ),
        |x, q| sqlx::query_as(q).bind(id).fetch_optional(x).await
    )
}

/// Every group an account is in, Developers included (every account is
/// in it, G2), system groups first, then by name.
pub async fn rows_of_account<'c>(
    e: impl Exec<'c>,
    account_id: &str,
) -> Result<Vec<GroupRow>, sqlx::Error> {
    run!(
        e,
        sql!(
            "SELECT id, name, description, kind, external_id, member_count, version FROM groups
             WHERE id = 'developers'
                OR id IN (SELECT m.group_id FROM memberships m WHERE m.account_id = ?)
             ORDER BY kind <> 'system', name_key"
        ),
        |x, q| sqlx::query_as(q).bind(account_id).fetch_all(x).await
    )
}

/// The custom groups of a picker (the Add to group menu) in name order, or
/// `None` when there are more than `limit`: then nothing is read but a count
/// that stops at `limit + 1`, so a programme with 1,000 groups pays nothing
/// for the menu it does not get.
pub async fn custom_up_to<'c>(
    e: impl Exec<'c>,
    limit: i64,
) -> Result<Option<Vec<GroupRef>>, sqlx::Error> {
    // As one JSON row: every Users page asks for this menu (see accounts::list).
    let json: Option<String> = run!(
        e,
        sql!(
            sqlite: "SELECT CASE WHEN (SELECT count(*) FROM (SELECT 1 FROM groups WHERE kind = 'custom' LIMIT ?1 + 1)) > ?1
                    THEN NULL
                    ELSE (SELECT coalesce(json_group_array(json_object('id', id, 'name', name, 'kind', kind)), '[]')
                          FROM (SELECT id, name, kind FROM groups WHERE kind = 'custom' ORDER BY name_key))
                    END",
            pg: "SELECT CASE WHEN (SELECT count(*) FROM (SELECT 1 FROM groups WHERE kind = 'custom' LIMIT $1 + 1) AS c) > $1
                THEN NULL
                ELSE (SELECT coalesce(json_agg(json_build_object('id', id, 'name', name, 'kind', kind)
                                               ORDER BY name_key), '[]')::text
                      FROM groups WHERE kind = 'custom')
                END"
        ),
        |x, q| sqlx::query_scalar(q).bind(limit).fetch_one(x).await
    )?;
    let Some(json) = json else { return Ok(None) };
    let mut groups: Vec<GroupRef> =
        serde_json::from_str(&json).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    groups.sort_by_cached_key(|g| g.name.to_lowercase());
    Ok(Some(groups))
}

/// A group by its display name, compared case-insensitively.
pub async fn by_name<'c>(e: impl Exec<'c>, name: &str) -> Result<Option<GroupRow>, sqlx::Error> {
    let key = name.trim().to_lowercase();
    run!(
        e,
        sql!(
            "SELECT id, name, description, kind, external_id, member_count, version FROM groups WHERE name_key = ?"
        ),
        |x, q| sqlx::query_as(q).bind(&key).fetch_optional(x).await
    )
}

/// Every group, system ones first, then by name (the Access control tab).
pub async fn all<'c>(e: impl Exec<'c>) -> Result<Vec<GroupRef>, sqlx::Error> {
    run!(
        e,
        sql!("SELECT id, name, kind FROM groups ORDER BY kind <> 'system', name_key"),
        |x, q| sqlx::query_as(q).fetch_all(x).await
    )
}

/// The Groups tab's page, for database `DB` (`pg`: PostgreSQL, as rows; SQLite, as one JSON row).
fn list_query<DB: Database>(
    pg: bool,
    search: Option<&str>,
    after: Option<(&str, &str)>,
    limit: i64,
) -> QueryBuilder<DB>
where
    for<'t> String: Encode<'t, DB> + Type<DB>,
    for<'t> i64: Encode<'t, DB> + Type<DB>,
{
    let mut qb = QueryBuilder::<DB>::new(if pg {
        // Rows: building JSON costs PostgreSQL more than sending them.
        "SELECT id, name, name_key, description, kind, member_count,
                (SELECT count(*) FROM product_groups pg WHERE pg.group_id = page.id) AS product_count,
                CASE WHEN page.kind = 'external'
                    THEN (SELECT p.name FROM identity_providers p WHERE p.id = page.provider_id) END AS provider
         FROM (SELECT g.id, g.name, g.name_key, g.description, g.kind, g.member_count, g.provider_id
               FROM groups g WHERE 1 = 1"
    } else {
        "SELECT coalesce(json_group_array(json_object('id', id, 'name', name, 'name_key', name_key,
                'description', description, 'kind', kind, 'member_count', member_count,
                'product_count', (SELECT count(*) FROM product_groups pg WHERE pg.group_id = page.id),
                'provider', CASE WHEN page.kind = 'external'
                    THEN (SELECT p.name FROM identity_providers p WHERE p.id = page.provider_id) END)), '[]')
         FROM (SELECT g.id, g.name, g.name_key, g.description, g.kind, g.member_count, g.provider_id
               FROM groups g WHERE 1 = 1"
    });
    if let Some(s) = search {
        // instr/strpos, not LIKE: SQLite compiles a statement again whenever
        // a LIKE pattern's binding changes (it might allow an index).
        qb.push(if pg {
            " AND strpos(g.name_key, "
        } else {
            " AND instr(g.name_key, "
        })
        .push_bind(s.to_lowercase())
        .push(") > 0");
    }
    if let Some((key, id)) = after {
        qb.push(if pg {
            " AND (g.kind <> 'system', g.name_key, g.id) > (true, "
        } else {
            " AND (g.kind <> 'system', g.name_key, g.id) > (1, "
        })
        .push_bind(key.to_owned())
        .push(", ")
        .push_bind(id.to_owned())
        .push(")");
    }
    qb.push(" ORDER BY g.kind <> 'system', g.name_key, g.id LIMIT ");
    push_limit(&mut qb, pg, limit + 1);
    qb.push(") AS page");
    qb
}

/// One page of the Groups tab in name order, after `after` (a name key).
pub async fn list<'c>(
    e: impl Exec<'c>,
    search: Option<&str>,
    after: Option<(&str, &str)>,
    limit: i64,
) -> Result<Vec<GroupListRow>, sqlx::Error> {
    // System groups first, then by name: the order of the listing index
    // (migration 0003), walked from the cursor; on SQLite the page comes
    // back as one JSON row.
    // Prepared unless searched (PostgreSQL plans a search for its text each
    // time): planning the page's JSON took longer than running it.
    let mut rows: Vec<GroupListRow> =
        run_built!(e, |pg| list_query(pg, search, after, limit), |qb, x| {
            let built = qb.build().persistent(!pg || search.is_none());
            if pg {
                built
                    .fetch_all(x)
                    .await?
                    .iter()
                    .map(sqlx::FromRow::from_row)
                    .collect::<Result<Vec<_>, sqlx::Error>>()
            } else {
                let json: String = sqlx::Row::try_get(&built.fetch_one(x).await?, 0)?;
                serde_json::from_str(&json).map_err(|e| sqlx::Error::Decode(Box::new(e)))
            }
        })?;
    // Nothing promises the JSON array keeps the subquery's order: restore it.
    rows.sort_by(|a, b| {
        (!a.kind.is_system(), &a.name_key, &a.id).cmp(&(!b.kind.is_system(), &b.name_key, &b.id))
    });
    Ok(rows)
}

pub async fn name_taken<'c>(
    e: impl Exec<'c>,
    key: &str,
    except: &str,
) -> Result<bool, sqlx::Error> {
    run!(
        e,
        sql!("SELECT EXISTS (SELECT 1 FROM groups WHERE name_key = ? AND id <> ?)"),
        |x, q| sqlx::query_scalar(q)
            .bind(key)
            .bind(except)
            .fetch_one(x)
            .await
    )
}

pub async fn insert(
    tx: &mut Tx,
    id: &str,
    name: &str,
    description: Option<&str>,
    now: i64,
) -> Result<(), sqlx::Error> {
    execute!(
        tx,
        sql!(
            "INSERT INTO groups (id, name, name_key, description, kind, created_at) VALUES (?, ?, ?, ?, 'custom', ?)"
        ),
        id,
        name,
        name.to_lowercase(),
        description,
        now
    )?;
    Ok(())
}

pub async fn update(
    tx: &mut Tx,
    id: &str,
    name: &str,
    description: Option<&str>,
) -> Result<(), sqlx::Error> {
    execute!(
        tx,
        sql!(
            "UPDATE groups SET name = ?, name_key = ?, description = ?, version = version + 1
             WHERE id = ? AND kind <> 'system'"
        ),
        name,
        name.to_lowercase(),
        description,
        id
    )?;
    Ok(())
}

/// Memberships and product grants that go with a group (for the delete page).
pub async fn dependants<'c>(e: impl Exec<'c>, id: &str) -> Result<(i64, i64), sqlx::Error> {
    run!(
        e,
        sql!(
            "SELECT (SELECT member_count FROM groups WHERE id = ?1),
                    (SELECT count(*) FROM product_groups WHERE group_id = ?1)"
        ),
        |x, q| sqlx::query_as(q).bind(id).fetch_one(x).await
    )
}

pub async fn delete(tx: &mut Tx, id: &str) -> Result<bool, sqlx::Error> {
    let n = execute!(
        tx,
        sql!("DELETE FROM groups WHERE id = ? AND kind = 'custom'"),
        id
    )?;
    Ok(n == 1)
}

/// Which of `ids` are members of the group.
pub async fn members_among<'c>(
    e: impl Exec<'c>,
    group_id: &str,
    ids: &[String],
) -> Result<Vec<String>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids = serde_json::to_string(ids).unwrap_or_default();
    run!(
        e,
        sql!(
            sqlite: "SELECT account_id FROM memberships WHERE group_id = ? AND account_id IN (SELECT value FROM json_each(?))",
            pg: "SELECT account_id FROM memberships WHERE group_id = $1 AND account_id IN (SELECT json_array_elements_text($2::json))"
        ),
        |x, q| sqlx::query_scalar(q)
            .bind(group_id)
            .bind(&ids)
            .fetch_all(x)
            .await
    )
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

/// The management API's list of groups, for either database.
fn filtered_query<DB: Database>(
    select: &str,
    filter: Option<&query::Filter<GroupField>>,
    page: Option<(i64, i64)>,
) -> QueryBuilder<DB>
where
    for<'t> String: Encode<'t, DB> + Type<DB>,
    for<'t> i64: Encode<'t, DB> + Type<DB>,
{
    let mut qb = QueryBuilder::<DB>::new(select);
    qb.push(" FROM groups g WHERE 1 = 1");
    super::query::push_filter_and_page(
        &mut qb,
        filter,
        &group_column,
        "g.kind <> 'system', g.name_key, g.id",
        page,
    );
    qb
}

const FILTERED_COLUMNS: &str =
    "SELECT g.id, g.name, g.description, g.kind, g.external_id, g.member_count, g.version";

/// `limit` groups from `offset`, system groups first, then by name; with
/// their number in all.
pub async fn filtered(
    db: &super::Db,
    filter: Option<&query::Filter<GroupField>>,
    offset: i64,
    limit: i64,
) -> Result<(Vec<GroupRow>, i64), sqlx::Error> {
    on_pool!(db, |x| {
        let mut rows = filtered_query(FILTERED_COLUMNS, filter, Some((offset, limit)));
        let mut count = filtered_query("SELECT count(*)", filter, None);
        Ok((
            rows.build_query_as().fetch_all(x).await?,
            count.build_query_scalar().fetch_one(x).await?,
        ))
    })
}
