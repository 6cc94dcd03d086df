//! The authorization endpoint's decisions (OpenID Connect Core §3.1.2,
//! RFC 7636, S-21): is the request well-formed and for a registered
//! redirect URI, must the person sign in (again), may they sign in to this
//! application, have they allowed it what it asks; then a code.

use crate::domain::application::may_sign_in;
use crate::domain::ids;
use crate::domain::oidc::{self, CODE_SECS, ErrorCode, OidcError, Prompt, Scope};
use crate::services::{Ctx, ServiceError};
use crate::store::{
    self, applications::Application, oidc_grants::CodeRow, sessions::SessionAccount,
};

/// The request's parameters as sent.
#[derive(Debug, Default, Clone, serde::Deserialize, serde::Serialize)]
pub struct Params {
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub response_type: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub prompt: Option<String>,
    pub max_age: Option<String>,
    /// The consent form's answer: `allow` or `deny`.
    pub decision: Option<String>,
}

/// A request found good.
#[derive(Debug, Clone)]
pub struct Request {
    pub app: Application,
    pub redirect_uri: String,
    pub scope: Scope,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub prompt: Prompt,
    pub max_age: Option<i64>,
}

/// Why a request is refused, and how the refusal reaches the person.
#[derive(Debug)]
pub enum Refusal {
    /// The client or redirect URI is not known: never redirect (S-21), say so on a page.
    Page(String),
    /// Everything else goes back to the application's redirect URI.
    Redirect {
        redirect_uri: String,
        state: Option<String>,
        error: OidcError,
    },
    Service(ServiceError),
}

impl<E: Into<ServiceError>> From<E> for Refusal {
    fn from(e: E) -> Self {
        Self::Service(e.into())
    }
}

const PARAM_MAX: usize = 512;

pub async fn validate(ctx: &Ctx, p: &Params) -> Result<Request, Refusal> {
    let client_id = p.client_id.as_deref().unwrap_or_default();
    let app = store::applications::get(&ctx.db, client_id).await?;
    let Some(app) = app else {
        return Err(Refusal::Page(
            "The application that sent you here is not registered with this portal.".into(),
        ));
    };
    let redirect_uri = p.redirect_uri.clone().unwrap_or_default();
    if !app.accepts_redirect_uri(&redirect_uri) {
        return Err(Refusal::Page(format!(
            "The application {} asked to send you back to an address it has not registered.",
            app.row.name
        )));
    }
    let back = |code: ErrorCode, description: &str| Refusal::Redirect {
        redirect_uri: redirect_uri.clone(),
        state: p.state.clone(),
        error: OidcError::new(code, description),
    };
    if p.response_type.as_deref() != Some("code") {
        return Err(back(
            ErrorCode::UnsupportedResponseType,
            "only response_type=code is supported",
        ));
    }
    let Some(scope) = Scope::parse(p.scope.as_deref().unwrap_or_default()) else {
        return Err(back(
            ErrorCode::InvalidScope,
            "the scope must include openid",
        ));
    };
    let too_long = [&p.state, &p.nonce]
        .iter()
        .any(|v| v.as_ref().is_some_and(|v| v.len() > PARAM_MAX));
    if too_long {
        return Err(back(
            ErrorCode::InvalidRequest,
            "state and nonce have at most 512 characters",
        ));
    }
    let prompt = Prompt::parse(p.prompt.as_deref().unwrap_or_default())
        .map_err(|e| back(ErrorCode::InvalidRequest, e))?;
    let max_age = match p.max_age.as_deref() {
        None | Some("") => None,
        Some(s) => Some(s.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            back(
                ErrorCode::InvalidRequest,
                "max_age must be a whole number of seconds",
            )
        })?),
    };
    let code_challenge = match p.code_challenge.as_deref() {
        None | Some("") => None,
        Some(c) => Some(
            oidc::parse_challenge(c, p.code_challenge_method.as_deref().unwrap_or("plain"))
                .map_err(|e| back(ErrorCode::InvalidRequest, e))?,
        ),
    };
    if code_challenge.is_none() && app.row.kind == crate::domain::application::ClientKind::Public {
        return Err(back(
            ErrorCode::InvalidRequest,
            "a public client must send a PKCE code_challenge (S256)",
        ));
    }
    Ok(Request {
        app,
        redirect_uri,
        scope,
        state: p.state.clone(),
        nonce: p.nonce.clone().filter(|n| !n.is_empty()),
        code_challenge,
        prompt,
        max_age,
    })
}

/// What happens next for a good request.
#[derive(Debug)]
pub enum Next {
    /// Sign in, and come back with the request `after_sign_in` makes of
    /// it; sign out of the portal first when `again` (prompt=login,
    /// max_age).
    SignIn {
        again: bool,
    },
    /// Ask the person to allow what the application asks.
    Consent,
    /// Send the person back with a code.
    Issue,
    Refuse(OidcError),
}

/// The request to come back with after signing in: the sign-in that is
/// about to happen satisfies `prompt=login` and `max_age`, so they go (and
/// the ID token's `auth_time` says when it happened). Nothing in the URL
/// can waive a sign-in: a request that asks for one always signs out first.
pub fn after_sign_in(p: &Params) -> Params {
    let mut back = p.clone();
    back.decision = None;
    back.max_age = None;
    back.prompt = p.prompt.as_deref().map(|s| {
        s.split(' ')
            .filter(|w| !w.is_empty() && *w != "login")
            .collect::<Vec<_>>()
            .join(" ")
    });
    back.prompt = back.prompt.filter(|s| !s.is_empty());
    back
}

/// The origin of the application a request sends the browser back to, if
/// the request names a registered redirect URI (for the pages whose forms
/// end there: see `web::headers::allow_form_target`).
pub async fn return_origin(ctx: &Ctx, p: &Params) -> Option<String> {
    let r = validate(ctx, p).await.ok()?;
    let url = url::Url::parse(&r.redirect_uri).ok()?;
    Some(url.origin().ascii_serialization())
}

/// The signed-in person (if any) and when they signed in.
pub struct Visitor<'a> {
    pub account: &'a SessionAccount,
    pub signed_in_at: i64,
}

pub async fn decide(
    ctx: &Ctx,
    r: &Request,
    who: Option<Visitor<'_>>,
) -> Result<Next, ServiceError> {
    let now = ctx.now();
    let Some(who) = who else {
        return Ok(match r.prompt {
            Prompt::None => Next::Refuse(OidcError::new(
                ErrorCode::LoginRequired,
                "no one is signed in",
            )),
            _ => Next::SignIn { again: false },
        });
    };
    let too_old = r.max_age.is_some_and(|m| now - who.signed_in_at > m);
    if r.prompt == Prompt::Login || too_old {
        return Ok(match r.prompt {
            Prompt::None => Next::Refuse(OidcError::new(
                ErrorCode::LoginRequired,
                "the sign-in is older than max_age",
            )),
            _ => Next::SignIn { again: true },
        });
    }
    if !may_sign_in(&r.app.sign_in_groups, &who.account.groups()) {
        return Ok(Next::Refuse(OidcError::new(
            ErrorCode::AccessDenied,
            "this account may not sign in to this application",
        )));
    }
    if !r.app.row.trusted {
        let granted = store::oidc_grants::consent(&ctx.db, &who.account.id, &r.app.row.id)
            .await?
            .and_then(|s| Scope::parse(&s));
        if !granted.is_some_and(|g| r.scope.within(&g)) {
            return Ok(match r.prompt {
                Prompt::None => Next::Refuse(OidcError::new(
                    ErrorCode::ConsentRequired,
                    "the person has not allowed this application yet",
                )),
                _ => Next::Consent,
            });
        }
    }
    Ok(Next::Issue)
}

/// A code for `who`, remembering their consent when they just gave it;
/// returns the URL that takes the person back to the application.
#[tracing::instrument(skip_all)]
pub async fn issue_code(
    ctx: &Ctx,
    r: &Request,
    who: Visitor<'_>,
    consented: bool,
) -> Result<String, ServiceError> {
    let code = ids::new_secret();
    let mut tx = ctx.db.begin_write().await?;
    let now = tx.now();
    if consented {
        store::oidc_grants::put_consent(
            &mut tx,
            &who.account.id,
            &r.app.row.id,
            &r.scope.as_string(),
        )
        .await?;
    }
    store::oidc_grants::insert_code(
        &mut tx,
        &oidc::hash_of(&code),
        &CodeRow {
            application_id: r.app.row.id.clone(),
            account_id: who.account.id.to_string(),
            redirect_uri: r.redirect_uri.clone(),
            code_challenge: r.code_challenge.clone(),
            nonce: r.nonce.clone(),
            scope: r.scope.as_string(),
            auth_time: who.signed_in_at,
            session_epoch: who.account.session_epoch,
            family: ids::new_secret(),
            expires_at: now + CODE_SECS,
            used_at: None,
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(application = %r.app.row.id, account = %who.account.id, "authorization code issued");
    Ok(back_to(
        &r.redirect_uri,
        &[
            ("code", Some(code.as_str())),
            ("state", r.state.as_deref()),
            ("iss", Some(super::issuer(ctx))),
        ],
    ))
}

/// `redirect_uri` with these parameters added to its query (RFC 6749 §4.1.2).
pub fn back_to(redirect_uri: &str, params: &[(&str, Option<&str>)]) -> String {
    let Ok(mut url) = url::Url::parse(redirect_uri) else {
        return redirect_uri.to_owned();
    };
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in params {
            if let Some(v) = v {
                q.append_pair(k, v);
            }
        }
    }
    url.into()
}

/// The URL that tells the application why it got no code.
pub fn error_url(ctx: &Ctx, redirect_uri: &str, state: Option<&str>, e: &OidcError) -> String {
    back_to(
        redirect_uri,
        &[
            ("error", Some(e.code.as_str())),
            ("error_description", Some(e.description.as_str())),
            ("state", state),
            ("iss", Some(super::issuer(ctx))),
        ],
    )
}
