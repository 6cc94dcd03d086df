//! Self-service on the developer portal: sign-up with an emailed
//! confirmation (U9), resending it, and forgotten passwords (U8), all
//! answering the same whatever the address (S-4) and sending at most
//! `links::EMAILS_PER_WINDOW` emails per account per window (S-8).

use crate::domain::account::NewAccount;
use crate::domain::email_template::EmailTemplate;
use crate::domain::link::LinkPurpose;
use crate::domain::{AccountState, Email};
use crate::services::accounts::{self, Snapshot};
use crate::services::links::{self, EMAILS_PER_WINDOW, LinkProblem, WINDOW_SECS};
use crate::services::{Ctx, Origin, ServiceError, audit, mail, password_reset};
use crate::store::{self, Tx, accounts::AccountDetail};

pub const CONFIRM_PATH: &str = "/confirm";

/// The templates whose sending S-8 limits per account.
const LIMITED: [EmailTemplate; 2] = [
    EmailTemplate::SignupConfirmation,
    EmailTemplate::PasswordReset,
];

/// S-8: whether another limited email may go to this account now.
async fn may_email(tx: &mut Tx, account_id: &str) -> Result<bool, ServiceError> {
    let since = tx.now() - WINDOW_SECS;
    Ok(mail::recent_count(&mut *tx, account_id, &LIMITED, since).await? < EMAILS_PER_WINDOW)
}

/// U9: a pending account and a confirmation email. With an address that
/// already has an account the visitor sees the same answer, and the
/// owner gets an email instead: a new confirmation link if it is still
/// pending, a password-reset link if it is active, nothing if blocked.
#[tracing::instrument(skip_all)]
pub async fn sign_up(ctx: &Ctx, origin: Origin, new: NewAccount) -> Result<(), ServiceError> {
    // Hashed whether or not the address is taken, so both answers take as long.
    let hash = ctx.hasher.hash(&new.password).await?;
    let mut tx = ctx.db.begin_write().await?;
    if let Some(existing) = store::accounts::detail_by_email(&mut tx, &new.email.key()).await? {
        remind_owner(&mut tx, ctx, &existing).await?;
        tx.commit().await?;
        return Ok(());
    }
    let id = match accounts::insert_account(&mut tx, &new, &hash, AccountState::Pending).await {
        Ok(id) => id,
        // Taken by an open invitation: the invitee has their own email.
        Err(ServiceError::Invalid(_)) => {
            tracing::info!("sign-up with the address of an open invitation");
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    let account = accounts::load(&mut tx, &id).await?;
    send_confirmation(&mut tx, ctx, &account).await?;
    audit::record(
        &mut tx,
        &origin.actor(&account.id, &account.email),
        "account.signed_up",
        &format!("{} signed up on the developer portal", account.email),
        &[accounts::subject(&account)],
        audit::NONE,
        Some(&Snapshot::from(&account)),
    )
    .await?;
    let link = format!(
        "{}{}",
        ctx.settings.base_url,
        crate::web::paths::console::account(&account.id)
    );
    crate::services::notifications::notify(
        &mut tx,
        ctx,
        crate::domain::notification::Notification::SignedUp,
        &[("account", &account.email), ("link", &link)],
    )
    .await?;
    tx.commit().await?;
    tracing::info!(account = %id, "signed up, awaiting confirmation");
    Ok(())
}

async fn remind_owner(tx: &mut Tx, ctx: &Ctx, account: &AccountDetail) -> Result<(), ServiceError> {
    if !may_email(tx, &account.id).await? {
        tracing::info!(account = %account.id, "sign-up with a taken address: email limit reached");
        return Ok(());
    }
    match account.state {
        AccountState::Pending => send_confirmation(tx, ctx, account).await?,
        AccountState::Active => {
            password_reset::send_link(tx, ctx, account, LinkPurpose::SelfReset).await?;
        }
        AccountState::Blocked => {}
    }
    tracing::info!(account = %account.id, "sign-up with a taken address: owner emailed");
    Ok(())
}

pub(crate) async fn send_confirmation(
    tx: &mut Tx,
    ctx: &Ctx,
    account: &AccountDetail,
) -> Result<(), ServiceError> {
    let purpose = LinkPurpose::SignupConfirmation;
    let now = tx.now();
    store::tokens::void_for_account(tx, &account.id, &[purpose.as_str()], now).await?;
    let (secret, _) = links::issue(tx, ctx, purpose, Some(&account.id), None).await?;
    let link = links::url(ctx, CONFIRM_PATH, &secret);
    let expires = crate::domain::link::in_words(ctx.settings.links.of(purpose));
    mail::queue(
        tx,
        ctx,
        EmailTemplate::SignupConfirmation,
        &mail::Recipient {
            address: &account.email,
            name: &format!("{} {}", account.first_name, account.last_name),
            account_id: Some(&account.id),
        },
        &[
            ("first_name", &account.first_name),
            ("last_name", &account.last_name),
            ("link", &link),
            ("expires", &expires),
        ],
    )
    .await?;
    Ok(())
}

/// Resend the confirmation: only a pending account gets one; the answer is
/// the same for every address.
#[tracing::instrument(skip_all)]
pub async fn resend_confirmation(ctx: &Ctx, email: &str) -> Result<(), ServiceError> {
    let Ok(email) = Email::parse(email) else {
        return Ok(());
    };
    let mut tx = ctx.db.begin_write().await?;
    let account = store::accounts::detail_by_email(&mut tx, &email.key()).await?;
    let Some(account) = account.filter(|a| a.state == AccountState::Pending) else {
        return Ok(());
    };
    if !may_email(&mut tx, &account.id).await? {
        tracing::info!(account = %account.id, "confirmation not resent: email limit reached");
        return Ok(());
    }
    send_confirmation(&mut tx, ctx, &account).await?;
    tx.commit().await?;
    Ok(())
}

/// U8: an active account gets a self-service reset link (20 minutes); the
/// answer is the same for every address.
#[tracing::instrument(skip_all)]
pub async fn forgot_password(ctx: &Ctx, email: &str) -> Result<(), ServiceError> {
    let Ok(email) = Email::parse(email) else {
        return Ok(());
    };
    let mut tx = ctx.db.begin_write().await?;
    let account = store::accounts::detail_by_email(&mut tx, &email.key()).await?;
    let Some(account) = account.filter(|a| a.state.is_active()) else {
        tracing::info!("forgot password: no active account for the address");
        return Ok(());
    };
    if !may_email(&mut tx, &account.id).await? {
        tracing::info!(account = %account.id, "reset link not sent: email limit reached");
        return Ok(());
    }
    password_reset::send_link(&mut tx, ctx, &account, LinkPurpose::SelfReset).await?;
    tx.commit().await?;
    tracing::info!(account = %account.id, "self-service reset link sent");
    Ok(())
}

/// The account a confirmation link is for, without spending it.
#[tracing::instrument(skip_all)]
pub async fn for_link(
    ctx: &Ctx,
    secret: &str,
) -> Result<Result<AccountDetail, LinkProblem>, ServiceError> {
    let row = match links::check(ctx, secret, &[LinkPurpose::SignupConfirmation]).await? {
        Ok(r) => r,
        Err(p) => return Ok(Err(p)),
    };
    let Some(id) = row.account_id else {
        return Ok(Err(LinkProblem::Unknown));
    };
    Ok(store::accounts::detail(&ctx.db, &id)
        .await?
        .ok_or(LinkProblem::Unknown))
}

/// Spends the link: the pending account becomes active (U9). A blocked
/// account stays blocked.
#[tracing::instrument(skip_all)]
pub async fn confirm(
    ctx: &Ctx,
    origin: Origin,
    secret: &str,
) -> Result<Result<AccountDetail, LinkProblem>, ServiceError> {
    let mut tx = ctx.db.begin_write().await?;
    let row = match links::spend(&mut tx, secret, &[LinkPurpose::SignupConfirmation]).await? {
        Ok(r) => r,
        Err(p) => return Ok(Err(p)),
    };
    let Some(id) = row.account_id else {
        return Ok(Err(LinkProblem::Unknown));
    };
    let Some(before) = store::accounts::detail(&mut tx, &id).await? else {
        return Ok(Err(LinkProblem::Unknown));
    };
    if before.state == AccountState::Pending {
        store::accounts::set_state(&mut tx, &id, AccountState::Active.as_str()).await?;
        let after = accounts::load(&mut tx, &id).await?;
        audit::record(
            &mut tx,
            &origin.actor(&after.id, &after.email),
            "account.confirmed",
            &format!("{} confirmed their email address", after.email),
            &[accounts::subject(&after)],
            Some(&Snapshot::from(&before)),
            Some(&Snapshot::from(&after)),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(account = %id, "sign-up confirmed");
        return Ok(Ok(after));
    }
    tx.commit().await?;
    Ok(Ok(before))
}
