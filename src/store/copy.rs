//! `portal migrate-to-postgres`: an existing SQLite installation copied
//! into an empty PostgreSQL database (SPEC R4), so a programme can grow
//! without starting over.
//!
//! Both databases are first brought to their latest migrations; then every
//! table of the PostgreSQL schema is filled from the SQLite table of the
//! same name, in the order the tables were created (a table only refers to
//! tables made before it), all in one PostgreSQL transaction: a copy that
//! fails leaves the target as empty as it was. What PostgreSQL's triggers
//! keep (the per-state account counts, the change counter, each group's
//! member count, each product's subscriptions per state) is counted once
//! after the rows are in, and the identity columns continue after the
//! highest copied id.

use futures_util::TryStreamExt;
use sqlx::postgres::PgArguments;
use sqlx::sqlite::SqliteRow;
use sqlx::{Arguments, Column, PgConnection, Row, SqlitePool};

use super::{Backend, Db};

/// Tables kept by triggers, or only in memory on SQLite: not copied.
const NOT_COPIED: &[&str] = &[
    "account_counts",
    "account_changes",
    "client_limits",
    "subscription_counts",
    "subscription_totals",
];
/// Columns kept by triggers: copied as zero and counted at the end.
const COUNTED: &[(&str, &str)] = &[("groups", "member_count")];
/// The row-by-row counting triggers, off during the copy: 100,000 accounts
/// and 300,000 memberships each updating one of a few counter rows made
/// every batch slower than the last (each update leaves a row version
/// behind for the next to step over: 9 s for a batch of 6,000 memberships).
/// The counts are made once at the end instead (`count_again`).
const COUNTING_TRIGGERS: &[(&str, &str)] = &[
    ("accounts", "accounts_counted"),
    ("memberships", "memberships_counted"),
    ("subscriptions", "subscriptions_counted"),
    ("accounts", "accounts_signed_up"),
];
/// Rows per INSERT (PostgreSQL takes at most 65,535 bound values).
const BATCH_VALUES: usize = 30_000;

/// One table's column as PostgreSQL declares it.
struct PgColumn {
    name: String,
    kind: Kind,
}

#[derive(Clone, Copy)]
enum Kind {
    Text,
    Int,
    Bool,
    Bytes,
}

/// What was copied: (table, rows) in copy order.
pub type Copied = Vec<(String, u64)>;

/// Copies `from` (SQLite) into `to` (PostgreSQL), which must hold no
/// account; `progress` hears of each table as it is done.
pub async fn sqlite_to_postgres(
    from: &Db,
    to: &Db,
    mut progress: impl FnMut(&str, u64),
) -> anyhow::Result<Copied> {
    let (Backend::Sqlite(src), Backend::Postgres(dst)) = (from.backend(), to.backend()) else {
        anyhow::bail!("the copy goes from a SQLite database to a PostgreSQL one");
    };
    let mut tx = dst.begin().await?;
    // Nobody else fills the target meanwhile (another copy, or a portal
    // making its first administrator).
    sqlx::query("LOCK TABLE accounts IN EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await?;
    let accounts: i64 = sqlx::query_scalar("SELECT count(*) FROM accounts")
        .fetch_one(&mut *tx)
        .await?;
    anyhow::ensure!(
        accounts == 0,
        "the PostgreSQL database already holds {accounts} account(s): the copy goes only into an \
         empty database (create a new one, or drop this one's tables)"
    );
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind = 'r' AND n.nspname = current_schema() AND c.relname NOT LIKE '\\_sqlx%'
         ORDER BY c.oid",
    )
    .fetch_all(&mut *tx)
    .await?;
    // What the schema's first migration put in (the system groups) makes
    // way for the installation's own rows.
    for table in tables.iter().rev() {
        if !NOT_COPIED.contains(&table.as_str()) {
            sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table}")))
                .execute(&mut *tx)
                .await?;
        }
    }
    for (table, trigger) in COUNTING_TRIGGERS {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "ALTER TABLE {table} DISABLE TRIGGER {trigger}"
        )))
        .execute(&mut *tx)
        .await?;
    }
    let mut copied = Vec::new();
    for table in tables.iter().filter(|t| !NOT_COPIED.contains(&t.as_str())) {
        let columns = pg_columns(&mut tx, table).await?;
        let rows = copy_table(src, &mut tx, table, &columns).await?;
        progress(table, rows);
        copied.push((table.clone(), rows));
    }
    count_again(&mut tx).await?;
    for (table, trigger) in COUNTING_TRIGGERS {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "ALTER TABLE {table} ENABLE TRIGGER {trigger}"
        )))
        .execute(&mut *tx)
        .await?;
    }
    for (table, column) in identity_columns(&mut tx).await? {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT setval(pg_get_serial_sequence('{table}', '{column}'),
                           coalesce((SELECT max({column}) FROM {table}), 0) + 1, false)"
        )))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    super::commits::bump();
    // Statistics for the planner, and the trigram index's pending entries
    // merged: without them, the first minutes' plans guess (a search took
    // three times as long until autovacuum came by).
    sqlx::query("VACUUM (ANALYZE)").execute(dst).await?;
    Ok(copied)
}

/// What the counting triggers would have counted, counted once.
async fn count_again(conn: &mut PgConnection) -> anyhow::Result<()> {
    for sql in [
        "UPDATE account_counts c SET n = (SELECT count(*) FROM accounts a WHERE a.state = c.state)",
        "UPDATE account_changes SET n = (SELECT count(*) FROM accounts)",
        "UPDATE groups g SET member_count = m.n
         FROM (SELECT group_id, count(*) AS n FROM memberships GROUP BY group_id) m
         WHERE m.group_id = g.id",
        "INSERT INTO subscription_counts (product_id, state, n)
         SELECT product_id, state, count(*) FROM subscriptions GROUP BY product_id, state",
        "UPDATE subscription_totals t SET n = (SELECT count(*) FROM subscriptions s WHERE s.state = t.state)",
    ] {
        sqlx::query(sql).execute(&mut *conn).await?;
    }
    Ok(())
}

async fn pg_columns(conn: &mut PgConnection, table: &str) -> anyhow::Result<Vec<PgColumn>> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT column_name::text, data_type::text FROM information_schema.columns
         WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
    )
    .bind(table)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|(name, ty)| {
            let kind = match ty.as_str() {
                "text" | "character varying" => Kind::Text,
                "bigint" | "integer" | "smallint" => Kind::Int,
                "boolean" => Kind::Bool,
                "bytea" => Kind::Bytes,
                other => anyhow::bail!("{table}.{name}: no copy for the type {other}"),
            };
            Ok(PgColumn { name, kind })
        })
        .collect()
}

async fn identity_columns(conn: &mut PgConnection) -> anyhow::Result<Vec<(String, String)>> {
    Ok(sqlx::query_as(
        "SELECT table_name::text, column_name::text FROM information_schema.columns
         WHERE table_schema = current_schema() AND is_identity = 'YES'",
    )
    .fetch_all(conn)
    .await?)
}

/// Copies one table in batches; the number of rows.
async fn copy_table(
    src: &SqlitePool,
    dst: &mut PgConnection,
    table: &str,
    columns: &[PgColumn],
) -> anyhow::Result<u64> {
    let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
    let select = columns
        .iter()
        .map(|c| {
            if COUNTED.contains(&(table, c.name.as_str())) {
                "0".to_owned()
            } else {
                format!("\"{}\"", c.name)
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    let per_batch = (BATCH_VALUES / columns.len().max(1)).max(1);
    let select = format!("SELECT {select} FROM \"{table}\"");
    // Read as it is written, a batch at a time: the largest tables
    // (audit subjects, memberships) need not fit in memory.
    let mut reading = sqlx::query(sqlx::AssertSqlSafe(select)).fetch(src);
    let mut batch = Vec::with_capacity(per_batch);
    let mut copied = 0;
    loop {
        let next = reading
            .try_next()
            .await
            .map_err(|e| anyhow::anyhow!("reading {table} from SQLite: {e}"))?;
        let done = next.is_none();
        batch.extend(next);
        if batch.len() == per_batch || (done && !batch.is_empty()) {
            insert_batch(dst, table, &names, columns, &batch).await?;
            copied += batch.len() as u64;
            batch.clear();
        }
        if done {
            return Ok(copied);
        }
    }
}

async fn insert_batch(
    dst: &mut PgConnection,
    table: &str,
    names: &[&str],
    columns: &[PgColumn],
    batch: &[SqliteRow],
) -> anyhow::Result<()> {
    let mut sql = format!("INSERT INTO \"{table}\" ({}) VALUES ", names.join(", "));
    let mut args = PgArguments::default();
    let mut n = 0;
    for (i, row) in batch.iter().enumerate() {
        sql.push_str(if i == 0 { "(" } else { ", (" });
        for (j, column) in columns.iter().enumerate() {
            n += 1;
            sql.push_str(&format!("{}${n}", if j == 0 { "" } else { ", " }));
            bind(&mut args, row, j, column.kind)
                .map_err(|e| anyhow::anyhow!("{table}.{}: {e}", row.columns()[j].name()))?;
        }
        sql.push(')');
    }
    sqlx::query_with(sqlx::AssertSqlSafe(sql), args)
        .execute(dst)
        .await
        .map_err(|e| anyhow::anyhow!("writing {table} to PostgreSQL: {e}"))?;
    Ok(())
}

fn bind(args: &mut PgArguments, row: &SqliteRow, i: usize, kind: Kind) -> Result<(), sqlx::Error> {
    let added = match kind {
        Kind::Text => args.add(row.try_get::<Option<String>, _>(i)?),
        Kind::Int => args.add(row.try_get::<Option<i64>, _>(i)?),
        Kind::Bool => args.add(row.try_get::<Option<bool>, _>(i)?),
        Kind::Bytes => args.add(row.try_get::<Option<Vec<u8>>, _>(i)?),
    };
    added.map_err(sqlx::Error::Encode)
}
