use anyhow::{Context, bail};
use portal::config::Settings;
use portal::services::bootstrap;
use portal::startup::{self, Application};

const USAGE: &str = "\
Usage: portal [COMMAND]

Commands:
  serve                      Start the portal (the default)
  create-admin --email EMAIL [--password PASSWORD] [--first-name NAME] [--last-name NAME]
                             Add an administrator (a password is generated if not given)
  help                       Show this help

Configuration comes from the environment; see the README.";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    portal::telemetry::init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let settings = Settings::from_env()?;
    match args.first().map(String::as_str) {
        None | Some("serve") => serve(settings).await,
        Some("create-admin") => create_admin(settings, &args[1..]).await,
        Some("help" | "--help" | "-h") => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => bail!("unknown command {other:?}\n\n{USAGE}"),
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let bind = settings.bind;
    let base = settings.base_url.clone();
    let app = Application::build(settings).await?;
    tracing::info!(%bind, "Portal is listening");
    println!("Portal is running at {base}/admin (listening on {bind}). Stop it with Ctrl+C.");
    app.run_until_stopped().await?;
    Ok(())
}

fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

async fn create_admin(settings: Settings, args: &[String]) -> anyhow::Result<()> {
    let email = flag(args, "--email").context("create-admin needs --email EMAIL")?;
    let ctx = startup::open(settings).await?;
    let admin = bootstrap::create_admin(
        &ctx,
        email,
        flag(args, "--password"),
        flag(args, "--first-name").unwrap_or("Portal"),
        flag(args, "--last-name").unwrap_or("Administrator"),
    )
    .await
    .map_err(|e| match e {
        portal::services::ServiceError::Invalid(errs) => anyhow::anyhow!(
            errs.into_iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("\n")
        ),
        other => other.into(),
    })?;
    match (admin.existed, admin.generated_password) {
        (true, _) => println!("{} is now an administrator.", admin.email),
        (false, Some(pw)) => println!(
            "Created administrator {}\nPassword: {pw}\n(shown once)",
            admin.email
        ),
        (false, None) => println!("Created administrator {}.", admin.email),
    }
    Ok(())
}
