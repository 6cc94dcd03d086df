//! The token endpoint (RFC 6749 §4.1.3, §6; OpenID Connect Core §3.1.3,
//! §12; S-21, O5): a code or a refresh token becomes an ID token, an
//! access token and a new refresh token, each check in one transaction
//! with what it uses up.

use serde::Serialize;

use crate::domain::application::{ClientKind, may_sign_in};
use crate::domain::ids;
use crate::domain::oidc::{self, ACCESS_TOKEN_SECS, ErrorCode, REFRESH_TOKEN_SECS, Scope};
use crate::services::Ctx;
use crate::store::{
    self, Tx, applications::Application, oidc_grants::ClaimsRow, oidc_grants::RefreshRow,
};

use super::claims::{self, MintInput};
use super::{Failure, refuse};

/// Who the client says it is: from HTTP Basic or the form (RFC 6749 §2.3.1).
pub struct ClientAuth {
    pub client_id: String,
    pub secret: Option<String>,
}

pub enum Grant {
    Code {
        code: String,
        redirect_uri: String,
        verifier: Option<String>,
    },
    Refresh {
        token: String,
        scope: Option<String>,
    },
}

#[derive(Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub id_token: String,
    pub refresh_token: String,
    pub scope: String,
}

/// A confidential client must present its secret; a public one has none.
async fn authenticate(ctx: &Ctx, auth: &ClientAuth) -> Result<Application, Failure> {
    let app = store::applications::get(&ctx.db, &auth.client_id).await?;
    let Some(app) = app else {
        return refuse(ErrorCode::InvalidClient, "unknown client");
    };
    let good = match (app.row.kind, auth.secret.as_deref()) {
        (ClientKind::Public, None) => true,
        (ClientKind::Public, Some(_)) => false,
        (ClientKind::Confidential, None) => false,
        (ClientKind::Confidential, Some(secret)) => app.secret_matches(&oidc::hash_of(secret)),
    };
    if !good {
        tracing::warn!(application = %app.row.id, "token request refused: client authentication failed");
        return refuse(ErrorCode::InvalidClient, "client authentication failed");
    }
    Ok(app)
}

pub async fn token(ctx: &Ctx, auth: ClientAuth, grant: Grant) -> Result<TokenResponse, Failure> {
    let app = authenticate(ctx, &auth).await?;
    let (account, scope, nonce, auth_time, refresh) = match grant {
        Grant::Code {
            code,
            redirect_uri,
            verifier,
        } => exchange_code(ctx, &app, &code, &redirect_uri, verifier.as_deref()).await?,
        Grant::Refresh { token, scope } => refresh(ctx, &app, &token, scope.as_deref()).await?,
    };
    let minted = claims::mint(
        ctx,
        MintInput {
            app: &app,
            account: &account,
            scope: &scope,
            nonce: nonce.as_deref(),
            auth_time,
        },
    )
    .await?;
    Ok(TokenResponse {
        access_token: minted.access_token,
        token_type: "Bearer",
        expires_in: ACCESS_TOKEN_SECS,
        id_token: minted.id_token,
        refresh_token: refresh,
        scope: scope.as_string(),
    })
}

type Granted = (ClaimsRow, Scope, Option<String>, i64, String);

/// Commits what was used up (a code marked used, a chain revoked), then refuses.
async fn refuse_after(tx: Tx, description: &str) -> Result<Granted, Failure> {
    tx.commit().await?;
    refuse(ErrorCode::InvalidGrant, description)
}

async fn exchange_code(
    ctx: &Ctx,
    app: &Application,
    code: &str,
    redirect_uri: &str,
    verifier: Option<&str>,
) -> Result<Granted, Failure> {
    let mut tx = ctx.db.begin_write().await?;
    let now = tx.now();
    let Some(c) = store::oidc_grants::take_code(&mut tx, &oidc::hash_of(code)).await? else {
        tx.rollback().await?;
        return refuse(ErrorCode::InvalidGrant, "unknown code");
    };
    if c.used_at.is_some() {
        // A code used twice: whoever has it, what it gave ends (RFC 6749 §4.1.2).
        store::oidc_grants::revoke_family(&mut tx, &c.family).await?;
        tracing::warn!(application = %app.row.id, "authorization code reused: its tokens are revoked");
        return refuse_after(tx, "the code was used already").await;
    }
    if c.expires_at <= now {
        return refuse_after(tx, "the code has expired").await;
    }
    if c.application_id != app.row.id {
        return refuse_after(tx, "the code was issued to another client").await;
    }
    if c.redirect_uri != redirect_uri {
        return refuse_after(tx, "redirect_uri is not the one the code was issued for").await;
    }
    let pkce_ok = match (c.code_challenge.as_deref(), verifier) {
        (Some(challenge), Some(v)) => oidc::verifier_matches(v, challenge),
        (None, None) => true,
        _ => false,
    };
    if !pkce_ok {
        return refuse_after(tx, "the PKCE code_verifier is missing or wrong").await;
    }
    let Some(account) = still_allowed(&mut tx, app, &c.account_id, c.session_epoch).await? else {
        return refuse_after(tx, "the account may not have tokens").await;
    };
    let refresh = new_refresh(&mut tx, app, &account, &c.family, &c.scope, c.auth_time).await?;
    tx.commit().await?;
    let scope = Scope::parse(&c.scope).ok_or_else(|| Failure::Service(bad_row()))?;
    tracing::info!(application = %app.row.id, account = %account.id, "code exchanged for tokens");
    Ok((account, scope, c.nonce, c.auth_time, refresh))
}

async fn refresh(
    ctx: &Ctx,
    app: &Application,
    token: &str,
    asked: Option<&str>,
) -> Result<Granted, Failure> {
    let mut tx = ctx.db.begin_write().await?;
    let now = tx.now();
    let Some(r) = store::oidc_grants::take_refresh(&mut tx, &oidc::hash_of(token)).await? else {
        tx.rollback().await?;
        return refuse(ErrorCode::InvalidGrant, "unknown or revoked refresh token");
    };
    if r.used_at.is_some() {
        store::oidc_grants::revoke_family(&mut tx, &r.family).await?;
        tracing::warn!(application = %app.row.id, account = %r.account_id, "refresh token reused: its chain is revoked");
        return refuse_after(
            tx,
            "the refresh token was used already; its chain is revoked",
        )
        .await;
    }
    if r.expires_at <= now {
        return refuse_after(tx, "the refresh token has expired").await;
    }
    if r.application_id != app.row.id {
        store::oidc_grants::revoke_family(&mut tx, &r.family).await?;
        return refuse_after(tx, "the refresh token was issued to another client").await;
    }
    let scope = Scope::parse(&r.scope).ok_or_else(|| Failure::Service(bad_row()))?;
    let widened = asked
        .filter(|s| !s.trim().is_empty())
        .is_some_and(|a| !Scope::parse(a).is_some_and(|a| a.within(&scope)));
    if widened {
        tx.rollback().await?;
        return refuse(ErrorCode::InvalidScope, "a refresh cannot widen the scope");
    }
    let Some(account) = still_allowed(&mut tx, app, &r.account_id, r.session_epoch).await? else {
        store::oidc_grants::revoke_family(&mut tx, &r.family).await?;
        return refuse_after(tx, "the account may not have tokens").await;
    };
    let refresh = new_refresh(&mut tx, app, &account, &r.family, &r.scope, r.auth_time).await?;
    tx.commit().await?;
    // OpenID Connect Core §12.2: a refreshed ID token carries no nonce.
    Ok((account, scope, None, r.auth_time, refresh))
}

/// O5: the account exists, is active, has not had its sessions ended
/// (block, password change) since `epoch`, and may still sign in here.
async fn still_allowed(
    tx: &mut Tx,
    app: &Application,
    account_id: &str,
    epoch: i64,
) -> Result<Option<ClaimsRow>, Failure> {
    let account = store::oidc_grants::claims_of(&mut *tx, account_id).await?;
    Ok(account.filter(|a| {
        let groups: Vec<String> = a.groups().into_iter().map(|(id, _)| id).collect();
        a.still_good_since(epoch) && may_sign_in(&app.sign_in_groups, &groups)
    }))
}

async fn new_refresh(
    tx: &mut Tx,
    app: &Application,
    account: &ClaimsRow,
    family: &str,
    scope: &str,
    auth_time: i64,
) -> Result<String, Failure> {
    let token = ids::new_secret();
    let expires_at = tx.now() + REFRESH_TOKEN_SECS;
    store::oidc_grants::insert_refresh(
        tx,
        &oidc::hash_of(&token),
        &RefreshRow {
            family: family.to_owned(),
            application_id: app.row.id.clone(),
            account_id: account.id.clone(),
            scope: scope.to_owned(),
            auth_time,
            session_epoch: account.session_epoch,
            expires_at,
            used_at: None,
        },
    )
    .await?;
    Ok(token)
}

fn bad_row() -> crate::services::ServiceError {
    crate::services::ServiceError::Unexpected(anyhow::anyhow!("a stored scope does not parse"))
}
