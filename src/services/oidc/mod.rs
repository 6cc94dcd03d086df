//! Portal as an OpenID Connect provider (SPEC O1–O5, S-21): the use cases
//! behind the authorization, token, userinfo and end-session endpoints.
//! The endpoints in `web::oidc` only parse and answer.

pub mod authorize;
pub mod claims;
pub mod tokens;

use crate::domain::oidc::{ErrorCode, OidcError};
use crate::services::{Ctx, ServiceError};

/// The issuer: `BASE_URL`, as the discovery document names it.
pub fn issuer(ctx: &Ctx) -> &str {
    ctx.settings.base_url.trim_end_matches('/')
}

/// Why a protocol request failed: a protocol error for the client, or
/// the service's own trouble (busy database, …).
#[derive(Debug)]
pub enum Failure {
    Protocol(OidcError),
    Service(ServiceError),
}

impl<E: Into<ServiceError>> From<E> for Failure {
    fn from(e: E) -> Self {
        Self::Service(e.into())
    }
}

pub(crate) fn refuse<T>(code: ErrorCode, description: impl Into<String>) -> Result<T, Failure> {
    Err(Failure::Protocol(OidcError::new(code, description)))
}

/// RP-Initiated Logout §2: whether `uri` may receive the browser after
/// signing out for application `client_id`: one of its registered
/// redirect URIs, exactly (Portal keeps one list for both).
pub async fn may_return_to(ctx: &Ctx, client_id: &str, uri: &str) -> Result<bool, ServiceError> {
    let app = crate::store::applications::get(&ctx.db, client_id).await?;
    Ok(app.is_some_and(|a| a.accepts_redirect_uri(uri)))
}
