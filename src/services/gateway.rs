//! The key check gateways call (SPEC S2): is this subscription key accepted
//! right now, and for whom?
//!
//! Gateways ask on every API call, so answers are remembered until the next
//! commit (`remembered`): a block, a regenerated key or a suspension is
//! honoured by the very next check.

use crate::domain::subscription::{key_hash, looks_like_key};
use crate::services::remembered::Remembered;
use crate::services::{Ctx, ServiceError};
use crate::store;

/// Remembered answers at most. At ~150 bytes each this caps it near 3 MB.
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

/// The key check's memory, by the key's SHA-256.
pub struct KeyChecks(Remembered<[u8; 32], Option<Accepted>>);

impl Default for KeyChecks {
    fn default() -> Self {
        Self(Remembered::new(CAPACITY))
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
    let read = std::cell::Cell::new(false);
    let answer = ctx
        .keys
        .0
        .get_or_read(hash, async {
            read.set(true);
            let owner = store::subscriptions::key_owner(&ctx.db, &hash).await?;
            Ok::<_, sqlx::Error>(
                owner
                    .filter(|o| {
                        crate::domain::subscription::key_accepted(
                            o.subscription_state,
                            o.account_state,
                            o.product_state,
                        )
                    })
                    .map(|o| Accepted {
                        subscription_id: o.subscription_id.into(),
                        account_id: o.account_id.into(),
                        product_id: o.product_id.into(),
                    }),
            )
        })
        .await?;
    crate::metrics::key_check(
        if answer.is_some() {
            "accepted"
        } else {
            "refused"
        },
        !read.get(),
    );
    Ok(match answer {
        Some(a) => Verdict::Accepted(a),
        None => Verdict::Refused,
    })
}
