//! Issuing and checking single-use links (SECURITY S-5 to S-8).

use crate::domain::link::{LinkPurpose, LinkSecret, hash_of, looks_like_secret};
use crate::services::{Ctx, ServiceError};
use crate::store::{self, Tx, tokens::TokenRow};

/// Why a link cannot be used; each gets its own clear page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkProblem {
    /// Malformed or never issued.
    Unknown,
    Used,
    Expired,
    /// A newer link was sent, the invitation was cancelled, or the password changed.
    Superseded,
}

/// S-8: at most this many emails of one kind per account (or invitation) per window.
pub const EMAILS_PER_WINDOW: i64 = 3;
pub const WINDOW_SECS: i64 = 15 * 60;

/// Issues a link secret for `purpose`, valid for its configured lifetime.
pub(crate) async fn issue(
    tx: &mut Tx,
    ctx: &Ctx,
    purpose: LinkPurpose,
    account_id: Option<&str>,
    invitation_id: Option<&str>,
) -> Result<(String, i64), ServiceError> {
    let s = LinkSecret::new();
    let now = tx.now();
    let expires_at = now + ctx.settings.links.of(purpose);
    store::tokens::insert(
        tx,
        &store::tokens::NewToken {
            hash: &s.hash,
            purpose: purpose.as_str(),
            account_id,
            invitation_id,
            now,
            expires_at,
        },
    )
    .await?;
    Ok((s.secret, expires_at))
}

/// The link's URL, always from `BASE_URL`, never from the request (S-7).
pub fn url(ctx: &Ctx, path: &str, secret: &str) -> String {
    format!("{}{path}/{secret}", ctx.settings.base_url)
}

/// Looks a link up without spending it (the GET that shows the form).
#[tracing::instrument(skip_all)]
pub async fn check(
    ctx: &Ctx,
    secret: &str,
    purposes: &[LinkPurpose],
) -> Result<Result<TokenRow, LinkProblem>, ServiceError> {
    if !looks_like_secret(secret) {
        return Ok(Err(LinkProblem::Unknown));
    }
    let row = store::tokens::find(&ctx.db, &hash_of(secret)).await?;
    Ok(classify(row, purposes, ctx.now()))
}

pub(crate) fn classify(
    row: Option<TokenRow>,
    purposes: &[LinkPurpose],
    now: i64,
) -> Result<TokenRow, LinkProblem> {
    let Some(row) = row else {
        return Err(LinkProblem::Unknown);
    };
    if !purposes.iter().any(|p| p.as_str() == row.purpose) {
        return Err(LinkProblem::Unknown);
    }
    if row.used_at.is_some() {
        return Err(LinkProblem::Used);
    }
    if row.voided_at.is_some() {
        return Err(LinkProblem::Superseded);
    }
    if row.expires_at <= now {
        return Err(LinkProblem::Expired);
    }
    Ok(row)
}

/// Spends a link inside `tx`: exactly one of any number of simultaneous
/// submits gets the row; the others learn why not.
pub(crate) async fn spend(
    tx: &mut Tx,
    secret: &str,
    purposes: &[LinkPurpose],
) -> Result<Result<TokenRow, LinkProblem>, ServiceError> {
    if !looks_like_secret(secret) {
        return Ok(Err(LinkProblem::Unknown));
    }
    let hash = hash_of(secret);
    let now = tx.now();
    let row = store::tokens::find(&mut *tx, &hash).await?;
    let row = match classify(row, purposes, now) {
        Ok(r) => r,
        Err(p) => return Ok(Err(p)),
    };
    if !store::tokens::spend(tx, &hash, &row.purpose, now).await? {
        return Ok(Err(LinkProblem::Used));
    }
    Ok(Ok(row))
}
