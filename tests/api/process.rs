//! The portal binary as an operator starts it: a process of its own, on a
//! port the system picks (`BIND=127.0.0.1:0`), found from the line it
//! prints when it listens, so no port is chosen first and bound later.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub struct PortalProcess {
    pub child: Child,
    /// `http://127.0.0.1:PORT`
    pub address: String,
    /// Every line it printed to standard output so far (its log included).
    pub output: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl PortalProcess {
    /// Starts `portal` with `env` (plus `BIND=127.0.0.1:0` and quiet logs)
    /// and waits until it says where it listens; Err(what it printed) if it
    /// exits or says nothing within 60 s. On PostgreSQL, which requires a
    /// cookie key, the tests' key unless `env` names one.
    pub async fn start(env: &[(&str, &str)]) -> Result<PortalProcess, String> {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_portal"));
        cmd.env("BIND", "127.0.0.1:0")
            .env("RUST_LOG", "warn")
            .env("NO_COLOR", "1");
        let on_postgres = env
            .iter()
            .any(|(k, v)| *k == "DATABASE_URL" && portal::store::is_postgres(v));
        if on_postgres && !env.iter().any(|(k, _)| *k == "SESSION_KEY") {
            cmd.env("SESSION_KEY", crate::helpers::TEST_SESSION_KEY);
        }
        cmd.envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd.spawn().map_err(|e| e.to_string())?;
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let found = tokio::time::timeout(Duration::from_secs(60), async {
            while let Ok(Some(line)) = lines.next_line().await {
                // "… (listening on 127.0.0.1:PORT). Stop it with Ctrl+C."
                if let Some(rest) = line.split("listening on ").nth(1) {
                    return Some(rest.split(')').next().unwrap_or_default().to_owned());
                }
            }
            None
        })
        .await
        .ok()
        .flatten();
        let Some(addr) = found else {
            let _ = child.start_kill();
            let out = child.wait_with_output().await.map_err(|e| e.to_string())?;
            return Err(format!(
                "portal never listened ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        };
        // Keep reading what it prints, so a full pipe never blocks it.
        let output = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let kept = output.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                kept.lock().unwrap().push(line);
            }
        });
        Ok(PortalProcess {
            child,
            address: format!("http://{addr}"),
            output,
        })
    }

    /// `kill -9`, and wait until it is gone.
    pub async fn kill(mut self) {
        self.child.start_kill().unwrap();
        self.child.wait().await.unwrap();
    }
}
