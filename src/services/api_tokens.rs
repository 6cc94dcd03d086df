//! Management API access tokens (SPEC M5, SECURITY S-20): made and revoked
//! on the console's Management API page; every API request presents one.

use serde::Serialize;

use crate::domain::api_token::{self, NewApiToken};
use crate::domain::ids;
use crate::services::remembered::Remembered;
use crate::services::{Actor, Ctx, ServiceError, audit};
use crate::store::{self, api_tokens::ApiTokenRow, audit::Subject};

/// A new token, and its secret: shown once, never stored.
pub struct Created {
    pub token: ApiTokenRow,
    pub secret: String,
}

#[derive(Serialize)]
struct Snapshot<'a> {
    name: &'a str,
    expires_at: i64,
}

fn subject(t: &ApiTokenRow) -> Subject<'_> {
    Subject::setting(&t.id, &t.name)
}

#[tracing::instrument(skip_all)]
pub async fn create(ctx: &Ctx, actor: &Actor, new: &NewApiToken) -> Result<Created, ServiceError> {
    let secret = api_token::new_secret();
    let id = ids::new_id();
    let mut tx = ctx.db.begin_write().await?;
    let expires_at = tx.now() + new.days * 24 * 60 * 60;
    store::api_tokens::insert(
        &mut tx,
        &store::api_tokens::NewApiToken {
            id: &id,
            name: &new.name,
            hash: &api_token::hash_of(&secret),
            created_by: actor.id.as_deref(),
            expires_at,
        },
    )
    .await?;
    let token = store::api_tokens::get(&mut tx, &id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    audit::record(
        &mut tx,
        actor,
        "api_token.created",
        &format!("Created management API token {}", token.name),
        &[subject(&token)],
        audit::NONE,
        Some(&Snapshot {
            name: &token.name,
            expires_at,
        }),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(token = %id, actor = %actor.label, "management API token created");
    Ok(Created { token, secret })
}

#[tracing::instrument(skip_all)]
pub async fn revoke(ctx: &Ctx, actor: &Actor, id: &str) -> Result<ApiTokenRow, ServiceError> {
    let mut tx = ctx.db.begin_write().await?;
    let token = store::api_tokens::get(&mut tx, id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    if !store::api_tokens::revoke(&mut tx, id).await? {
        return Ok(token);
    }
    audit::record(
        &mut tx,
        actor,
        "api_token.revoked",
        &format!("Revoked management API token {}", token.name),
        &[subject(&token)],
        audit::NONE,
        audit::NONE,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(token = %id, actor = %actor.label, "management API token revoked");
    Ok(token)
}

#[tracing::instrument(skip_all)]
pub async fn list(ctx: &Ctx) -> Result<Vec<ApiTokenRow>, ServiceError> {
    Ok(store::api_tokens::list(&ctx.db).await?)
}

/// Whether a token may be used at `now`.
pub fn is_usable(t: &ApiTokenRow, now: i64) -> bool {
    t.revoked_at.is_none() && now < t.expires_at
}

/// The tokens' memory (`remembered`), by the secret's SHA-256: every API
/// request presents one, and a revocation is a commit, so it is honoured
/// by the next request.
pub struct TokenChecks(Remembered<[u8; 32], Option<ApiTokenRow>>);

impl Default for TokenChecks {
    fn default() -> Self {
        Self(Remembered::new(1_000))
    }
}

/// The caller behind `Authorization: Bearer <secret>`, when the token is
/// known, not revoked and not expired (S-20); its use is recorded at most
/// once a minute.
pub async fn authenticate(ctx: &Ctx, secret: &str) -> Result<Option<Actor>, ServiceError> {
    if !api_token::looks_like_secret(secret) {
        return Ok(None);
    }
    let hash = api_token::hash_of(secret);
    let token = ctx
        .api_tokens
        .0
        .get_or_read(hash, store::api_tokens::by_hash(&ctx.db, &hash))
        .await?;
    let now = ctx.now();
    let Some(token) = token.filter(|t| is_usable(t, now)) else {
        return Ok(None);
    };
    if token.last_used_at.is_none_or(|at| at < now - 60) {
        let mut tx = ctx.db.begin_write().await?;
        store::api_tokens::touch(&mut tx, &token.id).await?;
        tx.commit().await?;
    }
    Ok(Some(Actor::api(&token.id, &token.name)))
}
