//! Groups: SPEC G1–G6, S-14 (system groups cannot be changed by any request).

use reqwest::StatusCode;

use crate::helpers::*;

async fn add_group(
    app: &TestApp,
    c: &reqwest::Client,
    name: &str,
    members: &[&str],
) -> reqwest::Response {
    let mut form = vec![
        ("name", name),
        ("description", "Our partners"),
        ("action", "create"),
    ];
    form.extend(members.iter().map(|m| ("members", *m)));
    app.post(c, "/admin/groups/add", &form).await
}

async fn member_ids(app: &TestApp, group: &str) -> Vec<String> {
    db_all!(
        &app.db,
        "SELECT account_id FROM memberships WHERE group_id = ? ORDER BY account_id",
        group
    )
}

#[tokio::test]
async fn the_groups_tab_lists_system_groups_marked_as_such() {
    let app = spawn_app().await;
    let c = app.admin().await;
    let html = app.get_html(&c, "/admin/groups").await;
    let names = text_of(&html, "table.list tbody td:first-child a");
    assert_eq!(&names[..3], ["Administrators", "Developers", "Guests"]);
    assert_eq!(
        text_of(&html, ".badge").len(),
        3,
        "each system group marked System"
    );
    let html = app.get_html(&c, "/admin/groups/developers").await;
    assert!(html.contains("This is a system group"));
    assert!(
        !html.contains("action=\"/admin/groups/developers\""),
        "no settings form"
    );
    let html = app.get_html(&c, "/admin/groups/guests/members").await;
    assert!(html.contains("visitors who are not signed in"));
    let html = app.get_html(&c, "/admin/groups/developers/members").await;
    assert!(
        html.contains("Portal Administrator"),
        "Developers lists every account, read-only"
    );
    assert!(!html.contains("Remove selected"));
}

#[tokio::test]
async fn add_group_with_initial_members_found_by_search() {
    let app = spawn_app().await;
    let c = app.admin().await;
    let ann = app
        .insert_account("ann@example.org", "Ann", "Lee", "active")
        .await;
    let bob = app
        .insert_account("bob@example.org", "Bob", "Stone", "active")
        .await;

    // Searching keeps what was typed and offers matching accounts to tick.
    let r = app
        .post(
            &c,
            "/admin/groups/add",
            &[
                ("name", "Partners"),
                ("description", "Ours"),
                ("find", "ston"),
                ("action", "find"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert_eq!(
        input_value(&html, "input#name").as_deref(),
        Some("Partners")
    );
    assert!(
        html.contains(&format!("value=\"{bob}\"")) && !html.contains(&format!("value=\"{ann}\""))
    );
    assert!(
        member_ids(&app, "partners").await.is_empty(),
        "a search changes nothing"
    );

    let r = add_group(&app, &c, "Partners", &[&ann, &bob]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/admin/groups/partners");
    let html = app.get_html(&c, "/admin/groups/partners").await;
    assert!(flash(&html).contains("Added group Partners with 2 member(s)."));
    let mut expected = vec![ann.clone(), bob.clone()];
    expected.sort();
    assert_eq!(member_ids(&app, "partners").await, expected);
    let account = app.get_html(&c, &format!("/admin/users/{ann}")).await;
    assert!(
        text_of(&account, ".tags li").contains(&"Partners".to_owned()),
        "G6: the account lists its groups"
    );
    // One change, one audit record, which names the first members too.
    let actions = app.audit_actions().await;
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "group.created" || *a == "group.members_added")
            .collect::<Vec<_>>(),
        ["group.created"]
    );
    assert!(
        account.contains("Created group Partners with 2 member(s)"),
        "the member's history shows it"
    );
}

#[tokio::test]
async fn group_names_are_unique_regardless_of_case() {
    let app = spawn_app().await;
    let c = app.admin().await;
    assert_eq!(
        add_group(&app, &c, "Partners", &[]).await.status(),
        StatusCode::SEE_OTHER
    );
    let r = add_group(&app, &c, "PARTNERS", &[]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(text_of(&html, "#name-error")[0].contains("already exists"));
    let r = add_group(&app, &c, "developers", &[]).await;
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "system names are taken too"
    );
    let r = add_group(&app, &c, "  ", &[]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Renaming onto another group's name is refused the same way.
    add_group(&app, &c, "Others", &[]).await;
    let r = app
        .post(
            &c,
            "/admin/groups/others",
            &[("name", "partners"), ("description", "")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert_eq!(
        input_value(&html, "input#name").as_deref(),
        Some("partners"),
        "input kept"
    );
}

#[tokio::test]
async fn settings_members_and_delete_of_a_custom_group() {
    let app = spawn_app().await;
    let c = app.admin().await;
    let ann = app
        .insert_account("ann@example.org", "Ann", "Lee", "active")
        .await;
    let bob = app
        .insert_account("bob@example.org", "Bob", "Stone", "active")
        .await;
    add_group(&app, &c, "Partners", &[]).await;

    let r = app
        .post(
            &c,
            "/admin/groups/partners",
            &[("name", "Key partners"), ("description", "VIP")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = app.get_html(&c, "/admin/groups/partners").await;
    assert_eq!(text_of(&html, "h1"), ["Key partners"]);
    assert!(html.contains("Updated group Key partners"), "history");

    let html = app
        .get_html(&c, "/admin/groups/partners/members?find=example.org")
        .await;
    assert!(html.contains(&format!("value=\"{ann}\"")));
    let r = app
        .post(
            &c,
            "/admin/groups/partners/members/add",
            &[("ids", &ann), ("ids", &bob)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = app.get_html(&c, "/admin/groups/partners/members").await;
    assert!(flash(&html).contains("Added 2 member(s)."));
    assert!(html.contains("2 members"));
    // Adding someone twice changes nothing and says so.
    app.post(&c, "/admin/groups/partners/members/add", &[("ids", &ann)])
        .await;
    let html = app.get_html(&c, "/admin/groups/partners/members").await;
    assert!(flash(&html).contains("Added 0 member(s)."));
    assert_eq!(member_ids(&app, "partners").await.len(), 2);

    let r = app
        .post(
            &c,
            "/admin/groups/partners/members/remove",
            &[("ids", &bob), ("remove_one", &ann)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        member_ids(&app, "partners").await,
        std::slice::from_ref(&bob),
        "a row's Remove removes just that row"
    );
    app.post(
        &c,
        "/admin/groups/partners/members/remove",
        &[("ids", &bob)],
    )
    .await;
    assert!(member_ids(&app, "partners").await.is_empty());

    app.post(&c, "/admin/groups/partners/members/add", &[("ids", &ann)])
        .await;
    let html = app.get_html(&c, "/admin/groups/partners/delete").await;
    assert!(html.contains("1 membership(s) and 0 product grant(s)"));
    let r = app.post(&c, "/admin/groups/partners/delete", &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.get(&c, "/admin/groups/partners").await.status(),
        StatusCode::NOT_FOUND
    );
    assert!(member_ids(&app, "partners").await.is_empty());
}

#[tokio::test]
async fn crafted_requests_cannot_change_system_groups() {
    let app = spawn_app().await;
    let c = app.admin().await;
    let ann = app
        .insert_account("ann@example.org", "Ann", "Lee", "active")
        .await;
    for g in ["administrators", "developers", "guests"] {
        let r = app
            .post(
                &c,
                &format!("/admin/groups/{g}"),
                &[("name", "Hacked"), ("description", "x")],
            )
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "edit {g}");
        let r = app
            .post(&c, &format!("/admin/groups/{g}/delete"), &[])
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "delete {g}");
        let r = app
            .post(
                &c,
                &format!("/admin/groups/{g}/members/add"),
                &[("ids", &ann)],
            )
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "add to {g}");
        let r = app
            .post(
                &c,
                &format!("/admin/groups/{g}/members/remove"),
                &[("ids", &ann)],
            )
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "remove from {g}");
        let r = app
            .post(
                &c,
                "/admin/users/toggle",
                &[("ids", &ann), ("group", g), ("scope", "page")],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "toggle {g}");
        assert!(flash(&app.get_html(&c, "/admin/users").await).contains("system group"));
    }
    let admins = member_ids(&app, "administrators").await;
    assert_eq!(admins.len(), 1, "still only the installed administrator");
    let names: Vec<String> = db_all!(
        &app.db,
        "SELECT name FROM groups WHERE kind = 'system' ORDER BY id"
    );
    assert_eq!(names, ["Administrators", "Developers", "Guests"]);
}

#[tokio::test]
async fn a_group_or_account_that_no_longer_exists_is_a_clear_answer() {
    let app = spawn_app().await;
    let c = app.admin().await;
    assert_eq!(
        app.get(&c, "/admin/groups/nope").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.post(&c, "/admin/groups/nope/members/add", &[("ids", "x")])
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    add_group(&app, &c, "Partners", &[]).await;
    let r = app
        .post(
            &c,
            "/admin/groups/partners/members/add",
            &[("ids", "deleted-account")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        flash(&app.get_html(&c, "/admin/groups/partners/members").await)
            .contains("Added 0 member(s).")
    );
    let r = app
        .post(
            &c,
            "/admin/users/toggle",
            &[("ids", "x"), ("group", "gone"), ("scope", "page")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        flash(&app.get_html(&c, "/admin/users").await).contains("There is no group named gone.")
    );
}

// ---- G5 Add to group ------------------------------------------------------------

#[tokio::test]
async fn add_to_group_toggles_a_mixed_selection_in_one_go() {
    let app = spawn_app().await;
    let c = app.admin().await;
    let ann = app
        .insert_account("ann@example.org", "Ann", "Lee", "active")
        .await;
    let bob = app
        .insert_account("bob@example.org", "Bob", "Stone", "active")
        .await;
    let cat = app
        .insert_account("cat@example.org", "Cat", "Moss", "active")
        .await;
    add_group(&app, &c, "Partners", &[&ann]).await;

    // The menu offers custom groups only.
    let html = app.get_html(&c, "/admin/users").await;
    let options = text_of(&html, "select#group option");
    assert_eq!(options, ["Choose a group…", "Partners"]);

    let r = app
        .post(
            &c,
            "/admin/users/toggle",
            &[
                ("ids", &ann),
                ("ids", &bob),
                ("group", "partners"),
                ("scope", "page"),
                ("back", "/admin/users?q=o"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/admin/users?q=o");
    let html = app.get_html(&c, "/admin/users").await;
    assert!(
        flash(&html).contains("Partners: added 1, removed 1."),
        "{}",
        flash(&html)
    );
    assert_eq!(
        member_ids(&app, "partners").await,
        std::slice::from_ref(&bob)
    );
    assert!(
        app.audit_actions()
            .await
            .contains(&"group.members_toggled".into())
    );
    let _ = cat;

    // An unsafe "back" never leads off the Users tab.
    let r = app
        .post(
            &c,
            "/admin/users/toggle",
            &[
                ("ids", &bob),
                ("group", "partners"),
                ("back", "https://evil.example/"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/admin/users");
}

#[tokio::test]
async fn select_all_on_this_page_ticks_every_row() {
    let app = spawn_app().await;
    let c = app.admin().await;
    app.insert_account("ann@example.org", "Ann", "Lee", "active")
        .await;
    let html = app.get_html(&c, "/admin/users").await;
    assert_eq!(text_of(&html, "input[name=ids][checked]").len(), 0);
    let html = app.get_html(&c, "/admin/users?select=page").await;
    let doc = scraper::Html::parse_document(&html);
    let checked = doc
        .select(&scraper::Selector::parse("input[name=ids][checked]").unwrap())
        .count();
    assert_eq!(checked, 2);
}

#[tokio::test]
async fn add_to_group_for_every_matching_account_shows_the_count_first() {
    let app = spawn_app().await;
    let c = app.admin().await;
    for i in 0..30 {
        app.insert_account(
            &format!("team{i}@acme.io"),
            "Acme",
            &format!("Dev{i}"),
            "active",
        )
        .await;
    }
    let outsider = app
        .insert_account("solo@example.org", "Solo", "Person", "active")
        .await;
    add_group(&app, &c, "Acme", &[]).await;
    let r = app
        .post(
            &c,
            "/admin/users/toggle",
            &[("group", "acme"), ("scope", "matching"), ("q", "acme.io")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(
        text_of(&html, "h1")[0].contains("30 account(s)"),
        "{:?}",
        text_of(&html, "h1")
    );
    assert!(
        member_ids(&app, "acme").await.is_empty(),
        "nothing before confirming"
    );
    let r = app
        .post(
            &c,
            "/admin/users/toggle",
            &[
                ("group", "acme"),
                ("scope", "matching"),
                ("q", "acme.io"),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let members = member_ids(&app, "acme").await;
    assert_eq!(members.len(), 30);
    assert!(!members.contains(&outsider));
    // Audit names every account concerned.
    let named: i64 = db_one!(
        &app.db,
        "SELECT count(*) FROM audit_subjects s JOIN audit_log l ON l.id = s.audit_id
         WHERE l.action = 'group.members_toggled' AND s.kind = 'account'"
    );
    assert_eq!(named, 30);
}

#[tokio::test]
async fn concurrent_toggles_of_overlapping_selections_lose_nothing() {
    let app = spawn_app().await;
    let c = app.admin().await;
    let mut ids = Vec::new();
    for i in 0..12 {
        ids.push(
            app.insert_account(&format!("u{i}@example.org"), "U", &format!("{i}"), "active")
                .await,
        );
    }
    add_group(&app, &c, "Partners", &[&ids[0], &ids[1], &ids[2]]).await;
    // Three overlapping selections, toggled at the same time.
    let selections: Vec<Vec<String>> =
        vec![ids[0..6].to_vec(), ids[3..9].to_vec(), ids[5..12].to_vec()];
    let token = app.csrf(&c).await;
    let posts = selections.iter().map(|sel| {
        let mut form: Vec<(&str, &str)> = sel.iter().map(|id| ("ids", id.as_str())).collect();
        form.extend([("group", "partners"), ("scope", "page")]);
        let (app, c, token) = (&app, &c, &token);
        async move {
            app.post_with_token(c, "/admin/users/toggle", token, &form)
                .await
                .status()
        }
    });
    for status in futures_util::future::join_all(posts).await {
        assert_eq!(status, StatusCode::SEE_OTHER);
    }
    // Toggling is its own inverse and commutes, so every serial order ends
    // the same: an account is a member iff it started as one xor it was in
    // an odd number of selections.
    let mut expected: Vec<String> = ids
        .iter()
        .filter(|id| {
            let start = ids[0..3].contains(id);
            let flips = selections.iter().filter(|s| s.contains(id)).count();
            start ^ (flips % 2 == 1)
        })
        .cloned()
        .collect();
    expected.sort();
    assert_eq!(member_ids(&app, "partners").await, expected);
    let count: i64 = db_one!(
        &app.db,
        "SELECT member_count FROM groups WHERE id = 'partners'"
    );
    assert_eq!(count as usize, expected.len(), "the counter agrees");
}

#[tokio::test]
async fn with_many_groups_the_menu_becomes_a_name_field() {
    let app = spawn_app().await;
    let c = app.admin().await;
    let ann = app
        .insert_account("ann@example.org", "Ann", "Lee", "active")
        .await;
    let mut tx = app.db.begin_write().await.unwrap();
    for i in 0..=portal::services::groups::MENU_LIMIT {
        portal::store::groups::insert(&mut tx, &format!("g{i}"), &format!("Team {i}"), None, 0)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    let html = app.get_html(&c, "/admin/users").await;
    assert!(html.contains("<input id=\"group\" name=\"group\" type=\"text\""));
    let r = app
        .post(
            &c,
            "/admin/users/toggle",
            &[("ids", &ann), ("group", "team 7")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(flash(&app.get_html(&c, "/admin/users").await).contains("Team 7: added 1, removed 0."));
    assert_eq!(member_ids(&app, "g7").await, [ann]);
}

/// Members pages are read from the memberships' own name index (migration
/// 0003): renames and blocks must reach it at once.
#[tokio::test]
async fn member_lists_follow_renames_and_blocks() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let ann = app
        .insert_account("ann@example.org", "Ann", "Zed", "active")
        .await;
    let bob = app
        .insert_account("bob@example.org", "Bob", "Young", "active")
        .await;
    let cy = app
        .insert_account("cy@example.org", "Cy", "Xu", "active")
        .await;
    let g = app.group(&admin, "Readers", &[&cy, &ann, &bob]).await;
    let order = |html: &str, names: &[&str]| -> Vec<usize> {
        names
            .iter()
            .map(|n| html.find(n).unwrap_or(usize::MAX))
            .collect()
    };
    let html = app
        .get_html(&admin, &format!("/admin/groups/{g}/members"))
        .await;
    let at = order(&html, &["Ann Zed", "Bob Young", "Cy Xu"]);
    assert!(at[0] < at[1] && at[1] < at[2], "{at:?}");

    // Ann renames herself on the portal: she moves to the end.
    let dev = browser();
    app.portal_sign_in(&dev, "ann@example.org", USER_PASSWORD)
        .await;
    let r = app
        .post(
            &dev,
            "/profile",
            &[("first_name", "Zoe"), ("last_name", "Zed")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = app
        .get_html(&admin, &format!("/admin/groups/{g}/members"))
        .await;
    let at = order(&html, &["Bob Young", "Cy Xu", "Zoe Zed"]);
    assert!(at[0] < at[1] && at[1] < at[2], "{at:?}");
    assert!(html.contains("3 members"));

    // A blocked member no longer counts among those who can see a product.
    app.product(&admin, "Reading", &[&g], &[]).await;
    app.post(&admin, &format!("/admin/users/{bob}/block"), &[])
        .await;
    let html = app.get_html(&admin, "/admin/products/reading/access").await;
    assert!(html.contains("Zoe Zed") && html.contains("Cy Xu"));
    assert!(
        !html.contains("Bob Young"),
        "blocked accounts cannot see products"
    );
    let _ = ann;
}
