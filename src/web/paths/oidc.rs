//! The OpenID provider's endpoints (SPEC O1), as discovery names them.

pub const DISCOVERY: &str = "/.well-known/openid-configuration";
pub const JWKS: &str = "/oidc/jwks";
pub const AUTHORIZE: &str = "/oidc/authorize";
pub const TOKEN: &str = "/oidc/token";
pub const USERINFO: &str = "/oidc/userinfo";
pub const END_SESSION: &str = "/oidc/end-session";
