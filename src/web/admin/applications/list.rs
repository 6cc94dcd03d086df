//! The Applications list, and the signing keys with Rotate signing key (O4).

use actix_session::Session;
use actix_web::{HttpResponse, web};
use askama::Template;

use crate::clock;
use crate::services::{Ctx, applications, signing_keys};
use crate::web::admin::{Chrome, CurrentAdmin};
use crate::web::csrf::Form;
use crate::web::errors::{WebError, ok, see_other};
use crate::web::forms::Empty;
use crate::web::paths::console;
use crate::web::session;

pub struct Row {
    pub id: String,
    pub name: String,
    pub kind: &'static str,
    pub trusted: bool,
    pub created: String,
}

pub struct KeyRow {
    pub kid: String,
    pub alg: &'static str,
    pub created: String,
    pub state: String,
}

#[derive(Template)]
#[template(path = "admin/applications/list.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<Row>,
    keys: Vec<KeyRow>,
    discovery: String,
}

pub async fn list(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
) -> Result<HttpResponse, WebError> {
    // First start made the keys in the background; make sure they exist.
    signing_keys::current(&ctx).await?;
    let rows = applications::list(&ctx)
        .await?
        .into_iter()
        .map(|a| Row {
            kind: if a.kind == crate::domain::application::ClientKind::Public {
                "Public"
            } else {
                "Confidential"
            },
            created: clock::display(a.created_at),
            trusted: a.trusted,
            id: a.id,
            name: a.name,
        })
        .collect();
    let keys = signing_keys::list(&ctx)
        .await?
        .into_iter()
        .map(|k| KeyRow {
            kid: k.kid,
            alg: k.alg.as_str(),
            created: clock::display(k.created_at),
            state: match k.published_until {
                None => "Signs new tokens".into(),
                Some(t) => format!("Retired; published until {}", clock::display(t)),
            },
        })
        .collect();
    ok(&ListPage {
        chrome: Chrome::new(&session, &admin, "applications"),
        rows,
        keys,
        discovery: format!(
            "{}{}",
            crate::services::oidc::issuer(&ctx),
            crate::web::paths::oidc::DISCOVERY
        ),
    })
}

pub async fn rotate_keys(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    Form(_): Form<Empty>,
) -> Result<HttpResponse, WebError> {
    signing_keys::rotate(&ctx, &admin.actor()).await?;
    session::flash(
        &session,
        "success",
        "Rotated the signing keys. New tokens are signed with the new keys; the old ones stay published until their tokens expire.",
    );
    Ok(see_other(console::APPLICATIONS))
}
