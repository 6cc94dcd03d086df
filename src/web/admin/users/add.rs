//! Add user (SPEC U3): an active account with a password the administrator
//! sets, and optionally an account-created email.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::domain::account::NewAccount;
use crate::services::{Ctx, ServiceError, accounts};
use crate::web::admin::{Chrome, CurrentAdmin};
use crate::web::csrf::Form;
use crate::web::errors::{WebError, ok, page, see_other};
use crate::web::forms::Errors;
use crate::web::paths::console;
use crate::web::session;

#[derive(Deserialize, Default)]
pub struct AddForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    /// The "Send account-created email" checkbox (`on` when ticked).
    #[serde(default)]
    notify: String,
}

#[derive(Template)]
#[template(path = "admin/users/add.html")]
struct AddPage {
    chrome: Chrome,
    email: String,
    first_name: String,
    last_name: String,
    notify: bool,
    errors: Errors,
}

pub async fn add_form(session: Session, admin: CurrentAdmin) -> Result<HttpResponse, WebError> {
    ok(&AddPage {
        chrome: Chrome::new(&session, &admin, "users"),
        email: String::new(),
        first_name: String::new(),
        last_name: String::new(),
        notify: false,
        errors: Errors::default(),
    })
}

pub async fn add(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    Form(f): Form<AddForm>,
) -> Result<HttpResponse, WebError> {
    let notify = f.notify == "on";
    let result = match NewAccount::parse(&f.email, &f.password, &f.first_name, &f.last_name) {
        Ok(new) => accounts::create(&ctx, &admin.actor(), new, notify).await,
        Err(errors) => Err(ServiceError::Invalid(errors)),
    };
    match result {
        Ok(id) => {
            let sent = if notify {
                " An account-created email is on its way (see the Email log)."
            } else {
                ""
            };
            session::flash(
                &session,
                "success",
                format!("Added user {}.{sent}", f.email.trim()),
            );
            Ok(see_other(&console::account(&id)))
        }
        Err(ServiceError::Invalid(errors)) => page(
            StatusCode::UNPROCESSABLE_ENTITY,
            &AddPage {
                chrome: Chrome::new(&session, &admin, "users"),
                email: f.email,
                first_name: f.first_name,
                last_name: f.last_name,
                notify,
                errors: Errors(errors),
            },
        ),
        Err(e) => Err(e.into()),
    }
}
