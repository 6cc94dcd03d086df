//! `portal seed`: fills a fresh database with deterministic demo and
//! benchmark data (accounts, custom groups, memberships, products, access
//! grants and subscriptions). The same seed number and the same options give
//! the same data; every seeded account has the password [`PASSWORD`].
//!
//! Speed comes from a few big IMMEDIATE transactions and multi-row INSERTs
//! (see `store::seed`); the rows still go through the normal tables, so the
//! triggers keep the search index and the counters right.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::domain::Email;
use crate::domain::group::{DEVELOPERS, GUESTS};
use crate::services::passwords;
use crate::store::seed::{
    AccountRow, GroupRow, MembershipRow, ProductGroupRow, ProductRow, SubscriptionRow,
};
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

/// Page cache for the bulk inserts, in KiB (the normal setting is 16 MB).
const SEED_CACHE_KIB: i64 = 256 * 1024;
const NORMAL_CACHE_KIB: i64 = 16_000;

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
/// account that is not an administrator.
pub async fn run(db: &Db, opts: &SeedOptions) -> anyhow::Result<SeedReport> {
    let started = Instant::now();
    let mut timings = Vec::new();
    let mut phase = Instant::now();
    let mut lap = |name: &'static str, timings: &mut Vec<(&'static str, Duration)>| {
        timings.push((name, phase.elapsed()));
        phase = Instant::now();
    };

    let existing = store::seed::count_non_admin_accounts(db.pool()).await?;
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

    // ---- accounts
    let mut tx = db.begin_write().await?;
    store::seed::set_cache_size(&mut tx, SEED_CACHE_KIB).await?;
    // Read inside the write transaction, so a concurrent seed cannot take the same numbers.
    let offsets = store::seed::offsets(&mut tx).await?;
    let accounts = generate_accounts(opts, offsets.accounts);
    store::seed::insert_accounts(&mut tx, &accounts, &password_hash).await?;
    store::seed::set_cache_size(&mut tx, NORMAL_CACHE_KIB).await?;
    tx.commit().await?;
    lap("accounts", &mut timings);

    // ---- groups and memberships
    let mut tx = db.begin_write().await?;
    store::seed::set_cache_size(&mut tx, SEED_CACHE_KIB).await?;
    let groups = generate_groups(opts, offsets.groups);
    store::seed::insert_groups(&mut tx, &groups).await?;
    let memberships = generate_memberships(opts, &accounts, &groups);
    store::seed::insert_memberships(&mut tx, &memberships).await?;
    store::seed::set_cache_size(&mut tx, NORMAL_CACHE_KIB).await?;
    tx.commit().await?;
    lap("groups and memberships", &mut timings);

    // ---- products and who may see them
    let mut tx = db.begin_write().await?;
    let products = generate_products(opts, offsets.products);
    store::seed::insert_products(&mut tx, &products).await?;
    let grants = generate_grants(opts, &products, &groups);
    store::seed::insert_product_groups(&mut tx, &grants).await?;
    tx.commit().await?;
    lap("products and access", &mut timings);

    // ---- subscriptions
    let mut tx = db.begin_write().await?;
    store::seed::set_cache_size(&mut tx, SEED_CACHE_KIB).await?;
    let subscriptions = generate_subscriptions(opts, offsets.subscriptions, &accounts, &products);
    store::seed::insert_subscriptions(&mut tx, &subscriptions).await?;
    store::seed::set_cache_size(&mut tx, NORMAL_CACHE_KIB).await?;
    tx.commit().await?;
    lap("subscriptions", &mut timings);

    let mismatches = store::seed::counter_mismatches(db.pool()).await?;
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

// ---- generation ----------------------------------------------------------------

/// Distinct streams per kind of data, so that changing one size leaves the
/// other kinds' data as it was.
const STREAM_ACCOUNTS: u64 = 0x6163_636f_756e_7473;
const STREAM_GROUPS: u64 = 0x6772_6f75_7073_0000;
const STREAM_MEMBERS: u64 = 0x6d65_6d62_6572_7300;
const STREAM_PRODUCTS: u64 = 0x7072_6f64_7563_7473;
const STREAM_GRANTS: u64 = 0x6772_616e_7473_0000;
const STREAM_SUBS: u64 = 0x7375_6273_0000_0000;
const SALT_ACCOUNT_ID: u64 = 0x1d5e_ed00_0000_0001;
const SALT_SUB_ID: u64 = 0x1d5e_ed00_0000_0002;
const SALT_PRIMARY: u64 = 0x1d5e_ed00_0000_0003;
const SALT_SECONDARY: u64 = 0x1d5e_ed00_0000_0004;

/// The accounts at these positions are in exactly `MANY_GROUPS` groups.
fn in_many_groups(opts: &SeedOptions, index: usize) -> bool {
    opts.groups >= MANY_GROUPS && index.is_multiple_of(MANY_GROUPS_EVERY)
}

/// A time between `from` and `opts.now`.
fn time_after(rng: &mut SplitMix64, from: i64, now: i64) -> i64 {
    let span = (now - from).max(0) as u64;
    from + rng.below(span + 1) as i64
}

fn generate_accounts(opts: &SeedOptions, offset: i64) -> Vec<AccountRow> {
    let mut rng = SplitMix64::new(opts.seed ^ STREAM_ACCOUNTS);
    let id_salt = mix(opts.seed ^ SALT_ACCOUNT_ID);
    (0..opts.accounts)
        .map(|i| {
            let number = offset as u64 + i as u64 + 1;
            let first_name = *rng.pick(FIRST_NAMES);
            let last_name = *rng.pick(LAST_NAMES);
            let domain = 1 + rng.below(20);
            let email = format!(
                "{}.{}.{number}@example{domain}.org",
                ascii_fold(first_name),
                ascii_fold(last_name)
            );
            let roll = rng.below(100);
            let state = if in_many_groups(opts, i) || roll < 90 {
                "active"
            } else if roll < 95 {
                "blocked"
            } else {
                "pending"
            };
            let registered_at = opts.now - rng.below(SPREAD_SECS) as i64;
            AccountRow {
                id: format!("{:016x}", mix(id_salt ^ number)),
                email_key: Email::key_of(&email),
                email,
                first_name,
                last_name,
                sort_name: store::accounts::sort_name(first_name, last_name),
                state,
                registered_at,
            }
        })
        .collect()
}

fn generate_groups(opts: &SeedOptions, offset: i64) -> Vec<GroupRow> {
    let mut rng = SplitMix64::new(opts.seed ^ STREAM_GROUPS);
    (0..opts.groups)
        .map(|i| {
            let number = offset as usize + i + 1;
            let name = format!("Partner team {number} – {}", rng.pick(GROUP_WORDS));
            let description = (rng.below(4) != 0).then(|| {
                format!(
                    "Developers of partner team {number}, {}.",
                    rng.pick(GROUP_PURPOSES)
                )
            });
            GroupRow {
                id: format!("g{number:04}"),
                name_key: name.to_lowercase(),
                name,
                description,
                created_at: opts.now - rng.below(SPREAD_SECS) as i64,
            }
        })
        .collect()
}

/// About three groups per account (one to five, at random, no duplicates),
/// and exactly `MANY_GROUPS` for every `MANY_GROUPS_EVERY`th account.
fn generate_memberships(
    opts: &SeedOptions,
    accounts: &[AccountRow],
    groups: &[GroupRow],
) -> Vec<MembershipRow> {
    let mut rng = SplitMix64::new(opts.seed ^ STREAM_MEMBERS);
    let mut rows = Vec::with_capacity(accounts.len() * 3 + accounts.len() / 50);
    if groups.is_empty() {
        return rows;
    }
    let mut chosen = Vec::with_capacity(MANY_GROUPS);
    for (i, a) in accounts.iter().enumerate() {
        let k = if in_many_groups(opts, i) {
            MANY_GROUPS
        } else {
            1 + rng.below(5) as usize
        };
        rng.distinct(k.min(groups.len()), groups.len(), &mut chosen);
        for &g in &chosen {
            rows.push(MembershipRow {
                group_id: groups[g].id.clone(),
                account_id: a.id.clone(),
                created_at: time_after(&mut rng, a.registered_at, opts.now),
            });
        }
    }
    // In primary-key order, so the inserts append to the table's B-tree.
    rows.sort_unstable_by(|a, b| {
        (a.group_id.as_str(), a.account_id.as_str())
            .cmp(&(b.group_id.as_str(), b.account_id.as_str()))
    });
    rows
}

fn generate_products(opts: &SeedOptions, offset: i64) -> Vec<ProductRow> {
    let mut rng = SplitMix64::new(opts.seed ^ STREAM_PRODUCTS);
    (0..opts.products)
        .map(|i| {
            let number = offset as usize + i + 1;
            let subject = *rng.pick(PRODUCT_SUBJECTS);
            let tier = *rng.pick(PRODUCT_TIERS);
            let name = format!("{subject} {tier} API {number}");
            ProductRow {
                id: format!("p{number:04}"),
                name_key: name.to_lowercase(),
                description: format!(
                    "{subject} for partner integrations: the {} tier, with {}.",
                    tier.to_lowercase(),
                    rng.pick(PRODUCT_FEATURES)
                ),
                name,
                subscription_required: rng.below(100) < 95,
                approval_required: rng.below(100) < 15,
                subscriptions_limit: (rng.below(100) < 30).then(|| 1 + rng.below(5) as i64),
                state: if rng.below(100) < 90 {
                    "published"
                } else {
                    "not_published"
                },
                created_at: opts.now - rng.below(SPREAD_SECS) as i64,
            }
        })
        .collect()
}

/// Each product is visible to one to three custom groups; about 5% also to
/// Developers (everyone signed in) and about 2% to Guests (everyone).
fn generate_grants(
    opts: &SeedOptions,
    products: &[ProductRow],
    groups: &[GroupRow],
) -> Vec<ProductGroupRow> {
    let mut rng = SplitMix64::new(opts.seed ^ STREAM_GRANTS);
    let mut rows = Vec::with_capacity(products.len() * 2);
    let mut chosen = Vec::with_capacity(3);
    for p in products {
        let k = (1 + rng.below(3) as usize).min(groups.len());
        rng.distinct(k, groups.len(), &mut chosen);
        let mut grant = |group_id: &str| {
            rows.push(ProductGroupRow {
                product_id: p.id.clone(),
                group_id: group_id.to_owned(),
            })
        };
        for &g in &chosen {
            grant(&groups[g].id);
        }
        if rng.below(100) < 5 {
            grant(DEVELOPERS);
        }
        if rng.below(100) < 2 {
            grant(GUESTS);
        }
    }
    rows
}

/// Subscriptions for distinct random (account, product) pairs.
fn generate_subscriptions(
    opts: &SeedOptions,
    offset: i64,
    accounts: &[AccountRow],
    products: &[ProductRow],
) -> Vec<SubscriptionRow> {
    let mut rng = SplitMix64::new(opts.seed ^ STREAM_SUBS);
    let pairs = accounts.len() as u64 * products.len() as u64;
    let n = (opts.subscriptions as u64).min(pairs) as usize;
    let id_salt = mix(opts.seed ^ SALT_SUB_ID);
    let primary_salt = mix(opts.seed ^ SALT_PRIMARY);
    let secondary_salt = mix(opts.seed ^ SALT_SECONDARY);
    let mut seen = HashSet::with_capacity(n);
    let mut rows = Vec::with_capacity(n);
    while rows.len() < n {
        let a = rng.below(accounts.len() as u64) as usize;
        let p = rng.below(products.len() as u64) as usize;
        if !seen.insert((a, p)) {
            continue;
        }
        let number = offset as u64 + rows.len() as u64 + 1;
        let account = &accounts[a];
        let roll = rng.below(100);
        let state = match roll {
            0..85 => "active",
            85..90 => "submitted",
            90..94 => "suspended",
            94..96 => "rejected",
            96..99 => "cancelled",
            _ => "expired",
        };
        let created_at = time_after(&mut rng, account.registered_at, opts.now);
        let updated_at = time_after(&mut rng, created_at, opts.now);
        // The first half of each key is a bijection of its number, so keys never repeat.
        rows.push(SubscriptionRow {
            id: format!("{:016x}", mix(id_salt ^ number)),
            account_id: account.id.clone(),
            product_id: products[p].id.clone(),
            primary_key: format!("{:016x}{:016x}", mix(primary_salt ^ number), rng.next_u64()),
            secondary_key: format!(
                "{:016x}{:016x}",
                mix(secondary_salt ^ number),
                rng.next_u64()
            ),
            state,
            created_at,
            updated_at,
        });
    }
    rows
}

/// Lower-case ASCII for the local part of an email address: accents dropped,
/// spaces and apostrophes removed, hyphens kept.
fn ascii_fold(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.to_lowercase().chars() {
        let folded = match c {
            'a'..='z' | '0'..='9' | '-' => {
                out.push(c);
                continue;
            }
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ą' => "a",
            'æ' => "ae",
            'ç' | 'ć' | 'č' => "c",
            'è' | 'é' | 'ê' | 'ë' | 'ę' => "e",
            'ì' | 'í' | 'î' | 'ï' | 'ı' => "i",
            'ł' => "l",
            'ñ' | 'ń' => "n",
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ő' => "o",
            'ß' => "ss",
            'ś' | 'š' | 'ş' => "s",
            'ù' | 'ú' | 'û' | 'ü' | 'ű' => "u",
            'ý' | 'ÿ' => "y",
            'ź' | 'ż' | 'ž' => "z",
            'ğ' => "g",
            _ => "",
        };
        out.push_str(folded);
    }
    out
}

// ---- a small deterministic PRNG -------------------------------------------------

/// The SplitMix64 output function: a bijection on u64, so distinct inputs
/// give distinct outputs (used for ids that must not collide).
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, and good enough for demo data.
struct SplitMix64(u64);

impl SplitMix64 {
    fn new(seed: u64) -> Self {
        Self(mix(seed))
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.0)
    }

    /// Uniform in `0..n` (Lemire's multiply-shift; the bias is negligible here).
    fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// `k` distinct numbers from `0..n` into `out` (k ≤ n, k small).
    fn distinct(&mut self, k: usize, n: usize, out: &mut Vec<usize>) {
        out.clear();
        while out.len() < k {
            let x = self.below(n as u64) as usize;
            if !out.contains(&x) {
                out.push(x);
            }
        }
    }
}

// ---- word lists -------------------------------------------------------------------

const FIRST_NAMES: &[&str] = &[
    "Aaliyah",
    "Aaron",
    "Abdul",
    "Abigail",
    "Adam",
    "Adebayo",
    "Aditi",
    "Adrian",
    "Agnieszka",
    "Ahmed",
    "Aiko",
    "Aisha",
    "Alejandro",
    "Aleksander",
    "Alessandro",
    "Alexandra",
    "Alice",
    "Alicia",
    "Amara",
    "Amelia",
    "Amir",
    "Ana",
    "Anders",
    "Andrea",
    "Andrés",
    "Ángel",
    "Anna",
    "Anouk",
    "Antoine",
    "Anya",
    "Arjun",
    "Astrid",
    "Aurora",
    "Ayumi",
    "Beatriz",
    "Benjamin",
    "Bilal",
    "Björn",
    "Camille",
    "Carlos",
    "Carmen",
    "Caroline",
    "Catalina",
    "Chen",
    "Chiara",
    "Chloé",
    "Chidi",
    "Christopher",
    "Claire",
    "Daniel",
    "Daniela",
    "David",
    "Deepika",
    "Diego",
    "Dmitri",
    "Elena",
    "Elif",
    "Elijah",
    "Elisa",
    "Emil",
    "Emily",
    "Emma",
    "Erik",
    "Esther",
    "Ethan",
    "Fatima",
    "Felipe",
    "Felix",
    "Fernanda",
    "Finn",
    "Francesca",
    "François",
    "Freya",
    "Gabriel",
    "Giulia",
    "Grace",
    "Hana",
    "Hannah",
    "Haruto",
    "Hassan",
    "Helena",
    "Hiroshi",
    "Hugo",
    "Ibrahim",
    "Ingrid",
    "Isabel",
    "Isabella",
    "Ivan",
    "Jack",
    "Jakub",
    "James",
    "Jana",
    "Javier",
    "Jesús",
    "Ji-woo",
    "Joana",
    "João",
    "Johan",
    "Jonas",
    "José",
    "Joseph",
    "Julia",
    "Julian",
    "Kai",
    "Kamala",
    "Karim",
    "Katarzyna",
    "Kenji",
    "Kofi",
    "Laila",
    "Lars",
    "Laura",
    "Layla",
    "Lea",
    "Leon",
    "Li",
    "Liam",
    "Lina",
    "Lucas",
    "Lucía",
    "Luis",
    "Luka",
    "Maja",
    "Malik",
    "Manon",
    "Marco",
    "María",
    "Mariam",
    "Mark",
    "Marta",
    "Mateo",
    "Matilda",
    "Mei",
    "Mia",
    "Michael",
    "Miguel",
    "Mikael",
    "Min-jun",
    "Mohammed",
    "Nadia",
    "Naomi",
    "Nathan",
    "Nia",
    "Nikolai",
    "Noah",
    "Nora",
    "Oliver",
    "Olivia",
    "Omar",
    "Oscar",
    "Pablo",
    "Paolo",
    "Patricia",
    "Paul",
    "Pedro",
    "Pierre",
    "Priya",
    "Rafael",
    "Rahul",
    "Rania",
    "Ravi",
    "Rebecca",
    "Renée",
    "Ricardo",
    "Rosa",
    "Ryan",
    "Sakura",
    "Samuel",
    "Santiago",
    "Sara",
    "Sebastian",
    "Sergei",
    "Shreya",
    "Sofia",
    "Søren",
    "Sophie",
    "Stefan",
    "Sun",
    "Tariq",
    "Thomas",
    "Tomás",
    "Uma",
    "Valentina",
    "Victor",
    "Vikram",
    "Wei",
    "William",
    "Xin",
    "Yara",
    "Yasmin",
    "Yuki",
    "Yusuf",
    "Zainab",
    "Zara",
    "Zoë",
    "Zofia",
    "Olu",
    "Thandiwe",
    "Kwame",
    "Nkechi",
];

const LAST_NAMES: &[&str] = &[
    "Abara",
    "Abe",
    "Adeyemi",
    "Agarwal",
    "Ahmed",
    "Akhtar",
    "Alexander",
    "Ali",
    "Allen",
    "Almeida",
    "Alvarez",
    "Andersen",
    "Anderson",
    "Andersson",
    "Araújo",
    "Arnold",
    "Bailey",
    "Baker",
    "Banerjee",
    "Barbosa",
    "Barnes",
    "Bauer",
    "Becker",
    "Bell",
    "Bennett",
    "Bergström",
    "Bianchi",
    "Bishop",
    "Blanc",
    "Bose",
    "Brooks",
    "Brown",
    "Bruno",
    "Butler",
    "Campbell",
    "Carlsson",
    "Carter",
    "Castillo",
    "Castro",
    "Chan",
    "Chatterjee",
    "Chen",
    "Cho",
    "Choi",
    "Clark",
    "Collins",
    "Colombo",
    "Cook",
    "Cooper",
    "Costa",
    "Cruz",
    "Da Silva",
    "Davidson",
    "Davies",
    "Davis",
    "Dawson",
    "De Jong",
    "De Luca",
    "Delgado",
    "Dias",
    "Díaz",
    "Dubois",
    "Dupont",
    "Edwards",
    "Eriksson",
    "Evans",
    "Fernández",
    "Ferrari",
    "Ferreira",
    "Ferguson",
    "Fischer",
    "Fitzgerald",
    "Flores",
    "Fontaine",
    "Foster",
    "Fujita",
    "García",
    "Gibson",
    "Gómez",
    "González",
    "Gonzalez",
    "Gray",
    "Green",
    "Gupta",
    "Gustafsson",
    "Hall",
    "Hansen",
    "Harris",
    "Harrison",
    "Hashimoto",
    "Hayashi",
    "Henderson",
    "Hernández",
    "Hill",
    "Hoffmann",
    "Hughes",
    "Hudson",
    "Hussain",
    "Ibrahim",
    "Inoue",
    "Ito",
    "Iyer",
    "Jackson",
    "Jakobsen",
    "James",
    "Jansen",
    "Jensen",
    "Jeong",
    "Jiménez",
    "Johansson",
    "Johnson",
    "Jones",
    "Joshi",
    "Kang",
    "Kapoor",
    "Kato",
    "Kaur",
    "Kelly",
    "Khan",
    "Kim",
    "Kimura",
    "King",
    "Klein",
    "Koch",
    "Kowalczyk",
    "Kowalski",
    "Kozlov",
    "Kumar",
    "Kuznetsov",
    "Lambert",
    "Lange",
    "Larsen",
    "Larsson",
    "Laurent",
    "Lee",
    "Lefebvre",
    "Lewis",
    "Li",
    "Lim",
    "Lindqvist",
    "Liu",
    "Lopes",
    "López",
    "Lundberg",
    "Ma",
    "Mahlangu",
    "Martin",
    "Martínez",
    "Mason",
    "Matsumoto",
    "Mehta",
    "Mendes",
    "Mensah",
    "Meyer",
    "Miller",
    "Mitchell",
    "Molina",
    "Moore",
    "Morales",
    "Moreau",
    "Moreno",
    "Morgan",
    "Morris",
    "Morrison",
    "Müller",
    "Murphy",
    "Nakamura",
    "Nair",
    "Nelson",
    "Neumann",
    "Nguyen",
    "Nielsen",
    "Nilsson",
    "Novak",
    "Nowak",
    "Nunes",
    "O'Brien",
    "O'Connor",
    "Okafor",
    "Okonkwo",
    "Olsen",
    "Olsson",
    "Ortiz",
    "Owusu",
    "Park",
    "Patel",
    "Patterson",
    "Pereira",
    "Pérez",
    "Persson",
    "Peters",
    "Petersen",
    "Peterson",
    "Petrov",
    "Phillips",
    "Popescu",
    "Popov",
    "Price",
    "Quinn",
    "Ramírez",
    "Ramos",
    "Rao",
    "Reddy",
    "Reyes",
    "Richardson",
    "Richter",
    "Rivera",
    "Roberts",
    "Robinson",
    "Rodrigues",
    "Rodríguez",
    "Romano",
    "Romero",
    "Rossi",
    "Roux",
    "Russo",
    "Saito",
    "Sánchez",
    "Santos",
    "Sasaki",
    "Sato",
    "Schmidt",
    "Schneider",
    "Schulz",
    "Scott",
    "Sharma",
    "Shimizu",
    "Silva",
    "Simpson",
    "Singh",
    "Smith",
    "Sokolov",
    "Sousa",
    "Stevenson",
    "Stewart",
    "Suárez",
    "Sullivan",
    "Sun",
    "Suzuki",
    "Svensson",
    "Takahashi",
    "Tanaka",
    "Taylor",
    "Thomas",
    "Thompson",
    "Torres",
    "Tran",
    "Turner",
    "Van Dijk",
    "Vargas",
    "Vasquez",
    "Verma",
    "Vogel",
    "Volkov",
    "Wagner",
    "Walker",
    "Wang",
    "Watanabe",
    "Watson",
    "Weber",
    "White",
    "Wilson",
    "Wiśniewski",
    "Wójcik",
    "Wood",
    "Wright",
    "Wu",
    "Xu",
    "Yamada",
    "Yamamoto",
    "Yang",
    "Yilmaz",
    "Yoshida",
    "Young",
    "Zhang",
    "Zhao",
    "Zhou",
    "Zimmermann",
    "Żak",
    "Nkosi",
    "Okeke",
    "Adeleke",
    "Boateng",
    "Diallo",
    "Traoré",
    "Kamau",
    "Otieno",
    "Haddad",
    "Nasser",
    "Farouk",
    "Hosseini",
    "Karimi",
    "Demir",
    "Kaya",
    "Şahin",
    "Öztürk",
    "Nieminen",
    "Virtanen",
    "Korhonen",
    "Smith-Jones",
];

const GROUP_WORDS: &[&str] = &[
    "Aurora", "Beacon", "Cascade", "Delta", "Ember", "Falcon", "Glacier", "Harbor", "Iris",
    "Juniper", "Kestrel", "Lagoon", "Meridian", "Nimbus", "Orchid", "Pioneer", "Quartz", "Redwood",
    "Summit", "Tundra", "Umbra", "Vertex", "Willow", "Xenon", "Yarrow", "Zephyr", "Atlas",
    "Borealis", "Comet", "Dune", "Echo", "Fjord", "Granite", "Horizon", "Indigo", "Jade",
    "Keystone", "Lumen", "Monsoon", "Nova",
];

const GROUP_PURPOSES: &[&str] = &[
    "building the mobile apps",
    "running the checkout integration",
    "migrating from the legacy gateway",
    "in the pilot programme",
    "on the reseller contract",
    "testing in the sandbox",
    "maintaining the data pipeline",
    "at the systems integrator",
];

const PRODUCT_SUBJECTS: &[&str] = &[
    "Payments",
    "Weather",
    "Maps",
    "Orders",
    "Inventory",
    "Shipping",
    "Identity",
    "Billing",
    "Search",
    "Notifications",
    "Analytics",
    "Catalog",
    "Loyalty",
    "Fraud Check",
    "Currency",
    "Geocoding",
    "Translation",
    "Messaging",
    "Invoices",
    "Tickets",
    "Bookings",
    "Pricing",
    "Reports",
    "Documents",
    "Storage",
];

const PRODUCT_TIERS: &[&str] = &[
    "Core", "Express", "Sandbox", "Partner", "Premium", "Basic", "Realtime", "Bulk", "Legacy",
    "Open", "Internal", "Global",
];

const PRODUCT_FEATURES: &[&str] = &[
    "a rate limit of 100 calls a minute",
    "webhooks for every change",
    "a 99.9% availability target",
    "sample data for testing",
    "batch endpoints for nightly jobs",
    "responses in JSON and CSV",
];

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

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
        let a = run(&one, &opts).await.unwrap();
        let b = run(&two, &opts).await.unwrap();

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
        let refused = run(&one, &opts).await.unwrap_err().to_string();
        assert!(refused.contains("--force"), "{refused}");
        let again = run(
            &one,
            &SeedOptions {
                force: true,
                ..small(8)
            },
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
        for name in FIRST_NAMES.iter().chain(LAST_NAMES) {
            assert!(!ascii_fold(name).is_empty(), "{name}");
        }
    }

    #[test]
    fn distinct_picks_do_not_repeat() {
        let mut rng = SplitMix64::new(3);
        let mut out = Vec::new();
        for _ in 0..1000 {
            rng.distinct(20, 20, &mut out);
            let set: HashSet<_> = out.iter().collect();
            assert_eq!(set.len(), 20);
        }
    }
}
