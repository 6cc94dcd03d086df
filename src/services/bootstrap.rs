//! First start (SPEC R1) and the `create-admin` command (G2: administrators
//! are named at installation, never in the console).

use crate::domain::account::NewAccount;
use crate::domain::{Email, ids};
use crate::services::{Actor, Ctx, ServiceError, accounts};
use crate::store;

pub struct NewAdmin {
    pub email: String,
    /// Set when the password was generated and must be shown once.
    pub generated_password: Option<String>,
    pub existed: bool,
}

/// Creates the first administrator when there is none: from `ADMIN_EMAIL`
/// and `ADMIN_PASSWORD`, else `admin@localhost` with a random password.
#[tracing::instrument(skip_all)]
pub async fn ensure_first_admin(ctx: &Ctx) -> Result<Option<NewAdmin>, ServiceError> {
    if store::accounts::count_admins(&ctx.db).await? > 0 {
        return Ok(None);
    }
    let email = ctx
        .settings
        .admin_email
        .clone()
        .unwrap_or_else(|| "admin@localhost".into());
    let password = ctx.settings.admin_password.clone();
    create_admin(ctx, &email, password.as_deref(), "Portal", "Administrator")
        .await
        .map(Some)
}

/// Adds an administrator: a new active account, or an existing one made a
/// member of Administrators. A missing password is generated.
#[tracing::instrument(skip_all)]
pub async fn create_admin(
    ctx: &Ctx,
    email: &str,
    password: Option<&str>,
    first_name: &str,
    last_name: &str,
) -> Result<NewAdmin, ServiceError> {
    let actor = Actor::system();
    let parsed = Email::parse(email).map_err(|m| ServiceError::field("email", m))?;
    if let Some(existing) = existing_account(ctx, &parsed).await? {
        let mut tx = ctx.db.begin_write().await?;
        accounts::add_to_administrators(&mut tx, &actor, &existing).await?;
        tx.commit().await?;
        return Ok(NewAdmin {
            email: existing.email,
            generated_password: None,
            existed: true,
        });
    }
    let generated = password.is_none().then(ids::new_secret);
    let password = password
        .map(str::to_owned)
        .or(generated.clone())
        .unwrap_or_default();
    let new = NewAccount::parse(email, &password, first_name, last_name)
        .map_err(ServiceError::Invalid)?;
    let hash = ctx.hasher.hash(&new.password).await?;
    let mut tx = ctx.db.begin_write().await?;
    let created = accounts::create_in(&mut tx, &actor, &new, &hash).await?;
    accounts::add_to_administrators(&mut tx, &actor, &created).await?;
    tx.commit().await?;
    Ok(NewAdmin {
        email: created.email,
        generated_password: generated,
        existed: false,
    })
}

async fn existing_account(
    ctx: &Ctx,
    email: &Email,
) -> Result<Option<store::accounts::AccountDetail>, ServiceError> {
    let Some(creds) = store::sessions::credentials(&ctx.db, &email.key()).await? else {
        return Ok(None);
    };
    Ok(store::accounts::detail(&ctx.db, &creds.id).await?)
}
