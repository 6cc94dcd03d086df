//! Subscriptions (SPEC P4, S1, S2): subscribing on the portal, the owner's
//! view of their keys, and the administrators' decisions. The gateway key
//! check forgets its answers at every commit (`remembered`).

use serde::Serialize;

use crate::domain::email_template::EmailTemplate;
use crate::domain::ids;
use crate::domain::notification::Notification;
use crate::domain::subscription::{
    KeySlot, SubscriptionAction, SubscriptionState, display_name, new_key,
};
use crate::services::{Actor, Ctx, Origin, ServiceError, audit, mail, notifications, visibility};
use crate::store::{
    self, Tx,
    audit::Subject,
    subscriptions::{NewSubscription, SubscriptionRow},
};

pub const PRODUCT_PAGE_SIZE: i64 = 50;

/// What the audit log keeps of a subscription (never its keys).
#[derive(Serialize)]
pub(crate) struct Snapshot<'a> {
    display_name: &'a str,
    state: &'a str,
}

pub(crate) fn snapshot(s: &SubscriptionRow) -> Snapshot<'_> {
    Snapshot {
        display_name: &s.display_name,
        state: s.state.as_str(),
    }
}

pub(crate) fn subjects(s: &SubscriptionRow) -> [Subject<'_>; 3] {
    [
        Subject {
            kind: "subscription",
            id: &s.id,
            name: &s.display_name,
        },
        Subject {
            kind: "account",
            id: &s.account_id,
            name: &s.account_email,
        },
        Subject {
            kind: "product",
            id: &s.product_id,
            name: &s.product_name,
        },
    ]
}

pub(crate) async fn load(tx: &mut Tx, id: &str) -> Result<SubscriptionRow, ServiceError> {
    store::subscriptions::get(&mut *tx, id)
        .await?
        .ok_or(ServiceError::NotFound)
}

/// Who may touch a subscription: its owner, or an administrator.
#[derive(Debug, Clone, Copy)]
pub enum Caller<'a> {
    Owner(&'a str),
    Administrator,
}

impl Caller<'_> {
    /// S-13: someone else's subscription is "not found", not "forbidden".
    fn may_touch(&self, s: &SubscriptionRow) -> Result<(), ServiceError> {
        match self {
            Self::Owner(id) if s.account_id != *id => Err(ServiceError::NotFound),
            _ => Ok(()),
        }
    }
}

/// P4: the signed-in account subscribes to a product it can see. Active at
/// once, or `submitted` when the product needs approval. The limit is
/// counted inside the write transaction, so parallel requests cannot pass
/// it together.
#[tracing::instrument(skip_all)]
pub async fn subscribe(
    ctx: &Ctx,
    origin: Origin,
    account_id: &str,
    product_id: &str,
    name: &str,
) -> Result<SubscriptionRow, ServiceError> {
    let mut tx = ctx.db.begin_write().await?;
    let account = store::accounts::detail(&mut tx, account_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let viewer =
        visibility::viewer_in(&mut tx, &account.id, account.is_admin, account.state).await?;
    let (product, _) = visibility::visible_product(&mut tx, &viewer, product_id).await?;
    if !viewer.may_subscribe() {
        return Err(ServiceError::Forbidden(
            "Only active, signed-in developers can subscribe.".into(),
        ));
    }
    if !product.subscription_required {
        return Err(ServiceError::Conflict(format!(
            "{} is open to everyone who can see it: it needs no subscription.",
            product.name
        )));
    }
    let name = display_name(name, &product.name).map_err(|m| ServiceError::field("name", m))?;
    if let Some(limit) = product.subscriptions_limit {
        // Two requests at once must not both find room (on PostgreSQL;
        // SQLite's writer already takes them in turn).
        store::backend::lock_decision(&mut tx, &format!("subscribe:{}:{}", account.id, product.id))
            .await?;
        let open = store::subscriptions::count_open(&mut tx, &account.id, &product.id).await?;
        if open >= limit {
            return Err(ServiceError::field(
                "subscription",
                match limit {
                    1 => format!(
                        "You already have a subscription to {}: it allows one per developer.",
                        product.name
                    ),
                    n => format!(
                        "You already have {n} subscriptions to {}, the most it allows per developer.",
                        product.name
                    ),
                },
            ));
        }
    }
    let state = if product.approval_required {
        SubscriptionState::Submitted
    } else {
        SubscriptionState::Active
    };
    let id = ids::new_id();
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
            state: state.as_str(),
            now,
        },
    )
    .await?;
    let created = load(&mut tx, &id).await?;
    let actor = origin.actor(&account.id, &account.email);
    let verb = if state == SubscriptionState::Submitted {
        "asked to subscribe"
    } else {
        "subscribed"
    };
    audit::record(
        &mut tx,
        &actor,
        "subscription.created",
        &format!("{} {verb} to {}", account.email, product.name),
        &subjects(&created),
        audit::NONE,
        Some(&snapshot(&created)),
    )
    .await?;
    if state == SubscriptionState::Submitted {
        let link = format!(
            "{}{}",
            ctx.settings.base_url,
            crate::web::paths::console::subscription(&id)
        );
        notifications::notify(
            &mut tx,
            ctx,
            Notification::SubscriptionRequested,
            &[
                ("account", &account.email),
                ("product", &product.name),
                ("link", &link),
            ],
        )
        .await?;
    }
    tx.commit().await?;
    tracing::info!(subscription = %id, account = %account.id, product = %product.id, state = state.as_str(), "subscribed");
    Ok(created)
}

/// The account's own subscriptions, newest first.
#[tracing::instrument(skip_all)]
pub async fn of_account(ctx: &Ctx, account_id: &str) -> Result<Vec<SubscriptionRow>, ServiceError> {
    Ok(store::subscriptions::of_account(&ctx.db, account_id).await?)
}

/// One subscription, if `caller` may see it.
#[tracing::instrument(skip_all)]
pub async fn get(ctx: &Ctx, caller: Caller<'_>, id: &str) -> Result<SubscriptionRow, ServiceError> {
    let s = store::subscriptions::get(&ctx.db, id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    caller.may_touch(&s)?;
    Ok(s)
}

pub struct ProductSubscriptions {
    pub rows: Vec<SubscriptionRow>,
    /// The `after` of the next page: "created_at.id" of the last row shown.
    pub next: Option<String>,
}

/// A product's subscriptions for the console, newest first, optionally of
/// one state.
#[tracing::instrument(skip_all)]
pub async fn of_product(
    ctx: &Ctx,
    product_id: &str,
    state: Option<SubscriptionState>,
    after: Option<&str>,
) -> Result<ProductSubscriptions, ServiceError> {
    let after = after.and_then(|a| {
        let (at, id) = a.split_once('.')?;
        Some((at.parse::<i64>().ok()?, id))
    });
    let mut rows = store::subscriptions::of_product(
        &ctx.db,
        product_id,
        state.map(SubscriptionState::as_str),
        after,
        PRODUCT_PAGE_SIZE + 1,
    )
    .await?;
    let next = super::next_page(&mut rows, PRODUCT_PAGE_SIZE, |r| {
        format!("{}.{}", r.created_at, r.id)
    });
    Ok(ProductSubscriptions { rows, next })
}

/// S2: a new key in one slot; the old one is refused from the next check on.
#[tracing::instrument(skip_all)]
pub async fn regenerate(
    ctx: &Ctx,
    actor: &Actor,
    caller: Caller<'_>,
    id: &str,
    slot: KeySlot,
) -> Result<SubscriptionRow, ServiceError> {
    let mut tx = ctx.db.begin_write().await?;
    let before = load(&mut tx, id).await?;
    caller.may_touch(&before)?;
    let now = tx.now();
    store::subscriptions::set_key(&mut tx, id, slot, &new_key(), now).await?;
    let after = load(&mut tx, id).await?;
    audit::record(
        &mut tx,
        actor,
        "subscription.key_regenerated",
        &format!(
            "Regenerated the {} key of {} ({} on {})",
            slot.label(),
            after.display_name,
            after.account_email,
            after.product_name
        ),
        &subjects(&after),
        audit::NONE,
        audit::NONE,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(subscription = %id, actor = %actor.label, slot = slot.label(), "key regenerated");
    Ok(after)
}

/// Approve, reject, suspend, activate or cancel. Owners may only cancel.
/// Approval and rejection tell the developer by email, in the same
/// transaction.
#[tracing::instrument(skip_all)]
pub async fn act(
    ctx: &Ctx,
    actor: &Actor,
    caller: Caller<'_>,
    id: &str,
    action: SubscriptionAction,
) -> Result<SubscriptionRow, ServiceError> {
    if matches!(caller, Caller::Owner(_)) && action != SubscriptionAction::Cancel {
        return Err(ServiceError::Forbidden(
            "Only administrators can do that.".into(),
        ));
    }
    let mut tx = ctx.db.begin_write().await?;
    let before = load(&mut tx, id).await?;
    caller.may_touch(&before)?;
    let after = act_in(&mut tx, ctx, actor, &before, action).await?;
    tx.commit().await?;
    Ok(after)
}

/// The same inside `tx`, on a subscription read there.
pub(crate) async fn act_in(
    tx: &mut Tx,
    ctx: &Ctx,
    actor: &Actor,
    before: &SubscriptionRow,
    action: SubscriptionAction,
) -> Result<SubscriptionRow, ServiceError> {
    let id = before.id.as_str();
    let from = before.state;
    let Some(to) = action.from(from) else {
        return Err(ServiceError::Conflict(format!(
            "{} cannot be done to a subscription that is {}.",
            action.label(),
            from.label().to_lowercase()
        )));
    };
    let now = tx.now();
    if !store::subscriptions::set_state(tx, id, from.as_str(), to.as_str(), now).await? {
        return Err(ServiceError::Conflict(
            "The subscription changed meanwhile. Look again and retry.".into(),
        ));
    }
    let after = load(tx, id).await?;
    let action_name = match to {
        SubscriptionState::Active => "subscription.activated",
        SubscriptionState::Rejected => "subscription.rejected",
        SubscriptionState::Suspended => "subscription.suspended",
        SubscriptionState::Cancelled => "subscription.cancelled",
        _ => "subscription.changed",
    };
    audit::record(
        tx,
        actor,
        action_name,
        &format!(
            "{} {} ({} on {}): {} → {}",
            action.label(),
            after.display_name,
            after.account_email,
            after.product_name,
            from.label(),
            to.label()
        ),
        &subjects(&after),
        Some(&snapshot(before)),
        Some(&snapshot(&after)),
    )
    .await?;
    let template = match action {
        SubscriptionAction::Approve => Some(EmailTemplate::SubscriptionApproved),
        SubscriptionAction::Reject => Some(EmailTemplate::SubscriptionRejected),
        _ => None,
    };
    if let Some(template) = template {
        notify(tx, ctx, template, &after).await?;
    }
    tracing::info!(subscription = %id, actor = %actor.label, to = to.as_str(), "subscription state changed");
    Ok(after)
}

pub(crate) async fn notify(
    tx: &mut Tx,
    ctx: &Ctx,
    template: EmailTemplate,
    s: &SubscriptionRow,
) -> Result<(), ServiceError> {
    let account = store::accounts::detail(&mut *tx, &s.account_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let link = match template {
        EmailTemplate::SubscriptionApproved => format!("{}/subscriptions", ctx.settings.base_url),
        _ => format!("{}/products", ctx.settings.base_url),
    };
    mail::queue(
        tx,
        ctx,
        template,
        &mail::Recipient {
            address: &account.email,
            name: &format!("{} {}", account.first_name, account.last_name),
            account_id: Some(&account.id),
        },
        &[
            ("first_name", &account.first_name),
            ("last_name", &account.last_name),
            ("link", &link),
            ("product", &s.product_name),
        ],
    )
    .await?;
    Ok(())
}
