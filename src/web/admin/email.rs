//! The Email templates tab (SPEC E1, E2) and the Email log (E3).

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{Chrome, CurrentAdmin};
use crate::clock;
use crate::domain::email_template::{EmailTemplate, TemplateText};
use crate::email::render::Rendered;
use crate::services::{Ctx, ServiceError, email_templates, mail};
use crate::store::outbox;
use crate::web::csrf::Form;
use crate::web::errors::{WebError, ok, page, see_other};
use crate::web::forms::{Empty, Errors};
use crate::web::paths::{console, with_query};
use crate::web::session;

const TEMPLATES_TAB: &str = "email_templates";
const LOG_TAB: &str = "email_log";

fn template_of(name: &str) -> Result<EmailTemplate, WebError> {
    EmailTemplate::parse(name).ok_or(WebError::NotFound)
}

// ---- list ----------------------------------------------------------------------

pub struct TemplateRow {
    pub name: &'static str,
    pub label: &'static str,
    pub description: &'static str,
    pub subject: String,
    pub customised: bool,
    pub updated: String,
}

#[derive(Template)]
#[template(path = "admin/email/templates.html")]
struct ListPage {
    chrome: Chrome,
    subtab: &'static str,
    rows: Vec<TemplateRow>,
}

pub async fn templates(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
) -> Result<HttpResponse, WebError> {
    let rows = email_templates::list(&ctx)
        .await?
        .into_iter()
        .map(|v| TemplateRow {
            name: v.template.as_str(),
            label: v.template.label(),
            description: v.template.description(),
            subject: v.subject,
            customised: v.customised,
            updated: v.updated_at.map(clock::display).unwrap_or_default(),
        })
        .collect();
    ok(&ListPage {
        chrome: Chrome::new(&session, &admin, TEMPLATES_TAB),
        subtab: "templates",
        rows,
    })
}

// ---- edit, preview, save -----------------------------------------------------------

/// What the preview shows.
pub struct PreviewView {
    pub subject: String,
    pub text: String,
    /// Our own escaped HTML (values escaped by the renderer).
    pub html_content: String,
}

impl From<Rendered> for PreviewView {
    fn from(r: Rendered) -> Self {
        Self {
            subject: r.subject,
            text: r.text,
            html_content: r.html_content,
        }
    }
}

#[derive(Template)]
#[template(path = "admin/email/edit.html")]
struct EditPage {
    chrome: Chrome,
    name: &'static str,
    label: &'static str,
    description: &'static str,
    placeholders: Vec<String>,
    subject: String,
    body: String,
    customised: bool,
    errors: Errors,
    preview: Option<PreviewView>,
}

impl EditPage {
    fn new(
        session: &Session,
        admin: &CurrentAdmin,
        t: EmailTemplate,
        subject: String,
        body: String,
        customised: bool,
    ) -> Self {
        Self {
            chrome: Chrome::new(session, admin, TEMPLATES_TAB),
            name: t.as_str(),
            label: t.label(),
            description: t.description(),
            placeholders: t
                .placeholders()
                .iter()
                .map(|p| format!("{{{p}}}"))
                .collect(),
            subject,
            body,
            customised,
            errors: Errors::default(),
            preview: None,
        }
    }
}

pub async fn edit_form(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    name: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let t = template_of(&name)?;
    let v = email_templates::get(&ctx, t).await?;
    ok(&EditPage::new(
        &session,
        &admin,
        t,
        v.subject,
        v.body,
        v.customised,
    ))
}

#[derive(Deserialize)]
pub struct EditForm {
    #[serde(default)]
    subject: String,
    #[serde(default)]
    body: String,
    /// `preview` or `save`: which button was pressed.
    #[serde(default)]
    action: String,
}

pub async fn edit(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    name: web::Path<String>,
    Form(f): Form<EditForm>,
) -> Result<HttpResponse, WebError> {
    let t = template_of(&name)?;
    let customised = email_templates::get(&ctx, t).await?.customised;
    let mut p = EditPage::new(
        &session,
        &admin,
        t,
        f.subject.clone(),
        f.body.clone(),
        customised,
    );
    let text = match TemplateText::parse(t, &f.subject, &f.body) {
        Ok(text) => text,
        Err(errors) => {
            p.errors = Errors(errors);
            return page(StatusCode::UNPROCESSABLE_ENTITY, &p);
        }
    };
    if f.action == "preview" {
        p.preview = Some(email_templates::preview(&ctx, t, &text).await?.into());
        return ok(&p);
    }
    match email_templates::save(&ctx, &admin.actor(), t, &text).await {
        Ok(()) => {
            session::flash(
                &session,
                "success",
                format!("Saved the {} template.", t.label()),
            );
            Ok(see_other(&console::email_template(t.as_str())))
        }
        Err(ServiceError::Invalid(errors)) => {
            p.errors = Errors(errors);
            page(StatusCode::UNPROCESSABLE_ENTITY, &p)
        }
        Err(e) => Err(e.into()),
    }
}

// ---- restore default -----------------------------------------------------------------

#[derive(Template)]
#[template(path = "admin/email/restore.html")]
struct RestorePage {
    chrome: Chrome,
    name: &'static str,
    label: &'static str,
    customised: bool,
}

pub async fn restore_confirm(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    name: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let t = template_of(&name)?;
    let v = email_templates::get(&ctx, t).await?;
    ok(&RestorePage {
        chrome: Chrome::new(&session, &admin, TEMPLATES_TAB),
        name: t.as_str(),
        label: t.label(),
        customised: v.customised,
    })
}

pub async fn restore(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    name: web::Path<String>,
    _: Form<Empty>,
) -> Result<HttpResponse, WebError> {
    let t = template_of(&name)?;
    let message = if email_templates::restore(&ctx, &admin.actor(), t).await? {
        format!("Restored the default {} template.", t.label())
    } else {
        format!("The {} template already is the default.", t.label())
    };
    session::flash(&session, "success", message);
    Ok(see_other(&console::email_template(t.as_str())))
}

// ---- sender and portal name ----------------------------------------------------------

#[derive(Template)]
#[template(path = "admin/email/settings.html")]
struct SettingsPage {
    chrome: Chrome,
    subtab: &'static str,
    from_name: String,
    from_address: String,
    portal_name: String,
    errors: Errors,
}

pub async fn settings_form(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
) -> Result<HttpResponse, WebError> {
    let s = email_templates::mail_settings(&ctx).await?;
    ok(&SettingsPage {
        chrome: Chrome::new(&session, &admin, TEMPLATES_TAB),
        subtab: "settings",
        from_name: s.from_name,
        from_address: s.from_address,
        portal_name: s.portal_name,
        errors: Errors::default(),
    })
}

#[derive(Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    from_name: String,
    #[serde(default)]
    from_address: String,
    #[serde(default)]
    portal_name: String,
}

pub async fn save_settings(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    Form(f): Form<SettingsForm>,
) -> Result<HttpResponse, WebError> {
    let result =
        match email_templates::parse_mail_settings(&f.from_name, &f.from_address, &f.portal_name) {
            Ok(new) => email_templates::save_mail_settings(&ctx, &admin.actor(), &new).await,
            Err(errors) => Err(ServiceError::Invalid(errors)),
        };
    match result {
        Ok(()) => {
            session::flash(&session, "success", "Saved the email settings.");
            Ok(see_other(console::EMAIL_SETTINGS))
        }
        Err(ServiceError::Invalid(errors)) => page(
            StatusCode::UNPROCESSABLE_ENTITY,
            &SettingsPage {
                chrome: Chrome::new(&session, &admin, TEMPLATES_TAB),
                subtab: "settings",
                from_name: f.from_name,
                from_address: f.from_address,
                portal_name: f.portal_name,
                errors: Errors(errors),
            },
        ),
        Err(e) => Err(e.into()),
    }
}

// ---- the Email log -------------------------------------------------------------------

pub struct LogRowView {
    pub id: i64,
    pub to: String,
    pub template: String,
    pub subject: String,
    pub state: String,
    pub state_label: &'static str,
    /// The colour of the state badge.
    pub state_class: &'static str,
    pub attempts: i64,
    pub last_error: String,
    pub created: String,
    pub sent: String,
    pub next_attempt: String,
    pub account_url: Option<String>,
}

fn state_label(s: &str) -> &'static str {
    match s {
        outbox::QUEUED => "Queued",
        outbox::RETRYING => "Retrying",
        outbox::SENT => "Sent",
        outbox::FAILED => "Failed",
        _ => "Unknown",
    }
}

impl From<outbox::LogRow> for LogRowView {
    fn from(r: outbox::LogRow) -> Self {
        let waiting = r.state == outbox::QUEUED || r.state == outbox::RETRYING;
        Self {
            id: r.id,
            to: if r.to_name.is_empty() {
                r.to_address
            } else {
                format!("{} <{}>", r.to_name, r.to_address)
            },
            template: EmailTemplate::parse(&r.template)
                .map_or(r.template.clone(), |t| t.label().to_owned()),
            subject: r.subject,
            state_label: state_label(&r.state),
            state_class: match r.state.as_str() {
                outbox::SENT => "state-active",
                outbox::FAILED => "state-blocked",
                _ => "state-pending",
            },
            state: r.state,
            attempts: r.attempts,
            last_error: r.last_error.unwrap_or_default(),
            created: clock::display(r.created_at),
            sent: r.sent_at.map(clock::display).unwrap_or_default(),
            next_attempt: if waiting {
                clock::display(r.next_attempt_at)
            } else {
                String::new()
            },
            account_url: r.account_id.map(|id| console::account(&id)),
        }
    }
}

#[derive(Template)]
#[template(path = "admin/email/log.html")]
struct LogPage {
    chrome: Chrome,
    state: String,
    states: Vec<(&'static str, &'static str)>,
    rows: Vec<LogRowView>,
    next_url: Option<String>,
    first_url: Option<String>,
    this_url: String,
}

#[derive(Deserialize)]
pub struct LogParams {
    #[serde(default)]
    state: String,
    before: Option<i64>,
}

fn log_url(state: &str, before: Option<i64>) -> String {
    let before = before.map(|b| b.to_string()).unwrap_or_default();
    with_query(console::EMAIL_LOG, &[("state", state), ("before", &before)])
}

pub async fn log(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    params: web::Query<LogParams>,
) -> Result<HttpResponse, WebError> {
    let p = params.into_inner();
    let state = if outbox::STATES.contains(&p.state.as_str()) {
        p.state
    } else {
        String::new()
    };
    let result = mail::log(
        &ctx,
        (!state.is_empty()).then_some(state.as_str()),
        p.before,
    )
    .await?;
    ok(&LogPage {
        chrome: Chrome::new(&session, &admin, LOG_TAB),
        next_url: result.next_before.map(|b| log_url(&state, Some(b))),
        first_url: p.before.map(|_| log_url(&state, None)),
        this_url: log_url(&state, p.before),
        rows: result.rows.into_iter().map(LogRowView::from).collect(),
        states: outbox::STATES
            .iter()
            .map(|s| (*s, state_label(s)))
            .collect(),
        state,
    })
}

#[derive(Deserialize)]
pub struct RetryForm {
    #[serde(default)]
    back: String,
}

pub async fn retry(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<i64>,
    Form(f): Form<RetryForm>,
) -> Result<HttpResponse, WebError> {
    let back = crate::web::paths::back_to(&f.back, console::EMAIL_LOG).to_owned();
    match mail::retry(&ctx, &admin.actor(), *id).await {
        Ok(m) => session::flash(
            &session,
            "success",
            format!(
                "Email #{} to {} will be sent again shortly.",
                m.id, m.to_address
            ),
        ),
        Err(ServiceError::Conflict(m)) => session::flash(&session, "error", m),
        Err(e) => return Err(e.into()),
    }
    Ok(see_other(&back))
}
