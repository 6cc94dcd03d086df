//! The security headers of S-16 on every response.

use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// The headers of S-16 every response carries (HSTS and static caching
/// are added by the caller), and the request id.
pub fn harden(h: &mut HeaderMap, request_id: &str) {
    let has_referrer_policy = h.contains_key(header::REFERRER_POLICY);
    // A page whose form leads to another site sets its own (see below).
    let has_csp = h.contains_key(header::CONTENT_SECURITY_POLICY);
    let mut set = |name: HeaderName, value: &'static str| {
        h.insert(name, HeaderValue::from_static(value));
    };
    if !has_csp {
        set(header::CONTENT_SECURITY_POLICY, CSP);
    }
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

/// The policy of a page whose form ends, after redirects, at `origin`
/// (the OpenID consent and sign-in pages send the browser back to an
/// application's registered redirect URI): browsers check `form-action`
/// against every redirect that follows a form's submission.
pub fn allow_form_target(h: &mut HeaderMap, origin: &str) {
    let ok = !origin.is_empty()
        && origin
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".:/-[]".contains(&b));
    if !ok {
        return;
    }
    let csp = CSP.replace(
        "form-action 'self'",
        &format!("form-action 'self' {origin}"),
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
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

/// A page that shows a secret (a token, a client secret) says itself that
/// no browser or proxy may keep it, whatever `harden` adds later.
pub fn no_store(mut resp: actix_web::HttpResponse) -> actix_web::HttpResponse {
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}
