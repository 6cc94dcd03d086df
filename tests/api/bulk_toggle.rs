//! G5 Add to group over every matching account, at a size where the toggle
//! is read before its write lock is taken (store::add_to_group::prepare_toggle)
//! and its audit record lists the accounts (migration 0008): the result is
//! still all or nothing, the counts and counters right, and each account's
//! history shows the change.

use portal::services::{Actor, audit};
use portal::store::{self, account_list::Filter, selection::Selection};
use reqwest::StatusCode;

use crate::helpers::*;

/// More than `store::groups::LISTED_ABOVE`, so the audit record is a list.
const MANY: usize = 2_500;

/// Inserts `n` active accounts (every tenth blocked) in one transaction;
/// returns their ids in insertion order.
async fn insert_many(app: &TestApp, n: usize, tag: &str) -> Vec<String> {
    const LAST: [&str; 7] = ["Stone", "Lee", "Moss", "Young", "Zed", "Abel", "Quinn"];
    let mut tx = app.db.begin_write().await.unwrap();
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let id = portal::domain::ids::new_id();
        let email = format!("{tag}.{i}@Bulk.example");
        store::accounts::insert(
            &mut tx,
            &store::accounts::NewAccountRow {
                id: &id,
                email: &email,
                email_key: &email.to_lowercase(),
                first_name: &format!("{tag}{i}"),
                last_name: LAST[i % LAST.len()],
                password_hash: None,
                state: if i % 10 == 0 { "blocked" } else { "active" },
                registered_at: app.clock.now(),
            },
        )
        .await
        .unwrap();
        ids.push(id);
    }
    tx.commit().await.unwrap();
    ids
}

async fn member_ids(app: &TestApp, group: &str) -> Vec<String> {
    db_all!(
        &app.db,
        "SELECT account_id FROM memberships WHERE group_id = ? ORDER BY account_id",
        group
    )
}

async fn member_count(app: &TestApp, group: &str) -> i64 {
    db_one!(
        &app.db,
        "SELECT member_count FROM groups WHERE id = ?",
        group
    )
}

async fn all_ids(app: &TestApp) -> Vec<String> {
    db_all!(&app.db, "SELECT id FROM accounts ORDER BY id")
}

/// What the triggers keep (member counts, per-state counts, the search
/// index) agrees with the rows, and no membership lacks its account or
/// group, and each carries its account's sort name and state.
async fn assert_consistent(app: &TestApp) {
    let mismatches = store::seed::counter_mismatches(&app.db).await.unwrap();
    assert!(mismatches.is_empty(), "{mismatches:?}");
    // PostgreSQL checks every foreign key itself, whatever the session; the
    // toggle's own rows are checked there.
    let orphans: i64 = db_one!(
        &app.db,
        portal::sql!(
            sqlite: "SELECT count(*) FROM pragma_foreign_key_check",
            pg: "SELECT count(*) FROM memberships m
                 WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id = m.account_id)
                    OR NOT EXISTS (SELECT 1 FROM groups g WHERE g.id = m.group_id)"
        )
    );
    assert_eq!(orphans, 0, "rows without their parent");
    let stale: i64 = db_one!(
        &app.db,
        "SELECT count(*) FROM memberships m JOIN accounts a ON a.id = m.account_id
         WHERE m.sort_name <> a.sort_name OR m.state <> a.state"
    );
    assert_eq!(stale, 0, "memberships that disagree with their account");
}

async fn toggle_matching(app: &TestApp, admin: &reqwest::Client, group: &str, q: &str) -> String {
    toggle_in_state(app, admin, group, q, "").await
}

async fn toggle_in_state(
    app: &TestApp,
    admin: &reqwest::Client,
    group: &str,
    q: &str,
    state: &str,
) -> String {
    let r = app
        .post(
            admin,
            "/admin/users/toggle",
            &[
                ("group", group),
                ("scope", "matching"),
                ("q", q),
                ("state", state),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    flash(&app.get_html(admin, "/admin/users").await)
}

async fn audit_count(app: &TestApp) -> i64 {
    db_one!(&app.db, "SELECT count(*) FROM audit_log")
}

#[tokio::test]
async fn every_matching_account_is_toggled_in_one_change_with_its_counts() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let ids = insert_many(&app, MANY, "bulk").await;
    let first: Vec<&str> = ids[..150].iter().map(String::as_str).collect();
    let g = app.group(&admin, "Bulk", &first).await;
    assert_eq!(member_count(&app, &g).await, 150);
    let everyone = all_ids(&app).await;
    let records = audit_count(&app).await;

    // Every account (the administrator too): 150 leave, the rest join.
    let message = toggle_matching(&app, &admin, &g, "").await;
    let joined = everyone.len() - 150;
    assert!(
        message.contains(&format!("Bulk: added {joined}, removed 150.")),
        "{message}"
    );
    let mut expected: Vec<String> = everyone
        .iter()
        .filter(|id| !first.contains(&id.as_str()))
        .cloned()
        .collect();
    expected.sort();
    assert_eq!(member_ids(&app, &g).await, expected);
    assert_eq!(member_count(&app, &g).await, joined as i64);
    assert_consistent(&app).await;

    // One audit record, whose list names every account toggled (and only
    // the group as a subject row).
    assert_eq!(audit_count(&app).await, records + 1);
    let (id, action, listed): (i64, String, i64) = db_row!(
        &app.db,
        "SELECT l.id, l.action, b.subjects FROM audit_log l
         JOIN audit_lists b ON b.audit_id = l.id AND b.kind = 'account'
         ORDER BY l.id DESC LIMIT 1"
    );
    assert_eq!(action, "group.members_toggled");
    assert_eq!(listed, everyone.len() as i64);
    let names: Vec<String> = db_all!(
        &app.db,
        "SELECT subject_id FROM audit_subject_lists WHERE audit_id = ? ORDER BY subject_id",
        id
    );
    assert_eq!(names, everyone);
    let rows: Vec<(String, String)> = db_rows!(
        &app.db,
        "SELECT kind, subject_id FROM audit_subjects WHERE audit_id = ?",
        id
    );
    assert_eq!(rows, [("group".to_owned(), g.clone())]);

    // Toggling the same accounts again undoes it, as another change.
    let message = toggle_matching(&app, &admin, &g, "").await;
    assert!(
        message.contains(&format!("Bulk: added 150, removed {joined}.")),
        "{message}"
    );
    let mut first_sorted: Vec<String> = first.iter().map(|s| s.to_string()).collect();
    first_sorted.sort();
    assert_eq!(member_ids(&app, &g).await, first_sorted);
    assert_eq!(member_count(&app, &g).await, 150);
    assert_eq!(audit_count(&app).await, records + 2);
    assert_consistent(&app).await;

    // A search narrows the selection: "bulk7" is bulk7, bulk70…79 (members
    // now, among the first 150) and bulk700…799.
    let message = toggle_matching(&app, &admin, &g, "bulk7").await;
    assert!(
        message.contains("Bulk: added 100, removed 11."),
        "{message}"
    );
    assert_consistent(&app).await;
}

/// With a state and no search, the members leaving are the group's members
/// in that state (deleted as the group's members are walked in name
/// order); a search leaves them to be looked up one by one. Either way,
/// only those.
#[tokio::test]
async fn a_state_filter_toggles_the_accounts_in_that_state_only() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    insert_many(&app, MANY, "state").await;
    let g = app.group(&admin, "States", &[]).await;
    let everyone = app.account_count().await;
    let blocked = (MANY / 10) as i64;
    let message = toggle_matching(&app, &admin, &g, "").await;
    assert!(
        message.contains(&format!("States: added {everyone}, removed 0.")),
        "{message}"
    );

    let message = toggle_in_state(&app, &admin, &g, "", "blocked").await;
    assert!(
        message.contains(&format!("States: added 0, removed {blocked}.")),
        "{message}"
    );
    let blocked_members: i64 = db_one!(
        &app.db,
        "SELECT count(*) FROM memberships WHERE group_id = ? AND state = 'blocked'",
        &g
    );
    assert_eq!(blocked_members, 0);
    assert_eq!(member_count(&app, &g).await, everyone - blocked);
    assert_consistent(&app).await;

    // The active ones matching a search ("state1": state1, state10…19,
    // state100…199, state1000…1999; 111 of those 1,111 blocked).
    let message = toggle_in_state(&app, &admin, &g, "state1", "active").await;
    assert!(
        message.contains("States: added 0, removed 1000."),
        "{message}"
    );
    assert_consistent(&app).await;

    let message = toggle_in_state(&app, &admin, &g, "", "active").await;
    let active = everyone - blocked;
    assert!(
        message.contains(&format!("States: added 1000, removed {}.", active - 1000)),
        "{message}"
    );
    assert_eq!(member_count(&app, &g).await, 1000);
    assert_consistent(&app).await;
}

#[tokio::test]
async fn each_account_toggled_shows_the_change_in_its_history() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let ids = insert_many(&app, MANY, "hist").await;
    let g = app.group(&admin, "History", &[&ids[3]]).await;
    toggle_matching(&app, &admin, &g, "").await;
    let added = (app.account_count().await - 1).to_string();

    for (who, id) in [("joined", &ids[1234]), ("left", &ids[3])] {
        let html = app.get_html(&admin, &format!("/admin/users/{id}")).await;
        let history = text_of(&html, "section[aria-labelledby=history-h] tbody td");
        assert!(
            history
                .iter()
                .any(|t| t == &format!("Add to group History: added {added}, removed 1")),
            "{who}: {history:?}"
        );
    }

    // The full log finds it by account too: by the account, and by a
    // fragment of its name (email as it was).
    let html = app
        .get_html(
            &admin,
            &format!("/admin/audit?subject_kind=account&subject_id={}", ids[1234]),
        )
        .await;
    assert!(html.contains("Add to group History"), "by account");
    assert!(html.contains("hist.1234@Bulk.example"), "named by the list");
    let html = app
        .get_html(&admin, "/admin/audit?account=hist.2222%40bulk")
        .await;
    assert!(html.contains("Add to group History"), "by a name fragment");
    let html = app
        .get_html(&admin, "/admin/audit?account=nobody-at-all")
        .await;
    assert!(!html.contains("Add to group History"));

    // An account that was not there then has no such entry.
    let later = app
        .insert_account("later@example.org", "Late", "Comer", "active")
        .await;
    let html = app.get_html(&admin, &format!("/admin/users/{later}")).await;
    assert!(!html.contains("Add to group History"));
}

/// A toggle that fails after writing its memberships leaves nothing: no
/// membership, no count, no record.
#[tokio::test]
async fn a_toggle_that_fails_part_way_changes_nothing() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let ids = insert_many(&app, MANY, "fail").await;
    let g = app.group(&admin, "Fragile", &[&ids[0], &ids[1]]).await;
    let before = member_ids(&app, &g).await;
    let records = audit_count(&app).await;

    // The list of the toggle's record (the last thing it writes, after the
    // memberships and the count) is made to collide with a row already
    // there under the id its record will get.
    let next_id: i64 = db_one!(
        &app.db,
        portal::sql!(
            sqlite: "SELECT seq + 1 FROM sqlite_sequence WHERE name = 'audit_log'",
            pg: "SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END
                 FROM audit_log_id_seq"
        )
    );
    // The row's entry does not exist yet: foreign keys are off for it
    // (SQLite: per connection, outside a transaction; PostgreSQL: the
    // session role that skips their triggers, for one transaction).
    const OBSTACLE: &str = "INSERT INTO audit_subject_lists (audit_id, kind, subject_id, name) VALUES (?, 'account', ?, 'x')";
    match app.db.backend() {
        store::Backend::Sqlite(pool) => {
            let mut conn = pool.acquire().await.unwrap();
            conn.close_on_drop();
            sqlx::query("PRAGMA foreign_keys = OFF")
                .execute(&mut *conn)
                .await
                .unwrap();
            sqlx::query(OBSTACLE)
                .bind(next_id)
                .bind(&ids[2000])
                .execute(&mut *conn)
                .await
                .unwrap();
        }
        store::Backend::Postgres(pool) => {
            let mut tx = pool.begin().await.unwrap();
            sqlx::query("SET LOCAL session_replication_role = replica")
                .execute(&mut *tx)
                .await
                .unwrap();
            sqlx::query(sqlx::AssertSqlSafe(store::backend::numbered(OBSTACLE)))
                .bind(next_id)
                .bind(&ids[2000])
                .execute(&mut *tx)
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
    }

    let r = app
        .post(
            &admin,
            "/admin/users/toggle",
            &[
                ("group", g.as_str()),
                ("scope", "matching"),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(member_ids(&app, &g).await, before);
    assert_eq!(member_count(&app, &g).await, 2);
    assert_eq!(audit_count(&app).await, records);
    // Without the obstacle (a row of no entry), everything agrees …
    db_exec!(
        &app.db,
        "DELETE FROM audit_subject_lists WHERE audit_id = ?",
        next_id
    );
    assert_consistent(&app).await;

    // … and the same request goes through.
    let message = toggle_matching(&app, &admin, &g, "").await;
    let total = app.account_count().await;
    assert!(
        message.contains(&format!("Fragile: added {}, removed 2.", total - 2)),
        "{message}"
    );
    assert_eq!(member_count(&app, &g).await, total - 2);
    assert_consistent(&app).await;
}

/// What `services::groups::toggle` does after `prepare_toggle`, with this
/// test's database handle (the server's own is not reachable from here).
async fn write_prepared(
    app: &TestApp,
    prepared: store::add_to_group::PreparedToggle,
    group: &str,
    selection: &Selection<'_>,
) -> (u64, u64, &'static str) {
    let (mut tx, locked) = prepared.begin_write(&app.db, selection).await.unwrap();
    let now = tx.now();
    let (added, removed) = store::add_to_group::apply_toggle(&mut tx, group, selection, now)
        .await
        .unwrap();
    let audit_id = audit::record(
        &mut tx,
        &Actor::system(),
        "group.members_toggled",
        &format!("Add to group (test): added {added}, removed {removed}"),
        &[],
        audit::NONE,
        audit::NONE,
    )
    .await
    .unwrap();
    store::selection::audit_selected(&mut tx, audit_id)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        locked.selected,
        added + removed,
        "every account selected under the lock was toggled"
    );
    (added, removed, locked.reread_in_lock)
}

/// Who is selected and who is a member is read before the write lock is
/// taken. An account deleted meanwhile is not added (it would be a
/// membership of nobody), an account created meanwhile is, and one that
/// joined the group meanwhile leaves it.
#[tokio::test]
async fn changes_between_preparing_and_writing_are_read_again_under_the_lock() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let ids = insert_many(&app, MANY, "race").await;
    let g = app.group(&admin, "Racing", &[&ids[0]]).await;
    let selection = Selection::Matching(Filter::default());
    // PostgreSQL prepares nothing before the lock: its writers do not wait
    // for one another's reading, so the toggle reads the whole selection
    // in its write transaction (store::add_to_group::begin_write_pg). What
    // it writes must come out the same.
    let pg = app.db.is_postgres();
    let read_again = |on_sqlite: &'static str| if pg { "selection" } else { on_sqlite };

    // Nothing committed in between: nothing read again.
    let prepared = store::add_to_group::prepare_toggle(&app.db, &g, &selection)
        .await
        .unwrap();
    let everyone = app.account_count().await as u64;
    if !pg {
        assert_eq!(prepared.selected, everyone);
    }
    let (added, removed, reread) = write_prepared(&app, prepared, &g, &selection).await;
    assert_eq!(
        (added, removed, reread),
        (everyone - 1, 1, read_again("none"))
    );
    assert_consistent(&app).await;

    // Only memberships change in between: who is a member is read again.
    let prepared = store::add_to_group::prepare_toggle(&app.db, &g, &selection)
        .await
        .unwrap();
    let r = app
        .post(
            &admin,
            &format!("/admin/groups/{g}/members/add"),
            &[("ids", ids[0].as_str())],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (added, removed, reread) = write_prepared(&app, prepared, &g, &selection).await;
    assert_eq!(
        (added, removed, reread),
        (0, everyone, read_again("members"))
    );
    assert!(member_ids(&app, &g).await.is_empty());
    assert_eq!(member_count(&app, &g).await, 0);
    assert_consistent(&app).await;

    // An account is deleted, another created and a third renamed in
    // between: the selection is read again.
    let prepared = store::add_to_group::prepare_toggle(&app.db, &g, &selection)
        .await
        .unwrap();
    let deleted = &ids[100];
    let r = app
        .post(&admin, &format!("/admin/users/{deleted}/delete"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.state_of(deleted).await, None);
    let created = app
        .insert_account("new@example.org", "New", "Comer", "active")
        .await;
    let renamed = &ids[200];
    db_exec!(
        &app.db,
        "UPDATE accounts SET last_name = 'Renamed', sort_name = 'race200 renamed' WHERE id = ?",
        renamed
    );
    let (added, removed, reread) = write_prepared(&app, prepared, &g, &selection).await;
    assert_eq!((added, removed, reread), (everyone, 0, "selection"));
    let members = member_ids(&app, &g).await;
    assert!(!members.contains(deleted));
    assert!(members.contains(&created));
    assert_eq!(members, all_ids(&app).await);
    assert_eq!(member_count(&app, &g).await, everyone as i64);
    // Carries the new sort name (the Members page and the account's
    // groups find memberships by it).
    let sort_name: String = db_one!(
        &app.db,
        "SELECT sort_name FROM memberships WHERE group_id = ? AND account_id = ?",
        &g,
        renamed
    );
    assert_eq!(sort_name, "race200 renamed");
    assert_consistent(&app).await;

    // The group deleted in between: the toggle finds no group under the lock.
    let prepared = store::add_to_group::prepare_toggle(&app.db, &g, &selection)
        .await
        .unwrap();
    let r = app
        .post(&admin, &format!("/admin/groups/{g}/delete"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (mut tx, _) = prepared.begin_write(&app.db, &selection).await.unwrap();
    assert!(
        store::groups::get(&mut tx, &g).await.unwrap().is_none(),
        "services::groups::toggle stops here (not found)"
    );
    tx.rollback().await.unwrap();
    assert_consistent(&app).await;
}

/// The toggle switches triggers and foreign-key checks off on a connection
/// of its own and closes it afterwards: the server's other connections go
/// on counting members and cascading deletes.
#[tokio::test]
async fn after_a_toggle_other_changes_still_keep_the_counters() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let ids = insert_many(&app, 1_200, "after").await;
    let g = app.group(&admin, "After", &[]).await;
    for _ in 0..3 {
        toggle_matching(&app, &admin, &g, "after1").await;
    }
    // More changes than the pool has connections, each through the server.
    for (i, id) in ids.iter().enumerate().take(12) {
        let path = if i % 2 == 0 { "add" } else { "remove" };
        let r = app
            .post(
                &admin,
                &format!("/admin/groups/{g}/members/{path}"),
                &[("ids", id.as_str())],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let r = app
            .post(
                &admin,
                &format!("/admin/users/{}/delete", ids[1000 + i]),
                &[],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
    assert_consistent(&app).await;
}
