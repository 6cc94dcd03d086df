//! Starts the real server on a random port with a fresh database, and talks
//! HTTP to it like a browser without JavaScript would.

use std::net::TcpListener;
use std::sync::OnceLock;
use std::time::Duration;

use portal::config::{Settings, Timeouts};
use portal::startup::Application;
use portal::store::{self, Db};
use reqwest::{Client, Response, StatusCode, redirect};
use scraper::{Html, Selector};
use tempfile::TempDir;

use crate::smtp_server::{Mail, SmtpServer};

pub mod db;
pub(crate) use db::{db_all, db_exec, db_one, db_opt, db_row, db_row_opt, db_rows};

pub const ADMIN_EMAIL: &str = "root@example.org";
pub const ADMIN_PASSWORD: &str = "granite orchard lantern 51";
/// The password of accounts that tests insert directly.
pub const USER_PASSWORD: &str = "velvet canyon tulip 93";

pub struct TestApp {
    pub address: String,
    pub db: Db,
    pub settings: Settings,
    /// The mailer whose worker the app runs: tests wake it or run it a step.
    pub mailer: portal::email::Mailer,
    /// The server's clock: tests move it forward instead of sleeping.
    pub clock: portal::clock::Clock,
    _dir: TempDir,
}

pub async fn spawn_app() -> TestApp {
    spawn_with(|_| {}).await
}

/// An app whose mail goes to the test SMTP server `server`.
pub async fn spawn_with_smtp(server: &SmtpServer) -> TestApp {
    let url = server.url();
    spawn_with(move |s| s.smtp_url = Some(url)).await
}

/// Whether this run of the suite is on PostgreSQL: tests/run.sh runs it
/// twice, the second time with `PORTAL_TEST_DATABASE=postgres` (SPEC R4).
pub fn on_postgres() -> bool {
    std::env::var("PORTAL_TEST_DATABASE").is_ok_and(|v| v == "postgres")
}

/// A fresh, empty database: a SQLite file in `dir`, or a database of its
/// own on the test command's PostgreSQL cluster.
pub async fn fresh_database_url(dir: &std::path::Path) -> String {
    if !on_postgres() {
        return format!("sqlite://{}", dir.join("portal.db").display());
    }
    let admin_url = std::env::var("PORTAL_TEST_POSTGRES").expect(
        "PORTAL_TEST_DATABASE=postgres needs PORTAL_TEST_POSTGRES (tests/run.sh sets both)",
    );
    fresh_postgres_database(&admin_url).await
}

/// A new database on the cluster `admin_url` names; its URL.
pub async fn fresh_postgres_database(admin_url: &str) -> String {
    use sqlx::Connection;
    let name = format!("t_{}", portal::domain::ids::new_id().to_lowercase());
    let mut admin = sqlx::PgConnection::connect(admin_url).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .unwrap();
    admin.close().await.unwrap();
    format!("{}/{name}", admin_url.rsplit_once('/').unwrap().0)
}

/// The cookie key of tests on PostgreSQL, where Portal requires one.
pub const TEST_SESSION_KEY: &str = "a test session key of at least thirty-two characters";

pub async fn spawn_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = TempDir::new().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut settings = Settings {
        database_url: fresh_database_url(dir.path()).await,
        bind: listener.local_addr().unwrap(),
        base_url: format!("http://127.0.0.1:{port}"),
        smtp_url: None,
        mail_from: "Portal <portal@example.org>".into(),
        admin_email: Some(ADMIN_EMAIL.into()),
        admin_password: Some(ADMIN_PASSWORD.into()),
        session_key: on_postgres().then(|| TEST_SESSION_KEY.to_owned()),
        data_dir: dir.path().to_owned(),
        timeouts: Timeouts::default(),
        links: Default::default(),
        trusted_proxies: vec![],
        metrics: Default::default(),
        database_max_connections: portal::store::DEFAULT_PG_CONNECTIONS,
        workers: None,
    };
    configure(&mut settings);
    let app = Application::build_with_listener(settings.clone(), listener)
        .await
        .expect("app builds");
    let mailer = app.mailer();
    let clock = app.clock();
    tokio::spawn(app.run_until_stopped());
    let db = Db::open(&settings.database_url, settings.timeouts.db_acquire)
        .await
        .unwrap()
        .with_clock(clock.clone());
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        db,
        clock,
        settings,
        mailer,
        _dir: dir,
    }
}

/// A browser: keeps cookies, does not follow redirects (tests look at them).
pub fn browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(redirect::Policy::none())
        .build()
        .unwrap()
}

fn test_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| portal::services::passwords::hash_now(USER_PASSWORD).unwrap())
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, c: &Client, path: &str) -> Response {
        c.get(self.url(path)).send().await.unwrap()
    }

    pub async fn get_html(&self, c: &Client, path: &str) -> String {
        let r = self.get(c, path).await;
        assert_eq!(r.status(), StatusCode::OK, "GET {path}");
        r.text().await.unwrap()
    }

    /// The CSRF token of this browser's session, read from a form as a user's
    /// browser would.
    pub async fn csrf(&self, c: &Client) -> String {
        let html = self.get(c, "/admin/sign-in").await.text().await.unwrap();
        input_value(&html, "input[name=csrf_token]").expect("a CSRF token in the form")
    }

    /// Posts a form with this session's CSRF token.
    pub async fn post(&self, c: &Client, path: &str, fields: &[(&str, &str)]) -> Response {
        let token = self.csrf(c).await;
        self.post_with_token(c, path, &token, fields).await
    }

    pub async fn post_with_token(
        &self,
        c: &Client,
        path: &str,
        token: &str,
        fields: &[(&str, &str)],
    ) -> Response {
        let mut form: Vec<(&str, &str)> = vec![("csrf_token", token)];
        form.extend_from_slice(fields);
        c.post(self.url(path)).form(&form).send().await.unwrap()
    }

    pub async fn sign_in(&self, c: &Client, email: &str, password: &str) -> Response {
        self.post(
            c,
            "/admin/sign-in",
            &[("email", email), ("password", password)],
        )
        .await
    }

    /// A browser signed in as the first administrator.
    pub async fn admin(&self) -> Client {
        let c = browser();
        let r = self.sign_in(&c, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "admin signs in");
        c
    }

    /// Inserts an account straight into the store (fast set-up for lists).
    pub async fn insert_account(
        &self,
        email: &str,
        first: &str,
        last: &str,
        state: &str,
    ) -> String {
        let id = portal::domain::ids::new_id();
        let mut tx = self.db.begin_write().await.unwrap();
        store::accounts::insert(
            &mut tx,
            &store::accounts::NewAccountRow {
                id: &id,
                email,
                email_key: &email.to_lowercase(),
                first_name: first,
                last_name: last,
                password_hash: Some(test_hash()),
                state,
                registered_at: self.clock.now(),
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        id
    }

    pub async fn make_admin(&self, id: &str) {
        let mut tx = self.db.begin_write().await.unwrap();
        store::groups::add_member(&mut tx, &"administrators".into(), &id.into(), 0)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }

    /// A second administrator, signed in in its own browser.
    pub async fn second_admin(&self, email: &str) -> (String, Client) {
        let id = self
            .insert_account(email, "Second", "Admin", "active")
            .await;
        self.make_admin(&id).await;
        let c = browser();
        let r = self.sign_in(&c, email, USER_PASSWORD).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        (id, c)
    }

    /// Waits until the outbox holds nothing more to send: every message
    /// sent or failed (a message being sent is still queued until its
    /// result is recorded), so the test SMTP server has had all of them.
    pub async fn outbox_settled(&self) {
        wait_until("the outbox to settle", || async {
            let waiting: i64 = db_one!(
                &self.db,
                "SELECT count(*) FROM outbox WHERE state IN ('queued', 'retrying')"
            );
            waiting == 0
        })
        .await;
    }

    /// The n-th message (1-based) to arrive at `server`, and the path of its
    /// link that starts with `path` (e.g. "/confirm").
    pub async fn link_in(&self, server: &SmtpServer, n: usize, path: &str) -> (Mail, String) {
        let got = server.wait_for(n, Duration::from_secs(15)).await;
        let mail = Mail::parse(&got[n - 1].data);
        let start = format!("{}{path}/", self.address);
        let at = mail
            .text
            .find(&start)
            .unwrap_or_else(|| panic!("no {start} link in:\n{}", mail.text));
        let link: String = mail.text[at..]
            .chars()
            .take_while(|c| !c.is_whitespace())
            .collect();
        (mail, link.trim_start_matches(&self.address).to_owned())
    }

    /// Signs in to the developer portal.
    pub async fn portal_sign_in(&self, c: &Client, email: &str, password: &str) -> Response {
        self.post(c, "/sign-in", &[("email", email), ("password", password)])
            .await
    }

    /// An active developer, signed in to the portal in its own browser.
    pub async fn developer(&self, email: &str) -> (String, Client) {
        let id = self.insert_account(email, "Dev", "Eloper", "active").await;
        let c = browser();
        let r = self.portal_sign_in(&c, email, USER_PASSWORD).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "developer signs in");
        (id, c)
    }

    /// Adds a product through the console; `extra` are more form fields
    /// (e.g. `("approval_required", "on")`, `("subscriptions_limit", "1")`).
    /// Published, subscription required, granted to `groups`. Returns its id.
    pub async fn product(
        &self,
        admin: &Client,
        name: &str,
        groups: &[&str],
        extra: &[(&str, &str)],
    ) -> String {
        let mut form = vec![
            ("name", name),
            ("description", "An API"),
            ("terms", "Be nice"),
            ("subscription_required", "on"),
            ("published", "on"),
        ];
        form.extend_from_slice(extra);
        let r = self.post(admin, "/admin/products/add", &form).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "product added");
        let id = location(&r)
            .trim_start_matches("/admin/products/")
            .to_owned();
        for g in groups {
            let r = self
                .post(
                    admin,
                    &format!("/admin/products/{id}/access/add"),
                    &[("group", g)],
                )
                .await;
            assert_eq!(r.status(), StatusCode::SEE_OTHER, "granted to {g}");
        }
        id
    }

    /// Adds a custom group through the console; returns its id.
    pub async fn group(&self, admin: &Client, name: &str, members: &[&str]) -> String {
        let r = self
            .post(
                admin,
                "/admin/groups/add",
                &[("name", name), ("action", "create")],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "group added");
        let id = location(&r)
            .trim_start_matches("/admin/groups/")
            .trim_end_matches("/members")
            .to_owned();
        if !members.is_empty() {
            let fields: Vec<(&str, &str)> = members.iter().map(|m| ("ids", *m)).collect();
            let r = self
                .post(admin, &format!("/admin/groups/{id}/members/add"), &fields)
                .await;
            assert_eq!(r.status(), StatusCode::SEE_OTHER, "members added");
        }
        id
    }

    /// Subscribes on the portal; returns the response (303 on success).
    pub async fn subscribe(&self, c: &Client, product: &str, name: &str) -> Response {
        self.post(
            c,
            &format!("/products/{product}/subscribe"),
            &[("name", name)],
        )
        .await
    }

    /// The subscriptions of an account as stored: (id, state, primary key, secondary key).
    pub async fn subscriptions_of(&self, account: &str) -> Vec<(String, String, String, String)> {
        db_rows!(
            &self.db,
            "SELECT id, state, primary_key, secondary_key FROM subscriptions
             WHERE account_id = ? ORDER BY created_at, id",
            account
        )
    }

    /// Asks the gateway key check about `key` (in the header).
    pub async fn check_key(&self, key: &str) -> Response {
        Client::new()
            .get(self.url("/gateway/check"))
            .header("Ocp-Apim-Subscription-Key", key)
            .send()
            .await
            .unwrap()
    }

    pub async fn account_count(&self) -> i64 {
        db_one!(&self.db, "SELECT count(*) FROM accounts")
    }

    pub async fn id_of(&self, email: &str) -> Option<String> {
        db_opt!(
            &self.db,
            "SELECT id FROM accounts WHERE email_key = ?",
            email.to_lowercase()
        )
    }

    pub async fn state_of(&self, id: &str) -> Option<String> {
        db_opt!(&self.db, "SELECT state FROM accounts WHERE id = ?", id)
    }

    pub async fn audit_actions(&self) -> Vec<String> {
        db_all!(&self.db, "SELECT action FROM audit_log ORDER BY id")
    }
}

pub fn location(r: &Response) -> String {
    r.headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

pub fn input_value(html: &str, selector: &str) -> Option<String> {
    let doc = Html::parse_document(html);
    let sel = Selector::parse(selector).unwrap();
    doc.select(&sel)
        .next()
        .and_then(|e| e.value().attr("value").map(str::to_owned))
}

pub fn text_of(html: &str, selector: &str) -> Vec<String> {
    let doc = Html::parse_document(html);
    let sel = Selector::parse(selector).unwrap();
    doc.select(&sel)
        .map(|e| {
            e.text()
                .collect::<String>()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// Where the page's link with `rel="…"` goes (a pager's "next" or "prev").
pub fn link_rel(html: &str, rel: &str) -> Option<String> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse(&format!("a[rel={rel}]")).unwrap();
    doc.select(&sel)
        .next()
        .and_then(|a| a.value().attr("href"))
        .map(str::to_owned)
}

/// The visible message of the page (flash or alert).
pub fn flash(html: &str) -> String {
    text_of(html, ".flash").join(" ")
}

/// The `name=value` of the session cookie a response sets.
pub fn set_cookie(r: &Response) -> String {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("portal=") || v.starts_with("__Host-portal="))
        .map(|v| v.split(';').next().unwrap().to_owned())
        .expect("a session cookie")
}

/// Polls `condition` until it holds; panics naming `what` after 15 s.
pub async fn wait_until<F, Fut>(what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while !condition().await {
        assert!(
            std::time::Instant::now() < deadline,
            "waited 15 s for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// S-3 on a busy machine: how many wrong sign-ins of a burst that took
/// `elapsed` may be counted. Five are free. The clock counts whole
/// seconds, so the first wait (1 s) may be over at once; each later wait
/// (2 s, 4 s, …) lets one more through only if the burst outlasted it, less
/// a second of rounding (1, 3, 7 … seconds, one after the other). A count
/// kept per instance would let all of a burst of twelve through.
pub fn throttle_allows(elapsed: Duration) -> std::ops::RangeInclusive<i64> {
    let (mut allowed, mut needed, mut wait) = (6, 0.0, 2.0);
    loop {
        needed += wait - 1.0;
        if elapsed.as_secs_f64() <= needed {
            return 5..=allowed;
        }
        allowed += 1;
        wait *= 2.0;
    }
}
