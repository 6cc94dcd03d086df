//! The Users tab's list (U1, G6): 50 accounts a page in name, email or
//! registration order, searched by a fragment of a name or an email,
//! filtered by state or by groups, with keyset paging both ways. Also the
//! list behind a product's audience (P5).

use crate::domain::AccountState;
use crate::services::remembered::Remembered;
use crate::services::{Ctx, ServiceError};
use crate::store::account_list::*;
use crate::store::{self, accounts::AccountSummary};

pub const PAGE_SIZE: i64 = 50;
/// Searches count their matches up to this many and then say "more than".
pub const COUNT_CAP: i64 = 1000;
/// Above this many matches (1% of 100,000 accounts) a page is found faster
/// by walking the sorted index and testing each account than by sorting
/// every match: at 1% that walk reads about 5,000 index entries (2 ms), and
/// a common fragment ("son", 10%) about 500 (0.4 ms, against 4 ms sorted).
const MANY_MATCHES: i64 = COUNT_CAP;

pub struct UsersQuery {
    pub sort: SortKey,
    pub descending: bool,
    pub state: Option<AccountState>,
    pub search: Option<String>,
    /// Only members of any of these groups.
    pub groups: Option<Vec<String>>,
    pub cursor: Option<Cursor>,
    /// Count each account's groups (the Users tab shows them; lists that
    /// do not are spared 50 look-ups).
    pub group_counts: bool,
}

impl UsersQuery {
    pub fn filter(&self) -> Filter<'_> {
        Filter {
            state: self.state.map(|s| s.as_str()),
            search: self.search.as_deref(),
            groups: self.groups.as_deref(),
            many_matches: false,
        }
    }
}

pub struct UsersPage {
    pub rows: Vec<AccountSummary>,
    /// Cursor of the page after this one, if any.
    pub next: Option<Cursor>,
    /// Cursor of the page before this one, if any.
    pub prev: Option<Cursor>,
    pub total: i64,
    pub total_capped: bool,
}

/// What a search matched (text, state, groups), counted up to the cap.
type CountKey = (String, Option<&'static str>, Option<Vec<String>>);

/// Searches' counts, remembered until the next commit. Counting a common
/// fragment's thousand matches is most of a searched page's cost (on
/// PostgreSQL 2 ms, where the page itself walks 500 index entries), and
/// each page of a search's results counts the same matches again.
pub struct SearchCounts(Remembered<CountKey, i64>);

impl Default for SearchCounts {
    fn default() -> Self {
        Self(Remembered::new(1_000))
    }
}

#[tracing::instrument(skip_all)]
pub async fn list(ctx: &Ctx, q: &UsersQuery) -> Result<UsersPage, ServiceError> {
    let mut conn = ctx.db.acquire().await?;
    list_in(ctx, &mut conn, q).await
}

/// The same, read on `conn` (with a page's other reads).
pub(crate) async fn list_in(
    ctx: &Ctx,
    conn: &mut crate::store::Conn,
    q: &UsersQuery,
) -> Result<UsersPage, ServiceError> {
    let mut filter = q.filter();
    // A search is counted first: how many match decides how the page is
    // best found. Otherwise the page brings its count.
    let mut counted = None;
    if let Some(text) = filter.search {
        let key = (
            text.to_owned(),
            q.state.map(|s| s.as_str()),
            q.groups.clone(),
        );
        let n = ctx
            .search_counts
            .0
            .get_or_read(
                key,
                store::account_list::count(&mut *conn, &filter, COUNT_CAP + 1),
            )
            .await?;
        filter.many_matches = n > MANY_MATCHES;
        counted = Some(n);
    }
    let (mut rows, page_total) = store::account_list::list(
        &mut *conn,
        &ListQuery {
            sort: q.sort,
            descending: q.descending,
            filter,
            cursor: q.cursor.as_ref(),
            limit: PAGE_SIZE,
            count_cap: COUNT_CAP + 1,
            group_counts: q.group_counts,
        },
    )
    .await?;
    let total = counted.or(page_total).unwrap_or(0);
    let backwards = q.cursor.as_ref().is_some_and(|c| c.before);
    let more = rows.len() as i64 > PAGE_SIZE;
    if more {
        // The extra row lies beyond the page in the walking direction.
        if backwards {
            rows.remove(0);
        } else {
            rows.pop();
        }
    }
    let cursor_at = |row: &AccountSummary, before: bool| Cursor {
        key: q.sort.value_of(row),
        id: row.id.to_string(),
        before,
    };
    let (has_next, has_prev) = if backwards {
        (true, more)
    } else {
        (more, q.cursor.is_some())
    };
    let next = rows
        .last()
        .filter(|_| has_next)
        .map(|r| cursor_at(r, false));
    let prev = rows
        .first()
        .filter(|_| has_prev)
        .map(|r| cursor_at(r, true));
    let capped = (filter.search.is_some() || filter.groups.is_some()) && total > COUNT_CAP;
    Ok(UsersPage {
        rows,
        next,
        prev,
        total: if capped { COUNT_CAP } else { total },
        total_capped: capped,
    })
}
