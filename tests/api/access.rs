//! Every console route × every kind of visitor (S-13: deny by default).

use reqwest::{Client, Method, StatusCode};

use crate::helpers::*;

/// Every console route; `{id}` is an existing account.
const ROUTES: &[(&str, &str)] = &[
    ("GET", "/admin"),
    ("GET", "/admin/users"),
    ("GET", "/admin/users?q=ann&state=active&sort=email&dir=desc"),
    ("GET", "/admin/users/add"),
    ("POST", "/admin/users/add"),
    ("GET", "/admin/users/{id}"),
    ("POST", "/admin/users/{id}/block"),
    ("POST", "/admin/users/{id}/activate"),
    ("GET", "/admin/users/{id}/delete"),
    ("POST", "/admin/users/{id}/delete"),
    ("POST", "/admin/users/{id}/password"),
    ("POST", "/admin/users/toggle"),
    ("GET", "/admin/groups"),
    ("GET", "/admin/groups/add"),
    ("POST", "/admin/groups/add"),
    ("GET", "/admin/groups/developers"),
    ("POST", "/admin/groups/developers"),
    ("GET", "/admin/groups/developers/members"),
    ("POST", "/admin/groups/developers/members/add"),
    ("POST", "/admin/groups/developers/members/remove"),
    ("GET", "/admin/groups/developers/delete"),
    ("POST", "/admin/groups/developers/delete"),
    ("GET", "/admin/products"),
    ("GET", "/admin/products/add"),
    ("POST", "/admin/products/add"),
    ("GET", "/admin/products/{product}"),
    ("POST", "/admin/products/{product}"),
    ("POST", "/admin/products/{product}/publish"),
    ("POST", "/admin/products/{product}/unpublish"),
    ("GET", "/admin/products/{product}/access"),
    ("POST", "/admin/products/{product}/access"),
    ("POST", "/admin/products/{product}/access/add"),
    ("POST", "/admin/products/{product}/access/remove"),
    ("GET", "/admin/products/{product}/delete"),
    ("POST", "/admin/products/{product}/delete"),
    ("GET", "/admin/users/invite"),
    ("POST", "/admin/users/invite"),
    ("GET", "/admin/users/pending"),
    ("POST", "/admin/users/pending/{id}/resend"),
    ("POST", "/admin/users/pending/{id}/cancel"),
    ("POST", "/admin/users/{id}/reset-password"),
    ("GET", "/admin/email/templates"),
    ("GET", "/admin/email/templates/invitation"),
    ("POST", "/admin/email/templates/invitation"),
    ("GET", "/admin/email/templates/invitation/restore"),
    ("POST", "/admin/email/templates/invitation/restore"),
    ("GET", "/admin/email/settings"),
    ("POST", "/admin/email/settings"),
    ("GET", "/admin/email/log"),
    ("POST", "/admin/email/log/1/retry"),
    ("GET", "/admin/audit"),
    ("GET", "/admin/audit.csv"),
    ("GET", "/admin/products/{product}/subscriptions"),
    ("GET", "/admin/users/{id}/subscriptions"),
    ("GET", "/admin/subscriptions/{sub}"),
    ("POST", "/admin/subscriptions/{sub}/regenerate"),
    ("POST", "/admin/subscriptions/{sub}/approve"),
    ("POST", "/admin/subscriptions/{sub}/reject"),
    ("POST", "/admin/subscriptions/{sub}/suspend"),
    ("POST", "/admin/subscriptions/{sub}/activate"),
    ("POST", "/admin/subscriptions/{sub}/cancel"),
    ("POST", "/admin/sign-out"),
    ("GET", "/admin/no-such-page"),
];

async fn request(app: &TestApp, c: &Client, method: &str, path: &str, id: &str) -> StatusCode {
    let path = path
        .replace("{id}", id)
        .replace("{product}", "echo")
        .replace("{sub}", "nosuchsubscription");
    let method: Method = method.parse().unwrap();
    if method == Method::GET {
        return app.get(c, &path).await.status();
    }
    let fields = [
        ("email", "mallory@example.org"),
        ("password", "obsidian ferret carnival 4"),
        ("first_name", "Mallory"),
        ("last_name", "M"),
    ];
    app.post(c, &path, &fields).await.status()
}

#[tokio::test]
async fn signed_out_visitors_are_sent_to_sign_in_on_every_route() {
    let app = spawn_app().await;
    let id = app
        .insert_account("target@example.org", "Tar", "Get", "active")
        .await;
    for (method, path) in ROUTES {
        let c = browser();
        let status = request(&app, &c, method, path, &id).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{method} {path}");
    }
    assert_eq!(
        app.state_of(&id).await.as_deref(),
        Some("active"),
        "nothing changed"
    );
    assert!(app.id_of("mallory@example.org").await.is_none());
}

#[tokio::test]
async fn signed_in_non_administrators_are_refused_on_every_route() {
    let app = spawn_app().await;
    let id = app
        .insert_account("target@example.org", "Tar", "Get", "active")
        .await;
    // An administrator whose membership was taken away by the operator
    // still holds a session: every route must check, not just sign-in.
    let (former, c) = app.second_admin("former@example.org").await;
    db_exec!(
        &app.db,
        "DELETE FROM memberships WHERE account_id = ?",
        &former
    );
    for (method, path) in ROUTES {
        let status = request(&app, &c, method, path, &id).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}");
    }
    let html = app.get(&c, "/admin/users").await.text().await.unwrap();
    assert!(html.contains("not an administrator"));
    assert_eq!(
        app.state_of(&id).await.as_deref(),
        Some("active"),
        "nothing changed"
    );
    assert!(app.id_of("mallory@example.org").await.is_none());
}

#[tokio::test]
async fn administrators_reach_every_route() {
    let app = spawn_app().await;
    let c = app.admin().await;
    let r = app
        .post(&c, "/admin/products/add", &[("name", "Echo")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    for (method, path) in ROUTES
        .iter()
        .filter(|(m, p)| *m == "GET" && !p.contains("no-such"))
    {
        let id = app
            .insert_account(
                &format!("t{}@example.org", portal::domain::ids::new_id()),
                "T",
                "U",
                "active",
            )
            .await;
        let status = request(&app, &c, method, path, &id).await;
        // System groups have no delete page: refused, even for administrators.
        let expected = if path.contains("developers/delete") {
            vec![StatusCode::FORBIDDEN]
        } else if path.contains("{sub}") {
            vec![StatusCode::NOT_FOUND]
        } else {
            vec![StatusCode::OK, StatusCode::SEE_OTHER]
        };
        assert!(expected.contains(&status), "{method} {path}: {status}");
    }
    assert_eq!(
        app.get(&c, "/admin/no-such-page").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&c, "/admin/users/doesnotexist").await.status(),
        StatusCode::NOT_FOUND
    );
}
