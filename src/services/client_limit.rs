//! How many self-service requests one client may make (U8, U9): sign-up,
//! resending a confirmation and forgotten passwords each send email, so a
//! single address on the network cannot make the portal send without end.
//! Per-account limits are S-8's (`links::EMAILS_PER_WINDOW`); this is the
//! per-client one, kept in memory on SQLite (one process) and in the
//! database on PostgreSQL, where every instance must count a client's
//! requests together (SPEC R4).
//! The client is the address S-23 determines (behind a trusted proxy, the
//! one it reports).
//!
//! Memory is bounded (S-23): at most [`CAPACITY`] clients are remembered,
//! about 64 bytes each with the map's overhead, so under 4 MiB. When the
//! map is full, windows that have ended are dropped; if every remembered
//! client is still inside its window, the oldest windows go first. A flood
//! from more distinct addresses than that can only make the portal forget
//! the longest-known clients early.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

/// Requests one client address may make per window.
pub const REQUESTS_PER_WINDOW: u32 = 20;
pub const WINDOW_SECS: i64 = 15 * 60;
/// Distinct clients remembered at most.
pub const CAPACITY: usize = 50_000;

/// Counts one self-service request from `client` at `now`; `Err(seconds)`
/// says how long until it may ask again.
pub async fn allow(
    ctx: &super::Ctx,
    client: Option<IpAddr>,
    now: i64,
) -> Result<Result<(), i64>, super::ServiceError> {
    let Some(client) = client else {
        return Ok(Ok(()));
    };
    if !ctx.db.is_postgres() {
        return Ok(ctx.client_limits.allow(Some(client), now));
    }
    let (n, end) = crate::store::client_limits::count(
        &ctx.db,
        "self_service",
        &client.to_string(),
        now,
        WINDOW_SECS,
    )
    .await?;
    if n > i64::from(REQUESTS_PER_WINDOW) {
        return Ok(Err(end - now));
    }
    Ok(Ok(()))
}

/// On PostgreSQL, deletes ended windows every few minutes; one instance
/// at a time does it (the others find the lock taken and skip that round).
pub fn spawn_forgetting(db: crate::store::Db) {
    if !db.is_postgres() {
        return;
    }
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(300));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match crate::store::client_limits::forget_ended(&db, db.clock().now()).await {
                Ok(Some(n)) if n > 0 => {
                    tracing::info!(windows = n, "ended client windows forgotten")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "cannot forget ended client windows"),
            }
        }
    });
}

#[derive(Default)]
pub struct ClientLimits {
    /// Client → (start of its window, requests in it).
    windows: Mutex<HashMap<IpAddr, (i64, u32)>>,
}

impl ClientLimits {
    /// Counts one request from `client` at `now`; `Err(seconds)` says how
    /// long until it may ask again.
    pub fn allow(&self, client: Option<IpAddr>, now: i64) -> Result<(), i64> {
        let Some(client) = client else {
            return Ok(());
        };
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if windows.len() >= CAPACITY && !windows.contains_key(&client) {
            make_room(&mut windows, now);
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

    /// Clients remembered now.
    pub fn len(&self) -> usize {
        self.windows.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Drops ended windows; if that frees less than a tenth of the map, also
/// the oldest windows until a tenth is free (so a flood pays this O(n)
/// sweep once per several thousand new clients, not on each).
fn make_room(windows: &mut HashMap<IpAddr, (i64, u32)>, now: i64) {
    windows.retain(|_, (start, _)| now - *start < WINDOW_SECS);
    let target = CAPACITY - CAPACITY / 10;
    if windows.len() > target {
        let mut starts: Vec<i64> = windows.values().map(|(start, _)| *start).collect();
        let excess = windows.len() - target;
        let (_, cut, _) = starts.select_nth_unstable(excess - 1);
        let cut = *cut;
        let mut to_drop = excess;
        windows.retain(|_, (start, _)| {
            if to_drop > 0 && *start <= cut {
                to_drop -= 1;
                false
            } else {
                true
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    #[test]
    fn a_client_is_held_back_after_its_allowance() {
        let limits = ClientLimits::default();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        for _ in 0..REQUESTS_PER_WINDOW {
            assert!(limits.allow(Some(a), 1_000).is_ok());
        }
        let wait = limits.allow(Some(a), 1_000).unwrap_err();
        assert!(wait > 0 && wait <= WINDOW_SECS);
        assert!(
            limits.allow(Some(b), 1_000).is_ok(),
            "other clients are not affected"
        );
        assert!(
            limits.allow(Some(a), 1_000 + WINDOW_SECS).is_ok(),
            "a new window begins"
        );
    }

    #[test]
    fn memory_stays_bounded_under_a_flood_of_addresses() {
        let limits = ClientLimits::default();
        let held: IpAddr = "198.51.100.1".parse().unwrap();
        for _ in 0..REQUESTS_PER_WINDOW {
            limits.allow(Some(held), 0).unwrap();
        }
        // Three times the capacity of distinct addresses, all inside one
        // window (nothing expires on its own).
        for n in 0..(3 * CAPACITY as u32) {
            let ip = IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + n));
            limits.allow(Some(ip), 1 + i64::from(n) / 1_000).unwrap();
            assert!(limits.len() <= CAPACITY);
        }
        // The newest clients are still counted.
        let newest = IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + 3 * CAPACITY as u32 - 1));
        for _ in 1..REQUESTS_PER_WINDOW {
            limits.allow(Some(newest), 200).unwrap();
        }
        assert!(limits.allow(Some(newest), 200).is_err());
    }
}
