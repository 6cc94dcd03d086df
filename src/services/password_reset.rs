//! Password reset links (SPEC U7 by email, U10; SECURITY S-5 to S-7).

use crate::domain::Password;
use crate::domain::email_template::EmailTemplate;
use crate::domain::link::LinkPurpose;
use crate::services::links::{self, LinkProblem};
use crate::services::mail::{self, Recipient};
use crate::services::{Actor, Ctx, Origin, ServiceError, audit};
use crate::store::{self, Tx, accounts::AccountDetail, audit::Subject};

pub const RESET_PATH: &str = "/reset-password";

fn subject(a: &AccountDetail) -> Subject<'_> {
    Subject {
        kind: "account",
        id: &a.id,
        name: &a.email,
    }
}

/// Issues a reset link of `purpose` for the account, voiding older ones,
/// and queues the email, in `tx`.
pub(crate) async fn send_link(
    tx: &mut Tx,
    ctx: &Ctx,
    account: &AccountDetail,
    purpose: LinkPurpose,
) -> Result<(), ServiceError> {
    let now = tx.now();
    store::tokens::void_for_account(tx, &account.id, &LinkPurpose::RESETS, now).await?;
    let (secret, _) = links::issue(tx, ctx, purpose, Some(&account.id), None).await?;
    let link = links::url(ctx, RESET_PATH, &secret);
    mail::queue(
        tx,
        ctx,
        EmailTemplate::PasswordReset,
        &Recipient {
            address: &account.email,
            name: &format!("{} {}", account.first_name, account.last_name),
            account_id: Some(&account.id),
        },
        &[
            ("first_name", &account.first_name),
            ("last_name", &account.last_name),
            ("link", &link),
        ],
    )
    .await?;
    Ok(())
}

/// U7 (console): emails the account a single-use reset link (12 h).
#[tracing::instrument(skip_all)]
pub async fn send_by_admin(
    ctx: &Ctx,
    actor: &Actor,
    id: &str,
) -> Result<AccountDetail, ServiceError> {
    let mut tx = ctx.db.begin_write().await?;
    let account = store::accounts::detail(&mut tx, id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    send_link(&mut tx, ctx, &account, LinkPurpose::AdminReset).await?;
    audit::record(
        &mut tx,
        actor,
        "account.reset_link_sent",
        &format!("Sent a password reset link to {}", account.email),
        &[subject(&account)],
        audit::NONE,
        audit::NONE,
    )
    .await?;
    tx.commit().await?;
    Ok(account)
}

/// The account a reset link is for, without spending it (GET shows a form).
#[tracing::instrument(skip_all)]
pub async fn for_link(
    ctx: &Ctx,
    secret: &str,
) -> Result<Result<AccountDetail, LinkProblem>, ServiceError> {
    let row = match links::check(
        ctx,
        secret,
        &[LinkPurpose::AdminReset, LinkPurpose::SelfReset],
    )
    .await?
    {
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

pub enum ResetError {
    Link(LinkProblem),
    Service(ServiceError),
}

impl From<ServiceError> for ResetError {
    fn from(e: ServiceError) -> Self {
        Self::Service(e)
    }
}

impl From<sqlx::Error> for ResetError {
    fn from(e: sqlx::Error) -> Self {
        Self::Service(e.into())
    }
}

/// Spends the link and sets the password: every session of the account
/// ends and every other reset link dies (U10, S-5). Does not sign in (S-7).
#[tracing::instrument(skip_all)]
pub async fn complete(
    ctx: &Ctx,
    origin: Origin,
    secret: &str,
    password: &Password,
) -> Result<AccountDetail, ResetError> {
    let hash = ctx
        .hasher
        .hash(password)
        .await
        .map_err(ServiceError::from)?;
    let mut tx = ctx.db.begin_write().await?;
    let row = match links::spend(
        &mut tx,
        secret,
        &[LinkPurpose::AdminReset, LinkPurpose::SelfReset],
    )
    .await?
    {
        Ok(r) => r,
        Err(p) => return Err(ResetError::Link(p)),
    };
    let id = row
        .account_id
        .ok_or(ResetError::Link(LinkProblem::Unknown))?;
    let account = store::accounts::detail(&mut tx, &id)
        .await?
        .ok_or(ResetError::Link(LinkProblem::Unknown))?;
    crate::services::accounts::replace_password(&mut tx, &id, &hash).await?;
    let actor = origin.actor(&id, &account.email);
    audit::record(
        &mut tx,
        &actor,
        "account.password_reset",
        &format!("{} reset the password with an emailed link", account.email),
        &[subject(&account)],
        audit::NONE,
        audit::NONE,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(account = %id, "password reset by link");
    Ok(account)
}

/// The words a new password must not be built from.
pub fn related(a: &AccountDetail) -> [&str; 3] {
    [&a.email, &a.first_name, &a.last_name]
}
