use validator::ValidateEmail;

/// An email address as typed, with a case-insensitive key for uniqueness (U1, S-15).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub const MAX_LEN: usize = 254;

    pub fn parse(input: &str) -> Result<Self, String> {
        let s = input.trim();
        if s.is_empty() {
            return Err("Enter an email address.".into());
        }
        if s.chars().count() > Self::MAX_LEN {
            return Err(format!(
                "An email address has at most {} characters.",
                Self::MAX_LEN
            ));
        }
        if s.chars().any(char::is_control) || !s.validate_email() {
            return Err("Enter an email address like name@example.com.".into());
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key two addresses are compared by: the same for `Ann@X.org` and `ann@x.org`.
    pub fn key(&self) -> String {
        Self::key_of(&self.0)
    }

    pub fn key_of(raw: &str) -> String {
        raw.trim().to_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_and_keeps_case() {
        let e = Email::parse(" Ann.Lee@Example.org ").unwrap();
        assert_eq!(e.as_str(), "Ann.Lee@Example.org");
        assert_eq!(e.key(), "ann.lee@example.org");
    }

    #[test]
    fn refuses_bad_addresses() {
        for bad in [
            "",
            "ann",
            "ann@",
            "@x.org",
            "a b@x.org",
            "ann@x.org\r\nBcc: y@z.org",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    proptest! {
        #[test]
        fn never_contains_line_breaks(s in "\\PC{0,40}[\r\n]\\PC{0,40}") {
            if let Ok(e) = Email::parse(&s) {
                prop_assert!(!e.as_str().contains(['\r', '\n']));
            }
        }
    }
}
