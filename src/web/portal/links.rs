//! Pages behind links sent by email. GET only shows a form; the POST spends
//! the link (mail scanners open links before people do, S-7). These pages
//! send no referrer, so the token cannot leak to another site.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderValue, REFERRER_POLICY};
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::origin;
use crate::domain::Password;
use crate::services::auth::{Realm, SignedIn};
use crate::services::invitations::{self, AcceptError};
use crate::services::links::LinkProblem;
use crate::services::password_reset::{self, ResetError};
use crate::services::{Ctx, ServiceError, signup};
use crate::web::csrf::Form;
use crate::web::errors::{WebError, page, see_other};
use crate::web::forms::Empty;
use crate::web::paths::portal;
use crate::web::session;

fn no_referrer(mut r: HttpResponse) -> HttpResponse {
    r.headers_mut()
        .insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    r
}

#[derive(Template)]
#[template(path = "portal/link_problem.html")]
struct ProblemPage {
    title: &'static str,
    message: &'static str,
}

fn problem(p: LinkProblem) -> Result<HttpResponse, WebError> {
    let (status, title, message) = match p {
        LinkProblem::Unknown => (
            StatusCode::NOT_FOUND,
            "This link is not valid",
            "Check that you copied the whole link from the email. If it still does not work, ask for a new one.",
        ),
        LinkProblem::Used => (
            StatusCode::GONE,
            "This link has already been used",
            "Each link works once. If you still need to, ask for a new one.",
        ),
        LinkProblem::Expired => (
            StatusCode::GONE,
            "This link has expired",
            "Links sent by email work for a limited time. Ask for a new one.",
        ),
        LinkProblem::Superseded => (
            StatusCode::GONE,
            "This link no longer works",
            "A newer link was sent, or this one was withdrawn. Use the most recent email, or ask for a new one.",
        ),
    };
    page(status, &ProblemPage { title, message }).map(no_referrer)
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

/// Both password fields, checked: the same, and good enough (S-2).
fn parse_password(f: &PasswordForm, related: &[&str]) -> Result<Password, (String, String)> {
    let p = Password::parse(&f.password, related).map_err(|m| (m, String::new()))?;
    if f.password != f.confirm {
        return Err((String::new(), "The two passwords are not the same.".into()));
    }
    Ok(p)
}

// ---- accept an invitation ------------------------------------------------------

#[derive(Template)]
#[template(path = "portal/accept.html")]
struct AcceptPage {
    csrf: String,
    token: String,
    name: String,
    email: String,
    password_error: String,
    confirm_error: String,
}

pub async fn accept_form(
    ctx: web::Data<Ctx>,
    session: Session,
    token: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let inv = match invitations::for_link(&ctx, &token).await? {
        Ok(i) => i,
        Err(p) => return problem(p),
    };
    page(
        StatusCode::OK,
        &AcceptPage {
            csrf: session::csrf_token(&session),
            token: token.into_inner(),
            name: format!("{} {}", inv.first_name, inv.last_name),
            email: inv.email,
            password_error: String::new(),
            confirm_error: String::new(),
        },
    )
    .map(no_referrer)
}

pub async fn accept(
    ctx: web::Data<Ctx>,
    session: Session,
    token: web::Path<String>,
    Form(f): Form<PasswordForm>,
) -> Result<HttpResponse, WebError> {
    let inv = match invitations::for_link(&ctx, &token).await? {
        Ok(i) => i,
        Err(p) => return problem(p),
    };
    let password = match parse_password(&f, &[&inv.email, &inv.first_name, &inv.last_name]) {
        Ok(p) => p,
        Err((password_error, confirm_error)) => {
            return page(
                StatusCode::UNPROCESSABLE_ENTITY,
                &AcceptPage {
                    csrf: session::csrf_token(&session),
                    token: token.into_inner(),
                    name: format!("{} {}", inv.first_name, inv.last_name),
                    email: inv.email,
                    password_error,
                    confirm_error,
                },
            )
            .map(no_referrer);
        }
    };
    match invitations::accept(&ctx, origin(), &token, &password).await {
        Ok(a) => {
            session::begin(
                &session,
                Realm::Portal,
                &SignedIn {
                    account_id: a.account_id,
                    session_epoch: a.session_epoch,
                },
                ctx.now(),
            );
            session::flash(
                &session,
                "success",
                "Welcome! Your account is ready and you are signed in.",
            );
            Ok(see_other(portal::HOME))
        }
        Err(AcceptError::Link(p)) => problem(p),
        Err(AcceptError::Service(ServiceError::Conflict(m))) => Err(WebError::Conflict(m)),
        Err(AcceptError::Service(e)) => Err(e.into()),
    }
}

// ---- reset a password ----------------------------------------------------------

#[derive(Template)]
#[template(path = "portal/reset.html")]
struct ResetPage {
    csrf: String,
    token: String,
    email: String,
    password_error: String,
    confirm_error: String,
}

#[derive(Template)]
#[template(path = "portal/reset_done.html")]
struct ResetDone {
    email: String,
}

pub async fn reset_form(
    ctx: web::Data<Ctx>,
    session: Session,
    token: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let account = match password_reset::for_link(&ctx, &token).await? {
        Ok(a) => a,
        Err(p) => return problem(p),
    };
    page(
        StatusCode::OK,
        &ResetPage {
            csrf: session::csrf_token(&session),
            token: token.into_inner(),
            email: account.email,
            password_error: String::new(),
            confirm_error: String::new(),
        },
    )
    .map(no_referrer)
}

pub async fn reset(
    ctx: web::Data<Ctx>,
    session: Session,
    token: web::Path<String>,
    Form(f): Form<PasswordForm>,
) -> Result<HttpResponse, WebError> {
    let account = match password_reset::for_link(&ctx, &token).await? {
        Ok(a) => a,
        Err(p) => return problem(p),
    };
    let password = match parse_password(&f, &password_reset::related(&account)) {
        Ok(p) => p,
        Err((password_error, confirm_error)) => {
            return page(
                StatusCode::UNPROCESSABLE_ENTITY,
                &ResetPage {
                    csrf: session::csrf_token(&session),
                    token: token.into_inner(),
                    email: account.email,
                    password_error,
                    confirm_error,
                },
            )
            .map(no_referrer);
        }
    };
    match password_reset::complete(&ctx, origin(), &token, &password).await {
        Ok(a) => page(StatusCode::OK, &ResetDone { email: a.email }).map(no_referrer),
        Err(ResetError::Link(p)) => problem(p),
        Err(ResetError::Service(e)) => Err(e.into()),
    }
}

// ---- confirm a sign-up ------------------------------------------------------------

#[derive(Template)]
#[template(path = "portal/confirm.html")]
struct ConfirmPage {
    csrf: String,
    token: String,
    email: String,
}

pub async fn confirm_form(
    ctx: web::Data<Ctx>,
    session: Session,
    token: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let account = match signup::for_link(&ctx, &token).await? {
        Ok(a) => a,
        Err(p) => return problem(p),
    };
    page(
        StatusCode::OK,
        &ConfirmPage {
            csrf: session::csrf_token(&session),
            token: token.into_inner(),
            email: account.email,
        },
    )
    .map(no_referrer)
}

/// Spends the link; the account is active and the person signs in (a
/// confirmation proves the address, not the password, so it does not sign
/// anyone in by itself).
pub async fn confirm(
    ctx: web::Data<Ctx>,
    session: Session,
    token: web::Path<String>,
    _: Form<Empty>,
) -> Result<HttpResponse, WebError> {
    match signup::confirm(&ctx, origin(), &token).await? {
        Ok(a) => {
            session::flash(
                &session,
                "success",
                if a.state.is_active() {
                    "Your email address is confirmed and your account is active. Sign in to continue."
                } else {
                    "Your email address is confirmed."
                },
            );
            Ok(no_referrer(see_other(portal::SIGN_IN)))
        }
        Err(p) => problem(p),
    }
}
