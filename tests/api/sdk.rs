//! The official SDK of the commercial service (`azure-mgmt-apimanagement`
//! from PyPI, installed by tests/run.sh into tests/sdk/.venv) drives a real
//! Portal with only the base URL and the credential changed (issue 13's
//! acceptance test): tests/sdk/drive.py, then the README's example, then a
//! revoked token.

use std::path::PathBuf;

use crate::helpers::*;
use crate::management_api::api_token;

fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("PORTAL_SDK_PYTHON") {
        return p.into();
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/sdk/.venv/bin/python");
    assert!(
        venv.exists(),
        "the SDK's virtual environment is missing: run `bash tests/run.sh`, or \
         `python3 -m venv tests/sdk/.venv && tests/sdk/.venv/bin/pip install -r tests/sdk/requirements.txt`"
    );
    venv
}

async fn run(script: &std::path::Path, args: &[&str], url: &str, token: &str) {
    let out = tokio::process::Command::new(python())
        .arg(script)
        .args(args)
        .env("PORTAL_URL", url)
        .env("PORTAL_TOKEN", token)
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{} failed:\n{}\n{}",
        script.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The README's `python` block in its management API section.
fn readme_example(dir: &std::path::Path) -> PathBuf {
    let readme =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("README.md"))
            .unwrap();
    let section = readme
        .split_once("## Managing Portal with its management API")
        .expect("README has the management API section")
        .1;
    let block = section
        .split_once("```python\n")
        .and_then(|(_, rest)| rest.split_once("\n```"))
        .expect("the section has a python block")
        .0;
    let path = dir.join("readme_example.py");
    std::fs::write(&path, block).unwrap();
    path
}

#[tokio::test]
async fn the_official_sdk_manages_portal() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let token = api_token(&app, &admin, "sdk").await;
    let dir = tempfile::tempdir().unwrap();
    let drive = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/sdk/drive.py");
    run(&drive, &[], &app.address, &token).await;
    run(&readme_example(dir.path()), &[], &app.address, &token).await;

    // Every change the SDK made is in the audit log as the API's.
    let channels: Vec<String> = db_all!(
        &app.db,
        "SELECT DISTINCT channel FROM audit_log WHERE actor_label = 'API token sdk'"
    );
    assert_eq!(channels, ["api"]);

    let id: String = db_one!(&app.db, "SELECT id FROM api_tokens WHERE name = 'sdk'");
    app.post(&admin, &format!("/admin/api/tokens/{id}/revoke"), &[])
        .await;
    run(&drive, &["revoked"], &app.address, &token).await;
}
