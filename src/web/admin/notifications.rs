//! The console's Notifications page (SPEC R5): which administrators get an
//! email for each event.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::domain::notification::Notification;
use crate::services::{Ctx, ServiceError, notifications};
use crate::store::notifications::Recipient;
use crate::web::admin::{Chrome, CurrentAdmin};
use crate::web::csrf::Form;
use crate::web::errors::{WebError, page, see_other};
use crate::web::forms::Errors;
use crate::web::paths::console;
use crate::web::session;

/// One event's row: who is ticked.
pub struct EventRow {
    pub event: Notification,
    pub ticked: Vec<String>,
}

impl EventRow {
    pub fn has(&self, id: &str) -> bool {
        self.ticked.iter().any(|t| t == id)
    }
}

#[derive(Template)]
#[template(path = "admin/notifications.html")]
struct NotificationsPage {
    chrome: Chrome,
    administrators: Vec<Recipient>,
    events: Vec<EventRow>,
    errors: Errors,
}

/// The form: for each event, the ids of the administrators ticked.
#[derive(Deserialize, Default)]
pub struct NotificationsForm {
    #[serde(default)]
    subscription_requested: Vec<String>,
    #[serde(default)]
    signed_up: Vec<String>,
    #[serde(default)]
    email_failed: Vec<String>,
    #[serde(default)]
    account_closed: Vec<String>,
}

impl NotificationsForm {
    fn ticked(&self, n: Notification) -> &[String] {
        match n {
            Notification::SubscriptionRequested => &self.subscription_requested,
            Notification::SignedUp => &self.signed_up,
            Notification::EmailFailed => &self.email_failed,
            Notification::AccountClosed => &self.account_closed,
        }
    }
}

async fn show_page(
    ctx: &Ctx,
    session: &Session,
    admin: &CurrentAdmin,
    status: StatusCode,
    sent: Option<(&NotificationsForm, Errors)>,
) -> Result<HttpResponse, WebError> {
    let choices = notifications::choices(ctx).await?;
    let (events, errors) = match sent {
        Some((f, errors)) => (
            Notification::ALL
                .into_iter()
                .map(|event| EventRow {
                    event,
                    ticked: f.ticked(event).to_vec(),
                })
                .collect(),
            errors,
        ),
        None => (
            choices
                .chosen
                .into_iter()
                .map(|(event, ticked)| EventRow { event, ticked })
                .collect(),
            Errors::default(),
        ),
    };
    page(
        status,
        &NotificationsPage {
            chrome: Chrome::new(session, admin, "notifications"),
            administrators: choices.administrators,
            events,
            errors,
        },
    )
}

pub async fn show(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
) -> Result<HttpResponse, WebError> {
    show_page(&ctx, &session, &admin, StatusCode::OK, None).await
}

pub async fn save(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    Form(f): Form<NotificationsForm>,
) -> Result<HttpResponse, WebError> {
    let wanted: Vec<(Notification, Vec<String>)> = Notification::ALL
        .into_iter()
        .map(|n| (n, f.ticked(n).to_vec()))
        .collect();
    match notifications::save(&ctx, &admin.actor(), &wanted).await {
        Ok(()) => {
            session::flash(&session, "success", "Saved who is notified by email.");
            Ok(see_other(console::NOTIFICATIONS))
        }
        Err(ServiceError::Invalid(errors)) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            show_page(&ctx, &session, &admin, status, Some((&f, Errors(errors)))).await
        }
        Err(e) => Err(e.into()),
    }
}
