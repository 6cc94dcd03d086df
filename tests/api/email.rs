//! Email: SPEC E1–E3, R1, U3 (account-created notice); SECURITY S-8, S-19.
//! A real SMTP server on 127.0.0.1 (`smtp_server.rs`) receives the mail.

use std::time::{Duration, Instant};

use portal::domain::email_template::EmailTemplate;
use reqwest::StatusCode;

use crate::helpers::*;
use crate::smtp_server::{Mail, Mode, SmtpServer};

const NEW_PASSWORD: &str = "saffron glacier piano 12";
const WAIT: Duration = Duration::from_secs(15);

async fn app_for(server: &SmtpServer) -> TestApp {
    let url = server.url();
    spawn_with(move |s| {
        s.smtp_url = Some(url);
        s.timeouts.mail_retry_base = Duration::from_secs(1);
        s.timeouts.mail_send = Duration::from_secs(3);
    })
    .await
}

async fn add_user(
    app: &TestApp,
    c: &reqwest::Client,
    email: &str,
    first: &str,
    last: &str,
    notify: bool,
) -> reqwest::Response {
    let mut form = vec![
        ("email", email),
        ("password", NEW_PASSWORD),
        ("first_name", first),
        ("last_name", last),
    ];
    if notify {
        form.push(("notify", "on"));
    }
    let r = app.post(c, "/admin/users/add", &form).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "user {email} added");
    r
}

#[derive(Debug, Clone)]
struct Row {
    id: i64,
    state: String,
    attempts: i64,
    last_error: Option<String>,
    next_attempt_at: i64,
}

async fn outbox(app: &TestApp) -> Vec<Row> {
    let rows: Vec<(i64, String, i64, Option<String>, i64)> = db_rows!(
        &app.db,
        "SELECT id, state, attempts, last_error, next_attempt_at FROM outbox ORDER BY id"
    );
    rows.into_iter()
        .map(|(id, state, attempts, last_error, next_attempt_at)| Row {
            id,
            state,
            attempts,
            last_error,
            next_attempt_at,
        })
        .collect()
}

/// Waits until the message `id` is in `state`.
async fn wait_state(app: &TestApp, id: i64, state: &str) -> Row {
    let deadline = Instant::now() + WAIT;
    loop {
        let rows = outbox(app).await;
        if let Some(r) = rows.iter().find(|r| r.id == id && r.state == state) {
            return r.clone();
        }
        assert!(
            Instant::now() < deadline,
            "email #{id} never became {state}: {rows:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn only_message_id(app: &TestApp) -> i64 {
    let rows = outbox(app).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    rows[0].id
}

/// The Email log's row for a message, as text, and its state attribute.
async fn log_row(app: &TestApp, c: &reqwest::Client, id: i64) -> (String, String) {
    let html = app.get_html(c, "/admin/email/log").await;
    let doc = scraper::Html::parse_document(&html);
    let sel = scraper::Selector::parse(&format!("tr#email-{id}")).unwrap();
    let row = doc.select(&sel).next().expect("the message is in the log");
    let text = row
        .text()
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    (
        text,
        row.value().attr("data-state").unwrap_or("").to_owned(),
    )
}

#[tokio::test]
async fn add_user_with_the_box_ticked_sends_the_account_created_email() {
    let server = SmtpServer::start(Mode::Normal).await;
    let app = app_for(&server).await;
    let c = app.admin().await;

    let add_form = app.get_html(&c, "/admin/users/add").await;
    assert_eq!(
        text_of(&add_form, "label[for=notify]"),
        ["Send account-created email"]
    );

    let r = add_user(&app, &c, "Ann.Lee@example.org", "Ann", "Lee", true).await;
    let page = app.get_html(&c, &location(&r)).await;
    assert!(flash(&page).contains("account-created email"), "{page}");

    let got = server.wait_for(1, WAIT).await;
    assert_eq!(got[0].rcpt_to, ["Ann.Lee@example.org"]);
    assert_eq!(got[0].mail_from, "portal@example.org");
    let mail = Mail::parse(&got[0].data);
    assert_eq!(mail.subject(), "Your Portal account is ready");
    assert!(
        mail.header("to").contains("Ann Lee"),
        "{:?}",
        mail.header("to")
    );
    assert!(mail.header("from").contains("portal@example.org"));
    assert!(mail.content_type.starts_with("multipart/alternative"));
    let link = format!("{}/sign-in", app.settings.base_url);
    assert!(mail.text.contains("Hello Ann Lee,"), "{}", mail.text);
    assert!(mail.text.contains(&link), "{}", mail.text);
    assert!(mail.text.contains("Ann.Lee@example.org"), "{}", mail.text);
    assert!(mail.html.contains("Hello Ann Lee,"), "{}", mail.html);
    assert!(
        mail.html
            .contains(&format!("<a href=\"{link}\">{link}</a>")),
        "{}",
        mail.html
    );

    let id = only_message_id(&app).await;
    let row = wait_state(&app, id, "sent").await;
    assert_eq!(row.attempts, 1);
    let (text, state) = log_row(&app, &c, id).await;
    assert_eq!(state, "sent");
    assert!(
        text.contains("Sent") && text.contains("Ann.Lee@example.org"),
        "{text}"
    );
    assert!(text.contains("Account created"), "{text}");

    // Without the box: no email.
    add_user(&app, &c, "bob@example.org", "Bob", "Stone", false).await;
    assert_eq!(outbox(&app).await.len(), 1);
}

#[tokio::test]
async fn an_edited_template_shows_in_the_preview_and_the_next_message() {
    let server = SmtpServer::start(Mode::Normal).await;
    let app = app_for(&server).await;
    let c = app.admin().await;

    let list = app.get_html(&c, "/admin/email/templates").await;
    for label in [
        "Invitation",
        "Password reset",
        "Sign-up confirmation",
        "Account created",
    ] {
        assert!(
            text_of(&list, "td a").contains(&label.to_owned()),
            "{label}"
        );
    }
    assert!(text_of(&list, "nav[aria-label=Console] a").contains(&"Email templates".to_owned()));
    assert!(text_of(&list, "nav[aria-label=Console] a").contains(&"Email log".to_owned()));

    let path = "/admin/email/templates/account_created";
    let form = app.get_html(&c, path).await;
    assert_eq!(
        input_value(&form, "input[name=subject]").as_deref(),
        Some("Your {portal_name} account is ready")
    );
    let subject = "Welcome, {first_name}!";
    let body = "Hi {first_name} {last_name} of {portal_name}.\r\n\r\nStart here: {link}";

    // Preview: rendered with sample values, nothing saved.
    let r = app
        .post(
            &c,
            path,
            &[("subject", subject), ("body", body), ("action", "preview")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(
        text_of(&html, ".preview dd").contains(&"Welcome, Ann!".to_owned()),
        "{html}"
    );
    assert!(
        text_of(&html, ".email-text")
            .join("")
            .contains("Hi Ann Lee of Portal.")
    );
    assert_eq!(
        input_value(&html, "input[name=subject]").as_deref(),
        Some(subject)
    );
    let stored: i64 = db_one!(&app.db, "SELECT count(*) FROM email_templates");
    assert_eq!(stored, 0, "a preview saves nothing");

    // Save.
    let r = app
        .post(
            &c,
            path,
            &[("subject", subject), ("body", body), ("action", "save")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = app.get_html(&c, &location(&r)).await;
    assert!(flash(&html).contains("Saved the Account created template."));
    assert!(
        app.audit_actions()
            .await
            .contains(&"template.updated".to_owned())
    );

    add_user(&app, &c, "grace@example.org", "Grace", "Hopper", true).await;
    let got = server.wait_for(1, WAIT).await;
    let mail = Mail::parse(&got[0].data);
    assert_eq!(mail.subject(), "Welcome, Grace!");
    assert!(
        mail.text
            .starts_with("Hi Grace Hopper of Portal.\n\nStart here: http"),
        "{}",
        mail.text
    );

    // Restore default, with a confirmation step.
    let confirm = app.get_html(&c, &format!("{path}/restore")).await;
    assert!(text_of(&confirm, "button").contains(&"Restore default".to_owned()));
    let r = app.post(&c, &format!("{path}/restore"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        app.audit_actions()
            .await
            .contains(&"template.restored".to_owned())
    );
    add_user(&app, &c, "alan@example.org", "Alan", "Turing", true).await;
    let got = server.wait_for(2, WAIT).await;
    assert_eq!(
        Mail::parse(&got[1].data).subject(),
        "Your Portal account is ready"
    );
}

#[tokio::test]
async fn an_unknown_placeholder_is_refused_by_name() {
    let app = spawn_app().await;
    let c = app.admin().await;
    let path = "/admin/email/templates/invitation";
    let r = app
        .post(
            &c,
            path,
            &[
                ("subject", "Hello {first_name}"),
                ("body", "Dear {nickname}, see {link} and {shoe_size}."),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    let error = text_of(&html, "#body-error").join(" ");
    assert!(
        error.contains("{nickname}") && error.contains("{shoe_size}"),
        "{error}"
    );
    assert!(
        text_of(&html, "textarea#body")
            .join("")
            .contains("Dear {nickname}"),
        "the input is kept"
    );

    // A subject is one line (no header injection).
    let r = app
        .post(
            &c,
            path,
            &[
                ("subject", "Hi\r\nBcc: someone@example.org"),
                ("body", "{link}"),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let stored: i64 = db_one!(&app.db, "SELECT count(*) FROM email_templates");
    assert_eq!(stored, 0);

    // An unknown template is not a page.
    let r = app.get(&c, "/admin/email/templates/nope").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn values_arrive_escaped_in_the_html_part() {
    let server = SmtpServer::start(Mode::Normal).await;
    let app = app_for(&server).await;
    let c = app.admin().await;
    add_user(
        &app,
        &c,
        "mallory@example.org",
        "<script>alert(1)</script>",
        "O'Brien & Co",
        true,
    )
    .await;
    let got = server.wait_for(1, WAIT).await;
    let mail = Mail::parse(&got[0].data);
    assert!(!mail.html.contains("<script>"), "{}", mail.html);
    assert!(
        mail.html
            .contains("&lt;script&gt;alert(1)&lt;/script&gt; O&#39;Brien &amp; Co"),
        "{}",
        mail.html
    );
    assert!(
        mail.text.contains("<script>alert(1)</script> O'Brien & Co"),
        "{}",
        mail.text
    );
}

#[tokio::test]
async fn an_outage_is_retried_and_the_message_arrives_exactly_once() {
    let mut server = SmtpServer::start(Mode::Normal).await;
    let app = app_for(&server).await;
    server.stop();
    let c = app.admin().await;
    add_user(&app, &c, "ada@example.org", "Ada", "Lovelace", true).await;
    assert!(
        app.id_of("ada@example.org").await.is_some(),
        "the account exists"
    );

    let id = only_message_id(&app).await;
    let row = wait_state(&app, id, "retrying").await;
    assert!(row.last_error.as_deref().is_some_and(|e| !e.is_empty()));
    let (text, state) = log_row(&app, &c, id).await;
    assert_eq!(state, "retrying");
    assert!(text.contains("Retrying"), "{text}");

    server.restart().await;
    // Once it is due again, a run delivers it.
    let due = outbox(&app).await[0].next_attempt_at;
    app.clock.advance((due - app.clock.now()).max(0));
    app.mailer.run_once(&app.db).await.unwrap();
    server.wait_for(1, WAIT).await;
    wait_state(&app, id, "sent").await;

    // Nothing more goes out: not from another run, not from the worker.
    assert_eq!(app.mailer.run_once(&app.db).await.unwrap(), 0);
    app.mailer.wake();
    app.outbox_settled().await;
    assert_eq!(server.received().len(), 1);
}

#[tokio::test]
async fn a_mail_server_that_never_answers_does_not_slow_the_request() {
    let server = SmtpServer::start(Mode::Hang).await;
    let url = server.url();
    let app = spawn_with(move |s| {
        s.smtp_url = Some(url);
        s.timeouts.mail_retry_base = Duration::from_secs(1);
        s.timeouts.mail_send = Duration::from_secs(1);
    })
    .await;
    let c = app.admin().await;
    for (n, email) in ["one@example.org", "two@example.org"]
        .into_iter()
        .enumerate()
    {
        let started = Instant::now();
        add_user(&app, &c, email, "Slow", "Server", true).await;
        let took = started.elapsed();
        assert!(took < Duration::from_secs(2), "request {n} took {took:?}");
    }
    let first = outbox(&app).await[0].id;
    let row = wait_state(&app, first, "retrying").await;
    assert!(
        row.last_error
            .as_deref()
            .unwrap_or("")
            .contains("no answer"),
        "{row:?}"
    );
    assert!(server.connections() >= 1);
    assert!(server.received().is_empty());
}

/// S-19: transient failures are retried until the give-up period has
/// passed since the message was queued; then it is failed with its last
/// error, and Retry queues it again with a fresh period.
#[tokio::test]
async fn a_message_failing_for_too_long_is_given_up_and_can_be_retried() {
    let mut server = SmtpServer::start(Mode::Normal).await;
    let url = server.url();
    let app = spawn_with(move |s| {
        s.smtp_url = Some(url);
        s.timeouts.mail_retry_base = Duration::from_secs(1);
        s.timeouts.mail_send = Duration::from_secs(3);
        s.timeouts.mail_give_up = Duration::from_secs(3600);
        // The clock moves hours on: the console session must outlive that.
        s.timeouts.console_idle = Duration::from_secs(86_400);
    })
    .await;
    server.stop();
    let c = app.admin().await;
    add_user(&app, &c, "ada@example.org", "Ada", "Lovelace", true).await;
    let id = only_message_id(&app).await;
    wait_state(&app, id, "retrying").await;

    // Half the period on: still retried.
    app.clock.advance(1800);
    app.mailer.run_once(&app.db).await.unwrap();
    let row = wait_state(&app, id, "retrying").await;
    assert!(row.attempts >= 2, "{row:?}");

    // Past it: given up, with the last error.
    app.clock.advance(1801);
    app.mailer.run_once(&app.db).await.unwrap();
    let row = wait_state(&app, id, "failed").await;
    let error = row.last_error.unwrap_or_default();
    assert!(error.starts_with("gave up after 1 hour"), "{error}");
    let (text, state) = log_row(&app, &c, id).await;
    assert_eq!(state, "failed");
    assert!(text.contains("Retry"), "{text}");
    app.clock.advance(7200);
    app.mailer.run_once(&app.db).await.unwrap();
    assert_eq!(
        outbox(&app).await[0].state,
        "failed",
        "not tried again by itself"
    );

    // Retry: a fresh period, and the message arrives once the server is back.
    server.restart().await;
    let r = app
        .post(&c, &format!("/admin/email/log/{id}/retry"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    server.wait_for(1, WAIT).await;
    wait_state(&app, id, "sent").await;
}

#[tokio::test]
async fn a_permanent_refusal_is_failed_and_retry_makes_it_due_again() {
    let server = SmtpServer::start(Mode::Reject).await;
    let app = app_for(&server).await;
    let c = app.admin().await;
    add_user(&app, &c, "nobody@example.org", "No", "Body", true).await;
    let id = only_message_id(&app).await;
    let row = wait_state(&app, id, "failed").await;
    assert!(
        row.last_error.as_deref().unwrap_or("").contains("550"),
        "{row:?}"
    );
    let (text, state) = log_row(&app, &c, id).await;
    assert_eq!(state, "failed");
    assert!(text.contains("Failed") && text.contains("550"), "{text}");
    assert!(text.contains("Retry"), "{text}");

    // Not retried by itself.
    app.mailer.run_once(&app.db).await.unwrap();
    assert_eq!(outbox(&app).await[0].state, "failed");

    server.set_mode(Mode::Normal);
    let r = app
        .post(
            &c,
            &format!("/admin/email/log/{id}/retry"),
            &[("back", "/admin/email/log?state=failed")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/admin/email/log?state=failed");
    assert!(
        app.audit_actions()
            .await
            .contains(&"email.retried".to_owned())
    );
    server.wait_for(1, WAIT).await;
    let row = wait_state(&app, id, "sent").await;
    assert_eq!(row.attempts, 2);

    // A message that is not failed has nothing to retry.
    let r = app
        .post(&c, &format!("/admin/email/log/{id}/retry"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = app.get_html(&c, &location(&r)).await;
    assert!(flash(&html).contains("nothing to retry"), "{html}");
}

#[tokio::test]
async fn a_deferral_is_retried_with_back_off() {
    let server = SmtpServer::start(Mode::Defer).await;
    let app = app_for(&server).await;
    let c = app.admin().await;
    add_user(&app, &c, "later@example.org", "Later", "Please", true).await;
    let id = only_message_id(&app).await;
    let row = wait_state(&app, id, "retrying").await;
    assert!(
        row.last_error.as_deref().unwrap_or("").contains("451"),
        "{row:?}"
    );
    server.set_mode(Mode::Normal);
    server.wait_for(1, WAIT).await;
    let row = wait_state(&app, id, "sent").await;
    assert!(row.attempts >= 2);
}

#[tokio::test]
async fn two_workers_never_send_a_message_twice() {
    let mut server = SmtpServer::start(Mode::Normal).await;
    let app = app_for(&server).await;
    server.stop();
    let c = app.admin().await;
    let emails = [
        "w1@example.org",
        "w2@example.org",
        "w3@example.org",
        "w4@example.org",
    ];
    for e in emails {
        add_user(&app, &c, e, "Worker", "Test", true).await;
    }
    for r in outbox(&app).await {
        wait_state(&app, r.id, "retrying").await;
    }
    server.restart().await;
    let due = outbox(&app)
        .await
        .iter()
        .map(|r| r.next_attempt_at)
        .max()
        .unwrap();
    app.clock.advance((due - app.clock.now()).max(0));
    // A second "process" beside the app's own worker.
    let other = portal::email::Mailer::new(&app.settings).unwrap();
    let (a, b) = tokio::join!(app.mailer.run_once(&app.db), other.run_once(&app.db));
    a.unwrap();
    b.unwrap();
    server.wait_for(emails.len(), WAIT).await;
    app.outbox_settled().await;
    let mut to: Vec<String> = server
        .received()
        .into_iter()
        .flat_map(|m| m.rcpt_to)
        .collect();
    to.sort();
    assert_eq!(to, emails, "each message exactly once");
}

#[tokio::test]
async fn without_smtp_url_messages_are_written_as_eml_files() {
    let app = spawn_app().await;
    let c = app.admin().await;
    add_user(&app, &c, "file@example.org", "File", "Reader", true).await;
    let id = only_message_id(&app).await;
    wait_state(&app, id, "sent").await;
    let path = app
        .settings
        .data_dir
        .join("outbox")
        .join(format!("{id}.eml"));
    let raw = std::fs::read_to_string(&path).expect("an .eml file in the data dir");
    let mail = Mail::parse(&raw);
    assert_eq!(mail.subject(), "Your Portal account is ready");
    assert!(mail.text.contains("Hello File Reader,"));
    assert!(mail.html.contains("Hello File Reader,"));
}

#[tokio::test]
async fn sender_settings_are_checked_audited_and_used() {
    let server = SmtpServer::start(Mode::Normal).await;
    let app = app_for(&server).await;
    let c = app.admin().await;
    let page = app.get_html(&c, "/admin/email/settings").await;
    assert_eq!(input_value(&page, "#from_name").as_deref(), Some("Portal"));
    assert_eq!(
        input_value(&page, "#from_address").as_deref(),
        Some("portal@example.org")
    );
    assert_eq!(
        input_value(&page, "#portal_name").as_deref(),
        Some("Portal")
    );

    let r = app
        .post(
            &c,
            "/admin/email/settings",
            &[
                ("from_name", "Acme\r\nBcc: x@example.org"),
                ("from_address", "not an address"),
                ("portal_name", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    for field in ["from_name", "from_address", "portal_name"] {
        assert!(
            !text_of(&html, &format!("#{field}-error")).is_empty(),
            "{field} has an error"
        );
    }
    assert_eq!(
        input_value(&html, "#from_address").as_deref(),
        Some("not an address")
    );

    let r = app
        .post(
            &c,
            "/admin/email/settings",
            &[
                ("from_name", "Acme APIs"),
                ("from_address", "apis@acme.test"),
                ("portal_name", "Acme Developer Portal"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        app.audit_actions()
            .await
            .contains(&"email.settings_updated".to_owned())
    );

    add_user(&app, &c, "dev@example.org", "Dev", "Eloper", true).await;
    let got = server.wait_for(1, WAIT).await;
    assert_eq!(got[0].mail_from, "apis@acme.test");
    let mail = Mail::parse(&got[0].data);
    assert!(
        mail.header("from").contains("Acme APIs"),
        "{}",
        mail.header("from")
    );
    assert_eq!(
        mail.subject(),
        "Your Acme Developer Portal account is ready"
    );
}

#[tokio::test]
async fn recent_count_counts_per_account_and_template() {
    let app = spawn_app().await;
    let c = app.admin().await;
    add_user(&app, &c, "count@example.org", "Count", "Me", true).await;
    let id = app.id_of("count@example.org").await.unwrap();
    let count = |templates: &'static [EmailTemplate], since: i64| {
        let (db, id) = (app.db.clone(), id.clone());
        async move {
            portal::services::mail::recent_count(&db, &id, templates, since)
                .await
                .unwrap()
        }
    };
    let hour_ago = app.clock.now() - 3600;
    assert_eq!(count(&[EmailTemplate::AccountCreated], hour_ago).await, 1);
    assert_eq!(
        count(
            &[EmailTemplate::Invitation, EmailTemplate::PasswordReset],
            hour_ago
        )
        .await,
        0
    );
    assert_eq!(
        count(&[EmailTemplate::AccountCreated], app.clock.now() + 60).await,
        0
    );
}

#[tokio::test]
async fn the_email_log_pages_newest_first() {
    let app = spawn_app().await;
    let c = app.admin().await;
    // 55 messages straight into the outbox (faster than 55 sign-ups),
    // written an hour ahead so that none is due yet.
    let ahead = portal::clock::Clock::default();
    ahead.advance(3600);
    let mut tx = app
        .db
        .clone()
        .with_clock(ahead)
        .begin_write()
        .await
        .unwrap();
    for n in 0..55 {
        let to = format!("page{n}@example.org");
        portal::store::outbox::insert(
            &mut tx,
            &portal::store::outbox::NewMessage {
                template: "invitation",
                to_address: &to,
                to_name: "",
                account_id: None,
                subject: "s",
                text_body: "t",
                html_body: "h",
            },
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    let html = app.get_html(&c, "/admin/email/log").await;
    let rows = text_of(&html, "tbody tr");
    assert_eq!(rows.len(), 50);
    assert!(rows[0].contains("page54@example.org"), "{}", rows[0]);
    let next = link_rel(&html, "next").expect("a link to older messages");
    let older = app.get_html(&c, &next).await;
    let rows = text_of(&older, "tbody tr");
    assert_eq!(rows.len(), 5);
    assert!(rows[4].contains("page0@example.org"), "{}", rows[4]);
    let queued = app.get_html(&c, "/admin/email/log?state=sent").await;
    assert!(text_of(&queued, "tbody tr").is_empty());
}
