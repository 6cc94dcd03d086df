//! Outside OpenID Connect providers (SPEC X1). The client secret is read
//! only by the sign-in itself (`secret`), never by a page.

use sqlx::FromRow;

use super::{Exec, Tx};
use crate::domain::identity_provider::ProviderSettings;
use crate::{execute, run, sql};

#[derive(Debug, Clone, FromRow)]
pub struct ProviderRow {
    pub id: String,
    pub name: String,
    pub issuer: String,
    pub client_id: String,
    pub scopes: String,
    pub groups_claim: String,
    pub create_accounts: bool,
    pub enabled: bool,
    pub created_at: i64,
    pub version: i64,
    /// Accounts linked to it.
    pub linked: i64,
    /// Its external groups.
    pub groups: i64,
}

macro_rules! columns {
    () => {
        "id, name, issuer, client_id, scopes, groups_claim, create_accounts, enabled, created_at, version,
         (SELECT count(*) FROM identities i WHERE i.provider_id = identity_providers.id) AS linked,
         (SELECT count(*) FROM groups g WHERE g.provider_id = identity_providers.id) AS groups"
    };
}

pub async fn list<'c>(e: impl Exec<'c>) -> Result<Vec<ProviderRow>, sqlx::Error> {
    run!(
        e,
        sql!(concat!(
            "SELECT ",
            columns!(),
            " FROM identity_providers ORDER BY name_key LIMIT 1000"
        )),
        |x, q| sqlx::query_as(q).fetch_all(x).await
    )
}

/// The enabled providers, for the sign-in page's buttons: (id, name).
pub async fn enabled<'c>(e: impl Exec<'c>) -> Result<Vec<(String, String)>, sqlx::Error> {
    run!(
        e,
        sql!("SELECT id, name FROM identity_providers WHERE enabled ORDER BY name_key LIMIT 20"),
        |x, q| sqlx::query_as(q).fetch_all(x).await
    )
}

pub async fn get<'c>(e: impl Exec<'c>, id: &str) -> Result<Option<ProviderRow>, sqlx::Error> {
    run!(
        e,
        sql!(concat!(
            "SELECT ",
            columns!(),
            " FROM identity_providers WHERE id = ?"
        )),
        |x, q| sqlx::query_as(q).bind(id).fetch_optional(x).await
    )
}

/// The client secret, for the code exchange.
pub async fn secret<'c>(e: impl Exec<'c>, id: &str) -> Result<Option<String>, sqlx::Error> {
    run!(
        e,
        sql!("SELECT client_secret FROM identity_providers WHERE id = ?"),
        |x, q| sqlx::query_scalar(q).bind(id).fetch_optional(x).await
    )
}

pub async fn name_taken<'c>(
    e: impl Exec<'c>,
    name: &str,
    except: Option<&str>,
) -> Result<bool, sqlx::Error> {
    run!(
        e,
        sql!(
            sqlite: "SELECT EXISTS (SELECT 1 FROM identity_providers WHERE name_key = ? AND id IS NOT ?)",
            pg: "SELECT EXISTS (SELECT 1 FROM identity_providers WHERE name_key = $1 AND id IS DISTINCT FROM $2)"
        ),
        |x, q| sqlx::query_scalar(q)
            .bind(name.to_lowercase())
            .bind(except)
            .fetch_one(x)
            .await
    )
}

pub async fn insert(tx: &mut Tx, id: &str, s: &ProviderSettings) -> Result<(), sqlx::Error> {
    let now = tx.now();
    execute!(
        tx,
        sql!(
            "INSERT INTO identity_providers (id, name, name_key, issuer, client_id, client_secret, scopes,
                                             groups_claim, create_accounts, enabled, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ),
        id,
        &s.name,
        s.name.to_lowercase(),
        &s.issuer,
        &s.client_id,
        s.client_secret.as_deref().unwrap_or_default(),
        &s.scopes,
        &s.groups_claim,
        s.create_accounts,
        s.enabled,
        now
    )?;
    Ok(())
}

/// Replaces the settings; the secret only when a new one was given.
pub async fn update(tx: &mut Tx, id: &str, s: &ProviderSettings) -> Result<(), sqlx::Error> {
    execute!(
        tx,
        sql!(
            "UPDATE identity_providers SET name = ?, name_key = ?, issuer = ?, client_id = ?,
                    client_secret = coalesce(?, client_secret), scopes = ?, groups_claim = ?,
                    create_accounts = ?, enabled = ?, version = version + 1
             WHERE id = ?"
        ),
        &s.name,
        s.name.to_lowercase(),
        &s.issuer,
        &s.client_id,
        s.client_secret.as_deref(),
        &s.scopes,
        &s.groups_claim,
        s.create_accounts,
        s.enabled,
        id
    )?;
    Ok(())
}

/// Deletes a provider; its links and its external groups (with their
/// memberships and product grants) go with it.
pub async fn delete(tx: &mut Tx, id: &str) -> Result<bool, sqlx::Error> {
    // The groups first, explicitly: PostgreSQL checks their reference only
    // at commit (migration postgres/0005), and their memberships and grants
    // should go in the same statement on both databases.
    execute!(
        &mut *tx,
        sql!("DELETE FROM groups WHERE provider_id = ? AND kind = 'external'"),
        id
    )?;
    let n = execute!(tx, sql!("DELETE FROM identity_providers WHERE id = ?"), id)?;
    Ok(n > 0)
}
