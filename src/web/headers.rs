//! Every response gets a request id and the security headers of S-16; every
//! request is logged without secrets (S-17).

use std::net::IpAddr;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;

/// What is known of the request being served, for error pages, logs and
/// the audit log.
#[derive(Clone)]
struct Current {
    id: String,
    client: Option<IpAddr>,
}

tokio::task_local! {
    static CURRENT: Current;
}

/// The id of the request being served, for error pages and logs.
pub fn current_request_id() -> String {
    CURRENT.try_with(|c| c.id.clone()).unwrap_or_default()
}

/// The client of the request being served (S-23: behind a trusted proxy,
/// the address it reports).
pub fn current_client() -> Option<IpAddr> {
    CURRENT.try_with(|c| c.client).ok().flatten()
}

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let id = crate::domain::ids::new_id();
    let ctx = req
        .app_data::<actix_web::web::Data<crate::services::Ctx>>()
        .cloned();
    let https = ctx.as_ref().is_some_and(|c| c.settings.is_https());
    let client = super::client::address(
        req.peer_addr().map(|a| a.ip()),
        req.headers(),
        ctx.as_ref()
            .map_or(&[], |c| &c.settings.trusted_proxies[..]),
    );
    let method = req.method().clone();
    let path = redact(req.path());
    let is_static = req.path().starts_with("/static/");
    let current = Current {
        id: id.clone(),
        client,
    };
    let mut res = CURRENT.scope(current, next.call(req)).await?;
    let h = res.headers_mut();
    let has_referrer_policy = h.contains_key(header::REFERRER_POLICY);
    let mut set = |name: HeaderName, value: &'static str| {
        h.insert(name, HeaderValue::from_static(value));
    };
    set(header::CONTENT_SECURITY_POLICY, CSP);
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::X_FRAME_OPTIONS, "DENY");
    // Pages behind emailed links set a stricter policy of their own.
    if !has_referrer_policy {
        set(header::REFERRER_POLICY, "same-origin");
    }
    if https {
        set(
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000; includeSubDomains",
        );
    }
    if is_static {
        set(header::CACHE_CONTROL, "public, max-age=3600");
    } else {
        set(header::CACHE_CONTROL, "no-store");
    }
    if let Ok(v) = HeaderValue::from_str(&id) {
        h.insert(HeaderName::from_static("x-request-id"), v);
    }
    tracing::info!(
        request_id = %id,
        client = %client.map(|c| c.to_string()).unwrap_or_default(),
        method = %method,
        path = %path,
        status = res.status().as_u16(),
        micros = started.elapsed().as_micros() as u64,
        "request"
    );
    Ok(res)
}

/// Paths may carry single-use tokens: any long opaque segment is replaced.
pub fn redact(path: &str) -> String {
    path.split('/')
        .map(|seg| {
            if seg.len() >= 24
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                "[redacted]"
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_tokens_only() {
        assert_eq!(
            super::redact("/admin/users/0123abcd"),
            "/admin/users/0123abcd"
        );
        assert_eq!(
            super::redact("/invitations/Zm9vYmFyYmF6cXV4cXV1eHh5enp6MTIz/accept"),
            "/invitations/[redacted]/accept"
        );
    }
}
