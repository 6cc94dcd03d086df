//! One test per rule of SECURITY.md that the console covers so far.

use std::time::Duration;

use reqwest::StatusCode;

use crate::helpers::*;

// ---- S-12 CSRF ---------------------------------------------------------------

#[tokio::test]
async fn form_posts_without_the_sessions_token_are_refused() {
    let app = spawn_app().await;
    let c = app.admin().await;
    let other = app.admin().await;
    let id = app
        .insert_account("kim@example.org", "Kim", "Park", "active")
        .await;
    let path = format!("/admin/users/{id}/block");

    let r = c
        .post(app.url(&path))
        .form(&[("x", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "missing token");
    let foreign = app.csrf(&other).await;
    let r = app.post_with_token(&c, &path, &foreign, &[]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "another session's token");
    let r = app.post_with_token(&c, &path, "", &[]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "empty token");
    assert_eq!(app.state_of(&id).await.as_deref(), Some("active"));

    let r = app.post(&c, &path, &[]).await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "the session's own token works"
    );
    assert_eq!(app.state_of(&id).await.as_deref(), Some("blocked"));
}

#[tokio::test]
async fn sign_in_needs_a_csrf_token_too() {
    let app = spawn_app().await;
    let c = browser();
    let r = c
        .post(app.url("/admin/sign-in"))
        .form(&[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn cross_site_posts_are_refused_even_with_a_token() {
    let app = spawn_app().await;
    let c = app.admin().await;
    let id = app
        .insert_account("kim@example.org", "Kim", "Park", "active")
        .await;
    let token = app.csrf(&c).await;
    let url = app.url(&format!("/admin/users/{id}/block"));
    let r = c
        .post(&url)
        .header("origin", "https://evil.example")
        .form(&[("csrf_token", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "foreign Origin");
    let r = c
        .post(&url)
        .header("origin", "null")
        .form(&[("csrf_token", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "opaque Origin");
    let r = c
        .post(&url)
        .header("sec-fetch-site", "cross-site")
        .form(&[("csrf_token", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "Sec-Fetch-Site: cross-site"
    );
    assert_eq!(app.state_of(&id).await.as_deref(), Some("active"));
    let r = c
        .post(&url)
        .header("origin", &app.address)
        .form(&[("csrf_token", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "same origin passes");
}

#[tokio::test]
async fn the_token_is_rotated_and_the_session_renewed_at_sign_in() {
    let app = spawn_app().await;
    let c = browser();
    let r = app.get(&c, "/admin/sign-in").await;
    let before_cookie = set_cookie(&r);
    let before_token = input_value(&r.text().await.unwrap(), "input[name=csrf_token]").unwrap();
    let r = app
        .post_with_token(
            &c,
            "/admin/sign-in",
            &before_token,
            &[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_ne!(
        set_cookie(&r),
        before_cookie,
        "a new session cookie at sign-in"
    );
    let after_token = app.csrf(&c).await;
    assert_ne!(after_token, before_token, "a new CSRF token at sign-in");
    let id = app
        .insert_account("kim@example.org", "Kim", "Park", "active")
        .await;
    let r = app
        .post_with_token(&c, &format!("/admin/users/{id}/block"), &before_token, &[])
        .await;
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "the pre-sign-in token no longer works"
    );
}

// ---- S-9 cookie ----------------------------------------------------------------

#[tokio::test]
async fn the_session_cookie_is_locked_down() {
    let app = spawn_app().await;
    let r = app.get(&browser(), "/admin/sign-in").await;
    let cookie = r
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("portal="), "{cookie}");
    assert!(cookie.contains("HttpOnly"));
    assert!(cookie.contains("SameSite=Lax"));
    assert!(cookie.contains("Path=/"));
    assert!(!cookie.to_lowercase().contains("domain="));
    assert!(!cookie.contains("Secure"), "plain http in this test");
}

#[tokio::test]
async fn over_https_the_cookie_is_secure_and_host_prefixed() {
    let app = spawn_with(|s| s.base_url = "https://portal.example.org".into()).await;
    let r = app.get(&browser(), "/admin/sign-in").await;
    let cookie = r
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("__Host-portal="), "{cookie}");
    assert!(cookie.contains("Secure"));
    assert!(!cookie.to_lowercase().contains("domain="));
    assert!(
        r.headers().get("strict-transport-security").is_some(),
        "HSTS over https"
    );
}

// ---- S-11 timeouts -------------------------------------------------------------

#[tokio::test]
async fn an_idle_console_session_ends() {
    let app = spawn_with(|s| s.timeouts.console_idle = Duration::from_secs(600)).await;
    let c = app.admin().await;
    app.clock.advance(599);
    assert_eq!(app.get(&c, "/admin/users").await.status(), StatusCode::OK);
    app.clock.advance(598);
    assert_eq!(
        app.get(&c, "/admin/users").await.status(),
        StatusCode::OK,
        "each request restarts the idle time"
    );
    app.clock.advance(601);
    let r = app.get(&c, "/admin/users").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/admin/sign-in?ended=1");
    let html = app.get_html(&c, &location(&r)).await;
    assert!(flash(&html).contains("Your session has ended"));
}

#[tokio::test]
async fn a_console_session_ends_after_its_absolute_lifetime_even_when_busy() {
    let app = spawn_with(|s| s.timeouts.session_absolute = Duration::from_secs(3600)).await;
    let c = app.admin().await;
    for _ in 0..3 {
        assert_eq!(app.get(&c, "/admin/users").await.status(), StatusCode::OK);
        app.clock.advance(1199);
    }
    assert_eq!(app.get(&c, "/admin/users").await.status(), StatusCode::OK);
    app.clock.advance(3);
    assert_eq!(
        app.get(&c, "/admin/users").await.status(),
        StatusCode::SEE_OTHER
    );
}

// ---- S-3 and S-4 sign-in -------------------------------------------------------

#[tokio::test]
async fn repeated_failures_make_each_next_attempt_wait_and_look_the_same() {
    let app = spawn_app().await;
    let c = browser();
    let lock = || async {
        let row: (i64, i64) = db_row!(
            &app.db,
            "SELECT failed_signins, locked_until FROM accounts WHERE email_key = ?",
            ADMIN_EMAIL
        );
        row
    };
    for _ in 0..4 {
        let r = app
            .sign_in(&c, ADMIN_EMAIL, "wrong password number x")
            .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    assert!(
        lock().await.1 <= app.clock.now(),
        "four failures cost no wait"
    );
    let wrong = app
        .sign_in(&c, ADMIN_EMAIL, "wrong password number y")
        .await;
    let wrong_html = wrong.text().await.unwrap();
    let (failures, until) = lock().await;
    assert_eq!(failures, 5);
    assert!(
        until > app.clock.now() - 1,
        "the fifth failure makes the next attempt wait"
    );

    // While the account waits, even the right password is refused, and the
    // refusal reads exactly like a wrong password. (The wait is stretched
    // here so a slow machine cannot outlast it.)
    db_exec!(
        &app.db,
        "UPDATE accounts SET locked_until = ? WHERE email_key = ?",
        app.clock.now() + 60,
        ADMIN_EMAIL
    );
    let r = app.sign_in(&c, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(
        r.status(),
        StatusCode::UNAUTHORIZED,
        "even the right password waits"
    );
    let token = |html: &str| input_value(html, "input[name=csrf_token]").unwrap();
    let throttled = r.text().await.unwrap();
    assert_eq!(
        throttled.replace(&token(&throttled), ""),
        wrong_html.replace(&token(&wrong_html), "")
    );

    db_exec!(
        &app.db,
        "UPDATE accounts SET locked_until = ? WHERE email_key = ?",
        app.clock.now() - 1,
        ADMIN_EMAIL
    );
    let r = app.sign_in(&c, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "after the wait the right password works"
    );
    assert_eq!(lock().await.0, 0, "success resets the count");
}

#[tokio::test]
async fn parallel_guesses_cannot_slip_past_the_throttle() {
    let app = spawn_app().await;
    let attempts = (0..12).map(|i| {
        let app = &app;
        async move {
            let c = browser();
            app.sign_in(&c, ADMIN_EMAIL, &format!("parallel wrong guess {i}"))
                .await;
        }
    });
    let started = std::time::Instant::now();
    futures_util::future::join_all(attempts).await;
    let elapsed = started.elapsed();
    let (failures, locked_until): (i64, i64) = db_row!(
        &app.db,
        "SELECT failed_signins, locked_until FROM accounts WHERE email_key = ?",
        ADMIN_EMAIL
    );
    // Every attempt that got past the lock was counted before its password
    // was checked, so five free tries are all a burst of twelve gets, and
    // one more for each wait a slow machine lets run out.
    assert!(
        throttle_allows(elapsed).contains(&failures),
        "{failures} attempts got through in {elapsed:?}"
    );
    assert!(locked_until > 0, "the account was made to wait");
}

#[tokio::test]
async fn sign_in_answers_alike_for_unknown_wrong_blocked_and_pending() {
    let app = spawn_app().await;
    app.insert_account("blocked@example.org", "B", "L", "blocked")
        .await;
    app.insert_account("pending@example.org", "P", "N", "pending")
        .await;
    let mut answers = Vec::new();
    for email in [
        "nobody@example.org",
        ADMIN_EMAIL,
        "blocked@example.org",
        "pending@example.org",
    ] {
        let r = app
            .sign_in(&browser(), email, "certainly not the password")
            .await;
        let status = r.status();
        let html = r.text().await.unwrap();
        // Only the echoed email and the per-session token may differ.
        let token = input_value(&html, "input[name=csrf_token]").unwrap();
        answers.push((
            status,
            html.replace(&token, "TOKEN").replace(email, "EMAIL"),
        ));
    }
    for a in &answers[1..] {
        assert_eq!(a, &answers[0]);
    }
}

// ---- S-16 headers ----------------------------------------------------------------

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = spawn_app().await;
    let c = app.admin().await;
    for path in [
        "/admin/users",
        "/admin/sign-in",
        "/admin/users/nope",
        "/healthz",
    ] {
        let r = app.get(&c, path).await;
        let h = r.headers();
        let csp = h.get("content-security-policy").unwrap().to_str().unwrap();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{path}"
        );
        assert_eq!(h.get("x-content-type-options").unwrap(), "nosniff");
        assert_eq!(h.get("x-frame-options").unwrap(), "DENY");
        assert_eq!(h.get("referrer-policy").unwrap(), "same-origin");
        assert_eq!(h.get("cache-control").unwrap(), "no-store", "{path}");
        assert!(h.get("x-request-id").is_some());
        assert!(
            h.get("strict-transport-security").is_none(),
            "no HSTS over plain http"
        );
    }
    let r = app.get(&c, "/admin/users/nope").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let id = r
        .headers()
        .get("x-request-id")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        r.text().await.unwrap().contains(&id),
        "error pages show the request id"
    );
}

#[tokio::test]
async fn get_requests_never_change_anything() {
    let app = spawn_app().await;
    let c = app.admin().await;
    let id = app
        .insert_account("kim@example.org", "Kim", "Park", "active")
        .await;
    for path in ["block", "delete", "activate", "password"] {
        app.get(&c, &format!("/admin/users/{id}/{path}")).await;
    }
    assert_eq!(app.state_of(&id).await.as_deref(), Some("active"));
}

/// Pages behind emailed links send no referrer, so browsers post their forms
/// with `Origin: null`; with `Sec-Fetch-Site: same-origin` that is this site.
#[tokio::test]
async fn a_null_origin_passes_only_when_the_browser_says_same_origin() {
    let app = spawn_app().await;
    let c = app.admin().await;
    let id = app
        .insert_account("kim@example.org", "Kim", "Park", "active")
        .await;
    let token = app.csrf(&c).await;
    let url = app.url(&format!("/admin/users/{id}/block"));
    let post = |site: &'static str| {
        c.post(&url)
            .header("origin", "null")
            .header("sec-fetch-site", site)
            .form(&[("csrf_token", token.as_str())])
            .send()
    };
    assert_eq!(
        post("cross-site").await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post("same-site").await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(app.state_of(&id).await.as_deref(), Some("active"));
    assert_eq!(
        post("same-origin").await.unwrap().status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.state_of(&id).await.as_deref(), Some("blocked"));
}
