//! The Audit log tab (SPEC A1): every change, newest first, filterable by
//! the entities it concerns and the kind of change, and exportable as CSV.
//! The page (`page`), the values before and after an entry as it shows
//! them (`diff`), and the export (`export`); here, the filters they share.

mod diff;
mod export;
mod page;

pub use export::csv;
pub use page::list;

use serde::Deserialize;

use crate::services::audit_log::{ChangeKind, Cursor, Filter, SubjectKey};

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
