//! Signing in through an outside OpenID provider (SPEC X1–X4, G7, S-22),
//! with the certified `oidc-provider` as that provider: the console's
//! Identity providers pages, a first sign-in that makes the account and
//! its external groups, and later sign-ins whose claim the memberships
//! follow, with the products they grant.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;
use crate::outside_provider::*;

async fn external_groups_of(app: &TestApp, account: &str) -> Vec<String> {
    db_all!(
        &app.db,
        "SELECT g.external_id FROM memberships m JOIN groups g ON g.id = m.group_id
         WHERE m.account_id = ? AND g.kind = 'external' ORDER BY g.external_id",
        account
    )
}

async fn group_by_external_id(app: &TestApp, external_id: &str) -> String {
    db_one!(
        &app.db,
        "SELECT id FROM groups WHERE external_id = ?",
        external_id
    )
}

#[tokio::test]
async fn the_console_adds_a_provider_tests_it_and_never_shows_its_secret() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let idp = OutsideProvider::start(GroupsIn::IdToken).await;

    // Parsed at the boundary: each field's problem beside it, nothing saved.
    let r = app
        .post(
            &admin,
            "/admin/identity-providers/add",
            &[
                ("name", ""),
                ("issuer", "http://login.example.com"),
                ("client_id", ""),
                ("client_secret", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    for field in ["name", "issuer", "client_id", "client_secret"] {
        assert!(
            html.contains(&format!("id=\"{field}-error\"")),
            "an error beside {field}"
        );
    }
    assert!(html.contains("Use https://, or http:// only on a loopback address"));

    let id = add_provider(&app, &admin, &idp, true).await;
    let page = format!("/admin/identity-providers/{id}");
    let html = app.get_html(&admin, &page).await;
    assert!(
        !html.contains(CLIENT_SECRET),
        "the secret is not shown again"
    );
    assert_eq!(input_value(&html, "#client_secret").unwrap_or_default(), "");

    // Test connection reads discovery and the JWKS.
    let r = app.post(&admin, &format!("{page}/test"), &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("The provider answered."), "{html}");
    assert!(html.contains(&format!("{}/auth", idp.issuer)));
    assert!(html.contains("RS256"));

    // Saving without a secret keeps the saved one; the sign-in still works.
    let r = app
        .post(
            &admin,
            &page,
            &[
                ("name", "Partner Directory"),
                ("issuer", idp.issuer.as_str()),
                ("client_id", CLIENT_ID),
                ("client_secret", ""),
                ("scopes", "openid email profile"),
                ("groups_claim", "groups"),
                ("create_accounts", "on"),
                ("enabled", "on"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let secret: String = db_one!(
        &app.db,
        "SELECT client_secret FROM identity_providers WHERE id = ?",
        &id
    );
    assert_eq!(secret, CLIENT_SECRET);

    // A provider that does not answer: said so, not a 500.
    let r = app
        .post(
            &admin,
            &page,
            &[
                ("name", "Partner Directory"),
                ("issuer", "http://127.0.0.1:9"),
                ("client_id", CLIENT_ID),
                ("scopes", "openid"),
                ("enabled", "on"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = app
        .post(&admin, &format!("{page}/test"), &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("The provider could not be used"), "{html}");

    // Every change audited, never with the secret.
    let actions = app.audit_actions().await;
    assert!(actions.contains(&"identity_provider.created".to_owned()));
    assert!(actions.contains(&"identity_provider.updated".to_owned()));
    let logged: Vec<String> = db_all!(
        &app.db,
        "SELECT coalesce(before_json, '') || coalesce(after_json, '') FROM audit_log"
    );
    assert!(logged.iter().all(|l| !l.contains(CLIENT_SECRET)));

    let r = app.post(&admin, &format!("{page}/delete"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.get(&admin, &page).await.status(), StatusCode::NOT_FOUND);
    assert!(
        app.audit_actions()
            .await
            .contains(&"identity_provider.deleted".to_owned())
    );
}

/// X2, X3, X4 both ways the groups can come: in the ID token, or only
/// from userinfo.
#[tokio::test]
async fn a_first_sign_in_makes_the_account_and_its_groups_which_follow_the_provider() {
    for groups_in in [GroupsIn::IdToken, GroupsIn::UserInfo] {
        let app = spawn_app().await;
        let admin = app.admin().await;
        let idp = OutsideProvider::start(groups_in).await;
        let provider = add_provider(&app, &admin, &idp, true).await;
        idp.person(
            "ada",
            "ada@partner.example",
            true,
            json!(["team-a", "team-b"]),
        )
        .await;

        // The sign-in page offers it.
        let html = app.get_html(&browser(), "/sign-in").await;
        assert!(
            html.contains("Sign in with Partner Directory"),
            "{groups_in:?}"
        );

        let dev = browser();
        let r = sign_in_through(&app, &dev, &provider, "ada").await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{groups_in:?}");
        assert_eq!(location(&r), "/");
        let account = app
            .id_of("ada@partner.example")
            .await
            .expect("account made");
        assert_eq!(app.state_of(&account).await.unwrap(), "active");
        assert_eq!(app.get(&dev, "/profile").await.status(), StatusCode::OK);
        assert_eq!(
            external_groups_of(&app, &account).await,
            ["team-a", "team-b"],
            "{groups_in:?}"
        );

        // A product granted to one external group (X4) is seen through it.
        let team_a = group_by_external_id(&app, "team-a").await;
        let product = app.product(&admin, "Partner API", &[&team_a], &[]).await;
        let products = app.get_html(&dev, "/products").await;
        assert!(products.contains("Partner API"));

        // The Groups tab marks them, with their provider, and shows their
        // members read-only.
        let list = app.get_html(&admin, "/admin/groups").await;
        assert!(list.contains("External (Partner Directory)"), "{list}");
        let html = app
            .get_html(&admin, &format!("/admin/groups/{team_a}"))
            .await;
        assert!(html.contains("External"));
        assert!(html.contains("An external group of"));
        let r = app
            .post(
                &admin,
                &format!("/admin/groups/{team_a}"),
                &[("name", "Team A"), ("description", "Partner engineers")],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "renamed by hand");

        // The account page lists the identity.
        let html = app
            .get_html(&admin, &format!("/admin/users/{account}"))
            .await;
        assert!(html.contains("Linked identities"));
        assert!(html.contains("<code>ada</code>"));

        // The claim changes at the provider: the next sign-in follows it,
        // in one transaction with its audit record, and the product goes.
        idp.person("ada", "ada@partner.example", true, json!("team-b"))
            .await;
        let again = browser();
        let r = sign_in_through(&app, &again, &provider, "ada").await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(external_groups_of(&app, &account).await, ["team-b"]);
        assert_eq!(
            app.id_of("ada@partner.example").await.unwrap(),
            account,
            "the same account"
        );
        let products = app.get_html(&again, "/products").await;
        assert!(!products.contains("Partner API"), "{groups_in:?}");
        assert_eq!(
            app.get(&again, &format!("/products/{product}"))
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
        let renamed: String = db_one!(&app.db, "SELECT name FROM groups WHERE id = ?", &team_a);
        assert_eq!(renamed, "Team A", "a display name written by hand stays");
        let actions = app.audit_actions().await;
        for a in [
            "account.created",
            "account.identity_linked",
            "account.external_groups",
        ] {
            assert!(actions.contains(&a.to_owned()), "{a} audited");
        }

        // Unlink: no more sign-in to this account with it, groups left.
        let r = app
            .post(
                &admin,
                &format!("/admin/users/{account}/unlink"),
                &[("provider", &provider), ("subject", "ada")],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert!(external_groups_of(&app, &account).await.is_empty());
    }
}

#[tokio::test]
async fn a_verified_email_links_an_existing_account_but_never_an_administrator() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let idp = OutsideProvider::start(GroupsIn::IdToken).await;
    let provider = add_provider(&app, &admin, &idp, false).await;
    let (dev, _) = app.developer("grace@partner.example").await;
    idp.person("grace-sub", "Grace@Partner.example", true, json!([]))
        .await;
    let c = browser();
    let r = sign_in_through(&app, &c, &provider, "grace-sub").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let linked: String = db_one!(
        &app.db,
        "SELECT account_id FROM identities WHERE subject = 'grace-sub'"
    );
    assert_eq!(linked, dev);

    idp.person("root-sub", ADMIN_EMAIL, true, json!([])).await;
    let r = sign_in_through(&app, &browser(), &provider, "root-sub").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("No portal account could be linked")
    );
    let links: i64 = db_one!(
        &app.db,
        "SELECT count(*) FROM identities WHERE subject = 'root-sub'"
    );
    assert_eq!(links, 0, "an administrator is never linked automatically");
}
