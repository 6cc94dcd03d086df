//! HTTP: sessions, CSRF, headers, error pages, and the route tables of the
//! console (and later the developer portal and the JSON API). Handlers parse
//! input, call one service function, and render or redirect.

pub mod admin;
pub mod api;
pub mod client;
pub mod csrf;
pub mod errors;
pub mod forms;
pub mod gateway;
pub mod headers;
pub mod limits;
pub mod numbers;
pub mod oidc;
pub mod paths;
pub mod portal;
pub mod request;
pub mod session;
mod static_files;

use actix_web::{HttpResponse, web};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.configure(extractor_errors)
        .route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/metrics", web::get().to(metrics_public))
        .configure(static_files::routes)
        .configure(gateway::routes)
        .configure(oidc::routes)
        // Before the portal: its /subscriptions pages share the first segment.
        .configure(api::routes)
        .configure(admin::routes)
        .configure(portal::routes);
}

/// Any path no route claims: the same page as a missing thing.
pub async fn not_found() -> Result<HttpResponse, errors::WebError> {
    Err(errors::WebError::NotFound)
}

/// Path and query values that do not parse (an id that is no number, say)
/// get the pages every other bad request gets, not the framework's text.
pub fn extractor_errors(cfg: &mut web::ServiceConfig) {
    cfg.app_data(
        web::PathConfig::default().error_handler(|_, _| errors::WebError::NotFound.into()),
    )
    .app_data(
        web::QueryConfig::default().error_handler(|_, _| errors::WebError::BadRequest.into()),
    );
}

/// Liveness: the process answers, whatever its database does.
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

/// Readiness (SPEC R5): 503 while the database cannot be reached, so a load
/// balancer sends requests elsewhere; a couple of seconds at most.
async fn readyz(ctx: web::Data<crate::services::Ctx>) -> HttpResponse {
    let ping = tokio::time::timeout(std::time::Duration::from_secs(2), ctx.db.ping()).await;
    match ping {
        Ok(Ok(())) => HttpResponse::Ok().content_type("text/plain").body("ready"),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "not ready: the database does not answer");
            not_ready()
        }
        Err(_) => {
            tracing::warn!("not ready: the database did not answer within 2 s");
            not_ready()
        }
    }
}

fn not_ready() -> HttpResponse {
    errors::intended(
        HttpResponse::ServiceUnavailable()
            .insert_header(("Retry-After", "5"))
            .content_type("text/plain")
            .body("the database cannot be reached"),
    )
}

/// `/metrics` on the portal's own port: only when the operator chose it
/// (`METRICS=on`); otherwise the same answer as any unknown path.
async fn metrics_public(
    ctx: web::Data<crate::services::Ctx>,
) -> Result<HttpResponse, errors::WebError> {
    if ctx.settings.metrics != crate::config::Metrics::Public {
        return Err(errors::WebError::NotFound);
    }
    metrics(ctx).await
}

/// The Prometheus exposition (text format 0.0.4).
pub async fn metrics(
    ctx: web::Data<crate::services::Ctx>,
) -> Result<HttpResponse, errors::WebError> {
    let body = crate::services::operations::metrics(&ctx).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(body))
}
