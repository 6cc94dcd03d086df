//! Invite user and the Pending view (SPEC U4).

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{Chrome, CurrentAdmin};
use crate::clock;
use crate::services::invitations::{self, NewInvitation, Pending};
use crate::services::{Ctx, ServiceError, groups};
use crate::store::groups::GroupRef;
use crate::web::csrf::Form;
use crate::web::errors::{WebError, ok, page, see_other};
use crate::web::forms::{Empty, Errors};
use crate::web::paths::console;
use crate::web::session;

#[derive(Deserialize, Default)]
pub struct InviteForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    #[serde(default)]
    groups: Vec<String>,
}

#[derive(Template)]
#[template(path = "admin/users/invite.html")]
struct InvitePage {
    chrome: Chrome,
    f: InviteForm,
    /// Custom groups to pick from, when there are few enough for a list.
    choices: Option<Vec<GroupRef>>,
    errors: Errors,
}

impl InvitePage {
    /// Whether the form had group `id` ticked.
    fn picked(&self, id: &str) -> bool {
        self.f.groups.iter().any(|g| g == id)
    }
}

pub async fn invite_form(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
) -> Result<HttpResponse, WebError> {
    ok(&InvitePage {
        chrome: Chrome::new(&session, &admin, "users"),
        f: InviteForm::default(),
        choices: groups::custom_menu(&ctx).await?,
        errors: Errors::default(),
    })
}

pub async fn invite(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    Form(f): Form<InviteForm>,
) -> Result<HttpResponse, WebError> {
    let result = match NewInvitation::parse(&f.email, &f.first_name, &f.last_name, f.groups.clone())
    {
        Ok(new) => invitations::invite(&ctx, &admin.actor(), &new).await,
        Err(errors) => Err(ServiceError::Invalid(errors)),
    };
    match result {
        Ok(_) => {
            session::flash(
                &session,
                "success",
                format!("Sent an invitation to {}.", f.email.trim()),
            );
            Ok(see_other(console::USERS_PENDING))
        }
        Err(ServiceError::Invalid(errors)) => page(
            StatusCode::UNPROCESSABLE_ENTITY,
            &InvitePage {
                chrome: Chrome::new(&session, &admin, "users"),
                f,
                choices: groups::custom_menu(&ctx).await?,
                errors: Errors(errors),
            },
        ),
        Err(e) => Err(e.into()),
    }
}

pub struct PendingRow {
    pub id: String,
    pub name: String,
    pub email: String,
    pub sent: String,
    pub expires: String,
    pub expired: bool,
}

impl From<Pending> for PendingRow {
    fn from(p: Pending) -> Self {
        let i = p.invitation;
        Self {
            name: format!("{} {}", i.first_name, i.last_name),
            sent: clock::display(i.sent_at),
            expires: clock::display(i.expires_at),
            expired: p.expired,
            id: i.id,
            email: i.email,
        }
    }
}

#[derive(Template)]
#[template(path = "admin/users/pending.html")]
struct PendingPage {
    chrome: Chrome,
    rows: Vec<PendingRow>,
}

pub async fn pending(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
) -> Result<HttpResponse, WebError> {
    let rows = invitations::pending(&ctx)
        .await?
        .into_iter()
        .map(PendingRow::from)
        .collect();
    ok(&PendingPage {
        chrome: Chrome::new(&session, &admin, "users"),
        rows,
    })
}

pub async fn resend(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<String>,
    _: Form<Empty>,
) -> Result<HttpResponse, WebError> {
    match invitations::resend(&ctx, &admin.actor(), &id).await {
        Ok(i) => session::flash(
            &session,
            "success",
            format!(
                "Sent a new invitation to {}; the old link no longer works.",
                i.email
            ),
        ),
        Err(ServiceError::Conflict(m)) => session::flash(&session, "error", m),
        Err(e) => return Err(e.into()),
    }
    Ok(see_other(console::USERS_PENDING))
}

pub async fn cancel(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<String>,
    _: Form<Empty>,
) -> Result<HttpResponse, WebError> {
    match invitations::cancel(&ctx, &admin.actor(), &id).await {
        Ok(i) => session::flash(
            &session,
            "success",
            format!("Cancelled the invitation to {}.", i.email),
        ),
        Err(ServiceError::Conflict(m)) => session::flash(&session, "error", m),
        Err(e) => return Err(e.into()),
    }
    Ok(see_other(console::USERS_PENDING))
}
