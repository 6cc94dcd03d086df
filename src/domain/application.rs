//! Applications that sign their users in with Portal (SPEC O2, S-21): the
//! Add application and settings forms, parsed, and the two rules an
//! application's settings decide: who may sign in, and which groups its
//! tokens name (O3).

use super::group::{Holds, holds};
use super::ids::GroupId;
use super::{FieldError, FieldErrors, names};

pub const NAME_MAX: usize = 100;
/// Redirect URIs an application may register.
pub const REDIRECT_URIS_MAX: usize = 10;
const REDIRECT_URI_MAX_LEN: usize = 2000;

/// Confidential applications keep a secret on a server; public ones (a
/// single-page or native application) cannot, so they prove themselves
/// with PKCE alone (S-21).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientKind {
    Confidential,
    Public,
}

impl ClientKind {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "confidential" => Some(Self::Confidential),
            "public" => Some(Self::Public),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Confidential => "confidential",
            Self::Public => "public",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Confidential => "Confidential (a server that keeps a secret)",
            Self::Public => "Public (a browser or native application, PKCE only)",
        }
    }
}

stored_as_words!(ClientKind);

/// How an application's tokens are signed (O4): RS256 unless chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SigningAlg {
    Rs256,
    Es256,
}

impl SigningAlg {
    pub const ALL: [SigningAlg; 2] = [Self::Rs256, Self::Es256];

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "RS256" => Some(Self::Rs256),
            "ES256" => Some(Self::Es256),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Es256 => "ES256",
        }
    }
}

stored_as_words!(SigningAlg);

/// Which of an account's groups an application's tokens name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenGroups {
    All,
    Chosen(Vec<GroupId>),
}

/// Who may sign in to an application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignInGroups {
    Everyone,
    /// Members of any of these groups (Developers: every account).
    Chosen(Vec<GroupId>),
}

/// The Add application and settings forms, parsed.
#[derive(Debug, Clone)]
pub struct ApplicationSettings {
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub kind: ClientKind,
    pub trusted: bool,
    pub alg: SigningAlg,
    pub token_groups: TokenGroups,
    pub sign_in_groups: SignInGroups,
}

/// The form's fields as sent.
pub struct RawSettings<'a> {
    pub name: &'a str,
    pub redirect_uris: &'a str,
    pub kind: &'a str,
    pub trusted: bool,
    pub alg: &'a str,
    pub token_groups: &'a str,
    pub token_group_ids: &'a [String],
    pub sign_in_groups: &'a str,
    pub sign_in_group_ids: &'a [String],
}

impl ApplicationSettings {
    pub fn parse(raw: &RawSettings<'_>) -> Result<Self, Vec<FieldError>> {
        let mut errors = FieldErrors::default();
        let name = errors.take("name", names::display_name(raw.name, NAME_MAX));
        let redirect_uris = errors.take("redirect_uris", parse_redirect_uris(raw.redirect_uris));
        let kind = errors.take(
            "kind",
            ClientKind::parse(raw.kind).ok_or_else(|| "Choose confidential or public.".into()),
        );
        let alg = errors.take(
            "alg",
            if raw.alg.is_empty() {
                Ok(SigningAlg::Rs256)
            } else {
                SigningAlg::parse(raw.alg).ok_or_else(|| "Choose RS256 or ES256.".into())
            },
        );
        let token_groups = errors.take(
            "token_groups",
            match raw.token_groups {
                "" | "all" => Ok(TokenGroups::All),
                "chosen" => chosen(raw.token_group_ids).map(TokenGroups::Chosen),
                _ => Err("Choose all groups or the ticked ones.".into()),
            },
        );
        let sign_in_groups = errors.take(
            "sign_in_groups",
            match raw.sign_in_groups {
                "" | "everyone" => Ok(SignInGroups::Everyone),
                "chosen" => chosen(raw.sign_in_group_ids).map(SignInGroups::Chosen),
                _ => Err("Choose everyone or members of the ticked groups.".into()),
            },
        );
        match (name, redirect_uris, kind, alg, token_groups, sign_in_groups) {
            (Some(name), Some(redirect_uris), Some(kind), Some(alg), Some(tg), Some(sg)) => {
                Ok(Self {
                    name,
                    redirect_uris,
                    kind,
                    trusted: raw.trusted,
                    alg,
                    token_groups: tg,
                    sign_in_groups: sg,
                })
            }
            _ => Err(errors.0),
        }
    }
}

fn chosen(ids: &[String]) -> Result<Vec<GroupId>, String> {
    let mut out: Vec<GroupId> = ids
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(GroupId::from)
        .collect();
    out.sort();
    out.dedup();
    if out.is_empty() {
        return Err("Tick at least one group.".into());
    }
    Ok(out)
}

/// Redirect URIs, one per line: at least one, each absolute, without a
/// fragment, `https://` or `http://` on a loopback address (RFC 8252).
pub fn parse_redirect_uris(input: &str) -> Result<Vec<String>, String> {
    let mut uris: Vec<String> = Vec::new();
    for line in input.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let uri = parse_redirect_uri(line)?;
        if !uris.contains(&uri) {
            uris.push(uri);
        }
    }
    if uris.is_empty() {
        return Err("Enter at least one redirect URI.".into());
    }
    if uris.len() > REDIRECT_URIS_MAX {
        return Err(format!(
            "An application has at most {REDIRECT_URIS_MAX} redirect URIs."
        ));
    }
    Ok(uris)
}

fn parse_redirect_uri(s: &str) -> Result<String, String> {
    if s.len() > REDIRECT_URI_MAX_LEN {
        return Err(format!(
            "A redirect URI has at most {REDIRECT_URI_MAX_LEN} characters."
        ));
    }
    // Matched byte for byte later, so written as it will be sent: ASCII,
    // anything else percent-encoded.
    if !s.is_ascii() || s.chars().any(|c| c.is_ascii_control() || c == ' ') {
        return Err(format!(
            "{s}: a redirect URI is plain ASCII without spaces (percent-encode other characters)."
        ));
    }
    let url = url::Url::parse(s).map_err(|_| format!("{s} is not an absolute URI."))?;
    if url.fragment().is_some() {
        return Err(format!("{s}: a redirect URI has no fragment (#…)."));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "{s}: a redirect URI carries no user name or password."
        ));
    }
    match url.scheme() {
        "https" if url.host().is_some() => Ok(s.to_owned()),
        "http" if is_loopback(&url) => Ok(s.to_owned()),
        "http" => Err(format!(
            "{s}: use https://, or http:// only on a loopback address such as 127.0.0.1."
        )),
        _ => Err(format!("{s}: a redirect URI starts with https://.")),
    }
}

/// RFC 8252 §7.3: a loopback IP literal (not the name `localhost`, which
/// could resolve elsewhere).
fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        _ => false,
    }
}

/// Whether an account that is an explicit member of `member_of` may sign
/// in under `rule` (G2: Developers holds every account, Guests nobody).
pub fn may_sign_in(rule: &SignInGroups, member_of: &[String]) -> bool {
    match rule {
        SignInGroups::Everyone => true,
        SignInGroups::Chosen(groups) => groups.iter().any(|g| is_in(g, member_of)),
    }
}

fn is_in(group: &str, member_of: &[String]) -> bool {
    match holds(group) {
        Holds::Everyone => true,
        Holds::Nobody => false,
        Holds::Members => member_of.iter().any(|m| m == group),
    }
}

/// O3: of an account's groups (id and name, Developers included), the
/// names an application's tokens carry, in the order given.
pub fn token_group_names(rule: &TokenGroups, groups: &[(String, String)]) -> Vec<String> {
    groups
        .iter()
        .filter(|(id, _)| match rule {
            TokenGroups::All => true,
            TokenGroups::Chosen(chosen) => chosen.iter().any(|c| c == id),
        })
        .map(|(_, name)| name.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris() {
        assert!(parse_redirect_uris("https://app.example.com/cb").is_ok());
        assert!(parse_redirect_uris("http://127.0.0.1:8080/cb\n\n").is_ok());
        assert!(parse_redirect_uris("http://[::1]:8080/cb").is_ok());
        assert!(parse_redirect_uris("http://localhost:8080/cb").is_err());
        assert!(parse_redirect_uris("http://app.example.com/cb").is_err());
        assert!(parse_redirect_uris("https://app.example.com/cb#x").is_err());
        assert!(parse_redirect_uris("javascript:alert(1)").is_err());
        assert!(parse_redirect_uris("/relative").is_err());
        assert!(parse_redirect_uris("  ").is_err());
        assert!(parse_redirect_uris("https://app.example.com/cb\u{fffd}").is_err());
        assert!(parse_redirect_uris("https://app.example.com/a b").is_err());
        let two =
            parse_redirect_uris("https://a.example/cb\nhttps://a.example/cb\nhttps://b.example/cb")
                .unwrap();
        assert_eq!(two.len(), 2);
    }

    #[test]
    fn who_may_sign_in() {
        let partners = vec!["partners".to_owned()];
        assert!(may_sign_in(&SignInGroups::Everyone, &[]));
        let rule = SignInGroups::Chosen(vec!["partners".into()]);
        assert!(may_sign_in(&rule, &partners));
        assert!(!may_sign_in(&rule, &[]));
        assert!(may_sign_in(
            &SignInGroups::Chosen(vec!["developers".into()]),
            &[]
        ));
        assert!(!may_sign_in(
            &SignInGroups::Chosen(vec!["guests".into()]),
            &partners
        ));
    }

    #[test]
    fn groups_in_tokens() {
        let groups = vec![
            ("developers".to_owned(), "Developers".to_owned()),
            ("partners".to_owned(), "Partners".to_owned()),
        ];
        assert_eq!(token_group_names(&TokenGroups::All, &groups).len(), 2);
        assert_eq!(
            token_group_names(&TokenGroups::Chosen(vec!["partners".into()]), &groups),
            vec!["Partners".to_owned()]
        );
    }
}
