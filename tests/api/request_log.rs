//! Request spans: a request can be followed in the log by its id, which
//! every response carries in `X-Request-Id`; the log line names its route,
//! status, time, client and the signed-in account, and service calls run
//! in spans of their own.

use std::time::Duration;

use reqwest::StatusCode;

use crate::helpers::*;
use crate::process::PortalProcess;

#[tokio::test]
async fn a_request_is_found_in_the_log_by_its_id() {
    let dir = tempfile::tempdir().unwrap();
    let db = fresh_database_url(dir.path()).await;
    let portal = PortalProcess::start(&[
        ("DATA_DIR", dir.path().to_str().unwrap()),
        ("DATABASE_URL", &db),
        ("ADMIN_EMAIL", ADMIN_EMAIL),
        ("ADMIN_PASSWORD", ADMIN_PASSWORD),
        ("RUST_LOG", "info"),
    ])
    .await
    .unwrap();
    let c = browser();
    let html = c
        .get(format!("{}/admin/sign-in", portal.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = input_value(&html, "input[name=csrf_token]").unwrap();
    let r = c
        .post(format!("{}/admin/sign-in", portal.address))
        .form(&[
            ("csrf_token", token.as_str()),
            ("email", ADMIN_EMAIL),
            ("password", ADMIN_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = c
        .get(format!("{}/admin/groups/developers", portal.address))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let id = r.headers()["x-request-id"].to_str().unwrap().to_owned();

    let mut found = None;
    for _ in 0..100 {
        found = portal
            .output
            .lock()
            .unwrap()
            .iter()
            .find(|l| l.contains(&format!("request_id={id}")) && l.contains(" request "))
            .cloned();
        if found.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let line = found.unwrap_or_else(|| panic!("no log line for request {id}"));
    for part in [
        "route=/admin/groups/{id}",
        "status=200",
        "micros=",
        "client=127.0.0.1",
        "account=",
        "method=GET",
    ] {
        assert!(line.contains(part), "{part:?} in {line}");
    }
    // The sign-in ran in its service's span.
    let output = portal.output.lock().unwrap().join("\n");
    assert!(output.contains("sign_in"), "{output}");
}
