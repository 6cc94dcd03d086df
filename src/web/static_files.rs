//! Static assets are compiled into the binary, so it runs from anywhere.

use actix_web::{HttpResponse, web};

const STYLESHEET: &str = include_str!("../../static/portal.css");

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/static/portal.css", web::get().to(stylesheet));
}

async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .body(STYLESHEET)
}
