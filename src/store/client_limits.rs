//! Per-client request windows kept in PostgreSQL (SPEC R4), so that every
//! instance counts a client's requests together; SQLite's single process
//! keeps them in memory (`services::client_limit`).

use super::Db;
use super::backend::Backend;

/// Counts one request of `client` in `bucket` at `now` in a window of
/// `window` seconds: returns (requests in the window so far, its end).
/// One statement: two instances counting at once both land.
pub async fn count(
    db: &Db,
    bucket: &str,
    client: &str,
    now: i64,
    window: i64,
) -> Result<(i64, i64), sqlx::Error> {
    let Backend::Postgres(pool) = db.backend() else {
        return Err(sqlx::Error::Protocol(
            "client windows are kept in the database on PostgreSQL only".into(),
        ));
    };
    sqlx::query_as(
        "INSERT INTO client_limits (bucket, client, window_end, n) VALUES ($1, $2, $3 + $4, 1)
         ON CONFLICT (bucket, client) DO UPDATE SET
             n = CASE WHEN client_limits.window_end <= $3 THEN 1 ELSE client_limits.n + 1 END,
             window_end = CASE WHEN client_limits.window_end <= $3 THEN $3 + $4
                               ELSE client_limits.window_end END
         RETURNING n, window_end",
    )
    .bind(bucket)
    .bind(client)
    .bind(now)
    .bind(window)
    .fetch_one(pool)
    .await
}

/// Forgets windows that ended before `now`, unless another instance is
/// doing it at the same moment (a transaction-scoped advisory lock tried,
/// not waited for); `None` when another had the lock.
pub async fn forget_ended(db: &Db, now: i64) -> Result<Option<u64>, sqlx::Error> {
    let Backend::Postgres(pool) = db.backend() else {
        return Ok(Some(0));
    };
    let mut tx = pool.begin().await?;
    let ours: bool =
        sqlx::query_scalar("SELECT pg_try_advisory_xact_lock(hashtext('portal:client-windows'))")
            .fetch_one(&mut *tx)
            .await?;
    if !ours {
        return Ok(None);
    }
    let gone = sqlx::query("DELETE FROM client_limits WHERE window_end <= $1")
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    tx.commit().await?;
    Ok(Some(gone))
}
