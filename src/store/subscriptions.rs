//! Subscriptions and their keys (SPEC S1, S2). Keys are found by their
//! SHA-256 (`domain::subscription::key_hash`), never by the key itself.

use crate::domain::ids::{AccountId, ProductId, SubscriptionId};
use sqlx::{FromRow, QueryBuilder, Sqlite, SqliteExecutor, SqlitePool};

use super::Tx;
use crate::domain::AccountState;
use crate::domain::product::ProductState;
use crate::domain::query::{self, SubscriptionField};
use crate::domain::subscription::SubscriptionState;
use crate::domain::subscription::{KeySlot, key_hash};

/// A subscription with the names people read.
#[derive(Debug, Clone, FromRow)]
pub struct SubscriptionRow {
    #[sqlx(try_from = "String")]
    pub id: SubscriptionId,
    #[sqlx(try_from = "String")]
    pub account_id: AccountId,
    pub account_email: String,
    pub account_name: String,
    #[sqlx(try_from = "String")]
    pub product_id: ProductId,
    pub product_name: String,
    pub display_name: String,
    pub primary_key: String,
    pub secondary_key: String,
    #[sqlx(try_from = "String")]
    pub state: SubscriptionState,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

const SELECT: &str = "SELECT s.id, s.account_id, a.email AS account_email,
        a.first_name || ' ' || a.last_name AS account_name, s.product_id, p.name AS product_name,
        s.display_name, s.primary_key, s.secondary_key, s.state, s.created_at, s.updated_at, s.version
    FROM subscriptions s JOIN accounts a ON a.id = s.account_id JOIN products p ON p.id = s.product_id";

pub struct NewSubscription<'a> {
    pub id: &'a SubscriptionId,
    pub account_id: &'a AccountId,
    pub product_id: &'a ProductId,
    pub display_name: &'a str,
    pub primary_key: &'a str,
    pub secondary_key: &'a str,
    pub state: &'a str,
    pub now: i64,
}

pub async fn insert(tx: &mut Tx, s: &NewSubscription<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO subscriptions (id, account_id, product_id, display_name, primary_key,
             secondary_key, primary_key_hash, secondary_key_hash, state, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(s.id.as_str())
    .bind(s.account_id.as_str())
    .bind(s.product_id.as_str())
    .bind(s.display_name)
    .bind(s.primary_key)
    .bind(s.secondary_key)
    .bind(&key_hash(s.primary_key)[..])
    .bind(&key_hash(s.secondary_key)[..])
    .bind(s.state)
    .bind(s.now)
    .bind(s.now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The account's subscriptions to the product that count against its limit.
pub async fn count_open(
    tx: &mut Tx,
    account_id: &AccountId,
    product_id: &ProductId,
) -> Result<i64, sqlx::Error> {
    let (account_id, product_id) = (account_id.as_str(), product_id.as_str());
    sqlx::query_scalar(
        "SELECT count(*) FROM subscriptions WHERE account_id = ? AND product_id = ?
           AND state IN ('submitted', 'active', 'suspended')",
    )
    .bind(account_id)
    .bind(product_id)
    .fetch_one(&mut **tx)
    .await
}

pub async fn get(
    e: impl SqliteExecutor<'_>,
    id: &str,
) -> Result<Option<SubscriptionRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE s.id = ?")))
        .bind(id)
        .fetch_optional(e)
        .await
}

/// Newest first, every state.
pub async fn of_account(
    e: impl SqliteExecutor<'_>,
    account_id: &str,
) -> Result<Vec<SubscriptionRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE s.account_id = ? ORDER BY s.created_at DESC, s.id DESC"
    )))
    .bind(account_id)
    .fetch_all(e)
    .await
}

/// A page of a product's subscriptions, newest first, optionally of one
/// state, starting after `after` = (created_at, id) of the previous page's
/// last row. Returns up to `limit` rows.
pub async fn of_product(
    e: impl SqliteExecutor<'_>,
    product_id: &str,
    state: Option<&str>,
    after: Option<(i64, &str)>,
    limit: i64,
) -> Result<Vec<SubscriptionRow>, sqlx::Error> {
    let mut qb = QueryBuilder::<Sqlite>::new(SELECT);
    qb.push(" WHERE s.product_id = ").push_bind(product_id);
    if let Some(state) = state {
        qb.push(" AND s.state = ").push_bind(state);
    }
    if let Some((at, id)) = after {
        qb.push(" AND (s.created_at, s.id) < (")
            .push_bind(at)
            .push(", ")
            .push_bind(id)
            .push(")");
    }
    qb.push(" ORDER BY s.created_at DESC, s.id DESC LIMIT ")
        .push_bind(limit);
    qb.build_query_as().fetch_all(e).await
}

/// Changes the state only from `from`, so two administrators acting at once
/// cannot both apply a transition; false when it was not in `from`.
pub async fn set_state(
    tx: &mut Tx,
    id: &str,
    from: &str,
    to: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE subscriptions SET state = ?, updated_at = ?, version = version + 1
         WHERE id = ? AND state = ?",
    )
    .bind(to)
    .bind(now)
    .bind(id)
    .bind(from)
    .execute(&mut **tx)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn set_key(
    tx: &mut Tx,
    id: &str,
    slot: KeySlot,
    key: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let sql = match slot {
        KeySlot::Primary => {
            "UPDATE subscriptions SET primary_key = ?, primary_key_hash = ?, updated_at = ?,
                 version = version + 1 WHERE id = ?"
        }
        KeySlot::Secondary => {
            "UPDATE subscriptions SET secondary_key = ?, secondary_key_hash = ?, updated_at = ?,
                 version = version + 1 WHERE id = ?"
        }
    };
    let r = sqlx::query(sql)
        .bind(key)
        .bind(&key_hash(key)[..])
        .bind(now)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Everything the key check (S2) needs about the subscription a key belongs to.
#[derive(Debug, Clone, FromRow)]
pub struct KeyOwner {
    #[sqlx(try_from = "String")]
    pub subscription_id: SubscriptionId,
    #[sqlx(try_from = "String")]
    pub account_id: AccountId,
    #[sqlx(try_from = "String")]
    pub product_id: ProductId,
    #[sqlx(try_from = "String")]
    pub subscription_state: SubscriptionState,
    #[sqlx(try_from = "String")]
    pub account_state: AccountState,
    #[sqlx(try_from = "String")]
    pub product_state: ProductState,
}

pub async fn key_owner(
    e: impl SqliteExecutor<'_>,
    hash: &[u8],
) -> Result<Option<KeyOwner>, sqlx::Error> {
    sqlx::query_as(
        "SELECT s.id AS subscription_id, s.account_id, s.product_id,
                s.state AS subscription_state, a.state AS account_state, p.state AS product_state
         FROM subscriptions s JOIN accounts a ON a.id = s.account_id JOIN products p ON p.id = s.product_id
         WHERE s.id = coalesce(
             (SELECT id FROM subscriptions WHERE primary_key_hash = ?1),
             (SELECT id FROM subscriptions WHERE secondary_key_hash = ?1))",
    )
    .bind(hash)
    .fetch_optional(e)
    .await
}

/// Gives rows written before key hashes existed (migration 0002) theirs.
pub async fn backfill_key_hashes(pool: &SqlitePool) -> Result<u64, sqlx::Error> {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT id, primary_key, secondary_key FROM subscriptions
         WHERE primary_key_hash IS NULL OR secondary_key_hash IS NULL",
    )
    .fetch_all(pool)
    .await?;
    if rows.is_empty() {
        return Ok(0);
    }
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    for (id, primary, secondary) in &rows {
        sqlx::query(
            "UPDATE subscriptions SET primary_key_hash = ?, secondary_key_hash = ? WHERE id = ?",
        )
        .bind(&key_hash(primary)[..])
        .bind(&key_hash(secondary)[..])
        .bind(id)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(rows.len() as u64)
}

pub async fn set_display_name(tx: &mut Tx, id: &str, name: &str) -> Result<bool, sqlx::Error> {
    let now = tx.now();
    let r = sqlx::query(
        "UPDATE subscriptions SET display_name = ?, updated_at = ?, version = version + 1 WHERE id = ?",
    )
    .bind(name)
    .bind(now)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn delete(tx: &mut Tx, id: &str) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("DELETE FROM subscriptions WHERE id = ?")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(r.rows_affected() == 1)
}

// ---- the management API's lists (SPEC M4) --------------------------------------

/// Whose subscriptions a list holds.
pub enum Of<'a> {
    Everyone,
    Account(&'a str),
    Product(&'a str),
}

fn column(f: SubscriptionField) -> &'static str {
    match f {
        SubscriptionField::Name => "s.id",
        SubscriptionField::DisplayName => "s.display_name",
        SubscriptionField::State => "s.state",
        SubscriptionField::UserId => "s.account_id",
        SubscriptionField::ProductId => "s.product_id",
    }
}

/// `limit` subscriptions from `offset`, oldest first, with their number in all.
pub async fn filtered(
    e: &mut sqlx::SqliteConnection,
    of: &Of<'_>,
    filter: Option<&query::Filter<SubscriptionField>>,
    offset: i64,
    limit: i64,
) -> Result<(Vec<SubscriptionRow>, i64), sqlx::Error> {
    let push_where = |qb: &mut QueryBuilder<Sqlite>| {
        qb.push(" WHERE 1 = 1");
        match of {
            Of::Everyone => {}
            Of::Account(id) => {
                qb.push(" AND s.account_id = ").push_bind(id.to_string());
            }
            Of::Product(id) => {
                qb.push(" AND s.product_id = ").push_bind(id.to_string());
            }
        }
        if let Some(f) = filter {
            qb.push(" AND ");
            super::query::push_filter(qb, f, &column);
        }
    };
    let mut qb = QueryBuilder::<Sqlite>::new(SELECT);
    push_where(&mut qb);
    qb.push(" ORDER BY s.created_at, s.id LIMIT ")
        .push_bind(limit)
        .push(" OFFSET ")
        .push_bind(offset);
    let rows = qb.build_query_as().fetch_all(&mut *e).await?;
    let mut qb = QueryBuilder::<Sqlite>::new("SELECT count(*) FROM subscriptions s");
    push_where(&mut qb);
    let count = qb.build_query_scalar().fetch_one(&mut *e).await?;
    Ok((rows, count))
}
