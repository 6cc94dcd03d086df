use std::future::{Ready, ready};

use actix_session::SessionExt;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError, web};

use crate::services::auth::{self, Realm, SessionCheck};
use crate::services::{Actor, Ctx};
use crate::web::errors::{WebError, see_other};
use crate::web::paths::console;
use crate::web::session;

/// The administrator behind this request, put there by `require_admin`.
#[derive(Debug, Clone)]
pub struct CurrentAdmin {
    pub id: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
}

impl CurrentAdmin {
    pub fn actor(&self) -> Actor {
        Actor::console(&self.id, &self.email, crate::web::request::current_client())
    }

    pub fn display_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }
}

impl FromRequest for CurrentAdmin {
    type Error = WebError;
    type Future = Ready<Result<Self, WebError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // Missing only if a route escaped the guard: fail closed.
        ready(
            req.extensions()
                .get::<CurrentAdmin>()
                .cloned()
                .ok_or_else(|| WebError::Forbidden("Administrators only.".into())),
        )
    }
}

/// Admits a request only from a signed-in, active administrator whose
/// session is within its timeouts (S-11) and at the account's current epoch
/// (S-10). Anyone else is sent to sign in, or refused if signed in but not
/// an administrator.
pub async fn require_admin(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let refuse =
        |req: ServiceRequest, resp: HttpResponse| Ok(req.into_response(resp).map_into_right_body());
    let ctx = req
        .app_data::<web::Data<Ctx>>()
        .cloned()
        .expect("Ctx is registered");
    let session = req.get_session();
    let Some(user) = session::user(&session, Realm::Console) else {
        return refuse(req, to_sign_in(false));
    };
    let now = ctx.now();
    if auth::timed_out(&ctx, Realm::Console, user.since, user.seen, now) {
        session::end(&session, Realm::Console);
        return refuse(req, to_sign_in(true));
    }
    let account = match auth::check_session(&ctx, &user.id, &user.sid, user.epoch).await {
        Ok(SessionCheck::Good(a)) => a,
        Ok(SessionCheck::Blocked | SessionCheck::Ended) => {
            session::end(&session, Realm::Console);
            return refuse(req, to_sign_in(true));
        }
        Err(e) => return refuse(req, WebError::from(e).error_response()),
    };
    if !account.is_admin {
        tracing::warn!(account = %account.id, path = %req.path(), "console refused: not an administrator");
        return refuse(
            req,
            WebError::Forbidden(format!(
                "You are signed in as {}, which is not an administrator. The console is for administrators only.",
                account.email
            ))
            .error_response(),
        );
    }
    crate::web::request::record_account(&account.id);
    session::touch(&session, Realm::Console, &user, now);
    req.extensions_mut().insert(CurrentAdmin {
        id: account.id.into(),
        email: account.email,
        first_name: account.first_name,
        last_name: account.last_name,
    });
    Ok(next.call(req).await?.map_into_left_body())
}

fn to_sign_in(ended: bool) -> HttpResponse {
    see_other(&console::sign_in(ended))
}
