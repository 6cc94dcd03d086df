//! S-23: Portal behind a real nginx, configured as README's "Serving Portal
//! behind a reverse proxy" says. Clients with different addresses are
//! limited separately (each by the address nginx reports), the audit log
//! records that address, and a forged `X-Forwarded-For` from a peer that is
//! not a trusted proxy changes nothing.

use std::net::IpAddr;

use reqwest::{Client, StatusCode, redirect};

use crate::helpers::*;
use crate::nginx::{Nginx, host_port, readme_server_block};

const SECTION: &str = "## Serving Portal behind a reverse proxy";
const LISTEN: &str = "listen 80;";
const PORTAL: &str = "127.0.0.1:8080";

/// A browser whose connections come from `ip` (any of 127.0.0.0/8 on Linux).
fn browser_at(ip: &str) -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(redirect::Policy::none())
        .local_address(ip.parse::<IpAddr>().unwrap())
        .build()
        .unwrap()
}

async fn forgot(c: &Client, base: &str, forged: Option<&str>) -> StatusCode {
    let html = c
        .get(format!("{base}/forgot-password"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = input_value(&html, "input[name=csrf_token]").unwrap();
    let mut r = c
        .post(format!("{base}/forgot-password"))
        .form(&[("csrf_token", token.as_str()), ("email", "x@example.org")]);
    if let Some(f) = forged {
        r = r.header("x-forwarded-for", f);
    }
    r.send().await.unwrap().status()
}

#[tokio::test]
async fn behind_nginx_each_client_is_limited_by_its_own_address() {
    let app = spawn_with(|s| {
        s.trusted_proxies = portal::web::client::parse_trusted("127.0.0.1").unwrap();
    })
    .await;
    let block =
        readme_server_block(SECTION, &[LISTEN, PORTAL]).replace(PORTAL, &host_port(&app.address));
    let nginx = Nginx::start_block(&block).await;
    let limit = portal::services::client_limit::REQUESTS_PER_WINDOW;

    let (a, b) = (browser_at("127.0.0.2"), browser_at("127.0.0.3"));
    for _ in 0..limit {
        // Forged entries on the left are not the client: nginx appends
        // the address it saw, and that is what counts.
        assert_eq!(
            forgot(&a, &nginx.address, Some("198.51.100.1")).await,
            StatusCode::OK
        );
    }
    assert_eq!(
        forgot(&a, &nginx.address, Some("198.51.100.2")).await,
        StatusCode::TOO_MANY_REQUESTS,
        "127.0.0.2 has used its allowance, whatever it claims"
    );
    assert_eq!(
        forgot(&b, &nginx.address, None).await,
        StatusCode::OK,
        "127.0.0.3 is another client"
    );

    // The audit log records the client, as nginx reports it.
    let admin = browser_at("127.0.0.5");
    let html = admin
        .get(nginx.url("/admin/sign-in"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = input_value(&html, "input[name=csrf_token]").unwrap();
    let r = admin
        .post(nginx.url("/admin/sign-in"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("email", ADMIN_EMAIL),
            ("password", ADMIN_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", nginx.error_log());
    let html = admin
        .get(nginx.url("/admin/groups/add"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = input_value(&html, "input[name=csrf_token]").unwrap();
    let r = admin
        .post(nginx.url("/admin/groups/add"))
        .form(&[("csrf_token", token.as_str()), ("name", "Partners")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let client: Option<String> = db_one!(
        &app.db,
        "SELECT client_addr FROM audit_log WHERE action = 'group.created'"
    );
    assert_eq!(client.as_deref(), Some("127.0.0.5"));
}

#[tokio::test]
async fn a_forged_forwarded_for_from_an_untrusted_peer_is_ignored() {
    let app = spawn_with(|s| {
        s.trusted_proxies = portal::web::client::parse_trusted("127.0.0.1").unwrap();
    })
    .await;
    let limit = portal::services::client_limit::REQUESTS_PER_WINDOW;
    // Straight to Portal from 127.0.0.4, which is no proxy: each request
    // claims another client, and all count against 127.0.0.4.
    let c = browser_at("127.0.0.4");
    for n in 0..limit {
        let forged = format!("198.51.100.{n}");
        assert_eq!(
            forgot(&c, &app.address, Some(&forged)).await,
            StatusCode::OK
        );
    }
    assert_eq!(
        forgot(&c, &app.address, Some("203.0.113.7")).await,
        StatusCode::TOO_MANY_REQUESTS
    );
}
