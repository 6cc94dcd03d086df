use sqlx::{FromRow, QueryBuilder, Sqlite, SqliteExecutor};

use super::Tx;
use crate::domain::ids::ProductId;
use crate::domain::product::ProductSettings;
use crate::domain::product::ProductState;
use crate::domain::query::{self, ProductField};

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

/// A product with one group granting it (rows of "what can this account see").
/// The columns of a `ProductRow`.
pub(crate) const COLUMNS: &str =
    "id, name, description, terms, subscription_required, approval_required,
    subscriptions_limit, state, created_at, version";

pub async fn get(e: impl SqliteExecutor<'_>, id: &str) -> Result<Option<ProductRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM products WHERE id = ?"
    )))
    .bind(id)
    .fetch_optional(e)
    .await
}

pub async fn name_taken(
    e: impl SqliteExecutor<'_>,
    key: &str,
    except: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM products WHERE name_key = ? AND id <> ?)")
        .bind(key)
        .bind(except)
        .fetch_one(e)
        .await
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
    sqlx::query(
        "INSERT INTO products (id, name, name_key, description, terms, subscription_required,
            approval_required, subscriptions_limit, state, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(id)
    .bind(&p.name)
    .bind(p.name_key())
    .bind(&p.description)
    .bind(&p.terms)
    .bind(p.subscription_required)
    .bind(p.approval_required)
    .bind(p.subscriptions_limit)
    .bind(state_of(p))
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn update(tx: &mut Tx, id: &str, p: &ProductSettings) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE products SET name = ?, name_key = ?, description = ?, terms = ?, subscription_required = ?,
            approval_required = ?, subscriptions_limit = ?, state = ?, version = version + 1
         WHERE id = ?",
    )
    .bind(&p.name)
    .bind(p.name_key())
    .bind(&p.description)
    .bind(&p.terms)
    .bind(p.subscription_required)
    .bind(p.approval_required)
    .bind(p.subscriptions_limit)
    .bind(state_of(p))
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn set_state(tx: &mut Tx, id: &str, state: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE products SET state = ?, version = version + 1 WHERE id = ?")
        .bind(state)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn delete(tx: &mut Tx, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM products WHERE id = ?")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Subscriptions that go with a product (for the delete page).
pub async fn subscription_count(e: impl SqliteExecutor<'_>, id: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM subscriptions WHERE product_id = ?")
        .bind(id)
        .fetch_one(e)
        .await
}

/// One page of the Products tab in name order.
pub async fn list(
    e: impl SqliteExecutor<'_>,
    search: Option<&str>,
    after: Option<(&str, &str)>,
    limit: i64,
) -> Result<Vec<ProductListRow>, sqlx::Error> {
    let mut qb = QueryBuilder::<Sqlite>::new(
        "SELECT p.id, p.name, p.name_key, p.state,
                (SELECT group_concat(g.name, char(31)) FROM product_groups pg JOIN groups g ON g.id = pg.group_id
                 WHERE pg.product_id = p.id) AS group_names
         FROM products p WHERE 1 = 1",
    );
    if let Some(s) = search {
        // instr, not LIKE: SQLite compiles a statement again whenever a
        // LIKE pattern's binding changes (it might allow an index).
        qb.push(" AND instr(p.name_key, ")
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
    qb.push(" ORDER BY p.name_key, p.id LIMIT ")
        .push_bind(limit + 1);
    qb.build_query_as().fetch_all(e).await
}

/// Every product, for an administrator's view (who sees all of them).
pub async fn all_names(
    e: impl SqliteExecutor<'_>,
) -> Result<Vec<(String, String, String, String)>, sqlx::Error> {
    sqlx::query_as("SELECT id, name, description, state FROM products ORDER BY name_key, id")
        .fetch_all(e)
        .await
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

/// `limit` products from `offset` in name order, with their number in all.
pub async fn filtered(
    e: &mut sqlx::SqliteConnection,
    filter: Option<&query::Filter<ProductField>>,
    offset: i64,
    limit: i64,
) -> Result<(Vec<ProductRow>, i64), sqlx::Error> {
    let push_where = |qb: &mut QueryBuilder<Sqlite>| {
        qb.push(" FROM products p WHERE 1 = 1");
        if let Some(f) = filter {
            qb.push(" AND ");
            super::query::push_filter(qb, f, &product_column);
        }
    };
    let mut qb = QueryBuilder::<Sqlite>::new(
        "SELECT p.id, p.name, p.description, p.terms, p.subscription_required, p.approval_required,
                p.subscriptions_limit, p.state, p.created_at, p.version",
    );
    push_where(&mut qb);
    qb.push(" ORDER BY p.name_key, p.id LIMIT ")
        .push_bind(limit)
        .push(" OFFSET ")
        .push_bind(offset);
    let rows = qb.build_query_as().fetch_all(&mut *e).await?;
    let mut qb = QueryBuilder::<Sqlite>::new("SELECT count(*)");
    push_where(&mut qb);
    let count = qb.build_query_scalar().fetch_one(&mut *e).await?;
    Ok((rows, count))
}
