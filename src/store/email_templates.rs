//! Edited email templates (SPEC E1; a template without a row uses its
//! default) and the mail settings kept in `settings` (E2).

use sqlx::{FromRow, SqliteExecutor};

use super::Tx;

#[derive(Debug, Clone, FromRow)]
pub struct StoredTemplate {
    pub name: String,
    pub subject: String,
    pub body: String,
    pub updated_at: i64,
    pub version: i64,
}

pub async fn get(
    e: impl SqliteExecutor<'_>,
    name: &str,
) -> Result<Option<StoredTemplate>, sqlx::Error> {
    sqlx::query_as(
        "SELECT name, subject, body, updated_at, version FROM email_templates WHERE name = ?",
    )
    .bind(name)
    .fetch_optional(e)
    .await
}

pub async fn all(e: impl SqliteExecutor<'_>) -> Result<Vec<StoredTemplate>, sqlx::Error> {
    sqlx::query_as(
        "SELECT name, subject, body, updated_at, version FROM email_templates ORDER BY name",
    )
    .fetch_all(e)
    .await
}

/// Saves an edited template; its version goes up on every save.
pub async fn upsert(
    tx: &mut Tx,
    name: &str,
    subject: &str,
    body: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO email_templates (name, subject, body, updated_at, version)
         VALUES (?, ?, ?, ?, 1)
         ON CONFLICT (name) DO UPDATE SET subject = excluded.subject, body = excluded.body,
             updated_at = excluded.updated_at, version = email_templates.version + 1",
    )
    .bind(name)
    .bind(subject)
    .bind(body)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Back to the default; true when there was an edited one.
pub async fn delete(tx: &mut Tx, name: &str) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("DELETE FROM email_templates WHERE name = ?")
        .bind(name)
        .execute(&mut **tx)
        .await?;
    Ok(r.rows_affected() > 0)
}

// ---- mail settings (E2) ---------------------------------------------------------

pub const MAIL_FROM_NAME: &str = "mail_from_name";
pub const MAIL_FROM_ADDRESS: &str = "mail_from_address";
pub const PORTAL_NAME: &str = "portal_name";

/// The stored values of these keys (absent keys are left out).
pub async fn settings(e: impl SqliteExecutor<'_>) -> Result<Vec<(String, String)>, sqlx::Error> {
    sqlx::query_as("SELECT key, value FROM settings WHERE key IN (?, ?, ?)")
        .bind(MAIL_FROM_NAME)
        .bind(MAIL_FROM_ADDRESS)
        .bind(PORTAL_NAME)
        .fetch_all(e)
        .await
}

pub async fn put_setting(tx: &mut Tx, key: &str, value: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO settings (key, value) VALUES (?, ?)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(key)
    .bind(value)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
