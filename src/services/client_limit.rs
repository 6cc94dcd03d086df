//! How many self-service requests one client may make (U8, U9): sign-up,
//! resending a confirmation and forgotten passwords each send email, so a
//! single address on the network cannot make the portal send without end.
//! Per-account limits are S-8's (`links::EMAILS_PER_WINDOW`); this is the
//! per-client one, kept in memory (it protects this process's mail queue).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use crate::clock;

/// Requests one client address may make per window.
pub const REQUESTS_PER_WINDOW: u32 = 20;
pub const WINDOW_SECS: i64 = 15 * 60;
/// Distinct clients remembered at most; past this the oldest windows go.
const CAPACITY: usize = 10_000;

#[derive(Default)]
pub struct ClientLimits {
    windows: Mutex<HashMap<IpAddr, (i64, u32)>>,
}

impl ClientLimits {
    /// Counts one request from `client`; `Err(seconds)` says how long until
    /// it may ask again.
    pub fn allow(&self, client: Option<IpAddr>) -> Result<(), i64> {
        let Some(client) = client else {
            return Ok(());
        };
        let now = clock::now();
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if windows.len() >= CAPACITY {
            windows.retain(|_, (start, _)| now - *start < WINDOW_SECS);
        }
        let entry = windows.entry(client).or_insert((now, 0));
        if now - entry.0 >= WINDOW_SECS {
            *entry = (now, 0);
        }
        if entry.1 >= REQUESTS_PER_WINDOW {
            return Err(entry.0 + WINDOW_SECS - now);
        }
        entry.1 += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_is_held_back_after_its_allowance() {
        let limits = ClientLimits::default();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        for _ in 0..REQUESTS_PER_WINDOW {
            assert!(limits.allow(Some(a)).is_ok());
        }
        let wait = limits.allow(Some(a)).unwrap_err();
        assert!(wait > 0 && wait <= WINDOW_SECS);
        assert!(
            limits.allow(Some(b)).is_ok(),
            "other clients are not affected"
        );
    }
}
