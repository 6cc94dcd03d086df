//! What every request goes through first: an id, the client's address
//! (S-23), a span that the request's log lines carry (request id, route,
//! client, and the signed-in account once known), the security headers,
//! one log line when it ends (S-17: the path with tokens redacted, never a
//! body or a cookie), and the error page for any 5xx that escaped a
//! handler.

use std::net::IpAddr;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use tracing::Instrument;

use super::errors::{WebError, page_for_server_error};
use super::headers::{harden, harden_for};

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

/// Names the signed-in account on the request's span (called by the
/// console's guard and the portal's session check, inside the span).
pub fn record_account(id: &str) {
    tracing::Span::current().record("account", tracing::field::display(id));
}

pub async fn handle(
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
    let is_static = req.path().starts_with("/static/");
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %req.method(),
        path = %redact(req.path()),
        client = %client.map(|c| c.to_string()).unwrap_or_default(),
        account = tracing::field::Empty,
    );
    let current = Current {
        id: id.clone(),
        client,
    };
    let res = match CURRENT
        .scope(current, next.call(req))
        .instrument(span.clone())
        .await
    {
        Ok(res) => res.map_into_boxed_body(),
        // A middleware failed (the session middleware when the cookie
        // cannot be written, say). The request went with it, so the error
        // page is answered by actix from the error returned here.
        Err(e) if e.as_response_error().status_code().is_server_error() => {
            let _in = span.enter();
            return Err(WebError::Failed {
                request_id: id,
                cause: e.to_string(),
            }
            .into());
        }
        Err(e) => return Err(e),
    };
    let _in = span.enter();
    let mut res = page_for_server_error(res, &id);
    harden(res.headers_mut(), &id);
    harden_for(res.headers_mut(), https, is_static);
    let route = res.request().match_pattern();
    let route = route.as_deref().unwrap_or("-");
    let elapsed = started.elapsed();
    crate::metrics::request(route, res.status().as_u16(), elapsed.as_secs_f64());
    tracing::info!(
        route = %route,
        status = res.status().as_u16(),
        micros = elapsed.as_micros() as u64,
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
                .wrap(from_fn(super::handle)),
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
