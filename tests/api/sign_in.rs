use reqwest::StatusCode;

use crate::helpers::*;

#[tokio::test]
async fn administrator_signs_in_and_out() {
    let app = spawn_app().await;
    let c = browser();
    let r = app.sign_in(&c, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/admin");
    let html = app.get_html(&c, "/admin/users").await;
    assert!(html.contains(ADMIN_EMAIL));
    assert!(
        html.contains("Portal Administrator"),
        "the header names who is signed in"
    );

    let r = app.post(&c, "/admin/sign-out", &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = app.get(&c, "/admin/users").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(location(&r).starts_with("/admin/sign-in"));
}

#[tokio::test]
async fn a_copied_cookie_stops_working_at_sign_out() {
    let app = spawn_app().await;
    // A client that keeps no cookies: the test carries them by hand, as a
    // thief with a copy of the cookie would.
    let raw = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = raw.get(app.url("/admin/sign-in")).send().await.unwrap();
    let anon = set_cookie(&r);
    let token = input_value(&r.text().await.unwrap(), "input[name=csrf_token]").unwrap();
    let r = raw
        .post(app.url("/admin/sign-in"))
        .header("cookie", &anon)
        .form(&[
            ("csrf_token", token.as_str()),
            ("email", ADMIN_EMAIL),
            ("password", ADMIN_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    let signed_in = set_cookie(&r);
    let page = |cookie: String| {
        raw.get(app.url("/admin/users"))
            .header("cookie", cookie)
            .send()
    };
    let r = page(signed_in.clone()).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let token = input_value(&r.text().await.unwrap(), "input[name=csrf_token]").unwrap();
    let r = raw
        .post(app.url("/admin/sign-out"))
        .header("cookie", &signed_in)
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = page(signed_in).await.unwrap();
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "the copied cookie is refused"
    );
}

#[tokio::test]
async fn wrong_password_is_refused_with_a_message() {
    let app = spawn_app().await;
    let c = browser();
    let r = app
        .sign_in(&c, ADMIN_EMAIL, "not the password at all")
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let html = r.text().await.unwrap();
    assert!(flash(&html).contains("The email address or password is not right."));
    assert_eq!(
        input_value(&html, "input#email").as_deref(),
        Some(ADMIN_EMAIL),
        "email kept"
    );
    assert_eq!(
        app.get(&c, "/admin/users").await.status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn developers_cannot_sign_in_to_the_console() {
    let app = spawn_app().await;
    app.insert_account("dev@example.org", "Dev", "Eloper", "active")
        .await;
    let c = browser();
    let r = app.sign_in(&c, "dev@example.org", USER_PASSWORD).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(flash(&r.text().await.unwrap()).contains("not an administrator"));
    assert_eq!(
        app.get(&c, "/admin/users").await.status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn blocked_administrator_is_told_so_only_with_the_right_password() {
    let app = spawn_app().await;
    let id = app
        .insert_account("blocked@example.org", "Bea", "Locked", "blocked")
        .await;
    app.make_admin(&id).await;
    let c = browser();
    let r = app.sign_in(&c, "blocked@example.org", USER_PASSWORD).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(flash(&r.text().await.unwrap()).contains("blocked"));
    let r = app
        .sign_in(&c, "blocked@example.org", "a wrong password here")
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn first_start_without_settings_creates_admin_at_localhost() {
    let app = spawn_with(|s| {
        s.admin_email = None;
        s.admin_password = None;
    })
    .await;
    let id = app
        .id_of("admin@localhost")
        .await
        .expect("admin@localhost exists");
    let is_admin: bool = db_one!(
        &app.db,
        "SELECT EXISTS (SELECT 1 FROM memberships WHERE group_id = 'administrators' AND account_id = ?)",
        &id
    );
    assert!(is_admin);
}

#[tokio::test]
async fn create_admin_command_adds_an_administrator() {
    let app = spawn_app().await;
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_portal"))
        .args([
            "create-admin",
            "--email",
            "ops@example.org",
            "--password",
            "cobalt meadow whistle 8",
        ])
        .env("DATABASE_URL", &app.settings.database_url)
        .env("RUST_LOG", "warn")
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let c = browser();
    let r = app
        .sign_in(&c, "ops@example.org", "cobalt meadow whistle 8")
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.get(&c, "/admin/users").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn reading_pages_does_not_rewrite_the_session_cookie() {
    // The cookie is rewritten when the session changes (a message shown, a
    // sign-in, a minute of activity), not on every page: encrypting it costs,
    // and a response without Set-Cookie can be compared and cached.
    let app = spawn_app().await;
    let c = app.admin().await;
    app.get(&c, "/admin/users").await;
    for path in ["/admin/users", "/admin/groups", "/admin/products"] {
        let r = app.get(&c, path).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(
            r.headers().get("set-cookie").is_none(),
            "{path} rewrote the session cookie"
        );
    }
}
