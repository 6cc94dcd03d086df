//! Subscriptions and their keys (SPEC S1, S2). Keys are found by their
//! SHA-256 (`domain::subscription::key_hash`), never by the key itself.

use crate::domain::ids::{AccountId, ProductId, SubscriptionId};
use sqlx::{Database, Encode, FromRow, QueryBuilder, SqlitePool, Type};

use super::{Exec, Tx};
use crate::domain::AccountState;
use crate::domain::product::ProductState;
use crate::domain::query::{self, SubscriptionField};
use crate::domain::subscription::SubscriptionState;
use crate::domain::subscription::{KeySlot, key_hash};
use crate::{execute, on_pool, run, run_built, sql};

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

macro_rules! select {
    () => {
        "SELECT s.id, s.account_id, a.email AS account_email,
            a.first_name || ' ' || a.last_name AS account_name, s.product_id, p.name AS product_name,
            s.display_name, s.primary_key, s.secondary_key, s.state, s.created_at, s.updated_at, s.version
        FROM subscriptions s JOIN accounts a ON a.id = s.account_id JOIN products p ON p.id = s.product_id"
    };
}
const SELECT: &str = select!();

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
    execute!(
        tx,
        sql!(
            "INSERT INTO subscriptions (id, account_id, product_id, display_name, primary_key,
                 secondary_key, primary_key_hash, secondary_key_hash, state, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ),
        s.id.as_str(),
        s.account_id.as_str(),
        s.product_id.as_str(),
        s.display_name,
        s.primary_key,
        s.secondary_key,
        &key_hash(s.primary_key)[..],
        &key_hash(s.secondary_key)[..],
        s.state,
        s.now,
        s.now
    )?;
    Ok(())
}

/// The account's subscriptions to the product that count against its limit.
pub async fn count_open(
    tx: &mut Tx,
    account_id: &AccountId,
    product_id: &ProductId,
) -> Result<i64, sqlx::Error> {
    let (account_id, product_id) = (account_id.as_str(), product_id.as_str());
    run!(
        tx,
        sql!(
            "SELECT count(*) FROM subscriptions WHERE account_id = ? AND product_id = ?
               AND state IN ('submitted', 'active', 'suspended')"
        ),
        |x, q| sqlx::query_scalar(q)
            .bind(account_id)
            .bind(product_id)
            .fetch_one(x)
            .await
    )
}

pub async fn get<'c>(e: impl Exec<'c>, id: &str) -> Result<Option<SubscriptionRow>, sqlx::Error> {
    run!(e, sql!(concat!(select!(), " WHERE s.id = ?")), |x, q| {
        sqlx::query_as(q).bind(id).fetch_optional(x).await
    })
}

/// Newest first, every state.
pub async fn of_account<'c>(
    e: impl Exec<'c>,
    account_id: &str,
) -> Result<Vec<SubscriptionRow>, sqlx::Error> {
    run!(
        e,
        sql!(concat!(
            select!(),
            " WHERE s.account_id = ? ORDER BY s.created_at DESC, s.id DESC"
        )),
        |x, q| sqlx::query_as(q).bind(account_id).fetch_all(x).await
    )
}

/// A product's page of subscriptions, for either database.
fn of_product_query<DB: Database>(
    product_id: &str,
    state: Option<&str>,
    after: Option<(i64, &str)>,
    limit: i64,
) -> QueryBuilder<DB>
where
    for<'t> String: Encode<'t, DB> + Type<DB>,
    for<'t> i64: Encode<'t, DB> + Type<DB>,
{
    let mut qb = QueryBuilder::<DB>::new(SELECT);
    qb.push(" WHERE s.product_id = ")
        .push_bind(product_id.to_owned());
    if let Some(state) = state {
        qb.push(" AND s.state = ").push_bind(state.to_owned());
    }
    if let Some((at, id)) = after {
        qb.push(" AND (s.created_at, s.id) < (")
            .push_bind(at)
            .push(", ")
            .push_bind(id.to_owned())
            .push(")");
    }
    qb.push(" ORDER BY s.created_at DESC, s.id DESC LIMIT ")
        .push_bind(limit);
    qb
}

/// A page of a product's subscriptions, newest first, optionally of one
/// state, starting after `after` = (created_at, id) of the previous page's
/// last row. Returns up to `limit` rows.
pub async fn of_product<'c>(
    e: impl Exec<'c>,
    product_id: &str,
    state: Option<&str>,
    after: Option<(i64, &str)>,
    limit: i64,
) -> Result<Vec<SubscriptionRow>, sqlx::Error> {
    run_built!(
        e,
        |pg| of_product_query(product_id, state, after, limit),
        |qb, x| qb.build_query_as().persistent(!pg).fetch_all(x).await
    )
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
    let n = execute!(
        tx,
        sql!(
            "UPDATE subscriptions SET state = ?, updated_at = ?, version = version + 1
             WHERE id = ? AND state = ?"
        ),
        to,
        now,
        id,
        from
    )?;
    Ok(n == 1)
}

pub async fn set_key(
    tx: &mut Tx,
    id: &str,
    slot: KeySlot,
    key: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let sql = match slot {
        KeySlot::Primary => sql!(
            "UPDATE subscriptions SET primary_key = ?, primary_key_hash = ?, updated_at = ?,
                 version = version + 1 WHERE id = ?"
        ),
        KeySlot::Secondary => sql!(
            "UPDATE subscriptions SET secondary_key = ?, secondary_key_hash = ?, updated_at = ?,
                 version = version + 1 WHERE id = ?"
        ),
    };
    let n = execute!(tx, sql, key, &key_hash(key)[..], now, id)?;
    Ok(n == 1)
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

pub async fn key_owner<'c>(e: impl Exec<'c>, hash: &[u8]) -> Result<Option<KeyOwner>, sqlx::Error> {
    run!(
        e,
        sql!(
            "SELECT s.id AS subscription_id, s.account_id, s.product_id,
                    s.state AS subscription_state, a.state AS account_state, p.state AS product_state
             FROM subscriptions s JOIN accounts a ON a.id = s.account_id JOIN products p ON p.id = s.product_id
             WHERE s.id = coalesce(
                 (SELECT id FROM subscriptions WHERE primary_key_hash = ?1),
                 (SELECT id FROM subscriptions WHERE secondary_key_hash = ?1))"
        ),
        |x, q| sqlx::query_as(q).bind(hash).fetch_optional(x).await
    )
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
    let n = execute!(
        tx,
        sql!(
            "UPDATE subscriptions SET display_name = ?, updated_at = ?, version = version + 1 WHERE id = ?"
        ),
        name,
        now,
        id
    )?;
    Ok(n == 1)
}

pub async fn delete(tx: &mut Tx, id: &str) -> Result<bool, sqlx::Error> {
    let n = execute!(tx, sql!("DELETE FROM subscriptions WHERE id = ?"), id)?;
    Ok(n == 1)
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

/// The management API's list of subscriptions, for either database.
fn filtered_query<DB: Database>(
    select: &str,
    of: &Of<'_>,
    filter: Option<&query::Filter<SubscriptionField>>,
    page: Option<(i64, i64)>,
) -> QueryBuilder<DB>
where
    for<'t> String: Encode<'t, DB> + Type<DB>,
    for<'t> i64: Encode<'t, DB> + Type<DB>,
{
    let mut qb = QueryBuilder::<DB>::new(select);
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
    super::query::push_filter_and_page(&mut qb, filter, &column, "s.created_at, s.id", page);
    qb
}

/// `limit` subscriptions from `offset`, oldest first, with their number in all.
pub async fn filtered(
    db: &super::Db,
    of: &Of<'_>,
    filter: Option<&query::Filter<SubscriptionField>>,
    offset: i64,
    limit: i64,
) -> Result<(Vec<SubscriptionRow>, i64), sqlx::Error> {
    const COUNT: &str = "SELECT count(*) FROM subscriptions s";
    on_pool!(db, |x| {
        let mut rows = filtered_query(SELECT, of, filter, Some((offset, limit)));
        let mut count = filtered_query(COUNT, of, filter, None);
        Ok((
            rows.build_query_as().fetch_all(x).await?,
            count.build_query_scalar().fetch_one(x).await?,
        ))
    })
}
