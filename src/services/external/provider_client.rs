//! Talking to an outside OpenID provider as its relying party (S-22),
//! through the `openidconnect` crate: discovery and JWKS, the authorization
//! URL with PKCE, `state` and `nonce`, the code exchange, the ID token's
//! checks, and userinfo. Nothing here touches the database.

use std::sync::OnceLock;
use std::time::Duration;

use openidconnect::core::{
    CoreClient, CoreGenderClaim, CoreIdTokenVerifier, CoreProviderMetadata, CoreResponseType,
};
use openidconnect::{
    AdditionalClaims, AuthenticationFlow, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    SubjectIdentifier, TokenResponse, UserInfoClaims, reqwest,
};
use serde::{Deserialize, Serialize};

/// Why a provider could not be used or its answer was refused; the text
/// goes to the log (and to the administrator's **Test connection**), never
/// to the person signing in, who sees a plain refusal.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("cannot read the provider's discovery document or keys: {0}")]
    Discovery(String),
    #[error("the provider's settings are not usable: {0}")]
    Configuration(String),
    #[error("the code exchange failed: {0}")]
    Exchange(String),
    #[error("the provider sent no ID token")]
    NoIdToken,
    #[error("the ID token was refused: {0}")]
    IdToken(String),
    #[error("userinfo failed: {0}")]
    UserInfo(String),
}

/// Each request's limit: a provider that hangs must not hold a sign-in.
const TIMEOUT: Duration = Duration::from_secs(10);

/// One HTTP client for every provider (connections kept), redirects off:
/// following them would let a provider's answer send Portal elsewhere
/// (SSRF; the `openidconnect` crate's advice).
fn http() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(TIMEOUT)
            .connect_timeout(TIMEOUT)
            .build()
            .unwrap_or_default()
    })
}

/// What Portal knows of a provider to talk to it.
pub struct Relying<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub client_secret: &'a str,
    pub scopes: &'a str,
    pub redirect_uri: &'a str,
}

/// What a sign-in keeps between its start and the provider's answer (in
/// the person's session cookie, which is encrypted).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pending {
    pub provider_id: String,
    pub state: String,
    pub nonce: String,
    pub verifier: String,
    pub started_at: i64,
}

/// What a provider's discovery document says, for **Test connection**.
pub struct Discovered {
    pub authorization_endpoint: String,
    pub token_endpoint: Option<String>,
    pub userinfo_endpoint: Option<String>,
    pub keys: usize,
    pub algorithms: Vec<String>,
}

async fn discover(issuer: &str) -> Result<CoreProviderMetadata, ProviderError> {
    let issuer = IssuerUrl::new(issuer.to_owned())
        .map_err(|e| ProviderError::Configuration(format!("issuer URL: {e}")))?;
    // The crate checks that the document names this very issuer, and
    // fetches the JWKS it points to.
    CoreProviderMetadata::discover_async(issuer, http())
        .await
        .map_err(|e| ProviderError::Discovery(chain(&e)))
}

/// Fetches discovery and the JWKS, and says what they hold.
pub async fn test_connection(issuer: &str) -> Result<Discovered, ProviderError> {
    let m = discover(issuer).await?;
    let keys = m.jwks().keys().len();
    if keys == 0 {
        return Err(ProviderError::Discovery(
            "the provider's JWKS holds no keys".into(),
        ));
    }
    Ok(Discovered {
        authorization_endpoint: m.authorization_endpoint().to_string(),
        token_endpoint: m.token_endpoint().map(|u| u.to_string()),
        userinfo_endpoint: m.userinfo_endpoint().map(|u| u.to_string()),
        keys,
        algorithms: m
            .id_token_signing_alg_values_supported()
            .iter()
            .map(|a| {
                serde_json::to_value(a)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
            })
            .map(Option::unwrap_or_default)
            .collect(),
    })
}

macro_rules! client {
    ($meta:expr, $r:expr) => {
        CoreClient::from_provider_metadata(
            $meta,
            ClientId::new($r.client_id.to_owned()),
            Some(ClientSecret::new($r.client_secret.to_owned())),
        )
        .set_redirect_uri(
            RedirectUrl::new($r.redirect_uri.to_owned())
                .map_err(|e| ProviderError::Configuration(format!("callback URL: {e}")))?,
        )
    };
}

/// Where to send the person: the provider's authorization URL for a code
/// flow with PKCE (S256), a fresh `state` and `nonce`, kept in `Pending`.
pub async fn authorization_url(
    r: &Relying<'_>,
    provider_id: &str,
    now: i64,
) -> Result<(String, Pending), ProviderError> {
    let client = client!(discover(r.issuer).await?, r);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client
        .authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge);
    for scope in r.scopes.split_whitespace().filter(|s| *s != "openid") {
        request = request.add_scope(Scope::new(scope.to_owned()));
    }
    let (url, state, nonce) = request.url();
    Ok((
        url.to_string(),
        Pending {
            provider_id: provider_id.to_owned(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            verifier: verifier.secret().clone(),
            started_at: now,
        },
    ))
}

/// Every claim a provider sends beyond the standard ones (the groups
/// claim's name is the administrator's choice).
#[derive(Debug, Deserialize, Serialize)]
struct OtherClaims(std::collections::HashMap<String, serde_json::Value>);
impl AdditionalClaims for OtherClaims {}

/// Who the provider says signed in.
#[derive(Debug)]
pub struct Identity {
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub name: Option<String>,
    /// The groups claim as sent (ID token, else userinfo); `None` when
    /// neither carried it.
    pub groups: Option<serde_json::Value>,
}

/// Exchanges the code (with the PKCE verifier) and checks the ID token:
/// signature against the provider's JWKS, issuer, audience, expiry by
/// Portal's clock (`now`), and the nonce kept at the start.
pub async fn exchange(
    r: &Relying<'_>,
    code: &str,
    pending: &Pending,
    groups_claim: &str,
    now: i64,
) -> Result<Identity, ProviderError> {
    let client = client!(discover(r.issuer).await?, r);
    let token = client
        .exchange_code(AuthorizationCode::new(code.to_owned()))
        .map_err(|e| ProviderError::Configuration(chain(&e)))?
        .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier.clone()))
        .request_async(http())
        .await
        .map_err(|e| ProviderError::Exchange(chain(&e)))?;
    let id_token = token.id_token().ok_or(ProviderError::NoIdToken)?;
    let at = chrono::DateTime::from_timestamp(now, 0).unwrap_or_default();
    let verifier: CoreIdTokenVerifier = client.id_token_verifier().set_time_fn(move || at);
    let claims = id_token
        .claims(&verifier, &Nonce::new(pending.nonce.clone()))
        .map_err(|e| ProviderError::IdToken(chain(&e)))?;
    let text = |v: Option<&str>| v.map(str::to_owned);
    let subject = claims.subject().as_str().to_owned();
    let mut identity = Identity {
        email: text(claims.email().map(|e| e.as_str())),
        email_verified: claims.email_verified().unwrap_or(false),
        given_name: text(
            claims
                .given_name()
                .and_then(|c| c.get(None))
                .map(|v| v.as_str()),
        ),
        family_name: text(
            claims
                .family_name()
                .and_then(|c| c.get(None))
                .map(|v| v.as_str()),
        ),
        name: text(claims.name().and_then(|c| c.get(None)).map(|v| v.as_str())),
        // The token's signature covers its payload: read the one claim
        // whose name is a setting from the very bytes just checked.
        groups: payload_claim(&id_token.to_string(), groups_claim),
        subject: subject.clone(),
    };
    // Not in the ID token: userinfo, if the provider has it (its `sub` must
    // be the token's, which the crate checks).
    if identity.groups.is_none()
        && let Ok(request) = client.user_info(
            token.access_token().clone(),
            Some(SubjectIdentifier::new(subject)),
        )
    {
        let info: UserInfoClaims<OtherClaims, CoreGenderClaim> = request
            .request_async(http())
            .await
            .map_err(|e| ProviderError::UserInfo(chain(&e)))?;
        identity.groups = info.additional_claims().0.get(groups_claim).cloned();
    }
    Ok(identity)
}

/// One claim of a compact JWT's payload.
fn payload_claim(jwt: &str, name: &str) -> Option<serde_json::Value> {
    use base64::Engine;
    let payload = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let mut claims: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&bytes).ok()?;
    claims.remove(name)
}

/// An error and its causes on one line, for the log.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_one_claim_of_the_payload() {
        // {"sub":"1","groups":["a","b"]}
        let jwt = "e30.eyJzdWIiOiIxIiwiZ3JvdXBzIjpbImEiLCJiIl19.c2ln";
        assert_eq!(
            payload_claim(jwt, "groups"),
            Some(serde_json::json!(["a", "b"]))
        );
        assert_eq!(payload_claim(jwt, "roles"), None);
        assert_eq!(payload_claim("nonsense", "groups"), None);
    }
}
