//! The one mapping from errors to pages. Service errors that belong beside a
//! form field are handled by the handler that owns the form; whatever
//! reaches here becomes a plain page, and an unexpected error shows only a
//! request id (S-17).

use actix_web::dev::ServiceResponse;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

use crate::services::ServiceError;
use crate::web::paths::{console, portal};

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
    /// S-24: a form body over the limit.
    #[error("body too large")]
    TooLarge,
    #[error("URL too long")]
    UrlTooLong,
    #[error("headers too large")]
    HeadersTooLarge,
    #[error("unexpected: {0}")]
    Unexpected(anyhow::Error),
    /// A middleware failed once the request had left our hands (the
    /// session middleware when its cookie cannot be written): the page
    /// is built outside the request, so it carries the request's id.
    #[error("failed: {cause}")]
    Failed { request_id: String, cause: String },
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
            ServiceError::PreconditionFailed => Self::Conflict(
                "Someone changed this meanwhile. Reload the page and try again.".into(),
            ),
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
struct ErrorTemplate<'a> {
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
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UrlTooLong => StatusCode::URI_TOO_LONG,
            Self::HeadersTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::SignIn(_) => StatusCode::SEE_OTHER,
            Self::Unexpected(_) | Self::Failed { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Failed { request_id, .. } => {
                let mut page = self.page(request_id);
                super::headers::harden(page.headers_mut(), request_id);
                page
            }
            _ => self.page(&super::request::current_request_id()),
        }
    }
}

impl WebError {
    /// The error as a page naming request `request_id`.
    fn page(&self, request_id: &str) -> HttpResponse {
        if let Self::SignIn(back) = self {
            return see_other(&portal::sign_in_then(back));
        }
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
            Self::TooLarge => (
                "Too large",
                "This form sent more than the portal accepts (64 KiB). Nothing was changed.",
            ),
            Self::UrlTooLong => (
                "Too long",
                "This address is longer than the portal accepts.",
            ),
            Self::HeadersTooLarge => (
                "Too large",
                "This request's headers are larger than the portal accepts.",
            ),
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
            Self::Failed { cause, .. } => {
                tracing::error!(request_id = %request_id, error = %cause, "unexpected error outside a handler");
                (
                    "Something went wrong",
                    "Something went wrong on our side. The problem has been logged.",
                )
            }
        };
        let body = ErrorTemplate {
            title,
            message,
            request_id: request_id.to_owned(),
        }
        .render()
        .unwrap_or_else(|_| title.to_owned());
        let mut resp = HttpResponse::build(self.status_code());
        resp.content_type("text/html; charset=utf-8");
        if matches!(self, Self::Unavailable) {
            resp.insert_header((header::RETRY_AFTER, "5"));
        }
        if matches!(self, Self::TooLarge) {
            // The rest of the body is never kept: actix drops what the
            // client goes on sending for at most its client-disconnect
            // timeout (1 s), so the answer is not lost to a reset, then
            // closes the connection instead of keeping it alive.
            resp.force_close();
        }
        let mut resp = resp.body(body);
        resp.extensions_mut().insert(ErrorPage);
        resp
    }
}

/// Marks a response as one of our error pages (already logged).
struct ErrorPage;

/// Every 5xx reaches the person as our error page with its request id, and
/// the log at error level, whatever raised it: a handler's unexpected
/// error already is; a middleware's failure or a framework's own 5xx is
/// made so here.
pub fn page_for_server_error(res: ServiceResponse, request_id: &str) -> ServiceResponse {
    if !res.status().is_server_error() || res.response().extensions().contains::<ErrorPage>() {
        return res;
    }
    let cause = res
        .response()
        .error()
        .map_or_else(|| format!("status {}", res.status()), ToString::to_string);
    let page = WebError::Failed {
        request_id: request_id.to_owned(),
        cause,
    }
    .page(request_id);
    res.into_response(page)
}

/// A 5xx that a handler answers on purpose (`/readyz`'s 503), kept as it is
/// rather than made the error page.
pub fn intended(mut resp: HttpResponse) -> HttpResponse {
    resp.extensions_mut().insert(ErrorPage);
    resp
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

/// Post/redirect/get.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}
