//! A signed-in person's own account on the developer portal: names,
//! password (S-2: a change asks for the current one; U10: it ends every
//! other session), and closing it.

use crate::domain::notification::Notification;
use crate::domain::{FieldErrors, Password, PersonName};
use crate::services::accounts::{self, Snapshot};
use crate::services::{Ctx, Origin, ServiceError, audit, notifications};
use crate::store::{self, accounts::AccountDetail};

#[tracing::instrument(skip_all)]
pub async fn get(ctx: &Ctx, account_id: &str) -> Result<AccountDetail, ServiceError> {
    store::accounts::detail(&ctx.db, account_id)
        .await?
        .ok_or(ServiceError::NotFound)
}

/// Edits first and last name; errors are keyed `first_name` and `last_name`.
#[tracing::instrument(skip_all)]
pub async fn update_names(
    ctx: &Ctx,
    origin: Origin,
    account_id: &str,
    first: &str,
    last: &str,
) -> Result<AccountDetail, ServiceError> {
    let mut errors = FieldErrors::default();
    let first = errors.take("first_name", PersonName::parse(first, "first name"));
    let last = errors.take("last_name", PersonName::parse(last, "last name"));
    let (Some(first), Some(last)) = (first, last) else {
        return Err(ServiceError::Invalid(errors.0));
    };
    let mut tx = ctx.db.begin_write().await?;
    let before = accounts::load(&mut tx, account_id).await?;
    store::accounts::set_names(&mut tx, account_id, first.as_str(), last.as_str()).await?;
    let after = accounts::load(&mut tx, account_id).await?;
    audit::record(
        &mut tx,
        &origin.actor(&after.id, &after.email),
        "account.profile_updated",
        &format!("{} changed their name", after.email),
        &[accounts::subject(&after)],
        Some(&Snapshot::from(&before)),
        Some(&Snapshot::from(&after)),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Whether `given` is the account's password (S-2: changes to one's own
/// account ask for it), verified off the async executor.
async fn is_current_password(
    ctx: &Ctx,
    account_id: &str,
    given: &str,
) -> Result<bool, ServiceError> {
    let hash = store::accounts::password_hash(&ctx.db, account_id).await?;
    Ok(ctx.hasher.verify(hash.as_deref(), given).await?)
}

/// Checks the current password, sets the new one and ends every session of
/// the account (U10). Returns the new session epoch so the caller keeps
/// its own session. Errors are keyed `current_password` and `password`.
#[tracing::instrument(skip_all)]
pub async fn change_password(
    ctx: &Ctx,
    origin: Origin,
    account_id: &str,
    current: &str,
    new: &str,
    confirm: &str,
) -> Result<i64, ServiceError> {
    let account = get(ctx, account_id).await?;
    if !is_current_password(ctx, account_id, current).await? {
        tracing::warn!(account = %account_id, "password change refused: wrong current password");
        return Err(ServiceError::field(
            "current_password",
            "This is not your current password.",
        ));
    }
    let password = Password::parse(new, &accounts::related_words(&account))
        .map_err(|m| ServiceError::field("password", m))?;
    if new != confirm {
        return Err(ServiceError::field(
            "confirm",
            "The two passwords are not the same.",
        ));
    }
    let hash = ctx.hasher.hash(&password).await?;
    let mut tx = ctx.db.begin_write().await?;
    let epoch = accounts::replace_password(&mut tx, account_id, &hash).await?;
    audit::record(
        &mut tx,
        &origin.actor(&account.id, &account.email),
        "account.password_changed",
        &format!("{} changed their password", account.email),
        &[accounts::subject(&account)],
        audit::NONE,
        audit::NONE,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(account = %account_id, "password changed by its owner");
    Ok(epoch)
}

/// A developer closes their own account (U6 by its owner): the account goes
/// with its memberships and subscriptions (their keys stop passing at once),
/// its sessions end with it, and the administrators chosen for it are told
/// (R5), all in one transaction. The current password confirms it (S-2); an
/// account without one (made by an identity provider) confirms with its
/// email address. An administrator's account is closed in the console by
/// another administrator, so the console never loses its last one here.
/// Errors are keyed `confirm`.
#[tracing::instrument(skip_all)]
pub async fn close_account(
    ctx: &Ctx,
    origin: Origin,
    account_id: &str,
    confirm: &str,
) -> Result<(), ServiceError> {
    let account = get(ctx, account_id).await?;
    if account.is_admin {
        return Err(ServiceError::field(
            "confirm",
            "An administrator's account is closed in the console, by another administrator.",
        ));
    }
    let confirmed = if account.has_password {
        is_current_password(ctx, account_id, confirm).await?
    } else {
        confirm.trim().eq_ignore_ascii_case(&account.email)
    };
    if !confirmed {
        tracing::warn!(account = %account_id, "account closing refused: not confirmed");
        let message = if account.has_password {
            "This is not your current password."
        } else {
            "Type your email address exactly as shown."
        };
        return Err(ServiceError::field("confirm", message));
    }
    let mut tx = ctx.db.begin_write().await?;
    let before = accounts::load(&mut tx, account_id).await?;
    let summary = format!("{} closed their account", before.email);
    let actor = origin.actor(&before.id, &before.email);
    accounts::remove(&mut tx, &actor, &before, "account.closed", &summary).await?;
    let link = format!(
        "{}{}",
        ctx.settings.base_url,
        crate::web::paths::with_query(
            crate::web::paths::console::AUDIT,
            &[("account", before.email.as_str())]
        )
    );
    notifications::notify(
        &mut tx,
        ctx,
        Notification::AccountClosed,
        &[("account", &before.email), ("link", &link)],
    )
    .await?;
    tx.commit().await?;
    tracing::info!(account = %account_id, "account closed by its owner");
    Ok(())
}
