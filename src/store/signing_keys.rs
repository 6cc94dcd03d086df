//! The OpenID provider's signing keys (SPEC O4). Private keys are read only
//! to sign; nothing here logs or shows them.

use sqlx::FromRow;

use super::{Exec, Tx};
use crate::domain::application::SigningAlg;
use crate::{execute, run, sql};

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
pub async fn published<'c>(
    e: impl Exec<'c>,
    retired_since: i64,
) -> Result<Vec<KeyRow>, sqlx::Error> {
    run!(
        e,
        sql!(
            "SELECT kid, alg, private_der, public_jwk, created_at, retired_at FROM signing_keys
             WHERE retired_at IS NULL OR retired_at > ?
             ORDER BY created_at DESC, kid"
        ),
        |x, q| sqlx::query_as(q).bind(retired_since).fetch_all(x).await
    )
}

/// The algorithms that have a key in use.
pub async fn algs_in_use<'c>(e: impl Exec<'c>) -> Result<Vec<String>, sqlx::Error> {
    run!(
        e,
        sql!("SELECT alg FROM signing_keys WHERE retired_at IS NULL"),
        |x, q| sqlx::query_scalar(q).fetch_all(x).await
    )
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
    execute!(
        &mut *tx,
        sql!("DELETE FROM signing_keys WHERE retired_at IS NOT NULL AND retired_at <= ?"),
        forget_before
    )?;
    execute!(
        &mut *tx,
        sql!("UPDATE signing_keys SET retired_at = ? WHERE alg = ? AND retired_at IS NULL"),
        now,
        alg.as_str()
    )?;
    execute!(
        tx,
        sql!(
            "INSERT INTO signing_keys (kid, alg, private_der, public_jwk, created_at) VALUES (?, ?, ?, ?, ?)"
        ),
        kid,
        alg.as_str(),
        private_der,
        public_jwk,
        now
    )?;
    Ok(())
}
