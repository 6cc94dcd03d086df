//! Management API access tokens (M5, S-20): only their SHA-256 is stored.

use sqlx::FromRow;

use super::{Exec, Tx};
use crate::{execute, run, sql};

#[derive(Debug, Clone, FromRow)]
pub struct ApiTokenRow {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

macro_rules! columns {
    () => {
        "id, name, created_at, expires_at, last_used_at, revoked_at"
    };
}

pub struct NewApiToken<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub hash: &'a [u8],
    pub created_by: Option<&'a str>,
    pub expires_at: i64,
}

pub async fn insert(tx: &mut Tx, t: &NewApiToken<'_>) -> Result<(), sqlx::Error> {
    let now = tx.now();
    execute!(
        tx,
        sql!(
            "INSERT INTO api_tokens (id, name, token_hash, created_at, created_by, expires_at)
             VALUES (?, ?, ?, ?, ?, ?)"
        ),
        t.id,
        t.name,
        t.hash,
        now,
        t.created_by,
        t.expires_at
    )?;
    Ok(())
}

/// Every token, newest first (a programme has a handful).
pub async fn list<'c>(e: impl Exec<'c>) -> Result<Vec<ApiTokenRow>, sqlx::Error> {
    run!(
        e,
        sql!(concat!(
            "SELECT ",
            columns!(),
            " FROM api_tokens ORDER BY created_at DESC, id LIMIT 1000"
        )),
        |x, q| sqlx::query_as(q).fetch_all(x).await
    )
}

pub async fn get<'c>(e: impl Exec<'c>, id: &str) -> Result<Option<ApiTokenRow>, sqlx::Error> {
    run!(
        e,
        sql!(concat!(
            "SELECT ",
            columns!(),
            " FROM api_tokens WHERE id = ?"
        )),
        |x, q| sqlx::query_as(q).bind(id).fetch_optional(x).await
    )
}

/// The token whose SHA-256 is `hash`, whatever its state.
pub async fn by_hash<'c>(
    e: impl Exec<'c>,
    hash: &[u8],
) -> Result<Option<ApiTokenRow>, sqlx::Error> {
    run!(
        e,
        sql!(concat!(
            "SELECT ",
            columns!(),
            " FROM api_tokens WHERE token_hash = ?"
        )),
        |x, q| sqlx::query_as(q).bind(hash).fetch_optional(x).await
    )
}

/// Revokes a token; false when it was revoked already (or is unknown).
pub async fn revoke(tx: &mut Tx, id: &str) -> Result<bool, sqlx::Error> {
    let now = tx.now();
    let n = execute!(
        tx,
        sql!("UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL"),
        now,
        id
    )?;
    Ok(n == 1)
}

/// Records a use, at most once a minute per token (a write per API call
/// would cost every call the write lock).
pub async fn touch(tx: &mut Tx, id: &str) -> Result<(), sqlx::Error> {
    let now = tx.now();
    execute!(
        tx,
        sql!(
            "UPDATE api_tokens SET last_used_at = ?1
             WHERE id = ?2 AND (last_used_at IS NULL OR last_used_at < ?1 - 60)"
        ),
        now,
        id
    )?;
    Ok(())
}
