//! Domain types and pure rules. Everything here is parsed, never trusted:
//! a value of these types is valid by construction.

pub mod account;
pub mod api_token;
pub mod email;
pub mod email_template;
pub mod group;
pub mod ids;
pub mod link;
pub mod names;
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
