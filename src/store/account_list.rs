//! The Users tab's query (U1): keyset pages in name, email or registration
//! order, with the search, state and group filters, and their counts.

use sqlx::{Database, Encode, QueryBuilder, Type};

use super::Exec;
use super::accounts::{AccountDetail, AccountSummary, IS_ADMIN};
use super::backend::push_limit;
use super::fts_phrase;
use crate::domain::query::{self, UserField};
use crate::{run, run_built, sql};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Name,
    Email,
    Registered,
}

impl SortKey {
    fn column(self) -> &'static str {
        match self {
            Self::Name => "a.sort_name",
            Self::Email => "a.email_key",
            Self::Registered => "a.registered_at",
        }
    }

    /// The value of this sort key on a row, as a cursor carries it.
    pub fn value_of(self, row: &AccountSummary) -> String {
        match self {
            Self::Name => row.sort_name.clone(),
            Self::Email => row.email_key.clone(),
            Self::Registered => row.registered_at.to_string(),
        }
    }
}

/// A position in the sorted list: rows strictly after (or before) this one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub key: String,
    pub id: String,
    pub before: bool,
}

impl Cursor {
    /// From a page link's `after=…&id=…` or `before=…&id=…`.
    pub fn from_params(after: Option<String>, before: Option<String>, id: String) -> Option<Self> {
        match (after, before) {
            (Some(key), _) => Some(Self {
                key,
                id,
                before: false,
            }),
            (None, Some(key)) => Some(Self {
                key,
                id,
                before: true,
            }),
            _ => None,
        }
    }
}

/// Which accounts a list shows.
#[derive(Default, Clone, Copy)]
pub struct Filter<'a> {
    pub state: Option<&'a str>,
    pub search: Option<&'a str>,
    /// Only members of any of these groups (explicit memberships).
    pub groups: Option<&'a [String]>,
    /// A hint from a count made first: the search matches so many accounts
    /// that walking the sorted index finds a page sooner than sorting them all.
    pub many_matches: bool,
}

pub struct ListQuery<'a> {
    pub sort: SortKey,
    pub descending: bool,
    pub filter: Filter<'a>,
    pub cursor: Option<&'a Cursor>,
    pub limit: i64,
    /// A list limited by groups (and not searched) counts its accounts up to
    /// this many in the same statement.
    pub count_cap: i64,
    /// Count each listed account's groups (`group_count`; 0 otherwise).
    pub group_counts: bool,
}

/// `m.group_id` is one of `groups`: an equality for one group, so SQLite
/// can walk that group's part of an index in order.
fn push_group_condition<DB: Database>(qb: &mut QueryBuilder<DB>, pg: bool, groups: &[String])
where
    for<'t> String: Encode<'t, DB> + Type<DB>,
    for<'t> i64: Encode<'t, DB> + Type<DB>,
{
    match groups {
        [one] => qb.push("m.group_id = ").push_bind(one.clone()),
        _ => {
            qb.push("m.group_id IN ");
            push_values(qb, pg, groups)
        }
    };
}

/// A subquery of these values (bound as one JSON array).
pub(super) fn push_values<'q, DB: Database>(
    qb: &'q mut QueryBuilder<DB>,
    pg: bool,
    values: &[String],
) -> &'q mut QueryBuilder<DB>
where
    for<'t> String: Encode<'t, DB> + Type<DB>,
{
    let json = serde_json::to_string(values).unwrap_or_default();
    if pg {
        qb.push("(SELECT value FROM json_array_elements_text(CAST(")
            .push_bind(json)
            .push(" AS json)))")
    } else {
        qb.push("(SELECT value FROM json_each(")
            .push_bind(json)
            .push("))")
    }
}

pub(crate) fn push_filters<DB: Database>(qb: &mut QueryBuilder<DB>, pg: bool, filter: &Filter<'_>)
where
    for<'t> String: Encode<'t, DB> + Type<DB>,
    for<'t> i64: Encode<'t, DB> + Type<DB>,
{
    qb.push(" WHERE 1 = 1");
    if let Some(groups) = filter.groups {
        qb.push(" AND a.id IN (SELECT account_id FROM memberships WHERE group_id IN ");
        push_values(qb, pg, groups).push(")");
    }
    // The unary `+` keeps SQLite from driving the scan with that term, so
    // a group's few hundred members are found from the membership index
    // rather than by walking 100,000 accounts in name order.
    let drive_by_group = filter.groups.is_some();
    if let Some(state) = filter.state {
        qb.push(if drive_by_group {
            " AND +a.state = "
        } else {
            " AND a.state = "
        })
        .push_bind(state.to_owned());
    }
    if let Some(text) = filter.search {
        if pg {
            // The trigram index `accounts_search` finds the candidates when
            // they are few; the second test keeps a match within the name or
            // the email, as SQLite's index of the two columns does. It tests
            // the lower-cased columns the sorted indexes hold, so when many
            // match (the count said so), a page is found by walking an index
            // alone, and the trigram test is left out so that one plan, made
            // once, serves every such search.
            if filter.many_matches {
                // `strpos` where `LIKE` would do: PostgreSQL estimates a
                // function's result the same whatever the text, so the plan
                // made once is not made again at every run (0.5 ms) for
                // an estimate that would not change it.
                let needle = text.to_lowercase();
                qb.push(" AND (strpos(a.sort_name, ")
                    .push_bind(needle.clone())
                    .push(") > 0 OR strpos(a.email_key, ")
                    .push_bind(needle)
                    .push(") > 0)");
            } else {
                let pattern = like_pattern(text);
                qb.push(" AND (a.sort_name || ' ' || a.email_key) LIKE ")
                    .push_bind(pattern.clone())
                    .push(" ESCAPE '\\' AND (a.sort_name LIKE ")
                    .push_bind(pattern.clone())
                    .push(" ESCAPE '\\' OR a.email_key LIKE ")
                    .push_bind(pattern)
                    .push(" ESCAPE '\\')");
            }
        } else if text.chars().count() >= 3 && !filter.many_matches && !drive_by_group {
            qb.push(" AND a.seq IN (SELECT rowid FROM accounts_fts WHERE accounts_fts MATCH ")
                .push_bind(fts_phrase(text))
                .push(")");
        } else {
            // Tested on each account as the list's sorted index is walked: that
            // index holds the lower-cased name and email (migration 0004), so
            // only the accounts shown are read. The trigram index needs three
            // characters; and when thousands match, collecting and sorting all
            // of them costs ten times more than walking to the page's 51st.
            let needle = text.to_lowercase();
            qb.push(" AND (instr(a.sort_name, ")
                .push_bind(needle.clone())
                .push(") > 0 OR instr(a.email_key, ")
                .push_bind(needle)
                .push(") > 0)");
        }
    }
}

/// One page of accounts in keyset order: no OFFSET, so page 1,000 costs what page 1 does.
/// Returns up to `limit + 1` rows in display order (the extra row tells that
/// more follow) and, unless a search limits the list, the number of
/// accounts it walks through (up to `count_cap` when groups limit it).
pub async fn list<'c>(
    e: impl Exec<'c>,
    q: &ListQuery<'_>,
) -> Result<(Vec<AccountSummary>, Option<i64>), sqlx::Error> {
    // A search that matches few is planned for its text each time
    // (PostgreSQL: an unnamed statement): how few decides between its
    // trigram index and walking a sorted one. Other lists, and searches
    // that match many (always the walk), are prepared.
    let planned_each_time = q.filter.search.is_some() && !q.filter.many_matches;
    let (total, mut rows) = run_built!(e, |pg| list_query(pg, q), |qb, x| {
        if pg {
            // Rows, each with the count: building JSON costs PostgreSQL
            // more than sending the rows (a third of the statement). The
            // count comes even with no row of the page.
            let found = qb
                .build()
                .persistent(!planned_each_time)
                .fetch_all(x)
                .await?;
            let total = match found.first() {
                Some(row) => sqlx::Row::try_get::<Option<i64>, _>(row, "total")?,
                None => None,
            };
            let mut rows = Vec::with_capacity(found.len());
            for row in &found {
                // The count's own row, when the page is empty.
                if sqlx::Row::try_get::<Option<String>, _>(row, "id")?.is_some() {
                    rows.push(sqlx::FromRow::from_row(row)?);
                }
            }
            Ok::<_, sqlx::Error>((total, rows))
        } else {
            let (total, json): (Option<i64>, String) = qb.build_query_as().fetch_one(x).await?;
            let rows: Vec<AccountSummary> =
                serde_json::from_str(&json).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
            Ok((total, rows))
        }
    })?;
    // json_group_array keeps the subquery's order in SQLite, but nothing
    // promises it, nor the order of PostgreSQL's join: put the page in
    // order here, where it is cheap.
    let key = |r: &AccountSummary| (q.sort.value_of(r), r.id.clone());
    match q.sort {
        SortKey::Registered => rows.sort_by_key(|r| (r.registered_at, r.id.clone())),
        _ => rows.sort_by_key(key),
    }
    if q.descending {
        rows.reverse();
    }
    Ok((rows, total))
}

fn list_query<DB: Database>(pg: bool, q: &ListQuery<'_>) -> QueryBuilder<DB>
where
    for<'t> String: Encode<'t, DB> + Type<DB>,
    for<'t> i64: Encode<'t, DB> + Type<DB>,
{
    let col = q.sort.column();
    // One statement. On SQLite, one row: the count and the page as JSON
    // (sqlx hands every statement and row to a connection thread and back,
    // which costs more than SQLite building the JSON). On PostgreSQL, the
    // page's rows, each with the count, or one row of the count alone (its
    // page columns null) when the page is empty.
    let group_count = if q.group_counts {
        "(SELECT count(*) FROM memberships m WHERE m.sort_name = page.sort_name AND m.account_id = page.id)"
    } else {
        "CAST(0 AS BIGINT)"
    };
    let mut qb = QueryBuilder::<DB>::new("SELECT ");
    if pg {
        qb.push(
            "counted.total, page.id, page.email, page.first_name, page.last_name, page.state,
                page.registered_at, page.sort_name, page.email_key, ",
        )
        .push(group_count)
        .push(" AS group_count FROM (SELECT ");
    }
    match (q.filter.search, q.filter.groups) {
        (None, None) => push_state_count(&mut qb, q.filter.state),
        (None, Some(groups)) => push_group_count(&mut qb, pg, groups, q.filter.state, q.count_cap),
        // A search is counted first, by `count`: the count decides how the
        // page is best found.
        (Some(_), _) => {
            qb.push("CAST(NULL AS BIGINT)");
        }
    }
    if pg {
        qb.push(" AS total) AS counted LEFT JOIN (");
    } else {
        qb.push(
            ", (SELECT coalesce(json_group_array(json_object('id', id, 'email', email,
            'first_name', first_name, 'last_name', last_name, 'state', state,
            'registered_at', registered_at, 'group_count', ",
        )
        .push(group_count)
        .push(", 'sort_name', sort_name, 'email_key', email_key)), '[]') FROM (");
    }
    qb.push(
        "
         SELECT a.id, a.email, a.first_name, a.last_name, a.state, a.registered_at,
                a.sort_name, a.email_key FROM ",
    );
    // Walking backwards (a "Previous" link) reverses the scan, then the rows.
    let reverse = q.cursor.is_some_and(|c| c.before);
    let ascending = q.descending == reverse;
    let dir = if ascending { "ASC" } else { "DESC" };
    let cmp = if ascending { ">" } else { "<" };
    match (q.filter.groups, q.filter.search, q.sort) {
        // A group's members in name order: walk the memberships' own index
        // (they carry the sort name and state) and look up only the page.
        (Some(groups), None, SortKey::Name) => {
            // One group holds an account once: DISTINCT (a temporary index
            // of every row walked) only when several groups may repeat it.
            qb.push(if groups.len() == 1 {
                "(SELECT m.sort_name, m.account_id FROM memberships m WHERE "
            } else {
                "(SELECT DISTINCT m.sort_name, m.account_id FROM memberships m WHERE "
            });
            push_group_condition(&mut qb, pg, groups);
            if let Some(state) = q.filter.state {
                qb.push(" AND m.state = ").push_bind(state.to_owned());
            }
            if let Some(c) = q.cursor {
                qb.push(format!(" AND (m.sort_name, m.account_id) {cmp} ("))
                    .push_bind(c.key.clone())
                    .push(", ")
                    .push_bind(c.id.clone())
                    .push(")");
            }
            qb.push(format!(
                " ORDER BY m.sort_name {dir}, m.account_id {dir} LIMIT "
            ));
            push_limit(&mut qb, pg, q.limit + 1);
            qb.push(") k JOIN accounts a ON a.id = k.account_id");
            qb.push(if pg {
                ") AS page ON true"
            } else {
                ") AS page)"
            });
        }
        _ => {
            // PostgreSQL tests a search on each index entry walked only when
            // the walk reads the index alone (the sorted indexes hold the
            // searched columns): so the page's ids are found first, then
            // its rows.
            let ids_first = pg && q.filter.search.is_some();
            qb.push(if ids_first {
                "(SELECT a.id FROM accounts a"
            } else {
                "accounts a"
            });
            push_filters(&mut qb, pg, &q.filter);
            if let Some(c) = q.cursor {
                qb.push(format!(" AND ({col}, a.id) {cmp} ("));
                match q.sort {
                    SortKey::Registered => qb.push_bind(c.key.parse::<i64>().unwrap_or(0)),
                    _ => qb.push_bind(c.key.clone()),
                };
                qb.push(", ").push_bind(c.id.clone()).push(")");
            }
            qb.push(format!(" ORDER BY {col} {dir}, a.id {dir} LIMIT "));
            push_limit(&mut qb, pg, q.limit + 1);
            if ids_first {
                qb.push(") k JOIN accounts a ON a.id = k.id");
            }
            qb.push(if pg {
                ") AS page ON true"
            } else {
                ") AS page)"
            });
        }
    }
    qb
}

/// Accounts in a state (or all), from the per-state counters: a subquery.
fn push_state_count<DB: Database>(qb: &mut QueryBuilder<DB>, state: Option<&str>)
where
    for<'t> String: Encode<'t, DB> + Type<DB>,
    for<'t> i64: Encode<'t, DB> + Type<DB>,
{
    qb.push("(SELECT CAST(coalesce(sum(n), 0) AS BIGINT) FROM account_counts");
    if let Some(state) = state {
        qb.push(" WHERE state = ").push_bind(state.to_owned());
    }
    qb.push(")");
}

/// Members of any of `groups` (in a state), at most `cap`, counted in the
/// memberships' index, which holds each member's state: a subquery.
fn push_group_count<DB: Database>(
    qb: &mut QueryBuilder<DB>,
    pg: bool,
    groups: &[String],
    state: Option<&str>,
    cap: i64,
) where
    for<'t> String: Encode<'t, DB> + Type<DB>,
    for<'t> i64: Encode<'t, DB> + Type<DB>,
{
    qb.push(if groups.len() == 1 {
        "(SELECT count(*) FROM (SELECT m.account_id FROM memberships m WHERE "
    } else {
        "(SELECT count(*) FROM (SELECT DISTINCT m.account_id FROM memberships m WHERE "
    });
    push_group_condition(qb, pg, groups);
    if let Some(state) = state {
        qb.push(" AND m.state = ").push_bind(state.to_owned());
    }
    qb.push(" LIMIT ");
    push_limit(qb, pg, cap);
    qb.push(") AS counted)");
}

/// How many accounts match, counting at most `cap` so a common search
/// fragment never counts 100,000 rows. Without a search or group the count
/// comes from the per-state counters.
pub async fn count<'c>(
    e: impl Exec<'c>,
    filter: &Filter<'_>,
    cap: i64,
) -> Result<i64, sqlx::Error> {
    // Prepared, unlike the list: whatever the values, the count is best
    // found the same way, and planning it each time cost 1.5 ms.
    run_built!(e, |pg| count_query(pg, filter, cap), |qb, x| qb
        .build_query_scalar()
        .fetch_one(x)
        .await)
}

fn count_query<DB: Database>(pg: bool, filter: &Filter<'_>, cap: i64) -> QueryBuilder<DB>
where
    for<'t> String: Encode<'t, DB> + Type<DB>,
    for<'t> i64: Encode<'t, DB> + Type<DB>,
{
    let mut qb = QueryBuilder::<DB>::new("SELECT ");
    if filter.search.is_none() {
        match filter.groups {
            None => push_state_count(&mut qb, filter.state),
            Some(groups) => push_group_count(&mut qb, pg, groups, filter.state, cap),
        }
        return qb;
    }
    if let (false, Some(text), None, None) = (pg, filter.search, filter.state, filter.groups)
        && text.chars().count() >= 3
    {
        // Every account has one row in SQLite's search index: count there.
        qb.push("count(*) FROM (SELECT 1 FROM accounts_fts WHERE accounts_fts MATCH ")
            .push_bind(fts_phrase(text))
            .push(" LIMIT ")
            .push_bind(cap)
            .push(") AS counted");
        return qb;
    }
    qb.push("count(*) FROM (SELECT 1 FROM accounts a");
    push_filters(&mut qb, pg, filter);
    qb.push(" LIMIT ");
    push_limit(&mut qb, pg, cap);
    qb.push(") AS counted");
    qb
}

/// `text` anywhere, as a lower-case `LIKE` pattern (escape `\`).
fn like_pattern(text: &str) -> String {
    let escaped = text
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

// ---- the management API's lists (SPEC M4) -------------------------------------

/// Which accounts a management API list holds.
pub enum Among<'a> {
    Everyone,
    /// Explicit members of one group.
    MembersOf(&'a str),
}

fn user_column(f: UserField) -> &'static str {
    match f {
        UserField::Name => "a.id",
        UserField::FirstName => "a.first_name",
        UserField::LastName => "a.last_name",
        UserField::Email => "a.email",
        UserField::Note => "a.note",
        UserField::State => "a.state",
        UserField::RegistrationDate => "a.registered_at",
    }
}

fn push_among_and_filter<DB: Database>(
    qb: &mut QueryBuilder<DB>,
    among: &Among<'_>,
    filter: Option<&query::Filter<UserField>>,
) where
    for<'t> String: Encode<'t, DB> + Type<DB>,
    for<'t> i64: Encode<'t, DB> + Type<DB>,
{
    qb.push(" FROM accounts a WHERE 1 = 1");
    if let Among::MembersOf(group) = among {
        qb.push(" AND a.id IN (SELECT m.account_id FROM memberships m WHERE m.group_id = ")
            .push_bind(group.to_string())
            .push(")");
    }
    if let Some(f) = filter {
        qb.push(" AND ");
        super::query::push_filter(qb, f, &user_column);
    }
}

/// `limit` accounts from `offset`, in registration order (stable while
/// pages are read: the rowid).
pub async fn filtered<'c>(
    e: impl Exec<'c>,
    among: &Among<'_>,
    filter: Option<&query::Filter<UserField>>,
    offset: i64,
    limit: i64,
) -> Result<Vec<AccountDetail>, sqlx::Error> {
    run_built!(
        e,
        |pg| filtered_query(pg, among, filter, offset, limit),
        |qb, x| qb.build_query_as().persistent(!pg).fetch_all(x).await
    )
}

fn filtered_query<DB: Database>(
    pg: bool,
    among: &Among<'_>,
    filter: Option<&query::Filter<UserField>>,
    offset: i64,
    limit: i64,
) -> QueryBuilder<DB>
where
    for<'t> String: Encode<'t, DB> + Type<DB>,
    for<'t> i64: Encode<'t, DB> + Type<DB>,
{
    let mut qb = QueryBuilder::<DB>::new(format!(
        "SELECT a.id, a.email, a.first_name, a.last_name, a.note, a.state, a.registered_at,
                a.password_hash IS NOT NULL AS has_password, {IS_ADMIN} AS is_admin, a.version"
    ));
    push_among_and_filter(&mut qb, among, filter);
    // Registration order, stable while pages are read (SQLite's rowid).
    qb.push(if pg {
        " ORDER BY a.registered_at, a.id LIMIT "
    } else {
        " ORDER BY a.seq LIMIT "
    })
    .push_bind(limit)
    .push(" OFFSET ")
    .push_bind(offset);
    qb
}

/// How many accounts such a list holds in all.
pub async fn count_filtered<'c>(
    e: impl Exec<'c>,
    among: &Among<'_>,
    filter: Option<&query::Filter<UserField>>,
) -> Result<i64, sqlx::Error> {
    if let (Among::Everyone, None) = (among, filter) {
        return run!(
            e,
            sql!("SELECT CAST(coalesce(sum(n), 0) AS BIGINT) FROM account_counts"),
            |x, q| sqlx::query_scalar(q).fetch_one(x).await
        );
    }
    run_built!(
        e,
        |pg| {
            let mut qb = QueryBuilder::<_>::new("SELECT count(*)");
            push_among_and_filter(&mut qb, among, filter);
            qb
        },
        |qb, x| qb.build_query_scalar().persistent(!pg).fetch_one(x).await
    )
}
