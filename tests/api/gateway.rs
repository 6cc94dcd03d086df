//! A real nginx with `auth_request` to Portal in front of a small API
//! (SPEC S2, U5): an active key passes with its identity, a blocked
//! developer's key and a missing key are refused, and changes made in the
//! console apply at the very next call.

use reqwest::StatusCode;

use crate::helpers::*;
use crate::nginx::{Nginx, Upstream};

#[tokio::test]
async fn nginx_lets_active_keys_through_and_refuses_the_rest() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (dev_id, dev) = app.developer("dev@example.org").await;
    app.product(&admin, "Weather", &["developers"], &[]).await;
    let r = app.subscribe(&dev, "weather", "").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (sub_id, _, key, secondary) = app.subscriptions_of(&dev_id).await[0].clone();

    let upstream = Upstream::start().await;
    let nginx = Nginx::start(&app.address, &upstream.address).await;
    let client = reqwest::Client::new();
    let call = |key: Option<&str>, query: bool| {
        let mut path = "/forecast?city=Oslo".to_owned();
        if query && let Some(k) = key {
            path.push_str(&format!("&subscription-key={k}"));
        }
        let mut req = client.get(nginx.url(&path));
        if !query && let Some(k) = key {
            req = req.header("Ocp-Apim-Subscription-Key", k);
        }
        req.send()
    };

    let r = call(Some(&key), false).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", nginx.error_log());
    let body = r.text().await.unwrap();
    assert_eq!(
        body,
        format!("upstream saw account={dev_id} product=weather subscription={sub_id}")
    );
    let r = call(Some(&secondary), true).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "the query parameter works too");

    let seen = upstream.requests().len();
    let r = call(None, false).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = call(Some("0123456789abcdef0123456789abcdef"), false)
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        upstream.requests().len(),
        seen,
        "refused calls never reach the API"
    );

    // Blocked in the console: refused at the very next call.
    app.post(&admin, &format!("/admin/users/{dev_id}/block"), &[])
        .await;
    let r = call(Some(&key), false).await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    app.post(&admin, &format!("/admin/users/{dev_id}/activate"), &[])
        .await;
    let r = call(Some(&key), false).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    // Suspended: refused at once.
    app.post(
        &admin,
        &format!("/admin/subscriptions/{sub_id}/suspend"),
        &[],
    )
    .await;
    let r = call(Some(&key), false).await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // A forged identity header from the client never reaches the API as truth.
    app.post(
        &admin,
        &format!("/admin/subscriptions/{sub_id}/activate"),
        &[],
    )
    .await;
    let r = client
        .get(nginx.url("/forecast"))
        .header("Ocp-Apim-Subscription-Key", &key)
        .header("X-Portal-Account-Id", "someone-else")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains(&format!("account={dev_id} "))
    );
}
