//! The Audit log page: the entries of one page with links to the entities
//! they concern, the filters, paging, and the link to the export.

use actix_session::Session;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::Params;
use super::diff::{Values, describe};
use crate::clock;
use crate::services::Ctx;
use crate::services::audit_log::{self, ChangeKind, Cursor, Filter, LogRow};
use crate::web::admin::{Chrome, CurrentAdmin};
use crate::web::errors::{WebError, ok};
use crate::web::numbers::thousands;
use crate::web::paths::{console, with_query};

/// A URL of the log (or of its export) that keeps the filters.
fn log_url(base: &str, f: &Filter, cursor: Option<Cursor>) -> String {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let (subject_kind, subject_id) = f
        .subject
        .as_ref()
        .map_or((String::new(), String::new()), |s| {
            (s.kind.to_owned(), s.id.clone())
        });
    let (at, position) = match cursor {
        Some(Cursor::After(id)) => ("after", id.to_string()),
        Some(Cursor::Before(id)) => ("before", id.to_string()),
        None => ("after", String::new()),
    };
    with_query(
        base,
        &[
            ("account", text(&f.account)),
            ("group", text(&f.group)),
            ("product", text(&f.product)),
            ("change", f.change.map_or("", ChangeKind::as_str).to_owned()),
            ("subject_kind", subject_kind),
            ("subject_id", subject_id),
            (at, position),
        ],
    )
}

fn kind_label(kind: &str) -> &'static str {
    match kind {
        "account" => "Account",
        "group" => "Group",
        "product" => "Product",
        "subscription" => "Subscription",
        "template" => "Email template",
        "setting" => "Setting",
        _ => "Entity",
    }
}

/// The console page of an entity, for the kinds that have one.
fn entity_url(kind: &str, id: &str) -> Option<String> {
    match kind {
        "account" => Some(console::account(id)),
        "group" => Some(console::group(id)),
        "product" => Some(console::product(id)),
        _ => None,
    }
}

fn channel_label(channel: &str) -> String {
    match channel {
        "console" => "Console".into(),
        "portal" => "Developer portal".into(),
        "api" => "API".into(),
        "system" => "System".into(),
        other => other.to_owned(),
    }
}

pub struct SubjectLink {
    pub kind: &'static str,
    pub name: String,
    pub url: Option<String>,
}

pub struct Row {
    pub id: i64,
    pub at: String,
    pub at_iso: String,
    pub who: String,
    pub channel: String,
    pub summary: String,
    pub action: String,
    pub subjects: Vec<SubjectLink>,
    pub values: Values,
}

impl From<LogRow> for Row {
    fn from(r: LogRow) -> Self {
        let e = r.entry;
        Self {
            id: e.id,
            at: clock::display(e.at),
            at_iso: clock::iso(e.at),
            who: e.actor_label,
            channel: channel_label(&e.channel),
            values: describe(e.before_json.as_deref(), e.after_json.as_deref()),
            summary: e.summary,
            action: e.action,
            subjects: r
                .subjects
                .into_iter()
                .map(|s| SubjectLink {
                    kind: kind_label(&s.kind),
                    url: entity_url(&s.kind, &s.subject_id),
                    name: s.name,
                })
                .collect(),
        }
    }
}

/// The one entity the log is narrowed to, with a way back to the full log.
pub struct SubjectFilter {
    pub kind: String,
    pub id: String,
    /// "account", "email template", … as a sentence names it.
    pub kind_noun: String,
    pub name: String,
    pub url: Option<String>,
    pub clear_url: String,
}

#[derive(Template)]
#[template(path = "admin/audit/list.html")]
struct ListPage {
    chrome: Chrome,
    account: String,
    group: String,
    product: String,
    change: String,
    changes: Vec<(&'static str, &'static str)>,
    subject: Option<SubjectFilter>,
    filtered: bool,
    rows: Vec<Row>,
    next_url: Option<String>,
    prev_url: Option<String>,
    first_url: Option<String>,
    csv_url: String,
    export_cap: String,
}

pub async fn list(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
    params: web::Query<Params>,
) -> Result<HttpResponse, WebError> {
    let filter = params.filter();
    let cursor = params.cursor();
    let result = audit_log::page(&ctx, &filter, cursor).await?;
    let subject = filter.subject.as_ref().map(|s| SubjectFilter {
        kind: s.kind.to_owned(),
        id: s.id.clone(),
        kind_noun: kind_label(s.kind).to_lowercase(),
        name: result.subject_name.clone().unwrap_or_else(|| s.id.clone()),
        url: entity_url(s.kind, &s.id),
        clear_url: log_url(
            console::AUDIT,
            &Filter {
                subject: None,
                ..filter.clone()
            },
            None,
        ),
    });
    ok(&ListPage {
        chrome: Chrome::new(&session, &admin, "audit"),
        account: filter.account.clone().unwrap_or_default(),
        group: filter.group.clone().unwrap_or_default(),
        product: filter.product.clone().unwrap_or_default(),
        change: filter.change.map_or("", ChangeKind::as_str).to_owned(),
        changes: ChangeKind::ALL
            .iter()
            .map(|k| (k.as_str(), k.label()))
            .collect(),
        subject,
        filtered: filter != Filter::default(),
        rows: result.rows.into_iter().map(Row::from).collect(),
        next_url: result
            .next
            .map(|c| log_url(console::AUDIT, &filter, Some(c))),
        prev_url: result
            .prev
            .map(|c| log_url(console::AUDIT, &filter, Some(c))),
        first_url: cursor
            .is_some()
            .then(|| log_url(console::AUDIT, &filter, None)),
        csv_url: log_url(console::AUDIT_CSV, &filter, None),
        export_cap: thousands(audit_log::EXPORT_CAP),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_keep_the_filters() {
        let f = Filter {
            account: Some("ann & bob".into()),
            change: Some(ChangeKind::Account),
            ..Filter::default()
        };
        assert_eq!(
            log_url(console::AUDIT, &f, Some(Cursor::After(7))),
            "/admin/audit?account=ann+%26+bob&change=account&after=7"
        );
        assert_eq!(
            log_url(console::AUDIT_CSV, &Filter::default(), None),
            console::AUDIT_CSV
        );
        assert_eq!(
            entity_url("account", "a/b").as_deref(),
            Some("/admin/users/a%2Fb")
        );
        assert_eq!(entity_url("setting", "x"), None);
    }
}
