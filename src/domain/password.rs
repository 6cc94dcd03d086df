use zxcvbn::{Score, zxcvbn};

/// A new password that meets SECURITY.md S-2: 12 to 128 code points, no
/// composition rules, no truncation, and not easily guessed (zxcvbn score ≥ 2).
/// Deliberately not `Debug`/`Display`, so it cannot end up in a log.
pub struct Password(String);

impl Password {
    pub const MIN: usize = 12;
    pub const MAX: usize = 128;

    /// `related` are the account's own email and names: a password built
    /// from them is easy to guess.
    pub fn parse(input: &str, related: &[&str]) -> Result<Self, String> {
        let n = input.chars().count();
        if n < Self::MIN {
            return Err(format!(
                "Use at least {} characters (this has {n}). A few unrelated words make a good password.",
                Self::MIN
            ));
        }
        if n > Self::MAX {
            return Err(format!("Use at most {} characters.", Self::MAX));
        }
        let estimate = zxcvbn(input, related);
        if estimate.score() < Score::Two {
            let why = estimate
                .feedback()
                .and_then(|f| f.warning())
                .map(|w| w.to_string())
                .unwrap_or_else(|| "This password would be easy to guess.".into());
            return Err(format!(
                "{why} Choose something less common, such as a few unrelated words."
            ));
        }
        Ok(Self(input.to_owned()))
    }

    /// A password made by Portal itself (random, never shown), which needs
    /// no checking.
    pub fn unchecked(generated: String) -> Self {
        Self(generated)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_is_counted_in_code_points() {
        // 11 emoji are 44 bytes but only 11 characters.
        assert!(Password::parse(&"🔑".repeat(11), &[]).is_err());
        assert!(Password::parse("correct horse battery 🔑 staple", &[]).is_ok());
    }

    #[test]
    fn refuses_common_and_related_passwords() {
        assert!(Password::parse("password1234", &[]).is_err());
        assert!(Password::parse("qwertyuiop123", &[]).is_err());
        assert!(
            Password::parse("annlee@example.org", &["annlee@example.org", "Ann", "Lee"]).is_err()
        );
    }

    #[test]
    fn bounds() {
        assert!(Password::parse(&"a".repeat(129), &[]).is_err());
        let long: String = "plum stone river ".repeat(8).chars().take(128).collect();
        assert!(Password::parse(&long, &[]).is_ok());
    }
}
