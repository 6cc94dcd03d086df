use actix_session::Session;
use actix_web::HttpResponse;
use askama::Template;

use super::{Chrome, CurrentAdmin};
use crate::web::errors::{WebError, ok};

#[derive(Template)]
#[template(path = "admin/coming_soon.html")]
struct ComingSoon {
    chrome: Chrome,
    title: &'static str,
}

pub async fn groups(session: Session, admin: CurrentAdmin) -> Result<HttpResponse, WebError> {
    ok(&ComingSoon {
        chrome: Chrome::new(&session, &admin, "groups"),
        title: "Groups",
    })
}

pub async fn products(session: Session, admin: CurrentAdmin) -> Result<HttpResponse, WebError> {
    ok(&ComingSoon {
        chrome: Chrome::new(&session, &admin, "products"),
        title: "Products",
    })
}
