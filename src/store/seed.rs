//! Bulk inserts for `portal seed` (demo and benchmark data). Rows go through
//! the normal tables, so the triggers keep the search index, the per-state
//! counters and the member counts right. Each statement carries many rows,
//! and every full chunk has the same SQL text, so the connection's statement
//! cache prepares it once per table.

use sqlx::query_builder::Separated;
use sqlx::{QueryBuilder, Sqlite};

use super::Exec;
use crate::{run, sql};

use super::Tx;
use crate::domain::group::ADMINISTRATORS;
use crate::domain::subscription::key_hash;

/// Rows per INSERT statement, at most; SQLite allows 32,766 bound variables
/// per statement, and 500 rows of the widest table use 4,500.
pub const ROWS_PER_STATEMENT: usize = 500;

pub struct AccountRow {
    pub id: String,
    pub email: String,
    pub email_key: String,
    pub first_name: &'static str,
    pub last_name: &'static str,
    pub sort_name: String,
    pub state: &'static str,
    pub registered_at: i64,
}

pub struct GroupRow {
    pub id: String,
    pub name: String,
    pub name_key: String,
    pub description: Option<String>,
    pub created_at: i64,
}

pub struct MembershipRow {
    pub group_id: String,
    pub account_id: String,
    pub created_at: i64,
}

pub struct ProductRow {
    pub id: String,
    pub name: String,
    pub name_key: String,
    pub description: String,
    pub subscription_required: bool,
    pub approval_required: bool,
    pub subscriptions_limit: Option<i64>,
    pub state: &'static str,
    pub created_at: i64,
}

pub struct ProductGroupRow {
    pub product_id: String,
    pub group_id: String,
}

pub struct SubscriptionRow {
    pub id: String,
    pub account_id: String,
    pub product_id: String,
    pub primary_key: String,
    pub secondary_key: String,
    pub state: &'static str,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Inserts `rows` with multi-row statements of up to `ROWS_PER_STATEMENT` rows.
async fn insert_chunked<T, F>(
    tx: &mut Tx,
    head: &'static str,
    rows: &[T],
    mut push_row: F,
) -> Result<(), sqlx::Error>
where
    F: FnMut(&mut Separated<'_, Sqlite, &'static str>, &T),
{
    let mut qb = QueryBuilder::<Sqlite>::new(head);
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        qb.reset();
        qb.push_values(chunk, |mut sep, row| push_row(&mut sep, row));
        qb.build().execute(tx.sqlite()).await?;
    }
    Ok(())
}

pub async fn insert_accounts(
    tx: &mut Tx,
    rows: &[AccountRow],
    password_hash: &str,
) -> Result<(), sqlx::Error> {
    insert_chunked(
        tx,
        "INSERT INTO accounts (id, email, email_key, first_name, last_name, sort_name,
                               password_hash, state, registered_at) ",
        rows,
        |sep, r| {
            sep.push_bind(r.id.as_str())
                .push_bind(r.email.as_str())
                .push_bind(r.email_key.as_str())
                .push_bind(r.first_name)
                .push_bind(r.last_name)
                .push_bind(r.sort_name.as_str())
                .push_bind(password_hash)
                .push_bind(r.state)
                .push_bind(r.registered_at);
        },
    )
    .await
}

pub async fn insert_groups(tx: &mut Tx, rows: &[GroupRow]) -> Result<(), sqlx::Error> {
    insert_chunked(
        tx,
        "INSERT INTO groups (id, name, name_key, description, kind, created_at) ",
        rows,
        |sep, r| {
            sep.push_bind(r.id.as_str())
                .push_bind(r.name.as_str())
                .push_bind(r.name_key.as_str())
                .push_bind(r.description.as_deref())
                .push("'custom'")
                .push_bind(r.created_at);
        },
    )
    .await
}

pub async fn insert_memberships(tx: &mut Tx, rows: &[MembershipRow]) -> Result<(), sqlx::Error> {
    insert_chunked(
        tx,
        "INSERT INTO memberships (group_id, account_id, created_at) ",
        rows,
        |sep, r| {
            sep.push_bind(r.group_id.as_str())
                .push_bind(r.account_id.as_str())
                .push_bind(r.created_at);
        },
    )
    .await?;
    // Each membership carries its account's sort name and state (migration
    // 0003): one pass for all of them rather than a look-up per row.
    sqlx::query(
        "UPDATE memberships SET sort_name = a.sort_name, state = a.state
         FROM accounts a WHERE a.id = memberships.account_id AND memberships.sort_name = ''",
    )
    .execute(tx.sqlite())
    .await?;
    Ok(())
}

pub async fn insert_products(tx: &mut Tx, rows: &[ProductRow]) -> Result<(), sqlx::Error> {
    insert_chunked(
        tx,
        "INSERT INTO products (id, name, name_key, description, subscription_required,
                               approval_required, subscriptions_limit, state, created_at) ",
        rows,
        |sep, r| {
            sep.push_bind(r.id.as_str())
                .push_bind(r.name.as_str())
                .push_bind(r.name_key.as_str())
                .push_bind(r.description.as_str())
                .push_bind(r.subscription_required)
                .push_bind(r.approval_required)
                .push_bind(r.subscriptions_limit)
                .push_bind(r.state)
                .push_bind(r.created_at);
        },
    )
    .await
}

pub async fn insert_product_groups(
    tx: &mut Tx,
    rows: &[ProductGroupRow],
) -> Result<(), sqlx::Error> {
    insert_chunked(
        tx,
        "INSERT INTO product_groups (product_id, group_id) ",
        rows,
        |sep, r| {
            sep.push_bind(r.product_id.as_str())
                .push_bind(r.group_id.as_str());
        },
    )
    .await
}

pub async fn insert_subscriptions(
    tx: &mut Tx,
    rows: &[SubscriptionRow],
) -> Result<(), sqlx::Error> {
    insert_chunked(
        tx,
        "INSERT INTO subscriptions (id, account_id, product_id, display_name, primary_key,
                                    secondary_key, primary_key_hash, secondary_key_hash,
                                    state, created_at, updated_at) ",
        rows,
        |sep, r| {
            sep.push_bind(r.id.as_str())
                .push_bind(r.account_id.as_str())
                .push_bind(r.product_id.as_str())
                .push("'Default'")
                .push_bind(r.primary_key.as_str())
                .push_bind(r.secondary_key.as_str())
                .push_bind(key_hash(&r.primary_key).to_vec())
                .push_bind(key_hash(&r.secondary_key).to_vec())
                .push_bind(r.state)
                .push_bind(r.created_at)
                .push_bind(r.updated_at);
        },
    )
    .await
}

/// Accounts that are not administrators: a database holding any is not
/// fresh, and seeding into it needs `--force`.
pub async fn count_non_admin_accounts<'c>(e: impl Exec<'c>) -> Result<i64, sqlx::Error> {
    run!(
        e,
        sql!(
            "SELECT count(*) FROM accounts a WHERE NOT EXISTS
               (SELECT 1 FROM memberships m WHERE m.group_id = ? AND m.account_id = a.id)"
        ),
        |x, q| sqlx::query_scalar(q)
            .bind(ADMINISTRATORS)
            .fetch_one(x)
            .await
    )
}

/// Where numbering continues when seeding into a database seeded before
/// (`--force`): the highest account seq, and the numbered seed groups,
/// products and the subscriptions already present.
pub struct Offsets {
    pub accounts: i64,
    pub groups: i64,
    pub products: i64,
    pub subscriptions: i64,
}

pub async fn offsets(tx: &mut Tx) -> Result<Offsets, sqlx::Error> {
    let accounts = sqlx::query_scalar("SELECT coalesce(max(seq), 0) FROM accounts")
        .fetch_one(tx.sqlite())
        .await?;
    let groups = sqlx::query_scalar("SELECT count(*) FROM groups WHERE id GLOB 'g[0-9]*'")
        .fetch_one(tx.sqlite())
        .await?;
    let products = sqlx::query_scalar("SELECT count(*) FROM products WHERE id GLOB 'p[0-9]*'")
        .fetch_one(tx.sqlite())
        .await?;
    let subscriptions = sqlx::query_scalar("SELECT count(*) FROM subscriptions")
        .fetch_one(tx.sqlite())
        .await?;
    Ok(Offsets {
        accounts,
        groups,
        products,
        subscriptions,
    })
}

/// The counters both databases' triggers keep, each row a disagreement.
macro_rules! counters_checked {
    () => {
        "SELECT 'account_counts ' || c.state, c.n || ' <> ' || coalesce(a.n, 0)
         FROM account_counts c
         LEFT JOIN (SELECT state, count(*) AS n FROM accounts GROUP BY state) a ON a.state = c.state
         WHERE c.n <> coalesce(a.n, 0)
         UNION ALL
         SELECT 'groups.member_count ' || g.id, g.member_count || ' <> ' || coalesce(m.n, 0)
         FROM groups g
         LEFT JOIN (SELECT group_id, count(*) AS n FROM memberships GROUP BY group_id) m
                ON m.group_id = g.id
         WHERE g.member_count <> coalesce(m.n, 0)
         UNION ALL
         SELECT 'subscription_counts ' || s.product_id || ' ' || s.state,
                coalesce(c.n, 0) || ' <> ' || s.n
         FROM (SELECT product_id, state, count(*) AS n FROM subscriptions
               GROUP BY product_id, state) s
         LEFT JOIN subscription_counts c ON c.product_id = s.product_id AND c.state = s.state
         WHERE coalesce(c.n, 0) <> s.n
         UNION ALL
         SELECT 'subscription_counts ' || c.product_id || ' ' || c.state, c.n || ' <> 0'
         FROM subscription_counts c
         WHERE c.n <> 0 AND NOT EXISTS (SELECT 1 FROM subscriptions s
                                        WHERE s.product_id = c.product_id AND s.state = c.state)
         UNION ALL
         SELECT 'subscription_totals ' || t.state, t.n || ' <> ' || coalesce(s.n, 0)
         FROM subscription_totals t
         LEFT JOIN (SELECT state, count(*) AS n FROM subscriptions GROUP BY state) s
                ON s.state = t.state
         WHERE t.n <> coalesce(s.n, 0)"
    };
}

/// What the triggers maintain, checked against the rows themselves: each
/// line names a disagreement; empty means all agree.
pub async fn counter_mismatches<'c>(e: impl Exec<'c>) -> Result<Vec<String>, sqlx::Error> {
    let rows: Vec<(String, String)> = run!(
        e,
        sql!(
            sqlite: concat!(
                counters_checked!(),
                " UNION ALL
                 SELECT 'accounts_fts rows', (SELECT count(*) FROM accounts_fts) || ' <> ' ||
                        (SELECT count(*) FROM accounts)
                 WHERE (SELECT count(*) FROM accounts_fts) <> (SELECT count(*) FROM accounts)
                 LIMIT 20"
            ),
            // PostgreSQL's search index is an index of the table, not a table.
            pg: concat!(counters_checked!(), " LIMIT 20")
        ),
        |x, q| sqlx::query_as(q).fetch_all(x).await
    )?;
    Ok(rows
        .into_iter()
        .map(|(what, diff)| format!("{what}: {diff}"))
        .collect())
}

/// Row counts of the seeded tables, in the order of the summary.
pub async fn table_counts<'c>(e: impl Exec<'c>) -> Result<Vec<(String, i64)>, sqlx::Error> {
    run!(
        e,
        sql!(
            "SELECT 'accounts', count(*) FROM accounts
             UNION ALL SELECT 'groups', count(*) FROM groups
             UNION ALL SELECT 'memberships', count(*) FROM memberships
             UNION ALL SELECT 'products', count(*) FROM products
             UNION ALL SELECT 'product_groups', count(*) FROM product_groups
             UNION ALL SELECT 'subscriptions', count(*) FROM subscriptions"
        ),
        |x, q| sqlx::query_as(q).fetch_all(x).await
    )
}
