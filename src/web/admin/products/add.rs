//! Add product (SPEC P1): the settings form, empty.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::SettingsForm;
use crate::services::{Ctx, ServiceError, products};
use crate::web::admin::{Chrome, CurrentAdmin};
use crate::web::csrf::Form;
use crate::web::errors::{WebError, ok, page, see_other};
use crate::web::forms::Errors;
use crate::web::paths::console;
use crate::web::session;

#[derive(Template)]
#[template(path = "admin/products/add.html")]
struct AddPage {
    chrome: Chrome,
    f: SettingsForm,
    errors: Errors,
}

pub async fn add_form(session: Session, admin: CurrentAdmin) -> Result<HttpResponse, WebError> {
    ok(&AddPage {
        chrome: Chrome::new(&session, &admin, "products"),
        f: SettingsForm {
            subscription_required: Some("on".into()),
            ..Default::default()
        },
        errors: Errors::default(),
    })
}

pub async fn add(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    Form(f): Form<SettingsForm>,
) -> Result<HttpResponse, WebError> {
    let result = match f.parse() {
        Ok(p) => products::create(&ctx, &admin.actor(), None, &p).await,
        Err(errors) => Err(ServiceError::Invalid(errors)),
    };
    match result {
        Ok(id) => {
            session::flash(
                &session,
                "success",
                format!(
                    "Added product {}. Give groups access to it under Access control.",
                    f.name.trim()
                ),
            );
            Ok(see_other(&console::product(&id)))
        }
        Err(ServiceError::Invalid(errors)) => page(
            StatusCode::UNPROCESSABLE_ENTITY,
            &AddPage {
                chrome: Chrome::new(&session, &admin, "products"),
                f,
                errors: Errors(errors),
            },
        ),
        Err(e) => Err(e.into()),
    }
}
