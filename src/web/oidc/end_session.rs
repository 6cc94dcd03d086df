//! RP-Initiated Logout 1.0: an application signs the person out of the
//! portal. With an ID token Portal issued as the hint it happens at once;
//! without one the person confirms (so no other site can sign them out).

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::services::Ctx;
use crate::services::auth::{self, Realm};
use crate::services::oidc::{self, authorize::back_to, claims};
use crate::web::csrf::Form;
use crate::web::errors::{WebError, page, see_other};
use crate::web::paths::portal;
use crate::web::portal::Chrome;
use crate::web::session;

#[derive(Deserialize, Default)]
pub struct Params {
    id_token_hint: Option<String>,
    post_logout_redirect_uri: Option<String>,
    state: Option<String>,
    client_id: Option<String>,
}

#[derive(Template)]
#[template(path = "portal/end_session.html")]
struct ConfirmPage {
    chrome: Chrome,
    fields: Vec<(&'static str, String)>,
}

pub async fn start(
    ctx: web::Data<Ctx>,
    session: Session,
    q: web::Query<Params>,
) -> Result<HttpResponse, WebError> {
    let hint = match q.id_token_hint.as_deref().filter(|h| !h.is_empty()) {
        Some(h) => claims::id_token_hint(&ctx, h).await?,
        None => None,
    };
    let client = hint
        .as_ref()
        .map(|h| h.aud.clone())
        .or_else(|| q.client_id.clone())
        .unwrap_or_default();
    let target = match target(&ctx, &client, &q).await? {
        Ok(t) => t,
        Err(message) => return super::problem(&session, message),
    };
    let signed_in = session::user(&session, Realm::Portal);
    let same_person = match (&hint, &signed_in) {
        (Some(h), Some(u)) => h.sub == u.id,
        (Some(_), None) => true,
        (None, _) => false,
    };
    if same_person {
        return sign_out_to(&ctx, &session, target).await;
    }
    let fields = [
        (
            "post_logout_redirect_uri",
            q.post_logout_redirect_uri.clone(),
        ),
        ("state", q.state.clone()),
        ("client_id", Some(client).filter(|c| !c.is_empty())),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)))
    .collect();
    let who = crate::web::portal::visitor(&ctx, &session).await?;
    let mut resp = page(
        StatusCode::OK,
        &ConfirmPage {
            chrome: Chrome::new(&session, who.as_ref(), "sign-out"),
            fields,
        },
    )?;
    // Its form ends at the application's registered address.
    if let Some(url) = target.as_deref().and_then(|t| url::Url::parse(t).ok()) {
        crate::web::headers::allow_form_target(
            resp.headers_mut(),
            &url.origin().ascii_serialization(),
        );
    }
    Ok(resp)
}

pub async fn confirm(
    ctx: web::Data<Ctx>,
    session: Session,
    Form(f): Form<Params>,
) -> Result<HttpResponse, WebError> {
    let client = f.client_id.clone().unwrap_or_default();
    let target = match target(&ctx, &client, &f).await? {
        Ok(t) => t,
        Err(message) => return super::problem(&session, message),
    };
    sign_out_to(&ctx, &session, target).await
}

/// Where to go afterwards: the registered URI with `state`, or the portal.
async fn target(
    ctx: &Ctx,
    client: &str,
    p: &Params,
) -> Result<Result<Option<String>, String>, WebError> {
    let Some(uri) = p
        .post_logout_redirect_uri
        .as_deref()
        .filter(|u| !u.is_empty())
    else {
        return Ok(Ok(None));
    };
    if !oidc::may_return_to(ctx, client, uri).await? {
        return Ok(Err(
            "The application asked to send you to an address it has not registered.".into(),
        ));
    }
    Ok(Ok(Some(back_to(uri, &[("state", p.state.as_deref())]))))
}

async fn sign_out_to(
    ctx: &Ctx,
    session: &Session,
    target: Option<String>,
) -> Result<HttpResponse, WebError> {
    if let Some(user) = session::user(session, Realm::Portal) {
        auth::sign_out(ctx, &user.sid, user.since).await?;
    }
    session::end(session, Realm::Portal);
    Ok(match target {
        Some(t) => see_other(&t),
        None => {
            session::flash(session, "success", "You have signed out.");
            see_other(portal::HOME)
        }
    })
}
