//! Products, product groups and a product's subscriptions (SPEC M2; P1,
//! P2): the same settings rules as the console's product form.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::Caller;
use super::body::{self, Json as Body, Paging};
use super::envelope::{
    ApiError, ApiResult, Id, IfMatch, Link, Put, Resource, Service, collection,
    display_name_errors, entity, entity_id, entity_tag,
};
use super::group_contract::group_resource;
use super::subscriptions::list_of;
use crate::domain::product::{ProductSettings, ProductState};
use crate::domain::query::{Filter, ProductField, Value};
use crate::services::lists::{self, With};
use crate::services::products::Subscriptions;
use crate::services::{Ctx, ServiceError, groups, products};
use crate::store::products::ProductRow;
use crate::store::subscriptions::Of;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/products", web::get().to(list))
        .route("/products/{id}", web::get().to(get))
        .route("/products/{id}", web::head().to(head))
        .route("/products/{id}", web::put().to(put))
        .route("/products/{id}", web::patch().to(patch))
        .route("/products/{id}", web::delete().to(delete))
        .route("/products/{id}/groups", web::get().to(groups_of))
        .route("/products/{id}/groups/{other}", web::head().to(has_group))
        .route("/products/{id}/groups/{other}", web::put().to(add_group))
        .route(
            "/products/{id}/groups/{other}",
            web::delete().to(remove_group),
        )
        .route("/products/{id}/subscriptions", web::get().to(subscriptions));
}

/// The wire's product state and ours.
fn wire_state(p: &ProductRow) -> &'static str {
    if p.published() {
        "published"
    } else {
        "notPublished"
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductProperties<'a> {
    display_name: &'a str,
    description: &'a str,
    terms: &'a str,
    subscription_required: bool,
    approval_required: bool,
    subscriptions_limit: Option<i64>,
    state: &'static str,
}

pub fn product_resource<'a>(
    svc: &'a Service,
    p: &'a ProductRow,
) -> Resource<'a, ProductProperties<'a>> {
    svc.resource(
        format!("/products/{}", p.id),
        "products",
        &p.id,
        ProductProperties {
            display_name: &p.name,
            description: &p.description,
            terms: &p.terms,
            subscription_required: p.subscription_required,
            approval_required: p.approval_required,
            subscriptions_limit: p.subscriptions_limit,
            state: wire_state(p),
        },
    )
}

/// `state eq 'notPublished'` is our `not_published`.
fn with_stored_states(f: Filter<ProductField>) -> Filter<ProductField> {
    match f {
        Filter::Compare(ProductField::State, op, Value::Text(t)) => Filter::Compare(
            ProductField::State,
            op,
            Value::Text(if t == "notPublished" {
                ProductState::NotPublished.as_str().into()
            } else {
                t
            }),
        ),
        Filter::And(a, b) => Filter::And(
            Box::new(with_stored_states(*a)),
            Box::new(with_stored_states(*b)),
        ),
        Filter::Or(a, b) => Filter::Or(
            Box::new(with_stored_states(*a)),
            Box::new(with_stored_states(*b)),
        ),
        Filter::Not(a) => Filter::Not(Box::new(with_stored_states(*a))),
        other => other,
    }
}

async fn list(ctx: web::Data<Ctx>, req: HttpRequest, _: Caller) -> ApiResult {
    let svc = Service::of(&req);
    let paging = Paging::of(&req)?;
    let filter = body::filter::<ProductField>(&req)?.map(with_stored_states);
    let expand = body::flag(&req, "expandGroups")?;
    let with = if expand { With::Groups } else { With::Nothing };
    let page = lists::products(&ctx, filter.as_ref(), paging.skip, paging.top, with).await?;
    let (more, count) = (page.more, page.total);
    let value = page
        .rows
        .iter()
        .map(|(p, groups)| {
            let mut r = serde_json::to_value(product_resource(&svc, p)).unwrap_or_default();
            if let Some(gs) = groups {
                r["properties"]["groups"] = gs
                    .iter()
                    .map(|g| {
                        serde_json::to_value(group_resource(&svc, g, "groups")).unwrap_or_default()
                    })
                    .collect::<Vec<_>>()
                    .into();
            }
            r
        })
        .collect::<Vec<_>>();
    Ok(collection(
        value,
        count,
        paging.next_link(&req, &ctx.settings.base_url, more),
    ))
}

async fn get(ctx: web::Data<Ctx>, req: HttpRequest, _: Caller, id: web::Path<Id>) -> ApiResult {
    let p = products::get(&ctx, &id)
        .await
        .map_err(ApiError::unless_found("Product"))?;
    Ok(entity(
        StatusCode::OK,
        p.version,
        product_resource(&Service::of(&req), &p),
    ))
}

async fn head(ctx: web::Data<Ctx>, _: Caller, id: web::Path<Id>) -> ApiResult {
    let p = products::get(&ctx, &id)
        .await
        .map_err(ApiError::unless_found("Product"))?;
    Ok(entity_tag(p.version))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope {
    properties: ProductBody,
}

/// `ProductContract` / `ProductUpdateParameters` properties.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ProductBody {
    display_name: Option<String>,
    description: Option<String>,
    terms: Option<String>,
    subscription_required: Option<bool>,
    approval_required: Option<bool>,
    subscriptions_limit: Option<i64>,
    state: Option<String>,
}

/// The settings a body asks for, on top of `current` (PATCH) or of the
/// reference's defaults (a new product: not published, subscription required).
fn settings(b: &ProductBody, current: Option<&ProductRow>) -> Result<ProductSettings, ApiError> {
    let published = match b.state.as_deref() {
        None => current.is_some_and(ProductRow::published),
        Some("published") => true,
        Some("notPublished") => false,
        Some(_) => {
            return Err(ApiError::field(
                "state",
                "The state is published or notPublished.",
            ));
        }
    };
    let limit = match (b.subscriptions_limit, current) {
        (Some(n), _) => n.to_string(),
        (None, Some(c)) => c
            .subscriptions_limit
            .map(|n| n.to_string())
            .unwrap_or_default(),
        (None, None) => String::new(),
    };
    ProductSettings::parse(
        b.display_name
            .as_deref()
            .or(current.map(|c| c.name.as_str()))
            .unwrap_or(""),
        b.description
            .as_deref()
            .or(current.map(|c| c.description.as_str()))
            .unwrap_or(""),
        b.terms
            .as_deref()
            .or(current.map(|c| c.terms.as_str()))
            .unwrap_or(""),
        b.subscription_required
            .or(current.map(|c| c.subscription_required))
            .unwrap_or(true),
        b.approval_required
            .or(current.map(|c| c.approval_required))
            .unwrap_or(false),
        &limit,
        published,
    )
    .map_err(display_name_errors)
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
    match Put::of(products::get(&ctx, &id).await, if_match)? {
        Put::Replace(current, expect) => {
            let s = settings(&body.properties, Some(&current))?;
            let p = products::update(&ctx, &caller.0, &id, &s, expect).await?;
            Ok(entity(
                StatusCode::OK,
                p.version,
                product_resource(&svc, &p),
            ))
        }
        Put::Create => {
            let s = settings(&body.properties, None)?;
            products::create(&ctx, &caller.0, Some(&id), &s).await?;
            let p = products::get(&ctx, &id).await?;
            Ok(entity(
                StatusCode::CREATED,
                p.version,
                product_resource(&svc, &p),
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
    let current = products::get(&ctx, &id)
        .await
        .map_err(ApiError::unless_found("Product"))?;
    let s = settings(&body.properties, Some(&current))?;
    let p = products::update(&ctx, &caller.0, &id, &s, expect).await?;
    Ok(entity(
        StatusCode::OK,
        p.version,
        product_resource(&Service::of(&req), &p),
    ))
}

async fn delete(
    ctx: web::Data<Ctx>,
    req: HttpRequest,
    caller: Caller,
    id: web::Path<Id>,
) -> ApiResult {
    let expect = IfMatch::required(&req)?.expect();
    let subscriptions = if body::flag(&req, "deleteSubscriptions")? {
        Subscriptions::DeleteThem
    } else {
        Subscriptions::Keep
    };
    products::delete(&ctx, &caller.0, &id, expect, subscriptions)
        .await
        .map_err(ApiError::unless_found("Product"))?;
    Ok(HttpResponse::NoContent().finish())
}

async fn groups_of(
    ctx: web::Data<Ctx>,
    req: HttpRequest,
    _: Caller,
    id: web::Path<Id>,
) -> ApiResult {
    let svc = Service::of(&req);
    let paging = Paging::of(&req)?;
    products::get(&ctx, &id)
        .await
        .map_err(ApiError::unless_found("Product"))?;
    let all = lists::groups_of_product(&ctx, &id).await?;
    let count = all.len() as i64;
    let page = all
        .iter()
        .skip(paging.skip as usize)
        .take(paging.top as usize)
        .map(|g| group_resource(&svc, g, "products/groups"))
        .collect();
    let more = paging.skip + paging.top < count;
    Ok(collection(
        page,
        Some(count),
        paging.next_link(&req, &ctx.settings.base_url, more),
    ))
}

/// 204 when the group may see the product, 404 otherwise.
async fn has_group(ctx: web::Data<Ctx>, _: Caller, path: web::Path<Link>) -> ApiResult {
    let Link { id, other: group } = path.into_inner();
    products::get(&ctx, &id)
        .await
        .map_err(ApiError::unless_found("Product"))?;
    let granted = products::access_groups(&ctx, &id).await?;
    if granted.iter().any(|g| g.id == group) {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::not_found("Product group"))
    }
}

/// P2: 201 when granted, 200 when it already was.
async fn add_group(
    ctx: web::Data<Ctx>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<Link>,
) -> ApiResult {
    let Link { id, other: group } = path.into_inner();
    let g = groups::get(&ctx, &group)
        .await
        .map_err(|_| ApiError::not_found("Group"))?;
    let status = match products::change_access(&ctx, &caller.0, &id, &group, true).await {
        Ok(_) => StatusCode::CREATED,
        // Granted already: nothing changed.
        Err(ServiceError::Conflict(_)) => StatusCode::OK,
        Err(e) => return Err(ApiError::unless_found("Product")(e)),
    };
    Ok(HttpResponse::build(status).json(group_resource(&Service::of(&req), &g, "products/groups")))
}

async fn remove_group(ctx: web::Data<Ctx>, caller: Caller, path: web::Path<Link>) -> ApiResult {
    let Link { id, other: group } = path.into_inner();
    groups::get(&ctx, &group)
        .await
        .map_err(|_| ApiError::not_found("Group"))?;
    match products::change_access(&ctx, &caller.0, &id, &group, false).await {
        Ok(_) => Ok(HttpResponse::NoContent().finish()),
        Err(ServiceError::Conflict(_)) => Err(ApiError::not_found("Product group")),
        Err(e) => Err(ApiError::unless_found("Product")(e)),
    }
}

async fn subscriptions(
    ctx: web::Data<Ctx>,
    req: HttpRequest,
    _: Caller,
    id: web::Path<Id>,
) -> ApiResult {
    products::get(&ctx, &id)
        .await
        .map_err(ApiError::unless_found("Product"))?;
    list_of(&ctx, &req, Of::Product(&id)).await
}
