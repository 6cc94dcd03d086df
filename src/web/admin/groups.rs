//! The Groups tab (SPEC G1–G4, G6): list, Add group, Settings, Members, Delete.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::users::{HistoryRow, Row, list_url_for};
use super::{Chrome, CurrentAdmin};
use crate::domain::group::{GroupKind, GroupSettings, is_system};
use crate::services::{Ctx, ServiceError, account_list, accounts, groups};
use crate::store::accounts::{Cursor, SortKey};
use crate::store::groups::{GroupListRow, GroupRow};
use crate::web::csrf::Form;
use crate::web::errors::{WebError, ok, page, see_other};
use crate::web::forms::Errors;
use crate::web::session;

fn group_url(id: &str) -> String {
    format!("/admin/groups/{id}")
}

// ---- list ------------------------------------------------------------------

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
    let members = match g.id.as_str() {
        crate::domain::group::DEVELOPERS => all_accounts.to_string(),
        crate::domain::group::GUESTS => "—".to_owned(),
        _ => g.member_count.to_string(),
    };
    ListRow {
        kind: GroupKind::parse(&g.kind).map_or("", |k| k.label()),
        system: g.kind == "system",
        members,
        products: g.product_count,
        description: g.description.unwrap_or_default(),
        id: g.id,
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
    let with_q = |extra: &[(&str, &str)]| super::list_page_url("/admin/groups", &q, extra);
    ok(&ListPage {
        chrome: Chrome::new(&session, &admin, "groups"),
        next_url: result
            .next
            .as_ref()
            .map(|(k, id)| with_q(&[("after", k), ("id", id)])),
        first_url: after.is_some().then(|| with_q(&[])),
        rows: result
            .rows
            .into_iter()
            .map(|g| list_row(g, result.all_accounts))
            .collect(),
        q,
    })
}

// ---- add -------------------------------------------------------------------

#[derive(Deserialize, Default)]
pub struct AddForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    /// Accounts picked so far as initial members.
    #[serde(default)]
    members: Vec<String>,
    #[serde(default)]
    find: String,
    /// `find` searches accounts to pick; anything else creates the group.
    #[serde(default)]
    action: String,
}

#[derive(Template)]
#[template(path = "admin/groups/add.html")]
struct AddPage {
    chrome: Chrome,
    name: String,
    description: String,
    find: String,
    picked: Vec<Row>,
    found: Vec<Row>,
    searched: bool,
    errors: Errors,
}

/// Accounts by id, for showing the picked members again.
async fn rows_for(ctx: &Ctx, ids: &[String]) -> Result<Vec<Row>, ServiceError> {
    Ok(accounts::by_ids(ctx, ids)
        .await?
        .into_iter()
        .map(Row::from)
        .collect())
}

/// Accounts matching a search, for picking (first 20).
pub(super) async fn find_accounts(
    ctx: &Ctx,
    text: &str,
    exclude: &[String],
) -> Result<Vec<Row>, ServiceError> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let page = account_list::list(
        ctx,
        &account_list::UsersQuery {
            sort: SortKey::Name,
            descending: false,
            state: None,
            search: Some(text.trim().to_owned()),
            groups: None,
            cursor: None,
            group_counts: false,
        },
    )
    .await?;
    Ok(page
        .rows
        .into_iter()
        .filter(|a| !exclude.contains(&a.id))
        .take(20)
        .map(Row::from)
        .collect())
}

pub async fn add_form(session: Session, admin: CurrentAdmin) -> Result<HttpResponse, WebError> {
    ok(&AddPage {
        chrome: Chrome::new(&session, &admin, "groups"),
        name: String::new(),
        description: String::new(),
        find: String::new(),
        picked: Vec::new(),
        found: Vec::new(),
        searched: false,
        errors: Errors::default(),
    })
}

pub async fn add(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    Form(f): Form<AddForm>,
) -> Result<HttpResponse, WebError> {
    let mut members = f.members.clone();
    members.dedup();
    let (status, errors) = if f.action == "find" {
        (StatusCode::OK, Vec::new())
    } else {
        let result = match GroupSettings::parse(&f.name, &f.description) {
            Ok(s) => groups::create(&ctx, &admin.actor(), None, &s, &members).await,
            Err(errors) => Err(ServiceError::Invalid(errors)),
        };
        match result {
            Ok(id) => {
                session::flash(
                    &session,
                    "success",
                    format!(
                        "Added group {} with {} member(s).",
                        f.name.trim(),
                        members.len()
                    ),
                );
                return Ok(see_other(&group_url(&id)));
            }
            Err(ServiceError::Invalid(errors)) => (StatusCode::UNPROCESSABLE_ENTITY, errors),
            Err(e) => return Err(e.into()),
        }
    };
    page(
        status,
        &AddPage {
            chrome: Chrome::new(&session, &admin, "groups"),
            picked: rows_for(&ctx, &members).await?,
            found: find_accounts(&ctx, &f.find, &members).await?,
            searched: !f.find.trim().is_empty(),
            name: f.name,
            description: f.description,
            find: f.find,
            errors: Errors(errors),
        },
    )
}

// ---- settings --------------------------------------------------------------

#[derive(Template)]
#[template(path = "admin/groups/show.html")]
struct ShowPage {
    chrome: Chrome,
    g: GroupRow,
    kind: &'static str,
    custom: bool,
    name: String,
    description: String,
    errors: Errors,
    history: Vec<HistoryRow>,
}

async fn show_page(
    ctx: &Ctx,
    session: &Session,
    admin: &CurrentAdmin,
    g: GroupRow,
    status: StatusCode,
    form: Option<(String, String, Errors)>,
) -> Result<HttpResponse, WebError> {
    let history = crate::services::audit_log::history(ctx, "group", &g.id).await?;
    let (name, description, errors) = form.unwrap_or_else(|| {
        (
            g.name.clone(),
            g.description.clone().unwrap_or_default(),
            Errors::default(),
        )
    });
    page(
        status,
        &ShowPage {
            chrome: Chrome::new(session, admin, "groups"),
            kind: GroupKind::parse(&g.kind).map_or("", |k| k.label()),
            custom: g.kind == "custom",
            g,
            name,
            description,
            errors,
            history: history.into_iter().map(HistoryRow::from).collect(),
        },
    )
}

pub async fn show(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let g = groups::get(&ctx, &id).await?;
    show_page(&ctx, &session, &admin, g, StatusCode::OK, None).await
}

#[derive(Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
}

pub async fn update(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<String>,
    Form(f): Form<SettingsForm>,
) -> Result<HttpResponse, WebError> {
    let result = match GroupSettings::parse(&f.name, &f.description) {
        Ok(s) => groups::update(&ctx, &admin.actor(), &id, &s, crate::services::Expect::Any).await,
        Err(errors) => Err(ServiceError::Invalid(errors)),
    };
    match result {
        Ok(g) => {
            session::flash(&session, "success", format!("Saved group {}.", g.name));
            Ok(see_other(&group_url(&id)))
        }
        Err(ServiceError::Invalid(errors)) => {
            let g = groups::get(&ctx, &id).await?;
            let form = Some((f.name, f.description, Errors(errors)));
            show_page(
                &ctx,
                &session,
                &admin,
                g,
                StatusCode::UNPROCESSABLE_ENTITY,
                form,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

// ---- members ---------------------------------------------------------------

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
    let everyone = groups::members_are_everyone(&g.id);
    let nobody = result.is_none();
    let base = format!("/admin/groups/{}/members", g.id);
    let (rows, count_label, next_url, prev_url) = match result {
        None => (Vec::new(), String::new(), None, None),
        Some(result) => {
            let label = match (result.total, result.total_capped) {
                (_, true) => format!("More than {} members", account_list::COUNT_CAP),
                (1, _) => "1 member".to_owned(),
                (n, _) => format!("{n} members"),
            };
            let url = |c: &Cursor| list_url_for(&base, &q, "", SortKey::Name, false, Some(c));
            (
                result.rows.into_iter().map(Row::from).collect(),
                label,
                result.next.as_ref().map(url),
                result.prev.as_ref().map(url),
            )
        }
    };
    let custom = g.kind == "custom";
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
    let back = format!("/admin/groups/{id}/members");
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
    let back = format!("/admin/groups/{id}/members");
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

// ---- delete ----------------------------------------------------------------

#[derive(Template)]
#[template(path = "admin/groups/delete.html")]
struct DeletePage {
    chrome: Chrome,
    g: GroupRow,
    memberships: i64,
    grants: i64,
}

pub async fn delete_confirm(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let g = groups::get(&ctx, &id).await?;
    if is_system(&g.id) || g.kind != "custom" {
        return Err(WebError::Forbidden(format!(
            "{} cannot be deleted.",
            g.name
        )));
    }
    let d = groups::dependants(&ctx, &id).await?;
    ok(&DeletePage {
        chrome: Chrome::new(&session, &admin, "groups"),
        g,
        memberships: d.memberships,
        grants: d.grants,
    })
}

#[derive(Deserialize)]
pub struct Empty {}

pub async fn delete(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<String>,
    _: Form<Empty>,
) -> Result<HttpResponse, WebError> {
    let g = groups::delete(&ctx, &admin.actor(), &id, crate::services::Expect::Any).await?;
    session::flash(&session, "success", format!("Deleted group {}.", g.name));
    Ok(see_other("/admin/groups"))
}
