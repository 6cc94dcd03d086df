use sqlx::{AssertSqlSafe, FromRow, QueryBuilder, Sqlite, SqliteExecutor};

use super::{Tx, fts_phrase};
use crate::domain::group::ADMINISTRATORS;

/// What the Users tab and the account page show of an account.
#[derive(Debug, Clone, FromRow, serde::Deserialize)]
pub struct AccountSummary {
    pub id: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub state: String,
    pub registered_at: i64,
    pub group_count: i64,
    pub sort_name: String,
    pub email_key: String,
}

#[derive(Debug, Clone, FromRow)]
pub struct AccountDetail {
    pub id: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub note: Option<String>,
    pub state: String,
    pub registered_at: i64,
    pub has_password: bool,
    pub is_admin: bool,
    pub version: i64,
}

/// What a sign-in needs to decide.
#[derive(FromRow)]
pub struct Credentials {
    pub id: String,
    pub password_hash: Option<String>,
    pub state: String,
    pub session_epoch: i64,
    pub failed_signins: i64,
    pub locked_until: i64,
    pub is_admin: bool,
}

/// What every signed-in request checks against its session (S-10).
#[derive(Debug, Clone, FromRow)]
pub struct SessionAccount {
    pub id: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub state: String,
    pub session_epoch: i64,
    pub is_admin: bool,
    /// The groups it is an explicit member of, as a JSON array: read with
    /// the session check so a page that needs them costs no second statement.
    pub group_ids: String,
}

impl SessionAccount {
    pub fn groups(&self) -> Vec<String> {
        serde_json::from_str(&self.group_ids).unwrap_or_default()
    }
}

pub struct NewAccountRow<'a> {
    pub id: &'a str,
    pub email: &'a str,
    pub email_key: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub password_hash: Option<&'a str>,
    pub state: &'a str,
    pub registered_at: i64,
}

const IS_ADMIN: &str = "EXISTS (SELECT 1 FROM memberships m WHERE m.group_id = 'administrators' AND m.account_id = a.id)";

pub async fn insert(tx: &mut Tx, row: &NewAccountRow<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO accounts (id, email, email_key, first_name, last_name, sort_name, password_hash, state, registered_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(row.id)
    .bind(row.email)
    .bind(row.email_key)
    .bind(row.first_name)
    .bind(row.last_name)
    .bind(sort_name(row.first_name, row.last_name))
    .bind(row.password_hash)
    .bind(row.state)
    .bind(row.registered_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub fn sort_name(first: &str, last: &str) -> String {
    format!("{first} {last}").to_lowercase()
}

pub async fn email_taken(e: impl SqliteExecutor<'_>, email_key: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM accounts WHERE email_key = ?)")
        .bind(email_key)
        .fetch_one(e)
        .await
}

pub async fn detail(
    e: impl SqliteExecutor<'_>,
    id: &str,
) -> Result<Option<AccountDetail>, sqlx::Error> {
    sqlx::query_as(AssertSqlSafe(format!(
        "SELECT a.id, a.email, a.first_name, a.last_name, a.note, a.state, a.registered_at,
                a.password_hash IS NOT NULL AS has_password, {IS_ADMIN} AS is_admin, a.version
         FROM accounts a WHERE a.id = ?"
    )))
    .bind(id)
    .fetch_optional(e)
    .await
}

pub async fn detail_by_email(
    e: impl SqliteExecutor<'_>,
    email_key: &str,
) -> Result<Option<AccountDetail>, sqlx::Error> {
    sqlx::query_as(AssertSqlSafe(format!(
        "SELECT a.id, a.email, a.first_name, a.last_name, a.note, a.state, a.registered_at,
                a.password_hash IS NOT NULL AS has_password, {IS_ADMIN} AS is_admin, a.version
         FROM accounts a WHERE a.email_key = ?"
    )))
    .bind(email_key)
    .fetch_optional(e)
    .await
}

/// The password hash alone, to check a current password before a change.
pub async fn password_hash(
    e: impl SqliteExecutor<'_>,
    id: &str,
) -> Result<Option<String>, sqlx::Error> {
    Ok(
        sqlx::query_scalar::<_, Option<String>>("SELECT password_hash FROM accounts WHERE id = ?")
            .bind(id)
            .fetch_optional(e)
            .await?
            .flatten(),
    )
}

pub async fn set_names(
    tx: &mut Tx,
    id: &str,
    first: &str,
    last: &str,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE accounts SET first_name = ?, last_name = ?, sort_name = ?, version = version + 1
         WHERE id = ?",
    )
    .bind(first)
    .bind(last)
    .bind(sort_name(first, last))
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn credentials(
    e: impl SqliteExecutor<'_>,
    email_key: &str,
) -> Result<Option<Credentials>, sqlx::Error> {
    sqlx::query_as(AssertSqlSafe(format!(
        "SELECT a.id, a.password_hash, a.state, a.session_epoch, a.failed_signins, a.locked_until,
                {IS_ADMIN} AS is_admin
         FROM accounts a WHERE a.email_key = ?"
    )))
    .bind(email_key)
    .fetch_optional(e)
    .await
}

/// The account of a session, unless that session was signed out.
pub async fn session_account(
    e: impl SqliteExecutor<'_>,
    id: &str,
    sid: &str,
) -> Result<Option<SessionAccount>, sqlx::Error> {
    sqlx::query_as(AssertSqlSafe(format!(
        "SELECT a.id, a.email, a.first_name, a.last_name, a.state, a.session_epoch, {IS_ADMIN} AS is_admin,
                (SELECT json_group_array(m.group_id) FROM memberships m
                 WHERE m.sort_name = a.sort_name AND m.account_id = a.id) AS group_ids
         FROM accounts a
         WHERE a.id = ? AND NOT EXISTS (SELECT 1 FROM revoked_sessions r WHERE r.sid = ?)"
    )))
    .bind(id)
    .bind(sid)
    .fetch_optional(e)
    .await
}

/// Refuses a signed-out session id from now until `expires_at` (S-9), and
/// forgets ids whose sessions would have expired anyway.
pub async fn revoke_session(
    tx: &mut Tx,
    sid: &str,
    expires_at: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM revoked_sessions WHERE expires_at < ?")
        .bind(now)
        .execute(&mut **tx)
        .await?;
    sqlx::query("INSERT OR IGNORE INTO revoked_sessions (sid, expires_at) VALUES (?, ?)")
        .bind(sid)
        .bind(expires_at)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Records a failed sign-in and the earliest time of the next attempt (S-3).
pub async fn record_signin_failure(
    tx: &mut Tx,
    id: &str,
    failures: i64,
    locked_until: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE accounts SET failed_signins = ?, locked_until = ? WHERE id = ?")
        .bind(failures)
        .bind(locked_until)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn clear_signin_failures(
    e: impl SqliteExecutor<'_>,
    id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE accounts SET failed_signins = 0, locked_until = 0 WHERE id = ? AND failed_signins <> 0")
        .bind(id)
        .execute(e)
        .await?;
    Ok(())
}

/// Changes the state; leaving `active` ends every session of the account (S-10).
pub async fn set_state(tx: &mut Tx, id: &str, state: &str) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE accounts SET state = ?1, version = version + 1,
                session_epoch = session_epoch + (CASE WHEN ?1 = 'active' THEN 0 ELSE 1 END)
         WHERE id = ?2",
    )
    .bind(state)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Sets the password hash and ends every session of the account (U10, S-10).
/// Returns the new session epoch.
pub async fn set_password_hash(
    tx: &mut Tx,
    id: &str,
    hash: &str,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE accounts SET password_hash = ?, session_epoch = session_epoch + 1,
                failed_signins = 0, locked_until = 0, version = version + 1
         WHERE id = ? RETURNING session_epoch",
    )
    .bind(hash)
    .bind(id)
    .fetch_optional(&mut **tx)
    .await
}

pub async fn delete(tx: &mut Tx, id: &str) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("DELETE FROM accounts WHERE id = ?")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Active administrators other than `except` (S-14).
pub async fn count_other_active_admins(tx: &mut Tx, except: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT count(*) FROM memberships m JOIN accounts a ON a.id = m.account_id
         WHERE m.group_id = ? AND a.state = 'active' AND a.id <> ?",
    )
    .bind(ADMINISTRATORS)
    .bind(except)
    .fetch_one(&mut **tx)
    .await
}

pub async fn count_admins(e: impl SqliteExecutor<'_>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT member_count FROM groups WHERE id = ?")
        .bind(ADMINISTRATORS)
        .fetch_one(e)
        .await
}

/// Accounts by id (at most 500), in name order.
pub async fn by_ids(
    e: impl SqliteExecutor<'_>,
    ids: &[String],
) -> Result<Vec<AccountSummary>, sqlx::Error> {
    let ids: Vec<&String> = ids.iter().take(500).collect();
    sqlx::query_as(
        "SELECT a.id, a.email, a.first_name, a.last_name, a.state, a.registered_at,
                (SELECT count(*) FROM memberships m WHERE m.sort_name = a.sort_name AND m.account_id = a.id) AS group_count,
                a.sort_name, a.email_key
         FROM accounts a WHERE a.id IN (SELECT value FROM json_each(?)) ORDER BY a.sort_name, a.id",
    )
    .bind(serde_json::to_string(&ids).unwrap_or_default())
    .fetch_all(e)
    .await
}

// ---- the Users tab -----------------------------------------------------------

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
fn push_group_condition(qb: &mut QueryBuilder<Sqlite>, groups: &[String]) {
    match groups {
        [one] => qb.push("m.group_id = ").push_bind(one.clone()),
        _ => qb
            .push("m.group_id IN (SELECT value FROM json_each(")
            .push_bind(serde_json::to_string(groups).unwrap_or_default())
            .push("))"),
    };
}

pub(crate) fn push_filters(qb: &mut QueryBuilder<Sqlite>, filter: &Filter<'_>) {
    qb.push(" WHERE 1 = 1");
    if let Some(groups) = filter.groups {
        qb.push(" AND a.id IN (SELECT account_id FROM memberships WHERE group_id IN (SELECT value FROM json_each(")
            .push_bind(serde_json::to_string(groups).unwrap_or_default())
            .push(")))");
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
        if text.chars().count() >= 3 && !filter.many_matches && !drive_by_group {
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
pub async fn list(
    e: impl SqliteExecutor<'_>,
    q: &ListQuery<'_>,
) -> Result<(Vec<AccountSummary>, Option<i64>), sqlx::Error> {
    let col = q.sort.column();
    // One statement, one row: the count and the page as JSON. sqlx hands
    // every statement and row to a connection thread and back, which costs
    // more than SQLite building the JSON.
    let mut qb = QueryBuilder::<Sqlite>::new("SELECT ");
    match (q.filter.search, q.filter.groups) {
        (None, None) => push_state_count(&mut qb, q.filter.state),
        (None, Some(groups)) => push_group_count(&mut qb, groups, q.filter.state, q.count_cap),
        // A search is counted first, by `count`: the count decides how the
        // page is best found.
        (Some(_), _) => {
            qb.push("NULL");
        }
    }
    qb.push(
        ", (SELECT coalesce(json_group_array(json_object('id', id, 'email', email, 'first_name', first_name,
            'last_name', last_name, 'state', state, 'registered_at', registered_at, 'group_count', ",
    );
    qb.push(if q.group_counts {
        "(SELECT count(*) FROM memberships m WHERE m.sort_name = page.sort_name AND m.account_id = page.id)"
    } else {
        "0"
    });
    qb.push(
        ", 'sort_name', sort_name, 'email_key', email_key)), '[]') FROM (
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
            push_group_condition(&mut qb, groups);
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
            ))
            .push_bind(q.limit + 1)
            .push(") k JOIN accounts a ON a.id = k.account_id) AS page)");
        }
        _ => {
            qb.push("accounts a");
            push_filters(&mut qb, &q.filter);
            if let Some(c) = q.cursor {
                qb.push(format!(" AND ({col}, a.id) {cmp} ("));
                match q.sort {
                    SortKey::Registered => qb.push_bind(c.key.parse::<i64>().unwrap_or(0)),
                    _ => qb.push_bind(c.key.clone()),
                };
                qb.push(", ").push_bind(c.id.clone()).push(")");
            }
            qb.push(format!(" ORDER BY {col} {dir}, a.id {dir} LIMIT "))
                .push_bind(q.limit + 1)
                .push(") AS page)");
        }
    }
    let (total, json): (Option<i64>, String) = qb.build_query_as().fetch_one(e).await?;
    let mut rows: Vec<AccountSummary> =
        serde_json::from_str(&json).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    // json_group_array keeps the subquery's order in SQLite, but nothing
    // promises it: put the page in order here, where it is cheap.
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

/// Accounts in a state (or all), from the per-state counters: a subquery.
fn push_state_count(qb: &mut QueryBuilder<Sqlite>, state: Option<&str>) {
    qb.push("(SELECT coalesce(sum(n), 0) FROM account_counts");
    if let Some(state) = state {
        qb.push(" WHERE state = ").push_bind(state.to_owned());
    }
    qb.push(")");
}

/// Members of any of `groups` (in a state), at most `cap`, counted in the
/// memberships' index, which holds each member's state: a subquery.
fn push_group_count(
    qb: &mut QueryBuilder<Sqlite>,
    groups: &[String],
    state: Option<&str>,
    cap: i64,
) {
    qb.push(if groups.len() == 1 {
        "(SELECT count(*) FROM (SELECT m.account_id FROM memberships m WHERE "
    } else {
        "(SELECT count(*) FROM (SELECT DISTINCT m.account_id FROM memberships m WHERE "
    });
    push_group_condition(qb, groups);
    if let Some(state) = state {
        qb.push(" AND m.state = ").push_bind(state.to_owned());
    }
    qb.push(" LIMIT ").push_bind(cap).push("))");
}

/// How many accounts match, counting at most `cap` so a common search
/// fragment never counts 100,000 rows. Without a search or group the count
/// comes from the per-state counters.
pub async fn count(
    e: impl SqliteExecutor<'_>,
    filter: &Filter<'_>,
    cap: i64,
) -> Result<i64, sqlx::Error> {
    if filter.search.is_none() {
        let mut qb = QueryBuilder::<Sqlite>::new("SELECT ");
        match filter.groups {
            None => push_state_count(&mut qb, filter.state),
            Some(groups) => push_group_count(&mut qb, groups, filter.state, cap),
        }
        return qb.build_query_scalar().fetch_one(e).await;
    }
    if let (Some(text), None, None) = (filter.search, filter.state, filter.groups)
        && text.chars().count() >= 3
    {
        // Every account has one row in the search index: count there.
        return sqlx::query_scalar(
            "SELECT count(*) FROM (SELECT 1 FROM accounts_fts WHERE accounts_fts MATCH ? LIMIT ?)",
        )
        .bind(fts_phrase(text))
        .bind(cap)
        .fetch_one(e)
        .await;
    }
    let mut qb = QueryBuilder::<Sqlite>::new("SELECT count(*) FROM (SELECT 1 FROM accounts a");
    push_filters(&mut qb, filter);
    qb.push(" LIMIT ").push_bind(cap).push(")");
    qb.build_query_scalar().fetch_one(e).await
}
