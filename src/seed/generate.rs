//! The rows of the demo data, made deterministically from the seed number.

use std::collections::HashSet;

use super::words::*;
use super::{MANY_GROUPS, MANY_GROUPS_EVERY, SPREAD_SECS, SeedOptions};
use crate::domain::group::{DEVELOPERS, GUESTS};
use crate::domain::product::ProductState;
use crate::domain::{AccountState, Email};
use crate::store;
use crate::store::seed::{
    AccountRow, GroupRow, MembershipRow, ProductGroupRow, ProductRow, SubscriptionRow,
};

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
pub(super) fn in_many_groups(opts: &SeedOptions, index: usize) -> bool {
    opts.groups >= MANY_GROUPS && index.is_multiple_of(MANY_GROUPS_EVERY)
}

/// A time between `from` and `opts.now`.
fn time_after(rng: &mut SplitMix64, from: i64, now: i64) -> i64 {
    let span = (now - from).max(0) as u64;
    from + rng.below(span + 1) as i64
}

pub(super) fn generate_accounts(opts: &SeedOptions, offset: i64) -> Vec<AccountRow> {
    let mut rng = SplitMix64::new(opts.seed ^ STREAM_ACCOUNTS);
    let id_salt = mix(opts.seed ^ SALT_ACCOUNT_ID);
    (0..opts.accounts)
        .map(|i| {
            let number = offset as u64 + i as u64 + 1;
            let first_name = *rng.pick(&FIRST_NAMES);
            let last_name = *rng.pick(&LAST_NAMES);
            let domain = 1 + rng.below(20);
            let email = format!(
                "{}.{}.{number}@example{domain}.org",
                ascii_fold(first_name),
                ascii_fold(last_name)
            );
            let roll = rng.below(100);
            let state = if in_many_groups(opts, i) || roll < 90 {
                AccountState::Active
            } else if roll < 95 {
                AccountState::Blocked
            } else {
                AccountState::Pending
            }
            .as_str();
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

pub(super) fn generate_groups(opts: &SeedOptions, offset: i64) -> Vec<GroupRow> {
    let mut rng = SplitMix64::new(opts.seed ^ STREAM_GROUPS);
    (0..opts.groups)
        .map(|i| {
            let number = offset as usize + i + 1;
            let name = format!("Partner team {number} – {}", rng.pick(&GROUP_WORDS));
            let description = (rng.below(4) != 0).then(|| {
                format!(
                    "Developers of partner team {number}, {}.",
                    rng.pick(&GROUP_PURPOSES)
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
pub(super) fn generate_memberships(
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

pub(super) fn generate_products(opts: &SeedOptions, offset: i64) -> Vec<ProductRow> {
    let mut rng = SplitMix64::new(opts.seed ^ STREAM_PRODUCTS);
    (0..opts.products)
        .map(|i| {
            let number = offset as usize + i + 1;
            let subject = *rng.pick(&PRODUCT_SUBJECTS);
            let tier = *rng.pick(&PRODUCT_TIERS);
            let name = format!("{subject} {tier} API {number}");
            ProductRow {
                id: format!("p{number:04}"),
                name_key: name.to_lowercase(),
                description: format!(
                    "{subject} for partner integrations: the {} tier, with {}.",
                    tier.to_lowercase(),
                    rng.pick(&PRODUCT_FEATURES)
                ),
                name,
                subscription_required: rng.below(100) < 95,
                approval_required: rng.below(100) < 15,
                subscriptions_limit: (rng.below(100) < 30).then(|| 1 + rng.below(5) as i64),
                state: ProductState::of(rng.below(100) < 90).as_str(),
                created_at: opts.now - rng.below(SPREAD_SECS) as i64,
            }
        })
        .collect()
}

/// Each product is visible to one to three custom groups; about 5% also to
/// Developers (everyone signed in) and about 2% to Guests (everyone).
pub(super) fn generate_grants(
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
pub(super) fn generate_subscriptions(
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
pub(super) fn ascii_fold(name: &str) -> String {
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

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

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
