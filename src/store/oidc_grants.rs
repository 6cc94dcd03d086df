//! What the OpenID provider hands out and takes back (S-21): codes,
//! refresh tokens (both only as SHA-256) and consents.

use sqlx::FromRow;

use super::{Exec, Tx};
use crate::{execute, run, sql};

/// A code's binding: who, to which application, for which redirect URI
/// and PKCE challenge, with what scope.
#[derive(Debug, Clone, FromRow)]
pub struct CodeRow {
    pub application_id: String,
    pub account_id: String,
    pub redirect_uri: String,
    pub code_challenge: Option<String>,
    pub nonce: Option<String>,
    pub scope: String,
    pub auth_time: i64,
    pub session_epoch: i64,
    pub family: String,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

/// Stores a code; forgets codes that expired an hour ago (used ones are
/// kept that long so that a replay can still revoke what they gave).
pub async fn insert_code(tx: &mut Tx, hash: &[u8], c: &CodeRow) -> Result<(), sqlx::Error> {
    let now = tx.now();
    execute!(
        &mut *tx,
        sql!("DELETE FROM oidc_codes WHERE expires_at < ?"),
        now - 3600
    )?;
    execute!(
        tx,
        sql!(
            "INSERT INTO oidc_codes (code_hash, application_id, account_id, redirect_uri, code_challenge,
                                     nonce, scope, auth_time, session_epoch, family, expires_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ),
        hash,
        &c.application_id,
        &c.account_id,
        &c.redirect_uri,
        &c.code_challenge,
        &c.nonce,
        &c.scope,
        c.auth_time,
        c.session_epoch,
        &c.family,
        c.expires_at
    )?;
    Ok(())
}

/// The code with this hash, marked used from now on (its `used_at` as it
/// was before: `Some` means it had been used already).
pub async fn take_code(tx: &mut Tx, hash: &[u8]) -> Result<Option<CodeRow>, sqlx::Error> {
    let now = tx.now();
    // One statement in the usual case; the row lock it takes on PostgreSQL
    // makes a second exchange of the same code wait and then find it used.
    let fresh: Option<CodeRow> = run!(
        &mut *tx,
        sql!(
            "UPDATE oidc_codes SET used_at = ? WHERE code_hash = ? AND used_at IS NULL
             RETURNING application_id, account_id, redirect_uri, code_challenge, nonce, scope,
                       auth_time, session_epoch, family, expires_at, used_at"
        ),
        |x, q| sqlx::query_as(q)
            .bind(now)
            .bind(hash)
            .fetch_optional(x)
            .await
    )?;
    if let Some(mut row) = fresh {
        row.used_at = None;
        return Ok(Some(row));
    }
    run!(
        tx,
        sql!(
            "SELECT application_id, account_id, redirect_uri, code_challenge, nonce, scope, auth_time,
                    session_epoch, family, expires_at, used_at
             FROM oidc_codes WHERE code_hash = ?"
        ),
        |x, q| sqlx::query_as(q).bind(hash).fetch_optional(x).await
    )
}

#[derive(Debug, Clone, FromRow)]
pub struct RefreshRow {
    pub family: String,
    pub application_id: String,
    pub account_id: String,
    pub scope: String,
    pub auth_time: i64,
    pub session_epoch: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

/// Stores a refresh token; forgets expired ones.
pub async fn insert_refresh(tx: &mut Tx, hash: &[u8], r: &RefreshRow) -> Result<(), sqlx::Error> {
    let now = tx.now();
    execute!(
        &mut *tx,
        sql!("DELETE FROM oidc_refresh_tokens WHERE expires_at < ?"),
        now
    )?;
    execute!(
        tx,
        sql!(
            "INSERT INTO oidc_refresh_tokens (token_hash, family, application_id, account_id, scope,
                                              auth_time, session_epoch, expires_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        ),
        hash,
        &r.family,
        &r.application_id,
        &r.account_id,
        &r.scope,
        r.auth_time,
        r.session_epoch,
        r.expires_at
    )?;
    Ok(())
}

/// The refresh token with this hash, marked used from now on (`used_at`
/// as it was before).
pub async fn take_refresh(tx: &mut Tx, hash: &[u8]) -> Result<Option<RefreshRow>, sqlx::Error> {
    let now = tx.now();
    let fresh: Option<RefreshRow> = run!(
        &mut *tx,
        sql!(
            "UPDATE oidc_refresh_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL
             RETURNING family, application_id, account_id, scope, auth_time, session_epoch,
                       expires_at, used_at"
        ),
        |x, q| sqlx::query_as(q)
            .bind(now)
            .bind(hash)
            .fetch_optional(x)
            .await
    )?;
    if let Some(mut row) = fresh {
        row.used_at = None;
        return Ok(Some(row));
    }
    run!(
        tx,
        sql!(
            "SELECT family, application_id, account_id, scope, auth_time, session_epoch, expires_at, used_at
             FROM oidc_refresh_tokens WHERE token_hash = ?"
        ),
        |x, q| sqlx::query_as(q).bind(hash).fetch_optional(x).await
    )
}

/// Ends a chain of refresh tokens: every token of the family goes.
pub async fn revoke_family(tx: &mut Tx, family: &str) -> Result<u64, sqlx::Error> {
    execute!(
        tx,
        sql!("DELETE FROM oidc_refresh_tokens WHERE family = ?"),
        family
    )
}

/// The scope an account allowed an application, if it was asked before.
pub async fn consent<'c>(
    e: impl Exec<'c>,
    account_id: &str,
    application_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    run!(
        e,
        sql!("SELECT scope FROM oidc_consents WHERE account_id = ? AND application_id = ?"),
        |x, q| sqlx::query_scalar(q)
            .bind(account_id)
            .bind(application_id)
            .fetch_optional(x)
            .await
    )
}

pub async fn put_consent(
    tx: &mut Tx,
    account_id: &str,
    application_id: &str,
    scope: &str,
) -> Result<(), sqlx::Error> {
    let now = tx.now();
    execute!(
        tx,
        sql!(
            "INSERT INTO oidc_consents (account_id, application_id, scope, granted_at) VALUES (?, ?, ?, ?)
             ON CONFLICT (account_id, application_id) DO UPDATE SET scope = excluded.scope, granted_at = excluded.granted_at"
        ),
        account_id,
        application_id,
        scope,
        now
    )?;
    Ok(())
}

/// What tokens and userinfo say of an account (O3), with what decides
/// whether it may have them (O5): its state and session epoch.
#[derive(Debug, Clone, FromRow)]
pub struct ClaimsRow {
    pub id: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    #[sqlx(try_from = "String")]
    pub state: crate::domain::AccountState,
    pub session_epoch: i64,
    /// `[[id, name], …]` of every group it is in, Developers included,
    /// system groups first, then by name.
    pub groups: String,
}

impl ClaimsRow {
    /// O5, S-10: the account may still have tokens issued at session epoch
    /// `epoch`: it is active, and no block or password change came since.
    pub fn still_good_since(&self, epoch: i64) -> bool {
        self.state.is_active() && self.session_epoch == epoch
    }

    pub fn groups(&self) -> Vec<(String, String)> {
        serde_json::from_str(&self.groups).unwrap_or_default()
    }
}

pub async fn claims_of<'c>(
    e: impl Exec<'c>,
    account_id: &str,
) -> Result<Option<ClaimsRow>, sqlx::Error> {
    run!(
        e,
        sql!(
            sqlite: "SELECT a.id, a.email, a.first_name, a.last_name, a.state, a.session_epoch,
                            (SELECT json_group_array(json_array(id, name)) FROM (
                                SELECT g.id, g.name FROM groups g
                                WHERE g.id = 'developers'
                                   OR g.id IN (SELECT m.group_id FROM memberships m
                                               WHERE m.sort_name = a.sort_name AND m.account_id = a.id)
                                ORDER BY g.kind <> 'system', g.name_key)) AS groups
                     FROM accounts a WHERE a.id = ?",
            pg: "SELECT a.id, a.email, a.first_name, a.last_name, a.state, a.session_epoch,
                        (SELECT coalesce(json_agg(json_build_array(g.id, g.name)
                                                  ORDER BY g.kind <> 'system', g.name_key), '[]')::text
                         FROM groups g
                         WHERE g.id = 'developers'
                            OR g.id IN (SELECT m.group_id FROM memberships m
                                        WHERE m.sort_name = a.sort_name AND m.account_id = a.id)) AS groups
                 FROM accounts a WHERE a.id = $1"
        ),
        |x, q| sqlx::query_as(q).bind(account_id).fetch_optional(x).await
    )
}
