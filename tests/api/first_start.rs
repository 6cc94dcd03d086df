//! A new user's very first start (issue: "database is locked" on a fresh
//! file): Portal started on fresh database files one after another, with
//! both cores kept busy, answers `/healthz` every time.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::helpers::fresh_database_url;
use crate::process::PortalProcess;

const STARTS: usize = 50;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_first_starts_on_a_loaded_machine_all_answer() {
    let stop = Arc::new(AtomicBool::new(false));
    let load: Vec<_> = (0..2)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut x = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
                    std::hint::black_box(x);
                }
            })
        })
        .collect();
    let mut failures = Vec::new();
    for n in 0..STARTS {
        if let Err(e) = start_once().await {
            failures.push(format!("start {n}: {e}"));
        }
    }
    stop.store(true, Ordering::Relaxed);
    for t in load {
        t.join().unwrap();
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

async fn start_once() -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    // On SQLite the file DATA_DIR would give; a new database on PostgreSQL.
    let db = fresh_database_url(dir.path()).await;
    let portal = PortalProcess::start(&[
        ("DATA_DIR", data),
        ("DATABASE_URL", &db),
        ("ADMIN_EMAIL", "root@example.org"),
    ])
    .await?;
    let r = reqwest::get(format!("{}/healthz", portal.address))
        .await
        .map_err(|e| e.to_string())?;
    let status = r.status();
    let body = r.text().await.unwrap_or_default();
    portal.kill().await;
    if status.is_success() && body == "ok" {
        Ok(())
    } else {
        Err(format!("/healthz answered {status} {body:?}"))
    }
}
