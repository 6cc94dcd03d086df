//! One connection taken from the pool for a page's several reads (one
//! hand-off to the pool instead of one per statement), on either database.

use sqlx::pool::PoolConnection;
use sqlx::{Postgres, Sqlite};

use super::backend::{Backend, Exec, On};

pub enum Conn {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(PoolConnection<Postgres>),
}

impl Conn {
    pub(super) async fn acquire(backend: &Backend) -> Result<Self, sqlx::Error> {
        Ok(match backend {
            Backend::Sqlite(pool) => Self::Sqlite(pool.acquire().await?),
            Backend::Postgres(pool) => Self::Postgres(pool.acquire().await?),
        })
    }
}

impl<'c> Exec<'c> for &'c mut Conn {
    fn on(self) -> On<'c> {
        match self {
            Conn::Sqlite(c) => On::Sqlite(c),
            Conn::Postgres(c) => On::Pg(c),
        }
    }
}
