//! Bad input: a message beside the field, the rest kept, 4xx, nothing written (R3).

use reqwest::StatusCode;

use crate::helpers::*;

struct Case {
    email: &'static str,
    password: &'static str,
    first: &'static str,
    last: &'static str,
    field: &'static str,
    message: &'static str,
}

const CASES: &[Case] = &[
    Case {
        email: "not-an-email",
        password: "saffron glacier piano 12",
        first: "Ann",
        last: "Lee",
        field: "email",
        message: "Enter an email address like",
    },
    Case {
        email: "",
        password: "saffron glacier piano 12",
        first: "Ann",
        last: "Lee",
        field: "email",
        message: "Enter an email address.",
    },
    Case {
        email: "ROOT@example.org",
        password: "saffron glacier piano 12",
        first: "Ann",
        last: "Lee",
        field: "email",
        message: "already exists",
    },
    Case {
        email: "ann@example.org",
        password: "short",
        first: "Ann",
        last: "Lee",
        field: "password",
        message: "at least 12 characters",
    },
    Case {
        email: "ann@example.org",
        password: "password1234",
        first: "Ann",
        last: "Lee",
        field: "password",
        message: "Choose something less common",
    },
    Case {
        email: "ann@example.org",
        password: "saffron glacier piano 12",
        first: "  ",
        last: "Lee",
        field: "first_name",
        message: "Enter a first name.",
    },
    Case {
        email: "ann@example.org",
        password: "saffron glacier piano 12",
        first: "Ann",
        last: "",
        field: "last_name",
        message: "Enter a last name.",
    },
    Case {
        email: "ann@example.org",
        password: "saffron glacier piano 12",
        first: "Ann\r\nBcc: x@y.z",
        last: "Lee",
        field: "first_name",
        message: "line breaks",
    },
];

#[tokio::test]
async fn each_bad_field_is_explained_and_nothing_is_written() {
    let app = spawn_app().await;
    let c = app.admin().await;
    let before = app.account_count().await;
    let audit_before = app.audit_actions().await.len();
    for case in CASES {
        let r = app
            .post(
                &c,
                "/admin/users/add",
                &[
                    ("email", case.email),
                    ("password", case.password),
                    ("first_name", case.first),
                    ("last_name", case.last),
                ],
            )
            .await;
        assert_eq!(
            r.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            case.message
        );
        let html = r.text().await.unwrap();
        let shown = text_of(&html, &format!("#{}-error", case.field));
        assert!(
            shown.first().is_some_and(|m| m.contains(case.message)),
            "expected {:?} beside {}, got {shown:?}",
            case.message,
            case.field
        );
        // The rest of the input is kept; the password never is.
        if case.field != "email" {
            assert_eq!(
                input_value(&html, "input#email").as_deref(),
                Some(case.email)
            );
        }
        if case.field != "last_name" {
            assert_eq!(
                input_value(&html, "input#last_name").as_deref(),
                Some(case.last)
            );
        }
        assert_eq!(input_value(&html, "input#password").as_deref(), Some(""));
    }
    assert_eq!(app.account_count().await, before, "no account written");
    assert_eq!(
        app.audit_actions().await.len(),
        audit_before,
        "no audit record written"
    );
}

#[tokio::test]
async fn several_bad_fields_are_reported_at_once() {
    let app = spawn_app().await;
    let c = app.admin().await;
    let r = app
        .post(
            &c,
            "/admin/users/add",
            &[
                ("email", "x"),
                ("password", ""),
                ("first_name", ""),
                ("last_name", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    for f in ["email", "password", "first_name", "last_name"] {
        assert_eq!(text_of(&html, &format!("#{f}-error")).len(), 1, "{f}");
    }
}

#[tokio::test]
async fn a_missing_form_body_is_a_clear_400_not_a_500() {
    let app = spawn_app().await;
    let c = app.admin().await;
    let token = app.csrf(&c).await;
    let r = c
        .post(app.url("/admin/users/add"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf_token={token}&email=%ZZ"))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
}

/// R3: a value the form echoes back (here a 5,000-character group name in
/// "There is no group named …") no longer makes a session cookie too large
/// for a browser, which answered an empty 500 and logged nothing; a `back`
/// that cannot be a header is ignored rather than failing after the change.
#[tokio::test]
async fn echoed_input_is_bounded_and_back_is_checked() {
    let app = spawn_app().await;
    let c = app.admin().await;
    let id = app
        .insert_account("kim@example.org", "Kim", "Park", "active")
        .await;
    let long = "g".repeat(5_000);
    let r = app
        .post(
            &c,
            "/admin/users/toggle",
            &[("ids", id.as_str()), ("group", long.as_str())],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = app.get_html(&c, &location(&r)).await;
    let message = flash(&html);
    assert!(message.contains("There is no group named"), "{message}");
    assert!(message.chars().count() <= 300, "{}", message.len());

    for back in [
        "/admin/users?q=a\r\nSet-Cookie: x=1",
        "/admin/users?q=\u{0}",
    ] {
        let r = app
            .post(
                &c,
                "/admin/users/toggle",
                &[("ids", id.as_str()), ("group", "Nope"), ("back", back)],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{back:?}");
        assert_eq!(location(&r), "/admin/users");
    }
}
