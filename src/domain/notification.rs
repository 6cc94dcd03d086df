//! Notifications to administrators (SPEC R5): the events an administrator
//! may be emailed about, each with its own editable template.

use super::email_template::EmailTemplate;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Notification {
    /// A developer asked to subscribe to a product that needs approval.
    SubscriptionRequested,
    /// Someone signed up on the developer portal.
    SignedUp,
    /// A message could not be sent and was given up (marked failed).
    EmailFailed,
    /// A developer closed their own account on the developer portal.
    AccountClosed,
}

impl Notification {
    pub const ALL: [Self; 4] = [
        Self::SubscriptionRequested,
        Self::SignedUp,
        Self::EmailFailed,
        Self::AccountClosed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::SubscriptionRequested => "subscription_requested",
            Self::SignedUp => "signed_up",
            Self::EmailFailed => "email_failed",
            Self::AccountClosed => "account_closed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|n| n.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::SubscriptionRequested => "A subscription request waits for approval",
            Self::SignedUp => "Someone signed up",
            Self::EmailFailed => "A message could not be sent",
            Self::AccountClosed => "Someone closed their account",
        }
    }

    /// The message sent, editable on the Email templates page.
    pub fn template(self) -> EmailTemplate {
        match self {
            Self::SubscriptionRequested => EmailTemplate::AdminSubscriptionRequested,
            Self::SignedUp => EmailTemplate::AdminSignedUp,
            Self::EmailFailed => EmailTemplate::AdminEmailFailed,
            Self::AccountClosed => EmailTemplate::AdminAccountClosed,
        }
    }
}
