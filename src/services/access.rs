//! Who may see a product (P2, P5): the groups an administrator may tick or
//! add on its Access control page, and the accounts those groups hold.

use crate::domain::group::{GUESTS, Holds, holds};
use crate::services::account_list::{self, UsersPage, UsersQuery};
use crate::services::{Ctx, ServiceError};
use crate::store;

/// Who can see a product (P5): its groups, and a page of the accounts those
/// groups hold. Administrators see every product in any case.
pub struct Audience {
    pub everyone_signed_in: bool,
    pub visitors: bool,
    pub page: Option<UsersPage>,
}

#[tracing::instrument(skip_all)]
pub async fn audience(
    ctx: &Ctx,
    product: &store::products::ProductRow,
    groups: &[store::groups::GroupRef],
    mut query: UsersQuery,
) -> Result<Audience, ServiceError> {
    let everyone_signed_in = groups.iter().any(|g| holds(&g.id) == Holds::Everyone);
    let visitors = groups.iter().any(|g| g.id == GUESTS);
    if !product.published() {
        return Ok(Audience {
            everyone_signed_in: false,
            visitors: false,
            page: None,
        });
    }
    let member_groups: Vec<String> = groups
        .iter()
        .filter(|g| holds(&g.id) == Holds::Members)
        .map(|g| g.id.to_string())
        .collect();
    if !everyone_signed_in && member_groups.is_empty() {
        return Ok(Audience {
            everyone_signed_in,
            visitors,
            page: None,
        });
    }
    query.state = Some(crate::domain::AccountState::Active);
    query.groups = (!everyone_signed_in).then_some(member_groups);
    let page = account_list::list(ctx, &query).await?;
    Ok(Audience {
        everyone_signed_in,
        visitors,
        page: Some(page),
    })
}

/// A product with what its Access control page offers: its groups, the
/// system groups, and the first 20 other groups whose name contains `find`.
#[tracing::instrument(skip_all)]
pub async fn access_choices(
    ctx: &Ctx,
    product_id: &str,
    find: &str,
) -> Result<store::access::AccessChoices, ServiceError> {
    store::access::access_choices(&ctx.db, product_id, find.trim(), 20)
        .await?
        .ok_or(ServiceError::NotFound)
}
