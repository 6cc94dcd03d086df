//! The Users tab (SPEC U1, U3, U5, U6, U7) and the account page.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{Chrome, CurrentAdmin};
use crate::clock;
use crate::domain::account::NewAccount;
use crate::domain::{AccountState, Password};
use crate::services::auth::Realm;
use crate::services::{Ctx, ServiceError, account_list, accounts, groups};
use crate::store::accounts::{AccountSummary, Cursor, SortKey};
use crate::store::audit::Entry;
use crate::store::groups::GroupRef;
use crate::web::csrf::Form;
use crate::web::errors::{WebError, ok, page, see_other};
use crate::web::forms::Errors;
use crate::web::session;

pub async fn home() -> HttpResponse {
    see_other("/admin/users")
}

// ---- list ------------------------------------------------------------------

#[derive(Deserialize, Default)]
pub struct ListParams {
    #[serde(default)]
    q: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    dir: String,
    after: Option<String>,
    before: Option<String>,
    #[serde(default)]
    id: String,
    /// `page` ticks every row of this page (works without JavaScript).
    #[serde(default)]
    select: String,
}

pub struct SortLink {
    pub label: &'static str,
    pub url: String,
    /// `ascending`, `descending` or `none`, for aria-sort.
    pub aria: &'static str,
    pub arrow: &'static str,
}

pub struct Row {
    pub id: String,
    pub name: String,
    pub email: String,
    pub state: &'static str,
    pub state_key: String,
    pub registered: String,
    pub groups: i64,
}

impl From<AccountSummary> for Row {
    fn from(a: AccountSummary) -> Self {
        Self {
            name: format!("{} {}", a.first_name, a.last_name),
            state: AccountState::parse(&a.state).map_or("Unknown", |s| s.label()),
            state_key: a.state,
            registered: clock::display(a.registered_at),
            // Developers is implicit: every account is in it.
            groups: a.group_count + 1,
            id: a.id,
            email: a.email,
        }
    }
}

#[derive(Template)]
#[template(path = "admin/users/list.html")]
struct ListPage {
    chrome: Chrome,
    q: String,
    state: String,
    sort: String,
    dir: String,
    rows: Vec<Row>,
    count_label: String,
    sort_links: Vec<SortLink>,
    next_url: Option<String>,
    prev_url: Option<String>,
    first_url: Option<String>,
    states: Vec<(&'static str, &'static str)>,
    /// The Add to group menu: custom groups only (G5).
    /// `None` when there are too many custom groups for a menu.
    custom_groups: Option<Vec<crate::store::groups::GroupRef>>,
    select_all: bool,
    this_url: String,
    select_all_url: String,
    filtered: bool,
}

fn parse_sort(s: &str) -> SortKey {
    match s {
        "email" => SortKey::Email,
        "registered" => SortKey::Registered,
        _ => SortKey::Name,
    }
}

fn sort_name(k: SortKey) -> &'static str {
    match k {
        SortKey::Name => "name",
        SortKey::Email => "email",
        SortKey::Registered => "registered",
    }
}

/// Builds a Users-tab URL that keeps the current search and filter.
fn list_url(q: &str, state: &str, sort: SortKey, desc: bool, cursor: Option<&Cursor>) -> String {
    list_url_for("/admin/users", q, state, sort, desc, cursor)
}

/// A URL of an account list at `base` that keeps search, filter, sort and position.
pub(super) fn list_url_for(
    base: &str,
    q: &str,
    state: &str,
    sort: SortKey,
    desc: bool,
    cursor: Option<&Cursor>,
) -> String {
    let mut pairs: Vec<(&str, String)> = Vec::new();
    if !q.is_empty() {
        pairs.push(("q", q.to_owned()));
    }
    if !state.is_empty() {
        pairs.push(("state", state.to_owned()));
    }
    if sort != SortKey::Name {
        pairs.push(("sort", sort_name(sort).to_owned()));
    }
    if desc {
        pairs.push(("dir", "desc".into()));
    }
    if let Some(c) = cursor {
        pairs.push((if c.before { "before" } else { "after" }, c.key.clone()));
        pairs.push(("id", c.id.clone()));
    }
    let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    if query.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{query}")
    }
}

pub async fn list(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, WebError> {
    let p = params.into_inner();
    let sort = parse_sort(&p.sort);
    let desc = p.dir == "desc";
    let state = AccountState::parse(&p.state);
    let state_param = state.map_or("", |s| s.as_str());
    let q = p.q.trim().to_owned();
    let cursor = Cursor::from_params(p.after, p.before, p.id);
    let result = account_list::list(
        &ctx,
        &account_list::UsersQuery {
            sort,
            descending: desc,
            state,
            search: (!q.is_empty()).then(|| q.clone()),
            groups: None,
            cursor: cursor.clone(),
            group_counts: true,
        },
    )
    .await?;

    let count_label = match (result.total, result.total_capped) {
        (_, true) => format!("More than {} accounts match", account_list::COUNT_CAP),
        (1, _) => "1 account".to_owned(),
        (n, _) if q.is_empty() => format!("{n} accounts"),
        (n, _) => format!("{n} accounts match"),
    };
    let sort_links = [SortKey::Name, SortKey::Email, SortKey::Registered]
        .into_iter()
        .map(|k| {
            let current = k == sort;
            SortLink {
                label: match k {
                    SortKey::Name => "Name",
                    SortKey::Email => "Email",
                    SortKey::Registered => "Registered",
                },
                url: list_url(&q, state_param, k, current && !desc, None),
                aria: match (current, desc) {
                    (false, _) => "none",
                    (true, false) => "ascending",
                    (true, true) => "descending",
                },
                arrow: match (current, desc) {
                    (false, _) => "",
                    (true, false) => "▲",
                    (true, true) => "▼",
                },
            }
        })
        .collect();
    let this_url = list_url(&q, state_param, sort, desc, cursor.as_ref());
    let select_all_url = format!(
        "{this_url}{}select=page",
        if this_url.contains('?') { "&" } else { "?" }
    );
    ok(&ListPage {
        chrome: Chrome::new(&session, &admin, "users"),
        custom_groups: groups::custom_menu(&ctx).await?,
        select_all: p.select == "page",
        this_url,
        select_all_url,
        filtered: !q.is_empty() || state.is_some(),
        next_url: result
            .next
            .as_ref()
            .map(|c| list_url(&q, state_param, sort, desc, Some(c))),
        prev_url: result
            .prev
            .as_ref()
            .map(|c| list_url(&q, state_param, sort, desc, Some(c))),
        first_url: cursor
            .is_some()
            .then(|| list_url(&q, state_param, sort, desc, None)),
        rows: result.rows.into_iter().map(Row::from).collect(),
        count_label,
        sort_links,
        state: state_param.to_owned(),
        sort: sort_name(sort).to_owned(),
        dir: if desc { "desc".into() } else { String::new() },
        q,
        states: AccountState::ALL
            .iter()
            .map(|s| (s.as_str(), s.label()))
            .collect(),
    })
}

// ---- add -------------------------------------------------------------------

#[derive(Deserialize, Default)]
pub struct AddForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    /// The "Send account-created email" checkbox (`on` when ticked).
    #[serde(default)]
    notify: String,
}

#[derive(Template)]
#[template(path = "admin/users/add.html")]
struct AddPage {
    chrome: Chrome,
    email: String,
    first_name: String,
    last_name: String,
    notify: bool,
    errors: Errors,
}

pub async fn add_form(session: Session, admin: CurrentAdmin) -> Result<HttpResponse, WebError> {
    ok(&AddPage {
        chrome: Chrome::new(&session, &admin, "users"),
        email: String::new(),
        first_name: String::new(),
        last_name: String::new(),
        notify: false,
        errors: Errors::default(),
    })
}

pub async fn add(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    Form(f): Form<AddForm>,
) -> Result<HttpResponse, WebError> {
    let notify = f.notify == "on";
    let result = match NewAccount::parse(&f.email, &f.password, &f.first_name, &f.last_name) {
        Ok(new) => accounts::create(&ctx, &admin.actor(), new, notify).await,
        Err(errors) => Err(ServiceError::Invalid(errors)),
    };
    match result {
        Ok(id) => {
            let sent = if notify {
                " An account-created email is on its way (see the Email log)."
            } else {
                ""
            };
            session::flash(
                &session,
                "success",
                format!("Added user {}.{sent}", f.email.trim()),
            );
            Ok(see_other(&format!("/admin/users/{id}")))
        }
        Err(ServiceError::Invalid(errors)) => page(
            StatusCode::UNPROCESSABLE_ENTITY,
            &AddPage {
                chrome: Chrome::new(&session, &admin, "users"),
                email: f.email,
                first_name: f.first_name,
                last_name: f.last_name,
                notify,
                errors: Errors(errors),
            },
        ),
        Err(e) => Err(e.into()),
    }
}

// ---- account page ----------------------------------------------------------

#[derive(Template)]
#[template(path = "admin/users/show.html")]
struct ShowPage {
    chrome: Chrome,
    a: crate::store::accounts::AccountDetail,
    state_label: &'static str,
    registered: String,
    groups: Vec<GroupRef>,
    history: Vec<HistoryRow>,
    is_self: bool,
    password_error: String,
    /// SPEC P5: what this account can see, and through which groups.
    visible: Vec<crate::services::visibility::VisibleProduct>,
    sees_all: bool,
}

pub struct HistoryRow {
    pub at: String,
    pub who: String,
    pub channel: String,
    pub summary: String,
}

impl From<Entry> for HistoryRow {
    fn from(e: Entry) -> Self {
        Self {
            at: clock::display(e.at),
            who: e.actor_label,
            channel: e.channel,
            summary: e.summary,
        }
    }
}

async fn show_page(
    ctx: &Ctx,
    session: &Session,
    admin: &CurrentAdmin,
    id: &str,
    status: StatusCode,
    password_error: String,
) -> Result<HttpResponse, WebError> {
    let p = accounts::page(ctx, id).await?;
    page(
        status,
        &ShowPage {
            chrome: Chrome::new(session, admin, "users"),
            state_label: AccountState::parse(&p.account.state).map_or("Unknown", |s| s.label()),
            registered: clock::display(p.account.registered_at),
            is_self: p.account.id == admin.id,
            a: p.account,
            groups: p.groups,
            history: p.history.into_iter().map(HistoryRow::from).collect(),
            password_error,
            sees_all: matches!(p.viewer, crate::domain::visibility::Viewer::Administrator),
            visible: p.visible,
        },
    )
}

pub async fn show(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    show_page(&ctx, &session, &admin, &id, StatusCode::OK, String::new()).await
}

#[derive(Deserialize)]
pub struct Empty {}

fn account_url(id: &str) -> String {
    format!("/admin/users/{id}")
}

/// Runs a state change and reports it, or why it was refused, on the account page.
async fn state_action(
    session: &Session,
    id: &str,
    result: Result<crate::store::accounts::AccountDetail, ServiceError>,
    done: &str,
) -> Result<HttpResponse, WebError> {
    match result {
        Ok(a) => session::flash(session, "success", format!("{done} {}.", a.email)),
        Err(ServiceError::Conflict(m)) => session::flash(session, "error", m),
        Err(e) => return Err(e.into()),
    }
    Ok(see_other(&account_url(id)))
}

pub async fn block(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<String>,
    _: Form<Empty>,
) -> Result<HttpResponse, WebError> {
    let r = accounts::block(&ctx, &admin.actor(), &id).await;
    state_action(&session, &id, r, "Blocked").await
}

pub async fn activate(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<String>,
    _: Form<Empty>,
) -> Result<HttpResponse, WebError> {
    let r = accounts::activate(&ctx, &admin.actor(), &id).await;
    state_action(&session, &id, r, "Activated").await
}

#[derive(Template)]
#[template(path = "admin/users/delete.html")]
struct DeletePage {
    chrome: Chrome,
    a: crate::store::accounts::AccountDetail,
}

pub async fn delete_confirm(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let a = accounts::get(&ctx, &id).await?;
    ok(&DeletePage {
        chrome: Chrome::new(&session, &admin, "users"),
        a,
    })
}

pub async fn delete(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<String>,
    _: Form<Empty>,
) -> Result<HttpResponse, WebError> {
    match accounts::delete(&ctx, &admin.actor(), &id, crate::services::Expect::Any).await {
        Ok(a) => {
            session::flash(&session, "success", format!("Deleted user {}.", a.email));
            Ok(see_other("/admin/users"))
        }
        Err(ServiceError::Conflict(m)) => {
            session::flash(&session, "error", m);
            Ok(see_other(&account_url(&id)))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    password: String,
}

pub async fn set_password(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<String>,
    Form(f): Form<PasswordForm>,
) -> Result<HttpResponse, WebError> {
    let account = accounts::get(&ctx, &id).await?;
    let password = match Password::parse(&f.password, &accounts::related_words(&account)) {
        Ok(p) => p,
        Err(message) => {
            return show_page(
                &ctx,
                &session,
                &admin,
                &id,
                StatusCode::UNPROCESSABLE_ENTITY,
                message,
            )
            .await;
        }
    };
    let epoch = accounts::set_password(&ctx, &admin.actor(), &id, &password).await?;
    if account.id == admin.id {
        session::set_epoch(&session, Realm::Console, epoch);
    }
    session::flash(
        &session,
        "success",
        format!(
            "Set a new password for {}. Every other session of this account has ended.",
            account.email
        ),
    );
    Ok(see_other(&account_url(&id)))
}

/// U7: emails the account a single-use link to choose a new password.
pub async fn send_reset(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    id: web::Path<String>,
    _: Form<Empty>,
) -> Result<HttpResponse, WebError> {
    let a = crate::services::password_reset::send_by_admin(&ctx, &admin.actor(), &id).await?;
    session::flash(
        &session,
        "success",
        format!("Sent a password reset link to {}.", a.email),
    );
    Ok(see_other(&account_url(&id)))
}

// ---- Add to group (G5) --------------------------------------------------------

#[derive(Deserialize)]
pub struct ToggleForm {
    #[serde(default)]
    ids: Vec<String>,
    #[serde(default)]
    group: String,
    /// `matching` applies to every account matching `q` and `state`.
    #[serde(default)]
    scope: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    state: String,
    /// Set by the confirmation page of a `matching` toggle.
    #[serde(default)]
    confirm: String,
    #[serde(default)]
    back: String,
}

#[derive(Template)]
#[template(path = "admin/users/toggle_confirm.html")]
struct ToggleConfirm {
    chrome: Chrome,
    group_id: String,
    group_name: String,
    q: String,
    state: String,
    count: i64,
    back: String,
}

pub async fn toggle(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    Form(f): Form<ToggleForm>,
) -> Result<HttpResponse, WebError> {
    let back = crate::web::paths::back_to(&f.back, "/admin/users").to_owned();
    if f.group.is_empty() {
        session::flash(
            &session,
            "error",
            "Choose a group in the Add to group menu.",
        );
        return Ok(see_other(&back));
    }
    let group = match groups::find(&ctx, &f.group).await {
        Ok(g) => g,
        Err(ServiceError::NotFound) => {
            session::flash(
                &session,
                "error",
                format!("There is no group named {}.", f.group.trim()),
            );
            return Ok(see_other(&back));
        }
        Err(e) => return Err(e.into()),
    };
    let q = f.q.trim().to_owned();
    let state = AccountState::parse(&f.state);
    let filter = crate::store::accounts::Filter {
        state: state.map(|s| s.as_str()),
        search: (!q.is_empty()).then_some(q.as_str()),
        groups: None,
        many_matches: false,
    };
    let selection = if f.scope == "matching" {
        if f.confirm != "yes" {
            let count = groups::count_matching(&ctx, &filter).await?;
            return ok(&ToggleConfirm {
                chrome: Chrome::new(&session, &admin, "users"),
                group_id: group.id,
                group_name: group.name,
                q,
                state: state.map_or("", |s| s.as_str()).to_owned(),
                count,
                back,
            });
        }
        crate::store::groups::Selection::Matching(filter)
    } else {
        if f.ids.is_empty() {
            session::flash(&session, "error", "Tick at least one account first.");
            return Ok(see_other(&back));
        }
        crate::store::groups::Selection::Ids(&f.ids)
    };
    match groups::toggle(&ctx, &admin.actor(), &group.id, &selection).await {
        Ok(t) => session::flash(
            &session,
            "success",
            format!(
                "{}: added {}, removed {}.",
                t.group.name, t.added, t.removed
            ),
        ),
        Err(ServiceError::Forbidden(m)) => session::flash(&session, "error", m),
        Err(e) => return Err(e.into()),
    }
    Ok(see_other(&back))
}
