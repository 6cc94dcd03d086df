//! Products and who may see them: SPEC P1, P2, P5.

use serde::Serialize;

use crate::domain::group::slug;
use crate::domain::product::{ProductSettings, ProductState};
use crate::services::{Actor, Ctx, Expect, ServiceError, audit};
use crate::store::{self, Tx, audit::Subject, groups::GroupRef, products::*};

#[derive(Serialize)]
struct Snapshot<'a> {
    name: &'a str,
    state: &'a str,
    subscription_required: bool,
    approval_required: bool,
    subscriptions_limit: Option<i64>,
}

impl<'a> From<&'a ProductRow> for Snapshot<'a> {
    fn from(p: &'a ProductRow) -> Self {
        Self {
            name: &p.name,
            state: p.state.as_str(),
            subscription_required: p.subscription_required,
            approval_required: p.approval_required,
            subscriptions_limit: p.subscriptions_limit,
        }
    }
}

fn subject(p: &ProductRow) -> Subject<'_> {
    Subject {
        kind: "product",
        id: &p.id,
        name: &p.name,
    }
}

async fn load(tx: &mut Tx, id: &str) -> Result<ProductRow, ServiceError> {
    store::products::get(&mut *tx, id)
        .await?
        .ok_or(ServiceError::NotFound)
}

#[tracing::instrument(skip_all)]
pub async fn get(ctx: &Ctx, id: &str) -> Result<ProductRow, ServiceError> {
    store::products::get(&ctx.db, id)
        .await?
        .ok_or(ServiceError::NotFound)
}

pub const PAGE_SIZE: i64 = 50;

pub struct ProductsPage {
    pub rows: Vec<ProductListRow>,
    pub next: Option<(String, String)>,
}

#[tracing::instrument(skip_all)]
pub async fn list(
    ctx: &Ctx,
    search: Option<&str>,
    after: Option<(&str, &str)>,
) -> Result<ProductsPage, ServiceError> {
    let mut rows = store::products::list(&ctx.db, search, after, PAGE_SIZE).await?;
    let next = super::next_page(&mut rows, PAGE_SIZE, |r| {
        (r.name_key.clone(), r.id.to_string())
    });
    Ok(ProductsPage { rows, next })
}

async fn ensure_name_free(
    tx: &mut Tx,
    p: &ProductSettings,
    except: &str,
) -> Result<(), ServiceError> {
    if store::products::name_taken(&mut *tx, &p.name_key(), except).await? {
        return Err(ServiceError::field(
            "name",
            "A product with this name already exists.",
        ));
    }
    Ok(())
}

/// P1: a new product. It is visible to nobody but administrators until
/// groups are given access (P2).
#[tracing::instrument(skip_all)]
pub async fn create(
    ctx: &Ctx,
    actor: &Actor,
    id: Option<&str>,
    p: &ProductSettings,
) -> Result<String, ServiceError> {
    let mut tx = ctx.db.begin_write().await?;
    ensure_name_free(&mut tx, p, "").await?;
    let id = match id {
        // The management API names the id (a taken one is a conflict).
        Some(id) if store::products::get(&mut tx, id).await?.is_some() => {
            return Err(ServiceError::Conflict(format!(
                "A product with the id {id} exists already."
            )));
        }
        Some(id) => id.to_owned(),
        None => store::free_id(&mut tx, store::Named::Products, &slug(&p.name)).await?,
    };
    let now = tx.now();
    store::products::insert(&mut tx, &id, p, now).await?;
    let created = load(&mut tx, &id).await?;
    audit::record(
        &mut tx,
        actor,
        "product.created",
        &format!("Created product {}", created.name),
        &[subject(&created)],
        audit::NONE,
        Some(&Snapshot::from(&created)),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

#[tracing::instrument(skip_all)]
pub async fn update(
    ctx: &Ctx,
    actor: &Actor,
    id: &str,
    p: &ProductSettings,
    expect: Expect,
) -> Result<ProductRow, ServiceError> {
    let mut tx = ctx.db.begin_write().await?;
    let before = load(&mut tx, id).await?;
    expect.check(before.version)?;
    ensure_name_free(&mut tx, p, id).await?;
    store::products::update(&mut tx, id, p).await?;
    let after = load(&mut tx, id).await?;
    audit::record(
        &mut tx,
        actor,
        "product.updated",
        &format!("Updated product {}", after.name),
        &[subject(&after)],
        Some(&Snapshot::from(&before)),
        Some(&Snapshot::from(&after)),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Publish or unpublish (P1).
#[tracing::instrument(skip_all)]
pub async fn set_published(
    ctx: &Ctx,
    actor: &Actor,
    id: &str,
    published: bool,
) -> Result<ProductRow, ServiceError> {
    let mut tx = ctx.db.begin_write().await?;
    let before = load(&mut tx, id).await?;
    let state = ProductState::of(published);
    if before.state == state {
        return Ok(before);
    }
    store::products::set_state(&mut tx, id, state.as_str()).await?;
    let after = load(&mut tx, id).await?;
    let (action, verb) = if published {
        ("product.published", "Published")
    } else {
        ("product.unpublished", "Unpublished")
    };
    audit::record(
        &mut tx,
        actor,
        action,
        &format!("{verb} product {}", after.name),
        &[subject(&after)],
        Some(&Snapshot::from(&before)),
        Some(&Snapshot::from(&after)),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

#[tracing::instrument(skip_all)]
pub async fn subscription_count(ctx: &Ctx, id: &str) -> Result<i64, ServiceError> {
    Ok(store::products::subscription_count(&ctx.db, id).await?)
}

#[tracing::instrument(skip_all)]
pub async fn delete(
    ctx: &Ctx,
    actor: &Actor,
    id: &str,
    expect: Expect,
    subscriptions: Subscriptions,
) -> Result<ProductRow, ServiceError> {
    let mut tx = ctx.db.begin_write().await?;
    let product = load(&mut tx, id).await?;
    expect.check(product.version)?;
    if subscriptions == Subscriptions::Keep {
        let n = store::products::subscription_count(&mut tx, id).await?;
        if n > 0 {
            return Err(ServiceError::Conflict(format!(
                "{} has {n} subscription(s); delete them with the product, or cancel them first.",
                product.name
            )));
        }
    }
    store::products::delete(&mut tx, id).await?;
    audit::record(
        &mut tx,
        actor,
        "product.deleted",
        &format!("Deleted product {}", product.name),
        &[subject(&product)],
        Some(&Snapshot::from(&product)),
        audit::NONE,
    )
    .await?;
    tx.commit().await?;
    Ok(product)
}

/// What deleting a product does with its subscriptions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subscriptions {
    /// Refuse while there are any (the management API's default).
    Keep,
    /// Delete them with it (the console's Delete, which says how many).
    DeleteThem,
}

#[tracing::instrument(skip_all)]
pub async fn access_groups(ctx: &Ctx, id: &str) -> Result<Vec<GroupRef>, ServiceError> {
    Ok(store::access::access_groups(&ctx.db, id).await?)
}

#[derive(Serialize)]
struct Access<'a> {
    groups: Vec<&'a str>,
}

/// Records a change of a product's access set with its before and after.
async fn audit_access(
    tx: &mut Tx,
    actor: &Actor,
    product: &ProductRow,
    before: &[GroupRef],
    summary: &str,
) -> Result<(), ServiceError> {
    let after = store::access::access_groups(&mut *tx, &product.id).await?;
    let names = |gs: &'_ [GroupRef]| gs.iter().map(|g| g.name.clone()).collect::<Vec<_>>();
    let (b, a) = (names(before), names(&after));
    let mut subjects = vec![subject(product)];
    let changed: Vec<&GroupRef> = before
        .iter()
        .filter(|g| !after.iter().any(|x| x.id == g.id))
        .chain(
            after
                .iter()
                .filter(|g| !before.iter().any(|x| x.id == g.id)),
        )
        .collect();
    subjects.extend(changed.iter().map(|g| Subject {
        kind: "group",
        id: &g.id,
        name: &g.name,
    }));
    audit::record(
        tx,
        actor,
        "product.access_changed",
        summary,
        &subjects,
        Some(&Access {
            groups: b.iter().map(String::as_str).collect(),
        }),
        Some(&Access {
            groups: a.iter().map(String::as_str).collect(),
        }),
    )
    .await?;
    Ok(())
}

/// P2 Save: the product is visible to exactly these groups.
#[tracing::instrument(skip_all)]
pub async fn set_access(
    ctx: &Ctx,
    actor: &Actor,
    id: &str,
    groups: &[String],
) -> Result<(u64, u64), ServiceError> {
    let mut tx = ctx.db.begin_write().await?;
    let product = load(&mut tx, id).await?;
    let before = store::access::access_groups(&mut tx, id).await?;
    let (granted, revoked) = store::access::set_access(&mut tx, id, groups).await?;
    if granted + revoked > 0 {
        let summary = format!(
            "Access to {}: granted {granted} group(s), revoked {revoked}",
            product.name
        );
        audit_access(&mut tx, actor, &product, &before, &summary).await?;
    }
    tx.commit().await?;
    Ok((granted, revoked))
}

/// P2 Add group / Remove: one group gains or loses sight of the product.
#[tracing::instrument(skip_all)]
pub async fn change_access(
    ctx: &Ctx,
    actor: &Actor,
    id: &str,
    group_id: &str,
    grant: bool,
) -> Result<(ProductRow, store::groups::GroupRow), ServiceError> {
    let mut tx = ctx.db.begin_write().await?;
    let product = load(&mut tx, id).await?;
    let group = store::groups::get(&mut tx, group_id)
        .await?
        .ok_or_else(|| ServiceError::field("group", "That group no longer exists."))?;
    let before = store::access::access_groups(&mut tx, id).await?;
    let changed = if grant {
        store::access::grant(&mut tx, &product.id, &group.id).await?
    } else {
        store::access::revoke(&mut tx, &product.id, &group.id).await?
    };
    if !changed {
        return Err(ServiceError::Conflict(if grant {
            format!("{} can already see {}.", group.name, product.name)
        } else {
            format!("{} could not see {}.", group.name, product.name)
        }));
    }
    let summary = if grant {
        format!("Gave {} access to {}", group.name, product.name)
    } else {
        format!("Removed access to {} from {}", product.name, group.name)
    };
    audit_access(&mut tx, actor, &product, &before, &summary).await?;
    tx.commit().await?;
    Ok((product, group))
}
