//! Raw SQL from the tests, on whichever database the suite runs on
//! (`PORTAL_TEST_DATABASE`): each macro takes a `&Db` or a `&mut Tx`, the
//! statement (a literal with `?` placeholders common to both databases, or
//! `portal::sql!(sqlite: "…", pg: "…")` where they differ) and the values to
//! bind, and unwraps the result: a failing statement fails the test.

/// Runs a query with `sqlx::$kind` (`query_scalar` or `query_as`) and
/// fetches its rows with `$how` (`fetch_one`, `fetch_optional`, `fetch_all`).
macro_rules! db_fetch {
    ($kind:ident, $how:ident, $e:expr, $lit:literal $(, $arg:expr)* $(,)?) => {
        $crate::helpers::db::db_fetch!($kind, $how, $e, portal::sql!($lit) $(, $arg)*)
    };
    ($kind:ident, $how:ident, $e:expr, $sql:expr $(, $arg:expr)* $(,)?) => {
        portal::run!($e, $sql, |x, q| sqlx::$kind(q)$(.bind($arg))*.$how(x).await.unwrap())
    };
}

/// The one value of a query's one row.
macro_rules! db_one {
    ($($t:tt)*) => { $crate::helpers::db::db_fetch!(query_scalar, fetch_one, $($t)*) };
}

/// The value of a query's row, if it has one.
macro_rules! db_opt {
    ($($t:tt)*) => { $crate::helpers::db::db_fetch!(query_scalar, fetch_optional, $($t)*) };
}

/// The first column of every row.
macro_rules! db_all {
    ($($t:tt)*) => { $crate::helpers::db::db_fetch!(query_scalar, fetch_all, $($t)*) };
}

/// A query's one row, as a tuple.
macro_rules! db_row {
    ($($t:tt)*) => { $crate::helpers::db::db_fetch!(query_as, fetch_one, $($t)*) };
}

/// A query's row as a tuple, if it has one.
macro_rules! db_row_opt {
    ($($t:tt)*) => { $crate::helpers::db::db_fetch!(query_as, fetch_optional, $($t)*) };
}

/// Every row, as tuples.
macro_rules! db_rows {
    ($($t:tt)*) => { $crate::helpers::db::db_fetch!(query_as, fetch_all, $($t)*) };
}

/// Runs a statement without rows; the number of rows it changed.
macro_rules! db_exec {
    ($e:expr, $lit:literal $(, $arg:expr)* $(,)?) => {
        portal::execute!($e, portal::sql!($lit) $(, $arg)*).unwrap()
    };
    ($e:expr, $sql:expr $(, $arg:expr)* $(,)?) => {
        portal::execute!($e, $sql $(, $arg)*).unwrap()
    };
}

pub(crate) use {db_all, db_exec, db_fetch, db_one, db_opt, db_row, db_row_opt, db_rows};
