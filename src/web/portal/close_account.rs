//! Closing one's own account from the profile (U6 by its owner, R5's
//! "an account that closed itself").

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{Chrome, origin, require, visitor};
use crate::services::auth::Realm;
use crate::services::{Ctx, ServiceError, profile};
use crate::web::csrf::Form;
use crate::web::errors::{WebError, page, see_other};
use crate::web::forms::Errors;
use crate::web::paths::portal;
use crate::web::session;

#[derive(Template)]
#[template(path = "portal/close_account.html")]
struct CloseAccountPage {
    chrome: Chrome,
    email: String,
    /// Whether the account confirms with its password (else its address).
    has_password: bool,
    errors: Errors,
}

#[derive(Deserialize)]
pub struct CloseForm {
    #[serde(default)]
    confirm: String,
}

async fn show(
    ctx: &Ctx,
    session: &Session,
    status: StatusCode,
    errors: Errors,
) -> Result<HttpResponse, WebError> {
    let who = require(visitor(ctx, session).await?, portal::PROFILE_CLOSE)?;
    let account = profile::get(ctx, &who.id).await?;
    page(
        status,
        &CloseAccountPage {
            chrome: Chrome::new(session, Some(&who), "profile"),
            email: account.email,
            has_password: account.has_password,
            errors,
        },
    )
}

pub async fn form(ctx: web::Data<Ctx>, session: Session) -> Result<HttpResponse, WebError> {
    show(&ctx, &session, StatusCode::OK, Errors::default()).await
}

pub async fn close(
    ctx: web::Data<Ctx>,
    session: Session,
    Form(f): Form<CloseForm>,
) -> Result<HttpResponse, WebError> {
    let who = require(visitor(&ctx, &session).await?, portal::PROFILE_CLOSE)?;
    match profile::close_account(&ctx, origin(), &who.id, &f.confirm).await {
        Ok(()) => {
            session::end_with_flash(
                &session,
                Realm::Portal,
                "success",
                "Your account is closed. Its subscriptions and keys no longer work.",
            );
            Ok(see_other(portal::HOME))
        }
        Err(ServiceError::Invalid(errors)) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            show(&ctx, &session, status, Errors(errors)).await
        }
        Err(e) => Err(e.into()),
    }
}
