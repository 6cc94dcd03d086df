//! The developer portal at `/`: for now its home, and the pages that email
//! links lead to (accept an invitation, reset a password). Products and
//! sign-up arrive with their own issue.

mod links;

use actix_session::Session;
use actix_web::{HttpResponse, web};
use askama::Template;

use crate::services::{Ctx, auth};
use crate::web::csrf::Form;
use crate::web::errors::{WebError, ok, see_other};
use crate::web::session;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(home))
        .route("/sign-out", web::post().to(sign_out))
        .route("/invitations/{token}", web::get().to(links::accept_form))
        .route("/invitations/{token}", web::post().to(links::accept))
        .route("/reset-password/{token}", web::get().to(links::reset_form))
        .route("/reset-password/{token}", web::post().to(links::reset));
}

#[derive(Template)]
#[template(path = "portal/home.html")]
struct Home {
    csrf: String,
    name: Option<String>,
    flash: Option<session::Flash>,
}

async fn home(ctx: web::Data<Ctx>, session: Session) -> Result<HttpResponse, WebError> {
    let mut name = None;
    if let Some(u) = session::user(&session) {
        match auth::session_account(&ctx, &u.id, &u.sid, u.epoch).await? {
            Some(a) => name = Some(format!("{} {}", a.first_name, a.last_name)),
            None => session::end(&session),
        }
    }
    ok(&Home {
        csrf: session::csrf_token(&session),
        name,
        flash: session::take_flash(&session),
    })
}

#[derive(serde::Deserialize)]
struct Empty {}

async fn sign_out(
    ctx: web::Data<Ctx>,
    session: Session,
    _: Form<Empty>,
) -> Result<HttpResponse, WebError> {
    if let Some(user) = session::user(&session) {
        auth::sign_out(&ctx, &user.sid, user.since).await?;
    }
    session::end(&session);
    Ok(see_other("/"))
}
