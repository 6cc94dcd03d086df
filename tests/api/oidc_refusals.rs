//! What the OpenID provider refuses (issue 14, S-21): bad authorization
//! requests, codes and refresh tokens used wrongly, clients that fail to
//! authenticate, and accounts that may no longer sign in.

use reqwest::{Client, Response, StatusCode};
use url::Url;

use crate::helpers::*;
use crate::oidc_client::*;

/// Asserts the 303 back to the application with `error`, the state as
/// sent, the issuer, and no code.
fn assert_error_redirect(app: &TestApp, r: &Response, req: &Authorize, error: &str) {
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{:?}", r.headers());
    let to = Url::parse(&location(r)).expect("an absolute redirect");
    assert_eq!(to.as_str().split('?').next(), Some(REDIRECT_URI), "{to}");
    assert_eq!(param(&to, "error").as_deref(), Some(error), "{to}");
    assert_eq!(param(&to, "state").as_deref(), Some(req.state.as_str()));
    assert_eq!(param(&to, "iss").as_deref(), Some(app.address.as_str()));
    assert_eq!(param(&to, "code"), None);
}

/// An app with a confidential application and a developer signed in.
async fn set_up() -> (TestApp, Client, Registered, String, Client) {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let reg = register(&app, &admin, &NewApp::confidential("Team Wiki")).await;
    let (dev_id, dev) = app.developer("dev@example.org").await;
    (app, admin, reg, dev_id, dev)
}

#[tokio::test]
async fn an_unregistered_redirect_uri_or_unknown_client_gets_a_page_not_a_redirect() {
    let (app, _, reg, _, dev) = set_up().await;
    for uri in [
        "https://client.example.com/other",
        "https://client.example.com/cb/",
        "https://client.example.com/cb?x=1",
        "https://evil.example/cb",
    ] {
        let mut req = Authorize::new(&reg);
        req.redirect_uri = uri.into();
        let r = app.get(&dev, &req.path()).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{uri}");
        assert!(r.headers().get("location").is_none(), "{uri}: no redirect");
        assert!(r.text().await.unwrap().contains("<html"), "an HTML page");
    }
    for id in ["0123456789abcdef", ""] {
        let mut req = Authorize::new(&reg);
        req.client_id = id.into();
        let r = app.get(&dev, &req.path()).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "client {id:?}");
        assert!(r.headers().get("location").is_none(), "client {id:?}");
    }
}

#[tokio::test]
async fn a_reused_code_is_refused_and_revokes_what_it_gave() {
    let (app, _, reg, _, dev) = set_up().await;
    let req = Authorize::new(&reg);
    let code = code_for(&app, &dev, &req).await;
    let first = exchange(&app, auth_of(&reg), &req, &code).await;
    assert_eq!(first.status, StatusCode::OK, "{first:?}");
    exchange(&app, auth_of(&reg), &req, &code)
        .await
        .assert_error("invalid_grant");
    refresh(&app, auth_of(&reg), first.str("refresh_token"))
        .await
        .assert_error("invalid_grant");
}

#[tokio::test]
async fn a_code_is_bound_to_its_client() {
    let (app, admin, reg, _, dev) = set_up().await;
    let other = register(&app, &admin, &NewApp::confidential("Other")).await;
    let req = Authorize::new(&reg);
    let code = code_for(&app, &dev, &req).await;
    exchange(&app, auth_of(&other), &req, &code)
        .await
        .assert_error("invalid_grant");
}

#[tokio::test]
async fn a_missing_or_wrong_pkce_verifier_is_refused() {
    let (app, _, reg, _, dev) = set_up().await;
    let req = Authorize::new(&reg);
    let code = code_for(&app, &dev, &req).await;
    let fields = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT_URI),
    ];
    token(&app, auth_of(&reg), &fields)
        .await
        .assert_error("invalid_grant");

    let req = Authorize::new(&reg);
    let code = code_for(&app, &dev, &req).await;
    let wrong = Pkce::generate().verifier;
    let fields = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", wrong.as_str()),
    ];
    token(&app, auth_of(&reg), &fields)
        .await
        .assert_error("invalid_grant");
}

#[tokio::test]
async fn a_public_client_must_send_a_code_challenge() {
    let (app, admin, _, _, dev) = set_up().await;
    let new = NewApp {
        trusted: true,
        ..NewApp::public("Mobile")
    };
    let reg = register(&app, &admin, &new).await;
    let mut req = Authorize::new(&reg);
    req.pkce = None;
    let r = app.get(&dev, &req.path()).await;
    assert_error_redirect(&app, &r, &req, "invalid_request");
}

#[tokio::test]
async fn a_blocked_account_loses_its_tokens() {
    let (app, admin, reg, dev_id, dev) = set_up().await;
    let (_, t) = sign_in(&app, &dev, &reg).await;
    let access = t.str("access_token");
    assert_eq!(userinfo(&app, access).await.status, StatusCode::OK);

    let r = app
        .post(&admin, &format!("/admin/users/{dev_id}/block"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    refresh(&app, auth_of(&reg), t.str("refresh_token"))
        .await
        .assert_error("invalid_grant");
    assert_invalid_token(&userinfo(&app, access).await);
}

#[tokio::test]
async fn a_password_change_ends_refresh_tokens() {
    let (app, _, reg, _, dev) = set_up().await;
    let (_, t) = sign_in(&app, &dev, &reg).await;
    let new_password = "saffron glacier kettle 19";
    let r = app
        .post(
            &dev,
            "/profile/password",
            &[
                ("current_password", USER_PASSWORD),
                ("password", new_password),
                ("confirm", new_password),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    refresh(&app, auth_of(&reg), t.str("refresh_token"))
        .await
        .assert_error("invalid_grant");
    assert_invalid_token(&userinfo(&app, t.str("access_token")).await);
}

#[tokio::test]
async fn a_reused_refresh_token_revokes_the_whole_chain() {
    let (app, _, reg, _, dev) = set_up().await;
    let (_, t) = sign_in(&app, &dev, &reg).await;
    let r1 = t.str("refresh_token");
    let t2 = refresh(&app, auth_of(&reg), r1).await;
    assert_eq!(t2.status, StatusCode::OK, "{t2:?}");
    let r2 = t2.str("refresh_token");
    assert_ne!(r1, r2, "refresh tokens rotate");
    refresh(&app, auth_of(&reg), r1)
        .await
        .assert_error("invalid_grant");
    refresh(&app, auth_of(&reg), r2)
        .await
        .assert_error("invalid_grant");
}

#[tokio::test]
async fn a_code_expires_after_60_seconds() {
    let (app, _, reg, _, dev) = set_up().await;
    let req = Authorize::new(&reg);
    let code = code_for(&app, &dev, &req).await;
    app.clock.advance(61);
    exchange(&app, auth_of(&reg), &req, &code)
        .await
        .assert_error("invalid_grant");
}

fn assert_invalid_client(a: &Answer, basic: bool) {
    assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{a:?}");
    assert_eq!(a.body["error"], "invalid_client", "{a:?}");
    if basic {
        let w = a.www_authenticate.as_deref().unwrap_or("");
        assert!(w.starts_with("Basic"), "WWW-Authenticate: {w:?}");
    }
}

#[tokio::test]
async fn unknown_clients_and_wrong_secrets_are_invalid_client() {
    let (app, _, reg, _, dev) = set_up().await;
    let req = Authorize::new(&reg);
    let code = code_for(&app, &dev, &req).await;
    let id = reg.client_id.as_str();
    let unknown = "0123456789abcdef";
    let wrong = "portal_cs_not-the-secret";
    for (auth, basic) in [
        (Auth::Basic(unknown, wrong), true),
        (Auth::Post(unknown, wrong), false),
        (Auth::Basic(id, wrong), true),
        (Auth::Post(id, wrong), false),
        (Auth::Public(unknown), false),
        // A confidential application cannot leave its secret out.
        (Auth::Public(id), false),
    ] {
        assert_invalid_client(&exchange(&app, auth, &req, &code).await, basic);
    }
}

#[tokio::test]
async fn an_account_outside_who_may_sign_in_is_denied() {
    let (app, admin, _, _, dev) = set_up().await;
    let (member_id, member) = app.developer("member@example.org").await;
    let partners = app.group(&admin, "Partners", &[&member_id]).await;
    let new = NewApp {
        sign_in_groups: &[&partners],
        ..NewApp::confidential("Partner Hub")
    };
    let reg = register(&app, &admin, &new).await;

    let req = Authorize::new(&reg);
    let r = app.get(&dev, &req.path()).await;
    assert_error_redirect(&app, &r, &req, "access_denied");
    // A member signs in.
    sign_in(&app, &member, &reg).await;
}

#[tokio::test]
async fn prompt_none_without_a_portal_session_answers_login_required() {
    let (app, _, reg, _, _) = set_up().await;
    let mut req = Authorize::new(&reg);
    req.prompt = Some("none".into());
    let r = app.get(&browser(), &req.path()).await;
    assert_error_redirect(&app, &r, &req, "login_required");
}

#[tokio::test]
async fn deny_on_the_consent_page_answers_access_denied() {
    let (app, _, reg, _, dev) = set_up().await;
    let req = Authorize::new(&reg);
    let r = app.get(&dev, &req.path()).await;
    assert_eq!(r.status(), StatusCode::OK, "the consent page");
    let html = r.text().await.unwrap();
    let r = consent(&app, &dev, &html, "deny").await;
    assert_error_redirect(&app, &r, &req, "access_denied");
}

#[tokio::test]
async fn a_code_is_bound_to_its_redirect_uri() {
    let (app, admin, _, _, dev) = set_up().await;
    let new = NewApp {
        redirect_uris: "https://client.example.com/cb\nhttps://client.example.com/other",
        ..NewApp::confidential("Two Doors")
    };
    let reg = register(&app, &admin, &new).await;
    let req = Authorize::new(&reg);
    let code = code_for(&app, &dev, &req).await;
    let fields = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", "https://client.example.com/other"),
        ("code_verifier", req.verifier()),
    ];
    token(&app, auth_of(&reg), &fields)
        .await
        .assert_error("invalid_grant");
}

#[tokio::test]
async fn the_token_endpoint_refuses_other_grant_types() {
    let (app, _, reg, _, _) = set_up().await;
    let fields = [
        ("grant_type", "password"),
        ("username", "dev@example.org"),
        ("password", USER_PASSWORD),
    ];
    token(&app, auth_of(&reg), &fields)
        .await
        .assert_error("unsupported_grant_type");
}

#[tokio::test]
async fn a_request_without_the_openid_scope_is_refused() {
    let (app, _, reg, _, dev) = set_up().await;
    let mut req = Authorize::new(&reg);
    req.scope = "email profile".into();
    let r = app.get(&dev, &req.path()).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = Url::parse(&location(&r)).unwrap();
    assert!(param(&to, "error").is_some(), "{to}");
    assert_eq!(param(&to, "code"), None);
    assert_eq!(param(&to, "state").as_deref(), Some(req.state.as_str()));
}

#[tokio::test]
async fn userinfo_refuses_a_missing_or_made_up_token() {
    let (app, _, _, _, _) = set_up().await;
    assert_invalid_token(&userinfo(&app, "made-up").await);
    let r = Client::new()
        .get(app.url("/oidc/userinfo"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.headers().get("www-authenticate").is_some());
}

#[tokio::test]
async fn the_consent_form_needs_the_csrf_token() {
    let (app, _, reg, _, dev) = set_up().await;
    let req = Authorize::new(&reg);
    let html = app.get_html(&dev, &req.path()).await;
    let mut fields: Vec<(String, String)> = hidden_fields(&html, "/oidc/authorize")
        .into_iter()
        .filter(|(k, _)| k != "csrf_token")
        .collect();
    fields.push(("decision".into(), "allow".into()));
    let r = dev
        .post(app.url("/oidc/authorize"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert!(!location(&r).contains("code="), "{:?}", r.headers());
    assert!(r.status().is_client_error(), "{}", r.status());
}

#[tokio::test]
async fn a_refresh_token_is_bound_to_its_client() {
    let (app, admin, reg, _, dev) = set_up().await;
    let other = register(&app, &admin, &NewApp::confidential("Other")).await;
    let (_, t) = sign_in(&app, &dev, &reg).await;
    refresh(&app, auth_of(&other), t.str("refresh_token"))
        .await
        .assert_error("invalid_grant");
}

#[tokio::test]
async fn an_expired_access_token_is_refused() {
    let (app, _, reg, _, dev) = set_up().await;
    let (_, t) = sign_in(&app, &dev, &reg).await;
    let lifetime = t.body["expires_in"].as_i64().unwrap();
    app.clock.advance(lifetime + 1);
    assert_invalid_token(&userinfo(&app, t.str("access_token")).await);
}
