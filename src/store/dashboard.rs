//! What the console home counts (SPEC R5), read from counters the triggers
//! keep and from indexes, so its cost does not grow with the accounts or
//! subscriptions there are: accounts by state (`account_counts`), sign-ups
//! per week (`account_signups`), subscriptions by state
//! (`subscription_totals`) and the top products (`subscription_counts`),
//! open invitations (the partial index of open ones) and the emails waiting
//! or failed (`outbox_due`).

use sqlx::FromRow;

use super::Exec;
use crate::{run, sql};

/// One number of the home page: its kind (`account`, `subscription`,
/// `email`, `invitations`, `signups`), what it counts within the kind (a
/// state, or the week's number), and the count.
#[derive(Debug, Clone, FromRow)]
pub struct Count {
    pub kind: String,
    pub key: String,
    pub n: i64,
}

/// A product and its active subscriptions.
#[derive(Debug, Clone, FromRow)]
pub struct TopProduct {
    pub id: String,
    pub name: String,
    pub n: i64,
}

/// Every count in one statement. Sign-ups are those of week `from_week` on
/// (weeks numbered as `account_signups` numbers them); invitations are
/// those open and not expired at `now`.
pub async fn counts<'c>(
    e: impl Exec<'c>,
    from_week: i64,
    now: i64,
) -> Result<Vec<Count>, sqlx::Error> {
    run!(
        e,
        sql!(
            "SELECT 'account' AS kind, state AS key, n FROM account_counts
             UNION ALL
             SELECT 'subscription', state, n FROM subscription_totals
             UNION ALL
             SELECT 'email', state, count(*) FROM outbox
             WHERE state IN ('queued', 'retrying', 'failed') GROUP BY state
             UNION ALL
             SELECT 'invitations', '', count(*) FROM invitations
             WHERE state = 'open' AND expires_at > ?
             UNION ALL
             SELECT 'signups', CAST(week AS TEXT), n FROM account_signups WHERE week >= ?"
        ),
        |x, q| sqlx::query_as(q)
            .bind(now)
            .bind(from_week)
            .fetch_all(x)
            .await
    )
}

/// The `limit` products with the most active subscriptions, most first,
/// ties by name. A product's row is found by the index on the count; the
/// sort covers only the products with an active subscription.
pub async fn top_products<'c>(
    e: impl Exec<'c>,
    limit: i64,
) -> Result<Vec<TopProduct>, sqlx::Error> {
    run!(
        e,
        sql!(
            "SELECT p.id, p.name, c.n FROM subscription_counts c
             JOIN products p ON p.id = c.product_id
             WHERE c.state = 'active' AND c.n > 0
             ORDER BY c.n DESC, p.name, p.id LIMIT ?"
        ),
        |x, q| sqlx::query_as(q).bind(limit).fetch_all(x).await
    )
}
