//! Single-use links (SECURITY S-5): only a token's SHA-256 is stored.

use sqlx::FromRow;

use super::{Exec, Tx};
use crate::{execute, run, sql};

#[derive(Debug, Clone, FromRow)]
pub struct TokenRow {
    pub purpose: String,
    pub account_id: Option<String>,
    pub invitation_id: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub voided_at: Option<i64>,
}

pub struct NewToken<'a> {
    pub hash: &'a [u8],
    pub purpose: &'a str,
    pub account_id: Option<&'a str>,
    pub invitation_id: Option<&'a str>,
    pub now: i64,
    pub expires_at: i64,
}

pub async fn insert(tx: &mut Tx, t: &NewToken<'_>) -> Result<(), sqlx::Error> {
    execute!(
        tx,
        sql!(
            "INSERT INTO tokens (hash, purpose, account_id, invitation_id, created_at, expires_at)
             VALUES (?, ?, ?, ?, ?, ?)"
        ),
        t.hash,
        t.purpose,
        t.account_id,
        t.invitation_id,
        t.now,
        t.expires_at
    )?;
    Ok(())
}

pub async fn find<'c>(e: impl Exec<'c>, hash: &[u8]) -> Result<Option<TokenRow>, sqlx::Error> {
    run!(
        e,
        sql!(
            "SELECT purpose, account_id, invitation_id, created_at, expires_at, used_at, voided_at
             FROM tokens WHERE hash = ?"
        ),
        |x, q| sqlx::query_as(q).bind(hash).fetch_optional(x).await
    )
}

/// Spends a live token: true for exactly one caller, however many submit
/// the same link at once (S-5).
pub async fn spend(tx: &mut Tx, hash: &[u8], purpose: &str, now: i64) -> Result<bool, sqlx::Error> {
    let n = execute!(
        tx,
        sql!(
            "UPDATE tokens SET used_at = ?1
             WHERE hash = ?2 AND purpose = ?3 AND used_at IS NULL AND voided_at IS NULL AND expires_at > ?1"
        ),
        now,
        hash,
        purpose
    )?;
    Ok(n == 1)
}

/// Voids the live tokens of an account for these purposes (a newer one was
/// issued, or the password changed).
pub async fn void_for_account(
    tx: &mut Tx,
    account_id: &str,
    purposes: &[&str],
    now: i64,
) -> Result<(), sqlx::Error> {
    execute!(
        tx,
        sql!(
            sqlite: "UPDATE tokens SET voided_at = ?
                     WHERE account_id = ? AND purpose IN (SELECT value FROM json_each(?))
                       AND used_at IS NULL AND voided_at IS NULL",
            pg: "UPDATE tokens SET voided_at = $1
                 WHERE account_id = $2 AND purpose IN (SELECT json_array_elements_text($3::json))
                   AND used_at IS NULL AND voided_at IS NULL"
        ),
        now,
        account_id,
        serde_json::to_string(purposes).unwrap_or_default()
    )?;
    Ok(())
}

pub async fn void_for_invitation(
    tx: &mut Tx,
    invitation_id: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    execute!(
        tx,
        sql!(
            "UPDATE tokens SET voided_at = ? WHERE invitation_id = ? AND used_at IS NULL AND voided_at IS NULL"
        ),
        now,
        invitation_id
    )?;
    Ok(())
}

/// Tokens issued since `since` for an account or invitation and purpose (S-8).
pub async fn issued_since<'c>(
    e: impl Exec<'c>,
    account_id: Option<&str>,
    invitation_id: Option<&str>,
    purpose: &str,
    since: i64,
) -> Result<i64, sqlx::Error> {
    run!(
        e,
        sql!(
            "SELECT count(*) FROM tokens
             WHERE purpose = ? AND created_at >= ? AND (account_id = ? OR invitation_id = ?)"
        ),
        |x, q| sqlx::query_scalar(q)
            .bind(purpose)
            .bind(since)
            .bind(account_id)
            .bind(invitation_id)
            .fetch_one(x)
            .await
    )
}
