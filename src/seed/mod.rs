//! `portal seed`: fills a fresh database with deterministic demo and
//! benchmark data (accounts, custom groups, memberships, products, access
//! grants and subscriptions). The same seed number and the same options give
//! the same data; every seeded account has the password [`PASSWORD`].
//!
//! Speed comes from a few big IMMEDIATE transactions and multi-row INSERTs
//! (see `store::seed`) on a connection of their own with a large page
//! cache (the server's pooled connections keep their small one); the rows
//! still go through the normal tables, so the triggers keep the search
//! index and the counters right.
//!
//! This is a data generator, not a use case: `generate` makes the rows from
//! the word lists in `words/`, and this module writes them.

mod generate;
mod words;

use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use generate::*;

use crate::services::passwords;
use crate::store::seed::AccountRow;
use crate::store::{self, Db};

/// The password of every seeded account.
pub const PASSWORD: &str = "seeded password 42!";

/// Some accounts are members of exactly this many groups, for measuring a
/// developer in many groups.
pub const MANY_GROUPS: usize = 20;

/// Every this many accounts, one (the first of each run) is in `MANY_GROUPS` groups.
const MANY_GROUPS_EVERY: usize = 1000;

/// Registration times spread over this many seconds before `now` (3 years).
const SPREAD_SECS: u64 = 3 * 365 * 24 * 60 * 60;

#[derive(Debug, Clone)]
pub struct SeedOptions {
    pub accounts: usize,
    pub groups: usize,
    pub products: usize,
    pub subscriptions: usize,
    pub seed: u64,
    /// Seed even though the database already holds accounts other than administrators.
    pub force: bool,
    /// "Now" for the spread of times; fixed in tests so runs compare equal.
    pub now: i64,
}

impl Default for SeedOptions {
    fn default() -> Self {
        Self {
            accounts: 100_000,
            groups: 1_000,
            products: 1_000,
            subscriptions: 100_000,
            seed: 1,
            force: false,
            now: crate::clock::Clock::default().now(),
        }
    }
}

#[derive(Debug)]
pub struct SeedReport {
    pub accounts: usize,
    pub groups: usize,
    pub memberships: usize,
    pub products: usize,
    pub grants: usize,
    pub subscriptions: usize,
    /// The argon2id hash every seeded account shares.
    pub password_hash: String,
    /// A seeded, active account in exactly `MANY_GROUPS` groups.
    pub many_groups_email: Option<String>,
    /// An active account with an active subscription, and its primary key.
    pub sample_subscription: Option<(String, String)>,
    /// Each phase and how long it took (generating, inserting, committing).
    pub timings: Vec<(&'static str, Duration)>,
    pub total: Duration,
    /// Disagreements between the trigger-kept counters and the rows; empty when all agree.
    pub mismatches: Vec<String>,
}

/// Seeds the database. Refuses (unless `force`) when it already holds an
/// account that is not an administrator. `progress` hears of each phase as
/// it ends (its name and how long it took).
pub async fn run(
    db: &Db,
    opts: &SeedOptions,
    progress: &mut dyn FnMut(&'static str, Duration),
) -> anyhow::Result<SeedReport> {
    let started = Instant::now();
    let mut timings = Vec::new();
    let mut phase = Instant::now();
    let mut lap = |name: &'static str, timings: &mut Vec<(&'static str, Duration)>| {
        let took = phase.elapsed();
        progress(name, took);
        timings.push((name, took));
        phase = Instant::now();
    };

    let existing = store::seed::count_non_admin_accounts(db).await?;
    if existing > 0 && !opts.force {
        bail!(
            "the database already holds {existing} account(s) besides the administrators; \
             seed only a fresh database, or pass --force to add to it"
        );
    }

    let password_hash = tokio::task::spawn_blocking(|| passwords::hash_now(PASSWORD))
        .await
        .context("hashing the seed password")??;
    lap("hash the shared password", &mut timings);

    let bulk = db.for_bulk_load().await?;

    // ---- accounts
    let mut tx = bulk.begin_write().await?;
    // Read inside the write transaction, so a concurrent seed cannot take the same numbers.
    let offsets = store::seed::offsets(&mut tx).await?;
    let accounts = generate_accounts(opts, offsets.accounts);
    store::seed::insert_accounts(&mut tx, &accounts, &password_hash).await?;
    tx.commit().await?;
    lap("accounts", &mut timings);

    // ---- groups and memberships
    let mut tx = bulk.begin_write().await?;
    let groups = generate_groups(opts, offsets.groups);
    store::seed::insert_groups(&mut tx, &groups).await?;
    let memberships = generate_memberships(opts, &accounts, &groups);
    store::seed::insert_memberships(&mut tx, &memberships).await?;
    tx.commit().await?;
    lap("groups and memberships", &mut timings);

    // ---- products and who may see them
    let mut tx = bulk.begin_write().await?;
    let products = generate_products(opts, offsets.products);
    store::seed::insert_products(&mut tx, &products).await?;
    let grants = generate_grants(opts, &products, &groups);
    store::seed::insert_product_groups(&mut tx, &grants).await?;
    tx.commit().await?;
    lap("products and access", &mut timings);

    // ---- subscriptions
    let mut tx = bulk.begin_write().await?;
    let subscriptions = generate_subscriptions(opts, offsets.subscriptions, &accounts, &products);
    store::seed::insert_subscriptions(&mut tx, &subscriptions).await?;
    tx.commit().await?;
    bulk.close().await;
    lap("subscriptions", &mut timings);

    let mismatches = store::seed::counter_mismatches(db).await?;
    lap("check the counters", &mut timings);

    let many_groups_email = accounts
        .iter()
        .enumerate()
        .find(|(i, _)| in_many_groups(opts, *i))
        .map(|(_, a)| a.email.clone());
    let by_id: std::collections::HashMap<&str, &AccountRow> =
        accounts.iter().map(|a| (a.id.as_str(), a)).collect();
    let sample_subscription = subscriptions
        .iter()
        .find(|s| {
            s.state == "active"
                && by_id
                    .get(s.account_id.as_str())
                    .is_some_and(|a| a.state == "active")
        })
        .map(|s| {
            (
                by_id[s.account_id.as_str()].email.clone(),
                s.primary_key.clone(),
            )
        });

    Ok(SeedReport {
        accounts: accounts.len(),
        groups: groups.len(),
        memberships: memberships.len(),
        products: products.len(),
        grants: grants.len(),
        subscriptions: subscriptions.len(),
        password_hash,
        many_groups_email,
        sample_subscription,
        timings,
        total: started.elapsed(),
        mismatches,
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::words::{FIRST_NAMES, LAST_NAMES};
    use super::*;
    use crate::domain::Email;

    const NOW: i64 = 1_780_000_000;

    fn small(seed: u64) -> SeedOptions {
        SeedOptions {
            accounts: 500,
            groups: 20,
            products: 20,
            subscriptions: 300,
            seed,
            force: false,
            now: NOW,
        }
    }

    async fn fresh_db(dir: &tempfile::TempDir, name: &str) -> Db {
        let url = format!("sqlite://{}", dir.path().join(name).display());
        Db::open(&url, Duration::from_secs(5)).await.unwrap()
    }

    /// Everything seeded, except the password hash (its salt is random), as text.
    async fn dump(db: &Db) -> Vec<String> {
        let mut out = Vec::new();
        let queries = [
            "SELECT id || ' ' || email || ' ' || first_name || ' ' || last_name || ' ' || state
                    || ' ' || registered_at
             FROM accounts ORDER BY email_key",
            "SELECT id || ' ' || name || ' ' || coalesce(description, '-') || ' ' || member_count
             FROM groups WHERE kind = 'custom' ORDER BY id",
            "SELECT group_id || ' ' || account_id || ' ' || created_at FROM memberships
             ORDER BY group_id, account_id",
            "SELECT id || ' ' || name || ' ' || state || ' ' || approval_required
             FROM products ORDER BY id",
            "SELECT product_id || ' ' || group_id FROM product_groups ORDER BY product_id, group_id",
            "SELECT id || ' ' || account_id || ' ' || product_id || ' ' || state || ' '
                    || primary_key || ' ' || secondary_key || ' ' || created_at
             FROM subscriptions ORDER BY id",
        ];
        for q in queries {
            let rows: Vec<String> = sqlx::query_scalar(q).fetch_all(db.pool()).await.unwrap();
            out.extend(rows);
        }
        out
    }

    async fn scalar(db: &Db, q: &'static str) -> i64 {
        sqlx::query_scalar(q).fetch_one(db.pool()).await.unwrap()
    }

    #[tokio::test]
    async fn seeds_deterministically_and_keeps_the_counters_right() {
        let dir = tempfile::tempdir().unwrap();
        let one = fresh_db(&dir, "one.db").await;
        let two = fresh_db(&dir, "two.db").await;
        let opts = small(7);
        let a = run(&one, &opts, &mut |_, _| {}).await.unwrap();
        let b = run(&two, &opts, &mut |_, _| {}).await.unwrap();
        // The bulk load's large page cache stayed on its own connection.
        for _ in 0..4 {
            assert_eq!(scalar(&one, "PRAGMA cache_size").await, -2000);
        }

        // Counts are what was asked for.
        for r in [&a, &b] {
            assert_eq!(r.accounts, 500);
            assert_eq!(r.groups, 20);
            assert_eq!(r.products, 20);
            assert_eq!(r.subscriptions, 300);
            assert!(r.mismatches.is_empty(), "{:?}", r.mismatches);
            assert!(r.many_groups_email.is_some());
            assert!(r.sample_subscription.is_some());
        }
        assert_eq!(scalar(&one, "SELECT count(*) FROM accounts").await, 500);
        assert_eq!(
            scalar(&one, "SELECT count(*) FROM groups WHERE kind = 'custom'").await,
            20
        );
        assert_eq!(scalar(&one, "SELECT count(*) FROM products").await, 20);
        assert_eq!(
            scalar(&one, "SELECT count(*) FROM subscriptions").await,
            300
        );
        assert_eq!(
            scalar(&one, "SELECT count(*) FROM memberships").await,
            a.memberships as i64
        );
        // About three groups per account.
        let per_account = a.memberships as f64 / 500.0;
        assert!((2.5..3.6).contains(&per_account), "{per_account}");

        // The per-state counters agree with the rows.
        let counters: Vec<(String, i64)> =
            sqlx::query_as("SELECT state, n FROM account_counts WHERE n > 0 ORDER BY state")
                .fetch_all(one.pool())
                .await
                .unwrap();
        let actual: Vec<(String, i64)> =
            sqlx::query_as("SELECT state, count(*) FROM accounts GROUP BY state ORDER BY state")
                .fetch_all(one.pool())
                .await
                .unwrap();
        assert_eq!(counters, actual);
        assert_eq!(actual.len(), 3, "all three states occur: {actual:?}");
        let active = actual.iter().find(|(s, _)| s == "active").unwrap().1;
        assert!(active > 400, "mostly active: {actual:?}");

        // Member counts agree with the memberships.
        let wrong_members = scalar(
            &one,
            "SELECT count(*) FROM groups g
             WHERE member_count <> (SELECT count(*) FROM memberships m WHERE m.group_id = g.id)",
        )
        .await;
        assert_eq!(wrong_members, 0);

        // The search index holds every account.
        assert_eq!(scalar(&one, "SELECT count(*) FROM accounts_fts").await, 500);

        // Someone is in exactly 20 groups, and can be found by that address.
        let email = a.many_groups_email.clone().unwrap();
        let groups: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM memberships m JOIN accounts a ON a.id = m.account_id WHERE a.email = ?",
        )
            .bind(&email)
            .fetch_one(one.pool())
            .await
            .unwrap();
        assert_eq!(groups, MANY_GROUPS as i64);

        // The same seed gives the same data.
        assert_eq!(dump(&one).await, dump(&two).await);
        let emails = |db: &Db| {
            let pool = db.pool().clone();
            async move {
                sqlx::query_scalar::<_, String>("SELECT email FROM accounts ORDER BY email")
                    .fetch_all(&pool)
                    .await
                    .unwrap()
            }
        };
        let first = emails(&one).await;
        assert_eq!(first, emails(&two).await);
        assert!(first.iter().all(|e| Email::parse(e).is_ok()));

        // Every account shares the one hash, and it matches the published password.
        assert_eq!(
            scalar(&one, "SELECT count(DISTINCT password_hash) FROM accounts").await,
            1
        );
        let hasher = passwords::Hasher::new().unwrap();
        assert!(
            hasher
                .verify(Some(a.password_hash.as_str()), PASSWORD)
                .await
                .unwrap()
        );

        // A seeded database is not seeded again without --force; with it, the
        // numbering continues and the counters stay right.
        let refused = run(&one, &opts, &mut |_, _| {})
            .await
            .unwrap_err()
            .to_string();
        assert!(refused.contains("--force"), "{refused}");
        let again = run(
            &one,
            &SeedOptions {
                force: true,
                ..small(8)
            },
            &mut |_, _| {},
        )
        .await
        .unwrap();
        assert!(again.mismatches.is_empty(), "{:?}", again.mismatches);
        assert_eq!(scalar(&one, "SELECT count(*) FROM accounts").await, 1000);
        assert_eq!(scalar(&one, "SELECT count(*) FROM products").await, 40);
    }

    #[test]
    fn a_different_seed_gives_different_data() {
        let a = generate_accounts(&small(1), 0);
        let b = generate_accounts(&small(2), 0);
        assert_ne!(
            a.iter().map(|r| &r.email).collect::<Vec<_>>(),
            b.iter().map(|r| &r.email).collect::<Vec<_>>()
        );
    }

    #[test]
    fn word_lists_are_varied() {
        assert!(FIRST_NAMES.len() >= 190, "{}", FIRST_NAMES.len());
        assert!(LAST_NAMES.len() >= 290, "{}", LAST_NAMES.len());
        assert_eq!(ascii_fold("O'Brien"), "obrien");
        assert_eq!(ascii_fold("Da Silva"), "dasilva");
        assert_eq!(ascii_fold("Zoë"), "zoe");
        assert_eq!(ascii_fold("Żak"), "zak");
        assert_eq!(ascii_fold("Ji-woo"), "ji-woo");
        for name in FIRST_NAMES.iter().chain(LAST_NAMES.iter()) {
            assert!(!ascii_fold(name).is_empty(), "{name}");
        }
    }
}
