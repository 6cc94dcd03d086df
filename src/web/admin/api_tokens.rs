//! The console's Management API page (SPEC M5, SECURITY S-20): the access
//! tokens the management API accepts, Create token (the secret is shown
//! once, on the page that answers the form) and Revoke.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{Chrome, CurrentAdmin};
use crate::clock;
use crate::domain::api_token::{DEFAULT_DAYS, MAX_DAYS, NewApiToken};
use crate::services::{Ctx, ServiceError, api_tokens};
use crate::store::api_tokens::ApiTokenRow;
use crate::web::csrf::Form;
use crate::web::errors::{WebError, page, see_other};
use crate::web::forms::{Empty, Errors};
use crate::web::paths::console;
use crate::web::session;

#[derive(Deserialize, Default)]
pub struct CreateForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    days: String,
}

pub struct Row {
    pub id: String,
    pub name: String,
    pub created: String,
    pub expires: String,
    pub last_used: String,
    pub state: &'static str,
    pub usable: bool,
}

impl Row {
    fn of(t: &ApiTokenRow, now: i64) -> Self {
        Self {
            id: t.id.clone(),
            name: t.name.clone(),
            created: clock::display(t.created_at),
            expires: clock::display(t.expires_at),
            last_used: t
                .last_used_at
                .map(clock::display)
                .unwrap_or_else(|| "Never".into()),
            state: match (t.revoked_at, api_tokens::is_usable(t, now)) {
                (Some(_), _) => "Revoked",
                (None, true) => "Active",
                (None, false) => "Expired",
            },
            usable: api_tokens::is_usable(t, now),
        }
    }
}

#[derive(Template)]
#[template(path = "admin/api/tokens.html")]
struct TokensPage {
    chrome: Chrome,
    rows: Vec<Row>,
    f: CreateForm,
    errors: Errors,
    day_choices: [i64; 4],
    default_days: i64,
    /// The management API's base path, for the examples.
    base: String,
    /// A token just made: its name and secret (shown this once).
    created: Option<(String, String)>,
}

async fn render(
    ctx: &Ctx,
    session: &Session,
    admin: &CurrentAdmin,
    status: StatusCode,
    f: CreateForm,
    errors: Errors,
    created: Option<(String, String)>,
) -> Result<HttpResponse, WebError> {
    let now = ctx.now();
    let rows = api_tokens::list(ctx)
        .await?
        .iter()
        .map(|t| Row::of(t, now))
        .collect();
    let resp = page(
        status,
        &TokensPage {
            chrome: Chrome::new(session, admin, "api"),
            rows,
            f,
            errors,
            day_choices: [30, DEFAULT_DAYS, 180, MAX_DAYS],
            default_days: DEFAULT_DAYS,
            base: format!(
                "{}/subscriptions/portal/resourceGroups/portal/providers/Microsoft.ApiManagement/service/portal",
                ctx.settings.base_url
            ),
            created,
        },
    )?;
    // Every console page is no-store; this one says so itself too.
    Ok(crate::web::headers::no_store(resp))
}

pub async fn list(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
) -> Result<HttpResponse, WebError> {
    render(
        &ctx,
        &session,
        &admin,
        StatusCode::OK,
        CreateForm::default(),
        Errors::default(),
        None,
    )
    .await
}

pub async fn create(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    Form(f): Form<CreateForm>,
) -> Result<HttpResponse, WebError> {
    let new = match NewApiToken::parse(&f.name, &f.days) {
        Ok(new) => new,
        Err(errors) => {
            return render(
                &ctx,
                &session,
                &admin,
                StatusCode::UNPROCESSABLE_ENTITY,
                f,
                Errors(errors),
                None,
            )
            .await;
        }
    };
    match api_tokens::create(&ctx, &admin.actor(), &new).await {
        Ok(c) => {
            render(
                &ctx,
                &session,
                &admin,
                StatusCode::OK,
                CreateForm::default(),
                Errors::default(),
                Some((c.token.name, c.secret)),
            )
            .await
        }
        Err(ServiceError::Invalid(errors)) => {
            render(
                &ctx,
                &session,
                &admin,
                StatusCode::UNPROCESSABLE_ENTITY,
                f,
                Errors(errors),
                None,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn revoke(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<String>,
    Form(_): Form<Empty>,
) -> Result<HttpResponse, WebError> {
    let t = api_tokens::revoke(&ctx, &admin.actor(), &id).await?;
    session::flash(
        &session,
        "success",
        format!("Revoked the token {}. It no longer works.", t.name),
    );
    Ok(see_other(console::API))
}
