//! Builds the running application from settings. Tests bind port 0 and read
//! the real port back.

use std::net::TcpListener;

use actix_session::SessionMiddleware;
use actix_session::config::{BrowserSession, CookieContentSecurity};
use actix_session::storage::CookieSessionStore;
use actix_web::cookie::{Key, SameSite};
use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web as aweb};
use anyhow::Context;
use sha2::{Digest, Sha512};

use crate::config::Settings;
use crate::services::{self, Ctx};
use crate::store::{self, Db};
use crate::web;

pub struct Application {
    port: u16,
    server: Server,
    mailer: crate::email::Mailer,
    clock: crate::clock::Clock,
}

/// `/metrics` alone, on the address `METRICS_BIND` names (R5): scrapers
/// reach it on an internal address; the public port never serves it.
fn spawn_metrics_listener(
    ctx: aweb::Data<services::Ctx>,
    addr: std::net::SocketAddr,
) -> anyhow::Result<()> {
    let server = HttpServer::new(move || {
        App::new()
            .app_data(ctx.clone())
            .route("/metrics", aweb::get().to(web::metrics))
    })
    .workers(1)
    .bind(addr)
    .with_context(|| format!("cannot listen on METRICS_BIND {addr}"))?
    .run();
    tracing::info!(%addr, "metrics at /metrics");
    tokio::spawn(server);
    Ok(())
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(settings.bind)
            .with_context(|| format!("cannot listen on {}", settings.bind))?;
        Self::build_with_listener(settings, listener).await
    }

    pub async fn build_with_listener(
        settings: Settings,
        listener: TcpListener,
    ) -> anyhow::Result<Self> {
        // Instances sharing a database must agree on the cookie key: each
        // would otherwise read (or make) the one in the database, and an
        // instance started before another committed its key would differ.
        anyhow::ensure!(
            !store::is_postgres(&settings.database_url) || settings.session_key.is_some(),
            "DATABASE_URL names a PostgreSQL database, which several Portal instances may share: \
             set SESSION_KEY (at least 32 random characters, the same on every instance) so that \
             a session made on one instance is honoured by the others"
        );
        let workers = settings.workers;
        let ctx = open(settings).await?;
        let start_lock = ctx.db.start_lock().await?;
        if let Some(admin) = services::bootstrap::ensure_first_admin(&ctx).await? {
            announce_first_admin(&ctx, &admin);
        }
        let port = listener.local_addr()?.port();
        let key = session_key(&ctx).await?;
        let mailer = ctx.mailer.clone();
        let clock = ctx.db.clock().clone();
        mailer.spawn(ctx.db.clone());
        ctx.db.spawn_checkpointer();
        let https = ctx.settings.is_https();
        // O4: the signing keys are made at first start (an RSA key takes a
        // moment, off the executor), before the first request, so no commit
        // of theirs lands while the server already serves.
        services::signing_keys::ensure(&ctx).await?;
        drop(start_lock);
        ctx.db.spawn_commit_listener();
        services::client_limit::spawn_forgetting(ctx.db.clone());
        let metrics_bind = match &ctx.settings.metrics {
            crate::config::Metrics::Off => None,
            crate::config::Metrics::Public => {
                crate::metrics::install();
                None
            }
            crate::config::Metrics::Bind(addr) => {
                crate::metrics::install();
                Some(*addr)
            }
        };
        let ctx = aweb::Data::new(ctx);
        if let Some(addr) = metrics_bind {
            spawn_metrics_listener(ctx.clone(), addr)?;
        }
        let mut server = HttpServer::new(move || {
            let cookie_name = if https { "__Host-portal" } else { "portal" };
            let sessions = SessionMiddleware::builder(CookieSessionStore::default(), key.clone())
                .cookie_name(cookie_name.to_owned())
                .cookie_secure(https)
                .cookie_http_only(true)
                .cookie_same_site(SameSite::Lax)
                .cookie_path("/".to_owned())
                .cookie_domain(None)
                .cookie_content_security(CookieContentSecurity::Private)
                .session_lifecycle(BrowserSession::default())
                .build();
            App::new()
                .app_data(ctx.clone())
                .wrap(from_fn(web::csrf::refuse_cross_site))
                .wrap(sessions)
                .wrap(from_fn(web::limits::refuse_oversized))
                .wrap(from_fn(web::request::handle))
                .configure(web::routes)
                .default_service(aweb::to(web::not_found))
        });
        if let Some(n) = workers {
            server = server.workers(n);
        }
        let server = server.listen(listener)?.run();
        Ok(Self {
            port,
            server,
            mailer,
            clock,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The mailer whose worker this application runs (tests drive it).
    pub fn mailer(&self) -> crate::email::Mailer {
        self.mailer.clone()
    }

    /// The clock every use case reads (tests move it forward).
    pub fn clock(&self) -> crate::clock::Clock {
        self.clock.clone()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Opens the database and the password hasher: what the commands need too.
pub async fn open(settings: Settings) -> anyhow::Result<Ctx> {
    let db = Db::open_with(
        &settings.database_url,
        settings.timeouts.db_acquire,
        settings.database_max_connections,
    )
    .await?;
    let mailer = crate::email::Mailer::new(&settings)?;
    let woken = mailer.clone();
    db.after_commit().set(move |effects| {
        if effects.mail_queued {
            woken.wake();
        }
    });
    Ok(Ctx {
        db,
        hasher: services::passwords::Hasher::new()?,
        mailer,
        keys: Default::default(),
        client_limits: Default::default(),
        sessions: Default::default(),
        group_menu: Default::default(),
        search_counts: Default::default(),
        visible_grants: Default::default(),
        api_tokens: Default::default(),
        signing_keys: Default::default(),
        settings,
    })
}

fn announce_first_admin(ctx: &Ctx, admin: &services::bootstrap::NewAdmin) {
    let url = format!("{}/admin", ctx.settings.base_url);
    match &admin.generated_password {
        Some(pw) => println!(
            "\nPortal created the administrator account.\n  Sign in at {url}\n  Email:    {}\n  Password: {pw}\n(This password is shown once. Set ADMIN_EMAIL and ADMIN_PASSWORD to choose your own.)\n",
            admin.email
        ),
        None => println!(
            "\nPortal created the administrator account {}.\n  Sign in at {url} with the password from ADMIN_PASSWORD.\n",
            admin.email
        ),
    }
}

/// The cookie key: from `SESSION_KEY`, else generated once and kept in the
/// database so that a restart does not sign everybody out.
async fn session_key(ctx: &Ctx) -> anyhow::Result<Key> {
    let master = match &ctx.settings.session_key {
        Some(k) => {
            anyhow::ensure!(k.len() >= 32, "SESSION_KEY must be at least 32 characters");
            k.clone()
        }
        None => {
            store::settings::get_or_init(&ctx.db, "session_key", &crate::domain::ids::new_secret())
                .await?
        }
    };
    Ok(Key::from(&Sha512::digest(master.as_bytes())))
}
