//! Settings kept in the database (the generated session key, email settings).

use super::Exec;
use crate::{execute, run, sql};

pub async fn get<'c>(e: impl Exec<'c>, key: &str) -> Result<Option<String>, sqlx::Error> {
    run!(
        e,
        sql!("SELECT value FROM settings WHERE key = ?"),
        |x, q| sqlx::query_scalar(q).bind(key).fetch_optional(x).await
    )
}

/// Sets `key` only if it has no value yet; returns the value now stored
/// (another instance's, if it was first).
pub async fn get_or_init(db: &super::Db, key: &str, value: &str) -> Result<String, sqlx::Error> {
    execute!(
        db,
        sql!("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING"),
        key,
        value
    )?;
    run!(
        db,
        sql!("SELECT value FROM settings WHERE key = ?"),
        |x, q| sqlx::query_scalar(q).bind(key).fetch_one(x).await
    )
}
