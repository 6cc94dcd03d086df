use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::services::Ctx;
use crate::services::auth::{self, Realm, SignInError};
use crate::web::csrf::Form;
use crate::web::errors::{WebError, page, see_other};
use crate::web::forms::Empty;
use crate::web::paths::console;
use crate::web::session;

#[derive(Template)]
#[template(path = "admin/sign_in.html")]
struct SignInPage {
    csrf: String,
    email: String,
    error: Option<String>,
    notice: Option<String>,
}

#[derive(Deserialize)]
pub struct EndedQuery {
    ended: Option<String>,
}

pub async fn form(session: Session, q: web::Query<EndedQuery>) -> Result<HttpResponse, WebError> {
    let notice = session::take_flash(&session)
        .map(|f| f.message)
        .or_else(|| {
            q.ended
                .as_ref()
                .map(|_| "Your session has ended. Sign in again.".to_owned())
        });
    page(
        StatusCode::OK,
        &SignInPage {
            csrf: session::csrf_token(&session),
            email: String::new(),
            error: None,
            notice,
        },
    )
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

pub async fn submit(
    ctx: web::Data<Ctx>,
    session: Session,
    Form(f): Form<SignInForm>,
) -> Result<HttpResponse, WebError> {
    match auth::sign_in(&ctx, Realm::Console, &f.email, &f.password).await {
        Ok(signed_in) => {
            session::begin(&session, Realm::Console, &signed_in, ctx.now());
            Ok(see_other(console::HOME))
        }
        Err(SignInError::Service(e)) => Err(e.into()),
        Err(e) => {
            let (status, message) = match e {
                SignInError::Blocked => (
                    StatusCode::FORBIDDEN,
                    "This account is blocked. Ask an administrator to activate it.",
                ),
                SignInError::Pending => (StatusCode::FORBIDDEN, "This account is not active yet."),
                SignInError::NotAdministrator => (
                    StatusCode::FORBIDDEN,
                    "This account is not an administrator. The console is for administrators only.",
                ),
                _ => (
                    StatusCode::UNAUTHORIZED,
                    "The email address or password is not right.",
                ),
            };
            page(
                status,
                &SignInPage {
                    csrf: session::csrf_token(&session),
                    email: f.email,
                    error: Some(message.into()),
                    notice: None,
                },
            )
        }
    }
}

pub async fn sign_out(
    ctx: web::Data<Ctx>,
    session: Session,
    _: Form<Empty>,
) -> Result<HttpResponse, WebError> {
    if let Some(user) = session::user(&session, Realm::Console) {
        auth::sign_out(&ctx, &user.sid, user.since).await?;
    }
    session::end(&session, Realm::Console);
    Ok(see_other(console::SIGN_IN))
}
