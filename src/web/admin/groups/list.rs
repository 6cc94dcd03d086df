//! The Groups list (SPEC G1, G2): every group with its kind, members and
//! products, searchable by name, in pages.

use actix_session::Session;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::domain::group::{Holds, holds};
use crate::services::{Ctx, groups};
use crate::store::groups::GroupListRow;
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
    pub kind: &'static str,
    pub system: bool,
    pub members: String,
    pub products: i64,
    pub description: String,
    /// An external group's identity provider.
    pub provider: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/groups/list.html")]
struct ListPage {
    chrome: Chrome,
    q: String,
    rows: Vec<ListRow>,
    next_url: Option<String>,
    first_url: Option<String>,
}

fn list_row(g: GroupListRow, all_accounts: i64) -> ListRow {
    let members = match holds(&g.id) {
        Holds::Everyone => all_accounts.to_string(),
        Holds::Nobody => "—".to_owned(),
        Holds::Members => g.member_count.to_string(),
    };
    ListRow {
        kind: g.kind.label(),
        system: g.kind.is_system(),
        members,
        products: g.product_count,
        description: g.description.unwrap_or_default(),
        provider: g.provider,
        id: g.id.into(),
        name: g.name,
    }
}

pub async fn list(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, WebError> {
    let p = params.into_inner();
    let q = p.q.trim().to_owned();
    let search = (!q.is_empty()).then_some(q.as_str());
    let after = p.after.as_deref().map(|k| (k, p.id.as_str()));
    let result = groups::list(&ctx, search, after).await?;
    let base = console::GROUPS;
    ok(&ListPage {
        chrome: Chrome::new(&session, &admin, "groups"),
        next_url: result
            .next
            .as_ref()
            .map(|(k, id)| with_query(base, &[("q", &q), ("after", k), ("id", id)])),
        first_url: after.is_some().then(|| with_query(base, &[("q", &q)])),
        rows: result
            .rows
            .into_iter()
            .map(|g| list_row(g, result.all_accounts))
            .collect(),
        q,
    })
}
