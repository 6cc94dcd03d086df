//! The outbox worker (SPEC E3, SECURITY S-19): delivers due messages in the
//! background, one at a time, each send bounded by a timeout; transient
//! failures come back later with a growing delay, permanent ones are marked
//! failed for an administrator to see.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use super::settings::MailSettings;
use super::transport::{SendError, Transport, domain_of};
use crate::config::Settings;
use crate::store::{Db, outbox};

/// The longest wait between two attempts at one message.
pub const MAX_RETRY_DELAY_SECS: i64 = 15 * 60;

/// The mail side of the application: its transport and the nudge that wakes
/// the worker. Cheap to clone.
#[derive(Clone)]
pub struct Mailer {
    inner: Arc<Inner>,
}

struct Inner {
    transport: Transport,
    notify: Notify,
    settings: Settings,
}

impl Mailer {
    pub fn new(settings: &Settings) -> anyhow::Result<Self> {
        Ok(Self {
            inner: Arc::new(Inner {
                transport: Transport::from_settings(settings)?,
                notify: Notify::new(),
                settings: settings.clone(),
            }),
        })
    }

    /// Asks the worker to look at the outbox now. Call it after the
    /// transaction that queued a message has committed. A wake while the
    /// worker is busy is kept for its next turn.
    pub fn wake(&self) {
        self.inner.notify.notify_one();
    }

    /// SMTP or files, for the start-up log.
    pub fn describe(&self) -> String {
        self.inner.transport.describe()
    }

    /// Starts the background worker.
    pub fn spawn(&self, db: Db) -> tokio::task::JoinHandle<()> {
        let mailer = self.clone();
        tokio::spawn(async move { mailer.run_forever(db).await })
    }

    async fn run_forever(self, db: Db) {
        tracing::info!(transport = %self.describe(), "email worker started");
        let poll = self.inner.settings.timeouts.mail_poll;
        loop {
            let wait = match self.run_once(&db).await {
                Ok(_) => match outbox::next_due_at(&db).await {
                    Ok(Some(at)) => {
                        let secs = (at - db.clock().now()).max(0) as u64;
                        Duration::from_secs(secs).min(poll)
                    }
                    Ok(None) => poll,
                    Err(e) => {
                        tracing::warn!(error = %e, "email worker cannot read the outbox");
                        poll
                    }
                },
                Err(e) => {
                    tracing::warn!(error = %e, "email worker run failed; trying again shortly");
                    poll
                }
            };
            if wait.is_zero() {
                tokio::task::yield_now().await;
                continue;
            }
            tokio::select! {
                () = self.inner.notify.notified() => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// Delivers every message due now, once each; returns how many were
    /// delivered. Tests call it to drive the outbox step by step; it is safe
    /// beside a running worker (each message is claimed before it is sent).
    pub async fn run_once(&self, db: &Db) -> anyhow::Result<usize> {
        let t = &self.inner.settings.timeouts;
        // Only what is due at the start: a message that fails now comes
        // back in a later run, never in this one.
        let start = db.clock().now();
        let lease = (t.mail_send.as_secs() as i64) + 60;
        let sender = MailSettings::load(db, &self.inner.settings).await?;
        let mut delivered = 0;
        loop {
            let mut tx = db.begin_write().await?;
            let claimed = outbox::claim_next(&mut tx, start, db.clock().now() + lease).await?;
            tx.commit().await?;
            let Some(m) = claimed else { break };
            let outcome =
                match tokio::time::timeout(t.mail_send, self.inner.transport.send(&m, &sender))
                    .await
                {
                    Ok(r) => r,
                    Err(_) => Err(SendError::Transient(format!(
                        "no answer from the mail server within {} s",
                        t.mail_send.as_secs_f64()
                    ))),
                };
            if record(db, &self.inner.settings, &m, &outcome).await? {
                delivered += usize::from(outcome.is_ok());
            }
        }
        Ok(delivered)
    }
}

/// Records how an attempt went; false when the claim had been lost.
async fn record(
    db: &Db,
    settings: &Settings,
    m: &outbox::Message,
    outcome: &Result<(), SendError>,
) -> anyhow::Result<bool> {
    let (retry_base, give_up) = (
        settings.timeouts.mail_retry_base,
        settings.timeouts.mail_give_up,
    );
    let domain = domain_of(&m.to_address);
    // A result that cannot be written would mean a second send after the
    // lease: try a few times before giving up.
    let mut tries = 0;
    loop {
        let now = db.clock().now();
        // S-19: a message still failing this long after it was queued is
        // given up, with its last error, until an administrator retries it.
        let outcome = &match outcome {
            Err(SendError::Transient(e)) if now - m.queued_at >= give_up.as_secs() as i64 => Err(
                SendError::Permanent(format!("gave up after {}: {e}", in_words(give_up))),
            ),
            other => other.clone(),
        };
        let written = async {
            let mut tx = db.begin_write().await?;
            let done = match outcome {
                Ok(()) => outbox::mark_sent(&mut tx, m.id, m.attempts, now).await?,
                Err(SendError::Transient(e)) => {
                    let next = now + retry_delay_secs(retry_base, m.attempts);
                    outbox::mark_retrying(&mut tx, m.id, m.attempts, next, e).await?
                }
                Err(SendError::Permanent(e)) => {
                    let done = outbox::mark_failed(&mut tx, m.id, m.attempts, e).await?;
                    if done {
                        tell_administrators(&mut tx, settings, m).await?;
                    }
                    done
                }
            };
            tx.commit().await?;
            Ok::<bool, anyhow::Error>(done)
        }
        .await;
        match written {
            Ok(done) => {
                crate::metrics::email_send(match outcome {
                    Ok(()) => "sent",
                    Err(SendError::Transient(_)) => "retrying",
                    Err(SendError::Permanent(_)) => "failed",
                });
                match outcome {
                    Ok(()) => tracing::info!(
                        outbox_id = m.id, template = %m.template, to_domain = %domain,
                        attempt = m.attempts, "email sent"
                    ),
                    Err(SendError::Transient(e)) => tracing::warn!(
                        outbox_id = m.id, template = %m.template, to_domain = %domain,
                        attempt = m.attempts, error = %e, "email not sent; will retry"
                    ),
                    Err(SendError::Permanent(e)) => tracing::warn!(
                        outbox_id = m.id, template = %m.template, to_domain = %domain,
                        attempt = m.attempts, error = %e, "email refused; marked failed"
                    ),
                }
                if !done {
                    tracing::warn!(
                        outbox_id = m.id,
                        "email claim was lost; result not recorded"
                    );
                }
                return Ok(done);
            }
            Err(e) if tries < 3 => {
                tries += 1;
                tracing::warn!(outbox_id = m.id, error = %e, "cannot record an email's result; trying again");
                tokio::time::sleep(Duration::from_millis(500 * tries)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

/// R5: the administrators chosen for it hear of a message given up, in the
/// transaction that marks it failed; never of their own notifications
/// failing (one failure would feed the next).
async fn tell_administrators(
    tx: &mut crate::store::Tx,
    settings: &Settings,
    m: &outbox::Message,
) -> anyhow::Result<()> {
    let about_notification = crate::domain::email_template::EmailTemplate::parse(&m.template)
        .is_some_and(|t| t.to_administrators());
    if about_notification {
        return Ok(());
    }
    let link = format!(
        "{}{}",
        settings.base_url,
        crate::web::paths::console::EMAIL_LOG
    );
    crate::services::notifications::notify_with(
        tx,
        settings,
        crate::domain::notification::Notification::EmailFailed,
        &[("account", &m.to_address), ("link", &link)],
    )
    .await
    .map_err(|e| anyhow::anyhow!("cannot queue the failure's notification: {e}"))
}

/// "48 hours", "90 seconds": how long, for a person.
fn in_words(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        3600 => "1 hour".to_owned(),
        _ if s >= 3600 && s.is_multiple_of(3600) => format!("{} hours", s / 3600),
        _ if s >= 60 && s.is_multiple_of(60) => format!("{} minutes", s / 60),
        _ => format!("{s} seconds"),
    }
}

/// The wait before attempt `attempt + 1`: base, 2×base, 4×base … capped at
/// 15 minutes (at least one second, so one run never retries a message).
pub fn retry_delay_secs(base: Duration, attempt: i64) -> i64 {
    let base = (base.as_secs() as i64).max(1);
    let doublings = (attempt - 1).clamp(0, 20) as u32;
    base.saturating_mul(1i64 << doublings)
        .min(MAX_RETRY_DELAY_SECS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_up_to_fifteen_minutes() {
        let base = Duration::from_secs(5);
        let delays: Vec<_> = (1..=10).map(|a| retry_delay_secs(base, a)).collect();
        assert_eq!(delays, [5, 10, 20, 40, 80, 160, 320, 640, 900, 900]);
        assert_eq!(retry_delay_secs(base, 1_000), 900);
        assert_eq!(retry_delay_secs(Duration::ZERO, 1), 1);
    }
}
