//! A group's Settings tab (SPEC G3): name and description, and its history.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::domain::group::GroupSettings;
use crate::services::{Ctx, ServiceError, groups};
use crate::store::groups::GroupRow;
use crate::web::admin::users::HistoryRow;
use crate::web::admin::{Chrome, CurrentAdmin};
use crate::web::csrf::Form;
use crate::web::errors::{WebError, page, see_other};
use crate::web::forms::Errors;
use crate::web::paths::console;
use crate::web::session;

#[derive(Template)]
#[template(path = "admin/groups/show.html")]
struct ShowPage {
    chrome: Chrome,
    g: GroupRow,
    kind: &'static str,
    custom: bool,
    /// An external group's provider: (id, name).
    provider: Option<(String, String)>,
    name: String,
    description: String,
    errors: Errors,
    history: Vec<HistoryRow>,
}

async fn show_page(
    ctx: &Ctx,
    session: &Session,
    admin: &CurrentAdmin,
    g: GroupRow,
    status: StatusCode,
    form: Option<(String, String, Errors)>,
) -> Result<HttpResponse, WebError> {
    let history = crate::services::audit_log::history(ctx, "group", &g.id).await?;
    let (name, description, errors) = form.unwrap_or_else(|| {
        (
            g.name.clone(),
            g.description.clone().unwrap_or_default(),
            Errors::default(),
        )
    });
    page(
        status,
        &ShowPage {
            chrome: Chrome::new(session, admin, "groups"),
            kind: g.kind.label(),
            custom: g.kind.is_described_by_hand(),
            provider: groups::provider_of(ctx, &g).await?,
            g,
            name,
            description,
            errors,
            history: history.into_iter().map(HistoryRow::from).collect(),
        },
    )
}

pub async fn show(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let g = groups::get(&ctx, &id).await?;
    show_page(&ctx, &session, &admin, g, StatusCode::OK, None).await
}

#[derive(Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
}

pub async fn update(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<String>,
    Form(f): Form<SettingsForm>,
) -> Result<HttpResponse, WebError> {
    let result = match GroupSettings::parse(&f.name, &f.description) {
        Ok(s) => groups::update(&ctx, &admin.actor(), &id, &s, crate::services::Expect::Any).await,
        Err(errors) => Err(ServiceError::Invalid(errors)),
    };
    match result {
        Ok(g) => {
            session::flash(&session, "success", format!("Saved group {}.", g.name));
            Ok(see_other(&console::group(&id)))
        }
        Err(ServiceError::Invalid(errors)) => {
            let g = groups::get(&ctx, &id).await?;
            let form = Some((f.name, f.description, Errors(errors)));
            show_page(
                &ctx,
                &session,
                &admin,
                g,
                StatusCode::UNPROCESSABLE_ENTITY,
                form,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}
