//! `GET /gateway/check`: the external-auth hook for gateways (SPEC S2), e.g.
//! nginx's `auth_request`. 200 with the subscription's ids in response
//! headers when the key is accepted, 401 when there is none, 403 when it
//! is not accepted. The key is never logged (request logs hold the path
//! only, never the query or headers).

use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};

use crate::services::gateway::{self, Verdict};
use crate::services::{Ctx, ServiceError};

pub const KEY_HEADER: &str = "ocp-apim-subscription-key";
pub const KEY_PARAM: &str = "subscription-key";
/// Where nginx's `auth_request` puts the original request's URI (its query
/// may hold the key); set by the proxy, see the README.
pub const ORIGINAL_URI: &str = "x-original-uri";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/gateway/check", web::get().to(check))
        .route("/gateway/check", web::head().to(check));
}

fn key_in_query(query: &str) -> Option<String> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == KEY_PARAM)
        .map(|(_, v)| v)
}

/// The key of the request: its header, else its query, else the query of
/// the original request a proxy is asking about.
fn presented_key(req: &HttpRequest) -> Option<String> {
    if let Some(v) = req.headers().get(KEY_HEADER) {
        return v.to_str().ok().map(str::to_owned);
    }
    if let Some(k) = key_in_query(req.query_string()) {
        return Some(k);
    }
    let original = req.headers().get(ORIGINAL_URI)?.to_str().ok()?;
    key_in_query(original.split_once('?')?.1)
}

fn answer(status: StatusCode, message: &str) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("application/json")
        .body(format!(
            "{{\"statusCode\":{},\"message\":\"{message}\"}}",
            status.as_u16()
        ))
}

pub async fn check(ctx: web::Data<Ctx>, req: HttpRequest) -> HttpResponse {
    let key = presented_key(&req);
    let mut resp = match gateway::check(&ctx, key.as_deref()).await {
        Ok(Verdict::Accepted(a)) => {
            let mut r = HttpResponse::Ok();
            for (name, value) in [
                ("x-portal-account-id", a.account_id),
                ("x-portal-product-id", a.product_id),
                ("x-portal-subscription-id", a.subscription_id),
            ] {
                if let Ok(v) = HeaderValue::from_str(&value) {
                    r.insert_header((name, v));
                }
            }
            r.finish()
        }
        Ok(Verdict::Missing) => answer(
            StatusCode::UNAUTHORIZED,
            "Access denied: no subscription key. Send it in the Ocp-Apim-Subscription-Key header or the subscription-key query parameter.",
        ),
        Ok(Verdict::Refused) => answer(
            StatusCode::FORBIDDEN,
            "Access denied: the subscription key is not valid or not active.",
        ),
        Err(ServiceError::Unavailable) => {
            let mut r = answer(StatusCode::SERVICE_UNAVAILABLE, "Busy; try again shortly.");
            r.headers_mut().insert(
                actix_web::http::header::RETRY_AFTER,
                HeaderValue::from_static("1"),
            );
            r
        }
        Err(e) => {
            tracing::error!(error = %e, "key check failed");
            answer(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The key could not be checked.",
            )
        }
    };
    resp.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_key_in_a_query() {
        assert_eq!(
            key_in_query("a=1&subscription-key=abc").as_deref(),
            Some("abc")
        );
        assert_eq!(
            key_in_query("subscription-key=a%2Bb").as_deref(),
            Some("a+b")
        );
        assert_eq!(key_in_query("other=1"), None);
        assert_eq!(key_in_query(""), None);
    }
}
