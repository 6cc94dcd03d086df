//! Applications that sign in with Portal (SPEC O2): add, change, a new
//! secret, delete; each change one transaction with its audit record.

use serde::Serialize;

use crate::domain::application::{ApplicationSettings, ClientKind, SignInGroups, TokenGroups};
use crate::domain::{ids, oidc};
use crate::services::{Actor, Ctx, ServiceError, audit};
use crate::store::{
    self, Tx, applications::Application, applications::ApplicationRow, audit::Subject,
};

/// Client secrets: a prefix (so one pasted where it should not be is
/// recognised) and 256 random bits; only their SHA-256 is kept (S-21).
pub const SECRET_PREFIX: &str = "portal_cs_";

fn new_secret() -> String {
    format!("{SECRET_PREFIX}{}", ids::new_secret())
}

/// What the audit log keeps of an application's settings (never a secret).
#[derive(Serialize)]
struct Snapshot<'a> {
    name: &'a str,
    redirect_uris: &'a [String],
    kind: &'static str,
    trusted: bool,
    signing_alg: &'static str,
    token_groups: Vec<&'a str>,
    sign_in_groups: Vec<&'a str>,
}

fn snapshot(s: &ApplicationSettings) -> Snapshot<'_> {
    Snapshot {
        name: &s.name,
        redirect_uris: &s.redirect_uris,
        kind: s.kind.as_str(),
        trusted: s.trusted,
        signing_alg: s.alg.as_str(),
        token_groups: match &s.token_groups {
            TokenGroups::All => vec!["(all)"],
            TokenGroups::Chosen(g) => g.iter().map(|g| g.as_str()).collect(),
        },
        sign_in_groups: match &s.sign_in_groups {
            SignInGroups::Everyone => vec!["(everyone)"],
            SignInGroups::Chosen(g) => g.iter().map(|g| g.as_str()).collect(),
        },
    }
}

pub fn settings_of(app: &Application) -> ApplicationSettings {
    ApplicationSettings {
        name: app.row.name.clone(),
        redirect_uris: app.redirect_uris().map(str::to_owned).collect(),
        kind: app.row.kind,
        trusted: app.row.trusted,
        alg: app.row.signing_alg,
        token_groups: app.token_groups.clone(),
        sign_in_groups: app.sign_in_groups.clone(),
    }
}

/// Refuses a name in use and groups that are gone.
async fn check(
    tx: &mut Tx,
    s: &ApplicationSettings,
    except: Option<&str>,
) -> Result<(), ServiceError> {
    if store::applications::name_taken(&mut *tx, &s.name, except).await? {
        return Err(ServiceError::field(
            "name",
            "An application with this name exists already.",
        ));
    }
    let mut ticked = Vec::new();
    if let TokenGroups::Chosen(g) = &s.token_groups {
        ticked.extend(g.iter());
    }
    if let SignInGroups::Chosen(g) = &s.sign_in_groups {
        ticked.extend(g.iter());
    }
    let unknown = store::applications::unknown_groups(tx, &ticked).await?;
    if !unknown.is_empty() {
        return Err(ServiceError::field(
            "token_groups",
            format!("These groups no longer exist: {}.", unknown.join(", ")),
        ));
    }
    Ok(())
}

/// A new application, and its secret if it is confidential (shown once).
pub struct Created {
    pub id: String,
    pub secret: Option<String>,
}

#[tracing::instrument(skip_all)]
pub async fn create(
    ctx: &Ctx,
    actor: &Actor,
    s: &ApplicationSettings,
) -> Result<Created, ServiceError> {
    let id = ids::new_id();
    let secret = (s.kind == ClientKind::Confidential).then(new_secret);
    let hash = secret.as_deref().map(oidc::hash_of);
    let mut tx = ctx.db.begin_write().await?;
    check(&mut tx, s, None).await?;
    store::applications::insert(&mut tx, &id, s, hash.as_ref().map(|h| &h[..])).await?;
    audit::record(
        &mut tx,
        actor,
        "application.created",
        &format!("Added application {}", s.name),
        &[Subject::setting(&id, &s.name)],
        audit::NONE,
        Some(&snapshot(s)),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(application = %id, actor = %actor.label, "application added");
    Ok(Created { id, secret })
}

pub async fn get(ctx: &Ctx, id: &str) -> Result<Application, ServiceError> {
    store::applications::get(&ctx.db, id)
        .await?
        .ok_or(ServiceError::NotFound)
}

pub async fn list(ctx: &Ctx) -> Result<Vec<ApplicationRow>, ServiceError> {
    Ok(store::applications::list(&ctx.db).await?)
}

/// Changes an application's settings. A confidential application that
/// becomes public loses its secret; a public one that becomes
/// confidential gets one, returned to be shown once.
#[tracing::instrument(skip_all)]
pub async fn update(
    ctx: &Ctx,
    actor: &Actor,
    id: &str,
    s: &ApplicationSettings,
) -> Result<Option<String>, ServiceError> {
    let mut tx = ctx.db.begin_write().await?;
    let before = store::applications::get(&mut tx, id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    check(&mut tx, s, Some(id)).await?;
    store::applications::update(&mut tx, id, s).await?;
    let secret = (s.kind == ClientKind::Confidential && !before.row.has_secret).then(new_secret);
    if let Some(secret) = &secret {
        store::applications::set_secret(&mut tx, id, &oidc::hash_of(secret)).await?;
    }
    let old = settings_of(&before);
    audit::record(
        &mut tx,
        actor,
        "application.updated",
        &format!("Changed application {}", s.name),
        &[Subject::setting(id, &s.name)],
        Some(&snapshot(&old)),
        Some(&snapshot(s)),
    )
    .await?;
    tx.commit().await?;
    Ok(secret)
}

/// A new client secret (the old one stops at once), shown once.
#[tracing::instrument(skip_all)]
pub async fn regenerate_secret(ctx: &Ctx, actor: &Actor, id: &str) -> Result<String, ServiceError> {
    let mut tx = ctx.db.begin_write().await?;
    let app = store::applications::get(&mut tx, id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    if app.row.kind == ClientKind::Public {
        return Err(ServiceError::Conflict(
            "A public application has no secret.".into(),
        ));
    }
    let secret = new_secret();
    store::applications::set_secret(&mut tx, id, &oidc::hash_of(&secret)).await?;
    audit::record(
        &mut tx,
        actor,
        "application.secret_regenerated",
        &format!(
            "Regenerated the client secret of application {}",
            app.row.name
        ),
        &[Subject::setting(id, &app.row.name)],
        audit::NONE,
        audit::NONE,
    )
    .await?;
    tx.commit().await?;
    Ok(secret)
}

/// Deletes an application; its codes, refresh tokens and consents go with it.
#[tracing::instrument(skip_all)]
pub async fn delete(ctx: &Ctx, actor: &Actor, id: &str) -> Result<String, ServiceError> {
    let mut tx = ctx.db.begin_write().await?;
    let app = store::applications::get(&mut tx, id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    store::applications::delete(&mut tx, id).await?;
    let old = settings_of(&app);
    audit::record(
        &mut tx,
        actor,
        "application.deleted",
        &format!("Deleted application {}", app.row.name),
        &[Subject::setting(id, &app.row.name)],
        Some(&snapshot(&old)),
        audit::NONE,
    )
    .await?;
    tx.commit().await?;
    Ok(app.row.name)
}
