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
    next: Next<impl MessageBody + 'static>,
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
    let res = match CURRENT.scope(current, next.call(req)).await {
        Ok(res) => res.map_into_boxed_body(),
        // A middleware failed (the session middleware when the cookie
        // cannot be written, say). The request went with it, so the error
        // page is answered by actix from the error returned here.
        Err(e) if e.as_response_error().status_code().is_server_error() => {
            return Err(super::errors::WebError::Failed {
                request_id: id,
                cause: e.to_string(),
            }
            .into());
        }
        Err(e) => return Err(e),
    };
    let mut res = super::errors::page_for_server_error(res, &id);
    let h = res.headers_mut();
    harden(h, &id);
    let mut set = |name: HeaderName, value: &'static str| {
        h.insert(name, HeaderValue::from_static(value));
    };
    if https {
        set(
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000; includeSubDomains",
        );
    }
    if is_static {
        set(header::CACHE_CONTROL, "public, max-age=3600");
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

/// The headers of S-16 every response carries (HSTS and static caching
/// are added by the caller), and the request id.
pub fn harden(h: &mut actix_web::http::header::HeaderMap, request_id: &str) {
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
mod server_error_tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use actix_web::body::MessageBody;
    use actix_web::dev::{ServiceRequest, ServiceResponse};
    use actix_web::middleware::{Next, from_fn};
    use actix_web::{App, HttpResponse, test, web};

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    async fn failing(
        _req: ServiceRequest,
        _next: Next<impl MessageBody>,
    ) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
        Err::<ServiceResponse, _>(actix_web::error::ErrorInternalServerError(
            "cookie larger than a browser keeps",
        ))
    }

    /// A 500 raised by a middleware, and a bare 500 from a handler, both
    /// reach the person as the error page with the request id, and the
    /// log at error level.
    #[actix_web::test]
    async fn every_500_is_the_error_page_and_logged() {
        let log = Captured::default();
        let writer = log.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let app = test::init_service(
            App::new()
                .service(
                    web::scope("/failing")
                        .wrap(from_fn(failing))
                        .route("", web::get().to(HttpResponse::Ok)),
                )
                .route("/bare", web::get().to(HttpResponse::InternalServerError))
                .wrap(from_fn(super::security_headers)),
        )
        .await;
        for path in ["/failing", "/bare"] {
            // As the server does: an error that escapes every middleware
            // is answered with its own `error_response`.
            let res =
                match test::try_call_service(&app, test::TestRequest::get().uri(path).to_request())
                    .await
                {
                    Ok(res) => res.into_parts().1.map_into_boxed_body(),
                    Err(e) => e.error_response(),
                };
            assert_eq!(res.status(), 500, "{path}");
            let id = res
                .headers()
                .get("x-request-id")
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned();
            assert!(res.headers().contains_key("content-security-policy"));
            let body = actix_web::body::to_bytes(res.into_body()).await.unwrap();
            let body = String::from_utf8(body.to_vec()).unwrap();
            assert!(body.contains("Something went wrong"), "{path}: {body}");
            assert!(body.contains(&id), "{path}: the page names request {id}");
            let logged = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
            assert!(
                logged
                    .lines()
                    .any(|l| l.contains("ERROR") && l.contains(&id)),
                "{path}: logged at error level with {id}:\n{logged}"
            );
        }
    }
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
