//! Which database a statement runs on (SPEC R4, docs/postgres.md): SQLite
//! or PostgreSQL, and the one macro through which a store function runs a
//! statement on either.
//!
//! A store function takes `impl Exec` (a pool, a connection or `&mut Tx`)
//! and runs its statement with `run!`, which expands the body once per
//! database. SQL common to both is written once with `?` placeholders
//! (`sql!("…")`, turned into `$1…$n` for PostgreSQL once); SQL that differs
//! is written for each (`sql!(sqlite: "…", pg: "…")`).

use std::sync::OnceLock;

use sqlx::pool::PoolConnection;
use sqlx::{PgConnection, PgPool, Sqlite, SqliteConnection, SqlitePool};

/// The pool of the database in use.
#[derive(Clone, Debug)]
pub enum Backend {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Where one statement runs.
pub enum On<'c> {
    SqlitePool(&'c SqlitePool),
    Sqlite(&'c mut SqliteConnection),
    PgPool(&'c PgPool),
    Pg(&'c mut PgConnection),
}

/// What a store function can run a statement on.
pub trait Exec<'c> {
    fn on(self) -> On<'c>;
}

impl<'c> Exec<'c> for &'c Backend {
    fn on(self) -> On<'c> {
        match self {
            Backend::Sqlite(p) => On::SqlitePool(p),
            Backend::Postgres(p) => On::PgPool(p),
        }
    }
}

impl<'c> Exec<'c> for &'c super::Db {
    fn on(self) -> On<'c> {
        self.backend().on()
    }
}

impl<'c> Exec<'c> for &'c mut super::Tx {
    fn on(self) -> On<'c> {
        self.on()
    }
}

// What the services pass today on SQLite (the pool, `&mut *tx`, a pooled
// connection): accepted while the store moves to `Db` and `Tx` everywhere.
impl<'c> Exec<'c> for &'c SqlitePool {
    fn on(self) -> On<'c> {
        On::SqlitePool(self)
    }
}

impl<'c> Exec<'c> for &'c mut SqliteConnection {
    fn on(self) -> On<'c> {
        On::Sqlite(self)
    }
}

impl<'c> Exec<'c> for &'c mut PoolConnection<Sqlite> {
    fn on(self) -> On<'c> {
        On::Sqlite(self)
    }
}

/// A statement's text for each database.
pub struct Sql {
    sqlite: &'static str,
    pg: Option<&'static str>,
    converted: OnceLock<String>,
}

impl Sql {
    /// The same statement for both, with `?` (or `?N`) placeholders.
    pub const fn common(sql: &'static str) -> Self {
        Self {
            sqlite: sql,
            pg: None,
            converted: OnceLock::new(),
        }
    }

    /// A statement written for each database.
    pub const fn each(sqlite: &'static str, pg: &'static str) -> Self {
        Self {
            sqlite,
            pg: Some(pg),
            converted: OnceLock::new(),
        }
    }

    pub fn sqlite(&'static self) -> &'static str {
        self.sqlite
    }

    pub fn pg(&'static self) -> &'static str {
        match self.pg {
            Some(pg) => pg,
            None => self.converted.get_or_init(|| numbered(self.sqlite)),
        }
    }
}

/// `?` placeholders as PostgreSQL's `$1…$n` (in order of appearance; `?N`
/// keeps its number). Portal's statements hold no `?` in literals.
pub fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut next = 0;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '?' {
            out.push(c);
            continue;
        }
        let mut digits = String::new();
        while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            digits.push(*d);
            chars.next();
        }
        if digits.is_empty() {
            next += 1;
            digits = next.to_string();
        }
        out.push('$');
        out.push_str(&digits);
    }
    out
}

/// A statement's text, made once: `sql!("…")` for both databases, or
/// `sql!(sqlite: "…", pg: "…")`.
#[macro_export]
macro_rules! sql {
    ($common:expr) => {{
        static SQL: $crate::store::backend::Sql = $crate::store::backend::Sql::common($common);
        &SQL
    }};
    (sqlite: $sqlite:expr, pg: $pg:expr) => {{
        static SQL: $crate::store::backend::Sql = $crate::store::backend::Sql::each($sqlite, $pg);
        &SQL
    }};
}

/// Runs `body` with `$x` the executor and `$q` the statement's text for
/// the database `e` is on.
#[macro_export]
macro_rules! run {
    ($e:expr, $sql:expr, |$x:ident, $q:ident| $body:expr) => {{
        let sql: &'static $crate::store::backend::Sql = $sql;
        match $crate::store::backend::Exec::on($e) {
            $crate::store::backend::On::SqlitePool($x) => {
                let $q = sql.sqlite();
                $body
            }
            $crate::store::backend::On::Sqlite($x) => {
                let $q = sql.sqlite();
                $body
            }
            $crate::store::backend::On::PgPool($x) => {
                let $q = sql.pg();
                $body
            }
            $crate::store::backend::On::Pg($x) => {
                let $q = sql.pg();
                $body
            }
        }
    }};
}

/// Runs a statement built at run time (`QueryBuilder`): `$build` makes the
/// builder `$qb` (with `$pg` true on PostgreSQL; the executor fixes which
/// database it is for), and `$body` runs it on `$x`.
#[macro_export]
macro_rules! run_built {
    ($e:expr, |$pg:ident| $build:expr, |$qb:ident, $x:ident| $body:expr) => {{
        match $crate::store::backend::Exec::on($e) {
            $crate::store::backend::On::SqlitePool($x) => {
                let $pg = false;
                let mut $qb = $build;
                $body
            }
            $crate::store::backend::On::Sqlite($x) => {
                let $pg = false;
                let mut $qb = $build;
                $body
            }
            $crate::store::backend::On::PgPool($x) => {
                let $pg = true;
                let mut $qb = $build;
                $body
            }
            $crate::store::backend::On::Pg($x) => {
                let $pg = true;
                let mut $qb = $build;
                $body
            }
        }
    }};
}

/// Runs `$body` with `$x` the pool of the database in use (a `&Db`), for
/// work of several statements that need no transaction.
#[macro_export]
macro_rules! on_pool {
    ($db:expr, |$x:ident| $body:expr) => {{
        match $db.backend() {
            $crate::store::Backend::Sqlite($x) => $body,
            $crate::store::Backend::Postgres($x) => $body,
        }
    }};
}

/// Runs a statement that returns no rows, with these values bound in
/// order; the number of rows it changed. One run on PostgreSQL's pool is a
/// transaction of its own, committed when it returns: counted as a commit
/// if it changed rows (as SQLite's hook counts only commits that wrote).
#[macro_export]
macro_rules! execute {
    ($e:expr, $sql:expr $(, $arg:expr)* $(,)?) => {{
        let sql: &'static $crate::store::backend::Sql = $sql;
        match $crate::store::backend::Exec::on($e) {
            $crate::store::backend::On::SqlitePool(x) => sqlx::query(sql.sqlite())
                $(.bind($arg))*
                .execute(x)
                .await
                .map(|r| r.rows_affected()),
            $crate::store::backend::On::Sqlite(x) => sqlx::query(sql.sqlite())
                $(.bind($arg))*
                .execute(x)
                .await
                .map(|r| r.rows_affected()),
            $crate::store::backend::On::PgPool(x) => {
                let done = sqlx::query(sql.pg())
                    $(.bind($arg))*
                    .execute(x)
                    .await
                    .map(|r| r.rows_affected());
                if matches!(done, Ok(n) if n > 0) {
                    $crate::store::commits::bump();
                }
                done
            }
            $crate::store::backend::On::Pg(x) => sqlx::query(sql.pg())
                $(.bind($arg))*
                .execute(x)
                .await
                .map(|r| r.rows_affected()),
        }
    }};
}

/// A page size or a count's cap in a built statement. PostgreSQL plans a
/// prepared statement whose LIMIT is bound again at every run (a plan made
/// without the value cannot know how many rows it reads): 0.2 to 0.4 ms a
/// page. Written into the text, the plan is made once per connection. Only
/// for the code's own constants, never a client's number (that would make a
/// statement per value); SQLite binds it, as it never plans again.
pub fn push_limit<DB: sqlx::Database>(qb: &mut sqlx::QueryBuilder<DB>, pg: bool, n: i64)
where
    for<'t> i64: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    if pg {
        qb.push(n);
    } else {
        qb.push_bind(n);
    }
}

/// On PostgreSQL, takes the transaction-scoped advisory lock `key` (one
/// decision at a time across instances); SQLite's single writer already
/// serialises the transaction, so there is nothing to do.
pub async fn lock_decision(tx: &mut super::Tx, key: &str) -> Result<(), sqlx::Error> {
    if let On::Pg(x) = tx.on() {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
            .bind(key)
            .execute(x)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::numbered;

    #[test]
    fn placeholders() {
        assert_eq!(
            numbered("SELECT a FROM t WHERE b = ? AND c IN (?, ?)"),
            "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)"
        );
        assert_eq!(
            numbered("UPDATE t SET a = ?2 WHERE b = ?1"),
            "UPDATE t SET a = $2 WHERE b = $1"
        );
        assert_eq!(numbered("SELECT 1"), "SELECT 1");
    }
}
