//! Add subscription (issue 13; SPEC P4, S1): an administrator subscribes an
//! account to a product it may see, from the account's Subscriptions page
//! (pick the product) or from the product's Subscriptions tab (name the
//! account by email), through the same service as the management API.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{Chrome, CurrentAdmin};
use crate::domain::FieldError;
use crate::domain::subscription::SubscriptionState;
use crate::domain::visibility::Viewer;
use crate::services::subscription_edits::{self, NewSubscriptionSpec};
use crate::services::visibility::{self, VisibleProduct};
use crate::services::{Ctx, ServiceError, accounts, products};
use crate::web::csrf::Form;
use crate::web::errors::{WebError, page, see_other};
use crate::web::forms::Errors;
use crate::web::paths::console;
use crate::web::session;

#[derive(Deserialize, Default)]
pub struct AddForm {
    /// From an account's page: the product's id.
    #[serde(default)]
    product: String,
    /// From a product's page: the account's email address.
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    state: String,
}

#[derive(Template)]
#[template(path = "admin/subscriptions/add.html")]
struct AddPage {
    chrome: Chrome,
    /// Who or what the page belongs to, for the heading and the way back.
    title: String,
    back: String,
    action: String,
    /// The account's page offers its visible products; the product's page
    /// asks for an email address.
    products: Option<Vec<VisibleProduct>>,
    f: AddForm,
    errors: Errors,
}

/// The service's field names, on this form.
fn form_errors(errors: Vec<FieldError>) -> Errors {
    Errors(
        errors
            .into_iter()
            .map(|mut e| {
                e.field = match e.field {
                    "owner_id" => "email",
                    "scope" => "product",
                    "display_name" => "name",
                    other => other,
                };
                e
            })
            .collect(),
    )
}

fn state_of(s: &str) -> SubscriptionState {
    if s == "submitted" {
        SubscriptionState::Submitted
    } else {
        SubscriptionState::Active
    }
}

pub async fn for_account_form(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    account_page(
        &ctx,
        &session,
        &admin,
        &id,
        AddForm::default(),
        Errors::default(),
        StatusCode::OK,
    )
    .await
}

async fn account_page(
    ctx: &Ctx,
    session: &Session,
    admin: &CurrentAdmin,
    id: &str,
    f: AddForm,
    errors: Errors,
    status: StatusCode,
) -> Result<HttpResponse, WebError> {
    let page_of = accounts::page(ctx, id).await?;
    let a = &page_of.account;
    let visible = match page_of.viewer {
        Viewer::Anonymous => Vec::new(),
        _ => visibility::visible_products(ctx, &page_of.viewer).await?,
    };
    page(
        status,
        &AddPage {
            chrome: Chrome::new(session, admin, "users"),
            title: format!("{} {}", a.first_name, a.last_name),
            back: console::account_subscriptions(&a.id),
            action: console::account_subscriptions_add(&a.id),
            products: Some(visible),
            f,
            errors,
        },
    )
}

pub async fn for_account(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<String>,
    Form(f): Form<AddForm>,
) -> Result<HttpResponse, WebError> {
    let product = f.product.clone();
    match create(&ctx, &session, &admin, id.to_string(), product, &f).await? {
        Ok(done) => Ok(done),
        Err(errors) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            account_page(&ctx, &session, &admin, &id, f, errors, status).await
        }
    }
}

/// Subscribes `account_id` to `product_id` as the form says: the way to the
/// new subscription's page, or the form's errors.
async fn create(
    ctx: &Ctx,
    session: &Session,
    admin: &CurrentAdmin,
    account_id: String,
    product_id: String,
    f: &AddForm,
) -> Result<Result<HttpResponse, Errors>, WebError> {
    let spec = NewSubscriptionSpec {
        id: None,
        account_id,
        product_id,
        display_name: f.name.clone(),
        state: state_of(&f.state),
    };
    match subscription_edits::create_for(ctx, &admin.actor(), spec).await {
        Ok(s) => {
            session::flash(
                session,
                "success",
                format!("Subscribed {} to {}.", s.account_email, s.product_name),
            );
            Ok(Ok(see_other(&console::subscription(&s.id))))
        }
        Err(ServiceError::Invalid(e)) => Ok(Err(form_errors(e))),
        Err(e) => Err(e.into()),
    }
}

pub async fn for_product_form(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    product_page(
        &ctx,
        &session,
        &admin,
        &id,
        AddForm::default(),
        Errors::default(),
        StatusCode::OK,
    )
    .await
}

async fn product_page(
    ctx: &Ctx,
    session: &Session,
    admin: &CurrentAdmin,
    id: &str,
    f: AddForm,
    errors: Errors,
    status: StatusCode,
) -> Result<HttpResponse, WebError> {
    let p = products::get(ctx, id).await?;
    page(
        status,
        &AddPage {
            chrome: Chrome::new(session, admin, "products"),
            title: p.name.clone(),
            back: console::product_subscriptions(&p.id),
            action: console::product_subscriptions_add(&p.id),
            products: None,
            f,
            errors,
        },
    )
}

pub async fn for_product(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<String>,
    Form(f): Form<AddForm>,
) -> Result<HttpResponse, WebError> {
    let account = match accounts::by_email(&ctx, &f.email).await? {
        Some(a) => a,
        None => {
            let e = vec![FieldError::new(
                "email",
                "There is no account with this email address.",
            )];
            return product_page(
                &ctx,
                &session,
                &admin,
                &id,
                f,
                Errors(e),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    match create(
        &ctx,
        &session,
        &admin,
        account.id.into(),
        id.to_string(),
        &f,
    )
    .await?
    {
        Ok(done) => Ok(done),
        Err(errors) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            product_page(&ctx, &session, &admin, &id, f, errors, status).await
        }
    }
}
