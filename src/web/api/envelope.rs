//! The management API's wire shapes (SPEC M2, M3): the resource envelope
//! (`id`, `type`, `name`, `properties`), collections (`value`, `count`,
//! `nextLink`), entity tags, and the error envelope
//! `{"error":{"code","message","details"}}`, mapped once from `ServiceError`.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;
use serde_json::json;

use crate::services::ServiceError;

/// An error as the commercial API answers it.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// (target field, message), one per field that broke a rule.
    pub details: Vec<(String, String)>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: Vec::new(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BadRequest", message)
    }

    /// One field that breaks a rule (400 ValidationError).
    pub fn field(target: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self {
            status: StatusCode::BAD_REQUEST,
            code: "ValidationError",
            message: "One or more fields contain incorrect values:".into(),
            details: vec![(target.to_owned(), message)],
        }
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            format!("{what} not found."),
        )
    }

    /// A service error, with "not found" naming what was not (`User`,
    /// `Product` …): `.map_err(ApiError::unless_found("User"))`.
    pub fn unless_found(what: &'static str) -> impl Fn(ServiceError) -> ApiError {
        move |e| match e {
            ServiceError::NotFound => ApiError::not_found(what),
            e => e.into(),
        }
    }

    pub fn precondition_failed() -> Self {
        Self::new(
            StatusCode::PRECONDITION_FAILED,
            "PreconditionFailed",
            "The entity has changed since it was read (If-Match does not match its ETag).",
        )
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let details: Vec<_> = self
            .details
            .iter()
            .map(|(target, message)| json!({"code": "ValidationError", "target": target, "message": message}))
            .collect();
        let mut resp = HttpResponse::build(self.status);
        // Only a 503 invites a retry: the SDKs retry any error that carries
        // Retry-After.
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            resp.insert_header((header::RETRY_AFTER, "5"));
        }
        resp.json(
            json!({"error": {"code": self.code, "message": self.message, "details": details}}),
        )
    }
}

/// `first_name` → `firstName`: the API's name of a form field.
fn wire_name(field: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in field.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::NotFound => Self::not_found("Entity"),
            ServiceError::Invalid(fields) => Self {
                status: StatusCode::BAD_REQUEST,
                code: "ValidationError",
                message: "One or more fields contain incorrect values:".into(),
                details: fields
                    .into_iter()
                    .map(|f| (wire_name(f.field), f.message))
                    .collect(),
            },
            ServiceError::Conflict(m) => Self::new(StatusCode::CONFLICT, "Conflict", m),
            ServiceError::Forbidden(m) => Self::new(StatusCode::BAD_REQUEST, "ValidationError", m),
            ServiceError::Expired => Self::bad_request("The link has expired."),
            ServiceError::PreconditionFailed => Self::precondition_failed(),
            ServiceError::Unavailable => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailable",
                "The portal is busy; nothing was changed. Try again in a few seconds.",
            ),
            ServiceError::Unexpected(e) => {
                let request_id = crate::web::request::current_request_id();
                tracing::error!(request_id = %request_id, error = %e, "unexpected error in the management API");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "InternalServerError",
                    format!("Something went wrong on our side; request id {request_id}."),
                )
            }
        }
    }
}

/// Field errors of a form's parser, under the API's field names: the
/// console's `name` is the API's `displayName`.
pub fn display_name_errors(errors: Vec<crate::domain::FieldError>) -> ApiError {
    ServiceError::Invalid(
        errors
            .into_iter()
            .map(|mut f| {
                if f.field == "name" {
                    f.field = "display_name";
                }
                f
            })
            .collect(),
    )
    .into()
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        ServiceError::from(e).into()
    }
}

pub type ApiResult = Result<HttpResponse, ApiError>;

/// The path every entity's `id` starts with: the subscription, resource
/// group and service the request named, echoed (SPEC M1).
#[derive(Debug, Clone)]
pub struct Service {
    pub prefix: String,
}

impl Service {
    pub fn of(req: &HttpRequest) -> Self {
        let m = req.match_info();
        Self {
            prefix: format!(
                "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.ApiManagement/service/{}",
                m.get("sub").unwrap_or_default(),
                m.get("rg").unwrap_or_default(),
                m.get("svc").unwrap_or_default()
            ),
        }
    }

    /// An entity: `{id, type, name, properties}`.
    pub fn resource<'a, P: Serialize>(
        &'a self,
        path: String,
        kind: &'a str,
        name: &'a str,
        properties: P,
    ) -> Resource<'a, P> {
        Resource {
            prefix: &self.prefix,
            path,
            kind,
            name,
            properties,
        }
    }
}

/// An entity on the wire: `{id, type, name, properties}`, written straight
/// to the response (a page of 100 users built no JSON tree first).
pub struct Resource<'a, P> {
    prefix: &'a str,
    path: String,
    kind: &'a str,
    name: &'a str,
    properties: P,
}

impl<P: Serialize> Serialize for Resource<'_, P> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        struct Joined<'b>(&'b str, &'b str);
        impl Serialize for Joined<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(&format_args!("{}{}", self.0, self.1))
            }
        }
        let mut m = s.serialize_map(Some(4))?;
        m.serialize_entry("id", &Joined(self.prefix, &self.path))?;
        m.serialize_entry(
            "type",
            &Joined("Microsoft.ApiManagement/service/", self.kind),
        )?;
        m.serialize_entry("name", self.name)?;
        m.serialize_entry("properties", &self.properties)?;
        m.end()
    }
}

/// An entity tag from a version (M3): quoted, as HTTP writes them.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// What `If-Match` asks, if anything: any version (`*`), or one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfMatch {
    Any,
    Version(i64),
}

impl IfMatch {
    /// `Err` when the header is there but names no version of ours: it can
    /// never match.
    pub fn of(req: &HttpRequest) -> Result<Option<Self>, ApiError> {
        let Some(v) = req.headers().get(header::IF_MATCH) else {
            return Ok(None);
        };
        let v = v.to_str().unwrap_or_default().trim();
        if v == "*" {
            return Ok(Some(Self::Any));
        }
        let bare = v.trim_start_matches("W/").trim_matches('"');
        bare.parse::<i64>()
            .map(|n| Some(Self::Version(n)))
            .map_err(|_| ApiError::precondition_failed())
    }

    /// PATCH and DELETE (M3): `If-Match` is required.
    pub fn required(req: &HttpRequest) -> Result<Self, ApiError> {
        Self::of(req)?.ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "InvalidRequest",
                "The If-Match header is required (an ETag, or * for any version).",
            )
        })
    }

    /// What the change must find.
    pub fn expect(self) -> crate::services::Expect {
        match self {
            Self::Any => crate::services::Expect::Any,
            Self::Version(n) => crate::services::Expect::Version(n),
        }
    }
}

/// What a PUT does (M3), from what it found and its `If-Match`: replace
/// the entity with the version `If-Match` names (any, without one), or
/// create it, which an `If-Match` naming a version never allows.
pub enum Put<T> {
    Replace(T, crate::services::Expect),
    Create,
}

impl<T> Put<T> {
    pub fn of(found: Result<T, ServiceError>, if_match: Option<IfMatch>) -> Result<Self, ApiError> {
        match found {
            Ok(current) => Ok(Self::Replace(
                current,
                if_match.map_or(crate::services::Expect::Any, IfMatch::expect),
            )),
            Err(ServiceError::NotFound) if matches!(if_match, Some(IfMatch::Version(_))) => {
                Err(ApiError::precondition_failed())
            }
            Err(ServiceError::NotFound) => Ok(Self::Create),
            Err(e) => Err(e.into()),
        }
    }
}

/// An id a client chose for a new entity (it stands in console URLs too).
pub fn entity_id(id: &str) -> Result<String, ApiError> {
    crate::domain::ids::parse_entity_id(id).map_err(|m| ApiError::field("name", m))
}

/// An entity with its ETag.
pub fn entity(status: StatusCode, version: i64, body: impl Serialize) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::ETAG, etag(version)))
        .json(&body)
}

/// The answer to HEAD: 200 and the ETag, no body.
pub fn entity_tag(version: i64) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, etag(version)))
        .finish()
}

/// `{value, count, nextLink}`.
pub fn collection<T: Serialize>(
    value: Vec<T>,
    count: Option<i64>,
    next_link: Option<String>,
) -> HttpResponse {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Collection<T> {
        value: Vec<T>,
        #[serde(skip_serializing_if = "Option::is_none")]
        count: Option<i64>,
        next_link: String,
    }
    HttpResponse::Ok().json(&Collection {
        value,
        count,
        next_link: next_link.unwrap_or_default(),
    })
}

/// RFC 3339 in UTC with a `Z`, as the API writes dates.
pub fn date(unix: i64) -> String {
    use time::format_description::well_known::Rfc3339;
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// The entity a path names. Paths also carry the subscription, resource
/// group and service, so parameters are read by name.
#[derive(serde::Deserialize)]
pub struct Id {
    pub id: String,
}

impl std::ops::Deref for Id {
    type Target = String;

    fn deref(&self) -> &String {
        &self.id
    }
}

/// An entity and the one linked to it (`/groups/{id}/users/{other}`).
#[derive(serde::Deserialize)]
pub struct Link {
    pub id: String,
    pub other: String,
}
