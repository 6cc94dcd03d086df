//! `portal backup FILE` (SPEC R5): a consistent copy of a running
//! installation. SQLite writes one with `VACUUM INTO`, which reads a single
//! snapshot (a read transaction: writers go on meanwhile, in the log) and
//! leaves a compact, self-contained file; PostgreSQL has `pg_dump`.

use std::path::Path;

use anyhow::{Context, bail};

use super::{Backend, Db};

/// What a backup wrote.
pub struct Written {
    pub bytes: u64,
    /// `PRAGMA integrity_check` of the copy: "ok" when sound.
    pub integrity: String,
}

pub async fn write(db: &Db, file: &Path) -> anyhow::Result<Written> {
    let Backend::Sqlite(pool) = db.backend() else {
        bail!(
            "this installation is on PostgreSQL: back it up with pg_dump (e.g. \
             `pg_dump --format=custom --file=portal.dump \"$DATABASE_URL\"`), and restore with \
             pg_restore into an empty database"
        );
    };
    if file.exists() {
        bail!(
            "{} exists already: a backup never overwrites a file",
            file.display()
        );
    }
    let path = file
        .to_str()
        .context("the backup's file name must be valid UTF-8")?;
    sqlx::query("VACUUM INTO ?")
        .bind(path)
        .execute(pool)
        .await
        .with_context(|| format!("writing the backup to {path}"))?;
    let copy = Db::open(
        &format!("sqlite://{path}"),
        std::time::Duration::from_secs(5),
    )
    .await
    .context("opening the backup to check it")?;
    let Backend::Sqlite(check) = copy.backend() else {
        unreachable!("a sqlite:// URL opens SQLite")
    };
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(check)
        .await?;
    copy.close().await;
    Ok(Written {
        bytes: std::fs::metadata(file)?.len(),
        integrity,
    })
}
