//! Notifications to administrators (SPEC R5): the Notifications page's
//! choices, and the emails an event sends through the outbox, to a real
//! SMTP server on loopback.

use std::time::Duration;

use reqwest::StatusCode;

use crate::helpers::*;
use crate::smtp_server::{Mail, Mode, SmtpServer};

#[tokio::test]
async fn a_request_to_a_product_needing_approval_emails_the_chosen_administrators() {
    let server = SmtpServer::start(Mode::Normal).await;
    let app = spawn_with_smtp(&server).await;
    let admin = app.admin().await;
    let (second, _) = app.second_admin("second@example.org").await;
    let root = app.id_of(ADMIN_EMAIL).await.unwrap();
    let (dev_id, dev) = app.developer("dev@example.org").await;

    // Only administrators may be chosen: nothing is saved otherwise.
    let r = app
        .post(
            &admin,
            "/admin/notifications",
            &[("subscription_requested", &dev_id)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("not an active administrator")
    );

    let r = app
        .post(
            &admin,
            "/admin/notifications",
            &[("subscription_requested", &second), ("signed_up", &root)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = app.get_html(&admin, "/admin/notifications").await;
    assert!(html.contains(&format!("id=\"subscription_requested-{second}\" name=\"subscription_requested\" value=\"{second}\" checked")));
    assert!(
        app.audit_actions()
            .await
            .contains(&"notifications.updated".to_owned())
    );

    app.product(
        &admin,
        "Premium",
        &["developers"],
        &[("approval_required", "on")],
    )
    .await;
    let r = app.subscribe(&dev, "premium", "First").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let subscription = app.subscriptions_of(&dev_id).await[0].0.clone();

    let got = server.wait_for(1, Duration::from_secs(15)).await;
    assert_eq!(got.len(), 1, "one email: to the one administrator chosen");
    assert_eq!(got[0].rcpt_to, ["second@example.org"]);
    let mail = Mail::parse(&got[0].data);
    assert!(
        mail.subject()
            .contains("dev@example.org asks to subscribe to Premium"),
        "{}",
        mail.subject()
    );
    assert!(
        mail.text
            .contains(&app.url(&format!("/admin/subscriptions/{subscription}"))),
        "{}",
        mail.text
    );

    // A product that needs no approval tells nobody.
    app.product(&admin, "Open", &["developers"], &[]).await;
    let r = app.subscribe(&dev, "open", "Mine").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    app.outbox_settled().await;
    assert_eq!(server.received().len(), 1);
}

/// A portal sending through `server`, its first administrator signed in to
/// the console and chosen for `event` on the Notifications page.
async fn first_administrator_chosen_for(
    server: &SmtpServer,
    event: &str,
) -> (TestApp, reqwest::Client) {
    let app = spawn_with_smtp(server).await;
    let admin = app.admin().await;
    let root = app.id_of(ADMIN_EMAIL).await.unwrap();
    let r = app
        .post(&admin, "/admin/notifications", &[(event, &root)])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    (app, admin)
}

#[tokio::test]
async fn a_sign_up_emails_the_administrators_chosen_for_it() {
    let server = SmtpServer::start(Mode::Normal).await;
    let (app, _admin) = first_administrator_chosen_for(&server, "signed_up").await;

    let visitor = browser();
    let r = app
        .post(
            &visitor,
            "/sign-up",
            &[
                ("email", "newcomer@example.org"),
                ("first_name", "New"),
                ("last_name", "Comer"),
                ("password", USER_PASSWORD),
                ("confirm", USER_PASSWORD),
            ],
        )
        .await;
    assert!(r.status().is_success() || r.status().is_redirection());
    let got = server.wait_for(2, Duration::from_secs(15)).await;
    let to_admin: Vec<&crate::smtp_server::Received> = got
        .iter()
        .filter(|m| m.rcpt_to == [ADMIN_EMAIL.to_owned()])
        .collect();
    assert_eq!(to_admin.len(), 1, "{got:?}");
    let mail = Mail::parse(&to_admin[0].data);
    assert!(mail.subject().contains("newcomer@example.org signed up"));
    let newcomer = app.id_of("newcomer@example.org").await.unwrap();
    assert!(
        mail.text
            .contains(&app.url(&format!("/admin/users/{newcomer}")))
    );
}

#[tokio::test]
async fn a_message_given_up_is_told_to_the_chosen_administrators_once() {
    let server = SmtpServer::start(Mode::Reject).await;
    let (app, admin) = first_administrator_chosen_for(&server, "email_failed").await;
    let (dev, _) = app.developer("dev@example.org").await;

    // The mail server refuses everything (550): the reset link is given up,
    // and so is the notification about it, which tells nobody in turn.
    let r = app
        .post(&admin, &format!("/admin/users/{dev}/reset-password"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    wait_until("both messages given up", || async {
        let failed: i64 = db_one!(
            &app.db,
            "SELECT count(*) FROM outbox WHERE state = 'failed'"
        );
        failed == 2
    })
    .await;
    app.outbox_settled().await;
    let told: Vec<(String, String)> = db_rows!(
        &app.db,
        "SELECT to_address, subject FROM outbox WHERE template = 'admin_email_failed'"
    );
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0].0, ADMIN_EMAIL);
    assert!(told[0].1.contains("dev@example.org"), "{told:?}");
}

#[tokio::test]
async fn a_developer_closing_their_account_tells_the_chosen_administrators() {
    let server = SmtpServer::start(Mode::Normal).await;
    let (app, admin) = first_administrator_chosen_for(&server, "account_closed").await;
    let (dev_id, dev) = app.developer("dev@example.org").await;
    let open = app.product(&admin, "Open", &["developers"], &[]).await;
    let r = app.subscribe(&dev, &open, "Mine").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let key = app.subscriptions_of(&dev_id).await[0].2.clone();
    assert_eq!(app.check_key(&key).await.status(), StatusCode::OK);

    let html = app.get_html(&dev, "/profile").await;
    assert!(html.contains("href=\"/profile/close\""), "{html}");
    let html = app.get_html(&dev, "/profile/close").await;
    assert!(html.contains("Close my account"));
    assert!(html.contains("Your current password"));

    // A wrong password closes nothing.
    let r = app
        .post(
            &dev,
            "/profile/close",
            &[("confirm", "not my password at all")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("This is not your current password.")
    );
    assert!(app.id_of("dev@example.org").await.is_some());
    assert_eq!(app.check_key(&key).await.status(), StatusCode::OK);

    let r = app
        .post(&dev, "/profile/close", &[("confirm", USER_PASSWORD)])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/");
    let html = app.get_html(&dev, "/").await;
    assert!(flash(&html).contains("Your account is closed"), "{html}");
    assert!(app.id_of("dev@example.org").await.is_none());
    assert_ne!(app.check_key(&key).await.status(), StatusCode::OK);
    let r = app.get(&dev, "/profile").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "signed out");
    assert!(
        app.audit_actions()
            .await
            .contains(&"account.closed".to_owned())
    );

    let got = server.wait_for(1, Duration::from_secs(15)).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].rcpt_to, [ADMIN_EMAIL]);
    let mail = Mail::parse(&got[0].data);
    assert!(
        mail.subject()
            .contains("dev@example.org closed their account"),
        "{}",
        mail.subject()
    );
    assert!(
        mail.text
            .contains(&app.url("/admin/audit?account=dev%40example.org")),
        "{}",
        mail.text
    );

    // An administrator's account is not closed from the portal.
    let c = browser();
    let r = app.portal_sign_in(&c, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = app
        .post(&c, "/profile/close", &[("confirm", ADMIN_PASSWORD)])
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("closed in the console"));
    assert!(app.id_of(ADMIN_EMAIL).await.is_some());
}
