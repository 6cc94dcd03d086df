//! Request limits (S-24): how large a URL, the headers and a form may be.
//!
//! actix itself closes a connection whose request head (request line and
//! headers) passes 128 KiB, and refuses more than 96 headers; the tighter
//! bounds here answer with a page. A form body over [`FORM_LIMIT`] is
//! refused with 413 before it is read whole: at once when its
//! `Content-Length` says so, or as soon as a body sent without one
//! (chunked) passes the limit while it is read (`csrf::Form`).

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::Next;

use super::errors::WebError;

/// The largest form body, in bytes.
pub const FORM_LIMIT: usize = 64 * 1024;
/// The largest management API (JSON) body, in bytes: an email template's
/// body is the largest thing it carries.
pub const API_LIMIT: usize = 256 * 1024;
/// The longest request target (path and query), in bytes.
pub const URL_LIMIT: usize = 8 * 1024;
/// The most bytes all header names and values may take together.
pub const HEADERS_LIMIT: usize = 32 * 1024;

pub async fn refuse_oversized(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let refusal = if target_len(&req) > URL_LIMIT {
        Some(WebError::UrlTooLong)
    } else if req
        .headers()
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len())
        .sum::<usize>()
        > HEADERS_LIMIT
    {
        Some(WebError::HeadersTooLarge)
    } else if carries_body(req.method())
        && declared_length(&req).is_some_and(|n| n > body_limit(req.path()))
    {
        Some(WebError::TooLarge)
    } else {
        None
    };
    match refusal {
        Some(e) => {
            tracing::warn!(path = %super::request::redact(req.path()), refused = %e, "request refused: too large");
            let resp = if super::api::is_api_path(req.path()) {
                let status = actix_web::ResponseError::status_code(&e);
                let api = super::api::ApiError::new(status, "RequestTooLarge", e.to_string());
                actix_web::ResponseError::error_response(&api)
            } else {
                actix_web::ResponseError::error_response(&e)
            };
            let (req, _) = req.into_parts();
            Ok(ServiceResponse::new(req, resp).map_into_right_body())
        }
        None => Ok(next.call(req).await?.map_into_left_body()),
    }
}

/// The management API takes JSON bodies up to its own limit; every other
/// body is a form.
fn body_limit(path: &str) -> usize {
    if super::api::is_api_path(path) {
        API_LIMIT
    } else {
        FORM_LIMIT
    }
}

/// The request target's length, read where it stands (no copy on every
/// request): the path and query, with the scheme and host of an
/// absolute-form target.
fn target_len(req: &ServiceRequest) -> usize {
    let uri = req.uri();
    let pq = uri.path_and_query().map_or(0, |pq| pq.as_str().len());
    match (uri.scheme_str(), uri.authority()) {
        (Some(scheme), Some(authority)) => {
            scheme.len() + "://".len() + authority.as_str().len() + pq
        }
        _ => pq,
    }
}

fn carries_body(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn declared_length(req: &ServiceRequest) -> Option<usize> {
    req.headers()
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}
