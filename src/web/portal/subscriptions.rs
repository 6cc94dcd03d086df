//! My subscriptions: each one's state and keys (shown only when asked for),
//! with Regenerate and Cancel. Someone else's subscription is "not found"
//! (S-13).

use actix_session::Session;
use actix_web::http::header::{CACHE_CONTROL, HeaderValue};
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{Chrome, actor, require, visitor};
use crate::domain::subscription::{KeySlot, SubscriptionAction, SubscriptionState};
use crate::services::subscriptions::{self, Caller};
use crate::services::{Ctx, ServiceError};
use crate::store::subscriptions::SubscriptionRow;
use crate::web::csrf::Form;
use crate::web::errors::{WebError, ok, see_other};
use crate::web::forms::Empty;
use crate::web::paths::portal;
use crate::web::session;

pub struct Row {
    pub s: SubscriptionRow,
    pub state_label: &'static str,
    pub active: bool,
    pub may_cancel: bool,
    pub show_keys: bool,
}

#[derive(Template)]
#[template(path = "portal/subscriptions.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<Row>,
}

#[derive(Deserialize)]
pub struct ShowQuery {
    show: Option<String>,
}

pub async fn list(
    ctx: web::Data<Ctx>,
    session: Session,
    q: web::Query<ShowQuery>,
) -> Result<HttpResponse, WebError> {
    let who = require(visitor(&ctx, &session).await?, portal::SUBSCRIPTIONS)?;
    let rows = subscriptions::of_account(&ctx, &who.id)
        .await?
        .into_iter()
        .map(|s| {
            let state = s.state;
            Row {
                state_label: state.label(),
                active: state == SubscriptionState::Active,
                may_cancel: SubscriptionAction::Cancel.from(state).is_some(),
                show_keys: q.show.as_deref() == Some(s.id.as_str()),
                s,
            }
        })
        .collect();
    let mut resp = ok(&ListPage {
        chrome: Chrome::new(&session, Some(&who), "subscriptions"),
        rows,
    })?;
    // Keys may be on this page: never keep it in a cache.
    resp.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

#[derive(Deserialize)]
pub struct RegenerateForm {
    #[serde(default)]
    key: String,
}

pub async fn regenerate(
    ctx: web::Data<Ctx>,
    session: Session,
    id: web::Path<String>,
    Form(f): Form<RegenerateForm>,
) -> Result<HttpResponse, WebError> {
    let who = require(visitor(&ctx, &session).await?, portal::SUBSCRIPTIONS)?;
    let slot = KeySlot::parse(&f.key).ok_or(WebError::BadRequest)?;
    let s =
        subscriptions::regenerate(&ctx, &actor(&who), Caller::Owner(&who.id), &id, slot).await?;
    session::flash(
        &session,
        "success",
        format!(
            "The {} key of {} is new. The old one no longer works.",
            slot.label(),
            s.display_name
        ),
    );
    Ok(see_other(&portal::subscription_keys(&s.id)))
}

pub async fn cancel(
    ctx: web::Data<Ctx>,
    session: Session,
    id: web::Path<String>,
    _: Form<Empty>,
) -> Result<HttpResponse, WebError> {
    let who = require(visitor(&ctx, &session).await?, portal::SUBSCRIPTIONS)?;
    match subscriptions::act(
        &ctx,
        &actor(&who),
        Caller::Owner(&who.id),
        &id,
        SubscriptionAction::Cancel,
    )
    .await
    {
        Ok(s) => {
            session::flash(
                &session,
                "success",
                format!("{} is cancelled. Its keys no longer work.", s.display_name),
            );
            Ok(see_other(portal::SUBSCRIPTIONS))
        }
        Err(ServiceError::Conflict(m)) => {
            session::flash(&session, "error", m);
            Ok(see_other(portal::SUBSCRIPTIONS))
        }
        Err(e) => Err(e.into()),
    }
}
