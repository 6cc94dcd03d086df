//! Links sent by email (SECURITY S-5, S-6): what they are for, how long
//! they live, and the secret they carry.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPurpose {
    Invitation,
    AdminReset,
    SelfReset,
    SignupConfirmation,
}

impl LinkPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invitation => "invitation",
            Self::AdminReset => "admin_reset",
            Self::SelfReset => "self_reset",
            Self::SignupConfirmation => "signup_confirmation",
        }
    }

    /// Both kinds of reset link: a new one voids the old of either kind.
    pub const RESETS: [&'static str; 2] = ["admin_reset", "self_reset"];
}

/// S-6 lifetimes (configurable).
#[derive(Debug, Clone)]
pub struct LinkLifetimes {
    pub invitation: Duration,
    pub admin_reset: Duration,
    pub self_reset: Duration,
    pub signup_confirmation: Duration,
}

impl Default for LinkLifetimes {
    fn default() -> Self {
        Self {
            invitation: Duration::from_secs(48 * 3600),
            admin_reset: Duration::from_secs(12 * 3600),
            self_reset: Duration::from_secs(20 * 60),
            signup_confirmation: Duration::from_secs(24 * 3600),
        }
    }
}

impl LinkLifetimes {
    pub fn of(&self, purpose: LinkPurpose) -> i64 {
        let d = match purpose {
            LinkPurpose::Invitation => self.invitation,
            LinkPurpose::AdminReset => self.admin_reset,
            LinkPurpose::SelfReset => self.self_reset,
            LinkPurpose::SignupConfirmation => self.signup_confirmation,
        };
        d.as_secs() as i64
    }
}

/// A fresh link secret (256 bits from the OS, base64url) and the hash that
/// is all the database keeps of it.
pub struct LinkSecret {
    pub secret: String,
    pub hash: [u8; 32],
}

impl LinkSecret {
    pub fn new() -> Self {
        let secret = URL_SAFE_NO_PAD.encode(super::ids::random_bytes::<32>());
        let hash = hash_of(&secret);
        Self { secret, hash }
    }
}

impl Default for LinkSecret {
    fn default() -> Self {
        Self::new()
    }
}

/// A lifetime as people say it: "20 minutes", "24 hours", "2 days".
pub fn in_words(secs: i64) -> String {
    let plural = |n: i64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    match secs {
        s if s % 86_400 == 0 && s >= 2 * 86_400 => plural(s / 86_400, "day"),
        s if s % 3_600 == 0 => plural(s / 3_600, "hour"),
        s if s >= 60 => plural(s / 60, "minute"),
        s => plural(s, "second"),
    }
}

pub fn hash_of(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// Whether a string could be one of our secrets at all (43 base64url
/// characters); anything else is answered without touching the database.
pub fn looks_like_secret(s: &str) -> bool {
    s.len() == 43
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_in_words() {
        assert_eq!(in_words(20 * 60), "20 minutes");
        assert_eq!(in_words(86_400), "24 hours");
        assert_eq!(in_words(3 * 86_400), "3 days");
        assert_eq!(in_words(3_600), "1 hour");
    }

    #[test]
    fn secrets_are_256_bits_and_only_their_hash_is_kept() {
        let a = LinkSecret::new();
        let b = LinkSecret::new();
        assert_ne!(a.secret, b.secret);
        assert!(looks_like_secret(&a.secret));
        assert_eq!(hash_of(&a.secret), a.hash);
        assert!(!looks_like_secret("short"));
        assert!(!looks_like_secret(&format!("{}!", &a.secret[..42])));
    }
}
