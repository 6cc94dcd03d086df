//! What signing in and every signed-in request read and write (S-3,
//! S-9, S-10): an account's credentials and sign-in failures, the account
//! behind a session, and signed-out session ids.

use crate::domain::AccountState;
use crate::domain::ids::AccountId;
use sqlx::FromRow;

use super::accounts::is_admin;
use super::{Exec, Tx};
use crate::{execute, run, sql};

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

pub async fn credentials<'c>(
    e: impl Exec<'c>,
    email_key: &str,
) -> Result<Option<Credentials>, sqlx::Error> {
    run!(
        e,
        sql!(
            sqlite: concat!(
                "SELECT a.id, a.password_hash, a.state, a.session_epoch, a.failed_signins, a.locked_until, ",
                is_admin!(),
                " AS is_admin FROM accounts a WHERE a.email_key = ?"
            ),
            // In a sign-in's transaction the row stays locked until it
            // commits, so parallel attempts on several instances count one
            // after another (S-3), as SQLite's single writer makes them.
            pg: concat!(
                "SELECT a.id, a.password_hash, a.state, a.session_epoch, a.failed_signins, a.locked_until, ",
                is_admin!(),
                " AS is_admin FROM accounts a WHERE a.email_key = $1 FOR UPDATE OF a"
            )
        ),
        |x, q| sqlx::query_as(q).bind(email_key).fetch_optional(x).await
    )
}

/// The account of a session, unless that session was signed out.
pub async fn session_account<'c>(
    e: impl Exec<'c>,
    id: &str,
    sid: &str,
) -> Result<Option<SessionAccount>, sqlx::Error> {
    run!(
        e,
        sql!(
            sqlite: concat!(
                "SELECT a.id, a.email, a.first_name, a.last_name, a.state, a.session_epoch, ",
                is_admin!(),
                " AS is_admin,
                (SELECT json_group_array(m.group_id) FROM memberships m
                 WHERE m.sort_name = a.sort_name AND m.account_id = a.id) AS group_ids
                 FROM accounts a
                 WHERE a.id = ? AND NOT EXISTS (SELECT 1 FROM revoked_sessions r WHERE r.sid = ?)"
            ),
            pg: concat!(
                "SELECT a.id, a.email, a.first_name, a.last_name, a.state, a.session_epoch, ",
                is_admin!(),
                " AS is_admin,
                (SELECT coalesce(json_agg(m.group_id), '[]')::text FROM memberships m
                 WHERE m.sort_name = a.sort_name AND m.account_id = a.id) AS group_ids
                 FROM accounts a
                 WHERE a.id = $1 AND NOT EXISTS (SELECT 1 FROM revoked_sessions r WHERE r.sid = $2)"
            )
        ),
        |x, q| sqlx::query_as(q).bind(id).bind(sid).fetch_optional(x).await
    )
}

/// Refuses a signed-out session id from now until `expires_at` (S-9), and
/// forgets ids whose sessions would have expired anyway.
pub async fn revoke_session(
    tx: &mut Tx,
    sid: &str,
    expires_at: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    execute!(
        &mut *tx,
        sql!("DELETE FROM revoked_sessions WHERE expires_at < ?"),
        now
    )?;
    execute!(
        tx,
        sql!("INSERT INTO revoked_sessions (sid, expires_at) VALUES (?, ?) ON CONFLICT DO NOTHING"),
        sid,
        expires_at
    )?;
    Ok(())
}

/// Records a failed sign-in and the earliest time of the next attempt (S-3).
pub async fn record_signin_failure(
    tx: &mut Tx,
    id: &str,
    failures: i64,
    locked_until: i64,
) -> Result<(), sqlx::Error> {
    execute!(
        tx,
        sql!("UPDATE accounts SET failed_signins = ?, locked_until = ? WHERE id = ?"),
        failures,
        locked_until,
        id
    )?;
    Ok(())
}

pub async fn clear_signin_failures<'c>(e: impl Exec<'c>, id: &str) -> Result<(), sqlx::Error> {
    execute!(
        e,
        sql!(
            "UPDATE accounts SET failed_signins = 0, locked_until = 0 WHERE id = ? AND failed_signins <> 0"
        ),
        id
    )?;
    Ok(())
}

/// An account's session epoch (S-10), for a sign-in that checked no password.
pub async fn epoch(tx: &mut Tx, id: &str) -> Result<Option<i64>, sqlx::Error> {
    run!(
        tx,
        sql!("SELECT session_epoch FROM accounts WHERE id = ?"),
        |x, q| sqlx::query_scalar(q).bind(id).fetch_optional(x).await
    )
}
