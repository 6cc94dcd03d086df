//! `portal rotate-keys` (O4): another process rotates the signing keys of a
//! running portal, which signs with the new keys within seconds (its clock
//! moved, not slept) and keeps publishing the old ones.

use reqwest::StatusCode;

use crate::helpers::*;
use crate::oidc_client::*;

async fn published_kids(app: &TestApp) -> Vec<String> {
    jwks(app)
        .await
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn rotate_keys_command_is_picked_up_by_a_running_portal() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let reg = register(&app, &admin, &NewApp::confidential("Dashboard")).await;
    let (_, dev) = app.developer("dev@example.org").await;
    let (_, before) = sign_in(&app, &dev, &reg).await;
    let old = verify(&app, before.str("id_token")).await;
    let old_kid = old.header["kid"].as_str().unwrap().to_owned();
    let kids_before = published_kids(&app).await;
    assert_eq!(
        kids_before.len(),
        2,
        "an RS256 and an ES256 key: {kids_before:?}"
    );

    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_portal"))
        .arg("rotate-keys")
        .env("DATABASE_URL", &app.settings.database_url)
        .env("RUST_LOG", "warn")
        .output()
        .await
        .unwrap();
    let printed = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let signing: Vec<&str> = printed
        .lines()
        .filter(|l| l.ends_with("signs new tokens"))
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    assert_eq!(signing.len(), 2, "{printed}");
    assert_eq!(
        printed.matches("retired, published until").count(),
        2,
        "{printed}"
    );

    // The running portal asks the database again after a few seconds.
    app.clock.advance(6);
    let kids = published_kids(&app).await;
    for kid in signing.iter().map(|k| k.to_string()).chain(kids_before) {
        assert!(kids.contains(&kid), "{kid} published: {kids:?}");
    }
    let (_, after) = sign_in(&app, &dev, &reg).await;
    let new = verify(&app, after.str("id_token")).await;
    let new_kid = new.header["kid"].as_str().unwrap();
    assert_ne!(new_kid, old_kid);
    assert!(signing.contains(&new_kid), "signed with a new key");
    // A token from before still verifies, and its refresh token still works.
    verify(&app, before.str("id_token")).await;
    let r = refresh(&app, auth_of(&reg), before.str("refresh_token")).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");

    // An hour later (every token of the old keys expired) they are gone.
    app.clock.advance(3601);
    let kids = published_kids(&app).await;
    assert_eq!(kids.len(), 2, "{kids:?}");
    assert!(!kids.contains(&old_kid));
}
