//! The Products tab (SPEC P1, P2, P5): list, Add product, Settings,
//! publish/unpublish, Access control with who-can-see, Delete.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::users::{HistoryRow, Row, list_url_for};
use super::{Chrome, CurrentAdmin};
use crate::domain::product::ProductSettings;
use crate::services::{Ctx, ServiceError, access, account_list, products};
use crate::store::accounts::{Cursor, SortKey};
use crate::store::groups::GroupRef;
use crate::store::products::ProductRow;
use crate::web::csrf::Form;
use crate::web::errors::{WebError, ok, page, see_other};
use crate::web::forms::Errors;
use crate::web::session;

fn product_url(id: &str) -> String {
    format!("/admin/products/{id}")
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
    let url = |extra: &[(&str, &str)]| super::list_page_url("/admin/products", &q, extra);
    ok(&ListPage {
        chrome: Chrome::new(&session, &admin, "products"),
        next_url: result
            .next
            .as_ref()
            .map(|(k, id)| url(&[("after", k), ("id", id)])),
        first_url: after.is_some().then(|| url(&[])),
        rows: result
            .rows
            .into_iter()
            .map(|r| ListRow {
                published: r.state == "published",
                groups: r
                    .group_names
                    .map(|g| g.split('\u{1f}').map(str::to_owned).collect())
                    .unwrap_or_default(),
                id: r.id,
                name: r.name,
            })
            .collect(),
        q,
    })
}

// ---- add and settings --------------------------------------------------------

#[derive(Deserialize, Default)]
pub struct SettingsForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    terms: String,
    subscription_required: Option<String>,
    approval_required: Option<String>,
    #[serde(default)]
    subscriptions_limit: String,
    published: Option<String>,
}

impl SettingsForm {
    fn parse(&self) -> Result<ProductSettings, Vec<crate::domain::FieldError>> {
        ProductSettings::parse(
            &self.name,
            &self.description,
            &self.terms,
            self.subscription_required.is_some(),
            self.approval_required.is_some(),
            &self.subscriptions_limit,
            self.published.is_some(),
        )
    }

    fn from_product(p: &ProductRow) -> Self {
        let on = |b: bool| b.then(|| "on".to_owned());
        Self {
            name: p.name.clone(),
            description: p.description.clone(),
            terms: p.terms.clone(),
            subscription_required: on(p.subscription_required),
            approval_required: on(p.approval_required),
            subscriptions_limit: p
                .subscriptions_limit
                .map(|n| n.to_string())
                .unwrap_or_default(),
            published: on(p.published()),
        }
    }
}

#[derive(Template)]
#[template(path = "admin/products/add.html")]
struct AddPage {
    chrome: Chrome,
    f: SettingsForm,
    errors: Errors,
}

pub async fn add_form(session: Session, admin: CurrentAdmin) -> Result<HttpResponse, WebError> {
    ok(&AddPage {
        chrome: Chrome::new(&session, &admin, "products"),
        f: SettingsForm {
            subscription_required: Some("on".into()),
            ..Default::default()
        },
        errors: Errors::default(),
    })
}

pub async fn add(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    Form(f): Form<SettingsForm>,
) -> Result<HttpResponse, WebError> {
    let result = match f.parse() {
        Ok(p) => products::create(&ctx, &admin.actor(), None, &p).await,
        Err(errors) => Err(ServiceError::Invalid(errors)),
    };
    match result {
        Ok(id) => {
            session::flash(
                &session,
                "success",
                format!(
                    "Added product {}. Give groups access to it under Access control.",
                    f.name.trim()
                ),
            );
            Ok(see_other(&product_url(&id)))
        }
        Err(ServiceError::Invalid(errors)) => page(
            StatusCode::UNPROCESSABLE_ENTITY,
            &AddPage {
                chrome: Chrome::new(&session, &admin, "products"),
                f,
                errors: Errors(errors),
            },
        ),
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "admin/products/show.html")]
struct ShowPage {
    chrome: Chrome,
    p: ProductRow,
    f: SettingsForm,
    errors: Errors,
    history: Vec<HistoryRow>,
}

async fn show_page(
    ctx: &Ctx,
    session: &Session,
    admin: &CurrentAdmin,
    p: ProductRow,
    status: StatusCode,
    form: Option<(SettingsForm, Errors)>,
) -> Result<HttpResponse, WebError> {
    let history = crate::services::audit_log::history(ctx, "product", &p.id).await?;
    let (f, errors) = form.unwrap_or_else(|| (SettingsForm::from_product(&p), Errors::default()));
    page(
        status,
        &ShowPage {
            chrome: Chrome::new(session, admin, "products"),
            p,
            f,
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
    let p = products::get(&ctx, &id).await?;
    show_page(&ctx, &session, &admin, p, StatusCode::OK, None).await
}

pub async fn update(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<String>,
    Form(f): Form<SettingsForm>,
) -> Result<HttpResponse, WebError> {
    let result = match f.parse() {
        Ok(p) => {
            products::update(&ctx, &admin.actor(), &id, &p, crate::services::Expect::Any).await
        }
        Err(errors) => Err(ServiceError::Invalid(errors)),
    };
    match result {
        Ok(p) => {
            session::flash(&session, "success", format!("Saved product {}.", p.name));
            Ok(see_other(&product_url(&id)))
        }
        Err(ServiceError::Invalid(errors)) => {
            let p = products::get(&ctx, &id).await?;
            show_page(
                &ctx,
                &session,
                &admin,
                p,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some((f, Errors(errors))),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct Empty {}

pub async fn publish(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<String>,
    _: Form<Empty>,
) -> Result<HttpResponse, WebError> {
    let p = products::set_published(&ctx, &admin.actor(), &id, true).await?;
    session::flash(&session, "success", format!("Published {}.", p.name));
    Ok(see_other(&product_url(&id)))
}

pub async fn unpublish(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<String>,
    _: Form<Empty>,
) -> Result<HttpResponse, WebError> {
    let p = products::set_published(&ctx, &admin.actor(), &id, false).await?;
    session::flash(&session, "success", format!("Unpublished {}.", p.name));
    Ok(see_other(&product_url(&id)))
}

// ---- access control ------------------------------------------------------------

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
        .chain(granted.iter().filter(|g| g.kind != "system"))
        .map(|g| GroupCheck {
            id: g.id.clone(),
            name: g.name.clone(),
            system: g.kind == "system",
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
    let base = format!("/admin/products/{id}/access");
    let url = |c: &Cursor| list_url_for(&base, &q, "", SortKey::Name, false, Some(c));
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

fn access_url(id: &str) -> String {
    format!("/admin/products/{id}/access")
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
        .map(|g| g.id)
        .filter(|g| !f.shown.contains(g))
        .collect();
    wanted.extend(f.groups.into_iter().filter(|g| f.shown.contains(g)));
    let (granted, revoked) = products::set_access(&ctx, &admin.actor(), &id, &wanted).await?;
    session::flash(
        &session,
        "success",
        format!("Saved access control: {granted} group(s) given access, {revoked} removed."),
    );
    Ok(see_other(&access_url(&id)))
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
    Ok(see_other(&access_url(id)))
}

// ---- delete ----------------------------------------------------------------

#[derive(Template)]
#[template(path = "admin/products/delete.html")]
struct DeletePage {
    chrome: Chrome,
    p: ProductRow,
    subscriptions: i64,
}

pub async fn delete_confirm(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let p = products::get(&ctx, &id).await?;
    let subscriptions = products::subscription_count(&ctx, &id).await?;
    ok(&DeletePage {
        chrome: Chrome::new(&session, &admin, "products"),
        p,
        subscriptions,
    })
}

pub async fn delete(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<String>,
    _: Form<Empty>,
) -> Result<HttpResponse, WebError> {
    let p = products::delete(
        &ctx,
        &admin.actor(),
        &id,
        crate::services::Expect::Any,
        products::Subscriptions::DeleteThem,
    )
    .await?;
    session::flash(&session, "success", format!("Deleted product {}.", p.name));
    Ok(see_other("/admin/products"))
}
