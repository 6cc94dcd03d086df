//! Users (SPEC M2; U1, U3–U7, U9): list, get, HEAD, PUT (create with a
//! chosen id, or replace), PATCH, DELETE, the user's groups, subscriptions
//! and identities, and "send password reset".

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::Caller;
use super::body::{self, Json as Body, Paging};
use super::envelope::{
    ApiError, ApiResult, Id, IfMatch, Put, Resource, Service, collection, date, entity, entity_id,
    entity_tag,
};
use super::group_contract::group_properties;
use super::subscriptions::subscription_resource;
use crate::domain::query::UserField;
use crate::domain::{AccountState, Email, FieldErrors, Password, PersonName};
use crate::services::account_edits::{self, AccountChanges, AccountSpec, Welcome};
use crate::services::invitations::{self, NewInvitation};
use crate::services::lists::{self, With};
use crate::services::{Ctx, ServiceError, accounts, password_reset};
use crate::store::account_list::Among;
use crate::store::accounts::AccountDetail;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/users", web::get().to(list))
        .route("/users/{id}", web::get().to(get))
        .route("/users/{id}", web::head().to(head))
        .route("/users/{id}", web::put().to(put))
        .route("/users/{id}", web::patch().to(patch))
        .route("/users/{id}", web::delete().to(delete))
        .route("/users/{id}/groups", web::get().to(groups))
        .route("/users/{id}/subscriptions", web::get().to(subscriptions))
        .route("/users/{id}/identities", web::get().to(identities))
        .route(
            "/users/{id}/confirmations/password/send",
            web::post().to(send_password_reset),
        );
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Identity<'a> {
    provider: &'static str,
    id: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserProperties<'a> {
    first_name: &'a str,
    last_name: &'a str,
    email: &'a str,
    state: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<&'a str>,
    registration_date: String,
    identities: Vec<Identity<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    groups: Option<Vec<Json>>,
}

fn properties(a: &AccountDetail, groups: Option<Vec<Json>>) -> UserProperties<'_> {
    UserProperties {
        first_name: &a.first_name,
        last_name: &a.last_name,
        email: &a.email,
        state: a.state.as_str(),
        note: a.note.as_deref(),
        registration_date: date(a.registered_at),
        identities: vec![Identity {
            provider: "Basic",
            id: &a.email,
        }],
        groups,
    }
}

/// A user as every operation answers it.
pub fn user_resource<'a>(
    svc: &'a Service,
    a: &'a AccountDetail,
    kind: &'a str,
) -> Resource<'a, UserProperties<'a>> {
    svc.resource(format!("/users/{}", a.id), kind, &a.id, properties(a, None))
}

async fn list(ctx: web::Data<Ctx>, req: HttpRequest, _: Caller) -> ApiResult {
    list_among(&ctx, &req, Among::Everyone, "users").await
}

/// A page of users (of everyone, or of a group's members).
pub async fn list_among(ctx: &Ctx, req: &HttpRequest, among: Among<'_>, kind: &str) -> ApiResult {
    let svc = Service::of(req);
    let paging = Paging::of(req)?;
    let filter = body::filter::<UserField>(req)?;
    let expand = body::flag(req, "expandGroups")?;
    let with = if expand { With::Groups } else { With::Nothing };
    let page = lists::accounts(ctx, &among, filter.as_ref(), paging.skip, paging.top, with).await?;
    let (more, count) = (page.more, page.total);
    let value = page
        .rows
        .iter()
        .map(|(a, groups)| {
            let groups = groups.as_ref().map(|gs| {
                gs.iter()
                    .map(|g| serde_json::to_value(group_properties(g)).unwrap_or_default())
                    .collect()
            });
            svc.resource(
                format!("/users/{}", a.id),
                kind,
                &a.id,
                properties(a, groups),
            )
        })
        .collect();
    Ok(collection(
        value,
        count,
        paging.next_link(req, &ctx.settings.base_url, more),
    ))
}

async fn get(ctx: web::Data<Ctx>, req: HttpRequest, _: Caller, id: web::Path<Id>) -> ApiResult {
    match accounts::get(&ctx, &id).await {
        Ok(a) => Ok(entity(
            StatusCode::OK,
            a.version,
            user_resource(&Service::of(&req), &a, "users"),
        )),
        // An invitation made through the API is the user it announced.
        Err(ServiceError::NotFound) => match invitations::open_by_id(&ctx, &id).await? {
            Some(inv) => Ok(entity(
                StatusCode::OK,
                0,
                invitation_resource(&Service::of(&req), &inv),
            )),
            None => Err(ApiError::not_found("User")),
        },
        Err(e) => Err(e.into()),
    }
}

fn invitation_resource<'a>(
    svc: &'a Service,
    inv: &'a crate::store::invitations::InvitationRow,
) -> Resource<'a, UserProperties<'a>> {
    svc.resource(
        format!("/users/{}", inv.id),
        "users",
        &inv.id,
        UserProperties {
            first_name: &inv.first_name,
            last_name: &inv.last_name,
            email: &inv.email,
            state: AccountState::Pending.as_str(),
            note: None,
            registration_date: date(inv.created_at),
            identities: Vec::new(),
            groups: None,
        },
    )
}

async fn head(ctx: web::Data<Ctx>, _: Caller, id: web::Path<Id>) -> ApiResult {
    let a = accounts::get(&ctx, &id)
        .await
        .map_err(ApiError::unless_found("User"))?;
    Ok(entity_tag(a.version))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope<P> {
    properties: P,
}

/// `UserCreateParameters.properties` (PUT), every field of the reference.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct UserCreate {
    email: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    state: Option<String>,
    note: Option<String>,
    #[allow(dead_code)]
    identities: Option<Json>,
    password: Option<String>,
    #[allow(dead_code)]
    app_type: Option<String>,
    confirmation: Option<String>,
}

/// `UserUpdateParameters.properties` (PATCH).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct UserUpdate {
    email: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    state: Option<String>,
    note: Option<String>,
    #[allow(dead_code)]
    identities: Option<Json>,
    password: Option<String>,
}

fn parse_state(errors: &mut FieldErrors, s: Option<&str>) -> Option<AccountState> {
    match s {
        None => None,
        Some("active") => Some(AccountState::Active),
        Some("blocked") => Some(AccountState::Blocked),
        Some(_) => {
            errors.0.push(crate::domain::FieldError::new(
                "state",
                "The state is active or blocked (pending is reached through confirmation).",
            ));
            None
        }
    }
}

/// The changes a body asks for, each field parsed by the same rules as
/// the console's forms; every broken one is reported.
fn changes(u: UserUpdate, related: &AccountDetail) -> Result<AccountChanges, ApiError> {
    let mut errors = FieldErrors::default();
    let first_name = u
        .first_name
        .and_then(|v| errors.take("first_name", PersonName::parse(&v, "first name")));
    let last_name = u
        .last_name
        .and_then(|v| errors.take("last_name", PersonName::parse(&v, "last name")));
    let email = u.email.and_then(|v| errors.take("email", Email::parse(&v)));
    let note = u
        .note
        .map(|n| Some(n.trim().to_owned()).filter(|n| !n.is_empty()));
    let state = parse_state(&mut errors, u.state.as_deref());
    let password = u.password.and_then(|p| {
        errors.take(
            "password",
            Password::parse(
                &p,
                &[&related.email, &related.first_name, &related.last_name],
            ),
        )
    });
    if !errors.is_empty() {
        return Err(ServiceError::Invalid(errors.0).into());
    }
    Ok(AccountChanges {
        first_name,
        last_name,
        email,
        note,
        state,
        password,
    })
}

async fn put(
    ctx: web::Data<Ctx>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Id>,
    Body(body): Body<Envelope<UserCreate>>,
) -> ApiResult {
    let id = entity_id(&id)?;
    let svc = Service::of(&req);
    let if_match = IfMatch::of(&req)?;
    let p = body.properties;
    match Put::of(accounts::get(&ctx, &id).await, if_match)? {
        Put::Replace(existing, expect) => {
            // Replace: the fields the body names.
            let c = changes(
                UserUpdate {
                    email: p.email,
                    first_name: p.first_name,
                    last_name: p.last_name,
                    state: p.state,
                    note: p.note,
                    identities: None,
                    password: p.password,
                },
                &existing,
            )?;
            let a = account_edits::update(&ctx, &caller.0, &id, c, expect).await?;
            Ok(entity(
                StatusCode::OK,
                a.version,
                user_resource(&svc, &a, "users"),
            ))
        }
        Put::Create => create(&ctx, &req, &caller, &svc, id, p).await,
    }
}

async fn create(
    ctx: &Ctx,
    req: &HttpRequest,
    caller: &Caller,
    svc: &Service,
    id: String,
    p: UserCreate,
) -> ApiResult {
    let mut errors = FieldErrors::default();
    let email = errors.take("email", Email::parse(p.email.as_deref().unwrap_or("")));
    let first = errors.take(
        "first_name",
        PersonName::parse(p.first_name.as_deref().unwrap_or(""), "first name"),
    );
    let last = errors.take(
        "last_name",
        PersonName::parse(p.last_name.as_deref().unwrap_or(""), "last name"),
    );
    let state = parse_state(&mut errors, p.state.as_deref()).unwrap_or(AccountState::Active);
    let password = p.password.as_deref().and_then(|pw| {
        errors.take(
            "password",
            Password::parse(
                pw,
                &[
                    p.email.as_deref().unwrap_or(""),
                    p.first_name.as_deref().unwrap_or(""),
                    p.last_name.as_deref().unwrap_or(""),
                ],
            ),
        )
    });
    let confirmation = p.confirmation.as_deref();
    if !matches!(confirmation, None | Some("signup") | Some("invite")) {
        errors.0.push(crate::domain::FieldError::new(
            "confirmation",
            "The confirmation is signup or invite.",
        ));
    }
    let (Some(email), Some(first_name), Some(last_name)) = (email, first, last) else {
        return Err(ServiceError::Invalid(errors.0).into());
    };
    if !errors.is_empty() {
        return Err(ServiceError::Invalid(errors.0).into());
    }
    if confirmation == Some("invite") {
        invitations::invite_as(
            ctx,
            &caller.0,
            &id,
            &NewInvitation {
                email,
                first_name,
                last_name,
                groups: Vec::new(),
            },
        )
        .await?;
        let inv = invitations::open_by_id(ctx, &id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        return Ok(entity(
            StatusCode::CREATED,
            0,
            invitation_resource(svc, &inv),
        ));
    }
    let welcome = match (confirmation, body::flag(req, "notify")?) {
        (Some("signup"), _) => Welcome::ConfirmSignUp,
        (_, true) => Welcome::AccountCreated,
        _ => Welcome::Nothing,
    };
    let a = account_edits::create_with(
        ctx,
        &caller.0,
        AccountSpec {
            id,
            email,
            first_name,
            last_name,
            password,
            state,
            note: p
                .note
                .map(|n| n.trim().to_owned())
                .filter(|n| !n.is_empty()),
            welcome,
        },
    )
    .await?;
    Ok(entity(
        StatusCode::CREATED,
        a.version,
        user_resource(svc, &a, "users"),
    ))
}

async fn patch(
    ctx: web::Data<Ctx>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Id>,
    Body(body): Body<Envelope<UserUpdate>>,
) -> ApiResult {
    let expect = IfMatch::required(&req)?.expect();
    let existing = accounts::get(&ctx, &id)
        .await
        .map_err(ApiError::unless_found("User"))?;
    let c = changes(body.properties, &existing)?;
    let a = account_edits::update(&ctx, &caller.0, &id, c, expect)
        .await
        .map_err(ApiError::unless_found("User"))?;
    Ok(entity(
        StatusCode::OK,
        a.version,
        user_resource(&Service::of(&req), &a, "users"),
    ))
}

async fn delete(
    ctx: web::Data<Ctx>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Id>,
) -> ApiResult {
    let expect = IfMatch::required(&req)?.expect();
    // U6: an account's subscriptions go with it (deleteSubscriptions is
    // accepted, and "false" changes nothing about that).
    body::flag(&req, "deleteSubscriptions")?;
    body::flag(&req, "notify")?;
    match accounts::delete(&ctx, &caller.0, &id, expect).await {
        // The SDK's begin_delete accepts 202 or 204, not 200.
        Ok(_) => Ok(HttpResponse::NoContent().finish()),
        Err(ServiceError::NotFound) => match invitations::open_by_id(&ctx, &id).await? {
            Some(_) => {
                invitations::cancel(&ctx, &caller.0, &id).await?;
                Ok(HttpResponse::NoContent().finish())
            }
            None => Err(ApiError::not_found("User")),
        },
        Err(e) => Err(e.into()),
    }
}

async fn groups(ctx: web::Data<Ctx>, req: HttpRequest, _: Caller, id: web::Path<Id>) -> ApiResult {
    let svc = Service::of(&req);
    let paging = Paging::of(&req)?;
    accounts::get(&ctx, &id)
        .await
        .map_err(ApiError::unless_found("User"))?;
    let all = lists::groups_of_account(&ctx, &id).await?;
    let count = all.len() as i64;
    let page: Vec<_> = all
        .iter()
        .skip(paging.skip as usize)
        .take(paging.top as usize)
        .map(|g| {
            svc.resource(
                format!("/users/{}/groups/{}", id.id, g.id),
                "users/groups",
                &g.id,
                group_properties(g),
            )
        })
        .collect();
    let more = paging.skip + paging.top < count;
    Ok(collection(
        page,
        Some(count),
        paging.next_link(&req, &ctx.settings.base_url, more),
    ))
}

async fn subscriptions(
    ctx: web::Data<Ctx>,
    req: HttpRequest,
    _: Caller,
    id: web::Path<Id>,
) -> ApiResult {
    let svc = Service::of(&req);
    let paging = Paging::of(&req)?;
    accounts::get(&ctx, &id)
        .await
        .map_err(ApiError::unless_found("User"))?;
    let all = crate::services::subscriptions::of_account(&ctx, &id).await?;
    let count = all.len() as i64;
    let page: Vec<_> = all
        .iter()
        .skip(paging.skip as usize)
        .take(paging.top as usize)
        .map(|s| subscription_resource(&svc, s))
        .collect();
    let more = paging.skip + paging.top < count;
    Ok(collection(
        page,
        Some(count),
        paging.next_link(&req, &ctx.settings.base_url, more),
    ))
}

async fn identities(ctx: web::Data<Ctx>, _: Caller, id: web::Path<Id>) -> ApiResult {
    let a = accounts::get(&ctx, &id)
        .await
        .map_err(ApiError::unless_found("User"))?;
    Ok(collection(
        vec![serde_json::json!({"provider": "Basic", "id": a.email})],
        Some(1),
        None,
    ))
}

async fn send_password_reset(ctx: web::Data<Ctx>, caller: Caller, id: web::Path<Id>) -> ApiResult {
    password_reset::send_by_admin(&ctx, &caller.0, &id)
        .await
        .map_err(ApiError::unless_found("User"))?;
    Ok(HttpResponse::NoContent().finish())
}
