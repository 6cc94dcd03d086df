use sqlx::{FromRow, SqliteExecutor};

use super::Tx;

#[derive(Debug, Clone, FromRow)]
pub struct GroupRef {
    pub id: String,
    pub name: String,
    pub kind: String,
}

pub async fn add_member(
    tx: &mut Tx,
    group_id: &str,
    account_id: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT OR IGNORE INTO memberships (group_id, account_id, created_at) VALUES (?, ?, ?)",
    )
    .bind(group_id)
    .bind(account_id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The groups an account is an explicit member of (Developers is implicit).
pub async fn of_account(
    e: impl SqliteExecutor<'_>,
    account_id: &str,
) -> Result<Vec<GroupRef>, sqlx::Error> {
    sqlx::query_as(
        "SELECT g.id, g.name, g.kind FROM memberships m JOIN groups g ON g.id = m.group_id
         WHERE m.account_id = ? ORDER BY g.name_key",
    )
    .bind(account_id)
    .fetch_all(e)
    .await
}

pub async fn get(e: impl SqliteExecutor<'_>, id: &str) -> Result<Option<GroupRef>, sqlx::Error> {
    sqlx::query_as("SELECT id, name, kind FROM groups WHERE id = ?")
        .bind(id)
        .fetch_optional(e)
        .await
}
