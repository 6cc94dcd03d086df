//! Add to group on the Users list (SPEC G5): the ticked accounts, or every
//! account matching the search and filter (after a confirmation), change
//! their membership of a custom group: members leave it, the others join.

use actix_session::Session;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::domain::AccountState;
use crate::services::{Ctx, ServiceError, groups};
use crate::web::admin::{Chrome, CurrentAdmin};
use crate::web::csrf::Form;
use crate::web::errors::{WebError, ok, see_other};
use crate::web::paths::console;
use crate::web::session;

#[derive(Deserialize)]
pub struct ToggleForm {
    #[serde(default)]
    ids: Vec<String>,
    #[serde(default)]
    group: String,
    /// `matching` applies to every account matching `q` and `state`.
    #[serde(default)]
    scope: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    state: String,
    /// Set by the confirmation page of a `matching` toggle.
    #[serde(default)]
    confirm: String,
    #[serde(default)]
    back: String,
}

#[derive(Template)]
#[template(path = "admin/users/toggle_confirm.html")]
struct ToggleConfirm {
    chrome: Chrome,
    group_id: String,
    group_name: String,
    q: String,
    state: String,
    count: i64,
    back: String,
}

pub async fn toggle(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    Form(f): Form<ToggleForm>,
) -> Result<HttpResponse, WebError> {
    let back = crate::web::paths::back_to(&f.back, console::USERS).to_owned();
    if f.group.is_empty() {
        session::flash(
            &session,
            "error",
            "Choose a group in the Add to group menu.",
        );
        return Ok(see_other(&back));
    }
    let group = match groups::find(&ctx, &f.group).await {
        Ok(g) => g,
        Err(ServiceError::NotFound) => {
            session::flash(
                &session,
                "error",
                format!("There is no group named {}.", f.group.trim()),
            );
            return Ok(see_other(&back));
        }
        Err(e) => return Err(e.into()),
    };
    let q = f.q.trim().to_owned();
    let state = AccountState::parse(&f.state);
    let filter = crate::store::account_list::Filter {
        state: state.map(|s| s.as_str()),
        search: (!q.is_empty()).then_some(q.as_str()),
        groups: None,
        many_matches: false,
    };
    let selection = if f.scope == "matching" {
        if f.confirm != "yes" {
            let count = groups::count_matching(&ctx, &filter).await?;
            return ok(&ToggleConfirm {
                chrome: Chrome::new(&session, &admin, "users"),
                group_id: group.id.into(),
                group_name: group.name,
                q,
                state: state.map_or("", |s| s.as_str()).to_owned(),
                count,
                back,
            });
        }
        crate::store::selection::Selection::Matching(filter)
    } else {
        if f.ids.is_empty() {
            session::flash(&session, "error", "Tick at least one account first.");
            return Ok(see_other(&back));
        }
        crate::store::selection::Selection::Ids(&f.ids)
    };
    match groups::toggle(&ctx, &admin.actor(), &group.id, &selection).await {
        Ok(t) => session::flash(
            &session,
            "success",
            format!(
                "{}: added {}, removed {}.",
                t.group.name, t.added, t.removed
            ),
        ),
        Err(ServiceError::Forbidden(m)) => session::flash(&session, "error", m),
        Err(e) => return Err(e.into()),
    }
    Ok(see_other(&back))
}
