//! A product's Settings tab (SPEC P1): its settings, Publish and
//! Unpublish, and its history.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::SettingsForm;
use crate::services::{Ctx, ServiceError, products};
use crate::store::products::ProductRow;
use crate::web::admin::users::HistoryRow;
use crate::web::admin::{Chrome, CurrentAdmin};
use crate::web::csrf::Form;
use crate::web::errors::{WebError, page, see_other};
use crate::web::forms::{Empty, Errors};
use crate::web::paths::console;
use crate::web::session;

#[derive(Template)]
#[template(path = "admin/products/show.html")]
struct ShowPage {
    chrome: Chrome,
    p: ProductRow,
    f: SettingsForm,
    errors: Errors,
    history: Vec<HistoryRow>,
}

async fn show_page(
    ctx: &Ctx,
    session: &Session,
    admin: &CurrentAdmin,
    p: ProductRow,
    status: StatusCode,
    form: Option<(SettingsForm, Errors)>,
) -> Result<HttpResponse, WebError> {
    let history = crate::services::audit_log::history(ctx, "product", &p.id).await?;
    let (f, errors) = form.unwrap_or_else(|| (SettingsForm::from_product(&p), Errors::default()));
    page(
        status,
        &ShowPage {
            chrome: Chrome::new(session, admin, "products"),
            p,
            f,
            errors,
            history: history.into_iter().map(HistoryRow::from).collect(),
        },
    )
}

pub async fn show(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let p = products::get(&ctx, &id).await?;
    show_page(&ctx, &session, &admin, p, StatusCode::OK, None).await
}

pub async fn update(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<String>,
    Form(f): Form<SettingsForm>,
) -> Result<HttpResponse, WebError> {
    let result = match f.parse() {
        Ok(p) => {
            products::update(&ctx, &admin.actor(), &id, &p, crate::services::Expect::Any).await
        }
        Err(errors) => Err(ServiceError::Invalid(errors)),
    };
    match result {
        Ok(p) => {
            session::flash(&session, "success", format!("Saved product {}.", p.name));
            Ok(see_other(&console::product(&id)))
        }
        Err(ServiceError::Invalid(errors)) => {
            let p = products::get(&ctx, &id).await?;
            show_page(
                &ctx,
                &session,
                &admin,
                p,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some((f, Errors(errors))),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn publish(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<String>,
    _: Form<Empty>,
) -> Result<HttpResponse, WebError> {
    let p = products::set_published(&ctx, &admin.actor(), &id, true).await?;
    session::flash(&session, "success", format!("Published {}.", p.name));
    Ok(see_other(&console::product(&id)))
}

pub async fn unpublish(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<String>,
    _: Form<Empty>,
) -> Result<HttpResponse, WebError> {
    let p = products::set_published(&ctx, &admin.actor(), &id, false).await?;
    session::flash(&session, "success", format!("Unpublished {}.", p.name));
    Ok(see_other(&console::product(&id)))
}
