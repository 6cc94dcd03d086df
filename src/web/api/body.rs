//! What the management API reads from a request besides the path: the JSON
//! body (bounded, parsed into the operation's own type, naming the field
//! it gets wrong) and the paging of lists (`$top`, `$skip`, SPEC M4).

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::envelope::ApiError;
use crate::web::limits::API_LIMIT;

/// A JSON body of type `T`. Unknown fields, wrong types and bad JSON are
/// 400 ValidationError with the field's path as its target.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(_: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let mut payload = payload.take();
        Box::pin(async move {
            use futures_util::StreamExt;
            let mut body = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk
                    .map_err(|_| ApiError::bad_request("The request body could not be read."))?;
                if body.len() + chunk.len() > API_LIMIT {
                    return Err(ApiError::new(
                        actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
                        "RequestEntityTooLarge",
                        format!("The request body is larger than {} KiB.", API_LIMIT / 1024),
                    ));
                }
                body.extend_from_slice(&chunk);
            }
            let de = &mut serde_json::Deserializer::from_slice(&body);
            serde_path_to_error::deserialize(de).map(Json).map_err(|e| {
                let target = e.path().to_string();
                let message = e.inner().to_string();
                if target == "." || target.is_empty() {
                    ApiError::bad_request(format!(
                        "The request body is not valid JSON for this operation: {message}"
                    ))
                } else {
                    ApiError::field(&target, message)
                }
            })
        })
    }
}

/// Rows a list page holds unless `$top` says otherwise.
pub const DEFAULT_TOP: i64 = 100;
/// M4: `$top` is at most this.
pub const MAX_TOP: i64 = 1_000;

/// `$top` and `$skip`.
#[derive(Debug, Clone, Copy)]
pub struct Paging {
    pub top: i64,
    pub skip: i64,
}

#[derive(Deserialize)]
struct PagingQuery {
    #[serde(rename = "$top")]
    top: Option<String>,
    #[serde(rename = "$skip")]
    skip: Option<String>,
}

impl Paging {
    pub fn of(req: &HttpRequest) -> Result<Self, ApiError> {
        let q: PagingQuery = serde_urlencoded::from_str(req.query_string())
            .map_err(|_| ApiError::bad_request("The query string could not be read."))?;
        let number = |name: &str, v: Option<String>, min: i64, max: i64, default: i64| match v {
            None => Ok(default),
            Some(v) => match v.trim().parse::<i64>() {
                Ok(n) if (min..=max).contains(&n) => Ok(n),
                _ => Err(ApiError::field(
                    name,
                    format!("{name} must be a whole number from {min} to {max}."),
                )),
            },
        };
        Ok(Self {
            top: number("$top", q.top, 1, MAX_TOP, DEFAULT_TOP)?,
            skip: number("$skip", q.skip, 0, i64::from(i32::MAX), 0)?,
        })
    }

    /// The link to the page after this one, when `fetched` (one more row
    /// than `top` is asked of the store) says there is one: this request's
    /// URL on the public base URL, with `$skip` moved on.
    pub fn next_link(&self, req: &HttpRequest, base_url: &str, more: bool) -> Option<String> {
        if !more {
            return None;
        }
        let mut pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
        pairs.retain(|(k, _)| k != "$skip" && k != "$top");
        pairs.push(("$top".into(), self.top.to_string()));
        pairs.push(("$skip".into(), (self.skip + self.top).to_string()));
        let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        Some(format!("{base_url}{}?{query}", req.path()))
    }
}

/// `$filter`, parsed for the fields `F`, if the request has one.
pub fn filter<F: crate::domain::query::FilterField>(
    req: &HttpRequest,
) -> Result<Option<crate::domain::query::Filter<F>>, ApiError> {
    #[derive(Deserialize)]
    struct Q {
        #[serde(rename = "$filter")]
        filter: Option<String>,
    }
    let q: Q = serde_urlencoded::from_str(req.query_string())
        .map_err(|_| ApiError::bad_request("The query string could not be read."))?;
    match q.filter.filter(|f| !f.trim().is_empty()) {
        None => Ok(None),
        Some(f) => super::filter::parse::<F>(&f)
            .map(Some)
            .map_err(|m| ApiError::field("$filter", m)),
    }
}

/// A boolean query parameter (`notify`, `deleteSubscriptions`).
pub fn flag(req: &HttpRequest, name: &str) -> Result<bool, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(req.query_string())
        .map_err(|_| ApiError::bad_request("The query string could not be read."))?;
    match pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
    {
        None => Ok(false),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
        Some(_) => Err(ApiError::field(name, format!("{name} is true or false."))),
    }
}
