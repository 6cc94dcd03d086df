//! Subscriptions in the console: per product and per account, one
//! subscription's page with its keys, and Approve / Reject / Suspend /
//! Activate / Cancel and key regeneration.

use actix_session::Session;
use actix_web::http::header::{CACHE_CONTROL, HeaderValue};
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{Chrome, CurrentAdmin};
use crate::clock;
use crate::domain::subscription::{KeySlot, SubscriptionAction, SubscriptionState};
use crate::services::subscriptions::{self, Caller};
use crate::services::{Ctx, ServiceError, accounts, products};
use crate::store::accounts::AccountDetail;
use crate::store::products::ProductRow;
use crate::store::subscriptions::SubscriptionRow;
use crate::web::csrf::Form;
use crate::web::errors::{WebError, ok, see_other};
use crate::web::paths::{console, with_query};
use crate::web::session;

/// One subscription as the console lists it, with the buttons that apply.
pub struct Row {
    pub s: SubscriptionRow,
    pub state_label: &'static str,
    pub created: String,
    pub actions: Vec<SubscriptionAction>,
}

impl From<SubscriptionRow> for Row {
    fn from(s: SubscriptionRow) -> Self {
        let state = s.state;
        Self {
            state_label: state.label(),
            created: clock::display(s.created_at),
            actions: SubscriptionAction::available(state),
            s,
        }
    }
}

/// The state filter's options: ("", "All") then every state.
fn state_options() -> Vec<(&'static str, &'static str)> {
    std::iter::once(("", "All states"))
        .chain(
            SubscriptionState::ALL
                .iter()
                .map(|s| (s.as_str(), s.label())),
        )
        .collect()
}

#[derive(Template)]
#[template(path = "admin/products/subscriptions.html")]
struct ProductPage {
    chrome: Chrome,
    p: ProductRow,
    rows: Vec<Row>,
    state: String,
    states: Vec<(&'static str, &'static str)>,
    next_url: Option<String>,
    back: String,
}

#[derive(Deserialize)]
pub struct ListQuery {
    state: Option<String>,
    after: Option<String>,
}

pub async fn of_product(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<String>,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, WebError> {
    let p = products::get(&ctx, &id).await?;
    let state = q.state.as_deref().and_then(SubscriptionState::parse);
    let page = subscriptions::of_product(&ctx, &p.id, state, q.after.as_deref()).await?;
    let state = state.map(|s| s.as_str()).unwrap_or("").to_owned();
    let base = console::product_subscriptions(&p.id);
    let next_url = page
        .next
        .map(|after| with_query(&base, &[("after", &after), ("state", &state)]));
    let back = with_query(&base, &[("state", &state)]);
    ok(&ProductPage {
        chrome: Chrome::new(&session, &admin, "products"),
        p,
        rows: page.rows.into_iter().map(Row::from).collect(),
        state,
        states: state_options(),
        next_url,
        back,
    })
}

#[derive(Template)]
#[template(path = "admin/users/subscriptions.html")]
struct AccountPage {
    chrome: Chrome,
    a: AccountDetail,
    rows: Vec<Row>,
    back: String,
}

pub async fn of_account(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let a = accounts::get(&ctx, &id).await?;
    let rows = subscriptions::of_account(&ctx, &a.id).await?;
    let back = console::account_subscriptions(&a.id);
    ok(&AccountPage {
        chrome: Chrome::new(&session, &admin, "users"),
        a,
        rows: rows.into_iter().map(Row::from).collect(),
        back,
    })
}

#[derive(Template)]
#[template(path = "admin/subscriptions/show.html")]
struct ShowPage {
    chrome: Chrome,
    r: Row,
    show_keys: bool,
    updated: String,
    back: String,
}

#[derive(Deserialize)]
pub struct ShowQuery {
    show: Option<String>,
}

pub async fn show(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<String>,
    q: web::Query<ShowQuery>,
) -> Result<HttpResponse, WebError> {
    let s = subscriptions::get(&ctx, Caller::Administrator, &id).await?;
    let back = console::subscription(&s.id);
    let mut resp = ok(&ShowPage {
        chrome: Chrome::new(&session, &admin, "products"),
        updated: clock::display(s.updated_at),
        r: Row::from(s),
        show_keys: q.show.is_some(),
        back,
    })?;
    resp.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

#[derive(Deserialize)]
pub struct ActForm {
    #[serde(default)]
    back: String,
}

/// Where to go after an action: back where the button was, if that is a
/// console page.
fn back_to(back: &str, id: &str) -> String {
    crate::web::paths::local_path(Some(back))
        .filter(|b| console::is_console(b))
        .map_or_else(|| console::subscription(id), str::to_owned)
}

pub async fn act(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    path: web::Path<(String, String)>,
    Form(f): Form<ActForm>,
) -> Result<HttpResponse, WebError> {
    let (id, action) = path.into_inner();
    let action = SubscriptionAction::parse(&action).ok_or(WebError::NotFound)?;
    match subscriptions::act(&ctx, &admin.actor(), Caller::Administrator, &id, action).await {
        Ok(s) => {
            let state = s.state;
            let mailed = matches!(
                action,
                SubscriptionAction::Approve | SubscriptionAction::Reject
            );
            session::flash(
                &session,
                "success",
                format!(
                    "{} ({} on {}) is now {}.{}",
                    s.display_name,
                    s.account_email,
                    s.product_name,
                    state.label().to_lowercase(),
                    if mailed {
                        " The developer is told by email."
                    } else {
                        ""
                    }
                ),
            );
        }
        Err(ServiceError::Conflict(m)) => session::flash(&session, "error", m),
        Err(e) => return Err(e.into()),
    }
    Ok(see_other(&back_to(&f.back, &id)))
}

#[derive(Deserialize)]
pub struct RegenerateForm {
    #[serde(default)]
    key: String,
}

pub async fn regenerate(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<String>,
    Form(f): Form<RegenerateForm>,
) -> Result<HttpResponse, WebError> {
    let slot = KeySlot::parse(&f.key).ok_or(WebError::BadRequest)?;
    let s =
        subscriptions::regenerate(&ctx, &admin.actor(), Caller::Administrator, &id, slot).await?;
    session::flash(
        &session,
        "success",
        format!(
            "The {} key of {} is new. The old one no longer works.",
            slot.label(),
            s.display_name
        ),
    );
    Ok(see_other(&console::subscription_keys(&s.id)))
}
