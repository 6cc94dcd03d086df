//! Deleting a custom group (SPEC G3), after a page that says what goes with it.

use actix_session::Session;
use actix_web::{HttpResponse, web};
use askama::Template;

use crate::domain::group::is_system;
use crate::services::{Ctx, groups};
use crate::store::groups::GroupRow;
use crate::web::admin::{Chrome, CurrentAdmin};
use crate::web::csrf::Form;
use crate::web::errors::{WebError, ok, see_other};
use crate::web::forms::Empty;
use crate::web::paths::console;
use crate::web::session;

#[derive(Template)]
#[template(path = "admin/groups/delete.html")]
struct DeletePage {
    chrome: Chrome,
    g: GroupRow,
    memberships: i64,
    grants: i64,
}

pub async fn delete_confirm(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let g = groups::get(&ctx, &id).await?;
    if is_system(&g.id) || !g.kind.is_edited_by_hand() {
        return Err(WebError::Forbidden(format!(
            "{} cannot be deleted.",
            g.name
        )));
    }
    let d = groups::dependants(&ctx, &id).await?;
    ok(&DeletePage {
        chrome: Chrome::new(&session, &admin, "groups"),
        g,
        memberships: d.memberships,
        grants: d.grants,
    })
}

pub async fn delete(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<String>,
    _: Form<Empty>,
) -> Result<HttpResponse, WebError> {
    let g = groups::delete(&ctx, &admin.actor(), &id, crate::services::Expect::Any).await?;
    session::flash(&session, "success", format!("Deleted group {}.", g.name));
    Ok(see_other(console::GROUPS))
}
