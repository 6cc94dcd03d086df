use crate::domain::FieldError;

/// The one error of the service layer; `web` maps it once to pages (and
/// later JSON).
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("expired")]
    Expired,
    /// M3: the entity's version is not the one the change was made against.
    #[error("precondition failed")]
    PreconditionFailed,
    /// The database is too busy to answer in time (S-18): try again shortly.
    #[error("temporarily unavailable")]
    Unavailable,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl ServiceError {
    pub fn field(field: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(field, message)])
    }
}

impl From<sqlx::Error> for ServiceError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::PoolTimedOut => Self::Unavailable,
            sqlx::Error::Database(ref db) if crate::store::is_busy(db.as_ref()) => {
                Self::Unavailable
            }
            // A NUL character, which PostgreSQL's text cannot hold: no row
            // holds it, as SQLite would answer by finding nothing.
            sqlx::Error::Database(ref db) if crate::store::is_unstorable_text(db.as_ref()) => {
                Self::NotFound
            }
            other => Self::Unexpected(other.into()),
        }
    }
}
