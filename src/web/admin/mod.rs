//! The admin console at /admin. Everything but the sign-in page sits behind
//! `require_admin`, so a route added later is protected without anyone
//! remembering to protect it (deny by default, S-13).

mod api_tokens;
mod applications;
mod audit;
mod charts;
mod email;
mod groups;
mod guard;
mod home;
mod identity_providers;
mod invitations;
mod notifications;
mod products;
mod sign_in;
mod subscription_add;
mod subscriptions;
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
                    .route("", web::get().to(home::show))
                    .route("/", web::get().to(home::show))
                    .route("/sign-out", web::post().to(sign_in::sign_out))
                    .route("/api", web::get().to(api_tokens::list))
                    .route("/api/tokens", web::post().to(api_tokens::create))
                    .route(
                        "/api/tokens/{id}/revoke",
                        web::post().to(api_tokens::revoke),
                    )
                    .route("/applications", web::get().to(applications::list))
                    .route("/applications/add", web::get().to(applications::add_form))
                    .route("/applications/add", web::post().to(applications::add))
                    .route(
                        "/applications/rotate-keys",
                        web::post().to(applications::rotate_keys),
                    )
                    .route("/applications/{id}", web::get().to(applications::show))
                    .route("/applications/{id}", web::post().to(applications::update))
                    .route(
                        "/applications/{id}/secret",
                        web::post().to(applications::regenerate_secret),
                    )
                    .route(
                        "/applications/{id}/delete",
                        web::get().to(applications::delete_confirm),
                    )
                    .route(
                        "/applications/{id}/delete",
                        web::post().to(applications::delete),
                    )
                    .route(
                        "/identity-providers",
                        web::get().to(identity_providers::list),
                    )
                    .route(
                        "/identity-providers/add",
                        web::get().to(identity_providers::add_form),
                    )
                    .route(
                        "/identity-providers/add",
                        web::post().to(identity_providers::add),
                    )
                    .route(
                        "/identity-providers/{id}",
                        web::get().to(identity_providers::show),
                    )
                    .route(
                        "/identity-providers/{id}",
                        web::post().to(identity_providers::update),
                    )
                    .route(
                        "/identity-providers/{id}/test",
                        web::post().to(identity_providers::test_connection),
                    )
                    .route(
                        "/identity-providers/{id}/delete",
                        web::get().to(identity_providers::delete_confirm),
                    )
                    .route(
                        "/identity-providers/{id}/delete",
                        web::post().to(identity_providers::delete),
                    )
                    .route("/notifications", web::get().to(notifications::show))
                    .route("/notifications", web::post().to(notifications::save))
                    .route("/audit", web::get().to(audit::list))
                    .route("/audit.csv", web::get().to(audit::csv))
                    .route("/users", web::get().to(users::list))
                    .route("/users/invite", web::get().to(invitations::invite_form))
                    .route("/users/invite", web::post().to(invitations::invite))
                    .route("/users/pending", web::get().to(invitations::pending))
                    .route(
                        "/users/pending/{id}/resend",
                        web::post().to(invitations::resend),
                    )
                    .route(
                        "/users/pending/{id}/cancel",
                        web::post().to(invitations::cancel),
                    )
                    .route("/users/add", web::get().to(users::add_form))
                    .route("/users/add", web::post().to(users::add))
                    .route("/users/{id}", web::get().to(users::show))
                    .route("/users/{id}/block", web::post().to(users::block))
                    .route("/users/{id}/activate", web::post().to(users::activate))
                    .route("/users/{id}/delete", web::get().to(users::delete_confirm))
                    .route("/users/{id}/delete", web::post().to(users::delete))
                    .route("/users/{id}/password", web::post().to(users::set_password))
                    .route("/users/{id}/unlink", web::post().to(users::unlink))
                    .route(
                        "/users/{id}/reset-password",
                        web::post().to(users::send_reset),
                    )
                    .route("/users/toggle", web::post().to(users::toggle))
                    .route("/groups", web::get().to(groups::list))
                    .route("/groups/add", web::get().to(groups::add_form))
                    .route("/groups/add", web::post().to(groups::add))
                    .route("/groups/{id}", web::get().to(groups::show))
                    .route("/groups/{id}", web::post().to(groups::update))
                    .route("/groups/{id}/members", web::get().to(groups::members))
                    .route(
                        "/groups/{id}/members/add",
                        web::post().to(groups::add_members),
                    )
                    .route(
                        "/groups/{id}/members/remove",
                        web::post().to(groups::remove_members),
                    )
                    .route("/groups/{id}/delete", web::get().to(groups::delete_confirm))
                    .route("/groups/{id}/delete", web::post().to(groups::delete))
                    .route("/products", web::get().to(products::list))
                    .route("/products/add", web::get().to(products::add_form))
                    .route("/products/add", web::post().to(products::add))
                    .route("/products/{id}", web::get().to(products::show))
                    .route("/products/{id}", web::post().to(products::update))
                    .route("/products/{id}/publish", web::post().to(products::publish))
                    .route(
                        "/products/{id}/unpublish",
                        web::post().to(products::unpublish),
                    )
                    .route("/products/{id}/access", web::get().to(products::access))
                    .route(
                        "/products/{id}/access",
                        web::post().to(products::save_access),
                    )
                    .route(
                        "/products/{id}/access/add",
                        web::post().to(products::add_group),
                    )
                    .route(
                        "/products/{id}/access/remove",
                        web::post().to(products::remove_group),
                    )
                    .route(
                        "/products/{id}/delete",
                        web::get().to(products::delete_confirm),
                    )
                    .route("/products/{id}/delete", web::post().to(products::delete))
                    .route(
                        "/products/{id}/subscriptions",
                        web::get().to(subscriptions::of_product),
                    )
                    .route(
                        "/users/{id}/subscriptions",
                        web::get().to(subscriptions::of_account),
                    )
                    .route(
                        "/users/{id}/subscriptions/add",
                        web::get().to(subscription_add::for_account_form),
                    )
                    .route(
                        "/users/{id}/subscriptions/add",
                        web::post().to(subscription_add::for_account),
                    )
                    .route(
                        "/products/{id}/subscriptions/add",
                        web::get().to(subscription_add::for_product_form),
                    )
                    .route(
                        "/products/{id}/subscriptions/add",
                        web::post().to(subscription_add::for_product),
                    )
                    .route("/subscriptions/{id}", web::get().to(subscriptions::show))
                    .route(
                        "/subscriptions/{id}/regenerate",
                        web::post().to(subscriptions::regenerate),
                    )
                    .route(
                        "/subscriptions/{id}/{action}",
                        web::post().to(subscriptions::act),
                    )
                    .route("/email/templates", web::get().to(email::templates))
                    .route("/email/templates/{name}", web::get().to(email::edit_form))
                    .route("/email/templates/{name}", web::post().to(email::edit))
                    .route(
                        "/email/templates/{name}/restore",
                        web::get().to(email::restore_confirm),
                    )
                    .route(
                        "/email/templates/{name}/restore",
                        web::post().to(email::restore),
                    )
                    .route("/email/settings", web::get().to(email::settings_form))
                    .route("/email/settings", web::post().to(email::save_settings))
                    .route("/email/log", web::get().to(email::log))
                    .route("/email/log/{id}/retry", web::post().to(email::retry))
                    .default_service(web::to(super::not_found)),
            ),
    );
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
