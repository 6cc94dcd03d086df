/// A first or last name: required, at most 100 characters, no control
/// characters (names end up in mail headers, S-15).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonName(String);

impl PersonName {
    pub const MAX_LEN: usize = 100;

    pub fn parse(input: &str, what: &str) -> Result<Self, String> {
        let s = input.trim();
        if s.is_empty() {
            return Err(format!("Enter a {what}."));
        }
        if s.chars().count() > Self::MAX_LEN {
            return Err(format!(
                "A {what} has at most {} characters.",
                Self::MAX_LEN
            ));
        }
        if s.chars().any(char::is_control) {
            return Err(format!(
                "A {what} cannot contain line breaks or control characters."
            ));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A one-line display name of something (a group, a product): required,
/// bounded, no control characters.
pub fn display_name(input: &str, max: usize) -> Result<String, String> {
    let s = input.trim();
    if s.is_empty() {
        return Err("Enter a name.".into());
    }
    if s.chars().count() > max {
        return Err(format!("A name has at most {max} characters."));
    }
    if s.chars().any(char::is_control) {
        return Err("A name cannot contain line breaks or control characters.".into());
    }
    Ok(s.to_owned())
}

/// Optional free text such as a note: trimmed, empty becomes `None`.
pub fn optional_text(input: &str, max: usize, what: &str) -> Result<Option<String>, String> {
    let s = input.trim();
    if s.is_empty() {
        return Ok(None);
    }
    if s.chars().count() > max {
        return Err(format!("A {what} has at most {max} characters."));
    }
    Ok(Some(s.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn trims_and_refuses_empty() {
        assert_eq!(
            PersonName::parse("  Ann ", "first name").unwrap().as_str(),
            "Ann"
        );
        assert_eq!(
            PersonName::parse("   ", "first name").unwrap_err(),
            "Enter a first name."
        );
    }

    proptest! {
        #[test]
        fn refuses_cr_and_lf(a in "[a-z]{1,10}", b in "[a-z]{1,10}", br in "[\r\n]") {
            let input = format!("{a}{br}{b}");
            prop_assert!(PersonName::parse(&input, "name").is_err());
        }

        #[test]
        fn accepted_names_are_trimmed_and_bounded(s in "\\PC{0,120}") {
            if let Ok(n) = PersonName::parse(&s, "name") {
                prop_assert_eq!(n.as_str(), n.as_str().trim());
                prop_assert!(!n.as_str().is_empty());
                prop_assert!(n.as_str().chars().count() <= PersonName::MAX_LEN);
            }
        }
    }
}
