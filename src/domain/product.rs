//! Products (SPEC P1).

use super::{FieldError, FieldErrors, names};

pub const NAME_MAX: usize = 100;

/// P1: whether anyone but administrators may see the product (P3) and use
/// its keys (S2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProductState {
    Published,
    NotPublished,
}

impl ProductState {
    pub fn of(published: bool) -> Self {
        if published {
            Self::Published
        } else {
            Self::NotPublished
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Published => "published",
            Self::NotPublished => "not_published",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Published, Self::NotPublished]
            .into_iter()
            .find(|x| x.as_str() == s)
    }

    pub fn is_published(self) -> bool {
        self == Self::Published
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Published => "Published",
            Self::NotPublished => "Not published",
        }
    }
}

stored_as_words!(ProductState);
pub const LIMIT_MAX: i64 = 1000;

/// The Add product and Settings forms, parsed.
#[derive(Debug)]
pub struct ProductSettings {
    pub name: String,
    pub description: String,
    pub terms: String,
    pub subscription_required: bool,
    pub approval_required: bool,
    pub subscriptions_limit: Option<i64>,
    pub published: bool,
}

impl ProductSettings {
    pub fn parse(
        name: &str,
        description: &str,
        terms: &str,
        subscription_required: bool,
        approval_required: bool,
        limit: &str,
        published: bool,
    ) -> Result<Self, Vec<FieldError>> {
        let mut errors = FieldErrors::default();
        let name = errors.take("name", names::display_name(name, NAME_MAX));
        let description = errors.take(
            "description",
            names::optional_text(description, 10_000, "description"),
        );
        let terms = errors.take("terms", names::optional_text(terms, 20_000, "terms of use"));
        let limit = errors.take("subscriptions_limit", parse_limit(limit));
        match (name, description, terms, limit) {
            (Some(name), Some(description), Some(terms), Some(subscriptions_limit)) => Ok(Self {
                name,
                description: description.unwrap_or_default(),
                terms: terms.unwrap_or_default(),
                subscription_required,
                approval_required: subscription_required && approval_required,
                subscriptions_limit,
                published,
            }),
            _ => Err(errors.0),
        }
    }

    pub fn name_key(&self) -> String {
        self.name.to_lowercase()
    }
}

fn parse_limit(s: &str) -> Result<Option<i64>, String> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    match s.parse::<i64>() {
        Ok(n) if (1..=LIMIT_MAX).contains(&n) => Ok(Some(n)),
        _ => Err(format!(
            "Enter a whole number from 1 to {LIMIT_MAX}, or leave it empty for no limit."
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits() {
        assert_eq!(parse_limit(""), Ok(None));
        assert_eq!(parse_limit(" 3 "), Ok(Some(3)));
        assert!(parse_limit("0").is_err());
        assert!(parse_limit("abc").is_err());
        assert!(parse_limit("1001").is_err());
    }

    #[test]
    fn approval_needs_subscriptions() {
        let p = ProductSettings::parse("Echo", "", "", false, true, "", true).unwrap();
        assert!(!p.approval_required);
    }
}
