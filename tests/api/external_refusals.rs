//! S-22, X2, G7: every way a sign-in through an outside provider is
//! refused, and external memberships that nobody edits by hand.

use reqwest::{Client, Method, StatusCode};
use serde_json::json;

use crate::helpers::*;
use crate::management_api::Api;
use crate::outside_provider::*;

/// `url` with its query parameter `name` set to `value`.
fn with_param(url: &str, name: &str, value: &str) -> String {
    let mut u = url::Url::parse(url).unwrap();
    let pairs: Vec<(String, String)> = u
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .filter(|(k, _)| k != name)
        .collect();
    u.query_pairs_mut()
        .clear()
        .extend_pairs(pairs)
        .append_pair(name, value);
    u.to_string()
}

fn param(url: &str, name: &str) -> String {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap()
}

async fn signed_in(app: &TestApp, c: &Client) -> bool {
    app.get(c, "/profile").await.status() == StatusCode::OK
}

async fn set_up() -> (TestApp, Client, OutsideProvider, String) {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let idp = OutsideProvider::start(GroupsIn::IdToken).await;
    let provider = add_provider(&app, &admin, &idp, true).await;
    idp.person("ada", "ada@partner.example", true, json!(["team-a"]))
        .await;
    (app, admin, idp, provider)
}

#[tokio::test]
async fn a_wrong_state_or_a_replayed_code_signs_nobody_in() {
    let (app, _, _idp, provider) = set_up().await;

    let c = browser();
    let callback = to_callback(&app, &c, &provider, "ada").await;
    let r = c
        .get(with_param(&callback, "state", "not-the-state"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("did not complete"));
    assert!(!signed_in(&app, &c).await);
    // The state served once: the right answer now comes too late.
    let r = c.get(&callback).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.id_of("ada@partner.example").await, None);

    // A code used once, presented again with a fresh state.
    let c = browser();
    let first = to_callback(&app, &c, &provider, "ada").await;
    let r = c.get(&first).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "the first use signs in");
    let other = browser();
    let second = to_callback(&app, &other, &provider, "ada").await;
    let replayed = with_param(&second, "code", &param(&first, "code"));
    let r = other.get(&replayed).send().await.unwrap();
    assert_eq!(
        r.status(),
        StatusCode::BAD_REQUEST,
        "the provider refuses the code again"
    );
    assert!(!signed_in(&app, &other).await);

    // The provider's own error (the person cancelled there).
    let c = browser();
    let callback = to_callback(&app, &c, &provider, "ada").await;
    let denied = with_param(&callback, "error", "access_denied");
    let denied = with_param(&denied, "code", "");
    let r = c.get(&denied).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(!signed_in(&app, &c).await);
}

#[tokio::test]
async fn id_tokens_with_another_key_issuer_audience_or_past_expiry_are_refused() {
    let (app, _, idp, provider) = set_up().await;
    for (what, spec) in [
        ("signed by another key", json!({ "other_key": true })),
        ("another issuer", json!({ "iss": "http://127.0.0.1:1" })),
        ("another audience", json!({ "aud": "someone-else" })),
        ("expired", json!({ "exp_offset": -120 })),
    ] {
        idp.tamper(spec).await;
        let c = browser();
        let r = sign_in_through(&app, &c, &provider, "ada").await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{what}");
        assert!(!signed_in(&app, &c).await, "{what}");
    }
    assert_eq!(
        app.id_of("ada@partner.example").await,
        None,
        "no account made"
    );

    idp.tamper(json!({})).await;
    let c = browser();
    let r = sign_in_through(&app, &c, &provider, "ada").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "a right token signs in");
    assert!(signed_in(&app, &c).await);
}

#[tokio::test]
async fn an_unverified_email_links_nothing_and_blocked_accounts_stay_out() {
    let (app, admin, idp, provider) = set_up().await;
    let (dev, _) = app.developer("grace@partner.example").await;

    // The provider does not vouch for the address: no link, no new account.
    idp.person("grace-sub", "grace@partner.example", false, json!([]))
        .await;
    let r = sign_in_through(&app, &browser(), &provider, "grace-sub").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    idp.person("eve-sub", "eve@partner.example", false, json!([]))
        .await;
    let r = sign_in_through(&app, &browser(), &provider, "eve-sub").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.id_of("eve@partner.example").await, None);
    let links: i64 = db_one!(&app.db, "SELECT count(*) FROM identities");
    assert_eq!(links, 0);

    // Linked once verified; then blocked: refused as everywhere else.
    idp.person("grace-sub", "grace@partner.example", true, json!([]))
        .await;
    let r = sign_in_through(&app, &browser(), &provider, "grace-sub").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = app
        .post(&admin, &format!("/admin/users/{dev}/block"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let c = browser();
    let r = sign_in_through(&app, &c, &provider, "grace-sub").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("blocked"));
    assert!(!signed_in(&app, &c).await);
}

#[tokio::test]
async fn a_disabled_provider_or_one_that_makes_no_accounts_signs_nobody_in() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let idp = OutsideProvider::start(GroupsIn::IdToken).await;
    let provider = add_provider(&app, &admin, &idp, false).await;
    idp.person("new", "new@partner.example", true, json!([]))
        .await;
    let r = sign_in_through(&app, &browser(), &provider, "new").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "creation is off");
    assert_eq!(app.id_of("new@partner.example").await, None);

    // Started while enabled, returned after it was disabled.
    let c = browser();
    let callback = to_callback(&app, &c, &provider, "new").await;
    let r = app
        .post(
            &admin,
            &format!("/admin/identity-providers/{provider}"),
            &[
                ("name", "Partner Directory"),
                ("issuer", idp.issuer.as_str()),
                ("client_id", CLIENT_ID),
                ("scopes", "openid email profile"),
                ("create_accounts", "on"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "disabled");
    let r = c.get(&callback).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = app
        .get(&browser(), &format!("/sign-in/external/{provider}"))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let html = app.get_html(&browser(), "/sign-in").await;
    assert!(!html.contains("Sign in with Partner Directory"));
    assert_eq!(app.id_of("new@partner.example").await, None);
}

#[tokio::test]
async fn nobody_edits_external_memberships_by_hand_or_by_the_api() {
    let (app, admin, _idp, provider) = set_up().await;
    let r = sign_in_through(&app, &browser(), &provider, "ada").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let ada = app.id_of("ada@partner.example").await.unwrap();
    let group: String = db_one!(
        &app.db,
        "SELECT id FROM groups WHERE external_id = 'team-a'"
    );
    let (other, _) = app.developer("bob@example.com").await;

    let r = app
        .post(
            &admin,
            &format!("/admin/groups/{group}/members/add"),
            &[("ids", &other)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app
        .post(
            &admin,
            &format!("/admin/groups/{group}/members/remove"),
            &[("ids", &ada)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app
        .post(
            &admin,
            "/admin/users/toggle",
            &[("ids", &other), ("group", &group), ("scope", "page")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    let api = Api::new(&app).await;
    let (s, _, _) = api
        .send(
            Method::PUT,
            &format!("/groups/{group}/users/{other}"),
            None,
            None,
        )
        .await;
    assert!(s.is_client_error(), "API add: {s}");
    let (s, _, _) = api
        .send(
            Method::DELETE,
            &format!("/groups/{group}/users/{ada}"),
            None,
            None,
        )
        .await;
    assert!(s.is_client_error(), "API remove: {s}");
    let (s, v) = api.get(&format!("/groups/{group}")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["properties"]["type"], "external");

    let members: Vec<String> = db_all!(
        &app.db,
        "SELECT account_id FROM memberships WHERE group_id = ?",
        &group
    );
    assert_eq!(members, [ada], "only the provider's claim decides");
}
