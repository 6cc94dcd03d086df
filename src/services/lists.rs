//! Filtered, paged lists of every entity (SPEC M4: the management API's
//! `$filter`, `$top`, `$skip`), each read on one connection with its total.

use crate::domain::query::{Filter, GroupField, ProductField, SubscriptionField, UserField};
use crate::services::{Ctx, ServiceError};
use crate::store::account_list::{self, Among};
use crate::store::accounts::AccountDetail;
use crate::store::groups::GroupRow;
use crate::store::products::ProductRow;
use crate::store::subscriptions::{Of, SubscriptionRow};
use crate::store::{self};

/// A page of a list: its rows, whether more follow, and how many the whole
/// list holds (not counted for a text search over accounts: that would read
/// all 100,000 to answer one page).
pub struct Page<T> {
    pub rows: Vec<T>,
    pub more: bool,
    pub total: Option<i64>,
}

impl<T> Page<T> {
    fn of(mut rows: Vec<T>, top: i64, total: Option<i64>) -> Self {
        let more = rows.len() as i64 > top;
        rows.truncate(top as usize);
        Self { rows, more, total }
    }
}

/// A row with the groups read beside it (when asked for).
pub type WithGroups<T> = (T, Option<Vec<GroupRow>>);

/// What to read besides each row.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum With {
    Nothing,
    /// The groups of each account, or those that may see each product.
    Groups,
}

#[tracing::instrument(skip_all)]
pub async fn accounts(
    ctx: &Ctx,
    among: &Among<'_>,
    filter: Option<&Filter<UserField>>,
    skip: i64,
    top: i64,
    with: With,
) -> Result<Page<WithGroups<AccountDetail>>, ServiceError> {
    let mut conn = ctx.db.acquire().await?;
    let rows = account_list::filtered(&mut conn, among, filter, skip, top + 1).await?;
    let total = match filter {
        Some(f) if f.searches_text() => None,
        _ => Some(account_list::count_filtered(&mut conn, among, filter).await?),
    };
    let mut out = Vec::with_capacity(rows.len());
    for a in rows {
        let groups = match with {
            With::Groups => Some(store::groups::rows_of_account(&mut conn, &a.id).await?),
            With::Nothing => None,
        };
        out.push((a, groups));
    }
    Ok(Page::of(out, top, total))
}

#[tracing::instrument(skip_all)]
pub async fn groups(
    ctx: &Ctx,
    filter: Option<&Filter<GroupField>>,
    skip: i64,
    top: i64,
) -> Result<Page<GroupRow>, ServiceError> {
    let (rows, total) = store::groups::filtered(&ctx.db, filter, skip, top + 1).await?;
    Ok(Page::of(rows, top, Some(total)))
}

/// Every group an account is in (Developers included).
#[tracing::instrument(skip_all)]
pub async fn groups_of_account(ctx: &Ctx, account_id: &str) -> Result<Vec<GroupRow>, ServiceError> {
    Ok(store::groups::rows_of_account(&ctx.db, account_id).await?)
}

/// Every group that may see a product (P2).
#[tracing::instrument(skip_all)]
pub async fn groups_of_product(ctx: &Ctx, product_id: &str) -> Result<Vec<GroupRow>, ServiceError> {
    Ok(store::access::group_rows(&ctx.db, product_id).await?)
}

#[tracing::instrument(skip_all)]
pub async fn products(
    ctx: &Ctx,
    filter: Option<&Filter<ProductField>>,
    skip: i64,
    top: i64,
    with: With,
) -> Result<Page<WithGroups<ProductRow>>, ServiceError> {
    let (rows, total) = store::products::filtered(&ctx.db, filter, skip, top + 1).await?;
    let mut out = Vec::with_capacity(rows.len());
    for p in rows {
        let groups = match with {
            With::Groups => Some(store::access::group_rows(&ctx.db, &p.id).await?),
            With::Nothing => None,
        };
        out.push((p, groups));
    }
    Ok(Page::of(out, top, Some(total)))
}

#[tracing::instrument(skip_all)]
pub async fn subscriptions(
    ctx: &Ctx,
    of: &Of<'_>,
    filter: Option<&Filter<SubscriptionField>>,
    skip: i64,
    top: i64,
) -> Result<Page<SubscriptionRow>, ServiceError> {
    let (rows, total) = store::subscriptions::filtered(&ctx.db, of, filter, skip, top + 1).await?;
    Ok(Page::of(rows, top, Some(total)))
}
