//! Accounts (U1): the rows, and the changes made to one account. Signing
//! in and sessions are `sessions`; the Users tab's list is `account_list`.

use crate::domain::AccountState;
use crate::domain::ids::AccountId;
use sqlx::{AssertSqlSafe, FromRow, SqliteExecutor};

use super::Tx;
use crate::domain::group::ADMINISTRATORS;

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

/// A new email address; a taken one fails with a unique violation.
pub async fn set_email(
    tx: &mut Tx,
    id: &str,
    email: &str,
    email_key: &str,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE accounts SET email = ?, email_key = ?, version = version + 1 WHERE id = ?",
    )
    .bind(email)
    .bind(email_key)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn set_note(tx: &mut Tx, id: &str, note: Option<&str>) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("UPDATE accounts SET note = ?, version = version + 1 WHERE id = ?")
        .bind(note)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(r.rows_affected() == 1)
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
