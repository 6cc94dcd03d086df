//! Subscriptions (SPEC M2; P4, S1, S2): list, get, HEAD, PUT, PATCH,
//! DELETE, listSecrets and key regeneration. Keys never appear on GET or
//! in lists, only in listSecrets; states change along the lifecycle only.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::Caller;
use super::body::{self, Json as Body, Paging};
use super::envelope::{
    ApiError, ApiResult, Id, IfMatch, Put, Resource, Service, collection, date, entity, entity_id,
    entity_tag,
};
use crate::domain::query::SubscriptionField;
use crate::domain::subscription::{KeySlot, SubscriptionState};
use crate::services::subscription_edits::{self, NewSubscriptionSpec, SubscriptionChanges};
use crate::services::subscriptions::{self, Caller as Who};
use crate::services::{Ctx, lists};
use crate::store::subscriptions::{Of, SubscriptionRow};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/subscriptions", web::get().to(list))
        .route("/subscriptions/{id}", web::get().to(get))
        .route("/subscriptions/{id}", web::head().to(head))
        .route("/subscriptions/{id}", web::put().to(put))
        .route("/subscriptions/{id}", web::patch().to(patch))
        .route("/subscriptions/{id}", web::delete().to(delete))
        .route(
            "/subscriptions/{id}/listSecrets",
            web::post().to(list_secrets),
        )
        .route(
            "/subscriptions/{id}/regeneratePrimaryKey",
            web::post().to(regenerate_primary),
        )
        .route(
            "/subscriptions/{id}/regenerateSecondaryKey",
            web::post().to(regenerate_secondary),
        );
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionProperties<'a> {
    owner_id: String,
    scope: String,
    display_name: &'a str,
    state: &'a str,
    created_date: String,
}

pub fn subscription_resource<'a>(
    svc: &'a Service,
    s: &'a SubscriptionRow,
) -> Resource<'a, SubscriptionProperties<'a>> {
    svc.resource(
        format!("/subscriptions/{}", s.id),
        "subscriptions",
        &s.id,
        SubscriptionProperties {
            owner_id: format!("{}/users/{}", svc.prefix, s.account_id),
            scope: format!("{}/products/{}", svc.prefix, s.product_id),
            display_name: &s.display_name,
            state: s.state.as_str(),
            created_date: date(s.created_at),
        },
    )
}

/// A page of subscriptions: everyone's, an account's or a product's.
pub async fn list_of(ctx: &Ctx, req: &HttpRequest, of: Of<'_>) -> ApiResult {
    let svc = Service::of(req);
    let paging = Paging::of(req)?;
    let filter = body::filter::<SubscriptionField>(req)?;
    let page = lists::subscriptions(ctx, &of, filter.as_ref(), paging.skip, paging.top).await?;
    let (more, count) = (page.more, page.total);
    let rows = page.rows;
    let value = rows
        .iter()
        .map(|s| subscription_resource(&svc, s))
        .collect();
    Ok(collection(
        value,
        count,
        paging.next_link(req, &ctx.settings.base_url, more),
    ))
}

async fn list(ctx: web::Data<Ctx>, req: HttpRequest, _: Caller) -> ApiResult {
    list_of(&ctx, &req, Of::Everyone).await
}

async fn get(ctx: web::Data<Ctx>, req: HttpRequest, _: Caller, id: web::Path<Id>) -> ApiResult {
    let s = subscriptions::get(&ctx, Who::Administrator, &id)
        .await
        .map_err(ApiError::unless_found("Subscription"))?;
    Ok(entity(
        StatusCode::OK,
        s.version,
        subscription_resource(&Service::of(&req), &s),
    ))
}

async fn head(ctx: web::Data<Ctx>, _: Caller, id: web::Path<Id>) -> ApiResult {
    let s = subscriptions::get(&ctx, Who::Administrator, &id)
        .await
        .map_err(ApiError::unless_found("Subscription"))?;
    Ok(entity_tag(s.version))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope {
    properties: SubscriptionBody,
}

/// `SubscriptionCreateParameters` / `SubscriptionUpdateParameters` properties.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SubscriptionBody {
    owner_id: Option<String>,
    scope: Option<String>,
    display_name: Option<String>,
    state: Option<String>,
    state_comment: Option<String>,
    primary_key: Option<String>,
    secondary_key: Option<String>,
    allow_tracing: Option<bool>,
    expiration_date: Option<String>,
}

/// The last segment of `/users/{id}` or of a full id ending so.
fn id_in(path: &str, collection: &str) -> Option<String> {
    let (_, id) = path
        .trim_end_matches('/')
        .rsplit_once(&format!("/{collection}/"))?;
    (!id.is_empty() && !id.contains('/')).then(|| id.to_owned())
}

fn state_of(s: Option<&str>) -> Result<Option<SubscriptionState>, ApiError> {
    match s {
        None => Ok(None),
        Some(s) => SubscriptionState::parse(s)
            .map(Some)
            .ok_or_else(|| ApiError::field("state", format!("'{s}' is not a subscription state."))),
    }
}

fn refuse_unsupported(b: &SubscriptionBody) -> Result<(), ApiError> {
    // Keys are Portal's to make (S1: 128 random bits); tracing and
    // expiry dates have no meaning here.
    if b.primary_key.is_some() || b.secondary_key.is_some() {
        return Err(ApiError::field(
            "primaryKey",
            "Portal generates keys; regenerate them instead of setting them.",
        ));
    }
    if b.allow_tracing == Some(true) {
        return Err(ApiError::field("allowTracing", "Tracing is not supported."));
    }
    if b.expiration_date.is_some() {
        return Err(ApiError::field(
            "expirationDate",
            "Subscriptions do not expire by date here.",
        ));
    }
    let _ = &b.state_comment;
    Ok(())
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
    let b = body.properties;
    refuse_unsupported(&b)?;
    let state = state_of(b.state.as_deref())?;
    match Put::of(
        subscriptions::get(&ctx, Who::Administrator, &id).await,
        if_match,
    )? {
        Put::Replace(current, expect) => {
            if let Some(owner) = b.owner_id.as_deref()
                && id_in(owner, "users").as_deref() != Some(current.account_id.as_str())
            {
                return Err(ApiError::field(
                    "ownerId",
                    "A subscription keeps its owner.",
                ));
            }
            if let Some(scope) = b.scope.as_deref()
                && id_in(scope, "products").as_deref() != Some(current.product_id.as_str())
            {
                return Err(ApiError::field(
                    "scope",
                    "A subscription keeps its product.",
                ));
            }
            let s = subscription_edits::update(
                &ctx,
                &caller.0,
                &id,
                SubscriptionChanges {
                    display_name: b.display_name,
                    state,
                },
                expect,
            )
            .await?;
            Ok(entity(
                StatusCode::OK,
                s.version,
                subscription_resource(&svc, &s),
            ))
        }
        Put::Create => {
            let owner = b
                .owner_id
                .as_deref()
                .and_then(|o| id_in(o, "users"))
                .ok_or_else(|| ApiError::field("ownerId", "Name the owner: /users/{userId}."))?;
            let product = b
                .scope
                .as_deref()
                .and_then(|s| id_in(s, "products"))
                .ok_or_else(|| {
                    ApiError::field("scope", "Name the product: /products/{productId}.")
                })?;
            let s = subscription_edits::create_for(
                &ctx,
                &caller.0,
                NewSubscriptionSpec {
                    id: Some(id),
                    account_id: owner,
                    product_id: product,
                    display_name: b.display_name.unwrap_or_default(),
                    // The reference's default.
                    state: state.unwrap_or(SubscriptionState::Submitted),
                },
            )
            .await?;
            Ok(entity(
                StatusCode::CREATED,
                s.version,
                subscription_resource(&svc, &s),
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
    let b = body.properties;
    refuse_unsupported(&b)?;
    if b.owner_id.is_some() || b.scope.is_some() {
        return Err(ApiError::field(
            "scope",
            "A subscription keeps its owner and product.",
        ));
    }
    let s = subscription_edits::update(
        &ctx,
        &caller.0,
        &id,
        SubscriptionChanges {
            display_name: b.display_name,
            state: state_of(b.state.as_deref())?,
        },
        expect,
    )
    .await
    .map_err(ApiError::unless_found("Subscription"))?;
    Ok(entity(
        StatusCode::OK,
        s.version,
        subscription_resource(&Service::of(&req), &s),
    ))
}

async fn delete(
    ctx: web::Data<Ctx>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Id>,
) -> ApiResult {
    let expect = IfMatch::required(&req)?.expect();
    subscription_edits::delete(&ctx, &caller.0, &id, expect)
        .await
        .map_err(ApiError::unless_found("Subscription"))?;
    Ok(HttpResponse::NoContent().finish())
}

async fn list_secrets(ctx: web::Data<Ctx>, _: Caller, id: web::Path<Id>) -> ApiResult {
    let s = subscriptions::get(&ctx, Who::Administrator, &id)
        .await
        .map_err(ApiError::unless_found("Subscription"))?;
    Ok(HttpResponse::Ok()
        .insert_header((
            actix_web::http::header::ETAG,
            super::envelope::etag(s.version),
        ))
        .json(serde_json::json!({"primaryKey": s.primary_key, "secondaryKey": s.secondary_key})))
}

async fn regenerate(ctx: &Ctx, caller: &Caller, id: &str, slot: KeySlot) -> ApiResult {
    subscriptions::regenerate(ctx, &caller.0, Who::Administrator, id, slot)
        .await
        .map_err(ApiError::unless_found("Subscription"))?;
    Ok(HttpResponse::NoContent().finish())
}

async fn regenerate_primary(ctx: web::Data<Ctx>, caller: Caller, id: web::Path<Id>) -> ApiResult {
    regenerate(&ctx, &caller, &id, KeySlot::Primary).await
}

async fn regenerate_secondary(ctx: web::Data<Ctx>, caller: Caller, id: web::Path<Id>) -> ApiResult {
    regenerate(&ctx, &caller, &id, KeySlot::Secondary).await
}
