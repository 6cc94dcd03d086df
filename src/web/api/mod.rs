//! The management REST API (SPEC M1–M6): the commercial service's
//! management API for users, groups, products, subscriptions and email
//! templates, wire-compatible with its SDKs, as a third front end over the
//! same services as the console and the portal.
//!
//! Every request needs `Authorization: Bearer <token>` (S-20: tokens from
//! the console's Management API page; no cookies, so no CSRF surface) and
//! an `api-version` the commercial API had. The caller is put in the
//! request for the handlers (`Caller`); everything else is theirs.

mod body;
mod envelope;
mod filter;
mod group_contract;
mod groups;
mod products;
mod subscriptions;
mod templates;
mod users;

use std::future::{Ready, ready};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{StatusCode, header};
use actix_web::middleware::{Next, from_fn};
use actix_web::{FromRequest, HttpMessage, HttpRequest, ResponseError, web};

use crate::services::{Actor, Ctx, api_tokens};
pub use envelope::ApiError;

/// The path every route lives under; any subscription, resource group and
/// service name is accepted (and echoed in ids).
pub const PREFIX: &str =
    "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ApiManagement/service/{svc}";

/// The `api-version`s accepted: those of the commercial API's stable
/// management API whose shapes these handlers speak.
const OLDEST_VERSION: &str = "2021-08-01";
const NEWEST_VERSION: &str = "2024-05-01";

/// Whether `path` belongs to the management API (its own body limit, JSON errors).
pub fn is_api_path(path: &str) -> bool {
    path.starts_with("/subscriptions/")
        && path.contains("/providers/Microsoft.ApiManagement/service/")
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope(PREFIX)
            .wrap(from_fn(admit))
            .configure(users::routes)
            .configure(groups::routes)
            .configure(products::routes)
            .configure(subscriptions::routes)
            .configure(templates::routes)
            .default_service(web::to(no_such_operation)),
    );
}

async fn no_such_operation(req: HttpRequest) -> envelope::ApiResult {
    Err(ApiError::new(
        StatusCode::NOT_FOUND,
        "ResourceNotFound",
        format!("No operation {} {}.", req.method(), req.path()),
    ))
}

/// Who is calling: the token's actor (audited as the API by its name, M5).
#[derive(Clone)]
pub struct Caller(pub Actor);

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // Missing only if a route escaped `admit`: fail closed.
        ready(
            req.extensions()
                .get::<Caller>()
                .cloned()
                .ok_or_else(unauthorized),
        )
    }
}

fn unauthorized() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "AuthenticationFailed",
        "Authentication failed. The Authorization header is missing or its token is not valid.",
    )
}

/// S-20 and M1: a good bearer token, then a known `api-version`; anything
/// else is refused before a handler runs.
async fn admit(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let refuse = |req: ServiceRequest, e: ApiError| {
        let mut resp = e.error_response();
        if e.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        Ok(req.into_response(resp).map_into_right_body())
    };
    let ctx = req
        .app_data::<web::Data<Ctx>>()
        .cloned()
        .expect("Ctx is registered");
    let secret = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    let actor = match secret {
        None => None,
        Some(s) => match api_tokens::authenticate(&ctx, s).await {
            Ok(a) => a,
            Err(e) => return refuse(req, e.into()),
        },
    };
    let Some(mut actor) = actor else {
        tracing::warn!(path = %req.path(), "management API refused: no valid token");
        return refuse(req, unauthorized());
    };
    if let Err(e) = check_api_version(req.query_string()) {
        return refuse(req, e);
    }
    actor.client = crate::web::request::current_client();
    if let Some(id) = &actor.id {
        crate::web::request::record_account(id);
    }
    req.extensions_mut().insert(Caller(actor));
    Ok(next.call(req).await?.map_into_left_body())
}

fn check_api_version(query: &str) -> Result<(), ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
    let Some((_, version)) = pairs.iter().find(|(k, _)| k == "api-version") else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        ));
    };
    let date = version.strip_suffix("-preview").unwrap_or(version);
    let well_formed = date.len() == 10 && date.chars().all(|c| c.is_ascii_digit() || c == '-');
    if well_formed && (OLDEST_VERSION..=NEWEST_VERSION).contains(&date) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "InvalidApiVersionParameter",
            format!(
                "The api-version '{version}' is invalid. The supported versions are {OLDEST_VERSION} to {NEWEST_VERSION}."
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn api_versions() {
        assert!(super::check_api_version("api-version=2024-05-01").is_ok());
        assert!(super::check_api_version("a=1&api-version=2021-08-01").is_ok());
        assert!(super::check_api_version("api-version=2022-08-01-preview").is_ok());
        assert!(super::check_api_version("").is_err());
        assert!(super::check_api_version("api-version=2020-01-01").is_err());
        assert!(super::check_api_version("api-version=2099-01-01").is_err());
        assert!(super::check_api_version("api-version=latest").is_err());
    }
}
