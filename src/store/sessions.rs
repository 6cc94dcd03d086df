//! What signing in and every signed-in request read and write (S-3,
//! S-9, S-10): an account's credentials and sign-in failures, the account
//! behind a session, and signed-out session ids.

use crate::domain::AccountState;
use crate::domain::ids::AccountId;
use sqlx::{AssertSqlSafe, FromRow, SqliteExecutor};

use super::Tx;
use super::accounts::IS_ADMIN;

/// What a sign-in needs to decide.
#[derive(FromRow)]
pub struct Credentials {
    #[sqlx(try_from = "String")]
    pub id: AccountId,
    pub password_hash: Option<String>,
    #[sqlx(try_from = "String")]
    pub state: AccountState,
    pub session_epoch: i64,
    pub failed_signins: i64,
    pub locked_until: i64,
    pub is_admin: bool,
}

/// What every signed-in request checks against its session (S-10).
#[derive(Debug, Clone, FromRow)]
pub struct SessionAccount {
    #[sqlx(try_from = "String")]
    pub id: AccountId,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    #[sqlx(try_from = "String")]
    pub state: AccountState,
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
