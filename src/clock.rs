//! Time as the database stores it: unix seconds, UTC.

use time::OffsetDateTime;
use time::macros::format_description;

pub fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// `2026-11-22 04:21 UTC`, as every page shows a time.
pub fn display(unix: i64) -> String {
    let fmt = format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&fmt).ok())
        .unwrap_or_default()
}
