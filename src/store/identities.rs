//! Accounts' links to outside providers' subjects (X2), and the external
//! groups those providers name (G7, X3).

use sqlx::FromRow;

use super::{Exec, Tx};
use crate::{execute, run, sql};

/// One linked identity, as the account page lists it.
#[derive(Debug, Clone, FromRow, serde::Deserialize)]
pub struct IdentityRow {
    pub provider_id: String,
    pub provider_name: String,
    pub subject: String,
    pub linked_at: i64,
    pub last_sign_in_at: i64,
}

/// The account a provider's subject is linked to.
pub async fn account_of(
    tx: &mut Tx,
    provider_id: &str,
    subject: &str,
) -> Result<Option<String>, sqlx::Error> {
    run!(
        tx,
        sql!("SELECT account_id FROM identities WHERE provider_id = ? AND subject = ?"),
        |x, q| sqlx::query_scalar(q)
            .bind(provider_id)
            .bind(subject)
            .fetch_optional(x)
            .await
    )
}

pub async fn link(
    tx: &mut Tx,
    provider_id: &str,
    subject: &str,
    account_id: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    execute!(
        tx,
        sql!(
            "INSERT INTO identities (provider_id, subject, account_id, linked_at, last_sign_in_at)
             VALUES (?, ?, ?, ?, ?)"
        ),
        provider_id,
        subject,
        account_id,
        now,
        now
    )?;
    Ok(())
}

pub async fn signed_in(
    tx: &mut Tx,
    provider_id: &str,
    subject: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    execute!(
        tx,
        sql!("UPDATE identities SET last_sign_in_at = ? WHERE provider_id = ? AND subject = ?"),
        now,
        provider_id,
        subject
    )?;
    Ok(())
}

/// Removes a link of this account; whether there was one.
pub async fn unlink(
    tx: &mut Tx,
    account_id: &str,
    provider_id: &str,
    subject: &str,
) -> Result<bool, sqlx::Error> {
    let n = execute!(
        tx,
        sql!("DELETE FROM identities WHERE account_id = ? AND provider_id = ? AND subject = ?"),
        account_id,
        provider_id,
        subject
    )?;
    Ok(n > 0)
}

/// The external group of a provider with this external id.
pub async fn external_group(
    tx: &mut Tx,
    provider_id: &str,
    external_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    run!(
        tx,
        sql!("SELECT id FROM groups WHERE provider_id = ? AND external_id = ?"),
        |x, q| sqlx::query_scalar(q)
            .bind(provider_id)
            .bind(external_id)
            .fetch_optional(x)
            .await
    )
}

pub async fn insert_external_group(
    tx: &mut Tx,
    id: &str,
    name: &str,
    provider_id: &str,
    external_id: &str,
) -> Result<(), sqlx::Error> {
    let now = tx.now();
    execute!(
        tx,
        sql!(
            "INSERT INTO groups (id, name, name_key, kind, external_id, provider_id, created_at)
             VALUES (?, ?, ?, 'external', ?, ?, ?)"
        ),
        id,
        name,
        name.to_lowercase(),
        external_id,
        provider_id,
        now
    )?;
    Ok(())
}

/// The account's memberships of this provider's external groups:
/// (group id, external id).
pub async fn external_memberships(
    tx: &mut Tx,
    provider_id: &str,
    account_id: &str,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    run!(
        tx,
        sql!(
            "SELECT g.id, g.external_id FROM memberships m JOIN groups g ON g.id = m.group_id
             WHERE m.account_id = ? AND g.provider_id = ? ORDER BY g.external_id"
        ),
        |x, q| sqlx::query_as(q)
            .bind(account_id)
            .bind(provider_id)
            .fetch_all(x)
            .await
    )
}

pub async fn remove_membership(
    tx: &mut Tx,
    group_id: &str,
    account_id: &str,
) -> Result<(), sqlx::Error> {
    execute!(
        tx,
        sql!("DELETE FROM memberships WHERE group_id = ? AND account_id = ?"),
        group_id,
        account_id
    )?;
    Ok(())
}

/// The provider an external group belongs to: (id, name).
pub async fn provider_of_group<'c>(
    e: impl Exec<'c>,
    group_id: &str,
) -> Result<Option<(String, String)>, sqlx::Error> {
    run!(
        e,
        sql!(
            "SELECT p.id, p.name FROM groups g JOIN identity_providers p ON p.id = g.provider_id
             WHERE g.id = ?"
        ),
        |x, q| sqlx::query_as(q).bind(group_id).fetch_optional(x).await
    )
}
