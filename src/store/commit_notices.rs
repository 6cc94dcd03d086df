//! Several instances on one PostgreSQL database forget their remembered
//! answers together (SPEC R4: a block on instance A is refused by the key
//! check of instance B at its very next request).
//!
//! Every commit sends a notice naming its transaction on the channel
//! `portal_commits` (the triggers of migrations postgres/0002–0003, and
//! `Tx::commit` itself); PostgreSQL delivers it to every listener, and only
//! if the transaction commits. Each instance's listener counts the notice
//! (`commits::bump`: its remembered answers are forgotten) and then
//! acknowledges it on `portal_acks`. Delivery is asynchronous, so the
//! instance that committed waits, before it answers its request, until
//! every other live instance has acknowledged (at most a second; one that
//! does not answer in time is taken for gone). Instances know of one
//! another by a heartbeat on `portal_acks` every second.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::oneshot;

use super::commits::bump;

const COMMITS: &str = "portal_commits";
const ACKS: &str = "portal_acks";
const HEARTBEAT: Duration = Duration::from_secs(1);
/// An instance not heard from for this long is taken for gone.
const ALIVE_FOR: Duration = Duration::from_secs(3);
/// The longest a commit waits for the others' acknowledgements.
const ACK_WAIT: Duration = Duration::from_secs(1);

/// One instance's side of the protocol (one per `Db` that listens).
pub struct Notices {
    me: u64,
    listening: AtomicBool,
    /// Other instances, when last heard from.
    peers: Mutex<HashMap<u64, Instant>>,
    /// Commits of this instance waiting for acknowledgements.
    waiting: Mutex<Vec<Waiter>>,
}

struct Waiter {
    txid: i64,
    missing: HashSet<u64>,
    done: Option<oneshot::Sender<()>>,
}

/// What a committed transaction waits on.
pub struct Expected {
    txid: i64,
    rx: oneshot::Receiver<()>,
}

impl Default for Notices {
    fn default() -> Self {
        Self {
            me: u64::from_le_bytes(crate::domain::ids::random_bytes::<8>()),
            listening: AtomicBool::new(false),
            peers: Mutex::default(),
            waiting: Mutex::default(),
        }
    }
}

impl Notices {
    /// Before committing transaction `txid`: what to wait on afterwards
    /// (`None` when this instance does not listen or knows no other).
    pub(crate) fn expect(&self, txid: i64) -> Option<Expected> {
        if !self.listening.load(Ordering::Acquire) {
            return None;
        }
        let missing: HashSet<u64> = {
            let peers = self.peers.lock().unwrap_or_else(|e| e.into_inner());
            peers
                .iter()
                .filter(|(_, seen)| seen.elapsed() < ALIVE_FOR)
                .map(|(id, _)| *id)
                .collect()
        };
        if missing.is_empty() {
            return None;
        }
        let (tx, rx) = oneshot::channel();
        self.waiting
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Waiter {
                txid,
                missing,
                done: Some(tx),
            });
        Some(Expected { txid, rx })
    }

    /// After the commit: until every other instance has acknowledged it.
    pub(crate) async fn acknowledged(&self, e: Expected) {
        if tokio::time::timeout(ACK_WAIT, e.rx).await.is_ok() {
            return;
        }
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        let Some(i) = waiting.iter().position(|w| w.txid == e.txid) else {
            return;
        };
        let w = waiting.swap_remove(i);
        drop(waiting);
        tracing::warn!(
            txid = e.txid,
            instances = w.missing.len(),
            "instances did not acknowledge a commit within 1 s: taken for gone"
        );
        let mut peers = self.peers.lock().unwrap_or_else(|e| e.into_inner());
        peers.retain(|id, _| !w.missing.contains(id));
    }

    fn heard_ack(&self, payload: &str) {
        let Some((id, txid)) = payload
            .split_once(':')
            .and_then(|(id, txid)| Some((id.parse::<u64>().ok()?, txid.parse::<i64>().ok()?)))
        else {
            return;
        };
        if id == self.me {
            return;
        }
        self.peers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, Instant::now());
        if txid == 0 {
            return;
        }
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = waiting.iter().position(|w| w.txid == txid) {
            waiting[i].missing.remove(&id);
            if waiting[i].missing.is_empty() {
                if let Some(done) = waiting[i].done.take() {
                    let _ = done.send(());
                }
                waiting.swap_remove(i);
            }
        }
    }
}

/// Sends `payload` on the acknowledgement channel.
async fn send_ack(pool: &PgPool, payload: String) {
    if let Err(e) = sqlx::query("SELECT pg_notify($1, $2)")
        .bind(ACKS)
        .bind(payload)
        .execute(pool)
        .await
    {
        tracing::warn!(error = %e, "cannot acknowledge a commit");
    }
}

/// Listens for the notices of every instance's commits, for as long as
/// the pool is open; sends this instance's heartbeat.
pub fn spawn_listener(pool: PgPool, notices: std::sync::Arc<Notices>) {
    {
        let (pool, notices) = (pool.clone(), notices.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(HEARTBEAT);
            while !pool.is_closed() {
                tick.tick().await;
                send_ack(&pool, format!("{}:0", notices.me)).await;
            }
        });
    }
    tokio::spawn(async move {
        let mut listener: Option<PgListener> = None;
        while !pool.is_closed() {
            let l = match listener.as_mut() {
                Some(l) => l,
                None => match connect(&pool).await {
                    Ok(l) => {
                        // Anything committed before it listened is unknown.
                        bump();
                        notices.listening.store(true, Ordering::Release);
                        send_ack(&pool, format!("{}:0", notices.me)).await;
                        listener.insert(l)
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot listen for commits; retrying");
                        lost(&notices);
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        continue;
                    }
                },
            };
            match l.try_recv().await {
                Ok(Some(n)) if n.channel() == COMMITS => {
                    // Forgotten first, acknowledged after.
                    bump();
                    if let Ok(txid) = n.payload().parse::<i64>() {
                        let (pool, me) = (pool.clone(), notices.me);
                        tokio::spawn(async move { send_ack(&pool, format!("{me}:{txid}")).await });
                    }
                }
                Ok(Some(n)) => notices.heard_ack(n.payload()),
                // The connection was lost: sqlx reconnects (and listens
                // again) at the next call; notices sent meanwhile are gone.
                Ok(None) => {
                    tracing::warn!("lost the connection listening for commits; reconnecting");
                    lost(&notices);
                    notices.listening.store(true, Ordering::Release);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "listening for commits failed; reconnecting");
                    lost(&notices);
                    listener = None;
                }
            }
        }
        notices.listening.store(false, Ordering::Release);
    });
}

/// A lost listener: everything remembered is forgotten, and until it
/// listens again commits wait for nobody.
fn lost(notices: &Notices) {
    notices.listening.store(false, Ordering::Release);
    bump();
}

async fn connect(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    let mut l = PgListener::connect_with(pool).await?;
    l.listen_all([COMMITS, ACKS]).await?;
    Ok(l)
}
