//! The developer portal at `/`: products as P3 lets each visitor see them,
//! sign-in, sign-up, forgotten passwords, the profile, subscriptions and
//! their keys, and the pages that emailed links lead to.

mod account;
mod close_account;
mod external;
mod links;
mod products;
mod subscriptions;

use actix_session::Session;
use actix_web::web;

use crate::domain::visibility::Viewer;
use crate::services::auth::{self, Realm, SessionCheck};
use crate::services::{Actor, Ctx, Origin, visibility};
use crate::store::sessions::SessionAccount;
use crate::web::errors::WebError;
use crate::web::session::{self, Flash};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(products::list))
        .route("/products", web::get().to(products::list))
        .route("/products/{id}", web::get().to(products::show))
        .route(
            "/products/{id}/subscribe",
            web::post().to(products::subscribe),
        )
        .route("/subscriptions", web::get().to(subscriptions::list))
        .route(
            "/subscriptions/{id}/regenerate",
            web::post().to(subscriptions::regenerate),
        )
        .route(
            "/subscriptions/{id}/cancel",
            web::post().to(subscriptions::cancel),
        )
        .route("/sign-in", web::get().to(account::sign_in_form))
        .route("/sign-in", web::post().to(account::sign_in))
        .route("/sign-in/external/{id}", web::get().to(external::start))
        .route(
            "/sign-in/external/{id}/callback",
            web::get().to(external::callback),
        )
        .route("/sign-out", web::post().to(account::sign_out))
        .route("/sign-up", web::get().to(account::sign_up_form))
        .route("/sign-up", web::post().to(account::sign_up))
        .route("/sign-up/resend", web::get().to(account::resend_form))
        .route("/sign-up/resend", web::post().to(account::resend))
        .route("/forgot-password", web::get().to(account::forgot_form))
        .route("/forgot-password", web::post().to(account::forgot))
        .route("/profile", web::get().to(account::profile))
        .route("/profile", web::post().to(account::update_profile))
        .route(
            "/profile/password",
            web::post().to(account::change_password),
        )
        .route("/profile/close", web::get().to(close_account::form))
        .route("/profile/close", web::post().to(close_account::close))
        .route("/confirm/{token}", web::get().to(links::confirm_form))
        .route("/confirm/{token}", web::post().to(links::confirm))
        .route("/invitations/{token}", web::get().to(links::accept_form))
        .route("/invitations/{token}", web::post().to(links::accept))
        .route("/reset-password/{token}", web::get().to(links::reset_form))
        .route("/reset-password/{token}", web::post().to(links::reset));
}

/// Who is looking at a portal page: a signed-in account whose session is
/// still good, or nobody. A session that stopped being good (blocked,
/// signed out elsewhere, password changed, 12 hours old) ends here, at the
/// next request, with a message saying why (U5, S-10, S-11).
pub async fn visitor(ctx: &Ctx, session: &Session) -> Result<Option<SessionAccount>, WebError> {
    let Some(user) = session::user(session, Realm::Portal) else {
        return Ok(None);
    };
    if auth::timed_out(ctx, Realm::Portal, user.since, user.seen, ctx.now()) {
        session::end_with_flash(
            session,
            Realm::Portal,
            "info",
            "Your session has ended. Sign in again.",
        );
        return Ok(None);
    }
    match auth::check_session(ctx, &user.id, &user.sid, user.epoch).await? {
        SessionCheck::Good(a) => {
            crate::web::request::record_account(&a.id);
            Ok(Some(a))
        }
        SessionCheck::Blocked => {
            session::end_with_flash(
                session,
                Realm::Portal,
                "error",
                "You have been signed out: this account is blocked. Ask the portal's administrators to activate it.",
            );
            Ok(None)
        }
        SessionCheck::Ended => {
            session::end_with_flash(
                session,
                Realm::Portal,
                "info",
                "Your session has ended. Sign in again.",
            );
            Ok(None)
        }
    }
}

/// A signed-in account (or nobody) as the visibility rule sees it.
pub fn viewer_of(who: Option<&SessionAccount>) -> Viewer {
    who.map_or(Viewer::Anonymous, visibility::viewer_of_session)
}

pub fn actor(a: &SessionAccount) -> Actor {
    origin().actor(&a.id, &a.email)
}

/// This request, as the portal's self-service use cases record it.
pub fn origin() -> Origin {
    Origin::portal(crate::web::request::current_client())
}

/// What every portal page's frame shows: the navigation for who is looking,
/// the sign-out form's token, and the message of the previous action.
pub struct Chrome {
    pub tab: &'static str,
    pub name: Option<String>,
    pub is_admin: bool,
    pub csrf: String,
    pub flash: Option<Flash>,
}

impl Chrome {
    pub fn new(session: &Session, who: Option<&SessionAccount>, tab: &'static str) -> Self {
        Self {
            tab,
            name: who.map(|a| format!("{} {}", a.first_name, a.last_name)),
            is_admin: who.is_some_and(|a| a.is_admin),
            csrf: session::csrf_token(session),
            flash: session::take_flash(session),
        }
    }
}

/// Pages that need someone signed in send everyone else to sign in, and
/// back here afterwards.
pub fn require(who: Option<SessionAccount>, back: &str) -> Result<SessionAccount, WebError> {
    who.ok_or_else(|| WebError::SignIn(back.to_owned()))
}
