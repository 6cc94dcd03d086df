//! Products on the portal and subscriptions: SPEC P3 for every kind of
//! visitor, P4 (subscribe, limit, approval), S1, S2 (the gateway key check),
//! and the console's subscription views.

use std::time::Duration;

use reqwest::StatusCode;

use crate::helpers::*;
use crate::smtp_server::{Mail, Mode, SmtpServer};

fn product_names(html: &str) -> Vec<String> {
    text_of(html, ".products h2")
}

#[tokio::test]
async fn each_kind_of_visitor_sees_what_p3_allows() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (dev_id, dev) = app.developer("dev@example.org").await;
    let (_, other) = app.developer("other@example.org").await;
    let partners = app.group(&admin, "Partners", &[&dev_id]).await;
    app.product(&admin, "Open Data", &["guests"], &[]).await;
    app.product(&admin, "Everyone", &["developers"], &[]).await;
    app.product(&admin, "Partner API", &[&partners], &[]).await;
    app.product(&admin, "Secret", &[], &[]).await;
    app.product(&admin, "Draft", &["developers", "guests"], &[])
        .await;
    app.post(&admin, "/admin/products/draft/unpublish", &[])
        .await;

    let anonymous = browser();
    let html = app.get_html(&anonymous, "/products").await;
    assert_eq!(product_names(&html), ["Open Data"]);
    assert_eq!(
        product_names(&app.get_html(&anonymous, "/").await),
        ["Open Data"]
    );
    assert_eq!(
        product_names(&app.get_html(&dev, "/products").await),
        ["Everyone", "Partner API"]
    );
    assert_eq!(
        product_names(&app.get_html(&other, "/products").await),
        ["Everyone"]
    );
    // An administrator on the portal sees every product.
    let admin_portal = browser();
    app.portal_sign_in(&admin_portal, ADMIN_EMAIL, ADMIN_PASSWORD)
        .await;
    assert_eq!(
        product_names(&app.get_html(&admin_portal, "/products").await),
        ["Draft", "Everyone", "Open Data", "Partner API", "Secret"]
    );

    // A product one may not see answers 404, like one that does not exist (S-13).
    for (who, path) in [
        (&anonymous, "/products/everyone"),
        (&anonymous, "/products/draft"),
        (&other, "/products/partner-api"),
        (&dev, "/products/secret"),
        (&dev, "/products/draft"),
        (&dev, "/products/no-such-thing"),
    ] {
        assert_eq!(
            app.get(who, path).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let html = app.get_html(&anonymous, "/products/open-data").await;
    assert!(html.contains("Sign in</a> or <a href=\"/sign-up\">sign up</a> to subscribe"));
    // A visitor can look but never subscribe.
    let r = app.subscribe(&anonymous, "open-data", "").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(location(&r).starts_with("/sign-in"));
}

#[tokio::test]
async fn removed_from_the_granting_group_loses_sight_and_subscribe() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (dev_id, dev) = app.developer("dev@example.org").await;
    let partners = app.group(&admin, "Partners", &[&dev_id]).await;
    app.product(&admin, "Partner API", &[&partners], &[]).await;
    assert_eq!(
        app.get(&dev, "/products/partner-api").await.status(),
        StatusCode::OK
    );
    let r = app
        .post(
            &admin,
            &format!("/admin/groups/{partners}/members/remove"),
            &[("ids", &dev_id)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(product_names(&app.get_html(&dev, "/products").await).is_empty());
    assert_eq!(
        app.get(&dev, "/products/partner-api").await.status(),
        StatusCode::NOT_FOUND
    );
    let r = app.subscribe(&dev, "partner-api", "").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND, "refused at Subscribe");
    assert!(app.subscriptions_of(&dev_id).await.is_empty());
}

#[tokio::test]
async fn subscribe_shows_keys_on_request_and_the_gateway_accepts_them() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (dev_id, dev) = app.developer("dev@example.org").await;
    app.product(&admin, "Weather", &["developers"], &[]).await;

    let r = app.subscribe(&dev, "weather", "My weather app").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let subs = app.subscriptions_of(&dev_id).await;
    assert_eq!(subs.len(), 1);
    let (id, state, primary, secondary) = subs[0].clone();
    assert_eq!(state, "active");
    assert!(primary.len() >= 32 && secondary.len() >= 32 && primary != secondary);

    let r = app.get(&dev, "/subscriptions").await;
    assert_eq!(r.headers().get("cache-control").unwrap(), "no-store");
    let html = r.text().await.unwrap();
    assert!(html.contains("My weather app") && html.contains("Active"));
    assert!(!html.contains(&primary), "keys hidden until revealed");
    let html = app
        .get_html(&dev, &format!("/subscriptions?show={id}"))
        .await;
    assert!(html.contains(&primary) && html.contains(&secondary));

    for key in [&primary, &secondary] {
        let r = app.check_key(key).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["x-portal-account-id"], dev_id.as_str());
        assert_eq!(r.headers()["x-portal-product-id"], "weather");
        assert_eq!(r.headers()["x-portal-subscription-id"], id.as_str());
    }
    // The query parameter, and a proxy's X-Original-URI, work too.
    let c = reqwest::Client::new();
    let r = c
        .get(app.url(&format!("/gateway/check?subscription-key={primary}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = c
        .get(app.url("/gateway/check"))
        .header(
            "X-Original-URI",
            format!("/forecast?city=Oslo&subscription-key={primary}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // No key: 401; a wrong one: 403.
    let r = c.get(app.url("/gateway/check")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.check_key("0123456789abcdef0123456789abcdef")
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(app.check_key("x").await.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn regenerate_suspend_block_and_unpublish_take_effect_at_the_next_check() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (dev_id, dev) = app.developer("dev@example.org").await;
    app.product(&admin, "Weather", &["developers"], &[]).await;
    app.subscribe(&dev, "weather", "").await;
    let (id, _, old_primary, secondary) = app.subscriptions_of(&dev_id).await[0].clone();
    // Warm the key check's memory first, so the tests see it forget.
    assert_eq!(app.check_key(&old_primary).await.status(), StatusCode::OK);

    let r = app
        .post(
            &dev,
            &format!("/subscriptions/{id}/regenerate"),
            &[("key", "primary")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, _, new_primary, same_secondary) = app.subscriptions_of(&dev_id).await[0].clone();
    assert_ne!(new_primary, old_primary);
    assert_eq!(same_secondary, secondary);
    assert_eq!(
        app.check_key(&old_primary).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(app.check_key(&new_primary).await.status(), StatusCode::OK);

    // Suspend and activate in the console.
    app.post(&admin, &format!("/admin/subscriptions/{id}/suspend"), &[])
        .await;
    assert_eq!(
        app.check_key(&new_primary).await.status(),
        StatusCode::FORBIDDEN
    );
    app.post(&admin, &format!("/admin/subscriptions/{id}/activate"), &[])
        .await;
    assert_eq!(app.check_key(&new_primary).await.status(), StatusCode::OK);

    // A blocked developer's keys are refused; activation restores them (U5).
    app.post(&admin, &format!("/admin/users/{dev_id}/block"), &[])
        .await;
    assert_eq!(
        app.check_key(&new_primary).await.status(),
        StatusCode::FORBIDDEN
    );
    app.post(&admin, &format!("/admin/users/{dev_id}/activate"), &[])
        .await;
    assert_eq!(app.check_key(&new_primary).await.status(), StatusCode::OK);

    // An unpublished product's keys are refused.
    app.post(&admin, "/admin/products/weather/unpublish", &[])
        .await;
    assert_eq!(
        app.check_key(&new_primary).await.status(),
        StatusCode::FORBIDDEN
    );
    app.post(&admin, "/admin/products/weather/publish", &[])
        .await;
    assert_eq!(app.check_key(&new_primary).await.status(), StatusCode::OK);
    // Unpublished through the settings form: the same.
    let settings = [
        ("name", "Weather"),
        ("description", "An API"),
        ("subscription_required", "on"),
    ];
    let r = app.post(&admin, "/admin/products/weather", &settings).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.check_key(&new_primary).await.status(),
        StatusCode::FORBIDDEN
    );
    app.post(&admin, "/admin/products/weather/publish", &[])
        .await;
    assert_eq!(app.check_key(&new_primary).await.status(), StatusCode::OK);

    // The admin regenerates from the console.
    let r = app
        .post(
            &admin,
            &format!("/admin/subscriptions/{id}/regenerate"),
            &[("key", "secondary")],
        )
        .await;
    assert_eq!(location(&r), format!("/admin/subscriptions/{id}?show=1"));
    let (_, _, _, new_secondary) = app.subscriptions_of(&dev_id).await[0].clone();
    assert_ne!(new_secondary, secondary, "secondary regenerated");
    assert_eq!(
        app.check_key(&secondary).await.status(),
        StatusCode::FORBIDDEN
    );

    // The owner (signed in again: the block ended their session) cancels: keys die.
    let r = app
        .portal_sign_in(&dev, "dev@example.org", USER_PASSWORD)
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = app
        .post(&dev, &format!("/subscriptions/{id}/cancel"), &[])
        .await;
    assert_eq!(location(&r), "/subscriptions");
    assert_eq!(
        app.check_key(&new_primary).await.status(),
        StatusCode::FORBIDDEN
    );
    assert!(
        app.get_html(&dev, "/subscriptions")
            .await
            .contains("Cancelled")
    );
    // Deleting the account removes its subscriptions.
    app.post(&admin, &format!("/admin/users/{dev_id}/delete"), &[])
        .await;
    assert!(app.subscriptions_of(&dev_id).await.is_empty());
}

#[tokio::test]
async fn the_limit_holds_under_parallel_subscribe_requests() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (dev_id, dev) = app.developer("dev@example.org").await;
    app.product(
        &admin,
        "Limited",
        &["developers"],
        &[("subscriptions_limit", "2")],
    )
    .await;
    let token = app.csrf(&dev).await;
    let tries = (0..10).map(|i| {
        let (app, dev, token) = (&app, &dev, &token);
        async move {
            let name = format!("App {i}");
            app.post_with_token(
                dev,
                "/products/limited/subscribe",
                token,
                &[("name", &name)],
            )
            .await
            .status()
        }
    });
    let statuses = futures_util::future::join_all(tries).await;
    let ok = statuses
        .iter()
        .filter(|s| **s == StatusCode::SEE_OTHER)
        .count();
    assert_eq!(ok, 2, "{statuses:?}");
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::SEE_OTHER || *s == StatusCode::CONFLICT)
    );
    assert_eq!(app.subscriptions_of(&dev_id).await.len(), 2);
    let r = app.subscribe(&dev, "limited", "One more").await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let html = r.text().await.unwrap();
    assert!(html.contains("the most it allows"), "{html}");
    assert_eq!(
        input_value(&html, "input#name").as_deref(),
        Some("One more")
    );
    // Cancelling one frees a place.
    let id = app.subscriptions_of(&dev_id).await[0].0.clone();
    app.post(&dev, &format!("/subscriptions/{id}/cancel"), &[])
        .await;
    assert_eq!(
        app.subscribe(&dev, "limited", "").await.status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn approval_flow_with_emails() {
    let server = SmtpServer::start(Mode::Normal).await;
    let app = spawn_with_smtp(&server).await;
    let admin = app.admin().await;
    let (dev_id, dev) = app.developer("dev@example.org").await;
    app.product(
        &admin,
        "Premium",
        &["developers"],
        &[("approval_required", "on")],
    )
    .await;
    app.subscribe(&dev, "premium", "First").await;
    app.subscribe(&dev, "premium", "Second").await;
    let subs = app.subscriptions_of(&dev_id).await;
    assert!(subs.iter().all(|s| s.1 == "submitted"));
    assert_eq!(
        app.check_key(&subs[0].2).await.status(),
        StatusCode::FORBIDDEN
    );
    let mine = app.get_html(&dev, "/subscriptions").await;
    assert!(mine.contains("Waiting for approval"));
    // The state is an inline badge in the colour its state has everywhere.
    let badges = text_of(&mine, "dd > span.state.state-sub-submitted");
    assert!(!badges.is_empty() && badges.iter().all(|b| b == "Waiting for approval"));

    // The console lists them per product and per account.
    let html = app
        .get_html(
            &admin,
            "/admin/products/premium/subscriptions?state=submitted",
        )
        .await;
    assert!(html.contains("First") && html.contains("Second") && html.contains("Approve"));
    let html = app
        .get_html(&admin, &format!("/admin/users/{dev_id}/subscriptions"))
        .await;
    assert!(html.contains("Premium"));

    let back = "/admin/products/premium/subscriptions";
    let r = app
        .post(
            &admin,
            &format!("/admin/subscriptions/{}/approve", subs[0].0),
            &[("back", back)],
        )
        .await;
    assert_eq!(location(&r), back);
    assert!(flash(&app.get_html(&admin, back).await).contains("is now active"));
    app.post(
        &admin,
        &format!("/admin/subscriptions/{}/reject", subs[1].0),
        &[],
    )
    .await;
    assert_eq!(app.check_key(&subs[0].2).await.status(), StatusCode::OK);
    assert_eq!(
        app.check_key(&subs[1].2).await.status(),
        StatusCode::FORBIDDEN
    );
    // Rejected is final.
    let r = app
        .post(
            &admin,
            &format!("/admin/subscriptions/{}/approve", subs[1].0),
            &[],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.subscriptions_of(&dev_id).await[1].1, "rejected");

    let got = server.wait_for(2, Duration::from_secs(15)).await;
    let subjects: Vec<String> = got.iter().map(|m| Mail::parse(&m.data).subject()).collect();
    assert!(
        subjects.iter().any(|s| s.contains("Premium is approved")),
        "{subjects:?}"
    );
    assert!(
        subjects.iter().any(|s| s.contains("request for Premium")),
        "{subjects:?}"
    );
    let actions = app.audit_actions().await;
    for a in [
        "subscription.created",
        "subscription.activated",
        "subscription.rejected",
    ] {
        assert!(actions.contains(&a.to_owned()), "{a} in {actions:?}");
    }
}

#[tokio::test]
async fn someone_elses_subscription_is_not_found() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (dev_id, dev) = app.developer("dev@example.org").await;
    let (_, other) = app.developer("other@example.org").await;
    app.product(&admin, "Weather", &["developers"], &[]).await;
    app.subscribe(&dev, "weather", "").await;
    let (id, _, primary, _) = app.subscriptions_of(&dev_id).await[0].clone();
    for path in [
        format!("/subscriptions/{id}/cancel"),
        format!("/subscriptions/{id}/regenerate"),
    ] {
        let r = app.post(&other, &path, &[("key", "primary")]).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let html = app
        .get_html(&other, &format!("/subscriptions?show={id}"))
        .await;
    assert!(!html.contains(&primary));
    assert_eq!(app.check_key(&primary).await.status(), StatusCode::OK);
    // The console's subscription routes are for administrators only.
    let r = app
        .post(&dev, &format!("/admin/subscriptions/{id}/suspend"), &[])
        .await;
    assert_eq!(location(&r), "/admin/sign-in");
    assert_eq!(app.subscriptions_of(&dev_id).await[0].1, "active");
}

#[tokio::test]
async fn products_needing_no_subscription_offer_none() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (_, dev) = app.developer("dev@example.org").await;
    let r = app
        .post(
            &admin,
            "/admin/products/add",
            &[("name", "Status"), ("published", "on")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    app.post(
        &admin,
        "/admin/products/status/access/add",
        &[("group", "developers")],
    )
    .await;
    let html = app.get_html(&dev, "/products/status").await;
    assert!(html.contains("needs no subscription"));
    assert_eq!(
        app.subscribe(&dev, "status", "").await.status(),
        StatusCode::CONFLICT
    );
}

#[tokio::test]
async fn a_renamed_developer_keeps_the_groups_and_products_they_had() {
    // Memberships are found by the account's sort name (migration 0005):
    // renaming must carry them along, in the portal and in the console.
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (dev_id, dev) = app.developer("dev@example.org").await;
    let partners = app.group(&admin, "Partners", &[&dev_id]).await;
    app.product(&admin, "Partner API", &[&partners], &[]).await;
    assert_eq!(
        product_names(&app.get_html(&dev, "/products").await),
        ["Partner API"]
    );

    let r = app
        .post(
            &dev,
            "/profile",
            &[("first_name", "Zoë"), ("last_name", "Ångström")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "renamed");
    assert_eq!(
        product_names(&app.get_html(&dev, "/products").await),
        ["Partner API"],
        "still sees what the group grants"
    );
    let account = app
        .get_html(&admin, &format!("/admin/users/{dev_id}"))
        .await;
    assert!(account.contains("Ångström"));
    assert!(account.contains("Partners"), "still a member: {account}");
    let members = app
        .get_html(&admin, &format!("/admin/groups/{partners}/members"))
        .await;
    assert!(members.contains("Ångström"), "listed under the new name");
    assert!(members.contains("1 member"));
}

/// Issue 13: an administrator adds a subscription from the console, from
/// the account's page (pick a product it can see) or from the product's
/// (name the account); the same rules as the developer's own, the usual
/// email, an audit record, and a key that works at once.
#[tokio::test]
async fn an_administrator_adds_a_subscription_from_the_console() {
    let server = SmtpServer::start(Mode::Normal).await;
    let app = spawn_with_smtp(&server).await;
    let admin = app.admin().await;
    let dev = app
        .insert_account("kim@example.org", "Kim", "Park", "active")
        .await;
    let open = app.product(&admin, "Weather", &["developers"], &[]).await;
    let hidden = app.product(&admin, "Secret", &[], &[]).await;

    let form = app
        .get_html(&admin, &format!("/admin/users/{dev}/subscriptions/add"))
        .await;
    assert_eq!(
        text_of(&form, "select#product option"),
        ["Weather"],
        "only what the account may see"
    );
    // Not one the account cannot see, whatever the form sends.
    let r = app
        .post(
            &admin,
            &format!("/admin/users/{dev}/subscriptions/add"),
            &[
                ("product", hidden.as_str()),
                ("name", "x"),
                ("state", "active"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(app.subscriptions_of(&dev).await.is_empty());

    let r = app
        .post(
            &admin,
            &format!("/admin/users/{dev}/subscriptions/add"),
            &[
                ("product", open.as_str()),
                ("name", "Kim's key"),
                ("state", "active"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = app.get_html(&admin, &location(&r)).await;
    assert!(flash(&html).contains("Subscribed kim@example.org to Weather."));
    let subs = app.subscriptions_of(&dev).await;
    assert_eq!(subs.len(), 1);
    assert_eq!(subs[0].1, "active");
    assert_eq!(app.check_key(&subs[0].2).await.status(), StatusCode::OK);
    let got = server.wait_for(1, Duration::from_secs(15)).await;
    let mail = Mail::parse(&got[0].data);
    assert!(mail.header("to").contains("kim@example.org"));
    assert!(mail.subject().contains("approved"), "{}", mail.subject());
    assert!(
        app.audit_actions()
            .await
            .contains(&"subscription.created".to_owned())
    );

    // From the product's tab, by email; submitted waits for approval.
    let r = app
        .post(
            &admin,
            &format!("/admin/products/{open}/subscriptions/add"),
            &[
                ("email", "KIM@example.org"),
                ("name", ""),
                ("state", "submitted"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let subs = app.subscriptions_of(&dev).await;
    assert_eq!(subs.len(), 2);
    // Both were made within a second: find the new one by its state.
    let submitted = subs
        .iter()
        .find(|s| s.1 == "submitted")
        .expect("a submitted one");
    assert_eq!(
        app.check_key(&submitted.2).await.status(),
        StatusCode::FORBIDDEN
    );
    let r = app
        .post(
            &admin,
            &format!("/admin/products/{open}/subscriptions/add"),
            &[("email", "nobody@example.org"), ("state", "active")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("There is no account with this email address.")
    );
}
