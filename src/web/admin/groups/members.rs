//! A group's Members tab (SPEC G4): the members in pages, searchable; for
//! a custom group, accounts found by name to add and ticked members to remove.

use actix_session::Session;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::find_accounts;
use crate::domain::group::{Holds, holds};
use crate::services::{Ctx, ServiceError, account_list, groups};
use crate::store::account_list::Cursor;
use crate::store::groups::GroupRow;
use crate::web::admin::users::{Row, page_url};
use crate::web::admin::{Chrome, CurrentAdmin};
use crate::web::csrf::Form;
use crate::web::errors::{WebError, ok, see_other};
use crate::web::paths::console;
use crate::web::session;

#[derive(Deserialize, Default)]
pub struct MembersParams {
    #[serde(default)]
    q: String,
    #[serde(default)]
    find: String,
    after: Option<String>,
    before: Option<String>,
    #[serde(default)]
    id: String,
}

#[derive(Template)]
#[template(path = "admin/groups/members.html")]
struct MembersPage {
    chrome: Chrome,
    g: GroupRow,
    custom: bool,
    everyone: bool,
    nobody: bool,
    q: String,
    find: String,
    rows: Vec<Row>,
    count_label: String,
    next_url: Option<String>,
    prev_url: Option<String>,
    found: Vec<Row>,
    searched: bool,
}

pub async fn members(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<String>,
    params: web::Query<MembersParams>,
) -> Result<HttpResponse, WebError> {
    let p = params.into_inner();
    let q = p.q.trim().to_owned();
    let cursor = Cursor::from_params(p.after, p.before, p.id);
    let (g, result) =
        groups::members_page(&ctx, &id, (!q.is_empty()).then(|| q.clone()), cursor).await?;
    let everyone = holds(&g.id) == Holds::Everyone;
    let nobody = result.is_none();
    let base = console::group_members(&g.id);
    let (rows, count_label, next_url, prev_url) = match result {
        None => (Vec::new(), String::new(), None, None),
        Some(result) => {
            let label = match (result.total, result.total_capped) {
                (_, true) => format!("More than {} members", account_list::COUNT_CAP),
                (1, _) => "1 member".to_owned(),
                (n, _) => format!("{n} members"),
            };
            let url = |c: &Cursor| page_url(&base, &q, c);
            (
                result.rows.into_iter().map(Row::from).collect(),
                label,
                result.next.as_ref().map(url),
                result.prev.as_ref().map(url),
            )
        }
    };
    let custom = g.kind.is_edited_by_hand();
    let found = if custom {
        find_members_to_add(&ctx, &g.id, &p.find).await?
    } else {
        Vec::new()
    };
    ok(&MembersPage {
        chrome: Chrome::new(&session, &admin, "groups"),
        custom,
        everyone,
        nobody,
        searched: !p.find.trim().is_empty(),
        g,
        q,
        find: p.find,
        rows,
        count_label,
        next_url,
        prev_url,
        found,
    })
}

/// Accounts matching `text` that are not members yet.
async fn find_members_to_add(
    ctx: &Ctx,
    group_id: &str,
    text: &str,
) -> Result<Vec<Row>, ServiceError> {
    let found = find_accounts(ctx, text, &[]).await?;
    let ids: Vec<String> = found.iter().map(|r| r.id.clone()).collect();
    let members = groups::members_among(ctx, group_id, &ids).await?;
    Ok(found
        .into_iter()
        .filter(|r| !members.contains(&r.id))
        .collect())
}

#[derive(Deserialize)]
pub struct MembersForm {
    #[serde(default)]
    ids: Vec<String>,
    /// A per-row Remove button names just its own account.
    remove_one: Option<String>,
}

pub async fn add_members(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<String>,
    Form(f): Form<MembersForm>,
) -> Result<HttpResponse, WebError> {
    let back = console::group_members(&id);
    if f.ids.is_empty() {
        session::flash(&session, "error", "Tick at least one account to add.");
        return Ok(see_other(&back));
    }
    let n = groups::add_members(&ctx, &admin.actor(), &id, &f.ids).await?;
    session::flash(&session, "success", format!("Added {n} member(s)."));
    Ok(see_other(&back))
}

pub async fn remove_members(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<String>,
    Form(f): Form<MembersForm>,
) -> Result<HttpResponse, WebError> {
    let back = console::group_members(&id);
    let ids = match f.remove_one {
        Some(one) => vec![one],
        None => f.ids,
    };
    if ids.is_empty() {
        session::flash(&session, "error", "Tick at least one member to remove.");
        return Ok(see_other(&back));
    }
    let n = groups::remove_members(&ctx, &admin.actor(), &id, &ids).await?;
    session::flash(&session, "success", format!("Removed {n} member(s)."));
    Ok(see_other(&back))
}
