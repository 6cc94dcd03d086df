//! The Users list (SPEC U1, U2): search, state filter, sort, pages of 50, and
//! the Add to group menu over ticked rows.

use actix_session::Session;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{Row, cursor_pairs};
use crate::domain::AccountState;
use crate::services::{Ctx, account_list, groups};
use crate::store::account_list::{Cursor, SortKey};
use crate::web::admin::{Chrome, CurrentAdmin};
use crate::web::errors::{WebError, ok};
use crate::web::paths::{console, with_query};

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

/// A Users-tab URL that keeps search, filter, sort and position.
fn list_url(q: &str, state: &str, sort: SortKey, desc: bool, cursor: Option<&Cursor>) -> String {
    let [at, id] = cursor_pairs(cursor);
    let sort = if sort == SortKey::Name {
        ""
    } else {
        sort_name(sort)
    };
    let dir = if desc { "desc" } else { "" };
    with_query(
        console::USERS,
        &[
            ("q", q),
            ("state", state),
            ("sort", sort),
            ("dir", dir),
            at,
            id,
        ],
    )
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
