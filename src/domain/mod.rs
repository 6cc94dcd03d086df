//! Domain types and pure rules. Everything here is parsed, never trusted:
//! a value of these types is valid by construction.

/// What an enum of a few words (a state, a kind) is stored and sent as:
/// its `as_str` word. Rows decode it at the store boundary
/// (`#[sqlx(try_from = "String")]`) and in JSON rows, so nothing past the
/// store compares strings.
macro_rules! stored_as_words {
    ($t:ty) => {
        impl TryFrom<String> for $t {
            type Error = String;

            fn try_from(s: String) -> Result<Self, String> {
                Self::parse(&s).ok_or_else(|| format!("unknown {}: {s:?}", stringify!($t)))
            }
        }

        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::parse(&s).ok_or_else(|| {
                    serde::de::Error::custom(format!("unknown {}: {s:?}", stringify!($t)))
                })
            }
        }

        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

pub mod account;
pub mod api_token;
pub mod application;
pub mod email;
pub mod email_template;
pub mod group;
pub mod identity_provider;
pub mod ids;
pub mod link;
pub mod names;
pub mod notification;
pub mod oidc;
pub mod password;
pub mod product;
pub mod query;
pub mod subscription;
pub mod visibility;

pub use account::AccountState;
pub use email::Email;
pub use names::PersonName;
pub use password::Password;

/// A field-level problem found while parsing input, shown beside that field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

/// Collects field errors while a whole form is parsed, so every problem is
/// reported at once rather than one per submit.
#[derive(Debug, Default)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    pub fn take<T>(&mut self, field: &'static str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(message) => {
                self.0.push(FieldError::new(field, message));
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
