//! A product's Access control tab (SPEC P2, P5): the groups that can see
//! it, with checkboxes, Add group and Remove, and who can see it.

use actix_session::Session;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::services::{Ctx, ServiceError, access, account_list, products};
use crate::store::account_list::{Cursor, SortKey};
use crate::store::groups::GroupRef;
use crate::store::products::ProductRow;
use crate::web::admin::users::{Row, page_url};
use crate::web::admin::{Chrome, CurrentAdmin};
use crate::web::csrf::Form;
use crate::web::errors::{WebError, ok, see_other};
use crate::web::paths::console;
use crate::web::session;

#[derive(Deserialize, Default)]
pub struct AccessParams {
    #[serde(default)]
    q: String,
    #[serde(default)]
    find: String,
    after: Option<String>,
    before: Option<String>,
    #[serde(default)]
    id: String,
}

pub struct GroupCheck {
    pub id: String,
    pub name: String,
    pub system: bool,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "admin/products/access.html")]
struct AccessPage {
    chrome: Chrome,
    p: ProductRow,
    granted: Vec<GroupRef>,
    checks: Vec<GroupCheck>,
    find: String,
    candidates: Vec<GroupRef>,
    everyone: bool,
    visitors: bool,
    q: String,
    viewers: Vec<Row>,
    viewers_label: String,
    next_url: Option<String>,
    prev_url: Option<String>,
}

pub async fn access(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<String>,
    params: web::Query<AccessParams>,
) -> Result<HttpResponse, WebError> {
    let a = params.into_inner();
    let crate::store::access::AccessChoices {
        product: p,
        granted,
        system,
        candidates,
    } = access::access_choices(&ctx, &id, &a.find).await?;
    // The checkboxes: every system group and every group with access; other
    // groups are found by name and added (1,000 checkboxes help nobody).
    let mut checks: Vec<GroupCheck> = system
        .iter()
        .chain(granted.iter().filter(|g| !g.kind.is_system()))
        .map(|g| GroupCheck {
            id: g.id.to_string(),
            name: g.name.clone(),
            system: g.kind.is_system(),
            checked: granted.iter().any(|x| x.id == g.id),
        })
        .collect();
    checks.dedup_by(|a, b| a.id == b.id);
    let q = a.q.trim().to_owned();
    let cursor = Cursor::from_params(a.after, a.before, a.id);
    let audience = access::audience(
        &ctx,
        &p,
        &granted,
        account_list::UsersQuery {
            sort: SortKey::Name,
            descending: false,
            state: None,
            search: (!q.is_empty()).then(|| q.clone()),
            groups: None,
            cursor,
            group_counts: false,
        },
    )
    .await?;
    let base = console::product_access(&id);
    let url = |c: &Cursor| page_url(&base, &q, c);
    let (viewers, viewers_label, next_url, prev_url) = match audience.page {
        Some(pg) => (
            pg.rows.into_iter().map(Row::from).collect(),
            match (pg.total, pg.total_capped) {
                (_, true) => format!("More than {} accounts", account_list::COUNT_CAP),
                (1, _) => "1 account".to_owned(),
                (n, _) => format!("{n} accounts"),
            },
            pg.next.as_ref().map(url),
            pg.prev.as_ref().map(url),
        ),
        None => (Vec::new(), "No developer account".to_owned(), None, None),
    };
    ok(&AccessPage {
        chrome: Chrome::new(&session, &admin, "products"),
        p,
        granted,
        checks,
        find: a.find,
        candidates,
        everyone: audience.everyone_signed_in,
        visitors: audience.visitors,
        q,
        viewers,
        viewers_label,
        next_url,
        prev_url,
    })
}

#[derive(Deserialize)]
pub struct AccessForm {
    #[serde(default)]
    groups: Vec<String>,
    /// The groups the form showed: only their grants are changed by Save.
    #[serde(default)]
    shown: Vec<String>,
}

pub async fn save_access(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<String>,
    Form(f): Form<AccessForm>,
) -> Result<HttpResponse, WebError> {
    // Grants of groups the form did not show are kept as they are.
    let current = products::access_groups(&ctx, &id).await?;
    let mut wanted: Vec<String> = current
        .into_iter()
        .map(|g| String::from(g.id))
        .filter(|g| !f.shown.contains(g))
        .collect();
    wanted.extend(f.groups.into_iter().filter(|g| f.shown.contains(g)));
    let (granted, revoked) = products::set_access(&ctx, &admin.actor(), &id, &wanted).await?;
    session::flash(
        &session,
        "success",
        format!("Saved access control: {granted} group(s) given access, {revoked} removed."),
    );
    Ok(see_other(&console::product_access(&id)))
}

#[derive(Deserialize)]
pub struct OneGroup {
    #[serde(default)]
    group: String,
}

pub async fn add_group(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<String>,
    Form(f): Form<OneGroup>,
) -> Result<HttpResponse, WebError> {
    change(&ctx, &session, &admin, &id, &f.group, true).await
}

pub async fn remove_group(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<String>,
    Form(f): Form<OneGroup>,
) -> Result<HttpResponse, WebError> {
    change(&ctx, &session, &admin, &id, &f.group, false).await
}

async fn change(
    ctx: &Ctx,
    session: &Session,
    admin: &CurrentAdmin,
    id: &str,
    group: &str,
    grant: bool,
) -> Result<HttpResponse, WebError> {
    match products::change_access(ctx, &admin.actor(), id, group, grant).await {
        Ok((p, g)) => session::flash(
            session,
            "success",
            if grant {
                format!("{} can now see {}.", g.name, p.name)
            } else {
                format!("{} can no longer see {}.", g.name, p.name)
            },
        ),
        Err(ServiceError::Conflict(m)) => session::flash(session, "error", m),
        Err(ServiceError::Invalid(e)) => session::flash(
            session,
            "error",
            e.into_iter()
                .map(|e| e.message)
                .collect::<Vec<_>>()
                .join(" "),
        ),
        Err(e) => return Err(e.into()),
    }
    Ok(see_other(&console::product_access(id)))
}
