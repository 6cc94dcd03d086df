//! `portal migrate-to-postgres` (SPEC R4): a seeded SQLite installation,
//! copied into an empty PostgreSQL database with one command, shows the
//! same pages there; the copy refuses a database that holds accounts.
//!
//! Needs the test command's PostgreSQL cluster (`PORTAL_TEST_POSTGRES`);
//! without it the test says so and passes.

use std::process::Output;

use reqwest::StatusCode;

use crate::helpers::*;

async fn portal(args: &[&str], database_url: &str) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_portal"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .env("RUST_BACKTRACE", "0")
        .output()
        .await
        .unwrap()
}

/// A page as a reader sees it: without the per-session CSRF token and the
/// instance's own address.
fn comparable(html: &str, address: &str) -> String {
    let mut out = html.replace(address, "ADDRESS");
    if let Some(token) = input_value(html, "input[name=csrf_token]") {
        out = out.replace(&token, "TOKEN");
    }
    out
}

#[tokio::test]
async fn a_seeded_sqlite_installation_copied_to_postgres_shows_the_same_pages() {
    let Ok(cluster) = std::env::var("PORTAL_TEST_POSTGRES") else {
        eprintln!("PORTAL_TEST_POSTGRES is not set: skipped (tests/run.sh sets it)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite://{}", dir.path().join("portal.db").display());
    let out = portal(
        &[
            "seed",
            "--accounts",
            "300",
            "--groups",
            "12",
            "--products",
            "10",
            "--subscriptions",
            "300",
        ],
        &sqlite,
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let before = {
        let url = sqlite.clone();
        spawn_with(move |s| {
            s.database_url = url;
            s.session_key = Some(TEST_SESSION_KEY.to_owned());
        })
        .await
    };
    // Some history too: the audit log and an account's page show it.
    let admin = before.admin().await;
    let team = before.group(&admin, "Night shift", &[]).await;
    let someone: String = portal::run!(
        &before.db,
        portal::sql!("SELECT id FROM accounts ORDER BY email_key LIMIT 1 OFFSET 7"),
        |x, q| sqlx::query_scalar(q).fetch_one(x).await
    )
    .unwrap();
    let r = before
        .post(&admin, &format!("/admin/users/{someone}/block"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // The flash message it leaves is shown (and gone) before comparing.
    before.get_html(&admin, "/admin/groups").await;

    let target = fresh_postgres_database(&cluster).await;
    let out = portal(&["migrate-to-postgres", "--to", &target], &sqlite).await;
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.contains("accounts") && said.contains("301 rows"),
        "{said}"
    );

    let after = {
        let url = target.clone();
        spawn_with(move |s| {
            s.database_url = url;
            s.session_key = Some(TEST_SESSION_KEY.to_owned());
        })
        .await
    };
    let product: String = portal::run!(
        &after.db,
        portal::sql!("SELECT id FROM products ORDER BY id LIMIT 1"),
        |x, q| sqlx::query_scalar(q).fetch_one(x).await
    )
    .unwrap();
    // The same browser (one cookie for both: the same key, the same
    // account and session epoch, copied) reads each page from both.
    for path in [
        "/admin".to_owned(),
        "/admin/users".to_owned(),
        "/admin/users?sort=email&dir=desc".to_owned(),
        "/admin/users?q=son".to_owned(),
        "/admin/users?state=blocked".to_owned(),
        format!("/admin/users/{someone}"),
        "/admin/groups".to_owned(),
        format!("/admin/groups/{team}/members"),
        "/admin/products".to_owned(),
        format!("/admin/products/{product}"),
        format!("/admin/products/{product}/access"),
        "/admin/audit".to_owned(),
    ] {
        let old = comparable(&before.get_html(&admin, &path).await, &before.address);
        let new = comparable(&after.get_html(&admin, &path).await, &after.address);
        let differ: Vec<String> = old
            .lines()
            .zip(new.lines())
            .filter(|(o, n)| o != n)
            .take(5)
            .map(|(o, n)| format!("  SQLite:     {o}\n  PostgreSQL: {n}"))
            .collect();
        assert!(
            differ.is_empty() && old.lines().count() == new.lines().count(),
            "{path} reads differently after the copy:\n{}",
            differ.join("\n")
        );
    }

    // A second copy into the now non-empty database is refused.
    let out = portal(&["migrate-to-postgres", "--to", &target], &sqlite).await;
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("already holds 301 account(s)"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
