//! The OpenID provider's signing keys (SPEC O4): made at first start, kept
//! in the database, held in memory to sign and to publish, rotated with the
//! old key published until every token it signed has expired.
//!
//! The memory is re-read when this process rotated, and otherwise at most
//! every few seconds (so a rotation by `portal rotate-keys`, another
//! process, and the end of a retired key's grace are picked up); a key is
//! published from the same memory it signs with, so nothing is ever signed
//! with a key the JWKS does not show.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use serde::Serialize;

use crate::domain::application::SigningAlg;
use crate::domain::oidc::RETIRED_KEY_SECS;
use crate::services::jws::{self, SigningKey};
use crate::services::{Actor, Ctx, ServiceError, audit};
use crate::store::{self, audit::Subject};
use crate::telemetry::spawn_blocking_with_tracing;

/// Seconds a loaded key set is used before the database is asked again.
const RECHECK_SECS: i64 = 5;

/// The keys as loaded: those that sign, every published one by id, and the
/// JWKS document.
pub struct KeySet {
    signing: HashMap<SigningAlg, Arc<SigningKey>>,
    by_kid: HashMap<String, Arc<SigningKey>>,
    pub jwks: String,
    /// Which rows this was loaded from, to notice a change.
    kids: Vec<String>,
    /// When the rows were last compared (the application's clock).
    checked: i64,
    generation: u64,
}

impl KeySet {
    pub fn signing(&self, alg: SigningAlg) -> Option<Arc<SigningKey>> {
        self.signing.get(&alg).cloned()
    }

    pub fn by_kid(&self, kid: &str) -> Option<&SigningKey> {
        self.by_kid.get(kid).map(Arc::as_ref)
    }
}

pub struct SigningKeys {
    loaded: RwLock<Option<Arc<KeySet>>>,
    /// Bumped by a rotation in this process.
    generation: AtomicU64,
    /// One generation or reload at a time.
    writer: tokio::sync::Mutex<()>,
    /// Signatures in progress, at most one per core: more only queue for
    /// the CPU on more blocking threads (each with its own allocator heap).
    pub signers: tokio::sync::Semaphore,
}

impl Default for SigningKeys {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            loaded: RwLock::default(),
            generation: AtomicU64::default(),
            writer: tokio::sync::Mutex::default(),
            signers: tokio::sync::Semaphore::new(cores),
        }
    }
}

/// Makes the keys that do not exist yet (first start) and loads them.
pub async fn ensure(ctx: &Ctx) -> Result<Arc<KeySet>, ServiceError> {
    let _one = ctx.signing_keys.writer.lock().await;
    let in_use = store::signing_keys::algs_in_use(&ctx.db).await?;
    for alg in SigningAlg::ALL {
        if in_use.iter().any(|a| a == alg.as_str()) {
            continue;
        }
        let key = spawn_blocking_with_tracing(move || jws::generate(alg))
            .await
            .map_err(|e| ServiceError::Unexpected(e.into()))?
            .map_err(ServiceError::Unexpected)?;
        let mut tx = ctx.db.begin_write().await?;
        // Another process may have made one meanwhile: keep theirs.
        let now_in_use = store::signing_keys::algs_in_use(&mut tx).await?;
        if !now_in_use.iter().any(|a| a == alg.as_str()) {
            let forget = tx.now() - RETIRED_KEY_SECS;
            store::signing_keys::replace(
                &mut tx,
                alg,
                &key.kid,
                &key.private_der,
                &key.public_jwk,
                forget,
            )
            .await?;
            tracing::info!(kid = %key.kid, alg = alg.as_str(), "signing key generated");
        }
        tx.commit().await?;
    }
    reload(ctx).await
}

/// The keys to sign and verify with now.
pub async fn current(ctx: &Ctx) -> Result<Arc<KeySet>, ServiceError> {
    let generation = ctx.signing_keys.generation.load(Ordering::Acquire);
    let loaded = ctx
        .signing_keys
        .loaded
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    match loaded {
        Some(k) if k.generation == generation && ctx.now() - k.checked < RECHECK_SECS => Ok(k),
        Some(k) if k.generation == generation => {
            let _one = ctx.signing_keys.writer.lock().await;
            let rows = published_kids(ctx).await?;
            if rows == k.kids {
                let fresh = Arc::new(KeySet {
                    signing: k.signing.clone(),
                    by_kid: k.by_kid.clone(),
                    jwks: k.jwks.clone(),
                    kids: rows,
                    checked: ctx.now(),
                    generation,
                });
                store_loaded(ctx, fresh.clone());
                Ok(fresh)
            } else {
                drop(_one);
                reload(ctx).await
            }
        }
        Some(_) => reload(ctx).await,
        None => ensure(ctx).await,
    }
}

async fn published_kids(ctx: &Ctx) -> Result<Vec<String>, ServiceError> {
    let since = ctx.now() - RETIRED_KEY_SECS;
    Ok(store::signing_keys::published(&ctx.db, since)
        .await?
        .into_iter()
        .map(|r| r.kid)
        .collect())
}

fn store_loaded(ctx: &Ctx, set: Arc<KeySet>) {
    *ctx.signing_keys
        .loaded
        .write()
        .unwrap_or_else(|e| e.into_inner()) = Some(set);
}

async fn reload(ctx: &Ctx) -> Result<Arc<KeySet>, ServiceError> {
    let generation = ctx.signing_keys.generation.load(Ordering::Acquire);
    let since = ctx.now() - RETIRED_KEY_SECS;
    let rows = store::signing_keys::published(&ctx.db, since).await?;
    let mut signing = HashMap::new();
    let mut by_kid = HashMap::new();
    let mut jwks = Vec::new();
    let mut kids = Vec::new();
    for row in rows {
        let key = Arc::new(
            SigningKey::from_pkcs8(&row.kid, row.alg, &row.private_der)
                .map_err(ServiceError::Unexpected)?,
        );
        if row.retired_at.is_none() {
            signing.insert(row.alg, key.clone());
        }
        jwks.push(row.public_jwk);
        by_kid.insert(row.kid.clone(), key);
        kids.push(row.kid);
    }
    let set = Arc::new(KeySet {
        signing,
        by_kid,
        // Each entry is a JWK this process serialized when it made the key.
        jwks: format!("{{\"keys\":[{}]}}", jwks.join(",")),
        kids,
        checked: ctx.now(),
        generation,
    });
    store_loaded(ctx, set.clone());
    Ok(set)
}

/// O4: new keys for every algorithm, in use at once; the old ones stay
/// published until the tokens they signed have expired.
#[tracing::instrument(skip_all)]
pub async fn rotate(ctx: &Ctx, actor: &Actor) -> Result<(), ServiceError> {
    let mut made = Vec::new();
    for alg in SigningAlg::ALL {
        let key = spawn_blocking_with_tracing(move || jws::generate(alg))
            .await
            .map_err(|e| ServiceError::Unexpected(e.into()))?
            .map_err(ServiceError::Unexpected)?;
        made.push((alg, key));
    }
    let _one = ctx.signing_keys.writer.lock().await;
    let mut tx = ctx.db.begin_write().await?;
    let forget = tx.now() - RETIRED_KEY_SECS;
    for (alg, key) in &made {
        store::signing_keys::replace(
            &mut tx,
            *alg,
            &key.kid,
            &key.private_der,
            &key.public_jwk,
            forget,
        )
        .await?;
    }
    #[derive(Serialize)]
    struct Snapshot<'a> {
        kids: Vec<&'a str>,
    }
    audit::record(
        &mut tx,
        actor,
        "signing_keys.rotated",
        "Rotated the OpenID signing keys",
        &[Subject::setting("signing_keys", "OpenID signing keys")],
        audit::NONE,
        Some(&Snapshot {
            kids: made.iter().map(|(_, k)| k.kid.as_str()).collect(),
        }),
    )
    .await?;
    tx.commit().await?;
    ctx.signing_keys.generation.fetch_add(1, Ordering::AcqRel);
    drop(_one);
    tracing::info!(actor = %actor.label, "signing keys rotated");
    Ok(())
}

/// For the console: each published key, its algorithm, since when, and
/// whether it signs or is only published until a time.
pub struct KeyInfo {
    pub kid: String,
    pub alg: SigningAlg,
    pub created_at: i64,
    pub published_until: Option<i64>,
}

pub async fn list(ctx: &Ctx) -> Result<Vec<KeyInfo>, ServiceError> {
    let since = ctx.now() - RETIRED_KEY_SECS;
    Ok(store::signing_keys::published(&ctx.db, since)
        .await?
        .into_iter()
        .map(|r| KeyInfo {
            kid: r.kid,
            alg: r.alg,
            created_at: r.created_at,
            published_until: r.retired_at.map(|t| t + RETIRED_KEY_SECS),
        })
        .collect())
}
