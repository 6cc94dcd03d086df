//! Open invitations (SPEC U4) and the groups they join on acceptance.

use sqlx::FromRow;

use super::{Exec, Tx};
use crate::domain::ids::GroupId;
use crate::{execute, run, sql};

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

macro_rules! columns {
    () => {
        "id, email, email_key, first_name, last_name, invited_by, state, created_at, sent_at, expires_at"
    };
}

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
    execute!(
        tx,
        sql!(
            "INSERT INTO invitations (id, email, email_key, first_name, last_name, invited_by, state, created_at, sent_at, expires_at)
             VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?, ?)"
        ),
        i.id,
        i.email,
        i.email_key,
        i.first_name,
        i.last_name,
        i.invited_by,
        i.now,
        i.now,
        i.expires_at
    )?;
    Ok(())
}

pub async fn add_group(
    tx: &mut Tx,
    invitation_id: &str,
    group_id: &GroupId,
) -> Result<(), sqlx::Error> {
    execute!(
        tx,
        sql!(
            "INSERT INTO invitation_groups (invitation_id, group_id)
             SELECT ?, id FROM groups WHERE id = ? AND kind = 'custom'
             ON CONFLICT DO NOTHING"
        ),
        invitation_id,
        group_id.as_str()
    )?;
    Ok(())
}

pub async fn groups_of<'c>(
    e: impl Exec<'c>,
    invitation_id: &str,
) -> Result<Vec<String>, sqlx::Error> {
    run!(
        e,
        sql!("SELECT group_id FROM invitation_groups WHERE invitation_id = ?"),
        |x, q| sqlx::query_scalar(q).bind(invitation_id).fetch_all(x).await
    )
}

pub async fn get<'c>(e: impl Exec<'c>, id: &str) -> Result<Option<InvitationRow>, sqlx::Error> {
    run!(
        e,
        sql!(concat!(
            "SELECT ",
            columns!(),
            " FROM invitations WHERE id = ?"
        )),
        |x, q| sqlx::query_as(q).bind(id).fetch_optional(x).await
    )
}

pub async fn open_for_email<'c>(e: impl Exec<'c>, email_key: &str) -> Result<bool, sqlx::Error> {
    run!(
        e,
        sql!("SELECT EXISTS (SELECT 1 FROM invitations WHERE email_key = ? AND state = 'open')"),
        |x, q| sqlx::query_scalar(q).bind(email_key).fetch_one(x).await
    )
}

/// Open invitations, newest first (the Pending view).
pub async fn open<'c>(e: impl Exec<'c>, limit: i64) -> Result<Vec<InvitationRow>, sqlx::Error> {
    run!(
        e,
        sql!(concat!(
            "SELECT ",
            columns!(),
            " FROM invitations WHERE state = 'open' ORDER BY sent_at DESC, id LIMIT ?"
        )),
        |x, q| sqlx::query_as(q).bind(limit).fetch_all(x).await
    )
}

pub async fn set_state(tx: &mut Tx, id: &str, state: &str) -> Result<(), sqlx::Error> {
    execute!(
        tx,
        sql!("UPDATE invitations SET state = ?, version = version + 1 WHERE id = ?"),
        state,
        id
    )?;
    Ok(())
}

pub async fn resent(tx: &mut Tx, id: &str, now: i64, expires_at: i64) -> Result<(), sqlx::Error> {
    execute!(
        tx,
        sql!(
            "UPDATE invitations SET sent_at = ?, expires_at = ?, version = version + 1 WHERE id = ?"
        ),
        now,
        expires_at,
        id
    )?;
    Ok(())
}
