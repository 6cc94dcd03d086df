//! Signing in through an outside OpenID provider (SPEC X1–X3, S-22): the
//! start (where to send the person), the return (the provider's answer
//! checked, the account found, linked or made, its external groups
//! replaced from the claim, all in one transaction with the audit), and
//! unlinking an identity.

mod linking;
pub mod provider_client;
mod sync;

use std::net::IpAddr;

use provider_client::{Pending, ProviderError, Relying};

use crate::domain::AccountState;
use crate::services::auth::SignedIn;
use crate::services::{Actor, Ctx, ServiceError, audit};
use crate::store::{self, audit::Subject, identity_providers::ProviderRow};

/// How long a person may spend at the provider between start and return.
pub const PENDING_FOR_SECS: i64 = 600;

/// What the person who tried to sign in is told (the cause is logged).
#[derive(Debug, thiserror::Error)]
pub enum ExternalError {
    /// Unknown or disabled provider.
    #[error("this sign-in option is not available")]
    Unavailable,
    /// The provider cannot be reached or answered what Portal refuses
    /// (wrong state, a replayed code, a bad token): start again.
    #[error("the sign-in with the provider did not complete")]
    Failed,
    /// The provider said no (the person cancelled, or was refused there).
    #[error("the provider did not sign you in")]
    Denied,
    /// No account is linked, and none could be linked or made (no verified
    /// email, creation off, an administrator's address).
    #[error("no account")]
    NoAccount,
    #[error("blocked")]
    Blocked,
    #[error("pending")]
    Pending,
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<sqlx::Error> for ExternalError {
    fn from(e: sqlx::Error) -> Self {
        Self::Service(e.into())
    }
}

/// The absolute URL the provider returns to, to register there (X1).
pub fn callback_url(ctx: &Ctx, provider_id: &str) -> String {
    format!(
        "{}{}",
        ctx.settings.base_url,
        crate::web::paths::portal::external_callback(provider_id)
    )
}

async fn enabled_provider(ctx: &Ctx, id: &str) -> Result<(ProviderRow, String), ExternalError> {
    let p = store::identity_providers::get(&ctx.db, id)
        .await?
        .filter(|p| p.enabled)
        .ok_or(ExternalError::Unavailable)?;
    let secret = store::identity_providers::secret(&ctx.db, id)
        .await?
        .ok_or(ExternalError::Unavailable)?;
    Ok((p, secret))
}

fn relying<'a>(p: &'a ProviderRow, secret: &'a str, callback: &'a str) -> Relying<'a> {
    Relying {
        issuer: &p.issuer,
        client_id: &p.client_id,
        client_secret: secret,
        scopes: &p.scopes,
        redirect_uri: callback,
    }
}

fn failed(provider: &str, e: ProviderError) -> ExternalError {
    tracing::warn!(provider, error = %e, "external sign-in failed");
    ExternalError::Failed
}

/// Where to send the person, and what to keep until they return.
#[tracing::instrument(skip_all, fields(provider = %provider_id))]
pub async fn start(ctx: &Ctx, provider_id: &str) -> Result<(String, Pending), ExternalError> {
    let (p, secret) = enabled_provider(ctx, provider_id).await?;
    let callback = callback_url(ctx, &p.id);
    provider_client::authorization_url(&relying(&p, &secret, &callback), &p.id, ctx.now())
        .await
        .map_err(|e| failed(provider_id, e))
}

/// The provider's answer at the callback.
pub struct Callback<'a> {
    pub code: Option<&'a str>,
    pub state: Option<&'a str>,
    pub error: Option<&'a str>,
}

/// Checks the answer against what the start kept (`pending`, taken from
/// the session: one use), exchanges the code, and signs the account in.
#[tracing::instrument(skip_all, fields(provider = %provider_id))]
pub async fn finish(
    ctx: &Ctx,
    provider_id: &str,
    pending: Option<Pending>,
    answer: &Callback<'_>,
    client: Option<IpAddr>,
) -> Result<SignedIn, ExternalError> {
    let now = ctx.now();
    // The state ties the answer to this browser's start (S-22); the
    // provider id to the provider it started with (no mix-up).
    let Some(pending) = pending.filter(|p| {
        p.provider_id == provider_id
            && answer.state.is_some_and(|s| {
                subtle::ConstantTimeEq::ct_eq(s.as_bytes(), p.state.as_bytes()).into()
            })
            && now - p.started_at <= PENDING_FOR_SECS
    }) else {
        tracing::warn!("external sign-in refused: no matching start (state)");
        return Err(ExternalError::Failed);
    };
    if let Some(error) = answer.error {
        tracing::info!(error, "external sign-in: the provider answered an error");
        return Err(ExternalError::Denied);
    }
    let code = answer.code.ok_or(ExternalError::Failed)?;
    let (p, secret) = enabled_provider(ctx, provider_id).await?;
    let callback = callback_url(ctx, &p.id);
    let identity = provider_client::exchange(
        &relying(&p, &secret, &callback),
        code,
        &pending,
        &p.groups_claim,
        now,
    )
    .await
    .map_err(|e| failed(provider_id, e))?;

    let mut tx = ctx.db.begin_write().await?;
    let account = linking::account_for(&mut tx, &p, &identity, client).await?;
    match account.state {
        AccountState::Active => {}
        AccountState::Blocked => {
            tracing::warn!(account = %account.id, "external sign-in refused: blocked");
            return Err(ExternalError::Blocked);
        }
        AccountState::Pending => return Err(ExternalError::Pending),
    }
    let actor = Actor::portal(&account.id, &account.email, client);
    sync::replace_external_groups(&mut tx, &actor, &p, &account, identity.groups.as_ref()).await?;
    store::identities::signed_in(&mut tx, &p.id, &identity.subject, now).await?;
    let epoch = store::sessions::epoch(&mut tx, &account.id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    tx.commit().await?;
    tracing::info!(account = %account.id, "signed in through an identity provider");
    Ok(SignedIn {
        account_id: account.id.to_string(),
        session_epoch: epoch,
    })
}

/// The account page's **Unlink**: the account no longer signs in with that
/// provider's subject (its external groups stay until the links are gone:
/// they are removed with the link, so nothing keeps granting).
#[tracing::instrument(skip_all)]
pub async fn unlink(
    ctx: &Ctx,
    actor: &Actor,
    account_id: &str,
    provider_id: &str,
    subject: &str,
) -> Result<(), ServiceError> {
    let mut tx = ctx.db.begin_write().await?;
    let account = crate::services::accounts::load(&mut tx, account_id).await?;
    if !store::identities::unlink(&mut tx, account_id, provider_id, subject).await? {
        return Err(ServiceError::NotFound);
    }
    let provider = store::identity_providers::get(&mut tx, provider_id)
        .await?
        .map(|p| p.name)
        .unwrap_or_default();
    let left = sync::leave_all(&mut tx, provider_id, account_id).await?;
    audit::record(
        &mut tx,
        actor,
        "account.identity_unlinked",
        &format!("Unlinked {} from its identity at {provider}", account.email),
        &[Subject {
            kind: "account",
            id: &account.id,
            name: &account.email,
        }],
        Some(&serde_json::json!({ "provider": provider, "subject": subject, "external_groups": left })),
        audit::NONE,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
