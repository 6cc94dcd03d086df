//! Edited email templates (SPEC E1; a template without a row uses its
//! default) and the mail settings kept in `settings` (E2).

use sqlx::FromRow;

use super::{Exec, Tx};
use crate::{execute, run, sql};

#[derive(Debug, Clone, FromRow)]
pub struct StoredTemplate {
    pub name: String,
    pub subject: String,
    pub body: String,
    pub updated_at: i64,
    pub version: i64,
}

pub async fn get<'c>(e: impl Exec<'c>, name: &str) -> Result<Option<StoredTemplate>, sqlx::Error> {
    run!(
        e,
        sql!("SELECT name, subject, body, updated_at, version FROM email_templates WHERE name = ?"),
        |x, q| sqlx::query_as(q).bind(name).fetch_optional(x).await
    )
}

pub async fn all<'c>(e: impl Exec<'c>) -> Result<Vec<StoredTemplate>, sqlx::Error> {
    run!(
        e,
        sql!("SELECT name, subject, body, updated_at, version FROM email_templates ORDER BY name"),
        |x, q| sqlx::query_as(q).fetch_all(x).await
    )
}

/// Saves an edited template; its version goes up on every save.
pub async fn upsert(
    tx: &mut Tx,
    name: &str,
    subject: &str,
    body: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    execute!(
        tx,
        sql!(
            "INSERT INTO email_templates (name, subject, body, updated_at, version)
             VALUES (?, ?, ?, ?, 1)
             ON CONFLICT (name) DO UPDATE SET subject = excluded.subject, body = excluded.body,
                 updated_at = excluded.updated_at, version = email_templates.version + 1"
        ),
        name,
        subject,
        body,
        now
    )?;
    Ok(())
}

/// Back to the default; true when there was an edited one.
pub async fn delete(tx: &mut Tx, name: &str) -> Result<bool, sqlx::Error> {
    let n = execute!(tx, sql!("DELETE FROM email_templates WHERE name = ?"), name)?;
    Ok(n > 0)
}

// ---- mail settings (E2) ---------------------------------------------------------

pub const MAIL_FROM_NAME: &str = "mail_from_name";
pub const MAIL_FROM_ADDRESS: &str = "mail_from_address";
pub const PORTAL_NAME: &str = "portal_name";

/// The stored values of these keys (absent keys are left out).
pub async fn settings<'c>(e: impl Exec<'c>) -> Result<Vec<(String, String)>, sqlx::Error> {
    run!(
        e,
        sql!("SELECT key, value FROM settings WHERE key IN (?, ?, ?)"),
        |x, q| sqlx::query_as(q)
            .bind(MAIL_FROM_NAME)
            .bind(MAIL_FROM_ADDRESS)
            .bind(PORTAL_NAME)
            .fetch_all(x)
            .await
    )
}

pub async fn put_setting(tx: &mut Tx, key: &str, value: &str) -> Result<(), sqlx::Error> {
    execute!(
        tx,
        sql!(
            "INSERT INTO settings (key, value) VALUES (?, ?)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value"
        ),
        key,
        value
    )?;
    Ok(())
}
