//! CSRF defence (S-12): a synchronizer token in every form, and a refusal of
//! unsafe requests that a browser marks as coming from another site.

use std::future::Future;
use std::pin::Pin;

use actix_session::SessionExt;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpRequest, http::Method, web};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq;

use super::errors::WebError;
use super::session;

/// A url-encoded form whose CSRF token was checked before its fields were
/// read. Every form post takes this extractor; fields are plain strings,
/// parsed into domain types by the handler.
pub struct Form<T>(pub T);

#[derive(Deserialize)]
struct TokenField {
    #[serde(default)]
    csrf_token: String,
}

impl<T: DeserializeOwned + 'static> FromRequest for Form<T> {
    type Error = WebError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, WebError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let payload = payload.take();
        Box::pin(async move {
            let body = read_limited(payload, super::limits::FORM_LIMIT).await?;
            let sent: TokenField =
                serde_urlencoded::from_bytes(&body).map_err(|_| WebError::BadRequest)?;
            let expected = session::expected_csrf(&req.get_session());
            if !tokens_match(expected.as_deref(), &sent.csrf_token) {
                tracing::warn!(path = %req.path(), "refused: CSRF token missing or wrong");
                return Err(WebError::Csrf);
            }
            // serde_html_form reads repeated keys (ticked checkboxes) into a Vec.
            serde_html_form::from_bytes(&body)
                .map(Form)
                .map_err(|_| WebError::BadRequest)
        })
    }
}

/// The body, read up to `limit` bytes: past that, 413 at once, without
/// reading (or keeping) the rest (S-24).
async fn read_limited(mut payload: Payload, limit: usize) -> Result<web::Bytes, WebError> {
    use futures_util::StreamExt;
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| WebError::BadRequest)?;
        if body.len() + chunk.len() > limit {
            return Err(WebError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

fn tokens_match(expected: Option<&str>, sent: &str) -> bool {
    match expected {
        Some(e) if !sent.is_empty() => e.as_bytes().ct_eq(sent.as_bytes()).into(),
        _ => false,
    }
}

/// Refuses unsafe methods that a browser says come from another site, or
/// whose Origin is neither this host nor `BASE_URL`.
pub async fn refuse_cross_site(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe && !super::oidc::is_machine_endpoint(req.path()) && is_cross_site(&req) {
        tracing::warn!(path = %req.path(), "refused: cross-site request");
        let (req, _) = req.into_parts();
        let resp = actix_web::ResponseError::error_response(&WebError::CrossSite);
        return Ok(ServiceResponse::new(req, resp).map_into_right_body());
    }
    Ok(next.call(req).await?.map_into_left_body())
}

fn is_cross_site(req: &ServiceRequest) -> bool {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    if header("sec-fetch-site") == Some("cross-site") {
        return true;
    }
    let Some(origin) = header("origin") else {
        return false;
    };
    // Pages behind emailed links send no referrer (S-7), so a browser posts
    // their forms with `Origin: null`; it still says truthfully that the
    // request comes from this very site.
    if origin == "null" && header("sec-fetch-site") == Some("same-origin") {
        return false;
    }
    let base = req
        .app_data::<web::Data<crate::services::Ctx>>()
        .map(|c| c.settings.base_url.clone())
        .unwrap_or_default();
    let host = header("host").unwrap_or_default();
    let origin_host = origin.split_once("://").map(|(_, h)| h).unwrap_or("");
    !(origin == base || (!host.is_empty() && origin_host == host))
}

#[cfg(test)]
mod tests {
    use super::tokens_match;

    #[test]
    fn tokens() {
        assert!(tokens_match(Some("abc"), "abc"));
        assert!(!tokens_match(Some("abc"), "abd"));
        assert!(!tokens_match(Some("abc"), ""));
        assert!(!tokens_match(None, ""));
        assert!(!tokens_match(None, "abc"));
    }
}
