//! The Audit log tab: SPEC A1 (the full log, filters, CSV export).

use std::collections::HashSet;

use portal::store::audit::{NewEntry, Subject, record};
use reqwest::StatusCode;
use scraper::{Html, Selector};

use crate::helpers::*;

const PASSWORD: &str = "saffron glacier piano 12";

async fn add_user(
    app: &TestApp,
    c: &reqwest::Client,
    email: &str,
    first: &str,
    last: &str,
) -> String {
    let r = app
        .post(
            c,
            "/admin/users/add",
            &[
                ("email", email),
                ("password", PASSWORD),
                ("first_name", first),
                ("last_name", last),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "adds {email}");
    app.id_of(email).await.expect("created")
}

/// Writes an entry straight into the log, as any service would.
async fn insert_entry(
    app: &TestApp,
    actor: &str,
    action: &'static str,
    summary: &str,
    subjects: &[(&'static str, &str, &str)],
) {
    let subjects: Vec<Subject<'_>> = subjects
        .iter()
        .map(|(kind, id, name)| Subject { kind, id, name })
        .collect();
    let mut tx = app.db.begin_write().await.unwrap();
    record(
        &mut tx,
        &NewEntry {
            at: app.clock.now(),
            actor_id: None,
            actor_label: actor,
            client_addr: None,
            channel: "system",
            action,
            summary,
            before: None,
            after: None,
            subjects: &subjects,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

async fn log_count(app: &TestApp) -> usize {
    let n: i64 = db_one!(&app.db, "SELECT count(*) FROM audit_log");
    n as usize
}

/// The action code of each row, top to bottom.
fn actions(html: &str) -> Vec<String> {
    text_of(html, "table.list tbody td.what code")
}

/// The id of each row, top to bottom.
fn entry_ids(html: &str) -> Vec<i64> {
    let doc = Html::parse_document(html);
    let sel = Selector::parse("table.list tbody tr").unwrap();
    doc.select(&sel)
        .map(|tr| {
            tr.value().attr("id").unwrap()["entry-".len()..]
                .parse()
                .unwrap()
        })
        .collect()
}

fn link(html: &str, rel: &str) -> Option<String> {
    let doc = Html::parse_document(html);
    let sel = Selector::parse(&format!("a[rel={rel}]")).unwrap();
    doc.select(&sel)
        .next()
        .map(|a| a.value().attr("href").unwrap().to_owned())
}

fn href_of(html: &str, selector: &str) -> Option<String> {
    let doc = Html::parse_document(html);
    let sel = Selector::parse(selector).unwrap();
    doc.select(&sel)
        .next()
        .and_then(|a| a.value().attr("href").map(str::to_owned))
}

/// Cells of one row (by 0-based row index) under a column class.
fn cell(html: &str, row: usize, class: &str) -> String {
    let cells = text_of(html, &format!("table.list tbody td.{class}"));
    cells[row].split_whitespace().collect::<Vec<_>>().join(" ")
}

#[tokio::test]
async fn console_changes_show_newest_first_with_who_how_what_and_values() {
    let app = spawn_app().await;
    let c = app.admin().await;
    let id = add_user(&app, &c, "grace.hopper@example.org", "Grace", "Hopper").await;
    let r = app.post(&c, &format!("/admin/users/{id}/block"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = app
        .post(&c, &format!("/admin/users/{id}/delete"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    let html = app.get_html(&c, "/admin/audit").await;
    assert_eq!(text_of(&html, "h1"), ["Audit log"]);
    assert_eq!(
        text_of(&html, "nav[aria-label=Console] a[aria-current=page]"),
        ["Audit log"]
    );
    assert_eq!(
        actions(&html)[..3],
        ["account.deleted", "account.blocked", "account.created"],
        "newest first"
    );
    let ids = entry_ids(&html);
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "{ids:?}");
    for row in 0..3 {
        assert_eq!(cell(&html, row, "who"), ADMIN_EMAIL);
        assert_eq!(cell(&html, row, "channel"), "Console");
        assert!(cell(&html, row, "when").ends_with(" UTC"));
    }
    assert!(cell(&html, 0, "what").starts_with("Deleted account grace.hopper@example.org"));
    assert!(cell(&html, 1, "what").starts_with("Blocked account grace.hopper@example.org"));
    assert!(cell(&html, 2, "what").starts_with("Created account grace.hopper@example.org"));

    // The entity by readable name, linked to its page.
    assert_eq!(
        href_of(&html, "table.list tbody tr:first-child td.subjects a").as_deref(),
        Some(format!("/admin/users/{id}").as_str())
    );
    assert_eq!(
        cell(&html, 1, "subjects"),
        "Account: grace.hopper@example.org"
    );

    // Before and after: what changed, what was created, what was deleted.
    assert_eq!(cell(&html, 1, "values"), "State: active → blocked");
    let created = cell(&html, 2, "values");
    assert!(created.starts_with("After"), "{created}");
    assert!(
        created.contains("Email: grace.hopper@example.org"),
        "{created}"
    );
    assert!(created.contains("First name: Grace"), "{created}");
    let deleted = cell(&html, 0, "values");
    assert!(deleted.starts_with("Before"), "{deleted}");
    assert!(deleted.contains("State: blocked"), "{deleted}");

    // Accessible table and filter form.
    assert_eq!(
        text_of(&html, "table.list thead th[scope=col]"),
        [
            "When",
            "Who",
            "Through",
            "What",
            "Concerning",
            "Before → after"
        ]
    );
    for field in ["account", "group", "product", "change"] {
        assert_eq!(text_of(&html, &format!("label[for={field}]")).len(), 1);
    }
    assert_eq!(
        href_of(&html, "a[href^='/admin/audit.csv']").as_deref(),
        Some("/admin/audit.csv")
    );
}

#[tokio::test]
async fn what_users_typed_is_escaped() {
    let app = spawn_app().await;
    let c = app.admin().await;
    insert_entry(
        &app,
        "<img src=x onerror=alert(1)>",
        "account.note_set",
        "<script>alert(1)</script>",
        &[("account", "x1", "<b>bold</b>@example.org")],
    )
    .await;
    let html = app.get_html(&c, "/admin/audit").await;
    assert!(cell(&html, 0, "what").starts_with("<script>alert(1)</script>"));
    assert!(!html.contains("<script>alert"));
    assert!(!html.contains("<img src=x"));
    assert!(!html.contains("<b>bold</b>"));
    assert_eq!(cell(&html, 0, "who"), "<img src=x onerror=alert(1)>");
}

#[tokio::test]
async fn filters_by_account_group_product_and_kind_of_change() {
    let app = spawn_app().await;
    let c = app.admin().await;
    let ann = add_user(&app, &c, "ann.lee@example.org", "Ann", "Lee").await;
    let bob = add_user(&app, &c, "bob.stone@example.org", "Bob", "Stone").await;
    app.post(&c, &format!("/admin/users/{bob}/block"), &[])
        .await;
    insert_entry(
        &app,
        "System",
        "group.member_added",
        "Added ann.lee@example.org to Partners",
        &[
            ("account", &ann, "ann.lee@example.org"),
            ("group", "g1", "Partners"),
        ],
    )
    .await;
    insert_entry(
        &app,
        "System",
        "product.created",
        "Created product Weather API",
        &[("product", "p1", "Weather API")],
    )
    .await;
    insert_entry(
        &app,
        "System",
        "subscription.approved",
        "Approved Bob's subscription to Weather API",
        &[
            ("account", &bob, "bob.stone@example.org"),
            ("product", "p1", "Weather API"),
        ],
    )
    .await;

    let html = app.get_html(&c, "/admin/audit?account=ANN.L").await;
    assert_eq!(
        actions(&html),
        ["group.member_added", "account.created"],
        "case-insensitive fragment of the account's name"
    );
    assert_eq!(
        input_value(&html, "input#account").as_deref(),
        Some("ANN.L")
    );

    let html = app.get_html(&c, "/admin/audit?group=partn").await;
    assert_eq!(actions(&html), ["group.member_added"]);
    let html = app.get_html(&c, "/admin/audit?product=weather").await;
    assert_eq!(actions(&html), ["subscription.approved", "product.created"]);

    let html = app.get_html(&c, "/admin/audit?change=subscription").await;
    assert_eq!(actions(&html), ["subscription.approved"]);
    assert_eq!(
        text_of(&html, "select#change option[selected]"),
        ["Subscriptions"]
    );
    let html = app
        .get_html(&c, "/admin/audit?account=bob&change=account")
        .await;
    assert_eq!(actions(&html), ["account.blocked", "account.created"]);
    let html = app
        .get_html(&c, "/admin/audit?account=bob&product=weather")
        .await;
    assert_eq!(actions(&html), ["subscription.approved"], "filters combine");
    assert_eq!(
        href_of(&html, "a[href^='/admin/audit.csv']").as_deref(),
        Some("/admin/audit.csv?account=bob&product=weather"),
        "the export keeps the filters"
    );

    // LIKE's wildcards are text here, and unknown kinds are no filter.
    let html = app.get_html(&c, "/admin/audit?account=%25").await;
    assert!(actions(&html).is_empty());
    assert!(html.contains("No entries match."));
    let html = app.get_html(&c, "/admin/audit?account=_").await;
    assert!(actions(&html).is_empty());
    let all = app.get_html(&c, "/admin/audit").await;
    let html = app.get_html(&c, "/admin/audit?change=bogus").await;
    assert_eq!(actions(&html), actions(&all));
}

#[tokio::test]
async fn one_entitys_history_from_its_page_can_be_cleared() {
    let app = spawn_app().await;
    let c = app.admin().await;
    let ann = add_user(&app, &c, "ann.lee@example.org", "Ann", "Lee").await;
    let bob = add_user(&app, &c, "bob.stone@example.org", "Bob", "Stone").await;
    app.post(&c, &format!("/admin/users/{ann}/block"), &[])
        .await;
    app.post(&c, &format!("/admin/users/{bob}/block"), &[])
        .await;
    app.post(&c, &format!("/admin/users/{ann}/activate"), &[])
        .await;

    let path = format!("/admin/audit?subject_kind=account&subject_id={ann}");
    let html = app.get_html(&c, &path).await;
    assert_eq!(
        actions(&html),
        ["account.activated", "account.blocked", "account.created"]
    );
    let banner = text_of(&html, ".flash-info")
        .join(" ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        banner.contains("concerning the account ann.lee@example.org"),
        "{banner}"
    );
    assert_eq!(
        href_of(&html, ".flash-info a[href^='/admin/users/']").as_deref(),
        Some(format!("/admin/users/{ann}").as_str())
    );
    let clear = href_of(&html, ".flash-info a[href^='/admin/audit']").unwrap();
    assert_eq!(clear, "/admin/audit");
    assert_eq!(
        input_value(&html, "input[name=subject_id]").as_deref(),
        Some(ann.as_str()),
        "the form keeps the entity"
    );

    // Combined with a kind of change; the clear link keeps the other filters.
    let html = app
        .get_html(&c, &format!("{path}&change=account&account=ann"))
        .await;
    assert_eq!(actions(&html).len(), 3);
    assert_eq!(
        href_of(&html, ".flash-info a[href^='/admin/audit']").as_deref(),
        Some("/admin/audit?account=ann&change=account")
    );

    // An entity deleted since is still shown by the name the log knew.
    app.post(&c, &format!("/admin/users/{bob}/delete"), &[])
        .await;
    let html = app
        .get_html(
            &c,
            &format!("/admin/audit?subject_kind=account&subject_id={bob}"),
        )
        .await;
    assert_eq!(
        actions(&html),
        ["account.deleted", "account.blocked", "account.created"]
    );
    assert!(text_of(&html, ".flash-info")[0].contains("bob.stone@example.org"));

    // An unknown kind is no filter.
    let html = app
        .get_html(&c, "/admin/audit?subject_kind=planet&subject_id=earth")
        .await;
    assert!(text_of(&html, ".flash-info").is_empty());
}

#[tokio::test]
async fn pages_of_fifty_walk_forwards_and_back_without_repeats() {
    let app = spawn_app().await;
    let c = app.admin().await;
    let id = app
        .insert_account("walk@example.org", "Walk", "Er", "active")
        .await;
    // A few entries through the console, the rest straight into the log.
    for _ in 0..3 {
        app.post(&c, &format!("/admin/users/{id}/block"), &[]).await;
        app.post(&c, &format!("/admin/users/{id}/activate"), &[])
            .await;
    }
    for i in 0..110 {
        insert_entry(
            &app,
            "System",
            "account.note_set",
            &format!("Entry {i}"),
            &[("account", &id, "walk@example.org")],
        )
        .await;
    }
    let total = log_count(&app).await;
    assert!(total > 116);

    let mut seen: Vec<i64> = Vec::new();
    let mut pages = Vec::new();
    let mut path = "/admin/audit".to_owned();
    loop {
        let html = app.get_html(&c, &path).await;
        let ids = entry_ids(&html);
        assert!(ids.len() <= 50);
        if pages.is_empty() {
            assert_eq!(ids.len(), 50);
            assert!(
                link(&html, "prev").is_none(),
                "no Previous on the first page"
            );
        } else {
            assert!(link(&html, "prev").is_some());
        }
        seen.extend(&ids);
        pages.push(html.clone());
        match link(&html, "next") {
            Some(next) => path = next.replace("&amp;", "&"),
            None => break,
        }
    }
    assert_eq!(pages.len(), total.div_ceil(50));
    assert_eq!(seen.len(), total, "every entry once");
    assert!(
        seen.windows(2).all(|w| w[0] > w[1]),
        "newest first, no repeats"
    );
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), total);

    // Previous shows the same pages again.
    let last = pages.last().unwrap();
    let back = app
        .get_html(&c, &link(last, "prev").unwrap().replace("&amp;", "&"))
        .await;
    assert_eq!(entry_ids(&back), entry_ids(&pages[pages.len() - 2]));
    let back = app
        .get_html(&c, &link(&back, "prev").unwrap().replace("&amp;", "&"))
        .await;
    assert_eq!(entry_ids(&back), entry_ids(&pages[pages.len() - 3]));

    // The walk keeps a filter: this account's 116 entries are 50 + 50 + 16.
    let mut path = format!("/admin/audit?subject_kind=account&subject_id={id}");
    let mut sizes = Vec::new();
    let mut ids = Vec::new();
    loop {
        let html = app.get_html(&c, &path).await;
        sizes.push(entry_ids(&html).len());
        ids.extend(entry_ids(&html));
        match link(&html, "next") {
            Some(next) => {
                assert!(next.contains(&format!("subject_id={id}")));
                path = next.replace("&amp;", "&");
            }
            None => break,
        }
    }
    assert_eq!(sizes, [50, 50, 16]);
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 116);

    // A cursor that does not parse starts at the newest entry.
    let html = app.get_html(&c, "/admin/audit?after=abc").await;
    assert_eq!(entry_ids(&html), entry_ids(&pages[0]));
}

/// Reads RFC 4180 CSV (quoted fields, doubled quotes, CRLF).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(ch) = chars.next() {
        match (quoted, ch) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') if chars.peek() == Some(&'\n') => {
                chars.next();
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    assert!(
        field.is_empty() && row.is_empty(),
        "the file ends with CRLF"
    );
    rows
}

const HEADER: [&str; 9] = [
    "id", "at", "actor", "channel", "action", "summary", "subjects", "before", "after",
];

#[tokio::test]
async fn csv_export_escapes_fields_and_neutralises_formulas() {
    let app = spawn_app().await;
    let c = app.admin().await;
    let id = add_user(&app, &c, "=cmd@example.org", "=cmd", "Doe, \"Jr\"").await;
    app.post(&c, &format!("/admin/users/{id}/block"), &[]).await;
    insert_entry(
        &app,
        "@evil",
        "account.note_set",
        "=HYPERLINK(\"http://evil.example\",\"x\")",
        &[("account", &id, "+1"), ("group", "g1", "-2")],
    )
    .await;
    insert_entry(&app, "\tTabbed", "account.note_set", "\rCarriage", &[]).await;

    let r = app.get(&c, "/admin/audit.csv").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    assert_eq!(
        r.headers()["content-disposition"],
        "attachment; filename=\"portal-audit.csv\""
    );
    let body = r.text().await.unwrap();
    assert!(body.starts_with("id,at,actor,channel,action,summary,subjects,before,after\r\n"));
    let rows = parse_csv(&body);
    assert_eq!(rows[0], HEADER);
    let rows = &rows[1..];
    assert_eq!(rows.len(), log_count(&app).await);
    assert!(rows.iter().all(|r| r.len() == 9));
    let ids: Vec<i64> = rows.iter().map(|r| r[0].parse().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first");
    for r in rows {
        for f in r {
            assert!(
                !f.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "a field a spreadsheet would run: {f:?}"
            );
        }
        let at = &r[1];
        assert!(
            at.len() == 20 && at.as_bytes()[10] == b'T' && at.ends_with('Z'),
            "ISO 8601 UTC: {at}"
        );
    }

    // Newest first: the two inserted entries, the block, the creation.
    assert_eq!(rows[0][2], "'\tTabbed");
    assert_eq!(rows[0][5], "'\rCarriage");
    assert_eq!(rows[1][2], "'@evil");
    assert_eq!(rows[1][3], "system");
    assert_eq!(rows[1][5], "'=HYPERLINK(\"http://evil.example\",\"x\")");
    assert_eq!(rows[1][6], "'+1 (account); -2 (group)");
    assert_eq!(rows[2][4], "account.blocked");
    assert_eq!(rows[2][2], ADMIN_EMAIL);
    assert_eq!(rows[2][3], "console");
    assert_eq!(rows[3][4], "account.created");
    assert_eq!(rows[3][5], "Created account =cmd@example.org");
    assert_eq!(rows[3][6], "'=cmd@example.org (account)");
    assert_eq!(rows[3][7], "");
    let after: serde_json::Value = serde_json::from_str(&rows[3][8]).unwrap();
    assert_eq!(after["first_name"], "=cmd");
    assert_eq!(after["last_name"], "Doe, \"Jr\"");
    let before: serde_json::Value = serde_json::from_str(&rows[2][7]).unwrap();
    assert_eq!(before["state"], "active");
    // On the wire: quoted, with the quotes doubled.
    assert!(body.contains(r#""last_name"":""Doe, \""Jr\"""""#), "{body}");

    // The same filters as the page.
    let r = app
        .get(&c, "/admin/audit.csv?change=account&account=%3Dcmd")
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let rows = parse_csv(&r.text().await.unwrap());
    let actions: Vec<&str> = rows[1..].iter().map(|r| r[4].as_str()).collect();
    assert_eq!(actions, ["account.blocked", "account.created"]);
    let r = app
        .get(&c, "/admin/audit.csv?subject_kind=group&subject_id=g1")
        .await;
    let rows = parse_csv(&r.text().await.unwrap());
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1][2], "'@evil");
}

#[tokio::test]
async fn csv_export_holds_every_entry_across_batches() {
    let app = spawn_app().await;
    let c = app.admin().await;
    let mut tx = app.db.begin_write().await.unwrap();
    for i in 0..1_234 {
        let name = format!("user{i}@example.org");
        record(
            &mut tx,
            &NewEntry {
                at: app.clock.now(),
                actor_id: None,
                actor_label: "System",
                client_addr: None,
                channel: "system",
                action: "account.note_set",
                summary: &format!("Note {i}"),
                before: Some("{\"note\":null}".into()),
                after: Some(format!("{{\"note\":\"n{i}\"}}")),
                subjects: &[Subject {
                    kind: "account",
                    id: &format!("a{i}"),
                    name: &name,
                }],
            },
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    let total = log_count(&app).await;

    let body = app.get(&c, "/admin/audit.csv").await.text().await.unwrap();
    let rows = parse_csv(&body);
    assert_eq!(rows.len(), total + 1);
    let ids: Vec<i64> = rows[1..].iter().map(|r| r[0].parse().unwrap()).collect();
    assert!(
        ids.windows(2).all(|w| w[0] > w[1]),
        "no repeats at batch edges"
    );
    assert_eq!(rows[1][5], "Note 1233");
    assert_eq!(rows[1][6], "user1233@example.org (account)");
    assert!(
        rows[1..1235].iter().all(|r| !r[6].is_empty()),
        "every entry's subject"
    );
}

#[tokio::test]
async fn signed_out_visitors_are_sent_to_sign_in() {
    let app = spawn_app().await;
    for path in ["/admin/audit", "/admin/audit.csv", "/admin/audit?account=x"] {
        let r = app.get(&browser(), path).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{path}");
        assert!(location(&r).starts_with("/admin/sign-in"), "{path}");
    }
}
