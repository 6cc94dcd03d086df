//! The OpenID Connect provider's protocol rules (SPEC O1, O3, S-21):
//! scopes and the claims they give, PKCE, lifetimes, and the errors the
//! specifications name.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// S-21: a code lives at most 60 seconds.
pub const CODE_SECS: i64 = 60;
/// S-21: an ID token lives at most an hour.
pub const ID_TOKEN_SECS: i64 = 3600;
/// Access tokens are for userinfo: short, since they are not revoked.
pub const ACCESS_TOKEN_SECS: i64 = 600;
/// A refresh token not used for this long ends.
pub const REFRESH_TOKEN_SECS: i64 = 30 * 24 * 3600;
/// O4: a retired key stays published until every token it signed expired.
pub const RETIRED_KEY_SECS: i64 = if ID_TOKEN_SECS > ACCESS_TOKEN_SECS {
    ID_TOKEN_SECS
} else {
    ACCESS_TOKEN_SECS
};

/// The scopes Portal knows; others are ignored, as OpenID Connect allows.
pub const SCOPES: [&str; 5] = ["openid", "profile", "email", "groups", "offline_access"];

/// A requested scope, reduced to the scopes Portal knows, in a fixed order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope(Vec<&'static str>);

impl Scope {
    /// `None` when `openid` is missing: that is not an OpenID request.
    pub fn parse(s: &str) -> Option<Self> {
        let asked: Vec<&str> = s.split(' ').filter(|w| !w.is_empty()).collect();
        let known: Vec<&'static str> = SCOPES
            .iter()
            .copied()
            .filter(|k| asked.contains(k))
            .collect();
        known.contains(&"openid").then_some(Self(known))
    }

    pub fn has(&self, scope: &str) -> bool {
        self.0.contains(&scope)
    }

    pub fn as_string(&self) -> String {
        self.0.join(" ")
    }

    /// Whether everything in `self` was already allowed in `granted`.
    pub fn within(&self, granted: &Scope) -> bool {
        self.0.iter().all(|s| granted.has(s))
    }

    /// What the consent page says the application will receive.
    pub fn described(&self) -> Vec<&'static str> {
        self.0
            .iter()
            .filter_map(|s| match *s {
                "openid" => Some("Your account's id at this portal"),
                "profile" => Some("Your name"),
                "email" => Some("Your email address"),
                "groups" => Some("The names of the groups you are in"),
                "offline_access" => {
                    Some("Access while you are not signed in (it can refresh its tokens)")
                }
                _ => None,
            })
            .collect()
    }
}

/// A PKCE code challenge (RFC 7636): S256 only, 43 base64url characters.
pub fn parse_challenge(challenge: &str, method: &str) -> Result<String, &'static str> {
    if method != "S256" {
        return Err("code_challenge_method must be S256");
    }
    let ok = challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(challenge.to_owned())
    } else {
        Err("code_challenge is not an S256 challenge")
    }
}

/// Whether `verifier` is the one `challenge` was made from (RFC 7636 §4.6).
pub fn verifier_matches(verifier: &str, challenge: &str) -> bool {
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    if !well_formed {
        return false;
    }
    let made = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    subtle::ConstantTimeEq::ct_eq(made.as_bytes(), challenge.as_bytes()).into()
}

/// `prompt` (OpenID Connect Core §3.1.2.1): Portal honours `none` and
/// `login`; `consent` and `select_account` add nothing here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prompt {
    Default,
    None,
    Login,
}

impl Prompt {
    pub fn parse(s: &str) -> Result<Self, &'static str> {
        let words: Vec<&str> = s.split(' ').filter(|w| !w.is_empty()).collect();
        if words.contains(&"none") && words.len() > 1 {
            return Err("prompt=none cannot be combined with other values");
        }
        Ok(if words.contains(&"none") {
            Self::None
        } else if words.contains(&"login") {
            Self::Login
        } else {
            Self::Default
        })
    }
}

/// The error codes of RFC 6749 §4.1.2.1 / §5.2 and OpenID Connect Core §3.1.2.6.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    UnsupportedResponseType,
    InvalidScope,
    AccessDenied,
    LoginRequired,
    ConsentRequired,
    InvalidToken,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::InvalidScope => "invalid_scope",
            Self::AccessDenied => "access_denied",
            Self::LoginRequired => "login_required",
            Self::ConsentRequired => "consent_required",
            Self::InvalidToken => "invalid_token",
        }
    }
}

/// A protocol error: its code and a description for the developer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcError {
    pub code: ErrorCode,
    pub description: String,
}

impl OidcError {
    pub fn new(code: ErrorCode, description: impl Into<String>) -> Self {
        Self {
            code,
            description: description.into(),
        }
    }
}

/// The secret and hash of a code or refresh token (only the hash is kept).
pub fn hash_of(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes() {
        assert!(Scope::parse("profile email").is_none());
        let s = Scope::parse("email  openid groups unknown").unwrap();
        assert_eq!(s.as_string(), "openid email groups");
        assert!(Scope::parse("openid").unwrap().within(&s));
        assert!(!s.within(&Scope::parse("openid").unwrap()));
    }

    #[test]
    fn pkce() {
        // RFC 7636 Appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(parse_challenge(challenge, "S256").is_ok());
        assert!(parse_challenge(challenge, "plain").is_err());
        assert!(verifier_matches(verifier, challenge));
        assert!(!verifier_matches("x", challenge));
        assert!(!verifier_matches(&verifier.replace('d', "e"), challenge));
    }

    #[test]
    fn prompts() {
        assert_eq!(Prompt::parse("").unwrap(), Prompt::Default);
        assert_eq!(Prompt::parse("login consent").unwrap(), Prompt::Login);
        assert_eq!(Prompt::parse("none").unwrap(), Prompt::None);
        assert!(Prompt::parse("none login").is_err());
    }
}
