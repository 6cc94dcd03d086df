//! Management API access tokens (SPEC M5, SECURITY S-20), as an
//! administrator makes them.

use super::{FieldError, FieldErrors, names};

/// How long a token lives unless the form says otherwise.
pub const DEFAULT_DAYS: i64 = 90;
/// S-20: at most a year.
pub const MAX_DAYS: i64 = 365;
pub const NAME_MAX: usize = 100;
/// Tokens start with this, so they are recognised (and secret scanners
/// can find one pasted where it should not be).
pub const PREFIX: &str = "portal_";

/// The Create token form, parsed.
#[derive(Debug)]
pub struct NewApiToken {
    pub name: String,
    pub days: i64,
}

impl NewApiToken {
    pub fn parse(name: &str, days: &str) -> Result<Self, Vec<FieldError>> {
        let mut errors = FieldErrors::default();
        let name = errors.take("name", names::display_name(name, NAME_MAX));
        let days = errors.take("days", parse_days(days));
        match (name, days) {
            (Some(name), Some(days)) => Ok(Self { name, days }),
            _ => Err(errors.0),
        }
    }
}

fn parse_days(s: &str) -> Result<i64, String> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(DEFAULT_DAYS);
    }
    match s.parse::<i64>() {
        Ok(n) if (1..=MAX_DAYS).contains(&n) => Ok(n),
        _ => Err(format!("Choose from 1 to {MAX_DAYS} days.")),
    }
}

/// A new secret: the prefix and 256 random bits (S-20).
pub fn new_secret() -> String {
    format!("{PREFIX}{}", super::ids::new_secret())
}

/// Whether `s` could be a token at all (so nothing else is hashed and looked up).
pub fn looks_like_secret(s: &str) -> bool {
    s.strip_prefix(PREFIX).is_some_and(|rest| {
        rest.len() == 43
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

/// What is stored of a secret.
pub fn hash_of(secret: &str) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::digest(secret.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_and_secrets() {
        assert_eq!(NewApiToken::parse("CI", "").unwrap().days, DEFAULT_DAYS);
        assert!(NewApiToken::parse("CI", "366").is_err());
        assert!(NewApiToken::parse("", "30").is_err());
        let s = new_secret();
        assert!(looks_like_secret(&s), "{s}");
        assert!(!looks_like_secret("portal_short"));
        assert!(!looks_like_secret(&s.replace(PREFIX, "other_")));
    }
}
