//! SPEC P3 and P5 applied to data: what an account (or a visitor) can see,
//! and who can see a product. The rule itself is `domain::visibility`.

use std::sync::Arc;

use crate::domain::AccountState;
use crate::domain::visibility::{Viewer, can_see, granting_groups};
use crate::services::remembered::Remembered;
use crate::services::{Ctx, ServiceError};
use crate::store::access::GrantRow;
use crate::store::{self, Exec};

/// The grants to each set of groups viewers are in, remembered until the
/// next commit. They are the costliest read of the portal's product list
/// and of the Account page on PostgreSQL (0.7 ms there, where the account
/// itself takes 0.3), change seldom, and most developers share one of a
/// few sets of groups. At most `SETS` sets of at most `GRANTS` grants each
/// are held (a few megabytes); a larger answer is read each time.
pub struct VisibleGrants(Remembered<Vec<String>, Arc<Vec<GrantRow>>>);

const SETS: usize = 64;
const GRANTS: usize = 256;

impl Default for VisibleGrants {
    fn default() -> Self {
        Self(Remembered::new(SETS))
    }
}

/// The viewer behind a session whose account was just checked (the
/// session check reads the groups too).
pub fn viewer_of_session(a: &store::sessions::SessionAccount) -> Viewer {
    Viewer::account(a.is_admin, a.state, a.groups())
}

/// The same, read on `conn` (a transaction's, when the answer must hold
/// until it commits).
pub(crate) async fn viewer_in<C>(
    conn: &mut C,
    account_id: &str,
    is_admin: bool,
    state: AccountState,
) -> Result<Viewer, ServiceError>
where
    for<'a> &'a mut C: Exec<'a>,
{
    if crate::domain::account::is_active_administrator(is_admin, state) {
        return Ok(Viewer::Administrator);
    }
    let groups = store::groups::of_account(&mut *conn, account_id).await?;
    Ok(Viewer::account(
        is_admin,
        state,
        groups.into_iter().map(|g| g.id.into()).collect(),
    ))
}

/// A product the viewer may see (P3), with its access groups; `NotFound`
/// for one they may not, exactly as for one that does not exist (S-13).
pub(crate) async fn visible_product<C>(
    conn: &mut C,
    viewer: &Viewer,
    product_id: &str,
) -> Result<(store::products::ProductRow, Vec<store::groups::GroupRef>), ServiceError>
where
    for<'a> &'a mut C: Exec<'a>,
{
    let product = store::products::get(&mut *conn, product_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let groups = store::access::access_groups(&mut *conn, product_id).await?;
    let ids: Vec<&str> = groups.iter().map(|g| g.id.as_str()).collect();
    if !can_see(viewer, product.published(), &ids) {
        return Err(ServiceError::NotFound);
    }
    Ok((product, groups))
}

pub struct VisibleProduct {
    pub id: String,
    pub name: String,
    pub description: String,
    pub published: bool,
    /// Names of the groups that grant sight of it; empty for administrators,
    /// who see everything.
    pub granted_by: Vec<String>,
}

/// One product's page for a viewer: `NotFound` unless P3 lets them see it.
#[tracing::instrument(skip_all)]
pub async fn product_for(
    ctx: &Ctx,
    viewer: &Viewer,
    id: &str,
) -> Result<store::products::ProductRow, ServiceError> {
    let mut conn = ctx.db.acquire().await?;
    Ok(visible_product(&mut conn, viewer, id).await?.0)
}

/// Every product the viewer can see, with the groups that grant each (P5).
#[tracing::instrument(skip_all)]
pub async fn visible_products(
    ctx: &Ctx,
    viewer: &Viewer,
) -> Result<Vec<VisibleProduct>, ServiceError> {
    let mut conn = ctx.db.acquire().await?;
    visible_products_in(ctx, &mut conn, viewer).await
}

/// The same, read on `conn` (with a page's other reads).
pub(crate) async fn visible_products_in<C>(
    ctx: &Ctx,
    conn: &mut C,
    viewer: &Viewer,
) -> Result<Vec<VisibleProduct>, ServiceError>
where
    for<'a> &'a mut C: Exec<'a>,
{
    let Some(groups) = viewer.effective_groups() else {
        let all = store::products::all_names(&mut *conn).await?;
        return Ok(all
            .into_iter()
            .map(|(id, name, description, state)| VisibleProduct {
                id,
                name,
                description,
                published: crate::domain::product::ProductState::parse(&state)
                    .is_some_and(|s| s.is_published()),
                granted_by: Vec::new(),
            })
            .collect());
    };
    if groups.is_empty() {
        return Ok(Vec::new());
    }
    let mut key = groups.clone();
    key.sort_unstable();
    let grants = ctx
        .visible_grants
        .0
        .get_or_read_keeping(
            key,
            async {
                store::access::grants_to(&mut *conn, Some(&groups))
                    .await
                    .map(Arc::new)
            },
            |grants| grants.len() <= GRANTS,
        )
        .await?;
    let mut out: Vec<VisibleProduct> = Vec::new();
    // Rows come grouped by product; collect each product's granting groups,
    // then let the rule decide.
    let mut i = 0;
    while i < grants.len() {
        let first = &grants[i];
        let mut j = i;
        while j < grants.len() && grants[j].product_id == first.product_id {
            j += 1;
        }
        let ids: Vec<&str> = grants[i..j].iter().map(|g| g.group_id.as_str()).collect();
        let published = first.state.is_published();
        let granting = granting_groups(viewer, published, &ids);
        if !granting.is_empty() {
            out.push(VisibleProduct {
                id: first.product_id.to_string(),
                name: first.product_name.clone(),
                description: first.description.clone(),
                published,
                granted_by: grants[i..j]
                    .iter()
                    .filter(|g| granting.contains(&g.group_id.as_str()))
                    .map(|g| g.group_name.clone())
                    .collect(),
            });
        }
        i = j;
    }
    Ok(out)
}
