use sqlx::{Database, Encode, FromRow, QueryBuilder, Type};

use super::backend::push_limit;
use super::{Exec, Tx};
use crate::domain::ids::ProductId;
use crate::domain::product::ProductSettings;
use crate::domain::product::ProductState;
use crate::domain::query::{self, ProductField};
use crate::{execute, on_pool, run, run_built, sql};

#[derive(Debug, Clone, FromRow)]
pub struct ProductRow {
    #[sqlx(try_from = "String")]
    pub id: ProductId,
    pub name: String,
    pub description: String,
    pub terms: String,
    pub subscription_required: bool,
    pub approval_required: bool,
    pub subscriptions_limit: Option<i64>,
    #[sqlx(try_from = "String")]
    pub state: ProductState,
    pub created_at: i64,
    pub version: i64,
}

impl ProductRow {
    pub fn published(&self) -> bool {
        self.state.is_published()
    }
}

#[derive(Debug, Clone, FromRow)]
pub struct ProductListRow {
    #[sqlx(try_from = "String")]
    pub id: ProductId,
    pub name: String,
    pub name_key: String,
    #[sqlx(try_from = "String")]
    pub state: ProductState,
    /// Display names of the groups that may see it, joined by U+001F.
    pub group_names: Option<String>,
}

/// The columns of a `ProductRow`.
macro_rules! columns {
    () => {
        "id, name, description, terms, subscription_required, approval_required,
         subscriptions_limit, state, created_at, version"
    };
}
pub(super) use columns;

pub async fn get<'c>(e: impl Exec<'c>, id: &str) -> Result<Option<ProductRow>, sqlx::Error> {
    run!(
        e,
        sql!(concat!(
            "SELECT ",
            columns!(),
            " FROM products WHERE id = ?"
        )),
        |x, q| sqlx::query_as(q).bind(id).fetch_optional(x).await
    )
}

pub async fn name_taken<'c>(
    e: impl Exec<'c>,
    key: &str,
    except: &str,
) -> Result<bool, sqlx::Error> {
    run!(
        e,
        sql!("SELECT EXISTS (SELECT 1 FROM products WHERE name_key = ? AND id <> ?)"),
        |x, q| sqlx::query_scalar(q)
            .bind(key)
            .bind(except)
            .fetch_one(x)
            .await
    )
}

fn state_of(p: &ProductSettings) -> &'static str {
    ProductState::of(p.published).as_str()
}

pub async fn insert(
    tx: &mut Tx,
    id: &str,
    p: &ProductSettings,
    now: i64,
) -> Result<(), sqlx::Error> {
    execute!(
        tx,
        sql!(
            "INSERT INTO products (id, name, name_key, description, terms, subscription_required,
                approval_required, subscriptions_limit, state, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ),
        id,
        &p.name,
        p.name_key(),
        &p.description,
        &p.terms,
        p.subscription_required,
        p.approval_required,
        p.subscriptions_limit,
        state_of(p),
        now
    )?;
    Ok(())
}

pub async fn update(tx: &mut Tx, id: &str, p: &ProductSettings) -> Result<(), sqlx::Error> {
    execute!(
        tx,
        sql!(
            "UPDATE products SET name = ?, name_key = ?, description = ?, terms = ?, subscription_required = ?,
                approval_required = ?, subscriptions_limit = ?, state = ?, version = version + 1
             WHERE id = ?"
        ),
        &p.name,
        p.name_key(),
        &p.description,
        &p.terms,
        p.subscription_required,
        p.approval_required,
        p.subscriptions_limit,
        state_of(p),
        id
    )?;
    Ok(())
}

pub async fn set_state(tx: &mut Tx, id: &str, state: &str) -> Result<(), sqlx::Error> {
    execute!(
        tx,
        sql!("UPDATE products SET state = ?, version = version + 1 WHERE id = ?"),
        state,
        id
    )?;
    Ok(())
}

pub async fn delete(tx: &mut Tx, id: &str) -> Result<(), sqlx::Error> {
    execute!(tx, sql!("DELETE FROM products WHERE id = ?"), id)?;
    Ok(())
}

/// Subscriptions that go with a product (for the delete page).
pub async fn subscription_count<'c>(e: impl Exec<'c>, id: &str) -> Result<i64, sqlx::Error> {
    run!(
        e,
        sql!("SELECT count(*) FROM subscriptions WHERE product_id = ?"),
        |x, q| sqlx::query_scalar(q).bind(id).fetch_one(x).await
    )
}

/// The Products tab's page in name order, for database `DB` (`pg`: PostgreSQL).
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
        "SELECT p.id, p.name, p.name_key, p.state,
                (SELECT string_agg(g.name, chr(31) ORDER BY pg.group_id) FROM product_groups pg JOIN groups g ON g.id = pg.group_id
                 WHERE pg.product_id = p.id) AS group_names
         FROM products p WHERE 1 = 1"
    } else {
        "SELECT p.id, p.name, p.name_key, p.state,
                (SELECT group_concat(g.name, char(31) ORDER BY pg.group_id) FROM product_groups pg JOIN groups g ON g.id = pg.group_id
                 WHERE pg.product_id = p.id) AS group_names
         FROM products p WHERE 1 = 1"
    });
    if let Some(s) = search {
        // instr/strpos, not LIKE: SQLite compiles a statement again whenever
        // a LIKE pattern's binding changes (it might allow an index).
        qb.push(if pg {
            " AND strpos(p.name_key, "
        } else {
            " AND instr(p.name_key, "
        })
        .push_bind(s.to_lowercase())
        .push(") > 0");
    }
    if let Some((key, id)) = after {
        qb.push(" AND (p.name_key, p.id) > (")
            .push_bind(key.to_owned())
            .push(", ")
            .push_bind(id.to_owned())
            .push(")");
    }
    qb.push(" ORDER BY p.name_key, p.id LIMIT ");
    push_limit(&mut qb, pg, limit + 1);
    qb
}

/// One page of the Products tab in name order.
pub async fn list<'c>(
    e: impl Exec<'c>,
    search: Option<&str>,
    after: Option<(&str, &str)>,
    limit: i64,
) -> Result<Vec<ProductListRow>, sqlx::Error> {
    // Prepared unless searched, as the Groups tab's page.
    run_built!(e, |pg| list_query(pg, search, after, limit), |qb, x| qb
        .build_query_as()
        .persistent(!pg || search.is_none())
        .fetch_all(x)
        .await)
}

/// Every product, for an administrator's view (who sees all of them).
pub async fn all_names<'c>(
    e: impl Exec<'c>,
) -> Result<Vec<(String, String, String, String)>, sqlx::Error> {
    run!(
        e,
        sql!("SELECT id, name, description, state FROM products ORDER BY name_key, id"),
        |x, q| sqlx::query_as(q).fetch_all(x).await
    )
}

// ---- the management API's list (SPEC M4) ---------------------------------------

fn product_column(f: ProductField) -> &'static str {
    match f {
        ProductField::Name => "p.id",
        ProductField::DisplayName => "p.name",
        ProductField::Description => "p.description",
        ProductField::Terms => "p.terms",
        ProductField::State => "p.state",
    }
}

/// The management API's list of products, for either database.
fn filtered_query<DB: Database>(
    select: &str,
    filter: Option<&query::Filter<ProductField>>,
    page: Option<(i64, i64)>,
) -> QueryBuilder<DB>
where
    for<'t> String: Encode<'t, DB> + Type<DB>,
    for<'t> i64: Encode<'t, DB> + Type<DB>,
{
    let mut qb = QueryBuilder::<DB>::new(select);
    qb.push(" FROM products p WHERE 1 = 1");
    super::query::push_filter_and_page(&mut qb, filter, &product_column, "p.name_key, p.id", page);
    qb
}

const FILTERED_COLUMNS: &str =
    "SELECT p.id, p.name, p.description, p.terms, p.subscription_required, p.approval_required,
                p.subscriptions_limit, p.state, p.created_at, p.version";

/// `limit` products from `offset` in name order, with their number in all.
pub async fn filtered(
    db: &super::Db,
    filter: Option<&query::Filter<ProductField>>,
    offset: i64,
    limit: i64,
) -> Result<(Vec<ProductRow>, i64), sqlx::Error> {
    on_pool!(db, |x| {
        let mut rows = filtered_query(FILTERED_COLUMNS, filter, Some((offset, limit)));
        let mut count = filtered_query("SELECT count(*)", filter, None);
        Ok((
            rows.build_query_as().fetch_all(x).await?,
            count.build_query_scalar().fetch_one(x).await?,
        ))
    })
}
