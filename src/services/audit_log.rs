//! The console's Audit log tab (SPEC A1): the full log, filtered by the
//! entities it concerns and the kind of change, a page at a time or as an
//! export.

use std::collections::HashMap;
use std::sync::Arc;

use futures_util::Stream;
use futures_util::stream;

use crate::services::{Ctx, ServiceError};
use crate::store::{
    self,
    audit::{Entry, LogFilter, LogPosition, SubjectRow},
};

pub const PAGE_SIZE: i64 = 50;
/// An export holds at most this many entries, the newest first.
pub const EXPORT_CAP: i64 = 100_000;
/// Entries read per query while exporting.
const EXPORT_BATCH: i64 = 500;

/// The kinds of entity an audit entry can concern (the schema's check).
pub const SUBJECT_KINDS: [&str; 6] = [
    "account",
    "group",
    "product",
    "subscription",
    "template",
    "setting",
];

/// The kinds of change the log can be filtered by: a prefix of the action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Account,
    Group,
    Product,
    Subscription,
    Email,
    Template,
}

impl ChangeKind {
    pub const ALL: [Self; 6] = [
        Self::Account,
        Self::Group,
        Self::Product,
        Self::Subscription,
        Self::Email,
        Self::Template,
    ];

    /// The value in URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Account => "account",
            Self::Group => "group",
            Self::Product => "product",
            Self::Subscription => "subscription",
            Self::Email => "email",
            Self::Template => "template",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The start of the actions of this kind, e.g. `account.`.
    pub fn prefix(self) -> &'static str {
        match self {
            Self::Account => "account.",
            Self::Group => "group.",
            Self::Product => "product.",
            Self::Subscription => "subscription.",
            Self::Email => "email.",
            Self::Template => "template.",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Account => "Accounts",
            Self::Group => "Groups",
            Self::Product => "Products",
            Self::Subscription => "Subscriptions",
            Self::Email => "Emails",
            Self::Template => "Email templates",
        }
    }
}

/// One entity, as the `subject_kind` and `subject_id` of a link name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectKey {
    pub kind: &'static str,
    pub id: String,
}

impl SubjectKey {
    /// `None` unless the kind is one the log knows and the id is not empty.
    pub fn parse(kind: &str, id: &str) -> Option<Self> {
        let kind = SUBJECT_KINDS.into_iter().find(|k| *k == kind)?;
        let id = id.trim();
        (!id.is_empty()).then(|| Self {
            kind,
            id: id.to_owned(),
        })
    }
}

/// Which entries to show; every part is optional and they combine.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub account: Option<String>,
    pub group: Option<String>,
    pub product: Option<String>,
    pub change: Option<ChangeKind>,
    pub subject: Option<SubjectKey>,
}

impl Filter {
    fn as_store(&self) -> LogFilter<'_> {
        LogFilter {
            account: self.account.as_deref(),
            group: self.group.as_deref(),
            product: self.product.as_deref(),
            action_prefix: self.change.map(ChangeKind::prefix),
            subject: self.subject.as_ref().map(|s| (s.kind, s.id.as_str())),
        }
    }
}

/// An entry with the entities it concerns.
#[derive(Debug, Clone)]
pub struct LogRow {
    pub entry: Entry,
    pub subjects: Vec<SubjectRow>,
}

/// A position in the log: the page after or before an entry, by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cursor {
    After(i64),
    Before(i64),
}

pub struct LogPage {
    pub rows: Vec<LogRow>,
    /// Cursor of the page after this one (older entries), if any.
    pub next: Option<Cursor>,
    /// Cursor of the page before this one (newer entries), if any.
    pub prev: Option<Cursor>,
    /// The readable name of the entity filtered by, as the log last knew it.
    pub subject_name: Option<String>,
}

/// Reads up to `limit` entries and their subjects (in one more query).
async fn read(
    ctx: &Ctx,
    filter: &Filter,
    position: Option<LogPosition>,
    limit: i64,
) -> Result<Vec<LogRow>, ServiceError> {
    let entries = store::audit::list(&ctx.db, &filter.as_store(), position, limit).await?;
    let ids: Vec<i64> = entries.iter().map(|e| e.id).collect();
    let mut by_entry: HashMap<i64, Vec<SubjectRow>> = HashMap::new();
    for s in store::audit::subjects_of(&ctx.db, &ids).await? {
        by_entry.entry(s.audit_id).or_default().push(s);
    }
    Ok(entries
        .into_iter()
        .map(|entry| LogRow {
            subjects: by_entry.remove(&entry.id).unwrap_or_default(),
            entry,
        })
        .collect())
}

/// One page of the full log, newest first (A1).
#[tracing::instrument(skip_all)]
pub async fn page(
    ctx: &Ctx,
    filter: &Filter,
    cursor: Option<Cursor>,
) -> Result<LogPage, ServiceError> {
    let position = cursor.map(|c| match c {
        Cursor::After(id) => LogPosition::OlderThan(id),
        Cursor::Before(id) => LogPosition::NewerThan(id),
    });
    let mut rows = read(ctx, filter, position, PAGE_SIZE + 1).await?;
    let backwards = matches!(cursor, Some(Cursor::Before(_)));
    let more = rows.len() as i64 > PAGE_SIZE;
    if more {
        // The extra row lies beyond the page in the walking direction.
        if backwards {
            rows.remove(0);
        } else {
            rows.pop();
        }
    }
    let (has_next, has_prev) = if backwards {
        (true, more)
    } else {
        (more, cursor.is_some())
    };
    let next = rows
        .last()
        .filter(|_| has_next)
        .map(|r| Cursor::After(r.entry.id));
    let prev = rows
        .first()
        .filter(|_| has_prev)
        .map(|r| Cursor::Before(r.entry.id));
    let subject_name = match &filter.subject {
        Some(s) => store::audit::subject_name(&ctx.db, s.kind, &s.id).await?,
        None => None,
    };
    Ok(LogPage {
        rows,
        next,
        prev,
        subject_name,
    })
}

/// The entries of an export in batches, newest first, at most
/// [`EXPORT_CAP`] in all. The first batch is read before this returns, so a
/// failure to read shows as an error page rather than a cut-off file.
#[tracing::instrument(skip_all)]
pub async fn export(
    ctx: Arc<Ctx>,
    filter: Filter,
) -> Result<impl Stream<Item = Result<Vec<LogRow>, ServiceError>> + 'static, ServiceError> {
    let first = read(&ctx, &filter, None, EXPORT_BATCH.min(EXPORT_CAP)).await?;
    struct State {
        ctx: Arc<Ctx>,
        filter: Filter,
        pending: Option<Vec<LogRow>>,
        sent: i64,
        last_id: Option<i64>,
        done: bool,
    }
    let state = State {
        ctx,
        filter,
        pending: Some(first),
        sent: 0,
        last_id: None,
        done: false,
    };
    Ok(stream::unfold(state, |mut s| async move {
        if s.done {
            return None;
        }
        let batch = match s.pending.take() {
            Some(rows) => rows,
            None => {
                let limit = EXPORT_BATCH.min(EXPORT_CAP - s.sent);
                let position = s.last_id.map(LogPosition::OlderThan);
                match read(&s.ctx, &s.filter, position, limit).await {
                    Ok(rows) => rows,
                    Err(e) => {
                        s.done = true;
                        return Some((Err(e), s));
                    }
                }
            }
        };
        let n = batch.len() as i64;
        s.sent += n;
        s.last_id = batch.last().map(|r| r.entry.id).or(s.last_id);
        // A short batch is the last one; so is the one that reaches the cap.
        if n < EXPORT_BATCH || s.sent >= EXPORT_CAP {
            s.done = true;
        }
        if n == 0 {
            return None;
        }
        Some((Ok(batch), s))
    }))
}

/// How many of an entity's newest changes its page's History section shows.
pub const HISTORY: i64 = 20;

/// The newest changes to one entity, for its page's History section.
#[tracing::instrument(skip_all)]
pub async fn history(
    ctx: &crate::services::Ctx,
    kind: &str,
    id: &str,
) -> Result<Vec<crate::store::audit::Entry>, crate::services::ServiceError> {
    Ok(crate::store::audit::for_subject(&ctx.db, kind, id, HISTORY).await?)
}
