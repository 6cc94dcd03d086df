//! The authorization endpoint (OpenID Connect Core §3.1.2): the portal's
//! own sign-in page when nobody (or nobody recent enough) is signed in, the
//! consent page the first time, then back to the application with a code.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use crate::domain::oidc::{ErrorCode, OidcError};
use crate::services::Ctx;
use crate::services::auth::{self, Realm};
use crate::services::oidc::authorize::{self, Next, Params, Refusal, Request, Visitor};
use crate::store::sessions::SessionAccount;
use crate::web::csrf::Form;
use crate::web::errors::{WebError, page, see_other};
use crate::web::paths::{oidc as paths, portal};
use crate::web::portal::{Chrome, visitor};
use crate::web::session;

#[derive(Template)]
#[template(path = "portal/consent.html")]
struct ConsentPage {
    chrome: Chrome,
    app: String,
    account: String,
    receives: Vec<&'static str>,
    /// The request's parameters, carried through the form.
    fields: Vec<(String, String)>,
}

pub async fn start(
    ctx: web::Data<Ctx>,
    session: Session,
    q: web::Query<Params>,
) -> Result<HttpResponse, WebError> {
    let r = match authorize::validate(&ctx, &q).await {
        Ok(r) => r,
        Err(refusal) => return refused(&ctx, &session, refusal),
    };
    let who = visitor(&ctx, &session).await?;
    let next = authorize::decide(&ctx, &r, visit(&session, who.as_ref())).await?;
    proceed(&ctx, &session, &q, &r, who.as_ref(), next, false).await
}

/// The consent form's answer.
pub async fn consent(
    ctx: web::Data<Ctx>,
    session: Session,
    Form(p): Form<Params>,
) -> Result<HttpResponse, WebError> {
    let r = match authorize::validate(&ctx, &p).await {
        Ok(r) => r,
        Err(refusal) => return refused(&ctx, &session, refusal),
    };
    let who = visitor(&ctx, &session).await?;
    let next = authorize::decide(&ctx, &r, visit(&session, who.as_ref())).await?;
    if matches!(next, Next::Consent | Next::Issue) && p.decision.as_deref() != Some("allow") {
        let e = OidcError::new(ErrorCode::AccessDenied, "the person did not allow it");
        return Ok(see_other(&authorize::error_url(
            &ctx,
            &r.redirect_uri,
            r.state.as_deref(),
            &e,
        )));
    }
    proceed(&ctx, &session, &p, &r, who.as_ref(), next, true).await
}

fn visit<'a>(session: &Session, who: Option<&'a SessionAccount>) -> Option<Visitor<'a>> {
    let since = session::user(session, Realm::Portal)?.since;
    who.map(|account| Visitor {
        account,
        signed_in_at: since,
    })
}

async fn proceed(
    ctx: &Ctx,
    session: &Session,
    p: &Params,
    r: &Request,
    who: Option<&SessionAccount>,
    next: Next,
    allowed: bool,
) -> Result<HttpResponse, WebError> {
    match next {
        Next::SignIn { again } => {
            if again {
                // prompt=login or max_age: this person signs in anew.
                if let Some(user) = session::user(session, Realm::Portal) {
                    auth::sign_out(ctx, &user.sid, user.since).await?;
                }
                session::end(session, Realm::Portal);
            }
            let back = authorize::after_sign_in(p);
            let query = serde_urlencoded::to_string(&back).map_err(|_| WebError::BadRequest)?;
            Ok(see_other(&portal::sign_in_then(&format!(
                "{}?{query}",
                paths::AUTHORIZE
            ))))
        }
        Next::Consent if !allowed => {
            let account = who.ok_or(WebError::BadRequest)?;
            consent_page(session, account, r, hidden_fields(p))
        }
        Next::Consent | Next::Issue => {
            let account = who.ok_or(WebError::BadRequest)?;
            let v = visit(session, Some(account)).ok_or(WebError::BadRequest)?;
            let url = authorize::issue_code(ctx, r, v, allowed).await?;
            Ok(see_other(&url))
        }
        Next::Refuse(e) => Ok(see_other(&authorize::error_url(
            ctx,
            &r.redirect_uri,
            r.state.as_deref(),
            &e,
        ))),
    }
}

/// The request's parameters as the consent form carries them: every one
/// that was sent (the answer, `decision`, is the form's own).
fn hidden_fields(p: &Params) -> Vec<(String, String)> {
    let sent = Params {
        decision: None,
        ..p.clone()
    };
    serde_urlencoded::to_string(&sent)
        .ok()
        .and_then(|q| serde_urlencoded::from_str(&q).ok())
        .unwrap_or_default()
}

fn consent_page(
    session: &Session,
    account: &SessionAccount,
    r: &Request,
    fields: Vec<(String, String)>,
) -> Result<HttpResponse, WebError> {
    let mut resp = page(
        StatusCode::OK,
        &ConsentPage {
            chrome: Chrome::new(session, Some(account), "consent"),
            app: r.app.row.name.clone(),
            account: account.email.clone(),
            receives: r.scope.described(),
            fields,
        },
    )?;
    // Allow and Deny end at the application (the page is never framed:
    // S-16's frame-ancestors 'none' and X-Frame-Options hold here too).
    if let Ok(url) = url::Url::parse(&r.redirect_uri) {
        crate::web::headers::allow_form_target(
            resp.headers_mut(),
            &url.origin().ascii_serialization(),
        );
    }
    Ok(resp)
}

fn refused(ctx: &Ctx, session: &Session, refusal: Refusal) -> Result<HttpResponse, WebError> {
    match refusal {
        Refusal::Page(message) => super::problem(session, message),
        Refusal::Redirect {
            redirect_uri,
            state,
            error,
        } => Ok(see_other(&authorize::error_url(
            ctx,
            &redirect_uri,
            state.as_deref(),
            &error,
        ))),
        Refusal::Service(e) => Err(e.into()),
    }
}

/// When a sign-in page goes on (`next`) to the authorization endpoint, the
/// origin of the application it ends at: that page's form may lead there.
pub async fn sign_in_form_target(ctx: &Ctx, next: &str) -> Option<String> {
    let query = next.strip_prefix(paths::AUTHORIZE)?.strip_prefix('?')?;
    let p: Params = serde_urlencoded::from_str(query).ok()?;
    authorize::return_origin(ctx, &p).await
}
