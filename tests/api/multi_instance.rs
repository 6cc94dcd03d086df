//! Three Portal instances on one PostgreSQL database behave as one (SPEC
//! R4): instance A runs in the test process, B and C are `portal`
//! processes of their own, and a real nginx spreads requests over the
//! three with README's "several instances" block. What A (or the test's
//! own connection) commits reaches B and C only through PostgreSQL's
//! notices: they share nothing else with it.
//!
//! Needs the test command's PostgreSQL cluster (`PORTAL_TEST_POSTGRES`);
//! without it each test says so and passes.

use std::time::Duration;

use reqwest::{Client, StatusCode};

use crate::helpers::*;
use crate::nginx::{Nginx, host_port, readme_server_block};
use crate::process::PortalProcess;
use crate::smtp_server::{Mode, SmtpServer};

const README_SECTION: &str = "## Running on PostgreSQL, and several instances";
const README_INSTANCES: [&str; 3] = ["127.0.0.1:8081", "127.0.0.1:8082", "127.0.0.1:8083"];

struct Cluster {
    /// Instance A (in this process), and the test's own connection.
    app: TestApp,
    /// Instances B and C.
    others: Vec<PortalProcess>,
}

impl Cluster {
    /// A on a fresh PostgreSQL database, B and C on the same one; `None`
    /// without the test cluster.
    async fn start(smtp: Option<&SmtpServer>) -> Option<Cluster> {
        let Ok(admin_url) = std::env::var("PORTAL_TEST_POSTGRES") else {
            eprintln!("PORTAL_TEST_POSTGRES is not set: skipped (tests/run.sh sets it)");
            return None;
        };
        let url = fresh_postgres_database(&admin_url).await;
        let smtp_url = smtp.map(|s| s.url());
        let app = {
            let (url, smtp_url) = (url.clone(), smtp_url.clone());
            spawn_with(move |s| {
                s.database_url = url;
                s.session_key = Some(TEST_SESSION_KEY.to_owned());
                s.smtp_url = smtp_url;
            })
            .await
        };
        let mut env = vec![
            ("DATABASE_URL", url.as_str()),
            ("SESSION_KEY", TEST_SESSION_KEY),
            ("BASE_URL", app.address.as_str()),
            ("ADMIN_EMAIL", ADMIN_EMAIL),
            ("ADMIN_PASSWORD", ADMIN_PASSWORD),
            ("TRUSTED_PROXIES", "127.0.0.1"),
        ];
        if let Some(u) = &smtp_url {
            env.push(("SMTP_URL", u.as_str()));
        }
        let mut others = Vec::new();
        for _ in 0..2 {
            others.push(PortalProcess::start(&env).await.expect("instance starts"));
        }
        Some(Cluster { app, others })
    }

    /// The base addresses of A, B and C.
    fn addresses(&self) -> Vec<String> {
        std::iter::once(self.app.address.clone())
            .chain(self.others.iter().map(|p| p.address.clone()))
            .collect()
    }

    /// nginx with README's block, its three servers being A, B and C.
    async fn nginx(&self) -> Nginx {
        let mut block = readme_server_block(README_SECTION, &README_INSTANCES);
        for (readme, ours) in README_INSTANCES.iter().zip(self.addresses()) {
            block = block.replace(readme, &host_port(&ours));
        }
        Nginx::start_block(&block).await
    }
}

/// The CSRF token of `c`'s session at `base`, read from a form there, as a
/// browser would.
async fn token_at(base: &str, c: &Client) -> String {
    let html = c
        .get(format!("{base}/admin/sign-in"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    input_value(&html, "input[name=csrf_token]").expect("a CSRF token")
}

/// Posts a form to the instance at `base` with the session's CSRF token.
async fn post_at(base: &str, c: &Client, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    let token = token_at(base, c).await;
    post_with(base, c, &token, path, fields).await
}

async fn post_with(
    base: &str,
    c: &Client,
    token: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let mut form = vec![("csrf_token", token)];
    form.extend_from_slice(fields);
    c.post(format!("{base}{path}"))
        .form(&form)
        .send()
        .await
        .unwrap()
}

async fn check_at(base: &str, key: &str) -> StatusCode {
    Client::new()
        .get(format!("{base}/gateway/check"))
        .header("Ocp-Apim-Subscription-Key", key)
        .send()
        .await
        .unwrap()
        .status()
}

/// An administrator's browser, and a developer subscribed to a product
/// Developers see: (admin, developer id, subscription id, primary key).
async fn subscribed(app: &TestApp) -> (Client, String, String, String) {
    let admin = app.admin().await;
    let (dev_id, dev) = app.developer("dev@example.org").await;
    app.product(&admin, "Weather", &["developers"], &[]).await;
    let r = app.subscribe(&dev, "weather", "").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (sub_id, key) = subscription_of(app, &dev_id).await;
    (admin, dev_id, sub_id, key)
}

/// The primary key and id of the account's first subscription.
async fn subscription_of(app: &TestApp, account: &str) -> (String, String) {
    portal::run!(
        &app.db,
        portal::sql!(
            "SELECT id, primary_key FROM subscriptions WHERE account_id = ? ORDER BY created_at"
        ),
        |x, q| sqlx::query_as(q).bind(account).fetch_one(x).await
    )
    .unwrap()
}

#[tokio::test]
async fn a_session_made_on_one_instance_answers_on_the_others() {
    let Some(cluster) = Cluster::start(None).await else {
        return;
    };
    let [a, b, c] = <[String; 3]>::try_from(cluster.addresses()).unwrap();
    // The cookie is carried by hand (a client keeping none), so that after
    // the sign-out the very same cookie is offered again.
    let raw = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = raw.get(format!("{a}/admin/sign-in")).send().await.unwrap();
    let anon = set_cookie(&r);
    let token = input_value(&r.text().await.unwrap(), "input[name=csrf_token]").unwrap();
    let r = raw
        .post(format!("{a}/admin/sign-in"))
        .header("cookie", &anon)
        .form(&[
            ("csrf_token", token.as_str()),
            ("email", ADMIN_EMAIL),
            ("password", ADMIN_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "signed in on A");
    let cookie = set_cookie(&r);
    let users = |base: &String| {
        raw.get(format!("{base}/admin/users"))
            .header("cookie", &cookie)
            .send()
    };
    // Made on A, it works on B and C (and each remembers the answer).
    for base in [&a, &b, &c, &a, &b, &c] {
        assert_eq!(
            users(base).await.unwrap().status(),
            StatusCode::OK,
            "signed in at {base}"
        );
    }
    // Signed out on B: the same cookie is refused by A and C at once.
    let r = users(&b).await.unwrap();
    let token = input_value(&r.text().await.unwrap(), "input[name=csrf_token]").unwrap();
    let r = raw
        .post(format!("{b}/admin/sign-out"))
        .header("cookie", &cookie)
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    for base in [&c, &a] {
        assert_eq!(
            users(base).await.unwrap().status(),
            StatusCode::SEE_OTHER,
            "signed out at {base}"
        );
    }
}

#[tokio::test]
async fn changes_through_one_instance_are_refused_by_the_key_check_of_the_others() {
    let Some(cluster) = Cluster::start(None).await else {
        return;
    };
    let app = &cluster.app;
    let others: Vec<String> = cluster.addresses()[1..].to_vec();
    let (admin, dev_id, sub_id, key) = subscribed(app).await;
    // Each instance remembers the accepted key.
    let accepted_everywhere = |key: String| {
        let others = others.clone();
        async move {
            for base in &others {
                for _ in 0..3 {
                    assert_eq!(check_at(base, &key).await, StatusCode::OK, "{base}");
                }
            }
        }
    };
    let refused_everywhere = |key: String, what: &'static str| {
        let others = others.clone();
        async move {
            for base in &others {
                assert_eq!(
                    check_at(base, &key).await,
                    StatusCode::FORBIDDEN,
                    "{what}: refused at once by {base}"
                );
            }
        }
    };
    accepted_everywhere(key.clone()).await;

    let r = app
        .post(&admin, &format!("/admin/users/{dev_id}/block"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "block");
    refused_everywhere(key.clone(), "blocked").await;
    let r = app
        .post(&admin, &format!("/admin/users/{dev_id}/activate"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "activate");
    accepted_everywhere(key.clone()).await;

    let r = app
        .post(
            &admin,
            &format!("/admin/subscriptions/{sub_id}/regenerate"),
            &[("key", "primary")],
        )
        .await;
    assert!(r.status().is_redirection(), "{}", r.status());
    refused_everywhere(key.clone(), "regenerated").await;
    let (_, key) = subscription_of(app, &dev_id).await;
    accepted_everywhere(key.clone()).await;

    app.post(
        &admin,
        &format!("/admin/subscriptions/{sub_id}/suspend"),
        &[],
    )
    .await;
    refused_everywhere(key.clone(), "suspended").await;
    app.post(
        &admin,
        &format!("/admin/subscriptions/{sub_id}/activate"),
        &[],
    )
    .await;
    accepted_everywhere(key.clone()).await;

    let r = app
        .post(&admin, "/admin/products/weather/unpublish", &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "unpublish");
    refused_everywhere(key, "unpublished").await;
}

#[tokio::test]
async fn an_instance_that_loses_its_listener_forgets_what_it_remembered() {
    let Some(cluster) = Cluster::start(None).await else {
        return;
    };
    let app = &cluster.app;
    let others: Vec<String> = cluster.addresses()[1..].to_vec();
    let (_, _, _, key) = subscribed(app).await;
    for base in &others {
        assert_eq!(
            check_at(base, &key).await,
            StatusCode::OK,
            "{base} remembers the key"
        );
    }
    // A change no instance hears of: the notice triggers are off for it,
    // and it is made outside any portal (and outside `Tx`, which sends a
    // notice of its own).
    for sql in [
        portal::sql!("ALTER TABLE subscriptions DISABLE TRIGGER portal_commit_notice_update"),
        portal::sql!("UPDATE subscriptions SET state = 'suspended' WHERE state = 'active'"),
        portal::sql!("ALTER TABLE subscriptions ENABLE TRIGGER portal_commit_notice_update"),
    ] {
        portal::execute!(&app.db, sql).unwrap();
    }
    for base in &others {
        assert_eq!(
            check_at(base, &key).await,
            StatusCode::OK,
            "{base} still answers from memory: it heard of nothing"
        );
    }
    // Every instance's listening connection is cut: each may have missed
    // notices, so each forgets everything once it notices.
    let cut: i64 = portal::run!(
        &app.db,
        portal::sql!(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = current_database() AND query LIKE 'LISTEN%') AS t"
        ),
        |x, q| sqlx::query_scalar(q).fetch_one(x).await
    )
    .unwrap();
    assert!(cut >= 3, "{cut} listening connections cut");
    for base in &others {
        wait_until(&format!("{base} to forget the key"), || async {
            check_at(base, &key).await == StatusCode::FORBIDDEN
        })
        .await;
    }
}

#[tokio::test]
async fn parallel_wrong_sign_ins_over_the_instances_meet_one_throttle() {
    let Some(cluster) = Cluster::start(None).await else {
        return;
    };
    let nginx = cluster.nginx().await;
    // Each browser has its form first, so that the twelve guesses leave
    // together and the time they take is theirs alone.
    let browsers: Vec<(Client, String)> = futures_util::future::join_all((0..12).map(|_| async {
        let c = browser();
        let token = token_at(&nginx.address, &c).await;
        (c, token)
    }))
    .await;
    let attempts = browsers.iter().enumerate().map(|(i, (c, token))| {
        let nginx = &nginx;
        async move {
            post_with(
                &nginx.address,
                c,
                token,
                "/admin/sign-in",
                &[
                    ("email", ADMIN_EMAIL),
                    ("password", &format!("wrong guess {i}")),
                ],
            )
            .await
            .status()
        }
    });
    let started = std::time::Instant::now();
    let statuses = futures_util::future::join_all(attempts).await;
    let elapsed = started.elapsed();
    assert!(
        statuses
            .iter()
            .all(|s| s.is_client_error() || s.is_success()),
        "every attempt was answered: {statuses:?}"
    );
    let (failures, locked_until): (i64, i64) = portal::run!(
        &cluster.app.db,
        portal::sql!("SELECT failed_signins, locked_until FROM accounts WHERE email_key = ?"),
        |x, q| sqlx::query_as(q).bind(ADMIN_EMAIL).fetch_one(x).await
    )
    .unwrap();
    // As on one instance (security.rs): five free tries, then the wait,
    // and one more for each wait a slow machine lets run out.
    assert!(
        throttle_allows(elapsed).contains(&failures),
        "{failures} attempts got through in {elapsed:?}"
    );
    assert!(locked_until > 0, "the account was made to wait");
}

#[tokio::test]
async fn a_client_limit_counts_requests_on_every_instance() {
    let Some(cluster) = Cluster::start(None).await else {
        return;
    };
    let addresses = cluster.addresses();
    let c = browser();
    let limit = portal::services::client_limit::REQUESTS_PER_WINDOW as usize;
    // One client's self-service requests, in turn to A, B and C.
    for i in 0..limit {
        let base = &addresses[i % 3];
        let email = format!("u{i}@example.org");
        let r = post_at(base, &c, "/forgot-password", &[("email", &email)]).await;
        assert_eq!(r.status(), StatusCode::OK, "request {i} at {base}");
    }
    for base in &addresses {
        let r = post_at(
            base,
            &c,
            "/forgot-password",
            &[("email", "more@example.org")],
        )
        .await;
        assert_eq!(
            r.status(),
            StatusCode::TOO_MANY_REQUESTS,
            "{base} knows of the requests the others counted"
        );
    }
}

#[tokio::test]
async fn three_workers_send_300_queued_emails_exactly_once() {
    let smtp = SmtpServer::start(Mode::Normal).await;
    let Some(cluster) = Cluster::start(Some(&smtp)).await else {
        return;
    };
    let admin = cluster.app.admin().await;
    let addresses = cluster.addresses();
    // 300 invitations, 100 through each instance (three at a time): each
    // commit wakes its own instance's worker, so all three send at once.
    let streams = addresses.iter().enumerate().map(|(n, base)| {
        let admin = &admin;
        async move {
            for i in 0..100 {
                let email = format!("invitee-{n}-{i}@example.org");
                let r = post_at(
                    base,
                    admin,
                    "/admin/users/invite",
                    &[
                        ("first_name", "In"),
                        ("last_name", "Vitee"),
                        ("email", &email),
                    ],
                )
                .await;
                assert_eq!(r.status(), StatusCode::SEE_OTHER, "invited {email}");
            }
        }
    });
    futures_util::future::join_all(streams).await;
    let received = smtp.wait_for(300, Duration::from_secs(60)).await;
    // Every message is marked sent once it has gone: wait for that, then
    // nothing more may arrive.
    wait_until("every message to be marked sent", || async {
        portal::run!(
            &cluster.app.db,
            portal::sql!("SELECT count(*) FROM outbox WHERE state = 'sent'"),
            |x, q| sqlx::query_scalar::<_, i64>(q).fetch_one(x).await
        )
        .unwrap()
            == 300
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let received = if smtp.received().len() > received.len() {
        smtp.received()
    } else {
        received
    };
    let mut to: Vec<String> = received.iter().flat_map(|m| m.rcpt_to.clone()).collect();
    assert_eq!(to.len(), 300, "300 messages arrived, no more");
    to.sort();
    to.dedup();
    assert_eq!(to.len(), 300, "each invitee got exactly one");
}

#[tokio::test]
async fn killing_one_instance_loses_no_acknowledged_write() {
    let Some(mut cluster) = Cluster::start(None).await else {
        return;
    };
    let nginx = cluster.nginx().await;
    let admin = cluster.app.admin().await;
    let victim = cluster.others.pop().unwrap();
    let acknowledged = std::sync::Mutex::new(Vec::new());
    // Three writers through nginx; `kill -9` of C once 20 writes are in.
    let writers = (0..3).map(|w| {
        let (nginx, admin, acknowledged) = (&nginx, &admin, &acknowledged);
        async move {
            for i in 0..20 {
                let name = format!("Team {w}-{i:02}");
                let r = post_at(
                    &nginx.address,
                    admin,
                    "/admin/groups/add",
                    &[("name", &name), ("action", "create")],
                )
                .await;
                if r.status() == StatusCode::SEE_OTHER {
                    acknowledged.lock().unwrap().push(name);
                }
            }
        }
    });
    let killer = async {
        wait_until("20 acknowledged writes", || async {
            acknowledged.lock().unwrap().len() >= 20
        })
        .await;
        victim.kill().await;
    };
    tokio::join!(futures_util::future::join_all(writers), killer);
    let acknowledged = acknowledged.into_inner().unwrap();
    // nginx does not send a POST again after it may have reached a server
    // (it is not idempotent): the few in flight at C are answered 502.
    assert!(
        acknowledged.len() >= 50,
        "the others kept serving: {} of 60 acknowledged",
        acknowledged.len()
    );
    for name in &acknowledged {
        let found: bool = portal::run!(
            &cluster.app.db,
            portal::sql!("SELECT EXISTS (SELECT 1 FROM groups WHERE name = ?)"),
            |x, q| sqlx::query_scalar(q).bind(name).fetch_one(x).await
        )
        .unwrap();
        assert!(found, "{name} was acknowledged, so it is there");
    }
    for _ in 0..6 {
        let r = admin.get(nginx.url("/admin/groups")).send().await.unwrap();
        assert_eq!(
            r.status(),
            StatusCode::OK,
            "still served: {}",
            nginx.error_log()
        );
    }
}
