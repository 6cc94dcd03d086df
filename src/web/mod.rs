//! HTTP: sessions, CSRF, headers, error pages, and the route tables of the
//! console (and later the developer portal and the JSON API). Handlers parse
//! input, call one service function, and render or redirect.

pub mod admin;
pub mod client;
pub mod csrf;
pub mod errors;
pub mod forms;
pub mod gateway;
pub mod headers;
pub mod portal;
pub mod session;
mod static_files;

use actix_web::{HttpResponse, web};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .configure(static_files::routes)
        .configure(gateway::routes)
        .configure(admin::routes)
        .configure(portal::routes);
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}
