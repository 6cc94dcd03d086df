//! Accounts (U1): the rows, and the changes made to one account. Signing
//! in and sessions are `sessions`; the Users tab's list is `account_list`.

use crate::domain::AccountState;
use crate::domain::ids::AccountId;
use sqlx::FromRow;

use super::{Exec, Tx};
use crate::domain::group::ADMINISTRATORS;
use crate::{execute, run, sql};

/// What the Users tab and the account page show of an account.
#[derive(Debug, Clone, FromRow, serde::Deserialize)]
pub struct AccountSummary {
    #[sqlx(try_from = "String")]
    pub id: AccountId,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    #[sqlx(try_from = "String")]
    pub state: AccountState,
    pub registered_at: i64,
    pub group_count: i64,
    pub sort_name: String,
    pub email_key: String,
}

#[derive(Debug, Clone, FromRow)]
pub struct AccountDetail {
    #[sqlx(try_from = "String")]
    pub id: AccountId,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub note: Option<String>,
    #[sqlx(try_from = "String")]
    pub state: AccountState,
    pub registered_at: i64,
    pub has_password: bool,
    pub is_admin: bool,
    pub version: i64,
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

/// Whether account `a` is an administrator, as a column (for `concat!`).
macro_rules! is_admin {
    () => {
        "EXISTS (SELECT 1 FROM memberships m WHERE m.group_id = 'administrators' AND m.account_id = a.id)"
    };
}
pub(super) use is_admin;
pub(super) const IS_ADMIN: &str = is_admin!();

/// The columns of an `AccountDetail` of account `a`.
macro_rules! detail_columns {
    () => {
        concat!(
            "a.id, a.email, a.first_name, a.last_name, a.note, a.state, a.registered_at,
             a.password_hash IS NOT NULL AS has_password, ",
            is_admin!(),
            " AS is_admin, a.version"
        )
    };
}

pub async fn insert(tx: &mut Tx, row: &NewAccountRow<'_>) -> Result<(), sqlx::Error> {
    execute!(
        tx,
        sql!(
            "INSERT INTO accounts (id, email, email_key, first_name, last_name, sort_name, password_hash, state, registered_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ),
        row.id,
        row.email,
        row.email_key,
        row.first_name,
        row.last_name,
        sort_name(row.first_name, row.last_name),
        row.password_hash,
        row.state,
        row.registered_at
    )?;
    Ok(())
}

pub fn sort_name(first: &str, last: &str) -> String {
    format!("{first} {last}").to_lowercase()
}

pub async fn email_taken<'c>(e: impl Exec<'c>, email_key: &str) -> Result<bool, sqlx::Error> {
    run!(
        e,
        sql!("SELECT EXISTS (SELECT 1 FROM accounts WHERE email_key = ?)"),
        |x, q| sqlx::query_scalar(q).bind(email_key).fetch_one(x).await
    )
}

pub async fn detail<'c>(e: impl Exec<'c>, id: &str) -> Result<Option<AccountDetail>, sqlx::Error> {
    run!(
        e,
        sql!(concat!(
            "SELECT ",
            detail_columns!(),
            " FROM accounts a WHERE a.id = ?"
        )),
        |x, q| sqlx::query_as(q).bind(id).fetch_optional(x).await
    )
}

/// The account page's head in one statement: the account, the groups it
/// is an explicit member of, its linked identities and its history (each
/// JSON).
#[derive(sqlx::FromRow)]
struct HeadRow {
    #[sqlx(flatten)]
    detail: AccountDetail,
    groups_json: String,
    identities_json: String,
    history_json: String,
}

/// What the account page shows, read at once: each statement is a round
/// trip, and on PostgreSQL a backend's turn.
pub struct Head {
    pub detail: AccountDetail,
    /// By name.
    pub groups: Vec<super::groups::GroupRef>,
    pub identities: Vec<super::identities::IdentityRow>,
    /// The newest `history` entries about the account, newest first.
    pub history: Vec<super::audit::Entry>,
}

pub async fn head<'c>(
    e: impl Exec<'c>,
    id: &str,
    history: i64,
) -> Result<Option<Head>, sqlx::Error> {
    let row: Option<HeadRow> = run!(
        e,
        sql!(
            sqlite: concat!(
                "SELECT ",
                detail_columns!(),
                ", (SELECT coalesce(json_group_array(json_object('id', g.id, 'name', g.name, 'kind', g.kind)), '[]')
                    FROM memberships m JOIN groups g ON g.id = m.group_id
                    WHERE m.sort_name = a.sort_name AND m.account_id = a.id) AS groups_json,
                  (SELECT coalesce(json_group_array(json_object('provider_id', i.provider_id,
                          'provider_name', p.name, 'subject', i.subject, 'linked_at', i.linked_at,
                          'last_sign_in_at', i.last_sign_in_at)), '[]')
                    FROM identities i JOIN identity_providers p ON p.id = i.provider_id
                    WHERE i.account_id = a.id) AS identities_json,
                  (SELECT coalesce(json_group_array(json_object('id', l.id, 'at', l.at,
                          'actor_label', l.actor_label, 'channel', l.channel, 'action', l.action,
                          'summary', l.summary, 'before_json', l.before_json,
                          'after_json', l.after_json)), '[]')
                    FROM (SELECT l.* FROM ",
                super::audit::history_ids!("'account'", "?1", "?2"),
                " JOIN audit_log l ON l.id = h.audit_id ORDER BY l.id DESC LIMIT ?2) AS l) AS history_json
                 FROM accounts a WHERE a.id = ?1"
            ),
            pg: concat!(
                "SELECT ",
                detail_columns!(),
                ", (SELECT coalesce(json_agg(json_build_object('id', g.id, 'name', g.name, 'kind', g.kind)), '[]')::text
                    FROM memberships m JOIN groups g ON g.id = m.group_id
                    WHERE m.sort_name = a.sort_name AND m.account_id = a.id) AS groups_json,
                  (SELECT coalesce(json_agg(json_build_object('provider_id', i.provider_id,
                          'provider_name', p.name, 'subject', i.subject, 'linked_at', i.linked_at,
                          'last_sign_in_at', i.last_sign_in_at)), '[]')::text
                    FROM identities i JOIN identity_providers p ON p.id = i.provider_id
                    WHERE i.account_id = a.id) AS identities_json,
                  (SELECT coalesce(json_agg(json_build_object('id', l.id, 'at', l.at,
                          'actor_label', l.actor_label, 'channel', l.channel, 'action', l.action,
                          'summary', l.summary, 'before_json', l.before_json,
                          'after_json', l.after_json)), '[]')::text
                    FROM (SELECT l.* FROM ",
                super::audit::history_ids!("'account'", "$1", "$2"),
                " JOIN audit_log l ON l.id = h.audit_id ORDER BY l.id DESC LIMIT $2) AS l) AS history_json
                 FROM accounts a WHERE a.id = $1"
            )
        ),
        |x, q| sqlx::query_as(q)
            .bind(id)
            .bind(history)
            .fetch_optional(x)
            .await
    )?;
    let Some(row) = row else { return Ok(None) };
    let decode = |e: serde_json::Error| sqlx::Error::Decode(Box::new(e));
    let mut groups: Vec<super::groups::GroupRef> =
        serde_json::from_str(&row.groups_json).map_err(decode)?;
    groups.sort_by_cached_key(|g| (g.name.to_lowercase(), g.id.to_string()));
    let mut identities: Vec<super::identities::IdentityRow> =
        serde_json::from_str(&row.identities_json).map_err(decode)?;
    identities.sort_by_cached_key(|i| (i.provider_name.to_lowercase(), i.subject.clone()));
    // Neither database promises an aggregate keeps its input's order.
    let mut history: Vec<super::audit::Entry> =
        serde_json::from_str(&row.history_json).map_err(decode)?;
    history.sort_by_key(|h| std::cmp::Reverse(h.id));
    Ok(Some(Head {
        detail: row.detail,
        groups,
        identities,
        history,
    }))
}

pub async fn detail_by_email<'c>(
    e: impl Exec<'c>,
    email_key: &str,
) -> Result<Option<AccountDetail>, sqlx::Error> {
    run!(
        e,
        sql!(concat!(
            "SELECT ",
            detail_columns!(),
            " FROM accounts a WHERE a.email_key = ?"
        )),
        |x, q| sqlx::query_as(q).bind(email_key).fetch_optional(x).await
    )
}

/// The password hash alone, to check a current password before a change.
pub async fn password_hash<'c>(e: impl Exec<'c>, id: &str) -> Result<Option<String>, sqlx::Error> {
    let hash: Option<Option<String>> = run!(
        e,
        sql!("SELECT password_hash FROM accounts WHERE id = ?"),
        |x, q| sqlx::query_scalar(q).bind(id).fetch_optional(x).await
    )?;
    Ok(hash.flatten())
}

pub async fn set_names(
    tx: &mut Tx,
    id: &str,
    first: &str,
    last: &str,
) -> Result<bool, sqlx::Error> {
    let n = execute!(
        tx,
        sql!(
            "UPDATE accounts SET first_name = ?, last_name = ?, sort_name = ?, version = version + 1
             WHERE id = ?"
        ),
        first,
        last,
        sort_name(first, last),
        id
    )?;
    Ok(n == 1)
}

/// A new email address; a taken one fails with a unique violation.
pub async fn set_email(
    tx: &mut Tx,
    id: &str,
    email: &str,
    email_key: &str,
) -> Result<bool, sqlx::Error> {
    let n = execute!(
        tx,
        sql!("UPDATE accounts SET email = ?, email_key = ?, version = version + 1 WHERE id = ?"),
        email,
        email_key,
        id
    )?;
    Ok(n == 1)
}

pub async fn set_note(tx: &mut Tx, id: &str, note: Option<&str>) -> Result<bool, sqlx::Error> {
    let n = execute!(
        tx,
        sql!("UPDATE accounts SET note = ?, version = version + 1 WHERE id = ?"),
        note,
        id
    )?;
    Ok(n == 1)
}

/// Changes the state; leaving `active` ends every session of the account (S-10).
pub async fn set_state(tx: &mut Tx, id: &str, state: &str) -> Result<bool, sqlx::Error> {
    let n = execute!(
        tx,
        sql!(
            "UPDATE accounts SET state = ?1, version = version + 1,
                    session_epoch = session_epoch + (CASE WHEN ?1 = 'active' THEN 0 ELSE 1 END)
             WHERE id = ?2"
        ),
        state,
        id
    )?;
    Ok(n == 1)
}

/// Sets the password hash and ends every session of the account (U10, S-10).
/// Returns the new session epoch.
pub async fn set_password_hash(
    tx: &mut Tx,
    id: &str,
    hash: &str,
) -> Result<Option<i64>, sqlx::Error> {
    run!(
        tx,
        sql!(
            "UPDATE accounts SET password_hash = ?, session_epoch = session_epoch + 1,
                    failed_signins = 0, locked_until = 0, version = version + 1
             WHERE id = ? RETURNING session_epoch"
        ),
        |x, q| sqlx::query_scalar(q)
            .bind(hash)
            .bind(id)
            .fetch_optional(x)
            .await
    )
}

pub async fn delete(tx: &mut Tx, id: &str) -> Result<bool, sqlx::Error> {
    let n = execute!(tx, sql!("DELETE FROM accounts WHERE id = ?"), id)?;
    Ok(n == 1)
}

/// Active administrators other than `except` (S-14). On PostgreSQL the
/// transaction first takes a lock of its own for this decision, so two
/// that block the two last administrators at once are decided one after
/// the other (SQLite has one writer anyway).
pub async fn count_other_active_admins(tx: &mut Tx, except: &str) -> Result<i64, sqlx::Error> {
    super::backend::lock_decision(tx, "portal:last administrator").await?;
    run!(
        tx,
        sql!(
            "SELECT count(*) FROM memberships m JOIN accounts a ON a.id = m.account_id
             WHERE m.group_id = ? AND a.state = 'active' AND a.id <> ?"
        ),
        |x, q| sqlx::query_scalar(q)
            .bind(ADMINISTRATORS)
            .bind(except)
            .fetch_one(x)
            .await
    )
}

pub async fn count_admins<'c>(e: impl Exec<'c>) -> Result<i64, sqlx::Error> {
    run!(
        e,
        sql!("SELECT member_count FROM groups WHERE id = ?"),
        |x, q| sqlx::query_scalar(q)
            .bind(ADMINISTRATORS)
            .fetch_one(x)
            .await
    )
}

/// Accounts by id (at most 500), in name order.
pub async fn by_ids<'c>(
    e: impl Exec<'c>,
    ids: &[String],
) -> Result<Vec<AccountSummary>, sqlx::Error> {
    let ids: Vec<&String> = ids.iter().take(500).collect();
    let ids = serde_json::to_string(&ids).unwrap_or_default();
    run!(
        e,
        sql!(
            sqlite: "SELECT a.id, a.email, a.first_name, a.last_name, a.state, a.registered_at,
                            (SELECT count(*) FROM memberships m WHERE m.sort_name = a.sort_name AND m.account_id = a.id) AS group_count,
                            a.sort_name, a.email_key
                     FROM accounts a WHERE a.id IN (SELECT value FROM json_each(?)) ORDER BY a.sort_name, a.id",
            pg: "SELECT a.id, a.email, a.first_name, a.last_name, a.state, a.registered_at,
                        (SELECT count(*) FROM memberships m WHERE m.sort_name = a.sort_name AND m.account_id = a.id) AS group_count,
                        a.sort_name, a.email_key
                 FROM accounts a WHERE a.id IN (SELECT json_array_elements_text($1::json)) ORDER BY a.sort_name, a.id"
        ),
        |x, q| sqlx::query_as(q).bind(&ids).fetch_all(x).await
    )
}
