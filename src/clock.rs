//! Time as the database stores it: unix seconds, UTC.
//!
//! Every use case asks the application's [`Clock`] rather than the system,
//! so tests move time forward instead of sleeping through timeouts and
//! link lifetimes.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

/// The system's time, plus however far a test has moved it on. Clones share
/// the offset.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    ahead: Arc<AtomicI64>,
}

impl Clock {
    pub fn now(&self) -> i64 {
        OffsetDateTime::now_utc().unix_timestamp() + self.ahead.load(Ordering::Relaxed)
    }

    /// Moves this clock and all its clones `secs` seconds forward.
    pub fn advance(&self, secs: i64) {
        self.ahead.fetch_add(secs, Ordering::Relaxed);
    }
}

/// `2026-11-22 04:21 UTC`, as every page shows a time.
pub fn display(unix: i64) -> String {
    let fmt = format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&fmt).ok())
        .unwrap_or_default()
}

/// A moment as ISO 8601 in UTC, as a page's `datetime` attributes and the
/// audit export give it.
pub fn iso(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}
