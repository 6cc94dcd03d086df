//! Subscriptions made and changed by administrators, in the console (Add
//! subscription) and through the management API (SPEC P4, S1; M2): the
//! same visibility, limit and lifecycle rules as a developer's own.

use crate::domain::email_template::EmailTemplate;
use crate::domain::ids;
use crate::domain::subscription::{SubscriptionAction, SubscriptionState, display_name, new_key};
use crate::services::subscriptions::{act_in, load, notify, snapshot, subjects};
use crate::services::{Actor, Ctx, Expect, ServiceError, audit, visibility};
use crate::store::{
    self,
    subscriptions::{NewSubscription, SubscriptionRow},
};

/// A subscription an administrator makes for an account.
pub struct NewSubscriptionSpec {
    /// The management API names it; the console lets Portal choose.
    pub id: Option<String>,
    pub account_id: String,
    pub product_id: String,
    pub display_name: String,
    /// Active at once, or submitted (waiting for approval).
    pub state: SubscriptionState,
}

/// Subscribes `account_id` to a product it can see (P3), within the
/// product's limit; an active one tells the developer by email, as an
/// approval does.
#[tracing::instrument(skip_all)]
pub async fn create_for(
    ctx: &Ctx,
    actor: &Actor,
    spec: NewSubscriptionSpec,
) -> Result<SubscriptionRow, ServiceError> {
    if !matches!(
        spec.state,
        SubscriptionState::Active | SubscriptionState::Submitted
    ) {
        return Err(ServiceError::field(
            "state",
            "A new subscription is active or submitted.",
        ));
    }
    let mut tx = ctx.db.begin_write().await?;
    let account = store::accounts::detail(&mut tx, &spec.account_id)
        .await?
        .ok_or_else(|| ServiceError::field("owner_id", "There is no such account."))?;
    let viewer =
        visibility::viewer_in(&mut tx, &account.id, account.is_admin, account.state).await?;
    let product = match visibility::visible_product(&mut tx, &viewer, &spec.product_id).await {
        Ok((p, _)) => p,
        Err(ServiceError::NotFound) => {
            return Err(ServiceError::field(
                "scope",
                format!(
                    "{} cannot see this product, or there is no such product.",
                    account.email
                ),
            ));
        }
        Err(e) => return Err(e),
    };
    if !product.subscription_required {
        return Err(ServiceError::field(
            "scope",
            format!("{} needs no subscription.", product.name),
        ));
    }
    if product.subscriptions_limit.is_some() {
        store::backend::lock_decision(&mut tx, &format!("subscribe:{}:{}", account.id, product.id))
            .await?;
    }
    if let Some(limit) = product.subscriptions_limit
        && store::subscriptions::count_open(&mut tx, &account.id, &product.id).await? >= limit
    {
        return Err(ServiceError::field(
            "scope",
            format!(
                "{} has the most subscriptions to {} it allows ({limit}).",
                account.email, product.name
            ),
        ));
    }
    let name = display_name(&spec.display_name, &product.name)
        .map_err(|m| ServiceError::field("display_name", m))?;
    let id = match spec.id {
        Some(id) if store::subscriptions::get(&mut tx, &id).await?.is_some() => {
            return Err(ServiceError::Conflict(format!(
                "A subscription with the id {id} exists already."
            )));
        }
        Some(id) => id,
        None => ids::new_id(),
    };
    let now = tx.now();
    store::subscriptions::insert(
        &mut tx,
        &NewSubscription {
            id: &id.as_str().into(),
            account_id: &account.id,
            product_id: &product.id,
            display_name: &name,
            primary_key: &new_key(),
            secondary_key: &new_key(),
            state: spec.state.as_str(),
            now,
        },
    )
    .await?;
    let created = load(&mut tx, &id).await?;
    audit::record(
        &mut tx,
        actor,
        "subscription.created",
        &format!(
            "Subscribed {} to {} ({})",
            account.email,
            product.name,
            spec.state.label().to_lowercase()
        ),
        &subjects(&created),
        audit::NONE,
        Some(&snapshot(&created)),
    )
    .await?;
    if spec.state == SubscriptionState::Active {
        notify(&mut tx, ctx, EmailTemplate::SubscriptionApproved, &created).await?;
    }
    tx.commit().await?;
    tracing::info!(subscription = %id, actor = %actor.label, "subscription created by an administrator");
    Ok(created)
}

/// What a change sets.
#[derive(Default)]
pub struct SubscriptionChanges {
    pub display_name: Option<String>,
    /// Reached by the lifecycle's transitions only (S1).
    pub state: Option<SubscriptionState>,
}

#[tracing::instrument(skip_all)]
pub async fn update(
    ctx: &Ctx,
    actor: &Actor,
    id: &str,
    changes: SubscriptionChanges,
    expect: Expect,
) -> Result<SubscriptionRow, ServiceError> {
    let mut tx = ctx.db.begin_write().await?;
    let before = load(&mut tx, id).await?;
    expect.check(before.version)?;
    if let Some(name) = &changes.display_name {
        let name = display_name(name, &before.product_name)
            .map_err(|m| ServiceError::field("display_name", m))?;
        if name != before.display_name {
            store::subscriptions::set_display_name(&mut tx, id, &name).await?;
            let after = load(&mut tx, id).await?;
            audit::record(
                &mut tx,
                actor,
                "subscription.renamed",
                &format!(
                    "Renamed subscription {} to {}",
                    before.display_name, after.display_name
                ),
                &subjects(&after),
                Some(&snapshot(&before)),
                Some(&snapshot(&after)),
            )
            .await?;
        }
    }
    if let Some(to) = changes.state {
        let current = load(&mut tx, id).await?;
        let from = current.state;
        if from != to {
            let action = SubscriptionAction::between(from, to).ok_or_else(|| {
                ServiceError::field(
                    "state",
                    format!(
                        "A subscription that is {} cannot become {}.",
                        from.label().to_lowercase(),
                        to.label().to_lowercase()
                    ),
                )
            })?;
            act_in(&mut tx, ctx, actor, &current, action).await?;
        }
    }
    let after = load(&mut tx, id).await?;
    tx.commit().await?;
    Ok(after)
}

#[tracing::instrument(skip_all)]
pub async fn delete(
    ctx: &Ctx,
    actor: &Actor,
    id: &str,
    expect: Expect,
) -> Result<SubscriptionRow, ServiceError> {
    let mut tx = ctx.db.begin_write().await?;
    let before = load(&mut tx, id).await?;
    expect.check(before.version)?;
    store::subscriptions::delete(&mut tx, id).await?;
    audit::record(
        &mut tx,
        actor,
        "subscription.deleted",
        &format!(
            "Deleted subscription {} ({} on {})",
            before.display_name, before.account_email, before.product_name
        ),
        &subjects(&before),
        Some(&snapshot(&before)),
        audit::NONE,
    )
    .await?;
    tx.commit().await?;
    Ok(before)
}
