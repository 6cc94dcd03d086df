//! The account page (SPEC U5, U6, U7): details, groups, what the account
//! can see, history, and its buttons: Block, Activate, Delete, Set
//! password, Send password reset.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::HistoryRow;
use crate::clock;
use crate::domain::Password;
use crate::services::auth::Realm;
use crate::services::{Ctx, ServiceError, accounts};
use crate::store::groups::GroupRef;
use crate::web::admin::{Chrome, CurrentAdmin};
use crate::web::csrf::Form;
use crate::web::errors::{WebError, ok, page, see_other};
use crate::web::forms::Empty;
use crate::web::paths::console;
use crate::web::session;

#[derive(Template)]
#[template(path = "admin/users/show.html")]
struct ShowPage {
    chrome: Chrome,
    a: crate::store::accounts::AccountDetail,
    state_label: &'static str,
    registered: String,
    groups: Vec<GroupRef>,
    history: Vec<HistoryRow>,
    is_self: bool,
    password_error: String,
    /// SPEC P5: what this account can see, and through which groups.
    visible: Vec<crate::services::visibility::VisibleProduct>,
    sees_all: bool,
    identities: Vec<IdentityLine>,
}

/// A linked identity (X2), with its **Unlink**.
struct IdentityLine {
    provider_id: String,
    provider: String,
    subject: String,
    linked: String,
    last_sign_in: String,
}

async fn show_page(
    ctx: &Ctx,
    session: &Session,
    admin: &CurrentAdmin,
    id: &str,
    status: StatusCode,
    password_error: String,
) -> Result<HttpResponse, WebError> {
    let p = accounts::page(ctx, id).await?;
    page(
        status,
        &ShowPage {
            chrome: Chrome::new(session, admin, "users"),
            state_label: p.account.state.label(),
            registered: clock::display(p.account.registered_at),
            is_self: p.account.id == admin.id,
            a: p.account,
            groups: p.groups,
            history: p.history.into_iter().map(HistoryRow::from).collect(),
            password_error,
            sees_all: matches!(p.viewer, crate::domain::visibility::Viewer::Administrator),
            visible: p.visible,
            identities: p
                .identities
                .into_iter()
                .map(|i| IdentityLine {
                    linked: clock::display(i.linked_at),
                    last_sign_in: clock::display(i.last_sign_in_at),
                    provider_id: i.provider_id,
                    provider: i.provider_name,
                    subject: i.subject,
                })
                .collect(),
        },
    )
}

pub async fn show(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    show_page(&ctx, &session, &admin, &id, StatusCode::OK, String::new()).await
}

/// Runs a state change and reports it, or why it was refused, on the account page.
async fn state_action(
    session: &Session,
    id: &str,
    result: Result<crate::store::accounts::AccountDetail, ServiceError>,
    done: &str,
) -> Result<HttpResponse, WebError> {
    match result {
        Ok(a) => session::flash(session, "success", format!("{done} {}.", a.email)),
        Err(ServiceError::Conflict(m)) => session::flash(session, "error", m),
        Err(e) => return Err(e.into()),
    }
    Ok(see_other(&console::account(id)))
}

pub async fn block(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<String>,
    _: Form<Empty>,
) -> Result<HttpResponse, WebError> {
    let r = accounts::block(&ctx, &admin.actor(), &id).await;
    state_action(&session, &id, r, "Blocked").await
}

pub async fn activate(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<String>,
    _: Form<Empty>,
) -> Result<HttpResponse, WebError> {
    let r = accounts::activate(&ctx, &admin.actor(), &id).await;
    state_action(&session, &id, r, "Activated").await
}

#[derive(Template)]
#[template(path = "admin/users/delete.html")]
struct DeletePage {
    chrome: Chrome,
    a: crate::store::accounts::AccountDetail,
}

pub async fn delete_confirm(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let a = accounts::get(&ctx, &id).await?;
    ok(&DeletePage {
        chrome: Chrome::new(&session, &admin, "users"),
        a,
    })
}

pub async fn delete(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<String>,
    _: Form<Empty>,
) -> Result<HttpResponse, WebError> {
    match accounts::delete(&ctx, &admin.actor(), &id, crate::services::Expect::Any).await {
        Ok(a) => {
            session::flash(&session, "success", format!("Deleted user {}.", a.email));
            Ok(see_other(console::USERS))
        }
        Err(ServiceError::Conflict(m)) => {
            session::flash(&session, "error", m);
            Ok(see_other(&console::account(&id)))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    password: String,
}

pub async fn set_password(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<String>,
    Form(f): Form<PasswordForm>,
) -> Result<HttpResponse, WebError> {
    let account = accounts::get(&ctx, &id).await?;
    let password = match Password::parse(&f.password, &accounts::related_words(&account)) {
        Ok(p) => p,
        Err(message) => {
            return show_page(
                &ctx,
                &session,
                &admin,
                &id,
                StatusCode::UNPROCESSABLE_ENTITY,
                message,
            )
            .await;
        }
    };
    let epoch = accounts::set_password(&ctx, &admin.actor(), &id, &password).await?;
    if account.id == admin.id {
        session::set_epoch(&session, Realm::Console, epoch);
    }
    session::flash(
        &session,
        "success",
        format!(
            "Set a new password for {}. Every other session of this account has ended.",
            account.email
        ),
    );
    Ok(see_other(&console::account(&id)))
}

/// U7: emails the account a single-use link to choose a new password.
pub async fn send_reset(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<String>,
    _: Form<Empty>,
) -> Result<HttpResponse, WebError> {
    let a = crate::services::password_reset::send_by_admin(&ctx, &admin.actor(), &id).await?;
    session::flash(
        &session,
        "success",
        format!("Sent a password reset link to {}.", a.email),
    );
    Ok(see_other(&console::account(&id)))
}

#[derive(Deserialize)]
pub struct UnlinkForm {
    #[serde(default)]
    provider: String,
    #[serde(default)]
    subject: String,
}

/// **Unlink**: the account no longer signs in with that identity, and
/// leaves the provider's external groups.
pub async fn unlink(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<String>,
    Form(f): Form<UnlinkForm>,
) -> Result<HttpResponse, WebError> {
    crate::services::external::unlink(&ctx, &admin.actor(), &id, &f.provider, &f.subject).await?;
    session::flash(
        &session,
        "success",
        "Unlinked the identity: it no longer signs in to this account.",
    );
    Ok(see_other(&console::account(&id)))
}
