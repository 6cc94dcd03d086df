use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use portal::config::Settings;
use portal::services::bootstrap;
use portal::startup::{self, Application};

/// The command line (SPEC R5). Settings come from the environment (see the
/// README); `--bind` and `--database-url` may also be given here, and win.
#[derive(Parser)]
#[command(
    name = "portal",
    version,
    about = "Portal: a self-hosted access portal for API programmes",
    after_help = "Settings come from the environment (BIND, BASE_URL, DATABASE_URL, SMTP_URL, \
                  SESSION_KEY, ...): see the README."
)]
struct Cli {
    /// Address and port to listen on (else BIND; default 127.0.0.1:8080)
    #[arg(long, global = true, value_name = "ADDR:PORT")]
    bind: Option<String>,
    /// The database (else DATABASE_URL; default sqlite://data/portal.db)
    #[arg(long, global = true, value_name = "URL")]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Start the portal (the default)
    Serve,
    /// Add an administrator (a password is generated if not given)
    CreateAdmin {
        #[arg(long)]
        email: String,
        #[arg(long)]
        password: Option<String>,
        #[arg(long, default_value = "Portal")]
        first_name: String,
        #[arg(long, default_value = "Administrator")]
        last_name: String,
    },
    /// Fill a fresh SQLite database with demo data; every seeded account's
    /// password is printed
    Seed {
        #[arg(long, default_value = "100000", value_parser = whole_number)]
        accounts: u64,
        #[arg(long, default_value = "1000", value_parser = whole_number)]
        groups: u64,
        #[arg(long, default_value = "1000", value_parser = whole_number)]
        products: u64,
        #[arg(long, default_value = "100000", value_parser = whole_number)]
        subscriptions: u64,
        /// The random seed: the same seed gives the same data
        #[arg(long, default_value = "1", value_parser = whole_number)]
        seed: u64,
        /// Seed a database that holds accounts already
        #[arg(long)]
        force: bool,
    },
    /// Make new OpenID signing keys; the old ones stay published until the
    /// tokens they signed expire (a running portal uses the new keys within
    /// seconds)
    RotateKeys,
    /// Copy a SQLite installation into an empty PostgreSQL database, in one
    /// transaction; then point DATABASE_URL at PostgreSQL
    MigrateToPostgres {
        /// The PostgreSQL database to fill (postgres://...)
        #[arg(long, value_name = "URL")]
        to: String,
        /// The SQLite database to copy (default: DATABASE_URL)
        #[arg(long, value_name = "URL")]
        from: Option<String>,
    },
    /// Write a consistent copy of the SQLite database to FILE while the
    /// portal runs (on PostgreSQL: use pg_dump)
    Backup {
        /// Where to write it (must not exist)
        file: std::path::PathBuf,
    },
}

/// A count such as 100000, 100_000 or 100,000.
fn whole_number(v: &str) -> Result<u64, String> {
    v.replace(['_', ','], "")
        .parse()
        .map_err(|_| format!("{v:?} is not a whole number"))
}

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
    // Parsed first: --help, --version and a wrong option answer (exit 0 or
    // 2, usage on stderr) without reading any setting.
    let cli = Cli::parse();
    portal::telemetry::init();
    let settings = Settings::from_vars(|k| match k {
        "BIND" if cli.bind.is_some() => cli.bind.clone(),
        "DATABASE_URL" if cli.database_url.is_some() => cli.database_url.clone(),
        _ => std::env::var(k).ok(),
    })?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings).await,
        Command::CreateAdmin {
            email,
            password,
            first_name,
            last_name,
        } => {
            create_admin(
                settings,
                &email,
                password.as_deref(),
                &first_name,
                &last_name,
            )
            .await
        }
        Command::Seed {
            accounts,
            groups,
            products,
            subscriptions,
            seed: number,
            force,
        } => {
            let defaults = portal::seed::SeedOptions::default();
            let opts = portal::seed::SeedOptions {
                accounts: accounts as usize,
                groups: groups as usize,
                products: products as usize,
                subscriptions: subscriptions as usize,
                seed: number,
                force,
                ..defaults
            };
            seed(settings, opts).await
        }
        Command::RotateKeys => rotate_keys(settings).await,
        Command::MigrateToPostgres { to, from } => {
            migrate_to_postgres(settings, from.as_deref(), &to).await
        }
        Command::Backup { file } => backup(settings, &file).await,
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

async fn create_admin(
    settings: Settings,
    email: &str,
    password: Option<&str>,
    first_name: &str,
    last_name: &str,
) -> anyhow::Result<()> {
    let ctx = startup::open(settings).await?;
    let admin = bootstrap::create_admin(&ctx, email, password, first_name, last_name)
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

async fn migrate_to_postgres(
    settings: Settings,
    from: Option<&str>,
    to: &str,
) -> anyhow::Result<()> {
    use portal::store::{self, Db};

    let from = from.unwrap_or(&settings.database_url);
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
    let progress = Progress::start("copying");
    let copied = store::copy::sqlite_to_postgres(&source, &target, |table, rows| {
        progress.line(format!("  {table:<22} {rows:>9} rows"));
    })
    .await?;
    progress.finish();
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

async fn seed(settings: Settings, opts: portal::seed::SeedOptions) -> anyhow::Result<()> {
    use portal::seed;

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
    let progress = Progress::start("seeding");
    let report = seed::run(&ctx.db, &opts, &mut |phase, took| {
        progress.line(format!("  {phase:<26} {:>8.2} s", took.as_secs_f64()));
    })
    .await?;
    progress.finish();
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

async fn backup(settings: Settings, file: &std::path::Path) -> anyhow::Result<()> {
    let db = portal::store::Db::open(&settings.database_url, settings.timeouts.db_acquire)
        .await
        .context("opening the database")?;
    let written = portal::store::backup::write(&db, file).await?;
    db.close().await;
    anyhow::ensure!(
        written.integrity == "ok",
        "the backup at {} fails its integrity check: {}",
        file.display(),
        written.integrity
    );
    println!(
        "Backed up to {} ({:.1} MiB, integrity check: ok). To restore: stop Portal, put the file \
         where DATABASE_URL points (removing its -wal and -shm files), start Portal.",
        file.display(),
        written.bytes as f64 / (1024.0 * 1024.0)
    );
    Ok(())
}

/// Progress of long work (`seed`, `migrate-to-postgres`): a spinner with
/// the lines done so far on a terminal; plain lines otherwise (a log, a
/// pipe), so scripts read what they always read.
struct Progress(Option<indicatif::ProgressBar>);

impl Progress {
    fn start(doing: &'static str) -> Self {
        if !std::io::IsTerminal::is_terminal(&std::io::stdout()) {
            return Self(None);
        }
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_message(format!("{doing}..."));
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Self(Some(bar))
    }

    fn line(&self, text: String) {
        match &self.0 {
            Some(bar) => bar.println(text),
            None => println!("{text}"),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}
