//! The key check gateways call (SPEC S2): is this subscription key accepted
//! right now, and for whom?
//!
//! Gateways ask on every API call, so answers are kept in memory. Every
//! change that can alter an answer (account state, product state,
//! subscription state or keys) calls [`KeyChecks::changed`] after its
//! transaction commits; an answer remembered before that is never used
//! again, so a block, a regenerated key or a suspension is honoured by the
//! very next check. Each answer is stamped with the generation read
//! *before* its database read: a read that raced a commit carries the old
//! stamp and dies with it. This holds for one Portal process per database
//! (the only deployment SQLite allows today).

use std::collections::HashMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::domain::subscription::{key_hash, looks_like_key};
use crate::services::{Ctx, ServiceError};
use crate::store;

/// Remembered answers at most; past this the memory is emptied and refilled.
/// At ~150 bytes each this caps it near 3 MB.
const CAPACITY: usize = 20_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// No key in the request.
    Missing,
    /// Unknown key, or its subscription, account or product is not active.
    Refused,
    Accepted(Accepted),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub subscription_id: String,
    pub account_id: String,
    pub product_id: String,
}

struct Remembered {
    generation: u64,
    answer: Option<Accepted>,
}

#[derive(Default)]
pub struct KeyChecks {
    generation: AtomicU64,
    answers: RwLock<HashMap<[u8; 32], Remembered>>,
}

impl KeyChecks {
    /// Forgets every answer: call after a commit that may change one.
    pub fn changed(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    fn recall(&self, hash: &[u8; 32], generation: u64) -> Option<Option<Accepted>> {
        let answers = self.answers.read().unwrap_or_else(|e| e.into_inner());
        answers
            .get(hash)
            .filter(|r| r.generation == generation)
            .map(|r| r.answer.clone())
    }

    fn remember(&self, hash: [u8; 32], generation: u64, answer: Option<Accepted>) {
        let mut answers = self.answers.write().unwrap_or_else(|e| e.into_inner());
        if answers.len() >= CAPACITY && !answers.contains_key(&hash) {
            answers.clear();
        }
        answers.insert(hash, Remembered { generation, answer });
    }
}

/// S2: a key is accepted iff its subscription is active, its account is
/// active and its product is published.
pub async fn check(ctx: &Ctx, key: Option<&str>) -> Result<Verdict, ServiceError> {
    let Some(key) = key.map(str::trim).filter(|k| !k.is_empty()) else {
        return Ok(Verdict::Missing);
    };
    if !looks_like_key(key) {
        return Ok(Verdict::Refused);
    }
    let hash = key_hash(key);
    let generation = ctx.keys.generation.load(Ordering::Acquire);
    let answer = match ctx.keys.recall(&hash, generation) {
        Some(answer) => answer,
        None => {
            let owner = store::subscriptions::key_owner(ctx.db.pool(), &hash).await?;
            let answer = owner
                .filter(|o| {
                    o.subscription_state == "active"
                        && o.account_state == "active"
                        && o.product_state == "published"
                })
                .map(|o| Accepted {
                    subscription_id: o.subscription_id,
                    account_id: o.account_id,
                    product_id: o.product_id,
                });
            ctx.keys.remember(hash, generation, answer.clone());
            answer
        }
    };
    Ok(match answer {
        Some(a) => Verdict::Accepted(a),
        None => Verdict::Refused,
    })
}
