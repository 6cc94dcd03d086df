//! Portal as an OpenID Connect provider (issue 14): the code flow as a
//! relying party sees it, ID tokens checked against the JWKS, group claims,
//! key rotation, and the console's Applications tab. Refusals are in
//! oidc_refusals.rs.

use reqwest::{Client, StatusCode};
use serde_json::Value;
use url::Url;

use crate::helpers::*;
use crate::oidc_client::*;

#[tokio::test]
async fn code_flow_gives_an_id_token_that_verifies_against_the_jwks() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let reg = register(&app, &admin, &NewApp::confidential("Team Wiki")).await;
    let (dev_id, dev) = app.developer("dev@example.org").await;

    let discovery: Value = Client::new()
        .get(app.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(discovery["issuer"], app.address.as_str());
    assert_eq!(discovery["jwks_uri"], app.url("/oidc/jwks").as_str());

    // First time: the consent page names the application.
    let mut req = Authorize::new(&reg);
    req.state = "a state/with spaces & symbols=?".into();
    let r = app.get(&dev, &req.path()).await;
    assert_eq!(r.status(), StatusCode::OK, "the consent page");
    let html = r.text().await.unwrap();
    assert!(
        text_of(&html, "h1")
            .iter()
            .any(|h| h == "Allow Team Wiki to use your Portal account?"),
        "{html}"
    );
    let buttons = text_of(&html, "button");
    assert!(buttons.iter().any(|b| b == "Allow") && buttons.iter().any(|b| b == "Deny"));

    let r = consent(&app, &dev, &html, "allow").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let back = Url::parse(&location(&r)).unwrap();
    assert!(back.as_str().starts_with(REDIRECT_URI), "{back}");
    assert_eq!(param(&back, "state").as_deref(), Some(req.state.as_str()));
    assert_eq!(param(&back, "iss").as_deref(), Some(app.address.as_str()));
    let code = param(&back, "code").expect("a code");

    let t = exchange(&app, auth_of(&reg), &req, &code).await;
    assert_eq!(t.status, StatusCode::OK, "{t:?}");
    assert_eq!(t.body["token_type"], "Bearer");
    assert!(t.body["expires_in"].as_i64().unwrap() > 0);
    assert!(!t.str("refresh_token").is_empty());
    assert!(t.str("scope").split(' ').any(|s| s == "openid"));
    let id = id_token(&app, t.str("id_token"), &reg.client_id, Some(&req.nonce)).await;
    assert_eq!(id.header["alg"], "RS256");
    let c = &id.claims;
    assert_eq!(c["sub"], dev_id.as_str());
    assert_eq!(c["email"], "dev@example.org");
    assert!(c["email_verified"].is_boolean(), "{c}");
    assert_eq!(c["name"], "Dev Eloper");
    assert_eq!(c["given_name"], "Dev");
    assert_eq!(c["family_name"], "Eloper");
    assert_eq!(groups(c), ["Developers"]);

    let u = userinfo(&app, t.str("access_token")).await;
    assert_eq!(u.status, StatusCode::OK, "{u:?}");
    assert_eq!(u.body["sub"], dev_id.as_str());
    assert_eq!(u.body["email"], "dev@example.org");
    assert_eq!(groups(&u.body), ["Developers"]);

    // The consent is remembered; client_secret_post works as well as Basic.
    let req = Authorize::new(&reg);
    let r = app.get(&dev, &req.path()).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "no second consent page");
    let back = Url::parse(&location(&r)).unwrap();
    assert_eq!(param(&back, "state").as_deref(), Some(req.state.as_str()));
    let secret = reg.secret.as_deref().unwrap();
    let code = param(&back, "code").expect("a code");
    let t = exchange(&app, Auth::Post(&reg.client_id, secret), &req, &code).await;
    assert_eq!(t.status, StatusCode::OK, "{t:?}");
    id_token(&app, t.str("id_token"), &reg.client_id, Some(&req.nonce)).await;
}

#[tokio::test]
async fn a_trusted_public_application_skips_consent_and_proves_itself_with_pkce() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let new = NewApp {
        trusted: true,
        ..NewApp::public("Mobile")
    };
    let reg = register(&app, &admin, &new).await;
    let (dev_id, dev) = app.developer("dev@example.org").await;

    let req = Authorize::new(&reg);
    let r = app.get(&dev, &req.path()).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "no consent page");
    let back = Url::parse(&location(&r)).unwrap();
    assert!(back.as_str().starts_with(REDIRECT_URI), "{back}");
    assert_eq!(param(&back, "state").as_deref(), Some(req.state.as_str()));
    let code = param(&back, "code").expect("a code");
    let t = exchange(&app, Auth::Public(&reg.client_id), &req, &code).await;
    assert_eq!(t.status, StatusCode::OK, "{t:?}");
    let id = id_token(&app, t.str("id_token"), &reg.client_id, Some(&req.nonce)).await;
    assert_eq!(id.claims["sub"], dev_id.as_str());
    // Its refresh token works with the client id alone.
    let t = refresh(&app, Auth::Public(&reg.client_id), t.str("refresh_token")).await;
    assert_eq!(t.status, StatusCode::OK, "{t:?}");
}

#[tokio::test]
async fn the_groups_claim_follows_membership_changes() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let reg = register(&app, &admin, &NewApp::confidential("Team Wiki")).await;
    let (dev_id, dev) = app.developer("dev@example.org").await;
    let partners = app.group(&admin, "Partners", &[&dev_id]).await;

    let (req, t) = sign_in(&app, &dev, &reg).await;
    let id = id_token(&app, t.str("id_token"), &reg.client_id, Some(&req.nonce)).await;
    let g = groups(&id.claims);
    assert!(g.contains(&"Partners".to_owned()), "{g:?}");
    assert!(g.contains(&"Developers".to_owned()), "{g:?}");

    let r = app
        .post(
            &admin,
            &format!("/admin/groups/{partners}/members/remove"),
            &[("ids", &dev_id)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    let t = refresh(&app, auth_of(&reg), t.str("refresh_token")).await;
    assert_eq!(t.status, StatusCode::OK, "{t:?}");
    let id = id_token(&app, t.str("id_token"), &reg.client_id, None).await;
    assert_eq!(groups(&id.claims), ["Developers"]);
    let u = userinfo(&app, t.str("access_token")).await;
    assert_eq!(groups(&u.body), ["Developers"]);
}

#[tokio::test]
async fn groups_in_tokens_chosen_names_only_the_ticked_groups() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (dev_id, dev) = app.developer("dev@example.org").await;
    let partners = app.group(&admin, "Partners", &[&dev_id]).await;
    app.group(&admin, "Beta Testers", &[&dev_id]).await;
    let new = NewApp {
        token_groups: &[&partners],
        ..NewApp::confidential("Team Wiki")
    };
    let reg = register(&app, &admin, &new).await;

    let (req, t) = sign_in(&app, &dev, &reg).await;
    let id = id_token(&app, t.str("id_token"), &reg.client_id, Some(&req.nonce)).await;
    assert_eq!(groups(&id.claims), ["Partners"]);

    // All groups, for an application that leaves the setting alone.
    let all = register(&app, &admin, &NewApp::confidential("Everything")).await;
    let (req, t) = sign_in(&app, &dev, &all).await;
    let id = id_token(&app, t.str("id_token"), &all.client_id, Some(&req.nonce)).await;
    let mut g = groups(&id.claims);
    g.sort();
    assert_eq!(g, ["Beta Testers", "Developers", "Partners"]);
}

#[tokio::test]
async fn tokens_verify_before_and_after_a_key_rotation() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let reg = register(&app, &admin, &NewApp::confidential("Team Wiki")).await;
    let (_, dev) = app.developer("dev@example.org").await;

    let (req, before) = sign_in(&app, &dev, &reg).await;
    let old = id_token(
        &app,
        before.str("id_token"),
        &reg.client_id,
        Some(&req.nonce),
    )
    .await;
    let old_kid = old.header["kid"].as_str().unwrap().to_owned();

    let r = app
        .post(&admin, "/admin/applications/rotate-keys", &[])
        .await;
    assert!(
        r.status() == StatusCode::SEE_OTHER || r.status() == StatusCode::OK,
        "rotate: {}",
        r.status()
    );
    let keys = jwks(&app).await;
    assert!(
        keys.iter().any(|k| k["kid"] == old_kid.as_str()),
        "the old key stays published: {keys:?}"
    );
    // A token signed before the rotation still verifies.
    id_token(
        &app,
        before.str("id_token"),
        &reg.client_id,
        Some(&req.nonce),
    )
    .await;

    let (req, after) = sign_in(&app, &dev, &reg).await;
    let new = id_token(
        &app,
        after.str("id_token"),
        &reg.client_id,
        Some(&req.nonce),
    )
    .await;
    assert_eq!(new.header["alg"], "RS256");
    assert_ne!(new.header["kid"], old_kid.as_str(), "a new key signs");
    // Refreshing the old chain gives a token signed with the new key too.
    let t = refresh(&app, auth_of(&reg), before.str("refresh_token")).await;
    assert_eq!(t.status, StatusCode::OK, "{t:?}");
    let refreshed = id_token(&app, t.str("id_token"), &reg.client_id, None).await;
    assert_eq!(refreshed.header["kid"], new.header["kid"]);
}

#[tokio::test]
async fn an_es256_application_gets_es256_id_tokens() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let new = NewApp {
        alg: "ES256",
        ..NewApp::confidential("Edge")
    };
    let reg = register(&app, &admin, &new).await;
    let (dev_id, dev) = app.developer("dev@example.org").await;
    let (req, t) = sign_in(&app, &dev, &reg).await;
    let id = id_token(&app, t.str("id_token"), &reg.client_id, Some(&req.nonce)).await;
    assert_eq!(id.header["alg"], "ES256");
    assert_eq!(id.claims["sub"], dev_id.as_str());
    let keys = jwks(&app).await;
    assert!(
        keys.iter()
            .any(|k| k["kty"] == "RSA" && k["kid"].is_string())
    );
    assert!(
        keys.iter()
            .any(|k| k["kty"] == "EC" && k["kid"].is_string())
    );
}

#[tokio::test]
async fn console_changes_are_audited() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let reg = register(&app, &admin, &NewApp::confidential("Team Wiki")).await;
    let page = format!("/admin/applications/{}", reg.client_id);
    let list = app.get_html(&admin, "/admin/applications").await;
    assert!(
        text_of(&list, "a").iter().any(|a| a == "Team Wiki"),
        "{list}"
    );
    assert!(list.contains(&reg.client_id));

    let renamed = NewApp {
        trusted: true,
        ..NewApp::confidential("Team Wiki 2")
    };
    let r = app.post(&admin, &page, &renamed.fields()).await;
    assert!(
        r.status() == StatusCode::SEE_OTHER || r.status() == StatusCode::OK,
        "update: {}",
        r.status()
    );
    assert!(app.get_html(&admin, &page).await.contains("Team Wiki 2"));

    let r = app.post(&admin, &format!("{page}/secret"), &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    let secret = input_value(&html, "#client-secret").expect("the new secret");
    assert_ne!(Some(&secret), reg.secret.as_ref());

    let r = app
        .post(&admin, "/admin/applications/rotate-keys", &[])
        .await;
    assert!(r.status() == StatusCode::SEE_OTHER || r.status() == StatusCode::OK);

    assert_eq!(
        app.get(&admin, &format!("{page}/delete")).await.status(),
        200
    );
    let r = app.post(&admin, &format!("{page}/delete"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/admin/applications");
    assert_eq!(app.get(&admin, &page).await.status(), StatusCode::NOT_FOUND);
    // A deleted application is an unknown client.
    let t = refresh(&app, Auth::Basic(&reg.client_id, &secret), "x").await;
    assert_eq!(t.status, StatusCode::UNAUTHORIZED, "{t:?}");

    let actions = app.audit_actions().await;
    for a in [
        "application.created",
        "application.updated",
        "application.secret_regenerated",
        "signing_keys.rotated",
        "application.deleted",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
    }
}

async fn application_count(app: &TestApp) -> i64 {
    db_one!(&app.db, "SELECT count(*) FROM applications")
}

#[tokio::test]
async fn a_bad_application_form_is_refused_with_messages() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let before = app.audit_actions().await.len();
    let bad = NewApp {
        redirect_uris: "http://example.com/cb",
        ..NewApp::confidential("")
    };
    let r = app
        .post(&admin, "/admin/applications/add", &bad.fields())
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    let errors: Vec<String> = text_of(&html, ".error")
        .into_iter()
        .filter(|e| !e.is_empty())
        .collect();
    assert!(errors.len() >= 2, "a message beside each field: {errors:?}");
    assert!(
        errors.iter().any(|e| e.contains("http://example.com/cb")),
        "the redirect URI's message names it: {errors:?}"
    );
    assert_eq!(input_value(&html, "#client-secret"), None);
    assert_eq!(application_count(&app).await, 0);
    assert_eq!(app.audit_actions().await.len(), before, "nothing audited");

    // An application's settings form refuses the same way and keeps it.
    let reg = register(&app, &admin, &NewApp::confidential("Team Wiki")).await;
    let page = format!("/admin/applications/{}", reg.client_id);
    let r = app.post(&admin, &page, &bad.fields()).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = app.get_html(&admin, &page).await;
    assert!(html.contains("Team Wiki") && html.contains(REDIRECT_URI));
}

#[tokio::test]
async fn the_client_secret_is_shown_only_once() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let reg = register(&app, &admin, &NewApp::confidential("Team Wiki")).await;
    let secret = reg.secret.clone().unwrap();
    let page = format!("/admin/applications/{}", reg.client_id);

    let html = app.get_html(&admin, &page).await;
    assert_eq!(client_id_on(&html).as_deref(), Some(reg.client_id.as_str()));
    assert_eq!(input_value(&html, "#client-secret"), None);
    assert!(!html.contains(&secret), "the secret is not on a later GET");

    let r = app.post(&admin, &format!("{page}/secret"), &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    let new_secret = input_value(&html, "#client-secret").expect("shown once");
    assert!(new_secret.starts_with("portal_cs_"));
    assert_ne!(new_secret, secret);
    let html = app.get_html(&admin, &page).await;
    assert!(!html.contains(&new_secret) && !html.contains(&secret));

    // The old secret no longer authenticates; the new one does.
    let (_, dev) = app.developer("dev@example.org").await;
    let req = Authorize::new(&reg);
    let code = code_for(&app, &dev, &req).await;
    let t = refresh(&app, Auth::Basic(&reg.client_id, &secret), "any").await;
    assert_eq!(t.status, StatusCode::UNAUTHORIZED, "{t:?}");
    assert_eq!(t.body["error"], "invalid_client");
    let t = exchange(&app, Auth::Basic(&reg.client_id, &new_secret), &req, &code).await;
    assert_eq!(t.status, StatusCode::OK, "{t:?}");
}

#[tokio::test]
async fn scope_openid_alone_gives_only_the_subject() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let reg = register(&app, &admin, &NewApp::confidential("Team Wiki")).await;
    let (dev_id, dev) = app.developer("dev@example.org").await;
    let mut req = Authorize::new(&reg);
    req.scope = "openid".into();
    let code = code_for(&app, &dev, &req).await;
    let t = exchange(&app, auth_of(&reg), &req, &code).await;
    assert_eq!(t.status, StatusCode::OK, "{t:?}");
    let id = id_token(&app, t.str("id_token"), &reg.client_id, Some(&req.nonce)).await;
    let u = userinfo(&app, t.str("access_token")).await;
    assert_eq!(u.body["sub"], dev_id.as_str());
    for claims in [&id.claims, &u.body] {
        for c in ["email", "name", "given_name", "family_name", "groups"] {
            assert_eq!(claims.get(c), None, "{c} in {claims}");
        }
    }
}

#[tokio::test]
async fn only_administrators_reach_the_applications_tab() {
    let app = spawn_app().await;
    let (former, c) = app.second_admin("former@example.org").await;
    db_exec!(
        &app.db,
        "DELETE FROM memberships WHERE account_id = ?",
        &former
    );
    let fields = NewApp::confidential("Sneaky").fields();
    for (who, b, refused) in [
        ("signed out", browser(), StatusCode::SEE_OTHER),
        ("not an administrator", c, StatusCode::FORBIDDEN),
    ] {
        for path in ["/admin/applications", "/admin/applications/add"] {
            assert_eq!(app.get(&b, path).await.status(), refused, "{who}: {path}");
        }
        for path in ["/admin/applications/add", "/admin/applications/rotate-keys"] {
            let r = app.post(&b, path, &fields).await;
            assert_eq!(r.status(), refused, "{who}: POST {path}");
        }
    }
    assert_eq!(application_count(&app).await, 0);
    let actions = app.audit_actions().await;
    assert!(
        !actions.iter().any(|a| a == "signing_keys.rotated"),
        "{actions:?}"
    );
}
