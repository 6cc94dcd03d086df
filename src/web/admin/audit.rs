//! The Audit log tab (SPEC A1): every change, newest first, filterable by
//! the entities it concerns and the kind of change, and exportable as CSV.

use std::collections::BTreeSet;

use actix_session::Session;
use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpResponse, web};
use askama::Template;
use futures_util::{StreamExt, stream};
use serde::Deserialize;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{Chrome, CurrentAdmin};
use crate::clock;
use crate::services::Ctx;
use crate::services::audit_log::{self, ChangeKind, Cursor, Filter, LogRow, SubjectKey};
use crate::store::audit::SubjectRow;
use crate::web::errors::{WebError, ok};
use crate::web::paths::with_query;

const PATH: &str = "/admin/audit";
const CSV_PATH: &str = "/admin/audit.csv";

#[derive(Deserialize, Default)]
pub struct Params {
    #[serde(default)]
    account: String,
    #[serde(default)]
    group: String,
    #[serde(default)]
    product: String,
    #[serde(default)]
    change: String,
    #[serde(default)]
    subject_kind: String,
    #[serde(default)]
    subject_id: String,
    after: Option<String>,
    before: Option<String>,
}

/// A text filter: trimmed, and at most 200 characters are looked for.
fn text_filter(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.chars().take(200).collect())
}

impl Params {
    fn filter(&self) -> Filter {
        Filter {
            account: text_filter(&self.account),
            group: text_filter(&self.group),
            product: text_filter(&self.product),
            change: ChangeKind::parse(&self.change),
            subject: SubjectKey::parse(&self.subject_kind, &self.subject_id),
        }
    }

    /// A cursor that does not parse is ignored: the page starts at the newest.
    fn cursor(&self) -> Option<Cursor> {
        let id = |s: &Option<String>| s.as_deref().and_then(|v| v.trim().parse::<i64>().ok());
        id(&self.after)
            .map(Cursor::After)
            .or_else(|| id(&self.before).map(Cursor::Before))
    }
}

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

/// Percent-encodes one path segment.
fn path_segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
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
    let section = match kind {
        "account" => "users",
        "group" => "groups",
        "product" => "products",
        _ => return None,
    };
    Some(format!("/admin/{section}/{}", path_segment(id)))
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

// ---- values before and after ---------------------------------------------------

/// One field that changed.
pub struct Changed {
    pub field: String,
    pub before: String,
    pub after: String,
}

/// The values of one side (before or after) when there is nothing to compare.
pub struct Side {
    pub title: &'static str,
    pub fields: Vec<(String, String)>,
    pub text: Option<String>,
}

#[derive(Default)]
pub struct Values {
    pub changed: Vec<Changed>,
    pub sides: Vec<Side>,
}

/// A stored JSON value; text that is not JSON is shown as it is.
fn parse_json(raw: Option<&str>) -> Option<Value> {
    raw.map(|r| serde_json::from_str(r).unwrap_or_else(|_| Value::String(r.to_owned())))
}

/// `first_name` → `First name`.
fn field_label(key: &str) -> String {
    let spaced = key.replace('_', " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::Null => "(none)".into(),
        Value::String(s) if s.is_empty() => "(empty)".into(),
        Value::String(s) => s.clone(),
        Value::Bool(true) => "yes".into(),
        Value::Bool(false) => "no".into(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) if items.is_empty() => "(none)".into(),
        Value::Array(items) => items.iter().map(value_text).collect::<Vec<_>>().join(", "),
        Value::Object(_) => v.to_string(),
    }
}

fn side(title: &'static str, v: &Value) -> Side {
    match v {
        Value::Object(map) => Side {
            title,
            fields: map
                .iter()
                .map(|(k, v)| (field_label(k), value_text(v)))
                .collect(),
            text: None,
        },
        other => Side {
            title,
            fields: Vec::new(),
            text: Some(value_text(other)),
        },
    }
}

/// The values before and after, readably: the changed fields of two
/// objects, else each side on its own.
fn describe(before: Option<&str>, after: Option<&str>) -> Values {
    match (parse_json(before), parse_json(after)) {
        (Some(Value::Object(b)), Some(Value::Object(a))) => {
            let keys: BTreeSet<&String> = b.keys().chain(a.keys()).collect();
            let none = Value::Null;
            Values {
                changed: keys
                    .into_iter()
                    .filter_map(|k| {
                        let (old, new) = (b.get(k).unwrap_or(&none), a.get(k).unwrap_or(&none));
                        (old != new).then(|| Changed {
                            field: field_label(k),
                            before: value_text(old),
                            after: value_text(new),
                        })
                    })
                    .collect(),
                sides: Vec::new(),
            }
        }
        (b, a) => Values {
            changed: Vec::new(),
            sides: [("Before", b), ("After", a)]
                .into_iter()
                .filter_map(|(title, v)| v.map(|v| side(title, &v)))
                .collect(),
        },
    }
}

// ---- the page ------------------------------------------------------------------

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

fn iso(at: i64) -> String {
    OffsetDateTime::from_unix_timestamp(at)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

impl From<LogRow> for Row {
    fn from(r: LogRow) -> Self {
        let e = r.entry;
        Self {
            id: e.id,
            at: clock::display(e.at),
            at_iso: iso(e.at),
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
            PATH,
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
        next_url: result.next.map(|c| log_url(PATH, &filter, Some(c))),
        prev_url: result.prev.map(|c| log_url(PATH, &filter, Some(c))),
        first_url: cursor.is_some().then(|| log_url(PATH, &filter, None)),
        csv_url: log_url(CSV_PATH, &filter, None),
        export_cap: thousands(audit_log::EXPORT_CAP.unsigned_abs()),
    })
}

/// `100000` → `100,000`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

// ---- the export ----------------------------------------------------------------

const CSV_HEADER: &[u8] = b"id,at,actor,channel,action,summary,subjects,before,after\r\n";

/// Appends one field: a field a spreadsheet would take for a formula gets a
/// leading `'`, and a field with a separator, quote or line break is quoted.
fn push_csv_field(out: &mut String, value: &str) {
    let formula = matches!(
        value.chars().next(),
        Some('=' | '+' | '-' | '@' | '\t' | '\r')
    );
    let quote = value.contains([',', '"', '\r', '\n']);
    if quote {
        out.push('"');
    }
    if formula {
        out.push('\'');
    }
    if quote {
        out.push_str(&value.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(value);
    }
}

fn subjects_text(subjects: &[SubjectRow]) -> String {
    subjects
        .iter()
        .map(|s| format!("{} ({})", s.name, s.kind))
        .collect::<Vec<_>>()
        .join("; ")
}

fn csv_rows(rows: &[LogRow]) -> String {
    let mut out = String::with_capacity(rows.len() * 256);
    for r in rows {
        let e = &r.entry;
        let fields = [
            e.id.to_string(),
            iso(e.at),
            e.actor_label.clone(),
            e.channel.clone(),
            e.action.clone(),
            e.summary.clone(),
            subjects_text(&r.subjects),
            e.before_json.clone().unwrap_or_default(),
            e.after_json.clone().unwrap_or_default(),
        ];
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_csv_field(&mut out, f);
        }
        out.push_str("\r\n");
    }
    out
}

pub async fn csv(
    ctx: web::Data<Ctx>,
    admin: CurrentAdmin,
    params: web::Query<Params>,
) -> Result<HttpResponse, WebError> {
    let filter = params.filter();
    let batches = audit_log::export(ctx.into_inner(), filter).await?;
    tracing::info!(actor = %admin.email, "audit log exported");
    let body =
        stream::once(async { Ok(Bytes::from_static(CSV_HEADER)) }).chain(batches.map(|batch| {
            match batch {
                Ok(rows) => Ok(Bytes::from(csv_rows(&rows))),
                Err(e) => {
                    // The headers are sent: all that is left is to cut the file short.
                    tracing::error!(error = %e, "audit log export failed");
                    Err(std::io::Error::other("audit log export failed"))
                }
            }
        }));
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"portal-audit.csv\"",
        ))
        .streaming(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(v: &str) -> String {
        let mut out = String::new();
        push_csv_field(&mut out, v);
        out
    }

    #[test]
    fn csv_fields_are_quoted_and_neutralised() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field(""), "");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("two\nlines"), "\"two\nlines\"");
        assert_eq!(field("=1+1"), "'=1+1");
        assert_eq!(field("+1"), "'+1");
        assert_eq!(field("-1"), "'-1");
        assert_eq!(field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(field("\tx"), "'\tx");
        assert_eq!(field("\rx"), "\"'\rx\"");
        assert_eq!(field("=a,\"b\""), "\"'=a,\"\"b\"\"\"");
        assert_eq!(field("a=b"), "a=b");
    }

    #[test]
    fn values_show_what_changed() {
        let v = describe(
            Some(r#"{"email":"a@x.org","state":"active"}"#),
            Some(r#"{"email":"a@x.org","state":"blocked"}"#),
        );
        assert_eq!(v.changed.len(), 1);
        assert_eq!(v.changed[0].field, "State");
        assert_eq!(v.changed[0].before, "active");
        assert_eq!(v.changed[0].after, "blocked");
        assert!(v.sides.is_empty());

        let v = describe(None, Some(r#"{"first_name":"Ann","note":null}"#));
        assert!(v.changed.is_empty());
        assert_eq!(v.sides.len(), 1);
        assert_eq!(v.sides[0].title, "After");
        assert_eq!(
            v.sides[0].fields,
            [
                ("First name".to_owned(), "Ann".to_owned()),
                ("Note".to_owned(), "(none)".to_owned())
            ]
        );

        let v = describe(Some("not json <b>"), Some("42"));
        assert_eq!(v.sides[0].text.as_deref(), Some("not json <b>"));
        assert_eq!(v.sides[1].text.as_deref(), Some("42"));
    }

    #[test]
    fn urls_keep_the_filters() {
        let f = Filter {
            account: Some("ann & bob".into()),
            change: Some(ChangeKind::Account),
            ..Filter::default()
        };
        assert_eq!(
            log_url(PATH, &f, Some(Cursor::After(7))),
            "/admin/audit?account=ann+%26+bob&change=account&after=7"
        );
        assert_eq!(log_url(CSV_PATH, &Filter::default(), None), CSV_PATH);
        assert_eq!(
            entity_url("account", "a/b").as_deref(),
            Some("/admin/users/a%2Fb")
        );
        assert_eq!(entity_url("setting", "x"), None);
        assert_eq!(thousands(100_000), "100,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
