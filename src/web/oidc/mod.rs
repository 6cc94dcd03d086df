//! The OpenID Connect provider's endpoints (SPEC O1): discovery, JWKS,
//! authorization (with Portal's own sign-in and consent pages), token,
//! userinfo and end-session. Each parses the request, calls
//! `services::oidc`, and answers as the specifications say.

mod authorize;

pub use authorize::sign_in_form_target;
mod end_session;
mod token;

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::Serialize;

use crate::domain::oidc::{ErrorCode, OidcError, SCOPES};
use crate::services::oidc::{Failure, issuer};
use crate::services::{Ctx, signing_keys};
use crate::web::errors::WebError;
use crate::web::paths::oidc as paths;
// The templates name the portal's pages.
use crate::web::paths::portal;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(paths::DISCOVERY, web::get().to(discovery))
        .route(paths::JWKS, web::get().to(jwks))
        .route(paths::AUTHORIZE, web::get().to(authorize::start))
        .route(paths::AUTHORIZE, web::post().to(authorize::consent))
        .route(paths::TOKEN, web::post().to(token::token))
        .route(
            paths::TOKEN,
            web::method(actix_web::http::Method::OPTIONS).to(preflight),
        )
        .route(paths::USERINFO, web::get().to(token::userinfo_get))
        .route(paths::USERINFO, web::post().to(token::userinfo_post))
        .route(
            paths::USERINFO,
            web::method(actix_web::http::Method::OPTIONS).to(preflight),
        )
        .route(paths::END_SESSION, web::get().to(end_session::start))
        .route(paths::END_SESSION, web::post().to(end_session::confirm));
}

/// Whether `path` is an endpoint that machines call without cookies, so
/// the browser's cross-site marks say nothing about it (no CSRF surface).
pub fn is_machine_endpoint(path: &str) -> bool {
    path == paths::TOKEN || path == paths::USERINFO
}

#[derive(Serialize)]
struct Discovery<'a> {
    issuer: &'a str,
    authorization_endpoint: String,
    token_endpoint: String,
    userinfo_endpoint: String,
    jwks_uri: String,
    end_session_endpoint: String,
    scopes_supported: &'static [&'static str],
    response_types_supported: [&'static str; 1],
    response_modes_supported: [&'static str; 1],
    grant_types_supported: [&'static str; 2],
    subject_types_supported: [&'static str; 1],
    id_token_signing_alg_values_supported: [&'static str; 2],
    token_endpoint_auth_methods_supported: [&'static str; 3],
    code_challenge_methods_supported: [&'static str; 1],
    prompt_values_supported: [&'static str; 2],
    claims_supported: [&'static str; 13],
    authorization_response_iss_parameter_supported: bool,
    claims_parameter_supported: bool,
    request_parameter_supported: bool,
    request_uri_parameter_supported: bool,
}

/// OpenID Connect Discovery 1.0 §3.
async fn discovery(ctx: web::Data<Ctx>) -> HttpResponse {
    let iss = issuer(&ctx);
    let doc = Discovery {
        issuer: iss,
        authorization_endpoint: format!("{iss}{}", paths::AUTHORIZE),
        token_endpoint: format!("{iss}{}", paths::TOKEN),
        userinfo_endpoint: format!("{iss}{}", paths::USERINFO),
        jwks_uri: format!("{iss}{}", paths::JWKS),
        end_session_endpoint: format!("{iss}{}", paths::END_SESSION),
        scopes_supported: &SCOPES,
        response_types_supported: ["code"],
        response_modes_supported: ["query"],
        grant_types_supported: ["authorization_code", "refresh_token"],
        subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: ["RS256", "ES256"],
        token_endpoint_auth_methods_supported: [
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        code_challenge_methods_supported: ["S256"],
        prompt_values_supported: ["none", "login"],
        claims_supported: [
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "email",
            "email_verified",
            "name",
            "given_name",
            "family_name",
            "groups",
        ],
        authorization_response_iss_parameter_supported: true,
        claims_parameter_supported: false,
        request_parameter_supported: false,
        request_uri_parameter_supported: false,
    };
    public_json(
        HttpResponse::Ok(),
        serde_json::to_string(&doc).expect("discovery serializes"),
    )
}

/// RFC 7517: the keys that sign, and those retired but still published.
async fn jwks(ctx: web::Data<Ctx>) -> Result<HttpResponse, WebError> {
    let keys = signing_keys::current(&ctx).await?;
    Ok(public_json(HttpResponse::Ok(), keys.jwks.clone()))
}

/// JSON any site's scripts may read (nothing in it depends on cookies).
fn public_json(mut builder: actix_web::HttpResponseBuilder, body: String) -> HttpResponse {
    builder
        .content_type("application/json")
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .body(body)
}

/// CORS preflight for the endpoints a browser application calls itself.
async fn preflight() -> HttpResponse {
    HttpResponse::NoContent()
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, "GET, POST"))
        .insert_header((
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            "Authorization, Content-Type",
        ))
        .insert_header((header::ACCESS_CONTROL_MAX_AGE, "600"))
        .finish()
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'static str,
    error_description: &'a str,
}

/// A protocol error as JSON (RFC 6749 §5.2): 401 for a client that failed
/// to authenticate (with the challenge when it used Basic), else 400.
fn error_json(e: &OidcError, basic: bool) -> HttpResponse {
    let mut b = if e.code == ErrorCode::InvalidClient {
        let mut b = HttpResponse::Unauthorized();
        if basic {
            b.insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"portal\""));
        }
        b
    } else {
        HttpResponse::BadRequest()
    };
    b.insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .json(ErrorBody {
            error: e.code.as_str(),
            error_description: &e.description,
        })
}

#[derive(askama::Template)]
#[template(path = "portal/oidc_problem.html")]
struct ProblemPage {
    chrome: crate::web::portal::Chrome,
    message: String,
}

/// A request that cannot go back to the application (unknown client,
/// unregistered address): said on a page of the portal, 400.
fn problem(session: &actix_session::Session, message: String) -> Result<HttpResponse, WebError> {
    crate::web::errors::page(
        actix_web::http::StatusCode::BAD_REQUEST,
        &ProblemPage {
            chrome: crate::web::portal::Chrome::new(session, None, "sign-in"),
            message,
        },
    )
}

fn failure(f: Failure, basic: bool) -> Result<HttpResponse, WebError> {
    match f {
        Failure::Protocol(e) => Ok(error_json(&e, basic)),
        Failure::Service(e) => Err(e.into()),
    }
}
