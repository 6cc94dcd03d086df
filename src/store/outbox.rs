//! The outbox (SPEC E3): messages written in the transaction of the change
//! that causes them, delivered by `email::worker`.
//!
//! Claiming: the worker takes a due message by pushing its `next_attempt_at`
//! a lease ahead and counting the attempt, in one write. Until the lease
//! runs out nobody else picks it; if the process dies mid-send the message
//! is simply due again afterwards, still `queued`/`retrying`. The attempt
//! number is the claim's fencing token: a result is recorded only while
//! `attempts` is still the claimed one, so a late worker cannot overwrite a
//! newer claim, and a message marked `sent` is never claimed again.

use sqlx::{FromRow, QueryBuilder};

use super::{Exec, Tx};
use crate::{execute, run, run_built, sql};

pub const QUEUED: &str = "queued";
pub const RETRYING: &str = "retrying";
pub const SENT: &str = "sent";
pub const FAILED: &str = "failed";
pub const STATES: [&str; 4] = [QUEUED, RETRYING, SENT, FAILED];

pub struct NewMessage<'a> {
    pub template: &'a str,
    pub to_address: &'a str,
    pub to_name: &'a str,
    pub account_id: Option<&'a str>,
    pub subject: &'a str,
    pub text_body: &'a str,
    pub html_body: &'a str,
}

/// Writes a message due at once; returns its id. The email worker is woken
/// once the transaction commits.
pub async fn insert(tx: &mut Tx, m: &NewMessage<'_>) -> Result<i64, sqlx::Error> {
    let now = tx.now();
    tx.mail_queued();
    run!(
        tx,
        sql!(
            "INSERT INTO outbox (template, to_address, to_name, account_id, subject, text_body,
                                 html_body, state, attempts, next_attempt_at, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, 'queued', 0, ?, ?) RETURNING id"
        ),
        |x, q| sqlx::query_scalar(q)
            .bind(m.template)
            .bind(m.to_address)
            .bind(m.to_name)
            .bind(m.account_id)
            .bind(m.subject)
            .bind(m.text_body)
            .bind(m.html_body)
            .bind(now)
            .bind(now)
            .fetch_one(x)
            .await
    )
}

/// A message as the worker sends it.
#[derive(Debug, Clone, FromRow)]
pub struct Message {
    pub id: i64,
    pub template: String,
    pub to_address: String,
    pub to_name: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    /// This attempt's number (the claim's fencing token).
    pub attempts: i64,
    pub created_at: i64,
    /// When it was queued, or queued again by Retry (S-19 gives up from here).
    pub queued_at: i64,
}

/// Claims the next message due at `now`: counts the attempt and holds it
/// until `lease_until`. `None` when nothing is due. On PostgreSQL workers
/// of several instances skip a row another is claiming (`SKIP LOCKED`), so
/// each message is claimed by one of them.
pub async fn claim_next(
    tx: &mut Tx,
    now: i64,
    lease_until: i64,
) -> Result<Option<Message>, sqlx::Error> {
    run!(
        tx,
        sql!(
            sqlite: "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?
                     WHERE id = (SELECT id FROM outbox
                                 WHERE state IN ('queued', 'retrying') AND next_attempt_at <= ?
                                 ORDER BY next_attempt_at, id LIMIT 1)
                     RETURNING id, template, to_address, to_name, subject, text_body, html_body,
                               attempts, created_at, coalesce(queued_at, created_at) AS queued_at",
            pg: "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $1
                 WHERE id = (SELECT id FROM outbox
                             WHERE state IN ('queued', 'retrying') AND next_attempt_at <= $2
                             ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
                 RETURNING id, template, to_address, to_name, subject, text_body, html_body,
                           attempts, created_at, coalesce(queued_at, created_at) AS queued_at"
        ),
        |x, q| sqlx::query_as(q)
            .bind(lease_until)
            .bind(now)
            .fetch_optional(x)
            .await
    )
}

/// Records a delivery; false when the claim was lost (someone else's now).
pub async fn mark_sent<'c>(
    e: impl Exec<'c>,
    id: i64,
    attempt: i64,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let n = execute!(
        e,
        sql!(
            "UPDATE outbox SET state = 'sent', sent_at = ?, last_error = NULL
             WHERE id = ? AND attempts = ? AND state IN ('queued', 'retrying')"
        ),
        now,
        id,
        attempt
    )?;
    Ok(n == 1)
}

/// Records a transient failure: due again at `next_at`.
pub async fn mark_retrying<'c>(
    e: impl Exec<'c>,
    id: i64,
    attempt: i64,
    next_at: i64,
    error: &str,
) -> Result<bool, sqlx::Error> {
    let n = execute!(
        e,
        sql!(
            "UPDATE outbox SET state = 'retrying', next_attempt_at = ?, last_error = ?
             WHERE id = ? AND attempts = ? AND state IN ('queued', 'retrying')"
        ),
        next_at,
        error,
        id,
        attempt
    )?;
    Ok(n == 1)
}

/// Records a permanent failure: not tried again unless an administrator
/// retries it.
pub async fn mark_failed<'c>(
    e: impl Exec<'c>,
    id: i64,
    attempt: i64,
    error: &str,
) -> Result<bool, sqlx::Error> {
    let n = execute!(
        e,
        sql!(
            "UPDATE outbox SET state = 'failed', last_error = ?
             WHERE id = ? AND attempts = ? AND state IN ('queued', 'retrying')"
        ),
        error,
        id,
        attempt
    )?;
    Ok(n == 1)
}

/// Makes a failed message due again (the console's Retry); false when it is
/// not (or no longer) failed.
pub async fn retry_failed(tx: &mut Tx, id: i64, now: i64) -> Result<bool, sqlx::Error> {
    tx.mail_queued();
    let n = execute!(
        tx,
        sql!(
            "UPDATE outbox SET state = 'queued', next_attempt_at = ?, queued_at = ?
             WHERE id = ? AND state = 'failed'"
        ),
        now,
        now,
        id
    )?;
    Ok(n == 1)
}

/// When the next message falls due (the worker sleeps until then).
/// The backlog, for the metrics: (messages waiting, when the oldest of
/// them was queued, messages failed). Read from the `outbox_due` index.
pub async fn backlog<'c>(e: impl Exec<'c>) -> Result<(i64, Option<i64>, i64), sqlx::Error> {
    run!(
        e,
        sql!(
            "SELECT (SELECT count(*) FROM outbox WHERE state IN ('queued', 'retrying')),
                    (SELECT min(queued_at) FROM outbox WHERE state IN ('queued', 'retrying')),
                    (SELECT count(*) FROM outbox WHERE state = 'failed')"
        ),
        |x, q| sqlx::query_as(q).fetch_one(x).await
    )
}

pub async fn next_due_at<'c>(e: impl Exec<'c>) -> Result<Option<i64>, sqlx::Error> {
    run!(
        e,
        sql!("SELECT min(next_attempt_at) FROM outbox WHERE state IN ('queued', 'retrying')"),
        |x, q| sqlx::query_scalar(q).fetch_one(x).await
    )
}

/// S-8: messages of these templates queued for an account since `since`.
pub async fn count_recent<'c>(
    e: impl Exec<'c>,
    account_id: &str,
    templates: &[&str],
    since: i64,
) -> Result<i64, sqlx::Error> {
    if templates.is_empty() {
        return Ok(0);
    }
    let templates = serde_json::to_string(templates).unwrap_or_default();
    run!(
        e,
        sql!(
            sqlite: "SELECT count(*) FROM outbox WHERE account_id = ? AND created_at >= ?
                       AND template IN (SELECT value FROM json_each(?))",
            pg: "SELECT count(*) FROM outbox WHERE account_id = $1 AND created_at >= $2
                   AND template IN (SELECT json_array_elements_text($3::json))"
        ),
        |x, q| sqlx::query_scalar(q)
            .bind(account_id)
            .bind(since)
            .bind(&templates)
            .fetch_one(x)
            .await
    )
}

/// A row of the Email log.
#[derive(Debug, Clone, FromRow)]
pub struct LogRow {
    pub id: i64,
    pub template: String,
    pub to_address: String,
    pub to_name: String,
    pub account_id: Option<String>,
    pub subject: String,
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
}

macro_rules! log_columns {
    () => {
        "id, template, to_address, to_name, account_id, subject, state, attempts, \
         next_attempt_at, last_error, created_at, sent_at"
    };
}

/// Newest first, `limit` rows with ids below `before` (keyset pagination),
/// optionally of one state.
pub async fn log_page<'c>(
    e: impl Exec<'c>,
    state: Option<&str>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<LogRow>, sqlx::Error> {
    run_built!(
        e,
        |_pg| {
            let mut q = QueryBuilder::<_>::new(concat!(
                "SELECT ",
                log_columns!(),
                " FROM outbox WHERE 1 = 1"
            ));
            if let Some(s) = state {
                q.push(" AND state = ").push_bind(s.to_owned());
            }
            if let Some(b) = before {
                q.push(" AND id < ").push_bind(b);
            }
            q.push(" ORDER BY id DESC LIMIT ").push_bind(limit);
            q
        },
        |q, x| q.build_query_as().fetch_all(x).await
    )
}

pub async fn get<'c>(e: impl Exec<'c>, id: i64) -> Result<Option<LogRow>, sqlx::Error> {
    run!(
        e,
        sql!(concat!(
            "SELECT ",
            log_columns!(),
            " FROM outbox WHERE id = ?"
        )),
        |x, q| sqlx::query_as(q).bind(id).fetch_optional(x).await
    )
}
