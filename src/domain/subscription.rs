//! Subscriptions (SPEC S1, S2, P4): their states, what may happen to each,
//! and their keys.

use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionState {
    Submitted,
    Active,
    Suspended,
    Rejected,
    Cancelled,
    Expired,
}

impl SubscriptionState {
    pub const ALL: [Self; 6] = [
        Self::Submitted,
        Self::Active,
        Self::Suspended,
        Self::Rejected,
        Self::Cancelled,
        Self::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Submitted => "submitted",
            Self::Active => "active",
            Self::Suspended => "suspended",
            Self::Rejected => "rejected",
            Self::Cancelled => "cancelled",
            Self::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Submitted => "Waiting for approval",
            Self::Active => "Active",
            Self::Suspended => "Suspended",
            Self::Rejected => "Rejected",
            Self::Cancelled => "Cancelled",
            Self::Expired => "Expired",
        }
    }

    /// Whether it counts against a product's subscriptions limit: every
    /// subscription that is not over.
    pub fn is_open(self) -> bool {
        matches!(self, Self::Submitted | Self::Active | Self::Suspended)
    }
}

stored_as_words!(SubscriptionState);

/// S2: a key is accepted iff its subscription is active, its account is
/// active (not blocked) and its product is published.
pub fn key_accepted(
    subscription: SubscriptionState,
    account: super::AccountState,
    product: super::product::ProductState,
) -> bool {
    subscription == SubscriptionState::Active && account.is_active() && product.is_published()
}

/// What an administrator (or, for `Cancel`, the owner) can do to a subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionAction {
    Approve,
    Reject,
    Suspend,
    Activate,
    Cancel,
}

impl SubscriptionAction {
    pub const ALL: [Self; 5] = [
        Self::Approve,
        Self::Reject,
        Self::Suspend,
        Self::Activate,
        Self::Cancel,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approve => "approve",
            Self::Reject => "reject",
            Self::Suspend => "suspend",
            Self::Activate => "activate",
            Self::Cancel => "cancel",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// The button's label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Approve => "Approve",
            Self::Reject => "Reject",
            Self::Suspend => "Suspend",
            Self::Activate => "Activate",
            Self::Cancel => "Cancel",
        }
    }

    /// The state it leads to from `from`, or `None` when it does not apply.
    pub fn from(self, from: SubscriptionState) -> Option<SubscriptionState> {
        use SubscriptionState as S;
        match (self, from) {
            (Self::Approve, S::Submitted) => Some(S::Active),
            (Self::Reject, S::Submitted) => Some(S::Rejected),
            (Self::Suspend, S::Active) => Some(S::Suspended),
            (Self::Activate, S::Suspended) => Some(S::Active),
            (Self::Cancel, S::Submitted | S::Active | S::Suspended) => Some(S::Cancelled),
            _ => None,
        }
    }

    /// The action that takes a subscription from `from` to `to`, if the
    /// lifecycle has one (the management API sets a state, the console
    /// presses a button; both follow these transitions).
    pub fn between(from: SubscriptionState, to: SubscriptionState) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.from(from) == Some(to))
    }

    /// The actions that apply to a subscription in `state`, in button order.
    pub fn available(state: SubscriptionState) -> Vec<Self> {
        Self::ALL
            .into_iter()
            .filter(|a| a.from(state).is_some())
            .collect()
    }
}

/// Which of a subscription's two keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySlot {
    Primary,
    Secondary,
}

impl KeySlot {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "primary" => Some(Self::Primary),
            "secondary" => Some(Self::Secondary),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Primary => "primary",
            Self::Secondary => "secondary",
        }
    }
}

/// A new subscription key: 128 random bits as 32 lowercase hex digits, the
/// shape gateways and client libraries of the commercial service expect.
pub fn new_key() -> String {
    super::ids::random_bytes::<16>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What the database keeps to find a key: look-ups never compare the
/// secret itself, so their timing says nothing about it.
pub fn key_hash(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// Whether a presented key could be one at all (answered without a look-up
/// otherwise). Generous: 16 to 128 visible ASCII characters.
pub fn looks_like_key(s: &str) -> bool {
    (16..=128).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_graphic())
}

/// A subscription's display name: optional on Subscribe (the product's name
/// is used), one line, at most 100 characters.
pub fn display_name(input: &str, product_name: &str) -> Result<String, String> {
    if input.trim().is_empty() {
        return Ok(product_name.to_owned());
    }
    super::names::display_name(input, 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s2_accepts_a_key_only_when_all_three_are_on() {
        use super::super::AccountState as A;
        use super::super::product::ProductState as P;
        use SubscriptionState as S;
        assert!(key_accepted(S::Active, A::Active, P::Published));
        for (s, a, p) in [
            (S::Suspended, A::Active, P::Published),
            (S::Submitted, A::Active, P::Published),
            (S::Active, A::Blocked, P::Published),
            (S::Active, A::Pending, P::Published),
            (S::Active, A::Active, P::NotPublished),
        ] {
            assert!(!key_accepted(s, a, p), "{s:?} {a:?} {p:?}");
        }
    }

    #[test]
    fn a_state_is_reached_along_the_lifecycle_only() {
        use SubscriptionState as S;
        assert_eq!(
            SubscriptionAction::between(S::Submitted, S::Active),
            Some(SubscriptionAction::Approve)
        );
        assert_eq!(
            SubscriptionAction::between(S::Suspended, S::Active),
            Some(SubscriptionAction::Activate)
        );
        assert_eq!(SubscriptionAction::between(S::Active, S::Submitted), None);
        assert_eq!(SubscriptionAction::between(S::Cancelled, S::Active), None);
    }
    use SubscriptionAction as A;
    use SubscriptionState as S;

    #[test]
    fn transitions_follow_the_lifecycle() {
        assert_eq!(A::Approve.from(S::Submitted), Some(S::Active));
        assert_eq!(A::Reject.from(S::Submitted), Some(S::Rejected));
        assert_eq!(A::Suspend.from(S::Active), Some(S::Suspended));
        assert_eq!(A::Activate.from(S::Suspended), Some(S::Active));
        assert_eq!(A::Cancel.from(S::Active), Some(S::Cancelled));
        // Over is over: nothing brings back a rejected, cancelled or expired one.
        for end in [S::Rejected, S::Cancelled, S::Expired] {
            assert!(A::available(end).is_empty(), "{end:?}");
            assert!(!end.is_open());
        }
        assert_eq!(A::Approve.from(S::Active), None);
        assert_eq!(A::available(S::Active), vec![A::Suspend, A::Cancel]);
    }

    #[test]
    fn keys_are_128_bits_and_distinct() {
        let a = new_key();
        assert_eq!(a.len(), 32);
        assert!(looks_like_key(&a));
        assert_ne!(a, new_key());
        assert_ne!(key_hash(&a), key_hash(&new_key()));
        assert!(!looks_like_key("short"));
        assert!(!looks_like_key(&format!("{a} ")));
    }

    #[test]
    fn display_name_defaults_to_the_product() {
        assert_eq!(display_name("  ", "Weather").unwrap(), "Weather");
        assert_eq!(display_name("Test app", "Weather").unwrap(), "Test app");
        assert!(display_name("a\nb", "Weather").is_err());
    }
}
