//! The Products list (SPEC P1): every product with its state and the
//! groups that can see it, searchable by name, in pages.

use actix_session::Session;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::services::{Ctx, products};
use crate::web::admin::{Chrome, CurrentAdmin};
use crate::web::errors::{WebError, ok};
use crate::web::paths::{console, with_query};

#[derive(Deserialize, Default)]
pub struct ListParams {
    #[serde(default)]
    q: String,
    after: Option<String>,
    #[serde(default)]
    id: String,
}

pub struct ListRow {
    pub id: String,
    pub name: String,
    pub published: bool,
    pub groups: Vec<String>,
}

#[derive(Template)]
#[template(path = "admin/products/list.html")]
struct ListPage {
    chrome: Chrome,
    q: String,
    rows: Vec<ListRow>,
    next_url: Option<String>,
    first_url: Option<String>,
}

pub async fn list(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, WebError> {
    let p = params.into_inner();
    let q = p.q.trim().to_owned();
    let after = p.after.as_deref().map(|k| (k, p.id.as_str()));
    let result = products::list(&ctx, (!q.is_empty()).then_some(q.as_str()), after).await?;
    let base = console::PRODUCTS;
    ok(&ListPage {
        chrome: Chrome::new(&session, &admin, "products"),
        next_url: result
            .next
            .as_ref()
            .map(|(k, id)| with_query(base, &[("q", &q), ("after", k), ("id", id)])),
        first_url: after.is_some().then(|| with_query(base, &[("q", &q)])),
        rows: result
            .rows
            .into_iter()
            .map(|r| ListRow {
                published: r.state.is_published(),
                groups: r
                    .group_names
                    .map(|g| g.split('\u{1f}').map(str::to_owned).collect())
                    .unwrap_or_default(),
                id: r.id.into(),
                name: r.name,
            })
            .collect(),
        q,
    })
}
