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
  seed [--accounts N] [--groups G] [--products P] [--subscriptions S] [--seed X] [--force]
                             Fill a fresh database with demo data (defaults 100000 / 1000 /
                             1000 / 100000 / 1); every seeded account's password is printed
  rotate-keys                Make new OpenID signing keys; the old ones stay published until
                             the tokens they signed expire (a running portal uses the new
                             keys within seconds)
  migrate-to-postgres --to postgres://... [--from sqlite://...]
                             Copy a SQLite installation (default: DATABASE_URL) into an empty
                             PostgreSQL database, in one transaction; then point DATABASE_URL
                             at PostgreSQL
  help                       Show this help

Configuration comes from the environment; see the README.";

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc commits its memory arenas eagerly and keeps freed memory for
/// 10 ms by default; argon2's 19 MiB per hash (S-1) and a busy page's
/// buffers then stay in the server's resident set (113 MiB peak under the
/// load harness, against 50 MiB this way). mimalloc reads its options from
/// the environment when it initialises, which happens before `main`, so
/// they are set by a constructor that runs first (priority 100; mimalloc's
/// own runs at 101). An operator's own MIMALLOC_* settings win.
#[cfg(target_os = "linux")]
#[used]
#[unsafe(link_section = ".init_array.00100")]
static ALLOCATOR_OPTIONS: extern "C" fn() = allocator_options;

#[cfg(target_os = "linux")]
extern "C" fn allocator_options() {
    // SAFETY: runs before any thread exists; libc's setenv does not use the
    // Rust allocator, so mimalloc is not initialised by this call.
    unsafe {
        libc::setenv(c"MIMALLOC_ARENA_EAGER_COMMIT".as_ptr(), c"0".as_ptr(), 0);
        libc::setenv(c"MIMALLOC_PURGE_DELAY".as_ptr(), c"0".as_ptr(), 0);
    }
}

fn main() -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run())
}

async fn run() -> anyhow::Result<()> {
    portal::telemetry::init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let settings = Settings::from_env()?;
    match args.first().map(String::as_str) {
        None | Some("serve") => serve(settings).await,
        Some("create-admin") => create_admin(settings, &args[1..]).await,
        Some("seed") => seed(settings, &args[1..]).await,
        Some("rotate-keys") => rotate_keys(settings).await,
        Some("migrate-to-postgres") => migrate_to_postgres(settings, &args[1..]).await,
        Some("help" | "--help" | "-h") => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => bail!("unknown command {other:?}\n\n{USAGE}"),
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let mut bind = settings.bind;
    let base = settings.base_url.clone();
    let app = Application::build(settings).await?;
    // With port 0 the system chose one: say which.
    bind.set_port(app.port());
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

async fn rotate_keys(settings: Settings) -> anyhow::Result<()> {
    let ctx = startup::open(settings).await?;
    portal::services::signing_keys::ensure(&ctx).await?;
    portal::services::signing_keys::rotate(&ctx, &portal::services::Actor::system()).await?;
    for k in portal::services::signing_keys::list(&ctx).await? {
        let state = match k.published_until {
            None => "signs new tokens".to_owned(),
            Some(t) => format!("retired, published until {}", portal::clock::display(t)),
        };
        println!("{} {} {state}", k.kid, k.alg.as_str());
    }
    Ok(())
}

async fn migrate_to_postgres(settings: Settings, args: &[String]) -> anyhow::Result<()> {
    use portal::store::{self, Db};

    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--from" | "--to" => i += 2,
            other => bail!("migrate-to-postgres: unknown option {other:?}\n\n{USAGE}"),
        }
    }
    let from = flag(args, "--from").unwrap_or(&settings.database_url);
    let to = flag(args, "--to").context("migrate-to-postgres needs --to postgres://...")?;
    anyhow::ensure!(
        !store::is_postgres(from),
        "--from must name a SQLite database (sqlite://...), not {from}"
    );
    anyhow::ensure!(
        store::is_postgres(to),
        "--to must name a PostgreSQL database (postgres://...)"
    );
    let wait = settings.timeouts.db_acquire;
    let source = Db::open(from, wait)
        .await
        .context("opening the SQLite database")?;
    let target = Db::open(to, wait)
        .await
        .context("opening the PostgreSQL database")?;
    println!("Copying {from} into PostgreSQL...");
    let started = std::time::Instant::now();
    let copied = store::copy::sqlite_to_postgres(&source, &target, |table, rows| {
        println!("  {table:<22} {rows:>9} rows");
    })
    .await?;
    let rows: u64 = copied.iter().map(|(_, n)| n).sum();
    println!(
        "Copied {rows} rows of {} tables in {:.1} s. Set DATABASE_URL to the PostgreSQL URL \
         (and SESSION_KEY) and start portal.",
        copied.len(),
        started.elapsed().as_secs_f64()
    );
    source.close().await;
    target.close().await;
    Ok(())
}

async fn seed(settings: Settings, args: &[String]) -> anyhow::Result<()> {
    use portal::seed::{self, SeedOptions};

    const VALUED: [&str; 5] = [
        "--accounts",
        "--groups",
        "--products",
        "--subscriptions",
        "--seed",
    ];
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            a if VALUED.contains(&a) => i += 2,
            "--force" => i += 1,
            other => bail!("seed: unknown option {other:?}\n\n{USAGE}"),
        }
    }
    let number = |name: &str, default: u64| -> anyhow::Result<u64> {
        flag(args, name).map_or(Ok(default), |v| {
            v.replace(['_', ','], "")
                .parse()
                .with_context(|| format!("{name} needs a whole number, not {v:?}"))
        })
    };
    let defaults = SeedOptions::default();
    let opts = SeedOptions {
        accounts: number("--accounts", defaults.accounts as u64)? as usize,
        groups: number("--groups", defaults.groups as u64)? as usize,
        products: number("--products", defaults.products as u64)? as usize,
        subscriptions: number("--subscriptions", defaults.subscriptions as u64)? as usize,
        seed: number("--seed", defaults.seed)?,
        force: args.iter().any(|a| a == "--force"),
        ..defaults
    };
    let database = settings.database_url.clone();
    anyhow::ensure!(
        !portal::store::is_postgres(&database),
        "seed fills a SQLite database (its bulk load is SQLite's): seed a SQLite file, then copy \
         it with `portal migrate-to-postgres`"
    );
    let ctx = startup::open(settings).await?;
    println!(
        "Seeding {database} with {} accounts, {} groups, {} products, {} subscriptions (seed {})...",
        opts.accounts, opts.groups, opts.products, opts.subscriptions, opts.seed
    );
    let report = seed::run(&ctx.db, &opts).await?;
    ctx.db.checkpoint().await?;
    println!(
        "Seeded {} accounts, {} groups, {} memberships, {} products, {} access grants, {} subscriptions in {:.2} s",
        report.accounts,
        report.groups,
        report.memberships,
        report.products,
        report.grants,
        report.subscriptions,
        report.total.as_secs_f64()
    );
    for (phase, took) in &report.timings {
        println!("  {phase:<26} {:>8.2} s", took.as_secs_f64());
    }
    if !report.mismatches.is_empty() {
        bail!(
            "the counters disagree with the rows:\n  {}",
            report.mismatches.join("\n  ")
        );
    }
    println!("Counters checked: they agree with the rows.");
    println!("Every seeded developer's password: {}", seed::PASSWORD);
    println!("Their shared password hash: {}", report.password_hash);
    if let Some(email) = &report.many_groups_email {
        println!(
            "A developer in exactly {} groups: {email}",
            seed::MANY_GROUPS
        );
    }
    if let Some((email, key)) = &report.sample_subscription {
        println!("An active subscription of {email}: primary key {key}");
    }
    Ok(())
}
