//! The OpenID provider and the portal session (issue 14): signing in on the
//! way, prompt=login and max_age asking for the password again,
//! end-session signing the portal out, and the forms whose redirects end at
//! the application (a browser checks them against the page's form-action).

use reqwest::{Client, Response, StatusCode};
use url::Url;

use crate::helpers::*;
use crate::oidc_client::*;

/// Where a 303 goes, as a path and query on this server.
fn local(app: &TestApp, r: &Response) -> String {
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{:?}", r.headers());
    location(r).trim_start_matches(&app.address).to_owned()
}

/// Asserts `r` sends the browser to the portal's sign-in page with `next`
/// = the authorize URL of `req`: every parameter as sent but `prompt=login`
/// and `max_age`, which the sign-in on the way satisfies (nothing the URL
/// says can waive a sign-in); that page's path.
fn to_sign_in(app: &TestApp, r: &Response, req: &Authorize) -> String {
    let path = local(app, r);
    let to = Url::parse(&app.url(&path)).unwrap();
    assert_eq!(to.path(), "/sign-in", "{path}");
    let next = param(&to, "next").expect("next");
    let next = Url::parse(&app.url(next.trim_start_matches(&app.address))).unwrap();
    let sent = Url::parse(&app.url(&req.path())).unwrap();
    assert_eq!(next.path(), sent.path());
    let got: Vec<_> = next.query_pairs().collect();
    for pair in sent.query_pairs() {
        if pair.0 == "prompt" || pair.0 == "max_age" {
            assert!(
                !got.iter().any(|g| g.0 == pair.0),
                "{pair:?} kept in next={next}"
            );
            continue;
        }
        assert!(got.contains(&pair), "{pair:?} missing from next={next}");
    }
    path
}

/// Signs in on the sign-in page at `path` with its own form; the answer.
async fn sign_in_there(app: &TestApp, b: &Client, path: &str, email: &str) -> Response {
    let html = app.get_html(b, path).await;
    let mut fields = hidden_fields(&html, "/sign-in");
    fields.push(("email".into(), email.into()));
    fields.push(("password".into(), USER_PASSWORD.into()));
    b.post(app.url("/sign-in"))
        .form(&fields)
        .send()
        .await
        .unwrap()
}

/// Follows the sign-in's 303 to the authorize URL, which answers with the
/// redirect back to the application (no second sign-in); its code.
async fn back_with_code(
    app: &TestApp,
    b: &Client,
    signed_in: &Response,
    req: &Authorize,
) -> String {
    let next = local(app, signed_in);
    assert!(next.starts_with("/oidc/authorize?"), "{next}");
    let r = app.get(b, &next).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let back = Url::parse(&location(&r)).expect("back at the application");
    assert!(back.as_str().starts_with(REDIRECT_URI), "{back}");
    assert_eq!(param(&back, "state").as_deref(), Some(req.state.as_str()));
    param(&back, "code").expect("a code")
}

/// Whether `b` is signed in to the portal.
async fn signed_in(app: &TestApp, b: &Client) -> bool {
    app.get(b, "/profile").await.status() == StatusCode::OK
}

async fn trusted(app: &TestApp) -> Registered {
    let admin = app.admin().await;
    let new = NewApp {
        trusted: true,
        ..NewApp::confidential("Team Wiki")
    };
    register(app, &admin, &new).await
}

#[tokio::test]
async fn signing_in_to_the_portal_goes_back_to_the_authorization_request() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let reg = register(&app, &admin, &NewApp::confidential("Team Wiki")).await;
    app.insert_account("dev@example.org", "Dev", "Eloper", "active")
        .await;
    let b = browser();
    let req = Authorize::new(&reg);
    let r = app.get(&b, &req.path()).await;
    let page = to_sign_in(&app, &r, &req);
    let r = sign_in_there(&app, &b, &page, "dev@example.org").await;
    assert_eq!(local(&app, &r), req.path(), "back to the authorize URL");
    let code = code_for(&app, &b, &req).await;
    let t = exchange(&app, auth_of(&reg), &req, &code).await;
    assert_eq!(t.status, StatusCode::OK, "{t:?}");
}

#[tokio::test]
async fn prompt_login_asks_for_the_password_again() {
    let app = spawn_app().await;
    let reg = trusted(&app).await;
    let (_, dev) = app.developer("dev@example.org").await;
    app.clock.advance(100);
    let again = app.clock.now();

    let mut req = Authorize::new(&reg);
    req.prompt = Some("login".into());
    let r = app.get(&dev, &req.path()).await;
    let page = to_sign_in(&app, &r, &req);
    assert!(!signed_in(&app, &dev).await, "the portal session ended");

    // Signing in again goes back and on to the application (no loop).
    let r = sign_in_there(&app, &dev, &page, "dev@example.org").await;
    let code = back_with_code(&app, &dev, &r, &req).await;
    let t = exchange(&app, auth_of(&reg), &req, &code).await;
    assert_eq!(t.status, StatusCode::OK, "{t:?}");
    let id = id_token(&app, t.str("id_token"), &reg.client_id, Some(&req.nonce)).await;
    let auth_time = id.claims["auth_time"].as_i64().unwrap();
    assert!(
        auth_time >= again,
        "auth_time {auth_time} is the new sign-in"
    );
}

#[tokio::test]
async fn prompt_login_cannot_be_waived_by_a_parameter_in_the_request() {
    let app = spawn_app().await;
    let reg = trusted(&app).await;
    let (_, dev) = app.developer("dev@example.org").await;
    app.clock.advance(100);
    let mut waived = vec![];
    for extra in ["prompt=login", "max_age=60"] {
        let req = Authorize::new(&reg);
        // A parameter the provider does not document, which OAuth says it
        // ignores (RFC 6749 §3.1), cannot stand for a fresh sign-in.
        let path = format!("{}&{extra}&fresh_since=0", req.path());
        let r = app.get(&dev, &path).await;
        let to = local(&app, &r);
        if !to.starts_with("/sign-in?") || signed_in(&app, &dev).await {
            waived.push(format!("{extra}: 303 to {to}"));
        }
        let r = app
            .portal_sign_in(&dev, "dev@example.org", USER_PASSWORD)
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        app.clock.advance(100);
    }
    assert!(waived.is_empty(), "no new sign-in asked: {waived:#?}");
}

#[tokio::test]
async fn max_age_exceeded_asks_for_the_password_again() {
    let app = spawn_app().await;
    let reg = trusted(&app).await;
    let (_, dev) = app.developer("dev@example.org").await;
    app.clock.advance(120);

    let mut req = Authorize::new(&reg);
    req.max_age = Some(3600);
    let code = code_for(&app, &dev, &req).await;
    let t = exchange(&app, auth_of(&reg), &req, &code).await;
    assert_eq!(t.status, StatusCode::OK, "{t:?}");

    let mut req = Authorize::new(&reg);
    req.max_age = Some(60);
    let r = app.get(&dev, &req.path()).await;
    let page = to_sign_in(&app, &r, &req);
    assert!(!signed_in(&app, &dev).await, "the portal session ended");
    let r = sign_in_there(&app, &dev, &page, "dev@example.org").await;
    let code = back_with_code(&app, &dev, &r, &req).await;
    let t = exchange(&app, auth_of(&reg), &req, &code).await;
    assert_eq!(t.status, StatusCode::OK, "{t:?}");
}

fn end_session_path(fields: &[(&str, &str)]) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.extend_pairs(fields);
    format!("/oidc/end-session?{}", q.finish())
}

#[tokio::test]
async fn end_session_with_a_hint_signs_the_portal_out_and_goes_back() {
    let app = spawn_app().await;
    let reg = trusted(&app).await;
    let (_, dev) = app.developer("dev@example.org").await;
    let (_, t) = sign_in(&app, &dev, &reg).await;
    let hint = t.str("id_token");

    // Not to an address the application did not register.
    let path = end_session_path(&[
        ("id_token_hint", hint),
        ("post_logout_redirect_uri", "https://evil.example/bye"),
        ("state", "bye"),
    ]);
    let r = app.get(&dev, &path).await;
    assert!(!location(&r).contains("evil.example"), "{:?}", r.headers());

    let (_, dev) = app.developer("other@example.org").await;
    let (_, t) = sign_in(&app, &dev, &reg).await;
    let path = end_session_path(&[
        ("id_token_hint", t.str("id_token")),
        ("post_logout_redirect_uri", REDIRECT_URI),
        ("state", "bye now"),
        ("client_id", &reg.client_id),
    ]);
    let r = app.get(&dev, &path).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = Url::parse(&location(&r)).unwrap();
    assert_eq!(to.as_str().split('?').next(), Some(REDIRECT_URI));
    assert_eq!(param(&to, "state").as_deref(), Some("bye now"));
    assert!(!signed_in(&app, &dev).await, "the portal session ended");
}

#[tokio::test]
async fn end_session_without_a_hint_asks_first() {
    let app = spawn_app().await;
    let (_, dev) = app.developer("dev@example.org").await;
    let r = app.get(&dev, "/oidc/end-session").await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(signed_in(&app, &dev).await, "nothing happens on GET");
    assert!(text_of(&html, "button").iter().any(|b| b == "Sign out"));
    let fields = hidden_fields(&html, "/oidc/end-session");
    let r = dev
        .post(app.url("/oidc/end-session"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection() || r.status().is_success());
    assert!(!signed_in(&app, &dev).await, "signed out");
}

/// Whether the `form-action` of the policy `csp` admits `url`. Chrome and
/// Safari check it against every redirect a form submission leads to, not
/// just the form's action.
fn form_action_allows(app: &TestApp, csp: &str, url: &Url) -> bool {
    let Some(directive) = csp
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("form-action"))
    else {
        return true;
    };
    let own = Url::parse(&app.address).unwrap().origin();
    directive.split_whitespace().skip(1).any(|src| match src {
        "*" => matches!(url.scheme(), "http" | "https"),
        "'self'" => url.origin() == own,
        s if s.ends_with(':') => url.scheme() == s.trim_end_matches(':'),
        s if !s.contains("://") => url.host_str() == Some(s),
        s => {
            let s = s.trim_end_matches('/');
            let u = url.as_str();
            u == s || u.starts_with(&format!("{s}/")) || u.starts_with(&format!("{s}?"))
        }
    })
}

/// The redirects a browser follows from `r` (on this server; it stops at
/// the first address elsewhere).
async fn redirects(app: &TestApp, b: &Client, mut r: Response) -> Vec<Url> {
    let mut hops = vec![];
    while r.status().is_redirection() {
        let at = location(&r);
        let to = if at.starts_with('/') {
            Url::parse(&app.url(&at)).unwrap()
        } else {
            Url::parse(&at).unwrap()
        };
        hops.push(to.clone());
        if !to.as_str().starts_with(&app.address) {
            break;
        }
        r = b.get(to).send().await.unwrap();
    }
    hops
}

fn csp_of(r: &Response) -> String {
    r.headers()
        .get("content-security-policy")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_browser_may_follow_the_redirects_that_end_a_form_submission() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let reg = register(&app, &admin, &NewApp::confidential("Team Wiki")).await;
    let (_, dev) = app.developer("dev@example.org").await;
    let mut blocked = vec![];

    // Allow on the consent page, then 303 to the application.
    let req = Authorize::new(&reg);
    let r = app.get(&dev, &req.path()).await;
    let csp = csp_of(&r);
    let html = r.text().await.unwrap();
    let hops = redirects(&app, &dev, consent(&app, &dev, &html, "allow").await).await;
    assert!(hops.last().unwrap().as_str().starts_with(REDIRECT_URI));
    for hop in hops.iter().filter(|u| !form_action_allows(&app, &csp, u)) {
        blocked.push(format!("consent page ({csp}) -> {hop}"));
    }

    // The portal's sign-in form, then the authorize URL, then the application.
    let b = browser();
    let req = Authorize::new(&reg);
    let r = app.get(&b, &req.path()).await;
    let page = location(&r);
    let r = app.get(&b, &page).await;
    let csp = csp_of(&r);
    let html = r.text().await.unwrap();
    let mut fields = hidden_fields(&html, "/sign-in");
    fields.push(("email".into(), "dev@example.org".into()));
    fields.push(("password".into(), USER_PASSWORD.into()));
    let r = b
        .post(app.url("/sign-in"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    let hops = redirects(&app, &b, r).await;
    assert!(hops.last().unwrap().as_str().starts_with(REDIRECT_URI));
    for hop in hops.iter().filter(|u| !form_action_allows(&app, &csp, u)) {
        blocked.push(format!("sign-in page ({csp}) -> {hop}"));
    }
    assert!(blocked.is_empty(), "form-action blocks: {blocked:#?}");
}
