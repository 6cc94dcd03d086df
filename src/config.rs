//! Settings from the environment (SPEC R2) with the defaults of R1.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};

#[derive(Clone, Debug)]
pub struct Settings {
    pub database_url: String,
    pub bind: SocketAddr,
    /// Public base URL, without a trailing slash; links in emails use it (S-7).
    pub base_url: String,
    pub smtp_url: Option<String>,
    pub mail_from: String,
    pub admin_email: Option<String>,
    pub admin_password: Option<String>,
    /// Master key for the session cookie; when unset, one is generated once
    /// and kept in the database so restarts do not sign everyone out.
    pub session_key: Option<String>,
    pub data_dir: PathBuf,
    pub timeouts: Timeouts,
    /// S-6: how long links sent by email stay good.
    pub links: crate::domain::link::LinkLifetimes,
    /// S-23: proxies whose `X-Forwarded-For` / `Forwarded` are believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Where `/metrics` is served, if anywhere (SPEC R5).
    pub metrics: Metrics,
    /// Connections to PostgreSQL this instance opens at most: several
    /// instances together must stay under the server's `max_connections`.
    pub database_max_connections: u32,
    /// Threads that answer HTTP requests (`WORKERS`); one per core unless
    /// set. Several instances sharing one machine's cores run best with
    /// fewer each: the cores are shared either way, and more threads than
    /// cores only adds switching between them.
    pub workers: Option<usize>,
}

/// Prometheus metrics: off unless the operator says where (R5).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Metrics {
    #[default]
    Off,
    /// `METRICS=on`: at `/metrics` on the portal's own port.
    Public,
    /// `METRICS_BIND=addr:port`: at `/metrics` on a listener of its own
    /// (an internal address the scraper reaches), never on the public port.
    Bind(SocketAddr),
}

#[derive(Clone, Debug)]
pub struct Timeouts {
    /// S-11 console idle timeout.
    pub console_idle: Duration,
    /// S-11 absolute session lifetime.
    pub session_absolute: Duration,
    /// S-18 how long a request waits for a database connection.
    pub db_acquire: Duration,
    /// S-19 the bound on one email send (lettre's own timeout covers only the connect).
    pub mail_send: Duration,
    /// E3 the first wait before a failed email is tried again; each next
    /// wait doubles, up to 15 minutes.
    pub mail_retry_base: Duration,
    /// E3 how often the email worker looks at the outbox when nobody wakes it.
    pub mail_poll: Duration,
    /// S-19 how long a message keeps being retried before it is marked failed.
    pub mail_give_up: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            console_idle: Duration::from_secs(30 * 60),
            session_absolute: Duration::from_secs(12 * 60 * 60),
            db_acquire: Duration::from_secs(5),
            mail_send: Duration::from_secs(15),
            mail_retry_base: Duration::from_secs(5),
            mail_poll: Duration::from_secs(5),
            mail_give_up: Duration::from_secs(48 * 60 * 60),
        }
    }
}

impl Settings {
    pub fn from_env() -> anyhow::Result<Self> {
        Self::from_vars(|k| std::env::var(k).ok())
    }

    /// The settings from `lookup` (the environment, with the command line's
    /// `--bind` and `--database-url` put first by `main`).
    pub fn from_vars(lookup: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let var = |k: &str| lookup(k).filter(|v| !v.trim().is_empty());
        let data_dir = PathBuf::from(var("DATA_DIR").unwrap_or_else(|| "data".into()));
        let bind: SocketAddr = var("BIND")
            .unwrap_or_else(|| "127.0.0.1:8080".into())
            .parse()
            .context("BIND must be an address:port such as 127.0.0.1:8080")?;
        let base_url = var("BASE_URL")
            .unwrap_or_else(|| format!("http://{bind}"))
            .trim_end_matches('/')
            .to_owned();
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            bail!("BASE_URL must start with http:// or https://");
        }
        let database_url = var("DATABASE_URL")
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("portal.db").display()));
        let mut timeouts = Timeouts::default();
        if let Some(s) = var("CONSOLE_IDLE_TIMEOUT_SECS") {
            timeouts.console_idle =
                Duration::from_secs(s.parse().context("CONSOLE_IDLE_TIMEOUT_SECS")?);
        }
        if let Some(s) = var("SESSION_LIFETIME_SECS") {
            timeouts.session_absolute =
                Duration::from_secs(s.parse().context("SESSION_LIFETIME_SECS")?);
        }
        if let Some(s) = var("MAIL_GIVE_UP_AFTER_SECS") {
            timeouts.mail_give_up =
                Duration::from_secs(s.parse().context("MAIL_GIVE_UP_AFTER_SECS")?);
        }
        let trusted_proxies =
            crate::web::client::parse_trusted(&var("TRUSTED_PROXIES").unwrap_or_default())
                .map_err(|e| anyhow::anyhow!("TRUSTED_PROXIES: {e}"))?;
        let metrics = match (var("METRICS_BIND"), var("METRICS")) {
            (Some(addr), _) => Metrics::Bind(
                addr.parse()
                    .context("METRICS_BIND must be an address:port such as 127.0.0.1:9100")?,
            ),
            (None, Some(v)) if v.eq_ignore_ascii_case("on") => Metrics::Public,
            (None, Some(v)) if v.eq_ignore_ascii_case("off") => Metrics::Off,
            (None, Some(_)) => bail!("METRICS must be on or off"),
            (None, None) => Metrics::Off,
        };
        let database_max_connections = whole_number(&var, "DATABASE_MAX_CONNECTIONS", 2..=1000)?
            .unwrap_or(crate::store::DEFAULT_PG_CONNECTIONS);
        let workers = whole_number(&var, "WORKERS", 1..=256)?;
        Ok(Self {
            metrics,
            database_max_connections,
            workers,
            database_url,
            bind,
            base_url,
            smtp_url: var("SMTP_URL"),
            mail_from: var("MAIL_FROM").unwrap_or_else(|| "Portal <portal@localhost>".into()),
            admin_email: var("ADMIN_EMAIL"),
            admin_password: var("ADMIN_PASSWORD"),
            session_key: var("SESSION_KEY"),
            data_dir,
            timeouts,
            links: Default::default(),
            trusted_proxies,
        })
    }

    pub fn is_https(&self) -> bool {
        self.base_url.starts_with("https://")
    }
}

/// The setting `name` as a whole number within `range`, if it is set.
fn whole_number<T>(
    var: &impl Fn(&str) -> Option<String>,
    name: &str,
    range: std::ops::RangeInclusive<T>,
) -> anyhow::Result<Option<T>>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display,
{
    let Some(v) = var(name) else {
        return Ok(None);
    };
    match v.trim().parse::<T>() {
        Ok(n) if range.contains(&n) => Ok(Some(n)),
        _ => bail!(
            "{name} must be a whole number from {} to {} (got {v:?})",
            range.start(),
            range.end()
        ),
    }
}
