use sqlx::{FromRow, SqliteExecutor};

use super::Tx;

/// One entity an audit entry concerns, by readable name (A1).
pub struct Subject<'a> {
    pub kind: &'static str,
    pub id: &'a str,
    pub name: &'a str,
}

pub struct NewEntry<'a> {
    pub at: i64,
    pub actor_id: Option<&'a str>,
    pub actor_label: &'a str,
    pub channel: &'static str,
    pub action: &'static str,
    pub summary: &'a str,
    pub before: Option<String>,
    pub after: Option<String>,
    pub subjects: &'a [Subject<'a>],
}

#[derive(Debug, Clone, FromRow)]
pub struct Entry {
    pub id: i64,
    pub at: i64,
    pub actor_label: String,
    pub channel: String,
    pub action: String,
    pub summary: String,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
}

pub async fn record(tx: &mut Tx, e: &NewEntry<'_>) -> Result<(), sqlx::Error> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO audit_log (at, actor_id, actor_label, channel, action, summary, before_json, after_json)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(e.at)
    .bind(e.actor_id)
    .bind(e.actor_label)
    .bind(e.channel)
    .bind(e.action)
    .bind(e.summary)
    .bind(e.before.as_deref())
    .bind(e.after.as_deref())
    .fetch_one(&mut **tx)
    .await?;
    for s in e.subjects {
        sqlx::query(
            "INSERT INTO audit_subjects (audit_id, kind, subject_id, name) VALUES (?, ?, ?, ?)",
        )
        .bind(id)
        .bind(s.kind)
        .bind(s.id)
        .bind(s.name)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// The newest entries about one entity, for its page's history.
pub async fn for_subject(
    e: impl SqliteExecutor<'_>,
    kind: &str,
    id: &str,
    limit: i64,
) -> Result<Vec<Entry>, sqlx::Error> {
    sqlx::query_as(
        "SELECT l.id, l.at, l.actor_label, l.channel, l.action, l.summary, l.before_json, l.after_json
         FROM audit_subjects s JOIN audit_log l ON l.id = s.audit_id
         WHERE s.kind = ? AND s.subject_id = ? ORDER BY s.audit_id DESC LIMIT ?",
    )
    .bind(kind)
    .bind(id)
    .bind(limit)
    .fetch_all(e)
    .await
}
