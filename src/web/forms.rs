//! What forms share: the errors a form page shows beside their fields, and
//! the body of a form that is only a button.

use serde::Deserialize;

use crate::domain::FieldError;

/// The fields of a form that has none but its CSRF token (a Block, Delete
/// or Sign out button): `Form<Empty>` checks the token and reads nothing else.
#[derive(Deserialize)]
pub struct Empty {}

#[derive(Debug, Default)]
pub struct Errors(pub Vec<FieldError>);

impl Errors {
    /// The message for `field`, or "" (templates test for emptiness).
    pub fn get(&self, field: &str) -> &str {
        self.0
            .iter()
            .find(|e| e.field == field)
            .map_or("", |e| e.message.as_str())
    }

    pub fn any(&self) -> bool {
        !self.0.is_empty()
    }

    /// Errors that belong to no field shown on the form.
    pub fn others(&self, shown: &[&str]) -> Vec<&str> {
        self.0
            .iter()
            .filter(|e| !shown.contains(&e.field))
            .map(|e| e.message.as_str())
            .collect()
    }
}
