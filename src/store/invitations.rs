use sqlx::{FromRow, SqliteExecutor};

use super::Tx;
use crate::domain::ids::GroupId;

#[derive(Debug, Clone, FromRow)]
pub struct InvitationRow {
    pub id: String,
    pub email: String,
    pub email_key: String,
    pub first_name: String,
    pub last_name: String,
    pub invited_by: Option<String>,
    pub state: String,
    pub created_at: i64,
    pub sent_at: i64,
    pub expires_at: i64,
}

const COLUMNS: &str = "id, email, email_key, first_name, last_name, invited_by, state, created_at, sent_at, expires_at";

pub struct NewInvitation<'a> {
    pub id: &'a str,
    pub email: &'a str,
    pub email_key: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub invited_by: Option<&'a str>,
    pub now: i64,
    pub expires_at: i64,
}

pub async fn insert(tx: &mut Tx, i: &NewInvitation<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO invitations (id, email, email_key, first_name, last_name, invited_by, state, created_at, sent_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?, ?)",
    )
    .bind(i.id)
    .bind(i.email)
    .bind(i.email_key)
    .bind(i.first_name)
    .bind(i.last_name)
    .bind(i.invited_by)
    .bind(i.now)
    .bind(i.now)
    .bind(i.expires_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn add_group(
    tx: &mut Tx,
    invitation_id: &str,
    group_id: &GroupId,
) -> Result<(), sqlx::Error> {
    let group_id = group_id.as_str();
    sqlx::query(
        "INSERT OR IGNORE INTO invitation_groups (invitation_id, group_id)
         SELECT ?, id FROM groups WHERE id = ? AND kind = 'custom'",
    )
    .bind(invitation_id)
    .bind(group_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn groups_of(
    e: impl SqliteExecutor<'_>,
    invitation_id: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT group_id FROM invitation_groups WHERE invitation_id = ?")
        .bind(invitation_id)
        .fetch_all(e)
        .await
}

pub async fn get(
    e: impl SqliteExecutor<'_>,
    id: &str,
) -> Result<Option<InvitationRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM invitations WHERE id = ?"
    )))
    .bind(id)
    .fetch_optional(e)
    .await
}

pub async fn open_for_email(
    e: impl SqliteExecutor<'_>,
    email_key: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM invitations WHERE email_key = ? AND state = 'open')",
    )
    .bind(email_key)
    .fetch_one(e)
    .await
}

/// Open invitations, newest first (the Pending view).
pub async fn open(
    e: impl SqliteExecutor<'_>,
    limit: i64,
) -> Result<Vec<InvitationRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM invitations WHERE state = 'open' ORDER BY sent_at DESC, id LIMIT ?"
    )))
    .bind(limit)
    .fetch_all(e)
    .await
}

pub async fn set_state(tx: &mut Tx, id: &str, state: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE invitations SET state = ?, version = version + 1 WHERE id = ?")
        .bind(state)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn resent(tx: &mut Tx, id: &str, now: i64, expires_at: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE invitations SET sent_at = ?, expires_at = ?, version = version + 1 WHERE id = ?",
    )
    .bind(now)
    .bind(expires_at)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
