//! Email templates (SPEC M2; E1) under the commercial API's names: list,
//! get, HEAD, PUT and PATCH (edit), DELETE (restore the default). Subjects
//! and bodies keep Portal's `{placeholders}`, each listed in `parameters`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::Caller;
use super::body::{self, Json as Body, Paging};
use super::envelope::{ApiError, ApiResult, Id, IfMatch, Service, collection, entity, entity_tag};
use crate::domain::email_template::{EmailTemplate, TemplateText};
use crate::domain::query::{Filter, Func, Op, TemplateField, Value};
use crate::services::email_templates::{self, TemplateView};
use crate::services::{Ctx, Expect, ServiceError};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/templates", web::get().to(list))
        .route("/templates/{id}", web::get().to(get))
        .route("/templates/{id}", web::head().to(head))
        .route("/templates/{id}", web::put().to(put))
        .route("/templates/{id}", web::patch().to(put))
        .route("/templates/{id}", web::delete().to(delete));
}

/// The commercial names of Portal's templates.
const NAMES: [(&str, EmailTemplate); 6] = [
    ("inviteUserNotificationMessage", EmailTemplate::Invitation),
    ("passwordResetIdentityDefault", EmailTemplate::PasswordReset),
    (
        "confirmSignUpIdentityDefault",
        EmailTemplate::SignupConfirmation,
    ),
    (
        "newDeveloperNotificationMessage",
        EmailTemplate::AccountCreated,
    ),
    (
        "purchaseDeveloperNotificationMessage",
        EmailTemplate::SubscriptionApproved,
    ),
    (
        "rejectDeveloperNotificationMessage",
        EmailTemplate::SubscriptionRejected,
    ),
];

/// A template by its commercial name, in any case (answers use PascalCase,
/// requests camelCase).
fn template_named(name: &str) -> Result<(&'static str, EmailTemplate), ApiError> {
    NAMES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .copied()
        .ok_or_else(|| ApiError::not_found("Email template"))
}

fn pascal(name: &str) -> String {
    let mut c = name.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Parameter {
    name: &'static str,
    title: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TemplateProperties<'a> {
    subject: &'a str,
    body: &'a str,
    title: &'static str,
    description: &'static str,
    is_default: bool,
    parameters: Vec<Parameter>,
}

fn template_resource(svc: &Service, name: &str, v: &TemplateView) -> Json {
    let name = pascal(name);
    let r = svc.resource(
        format!("/templates/{name}"),
        "templates",
        &name,
        TemplateProperties {
            subject: &v.subject,
            body: &v.body,
            title: v.template.label(),
            description: v.template.description(),
            is_default: !v.customised,
            parameters: v
                .template
                .placeholders()
                .into_iter()
                .map(|p| Parameter {
                    name: p,
                    title: p.replace('_', " "),
                })
                .collect(),
        },
    );
    serde_json::to_value(r).unwrap_or_default()
}

fn matches(f: &Filter<TemplateField>, name: &str) -> bool {
    let name = name.to_lowercase();
    match f {
        Filter::Compare(_, op, Value::Text(t)) => {
            let t = t.to_lowercase();
            match op {
                Op::Eq => name == t,
                Op::Ne => name != t,
                Op::Gt => name > t,
                Op::Ge => name >= t,
                Op::Lt => name < t,
                Op::Le => name <= t,
            }
        }
        Filter::Compare(_, _, Value::Time(_)) => false,
        Filter::Text(func, _, t) => {
            let t = t.to_lowercase();
            match func {
                Func::Contains => name.contains(&t),
                Func::StartsWith => name.starts_with(&t),
                Func::EndsWith => name.ends_with(&t),
            }
        }
        Filter::And(a, b) => matches(a, &name) && matches(b, &name),
        Filter::Or(a, b) => matches(a, &name) || matches(b, &name),
        Filter::Not(a) => !matches(a, &name),
    }
}

async fn list(ctx: web::Data<Ctx>, req: HttpRequest, _: Caller) -> ApiResult {
    let svc = Service::of(&req);
    let paging = Paging::of(&req)?;
    let filter = body::filter::<TemplateField>(&req)?;
    let views = email_templates::list(&ctx).await?;
    let all: Vec<Json> = NAMES
        .iter()
        .filter(|(n, _)| filter.as_ref().is_none_or(|f| matches(f, n)))
        .filter_map(|(n, t)| {
            views
                .iter()
                .find(|v| v.template == *t)
                .map(|v| template_resource(&svc, n, v))
        })
        .collect();
    let count = all.len() as i64;
    let page = all
        .into_iter()
        .skip(paging.skip as usize)
        .take(paging.top as usize)
        .collect();
    let more = paging.skip + paging.top < count;
    Ok(collection(
        page,
        Some(count),
        paging.next_link(&req, &ctx.settings.base_url, more),
    ))
}

async fn get(ctx: web::Data<Ctx>, req: HttpRequest, _: Caller, name: web::Path<Id>) -> ApiResult {
    let (name, t) = template_named(&name)?;
    let v = email_templates::get(&ctx, t).await?;
    Ok(entity(
        StatusCode::OK,
        v.version,
        template_resource(&Service::of(&req), name, &v),
    ))
}

async fn head(ctx: web::Data<Ctx>, _: Caller, name: web::Path<Id>) -> ApiResult {
    let (_, t) = template_named(&name)?;
    Ok(entity_tag(email_templates::get(&ctx, t).await?.version))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope {
    properties: TemplateBody,
}

/// `EmailTemplateUpdateParameters` properties (PUT and PATCH alike).
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct TemplateBody {
    subject: Option<String>,
    body: Option<String>,
    title: Option<String>,
    description: Option<String>,
    parameters: Option<Json>,
}

/// Edits the subject and/or body; the rest of the reference's fields
/// describe the template and are Portal's own.
async fn put(
    ctx: web::Data<Ctx>,
    req: HttpRequest,
    caller: Caller,
    name: web::Path<Id>,
    Body(body): Body<Envelope>,
) -> ApiResult {
    let (name, t) = template_named(&name)?;
    let b = body.properties;
    let _ = (&b.title, &b.description, &b.parameters);
    let expect = match IfMatch::of(&req)? {
        Some(m) => m.expect(),
        None if req.method() == actix_web::http::Method::PATCH => IfMatch::required(&req)?.expect(),
        None => Expect::Any,
    };
    let current = email_templates::get(&ctx, t).await?;
    expect.check(current.version).map_err(ApiError::from)?;
    let text = TemplateText::parse(
        t,
        b.subject.as_deref().unwrap_or(&current.subject),
        b.body.as_deref().unwrap_or(&current.body),
    )
    .map_err(|e| ApiError::from(ServiceError::Invalid(e)))?;
    email_templates::save(&ctx, &caller.0, t, &text).await?;
    let v = email_templates::get(&ctx, t).await?;
    Ok(entity(
        StatusCode::OK,
        v.version,
        template_resource(&Service::of(&req), name, &v),
    ))
}

async fn delete(
    ctx: web::Data<Ctx>,
    req: HttpRequest,
    caller: Caller,
    name: web::Path<Id>,
) -> ApiResult {
    let (_, t) = template_named(&name)?;
    let expect = IfMatch::required(&req)?.expect();
    expect
        .check(email_templates::get(&ctx, t).await?.version)
        .map_err(ApiError::from)?;
    email_templates::restore(&ctx, &caller.0, t).await?;
    Ok(HttpResponse::NoContent().finish())
}
