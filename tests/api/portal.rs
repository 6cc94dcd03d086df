//! The developer portal's account pages: sign-up with an emailed
//! confirmation (U9), sign-in and its refusals (U5), forgotten passwords
//! (U8, S-4, S-8), the profile (U10). Mail goes through a real SMTP server
//! on 127.0.0.1.

use std::time::Duration;

use reqwest::StatusCode;

use crate::helpers::*;
use crate::smtp_server::{Mail, Mode, SmtpServer};

const PASSWORD: &str = "harbor quilt meadow 64";
const WAIT: Duration = Duration::from_secs(15);

async fn sign_up(app: &TestApp, c: &reqwest::Client, email: &str) -> reqwest::Response {
    app.post(
        c,
        "/sign-up",
        &[
            ("email", email),
            ("first_name", "Grace"),
            ("last_name", "Hopper"),
            ("password", PASSWORD),
            ("confirm", PASSWORD),
        ],
    )
    .await
}

#[tokio::test]
async fn sign_up_confirm_and_sign_in() {
    let server = SmtpServer::start(Mode::Normal).await;
    let app = spawn_with_smtp(&server).await;
    let c = browser();
    let r = sign_up(&app, &c, "grace@example.org").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("Check your email"));
    let id = app.id_of("grace@example.org").await.expect("account made");
    assert_eq!(app.state_of(&id).await.as_deref(), Some("pending"));

    // Pending: the right password gets a clear message, not a session.
    let r = app.portal_sign_in(&c, "grace@example.org", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("not active yet"));

    let (mail, link) = app.link_in(&server, 1, "/confirm").await;
    assert!(
        mail.subject().contains("Confirm your email"),
        "{}",
        mail.subject()
    );
    // Opening the link only shows a form (S-7).
    let r = app.get(&c, &link).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers().get("referrer-policy").unwrap(), "no-referrer");
    assert_eq!(app.state_of(&id).await.as_deref(), Some("pending"));
    let r = app.post(&c, &link, &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/sign-in");
    assert_eq!(app.state_of(&id).await.as_deref(), Some("active"));
    assert!(flash(&app.get_html(&c, "/sign-in").await).contains("confirmed"));
    // Used once.
    assert_eq!(app.post(&c, &link, &[]).await.status(), StatusCode::GONE);

    let r = app.portal_sign_in(&c, "grace@example.org", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = app.get_html(&c, "/").await;
    assert!(html.contains("Grace Hopper"), "signed in: {html}");
    assert!(
        app.audit_actions()
            .await
            .contains(&"account.confirmed".into())
    );
}

#[tokio::test]
async fn sign_up_answers_the_same_for_a_taken_address_and_emails_the_owner() {
    let server = SmtpServer::start(Mode::Normal).await;
    let app = spawn_with_smtp(&server).await;
    app.insert_account("taken@example.org", "Tak", "En", "active")
        .await;
    let fresh = sign_up(&app, &browser(), "fresh@example.org").await;
    let taken = sign_up(&app, &browser(), "TAKEN@example.org").await;
    assert_eq!(fresh.status(), taken.status());
    let strip = |s: String, email: &str| s.replace(email, "EMAIL");
    let fresh_html = strip(fresh.text().await.unwrap(), "fresh@example.org");
    let taken_html = strip(taken.text().await.unwrap(), "TAKEN@example.org");
    let body = |h: &str| text_of(h, "main").join(" ");
    assert_eq!(body(&fresh_html), body(&taken_html));
    assert_eq!(
        app.account_count().await,
        3,
        "admin, taken, fresh: no second account"
    );
    // The owner of the taken address hears about it (a reset link).
    let got = server.wait_for(2, WAIT).await;
    let to_owner = got
        .iter()
        .map(|m| Mail::parse(&m.data))
        .find(|m| m.header("to").contains("taken@example.org"))
        .expect("the owner is emailed");
    assert!(
        to_owner.text.contains("/reset-password/"),
        "{}",
        to_owner.text
    );
}

#[tokio::test]
async fn sign_up_keeps_input_and_explains_each_field() {
    let app = spawn_app().await;
    let c = browser();
    let r = app
        .post(
            &c,
            "/sign-up",
            &[
                ("email", "not-an-email"),
                ("first_name", "Ann"),
                ("last_name", ""),
                ("password", "short"),
                ("confirm", "other"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert_eq!(
        input_value(&html, "input#first_name").as_deref(),
        Some("Ann")
    );
    assert_eq!(
        input_value(&html, "input#email").as_deref(),
        Some("not-an-email")
    );
    assert_eq!(text_of(&html, ".field.has-error").len(), 3, "{html}");
    assert_eq!(app.account_count().await, 1);
}

#[tokio::test]
async fn resend_confirmation_voids_the_old_link_and_is_limited() {
    let server = SmtpServer::start(Mode::Normal).await;
    let app = spawn_with_smtp(&server).await;
    let c = browser();
    sign_up(&app, &c, "ada@example.org").await;
    let (_, first) = app.link_in(&server, 1, "/confirm").await;
    let r = app
        .post(&c, "/sign-up/resend", &[("email", "ada@example.org")])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let (_, second) = app.link_in(&server, 2, "/confirm").await;
    assert_ne!(first, second);
    assert_eq!(app.get(&c, &first).await.status(), StatusCode::GONE);
    // Unknown addresses get the same page.
    let unknown = app
        .post(&c, "/sign-up/resend", &[("email", "nobody@example.org")])
        .await;
    assert_eq!(unknown.status(), StatusCode::OK);
    // S-8: three emails per 15 minutes per account, then silence.
    for _ in 0..3 {
        app.post(&c, "/sign-up/resend", &[("email", "ada@example.org")])
            .await;
    }
    app.outbox_settled().await;
    assert_eq!(server.received().len(), 3, "at most 3 per window");
}

#[tokio::test]
async fn forgot_password_same_answer_and_a_working_link() {
    let server = SmtpServer::start(Mode::Normal).await;
    let app = spawn_with_smtp(&server).await;
    let id = app
        .insert_account("dev@example.org", "Dev", "Eloper", "active")
        .await;
    app.insert_account("blocked@example.org", "Blo", "Cked", "blocked")
        .await;
    let mut answers = Vec::new();
    for email in [
        "dev@example.org",
        "nobody@example.org",
        "blocked@example.org",
    ] {
        let r = app
            .post(&browser(), "/forgot-password", &[("email", email)])
            .await;
        let status = r.status();
        let html = r.text().await.unwrap().replace(email, "EMAIL");
        answers.push((status, text_of(&html, "main").join(" ")));
    }
    assert!(answers.iter().all(|a| a == &answers[0]), "{answers:?}");
    assert_eq!(answers[0].0, StatusCode::OK);

    let (mail, link) = app.link_in(&server, 1, "/reset-password").await;
    assert!(mail.header("to").contains("dev@example.org"));
    let (_, c) = (id.clone(), browser());
    let new_password = "copper violin sunrise 48";
    let r = app
        .post(
            &c,
            &link,
            &[("password", new_password), ("confirm", new_password)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = app
        .portal_sign_in(&c, "dev@example.org", new_password)
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    app.outbox_settled().await;
    assert_eq!(server.received().len(), 1, "nothing for unknown or blocked");
}

#[tokio::test]
async fn self_service_requests_are_limited_per_client() {
    let app = spawn_app().await;
    let c = browser();
    let limit = portal::services::client_limit::REQUESTS_PER_WINDOW;
    for i in 0..limit {
        let r = app
            .post(
                &c,
                "/forgot-password",
                &[("email", &format!("u{i}@example.org"))],
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    let r = app
        .post(&c, "/forgot-password", &[("email", "one-more@example.org")])
        .await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.text().await.unwrap().contains("Try again in"));
}

#[tokio::test]
async fn blocked_developer_is_signed_out_and_cannot_sign_in() {
    let app = spawn_app().await;
    let (id, dev) = app.developer("dev@example.org").await;
    assert!(
        app.get_html(&dev, "/profile")
            .await
            .contains("dev@example.org")
    );
    let admin = app.admin().await;
    app.post(&admin, &format!("/admin/users/{id}/block"), &[])
        .await;

    let r = app.get(&dev, "/profile").await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "signed out at the next request"
    );
    assert!(location(&r).starts_with("/sign-in"));
    let html = app.get_html(&dev, "/sign-in").await;
    assert!(flash(&html).contains("blocked"), "told why: {html}");

    let r = app
        .portal_sign_in(&dev, "dev@example.org", USER_PASSWORD)
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("This account is blocked"));
    // Activate restores sign-in.
    app.post(&admin, &format!("/admin/users/{id}/activate"), &[])
        .await;
    let r = app
        .portal_sign_in(&dev, "dev@example.org", USER_PASSWORD)
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn deleted_developer_is_signed_out() {
    let app = spawn_app().await;
    let (id, dev) = app.developer("dev@example.org").await;
    let admin = app.admin().await;
    app.post(&admin, &format!("/admin/users/{id}/delete"), &[])
        .await;
    let r = app.get(&dev, "/subscriptions").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(location(&r).starts_with("/sign-in"));
}

#[tokio::test]
async fn portal_and_console_sessions_are_separate() {
    let app = spawn_app().await;
    // A developer signed in to the portal is not in the console.
    let (_, dev) = app.developer("dev@example.org").await;
    let r = app.get(&dev, "/admin/users").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/admin/sign-in");
    // An administrator signed in to the portal is not in the console either,
    // and signing out of the console leaves the portal signed in.
    let c = browser();
    app.portal_sign_in(&c, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(
        app.get(&c, "/admin/users").await.status(),
        StatusCode::SEE_OTHER
    );
    app.sign_in(&c, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(app.get(&c, "/admin/users").await.status(), StatusCode::OK);
    app.post(&c, "/admin/sign-out", &[]).await;
    assert_eq!(
        app.get(&c, "/admin/users").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.get(&c, "/profile").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn profile_edits_names_and_changes_the_password() {
    let app = spawn_app().await;
    let (_, dev) = app.developer("dev@example.org").await;
    let other = browser();
    app.portal_sign_in(&other, "dev@example.org", USER_PASSWORD)
        .await;

    let r = app
        .post(
            &dev,
            "/profile",
            &[("first_name", "Devi"), ("last_name", "")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert_eq!(
        input_value(&html, "input#first_name").as_deref(),
        Some("Devi")
    );
    let r = app
        .post(
            &dev,
            "/profile",
            &[("first_name", "Devi"), ("last_name", "Rao")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(app.get_html(&dev, "/profile").await.contains("Devi Rao"));

    // The current password is required.
    let new_password = "saffron glacier kettle 19";
    let r = app
        .post(
            &dev,
            "/profile/password",
            &[
                ("current_password", "wrong wrong wrong"),
                ("password", new_password),
                ("confirm", new_password),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("not your current password")
    );
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
    // This session goes on; the other one ended (U10).
    assert_eq!(app.get(&dev, "/profile").await.status(), StatusCode::OK);
    assert_eq!(
        app.get(&other, "/profile").await.status(),
        StatusCode::SEE_OTHER
    );
    let r = app
        .portal_sign_in(&browser(), "dev@example.org", new_password)
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn portal_forms_need_the_csrf_token() {
    let app = spawn_app().await;
    let (_, dev) = app.developer("dev@example.org").await;
    for path in ["/sign-up", "/forgot-password", "/profile", "/sign-out"] {
        let r = app
            .post_with_token(&dev, path, "forged", &[("email", "x@example.org")])
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
    }
}

#[tokio::test]
async fn sign_in_returns_to_the_page_asked_for_and_never_elsewhere() {
    let app = spawn_app().await;
    app.insert_account("dev@example.org", "Dev", "Eloper", "active")
        .await;
    let c = browser();
    let r = app.get(&c, "/subscriptions").await;
    assert_eq!(location(&r), "/sign-in?next=%2Fsubscriptions");
    let r = app
        .post(
            &c,
            "/sign-in",
            &[
                ("email", "dev@example.org"),
                ("password", USER_PASSWORD),
                ("next", "/subscriptions"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/subscriptions");
    let c = browser();
    let r = app
        .post(
            &c,
            "/sign-in",
            &[
                ("email", "dev@example.org"),
                ("password", USER_PASSWORD),
                ("next", "//evil.example/"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/");
}
