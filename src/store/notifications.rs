//! Who gets an email for each event (the Notifications page, SPEC R5).

use sqlx::FromRow;

use super::accounts::is_admin;
use super::{Exec, Tx};
use crate::{execute, run, sql};

/// An administrator who may be chosen, and those chosen for each event.
#[derive(Debug, Clone, FromRow)]
pub struct Recipient {
    pub id: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
}

/// The active administrators, by name: those the page offers.
pub async fn administrators<'c>(e: impl Exec<'c>) -> Result<Vec<Recipient>, sqlx::Error> {
    run!(
        e,
        sql!(
            "SELECT a.id, a.email, a.first_name, a.last_name FROM memberships m
             JOIN accounts a ON a.id = m.account_id
             WHERE m.group_id = 'administrators' AND a.state = 'active'
             ORDER BY a.sort_name, a.id LIMIT 500"
        ),
        |x, q| sqlx::query_as(q).fetch_all(x).await
    )
}

/// Every choice: (event, account id).
pub async fn chosen<'c>(e: impl Exec<'c>) -> Result<Vec<(String, String)>, sqlx::Error> {
    run!(
        e,
        sql!("SELECT event, account_id FROM notification_recipients ORDER BY event, account_id"),
        |x, q| sqlx::query_as(q).fetch_all(x).await
    )
}

/// Those to email for `event` now: chosen, and still active administrators.
pub async fn recipients(tx: &mut Tx, event: &str) -> Result<Vec<Recipient>, sqlx::Error> {
    run!(
        tx,
        sql!(concat!(
            "SELECT a.id, a.email, a.first_name, a.last_name FROM notification_recipients n
             JOIN accounts a ON a.id = n.account_id
             WHERE n.event = ? AND a.state = 'active' AND ",
            is_admin!(),
            " ORDER BY a.id"
        )),
        |x, q| sqlx::query_as(q).bind(event).fetch_all(x).await
    )
}

/// Replaces every choice.
pub async fn replace(tx: &mut Tx, choices: &[(&str, &str)]) -> Result<(), sqlx::Error> {
    execute!(&mut *tx, sql!("DELETE FROM notification_recipients"))?;
    for (event, account) in choices {
        execute!(
            &mut *tx,
            sql!(
                "INSERT INTO notification_recipients (event, account_id) VALUES (?, ?)
                 ON CONFLICT DO NOTHING"
            ),
            *event,
            *account
        )?;
    }
    Ok(())
}
