//! Outside OpenID Connect providers people sign in with (SPEC X1–X3,
//! S-22): the Add identity provider and settings forms, parsed, and the
//! rule that turns a provider's groups claim into external group ids (G7).

use super::{FieldError, FieldErrors, names};

pub const NAME_MAX: usize = 100;
const ISSUER_MAX_LEN: usize = 500;
const CLIENT_ID_MAX_LEN: usize = 500;
const SECRET_MAX_LEN: usize = 2000;
const CLAIM_MAX_LEN: usize = 100;
pub const DEFAULT_SCOPES: &str = "openid email profile";
pub const DEFAULT_GROUPS_CLAIM: &str = "groups";
/// A claim naming more groups than this is cut short (and logged): a
/// directory's hundreds of groups are not what a portal grants by.
pub const GROUPS_MAX: usize = 200;
/// An external id (a claim's value) longer than this is skipped.
pub const EXTERNAL_ID_MAX_LEN: usize = 200;

/// The forms, parsed. `client_secret` is `None` when an edit leaves it
/// as it was (the saved secret is never shown again).
#[derive(Debug, Clone)]
pub struct ProviderSettings {
    pub name: String,
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    /// Space-separated, `openid` first.
    pub scopes: String,
    pub groups_claim: String,
    pub create_accounts: bool,
    pub enabled: bool,
}

/// The form's fields as sent.
pub struct RawProviderSettings<'a> {
    pub name: &'a str,
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub client_secret: &'a str,
    pub scopes: &'a str,
    pub groups_claim: &'a str,
    pub create_accounts: bool,
    pub enabled: bool,
}

impl ProviderSettings {
    /// `secret_required`: a new provider needs its secret; an edit keeps the
    /// saved one when the field is left empty.
    pub fn parse(
        raw: &RawProviderSettings<'_>,
        secret_required: bool,
    ) -> Result<Self, Vec<FieldError>> {
        let mut errors = FieldErrors::default();
        let name = errors.take("name", names::display_name(raw.name, NAME_MAX));
        let issuer = errors.take("issuer", parse_issuer(raw.issuer));
        let client_id = errors.take("client_id", parse_client_id(raw.client_id));
        let client_secret = errors.take(
            "client_secret",
            parse_secret(raw.client_secret, secret_required),
        );
        let scopes = errors.take("scopes", parse_scopes(raw.scopes));
        let groups_claim = errors.take("groups_claim", parse_claim(raw.groups_claim));
        match (name, issuer, client_id, client_secret, scopes, groups_claim) {
            (Some(name), Some(issuer), Some(client_id), Some(client_secret), Some(s), Some(g)) => {
                Ok(Self {
                    name,
                    issuer,
                    client_id,
                    client_secret,
                    scopes: s,
                    groups_claim: g,
                    create_accounts: raw.create_accounts,
                    enabled: raw.enabled,
                })
            }
            _ => Err(errors.0),
        }
    }
}

/// An issuer URL: `https://`, or `http://` on a loopback address for local
/// set-ups and tests (X1); no query, fragment or credentials. Kept as
/// typed (without a trailing `/` added or removed): the provider's
/// discovery document must name exactly this issuer.
pub fn parse_issuer(input: &str) -> Result<String, String> {
    let s = input.trim();
    if s.is_empty() {
        return Err("Enter the provider's issuer URL.".into());
    }
    if s.len() > ISSUER_MAX_LEN || !s.is_ascii() || s.chars().any(|c| c.is_ascii_control()) {
        return Err(format!(
            "An issuer URL is plain ASCII of at most {ISSUER_MAX_LEN} characters."
        ));
    }
    let url = url::Url::parse(s).map_err(|_| format!("{s} is not an absolute URL."))?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err("An issuer URL has no query (?…) or fragment (#…).".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("An issuer URL carries no user name or password.".into());
    }
    match url.scheme() {
        "https" if url.host().is_some() => Ok(s.to_owned()),
        "http" if is_loopback(&url) => Ok(s.to_owned()),
        "http" => Err(
            "Use https://, or http:// only on a loopback address (127.0.0.1, [::1] or localhost)."
                .into(),
        ),
        _ => Err("An issuer URL starts with https://.".into()),
    }
}

/// Loopback: a local provider during set-up or in tests. `localhost` is
/// accepted here (unlike redirect URIs): Portal itself connects to it.
fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

fn printable(s: &str) -> bool {
    !s.chars().any(|c| c.is_control() || c.is_whitespace())
}

fn parse_client_id(input: &str) -> Result<String, String> {
    let s = input.trim();
    if s.is_empty() {
        return Err("Enter the client ID the provider gave Portal.".into());
    }
    if s.len() > CLIENT_ID_MAX_LEN || !printable(s) {
        return Err(format!(
            "A client ID has no spaces and at most {CLIENT_ID_MAX_LEN} characters."
        ));
    }
    Ok(s.to_owned())
}

fn parse_secret(input: &str, required: bool) -> Result<Option<String>, String> {
    let s = input.trim();
    if s.is_empty() {
        return if required {
            Err("Enter the client secret the provider gave Portal.".into())
        } else {
            Ok(None)
        };
    }
    // RFC 6749 (A.2) allows any printable ASCII, spaces included.
    if s.len() > SECRET_MAX_LEN || s.chars().any(char::is_control) {
        return Err(format!(
            "A client secret is one line of at most {SECRET_MAX_LEN} characters."
        ));
    }
    Ok(Some(s.to_owned()))
}

/// Scopes, separated by spaces: `openid` is always asked for, first.
pub fn parse_scopes(input: &str) -> Result<String, String> {
    let mut scopes: Vec<&str> = vec!["openid"];
    for s in input.split_whitespace() {
        if s.len() > CLAIM_MAX_LEN
            || !s
                .chars()
                .all(|c| c.is_ascii_graphic() && c != '"' && c != '\\')
        {
            return Err(format!("{s} is not a scope name."));
        }
        if !scopes.contains(&s) {
            scopes.push(s);
        }
    }
    if scopes.len() > 20 {
        return Err("Ask for at most 20 scopes.".into());
    }
    Ok(scopes.join(" "))
}

fn parse_claim(input: &str) -> Result<String, String> {
    let s = input.trim();
    if s.is_empty() {
        return Ok(DEFAULT_GROUPS_CLAIM.into());
    }
    if s.len() > CLAIM_MAX_LEN || !printable(s) {
        return Err(format!(
            "A claim name has no spaces and at most {CLAIM_MAX_LEN} characters."
        ));
    }
    Ok(s.to_owned())
}

/// X3: the external ids a groups claim names: a string (one group) or an
/// array of strings; anything else names none. Empty and over-long values
/// are skipped, duplicates kept once, at most `GROUPS_MAX`.
pub fn external_ids(claim: Option<&serde_json::Value>) -> Vec<String> {
    use serde_json::Value;
    let values: Vec<&str> = match claim {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let mut out: Vec<String> = Vec::new();
    for v in values {
        let v = v.trim();
        if v.is_empty() || v.len() > EXTERNAL_ID_MAX_LEN || v.chars().any(char::is_control) {
            continue;
        }
        if !out.iter().any(|o| o == v) {
            out.push(v.to_owned());
        }
        if out.len() == GROUPS_MAX {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn issuers() {
        assert!(parse_issuer("https://login.example.com").is_ok());
        assert!(parse_issuer("https://login.example.com/tenant/v2.0").is_ok());
        assert!(parse_issuer("http://127.0.0.1:8080").is_ok());
        assert!(parse_issuer("http://localhost:8080").is_ok());
        assert!(parse_issuer("http://[::1]:8080").is_ok());
        assert!(parse_issuer("http://login.example.com").is_err());
        assert!(parse_issuer("https://login.example.com?x=1").is_err());
        assert!(parse_issuer("https://u:p@login.example.com").is_err());
        assert!(parse_issuer("ftp://login.example.com").is_err());
        assert!(parse_issuer("login.example.com").is_err());
        assert!(parse_issuer("").is_err());
    }

    #[test]
    fn scopes_always_ask_for_openid() {
        assert_eq!(parse_scopes("").unwrap(), "openid");
        assert_eq!(
            parse_scopes("email openid  profile").unwrap(),
            "openid email profile"
        );
        assert!(parse_scopes("em\"ail").is_err());
    }

    #[test]
    fn groups_claim_string_or_array() {
        assert_eq!(external_ids(Some(&json!("solo"))), vec!["solo"]);
        assert_eq!(
            external_ids(Some(&json!(["a", "b", "a", "", 3, "  c "]))),
            vec!["a", "b", "c"]
        );
        assert!(external_ids(Some(&json!({"a": 1}))).is_empty());
        assert!(external_ids(None).is_empty());
        let many: Vec<String> = (0..500).map(|i| format!("g{i}")).collect();
        assert_eq!(external_ids(Some(&json!(many))).len(), GROUPS_MAX);
    }

    #[test]
    fn a_new_provider_needs_its_secret() {
        let raw = RawProviderSettings {
            name: "Partners",
            issuer: "https://id.example.com",
            client_id: "portal",
            client_secret: "",
            scopes: "",
            groups_claim: "",
            create_accounts: true,
            enabled: true,
        };
        let errors = ProviderSettings::parse(&raw, true).unwrap_err();
        assert_eq!(errors[0].field, "client_secret");
        let edit = ProviderSettings::parse(&raw, false).unwrap();
        assert_eq!(edit.client_secret, None);
        assert_eq!(edit.groups_claim, "groups");
        assert_eq!(edit.scopes, "openid");
        let spaced = RawProviderSettings {
            client_secret: "a secret with spaces",
            ..raw
        };
        let s = ProviderSettings::parse(&spaced, true).unwrap();
        assert_eq!(s.client_secret.as_deref(), Some("a secret with spaces"));
    }
}
