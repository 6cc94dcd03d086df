//! `/metrics` (SPEC R5): off unless the operator says where; in the
//! Prometheus text format; counters that move after the requests that
//! cause them. The recorder is one per process, so each test compares
//! before and after.

use std::collections::HashMap;
use std::net::TcpListener;

use portal::config::Metrics;
use reqwest::StatusCode;

use crate::helpers::*;

/// Parses the text format: every sample line is `name{labels} value`,
/// every other line a `# HELP`/`# TYPE` comment. Samples by their series.
fn parse(text: &str) -> HashMap<String, f64> {
    let mut samples = HashMap::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        if line.starts_with('#') {
            assert!(
                line.starts_with("# TYPE ") || line.starts_with("# HELP "),
                "{line}"
            );
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect("a sample has a value");
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("a number: {line}"));
        let name_end = series.find('{').unwrap_or(series.len());
        let name = &series[..name_end];
        assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "a metric name: {line}"
        );
        if name_end < series.len() {
            assert!(series.ends_with('}'), "labels close: {line}");
        }
        samples.insert(series.to_owned(), value);
    }
    samples
}

async fn scrape(url: &str) -> HashMap<String, f64> {
    let r = reqwest::get(url).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    parse(&r.text().await.unwrap())
}

fn value(samples: &HashMap<String, f64>, series: &str) -> f64 {
    samples.get(series).copied().unwrap_or(0.0)
}

#[tokio::test]
async fn metrics_are_off_unless_the_operator_turns_them_on() {
    let app = spawn_app().await;
    let r = app.get(&browser(), "/metrics").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn counters_move_after_the_requests_that_cause_them() {
    let app = spawn_with(|s| s.metrics = Metrics::Public).await;
    let url = app.url("/metrics");
    let before = scrape(&url).await;

    for _ in 0..3 {
        app.get(&browser(), "/healthz").await;
    }
    let r = app
        .portal_sign_in(&browser(), ADMIN_EMAIL, "not the password")
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    app.admin().await;
    app.check_key("0123456789abcdef0123456789abcdef").await;

    let after = scrape(&url).await;
    let moved = |series: &str| value(&after, series) - value(&before, series);
    assert!(
        moved(r#"portal_http_requests_total{route="/healthz",status="200"}"#) >= 3.0,
        "{after:?}"
    );
    assert!(moved(r#"portal_sign_ins_total{outcome="failure"}"#) >= 1.0);
    assert!(moved(r#"portal_sign_ins_total{outcome="success"}"#) >= 1.0);
    assert!(moved(r#"portal_key_checks_total{outcome="refused"}"#) >= 1.0);
    assert!(
        moved(r#"portal_key_check_cache_total{result="hit"}"#)
            + moved(r#"portal_key_check_cache_total{result="miss"}"#)
            >= 1.0
    );
    assert!(
        after
            .keys()
            .any(|k| k.starts_with("portal_http_request_duration_seconds_bucket{")),
        "a latency histogram"
    );
    assert!(after.contains_key("portal_email_outbox_waiting"));
    assert!(after.contains_key("portal_email_outbox_oldest_age_seconds"));
    assert!(
        after
            .keys()
            .any(|k| k.starts_with("portal_db_pool_wait_seconds"))
    );
    // Routes are templates, never raw paths with ids.
    assert!(
        !after
            .keys()
            .any(|k| k.contains("route=\"/admin/users/") && !k.contains('{'))
    );
}

#[tokio::test]
async fn metrics_bind_serves_them_on_their_own_port_only() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let app = spawn_with(move |s| s.metrics = Metrics::Bind(addr)).await;
    let samples = scrape(&format!("http://{addr}/metrics")).await;
    assert!(samples.contains_key("portal_email_outbox_failed"));
    let r = app.get(&browser(), "/metrics").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND, "not on the public port");
}
