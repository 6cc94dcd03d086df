//! Groups and group users (SPEC M2; G1–G4): system groups are read-only
//! here as everywhere (G2), and Developers lists every account.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::Value as Json;

use super::Caller;
use super::body::{self, Json as Body, Paging};
use super::envelope::{
    ApiError, ApiResult, Id, IfMatch, Link, Put, Service, collection, display_name_errors, entity,
    entity_id, entity_tag,
};
use super::group_contract::group_resource;
use super::users::{list_among, user_resource};
use crate::domain::group::{GroupSettings, Holds, holds};
use crate::domain::query::GroupField;
use crate::services::{Ctx, accounts, groups, lists};
use crate::store::account_list::Among;
use crate::store::groups::GroupRow;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/groups", web::get().to(list))
        .route("/groups/{id}", web::get().to(get))
        .route("/groups/{id}", web::head().to(head))
        .route("/groups/{id}", web::put().to(put))
        .route("/groups/{id}", web::patch().to(patch))
        .route("/groups/{id}", web::delete().to(delete))
        .route("/groups/{id}/users", web::get().to(users))
        .route("/groups/{id}/users/{other}", web::head().to(has_user))
        .route("/groups/{id}/users/{other}", web::put().to(add_user))
        .route("/groups/{id}/users/{other}", web::delete().to(remove_user));
}

async fn list(ctx: web::Data<Ctx>, req: HttpRequest, _: Caller) -> ApiResult {
    let svc = Service::of(&req);
    let paging = Paging::of(&req)?;
    let filter = body::filter::<GroupField>(&req)?;
    let page = lists::groups(&ctx, filter.as_ref(), paging.skip, paging.top).await?;
    let (more, count) = (page.more, page.total);
    let value = page
        .rows
        .iter()
        .map(|g| group_resource(&svc, g, "groups"))
        .collect();
    Ok(collection(
        value,
        count,
        paging.next_link(&req, &ctx.settings.base_url, more),
    ))
}

async fn get(ctx: web::Data<Ctx>, req: HttpRequest, _: Caller, id: web::Path<Id>) -> ApiResult {
    let g = groups::get(&ctx, &id)
        .await
        .map_err(ApiError::unless_found("Group"))?;
    Ok(entity(
        StatusCode::OK,
        g.version,
        group_resource(&Service::of(&req), &g, "groups"),
    ))
}

async fn head(ctx: web::Data<Ctx>, _: Caller, id: web::Path<Id>) -> ApiResult {
    let g = groups::get(&ctx, &id)
        .await
        .map_err(ApiError::unless_found("Group"))?;
    Ok(entity_tag(g.version))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope {
    properties: GroupBody,
}

/// `GroupCreateParameters` / `GroupUpdateParameters` properties.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct GroupBody {
    display_name: Option<String>,
    description: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    external_id: Option<String>,
}

/// The settings a body asks for, on top of `current` (PATCH) or alone (PUT).
fn settings(b: &GroupBody, current: Option<&GroupRow>) -> Result<GroupSettings, ApiError> {
    if b.kind.as_deref().is_some_and(|k| k != "custom") || b.external_id.is_some() {
        return Err(ApiError::field(
            "type",
            "Groups made here are custom; external groups come from an identity provider.",
        ));
    }
    let name = b
        .display_name
        .as_deref()
        .or(current.map(|g| g.name.as_str()))
        .unwrap_or("");
    let description = b
        .description
        .as_deref()
        .or(current.and_then(|g| g.description.as_deref()))
        .unwrap_or("");
    GroupSettings::parse(name, description).map_err(display_name_errors)
}

async fn put(
    ctx: web::Data<Ctx>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Id>,
    Body(body): Body<Envelope>,
) -> ApiResult {
    let id = entity_id(&id)?;
    let svc = Service::of(&req);
    let if_match = IfMatch::of(&req)?;
    match Put::of(groups::get(&ctx, &id).await, if_match)? {
        Put::Replace(current, expect) => {
            let s = settings(&body.properties, Some(&current))?;
            let g = groups::update(&ctx, &caller.0, &id, &s, expect).await?;
            Ok(entity(
                StatusCode::OK,
                g.version,
                group_resource(&svc, &g, "groups"),
            ))
        }
        Put::Create => {
            let s = settings(&body.properties, None)?;
            groups::create(&ctx, &caller.0, Some(&id), &s, &[]).await?;
            let g = groups::get(&ctx, &id).await?;
            Ok(entity(
                StatusCode::CREATED,
                g.version,
                group_resource(&svc, &g, "groups"),
            ))
        }
    }
}

async fn patch(
    ctx: web::Data<Ctx>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Id>,
    Body(body): Body<Envelope>,
) -> ApiResult {
    let expect = IfMatch::required(&req)?.expect();
    let current = groups::get(&ctx, &id)
        .await
        .map_err(ApiError::unless_found("Group"))?;
    let s = settings(&body.properties, Some(&current))?;
    let g = groups::update(&ctx, &caller.0, &id, &s, expect).await?;
    Ok(entity(
        StatusCode::OK,
        g.version,
        group_resource(&Service::of(&req), &g, "groups"),
    ))
}

async fn delete(
    ctx: web::Data<Ctx>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Id>,
) -> ApiResult {
    let expect = IfMatch::required(&req)?.expect();
    groups::delete(&ctx, &caller.0, &id, expect)
        .await
        .map_err(ApiError::unless_found("Group"))?;
    Ok(HttpResponse::NoContent().finish())
}

/// Who a group holds: Developers everyone, Guests nobody (G2).
async fn users(ctx: web::Data<Ctx>, req: HttpRequest, _: Caller, id: web::Path<Id>) -> ApiResult {
    let g = groups::get(&ctx, &id)
        .await
        .map_err(ApiError::unless_found("Group"))?;
    match holds(&g.id) {
        Holds::Everyone => list_among(&ctx, &req, Among::Everyone, "groups/users").await,
        Holds::Nobody => Ok(collection(Vec::<Json>::new(), Some(0), None)),
        Holds::Members => list_among(&ctx, &req, Among::MembersOf(&g.id), "groups/users").await,
    }
}

/// 204 when a member, 404 otherwise (what the SDK's check expects).
async fn has_user(ctx: web::Data<Ctx>, _: Caller, path: web::Path<Link>) -> ApiResult {
    let Link { id, other: user } = path.into_inner();
    let g = groups::get(&ctx, &id)
        .await
        .map_err(ApiError::unless_found("Group"))?;
    accounts::get(&ctx, &user)
        .await
        .map_err(|_| ApiError::not_found("User"))?;
    if groups::is_member(&ctx, &g, &user).await? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::not_found("Group member"))
    }
}

/// 201 when added, 200 when already a member (G4; G2 for system groups).
async fn add_user(
    ctx: web::Data<Ctx>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<Link>,
) -> ApiResult {
    let Link { id, other: user } = path.into_inner();
    let a = accounts::get(&ctx, &user)
        .await
        .map_err(|_| ApiError::not_found("User"))?;
    let added = groups::add_members(&ctx, &caller.0, &id, std::slice::from_ref(&user))
        .await
        .map_err(ApiError::unless_found("Group"))?;
    let a = accounts::get(&ctx, &a.id).await?;
    let status = if added > 0 {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(HttpResponse::build(status).json(user_resource(&Service::of(&req), &a, "groups/users")))
}

async fn remove_user(ctx: web::Data<Ctx>, caller: Caller, path: web::Path<Link>) -> ApiResult {
    let Link { id, other: user } = path.into_inner();
    accounts::get(&ctx, &user)
        .await
        .map_err(|_| ApiError::not_found("User"))?;
    groups::remove_members(&ctx, &caller.0, &id, &[user])
        .await
        .map_err(ApiError::unless_found("Group"))?;
    Ok(HttpResponse::NoContent().finish())
}
