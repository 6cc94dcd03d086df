//! Products as the visitor may see them (P3) and Subscribe (P4).

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{Chrome, origin, require, viewer_of, visitor};
use crate::domain::visibility::Viewer;
use crate::services::visibility::{self, VisibleProduct};
use crate::services::{Ctx, ServiceError, subscriptions};
use crate::store::products::ProductRow;
use crate::store::subscriptions::SubscriptionRow;
use crate::web::csrf::Form;
use crate::web::errors::{WebError, ok, page, see_other};
use crate::web::paths::portal;
use crate::web::session;

#[derive(Template)]
#[template(path = "portal/products.html")]
struct ListPage {
    chrome: Chrome,
    signed_in: bool,
    products: Vec<VisibleProduct>,
}

pub async fn list(ctx: web::Data<Ctx>, session: Session) -> Result<HttpResponse, WebError> {
    let who = visitor(&ctx, &session).await?;
    let viewer = viewer_of(who.as_ref());
    let products = visibility::visible_products(&ctx, &viewer).await?;
    ok(&ListPage {
        chrome: Chrome::new(&session, who.as_ref(), "products"),
        signed_in: who.is_some(),
        products,
    })
}

#[derive(Template)]
#[template(path = "portal/product.html")]
struct ProductPage {
    chrome: Chrome,
    product: ProductRow,
    signed_in: bool,
    may_subscribe: bool,
    mine: Vec<SubscriptionRow>,
    name: String,
    /// A problem with the name field.
    name_error: String,
    /// A problem with subscribing at all (e.g. the limit is reached).
    form_error: String,
}

async fn product_page(
    ctx: &Ctx,
    session: &Session,
    id: &str,
    name: String,
    errors: Vec<crate::domain::FieldError>,
) -> Result<ProductPage, WebError> {
    let joined = |field: &str| {
        errors
            .iter()
            .filter(|e| e.field == field)
            .map(|e| e.message.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let who = visitor(ctx, session).await?;
    let viewer = viewer_of(who.as_ref());
    let product = visibility::product_for(ctx, &viewer, id).await?;
    let mine = match &who {
        Some(a) => subscriptions::of_account(ctx, &a.id)
            .await?
            .into_iter()
            .filter(|s| s.product_id == product.id)
            .collect(),
        None => Vec::new(),
    };
    Ok(ProductPage {
        chrome: Chrome::new(session, who.as_ref(), "products"),
        signed_in: who.is_some(),
        may_subscribe: viewer.may_subscribe() && !matches!(viewer, Viewer::Anonymous),
        product,
        mine,
        name,
        name_error: joined("name"),
        form_error: joined("subscription"),
    })
}

pub async fn show(
    ctx: web::Data<Ctx>,
    session: Session,
    id: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    ok(&product_page(&ctx, &session, &id, String::new(), Vec::new()).await?)
}

#[derive(Deserialize)]
pub struct SubscribeForm {
    #[serde(default)]
    name: String,
}

pub async fn subscribe(
    ctx: web::Data<Ctx>,
    session: Session,
    id: web::Path<String>,
    Form(f): Form<SubscribeForm>,
) -> Result<HttpResponse, WebError> {
    let who = require(visitor(&ctx, &session).await?, &portal::product(&id))?;
    match subscriptions::subscribe(&ctx, origin(), &who.id, &id, &f.name).await {
        Ok(s) => {
            let message = if s.state == crate::domain::subscription::SubscriptionState::Submitted {
                format!(
                    "You asked to subscribe to {}. An administrator will approve or reject the request; you will get an email.",
                    s.product_name
                )
            } else {
                format!(
                    "You are subscribed to {}. Your keys are below.",
                    s.product_name
                )
            };
            session::flash(&session, "success", message);
            Ok(see_other(&portal::subscription(&s.id)))
        }
        Err(ServiceError::Invalid(errors)) => {
            let status = if errors.iter().any(|e| e.field == "name") {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                StatusCode::CONFLICT
            };
            let p = product_page(&ctx, &session, &id, f.name, errors).await?;
            page(status, &p)
        }
        Err(e) => Err(e.into()),
    }
}
