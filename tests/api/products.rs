//! Products and access control: SPEC P1, P2, P3, P5.

use reqwest::StatusCode;

use crate::helpers::*;

fn product_form(name: &str) -> Vec<(&str, &str)> {
    vec![
        ("name", name),
        ("description", "Weather data"),
        ("terms", "Be nice"),
        ("subscription_required", "on"),
        ("subscriptions_limit", "2"),
        ("published", "on"),
    ]
}

async fn grants(app: &TestApp, product: &str) -> Vec<String> {
    db_all!(
        &app.db,
        "SELECT group_id FROM product_groups WHERE product_id = ? ORDER BY group_id",
        product
    )
}

#[tokio::test]
async fn add_edit_publish_and_delete_a_product() {
    let app = spawn_app().await;
    let c = app.admin().await;
    let r = app
        .post(&c, "/admin/products/add", &product_form("Weather API"))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/admin/products/weather-api");
    let html = app.get_html(&c, "/admin/products").await;
    assert!(
        html.contains("Weather API")
            && html.contains("Published")
            && html.contains("Administrators only")
    );

    let mut form = product_form("Weather API v2");
    form.retain(|(k, _)| *k != "published");
    let r = app.post(&c, "/admin/products/weather-api", &form).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = app.get_html(&c, "/admin/products/weather-api").await;
    assert_eq!(text_of(&html, "h1"), ["Weather API v2"]);
    assert!(html.contains("Not published"));
    assert_eq!(
        input_value(&html, "input#subscriptions_limit").as_deref(),
        Some("2")
    );

    app.post(&c, "/admin/products/weather-api/publish", &[])
        .await;
    assert!(
        app.get_html(&c, "/admin/products/weather-api")
            .await
            .contains("Unpublish")
    );
    app.post(&c, "/admin/products/weather-api/unpublish", &[])
        .await;
    assert!(
        app.get_html(&c, "/admin/products/weather-api")
            .await
            .contains(">Publish<")
    );

    let html = app.get_html(&c, "/admin/products/weather-api/delete").await;
    assert!(html.contains("Delete Weather API v2?"));
    let r = app
        .post(&c, "/admin/products/weather-api/delete", &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.get(&c, "/admin/products/weather-api").await.status(),
        StatusCode::NOT_FOUND
    );
    let actions = app.audit_actions().await;
    for a in [
        "product.created",
        "product.updated",
        "product.published",
        "product.unpublished",
        "product.deleted",
    ] {
        assert!(actions.contains(&a.to_owned()), "{a}");
    }
}

#[tokio::test]
async fn product_validation_and_unique_names() {
    let app = spawn_app().await;
    let c = app.admin().await;
    app.post(&c, "/admin/products/add", &product_form("Echo"))
        .await;
    let r = app
        .post(&c, "/admin/products/add", &product_form("ECHO"))
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text_of(&r.text().await.unwrap(), "#name-error")[0].contains("already exists"));
    let mut form = product_form("Other");
    form.retain(|(k, _)| *k != "subscriptions_limit");
    form.push(("subscriptions_limit", "lots"));
    let r = app.post(&c, "/admin/products/add", &form).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(text_of(&html, "#subscriptions_limit-error")[0].contains("whole number"));
    assert_eq!(
        input_value(&html, "input#name").as_deref(),
        Some("Other"),
        "input kept"
    );
    let n: i64 = db_one!(&app.db, "SELECT count(*) FROM products");
    assert_eq!(n, 1);
}

#[tokio::test]
async fn access_control_save_add_and_remove() {
    let app = spawn_app().await;
    let c = app.admin().await;
    app.post(&c, "/admin/products/add", &product_form("Echo"))
        .await;
    app.post(
        &c,
        "/admin/groups/add",
        &[("name", "Partners"), ("action", "create")],
    )
    .await;

    // Add group (found by name), then Save with checkboxes, then Remove.
    let html = app
        .get_html(&c, "/admin/products/echo/access?find=part")
        .await;
    assert!(html.contains("Add group Partners"));
    let r = app
        .post(
            &c,
            "/admin/products/echo/access/add",
            &[("group", "partners")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(grants(&app, "echo").await, ["partners"]);
    let html = app.get_html(&c, "/admin/products/echo/access").await;
    assert!(flash(&html).contains("Partners can now see Echo."));

    let shown = [
        ("shown", "administrators"),
        ("shown", "developers"),
        ("shown", "guests"),
        ("shown", "partners"),
    ];
    let mut form = shown.to_vec();
    form.extend([("groups", "guests"), ("groups", "partners")]);
    let r = app.post(&c, "/admin/products/echo/access", &form).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(grants(&app, "echo").await, ["guests", "partners"]);

    // A grant the form did not show is kept.
    app.post(
        &c,
        "/admin/groups/add",
        &[("name", "Hidden"), ("action", "create")],
    )
    .await;
    app.post(
        &c,
        "/admin/products/echo/access/add",
        &[("group", "hidden")],
    )
    .await;
    let form = vec![("shown", "guests"), ("groups", "guests")];
    app.post(&c, "/admin/products/echo/access", &form).await;
    assert_eq!(grants(&app, "echo").await, ["guests", "hidden", "partners"]);

    let r = app
        .post(
            &c,
            "/admin/products/echo/access/remove",
            &[("group", "partners")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(grants(&app, "echo").await, ["guests", "hidden"]);
    // Removing again, or adding a group that does not exist, is a clear message.
    app.post(
        &c,
        "/admin/products/echo/access/remove",
        &[("group", "partners")],
    )
    .await;
    assert!(
        flash(&app.get_html(&c, "/admin/products/echo/access").await).contains("could not see")
    );
    app.post(&c, "/admin/products/echo/access/add", &[("group", "gone")])
        .await;
    assert!(
        flash(&app.get_html(&c, "/admin/products/echo/access").await).contains("no longer exists")
    );
    assert!(
        app.audit_actions()
            .await
            .contains(&"product.access_changed".into())
    );
}

#[tokio::test]
async fn access_explained_for_accounts_and_products() {
    let app = spawn_app().await;
    let c = app.admin().await;
    let ann = app
        .insert_account("ann@example.org", "Ann", "Lee", "active")
        .await;
    let bob = app
        .insert_account("bob@example.org", "Bob", "Stone", "active")
        .await;
    let blocked = app
        .insert_account("zed@example.org", "Zed", "Blocked", "blocked")
        .await;
    app.post(
        &c,
        "/admin/groups/add",
        &[
            ("name", "Partners"),
            ("action", "create"),
            ("members", &ann),
            ("members", &blocked),
        ],
    )
    .await;
    app.post(&c, "/admin/products/add", &product_form("Echo"))
        .await;
    app.post(&c, "/admin/products/add", &product_form("Public"))
        .await;
    let mut draft = product_form("Draft");
    draft.retain(|(k, _)| *k != "published");
    app.post(&c, "/admin/products/add", &draft).await;
    app.post(
        &c,
        "/admin/products/echo/access/add",
        &[("group", "partners")],
    )
    .await;
    app.post(
        &c,
        "/admin/products/public/access/add",
        &[("group", "developers")],
    )
    .await;
    app.post(
        &c,
        "/admin/products/draft/access/add",
        &[("group", "partners")],
    )
    .await;

    let rows = |html: &str| text_of(html, "section[aria-labelledby=visible-h] tbody tr");
    let html = app.get_html(&c, &format!("/admin/users/{ann}")).await;
    assert_eq!(rows(&html), ["Echo Partners", "Public Developers"]);
    let html = app.get_html(&c, &format!("/admin/users/{bob}")).await;
    assert_eq!(rows(&html), ["Public Developers"]);
    let html = app.get_html(&c, &format!("/admin/users/{blocked}")).await;
    assert!(rows(&html).is_empty(), "a blocked account sees nothing");
    let me = app.id_of(ADMIN_EMAIL).await.unwrap();
    let html = app.get_html(&c, &format!("/admin/users/{me}")).await;
    assert!(html.contains("An administrator sees every product."));
    assert_eq!(
        rows(&html).len(),
        3,
        "administrators see unpublished products too"
    );

    let viewers = |html: &str| text_of(html, "section[aria-labelledby=who-h] tbody td:first-child");
    let html = app.get_html(&c, "/admin/products/echo/access").await;
    assert_eq!(viewers(&html), ["Ann Lee"], "blocked members cannot see it");
    let html = app.get_html(&c, "/admin/products/public/access").await;
    assert!(html.contains("Every active developer"));
    assert_eq!(viewers(&html).len(), 3);
    let html = app
        .get_html(&c, "/admin/products/public/access?q=stone")
        .await;
    assert_eq!(viewers(&html), ["Bob Stone"]);
    let html = app.get_html(&c, "/admin/products/draft/access").await;
    assert!(html.contains("Nobody else while it is not published."));
    assert!(viewers(&html).is_empty());

    // Removed from the granting group, Ann loses sight of Echo at once.
    app.post(
        &c,
        "/admin/groups/partners/members/remove",
        &[("ids", &ann)],
    )
    .await;
    let html = app.get_html(&c, &format!("/admin/users/{ann}")).await;
    assert_eq!(rows(&html), ["Public Developers"]);

    // What Ann's groups (now Bob's) see was just read, and is remembered;
    // a revoked grant is honoured by the very next page all the same.
    app.post(
        &c,
        "/admin/products/public/access/remove",
        &[("group", "developers")],
    )
    .await;
    let html = app.get_html(&c, &format!("/admin/users/{bob}")).await;
    assert!(rows(&html).is_empty(), "{:?}", rows(&html));
}
