//! The console home (SPEC R5): the programme at a glance, each chart's
//! numbers as a table beside it, and the counters behind them kept right
//! through every change (both databases).

use reqwest::StatusCode;
use scraper::{Html, Selector};

use crate::helpers::*;

const WEEK: i64 = 7 * 24 * 60 * 60;

/// A chart's table: (label, number) per row.
fn table(html: &str, chart: &str) -> Vec<(String, String)> {
    let labels = text_of(html, &format!("#{chart} tbody th"));
    let numbers = text_of(html, &format!("#{chart} tbody td"));
    labels.into_iter().zip(numbers).collect()
}

/// A chart's bars: (data-label, data-value) per bar.
fn bars(html: &str, chart: &str) -> Vec<(String, String)> {
    let doc = Html::parse_document(html);
    let sel = Selector::parse(&format!("#{chart} svg g.bar")).unwrap();
    doc.select(&sel)
        .map(|g| {
            let v = g.value();
            (
                v.attr("data-label").unwrap_or_default().to_owned(),
                v.attr("data-value").unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn pairs(rows: &[(&str, &str)]) -> Vec<(String, String)> {
    rows.iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

/// The table and the drawing say the same (numbers without separators).
fn assert_drawn_as_tabled(html: &str, chart: &str) {
    let tabled: Vec<(String, String)> = table(html, chart)
        .into_iter()
        .map(|(l, n)| (l, n.replace(',', "")))
        .collect();
    assert_eq!(bars(html, chart), tabled, "{chart}: bars and table agree");
}

#[tokio::test]
async fn the_home_shows_the_programme_at_a_glance() {
    let app = spawn_app().await;
    // Registered three weeks ago (with the administrator), then time moves
    // on to today.
    app.developer("early@example.org").await;
    app.clock.advance(3 * WEEK);
    let admin = browser();
    let r = app.sign_in(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(location(&r), "/admin", "signing in lands on the home");
    let (_, dev) = app.developer("dev@example.org").await;
    let (blocked, _) = app.developer("blocked@example.org").await;
    app.insert_account("waiting@example.org", "Wai", "Ting", "pending")
        .await;
    let r = app
        .post(&admin, &format!("/admin/users/{blocked}/block"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = app
        .post(
            &admin,
            "/admin/users/invite",
            &[
                ("first_name", "Ada"),
                ("last_name", "Lovelace"),
                ("email", "ada@example.org"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    let open = app.product(&admin, "Open API", &["developers"], &[]).await;
    let premium = app
        .product(
            &admin,
            "Premium API",
            &["developers"],
            &[("approval_required", "on")],
        )
        .await;
    for name in ["One", "Two"] {
        let r = app.subscribe(&dev, &open, name).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
    let r = app.subscribe(&dev, &premium, "Asking").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    let r = app.get(&admin, "/admin").await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert_eq!(text_of(&html, "h1"), ["Home"]);
    assert_eq!(text_of(&html, "nav a[aria-current=page]"), ["Home"]);
    assert_eq!(
        text_of(&html, "#pending-invitations"),
        ["1 pending invitation"]
    );
    assert_eq!(text_of(&html, "#total-accounts"), ["5 accounts"]);

    assert_eq!(
        table(&html, "chart-accounts"),
        pairs(&[("Active", "3"), ("Blocked", "1"), ("Pending", "1")])
    );
    assert_eq!(
        table(&html, "chart-subscriptions"),
        pairs(&[
            ("Waiting for approval", "1"),
            ("Active", "2"),
            ("Suspended", "0"),
            ("Rejected", "0"),
            ("Cancelled", "0"),
            ("Expired", "0"),
        ])
    );
    assert_eq!(table(&html, "chart-products"), pairs(&[("Open API", "2")]));
    let signups = table(&html, "chart-signups");
    assert_eq!(signups.len(), 12, "twelve weeks: {signups:?}");
    let per_week: Vec<&str> = signups.iter().map(|(_, n)| n.as_str()).collect();
    // The administrator and "early" three weeks ago, three accounts this week.
    assert_eq!(
        per_week,
        ["0", "0", "0", "0", "0", "0", "0", "0", "2", "0", "0", "3"],
        "{signups:?}"
    );
    assert_eq!(table(&html, "chart-emails").len(), 3);
    for chart in [
        "chart-accounts",
        "chart-signups",
        "chart-subscriptions",
        "chart-products",
        "chart-emails",
    ] {
        assert_drawn_as_tabled(&html, chart);
        let desc = text_of(&html, &format!("#{chart}-desc"));
        assert_eq!(desc.len(), 1, "{chart} has a description");
        assert!(!text_of(&html, &format!("#{chart}-title"))[0].is_empty());
    }
    let latest = text_of(&html, "#latest-changes tbody tr").join("\n");
    assert!(latest.contains("account.blocked"), "{latest}");
    assert!(latest.contains("invitation."), "{latest}");
    assert!(text_of(&html, "#latest-changes tbody tr").len() <= 10);

    // Twelve weeks on, "early" has left the chart.
    app.clock.advance(9 * WEEK);
    let admin = app.admin().await;
    let html = app.get_html(&admin, "/admin").await;
    let per_week: Vec<String> = table(&html, "chart-signups")
        .into_iter()
        .map(|(_, n)| n)
        .collect();
    assert_eq!(
        per_week,
        ["0", "0", "3", "0", "0", "0", "0", "0", "0", "0", "0", "0"]
    );
}

#[tokio::test]
async fn the_counters_follow_every_change_of_a_subscription() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (dev_id, dev) = app.developer("dev@example.org").await;
    let open = app.product(&admin, "Open API", &["developers"], &[]).await;
    let other = app.product(&admin, "Other API", &["developers"], &[]).await;
    for (product, name) in [(&open, "A"), (&open, "B"), (&other, "C")] {
        let r = app.subscribe(&dev, product, name).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
    let html = app.get_html(&admin, "/admin").await;
    assert_eq!(
        table(&html, "chart-products"),
        pairs(&[("Open API", "2"), ("Other API", "1")])
    );

    let a: String = db_one!(
        &app.db,
        "SELECT id FROM subscriptions WHERE display_name = ?",
        "A"
    );
    let r = app
        .post(&admin, &format!("/admin/subscriptions/{a}/suspend"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = app.get_html(&admin, "/admin").await;
    let subscriptions = table(&html, "chart-subscriptions");
    assert!(subscriptions.contains(&("Active".into(), "2".into())));
    assert!(subscriptions.contains(&("Suspended".into(), "1".into())));
    assert_eq!(
        table(&html, "chart-products"),
        pairs(&[("Open API", "1"), ("Other API", "1")])
    );

    // A deleted product takes its subscriptions out of every count.
    let r = app
        .post(&admin, &format!("/admin/products/{open}/delete"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = app.get_html(&admin, "/admin").await;
    assert_eq!(table(&html, "chart-products"), pairs(&[("Other API", "1")]));
    let subscriptions = table(&html, "chart-subscriptions");
    assert!(subscriptions.contains(&("Active".into(), "1".into())));
    assert!(subscriptions.contains(&("Suspended".into(), "0".into())));

    // So does a deleted account; and the triggers agree with the rows.
    let r = app
        .post(&admin, &format!("/admin/users/{dev_id}/delete"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = app.get_html(&admin, "/admin").await;
    assert_eq!(
        text_of(&html, "#chart-products tbody td"),
        ["No product has an active subscription yet."]
    );
    assert!(bars(&html, "chart-products").is_empty());
    assert_eq!(
        portal::store::seed::counter_mismatches(&app.db)
            .await
            .unwrap(),
        Vec::<String>::new()
    );
}
