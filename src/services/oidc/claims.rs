//! What tokens and userinfo say (SPEC O3), and reading back the tokens
//! Portal signed (userinfo's access token, end-session's ID token hint).

use serde::{Deserialize, Serialize};

use crate::domain::application::{SigningAlg, token_group_names};
use crate::domain::oidc::{ACCESS_TOKEN_SECS, ErrorCode, ID_TOKEN_SECS, Scope};
use crate::services::jws;
use crate::services::signing_keys::{self, KeySet};
use crate::services::{Ctx, ServiceError};
use crate::store::{self, applications::Application, oidc_grants::ClaimsRow};

use super::{Failure, issuer, refuse};

/// The claims about the person (O3), as the scope allows.
#[derive(Serialize, Default)]
pub struct PersonClaims {
    pub sub: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<String>>,
}

pub fn person(app: &Application, a: &ClaimsRow, scope: &Scope) -> PersonClaims {
    let mut c = PersonClaims {
        sub: a.id.clone(),
        ..Default::default()
    };
    if scope.has("email") {
        // Every account that gets a token is active: it confirmed its
        // address through an emailed link, or an administrator added it.
        c.email = Some(a.email.clone());
        c.email_verified = Some(true);
    }
    if scope.has("profile") {
        c.name = Some(format!("{} {}", a.first_name, a.last_name));
        c.given_name = Some(a.first_name.clone());
        c.family_name = Some(a.last_name.clone());
    }
    if scope.has("groups") {
        c.groups = Some(token_group_names(&app.token_groups, &a.groups()));
    }
    c
}

#[derive(Serialize)]
struct IdToken<'a> {
    iss: &'a str,
    aud: &'a str,
    azp: &'a str,
    iat: i64,
    exp: i64,
    auth_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
    #[serde(flatten)]
    person: &'a PersonClaims,
}

/// An access token (RFC 9068): for userinfo, which reads the account anew.
#[derive(Serialize, Deserialize)]
pub struct AccessToken {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub client_id: String,
    pub scope: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    /// The account's session epoch when issued: a block or password change
    /// since ends the token at userinfo too (S-10).
    pub portal_epoch: i64,
}

/// What a token response carries, signed.
pub struct Minted {
    pub id_token: String,
    pub access_token: String,
}

pub struct MintInput<'a> {
    pub app: &'a Application,
    pub account: &'a ClaimsRow,
    pub scope: &'a Scope,
    pub nonce: Option<&'a str>,
    pub auth_time: i64,
}

/// Signs the ID token with the key in use for the application's algorithm
/// and the access token with the ES256 one (off the async executor: RSA
/// takes a while).
pub async fn mint(ctx: &Ctx, m: MintInput<'_>) -> Result<Minted, ServiceError> {
    let keys = signing_keys::current(ctx).await?;
    let missing = || ServiceError::Unexpected(anyhow::anyhow!("no signing key in use"));
    let key = keys.signing(m.app.row.signing_alg).ok_or_else(missing)?;
    // Access tokens are Portal's own (only userinfo reads them): ES256,
    // a fraction of an RSA signature's cost, whatever the ID token's.
    let access_key = keys.signing(SigningAlg::Es256).ok_or_else(missing)?;
    let now = ctx.now();
    let iss = issuer(ctx);
    let person = person(m.app, m.account, m.scope);
    // Serialized here, once: the claims borrow from the request.
    let id = serde_json::to_vec(&IdToken {
        iss,
        aud: &m.app.row.id,
        azp: &m.app.row.id,
        iat: now,
        exp: now + ID_TOKEN_SECS,
        auth_time: m.auth_time,
        nonce: m.nonce,
        person: &person,
    })
    .map_err(|e| ServiceError::Unexpected(e.into()))?;
    let access = AccessToken {
        iss: iss.to_owned(),
        sub: m.account.id.clone(),
        aud: userinfo_audience(ctx),
        client_id: m.app.row.id.clone(),
        scope: m.scope.as_string(),
        iat: now,
        exp: now + ACCESS_TOKEN_SECS,
        jti: crate::domain::ids::new_id(),
        portal_epoch: m.account.session_epoch,
    };
    let _turn = ctx
        .signing_keys
        .signers
        .acquire()
        .await
        .map_err(|e| ServiceError::Unexpected(e.into()))?;
    crate::telemetry::spawn_blocking_with_tracing(move || {
        Ok::<_, anyhow::Error>(Minted {
            id_token: key.sign_payload("JWT", &id)?,
            access_token: access_key.sign("at+jwt", &access)?,
        })
    })
    .await
    .map_err(|e| ServiceError::Unexpected(e.into()))?
    .map_err(ServiceError::Unexpected)
}

fn userinfo_audience(ctx: &Ctx) -> String {
    format!("{}/oidc/userinfo", issuer(ctx))
}

/// The payload of a token Portal signed with a key it still publishes.
fn verified<T: for<'de> Deserialize<'de>>(keys: &KeySet, token: &str, typ: &str) -> Option<T> {
    let parsed = jws::parse(token)?;
    if parsed.typ != typ {
        return None;
    }
    let key = keys.by_kid(&parsed.kid)?;
    serde_json::from_slice(&parsed.verify(key)?).ok()
}

/// Userinfo (OpenID Connect Core §5.3): the claims for a good access token
/// of an active account whose sessions have not been ended since (O5).
pub async fn userinfo(ctx: &Ctx, bearer: &str) -> Result<PersonClaims, Failure> {
    let keys = signing_keys::current(ctx).await?;
    let Some(at) = verified::<AccessToken>(&keys, bearer, "at+jwt") else {
        return refuse(
            ErrorCode::InvalidToken,
            "the access token is not one of ours",
        );
    };
    if at.iss != issuer(ctx) || at.aud != userinfo_audience(ctx) || at.exp <= ctx.now() {
        return refuse(ErrorCode::InvalidToken, "the access token has expired");
    }
    let app = store::applications::get(&ctx.db, &at.client_id).await?;
    let Some(app) = app else {
        return refuse(ErrorCode::InvalidToken, "the application was deleted");
    };
    let account = store::oidc_grants::claims_of(&ctx.db, &at.sub).await?;
    let Some(account) = account.filter(|a| a.still_good_since(at.portal_epoch)) else {
        return refuse(ErrorCode::InvalidToken, "the account's sessions have ended");
    };
    let scope = Scope::parse(&at.scope).unwrap_or_else(|| Scope::parse("openid").expect("openid"));
    Ok(person(&app, &account, &scope))
}

/// An ID token Portal issued, read back as an end-session hint (its
/// signature is checked; its expiry is not, as RP-Initiated Logout allows).
#[derive(Deserialize)]
pub struct IdTokenHint {
    pub sub: String,
    pub aud: String,
}

pub async fn id_token_hint(ctx: &Ctx, token: &str) -> Result<Option<IdTokenHint>, ServiceError> {
    #[derive(Deserialize)]
    struct Claims {
        iss: String,
        sub: String,
        aud: String,
    }
    let keys = signing_keys::current(ctx).await?;
    Ok(verified::<Claims>(&keys, token, "JWT")
        .filter(|c| c.iss == issuer(ctx))
        .map(|c| IdTokenHint {
            sub: c.sub,
            aud: c.aud,
        }))
}
