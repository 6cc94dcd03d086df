//! Prometheus metrics (SPEC R5), through the `metrics` facade and its
//! Prometheus exporter (the text format is theirs, not ours). Nothing is
//! recorded until `install` runs, which happens only when the operator
//! turned metrics on (`METRICS_BIND` or `METRICS=on`): the calls below
//! then cost one atomic load.

use std::sync::OnceLock;

use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Latency buckets, in seconds: a key check's tenth of a millisecond to a
/// slow page's seconds.
const BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// Installs the recorder (once a process; several servers in one test
/// process share it).
pub fn install() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(BUCKETS)
                .expect("the buckets are not empty")
                .build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was installed already");
            }
            handle
        })
        .clone()
}

fn on() -> bool {
    HANDLE.get().is_some()
}

/// The exposition, in the Prometheus text format.
pub fn render() -> String {
    HANDLE
        .get()
        .map(PrometheusHandle::render)
        .unwrap_or_default()
}

/// A request answered: by route template (never the raw path, whose ids
/// would make a series each) and status, with its latency.
pub fn request(route: &str, status: u16, seconds: f64) {
    if !on() {
        return;
    }
    let route = route.to_owned();
    counter!("portal_http_requests_total", "route" => route.clone(), "status" => status.to_string())
        .increment(1);
    histogram!("portal_http_request_duration_seconds", "route" => route).record(seconds);
}

/// A sign-in's outcome: `success`, `failure` or `throttled` (S-3).
pub fn sign_in(outcome: &'static str) {
    if on() {
        counter!("portal_sign_ins_total", "outcome" => outcome).increment(1);
    }
}

/// A gateway key check: its verdict, and whether it was answered from memory.
pub fn key_check(outcome: &'static str, remembered: bool) {
    if on() {
        counter!("portal_key_checks_total", "outcome" => outcome).increment(1);
        let cache = if remembered { "hit" } else { "miss" };
        counter!("portal_key_check_cache_total", "result" => cache).increment(1);
    }
}

/// An email send: `sent`, `retrying` or `failed`.
pub fn email_send(outcome: &'static str) {
    if on() {
        counter!("portal_email_sends_total", "outcome" => outcome).increment(1);
    }
}

/// How long a request waited for a database connection.
pub fn pool_wait(seconds: f64) {
    if on() {
        histogram!("portal_db_pool_wait_seconds").record(seconds);
    }
}

/// The outbox as it stands when scraped: messages waiting, the age of the
/// oldest, and those that failed.
pub fn outbox(waiting: i64, oldest_age_seconds: i64, failed: i64) {
    if on() {
        gauge!("portal_email_outbox_waiting").set(waiting as f64);
        gauge!("portal_email_outbox_oldest_age_seconds").set(oldest_age_seconds as f64);
        gauge!("portal_email_outbox_failed").set(failed as f64);
    }
}
