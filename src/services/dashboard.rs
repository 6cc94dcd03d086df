//! The console home (SPEC R5): the programme at a glance. Every number
//! comes from a counter or an index (see `store::dashboard`), so the page
//! costs the same at 100 accounts as at 100,000; nothing is cached.

use crate::domain::account::AccountState;
use crate::domain::subscription::SubscriptionState;
use crate::services::{Ctx, ServiceError};
use crate::store::{self, audit::Entry, audit::LogFilter, dashboard::TopProduct};

/// Weeks of sign-ups shown, this one last.
pub const WEEKS: usize = 12;
/// Products in the "most active subscriptions" chart.
pub const TOP_PRODUCTS: i64 = 5;
/// Audit entries in "Latest changes".
pub const LATEST_CHANGES: i64 = 10;

const WEEK_SECS: i64 = 7 * 24 * 60 * 60;
/// Monday 1970-01-05 00:00 UTC: weeks start on Mondays, in UTC.
const FIRST_MONDAY: i64 = 4 * 24 * 60 * 60;

/// Outgoing emails not sent (yet).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EmailCounts {
    pub queued: i64,
    pub retrying: i64,
    pub failed: i64,
}

#[derive(Debug, Clone)]
pub struct Dashboard {
    /// Every state, zeros included, in `AccountState::ALL` order.
    pub accounts: Vec<(AccountState, i64)>,
    /// Invitations sent, not yet accepted, cancelled or expired.
    pub open_invitations: i64,
    /// (start of the week, accounts registered in it), oldest first.
    pub signups: Vec<(i64, i64)>,
    /// Every state, zeros included, in `SubscriptionState::ALL` order.
    pub subscriptions: Vec<(SubscriptionState, i64)>,
    pub top_products: Vec<TopProduct>,
    pub emails: EmailCounts,
    pub latest: Vec<Entry>,
}

/// The number of the week `at` falls in, counted from the first Monday of
/// 1970, as the `account_signups` trigger numbers them.
pub fn week_number(at: i64) -> i64 {
    (at - FIRST_MONDAY).div_euclid(WEEK_SECS)
}

/// When week `n` starts (Monday 00:00 UTC).
pub fn week_start(n: i64) -> i64 {
    FIRST_MONDAY + n * WEEK_SECS
}

#[tracing::instrument(skip_all)]
pub async fn read(ctx: &Ctx) -> Result<Dashboard, ServiceError> {
    let now = ctx.now();
    let first_week = week_number(now) - (WEEKS as i64 - 1);
    let mut conn = ctx.db.acquire().await?;
    let counts = store::dashboard::counts(&mut conn, first_week, now).await?;
    let top_products = store::dashboard::top_products(&mut conn, TOP_PRODUCTS).await?;
    let latest = store::audit::list(&mut conn, &LogFilter::default(), None, LATEST_CHANGES).await?;
    drop(conn);

    let count = |kind: &str, key: &str| {
        counts
            .iter()
            .find(|c| c.kind == kind && c.key == key)
            .map_or(0, |c| c.n)
    };
    let signups = (first_week..first_week + WEEKS as i64)
        .map(|w| (week_start(w), count("signups", &w.to_string())))
        .collect();
    Ok(Dashboard {
        accounts: AccountState::ALL
            .into_iter()
            .map(|s| (s, count("account", s.as_str())))
            .collect(),
        open_invitations: count("invitations", ""),
        signups,
        subscriptions: SubscriptionState::ALL
            .into_iter()
            .map(|s| (s, count("subscription", s.as_str())))
            .collect(),
        top_products,
        emails: EmailCounts {
            queued: count("email", "queued"),
            retrying: count("email", "retrying"),
            failed: count("email", "failed"),
        },
        latest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_start_on_monday_in_utc() {
        // 2026-12-06 is a Sunday; its week began on Monday 2026-11-30.
        let sunday_noon = 1_796_515_200 + 12 * 3600;
        let monday = 1_795_996_800;
        let week = week_number(sunday_noon);
        assert_eq!(week_start(week), monday);
        assert_eq!(week_number(monday), week);
        assert_eq!(week_number(monday - 1), week - 1);
        assert_eq!(week_number(FIRST_MONDAY), 0);
    }
}
