//! Add group (SPEC G3): name, description, and initial members picked
//! by searching accounts (without JavaScript: the form posts back to search).

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::find_accounts;
use crate::domain::group::GroupSettings;
use crate::services::{Ctx, ServiceError, accounts, groups};
use crate::web::admin::users::Row;
use crate::web::admin::{Chrome, CurrentAdmin};
use crate::web::csrf::Form;
use crate::web::errors::{WebError, ok, page, see_other};
use crate::web::forms::Errors;
use crate::web::paths::console;
use crate::web::session;

#[derive(Deserialize, Default)]
pub struct AddForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    /// Accounts picked so far as initial members.
    #[serde(default)]
    members: Vec<String>,
    #[serde(default)]
    find: String,
    /// `find` searches accounts to pick; anything else creates the group.
    #[serde(default)]
    action: String,
}

#[derive(Template)]
#[template(path = "admin/groups/add.html")]
struct AddPage {
    chrome: Chrome,
    name: String,
    description: String,
    find: String,
    picked: Vec<Row>,
    found: Vec<Row>,
    searched: bool,
    errors: Errors,
}

/// Accounts by id, for showing the picked members again.
async fn rows_for(ctx: &Ctx, ids: &[String]) -> Result<Vec<Row>, ServiceError> {
    Ok(accounts::by_ids(ctx, ids)
        .await?
        .into_iter()
        .map(Row::from)
        .collect())
}

pub async fn add_form(session: Session, admin: CurrentAdmin) -> Result<HttpResponse, WebError> {
    ok(&AddPage {
        chrome: Chrome::new(&session, &admin, "groups"),
        name: String::new(),
        description: String::new(),
        find: String::new(),
        picked: Vec::new(),
        found: Vec::new(),
        searched: false,
        errors: Errors::default(),
    })
}

pub async fn add(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    Form(f): Form<AddForm>,
) -> Result<HttpResponse, WebError> {
    let mut members = f.members.clone();
    members.dedup();
    let (status, errors) = if f.action == "find" {
        (StatusCode::OK, Vec::new())
    } else {
        let result = match GroupSettings::parse(&f.name, &f.description) {
            Ok(s) => groups::create(&ctx, &admin.actor(), None, &s, &members).await,
            Err(errors) => Err(ServiceError::Invalid(errors)),
        };
        match result {
            Ok(id) => {
                session::flash(
                    &session,
                    "success",
                    format!(
                        "Added group {} with {} member(s).",
                        f.name.trim(),
                        members.len()
                    ),
                );
                return Ok(see_other(&console::group(&id)));
            }
            Err(ServiceError::Invalid(errors)) => (StatusCode::UNPROCESSABLE_ENTITY, errors),
            Err(e) => return Err(e.into()),
        }
    };
    page(
        status,
        &AddPage {
            chrome: Chrome::new(&session, &admin, "groups"),
            picked: rows_for(&ctx, &members).await?,
            found: find_accounts(&ctx, &f.find, &members).await?,
            searched: !f.find.trim().is_empty(),
            name: f.name,
            description: f.description,
            find: f.find,
            errors: Errors(errors),
        },
    )
}
