//! The token endpoint (RFC 6749 §3.2) and userinfo (OpenID Connect Core
//! §5.3): called by applications, not browsers; no cookies, no CSRF.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;

use super::{error_json, failure};
use crate::domain::oidc::{ErrorCode, OidcError};
use crate::services::Ctx;
use crate::services::oidc::Failure;
use crate::services::oidc::claims;
use crate::services::oidc::tokens::{self, ClientAuth, Grant};
use crate::web::errors::WebError;

#[derive(Deserialize, Default)]
struct TokenForm {
    grant_type: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    refresh_token: Option<String>,
    scope: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

fn invalid(code: ErrorCode, description: &str) -> OidcError {
    OidcError::new(code, description)
}

/// `Authorization: Basic` (RFC 6749 §2.3.1: each part form-url-encoded).
fn basic_credentials(req: &HttpRequest) -> Option<Option<(String, String)>> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))?;
    let decoded = STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok());
    let unescape = |s: &str| -> Option<String> {
        serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("v={s}"))
            .ok()?
            .pop()
            .map(|(_, v)| v)
    };
    Some(decoded.and_then(|d| {
        let (id, secret) = d.split_once(':')?;
        Some((unescape(id)?, unescape(secret)?))
    }))
}

fn client_auth(req: &HttpRequest, f: &TokenForm) -> Result<(ClientAuth, bool), OidcError> {
    match basic_credentials(req) {
        Some(Some((id, secret))) => {
            if f.client_secret.is_some() || f.client_id.as_ref().is_some_and(|c| *c != id) {
                return Err(invalid(
                    ErrorCode::InvalidRequest,
                    "use one way of client authentication",
                ));
            }
            Ok((
                ClientAuth {
                    client_id: id,
                    secret: Some(secret),
                },
                true,
            ))
        }
        Some(None) => Err(invalid(
            ErrorCode::InvalidClient,
            "malformed Basic credentials",
        )),
        None => match &f.client_id {
            Some(id) if !id.is_empty() => Ok((
                ClientAuth {
                    client_id: id.clone(),
                    secret: f.client_secret.clone().filter(|s| !s.is_empty()),
                },
                false,
            )),
            _ => Err(invalid(
                ErrorCode::InvalidClient,
                "no client authentication",
            )),
        },
    }
}

pub async fn token(
    ctx: web::Data<Ctx>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let Ok(f) = serde_urlencoded::from_bytes::<TokenForm>(&body) else {
        return Ok(error_json(
            &invalid(ErrorCode::InvalidRequest, "the body is not a form"),
            false,
        ));
    };
    let (auth, basic) = match client_auth(&req, &f) {
        Ok(a) => a,
        Err(e) => {
            return Ok(error_json(
                &e,
                req.headers().contains_key(header::AUTHORIZATION),
            ));
        }
    };
    let grant = match f.grant_type.as_deref() {
        Some("authorization_code") => match (f.code, f.redirect_uri) {
            (Some(code), Some(redirect_uri)) => Grant::Code {
                code,
                redirect_uri,
                verifier: f.code_verifier,
            },
            _ => {
                return Ok(error_json(
                    &invalid(
                        ErrorCode::InvalidRequest,
                        "code and redirect_uri are required",
                    ),
                    basic,
                ));
            }
        },
        Some("refresh_token") => match f.refresh_token {
            Some(token) => Grant::Refresh {
                token,
                scope: f.scope,
            },
            None => {
                return Ok(error_json(
                    &invalid(ErrorCode::InvalidRequest, "refresh_token is required"),
                    basic,
                ));
            }
        },
        _ => {
            return Ok(error_json(
                &invalid(
                    ErrorCode::UnsupportedGrantType,
                    "grant_type must be authorization_code or refresh_token",
                ),
                basic,
            ));
        }
    };
    match tokens::token(&ctx, auth, grant).await {
        Ok(t) => Ok(HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::PRAGMA, "no-cache"))
            .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
            .json(t)),
        Err(f) => failure(f, basic),
    }
}

fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(|t| t.trim().to_owned())
}

pub async fn userinfo_get(ctx: web::Data<Ctx>, req: HttpRequest) -> Result<HttpResponse, WebError> {
    userinfo(&ctx, bearer(&req)).await
}

#[derive(Deserialize)]
struct UserinfoForm {
    access_token: Option<String>,
}

pub async fn userinfo_post(
    ctx: web::Data<Ctx>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let from_body = serde_urlencoded::from_bytes::<UserinfoForm>(&body)
        .ok()
        .and_then(|f| f.access_token);
    userinfo(&ctx, bearer(&req).or(from_body)).await
}

/// RFC 6750 §3: 401 with a Bearer challenge, saying why only when a token came.
fn unauthorized(e: Option<&OidcError>) -> HttpResponse {
    let challenge = match e {
        Some(e) => format!(
            "Bearer error=\"{}\", error_description=\"{}\"",
            e.code.as_str(),
            e.description.replace('"', "'")
        ),
        None => "Bearer".to_owned(),
    };
    HttpResponse::Unauthorized()
        .insert_header((header::WWW_AUTHENTICATE, challenge))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .finish()
}

async fn userinfo(ctx: &Ctx, token: Option<String>) -> Result<HttpResponse, WebError> {
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return Ok(unauthorized(None));
    };
    match claims::userinfo(ctx, &token).await {
        Ok(c) => Ok(HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
            .json(c)),
        Err(Failure::Protocol(e)) => Ok(unauthorized(Some(&e))),
        Err(Failure::Service(e)) => Err(e.into()),
    }
}
