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

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}
