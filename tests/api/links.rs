//! Invitations and password-reset links: SPEC U4, U7, U10; SECURITY S-5 to S-8.
//! Mail goes through a real SMTP server on 127.0.0.1.

use std::time::Duration;

use reqwest::StatusCode;

use crate::helpers::*;
use crate::smtp_server::{Mail, Mode, SmtpServer};

const PASSWORD: &str = "marble otter lantern 27";
const WAIT: Duration = Duration::from_secs(15);

async fn invite(
    app: &TestApp,
    c: &reqwest::Client,
    email: &str,
    groups: &[&str],
) -> reqwest::Response {
    let mut form = vec![
        ("first_name", "Ada"),
        ("last_name", "Lovelace"),
        ("email", email),
    ];
    form.extend(groups.iter().map(|g| ("groups", *g)));
    app.post(c, "/admin/users/invite", &form).await
}

async fn accept(app: &TestApp, c: &reqwest::Client, path: &str) -> reqwest::Response {
    app.post(c, path, &[("password", PASSWORD), ("confirm", PASSWORD)])
        .await
}

#[tokio::test]
async fn invite_accept_and_sign_in() {
    let server = SmtpServer::start(Mode::Normal).await;
    let app = spawn_with_smtp(&server).await;
    let admin = app.admin().await;
    app.post(
        &admin,
        "/admin/groups/add",
        &[("name", "Partners"), ("action", "create")],
    )
    .await;

    let r = invite(&app, &admin, "ada@example.org", &["partners"]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/admin/users/pending");
    let html = app.get_html(&admin, "/admin/users/pending").await;
    assert!(flash(&html).contains("Sent an invitation to ada@example.org."));
    assert!(html.contains("Ada Lovelace") && html.contains("Invited"));
    assert!(
        app.id_of("ada@example.org").await.is_none(),
        "not in Users until accepted"
    );

    let (mail, link) = app.link_in(&server, 1, "/invitations").await;
    assert!(
        mail.subject().to_lowercase().contains("invit"),
        "{}",
        mail.subject()
    );
    assert!(mail.text.contains("Ada"));
    assert!(mail.html.contains("Ada"));

    // Opening the link shows a form and spends nothing (mail scanners).
    let dev = browser();
    for _ in 0..2 {
        let r = app.get(&dev, &link).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers().get("referrer-policy").unwrap(), "no-referrer");
        let html = r.text().await.unwrap();
        assert!(html.contains("Welcome, Ada Lovelace") && html.contains("ada@example.org"));
    }
    // Mismatched passwords are explained, nothing spent.
    let r = app
        .post(
            &dev,
            &link,
            &[
                ("password", PASSWORD),
                ("confirm", "something else entirely"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text_of(&r.text().await.unwrap(), "#confirm-error")[0].contains("not the same"));

    let r = accept(&app, &dev, &link).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let home = app.get_html(&dev, "/").await;
    assert_eq!(
        text_of(&home, ".who span"),
        ["Ada Lovelace"],
        "signed in after accepting"
    );
    let id = app.id_of("ada@example.org").await.expect("account exists");
    assert_eq!(app.state_of(&id).await.as_deref(), Some("active"));
    let groups: Vec<String> = db_all!(
        &app.db,
        "SELECT group_id FROM memberships WHERE account_id = ?",
        &id
    );
    assert_eq!(
        groups,
        ["partners"],
        "joins the groups picked on the invitation"
    );
    let html = app.get_html(&admin, "/admin/users/pending").await;
    assert!(html.contains("No open invitations."));

    // The link works once.
    let r = accept(&app, &browser(), &link).await;
    assert_eq!(r.status(), StatusCode::GONE);
    assert!(r.text().await.unwrap().contains("already been used"));
    assert_eq!(app.get(&browser(), &link).await.status(), StatusCode::GONE);
    assert!(
        app.audit_actions()
            .await
            .contains(&"invitation.accepted".into())
    );
}

#[tokio::test]
async fn resend_voids_the_old_link_and_cancel_voids_all() {
    let server = SmtpServer::start(Mode::Normal).await;
    let app = spawn_with_smtp(&server).await;
    let admin = app.admin().await;
    invite(&app, &admin, "ada@example.org", &[]).await;
    let (_, first) = app.link_in(&server, 1, "/invitations").await;
    let id: String = db_one!(&app.db, "SELECT id FROM invitations");

    let r = app
        .post(&admin, &format!("/admin/users/pending/{id}/resend"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, second) = app.link_in(&server, 2, "/invitations").await;
    assert_ne!(first, second);
    let r = app.get(&browser(), &first).await;
    assert_eq!(r.status(), StatusCode::GONE);
    assert!(r.text().await.unwrap().contains("no longer works"));
    assert_eq!(app.get(&browser(), &second).await.status(), StatusCode::OK);

    // S-8: at most three invitation emails per 15 minutes.
    app.post(&admin, &format!("/admin/users/pending/{id}/resend"), &[])
        .await;
    app.post(&admin, &format!("/admin/users/pending/{id}/resend"), &[])
        .await;
    let html = app.get_html(&admin, "/admin/users/pending").await;
    assert!(flash(&html).contains("Wait a little"), "{}", flash(&html));
    app.outbox_settled().await;
    assert_eq!(server.received().len(), 3);

    let r = app
        .post(&admin, &format!("/admin/users/pending/{id}/cancel"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.get(&browser(), &second).await.status(),
        StatusCode::GONE
    );
    assert!(
        app.get_html(&admin, "/admin/users/pending")
            .await
            .contains("No open invitations.")
    );
}

#[tokio::test]
async fn invitation_errors_are_explained() {
    let server = SmtpServer::start(Mode::Normal).await;
    let app = spawn_with_smtp(&server).await;
    let admin = app.admin().await;
    let r = invite(&app, &admin, ADMIN_EMAIL, &[]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text_of(&r.text().await.unwrap(), "#email-error")[0].contains("already exists"));
    invite(&app, &admin, "ada@example.org", &[]).await;
    let r = invite(&app, &admin, "ADA@example.org", &[]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text_of(&r.text().await.unwrap(), "#email-error")[0].contains("open invitation"));
    let r = app
        .post(
            &admin,
            "/admin/users/invite",
            &[("email", "nope"), ("first_name", ""), ("last_name", "L")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert_eq!(
        input_value(&html, "input#last_name").as_deref(),
        Some("L"),
        "input kept"
    );
    let n: i64 = db_one!(&app.db, "SELECT count(*) FROM invitations");
    assert_eq!(n, 1);
}

#[tokio::test]
async fn expired_and_malformed_links_get_a_clear_page() {
    let server = SmtpServer::start(Mode::Normal).await;
    let app = spawn_with_smtp(&server).await;
    let admin = app.admin().await;
    invite(&app, &admin, "ada@example.org", &[]).await;
    let (_, link) = app.link_in(&server, 1, "/invitations").await;
    db_exec!(&app.db, "UPDATE tokens SET expires_at = 1");
    db_exec!(&app.db, "UPDATE invitations SET expires_at = 1");
    let r = app.get(&browser(), &link).await;
    assert_eq!(r.status(), StatusCode::GONE);
    assert!(r.text().await.unwrap().contains("expired"));
    assert_eq!(
        accept(&app, &browser(), &link).await.status(),
        StatusCode::GONE
    );
    assert!(app.id_of("ada@example.org").await.is_none());
    let html = app.get_html(&admin, "/admin/users/pending").await;
    assert!(
        html.contains("Expired"),
        "the Pending view shows it expired"
    );

    for bad in [
        "/invitations/short",
        "/invitations/%00%ff",
        "/reset-password/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ] {
        let r = app.get(&browser(), bad).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{bad}");
        assert!(r.text().await.unwrap().contains("This link is not valid"));
    }
}

#[tokio::test]
async fn links_point_at_base_url_whatever_the_host_header() {
    let server = SmtpServer::start(Mode::Normal).await;
    let app = spawn_with_smtp(&server).await;
    let admin = app.admin().await;
    let token = app.csrf(&admin).await;
    let r = admin
        .post(app.url("/admin/users/invite"))
        .header("host", "evil.example")
        .form(&[
            ("csrf_token", token.as_str()),
            ("first_name", "Ada"),
            ("last_name", "L"),
            ("email", "ada@example.org"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let got = server.wait_for(1, WAIT).await;
    let mail = Mail::parse(&got[0].data);
    assert!(mail.text.contains(&format!("{}/invitations/", app.address)));
    assert!(!mail.text.contains("evil.example") && !mail.html.contains("evil.example"));
}

#[tokio::test]
async fn two_simultaneous_submits_of_one_link_succeed_once() {
    let server = SmtpServer::start(Mode::Normal).await;
    let app = spawn_with_smtp(&server).await;
    let admin = app.admin().await;
    invite(&app, &admin, "ada@example.org", &[]).await;
    let (_, link) = app.link_in(&server, 1, "/invitations").await;
    let (a, b) = (browser(), browser());
    let (ta, tb) = (app.csrf(&a).await, app.csrf(&b).await);
    let form = [("password", PASSWORD), ("confirm", PASSWORD)];
    let (ra, rb) = tokio::join!(
        app.post_with_token(&a, &link, &ta, &form),
        app.post_with_token(&b, &link, &tb, &form)
    );
    let mut statuses = [ra.status(), rb.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::SEE_OTHER, StatusCode::GONE]);
    assert_eq!(app.account_count().await, 2, "one account made, not two");
}

#[tokio::test]
async fn reset_by_email_sets_the_password_and_ends_sessions() {
    let server = SmtpServer::start(Mode::Normal).await;
    let app = spawn_with_smtp(&server).await;
    let admin = app.admin().await;
    let (id, other) = app.second_admin("second@example.org").await;

    let r = app
        .post(&admin, &format!("/admin/users/{id}/reset-password"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        flash(&app.get_html(&admin, &location(&r)).await)
            .contains("Sent a password reset link to second@example.org.")
    );
    let (mail, link) = app.link_in(&server, 1, "/reset-password").await;
    assert!(mail.text.contains("Second"));
    assert_eq!(
        app.get(&other, "/admin/users").await.status(),
        StatusCode::OK,
        "sending a link changes nothing yet"
    );

    let dev = browser();
    let r = app.get(&dev, &link).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers().get("referrer-policy").unwrap(), "no-referrer");
    let r = app
        .post(&dev, &link, &[("password", "short"), ("confirm", "short")])
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = accept(&app, &dev, &link).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Your password was changed")
    );
    assert_eq!(
        app.get(&dev, "/admin/users").await.status(),
        StatusCode::SEE_OTHER,
        "a reset does not sign in"
    );
    assert_eq!(
        app.get(&other, "/admin/users").await.status(),
        StatusCode::SEE_OTHER,
        "every session ended"
    );
    assert_eq!(
        app.sign_in(&browser(), "second@example.org", USER_PASSWORD)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.sign_in(&browser(), "second@example.org", PASSWORD)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        accept(&app, &browser(), &link).await.status(),
        StatusCode::GONE,
        "used once"
    );
}

#[tokio::test]
async fn a_newer_reset_link_supersedes_the_older() {
    let server = SmtpServer::start(Mode::Normal).await;
    let app = spawn_with_smtp(&server).await;
    let admin = app.admin().await;
    let id = app
        .insert_account("kim@example.org", "Kim", "Park", "active")
        .await;
    app.post(&admin, &format!("/admin/users/{id}/reset-password"), &[])
        .await;
    let (_, first) = app.link_in(&server, 1, "/reset-password").await;
    app.post(&admin, &format!("/admin/users/{id}/reset-password"), &[])
        .await;
    let (_, second) = app.link_in(&server, 2, "/reset-password").await;
    let r = accept(&app, &browser(), &first).await;
    assert_eq!(r.status(), StatusCode::GONE);
    assert!(r.text().await.unwrap().contains("no longer works"));
    assert_eq!(
        accept(&app, &browser(), &second).await.status(),
        StatusCode::OK
    );
}

/// S-5: a reset link is void once the password changes, also when an
/// administrator sets the password directly (console or management API).
#[tokio::test]
async fn a_password_set_by_an_administrator_voids_reset_links() {
    let server = SmtpServer::start(Mode::Normal).await;
    let app = spawn_with_smtp(&server).await;
    let admin = app.admin().await;
    let id = app
        .insert_account("kim@example.org", "Kim", "Park", "active")
        .await;
    app.post(&admin, &format!("/admin/users/{id}/reset-password"), &[])
        .await;
    let (_, link) = app.link_in(&server, 1, "/reset-password").await;
    let r = app
        .post(
            &admin,
            &format!("/admin/users/{id}/password"),
            &[("password", "saffron kettle meadow 55")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = accept(&app, &browser(), &link).await;
    assert_eq!(r.status(), StatusCode::GONE);
    assert!(r.text().await.unwrap().contains("no longer works"));
}
