//! Running Portal (SPEC R5): the command line as people expect it, a
//! backup taken while writes go on, `/readyz` when the database is gone,
//! and JSON logs.

use std::process::Output;

use reqwest::StatusCode;
use tokio::process::Command;

use crate::helpers::*;
use crate::process::PortalProcess;

async fn portal(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_portal"))
        .args(args)
        .envs(env.iter().copied())
        .env("RUST_LOG", "warn")
        .output()
        .await
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[tokio::test]
async fn every_command_has_help_and_wrong_options_print_usage_and_exit_2() {
    let out = portal(&["--help"], &[]).await;
    assert!(out.status.success());
    let help = text(&out.stdout);
    for command in [
        "serve",
        "create-admin",
        "seed",
        "rotate-keys",
        "migrate-to-postgres",
        "backup",
    ] {
        assert!(help.contains(command), "--help names {command}: {help}");
        let out = portal(&[command, "--help"], &[]).await;
        assert!(out.status.success(), "{command} --help");
        assert!(
            text(&out.stdout).contains("Usage: portal"),
            "{command} --help"
        );
    }
    assert!(help.contains("--database-url"));

    let out = portal(&["--version"], &[]).await;
    assert!(out.status.success());
    assert_eq!(
        text(&out.stdout).trim(),
        format!("portal {}", env!("CARGO_PKG_VERSION"))
    );

    for wrong in [
        &["seed", "--acounts", "5"][..],
        &["seed", "--accounts", "many"],
        &["no-such-command"],
        &["create-admin"],
        &["backup"],
    ] {
        let out = portal(wrong, &[]).await;
        assert_eq!(out.status.code(), Some(2), "{wrong:?}");
        let err = text(&out.stderr);
        // The usage, or (for a value that does not parse) where to find it.
        assert!(
            err.starts_with("error: ") && (err.contains("Usage: portal") || err.contains("--help")),
            "{wrong:?}: {err}"
        );
        assert!(
            !err.contains("panicked") && !err.contains("backtrace"),
            "{err}"
        );
        assert!(out.stdout.is_empty());
    }
}

#[tokio::test]
async fn a_backup_taken_during_writes_is_sound_and_holds_what_was_acknowledged() {
    let app = spawn_app().await;
    let file = app.settings.data_dir.join("backup.db");
    if on_postgres() {
        let out = portal(
            &["backup", file.to_str().unwrap()],
            &[("DATABASE_URL", &app.settings.database_url)],
        )
        .await;
        assert!(!out.status.success());
        assert!(
            text(&out.stderr).contains("pg_dump"),
            "{}",
            text(&out.stderr)
        );
        return;
    }
    let admin = app.admin().await;
    // A stream of writes through the console while the backup runs.
    let writer = {
        let app_url = app.address.clone();
        tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            let token_page = admin
                .get(format!("{app_url}/admin/users/add"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let token = input_value(&token_page, "input[name=csrf_token]").unwrap();
            for i in 0..60 {
                let email = format!("stream{i}@example.com");
                let r = admin
                    .post(format!("{app_url}/admin/users/add"))
                    .form(&[
                        ("csrf_token", token.as_str()),
                        ("email", email.as_str()),
                        ("first_name", "Stream"),
                        ("last_name", "Writer"),
                        ("password", USER_PASSWORD),
                    ])
                    .send()
                    .await
                    .unwrap();
                if r.status() == StatusCode::SEE_OTHER {
                    acknowledged.push((email, std::time::Instant::now()));
                }
            }
            acknowledged
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    let started = std::time::Instant::now();
    let out = portal(
        &["backup", file.to_str().unwrap()],
        &[("DATABASE_URL", &app.settings.database_url)],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("integrity check: ok"));
    let acknowledged = writer.await.unwrap();
    assert!(acknowledged.len() > 10, "writes went on");

    // The copy opens, is sound, and holds every write acknowledged before
    // the backup started.
    let copy = portal::store::Db::open(
        &format!("sqlite://{}", file.display()),
        std::time::Duration::from_secs(5),
    )
    .await
    .unwrap();
    let integrity: String = db_one!(&copy, "PRAGMA integrity_check");
    assert_eq!(integrity, "ok");
    let emails: Vec<String> = db_all!(&copy, "SELECT email FROM accounts");
    for (email, at) in &acknowledged {
        if *at < started {
            assert!(
                emails.contains(email),
                "{email} acknowledged before the backup"
            );
        }
    }
    copy.close().await;

    // Never over an existing file.
    let out = portal(
        &["backup", file.to_str().unwrap()],
        &[("DATABASE_URL", &app.settings.database_url)],
    )
    .await;
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("exists already"));
}

#[tokio::test]
async fn readyz_answers_503_while_the_database_cannot_be_reached() {
    let app = spawn_app().await;
    let r = app.get(&browser(), "/readyz").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.text().await.unwrap(), "ready");
    if !on_postgres() {
        // SQLite is a file the process holds open: it cannot go away from
        // under a running portal the way a database server can.
        return;
    }
    let name = app
        .settings
        .database_url
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let admin_url = std::env::var("PORTAL_TEST_POSTGRES").unwrap();
    let run = |statement: String| {
        let admin_url = admin_url.clone();
        async move {
            use sqlx::Connection;
            let mut c = sqlx::PgConnection::connect(&admin_url).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(statement))
                .execute(&mut c)
                .await
                .unwrap();
            c.close().await.unwrap();
        }
    };
    // The database refuses connections and drops the ones it has.
    run(format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false")).await;
    run(format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
    ))
    .await;
    let r = app.get(&browser(), "/readyz").await;
    let status = r.status();
    assert_eq!(
        status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        r.text().await.unwrap()
    );
    let r = app.get(&browser(), "/healthz").await;
    assert_eq!(r.status(), StatusCode::OK, "still alive");
    run(format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true")).await;
    wait_until("ready again", || async {
        app.get(&browser(), "/readyz").await.status() == StatusCode::OK
    })
    .await;
}

#[tokio::test]
async fn log_format_json_writes_one_object_a_line() {
    let dir = tempfile::TempDir::new().unwrap();
    let url = fresh_database_url(dir.path()).await;
    let p = PortalProcess::start(&[
        ("DATABASE_URL", url.as_str()),
        ("DATA_DIR", dir.path().to_str().unwrap()),
        ("LOG_FORMAT", "json"),
        ("RUST_LOG", "info"),
    ])
    .await
    .unwrap();
    reqwest::get(format!("{}/healthz", p.address))
        .await
        .unwrap();
    let lines: Vec<String> = p.output.lock().unwrap().clone();
    let logged: Vec<&String> = lines.iter().filter(|l| l.starts_with('{')).collect();
    assert!(!logged.is_empty(), "{lines:?}");
    for l in logged {
        let v: serde_json::Value = serde_json::from_str(l).expect("each log line is JSON");
        assert!(v["timestamp"].is_string() && v["level"].is_string(), "{l}");
    }
    p.kill().await;
}

#[tokio::test]
async fn long_work_reports_its_progress_in_plain_lines_off_a_terminal() {
    let dir = tempfile::TempDir::new().unwrap();
    let url = format!("sqlite://{}", dir.path().join("portal.db").display());
    let data_dir = dir.path().to_str().unwrap();
    let out = portal(
        &[
            "seed",
            "--accounts",
            "1_000",
            "--groups",
            "5",
            "--products",
            "5",
            "--subscriptions",
            "20",
        ],
        &[("DATABASE_URL", &url), ("DATA_DIR", data_dir)],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    // Each phase as it ends, then the summary; no terminal control codes.
    let accounts = stdout.find("  accounts ").expect("the accounts phase");
    let summary = stdout.find("Seeded 1000 accounts").expect("the summary");
    assert!(accounts < summary, "{stdout}");
    assert!(!stdout.contains('\u{1b}'), "{stdout:?}");
}

/// `DATABASE_MAX_CONNECTIONS` bounds what one instance opens on PostgreSQL
/// (several instances must stay under the server's `max_connections`); a
/// value out of range stops the start with a message that names it.
#[tokio::test]
async fn database_max_connections_bounds_an_instance_on_postgres() {
    let out = portal(&["serve"], &[("DATABASE_MAX_CONNECTIONS", "1")]).await;
    assert!(!out.status.success());
    assert!(
        text(&out.stderr)
            .contains("DATABASE_MAX_CONNECTIONS must be a whole number from 2 to 1000"),
        "{}",
        text(&out.stderr)
    );

    let Ok(admin_url) = std::env::var("PORTAL_TEST_POSTGRES") else {
        eprintln!("PORTAL_TEST_POSTGRES is not set: skipped (tests/run.sh sets it)");
        return;
    };
    let url = fresh_postgres_database(&admin_url).await;
    let name = url.rsplit_once('/').unwrap().1.to_owned();
    let instance =
        PortalProcess::start(&[("DATABASE_URL", &url), ("DATABASE_MAX_CONNECTIONS", "3")])
            .await
            .expect("the instance starts");
    // Key checks held up by a lock on the subscriptions, each holding a
    // connection while it waits: the pool grows as far as it may.
    use sqlx::Connection;
    let mut locker = sqlx::PgConnection::connect(&url).await.unwrap();
    sqlx::query("BEGIN").execute(&mut locker).await.unwrap();
    sqlx::query("LOCK TABLE subscriptions IN ACCESS EXCLUSIVE MODE")
        .execute(&mut locker)
        .await
        .unwrap();
    let c = browser();
    let checks: Vec<_> = (0..24)
        .map(|i| {
            let c = c.clone();
            let url = format!("{}/gateway/check", instance.address);
            tokio::spawn(async move {
                c.get(url)
                    .header("Ocp-Apim-Subscription-Key", format!("{i:032x}"))
                    .send()
                    .await
                    .unwrap()
                    .status()
            })
        })
        .collect();
    let admin = sqlx::PgPool::connect(&admin_url).await.unwrap();
    let waiting = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'",
        )
        .bind(&name)
        .fetch_one(&admin)
        .await
        .unwrap()
    };
    wait_until("the key checks wait for the lock", || async {
        waiting().await >= 2
    })
    .await;
    // Give the pool every chance to open more than it may.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let most: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
    )
    .bind(&name)
    .fetch_one(&admin)
    .await
    .unwrap();
    sqlx::query("ROLLBACK").execute(&mut locker).await.unwrap();
    for check in checks {
        let status = check.await.unwrap();
        assert!(
            status.is_client_error(),
            "an unknown key is refused: {status}"
        );
    }
    // The pool's 3 (one of them listens for the other instances' commits)
    // and the test's own that holds the lock.
    assert!(most <= 4, "{most} connections to the instance's database");
}

/// `WORKERS` sets how many threads answer requests (instances sharing one
/// machine's cores each take fewer); a value out of range stops the start
/// with a message that names it.
#[tokio::test]
async fn workers_sets_the_threads_that_answer_requests() {
    let out = portal(&["serve"], &[("WORKERS", "0")]).await;
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("WORKERS must be a whole number from 1 to 256"),
        "{}",
        text(&out.stderr)
    );

    for workers in [1, 3] {
        let dir = tempfile::TempDir::new().unwrap();
        let url = fresh_database_url(dir.path()).await;
        let n = workers.to_string();
        let p = PortalProcess::start(&[
            ("DATABASE_URL", url.as_str()),
            ("DATA_DIR", dir.path().to_str().unwrap()),
            ("WORKERS", n.as_str()),
        ])
        .await
        .unwrap();
        let r = reqwest::get(format!("{}/healthz", p.address))
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        // actix-web names its request threads "actix-server worker N".
        let pid = p.child.id().unwrap();
        let answering = std::fs::read_dir(format!("/proc/{pid}/task"))
            .unwrap()
            .filter_map(|t| std::fs::read_to_string(t.unwrap().path().join("comm")).ok())
            .filter(|name| name.starts_with("actix-server wo"))
            .count();
        assert_eq!(answering, workers);
        p.kill().await;
    }
}
