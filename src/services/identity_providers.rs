//! Outside identity providers in the console (SPEC X1): add, change,
//! **Test connection**, delete; each change one transaction with its audit
//! record, which never holds the client secret.

use serde::Serialize;

use crate::domain::identity_provider::ProviderSettings;
use crate::domain::ids;
use crate::services::external::provider_client::{self, Discovered};
use crate::services::{Actor, Ctx, ServiceError, audit};
use crate::store::{self, Tx, audit::Subject, identity_providers::ProviderRow};

/// What the audit log keeps of a provider's settings (never the secret:
/// only whether it changed).
#[derive(Serialize)]
struct Snapshot<'a> {
    name: &'a str,
    issuer: &'a str,
    client_id: &'a str,
    scopes: &'a str,
    groups_claim: &'a str,
    create_accounts: bool,
    enabled: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    new_secret: bool,
}

fn snapshot(s: &ProviderSettings) -> Snapshot<'_> {
    Snapshot {
        name: &s.name,
        issuer: &s.issuer,
        client_id: &s.client_id,
        scopes: &s.scopes,
        groups_claim: &s.groups_claim,
        create_accounts: s.create_accounts,
        enabled: s.enabled,
        new_secret: s.client_secret.is_some(),
    }
}

/// A saved provider's settings (the secret left out: `None`).
pub fn settings_of(p: &ProviderRow) -> ProviderSettings {
    ProviderSettings {
        name: p.name.clone(),
        issuer: p.issuer.clone(),
        client_id: p.client_id.clone(),
        client_secret: None,
        scopes: p.scopes.clone(),
        groups_claim: p.groups_claim.clone(),
        create_accounts: p.create_accounts,
        enabled: p.enabled,
    }
}

async fn ensure_name_free(
    tx: &mut Tx,
    s: &ProviderSettings,
    except: Option<&str>,
) -> Result<(), ServiceError> {
    if store::identity_providers::name_taken(&mut *tx, &s.name, except).await? {
        return Err(ServiceError::field(
            "name",
            "An identity provider with this name exists already.",
        ));
    }
    Ok(())
}

#[tracing::instrument(skip_all)]
pub async fn create(
    ctx: &Ctx,
    actor: &Actor,
    s: &ProviderSettings,
) -> Result<String, ServiceError> {
    let id = ids::new_id();
    let mut tx = ctx.db.begin_write().await?;
    ensure_name_free(&mut tx, s, None).await?;
    store::identity_providers::insert(&mut tx, &id, s).await?;
    audit::record(
        &mut tx,
        actor,
        "identity_provider.created",
        &format!("Added identity provider {}", s.name),
        &[Subject::setting(&id, &s.name)],
        audit::NONE,
        Some(&snapshot(s)),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(provider = %id, actor = %actor.label, "identity provider added");
    Ok(id)
}

pub async fn get(ctx: &Ctx, id: &str) -> Result<ProviderRow, ServiceError> {
    store::identity_providers::get(&ctx.db, id)
        .await?
        .ok_or(ServiceError::NotFound)
}

pub async fn list(ctx: &Ctx) -> Result<Vec<ProviderRow>, ServiceError> {
    Ok(store::identity_providers::list(&ctx.db).await?)
}

/// The sign-in page's **Sign in with …** buttons: (id, name).
pub async fn sign_in_options(ctx: &Ctx) -> Result<Vec<(String, String)>, ServiceError> {
    Ok(store::identity_providers::enabled(&ctx.db).await?)
}

#[tracing::instrument(skip_all)]
pub async fn update(
    ctx: &Ctx,
    actor: &Actor,
    id: &str,
    s: &ProviderSettings,
) -> Result<(), ServiceError> {
    let mut tx = ctx.db.begin_write().await?;
    let before = store::identity_providers::get(&mut tx, id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    ensure_name_free(&mut tx, s, Some(id)).await?;
    store::identity_providers::update(&mut tx, id, s).await?;
    let old = settings_of(&before);
    audit::record(
        &mut tx,
        actor,
        "identity_provider.updated",
        &format!("Changed identity provider {}", s.name),
        &[Subject::setting(id, &s.name)],
        Some(&snapshot(&old)),
        Some(&snapshot(s)),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes a provider with its links and external groups (their
/// memberships and product grants); its name.
#[tracing::instrument(skip_all)]
pub async fn delete(ctx: &Ctx, actor: &Actor, id: &str) -> Result<String, ServiceError> {
    let mut tx = ctx.db.begin_write().await?;
    let p = store::identity_providers::get(&mut tx, id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    store::identity_providers::delete(&mut tx, id).await?;
    let old = settings_of(&p);
    audit::record(
        &mut tx,
        actor,
        "identity_provider.deleted",
        &format!(
            "Deleted identity provider {} ({} linked accounts, {} external groups)",
            p.name, p.linked, p.groups
        ),
        &[Subject::setting(id, &p.name)],
        Some(&snapshot(&old)),
        audit::NONE,
    )
    .await?;
    tx.commit().await?;
    Ok(p.name)
}

/// **Test connection**: what the provider's discovery document and JWKS
/// say, or why they cannot be read.
pub async fn test_connection(
    ctx: &Ctx,
    id: &str,
) -> Result<Result<Discovered, String>, ServiceError> {
    let p = get(ctx, id).await?;
    Ok(provider_client::test_connection(&p.issuer)
        .await
        .map_err(|e| e.to_string()))
}
