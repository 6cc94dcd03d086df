//! Signing in (S-3, S-4) and checking a session against the account (S-10).

use crate::domain::account::signin_delay_secs;
use crate::domain::{AccountState, Email};
use crate::services::remembered::Remembered;
use crate::services::{Ctx, ServiceError};
use crate::store::{self, sessions::SessionAccount};

/// Where a person signs in: the console admits administrators only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Realm {
    Console,
    Portal,
}

/// The session check's memory (`remembered`), by (account id, session id):
/// about 300 bytes a session, so near 3 MB when full.
pub struct SessionChecks(Remembered<(String, String), Option<SessionAccount>>);

impl Default for SessionChecks {
    fn default() -> Self {
        Self(Remembered::new(10_000))
    }
}

/// The account of session `sid` of `account_id`, unless that session was
/// signed out or the account is gone; remembered until the next commit.
async fn session_row(
    ctx: &Ctx,
    account_id: &str,
    sid: &str,
) -> Result<Option<SessionAccount>, sqlx::Error> {
    ctx.sessions
        .0
        .get_or_read(
            (account_id.to_owned(), sid.to_owned()),
            store::sessions::session_account(&ctx.db, account_id, sid),
        )
        .await
}

pub struct SignedIn {
    pub account_id: String,
    pub session_epoch: i64,
}

#[derive(Debug)]
pub enum SignInError {
    /// Unknown address, wrong password, no password yet, or throttled: one
    /// answer for all of them, so nothing can be learned from it (S-3, S-4).
    Refused,
    /// The password was right but the account is blocked.
    Blocked,
    /// The password was right but the account is not active yet.
    Pending,
    /// The password was right but the console is for administrators only.
    NotAdministrator,
    Service(ServiceError),
}

impl<E: Into<ServiceError>> From<E> for SignInError {
    fn from(e: E) -> Self {
        Self::Service(e.into())
    }
}

#[tracing::instrument(skip_all)]
pub async fn sign_in(
    ctx: &Ctx,
    realm: Realm,
    email: &str,
    password: &str,
) -> Result<SignedIn, SignInError> {
    let key = Email::key_of(email);
    let now = ctx.now();

    // Claim the attempt before checking the password: each attempt first
    // counts as a failure, in one write transaction, so parallel guesses
    // cannot slip past the throttle between a check and its update.
    let mut tx = ctx.db.begin_write().await?;
    let creds = store::sessions::credentials(&mut tx, &key).await?;
    let Some(creds) = creds else {
        tx.rollback().await?;
        ctx.hasher.verify(None, password).await?;
        tracing::info!(realm = ?realm, "sign-in refused: unknown address");
        crate::metrics::sign_in("failure");
        return Err(SignInError::Refused);
    };
    if now < creds.locked_until {
        tx.rollback().await?;
        ctx.hasher.verify(None, password).await?;
        tracing::warn!(account = %creds.id, "sign-in throttled");
        crate::metrics::sign_in("throttled");
        return Err(SignInError::Refused);
    }
    let failures = creds.failed_signins + 1;
    store::sessions::record_signin_failure(
        &mut tx,
        &creds.id,
        failures,
        now + signin_delay_secs(failures),
    )
    .await?;
    tx.commit().await?;

    if !ctx
        .hasher
        .verify(creds.password_hash.as_deref(), password)
        .await?
    {
        tracing::warn!(account = %creds.id, failures, "sign-in failed: wrong password");
        crate::metrics::sign_in("failure");
        return Err(SignInError::Refused);
    }
    store::sessions::clear_signin_failures(&ctx.db, &creds.id).await?;
    match creds.state {
        AccountState::Blocked => {
            tracing::warn!(account = %creds.id, "sign-in refused: blocked");
            return Err(SignInError::Blocked);
        }
        AccountState::Pending => return Err(SignInError::Pending),
        AccountState::Active => {}
    }
    if realm == Realm::Console && !creds.is_admin {
        tracing::warn!(account = %creds.id, "console sign-in refused: not an administrator");
        return Err(SignInError::NotAdministrator);
    }
    tracing::info!(account = %creds.id, realm = ?realm, "signed in");
    crate::metrics::sign_in("success");
    Ok(SignedIn {
        account_id: creds.id.into(),
        session_epoch: creds.session_epoch,
    })
}

/// S-11: whether a session signed in at `since` and last seen at `seen`
/// has outlived its realm's timeouts at `now` (the console's idle timeout
/// too; the portal has only the absolute lifetime).
pub fn timed_out(ctx: &Ctx, realm: Realm, since: i64, seen: i64, now: i64) -> bool {
    let t = &ctx.settings.timeouts;
    let too_old = now - since >= t.session_absolute.as_secs() as i64;
    let idle = realm == Realm::Console && now - seen > t.console_idle.as_secs() as i64;
    too_old || idle
}

/// Whether a session is still good (S-10): not signed out, the account
/// exists and is active, and its epoch has not moved on since sign-in;
/// else why not, so the person can be told.
#[derive(Debug)]
pub enum SessionCheck {
    Good(SessionAccount),
    /// The account was blocked since (U5).
    Blocked,
    /// Signed out, deleted, password changed, or otherwise no longer valid.
    Ended,
}

pub async fn check_session(
    ctx: &Ctx,
    account_id: &str,
    sid: &str,
    epoch: i64,
) -> Result<SessionCheck, ServiceError> {
    let account = session_row(ctx, account_id, sid).await?;
    Ok(match account {
        Some(a) if a.state == AccountState::Blocked => SessionCheck::Blocked,
        Some(a) if a.state.is_active() && a.session_epoch == epoch => SessionCheck::Good(a),
        _ => SessionCheck::Ended,
    })
}

/// Signing out ends this session for good, even if its cookie was copied.
#[tracing::instrument(skip_all)]
pub async fn sign_out(ctx: &Ctx, sid: &str, signed_in_at: i64) -> Result<(), ServiceError> {
    let expires_at = signed_in_at + ctx.settings.timeouts.session_absolute.as_secs() as i64;
    let mut tx = ctx.db.begin_write().await?;
    let now = tx.now();
    store::sessions::revoke_session(&mut tx, sid, expires_at, now).await?;
    tx.commit().await?;
    Ok(())
}
