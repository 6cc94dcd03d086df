//! The security headers of S-16 on every response.

use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// The headers of S-16 every response carries (HSTS and static caching
/// are added by the caller), and the request id.
pub fn harden(h: &mut HeaderMap, request_id: &str) {
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
    set(header::CACHE_CONTROL, "no-store");
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert(HeaderName::from_static("x-request-id"), v);
    }
}

/// What only some responses get: HSTS over https (S-16), and caching for
/// the stylesheet and other static files (every other response is
/// `no-store`).
pub fn harden_for(h: &mut HeaderMap, https: bool, is_static: bool) {
    if https {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    if is_static {
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=3600"),
        );
    }
}
