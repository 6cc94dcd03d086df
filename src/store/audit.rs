use sqlx::{Database, Encode, FromRow, QueryBuilder, Type};

use super::{Exec, Tx};
use crate::{execute, run, run_built, sql};

/// The kinds of entity a change can name in a list (`audit_subject_lists`,
/// migration 0008) rather than in `audit_subjects` rows.
pub const LISTED_KINDS: [&str; 1] = ["account"];

/// One entity an audit entry concerns, by readable name (A1).
pub struct Subject<'a> {
    pub kind: &'static str,
    pub id: &'a str,
    pub name: &'a str,
}

impl<'a> Subject<'a> {
    /// A setting of the portal (an application, a token, a provider, the
    /// keys…): the audit log's subject kind for what is not an account,
    /// group, product, subscription or invitation.
    pub fn setting(id: &'a str, name: &'a str) -> Self {
        Self {
            kind: "setting",
            id,
            name,
        }
    }
}

pub struct NewEntry<'a> {
    pub at: i64,
    pub actor_id: Option<&'a str>,
    pub actor_label: &'a str,
    pub client_addr: Option<String>,
    pub channel: &'static str,
    pub action: &'static str,
    pub summary: &'a str,
    pub before: Option<String>,
    pub after: Option<String>,
    pub subjects: &'a [Subject<'a>],
}

#[derive(Debug, Clone, FromRow, serde::Deserialize)]
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

/// Writes an entry and its subjects; returns the entry's id.
pub async fn record(tx: &mut Tx, e: &NewEntry<'_>) -> Result<i64, sqlx::Error> {
    let id: i64 = run!(
        &mut *tx,
        sql!(
            "INSERT INTO audit_log (at, actor_id, actor_label, client_addr, channel, action, summary,
                                    before_json, after_json)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id"
        ),
        |x, q| sqlx::query_scalar(q)
            .bind(e.at)
            .bind(e.actor_id)
            .bind(e.actor_label)
            .bind(e.client_addr.as_deref())
            .bind(e.channel)
            .bind(e.action)
            .bind(e.summary)
            .bind(e.before.as_deref())
            .bind(e.after.as_deref())
            .fetch_one(x)
            .await
    )?;
    for s in e.subjects {
        execute!(
            &mut *tx,
            sql!(
                "INSERT INTO audit_subjects (audit_id, kind, subject_id, name) VALUES (?, ?, ?, ?)"
            ),
            id,
            s.kind,
            s.id,
            s.name
        )?;
    }
    Ok(id)
}

/// The ids (`h.audit_id`) of the newest entries about one entity, of kind
/// `$kind` and id `$id`, as a derived table `h`: those that name it in
/// `audit_subjects`, and those whose list names it (`audit_subject_lists`,
/// migration 0008: a change of many accounts). The lists are looked at
/// newest first, one look-up of the entity's key in each, until `$limit`
/// of them name it. Each argument is a placeholder or a literal, written
/// for the statement's database. Shared with the account page's head,
/// which reads its history in the same statement.
macro_rules! history_ids {
    ($kind:literal, $id:literal, $limit:literal) => {
        concat!(
            "(SELECT audit_id FROM (SELECT s.audit_id FROM audit_subjects s
                                    WHERE s.kind = ",
            $kind,
            " AND s.subject_id = ",
            $id,
            "
                                    ORDER BY s.audit_id DESC LIMIT ",
            $limit,
            ") AS named
              UNION ALL
              SELECT audit_id FROM (SELECT b.audit_id FROM audit_lists b
                                    WHERE b.kind = ",
            $kind,
            " AND EXISTS (
                                        SELECT 1 FROM audit_subject_lists x
                                        WHERE x.audit_id = b.audit_id AND x.kind = ",
            $kind,
            "
                                          AND x.subject_id = ",
            $id,
            ")
                                    ORDER BY b.audit_id DESC LIMIT ",
            $limit,
            ") AS listed) AS h"
        )
    };
}
pub(crate) use history_ids;

/// The newest entries about one entity, for its page's history.
pub async fn for_subject<'c>(
    e: impl Exec<'c>,
    kind: &str,
    id: &str,
    limit: i64,
) -> Result<Vec<Entry>, sqlx::Error> {
    run!(
        e,
        sql!(concat!(
            "SELECT l.id, l.at, l.actor_label, l.channel, l.action, l.summary, l.before_json, l.after_json
             FROM ",
            history_ids!("?1", "?2", "?3"),
            " JOIN audit_log l ON l.id = h.audit_id
             ORDER BY l.id DESC LIMIT ?3"
        )),
        |x, q| sqlx::query_as(q).bind(kind).bind(id).bind(limit).fetch_all(x).await
    )
}

// ---- the Audit log tab -------------------------------------------------------

/// One entity an entry concerns, as read back for display.
#[derive(Debug, Clone, FromRow)]
pub struct SubjectRow {
    pub audit_id: i64,
    pub kind: String,
    pub subject_id: String,
    pub name: String,
}

/// Which entries the full log shows; every part is optional and they combine.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogFilter<'a> {
    /// Case-insensitive fragment of the name of an account the entry concerns.
    pub account: Option<&'a str>,
    pub group: Option<&'a str>,
    pub product: Option<&'a str>,
    /// Start of the action code, e.g. `account.`.
    pub action_prefix: Option<&'a str>,
    /// One entity, by kind and id.
    pub subject: Option<(&'a str, &'a str)>,
}

/// Where a page of the log starts, as keyset on `audit_log.id` (newest first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogPosition {
    /// Entries older than this id (the next page).
    OlderThan(i64),
    /// Entries newer than this id (the previous page).
    NewerThan(i64),
}

/// `text` with LIKE's wildcards escaped (with `ESCAPE '\'`).
fn like_escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// One page of the log, newest first, by keyset on the id (never OFFSET).
/// Returns up to `limit` rows in display order.
pub async fn list<'c>(
    e: impl Exec<'c>,
    filter: &LogFilter<'_>,
    position: Option<LogPosition>,
    limit: i64,
) -> Result<Vec<Entry>, sqlx::Error> {
    let newer = matches!(position, Some(LogPosition::NewerThan(_)));
    let mut rows: Vec<Entry> =
        run_built!(e, |pg| list_query(pg, filter, position, limit), |qb, x| qb
            .build_query_as()
            .persistent(!pg)
            .fetch_all(x)
            .await)?;
    if newer {
        rows.reverse();
    }
    Ok(rows)
}

fn list_query<DB: Database>(
    pg: bool,
    filter: &LogFilter<'_>,
    position: Option<LogPosition>,
    limit: i64,
) -> QueryBuilder<DB>
where
    for<'t> String: Encode<'t, DB> + Type<DB>,
    for<'t> i64: Encode<'t, DB> + Type<DB>,
{
    // SQLite's LIKE ignores the case of ASCII letters; PostgreSQL's ILIKE
    // ignores it for every letter.
    let like = if pg { " ILIKE " } else { " LIKE " };
    let mut qb = QueryBuilder::<DB>::new(
        "SELECT l.id, l.at, l.actor_label, l.channel, l.action, l.summary, l.before_json, l.after_json",
    );
    // The column the keyset walks: with one entity, its range of the
    // primary key (kind, subject_id, audit_id) drives the query, so a rare
    // entity's history never scans the whole log (as EXISTS per entry would).
    let key = if let Some((kind, id)) = filter.subject
        && LISTED_KINDS.contains(&kind)
    {
        // Entries with a list that names it too (see `for_subject`): an
        // account's entries are few, so they are gathered, then sorted.
        qb.push(" FROM (SELECT s.audit_id FROM audit_subjects s WHERE s.kind = ")
            .push_bind(kind.to_owned())
            .push(" AND s.subject_id = ")
            .push_bind(id.to_owned())
            .push(" UNION ALL SELECT b.audit_id FROM audit_lists b WHERE b.kind = ")
            .push_bind(kind.to_owned())
            .push(
                " AND EXISTS (SELECT 1 FROM audit_subject_lists x
                   WHERE x.audit_id = b.audit_id AND x.kind = b.kind AND x.subject_id = ",
            )
            .push_bind(id.to_owned())
            .push(")) AS s JOIN audit_log l ON l.id = s.audit_id WHERE 1 = 1");
        "s.audit_id"
    } else if let Some((kind, id)) = filter.subject {
        qb.push(" FROM audit_subjects s JOIN audit_log l ON l.id = s.audit_id WHERE s.kind = ")
            .push_bind(kind.to_owned())
            .push(" AND s.subject_id = ")
            .push_bind(id.to_owned());
        "s.audit_id"
    } else {
        qb.push(" FROM audit_log l WHERE 1 = 1");
        "l.id"
    };
    for (kind, text) in [
        ("account", filter.account),
        ("group", filter.group),
        ("product", filter.product),
    ] {
        if let Some(text) = text {
            // The subjects of one kind are a range of the primary key, read
            // once into a set; a correlated EXISTS would rescan it per entry.
            // LIKE ignores case (of ASCII letters).
            let pattern = format!("%{}%", like_escape(text));
            qb.push(" AND l.id IN (SELECT n.audit_id FROM audit_subjects n WHERE n.kind = ")
                .push_bind(kind.to_owned())
                .push(" AND n.name")
                .push(like)
                .push_bind(pattern.clone())
                .push(" ESCAPE '\\'");
            if LISTED_KINDS.contains(&kind) {
                // And the lists' names (every row of every list: as many
                // rows as audit_subjects would have had).
                qb.push(" UNION ALL SELECT x.audit_id FROM audit_subject_lists x WHERE x.kind = ")
                    .push_bind(kind.to_owned())
                    .push(" AND x.name")
                    .push(like)
                    .push_bind(pattern)
                    .push(" ESCAPE '\\'");
            }
            qb.push(")");
        }
    }
    if let Some(prefix) = filter.action_prefix {
        qb.push(" AND l.action LIKE ")
            .push_bind(format!("{}%", like_escape(prefix)))
            .push(" ESCAPE '\\'");
    }
    let newer = matches!(position, Some(LogPosition::NewerThan(_)));
    match position {
        Some(LogPosition::OlderThan(id)) => {
            qb.push(format!(" AND {key} < ")).push_bind(id);
        }
        Some(LogPosition::NewerThan(id)) => {
            qb.push(format!(" AND {key} > ")).push_bind(id);
        }
        None => {}
    }
    // Walking back towards newer entries scans upwards, then flips the rows.
    let dir = if newer { "ASC" } else { "DESC" };
    qb.push(format!(" ORDER BY {key} {dir} LIMIT "))
        .push_bind(limit);
    qb
}

/// The subjects of many entries in one query (no query per entry). A list
/// (`audit_subject_lists`) is not read here: an entry naming 100,000
/// accounts shows its other subjects and its summary's counts.
pub async fn subjects_of<'c>(
    e: impl Exec<'c>,
    audit_ids: &[i64],
) -> Result<Vec<SubjectRow>, sqlx::Error> {
    if audit_ids.is_empty() {
        return Ok(Vec::new());
    }
    run_built!(
        e,
        |pg| {
            let mut qb = QueryBuilder::<_>::new(
                "SELECT s.audit_id, s.kind, s.subject_id, s.name FROM audit_subjects s WHERE s.audit_id IN (",
            );
            let mut ids = qb.separated(", ");
            for id in audit_ids {
                ids.push_bind(*id);
            }
            qb.push(") ORDER BY s.audit_id DESC, s.kind, s.name");
            qb
        },
        |qb, x| qb.build_query_as().persistent(!pg).fetch_all(x).await
    )
}

/// The latest name the log knows an entity by (it may since have been deleted).
pub async fn subject_name<'c>(
    e: impl Exec<'c>,
    kind: &str,
    id: &str,
) -> Result<Option<String>, sqlx::Error> {
    // The newest of its latest subject row and the newest list naming it.
    run!(
        e,
        sql!(
            "SELECT name FROM (
                 SELECT * FROM (SELECT audit_id, name FROM audit_subjects
                                WHERE kind = ?1 AND subject_id = ?2
                                ORDER BY audit_id DESC LIMIT 1) AS latest
                 UNION ALL
                 SELECT * FROM (SELECT x.audit_id, x.name FROM audit_lists b
                                JOIN audit_subject_lists x
                                  ON x.audit_id = b.audit_id AND x.kind = b.kind AND x.subject_id = ?2
                                WHERE b.kind = ?1
                                ORDER BY b.audit_id DESC LIMIT 1) AS listed) AS named
             ORDER BY audit_id DESC LIMIT 1"
        ),
        |x, q| sqlx::query_scalar(q).bind(kind).bind(id).fetch_optional(x).await
    )
}
