//! **Sign in with {provider}** (SPEC X1–X3, S-22): the start sends the
//! person to the provider, keeping `state`, `nonce` and the PKCE verifier
//! in the (encrypted) session cookie; the callback takes them back out
//! (one use) and hands the provider's answer to the service.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::{Deserialize, Serialize};

use super::Chrome;
use super::account::NextQuery;
use crate::services::Ctx;
use crate::services::auth::Realm;
use crate::services::external::provider_client::Pending;
use crate::services::external::{self, Callback, ExternalError};
use crate::web::errors::{WebError, page, see_other};
use crate::web::paths::{local_path, portal};
use crate::web::session;

/// The session's entry while the person is at the provider.
const KEY: &str = "external_sign_in";

#[derive(Serialize, Deserialize)]
struct Started {
    pending: Pending,
    next: String,
}

#[derive(Template)]
#[template(path = "portal/external_problem.html")]
struct Problem {
    chrome: Chrome,
    message: &'static str,
}

fn problem(session: &Session, e: ExternalError) -> Result<HttpResponse, WebError> {
    let (status, message) = match e {
        ExternalError::Service(e) => return Err(e.into()),
        ExternalError::Unavailable => (
            StatusCode::NOT_FOUND,
            "This sign-in option is not available. Sign in with your email address and password instead.",
        ),
        ExternalError::Failed => (
            StatusCode::BAD_REQUEST,
            "The sign-in with your identity provider did not complete. Start again from the sign-in page.",
        ),
        ExternalError::Denied => (
            StatusCode::FORBIDDEN,
            "Your identity provider did not sign you in.",
        ),
        ExternalError::NoAccount => (
            StatusCode::FORBIDDEN,
            "No portal account could be linked to this identity. Sign in with your email address and password, or ask the portal's administrators.",
        ),
        ExternalError::Blocked => (
            StatusCode::FORBIDDEN,
            "This account is blocked. Ask the portal's administrators to activate it.",
        ),
        ExternalError::Pending => (
            StatusCode::FORBIDDEN,
            "This account is not active yet: open the link in the confirmation email we sent you.",
        ),
    };
    page(
        status,
        &Problem {
            chrome: Chrome::new(session, None, "sign-in"),
            message,
        },
    )
}

pub async fn start(
    ctx: web::Data<Ctx>,
    session: Session,
    id: web::Path<String>,
    q: web::Query<NextQuery>,
) -> Result<HttpResponse, WebError> {
    let next = local_path(q.next.as_deref())
        .unwrap_or(portal::HOME)
        .to_owned();
    match external::start(&ctx, &id).await {
        Ok((url, pending)) => {
            let _ = session.insert(KEY, Started { pending, next });
            Ok(see_other(&url))
        }
        Err(e) => problem(&session, e),
    }
}

#[derive(Deserialize)]
pub struct Answer {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

pub async fn callback(
    ctx: web::Data<Ctx>,
    session: Session,
    id: web::Path<String>,
    q: web::Query<Answer>,
) -> Result<HttpResponse, WebError> {
    // Taken out whatever happens next: a state serves once.
    let started = session.remove_as::<Started>(KEY).and_then(Result::ok);
    let next = started.as_ref().map(|s| s.next.clone());
    let answer = Callback {
        code: q.code.as_deref(),
        state: q.state.as_deref(),
        error: q.error.as_deref(),
    };
    let client = crate::web::request::current_client();
    match external::finish(&ctx, &id, started.map(|s| s.pending), &answer, client).await {
        Ok(signed_in) => {
            session::begin(&session, Realm::Portal, &signed_in, ctx.now());
            Ok(see_other(next.as_deref().unwrap_or(portal::HOME)))
        }
        Err(e) => problem(&session, e),
    }
}
