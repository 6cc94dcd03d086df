//! The store functions that run on both databases (docs/postgres.md: the
//! store moves to `Exec` module by module), exercised the same way on
//! SQLite and on the test command's throw-away PostgreSQL
//! (`PORTAL_TEST_POSTGRES`, set by tests/run.sh; without it the PostgreSQL
//! half says so and passes).

use std::time::Duration;

use portal::domain::application::{
    ApplicationSettings, ClientKind, SignInGroups, SigningAlg, TokenGroups,
};
use portal::store::oidc_grants::{CodeRow, RefreshRow};
use portal::store::{self, Backend, Db};

/// A fresh database of its own on the test cluster.
async fn postgres() -> Option<Db> {
    let Ok(admin_url) = std::env::var("PORTAL_TEST_POSTGRES") else {
        eprintln!(
            "PORTAL_TEST_POSTGRES is not set: the PostgreSQL half is skipped (tests/run.sh sets it)"
        );
        return None;
    };
    let name = format!("t_{}", portal::domain::ids::new_id());
    let admin = sqlx::PgPool::connect(&admin_url).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin)
        .await
        .unwrap();
    let url = format!("{}/{name}", admin_url.rsplit_once('/').unwrap().0);
    Some(Db::open(&url, Duration::from_secs(5)).await.unwrap())
}

async fn sqlite() -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("p.db").display());
    let db = Db::open(&url, Duration::from_secs(5)).await.unwrap();
    (dir, db)
}

/// An account and a custom group it is in, written directly (the accounts
/// and groups store functions have not moved yet).
async fn fixture(db: &Db) {
    let statements = [
        "INSERT INTO accounts (id, email, email_key, first_name, last_name, sort_name, state, registered_at)
         VALUES ('a1', 'Ada@example.org', 'ada@example.org', 'Ada', 'Lovelace', 'ada lovelace', 'active', 1)",
        "INSERT INTO groups (id, name, name_key, kind, created_at) VALUES ('partners', 'Partners', 'partners', 'custom', 1)",
        "INSERT INTO memberships (group_id, account_id, created_at, sort_name, state)
         VALUES ('partners', 'a1', 1, 'ada lovelace', 'active')",
    ];
    for s in statements {
        match db.backend() {
            Backend::Sqlite(p) => {
                sqlx::query(s).execute(p).await.unwrap();
            }
            Backend::Postgres(p) => {
                sqlx::query(s).execute(p).await.unwrap();
            }
        }
    }
}

fn settings(name: &str) -> ApplicationSettings {
    ApplicationSettings {
        name: name.into(),
        redirect_uris: vec![
            "https://app.example/cb".into(),
            "http://127.0.0.1:9/cb".into(),
        ],
        kind: ClientKind::Confidential,
        trusted: false,
        alg: SigningAlg::Rs256,
        token_groups: TokenGroups::Chosen(vec!["partners".into()]),
        sign_in_groups: SignInGroups::Everyone,
    }
}

/// The same calls and the same answers on either database.
async fn exercise(db: &Db) {
    fixture(db).await;

    // settings
    let key = store::settings::get_or_init(db, "k", "first")
        .await
        .unwrap();
    assert_eq!(key, "first");
    assert_eq!(
        store::settings::get_or_init(db, "k", "second")
            .await
            .unwrap(),
        "first"
    );
    assert_eq!(
        store::settings::get(db, "k").await.unwrap().as_deref(),
        Some("first")
    );

    // groups
    let mut tx = db.begin_write().await.unwrap();
    store::groups::insert(&mut tx, "team-b", "Team B", Some("Second"), 3)
        .await
        .unwrap();
    store::groups::update(&mut tx, "team-b", "Beta Team", None)
        .await
        .unwrap();
    store::groups::add_member(&mut tx, &"team-b".into(), &"a1".into(), 4)
        .await
        .unwrap();
    store::groups::add_member(&mut tx, &"team-b".into(), &"a1".into(), 4)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let g = store::groups::get(db, "team-b").await.unwrap().unwrap();
    assert_eq!(
        (g.name.as_str(), g.member_count, g.version),
        ("Beta Team", 1, 2)
    );
    assert_eq!(
        store::groups::by_name(db, " beta team ")
            .await
            .unwrap()
            .unwrap()
            .id
            .as_str(),
        "team-b"
    );
    assert!(
        store::groups::name_taken(db, "partners", "team-b")
            .await
            .unwrap()
    );
    assert_eq!(store::groups::of_account(db, "a1").await.unwrap().len(), 2);
    let rows = store::groups::rows_of_account(db, "a1").await.unwrap();
    assert_eq!(
        rows.iter().map(|g| g.id.as_str()).collect::<Vec<_>>(),
        ["developers", "team-b", "partners"]
    );
    assert_eq!(store::groups::all(db).await.unwrap().len(), 5);
    let custom = store::groups::custom_up_to(db, 10).await.unwrap().unwrap();
    assert_eq!(custom.len(), 2);
    assert!(store::groups::custom_up_to(db, 1).await.unwrap().is_none());
    let page = store::groups::list(db, None, None, 2).await.unwrap();
    assert_eq!(
        page.iter().map(|g| g.id.as_str()).collect::<Vec<_>>(),
        ["administrators", "developers", "guests"]
    );
    let rest = store::groups::list(db, None, Some(("beta team", "team-b")), 10)
        .await
        .unwrap();
    assert_eq!(
        rest.iter().map(|g| g.id.as_str()).collect::<Vec<_>>(),
        ["partners"]
    );
    assert_eq!(
        store::groups::list(db, Some("TNER"), None, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        store::groups::dependants(db, "team-b").await.unwrap(),
        (1, 0)
    );
    assert_eq!(
        store::groups::members_among(db, "team-b", &["a1".into(), "zz".into()])
            .await
            .unwrap(),
        vec!["a1".to_owned()]
    );
    let mut tx = db.begin_write().await.unwrap();
    assert!(store::groups::delete(&mut tx, "team-b").await.unwrap());
    assert!(!store::groups::delete(&mut tx, "developers").await.unwrap());
    tx.commit().await.unwrap();

    // sessions
    let creds = store::sessions::credentials(db, "ada@example.org")
        .await
        .unwrap()
        .unwrap();
    assert!(!creds.is_admin && creds.failed_signins == 0);
    let seen = store::sessions::session_account(db, "a1", "sid1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(seen.groups(), vec!["partners".to_owned()]);
    let mut tx = db.begin_write().await.unwrap();
    store::sessions::record_signin_failure(&mut tx, "a1", 3, 100)
        .await
        .unwrap();
    store::sessions::revoke_session(&mut tx, "sid1", i64::MAX / 2, 0)
        .await
        .unwrap();
    store::sessions::revoke_session(&mut tx, "sid1", i64::MAX / 2, 0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(
        store::sessions::session_account(db, "a1", "sid1")
            .await
            .unwrap()
            .is_none()
    );
    let creds = store::sessions::credentials(db, "ada@example.org")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((creds.failed_signins, creds.locked_until), (3, 100));
    store::sessions::clear_signin_failures(db, "a1")
        .await
        .unwrap();
    let creds = store::sessions::credentials(db, "ada@example.org")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(creds.failed_signins, 0);

    // single-use links
    let mut tx = db.begin_write().await.unwrap();
    for (hash, purpose) in [([8; 32], "self_reset"), ([9; 32], "admin_reset")] {
        store::tokens::insert(
            &mut tx,
            &store::tokens::NewToken {
                hash: &hash,
                purpose,
                account_id: Some("a1"),
                invitation_id: None,
                now: 10,
                expires_at: i64::MAX / 2,
            },
        )
        .await
        .unwrap();
    }
    assert!(
        store::tokens::spend(&mut tx, &[8; 32], "self_reset", 11)
            .await
            .unwrap()
    );
    assert!(
        !store::tokens::spend(&mut tx, &[8; 32], "self_reset", 12)
            .await
            .unwrap()
    );
    store::tokens::void_for_account(&mut tx, "a1", &["admin_reset", "self_reset"], 13)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let voided = store::tokens::find(db, &[9; 32]).await.unwrap().unwrap();
    assert_eq!(voided.voided_at, Some(13));
    let spent = store::tokens::find(db, &[8; 32]).await.unwrap().unwrap();
    assert_eq!((spent.used_at, spent.voided_at), (Some(11), None));
    assert_eq!(
        store::tokens::issued_since(db, Some("a1"), None, "self_reset", 10)
            .await
            .unwrap(),
        1
    );

    // the outbox
    let message = store::outbox::NewMessage {
        template: "invitation",
        to_address: "ada@example.org",
        to_name: "Ada",
        account_id: Some("a1"),
        subject: "Hello",
        text_body: "Hi",
        html_body: "<p>Hi</p>",
    };
    let mut tx = db.begin_write().await.unwrap();
    let m1 = store::outbox::insert(&mut tx, &message).await.unwrap();
    let m2 = store::outbox::insert(&mut tx, &message).await.unwrap();
    tx.commit().await.unwrap();
    let now = db.clock().now();
    assert!(store::outbox::next_due_at(db).await.unwrap().is_some());
    assert_eq!(
        store::outbox::count_recent(db, "a1", &["invitation", "other"], 0)
            .await
            .unwrap(),
        2
    );
    if db.is_postgres() {
        // Two workers at once claim two different messages (SKIP LOCKED).
        let mut first = db.begin_write().await.unwrap();
        let mut second = db.begin_write().await.unwrap();
        let a = store::outbox::claim_next(&mut first, now, now + 60)
            .await
            .unwrap()
            .unwrap();
        let b = store::outbox::claim_next(&mut second, now, now + 60)
            .await
            .unwrap()
            .unwrap();
        assert_ne!(a.id, b.id);
        first.rollback().await.unwrap();
        second.rollback().await.unwrap();
    }
    let mut tx = db.begin_write().await.unwrap();
    let claimed = store::outbox::claim_next(&mut tx, now, now + 60)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((claimed.id, claimed.attempts), (m1, 1));
    tx.commit().await.unwrap();
    assert!(store::outbox::mark_sent(db, m1, 1, now).await.unwrap());
    assert!(
        !store::outbox::mark_sent(db, m1, 1, now).await.unwrap(),
        "sent once"
    );
    let mut tx = db.begin_write().await.unwrap();
    let claimed = store::outbox::claim_next(&mut tx, now, now + 60)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.id, m2);
    tx.commit().await.unwrap();
    assert!(
        store::outbox::mark_retrying(db, m2, 1, now, "busy")
            .await
            .unwrap()
    );
    let mut tx = db.begin_write().await.unwrap();
    let claimed = store::outbox::claim_next(&mut tx, now, now + 60)
        .await
        .unwrap()
        .unwrap();
    tx.commit().await.unwrap();
    assert!(
        store::outbox::mark_failed(db, m2, claimed.attempts, "refused")
            .await
            .unwrap()
    );
    let mut tx = db.begin_write().await.unwrap();
    assert!(store::outbox::retry_failed(&mut tx, m2, now).await.unwrap());
    assert!(!store::outbox::retry_failed(&mut tx, m1, now).await.unwrap());
    tx.commit().await.unwrap();

    // the audit log
    let mut tx = db.begin_write().await.unwrap();
    for action in ["account.created", "account.blocked"] {
        store::audit::record(
            &mut tx,
            &store::audit::NewEntry {
                at: 7,
                actor_id: None,
                actor_label: "System",
                client_addr: Some("127.0.0.1".into()),
                channel: "system",
                action,
                summary: "Something happened to Ada",
                before: None,
                after: Some("{}".into()),
                subjects: &[store::audit::Subject {
                    kind: "account",
                    id: "a1",
                    name: "Ada Lovelace",
                }],
            },
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    let history = store::audit::for_subject(db, "account", "a1", 10)
        .await
        .unwrap();
    assert_eq!(
        history
            .iter()
            .map(|e| e.action.as_str())
            .collect::<Vec<_>>(),
        ["account.blocked", "account.created"]
    );
    assert_eq!(
        store::audit::for_subject(db, "account", "a1", 1)
            .await
            .unwrap()
            .len(),
        1
    );

    // accounts
    let mut tx = db.begin_write().await.unwrap();
    store::accounts::insert(
        &mut tx,
        &store::accounts::NewAccountRow {
            id: "a2",
            email: "Bob@example.org",
            email_key: "bob@example.org",
            first_name: "Bob",
            last_name: "Stone",
            password_hash: Some("hash"),
            state: "active",
            registered_at: 2,
        },
    )
    .await
    .unwrap();
    assert!(
        store::accounts::set_names(&mut tx, "a2", "Robert", "Stone")
            .await
            .unwrap()
    );
    assert!(
        store::accounts::set_email(&mut tx, "a2", "rob@example.org", "rob@example.org")
            .await
            .unwrap()
    );
    assert!(
        store::accounts::set_note(&mut tx, "a2", Some("VIP"))
            .await
            .unwrap()
    );
    assert!(
        store::accounts::set_state(&mut tx, "a2", "blocked")
            .await
            .unwrap()
    );
    let epoch = store::accounts::set_password_hash(&mut tx, "a2", "new")
        .await
        .unwrap();
    assert_eq!(
        epoch,
        Some(2),
        "blocking and a new password each end the sessions"
    );
    assert_eq!(
        store::accounts::count_other_active_admins(&mut tx, "a1")
            .await
            .unwrap(),
        0
    );
    tx.commit().await.unwrap();
    assert!(
        store::accounts::email_taken(db, "rob@example.org")
            .await
            .unwrap()
    );
    let d = store::accounts::detail(db, "a2").await.unwrap().unwrap();
    assert_eq!(
        (d.first_name.as_str(), d.note.as_deref(), d.version),
        ("Robert", Some("VIP"), 6)
    );
    assert!(d.has_password && !d.is_admin);
    let by_email = store::accounts::detail_by_email(db, "rob@example.org")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_email.id.as_str(), "a2");
    assert_eq!(
        store::accounts::password_hash(db, "a2")
            .await
            .unwrap()
            .as_deref(),
        Some("new")
    );
    assert_eq!(store::accounts::count_admins(db).await.unwrap(), 0);
    let both = store::accounts::by_ids(db, &["a2".into(), "a1".into()])
        .await
        .unwrap();
    assert_eq!(
        both.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
        ["a1", "a2"]
    );
    assert_eq!(both[0].group_count, 1);
    let mut tx = db.begin_write().await.unwrap();
    assert!(store::accounts::delete(&mut tx, "a2").await.unwrap());
    tx.commit().await.unwrap();
    assert!(store::accounts::detail(db, "a2").await.unwrap().is_none());

    // products
    let product = |name: &str, published: bool| portal::domain::product::ProductSettings {
        name: name.into(),
        description: "About it".into(),
        terms: String::new(),
        subscription_required: true,
        approval_required: false,
        subscriptions_limit: Some(3),
        published,
    };
    let mut tx = db.begin_write().await.unwrap();
    store::products::insert(&mut tx, "p1", &product("Weather", false), 1)
        .await
        .unwrap();
    store::products::insert(&mut tx, "p2", &product("Traffic", true), 1)
        .await
        .unwrap();
    store::products::update(&mut tx, "p1", &product("Weather API", false))
        .await
        .unwrap();
    store::products::set_state(&mut tx, "p1", "published")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let p = store::products::get(db, "p1").await.unwrap().unwrap();
    assert_eq!(
        (p.name.as_str(), p.version, p.published()),
        ("Weather API", 3, true)
    );
    assert!(p.subscription_required && !p.approval_required);
    assert_eq!(p.subscriptions_limit, Some(3));
    assert!(
        store::products::name_taken(db, "traffic", "p1")
            .await
            .unwrap()
    );
    assert!(
        !store::products::name_taken(db, "traffic", "p2")
            .await
            .unwrap()
    );
    let page = store::products::list(db, None, None, 1).await.unwrap();
    assert_eq!(
        page.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
        ["Traffic", "Weather API"]
    );
    let next = store::products::list(db, None, Some(("traffic", "p2")), 10)
        .await
        .unwrap();
    assert_eq!(next.len(), 1);
    let found = store::products::list(db, Some("ATHER"), None, 10)
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(store::products::all_names(db).await.unwrap().len(), 2);
    assert_eq!(
        store::products::subscription_count(db, "p1").await.unwrap(),
        0
    );

    // subscriptions (before Traffic goes)
    use portal::domain::ids::{AccountId, ProductId, SubscriptionId};
    use portal::domain::subscription::{KeySlot, key_hash};
    let mut tx = db.begin_write().await.unwrap();
    for (id, product, key) in [("s1", "p1", "k1"), ("s2", "p2", "k2"), ("s3", "p1", "k3")] {
        store::subscriptions::insert(
            &mut tx,
            &store::subscriptions::NewSubscription {
                id: &SubscriptionId::from(id),
                account_id: &AccountId::from("a1"),
                product_id: &ProductId::from(product),
                display_name: "Mine",
                primary_key: key,
                secondary_key: &format!("{key}-2"),
                state: "active",
                now: 20,
            },
        )
        .await
        .unwrap();
    }
    let open = store::subscriptions::count_open(&mut tx, &"a1".into(), &"p1".into())
        .await
        .unwrap();
    assert_eq!(open, 2);
    assert!(
        store::subscriptions::set_state(&mut tx, "s1", "active", "suspended", 21)
            .await
            .unwrap()
    );
    assert!(
        !store::subscriptions::set_state(&mut tx, "s1", "active", "cancelled", 21)
            .await
            .unwrap()
    );
    assert!(
        store::subscriptions::set_key(&mut tx, "s3", KeySlot::Secondary, "k3-new", 22)
            .await
            .unwrap()
    );
    assert!(
        store::subscriptions::set_display_name(&mut tx, "s3", "Renamed")
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();
    let s1 = store::subscriptions::get(db, "s1").await.unwrap().unwrap();
    assert_eq!(
        (s1.account_name.as_str(), s1.product_name.as_str()),
        ("Ada Lovelace", "Weather API")
    );
    assert_eq!(
        store::subscriptions::of_account(db, "a1")
            .await
            .unwrap()
            .len(),
        3
    );
    let active = store::subscriptions::of_product(db, "p1", Some("active"), None, 10)
        .await
        .unwrap();
    assert_eq!(
        active.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        ["s3"]
    );
    let page = store::subscriptions::of_product(db, "p1", None, Some((20, "s3")), 10)
        .await
        .unwrap();
    assert_eq!(page.len(), 1);
    let owner = store::subscriptions::key_owner(db, &key_hash("k3-new"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(owner.subscription_id.as_str(), "s3");
    assert!(
        store::subscriptions::key_owner(db, &key_hash("k3-2"))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        store::products::subscription_count(db, "p1").await.unwrap(),
        2
    );

    // the management API's lists ($filter, $top, $skip)
    use portal::domain::query::{
        Filter, Func, GroupField, Op, ProductField, SubscriptionField, Value,
    };
    let weather = Filter::Text(Func::Contains, ProductField::DisplayName, "weATH_r".into());
    assert_eq!(
        store::products::filtered(db, Some(&weather), 0, 10)
            .await
            .unwrap()
            .1,
        0,
        "_ is no wildcard"
    );
    let weather = Filter::Text(Func::StartsWith, ProductField::DisplayName, "weath".into());
    let (rows, total) = store::products::filtered(db, Some(&weather), 0, 10)
        .await
        .unwrap();
    assert_eq!((rows.len(), total, rows[0].id.as_str()), (1, 1, "p1"));
    let (rows, total) = store::products::filtered(db, None, 1, 1).await.unwrap();
    assert_eq!((rows.len(), total, rows[0].id.as_str()), (1, 2, "p1"));
    let either = Filter::Or(
        Box::new(Filter::Compare(
            GroupField::Name,
            Op::Eq,
            Value::Text("PARTNERS".into()),
        )),
        Box::new(Filter::Not(Box::new(Filter::Text(
            Func::EndsWith,
            GroupField::DisplayName,
            "s".into(),
        )))),
    );
    let (rows, total) = store::groups::filtered(db, Some(&either), 0, 10)
        .await
        .unwrap();
    assert_eq!(
        (
            rows.iter().map(|g| g.id.as_str()).collect::<Vec<_>>(),
            total
        ),
        (vec!["partners"], 1)
    );
    let active = Filter::Compare(
        SubscriptionField::State,
        Op::Eq,
        Value::Text("active".into()),
    );
    let of = store::subscriptions::Of::Product("p1");
    let (rows, total) = store::subscriptions::filtered(db, &of, Some(&active), 0, 10)
        .await
        .unwrap();
    assert_eq!((rows.len(), total), (1, 1));
    let (_, total) =
        store::subscriptions::filtered(db, &store::subscriptions::Of::Everyone, None, 0, 1)
            .await
            .unwrap();
    assert_eq!(total, 3);

    // access control
    let mut tx = db.begin_write().await.unwrap();
    let set = store::access::set_access(
        &mut tx,
        "p1",
        &["partners".into(), "developers".into(), "nope".into()],
    )
    .await
    .unwrap();
    assert_eq!(set, (2, 0));
    assert!(
        store::access::grant(&mut tx, &"p2".into(), &"partners".into())
            .await
            .unwrap()
    );
    assert!(
        !store::access::grant(&mut tx, &"p2".into(), &"partners".into())
            .await
            .unwrap()
    );
    assert!(
        store::access::revoke(&mut tx, &"p2".into(), &"partners".into())
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();
    let groups = store::access::access_groups(db, "p1").await.unwrap();
    assert_eq!(
        groups.iter().map(|g| g.id.as_str()).collect::<Vec<_>>(),
        ["developers", "partners"]
    );
    assert_eq!(store::access::group_rows(db, "p1").await.unwrap().len(), 2);
    assert_eq!(store::access::grants_to(db, None).await.unwrap().len(), 2);
    let mine = store::access::grants_to(db, Some(&["partners".into()]))
        .await
        .unwrap();
    assert_eq!(
        (mine.len(), mine[0].product_name.as_str()),
        (1, "Weather API")
    );
    let choices = store::access::access_choices(db, "p1", "", 10)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(choices.granted.len(), 2);
    assert_eq!(choices.system.len(), 3);
    assert!(choices.candidates.is_empty(), "{:?}", choices.candidates);
    let mut tx = db.begin_write().await.unwrap();
    assert_eq!(
        store::access::set_access(&mut tx, "p1", &[]).await.unwrap(),
        (0, 2)
    );
    tx.commit().await.unwrap();
    let choices = store::access::access_choices(db, "p1", "PART", 10)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(choices.candidates.len(), 1);
    assert!(
        store::access::access_choices(db, "nope", "", 10)
            .await
            .unwrap()
            .is_none()
    );

    let mut tx = db.begin_write().await.unwrap();
    assert!(store::subscriptions::delete(&mut tx, "s2").await.unwrap());
    store::products::delete(&mut tx, "p2").await.unwrap();
    tx.commit().await.unwrap();
    assert!(store::products::get(db, "p2").await.unwrap().is_none());

    // api tokens
    let mut tx = db.begin_write().await.unwrap();
    store::api_tokens::insert(
        &mut tx,
        &store::api_tokens::NewApiToken {
            id: "t1",
            name: "CI",
            hash: &[7; 32],
            created_by: Some("a1"),
            expires_at: i64::MAX / 2,
        },
    )
    .await
    .unwrap();
    store::api_tokens::touch(&mut tx, "t1").await.unwrap();
    tx.commit().await.unwrap();
    let t = store::api_tokens::by_hash(db, &[7; 32])
        .await
        .unwrap()
        .unwrap();
    assert_eq!((t.id.as_str(), t.name.as_str()), ("t1", "CI"));
    assert!(t.last_used_at.is_some());
    let mut tx = db.begin_write().await.unwrap();
    assert!(store::api_tokens::revoke(&mut tx, "t1").await.unwrap());
    assert!(!store::api_tokens::revoke(&mut tx, "t1").await.unwrap());
    tx.commit().await.unwrap();
    assert!(
        store::api_tokens::get(db, "t1")
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_some()
    );
    assert_eq!(store::api_tokens::list(db).await.unwrap().len(), 1);

    // signing keys
    let mut tx = db.begin_write().await.unwrap();
    store::signing_keys::replace(&mut tx, SigningAlg::Es256, "k1", b"der", "{}", 0)
        .await
        .unwrap();
    store::signing_keys::replace(&mut tx, SigningAlg::Es256, "k2", b"der", "{}", 0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        store::signing_keys::algs_in_use(db).await.unwrap(),
        vec!["ES256"]
    );
    let keys = store::signing_keys::published(db, 0).await.unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys.iter().filter(|k| k.retired_at.is_none()).count(), 1);

    // applications
    let mut tx = db.begin_write().await.unwrap();
    store::applications::insert(&mut tx, "app1", &settings("Dashboard"), Some(&[1; 32]))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let app = store::applications::get(db, "app1").await.unwrap().unwrap();
    assert_eq!(app.row.name, "Dashboard");
    assert_eq!(app.redirect_uris().count(), 2);
    assert_eq!(
        app.token_groups,
        TokenGroups::Chosen(vec!["partners".into()])
    );
    assert!(app.row.has_secret && !app.row.trusted);
    assert!(
        store::applications::name_taken(db, "dashboard", None)
            .await
            .unwrap()
    );
    assert!(
        !store::applications::name_taken(db, "dashboard", Some("app1"))
            .await
            .unwrap()
    );
    assert!(app.secret_matches(&[1; 32]));
    assert!(!app.secret_matches(&[2; 32]));
    let mut public = settings("Dashboard");
    public.kind = ClientKind::Public;
    public.trusted = true;
    public.token_groups = TokenGroups::All;
    let mut tx = db.begin_write().await.unwrap();
    store::applications::update(&mut tx, "app1", &public)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let app = store::applications::get(db, "app1").await.unwrap().unwrap();
    assert!(!app.row.has_secret && app.row.trusted && app.row.version == 2);
    assert_eq!(app.token_groups, TokenGroups::All);
    assert_eq!(store::applications::list(db).await.unwrap().len(), 1);

    // codes, refresh tokens, consents, claims
    let code = CodeRow {
        application_id: "app1".into(),
        account_id: "a1".into(),
        redirect_uri: "https://app.example/cb".into(),
        code_challenge: None,
        nonce: Some("n".into()),
        scope: "openid groups".into(),
        auth_time: 5,
        session_epoch: 0,
        family: "f1".into(),
        expires_at: i64::MAX / 2,
        used_at: None,
    };
    let mut tx = db.begin_write().await.unwrap();
    store::oidc_grants::insert_code(&mut tx, &[3; 32], &code)
        .await
        .unwrap();
    let taken = store::oidc_grants::take_code(&mut tx, &[3; 32])
        .await
        .unwrap()
        .unwrap();
    assert!(taken.used_at.is_none() && taken.nonce.as_deref() == Some("n"));
    let again = store::oidc_grants::take_code(&mut tx, &[3; 32])
        .await
        .unwrap()
        .unwrap();
    assert!(again.used_at.is_some());
    let refresh = RefreshRow {
        family: "f1".into(),
        application_id: "app1".into(),
        account_id: "a1".into(),
        scope: "openid groups".into(),
        auth_time: 5,
        session_epoch: 0,
        expires_at: i64::MAX / 2,
        used_at: None,
    };
    store::oidc_grants::insert_refresh(&mut tx, &[4; 32], &refresh)
        .await
        .unwrap();
    store::oidc_grants::put_consent(&mut tx, "a1", "app1", "openid")
        .await
        .unwrap();
    store::oidc_grants::put_consent(&mut tx, "a1", "app1", "openid groups")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        store::oidc_grants::consent(db, "a1", "app1")
            .await
            .unwrap()
            .as_deref(),
        Some("openid groups")
    );
    let claims = store::oidc_grants::claims_of(db, "a1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        claims.groups(),
        vec![
            ("developers".to_owned(), "Developers".to_owned()),
            ("partners".to_owned(), "Partners".to_owned())
        ]
    );
    let mut tx = db.begin_write().await.unwrap();
    let r = store::oidc_grants::take_refresh(&mut tx, &[4; 32])
        .await
        .unwrap()
        .unwrap();
    assert!(r.used_at.is_none());
    assert_eq!(
        store::oidc_grants::revoke_family(&mut tx, "f1")
            .await
            .unwrap(),
        1
    );
    assert!(store::applications::delete(&mut tx, "app1").await.unwrap());
    tx.commit().await.unwrap();
    assert!(
        store::applications::get(db, "app1")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn the_moved_store_functions_on_sqlite() {
    let (_dir, db) = sqlite().await;
    exercise(&db).await;
}

#[tokio::test]
async fn the_moved_store_functions_on_postgres() {
    if let Some(db) = postgres().await {
        exercise(&db).await;
    }
}
