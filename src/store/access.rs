//! Which groups may see which product (P2): the `product_groups` table,
//! read and written for Access control and for the visibility rule (P3).

use crate::domain::ids::{GroupId, ProductId};
use sqlx::FromRow;

use super::backend::On;
use super::groups::GroupRef;
use super::products::{ProductRow, columns};
use super::{Exec, Tx};
use crate::domain::product::ProductState;
use crate::{execute, run, sql};

#[derive(Debug, Clone, FromRow, serde::Deserialize)]
pub struct GrantRow {
    #[sqlx(try_from = "String")]
    pub product_id: ProductId,
    pub product_name: String,
    pub description: String,
    #[sqlx(try_from = "String")]
    pub state: ProductState,
    #[sqlx(try_from = "String")]
    pub group_id: GroupId,
    pub group_name: String,
}

/// The groups that may see a product (P2).
pub async fn access_groups<'c>(
    e: impl Exec<'c>,
    product_id: &str,
) -> Result<Vec<GroupRef>, sqlx::Error> {
    run!(
        e,
        sql!(
            "SELECT g.id, g.name, g.kind FROM product_groups pg JOIN groups g ON g.id = pg.group_id
             WHERE pg.product_id = ? ORDER BY g.kind <> 'system', g.name_key"
        ),
        |x, q| sqlx::query_as(q).bind(product_id).fetch_all(x).await
    )
}

/// Replaces a product's access set with `group_ids` (unknown ids ignored);
/// returns (granted, revoked).
pub async fn set_access(
    tx: &mut Tx,
    product_id: &str,
    group_ids: &[String],
) -> Result<(u64, u64), sqlx::Error> {
    let ids = serde_json::to_string(group_ids).unwrap_or_default();
    let revoked = execute!(
        &mut *tx,
        sql!(
            sqlite: "DELETE FROM product_groups WHERE product_id = ? AND group_id NOT IN (SELECT value FROM json_each(?))",
            pg: "DELETE FROM product_groups WHERE product_id = $1 AND group_id NOT IN (SELECT json_array_elements_text($2::json))"
        ),
        product_id,
        &ids
    )?;
    let granted = execute!(
        tx,
        sql!(
            sqlite: "INSERT INTO product_groups (product_id, group_id)
                     SELECT ?, g.id FROM groups g WHERE g.id IN (SELECT value FROM json_each(?))
                     ON CONFLICT DO NOTHING",
            pg: "INSERT INTO product_groups (product_id, group_id)
                 SELECT $1, g.id FROM groups g WHERE g.id IN (SELECT json_array_elements_text($2::json))
                 ON CONFLICT DO NOTHING"
        ),
        product_id,
        &ids
    )?;
    Ok((granted, revoked))
}

pub async fn grant(
    tx: &mut Tx,
    product_id: &ProductId,
    group_id: &GroupId,
) -> Result<bool, sqlx::Error> {
    let n = execute!(
        tx,
        sql!(
            "INSERT INTO product_groups (product_id, group_id) VALUES (?, ?) ON CONFLICT DO NOTHING"
        ),
        product_id.as_str(),
        group_id.as_str()
    )?;
    Ok(n == 1)
}

pub async fn revoke(
    tx: &mut Tx,
    product_id: &ProductId,
    group_id: &GroupId,
) -> Result<bool, sqlx::Error> {
    let n = execute!(
        tx,
        sql!("DELETE FROM product_groups WHERE product_id = ? AND group_id = ?"),
        product_id.as_str(),
        group_id.as_str()
    )?;
    Ok(n == 1)
}

/// The grants as one JSON array, with `$where` (SQLite).
macro_rules! grants_sqlite {
    ($where:literal) => {
        concat!(
            "SELECT coalesce(json_group_array(json_object(
                    'product_id', product_id, 'product_name', product_name,
                    'description', description, 'state', state,
                    'group_id', group_id, 'group_name', group_name)), '[]')
             FROM (SELECT p.id AS product_id, p.name AS product_name, p.description, p.state,
                          g.id AS group_id, g.name AS group_name
                   FROM product_groups pg JOIN products p ON p.id = pg.product_id
                   JOIN groups g ON g.id = pg.group_id",
            $where,
            " ORDER BY p.name_key, p.id, g.kind <> 'system', g.name_key)"
        )
    };
}

/// The same for PostgreSQL, as rows: building JSON costs PostgreSQL more
/// than sending them, and its driver reads rows cheaply.
macro_rules! grants_pg {
    ($where:literal) => {
        concat!(
            "SELECT p.id AS product_id, p.name AS product_name, p.description, p.state,
                    g.id AS group_id, g.name AS group_name
             FROM product_groups pg JOIN products p ON p.id = pg.product_id
             JOIN groups g ON g.id = pg.group_id",
            $where,
            " ORDER BY p.name_key, p.id, g.kind <> 'system', g.name_key"
        )
    };
}

/// Every grant of a product to one of `group_ids` (all grants when `None`),
/// in product name order: the raw material of "what can this viewer see".
/// On SQLite the rows come back as one JSON array: the driver copies every
/// value of every row on its own, and a developer in 20 groups has about a
/// hundred grants.
pub async fn grants_to<'c>(
    e: impl Exec<'c>,
    group_ids: Option<&[String]>,
) -> Result<Vec<GrantRow>, sqlx::Error> {
    // Two statements, not one with an optional filter: each keeps the plan
    // that suits it (SQLite keeps a statement's first plan, see
    // `configure_connection`).
    let ids = group_ids.map(|ids| serde_json::to_string(ids).unwrap_or_default());
    let sql = match ids {
        Some(_) => sql!(
            sqlite: concat!(grants_sqlite!(" WHERE pg.group_id IN (SELECT value FROM json_each(?))")),
            pg: grants_pg!(" WHERE pg.group_id IN (SELECT json_array_elements_text($1::json))")
        ),
        None => sql!(sqlite: grants_sqlite!(""), pg: grants_pg!("")),
    };
    match e.on() {
        On::SqlitePool(x) => grants_json(x, sql.sqlite(), ids).await,
        On::Sqlite(x) => grants_json(x, sql.sqlite(), ids).await,
        On::PgPool(x) => grants_rows(x, sql.pg(), ids).await,
        On::Pg(x) => grants_rows(x, sql.pg(), ids).await,
    }
}

async fn grants_json<'c>(
    x: impl sqlx::Executor<'c, Database = sqlx::Sqlite>,
    sql: &'static str,
    ids: Option<String>,
) -> Result<Vec<GrantRow>, sqlx::Error> {
    let mut q = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql));
    if let Some(ids) = ids {
        q = q.bind(ids);
    }
    let json = q.fetch_one(x).await?;
    serde_json::from_str(&json).map_err(|e| sqlx::Error::Decode(e.into()))
}

async fn grants_rows<'c>(
    x: impl sqlx::Executor<'c, Database = sqlx::Postgres>,
    sql: &'static str,
    ids: Option<String>,
) -> Result<Vec<GrantRow>, sqlx::Error> {
    let mut q = sqlx::query_as::<_, GrantRow>(sqlx::AssertSqlSafe(sql));
    if let Some(ids) = ids {
        q = q.bind(ids);
    }
    q.fetch_all(x).await
}

/// A product and what its Access control page offers to tick or add.
pub struct AccessChoices {
    pub product: ProductRow,
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
    product: ProductRow,
    granted: String,
    system: String,
    candidates: String,
}

/// `None` when there is no such product.
pub async fn access_choices<'c>(
    e: impl Exec<'c>,
    product_id: &str,
    text: &str,
    limit: i64,
) -> Result<Option<AccessChoices>, sqlx::Error> {
    use crate::domain::group::{ADMINISTRATORS, DEVELOPERS, GUESTS};
    // One statement: the product and three JSON lists, one hand-off to the
    // connection's thread instead of four. System groups by id: their ids
    // are fixed. instr/strpos, not LIKE: SQLite compiles a statement again
    // whenever a LIKE pattern's binding changes (it might allow an index).
    let text = text.to_lowercase();
    let row: Option<AccessRow> = run!(
        e,
        sql!(
            sqlite: concat!(
                "SELECT ",
                columns!(),
                ",
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
                 FROM products WHERE id = ?1"
            ),
            pg: concat!(
                "SELECT ",
                columns!(),
                ",
                   (SELECT coalesce(json_agg(json_build_object('id', g.id, 'name', g.name, 'kind', g.kind)
                                             ORDER BY g.kind <> 'system', g.name_key), '[]')::text
                    FROM product_groups pg JOIN groups g ON g.id = pg.group_id
                    WHERE pg.product_id = $1) AS granted,
                   (SELECT coalesce(json_agg(json_build_object('id', s.id, 'name', s.name, 'kind', s.kind)
                                             ORDER BY s.name_key), '[]')::text
                    FROM groups s WHERE s.id IN ($4, $5, $6)) AS system,
                   (SELECT coalesce(json_agg(json_build_object('id', c.id, 'name', c.name, 'kind', c.kind)
                                             ORDER BY c.name_key), '[]')::text
                    FROM (SELECT g.id, g.name, g.kind, g.name_key FROM groups g
                          WHERE g.kind <> 'system' AND strpos(g.name_key, $2) > 0
                            AND NOT EXISTS (SELECT 1 FROM product_groups pg
                                            WHERE pg.product_id = $1 AND pg.group_id = g.id)
                          ORDER BY g.name_key LIMIT $3) c) AS candidates
                 FROM products WHERE id = $1"
            )
        ),
        |x, q| sqlx::query_as(q)
            .bind(product_id)
            .bind(&text)
            .bind(limit)
            .bind(ADMINISTRATORS)
            .bind(DEVELOPERS)
            .bind(GUESTS)
            .fetch_optional(x)
            .await
    )?;
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

/// The groups that may see a product, as whole rows (the management API's
/// product groups), system groups first, then by name.
pub async fn group_rows<'c>(
    e: impl Exec<'c>,
    product_id: &str,
) -> Result<Vec<super::groups::GroupRow>, sqlx::Error> {
    run!(
        e,
        sql!(
            "SELECT g.id, g.name, g.description, g.kind, g.external_id, g.member_count, g.version
             FROM product_groups pg JOIN groups g ON g.id = pg.group_id
             WHERE pg.product_id = ? ORDER BY g.kind <> 'system', g.name_key"
        ),
        |x, q| sqlx::query_as(q).bind(product_id).fetch_all(x).await
    )
}
