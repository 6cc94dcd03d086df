//! The Users tab (SPEC U1, U3, U5, U6, U7) and the account page: the list
//! (`list`), Add user (`add`), the account page and what its buttons do
//! (`account`), and Add to group on the list (`add_to_group`). Here: the
//! rows the console's account lists share, and their paging URLs.

mod account;
mod add;
mod add_to_group;
mod list;

pub use account::{
    activate, block, delete, delete_confirm, send_reset, set_password, show, unlink,
};
pub use add::{add, add_form};
pub use add_to_group::toggle;
pub use list::list;

use crate::clock;
use crate::store::account_list::Cursor;
use crate::store::accounts::AccountSummary;
use crate::store::audit::Entry;
use crate::web::paths::with_query;

/// One account in a list: the Users tab, a group's members, who can see a product.
pub struct Row {
    pub id: String,
    pub name: String,
    pub email: String,
    pub state: &'static str,
    pub state_key: &'static str,
    pub registered: String,
    pub groups: i64,
}

impl From<AccountSummary> for Row {
    fn from(a: AccountSummary) -> Self {
        Self {
            name: format!("{} {}", a.first_name, a.last_name),
            state: a.state.label(),
            state_key: a.state.as_str(),
            registered: clock::display(a.registered_at),
            groups: crate::domain::group::count_with_developers(a.group_count),
            id: a.id.into(),
            email: a.email,
        }
    }
}

/// One entry of an entity's history, on its page.
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

/// The query pairs of a position in an account list.
fn cursor_pairs(c: Option<&Cursor>) -> [(&'static str, &str); 2] {
    match c {
        Some(c) => [
            (if c.before { "before" } else { "after" }, c.key.as_str()),
            ("id", c.id.as_str()),
        ],
        None => [("after", ""), ("id", "")],
    }
}

/// A page of another account list at `base` (a group's members, who can
/// see a product), keeping its search.
pub(in crate::web::admin) fn page_url(base: &str, q: &str, cursor: &Cursor) -> String {
    let [at, id] = cursor_pairs(Some(cursor));
    with_query(base, &[("q", q), at, id])
}
