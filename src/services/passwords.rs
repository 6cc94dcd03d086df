//! argon2id hashing (S-1) on the blocking pool, at most one hash per core at
//! a time and one core kept free, so a sign-in storm cannot starve page
//! rendering.

use std::sync::Arc;

use anyhow::anyhow;
use argon2::Argon2;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use tokio::sync::Semaphore;

use crate::domain::Password;
use crate::telemetry::spawn_blocking_with_tracing;

#[derive(Clone)]
pub struct Hasher {
    permits: Arc<Semaphore>,
    /// Verified against when the account is unknown, so an unknown address
    /// costs what a known one does (S-4).
    dummy_hash: Arc<str>,
}

impl Hasher {
    pub fn new() -> anyhow::Result<Self> {
        // At most one hash per core (S-1), and one core always left for
        // pages: a sign-in storm then slows sign-ins, not the console.
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let cores = cores.saturating_sub(1).max(1);
        let dummy = hash_now(&crate::domain::ids::new_secret())?;
        Ok(Self {
            permits: Arc::new(Semaphore::new(cores)),
            dummy_hash: dummy.into(),
        })
    }

    pub async fn hash(&self, password: &Password) -> anyhow::Result<String> {
        let _permit = self.permits.acquire().await?;
        let pw = password.expose().to_owned();
        spawn_blocking_with_tracing(move || hash_now(&pw)).await?
    }

    /// True when `candidate` matches `hash`; with no hash, spends the same
    /// time on the dummy and answers false.
    pub async fn verify(&self, hash: Option<&str>, candidate: &str) -> anyhow::Result<bool> {
        let _permit = self.permits.acquire().await?;
        let (hash, real) = match hash {
            Some(h) => (h.to_owned(), true),
            None => (self.dummy_hash.to_string(), false),
        };
        let candidate = candidate.to_owned();
        let ok = spawn_blocking_with_tracing(move || {
            let parsed = PasswordHash::new(&hash).map_err(|e| anyhow!("stored hash: {e}"))?;
            Ok::<_, anyhow::Error>(
                Argon2::default()
                    .verify_password(candidate.as_bytes(), &parsed)
                    .is_ok(),
            )
        })
        .await??;
        Ok(ok && real)
    }
}

/// argon2id with the crate's defaults (m = 19456 KiB, t = 2, p = 1) and a random salt.
pub fn hash_now(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow!("hashing failed: {e}"))
}
