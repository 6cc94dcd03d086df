//! The Users tab: SPEC U3, U5, U6, U7, G2, A1, S-14, S-15.

use reqwest::StatusCode;

use crate::helpers::*;

const NEW_PASSWORD: &str = "saffron glacier piano 12";

fn user_form<'a>(email: &'a str, first: &'a str, last: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("email", email),
        ("password", NEW_PASSWORD),
        ("first_name", first),
        ("last_name", last),
    ]
}

#[tokio::test]
async fn add_user_creates_an_active_developer_and_audits_it() {
    let app = spawn_app().await;
    let c = app.admin().await;
    let r = app
        .post(
            &c,
            "/admin/users/add",
            &user_form("Grace.Hopper@Example.org", "Grace", "Hopper"),
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let id = app
        .id_of("grace.hopper@example.org")
        .await
        .expect("created");
    assert_eq!(location(&r), format!("/admin/users/{id}"));

    let html = app.get_html(&c, &location(&r)).await;
    assert!(flash(&html).contains("Added user Grace.Hopper@Example.org."));
    assert_eq!(text_of(&html, "h1"), ["Grace Hopper"]);
    assert!(
        html.contains("Grace.Hopper@Example.org"),
        "email stored as typed"
    );
    assert!(text_of(&html, ".tags li").contains(&"Developers".to_owned()));
    assert!(
        html.contains("Created account Grace.Hopper@Example.org"),
        "history shows the creation"
    );
    assert_eq!(app.state_of(&id).await.as_deref(), Some("active"));

    let list = app.get_html(&c, "/admin/users").await;
    assert!(list.contains("Grace Hopper"));
    assert!(
        app.audit_actions()
            .await
            .contains(&"account.created".to_owned())
    );

    // The new account can sign in with its password (as hashed, S-1).
    let hash: String = db_one!(
        &app.db,
        "SELECT password_hash FROM accounts WHERE id = ?",
        &id
    );
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
}

#[tokio::test]
async fn the_form_binds_only_its_own_fields() {
    let app = spawn_app().await;
    let c = app.admin().await;
    let mut form = user_form("eve@example.org", "Eve", "Sneaky");
    form.extend([
        ("state", "blocked"),
        ("is_admin", "1"),
        ("group", "administrators"),
        ("session_epoch", "7"),
    ]);
    let r = app.post(&c, "/admin/users/add", &form).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let id = app.id_of("eve@example.org").await.unwrap();
    assert_eq!(app.state_of(&id).await.as_deref(), Some("active"));
    let groups: i64 = db_one!(
        &app.db,
        "SELECT count(*) FROM memberships WHERE account_id = ?",
        &id
    );
    assert_eq!(groups, 0, "no administrator rights by a crafted field");
}

#[tokio::test]
async fn search_filter_and_sort() {
    let app = spawn_app().await;
    let c = app.admin().await;
    app.insert_account("ann.lee@example.org", "Ann", "Lee", "active")
        .await;
    app.insert_account("bob.stone@example.org", "Bob", "Stone", "blocked")
        .await;
    app.insert_account("zed@annex.io", "Zed", "Quill", "pending")
        .await;

    let names = |html: &str| text_of(html, "table.list tbody td:nth-child(2) a");
    // A fragment of a name, of an email, case-insensitive.
    let html = app.get_html(&c, "/admin/users?q=ston").await;
    assert_eq!(names(&html), ["Bob Stone"]);
    assert!(html.contains("1 account"));
    let html = app.get_html(&c, "/admin/users?q=ANN").await;
    assert_eq!(names(&html), ["Ann Lee", "Zed Quill"]);
    assert_eq!(
        input_value(&html, "input#q").as_deref(),
        Some("ANN"),
        "search kept"
    );
    let html = app.get_html(&c, "/admin/users?q=qu").await;
    assert_eq!(names(&html), ["Zed Quill"], "two-letter fragments work too");
    let html = app.get_html(&c, "/admin/users?q=ann+lee").await;
    assert_eq!(names(&html), ["Ann Lee"], "full names match");

    let html = app.get_html(&c, "/admin/users?state=blocked").await;
    assert_eq!(names(&html), ["Bob Stone"]);
    let html = app.get_html(&c, "/admin/users?state=pending").await;
    assert_eq!(names(&html), ["Zed Quill"]);

    let html = app.get_html(&c, "/admin/users").await;
    assert_eq!(
        names(&html),
        ["Ann Lee", "Bob Stone", "Portal Administrator", "Zed Quill"]
    );
    let html = app.get_html(&c, "/admin/users?dir=desc").await;
    assert_eq!(
        names(&html),
        ["Zed Quill", "Portal Administrator", "Bob Stone", "Ann Lee"]
    );
    let html = app.get_html(&c, "/admin/users?sort=email").await;
    assert_eq!(
        names(&html),
        ["Ann Lee", "Bob Stone", "Portal Administrator", "Zed Quill"]
    );
    let html = app
        .get_html(&c, "/admin/users?sort=registered&dir=desc")
        .await;
    assert_eq!(names(&html).len(), 4);
    let html = app.get_html(&c, "/admin/users?q=nobody-matches-this").await;
    assert!(html.contains("No accounts match."));
}

#[tokio::test]
async fn a_search_counts_again_after_any_change() {
    // A search's count is remembered until the next commit: the next page
    // after an account is added, or leaves the state searched, counts anew.
    let app = spawn_app().await;
    let c = app.admin().await;
    app.insert_account("bob.stone@example.org", "Bob", "Stone", "active")
        .await;
    let html = app.get_html(&c, "/admin/users?q=ston").await;
    assert!(html.contains("1 account"), "{html}");
    let html = app.get_html(&c, "/admin/users?q=ston&state=active").await;
    assert!(html.contains("1 account"), "{html}");

    let kate = app
        .insert_account("kate@example.org", "Kate", "Stonebridge", "active")
        .await;
    let html = app.get_html(&c, "/admin/users?q=ston").await;
    assert!(
        html.contains("2 accounts"),
        "a new match is counted: {html}"
    );

    let r = app
        .post(&c, &format!("/admin/users/{kate}/block"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = app.get_html(&c, "/admin/users?q=ston&state=active").await;
    assert!(html.contains("1 account"), "a blocked match leaves: {html}");
    let html = app.get_html(&c, "/admin/users?q=ston").await;
    assert!(html.contains("2 accounts"), "{html}");
}

#[tokio::test]
async fn pages_of_fifty_walk_forwards_and_back() {
    let app = spawn_app().await;
    let c = app.admin().await;
    for i in 0..120 {
        app.insert_account(
            &format!("user{i:03}@example.org"),
            "User",
            &format!("{i:03}"),
            "active",
        )
        .await;
    }
    let names = |html: &str| text_of(html, "table.list tbody td:nth-child(2) a");
    let next = |html: &str| link_rel(html, "next");
    let prev = |html: &str| link_rel(html, "prev");
    let p1 = app.get_html(&c, "/admin/users").await;
    assert!(p1.contains("121 accounts"));
    assert_eq!(names(&p1).len(), 50);
    assert!(prev(&p1).is_none());
    let p2 = app.get_html(&c, &next(&p1).unwrap()).await;
    let p3 = app.get_html(&c, &next(&p2).unwrap()).await;
    assert_eq!(names(&p2).len(), 50);
    assert_eq!(names(&p3).len(), 21);
    assert!(next(&p3).is_none());
    let mut all: Vec<String> = [names(&p1), names(&p2), names(&p3)].concat();
    let total = all.len();
    all.dedup();
    assert_eq!(all.len(), total, "no account on two pages");
    let back = app.get_html(&c, &prev(&p3).unwrap()).await;
    assert_eq!(
        names(&back),
        names(&p2),
        "Previous shows the same page again"
    );
    let back = app.get_html(&c, &prev(&back).unwrap()).await;
    assert_eq!(names(&back), names(&p1));

    // A Next link followed after the accounts it led to went: an empty
    // page, and the count of what is left.
    portal::execute!(
        &app.db,
        portal::sql!("DELETE FROM accounts WHERE email >= 'user070@' AND email < 'user200@'")
    )
    .unwrap();
    let gone = app.get_html(&c, &next(&p2).unwrap()).await;
    assert!(names(&gone).is_empty());
    assert!(gone.contains("71 accounts"), "{gone}");
}

#[tokio::test]
async fn block_ends_sessions_and_activate_restores_sign_in() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (id, other) = app.second_admin("second@example.org").await;
    assert_eq!(
        app.get(&other, "/admin/users").await.status(),
        StatusCode::OK
    );

    let r = app
        .post(&admin, &format!("/admin/users/{id}/block"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = app.get_html(&admin, &location(&r)).await;
    assert!(flash(&html).contains("Blocked second@example.org."));
    assert_eq!(app.state_of(&id).await.as_deref(), Some("blocked"));
    let r = app.get(&other, "/admin/users").await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "the blocked account's session ended"
    );
    assert!(location(&r).starts_with("/admin/sign-in"));
    let r = app
        .sign_in(&browser(), "second@example.org", USER_PASSWORD)
        .await;
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "cannot sign in while blocked"
    );

    let r = app
        .post(&admin, &format!("/admin/users/{id}/activate"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.state_of(&id).await.as_deref(), Some("active"));
    assert_eq!(
        app.get(&other, "/admin/users").await.status(),
        StatusCode::SEE_OTHER,
        "activating does not revive old sessions"
    );
    let again = browser();
    assert_eq!(
        app.sign_in(&again, "second@example.org", USER_PASSWORD)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let actions = app.audit_actions().await;
    assert!(
        actions.contains(&"account.blocked".to_owned())
            && actions.contains(&"account.activated".to_owned())
    );
}

#[tokio::test]
async fn delete_asks_first_then_removes_and_frees_the_address() {
    let app = spawn_app().await;
    let c = app.admin().await;
    let id = app
        .insert_account("gone@example.org", "Gone", "Soon", "active")
        .await;
    let html = app.get_html(&c, &format!("/admin/users/{id}/delete")).await;
    assert!(html.contains("Delete Gone Soon?"));
    assert_eq!(
        app.state_of(&id).await.as_deref(),
        Some("active"),
        "the GET changed nothing"
    );

    let r = app
        .post(&c, &format!("/admin/users/{id}/delete"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/admin/users");
    let html = app.get_html(&c, "/admin/users").await;
    assert!(flash(&html).contains("Deleted user gone@example.org."));
    assert!(!html.contains("Gone Soon"));
    assert!(app.state_of(&id).await.is_none());
    assert_eq!(
        app.get(&c, &format!("/admin/users/{id}")).await.status(),
        StatusCode::NOT_FOUND
    );

    let r = app
        .post(
            &c,
            "/admin/users/add",
            &user_form("GONE@example.org", "Back", "Again"),
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "a deleted address can be used again"
    );
    assert!(
        app.audit_actions()
            .await
            .contains(&"account.deleted".to_owned())
    );
}

#[tokio::test]
async fn the_last_active_administrator_cannot_be_blocked_or_deleted() {
    let app = spawn_app().await;
    let c = app.admin().await;
    let me = app.id_of(ADMIN_EMAIL).await.unwrap();
    for action in ["block", "delete"] {
        let r = app
            .post(&c, &format!("/admin/users/{me}/{action}"), &[])
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let html = app.get_html(&c, &location(&r)).await;
        assert!(
            flash(&html).contains("last active administrator"),
            "{action}: {}",
            flash(&html)
        );
        assert_eq!(app.state_of(&me).await.as_deref(), Some("active"));
    }
    // With a second active administrator, the first may go.
    let (_, _) = app.second_admin("second@example.org").await;
    let r = app.post(&c, &format!("/admin/users/{me}/block"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.state_of(&me).await.as_deref(), Some("blocked"));
}

#[tokio::test]
async fn set_password_replaces_it_and_ends_other_sessions() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (id, other) = app.second_admin("second@example.org").await;
    let r = app
        .post(
            &admin,
            &format!("/admin/users/{id}/password"),
            &[("password", NEW_PASSWORD)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = app.get_html(&admin, &location(&r)).await;
    assert!(flash(&html).contains("Set a new password for second@example.org"));
    assert_eq!(
        app.get(&other, "/admin/users").await.status(),
        StatusCode::SEE_OTHER,
        "their session ended"
    );
    assert_eq!(
        app.sign_in(&browser(), "second@example.org", USER_PASSWORD)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.sign_in(&browser(), "second@example.org", NEW_PASSWORD)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn setting_your_own_password_keeps_you_signed_in_here_only() {
    let app = spawn_app().await;
    let here = app.admin().await;
    let elsewhere = app.admin().await;
    let me = app.id_of(ADMIN_EMAIL).await.unwrap();
    let r = app
        .post(
            &here,
            &format!("/admin/users/{me}/password"),
            &[("password", NEW_PASSWORD)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.get(&here, "/admin/users").await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.get(&elsewhere, "/admin/users").await.status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn a_weak_new_password_is_refused_beside_its_field() {
    let app = spawn_app().await;
    let c = app.admin().await;
    let id = app
        .insert_account("kim@example.org", "Kim", "Park", "active")
        .await;
    let r = app
        .post(
            &c,
            &format!("/admin/users/{id}/password"),
            &[("password", "short")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(text_of(&html, "#password-error")[0].contains("at least 12 characters"));
    assert_eq!(
        app.sign_in(&browser(), "kim@example.org", USER_PASSWORD)
            .await
            .status(),
        StatusCode::FORBIDDEN,
        "old password still works (not an admin)"
    );
}

#[tokio::test]
async fn a_search_matching_thousands_walks_the_name_order() {
    // Over 1,000 matches the page is found by walking the name index and
    // testing each account (not by sorting every match): same answers.
    let app = spawn_app().await;
    let c = app.admin().await;
    let mut tx = app.db.begin_write().await.unwrap();
    for i in 0..2_200 {
        // Every other account matches "son": 1,100 of them.
        let (first, last) = if i % 2 == 0 {
            (format!("Kim{i:04}"), "Anderson")
        } else {
            (format!("Kim{i:04}"), "Lee")
        };
        let email = format!("kim.{i}@example.org");
        portal::store::accounts::insert(
            &mut tx,
            &portal::store::accounts::NewAccountRow {
                id: &portal::domain::ids::new_id(),
                email: &email,
                email_key: &email,
                first_name: &first,
                last_name: last,
                password_hash: None,
                state: "active",
                registered_at: 0,
            },
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    app.insert_account("oy@example.org", "Øystein", "Berg", "active")
        .await;

    let names = |html: &str| text_of(html, "table.list tbody td:nth-child(2) a");
    let html = app.get_html(&c, "/admin/users?q=SON").await;
    assert!(html.contains("More than 1000 accounts match"), "{html}");
    let expected: Vec<String> = (0..100)
        .step_by(2)
        .map(|i| format!("Kim{i:04} Anderson"))
        .collect();
    assert_eq!(names(&html), expected, "the first 50 matches by name");
    let next = link_rel(&html, "next").expect("a Next link");
    let html = app.get_html(&c, &next).await;
    assert_eq!(
        names(&html)[0],
        "Kim0100 Anderson",
        "the next page follows on"
    );

    // Letters outside ASCII are matched without regard to case.
    let html = app.get_html(&c, "/admin/users?q=%C3%98Y").await;
    assert_eq!(names(&html), ["Øystein Berg"]);
    let html = app.get_html(&c, "/admin/users?q=%C3%B8yst").await;
    assert_eq!(names(&html), ["Øystein Berg"]);
}
