//! The one mapping from errors to pages. Service errors that belong beside a
//! form field are handled by the handler that owns the form; whatever
//! reaches here becomes a plain page, and an unexpected error shows only a
//! request id (S-17).

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

use crate::services::ServiceError;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("bad request")]
    BadRequest,
    #[error("not found")]
    NotFound,
    #[error("CSRF token missing or wrong")]
    Csrf,
    #[error("cross-site request")]
    CrossSite,
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("unavailable")]
    Unavailable,
    /// The page needs someone signed in to the portal; go there, then back
    /// to this path.
    #[error("sign-in needed")]
    SignIn(String),
    #[error("unexpected: {0}")]
    Unexpected(anyhow::Error),
}

impl From<ServiceError> for WebError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::NotFound => Self::NotFound,
            ServiceError::Forbidden(m) => Self::Forbidden(m),
            ServiceError::Conflict(m) => Self::Conflict(m),
            ServiceError::Unavailable => Self::Unavailable,
            ServiceError::Invalid(errors) => Self::Conflict(
                errors
                    .into_iter()
                    .map(|e| e.message)
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            ServiceError::Expired => Self::Conflict("This link has expired.".into()),
            ServiceError::Unexpected(e) => Self::Unexpected(e),
        }
    }
}

impl From<askama::Error> for WebError {
    fn from(e: askama::Error) -> Self {
        Self::Unexpected(e.into())
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    message: &'a str,
    request_id: String,
}

impl ResponseError for WebError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest => StatusCode::BAD_REQUEST,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Csrf | Self::CrossSite | Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::SignIn(_) => StatusCode::SEE_OTHER,
            Self::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::SignIn(back) = self {
            let query = serde_urlencoded::to_string([("next", back)]).unwrap_or_default();
            return see_other(&format!("/sign-in?{query}"));
        }
        let request_id = super::headers::current_request_id();
        let (title, message): (&str, &str) = match self {
            Self::BadRequest => (
                "Bad request",
                "The form could not be read. Go back and try again.",
            ),
            Self::NotFound => (
                "Not found",
                "There is nothing here. It may have been deleted.",
            ),
            Self::Csrf => (
                "Form expired",
                "This form has expired or did not come from this site. Go back, reload the page and try again.",
            ),
            Self::CrossSite => ("Refused", "Requests from other sites are refused."),
            Self::Forbidden(m) => ("Not allowed", m.as_str()),
            Self::Conflict(m) => ("Not done", m.as_str()),
            Self::SignIn(_) => ("Sign in", "Sign in to see this page."),
            Self::Unavailable => (
                "Busy",
                "The portal is busy right now. Nothing was changed; try again in a few seconds.",
            ),
            Self::Unexpected(e) => {
                tracing::error!(request_id = %request_id, error = %e, "unexpected error");
                (
                    "Something went wrong",
                    "Something went wrong on our side and nothing was changed. The problem has been logged.",
                )
            }
        };
        let body = ErrorPage {
            title,
            message,
            request_id,
        }
        .render()
        .unwrap_or_else(|_| title.to_owned());
        let mut resp = HttpResponse::build(self.status_code());
        resp.content_type("text/html; charset=utf-8");
        if matches!(self, Self::Unavailable) {
            resp.insert_header((header::RETRY_AFTER, "5"));
        }
        resp.body(body)
    }
}

/// Renders a page with a status (200 for pages, 422 for a form with errors).
pub fn page(status: StatusCode, tpl: &impl Template) -> Result<HttpResponse, WebError> {
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(tpl.render()?))
}

pub fn ok(tpl: &impl Template) -> Result<HttpResponse, WebError> {
    page(StatusCode::OK, tpl)
}

/// A `next` parameter, kept only when it is a path on this site (no open
/// redirect to another one).
pub fn local_path(next: Option<&str>) -> Option<&str> {
    next.filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.contains('\\'))
}

/// Post/redirect/get.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}
