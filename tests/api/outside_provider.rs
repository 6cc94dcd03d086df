//! An outside OpenID provider for the external sign-in tests: the certified
//! `oidc-provider` package (tests/browser/idp/server.mjs) in a node process
//! of its own, driven through its control API; and the code flow through
//! it, as a browser without JavaScript would follow it.

use std::process::Stdio;

use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::helpers::*;

pub const CLIENT_ID: &str = "portal";
pub const CLIENT_SECRET: &str = "the-client-secret-the-provider-gave-Portal";

pub struct OutsideProvider {
    pub issuer: String,
    control: String,
    http: Client,
    _child: Child,
}

/// Where the provider puts the groups claim.
#[derive(Clone, Copy, Debug)]
pub enum GroupsIn {
    IdToken,
    UserInfo,
}

impl OutsideProvider {
    pub async fn start(groups_in: GroupsIn) -> Self {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/idp/server.mjs");
        let mode = match groups_in {
            GroupsIn::IdToken => "id_token",
            GroupsIn::UserInfo => "userinfo",
        };
        // stdin stays a pipe: the provider exits when this test process does.
        let mut child = Command::new("node")
            .args([script, "--port", "0", "--groups-in", mode])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs the outside provider (tests/run.sh installs node and its packages)");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let line = tokio::time::timeout(std::time::Duration::from_secs(20), lines.next_line())
            .await
            .expect("the outside provider starts within 20 s")
            .unwrap()
            .expect("the outside provider prints where it listens");
        let started: Value = serde_json::from_str(&line).unwrap();
        Self {
            issuer: started["issuer"].as_str().unwrap().to_owned(),
            control: started["control"].as_str().unwrap().to_owned(),
            http: Client::new(),
            _child: child,
        }
    }

    async fn control(&self, method: reqwest::Method, path: &str, body: Value) {
        let r = self
            .http
            .request(method, format!("{}{path}", self.control))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "control {path}: {}", r.status());
    }

    /// Registers Portal as a client of this provider, at `callback`.
    pub async fn register(&self, callback: &str) {
        self.control(
            reqwest::Method::POST,
            "/clients",
            json!({ "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uris": [callback] }),
        )
        .await;
    }

    /// Creates or replaces a person at the provider.
    pub async fn person(&self, sub: &str, email: &str, verified: bool, groups: Value) {
        self.control(
            reqwest::Method::PUT,
            &format!("/accounts/{sub}"),
            json!({ "email": email, "email_verified": verified, "name": "Ada Lovelace", "groups": groups }),
        )
        .await;
    }

    /// Makes the token endpoint's ID tokens wrong in the way `spec` says
    /// (`{}`: right again).
    pub async fn tamper(&self, spec: Value) {
        self.control(reqwest::Method::POST, "/tamper", spec).await;
    }
}

/// Adds the provider in the console (creating accounts on first sign-in
/// unless `create` is false); its id. Registers the callback URL the
/// provider's page shows at the provider.
pub async fn add_provider(
    app: &TestApp,
    admin: &Client,
    idp: &OutsideProvider,
    create: bool,
) -> String {
    let mut form = vec![
        ("name", "Partner Directory"),
        ("issuer", idp.issuer.as_str()),
        ("client_id", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
        ("scopes", "openid email profile"),
        ("groups_claim", "groups"),
        ("enabled", "on"),
    ];
    if create {
        form.push(("create_accounts", "on"));
    }
    let r = app
        .post(admin, "/admin/identity-providers/add", &form)
        .await;
    if r.status() != StatusCode::SEE_OTHER {
        panic!(
            "provider not added: {}",
            text_of(&r.text().await.unwrap(), "p.error").join(" | ")
        );
    }
    let page = location(&r);
    let id = page
        .trim_start_matches("/admin/identity-providers/")
        .to_owned();
    let html = app.get_html(admin, &page).await;
    let callback = input_value(&html, "#callback").expect("the callback URL is shown");
    assert_eq!(
        callback,
        app.url(&format!("/sign-in/external/{id}/callback"))
    );
    idp.register(&callback).await;
    id
}

/// The provider's answer to a sign-in started on Portal: follows the
/// redirects through the provider, signing in there as `login`, and stops
/// at Portal's callback URL (not yet visited).
pub async fn to_callback(app: &TestApp, c: &Client, provider: &str, login: &str) -> String {
    let r = app.get(c, &format!("/sign-in/external/{provider}")).await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "the start sends to the provider"
    );
    let mut next = location(&r);
    for _ in 0..10 {
        if next.starts_with(&app.address) {
            return next;
        }
        let r = c.get(&next).send().await.unwrap();
        if r.status() == StatusCode::OK && next.contains("/interaction/") {
            // The provider's sign-in form.
            let action = format!("{}/login", next.trim_end_matches('/'));
            let r = c
                .post(&action)
                .form(&[("login", login)])
                .send()
                .await
                .unwrap();
            assert_eq!(
                r.status(),
                StatusCode::SEE_OTHER,
                "signed in at the provider"
            );
            next = absolute(&r, &next);
            continue;
        }
        assert!(r.status().is_redirection(), "{next}: {}", r.status());
        next = absolute(&r, &next);
    }
    panic!("the provider never sent back to Portal");
}

fn absolute(r: &Response, base: &str) -> String {
    url::Url::parse(base)
        .unwrap()
        .join(&location(r))
        .unwrap()
        .to_string()
}

/// A whole sign-in through the provider; Portal's answer to the callback.
pub async fn sign_in_through(app: &TestApp, c: &Client, provider: &str, login: &str) -> Response {
    let callback = to_callback(app, c, provider, login).await;
    c.get(&callback).send().await.unwrap()
}
