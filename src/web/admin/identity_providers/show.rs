//! Add identity provider, a provider's page (its callback URL, settings,
//! **Test connection**), and Delete.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::SettingsForm;
use crate::services::external::callback_url;
use crate::services::external::provider_client::Discovered;
use crate::services::{Ctx, ServiceError, identity_providers};
use crate::web::admin::{Chrome, CurrentAdmin};
use crate::web::csrf::Form;
use crate::web::errors::{WebError, page, see_other};
use crate::web::forms::{Empty, Errors};
use crate::web::paths::console;
use crate::web::session;

#[derive(Template)]
#[template(path = "admin/identity_providers/add.html")]
struct AddPage {
    chrome: Chrome,
    f: SettingsForm,
    errors: Errors,
}

/// What **Test connection** found.
pub enum Tested {
    Found(Discovered),
    Failed(String),
}

#[derive(Template)]
#[template(path = "admin/identity_providers/show.html")]
struct ShowPage {
    chrome: Chrome,
    id: String,
    name: String,
    callback: String,
    linked: i64,
    groups: i64,
    f: SettingsForm,
    errors: Errors,
    tested: Option<Tested>,
}

#[derive(Template)]
#[template(path = "admin/identity_providers/delete.html")]
struct DeletePage {
    chrome: Chrome,
    id: String,
    name: String,
    linked: i64,
    groups: i64,
}

pub async fn add_form(session: Session, admin: CurrentAdmin) -> Result<HttpResponse, WebError> {
    page(
        StatusCode::OK,
        &AddPage {
            chrome: Chrome::new(&session, &admin, "identity_providers"),
            f: SettingsForm::new_provider(),
            errors: Errors::default(),
        },
    )
}

pub async fn add(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    Form(f): Form<SettingsForm>,
) -> Result<HttpResponse, WebError> {
    let created = match f.parse(true) {
        Ok(s) => identity_providers::create(&ctx, &admin.actor(), &s).await,
        Err(errors) => Err(ServiceError::Invalid(errors)),
    };
    match created {
        Ok(id) => {
            session::flash(
                &session,
                "success",
                format!(
                    "Added identity provider {}. Register the callback URL below at the provider.",
                    f.name.trim()
                ),
            );
            Ok(see_other(&console::identity_provider(&id)))
        }
        Err(ServiceError::Invalid(errors)) => page(
            StatusCode::UNPROCESSABLE_ENTITY,
            &AddPage {
                chrome: Chrome::new(&session, &admin, "identity_providers"),
                f: f.without_secret(),
                errors: Errors(errors),
            },
        ),
        Err(e) => Err(e.into()),
    }
}

async fn show_page(
    ctx: &Ctx,
    session: &Session,
    admin: &CurrentAdmin,
    id: &str,
    status: StatusCode,
    sent: Option<(SettingsForm, Errors)>,
    tested: Option<Tested>,
) -> Result<HttpResponse, WebError> {
    let p = identity_providers::get(ctx, id).await?;
    let (f, errors) = sent.unwrap_or_else(|| {
        (
            SettingsForm::of(&identity_providers::settings_of(&p)),
            Errors::default(),
        )
    });
    let resp = page(
        status,
        &ShowPage {
            chrome: Chrome::new(session, admin, "identity_providers"),
            callback: callback_url(ctx, &p.id),
            id: p.id,
            name: p.name,
            linked: p.linked,
            groups: p.groups,
            f,
            errors,
            tested,
        },
    )?;
    Ok(crate::web::headers::no_store(resp))
}

pub async fn show(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    show_page(&ctx, &session, &admin, &id, StatusCode::OK, None, None).await
}

pub async fn update(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<String>,
    Form(f): Form<SettingsForm>,
) -> Result<HttpResponse, WebError> {
    let result = match f.parse(false) {
        Ok(s) => identity_providers::update(&ctx, &admin.actor(), &id, &s).await,
        Err(errors) => Err(ServiceError::Invalid(errors)),
    };
    match result {
        Ok(()) => {
            session::flash(
                &session,
                "success",
                "Saved the identity provider's settings.",
            );
            Ok(see_other(&console::identity_provider(&id)))
        }
        Err(ServiceError::Invalid(errors)) => {
            let sent = (f.without_secret(), Errors(errors));
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            show_page(&ctx, &session, &admin, &id, status, Some(sent), None).await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn test_connection(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<String>,
    Form(_): Form<Empty>,
) -> Result<HttpResponse, WebError> {
    let tested = match identity_providers::test_connection(&ctx, &id).await? {
        Ok(found) => Tested::Found(found),
        Err(why) => Tested::Failed(why),
    };
    show_page(
        &ctx,
        &session,
        &admin,
        &id,
        StatusCode::OK,
        None,
        Some(tested),
    )
    .await
}

pub async fn delete_confirm(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let p = identity_providers::get(&ctx, &id).await?;
    page(
        StatusCode::OK,
        &DeletePage {
            chrome: Chrome::new(&session, &admin, "identity_providers"),
            id: p.id,
            name: p.name,
            linked: p.linked,
            groups: p.groups,
        },
    )
}

pub async fn delete(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<String>,
    Form(_): Form<Empty>,
) -> Result<HttpResponse, WebError> {
    let name = identity_providers::delete(&ctx, &admin.actor(), &id).await?;
    session::flash(
        &session,
        "success",
        format!("Deleted identity provider {name}, its links and its external groups."),
    );
    Ok(see_other(console::IDENTITY_PROVIDERS))
}
