//! The admin console at /admin. Everything but the sign-in page sits behind
//! `require_admin`, so a route added later is protected without anyone
//! remembering to protect it (deny by default, S-13).

mod guard;
mod sign_in;
mod soon;
mod users;

use actix_session::Session;
use actix_web::middleware::from_fn;
use actix_web::web;

pub use guard::CurrentAdmin;

use super::session::{self, Flash};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/admin")
            .route("/sign-in", web::get().to(sign_in::form))
            .route("/sign-in", web::post().to(sign_in::submit))
            .service(
                web::scope("")
                    .wrap(from_fn(guard::require_admin))
                    .route("", web::get().to(users::home))
                    .route("/", web::get().to(users::home))
                    .route("/sign-out", web::post().to(sign_in::sign_out))
                    .route("/users", web::get().to(users::list))
                    .route("/users/add", web::get().to(users::add_form))
                    .route("/users/add", web::post().to(users::add))
                    .route("/users/{id}", web::get().to(users::show))
                    .route("/users/{id}/block", web::post().to(users::block))
                    .route("/users/{id}/activate", web::post().to(users::activate))
                    .route("/users/{id}/delete", web::get().to(users::delete_confirm))
                    .route("/users/{id}/delete", web::post().to(users::delete))
                    .route("/users/{id}/password", web::post().to(users::set_password))
                    .route("/groups", web::get().to(soon::groups))
                    .route("/products", web::get().to(soon::products))
                    .default_service(web::to(not_found)),
            ),
    );
}

async fn not_found() -> Result<actix_web::HttpResponse, super::errors::WebError> {
    Err(super::errors::WebError::NotFound)
}

/// What every console page's frame shows: tabs, who is signed in, the
/// sign-out form's token, and the message left by the previous action.
pub struct Chrome {
    pub tab: &'static str,
    pub admin_name: String,
    pub csrf: String,
    pub flash: Option<Flash>,
}

impl Chrome {
    pub fn new(session: &Session, admin: &CurrentAdmin, tab: &'static str) -> Self {
        Self {
            tab,
            admin_name: admin.display_name(),
            csrf: session::csrf_token(session),
            flash: session::take_flash(session),
        }
    }
}
