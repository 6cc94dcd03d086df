//! Add application, and an application's page: its Client ID, its
//! settings, Regenerate secret and Delete. A secret is shown once, on the
//! page that answers the form that made it (S-21).

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::form::{ALGS, GroupChoice, KINDS, SettingsForm, group_choices};
use crate::services::{Ctx, ServiceError, applications};
use crate::web::admin::{Chrome, CurrentAdmin};
use crate::web::csrf::Form;
use crate::web::errors::{WebError, page, see_other};
use crate::web::forms::{Empty, Errors};
use crate::web::paths::console;
use crate::web::session;

#[derive(Template)]
#[template(path = "admin/applications/add.html")]
struct AddPage {
    chrome: Chrome,
    f: SettingsForm,
    errors: Errors,
    groups: Vec<GroupChoice>,
    kinds: [crate::domain::application::ClientKind; 2],
    algs: [crate::domain::application::SigningAlg; 2],
}

#[derive(Template)]
#[template(path = "admin/applications/show.html")]
struct ShowPage {
    chrome: Chrome,
    id: String,
    name: String,
    public: bool,
    f: SettingsForm,
    errors: Errors,
    groups: Vec<GroupChoice>,
    kinds: [crate::domain::application::ClientKind; 2],
    algs: [crate::domain::application::SigningAlg; 2],
    /// A secret just made: shown this once.
    secret: Option<String>,
    issuer: String,
}

#[derive(Template)]
#[template(path = "admin/applications/delete.html")]
struct DeletePage {
    chrome: Chrome,
    id: String,
    name: String,
}

async fn add_page(
    ctx: &Ctx,
    session: &Session,
    admin: &CurrentAdmin,
    status: StatusCode,
    f: SettingsForm,
    errors: Errors,
) -> Result<HttpResponse, WebError> {
    page(
        status,
        &AddPage {
            chrome: Chrome::new(session, admin, "applications"),
            f,
            errors,
            groups: group_choices(ctx).await?,
            kinds: KINDS,
            algs: ALGS,
        },
    )
}

pub async fn add_form(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
) -> Result<HttpResponse, WebError> {
    add_page(
        &ctx,
        &session,
        &admin,
        StatusCode::OK,
        SettingsForm::new_application(),
        Errors::default(),
    )
    .await
}

pub async fn add(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    Form(f): Form<SettingsForm>,
) -> Result<HttpResponse, WebError> {
    let created = match f.parse() {
        Ok(s) => applications::create(&ctx, &admin.actor(), &s).await,
        Err(errors) => Err(ServiceError::Invalid(errors)),
    };
    match created {
        Ok(c) => {
            session::flash(
                &session,
                "success",
                format!("Added application {}.", f.name.trim()),
            );
            show_page(
                &ctx,
                &session,
                &admin,
                &c.id,
                StatusCode::OK,
                None,
                Errors::default(),
                c.secret,
            )
            .await
        }
        Err(ServiceError::Invalid(errors)) => {
            add_page(
                &ctx,
                &session,
                &admin,
                StatusCode::UNPROCESSABLE_ENTITY,
                f,
                Errors(errors),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[allow(clippy::too_many_arguments)]
async fn show_page(
    ctx: &Ctx,
    session: &Session,
    admin: &CurrentAdmin,
    id: &str,
    status: StatusCode,
    sent: Option<SettingsForm>,
    errors: Errors,
    secret: Option<String>,
) -> Result<HttpResponse, WebError> {
    let app = applications::get(ctx, id).await?;
    let f = sent.unwrap_or_else(|| SettingsForm::of(&applications::settings_of(&app)));
    let resp = page(
        status,
        &ShowPage {
            chrome: Chrome::new(session, admin, "applications"),
            id: app.row.id.clone(),
            name: app.row.name.clone(),
            public: app.row.kind == crate::domain::application::ClientKind::Public,
            f,
            errors,
            groups: group_choices(ctx).await?,
            kinds: KINDS,
            algs: ALGS,
            secret,
            issuer: crate::services::oidc::issuer(ctx).to_owned(),
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
    show_page(
        &ctx,
        &session,
        &admin,
        &id,
        StatusCode::OK,
        None,
        Errors::default(),
        None,
    )
    .await
}

pub async fn update(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<String>,
    Form(f): Form<SettingsForm>,
) -> Result<HttpResponse, WebError> {
    let result = match f.parse() {
        Ok(s) => applications::update(&ctx, &admin.actor(), &id, &s).await,
        Err(errors) => Err(ServiceError::Invalid(errors)),
    };
    match result {
        Ok(None) => {
            session::flash(&session, "success", "Saved the application's settings.");
            Ok(see_other(&console::application(&id)))
        }
        // Became confidential: its first secret, shown once.
        Ok(Some(secret)) => {
            session::flash(&session, "success", "Saved the application's settings.");
            show_page(
                &ctx,
                &session,
                &admin,
                &id,
                StatusCode::OK,
                None,
                Errors::default(),
                Some(secret),
            )
            .await
        }
        Err(ServiceError::Invalid(errors)) => {
            show_page(
                &ctx,
                &session,
                &admin,
                &id,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(f),
                Errors(errors),
                None,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn regenerate_secret(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<String>,
    Form(_): Form<Empty>,
) -> Result<HttpResponse, WebError> {
    let secret = applications::regenerate_secret(&ctx, &admin.actor(), &id).await?;
    session::flash(
        &session,
        "success",
        "Made a new client secret. The old one no longer works.",
    );
    show_page(
        &ctx,
        &session,
        &admin,
        &id,
        StatusCode::OK,
        None,
        Errors::default(),
        Some(secret),
    )
    .await
}

pub async fn delete_confirm(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let app = applications::get(&ctx, &id).await?;
    page(
        StatusCode::OK,
        &DeletePage {
            chrome: Chrome::new(&session, &admin, "applications"),
            id: app.row.id,
            name: app.row.name,
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
    let name = applications::delete(&ctx, &admin.actor(), &id).await?;
    session::flash(
        &session,
        "success",
        format!("Deleted application {name}. Its tokens can no longer be refreshed."),
    );
    Ok(see_other(console::APPLICATIONS))
}
