//! Deleting a product, after a page that says how many subscriptions go with it.

use actix_session::Session;
use actix_web::{HttpResponse, web};
use askama::Template;

use crate::services::{Ctx, products};
use crate::store::products::ProductRow;
use crate::web::admin::{Chrome, CurrentAdmin};
use crate::web::csrf::Form;
use crate::web::errors::{WebError, ok, see_other};
use crate::web::forms::Empty;
use crate::web::paths::console;
use crate::web::session;

#[derive(Template)]
#[template(path = "admin/products/delete.html")]
struct DeletePage {
    chrome: Chrome,
    p: ProductRow,
    subscriptions: i64,
}

pub async fn delete_confirm(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let p = products::get(&ctx, &id).await?;
    let subscriptions = products::subscription_count(&ctx, &id).await?;
    ok(&DeletePage {
        chrome: Chrome::new(&session, &admin, "products"),
        p,
        subscriptions,
    })
}

pub async fn delete(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<String>,
    _: Form<Empty>,
) -> Result<HttpResponse, WebError> {
    let p = products::delete(
        &ctx,
        &admin.actor(),
        &id,
        crate::services::Expect::Any,
        products::Subscriptions::DeleteThem,
    )
    .await?;
    session::flash(&session, "success", format!("Deleted product {}.", p.name));
    Ok(see_other(console::PRODUCTS))
}
