//! The OpenID provider's signing keys (SPEC O4). Private keys are read only
//! to sign; nothing here logs or shows them.

use sqlx::{FromRow, SqliteExecutor};

use super::Tx;
use crate::domain::application::SigningAlg;

#[derive(FromRow)]
pub struct KeyRow {
    pub kid: String,
    #[sqlx(try_from = "String")]
    pub alg: SigningAlg,
    pub private_der: Vec<u8>,
    pub public_jwk: String,
    pub created_at: i64,
    pub retired_at: Option<i64>,
}

/// The keys in use and those retired after `retired_since`, newest first.
pub async fn published(
    e: impl SqliteExecutor<'_>,
    retired_since: i64,
) -> Result<Vec<KeyRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT kid, alg, private_der, public_jwk, created_at, retired_at FROM signing_keys
         WHERE retired_at IS NULL OR retired_at > ?
         ORDER BY created_at DESC, kid",
    )
    .bind(retired_since)
    .fetch_all(e)
    .await
}

/// The algorithms that have a key in use.
pub async fn algs_in_use(e: impl SqliteExecutor<'_>) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT alg FROM signing_keys WHERE retired_at IS NULL")
        .fetch_all(e)
        .await
}

/// Retires the key in use for `alg` (if any) and puts `kid` in its place;
/// forgets keys retired before `forget_before`.
pub async fn replace(
    tx: &mut Tx,
    alg: SigningAlg,
    kid: &str,
    private_der: &[u8],
    public_jwk: &str,
    forget_before: i64,
) -> Result<(), sqlx::Error> {
    let now = tx.now();
    sqlx::query("DELETE FROM signing_keys WHERE retired_at IS NOT NULL AND retired_at <= ?")
        .bind(forget_before)
        .execute(&mut **tx)
        .await?;
    sqlx::query("UPDATE signing_keys SET retired_at = ? WHERE alg = ? AND retired_at IS NULL")
        .bind(now)
        .bind(alg.as_str())
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO signing_keys (kid, alg, private_der, public_jwk, created_at) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(kid)
    .bind(alg.as_str())
    .bind(private_der)
    .bind(public_jwk)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
